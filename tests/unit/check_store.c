/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/check_store.c - lib/store: the encrypted correspondence
 * tables, batching under threads and processes, the audit chain,
 * resume, export and merge.
 *
 * Proves R07 (lookup returns the original and is audited), R08 (UID map
 * kept), R23/R24 (the DB bytes hold no planted original; rows carry the
 * key id; a wrong key cannot read), R25 (chain verifies; any altered,
 * removed or reordered row is found).
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "core/core.h"
#include "crypto/key_internal.h"
#include "store/store_internal.h"

static char dir[256];
static char dbpath[300];
static kk_key *key;

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/kk-check-store.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(dbpath, sizeof dbpath, "%s/map.db", dir);
    ck_assert_int_eq(kk_key_new_ephemeral(&key, NULL), KK_OK);
}

static void teardown(void)
{
    char cmd[300];
    kk_key_free(key);
    key = NULL;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static kk_store *open_store(const char *path, const kk_key *k)
{
    kk_ctx *ctx = kk_ctx_new();
    kk_store *s = NULL;
    kk_status st = kk_store_open(&s, ctx, path, k);
    ck_assert_msg(st == KK_OK, "open %s: %s", path, kk_error_message(ctx));
    kk_ctx_free(ctx);
    return s;
}

static void close_store(kk_store *s)
{
    kk_ctx *ctx = kk_ctx_new();
    kk_status st = kk_store_close(s, ctx);
    ck_assert_msg(st == KK_OK, "close: %s", kk_error_message(ctx));
    kk_ctx_free(ctx);
}

static long long sql_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    long long v = -1;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    if (sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return v;
}

static void sql_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    char *err = NULL;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, err ? err : "");
    sqlite3_close(db);
}

static void audit(kk_store *s, const char *digest, const char *status)
{
    kk_audit_entry e = {"pseudo", "1.0", "d0d0", digest, "0f0f",
                        "2.25.1234", status};
    kk_ctx *ctx = kk_ctx_new();
    ck_assert_msg(kk_store_audit(s, ctx, &e) == KK_OK, "audit: %s",
                  kk_error_message(ctx));
    kk_ctx_free(ctx);
}

/* ---- mappings --------------------------------------------------------- */

START_TEST(round_trip)
{
    kk_ctx *ctx = kk_ctx_new();
    kk_store *s = open_store(dbpath, key);
    char *orig = NULL, *dom = NULL;

    ck_assert_int_eq(kk_store__record_pseudonym(s, ctx, "patient", "P0001",
                                                "YAMADA-77", 9), KK_OK);
    ck_assert_int_eq(kk_store__record_pseudonym(s, ctx, "accession", "A0001",
                                                "ACC-555", 7), KK_OK);
    ck_assert_int_eq(kk_store__record_uid(s, ctx, "2.25.99",
                                          "1.2.392.1.2.3"), KK_OK);
    ck_assert_int_eq(kk_store_lookup_pseudonym(s, ctx, "P0001", &orig, &dom),
                     KK_OK);
    ck_assert_str_eq(orig, "YAMADA-77");
    ck_assert_str_eq(dom, "patient");
    kk_free(orig);
    kk_free(dom);
    ck_assert_int_eq(kk_store_lookup_uid(s, ctx, "2.25.99", &orig), KK_OK);
    ck_assert_str_eq(orig, "1.2.392.1.2.3");
    kk_free(orig);
    ck_assert_int_eq(kk_store_lookup_uid(s, ctx, "2.25.100", &orig),
                     KK_ENOTFOUND);
    ck_assert_ptr_null(orig);
    ck_assert_int_eq(kk_store_lookup_pseudonym(s, ctx, "NOPE", &orig, NULL),
                     KK_ENOTFOUND);
    close_store(s);

    /* R07: every lookup is audited, found or not; rows name the key. */
    ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM audit WHERE "
                             "status = 'lookup'"), 2);
    ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM audit WHERE "
                             "status = 'lookup-failed'"), 2);
    ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM audit WHERE "
                             "subject = 'pseudonym:patient:P0001'"), 1);
    ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM pseudonyms WHERE "
                             "key_id IN (SELECT key_id FROM keys)"), 2);

    /* Reopened: the same key reads, another key does not. */
    s = open_store(dbpath, key);
    ck_assert_int_eq(kk_store_lookup_pseudonym(s, ctx, "A0001", &orig, NULL),
                     KK_OK);
    ck_assert_str_eq(orig, "ACC-555");
    kk_free(orig);
    close_store(s);
    kk_key *other = NULL;
    ck_assert_int_eq(kk_key_new_ephemeral(&other, NULL), KK_OK);
    s = open_store(dbpath, other);
    ck_assert_int_eq(kk_store_lookup_pseudonym(s, ctx, "A0001", &orig, NULL),
                     KK_EKEY);
    ck_assert_ptr_nonnull(strstr(kk_error_message(ctx), kk_key_id(key)));
    close_store(s);
    kk_key_free(other);
    /* Without a key: audit-only. */
    s = open_store(dbpath, NULL);
    ck_assert_int_eq(kk_store__record_uid(s, ctx, "2.25.5", "1.2"), KK_EKEY);
    ck_assert_int_eq(kk_store_lookup_uid(s, ctx, "2.25.99", &orig), KK_EKEY);
    close_store(s);
    kk_ctx_free(ctx);
}
END_TEST

START_TEST(same_pseudonym_in_two_domains)
{
    kk_ctx *ctx = kk_ctx_new();
    kk_store *s = open_store(dbpath, key);
    char *orig = NULL;

    ck_assert_int_eq(kk_store__record_pseudonym(s, ctx, "patient", "X1",
                                                "a", 1), KK_OK);
    ck_assert_int_eq(kk_store__record_pseudonym(s, ctx, "accession", "X1",
                                                "b", 1), KK_OK);
    ck_assert_int_eq(kk_store_lookup_pseudonym(s, ctx, "X1", &orig, NULL),
                     KK_EINVAL);
    ck_assert_ptr_nonnull(strstr(kk_error_message(ctx), "name the domain"));
    ck_assert_int_eq(kk_store_lookup_pseudonym_in(s, ctx, "accession", "X1",
                                                  &orig), KK_OK);
    ck_assert_str_eq(orig, "b");
    kk_free(orig);
    close_store(s);
    kk_ctx_free(ctx);
}
END_TEST

static int file_contains(const char *path, const char *needle)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return 0;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, fp);
    fclose(fp);
    int hit = memmem(buf, got, needle, strlen(needle)) != NULL;
    free(buf);
    return hit;
}

START_TEST(db_bytes_hold_no_original)
{
    static const char *planted[] = {
        "PLANTED^NAME^9f3a", "PID-PLANTED-0042",
        "1.2.392.200036.9116.2.5.1.37.2418727839.777",
        "\xe5\xb1\xb1\xe7\x94\xb0\xe5\xa4\xaa\xe9\x83\x8e", /* 山田太郎 */
    };
    kk_ctx *ctx = kk_ctx_new();
    kk_store *s = open_store(dbpath, key);
    char path[400], p[32];
    struct stat sb;

    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "P%d", i);
        ck_assert_int_eq(kk_store__record_pseudonym(
                             s, ctx, "patient", p, planted[i],
                             strlen(planted[i])), KK_OK);
    }
    ck_assert_int_eq(kk_store__record_pseudonym(s, ctx, "name", "N1",
                                                planted[3],
                                                strlen(planted[3])), KK_OK);
    ck_assert_int_eq(kk_store__record_uid(s, ctx, "2.25.7", planted[2]),
                     KK_OK);
    audit(s, "abcd", "ok");
    ck_assert_int_eq(kk_store__flush(s, ctx), KK_OK);
    /* While open: the WAL holds the rows. */
    for (size_t i = 0; i < 4; i++) {
        ck_assert(!file_contains(dbpath, planted[i]));
        snprintf(path, sizeof path, "%s-wal", dbpath);
        ck_assert(!file_contains(path, planted[i]));
    }
    close_store(s);
    for (size_t i = 0; i < 4; i++)
        ck_assert_msg(!file_contains(dbpath, planted[i]),
                      "planted value %zu found in the DB", i);
    ck_assert(file_contains(dbpath, "P1")); /* the test can see content */
    ck_assert_int_eq(stat(dbpath, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0600);
    kk_ctx_free(ctx);
}
END_TEST

START_TEST(dedupe_and_collision)
{
    kk_ctx *ctx = kk_ctx_new();
    kk_store *s = open_store(dbpath, key);

    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(kk_store__record_pseudonym(s, ctx, "patient", "P1",
                                                    "orig-1", 6), KK_OK);
        ck_assert_int_eq(kk_store__record_uid(s, ctx, "2.25.1", "1.2.3"),
                         KK_OK);
    }
    /* Collision while pending. */
    ck_assert_int_eq(kk_store__record_pseudonym(s, ctx, "patient", "P1",
                                                "orig-2", 6), KK_EEXISTS);
    ck_assert_ptr_nonnull(strstr(kk_error_message(ctx), "collision"));
    ck_assert_int_eq(kk_store__record_uid(s, ctx, "2.25.1", "1.2.4"),
                     KK_EEXISTS);
    /* Same pseudonym in another domain is not a collision. */
    ck_assert_int_eq(kk_store__record_pseudonym(s, ctx, "accession", "P1",
                                                "orig-2", 6), KK_OK);
    close_store(s);
    ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM pseudonyms"), 2);
    ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM uids"), 1);

    /* Collision against committed rows, from a new handle. */
    s = open_store(dbpath, key);
    ck_assert_int_eq(kk_store__record_pseudonym(s, ctx, "patient", "P1",
                                                "orig-1", 6), KK_OK);
    ck_assert_int_eq(kk_store__record_pseudonym(s, ctx, "patient", "P1",
                                                "orig-X", 6), KK_EEXISTS);
    close_store(s);

    /* Collision discovered at commit (two handles, both pending). */
    kk_store *a = open_store(dbpath, key), *b = open_store(dbpath, key);
    ck_assert_int_eq(kk_store__record_uid(a, ctx, "2.25.9", "9.9.1"), KK_OK);
    ck_assert_int_eq(kk_store__record_uid(b, ctx, "2.25.9", "9.9.2"), KK_OK);
    ck_assert_int_eq(kk_store__flush(a, ctx), KK_OK);
    ck_assert_int_eq(kk_store__flush(b, ctx), KK_EEXISTS);
    ck_assert_int_eq(kk_store__record_uid(b, ctx, "2.25.9", "9.9.2"),
                     KK_EEXISTS);
    close_store(a);
    close_store(b);
    s = open_store(dbpath, key);
    char *orig = NULL;
    ck_assert_int_eq(kk_store_lookup_uid(s, ctx, "2.25.9", &orig), KK_OK);
    ck_assert_str_eq(orig, "9.9.1");
    kk_free(orig);
    close_store(s);
    kk_ctx_free(ctx);
}
END_TEST

START_TEST(moved_ciphertext_refused)
{
    kk_ctx *ctx = kk_ctx_new();
    kk_store *s = open_store(dbpath, key);
    char *orig = NULL;

    ck_assert_int_eq(kk_store__record_pseudonym(s, ctx, "patient", "PA",
                                                "alice", 5), KK_OK);
    ck_assert_int_eq(kk_store__record_pseudonym(s, ctx, "patient", "PB",
                                                "bob", 3), KK_OK);
    close_store(s);
    /* Give PA the ciphertext of PB. */
    sql_exec(dbpath, "UPDATE pseudonyms SET (nonce, original_enc) = "
                     "(SELECT nonce, original_enc FROM pseudonyms WHERE "
                     "pseudonym = 'PB') WHERE pseudonym = 'PA'");
    s = open_store(dbpath, key);
    ck_assert_int_eq(kk_store_lookup_pseudonym(s, ctx, "PA", &orig, NULL),
                     KK_ESTORE);
    ck_assert_ptr_null(orig);
    ck_assert_ptr_nonnull(strstr(kk_error_message(ctx), "altered or moved"));
    close_store(s);
    kk_ctx_free(ctx);
}
END_TEST

START_TEST(refuses_bad_files)
{
    kk_ctx *ctx = kk_ctx_new();
    kk_store *s = NULL;
    char path[400];
    FILE *fp;

    ck_assert_int_eq(kk_store_open(&s, ctx, dir, key), KK_ESTORE);
    ck_assert_ptr_nonnull(strstr(kk_error_message(ctx), "regular file"));
    ck_assert_int_eq(kk_store_open(&s, ctx, "/nonexistent-dir/x.db", key),
                     KK_ESTORE);
    ck_assert_int_eq(kk_store_open(&s, ctx, "/dev/null", key), KK_ESTORE);
    snprintf(path, sizeof path, "%s/text.db", dir);
    fp = fopen(path, "w");
    fputs("this is not a database, just some text that is long enough to "
          "fill a header page of sqlite......................................"
          "...............................................................",
          fp);
    fclose(fp);
    ck_assert_int_eq(kk_store_open(&s, ctx, path, key), KK_ESTORE);
    ck_assert_ptr_nonnull(strstr(kk_error_message(ctx), "not a kakou store"));
    /* An SQLite file of someone else. */
    snprintf(path, sizeof path, "%s/other.db", dir);
    sql_exec(path, "CREATE TABLE t(x)");
    ck_assert_int_eq(kk_store_open(&s, ctx, path, key), KK_ESTORE);
    ck_assert_ptr_nonnull(strstr(kk_error_message(ctx), "not a kakou store"));
    /* A newer schema. */
    s = open_store(dbpath, key);
    close_store(s);
    sql_exec(dbpath, "PRAGMA user_version = 99");
    ck_assert_int_eq(kk_store_open(&s, ctx, dbpath, key), KK_ESTORE);
    ck_assert_ptr_nonnull(strstr(kk_error_message(ctx), "schema version 99"));
    ck_assert_ptr_null(s);
    kk_ctx_free(ctx);
}
END_TEST

/* ---- audit ------------------------------------------------------------ */

/* Verify dbpath under k: the status, and the first bad row in *bad. */
static kk_status verify_with(const kk_key *k, int64_t *bad)
{
    kk_ctx *ctx = kk_ctx_new();
    kk_store *s = open_store(dbpath, k);
    kk_status st = kk_store_verify(s, ctx, bad);
    close_store(s);
    kk_ctx_free(ctx);
    return st;
}

static void six_rows(void)
{
    kk_store *s = open_store(dbpath, key);
    char d[16];
    for (int i = 0; i < 6; i++) {
        snprintf(d, sizeof d, "d%d", i);
        audit(s, d, "ok");
    }
    close_store(s);
    sql_exec(dbpath, "CREATE TABLE keep AS SELECT * FROM audit;"
                     "CREATE TABLE keepmeta AS SELECT * FROM meta");
}

static void restore(void)
{
    sql_exec(dbpath, "DELETE FROM audit; INSERT INTO audit SELECT * FROM "
                     "keep; DELETE FROM meta; INSERT INTO meta SELECT * "
                     "FROM keepmeta");
}

START_TEST(audit_chain_verifies_and_detects_tamper)
{
    kk_ctx *ctx = kk_ctx_new();
    int64_t bad = -1;

    six_rows();
    ck_assert_int_eq(verify_with(key, &bad), KK_OK);
    ck_assert_int_eq(bad, 0);
    ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM audit"), 6);
    ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM audit WHERE "
                             "operator <> '' AND length(run_id) = 32"), 6);
    ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM meta WHERE name "
                             "= 'audit_hash' AND value = "
                             "'hmac-sha256-chain-v2'"), 1);

    /* Every column of row 3, altered alone, is detected at row 3. */
    for (int i = 0; i < KK_AC_COUNT; i++) {
        char sql[300];
        snprintf(sql, sizeof sql, "UPDATE audit SET %s = coalesce(%s, '') "
                 "|| 'x' WHERE id = 3", kk_store__audit_columns[i],
                 kk_store__audit_columns[i]);
        sql_exec(dbpath, sql);
        bad = -1;
        ck_assert_msg(verify_with(key, &bad) == KK_ESTORE,
                      "column %s altered, chain still verifies",
                      kk_store__audit_columns[i]);
        ck_assert_int_eq(bad, 3);
        restore();
        /* and set to NULL where it may be */
        snprintf(sql, sizeof sql, "UPDATE OR IGNORE audit SET %s = NULL "
                 "WHERE id = 3 AND %s IS NOT NULL",
                 kk_store__audit_columns[i], kk_store__audit_columns[i]);
        sqlite3 *db = NULL;
        ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
        int changed = sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK &&
                      sqlite3_changes(db) > 0;
        sqlite3_close(db);
        if (changed) {
            ck_assert_int_eq(verify_with(key, &bad), KK_ESTORE);
            ck_assert_int_eq(bad, 3);
            restore();
        }
    }
    ck_assert_int_eq(verify_with(key, &bad), KK_OK);

    /* Remove a middle row. */
    sql_exec(dbpath, "DELETE FROM audit WHERE id = 4");
    ck_assert_int_eq(verify_with(key, &bad), KK_ESTORE);
    ck_assert_int_eq(bad, 4);
    restore();
    /* Remove the last row (the head in meta notices). */
    sql_exec(dbpath, "DELETE FROM audit WHERE id = 6");
    ck_assert_int_eq(verify_with(key, &bad), KK_ESTORE);
    ck_assert_int_eq(bad, 6);
    restore();
    /* Insert a row (a copy of row 2 as row 7, head moved along). */
    sql_exec(dbpath, "INSERT INTO audit SELECT 7, run_id, time, operator, "
                     "profile_name, profile_version, profile_digest, "
                     "'forged', output_digest, sop_instance_uid, status, "
                     "subject, origin, (SELECT row_hash FROM audit WHERE "
                     "id = 6), printf('%064d', 7) FROM keep WHERE id = 2;"
                     "UPDATE audit SET row_hash = printf('%064d', 7) WHERE "
                     "id = 7;"
                     "UPDATE meta SET value = '7:' || printf('%064d', 7) "
                     "WHERE name = 'audit_head'");
    ck_assert_int_eq(verify_with(key, &bad), KK_ESTORE);
    ck_assert_int_eq(bad, 7);
    restore();
    /* Reorder: rows 2 and 5 swap places (ids swapped, hashes kept). */
    sql_exec(dbpath, "UPDATE audit SET id = -2 WHERE id = 2;"
                     "UPDATE audit SET id = 2 WHERE id = 5;"
                     "UPDATE audit SET id = 5 WHERE id = -2");
    ck_assert_int_eq(verify_with(key, &bad), KK_ESTORE);
    ck_assert_int_eq(bad, 2);
    restore();
    /* Reorder the content only: rows 2 and 5 swap every column but id. */
    sql_exec(dbpath, "UPDATE audit SET input_digest = (SELECT input_digest "
                     "FROM keep WHERE id = 5) WHERE id = 2;"
                     "UPDATE audit SET input_digest = (SELECT input_digest "
                     "FROM keep WHERE id = 2) WHERE id = 5");
    ck_assert_int_eq(verify_with(key, &bad), KK_ESTORE);
    ck_assert_int_eq(bad, 2);
    restore();
    /* Replace a stored hash. */
    sql_exec(dbpath, "UPDATE audit SET row_hash = printf('%064d', 0) "
                     "WHERE id = 2");
    ck_assert_int_eq(verify_with(key, &bad), KK_ESTORE);
    ck_assert_int_eq(bad, 2);
    restore();
    ck_assert_int_eq(verify_with(key, &bad), KK_OK);

    /* Without the key, or under another key: no verdict, KK_EKEY. */
    {
        kk_store *s = open_store(dbpath, NULL);
        ck_assert_int_eq(kk_store_verify(s, ctx, &bad), KK_EKEY);
        ck_assert_int_eq(bad, 0);
        kk_audit_entry e = {NULL, NULL, NULL, "dd", NULL, NULL, "ok"};
        ck_assert_int_eq(kk_store_audit(s, ctx, &e), KK_EKEY);
        close_store(s);
        kk_key *other = NULL;
        ck_assert_int_eq(kk_key_new_ephemeral(&other, NULL), KK_OK);
        ck_assert_int_eq(verify_with(other, &bad), KK_EKEY);
        s = open_store(dbpath, other);
        ck_assert_int_eq(kk_store_audit(s, ctx, &e), KK_EKEY);
        ck_assert_ptr_nonnull(strstr(kk_error_message(ctx), kk_key_id(key)));
        close_store(s);
        kk_key_free(other);
    }
    ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM audit"), 6);
    ck_assert_int_eq(verify_with(key, &bad), KK_OK);
    kk_ctx_free(ctx);
}
END_TEST

/* A forger without the key alters row 3 and re-chains rows 3..6 and the
 * head with the plain SHA-256 chain (as in v1), or with a key of their
 * own: both detected at row 3. */
static void rechain_from_3(const unsigned char *mac_key)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    unsigned char prev[32];
    char hex[KK_STORE_HASH_HEX], prev_hex[KK_STORE_HASH_HEX], sql[400];
    size_t n;

    ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "UPDATE audit SET output_digest = "
                                  "'forged' WHERE id = 3", NULL, NULL,
                                  NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT row_hash FROM audit "
                                        "WHERE id = 2", -1, &q, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
    sodium_hex2bin(prev, 32, (const char *)sqlite3_column_text(q, 0), 64,
                   NULL, &n, NULL);
    sqlite3_finalize(q);
    for (int id = 3; id <= 6; id++) {
        const char *c[KK_AC_COUNT];
        snprintf(sql, sizeof sql, "SELECT run_id, time, operator, "
                 "profile_name, profile_version, profile_digest, "
                 "input_digest, output_digest, sop_instance_uid, status, "
                 "subject, origin FROM audit WHERE id = %d", id);
        ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &q, NULL),
                         SQLITE_OK);
        ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
        for (int i = 0; i < KK_AC_COUNT; i++)
            c[i] = (const char *)sqlite3_column_text(q, i);
        kk_store__audit_hash(mac_key, prev, id, c, hex);
        sqlite3_finalize(q);
        sodium_bin2hex(prev_hex, sizeof prev_hex, prev, 32);
        snprintf(sql, sizeof sql, "UPDATE audit SET prev_hash = '%s', "
                 "row_hash = '%s' WHERE id = %d", prev_hex, hex, id);
        ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        sodium_hex2bin(prev, 32, hex, 64, NULL, &n, NULL);
    }
    snprintf(sql, sizeof sql, "UPDATE meta SET value = '6:%s' WHERE name = "
             "'audit_head'", hex);
    ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

START_TEST(audit_rechained_without_key_detected)
{
    unsigned char fake[crypto_kdf_KEYBYTES];
    int64_t bad = -1;

    six_rows();
    rechain_from_3(NULL); /* plain SHA-256 */
    ck_assert_int_eq(verify_with(key, &bad), KK_ESTORE);
    ck_assert_int_eq(bad, 3);
    /* ... even when the meta claims the old unkeyed scheme: verify and
     * writes refuse, and the store is not silently re-chained. */
    sql_exec(dbpath, "UPDATE meta SET value = 'sha256-chain-v1' WHERE "
                     "name = 'audit_hash'");
    ck_assert_int_eq(verify_with(key, &bad), KK_ESTORE);
    ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM meta WHERE name "
                             "= 'audit_hash' AND value = "
                             "'sha256-chain-v1'"), 1);
    restore();
    randombytes_buf(fake, sizeof fake);
    rechain_from_3(fake); /* HMAC under a key of the forger's */
    ck_assert_int_eq(verify_with(key, &bad), KK_ESTORE);
    ck_assert_int_eq(bad, 3);
    restore();
    /* The real key re-chaining it is what verifies (test of the test). */
    {
        kk_store *s = open_store(dbpath, key);
        unsigned char k3[crypto_kdf_KEYBYTES];
        crypto_kdf_derive_from_key(k3, sizeof k3, KK_STORE_SUBKEY_AUDIT,
                                   KK_STORE_KDF_CONTEXT, kk_key__bytes(key));
        close_store(s);
        rechain_from_3(k3);
        sodium_memzero(k3, sizeof k3);
    }
    ck_assert_int_eq(verify_with(key, &bad), KK_OK);
}
END_TEST

/* A store written by an older kakou (unkeyed v1 chain) is refused with a
 * clear message until 'upgrade' re-chains it, which needs a v1 chain that
 * verifies. */
START_TEST(audit_v1_store_upgrade)
{
    kk_ctx *ctx = kk_ctx_new();
    unsigned char zero[32] = {0};
    int64_t bad = -1;

    six_rows();
    /* Make it look like a v1 store: re-chain everything unkeyed. */
    sql_exec(dbpath, "UPDATE audit SET prev_hash = (SELECT prev_hash FROM "
                     "keep WHERE id = 1) WHERE id = 1;"
                     "UPDATE meta SET value = 'sha256-chain-v1' WHERE name "
                     "= 'audit_hash'; DELETE FROM meta WHERE name = "
                     "'audit_key_id'");
    {
        sqlite3 *db = NULL;
        sqlite3_stmt *q = NULL;
        unsigned char prev[32];
        char hex[KK_STORE_HASH_HEX], ph[KK_STORE_HASH_HEX], sql[300];
        size_t n;
        memcpy(prev, zero, 32);
        ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
        for (int id = 1; id <= 6; id++) {
            const char *c[KK_AC_COUNT];
            snprintf(sql, sizeof sql, "SELECT run_id, time, operator, "
                     "profile_name, profile_version, profile_digest, "
                     "input_digest, output_digest, sop_instance_uid, status,"
                     " subject, origin FROM audit WHERE id = %d", id);
            ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &q, NULL),
                             SQLITE_OK);
            ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
            for (int i = 0; i < KK_AC_COUNT; i++)
                c[i] = (const char *)sqlite3_column_text(q, i);
            kk_store__audit_hash(NULL, prev, id, c, hex);
            sqlite3_finalize(q);
            sodium_bin2hex(ph, sizeof ph, prev, 32);
            snprintf(sql, sizeof sql, "UPDATE audit SET prev_hash = '%s', "
                     "row_hash = '%s' WHERE id = %d", ph, hex, id);
            ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL),
                             SQLITE_OK);
            sodium_hex2bin(prev, 32, hex, 64, NULL, &n, NULL);
        }
        snprintf(sql, sizeof sql, "UPDATE meta SET value = '6:%s' WHERE "
                 "name = 'audit_head'", hex);
        ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
    }
    sql_exec(dbpath, "DELETE FROM keep; INSERT INTO keep SELECT * FROM "
                     "audit; DELETE FROM keepmeta; INSERT INTO keepmeta "
                     "SELECT * FROM meta");
    kk_store *s = open_store(dbpath, key);
    ck_assert_int_eq(kk_store_verify(s, ctx, &bad), KK_ESTORE);
    ck_assert_ptr_nonnull(strstr(kk_error_message(ctx), "kakou db upgrade"));
    close_store(s);
    /* A v1 log that does not verify is not upgraded. */
    sql_exec(dbpath, "UPDATE audit SET status = 'failed' WHERE id = 2");
    s = open_store(dbpath, key);
    ck_assert_int_eq(kk_store_upgrade_audit(s, ctx), KK_ESTORE);
    ck_assert_ptr_nonnull(strstr(kk_error_message(ctx), "row 2"));
    close_store(s);
    restore();
    s = open_store(dbpath, key);
    ck_assert_msg(kk_store_upgrade_audit(s, ctx) == KK_OK, "%s",
                  kk_error_message(ctx));
    ck_assert_int_eq(kk_store_verify(s, ctx, &bad), KK_OK);
    ck_assert_int_eq(kk_store_upgrade_audit(s, ctx), KK_EINVAL);
    close_store(s);
    ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM audit WHERE "
                             "status = 'upgrade' AND id = 7"), 1);
    ck_assert_int_eq(verify_with(key, &bad), KK_OK);
    kk_ctx_free(ctx);
}
END_TEST

/* Done means an output recorded under the same input, profile and key
 * (one table with the claims): not an "ok" audit row alone, not another
 * profile's output, not another key's. */
static void commit_done(kk_store *s, const char *digest, const char *profile)
{
    kk_audit_entry e = {"pseudo", "1.0", profile, digest, "0f0f", "2.25.1234", "ok"};
    kk_store_output o = { "a/b/c.dcm", 42, "0f0f", "1:2" };
    kk_ctx *ctx = kk_ctx_new();
    ck_assert_msg(kk_store_commit_output(s, ctx, digest, profile, &e, &o) == KK_OK,
                  "commit: %s", kk_error_message(ctx));
    kk_ctx_free(ctx);
}

START_TEST(resume_input_done)
{
    kk_store *s = open_store(dbpath, key);
    kk_key *other = NULL;

    ck_assert_int_eq(kk_store_input_done(s, "aaaa", "d0d0"), 0);
    commit_done(s, "aaaa", "d0d0");
    audit(s, "bbbb", "ok"); /* an audit row records no output */
    audit(s, "cccc", "failed");
    ck_assert_int_eq(kk_store_input_done(s, "aaaa", "d0d0"), 1);
    ck_assert_int_eq(kk_store_input_done(s, "aaaa", "d1d1"), 0); /* another profile */
    ck_assert_int_eq(kk_store_input_done(s, "bbbb", "d0d0"), 0);
    close_store(s);
    s = open_store(dbpath, key);
    ck_assert_int_eq(kk_store_input_done(s, "aaaa", "d0d0"), 1); /* committed */
    ck_assert_int_eq(kk_store_input_done(s, "bbbb", "d0d0"), 0);
    ck_assert_int_eq(kk_store_input_done(s, "cccc", "d0d0"), 0);
    ck_assert_int_eq(kk_store_input_done(s, "aaaa", NULL), 0);
    ck_assert_int_eq(kk_store_input_done(NULL, "cccc", "d0d0"), 0);
    close_store(s);
    /* another key: not done (R23, a rotated key does the inputs again) */
    ck_assert_int_eq(kk_key_new_ephemeral(&other, NULL), KK_OK);
    s = open_store(dbpath, other);
    ck_assert_int_eq(kk_store_input_done(s, "aaaa", "d0d0"), 0);
    close_store(s);
    kk_key_free(other);
}
END_TEST

/* A schema 2 store (inputs keyed by input digest alone) is migrated:
 * its rows get the profile of the audit row that wrote their output and
 * the store's one key, so they stay done under those only. */
START_TEST(migrates_inputs_from_schema_2)
{
    kk_store *s = open_store(dbpath, key);
    commit_done(s, "aaaa", "d0d0");
    close_store(s);
    sql_exec(dbpath, "CREATE TABLE old(input_digest TEXT PRIMARY KEY, run_id TEXT NOT NULL,"
                     " owner TEXT NOT NULL, claimed INTEGER NOT NULL, output_folder TEXT,"
                     " output_path TEXT, output_size INTEGER, output_digest TEXT) WITHOUT ROWID;"
                     "INSERT INTO old SELECT input_digest, run_id, owner, claimed, output_folder,"
                     " output_path, output_size, output_digest FROM inputs;"
                     "DROP TABLE inputs; ALTER TABLE old RENAME TO inputs;"
                     "PRAGMA user_version = 2;");
    s = open_store(dbpath, key);
    ck_assert_int_eq(sql_int(dbpath, "PRAGMA user_version"), KK_STORE_SCHEMA_VERSION);
    ck_assert_int_eq(kk_store_input_done(s, "aaaa", "d0d0"), 1);
    ck_assert_int_eq(kk_store_input_done(s, "aaaa", "d1d1"), 0);
    close_store(s);
}
END_TEST

/* ---- concurrency ------------------------------------------------------ */

typedef struct worker {
    kk_store *s;
    int id;
    int failures;
} worker;

#define THREADS 4
#define PER_THREAD 1500

static void *thread_main(void *arg)
{
    worker *w = arg;
    kk_ctx *ctx = kk_ctx_new();
    char uid[64], orig[64], pn[32];

    for (int i = 0; i < PER_THREAD; i++) {
        /* Half shared by every thread, half its own. */
        int n = i % 2 ? i : w->id * 100000 + i;
        snprintf(uid, sizeof uid, "2.25.%d", n);
        snprintf(orig, sizeof orig, "1.2.392.%d", n);
        if (kk_store__record_uid(w->s, ctx, uid, orig) != KK_OK)
            w->failures++;
        snprintf(pn, sizeof pn, "P%d", n);
        if (kk_store__record_pseudonym(w->s, ctx, "patient", pn, orig,
                                       strlen(orig)) != KK_OK)
            w->failures++;
        if (i % 10 == 0) {
            snprintf(pn, sizeof pn, "t%d-%d", w->id, i);
            kk_audit_entry e = {"p", "1", "x", pn, NULL, NULL, "ok"};
            if (kk_store_audit(w->s, ctx, &e) != KK_OK)
                w->failures++;
        }
    }
    kk_ctx_free(ctx);
    return NULL;
}

static long long expected_distinct(int workers)
{
    /* Odd i are shared: PER_THREAD/2; even i are per worker. */
    return PER_THREAD / 2 + (long long)workers * (PER_THREAD / 2);
}

/* ---- claims (kk_store_claim_input, kk_store_commit_output) ----------- */

static int present_yes(void *payload, const kk_store_output *rec)
{
    (void)payload;
    return strcmp(rec->path, "a/b/c.dcm") == 0 && rec->size == 42 &&
           strcmp(rec->digest, "0f0f") == 0;
}

static int present_no(void *payload, const kk_store_output *rec)
{
    (void)payload;
    (void)rec;
    return 0;
}

static kk_store_claim claim_as(kk_store *s, const char *digest, const char *profile,
                               const char *folder, kk_store_present_fn fn)
{
    kk_ctx *ctx = kk_ctx_new();
    kk_store_claim c = (kk_store_claim)-1;
    kk_store_output rec;
    ck_assert_msg(kk_store_claim_input(s, ctx, digest, profile, folder, fn, NULL, &c, &rec) ==
                      KK_OK,
                  "claim: %s", kk_error_message(ctx));
    kk_ctx_free(ctx);
    return c;
}

static kk_store_claim claim(kk_store *s, const char *digest, const char *folder,
                            kk_store_present_fn fn)
{
    return claim_as(s, digest, "d0d0", folder, fn);
}

START_TEST(claims)
{
    kk_store *a = open_store(dbpath, key), *b = open_store(dbpath, key);
    kk_ctx *ctx = kk_ctx_new();
    /* a claims x; b, another run alive in this very process, finds it busy */
    ck_assert_int_eq(claim(a, "x", "1:2", present_no), KK_CLAIM_MINE);
    ck_assert_int_eq(claim(b, "x", "1:2", present_no), KK_CLAIM_BUSY);
    ck_assert_int_eq(claim(a, "x", "1:2", present_no), KK_CLAIM_MINE); /* its own again */
    /* a's output is committed with its audit row and rows pending */
    ck_assert_int_eq(kk_store__record_uid(a, ctx, "2.25.77", "1.2.3.77"), KK_OK);
    kk_audit_entry e = { "pseudo", "1.0", "d0d0", "x", "0f0f", "2.25.77", "ok" };
    kk_store_output o = { "a/b/c.dcm", 42, "0f0f", "1:2" };
    ck_assert_int_eq(kk_store_commit_output(a, ctx, "x", "d0d0", &e, &o), KK_OK);
    ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM uids WHERE new_uid='2.25.77'"), 1);
    ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM audit WHERE input_digest='x' AND "
                             "status='ok' AND output_digest='0f0f'"), 1);
    ck_assert_int_eq(sql_int(dbpath, "SELECT output_size FROM inputs WHERE input_digest='x'"), 42);
    /* done before only where the output is; absent in the same folder
     * while a lives: about to appear, busy; in another folder: b's again */
    ck_assert_int_eq(claim(b, "x", "1:2", present_yes), KK_CLAIM_DONE);
    /* another profile (or options): its output is not there, whatever
     * present() finds under the recorded name (issue 19) */
    ck_assert_int_eq(claim_as(b, "x", "d1d1", "1:2", present_yes), KK_CLAIM_MINE);
    ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM inputs WHERE input_digest='x'"), 2);
    {
        /* another key: the same (R23) */
        kk_key *other = NULL;
        ck_assert_int_eq(kk_key_new_ephemeral(&other, NULL), KK_OK);
        kk_store *c = open_store(dbpath, other);
        ck_assert_int_eq(claim(c, "x", "1:2", present_yes), KK_CLAIM_MINE);
        close_store(c);
        kk_key_free(other);
    }
    ck_assert_int_eq(claim(b, "x", "1:2", present_no), KK_CLAIM_BUSY);
    ck_assert_int_eq(claim(b, "x", "9:9", present_no), KK_CLAIM_MINE);
    {
        char q[300];
        snprintf(q, sizeof q, "SELECT count(*) FROM inputs WHERE input_digest='x' AND "
                 "profile_digest='d0d0' AND key_id='%s' AND output_path IS NULL", kk_key_id(key));
        ck_assert_int_eq(sql_int(dbpath, q), 1);
    }
    /* a claim by a process that is gone is taken over */
    ck_assert_int_eq(claim(a, "y", "1:2", present_no), KK_CLAIM_MINE);
    sql_exec(dbpath, "UPDATE inputs SET owner = substr(owner, 1, instr(substr(owner, "
                     "instr(owner, ' ') + 1), ' ') + instr(owner, ' ')) || '2147483646 12345', "
                     "run_id = 'dead' WHERE input_digest = 'y'");
    ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM inputs WHERE owner LIKE "
                             "'% 2147483646 12345'"), 1);
    ck_assert_int_eq(claim(b, "y", "1:2", present_no), KK_CLAIM_MINE);
    /* from another machine: held for an hour, then taken over */
    sql_exec(dbpath, "UPDATE inputs SET owner = 'elsewhere - 1 1', run_id = 'far', "
                     "claimed = strftime('%s','now') WHERE input_digest = 'y'");
    ck_assert_int_eq(claim(a, "y", "1:2", present_no), KK_CLAIM_BUSY);
    sql_exec(dbpath, "UPDATE inputs SET claimed = strftime('%s','now') - 7200 "
                     "WHERE input_digest = 'y'");
    ck_assert_int_eq(claim(a, "y", "1:2", present_no), KK_CLAIM_MINE);
    kk_ctx_free(ctx);
    close_store(a);
    close_store(b);
}
END_TEST

START_TEST(threads_lose_nothing)
{
    kk_store *s = open_store(dbpath, key);
    pthread_t t[THREADS];
    worker w[THREADS];
    int64_t bad;

    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){s, i + 1, 0};
        ck_assert_int_eq(pthread_create(&t[i], NULL, thread_main, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(w[i].failures, 0);
    }
    ck_assert_int_eq(kk_store_verify(s, NULL, &bad), KK_OK);
    close_store(s);
    ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM uids"),
                     expected_distinct(THREADS));
    ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM pseudonyms"),
                     expected_distinct(THREADS));
    ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM audit"),
                     THREADS * (PER_THREAD / 10));
}
END_TEST

START_TEST(processes_lose_nothing)
{
    pid_t pids[THREADS];
    kk_store *s;
    int64_t bad;

    /* Create the file first, as a run would. */
    s = open_store(dbpath, key);
    close_store(s);
    for (int i = 0; i < THREADS; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            kk_store *cs = NULL;
            kk_ctx *ctx = kk_ctx_new();
            worker w;
            if (kk_store_open(&cs, ctx, dbpath, key) != KK_OK) {
                fprintf(stderr, "child open: %s\n", kk_error_message(ctx));
                _exit(2);
            }
            w = (worker){cs, i + 1, 0};
            thread_main(&w);
            if (kk_store_close(cs, ctx) != KK_OK) {
                fprintf(stderr, "child close: %s\n", kk_error_message(ctx));
                _exit(3);
            }
            kk_ctx_free(ctx);
            _exit(w.failures ? 1 : 0);
        }
    }
    for (int i = 0; i < THREADS; i++) {
        int status = 0;
        ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
        ck_assert(WIFEXITED(status));
        ck_assert_int_eq(WEXITSTATUS(status), 0);
    }
    ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM uids"),
                     expected_distinct(THREADS));
    ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM pseudonyms"),
                     expected_distinct(THREADS));
    ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM audit"),
                     THREADS * (PER_THREAD / 10));
    ck_assert_int_eq(sql_int(dbpath, "SELECT count(DISTINCT input_digest) "
                             "FROM audit"), THREADS * (PER_THREAD / 10));
    s = open_store(dbpath, key);
    ck_assert_int_eq(kk_store_verify(s, NULL, &bad), KK_OK);
    char *orig = NULL;
    ck_assert_int_eq(kk_store_lookup_uid(s, NULL, "2.25.300002", &orig),
                     KK_OK);
    ck_assert_str_eq(orig, "1.2.392.300002");
    kk_free(orig);
    close_store(s);
}
END_TEST

/* The same, made certain: another process holds a write lock (RESERVED,
 * BEGIN IMMEDIATE) on the new file for 1.5 s while the store is opened.
 * The opener's WAL switch reads the file (allowed beside RESERVED), then
 * cannot upgrade its read to a write, and SQLite answers that BUSY at once,
 * without the busy handler (a reader waiting for a writer could deadlock):
 * the opener must wait itself. (An EXCLUSIVE holder is no test of it: the
 * opener's read then waits in the busy handler, and its switch succeeds
 * after, so the 150-round race above was the only kill, and a loaded
 * machine did not meet it in three runs.) */
START_TEST(open_waits_for_a_locked_new_store)
{
    char wal[320], shm[320];
    snprintf(wal, sizeof wal, "%s-wal", dbpath);
    snprintf(shm, sizeof shm, "%s-shm", dbpath);
    unlink(dbpath);
    unlink(wal);
    unlink(shm);
    int ready[2];
    ck_assert_int_eq(pipe(ready), 0);
    /* the holder is another process (SQLite's locks are per process:
     * a connection inherited through fork() would hold the opener too) */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        sqlite3 *db = NULL;
        int ok = sqlite3_open(dbpath, &db) == SQLITE_OK &&
                 sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) ==
                     SQLITE_OK;
        if (write(ready[1], ok ? "1" : "0", 1) != 1)
            _exit(3);
        /* far longer than the opener takes to reach its WAL switch, on a
         * loaded machine too */
        usleep(1500 * 1000);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(db);
        _exit(ok ? 0 : 2);
    }
    char c = 0;
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
    ck_assert_int_eq(c, '1');
    kk_ctx *ctx = kk_ctx_new();
    kk_store *s = NULL;
    kk_status st = kk_store_open(&s, ctx, dbpath, key);
    ck_assert_msg(st == KK_OK, "the opener failed while the file was locked: %s",
                  kk_error_message(ctx));
    ck_assert_int_eq(kk_store_close(s, ctx), KK_OK);
    kk_ctx_free(ctx);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(ready[0]);
    close(ready[1]);
}
END_TEST

/* Runs started together on a store that does not exist yet: each one
 * creates, switches to WAL and migrates the same new file. SQLite answers
 * the WAL switch BUSY without waiting, so every opener must wait itself
 * (a second "kakou deid" on a new store once failed here, exit 2). */
START_TEST(processes_open_a_new_store_together)
{
    enum { ROUNDS = 150, OPENERS = 6 };
    char wal[320], shm[320];
    snprintf(wal, sizeof wal, "%s-wal", dbpath);
    snprintf(shm, sizeof shm, "%s-shm", dbpath);
    for (int r = 0; r < ROUNDS; r++) {
        pid_t pids[OPENERS];
        unlink(dbpath);
        unlink(wal);
        unlink(shm);
        for (int i = 0; i < OPENERS; i++) {
            pids[i] = fork();
            ck_assert_int_ge(pids[i], 0);
            if (pids[i] == 0) {
                kk_store *cs = NULL;
                kk_ctx *ctx = kk_ctx_new();
                if (kk_store_open(&cs, ctx, dbpath, key) != KK_OK) {
                    fprintf(stderr, "round %d, opener %d: %s\n", r, i,
                            kk_error_message(ctx));
                    _exit(2);
                }
                _exit(kk_store_close(cs, ctx) == KK_OK ? 0 : 3);
            }
        }
        for (int i = 0; i < OPENERS; i++) {
            int status = 0;
            ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
            ck_assert(WIFEXITED(status));
            ck_assert_msg(WEXITSTATUS(status) == 0,
                          "round %d: opener %d exited %d", r, i,
                          WEXITSTATUS(status));
        }
        ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM sqlite_master "
                                 "WHERE name IN ('audit', 'uids', 'inputs')"), 3);
    }
}
END_TEST

/* ---- export and merge ------------------------------------------------- */

START_TEST(export_map_csv)
{
    kk_ctx *ctx = kk_ctx_new();
    kk_store *s = open_store(dbpath, key);
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);

    ck_assert_int_eq(kk_store__record_uid(s, ctx, "2.25.2", "1.2.3.2"), KK_OK);
    ck_assert_int_eq(kk_store__record_uid(s, ctx, "2.25.1", "1.2.3.1"), KK_OK);
    ck_assert_int_eq(kk_store__record_pseudonym(s, ctx, "patient", "P9",
                                                "Doe, \"J\"", 8), KK_OK);
    ck_assert_int_eq(kk_store_export_map(s, ctx, fp), KK_OK);
    fclose(fp);
    ck_assert_str_eq(buf, "id_old,id_new\n"
                          "1.2.3.1,2.25.1\n"
                          "1.2.3.2,2.25.2\n"
                          "\"Doe, \"\"J\"\"\",P9\n");
    free(buf);
    close_store(s);
    ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM audit WHERE "
                             "status = 'export'"), 1);
    /* Under another key: refused, nothing written. */
    kk_key *other = NULL;
    ck_assert_int_eq(kk_key_new_ephemeral(&other, NULL), KK_OK);
    s = open_store(dbpath, other);
    fp = open_memstream(&buf, &len);
    ck_assert_int_eq(kk_store_export_map(s, ctx, fp), KK_EKEY);
    fclose(fp);
    ck_assert_str_eq(buf, "");
    free(buf);
    close_store(s);
    kk_key_free(other);
    kk_ctx_free(ctx);
}
END_TEST

static void make_src(const char *path, const char *const *uids,
                     const char *const *origs, int n, const char *digest)
{
    kk_store *s = open_store(path, key);
    kk_ctx *ctx = kk_ctx_new();
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(kk_store__record_uid(s, ctx, uids[i], origs[i]),
                         KK_OK);
    ck_assert_int_eq(kk_store__record_pseudonym(s, ctx, "patient", "PX",
                                                "same", 4), KK_OK);
    commit_done(s, digest, "d0d0");
    close_store(s);
    kk_ctx_free(ctx);
}

START_TEST(merge_without_conflict)
{
    static const char *const ua[] = {"2.25.1", "2.25.2"};
    static const char *const oa[] = {"1.1", "1.2"};
    static const char *const ub[] = {"2.25.2", "2.25.3"};
    static const char *const ob[] = {"1.2", "1.3"};
    char a[400], b[400], out[400];
    kk_ctx *ctx = kk_ctx_new();
    kk_store *s;
    int64_t bad;
    char *orig = NULL;

    snprintf(a, sizeof a, "%s/a.db", dir);
    snprintf(b, sizeof b, "%s/b.db", dir);
    snprintf(out, sizeof out, "%s/out.db", dir);
    make_src(a, ua, oa, 2, "aaaa");
    make_src(b, ub, ob, 2, "bbbb");
    s = open_store(out, key);
    ck_assert_int_eq(kk_store_merge(s, ctx, a), KK_OK);
    ck_assert_msg(kk_store_merge(s, ctx, b) == KK_OK, "%s",
                  kk_error_message(ctx));
    ck_assert_int_eq(kk_store_verify(s, ctx, &bad), KK_OK);
    /* Merging again adds only the merge row itself. */
    ck_assert_int_eq(kk_store_merge(s, ctx, a), KK_OK);
    ck_assert_int_eq(kk_store_merge(s, ctx, out), KK_EINVAL);
    close_store(s);
    ck_assert_int_eq(sql_int(out, "SELECT count(*) FROM uids"), 3);
    ck_assert_int_eq(sql_int(out, "SELECT count(*) FROM pseudonyms"), 1);
    ck_assert_int_eq(sql_int(out, "SELECT count(*) FROM audit WHERE "
                             "origin IS NOT NULL"), 2);
    ck_assert_int_eq(sql_int(out, "SELECT count(*) FROM audit WHERE "
                             "status = 'merge'"), 3);
    ck_assert_int_eq(sql_int(out, "SELECT count(*) FROM audit WHERE "
                             "input_digest = 'bbbb' AND status = 'ok'"), 1);
    s = open_store(out, key);
    ck_assert_int_eq(kk_store_lookup_uid(s, ctx, "2.25.3", &orig), KK_OK);
    ck_assert_str_eq(orig, "1.3");
    kk_free(orig);
    ck_assert_int_eq(kk_store_input_done(s, "aaaa", "d0d0"), 1); /* inputs merged */
    ck_assert_int_eq(kk_store_verify(s, ctx, &bad), KK_OK);
    close_store(s);
    kk_ctx_free(ctx);
}
END_TEST

START_TEST(merge_with_conflict)
{
    static const char *const ua[] = {"2.25.1", "2.25.2"};
    static const char *const oa[] = {"1.1", "1.2"};
    static const char *const ub[] = {"2.25.2"};
    static const char *const ob[] = {"9.9"}; /* differs from a */
    char a[400], b[400], out[400];
    kk_ctx *ctx = kk_ctx_new();
    kk_store *s;
    int64_t bad;

    snprintf(a, sizeof a, "%s/a.db", dir);
    snprintf(b, sizeof b, "%s/b.db", dir);
    snprintf(out, sizeof out, "%s/out.db", dir);
    make_src(a, ua, oa, 2, "aaaa");
    make_src(b, ub, ob, 1, "bbbb");
    s = open_store(out, key);
    ck_assert_int_eq(kk_store_merge(s, ctx, a), KK_OK);
    ck_assert_int_eq(kk_store_merge(s, ctx, b), KK_ESTORE);
    ck_assert_ptr_nonnull(strstr(kk_error_message(ctx), "2.25.2"));
    ck_assert_int_eq(kk_store_verify(s, ctx, &bad), KK_OK);
    close_store(s);
    /* Nothing of b went in. */
    ck_assert_int_eq(sql_int(out, "SELECT count(*) FROM uids"), 2);
    ck_assert_int_eq(sql_int(out, "SELECT count(*) FROM audit WHERE "
                             "input_digest = 'bbbb'"), 0);

    /* A tampered source is refused. */
    sql_exec(b, "UPDATE audit SET status = 'x' WHERE id = 1");
    sql_exec(b, "DELETE FROM uids");
    s = open_store(out, key);
    ck_assert_int_eq(kk_store_merge(s, ctx, b), KK_ESTORE);
    ck_assert_ptr_nonnull(strstr(kk_error_message(ctx), "refusing"));
    close_store(s);
    kk_ctx_free(ctx);
}
END_TEST

Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc;

    tc = tcase_create("mappings");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, same_pseudonym_in_two_domains);
    tcase_add_test(tc, db_bytes_hold_no_original);
    tcase_add_test(tc, dedupe_and_collision);
    tcase_add_test(tc, moved_ciphertext_refused);
    tcase_add_test(tc, refuses_bad_files);
    suite_add_tcase(s, tc);

    tc = tcase_create("audit");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, audit_chain_verifies_and_detects_tamper);
    tcase_add_test(tc, audit_rechained_without_key_detected);
    tcase_add_test(tc, audit_v1_store_upgrade);
    tcase_add_test(tc, resume_input_done);
    tcase_add_test(tc, migrates_inputs_from_schema_2);
    suite_add_tcase(s, tc);

    tc = tcase_create("concurrency");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, threads_lose_nothing);
    tcase_add_test(tc, claims);
    tcase_add_test(tc, processes_lose_nothing);
    tcase_add_test(tc, processes_open_a_new_store_together);
    tcase_add_test(tc, open_waits_for_a_locked_new_store);
    suite_add_tcase(s, tc);

    tc = tcase_create("export_merge");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, export_map_csv);
    tcase_add_test(tc, merge_without_conflict);
    tcase_add_test(tc, merge_with_conflict);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(store_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
