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

#include <stdint.h>
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

/**
 * Commit every pending row (correspondence and audit) now, in one
 * transaction; when it returns KK_OK they are on disk. Rows are otherwise
 * committed in batches (and at close). Threads that call it at once share
 * the commit: one commits what all of them recorded, the others find
 * nothing left.
 */
KK_API kk_status kk_store_flush(kk_store *store, kk_ctx *ctx);

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

/**
 * True (1) when an output is recorded for this input under this profile
 * digest (kk_profile_digest(), which covers the options) and the key the
 * store was opened with (kk_store_commit_output() records it); another
 * profile, other options or a rotated key (R23) do not count. The same
 * table kk_store_claim_input() decides by; this call does not look for
 * the output itself. 0 for a store opened without a key.
 */
KK_API int kk_store_input_done(kk_store *store, const char *input_digest,
                               const char *profile_digest);

/** Where the output of an input went. */
typedef struct kk_store_output {
    char path[1024];  /**< below the output folder */
    uint64_t size;
    char digest[65];  /**< hex SHA-256 of the output */
    char folder[64];  /**< the output folder, as the caller names it (device:inode) */
} kk_store_output;

/** 1 when the output recorded for an input is present and intact in this
 *  run's output folder (the caller checks: size and digest), else 0. */
typedef int (*kk_store_present_fn)(void *payload, const kk_store_output *recorded);

/** What kk_store_claim_input() decided. */
typedef enum kk_store_claim {
    KK_CLAIM_MINE = 0, /**< this run does the input now */
    KK_CLAIM_DONE,     /**< an earlier run did it and present() found its output */
    KK_CLAIM_BUSY      /**< another run that is still alive is doing it */
} kk_store_claim;

/**
 * Claim an input for this run, in one transaction, so that runs sharing
 * the store do each input once. A claim is for one input digest, one
 * profile digest (kk_profile_digest(): it covers the options) and the key
 * the store was opened with: an input done under another profile, other
 * options or another key is claimed anew (KK_EKEY without a key). A claim by a run that ended (its process
 * is gone, or its machine restarted; a claim from another machine after
 * an hour) is taken over; an input whose recorded output present() does
 * not find is claimed again, unless a live run recorded it in the same
 * folder (it is about to appear there).
 * @param folder   this run's output folder, as kk_store_output.folder
 * @param present  may be NULL (then a recorded output counts as absent)
 * @param[out] recorded  the recorded output, when there is one
 */
KK_API kk_status kk_store_claim_input(kk_store *store, kk_ctx *ctx,
                                      const char *input_digest,
                                      const char *profile_digest, const char *folder,
                                      kk_store_present_fn present, void *payload,
                                      kk_store_claim *claim,
                                      kk_store_output *recorded);

/**
 * Commit, durably and in one transaction, every pending row (the object's
 * UIDs and pseudonyms, audit rows), the audit row entry (status "ok", its
 * output digest) and where input_digest's output under profile_digest
 * and the store's key goes (the claim's row). Call it before the
 * output becomes visible; on failure entry's row is dropped and the
 * output must not appear.
 * @param entry  NULL when an audit row already records this very output
 *               (same folder, path and digest: a run killed before the
 *               output appeared)
 */
KK_API kk_status kk_store_commit_output(kk_store *store, kk_ctx *ctx,
                                        const char *input_digest,
                                        const char *profile_digest,
                                        const kk_audit_entry *entry,
                                        const kk_store_output *output);

/**
 * Re-chain an audit log written by an older kakou (unkeyed SHA-256 chain,
 * 'sha256-chain-v1') under the key's audit subkey, once the old chain
 * verifies, and log an "upgrade" row. Needs the store opened with the key.
 * Run it once per old store: a log that was keyed before and shows up
 * unkeyed has been tampered with.
 */
KK_API kk_status kk_store_upgrade_audit(kk_store *store, kk_ctx *ctx);

/**
 * Check the audit chain: every row's HMAC-SHA-256 (under a subkey of the
 * project key) over all its columns and the row before it. Needs the
 * store opened with the key the chain is keyed under, or one it was
 * handed to (kk_store_grant_audit()); KK_EKEY otherwise.
 * @param[out] bad_row  first row that does not verify, 0 if none
 * @return KK_OK when the chain verifies; KK_ESTORE otherwise
 */
KK_API kk_status kk_store_verify(kk_store *store, kk_ctx *ctx,
                                 int64_t *bad_row);

/**
 * Check the audit chain's structure without the key: rows numbered 1, 2,
 * ... without a gap, each naming the stored hash of the row before it, and
 * the head the store keeps matching the last row. Finds rows deleted,
 * inserted or reordered, not a row altered with the chain recomputed (an
 * older unkeyed 'sha256-chain-v1' log is checked whole). Works on a store
 * opened read-only without a key.
 * @param[out] bad_row  first row that does not verify, 0 if none
 * @return KK_OK when the structure holds; KK_ESTORE otherwise
 */
KK_API kk_status kk_store_verify_structure(kk_store *store, kk_ctx *ctx,
                                           int64_t *bad_row);

/**
 * Hand the audit chain's key to another project key (R23 rotation): the
 * store must be open with a key that holds the chain (the key it was keyed
 * under, or one handed it before). The chain key is stored wrapped
 * (secretbox) under a subkey of other, so other can then write and verify
 * rows; a grant row is logged. kakou key rotate --db does it.
 */
KK_API kk_status kk_store_grant_audit(kk_store *store, kk_ctx *ctx,
                                      const kk_key *other);

/**
 * Re-identification (R07): the original value behind a pseudonym or a new
 * UID. Writes an audit row.
 * @param[out] out  original value, NUL-terminated; release with kk_free()
 * @param[out] domain  the pseudonym's domain, or NULL; release with kk_free()
 */
KK_API kk_status kk_store_lookup_pseudonym(kk_store *store, kk_ctx *ctx,
                                           const char *pseudonym, char **out,
                                           char **domain);
/**
 * kk_store_lookup_pseudonym() restricted to one domain ("patient",
 * "accession", ...), for a pseudonym that exists in several domains.
 * Writes an audit row like it.
 * @param[out] out  original value, NUL-terminated; release with kk_free()
 * @return KK_OK; KK_ENOTFOUND if the pseudonym is not in that domain
 */
KK_API kk_status kk_store_lookup_pseudonym_in(kk_store *store, kk_ctx *ctx,
                                              const char *domain,
                                              const char *pseudonym, char **out);
KK_API kk_status kk_store_lookup_uid(kk_store *store, kk_ctx *ctx,
                                     const char *new_uid, char **out);

/** Write "id_old,id_new" rows (MIDI-B style CSV) for every mapping. */
KK_API kk_status kk_store_export_map(kk_store *store, kk_ctx *ctx, FILE *fp);

/** Merge the rows of src into store; conflicting rows fail the merge. */
KK_API kk_status kk_store_merge(kk_store *store, kk_ctx *ctx,
                                const char *src_path);

/**
 * Destroy the store at path at the end of its use (R24): refuse a file
 * that is not a kakou store; delete every row with secure_delete; then
 * overwrite the file and its -wal, -shm and -journal files with random
 * bytes, fsync and unlink them. Nothing may have the store open.
 */
KK_API kk_status kk_store_shred(kk_ctx *ctx, const char *path);

/**
 * Mark key_id retired in the store (R23 key rotation): a retired key is
 * refused for new work (kk_store_key_retired()) but still decrypts the
 * rows made under it for lookups. Records new_key_id as in use.
 */
KK_API kk_status kk_store_retire_key(kk_store *store, kk_ctx *ctx,
                                     const char *key_id,
                                     const char *new_key_id);

/** 1 when the store's key (the one it was opened with) is retired. */
KK_API int kk_store_key_retired(kk_store *store);

#ifdef __cplusplus
}
#endif
#endif /* KAKOU_STORE_H */
