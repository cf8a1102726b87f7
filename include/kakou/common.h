/* SPDX-License-Identifier: Apache-2.0 */
/*
 * include/kakou/common.h - status codes, the error context and memory
 * helpers shared by every kakou API.
 *
 * Conventions (libgit2): every fallible call returns a kk_status; KK_OK is
 * 0. The detail of the last failure on a context is kk_error_message(ctx).
 * Messages name files, tags and keywords, never attribute values (R04).
 * Codes are a contract: new ones are added last and none is ever reused.
 */
#ifndef KAKOU_COMMON_H
#define KAKOU_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define KK_API __attribute__((visibility("default")))
#define KK_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define KK_API
#define KK_WARN_UNUSED
#endif

/** Status of a call. Never renumbered; add new codes last. */
typedef enum kk_status {
    KK_OK = 0,
    KK_ENOMEM = 1,     /**< out of memory */
    KK_EINVAL = 2,     /**< invalid argument or option */
    KK_ENOTFOUND = 3,  /**< no such file, profile or value */
    KK_ESYNTAX = 4,    /**< profile syntax error */
    KK_ENOTDICOM = 5,  /**< input is not DICOM or cannot be parsed */
    KK_EIO = 6,        /**< read or write failed */
    KK_EKEY = 7,       /**< key missing, unreadable or unsafe */
    KK_ESTORE = 8,     /**< the SQLite store failed */
    KK_EINTERNAL = 9,  /**< a bug in kakou */
    KK_ELIMIT = 10,    /**< a resource limit was exceeded */
    KK_EEXISTS = 11,   /**< already done or already present */
    KK_ESKIPPED = 12,  /**< an input kakou does not de-identify (a DICOMDIR) */
    KK_EUNSUPPORTED = 13 /**< valid input kakou cannot process (pixel encoding) */
} kk_status;

/** Fixed text for a status code. Never NULL. */
KK_API const char *kk_status_str(kk_status status);

/**
 * An error context: holds the message of the last failed call. Use one per
 * thread; kakou keeps no global error state.
 */
typedef struct kk_ctx kk_ctx;

/** Create a context; NULL when out of memory. */
KK_API kk_ctx *kk_ctx_new(void);
/** Free a context. NULL is a no-op. */
KK_API void kk_ctx_free(kk_ctx *ctx);
/** Message of the last failure on ctx; "" when none. Borrowed. */
KK_API const char *kk_error_message(const kk_ctx *ctx);
/** Status of the last failure on ctx; KK_OK when none. */
KK_API kk_status kk_error_code(const kk_ctx *ctx);
/** Forget the last failure. */
KK_API void kk_error_clear(kk_ctx *ctx);

/** Release a string or buffer that kakou allocated. NULL is a no-op. */
KK_API void kk_free(void *ptr);

#ifdef __cplusplus
}
#endif
#endif /* KAKOU_COMMON_H */
