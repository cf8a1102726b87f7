/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/store/audit.c - the tamper-evident audit log: queueing rows,
 * chaining them, and verifying the chain.
 *
 * Chain (R25): rows are numbered by id (1, 2, ...). For each row,
 *   row_hash = SHA-256(prev_hash || canonical(row)),
 * prev_hash of row 1 is 32 zero bytes, and every later row's prev_hash is
 * the row_hash of the row before it. Both are stored as lowercase hex.
 * canonical(row) = "kakou-audit-v1" NUL || le64(id) || for each column in
 * kk_store__audit_columns order: 0x00 for NULL, else 0x01 || le64(len) ||
 * bytes. meta('audit_head') holds "id:row_hash" of the last row, updated
 * in the same transaction, so dropping rows from the end is noticed too.
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
#include "store/store_internal.h"

const char *const kk_store__audit_columns[KK_AC_COUNT] = {
    "run_id", "time", "operator", "profile_name", "profile_version",
    "profile_digest", "input_digest", "output_digest", "sop_instance_uid",
    "status", "subject", "origin",
};

#define AUDIT_TAG "kakou-audit-v1"

static void le64(unsigned char b[8], uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
}

void kk_store__audit_hash(const unsigned char prev[32], int64_t id,
                          const char *const c[KK_AC_COUNT],
                          char out[KK_STORE_HASH_HEX])
{
    crypto_hash_sha256_state st;
    unsigned char b[8], h[32];

    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, prev, 32);
    crypto_hash_sha256_update(&st, (const unsigned char *)AUDIT_TAG,
                              sizeof AUDIT_TAG);
    le64(b, (uint64_t)id);
    crypto_hash_sha256_update(&st, b, 8);
    for (int i = 0; i < KK_AC_COUNT; i++) {
        unsigned char present = c[i] != NULL;
        crypto_hash_sha256_update(&st, &present, 1);
        if (!present)
            continue;
        size_t n = strlen(c[i]);
        le64(b, (uint64_t)n);
        crypto_hash_sha256_update(&st, b, 8);
        crypto_hash_sha256_update(&st, (const unsigned char *)c[i], n);
    }
    crypto_hash_sha256_final(&st, h);
    sodium_bin2hex(out, KK_STORE_HASH_HEX, h, sizeof h);
}

kk_status kk_store__queue_audit(kk_store *s, kk_ctx *ctx,
                                const char *const c[KK_AC_COUNT])
{
    kk_store_pending_audit *a;

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
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, row_hash FROM main.audit ORDER BY id "
                           "DESC LIMIT 1", -1, &q, NULL) != SQLITE_OK)
        return kk_store__sql_fail(s, ctx, "cannot read the audit log");
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        const char *h = (const char *)sqlite3_column_text(q, 1);
        size_t n = 0;
        *last_id = sqlite3_column_int64(q, 0);
        if (!h || sodium_hex2bin(prev, 32, h, strlen(h), NULL, &n, NULL) ||
            n != 32) {
            sqlite3_finalize(q);
            return kk__fail(ctx, KK_ESTORE, "store '%s': audit row %lld is "
                            "damaged: run 'kakou db verify'", s->path,
                            (long long)*last_id);
        }
    } else if (rc != SQLITE_DONE) {
        sqlite3_finalize(q);
        return kk_store__sql_fail(s, ctx, "cannot read the audit log");
    }
    sqlite3_finalize(q);
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

    sodium_bin2hex(prev_hex, sizeof prev_hex, prev, 32);
    kk_store__audit_hash(prev, id, c, row_hex);
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO main.audit(id, run_id, time, operator,"
                           " profile_name, profile_version, profile_digest,"
                           " input_digest, output_digest, sop_instance_uid,"
                           " status, subject, origin, prev_hash, row_hash)"
                           " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           -1, &q, NULL) != SQLITE_OK)
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
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE)
        return kk_store__sql_fail(s, ctx, "cannot write the audit log");
    snprintf(head, sizeof head, "%lld:%s", (long long)id, row_hex);
    if (sqlite3_prepare_v2(s->db,
                           "INSERT OR REPLACE INTO main.meta(name, value) "
                           "VALUES ('audit_head', ?)", -1, &q, NULL) !=
        SQLITE_OK)
        return kk_store__sql_fail(s, ctx, "cannot write the audit log");
    sqlite3_bind_text(q, 1, head, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    sqlite3_finalize(q);
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

kk_status kk_store__verify_schema(kk_store *s, kk_ctx *ctx, const char *db,
                                  const char *name, int64_t *bad_row)
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
        kk_store__audit_hash(prev, id, c, want);
        if (!rh || strcmp(rh, want) != 0) {
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
