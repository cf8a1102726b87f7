/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/core/core.h - internals every module uses: setting errors on a
 * context, the one allocation wrapper, small string helpers.
 * Not a public API.
 */
#ifndef KK_CORE_H
#define KK_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kakou/common.h"
#include "kakou/version.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define KK_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define KK_PRINTF(a, b)
#endif

/** Record a failure on ctx (may be NULL) and return status. */
kk_status kk__fail(kk_ctx *ctx, kk_status status, const char *fmt, ...)
    KK_PRINTF(3, 4);
kk_status kk__vfail(kk_ctx *ctx, kk_status status, const char *fmt,
                    va_list ap);

/* All allocation goes through these, so a test build can fail the Nth
 * allocation (KK_FAIL_ALLOC=N in the environment of a debug build). */
void *kk__malloc(size_t n);
void *kk__calloc(size_t n, size_t size);
void *kk__realloc(void *p, size_t n);
char *kk__strdup(const char *s);

/* What a file that is not a regular file is, for messages ("a FIFO
 * (named pipe)", "a socket", "a character device", ...); mode as st_mode. */
const char *kk__file_kind(unsigned mode);
/* Write all len bytes to fd, going on after EINTR and short writes:
 * true, or false with errno (EIO for a write that wrote nothing). */
bool kk__write_all(int fd, const void *data, size_t len);
char *kk__strndup(const char *s, size_t n);
/* FNV-1a over n bytes, going on from h (KK_FNV1A_INIT to start): to place
 * keys in hash tables, not to digest anything. */
#define KK_FNV1A_INIT 1469598103934665603ULL
uint64_t kk__fnv1a(uint64_t h, const void *p, size_t n);
#ifdef KK_FAULT_INJECTION
/* How many allocations fault injection has failed in this process, so a
 * test can show its failure path really ran. */
long kk__alloc_failures_injected(void);
#endif

/** A growable byte buffer, always NUL-terminated. */
typedef struct kk_buf {
    char *data;
    size_t len, cap;
    bool failed; /* an allocation failed; the content is truncated */
} kk_buf;

#define KK_BUF_INIT { NULL, 0, 0, false }

void kk__buf_add(kk_buf *b, const void *p, size_t n);
void kk__buf_adds(kk_buf *b, const char *s);
void kk__buf_addc(kk_buf *b, char c);
void kk__buf_printf(kk_buf *b, const char *fmt, ...) KK_PRINTF(2, 3);
void kk__buf_free(kk_buf *b);
/** Hand the content to the caller (kk_free) and reset b. */
char *kk__buf_detach(kk_buf *b);

#ifdef __cplusplus
}
#endif
#endif /* KK_CORE_H */
