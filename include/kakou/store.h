/* SPDX-License-Identifier: Apache-2.0 */
/*
 * include/kakou/store.h - the SQLite store: correspondence, UID map and
 * the tamper-evident audit log.
 *
 * The store is a file of its own (never inside an output directory). The
 * original values in it are encrypted (libsodium secretbox) under a key
 * derived from the master key, so the file alone reveals no identifier
 * (R23, R24). Each audit row carries the hash of the row before it (R25).
 * One kk_store may be shared by the threads of a run; it locks itself.
 */
#ifndef KAKOU_STORE_H
#define KAKOU_STORE_H

#include <stdio.h>

#include "common.h"
#include "key.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kk_store kk_store;

/**
 * Open (creating and migrating as needed) the store at path. WAL mode and
 * a busy timeout let several processes share it.
 * @param key  the master key; borrowed, must outlive the store; NULL opens
 *             the store for audit-only use (verify, export of public data)
 * @param[out] out  release with kk_store_close()
 */
KK_API kk_status kk_store_open(kk_store **out, kk_ctx *ctx, const char *path,
                               const kk_key *key);

/**
 * Open an existing store read-only (SQLITE_OPEN_READONLY): nothing is
 * created, migrated or written, so it works on read-only media, where a
 * store closed cleanly (no unfinished -wal beside it) is opened immutable.
 * For reading only: kk_store_verify(), kk_store_export_map(). A lookup
 * writes its audit row (R07) and needs kk_store_open().
 */
KK_API kk_status kk_store_open_readonly(kk_store **out, kk_ctx *ctx, const char *path,
                                        const kk_key *key);

/** Commit what is pending and close. NULL is a no-op. */
KK_API kk_status kk_store_close(kk_store *store, kk_ctx *ctx);

/** One audit row for one input file. Strings are borrowed. */
typedef struct kk_audit_entry {
    const char *profile_name;
    const char *profile_version;
    const char *profile_digest;
    const char *input_digest;   /**< hex SHA-256 of the input bytes */
    const char *output_digest;  /**< hex SHA-256 of the output, or NULL */
    const char *sop_instance_uid; /**< the NEW SOP Instance UID, or NULL */
    const char *status;         /**< "ok", "failed", "skipped", "lookup" */
} kk_audit_entry;

/** Append an audit row for this run (run id, time and OS user are added). */
KK_API kk_status kk_store_audit(kk_store *store, kk_ctx *ctx,
                                const kk_audit_entry *entry);

/** True (1) when an input with this digest was already done ("ok"). */
KK_API int kk_store_input_done(kk_store *store, const char *input_digest);

/**
 * Check the audit hash chain.
 * @param[out] bad_row  first row that does not verify, 0 if none
 * @return KK_OK when the chain verifies; KK_ESTORE otherwise
 */
KK_API kk_status kk_store_verify(kk_store *store, kk_ctx *ctx,
                                 int64_t *bad_row);

/**
 * Re-identification (R07): the original value behind a pseudonym or a new
 * UID. Writes an audit row.
 * @param[out] out  original value, NUL-terminated; release with kk_free()
 * @param[out] domain  the pseudonym's domain, or NULL; release with kk_free()
 */
KK_API kk_status kk_store_lookup_pseudonym(kk_store *store, kk_ctx *ctx,
                                           const char *pseudonym, char **out,
                                           char **domain);
KK_API kk_status kk_store_lookup_uid(kk_store *store, kk_ctx *ctx,
                                     const char *new_uid, char **out);

/** Write "id_old,id_new" rows (MIDI-B style CSV) for every mapping. */
KK_API kk_status kk_store_export_map(kk_store *store, kk_ctx *ctx, FILE *fp);

/** Merge the rows of src into store; conflicting rows fail the merge. */
KK_API kk_status kk_store_merge(kk_store *store, kk_ctx *ctx,
                                const char *src_path);

#ifdef __cplusplus
}
#endif
#endif /* KAKOU_STORE_H */
