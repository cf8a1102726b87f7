/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/store/store_internal.h - what the engine (lib/deid) calls on a store
 * beyond include/kakou/store.h, and the store's own shared definitions.
 *
 * Engine API: kk_store__record_pseudonym, kk_store__record_uid and
 * kk_store__flush. They may be called from several threads at once on one
 * kk_store: each call takes the store's mutex. Rows are buffered and
 * committed in one transaction every KK_STORE_BATCH rows, every
 * KK_STORE_BATCH_MS milliseconds, and on flush, close, lookup, verify,
 * export and merge.
 *
 * Everything below "private to lib/store" is for store.c, audit.c and
 * merge.c only; the engine must not touch it.
 * Not a public API.
 */
#ifndef KK_STORE_INTERNAL_H
#define KK_STORE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "kakou/common.h"
#include "kakou/key.h"
#include "kakou/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Record that pseudonym stands for original in domain (e.g. "patient").
 * Recording the same (domain, pseudonym, original) again is a no-op.
 * @return KK_OK; KK_EEXISTS when the pseudonym already stands for a
 *         DIFFERENT original in that domain (a collision: the caller must
 *         not publish the pseudonym); KK_EKEY when the store was opened
 *         without a key; KK_ESTORE when a batch commit failed
 */
kk_status kk_store__record_pseudonym(kk_store *s, kk_ctx *ctx,
                                     const char *domain,
                                     const char *pseudonym,
                                     const void *original, size_t len);

/**
 * Record that new_uid replaces original_uid. Same rules as
 * kk_store__record_pseudonym (the domain is the UID table).
 */
kk_status kk_store__record_uid(kk_store *s, kk_ctx *ctx, const char *new_uid,
                               const char *original_uid);

/** Commit every pending row (mappings and audit rows) now. */
kk_status kk_store__flush(kk_store *s, kk_ctx *ctx);

/** The run id of this open store: 32 hex characters. Borrowed. */
const char *kk_store__run_id(const kk_store *s);

/* Why path or its folder cannot be written (store_ro.c), in words for a
 * message, or NULL when both can. buf holds the words. */
const char *kk_store__why_readonly(const char *path, char *buf, size_t cap);

/**
 * Call fn for every mapping in the store: kind 'u' (new UID) or 'p'
 * (pseudonym), the new value, and the original, decrypted (wiped after
 * fn returns). For kakou verify; writes an audit row with status why
 * first (R24).
 * @return KK_OK; KK_EKEY without the key or for rows of another key
 */
typedef void (*kk_store_mapping_fn)(char kind, const char *new_id,
                                    const char *original, void *payload);
kk_status kk_store__each_mapping(kk_store *s, kk_ctx *ctx, const char *why,
                                 kk_store_mapping_fn fn, void *payload);

/* ---- private to lib/store -------------------------------------------- */

#define KK_STORE_SCHEMA_VERSION 3
#define KK_STORE_APP_ID 0x6b6b7374 /* "kkst" */
#define KK_STORE_BATCH 512
#define KK_STORE_BATCH_MS 1000
#define KK_STORE_BUSY_MS 10000
#define KK_STORE_KDF_CONTEXT "kkstore1"
#define KK_STORE_SUBKEY_ENC 1
#define KK_STORE_SUBKEY_LOOKUP 2
#define KK_STORE_SUBKEY_AUDIT 3 /* keys the audit chain's HMAC (audit.c) */
#define KK_STORE_SUBKEY_WRAP 4  /* wraps a chain key handed to this key */
#define KK_STORE_NSUBKEYS 3
#define KK_STORE_AUDIT_KEY_OFFSET (2 * crypto_kdf_KEYBYTES)
#define KK_STORE_LOOKUP_BYTES 32
#define KK_STORE_BIND_BYTES 32
#define KK_STORE_HASH_HEX 65

typedef struct kk_store_pending_row {
    char kind;            /* 'p' pseudonym, 'u' uid */
    char *domain;         /* 'p' only */
    char *id;             /* pseudonym or new uid */
    unsigned char lookup[KK_STORE_LOOKUP_BYTES];
    unsigned char *nonce; /* crypto_secretbox_NONCEBYTES */
    unsigned char *enc;   /* ciphertext, not secret */
    size_t enc_len;
} kk_store_pending_row;

/* Audit columns, in table and hash order (after the id). */
enum {
    KK_AC_RUN_ID = 0, KK_AC_TIME, KK_AC_OPERATOR, KK_AC_PROFILE_NAME,
    KK_AC_PROFILE_VERSION, KK_AC_PROFILE_DIGEST, KK_AC_INPUT_DIGEST,
    KK_AC_OUTPUT_DIGEST, KK_AC_SOP_UID, KK_AC_STATUS, KK_AC_SUBJECT,
    KK_AC_ORIGIN, KK_AC_COUNT
};

typedef struct kk_store_pending_audit {
    char *c[KK_AC_COUNT]; /* NULL for SQL NULL */
} kk_store_pending_audit;

typedef struct kk_store_seen {
    char *k; /* kind, domain, NUL, id */
    size_t klen;
    unsigned char lookup[KK_STORE_LOOKUP_BYTES];
} kk_store_seen;

/* Statements run for every object, prepared once (kk_store__stmt()). */
enum kk_store_stmt {
    KK_STMT_INPUT_DONE,
    KK_STMT_LOOKUP_PSEUDONYM,
    KK_STMT_LOOKUP_UID,
    KK_STMT_INSERT_PSEUDONYM,
    KK_STMT_INSERT_UID,
    KK_STMT_INPUT_ROW,
    KK_STMT_INPUT_CLAIM,
    KK_STMT_INPUT_OUTPUT,
    KK_STMT_META_MAIN,
    KK_STMT_AUDIT_TAIL,
    KK_STMT_AUDIT_INSERT,
    KK_STMT_AUDIT_HEAD,
    KK_STMT__COUNT
};

struct kk_store {
    sqlite3 *db;
    sqlite3_stmt *stmt[KK_STMT__COUNT]; /* prepared on first use */
    pthread_mutex_t mu;
    char *path;
    const kk_key *key;       /* borrowed; NULL: audit-only */
    unsigned char *subkeys;  /* sodium_malloc: enc[32] | lookup[32] | audit[32] */
    unsigned char *scratch;  /* sodium_malloc: plaintext of one row */
    size_t scratch_cap;
    char key_id[KK_KEY_ID_CHARS + 1];
    char run_id[33];
    char operator_name[128];
    kk_store_pending_row *rows;
    size_t nrows, caprows;
    kk_store_pending_audit *audits;
    size_t naudits, capaudits;
    bool audit_writable;     /* keyed, and the chain is keyed under key */
    char audit_kid[KK_KEY_ID_CHARS + 1]; /* the chain key held is this key
                              * id's ("" none): ours, or handed to us */
    kk_store_seen *seen;     /* open addressing, power-of-two size */
    size_t nseen, capseen;
    int64_t first_pending_ms;
    char owner[160];         /* this process: host, boot, pid, start (claims) */
};

/* store.c */
/* The statement, reset and unbound, ready to bind; NULL when SQLite cannot
 * prepare it. Under the store's mutex; finalized by kk_store_close(). */
sqlite3_stmt *kk_store__stmt(kk_store *s, enum kk_store_stmt which);
kk_status kk_store__flush_locked(kk_store *s, kk_ctx *ctx);
kk_status kk_store__sql_fail(kk_store *s, kk_ctx *ctx, const char *what);
kk_status kk_store__exec(kk_store *s, kk_ctx *ctx, const char *sql);
char *kk_store__now(void); /* ISO 8601 UTC with ms; kk_free */

/* audit.c */
extern const char *const kk_store__audit_columns[KK_AC_COUNT];
/* Queue an audit row (copies c; NULL entries stay NULL). */
kk_status kk_store__queue_audit(kk_store *s, kk_ctx *ctx,
                                const char *const c[KK_AC_COUNT]);
void kk_store__free_pending_audits(kk_store *s);
/* Write the pending audit rows; inside an open write transaction. */
kk_status kk_store__write_audits(kk_store *s, kk_ctx *ctx);
/* row_hash = HMAC-SHA-256(mac_key, prev || canonical(id, c)) as hex; with
 * mac_key NULL the unkeyed v1 hash SHA-256(prev || canonical_v1). */
void kk_store__audit_hash(const unsigned char *mac_key,
                          const unsigned char prev[32], int64_t id,
                          const char *const c[KK_AC_COUNT],
                          char out[KK_STORE_HASH_HEX]);
/* Append c as a new chained row now (inside a write transaction);
 * *prev and *last_id are the chain tail and are advanced. */
kk_status kk_store__append_audit(kk_store *s, kk_ctx *ctx,
                                 const char *const c[KK_AC_COUNT],
                                 unsigned char prev[32], int64_t *last_id);
/* Verify the chain in schema db ("main" or "src"), under the mutex;
 * name is the file for messages. */
kk_status kk_store__verify_schema(kk_store *s, kk_ctx *ctx, const char *db,
                                  const char *name, int64_t *bad_row);
/* Re-chain a store's unkeyed (v1) audit log under the key's audit subkey
 * once its v1 chain verifies; a no-op without a key or when keyed, and
 * (unless force) when the v1 log already has rows. */
kk_status kk_store__audit_upgrade(kk_store *s, kk_ctx *ctx, bool force);
/* After the subkeys are derived, still writable: put the chain's key in
 * the audit slot (ours, or unwrapped when it was handed to our key at a
 * rotation) and set audit_kid. */
kk_status kk_store__audit_key_load(kk_store *s, kk_ctx *ctx);
/* After open: may this store append to its chain (sets audit_writable)? */
kk_status kk_store__audit_check_writable(kk_store *s, kk_ctx *ctx);
/* Read the chain tail (zeros and 0 when empty). */
kk_status kk_store__audit_tail(kk_store *s, kk_ctx *ctx,
                               unsigned char prev[32], int64_t *last_id);

#ifdef __cplusplus
}
#endif
#endif /* KK_STORE_INTERNAL_H */
