/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/store/merge.c - merging another store's rows into this one
 * (kk_store_merge), e.g. the stores of several workstations of one
 * project into one key DB.
 *
 * Design. The source is attached read-only and must be a kakou store of
 * the same schema version whose own audit chain verifies: a tampered
 * source is refused before anything is copied. Then, in one BEGIN
 * IMMEDIATE transaction:
 *  1. keys: the source's key ids are added.
 *  2. conflicts: a pseudonym (same domain) or new UID present in both
 *     stores with a different key id or a different lookup value is a
 *     conflict; the merge is refused with KK_ESTORE naming the first one.
 *     No key is needed: under one key, equal originals have equal lookup
 *     values (HMAC under a subkey of the master key, see store.c), and
 *     rows made under different keys cannot be shown equal, so they are
 *     refused rather than guessed.
 *  3. mappings: INSERT OR IGNORE copies ciphertexts as they are (they
 *     stay decryptable with the key named in their key_id); inputs done
 *     (an output recorded, under their profile digest and key id) are
 *     copied too, so a run on the merged store finds them done when their
 *     outputs are in its folder. Claims with no output are not: they
 *     belong to the source's runs.
 *  4. audit: each source row not yet merged is appended to this store's
 *     chain as a new row (new id, re-chained) with every column copied
 *     and origin = the row_hash it had in the source, so each merged row
 *     can be matched to its source chain, which step 0 verified. A source
 *     row is skipped when its row_hash is already a row_hash or origin
 *     here (it was merged before, or both stores share history), so
 *     merging twice adds nothing. Finally a "merge" row of this run is
 *     appended, whose subject names the source's audit head.
 * The whole merge commits or nothing does.
 *
 * IMPLEMENTATION-OF: R24 (merge logged), R25 (merged log stays verifiable).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "core/core.h"
#include "store/store_internal.h"

/* "file:" URI for path, read-only; kk_free. */
static char *ro_uri(const char *path)
{
    kk_buf b = KK_BUF_INIT;
    kk__buf_adds(&b, "file:");
    for (const char *p = path; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '%' || c == '?' || c == '#' || c <= 0x20 || c >= 0x7f)
            kk__buf_printf(&b, "%%%02X", c);
        else
            kk__buf_addc(&b, (char)c);
    }
    kk__buf_adds(&b, "?mode=ro");
    if (b.failed) {
        kk__buf_free(&b);
        return NULL;
    }
    return kk__buf_detach(&b);
}

static kk_status src_int(kk_store *s, kk_ctx *ctx, const char *sql, int *out)
{
    sqlite3_stmt *q = NULL;
    int rc;
    *out = 0;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return kk_store__sql_fail(s, ctx, "cannot read the source store");
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return kk_store__sql_fail(s, ctx, "cannot read the source store");
    return KK_OK;
}

static kk_status find_conflict(kk_store *s, kk_ctx *ctx, const char *src)
{
    static const char *const sql[2] = {
        "SELECT a.domain, a.pseudonym FROM src.pseudonyms a JOIN "
        "main.pseudonyms b ON a.domain = b.domain AND a.pseudonym = "
        "b.pseudonym WHERE a.key_id <> b.key_id OR a.lookup <> b.lookup "
        "LIMIT 1",
        "SELECT NULL, a.new_uid FROM src.uids a JOIN main.uids b ON "
        "a.new_uid = b.new_uid WHERE a.key_id <> b.key_id OR a.lookup <> "
        "b.lookup LIMIT 1",
    };
    kk_status st = KK_OK;

    for (int t = 0; t < 2 && st == KK_OK; t++) {
        sqlite3_stmt *q = NULL;
        int rc;
        if (sqlite3_prepare_v2(s->db, sql[t], -1, &q, NULL) != SQLITE_OK)
            return kk_store__sql_fail(s, ctx, "cannot compare stores");
        rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            const char *d = (const char *)sqlite3_column_text(q, 0);
            const char *id = (const char *)sqlite3_column_text(q, 1);
            if (t == 0)
                st = kk__fail(ctx, KK_ESTORE,
                              "cannot merge '%s' into '%s': pseudonym '%s' "
                              "in domain '%s' stands for different values "
                              "(or keys) in the two stores", src, s->path,
                              id ? id : "", d ? d : "");
            else
                st = kk__fail(ctx, KK_ESTORE,
                              "cannot merge '%s' into '%s': UID '%s' "
                              "replaces different UIDs (or keys) in the two "
                              "stores", src, s->path, id ? id : "");
        } else if (rc != SQLITE_DONE) {
            st = kk_store__sql_fail(s, ctx, "cannot compare stores");
        }
        sqlite3_finalize(q);
    }
    return st;
}

static kk_status copy_audit(kk_store *s, kk_ctx *ctx, const char *src_head)
{
    unsigned char prev[32];
    int64_t last = 0;
    sqlite3_stmt *q = NULL;
    kk_status st;
    int rc;

    if ((st = kk_store__exec(s, ctx,
                             "DROP TABLE IF EXISTS temp.kk_merge;"
                             "CREATE TEMP TABLE kk_merge AS SELECT * FROM "
                             "src.audit a WHERE"
                             " a.row_hash NOT IN (SELECT row_hash FROM "
                             "  main.audit)"
                             " AND a.row_hash NOT IN (SELECT origin FROM "
                             "  main.audit WHERE origin IS NOT NULL)"
                             " AND (a.origin IS NULL OR"
                             "  (a.origin NOT IN (SELECT row_hash FROM "
                             "   main.audit) AND a.origin NOT IN (SELECT "
                             "   origin FROM main.audit WHERE origin IS NOT "
                             "   NULL)));")) != KK_OK)
        return st;
    if ((st = kk_store__audit_tail(s, ctx, prev, &last)) != KK_OK)
        return st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT run_id, time, operator, profile_name, "
                           "profile_version, profile_digest, input_digest, "
                           "output_digest, sop_instance_uid, status, "
                           "subject, row_hash FROM temp.kk_merge ORDER BY id",
                           -1, &q, NULL) != SQLITE_OK)
        return kk_store__sql_fail(s, ctx, "cannot read the source log");
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *c[KK_AC_COUNT];
        for (int i = 0; i < KK_AC_COUNT; i++)
            c[i] = (const char *)sqlite3_column_text(q, i);
        /* Column 11 of the query is the source row_hash: the origin. */
        st = kk_store__append_audit(s, ctx, c, prev, &last);
        if (st != KK_OK)
            break;
    }
    if (st == KK_OK && rc != SQLITE_DONE)
        st = kk_store__sql_fail(s, ctx, "cannot read the source log");
    sqlite3_finalize(q);
    if (st == KK_OK)
        st = kk_store__exec(s, ctx, "DROP TABLE temp.kk_merge");
    if (st == KK_OK) {
        const char *c[KK_AC_COUNT] = {0};
        char *now = kk_store__now();
        kk_buf b = KK_BUF_INIT;
        kk__buf_printf(&b, "merge:%s", src_head ? src_head : "empty");
        if (!now || b.failed) {
            st = kk__fail(ctx, KK_ENOMEM, "out of memory merging");
        } else {
            c[KK_AC_RUN_ID] = s->run_id;
            c[KK_AC_TIME] = now;
            c[KK_AC_OPERATOR] = s->operator_name;
            c[KK_AC_STATUS] = "merge";
            c[KK_AC_SUBJECT] = b.data;
            st = kk_store__append_audit(s, ctx, c, prev, &last);
        }
        kk__buf_free(&b);
        kk_free(now);
    }
    return st;
}

kk_status kk_store_merge(kk_store *s, kk_ctx *ctx, const char *src_path)
{
    struct stat a, b;
    sqlite3_stmt *q = NULL;
    char *uri = NULL, *src_head = NULL;
    kk_status st;
    int app = 0, version = 0, attached = 0, in_txn = 0;
    int64_t bad = 0;

    if (!s || !src_path || !*src_path)
        return kk__fail(ctx, KK_EINVAL, "merge: missing argument");
    if (stat(src_path, &b) != 0)
        return kk__fail(ctx, errno == ENOENT ? KK_ENOTFOUND : KK_ESTORE,
                        "cannot open store '%s': %s", src_path,
                        strerror(errno));
    if (!S_ISREG(b.st_mode))
        return kk__fail(ctx, KK_ESTORE, "store '%s' is not a regular file",
                        src_path);
    if (stat(s->path, &a) == 0 && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino)
        return kk__fail(ctx, KK_EINVAL, "cannot merge '%s' into itself",
                        src_path);
    if (!(uri = ro_uri(src_path)))
        return kk__fail(ctx, KK_ENOMEM, "out of memory merging");

    pthread_mutex_lock(&s->mu);
    if ((st = kk_store__flush_locked(s, ctx)) != KK_OK)
        goto out;
    if (sqlite3_prepare_v2(s->db, "ATTACH DATABASE ? AS src", -1, &q, NULL) !=
        SQLITE_OK) {
        st = kk_store__sql_fail(s, ctx, "cannot attach the source store");
        goto out;
    }
    sqlite3_bind_text(q, 1, uri, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE) {
        st = kk__fail(ctx, KK_ESTORE, "cannot open store '%s': %s", src_path,
                      sqlite3_errmsg(s->db));
        sqlite3_finalize(q);
        goto out;
    }
    sqlite3_finalize(q);
    attached = 1;

    if ((st = kk_store__exec(s, ctx, "BEGIN IMMEDIATE")) != KK_OK)
        goto out;
    in_txn = 1;
    if ((st = src_int(s, ctx, "PRAGMA src.application_id", &app)) ||
        (st = src_int(s, ctx, "PRAGMA src.user_version", &version)))
        goto out;
    if (app != KK_STORE_APP_ID) {
        st = kk__fail(ctx, KK_ESTORE, "'%s' is not a kakou store", src_path);
        goto out;
    }
    if (version != KK_STORE_SCHEMA_VERSION) {
        st = kk__fail(ctx, KK_ESTORE,
                      "store '%s' has schema version %d, not %d: open it "
                      "with this kakou first (kakou db verify)", src_path,
                      version, KK_STORE_SCHEMA_VERSION);
        goto out;
    }
    if ((st = kk_store__verify_schema(s, ctx, "src", src_path, &bad)) !=
        KK_OK) {
        char msg[1100];
        snprintf(msg, sizeof msg, "%s", kk_error_message(ctx));
        st = kk__fail(ctx, KK_ESTORE, "refusing to merge: %s", msg);
        goto out;
    }
    if (sqlite3_prepare_v2(s->db,
                           "SELECT value FROM src.meta WHERE name = "
                           "'audit_head'", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW) {
        const char *h = (const char *)sqlite3_column_text(q, 0);
        src_head = h ? kk__strdup(h) : NULL;
    }
    sqlite3_finalize(q);
    q = NULL;
    if ((st = kk_store__exec(s, ctx,
                             "INSERT OR IGNORE INTO main.keys SELECT * FROM "
                             "src.keys")) != KK_OK ||
        (st = find_conflict(s, ctx, src_path)) != KK_OK ||
        (st = kk_store__exec(s, ctx,
                             "INSERT OR IGNORE INTO main.pseudonyms(domain, "
                             "pseudonym, key_id, lookup, nonce, original_enc)"
                             " SELECT domain, pseudonym, key_id, lookup, "
                             "nonce, original_enc FROM src.pseudonyms;"
                             "INSERT OR IGNORE INTO main.uids(new_uid, "
                             "key_id, lookup, nonce, original_enc) SELECT "
                             "new_uid, key_id, lookup, nonce, original_enc "
                             "FROM src.uids;"
                             "INSERT OR IGNORE INTO main.inputs SELECT * FROM "
                             "src.inputs WHERE output_path IS NOT NULL;")) != KK_OK ||
        (st = copy_audit(s, ctx, src_head)) != KK_OK)
        goto out;
    st = kk_store__exec(s, ctx, "COMMIT");
    if (st == KK_OK)
        in_txn = 0;
out:
    if (in_txn)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    if (attached)
        sqlite3_exec(s->db, "DETACH DATABASE src", NULL, NULL, NULL);
    pthread_mutex_unlock(&s->mu);
    kk_free(uri);
    kk_free(src_head);
    return st;
}
