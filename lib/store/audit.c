/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/store/audit.c - the tamper-evident audit log: queueing rows,
 * chaining them, and verifying the chain.
 *
 * Chain (R25): rows are numbered by id (1, 2, ...). For each row,
 *   row_hash = HMAC-SHA-256(audit subkey, prev_hash || canonical(row)),
 * where the audit subkey is crypto_kdf subkey 3 (context "kkstore1") of
 * the project key, kept in locked memory with the other store subkeys.
 * prev_hash of row 1 is 32 zero bytes, and every later row's prev_hash is
 * the row_hash of the row before it. Both are stored as lowercase hex.
 * canonical(row) = "kakou-audit-v2" NUL || le64(id) || for each column in
 * kk_store__audit_columns order (every column: run, time, operator,
 * profile, input and output digests, SOP Instance UID, status, subject,
 * origin): 0x00 for NULL, else 0x01 || le64(len) || bytes.
 * meta('audit_head') holds "id:row_hash" of the last row, updated in the
 * same transaction, so dropping rows from the end is noticed too. Without
 * the key nobody can write a row hash that verifies, so a forged row with
 * the chain recomputed (plain SHA-256 or any other way) is detected;
 * writing and verifying need the key. meta('audit_key_id') names the key
 * the chain is keyed under; meta('audit_hash') is 'hmac-sha256-chain-v2'.
 *
 * Older stores ('sha256-chain-v1': row_hash = SHA-256(prev || canonical
 * with tag "kakou-audit-v1")) are upgraded the first time they are opened
 * with a key: the unkeyed chain must verify first, then every row is
 * re-chained under the key in one transaction (kk_store__audit_upgrade).
 *
 * Rows are appended inside the caller's BEGIN IMMEDIATE transaction, which
 * reads the tail and writes the new rows atomically: several processes
 * sharing one store still build one linear chain.
 *
 * What a row holds: run id (random per kk_store_open), UTC time, the OS
 * user, profile name/version/digest, SHA-256 digests of input and output
 * bytes, the NEW SOP Instance UID, a status, a subject (for lookups: the
 * pseudonym or new UID asked for - never an original value) and an origin
 * (for rows merged in: the row_hash they had in their source store). No
 * identifier is ever written here (R04, R25).
 *
 * IMPLEMENTATION-OF: R25 (append-only, hash-chained, identifier-free log),
 * R07 (lookups logged), R24 (store reads/writes logged).
 */
#include <string.h>

#include <sodium.h>

#include "core/core.h"
#include "crypto/key_internal.h"
#include "store/store_internal.h"

const char *const kk_store__audit_columns[KK_AC_COUNT] = {
    "run_id", "time", "operator", "profile_name", "profile_version",
    "profile_digest", "input_digest", "output_digest", "sop_instance_uid",
    "status", "subject", "origin",
};

#define AUDIT_TAG_V1 "kakou-audit-v1"
#define AUDIT_TAG "kakou-audit-v2"
#define AUDIT_SCHEME "hmac-sha256-chain-v2"
#define AUDIT_SCHEME_V1 "sha256-chain-v1"

static void le64(unsigned char b[8], uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
}

/* One update step of either scheme. */
typedef struct {
    const unsigned char *mac_key; /* NULL: v1, plain SHA-256 */
    crypto_hash_sha256_state sha;
    crypto_auth_hmacsha256_state mac;
} audit_hasher;

static void ah_update(audit_hasher *h, const void *p, size_t n)
{
    if (h->mac_key)
        crypto_auth_hmacsha256_update(&h->mac, p, n);
    else
        crypto_hash_sha256_update(&h->sha, p, n);
}

void kk_store__audit_hash(const unsigned char *mac_key,
                          const unsigned char prev[32], int64_t id,
                          const char *const c[KK_AC_COUNT],
                          char out[KK_STORE_HASH_HEX])
{
    audit_hasher h;
    unsigned char b[8], d[32];

    h.mac_key = mac_key;
    if (mac_key) {
        crypto_auth_hmacsha256_init(&h.mac, mac_key, crypto_kdf_KEYBYTES);
        ah_update(&h, prev, 32);
        ah_update(&h, AUDIT_TAG, sizeof AUDIT_TAG);
    } else {
        crypto_hash_sha256_init(&h.sha);
        ah_update(&h, prev, 32);
        ah_update(&h, AUDIT_TAG_V1, sizeof AUDIT_TAG_V1);
    }
    le64(b, (uint64_t)id);
    ah_update(&h, b, 8);
    for (int i = 0; i < KK_AC_COUNT; i++) {
        unsigned char present = c[i] != NULL;
        ah_update(&h, &present, 1);
        if (!present)
            continue;
        size_t n = strlen(c[i]);
        le64(b, (uint64_t)n);
        ah_update(&h, b, 8);
        ah_update(&h, c[i], n);
    }
    if (mac_key)
        crypto_auth_hmacsha256_final(&h.mac, d);
    else
        crypto_hash_sha256_final(&h.sha, d);
    sodium_bin2hex(out, KK_STORE_HASH_HEX, d, sizeof d);
    sodium_memzero(&h, sizeof h);
}

/* meta(name) of schema db into buf ("" when missing). */
static kk_status meta_get(kk_store *s, kk_ctx *ctx, const char *db,
                          const char *name, char *buf, size_t cap)
{
    char sql[160];
    sqlite3_stmt *q = NULL;
    int rc;

    buf[0] = '\0';
    /* main's is read at every commit: prepared once */
    bool cached = strcmp(db, "main") == 0;
    snprintf(sql, sizeof sql, "SELECT value FROM %s.meta WHERE name = ?",
             db);
    if (cached ? !(q = kk_store__stmt(s, KK_STMT_META_MAIN))
               : sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return kk_store__sql_fail(s, ctx, "cannot read the audit log");
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW && sqlite3_column_text(q, 0))
        snprintf(buf, cap, "%s", (const char *)sqlite3_column_text(q, 0));
    if (cached)
        sqlite3_reset(q);
    else
        sqlite3_finalize(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return kk_store__sql_fail(s, ctx, "cannot read the audit log");
    return KK_OK;
}

static kk_status meta_set(kk_store *s, kk_ctx *ctx, const char *name,
                          const char *value)
{
    sqlite3_stmt *q = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO main.meta(name, "
                           "value) VALUES (?, ?)", -1, &q, NULL) !=
        SQLITE_OK)
        return kk_store__sql_fail(s, ctx, "cannot write the audit log");
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, value, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE)
        return kk_store__sql_fail(s, ctx, "cannot write the audit log");
    return KK_OK;
}

/* The chain of schema db may be checked/extended with this store's key:
 * it is keyed (v2) and under this key id. */
static kk_status check_scheme(kk_store *s, kk_ctx *ctx, const char *db,
                              const char *name)
{
    char scheme[64], kid[80];
    kk_status st;

    if (!s->subkeys)
        return kk__fail(ctx, KK_EKEY, "the audit log of '%s' is keyed: "
                        "give the project key (-k KEY)", name);
    if ((st = meta_get(s, ctx, db, "audit_hash", scheme, sizeof scheme)) ||
        (st = meta_get(s, ctx, db, "audit_key_id", kid, sizeof kid)))
        return st;
    if (strcmp(scheme, AUDIT_SCHEME_V1) == 0)
        return kk__fail(ctx, KK_ESTORE, "the audit log of '%s' has the "
                        "unkeyed chain of older kakou versions (%s); check "
                        "it was never keyed before, then re-chain it under "
                        "the key with 'kakou db upgrade --db %s -k KEY'",
                        name, AUDIT_SCHEME_V1, name);
    if (strcmp(scheme, AUDIT_SCHEME) != 0)
        return kk__fail(ctx, KK_ESTORE, "the audit log of '%s' uses an "
                        "unknown chain '%s'", name, scheme);
    if (!kid[0] || strcmp(kid, s->audit_kid) != 0)
        return kk__fail(ctx, KK_EKEY, "the audit log of '%s' is keyed under "
                        "key id %s; the key given has id %s and was not handed "
                        "the chain ('kakou key rotate --db' does)", name,
                        kid[0] ? kid : "(none)", s->key_id);
    return KK_OK;
}

/* The name of the meta row holding the chain key wrapped for key_id. */
static void wrap_name(char *buf, size_t cap, const char *key_id)
{
    snprintf(buf, cap, "audit_key_wrap:%s", key_id);
}

/* The key that wraps the chain key for a project key: crypto_kdf subkey
 * KK_STORE_SUBKEY_WRAP, into out (locked memory, wiped by the caller). */
static void wrap_key(const kk_key *key, unsigned char out[crypto_kdf_KEYBYTES])
{
    crypto_kdf_derive_from_key(out, crypto_kdf_KEYBYTES, KK_STORE_SUBKEY_WRAP,
                               KK_STORE_KDF_CONTEXT, kk_key__bytes(key));
}

kk_status kk_store__audit_key_load(kk_store *s, kk_ctx *ctx)
{
    char kid[80], name[96], hex[2 * (crypto_secretbox_NONCEBYTES +
                                     crypto_secretbox_MACBYTES +
                                     crypto_kdf_KEYBYTES) + 1];
    unsigned char blob[crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES +
                       crypto_kdf_KEYBYTES];
    unsigned char *wk;
    size_t n = 0;
    kk_status st;

    s->audit_kid[0] = '\0';
    if (!s->subkeys || !s->key)
        return KK_OK;
    if ((st = meta_get(s, ctx, "main", "audit_key_id", kid, sizeof kid)) != KK_OK)
        return st;
    /* the chain's own key (or a log keyed on first use): subkey 3 */
    if (!kid[0] || strcmp(kid, s->key_id) == 0) {
        memcpy(s->audit_kid, s->key_id, sizeof s->audit_kid);
        return KK_OK;
    }
    /* another key's chain, handed to this key at a rotation */
    wrap_name(name, sizeof name, s->key_id);
    if ((st = meta_get(s, ctx, "main", name, hex, sizeof hex)) != KK_OK)
        return st;
    if (!hex[0] || sodium_hex2bin(blob, sizeof blob, hex, strlen(hex), NULL, &n, NULL) != 0 ||
        n != sizeof blob)
        return KK_OK; /* not handed over: told when writing or verifying */
    if (!(wk = sodium_malloc(crypto_kdf_KEYBYTES)))
        return kk__fail(ctx, KK_ENOMEM, "cannot allocate locked memory for store keys");
    wrap_key(s->key, wk);
    if (crypto_secretbox_open_easy(s->subkeys + KK_STORE_AUDIT_KEY_OFFSET,
                                   blob + crypto_secretbox_NONCEBYTES,
                                   sizeof blob - crypto_secretbox_NONCEBYTES, blob, wk) == 0 &&
        strlen(kid) < sizeof s->audit_kid)
        memcpy(s->audit_kid, kid, strlen(kid) + 1);
    else /* altered: the chain key stays unknown, derive ours back */
        crypto_kdf_derive_from_key(s->subkeys + KK_STORE_AUDIT_KEY_OFFSET,
                                   crypto_kdf_KEYBYTES, KK_STORE_SUBKEY_AUDIT,
                                   KK_STORE_KDF_CONTEXT, kk_key__bytes(s->key));
    sodium_free(wk);
    return KK_OK;
}

kk_status kk_store_grant_audit(kk_store *s, kk_ctx *ctx, const kk_key *other)
{
    unsigned char blob[crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES +
                       crypto_kdf_KEYBYTES];
    char hex[2 * sizeof blob + 1], name[96];
    unsigned char *wk = NULL;
    kk_status st;

    if (!s || !other)
        return kk__fail(ctx, KK_EINVAL, "grant: missing argument");
    pthread_mutex_lock(&s->mu);
    if ((st = kk_store__flush_locked(s, ctx)) != KK_OK ||
        (st = check_scheme(s, ctx, "main", s->path)) != KK_OK)
        goto out;
    if (strcmp(kk_key_id(other), s->audit_kid) == 0)
        goto out; /* the chain is its own */
    if (!(wk = sodium_malloc(crypto_kdf_KEYBYTES))) {
        st = kk__fail(ctx, KK_ENOMEM, "cannot allocate locked memory for store keys");
        goto out;
    }
    wrap_key(other, wk);
    randombytes_buf(blob, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(blob + crypto_secretbox_NONCEBYTES,
                          s->subkeys + KK_STORE_AUDIT_KEY_OFFSET, crypto_kdf_KEYBYTES,
                          blob, wk);
    sodium_bin2hex(hex, sizeof hex, blob, sizeof blob);
    wrap_name(name, sizeof name, kk_key_id(other));
    if ((st = kk_store__exec(s, ctx, "BEGIN IMMEDIATE")) != KK_OK)
        goto out;
    if ((st = meta_set(s, ctx, name, hex)) != KK_OK) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        goto out;
    }
    st = kk_store__exec(s, ctx, "COMMIT");
out:
    sodium_free(wk);
    pthread_mutex_unlock(&s->mu);
    if (st == KK_OK) {
        /* the hand-over is itself in the log (R25) */
        kk_audit_entry e = { NULL, NULL, NULL, NULL, NULL, NULL, "audit-key-granted" };
        st = kk_store_audit(s, ctx, &e);
        if (st == KK_OK)
            st = kk_store_flush(s, ctx);
    }
    return st;
}

static const unsigned char *audit_key(const kk_store *s)
{
    return s->subkeys ? s->subkeys + KK_STORE_AUDIT_KEY_OFFSET : NULL;
}

kk_status kk_store__audit_check_writable(kk_store *s, kk_ctx *ctx)
{
    kk_ctx *tmp = kk_ctx_new();
    kk_status st;

    if (!tmp)
        return kk__fail(ctx, KK_ENOMEM, "out of memory opening a store");
    st = check_scheme(s, tmp, "main", s->path);
    s->audit_writable = st == KK_OK;
    if (st == KK_EKEY || st == KK_ESTORE) /* told when writing */
        st = KK_OK;
    else if (st != KK_OK)
        kk__fail(ctx, st, "%s", kk_error_message(tmp));
    kk_ctx_free(tmp);
    return st;
}

kk_status kk_store__queue_audit(kk_store *s, kk_ctx *ctx,
                                const char *const c[KK_AC_COUNT])
{
    kk_store_pending_audit *a;

    if (!s->audit_writable) { /* say why: no key, other key, old chain */
        kk_status why = check_scheme(s, ctx, "main", s->path);
        if (why != KK_OK)
            return why;
        s->audit_writable = true; /* upgraded meanwhile */
    }

    if (s->naudits == s->capaudits) {
        size_t cap = s->capaudits ? s->capaudits * 2 : 64;
        kk_store_pending_audit *t = kk__realloc(s->audits, cap * sizeof *t);
        if (!t)
            return kk__fail(ctx, KK_ENOMEM,
                            "out of memory writing an audit row");
        s->audits = t;
        s->capaudits = cap;
    }
    a = &s->audits[s->naudits];
    memset(a, 0, sizeof *a);
    for (int i = 0; i < KK_AC_COUNT; i++) {
        if (c[i] && !(a->c[i] = kk__strdup(c[i]))) {
            for (int j = 0; j < i; j++)
                kk_free(a->c[j]);
            return kk__fail(ctx, KK_ENOMEM,
                            "out of memory writing an audit row");
        }
    }
    s->naudits++;
    return KK_OK;
}

void kk_store__free_pending_audits(kk_store *s)
{
    for (size_t i = 0; i < s->naudits; i++)
        for (int j = 0; j < KK_AC_COUNT; j++)
            kk_free(s->audits[i].c[j]);
    s->naudits = 0;
}

kk_status kk_store__audit_tail(kk_store *s, kk_ctx *ctx,
                               unsigned char prev[32], int64_t *last_id)
{
    sqlite3_stmt *q = NULL;
    int rc;

    memset(prev, 0, 32);
    *last_id = 0;
    if (!(q = kk_store__stmt(s, KK_STMT_AUDIT_TAIL)))
        return kk_store__sql_fail(s, ctx, "cannot read the audit log");
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        const char *h = (const char *)sqlite3_column_text(q, 1);
        size_t n = 0;
        *last_id = sqlite3_column_int64(q, 0);
        if (!h || sodium_hex2bin(prev, 32, h, strlen(h), NULL, &n, NULL) ||
            n != 32) {
            sqlite3_reset(q);
            return kk__fail(ctx, KK_ESTORE, "store '%s': audit row %lld is "
                            "damaged: run 'kakou db verify'", s->path,
                            (long long)*last_id);
        }
    } else if (rc != SQLITE_DONE) {
        sqlite3_reset(q);
        return kk_store__sql_fail(s, ctx, "cannot read the audit log");
    }
    sqlite3_reset(q);
    return KK_OK;
}

kk_status kk_store__append_audit(kk_store *s, kk_ctx *ctx,
                                 const char *const c[KK_AC_COUNT],
                                 unsigned char prev[32], int64_t *last_id)
{
    char prev_hex[KK_STORE_HASH_HEX], row_hex[KK_STORE_HASH_HEX];
    char head[96];
    sqlite3_stmt *q = NULL;
    int64_t id = *last_id + 1;
    size_t n = 0;
    int rc;

    if (!audit_key(s))
        return kk__fail(ctx, KK_EKEY, "store '%s' was opened without a key: "
                        "it cannot write audit rows", s->path);
    sodium_bin2hex(prev_hex, sizeof prev_hex, prev, 32);
    kk_store__audit_hash(audit_key(s), prev, id, c, row_hex);
    if (!(q = kk_store__stmt(s, KK_STMT_AUDIT_INSERT)))
        return kk_store__sql_fail(s, ctx, "cannot write the audit log");
    sqlite3_bind_int64(q, 1, id);
    for (int i = 0; i < KK_AC_COUNT; i++) {
        if (c[i])
            sqlite3_bind_text(q, 2 + i, c[i], -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(q, 2 + i);
    }
    sqlite3_bind_text(q, 2 + KK_AC_COUNT, prev_hex, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3 + KK_AC_COUNT, row_hex, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return kk_store__sql_fail(s, ctx, "cannot write the audit log");
    snprintf(head, sizeof head, "%lld:%s", (long long)id, row_hex);
    if (!(q = kk_store__stmt(s, KK_STMT_AUDIT_HEAD)))
        return kk_store__sql_fail(s, ctx, "cannot write the audit log");
    sqlite3_bind_text(q, 1, head, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return kk_store__sql_fail(s, ctx, "cannot write the audit log");
    sodium_hex2bin(prev, 32, row_hex, 64, NULL, &n, NULL);
    *last_id = id;
    return KK_OK;
}

kk_status kk_store__write_audits(kk_store *s, kk_ctx *ctx)
{
    unsigned char prev[32];
    int64_t last = 0;
    kk_status st;

    if (s->naudits == 0)
        return KK_OK;
    if ((st = check_scheme(s, ctx, "main", s->path)) != KK_OK)
        return st;
    if ((st = kk_store__audit_tail(s, ctx, prev, &last)) != KK_OK)
        return st;
    for (size_t i = 0; i < s->naudits; i++) {
        st = kk_store__append_audit(s, ctx,
                                    (const char *const *)s->audits[i].c,
                                    prev, &last);
        if (st != KK_OK)
            return st;
    }
    return KK_OK;
}

/* Verify the chain of schema db under mac_key (NULL: the v1 scheme). */
static kk_status verify_chain(kk_store *s, kk_ctx *ctx, const char *db,
                              const char *name, const unsigned char *mac_key,
                              bool links_only, int64_t *bad_row)
{
    unsigned char prev[32];
    char prev_hex[KK_STORE_HASH_HEX], want[KK_STORE_HASH_HEX];
    char sql[400];
    sqlite3_stmt *q = NULL;
    kk_status st = KK_OK;
    int64_t expect_id = 1, last_id = 0;
    int rc;

    *bad_row = 0;
    memset(prev, 0, sizeof prev);
    snprintf(sql, sizeof sql,
             "SELECT id, run_id, time, operator, profile_name, "
             "profile_version, profile_digest, input_digest, output_digest, "
             "sop_instance_uid, status, subject, origin, prev_hash, row_hash "
             "FROM %s.audit ORDER BY id", db);
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return kk_store__sql_fail(s, ctx, "cannot read the audit log");
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *c[KK_AC_COUNT];
        int64_t id = sqlite3_column_int64(q, 0);
        const char *ph = (const char *)sqlite3_column_text(q, 1 + KK_AC_COUNT);
        const char *rh = (const char *)sqlite3_column_text(q, 2 + KK_AC_COUNT);
        size_t n = 0;

        for (int i = 0; i < KK_AC_COUNT; i++)
            c[i] = (const char *)sqlite3_column_text(q, 1 + i);
        sodium_bin2hex(prev_hex, sizeof prev_hex, prev, 32);
        if (id != expect_id) {
            *bad_row = expect_id;
            st = kk__fail(ctx, KK_ESTORE, "audit log of '%s' does not "
                          "verify: row %lld is missing", name,
                          (long long)expect_id);
            break;
        }
        if (!ph || strcmp(ph, prev_hex) != 0) {
            *bad_row = id;
            st = kk__fail(ctx, KK_ESTORE, "audit log of '%s' does not "
                          "verify: row %lld does not follow row %lld", name,
                          (long long)id, (long long)id - 1);
            break;
        }
        if (links_only) /* no key: take the stored hash as it is */
            snprintf(want, sizeof want, "%s", rh ? rh : "");
        else
            kk_store__audit_hash(mac_key, prev, id, c, want);
        if (!rh || strcmp(rh, want) != 0 || strlen(want) != 64) {
            *bad_row = id;
            st = kk__fail(ctx, KK_ESTORE, "audit log of '%s' does not "
                          "verify: row %lld was altered", name,
                          (long long)id);
            break;
        }
        sodium_hex2bin(prev, 32, want, 64, NULL, &n, NULL);
        last_id = id;
        expect_id = id + 1;
    }
    if (st == KK_OK && rc != SQLITE_DONE)
        st = kk_store__sql_fail(s, ctx, "cannot read the audit log");
    sqlite3_finalize(q);
    if (st != KK_OK)
        return st;

    /* The head kept in meta catches rows dropped from the end. */
    snprintf(sql, sizeof sql,
             "SELECT value FROM %s.meta WHERE name = 'audit_head'", db);
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return kk_store__sql_fail(s, ctx, "cannot read the audit log");
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW || last_id > 0) {
        const char *head = rc == SQLITE_ROW
                               ? (const char *)sqlite3_column_text(q, 0)
                               : NULL;
        char expect[96];
        sodium_bin2hex(want, sizeof want, prev, 32);
        snprintf(expect, sizeof expect, "%lld:%s", (long long)last_id, want);
        if (!head || strcmp(head, expect) != 0) {
            *bad_row = last_id + 1;
            st = kk__fail(ctx, KK_ESTORE, "audit log of '%s' does not "
                          "verify: rows after %lld were removed", name,
                          (long long)last_id);
        }
    }
    sqlite3_finalize(q);
    return st;
}

kk_status kk_store__verify_schema(kk_store *s, kk_ctx *ctx, const char *db,
                                  const char *name, int64_t *bad_row)
{
    kk_status st;

    *bad_row = 0;
    if ((st = check_scheme(s, ctx, db, name)) != KK_OK)
        return st;
    return verify_chain(s, ctx, db, name, audit_key(s), false, bad_row);
}

kk_status kk_store__audit_upgrade(kk_store *s, kk_ctx *ctx, bool force)
{
    char scheme[64], hex[KK_STORE_HASH_HEX], prev_hex[KK_STORE_HASH_HEX];
    char head[96];
    unsigned char prev[32];
    sqlite3_stmt *q = NULL, *u = NULL;
    kk_status st;
    int64_t bad = 0, last = 0;
    size_t n = 0;
    int rc;

    if (!audit_key(s))
        return KK_OK;
    if ((st = meta_get(s, ctx, "main", "audit_hash", scheme,
                       sizeof scheme)) != KK_OK)
        return st;
    if (strcmp(scheme, AUDIT_SCHEME_V1) != 0)
        return KK_OK;
    if ((st = kk_store__exec(s, ctx, "BEGIN IMMEDIATE")) != KK_OK)
        return st;
    /* Another process may have upgraded it meanwhile. */
    if ((st = meta_get(s, ctx, "main", "audit_hash", scheme,
                       sizeof scheme)) != KK_OK)
        goto out;
    if (strcmp(scheme, AUDIT_SCHEME_V1) != 0)
        goto out;
    if (!force) {
        /* Only a log with no row yet is keyed silently; rows written
         * under the old scheme wait for 'kakou db upgrade' (check_scheme
         * says so), so an attacker cannot launder a forged log by
         * dressing it up as an old one. */
        sqlite3_stmt *c = NULL;
        int any = 1;
        if (sqlite3_prepare_v2(s->db, "SELECT EXISTS(SELECT 1 FROM "
                               "main.audit)", -1, &c, NULL) == SQLITE_OK &&
            sqlite3_step(c) == SQLITE_ROW)
            any = sqlite3_column_int(c, 0);
        sqlite3_finalize(c);
        if (any)
            goto out;
    }
    if ((st = verify_chain(s, ctx, "main", s->path, NULL, false, &bad)) != KK_OK) {
        char msg[1100];
        snprintf(msg, sizeof msg, "%s", kk_error_message(ctx));
        st = kk__fail(ctx, KK_ESTORE, "cannot re-chain the audit log under "
                      "the key: its unkeyed chain does not verify: %s", msg);
        goto out;
    }
    memset(prev, 0, sizeof prev);
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, run_id, time, operator, profile_name, "
                           "profile_version, profile_digest, input_digest, "
                           "output_digest, sop_instance_uid, status, subject,"
                           " origin FROM main.audit ORDER BY id", -1, &q,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, "UPDATE main.audit SET prev_hash = ?, "
                           "row_hash = ? WHERE id = ?", -1, &u, NULL) !=
            SQLITE_OK) {
        st = kk_store__sql_fail(s, ctx, "cannot re-chain the audit log");
        goto out;
    }
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *c[KK_AC_COUNT];
        last = sqlite3_column_int64(q, 0);
        for (int i = 0; i < KK_AC_COUNT; i++)
            c[i] = (const char *)sqlite3_column_text(q, 1 + i);
        sodium_bin2hex(prev_hex, sizeof prev_hex, prev, 32);
        kk_store__audit_hash(audit_key(s), prev, last, c, hex);
        sqlite3_reset(u);
        sqlite3_bind_text(u, 1, prev_hex, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(u, 2, hex, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(u, 3, last);
        if (sqlite3_step(u) != SQLITE_DONE)
            break;
        sodium_hex2bin(prev, 32, hex, 64, NULL, &n, NULL);
    }
    if (rc != SQLITE_DONE) {
        st = kk_store__sql_fail(s, ctx, "cannot re-chain the audit log");
        goto out;
    }
    sodium_bin2hex(hex, sizeof hex, prev, 32);
    snprintf(head, sizeof head, "%lld:%s", (long long)last, hex);
    if ((last > 0 && (st = meta_set(s, ctx, "audit_head", head)) != KK_OK) ||
        (st = meta_set(s, ctx, "audit_key_id", s->key_id)) != KK_OK ||
        (st = meta_set(s, ctx, "audit_hash", AUDIT_SCHEME)) != KK_OK)
        goto out;
out:
    sqlite3_finalize(q);
    sqlite3_finalize(u);
    if (st == KK_OK)
        st = kk_store__exec(s, ctx, "COMMIT");
    if (st != KK_OK)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return st;
}

kk_status kk_store_upgrade_audit(kk_store *s, kk_ctx *ctx)
{
    char scheme[64];
    kk_status st;

    if (!s)
        return kk__fail(ctx, KK_EINVAL, "upgrade: store is NULL");
    if (!audit_key(s))
        return kk__fail(ctx, KK_EKEY, "re-chaining the audit log of '%s' "
                        "needs the project key", s->path);
    pthread_mutex_lock(&s->mu);
    st = kk_store__flush_locked(s, ctx);
    if (st == KK_OK || st == KK_EEXISTS)
        st = meta_get(s, ctx, "main", "audit_hash", scheme, sizeof scheme);
    if (st == KK_OK && strcmp(scheme, AUDIT_SCHEME_V1) != 0)
        st = kk__fail(ctx, KK_EINVAL, "the audit log of '%s' is already "
                      "keyed (%s): nothing to upgrade", s->path, scheme);
    if (st == KK_OK)
        st = kk_store__audit_upgrade(s, ctx, true);
    if (st == KK_OK)
        st = kk_store__audit_check_writable(s, ctx);
    pthread_mutex_unlock(&s->mu);
    if (st == KK_OK) {
        kk_audit_entry e = { NULL, NULL, NULL, NULL, NULL, NULL, "upgrade" };
        st = kk_store_audit(s, ctx, &e);
    }
    return st;
}

kk_status kk_store_verify(kk_store *s, kk_ctx *ctx, int64_t *bad_row)
{
    int64_t bad = 0;
    kk_status st;

    if (!s)
        return kk__fail(ctx, KK_EINVAL, "verify: store is NULL");
    pthread_mutex_lock(&s->mu);
    st = kk_store__flush_locked(s, ctx);
    if (st == KK_OK || st == KK_EEXISTS) {
        /* A read transaction: one consistent snapshot of log and head. */
        if ((st = kk_store__exec(s, ctx, "BEGIN")) == KK_OK) {
            st = kk_store__verify_schema(s, ctx, "main", s->path, &bad);
            sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (bad_row)
        *bad_row = bad;
    return st;
}

kk_status kk_store_verify_structure(kk_store *s, kk_ctx *ctx, int64_t *bad_row)
{
    char scheme[64];
    int64_t bad = 0;
    kk_status st;

    if (!s)
        return kk__fail(ctx, KK_EINVAL, "verify: store is NULL");
    pthread_mutex_lock(&s->mu);
    st = kk_store__flush_locked(s, ctx);
    if (st == KK_OK || st == KK_EEXISTS) {
        if ((st = kk_store__exec(s, ctx, "BEGIN")) == KK_OK) {
            st = meta_get(s, ctx, "main", "audit_hash", scheme, sizeof scheme);
            /* an unkeyed v1 chain needs no key: check it whole */
            if (st == KK_OK)
                st = verify_chain(s, ctx, "main", s->path, NULL,
                                  strcmp(scheme, AUDIT_SCHEME_V1) != 0, &bad);
            sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (bad_row)
        *bad_row = bad;
    return st;
}
