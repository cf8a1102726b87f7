/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/store/store.c - the SQLite store: opening and migrating the file,
 * the encrypted correspondence tables (pseudonyms, uids), batching,
 * re-identification lookups and the CSV map export.
 * The audit chain and verification are in audit.c, merging in merge.c.
 *
 * Design.
 *  - File: refused unless it is (or is created as, mode 0600) a regular
 *    file. WAL, synchronous=FULL, busy_timeout 10 s, foreign_keys and
 *    secure_delete on. PRAGMA application_id "kkst" marks a kakou store;
 *    PRAGMA user_version is the schema version, mirrored in meta, and
 *    migrations[] brings an older file up to date inside one IMMEDIATE
 *    transaction (safe when several processes open it at once). A file
 *    from a newer kakou is refused.
 *  - Encryption (R23, R24): subkeys come from the master key with
 *    crypto_kdf (context "kkstore1"): id 1 encrypts, id 2 keys the lookup
 *    column, id 3 keys the audit chain's HMAC (audit.c). Each original is stored as crypto_secretbox_easy(bind ||
 *    original) under a random 24-byte nonce, where bind = BLAKE2b-256 of
 *    the row's identity (kind, domain, pseudonym or new UID): a ciphertext
 *    moved to another row no longer decrypts to a valid row, so a lookup
 *    cannot be misled by swapping rows. The lookup column is
 *    HMAC-SHA-256(subkey 2, frame(kind) || frame(domain) ||
 *    frame(original)): equal originals in one domain under one key give
 *    equal values, so collisions and merges are decided without
 *    decrypting, and it reveals nothing without the key. Every row names
 *    the key id it was written under (foreign key into keys). The file
 *    alone holds no identifier.
 *  - Concurrency: one mutex per kk_store serializes every call; rows are
 *    buffered (ciphertext only - plaintext lives in locked scratch memory
 *    just long enough to encrypt) and committed in one BEGIN IMMEDIATE
 *    transaction every KK_STORE_BATCH rows or KK_STORE_BATCH_MS, and on
 *    flush/close/lookup/export/merge. Several processes may share the
 *    file: INSERT OR IGNORE dedupes, and a pseudonym whose stored lookup
 *    value differs is a collision (KK_EEXISTS), checked both when
 *    recording (against the file and the buffer) and again at commit.
 *  - Outputs: kk_store_commit_output() commits the pending rows with an
 *    object's "ok" audit row and where its output goes (table inputs), in
 *    one synced transaction, before the caller lets the output appear; a
 *    failed commit drops that audit row. kk_store_claim_input() claims an
 *    input under a profile digest and this store's key (schema 3: the
 *    three make the key of table inputs, so another profile, other
 *    options or a rotated key do the input again) for this run in one
 *    (unsynced) transaction: a claim held by a
 *    live run (same machine and boot: its PID with the same start time;
 *    another machine: KK_STORE_CLAIM_LEASE_S) makes the input busy, and a
 *    recorded output counts as done only when the caller finds it.
 *  - Dedupe cache: a hash set of rows already recorded (pending or
 *    committed) keeps repeated UIDs of a study from hitting the file.
 *
 * IMPLEMENTATION-OF: R07 (lookup writes an audit row before it answers),
 * R08 (UID map kept for pseudo runs), R23, R24 (separate file, encrypted
 * originals, 0600, secure_delete), R25 (via audit.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/core.h"
#include "crypto/key_internal.h"
#include "store/store_internal.h"

/* ---- schema ----------------------------------------------------------- */

static const char *const migrations[KK_STORE_SCHEMA_VERSION] = {
    /* 0 -> 1 */
    "CREATE TABLE meta(name TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE keys(key_id TEXT PRIMARY KEY, first_used TEXT NOT NULL,"
    "  retired TEXT);"
    "CREATE TABLE pseudonyms(domain TEXT NOT NULL, pseudonym TEXT NOT NULL,"
    "  key_id TEXT NOT NULL REFERENCES keys(key_id), lookup BLOB NOT NULL,"
    "  nonce BLOB NOT NULL, original_enc BLOB NOT NULL,"
    "  PRIMARY KEY(domain, pseudonym)) WITHOUT ROWID;"
    "CREATE INDEX pseudonyms_by_pseudonym ON pseudonyms(pseudonym);"
    "CREATE TABLE uids(new_uid TEXT PRIMARY KEY,"
    "  key_id TEXT NOT NULL REFERENCES keys(key_id), lookup BLOB NOT NULL,"
    "  nonce BLOB NOT NULL, original_enc BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE audit(id INTEGER PRIMARY KEY, run_id TEXT NOT NULL,"
    "  time TEXT NOT NULL, operator TEXT NOT NULL, profile_name TEXT,"
    "  profile_version TEXT, profile_digest TEXT, input_digest TEXT,"
    "  output_digest TEXT, sop_instance_uid TEXT, status TEXT NOT NULL,"
    "  subject TEXT, origin TEXT, prev_hash TEXT NOT NULL,"
    "  row_hash TEXT NOT NULL UNIQUE);"
    "CREATE INDEX audit_by_input ON audit(input_digest, status);"
    "CREATE INDEX audit_by_origin ON audit(origin);"
    "INSERT INTO meta(name, value) VALUES ('kdf_context', 'kkstore1'),"
    "  ('audit_hash', 'sha256-chain-v1');",
    /* 1 -> 2: inputs claimed by a run, and where their output went */
    "CREATE TABLE inputs(input_digest TEXT PRIMARY KEY, run_id TEXT NOT NULL,"
    "  owner TEXT NOT NULL, claimed INTEGER NOT NULL, output_folder TEXT,"
    "  output_path TEXT, output_size INTEGER, output_digest TEXT) WITHOUT ROWID;",
    /* 2 -> 3: an input is claimed, and done, under one profile digest (which
     * covers its options) and one key: another profile or a rotated key
     * does it again. Old rows get the profile of the audit row that wrote
     * their output, and the key when the store knows one only; a row left
     * with '' matches nothing, so at worst an input is done again. */
    "CREATE TABLE inputs3(input_digest TEXT NOT NULL, profile_digest TEXT NOT NULL,"
    "  key_id TEXT NOT NULL, run_id TEXT NOT NULL, owner TEXT NOT NULL,"
    "  claimed INTEGER NOT NULL, output_folder TEXT, output_path TEXT,"
    "  output_size INTEGER, output_digest TEXT,"
    "  PRIMARY KEY(input_digest, profile_digest, key_id)) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO inputs3 SELECT i.input_digest,"
    "  coalesce((SELECT a.profile_digest FROM audit a WHERE a.input_digest = i.input_digest"
    "    AND a.output_digest = i.output_digest AND a.status = 'ok'"
    "    AND a.profile_digest IS NOT NULL ORDER BY a.id DESC LIMIT 1), ''),"
    "  CASE WHEN (SELECT count(*) FROM keys) = 1 THEN (SELECT key_id FROM keys) ELSE '' END,"
    "  i.run_id, i.owner, i.claimed, i.output_folder, i.output_path, i.output_size,"
    "  i.output_digest FROM inputs i;"
    "DROP TABLE inputs;"
    "ALTER TABLE inputs3 RENAME TO inputs;",
};

/* ---- small helpers ---------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *kk_store__now(void)
{
    struct timespec ts;
    struct tm tm;
    char buf[96];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (long)(ts.tv_nsec / 1000000) % 1000);
    return kk__strdup(buf);
}

/* Another process holding the store past the busy timeout: say so, and
 * how long kakou waited, rather than SQLite's bare "database is locked". */
static kk_status busy_fail(kk_store *s, kk_ctx *ctx)
{
    return kk__fail(ctx, KK_ESTORE, "store '%s' is locked by another process (waited %d s); "
                    "try again when it is done", s->path, KK_STORE_BUSY_MS / 1000);
}

static bool is_busy(kk_store *s)
{
    int rc = sqlite3_errcode(s->db) & 0xff;
    return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

kk_status kk_store__sql_fail(kk_store *s, kk_ctx *ctx, const char *what)
{
    if (is_busy(s))
        return busy_fail(s, ctx);
    return kk__fail(ctx, KK_ESTORE, "store '%s': %s: %s", s->path, what,
                    sqlite3_errmsg(s->db));
}

kk_status kk_store__exec(kk_store *s, kk_ctx *ctx, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        if (is_busy(s)) {
            sqlite3_free(err);
            return busy_fail(s, ctx);
        }
        kk_status st = kk__fail(ctx, KK_ESTORE, "store '%s': %s", s->path,
                                err ? err : sqlite3_errmsg(s->db));
        sqlite3_free(err);
        return st;
    }
    return KK_OK;
}

static void frame(crypto_auth_hmacsha256_state *st, const void *p, size_t n)
{
    unsigned char le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)((uint64_t)n >> (8 * i));
    crypto_auth_hmacsha256_update(st, le, 8);
    if (n)
        crypto_auth_hmacsha256_update(st, p, n);
}

static void gframe(crypto_generichash_state *st, const void *p, size_t n)
{
    unsigned char le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)((uint64_t)n >> (8 * i));
    crypto_generichash_update(st, le, 8);
    if (n)
        crypto_generichash_update(st, p, n);
}

static const unsigned char *enc_key(const kk_store *s)
{
    return s->subkeys;
}

static const unsigned char *lookup_key(const kk_store *s)
{
    return s->subkeys + crypto_kdf_KEYBYTES;
}

static void lookup_value(const kk_store *s, char kind, const char *domain,
                         const void *orig, size_t len,
                         unsigned char out[KK_STORE_LOOKUP_BYTES])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, lookup_key(s), crypto_kdf_KEYBYTES);
    frame(&st, &kind, 1);
    frame(&st, domain ? domain : "", domain ? strlen(domain) : 0);
    frame(&st, orig, len);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

/* bind = BLAKE2b-256(frame(kind) || frame(domain) || frame(id)). */
static void bind_value(char kind, const char *domain, const char *id,
                       unsigned char out[KK_STORE_BIND_BYTES])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, (const unsigned char *)"kakou-row-bind",
                            14, KK_STORE_BIND_BYTES);
    gframe(&st, &kind, 1);
    gframe(&st, domain ? domain : "", domain ? strlen(domain) : 0);
    gframe(&st, id, strlen(id));
    crypto_generichash_final(&st, out, KK_STORE_BIND_BYTES);
}

/* Locked scratch of at least n bytes (under the mutex). */
static unsigned char *scratch(kk_store *s, size_t n)
{
    if (n > s->scratch_cap) {
        size_t cap = s->scratch_cap ? s->scratch_cap : 4096;
        while (cap < n)
            cap *= 2;
        unsigned char *p = sodium_malloc(cap);
        if (!p)
            return NULL;
        sodium_free(s->scratch);
        s->scratch = p;
        s->scratch_cap = cap;
    }
    return s->scratch;
}

/* ---- dedupe cache ----------------------------------------------------- */

/* The cache key: kind, domain, NUL, id. */
static char *seen_key(char kind, const char *domain, const char *id,
                      size_t *klen)
{
    size_t dl = domain ? strlen(domain) : 0, il = strlen(id);
    char *k = kk__malloc(1 + dl + 1 + il);
    if (!k)
        return NULL;
    k[0] = kind;
    if (dl)
        memcpy(k + 1, domain, dl);
    k[1 + dl] = '\0';
    memcpy(k + 2 + dl, id, il);
    *klen = 2 + dl + il;
    return k;
}

static kk_store_seen *seen_find(kk_store *s, const char *k, size_t klen)
{
    if (!s->capseen)
        return NULL;
    size_t mask = s->capseen - 1;
    for (size_t i = kk__fnv1a(KK_FNV1A_INIT, k, klen) & mask;; i = (i + 1) & mask) {
        kk_store_seen *e = &s->seen[i];
        if (!e->k)
            return NULL;
        if (e->klen == klen && memcmp(e->k, k, klen) == 0)
            return e;
    }
}

static void seen_clear(kk_store *s)
{
    for (size_t i = 0; i < s->capseen; i++)
        kk_free(s->seen[i].k);
    kk_free(s->seen);
    s->seen = NULL;
    s->nseen = s->capseen = 0;
}

/* Insert k (ownership moves in). Returns 0 when out of memory. */
static int seen_put(kk_store *s, char *k, size_t klen,
                    const unsigned char lk[KK_STORE_LOOKUP_BYTES])
{
    if ((s->nseen + 1) * 2 > s->capseen) {
        size_t cap = s->capseen ? s->capseen * 2 : 1024;
        kk_store_seen *t = kk__calloc(cap, sizeof *t);
        if (!t) {
            kk_free(k);
            return 0;
        }
        for (size_t i = 0; i < s->capseen; i++) {
            kk_store_seen *e = &s->seen[i];
            if (!e->k)
                continue;
            size_t j = kk__fnv1a(KK_FNV1A_INIT, e->k, e->klen) & (cap - 1);
            while (t[j].k)
                j = (j + 1) & (cap - 1);
            t[j] = *e;
        }
        kk_free(s->seen);
        s->seen = t;
        s->capseen = cap;
    }
    size_t mask = s->capseen - 1, i = kk__fnv1a(KK_FNV1A_INIT, k, klen) & mask;
    while (s->seen[i].k)
        i = (i + 1) & mask;
    s->seen[i].k = k;
    s->seen[i].klen = klen;
    memcpy(s->seen[i].lookup, lk, KK_STORE_LOOKUP_BYTES);
    s->nseen++;
    return 1;
}

/* ---- open and close --------------------------------------------------- */

static kk_status pragma_int(kk_store *s, kk_ctx *ctx, const char *sql,
                            int *out)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return kk_store__sql_fail(s, ctx, "cannot read the schema");
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        if (rc == SQLITE_NOTADB)
            return kk__fail(ctx, KK_ESTORE, "'%s' is not a kakou store",
                            s->path);
        return kk_store__sql_fail(s, ctx, "cannot read the schema");
    }
    return KK_OK;
}

static kk_status migrate(kk_store *s, kk_ctx *ctx)
{
    int version = 0, app = 0, tables = 0;
    kk_status st;

    st = kk_store__exec(s, ctx, "BEGIN IMMEDIATE");
    if (st != KK_OK) {
        if (sqlite3_errcode(s->db) == SQLITE_NOTADB)
            return kk__fail(ctx, KK_ESTORE, "'%s' is not a kakou store",
                            s->path);
        return st;
    }
    if ((st = pragma_int(s, ctx, "PRAGMA user_version", &version)) ||
        (st = pragma_int(s, ctx, "PRAGMA application_id", &app)) ||
        (st = pragma_int(s, ctx, "SELECT count(*) FROM sqlite_master",
                         &tables)))
        goto fail;
    if (app != KK_STORE_APP_ID && (app != 0 || tables != 0)) {
        st = kk__fail(ctx, KK_ESTORE, "'%s' is not a kakou store", s->path);
        goto fail;
    }
    if (version > KK_STORE_SCHEMA_VERSION) {
        st = kk__fail(ctx, KK_ESTORE,
                      "store '%s' has schema version %d; this kakou knows "
                      "up to %d: upgrade kakou", s->path, version,
                      KK_STORE_SCHEMA_VERSION);
        goto fail;
    }
    for (int v = version; v < KK_STORE_SCHEMA_VERSION; v++) {
        char sql[160];
        if ((st = kk_store__exec(s, ctx, migrations[v])) != KK_OK)
            goto fail;
        snprintf(sql, sizeof sql,
                 "PRAGMA user_version = %d; PRAGMA application_id = %d;"
                 "INSERT OR REPLACE INTO meta(name, value) VALUES "
                 "('schema_version', '%d');",
                 v + 1, KK_STORE_APP_ID, v + 1);
        if ((st = kk_store__exec(s, ctx, sql)) != KK_OK)
            goto fail;
    }
    return kk_store__exec(s, ctx, "COMMIT");
fail:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return st;
}

static void set_operator(kk_store *s)
{
    struct passwd pw, *res = NULL;
    char buf[4096];
    if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &res) == 0 && res &&
        res->pw_name && *res->pw_name)
        snprintf(s->operator_name, sizeof s->operator_name, "%s",
                 res->pw_name);
    else
        snprintf(s->operator_name, sizeof s->operator_name, "uid:%lu",
                 (unsigned long)geteuid());
}

static kk_status check_file(kk_ctx *ctx, const char *path)
{
    struct stat sb;
    if (stat(path, &sb) == 0) {
        if (!S_ISREG(sb.st_mode))
            return kk__fail(ctx, KK_ESTORE,
                            "store '%s' is not a regular file", path);
        return KK_OK;
    }
    if (errno != ENOENT)
        return kk__fail(ctx, KK_ESTORE, "cannot open store '%s': %s", path,
                        strerror(errno));
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  0600);
    if (fd < 0) {
        if (errno == EEXIST) /* another process created it just now */
            return check_file(ctx, path);
        return kk__fail(ctx, KK_ESTORE, "cannot create store '%s': %s",
                        path, strerror(errno));
    }
    close(fd);
    return KK_OK;
}

kk_status kk_store_open(kk_store **out, kk_ctx *ctx, const char *path,
                        const kk_key *key)
{
    kk_store *s = NULL;
    kk_status st;
    unsigned char rid[16];
    struct stat sb;
    int rc;

    if (!out)
        return kk__fail(ctx, KK_EINVAL, "kk_store_open: out is NULL");
    *out = NULL;
    if (!path || !*path)
        return kk__fail(ctx, KK_EINVAL, "no store file name given");
    if ((st = kk_crypto__init(ctx)) != KK_OK)
        return st;
    if ((st = check_file(ctx, path)) != KK_OK)
        return st;
    {
        char why[256];
        if (kk_store__why_readonly(path, why, sizeof why))
            return kk__fail(ctx, KK_ESTORE, "store '%s' is read-only: %s. kakou records in a "
                            "store (a lookup too, R07); 'kakou db verify' reads a read-only one",
                            path, why);
    }

    s = kk__calloc(1, sizeof *s);
    if (!s || !(s->path = kk__strdup(path))) {
        kk_free(s);
        return kk__fail(ctx, KK_ENOMEM, "out of memory opening a store");
    }
    pthread_mutex_init(&s->mu, NULL);
    s->key = key;
    /* URI names are on (merge attaches its source read-only by URI), so a
     * plain path that looks like one is made relative. */
    {
        kk_buf pb = KK_BUF_INIT;
        if (strncmp(path, "file:", 5) == 0)
            kk__buf_adds(&pb, "./");
        kk__buf_adds(&pb, path);
        rc = pb.failed ? SQLITE_NOMEM
                       : sqlite3_open_v2(pb.data, &s->db,
                                         SQLITE_OPEN_READWRITE |
                                         SQLITE_OPEN_FULLMUTEX |
                                         SQLITE_OPEN_URI, NULL);
        kk__buf_free(&pb);
    }
    if (rc != SQLITE_OK) {
        st = s->db ? kk_store__sql_fail(s, ctx, "cannot open")
                   : kk__fail(ctx, KK_ENOMEM, "out of memory opening '%s'",
                              path);
        goto fail;
    }
    /* The file sqlite opened must still be a regular file. */
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = kk__fail(ctx, KK_ESTORE, "store '%s' is not a regular file",
                      path);
        goto fail;
    }
    sqlite3_busy_timeout(s->db, KK_STORE_BUSY_MS);
    sqlite3_extended_result_codes(s->db, 0);
    {
        /* Switching a new file to WAL needs it to itself, and SQLite
         * answers BUSY at once there, without the busy handler: two runs
         * that open one new store together wait for each other here. */
        int wal = 0;
        int64_t until = now_ms() + KK_STORE_BUSY_MS;
        for (;;) {
            sqlite3_stmt *q = NULL;
            if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &q,
                                   NULL) == SQLITE_OK &&
                sqlite3_step(q) == SQLITE_ROW) {
                const char *m = (const char *)sqlite3_column_text(q, 0);
                wal = m && strcmp(m, "wal") == 0;
            }
            rc = sqlite3_errcode(s->db);
            sqlite3_finalize(q);
            if (wal || (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) ||
                now_ms() >= until)
                break;
            sqlite3_sleep(20);
        }
        if (!wal) {
            if (rc == SQLITE_NOTADB)
                st = kk__fail(ctx, KK_ESTORE, "'%s' is not a kakou store",
                              path);
            else
                st = kk_store__sql_fail(s, ctx, "cannot enable WAL");
            goto fail;
        }
    }
    if ((st = kk_store__exec(s, ctx,
                             "PRAGMA foreign_keys=ON;"
                             "PRAGMA synchronous=FULL;"
                             "PRAGMA secure_delete=ON;")) != KK_OK)
        goto fail;
    if ((st = migrate(s, ctx)) != KK_OK)
        goto fail;

    if (key) {
        s->subkeys = sodium_malloc(KK_STORE_NSUBKEYS * crypto_kdf_KEYBYTES);
        if (!s->subkeys) {
            st = kk__fail(ctx, KK_ENOMEM,
                          "cannot allocate locked memory for store keys");
            goto fail;
        }
        crypto_kdf_derive_from_key(s->subkeys, crypto_kdf_KEYBYTES,
                                   KK_STORE_SUBKEY_ENC, KK_STORE_KDF_CONTEXT,
                                   kk_key__bytes(key));
        crypto_kdf_derive_from_key(s->subkeys + crypto_kdf_KEYBYTES,
                                   crypto_kdf_KEYBYTES, KK_STORE_SUBKEY_LOOKUP,
                                   KK_STORE_KDF_CONTEXT, kk_key__bytes(key));
        crypto_kdf_derive_from_key(s->subkeys + KK_STORE_AUDIT_KEY_OFFSET,
                                   crypto_kdf_KEYBYTES, KK_STORE_SUBKEY_AUDIT,
                                   KK_STORE_KDF_CONTEXT, kk_key__bytes(key));
        memcpy(s->key_id, kk_key_id(key), KK_KEY_ID_CHARS + 1);
        if ((st = kk_store__audit_key_load(s, ctx)) != KK_OK)
            goto fail;
        sodium_mprotect_readonly(s->subkeys);
        sqlite3_stmt *q = NULL;
        char *now = kk_store__now();
        rc = sqlite3_prepare_v2(s->db,
                                "INSERT OR IGNORE INTO keys(key_id, "
                                "first_used) VALUES (?, ?)", -1, &q, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_text(q, 1, s->key_id, -1, SQLITE_STATIC);
            sqlite3_bind_text(q, 2, now ? now : "", -1, SQLITE_TRANSIENT);
            rc = sqlite3_step(q);
        }
        sqlite3_finalize(q);
        kk_free(now);
        if (rc != SQLITE_DONE) {
            st = kk_store__sql_fail(s, ctx, "cannot record the key id");
            goto fail;
        }
        if ((st = kk_store__audit_upgrade(s, ctx, false)) != KK_OK ||
            (st = kk_store__audit_check_writable(s, ctx)) != KK_OK)
            goto fail;
    }
    randombytes_buf(rid, sizeof rid);
    sodium_bin2hex(s->run_id, sizeof s->run_id, rid, sizeof rid);
    set_operator(s);
    s->first_pending_ms = -1;
    *out = s;
    return KK_OK;
fail:
    sqlite3_close(s->db);
    sodium_free(s->subkeys);
    pthread_mutex_destroy(&s->mu);
    kk_free(s->path);
    kk_free(s);
    return st;
}

/* ---- statements ------------------------------------------------------- */

static const char *const stmt_sql[KK_STMT__COUNT] = {
    /* done: an output recorded under this input, profile and key (R23: a
     * rotated key does the inputs again) */
    [KK_STMT_INPUT_DONE] = "SELECT 1 FROM inputs WHERE input_digest = ?1 AND profile_digest = ?2 "
                           "AND key_id = ?3 AND output_path IS NOT NULL",
    [KK_STMT_INPUT_ROW] = "SELECT run_id, owner, claimed, output_path, output_size, output_digest, "
                          "output_folder "
                          "FROM inputs WHERE input_digest = ?1 AND profile_digest = ?2 AND key_id = ?3",
    [KK_STMT_INPUT_CLAIM] = "INSERT OR REPLACE INTO inputs(input_digest, profile_digest, key_id, "
                            "run_id, owner, claimed) VALUES (?, ?, ?, ?, ?, ?)",
    [KK_STMT_INPUT_OUTPUT] = "INSERT OR REPLACE INTO inputs(input_digest, profile_digest, key_id, "
                             "run_id, owner, claimed, output_path, output_size, output_digest, "
                             "output_folder) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [KK_STMT_LOOKUP_PSEUDONYM] = "SELECT lookup FROM pseudonyms WHERE domain = ?2 AND pseudonym = ?1",
    [KK_STMT_LOOKUP_UID] = "SELECT lookup FROM uids WHERE new_uid = ?1",
    [KK_STMT_INSERT_PSEUDONYM] = "INSERT OR IGNORE INTO pseudonyms(domain, pseudonym, key_id, "
                                 "lookup, nonce, original_enc) VALUES (?,?,?,?,?,?)",
    [KK_STMT_INSERT_UID] = "INSERT OR IGNORE INTO uids(new_uid, key_id, lookup, nonce, "
                           "original_enc) VALUES (?,?,?,?,?)",
    /* the audit rows of each commit (audit.c) */
    [KK_STMT_META_MAIN] = "SELECT value FROM main.meta WHERE name = ?",
    [KK_STMT_AUDIT_TAIL] = "SELECT id, row_hash FROM main.audit ORDER BY id DESC LIMIT 1",
    [KK_STMT_AUDIT_INSERT] = "INSERT INTO main.audit(id, run_id, time, operator, profile_name, "
                             "profile_version, profile_digest, input_digest, output_digest, "
                             "sop_instance_uid, status, subject, origin, prev_hash, row_hash) "
                             "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [KK_STMT_AUDIT_HEAD] = "INSERT OR REPLACE INTO main.meta(name, value) VALUES ('audit_head', ?)",
};

sqlite3_stmt *kk_store__stmt(kk_store *s, enum kk_store_stmt which)
{
    sqlite3_stmt *q = s->stmt[which];
    if (q) {
        sqlite3_reset(q);
        sqlite3_clear_bindings(q);
        return q;
    }
    if (sqlite3_prepare_v3(s->db, stmt_sql[which], -1, SQLITE_PREPARE_PERSISTENT, &q, NULL) !=
        SQLITE_OK) {
        sqlite3_finalize(q);
        return NULL;
    }
    s->stmt[which] = q;
    return q;
}

static void finalize_stmts(kk_store *s)
{
    for (int i = 0; i < KK_STMT__COUNT; i++) {
        sqlite3_finalize(s->stmt[i]);
        s->stmt[i] = NULL;
    }
}

static void free_rows(kk_store *s)
{
    for (size_t i = 0; i < s->nrows; i++) {
        kk_free(s->rows[i].domain);
        kk_free(s->rows[i].id);
        kk_free(s->rows[i].nonce);
        kk_free(s->rows[i].enc);
    }
    s->nrows = 0;
}

kk_status kk_store_close(kk_store *s, kk_ctx *ctx)
{
    kk_status st;

    if (!s)
        return KK_OK;
    pthread_mutex_lock(&s->mu);
    st = kk_store__flush_locked(s, ctx);
    pthread_mutex_unlock(&s->mu);
    free_rows(s);
    kk_free(s->rows);
    kk_store__free_pending_audits(s);
    kk_free(s->audits);
    seen_clear(s);
    finalize_stmts(s);
    if (sqlite3_close(s->db) != SQLITE_OK && st == KK_OK)
        st = kk_store__sql_fail(s, ctx, "cannot close");
    sodium_free(s->subkeys);
    sodium_free(s->scratch);
    pthread_mutex_destroy(&s->mu);
    kk_free(s->path);
    kk_free(s);
    return st;
}

const char *kk_store__run_id(const kk_store *s)
{
    return s->run_id;
}

/* ---- batching --------------------------------------------------------- */

/* The lookup value stored for (kind, domain, id), or 0 when none. */
static int stored_lookup(kk_store *s, char kind, const char *domain,
                         const char *id, unsigned char lk[32], int *err)
{
    int found = 0, rc;
    sqlite3_stmt *q = kk_store__stmt(s, kind == 'p' ? KK_STMT_LOOKUP_PSEUDONYM : KK_STMT_LOOKUP_UID);

    *err = 0;
    if (!q) {
        *err = 1;
        return 0;
    }
    sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
    if (kind == 'p')
        sqlite3_bind_text(q, 2, domain, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        const void *b = sqlite3_column_blob(q, 0);
        int n = sqlite3_column_bytes(q, 0);
        memset(lk, 0, 32);
        if (b && n == 32)
            memcpy(lk, b, 32);
        found = 1;
    } else if (rc != SQLITE_DONE) {
        *err = 1;
    }
    sqlite3_reset(q);
    return found;
}

static kk_status collision(kk_ctx *ctx, char kind, const char *domain,
                           const char *id)
{
    if (kind == 'p')
        return kk__fail(ctx, KK_EEXISTS,
                        "pseudonym collision: '%s' in domain '%s' already "
                        "stands for a different value", id, domain);
    return kk__fail(ctx, KK_EEXISTS,
                    "UID collision: '%s' already replaces a different UID",
                    id);
}

static kk_status write_rows(kk_store *s, kk_ctx *ctx, kk_status *soft)
{
    kk_status st = KK_OK;

    if (s->nrows == 0)
        return KK_OK;
    for (size_t i = 0; i < s->nrows; i++) {
        kk_store_pending_row *r = &s->rows[i];
        sqlite3_stmt *q = kk_store__stmt(s, r->kind == 'p' ? KK_STMT_INSERT_PSEUDONYM
                                                           : KK_STMT_INSERT_UID);
        int c = 1;
        if (!q) {
            st = kk_store__sql_fail(s, ctx, "cannot prepare an insert");
            goto out;
        }
        if (r->kind == 'p')
            sqlite3_bind_text(q, c++, r->domain, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, c++, r->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, c++, s->key_id, -1, SQLITE_STATIC);
        sqlite3_bind_blob(q, c++, r->lookup, KK_STORE_LOOKUP_BYTES,
                          SQLITE_STATIC);
        sqlite3_bind_blob(q, c++, r->nonce, crypto_secretbox_NONCEBYTES,
                          SQLITE_STATIC);
        sqlite3_bind_blob(q, c++, r->enc, (int)r->enc_len, SQLITE_STATIC);
        if (sqlite3_step(q) != SQLITE_DONE) {
            st = kk_store__sql_fail(s, ctx, "cannot insert a row");
            goto out;
        }
        if (sqlite3_changes(s->db) == 0) {
            /* Another process got there first: same original or not? */
            unsigned char lk[32];
            int err;
            if (stored_lookup(s, r->kind, r->domain, r->id, lk, &err) &&
                sodium_memcmp(lk, r->lookup, 32) != 0) {
                if (*soft == KK_OK)
                    *soft = collision(ctx, r->kind, r->domain, r->id);
                /* The row is dropped; its cache entry must go too. */
                size_t klen;
                char *k = seen_key(r->kind, r->domain, r->id, &klen);
                kk_store_seen *e = k ? seen_find(s, k, klen) : NULL;
                if (e)
                    memcpy(e->lookup, lk, 32);
                kk_free(k);
            } else if (err) {
                st = kk_store__sql_fail(s, ctx, "cannot read a row");
                goto out;
            }
        }
    }
out:
    for (int k = KK_STMT_INSERT_PSEUDONYM; k <= KK_STMT_INSERT_UID; k++)
        if (s->stmt[k])
            sqlite3_reset(s->stmt[k]);
    return st;
}

/* Record where input_digest's output goes (inside the write transaction). */
static kk_status write_output(kk_store *s, kk_ctx *ctx, const char *input_digest,
                              const char *profile_digest, const kk_store_output *o)
{
    sqlite3_stmt *q = kk_store__stmt(s, KK_STMT_INPUT_OUTPUT);
    if (!q)
        return kk_store__sql_fail(s, ctx, "cannot prepare an insert");
    sqlite3_bind_text(q, 1, input_digest, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, profile_digest, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, s->key_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, s->run_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, s->owner, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 6, (sqlite3_int64)time(NULL));
    sqlite3_bind_text(q, 7, o->path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 8, (sqlite3_int64)o->size);
    sqlite3_bind_text(q, 9, o->digest, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 10, o->folder, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    kk_status st = rc == SQLITE_DONE ? KK_OK : kk_store__sql_fail(s, ctx, "cannot record an output");
    sqlite3_reset(q);
    return st;
}

/* Commit the pending rows, and an output when input_digest is given. */
static kk_status flush_tx(kk_store *s, kk_ctx *ctx, const char *input_digest,
                          const char *profile_digest, const kk_store_output *o)
{
    kk_status st, soft = KK_OK;

    if (s->nrows == 0 && s->naudits == 0 && !input_digest)
        return KK_OK;
    if ((st = kk_store__exec(s, ctx, "BEGIN IMMEDIATE")) != KK_OK)
        return st;
    if ((st = write_rows(s, ctx, &soft)) != KK_OK ||
        (st = kk_store__write_audits(s, ctx)) != KK_OK ||
        (input_digest && (st = write_output(s, ctx, input_digest, profile_digest, o)) != KK_OK) ||
        (st = kk_store__exec(s, ctx, "COMMIT")) != KK_OK) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return st; /* pending rows are kept for the next try */
    }
    free_rows(s);
    kk_store__free_pending_audits(s);
    s->first_pending_ms = -1;
    if (s->nseen > (1u << 16))
        seen_clear(s); /* everything in it is committed now */
    return soft;
}

kk_status kk_store__flush_locked(kk_store *s, kk_ctx *ctx)
{
    return flush_tx(s, ctx, NULL, NULL, NULL);
}

kk_status kk_store__flush(kk_store *s, kk_ctx *ctx)
{
    kk_status st;
    if (!s)
        return kk__fail(ctx, KK_EINVAL, "kk_store__flush: store is NULL");
    pthread_mutex_lock(&s->mu);
    st = kk_store__flush_locked(s, ctx);
    pthread_mutex_unlock(&s->mu);
    return st;
}

/* Flush when the batch is full or old (under the mutex). */
static kk_status maybe_flush(kk_store *s, kk_ctx *ctx)
{
    if (s->first_pending_ms < 0)
        s->first_pending_ms = now_ms();
    if (s->nrows + s->naudits >= KK_STORE_BATCH ||
        now_ms() - s->first_pending_ms >= KK_STORE_BATCH_MS)
        return kk_store__flush_locked(s, ctx);
    return KK_OK;
}

static kk_status record(kk_store *s, kk_ctx *ctx, char kind,
                        const char *domain, const char *id,
                        const void *orig, size_t len)
{
    unsigned char lk[KK_STORE_LOOKUP_BYTES], stored[32];
    kk_store_pending_row *r;
    kk_store_seen *e;
    unsigned char *pt;
    kk_status st = KK_OK;
    size_t klen = 0;
    char *k = NULL;
    int err;

    if (!s || !id || !*id || (!orig && len) || (kind == 'p' && (!domain || !*domain)))
        return kk__fail(ctx, KK_EINVAL, "cannot record a mapping: missing "
                        "argument");
    if (!s->key)
        return kk__fail(ctx, KK_EKEY, "store '%s' was opened without a key: "
                        "cannot record mappings", s->path);
    lookup_value(s, kind, domain, orig, len, lk);

    pthread_mutex_lock(&s->mu);
    k = seen_key(kind, domain, id, &klen);
    if (!k) {
        st = kk__fail(ctx, KK_ENOMEM, "out of memory recording a mapping");
        goto out;
    }
    if ((e = seen_find(s, k, klen)) != NULL) {
        if (sodium_memcmp(e->lookup, lk, sizeof lk) != 0)
            st = collision(ctx, kind, domain, id);
        goto out;
    }
    if (stored_lookup(s, kind, domain, id, stored, &err)) {
        if (sodium_memcmp(stored, lk, sizeof lk) != 0) {
            st = collision(ctx, kind, domain, id);
            goto out;
        }
        if (!seen_put(s, k, klen, lk))
            st = kk__fail(ctx, KK_ENOMEM, "out of memory recording a mapping");
        k = NULL;
        goto out;
    }
    if (err) {
        st = kk_store__sql_fail(s, ctx, "cannot read a mapping");
        goto out;
    }

    /* A new row: encrypt bind || original in locked scratch memory. */
    if (s->nrows == s->caprows) {
        size_t cap = s->caprows ? s->caprows * 2 : 64;
        kk_store_pending_row *t = kk__realloc(s->rows, cap * sizeof *t);
        if (!t) {
            st = kk__fail(ctx, KK_ENOMEM, "out of memory recording a mapping");
            goto out;
        }
        s->rows = t;
        s->caprows = cap;
    }
    r = &s->rows[s->nrows];
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->enc_len = crypto_secretbox_MACBYTES + KK_STORE_BIND_BYTES + len;
    r->id = kk__strdup(id);
    r->domain = domain ? kk__strdup(domain) : NULL;
    r->nonce = kk__malloc(crypto_secretbox_NONCEBYTES);
    r->enc = kk__malloc(r->enc_len);
    pt = scratch(s, KK_STORE_BIND_BYTES + len);
    if (!r->id || (domain && !r->domain) || !r->nonce || !r->enc || !pt) {
        kk_free(r->id);
        kk_free(r->domain);
        kk_free(r->nonce);
        kk_free(r->enc);
        st = kk__fail(ctx, KK_ENOMEM, "out of memory recording a mapping");
        goto out;
    }
    bind_value(kind, domain, id, pt);
    if (len)
        memcpy(pt + KK_STORE_BIND_BYTES, orig, len);
    randombytes_buf(r->nonce, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(r->enc, pt, KK_STORE_BIND_BYTES + len, r->nonce,
                          enc_key(s));
    sodium_memzero(pt, KK_STORE_BIND_BYTES + len);
    memcpy(r->lookup, lk, sizeof lk);
    s->nrows++;
    if (!seen_put(s, k, klen, lk)) {
        k = NULL;
        st = kk__fail(ctx, KK_ENOMEM, "out of memory recording a mapping");
        goto out;
    }
    k = NULL;
    st = maybe_flush(s, ctx);
out:
    pthread_mutex_unlock(&s->mu);
    kk_free(k);
    sodium_memzero(lk, sizeof lk);
    return st;
}

kk_status kk_store__record_pseudonym(kk_store *s, kk_ctx *ctx,
                                     const char *domain,
                                     const char *pseudonym,
                                     const void *original, size_t len)
{
    return record(s, ctx, 'p', domain, pseudonym, original, len);
}

kk_status kk_store__record_uid(kk_store *s, kk_ctx *ctx, const char *new_uid,
                               const char *original_uid)
{
    if (!original_uid)
        return kk__fail(ctx, KK_EINVAL, "cannot record a UID: missing "
                        "argument");
    return record(s, ctx, 'u', NULL, new_uid, original_uid,
                  strlen(original_uid));
}

/* ---- audit API ------------------------------------------------------- */

/* The audit columns of e (borrowed strings; now from kk_store__now()). */
static void audit_columns(const kk_store *s, const kk_audit_entry *e, const char *now,
                          const char *c[KK_AC_COUNT])
{
    for (int i = 0; i < KK_AC_COUNT; i++)
        c[i] = NULL;
    c[KK_AC_RUN_ID] = s->run_id;
    c[KK_AC_TIME] = now;
    c[KK_AC_OPERATOR] = s->operator_name;
    c[KK_AC_PROFILE_NAME] = e->profile_name;
    c[KK_AC_PROFILE_VERSION] = e->profile_version;
    c[KK_AC_PROFILE_DIGEST] = e->profile_digest;
    c[KK_AC_INPUT_DIGEST] = e->input_digest;
    c[KK_AC_OUTPUT_DIGEST] = e->output_digest;
    c[KK_AC_SOP_UID] = e->sop_instance_uid;
    c[KK_AC_STATUS] = e->status;
}

kk_status kk_store_audit(kk_store *s, kk_ctx *ctx, const kk_audit_entry *e)
{
    const char *c[KK_AC_COUNT];
    char *now;
    kk_status st;

    if (!s || !e || !e->status || !*e->status)
        return kk__fail(ctx, KK_EINVAL, "cannot audit: missing status");
    if (!s->subkeys) /* the chain is keyed (audit.c) */
        return kk__fail(ctx, KK_EKEY, "store '%s' was opened without a key: "
                        "it cannot write audit rows", s->path);
    now = kk_store__now();
    if (!now)
        return kk__fail(ctx, KK_ENOMEM, "out of memory writing an audit row");
    audit_columns(s, e, now, c);
    pthread_mutex_lock(&s->mu);
    st = kk_store__queue_audit(s, ctx, c);
    if (st == KK_OK)
        st = maybe_flush(s, ctx);
    pthread_mutex_unlock(&s->mu);
    kk_free(now);
    return st;
}

int kk_store_input_done(kk_store *s, const char *input_digest, const char *profile_digest)
{
    sqlite3_stmt *q = NULL;
    int done = 0;

    if (!s || !input_digest || !profile_digest || !s->key_id[0])
        return 0;
    pthread_mutex_lock(&s->mu);
    if ((q = kk_store__stmt(s, KK_STMT_INPUT_DONE)) != NULL) {
        sqlite3_bind_text(q, 1, input_digest, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, profile_digest, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 3, s->key_id, -1, SQLITE_STATIC);
        done = sqlite3_step(q) == SQLITE_ROW;
        sqlite3_reset(q);
    }
    pthread_mutex_unlock(&s->mu);
    return done;
}

/* ---- inputs: claims and outputs ----------------------------------------- */

/* How long a claim from another machine holds (its process cannot be
 * asked whether it is alive). */
#define KK_STORE_CLAIM_LEASE_S 3600

/* When process pid started, in clock ticks since boot (field 22 of
 * /proc/PID/stat), or 0 when there is no such process. */
static unsigned long long proc_start(long pid)
{
    char p[64], buf[1024], *save = NULL;
    snprintf(p, sizeof p, "/proc/%ld/stat", pid);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *q = strrchr(buf, ')');
    if (!q)
        return 0;
    int field = 2; /* pid, (comm) */
    for (char *t = strtok_r(q + 1, " ", &save); t; t = strtok_r(NULL, " ", &save))
        if (++field == 22)
            return strtoull(t, NULL, 10);
    return 0;
}

/* This process, as a claim names it: "HOST BOOT-ID PID START". */
static void set_owner(kk_store *s)
{
    char host[64] = "-", boot[40] = "-";
    if (gethostname(host, sizeof host - 1) != 0 || !*host)
        snprintf(host, sizeof host, "-");
    host[sizeof host - 1] = '\0';
    for (char *c = host; *c; c++)
        if (*c == ' ')
            *c = '_';
    int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, boot, 36);
        boot[n == 36 ? 36 : 1] = '\0';
        if (n != 36)
            boot[0] = '-';
        close(fd);
    }
    snprintf(s->owner, sizeof s->owner, "%s %s %ld %llu", host, boot, (long)getpid(),
             proc_start((long)getpid()));
}

/* Whether the run that claimed an input may still be doing it. */
static bool owner_alive(const kk_store *s, const char *owner, int64_t claimed)
{
    char h[64], b[40], mh[64], mb[40];
    long pid, mpid;
    unsigned long long start, mstart;
    bool fresh = (int64_t)time(NULL) - claimed < KK_STORE_CLAIM_LEASE_S;
    if (sscanf(owner, "%63s %39s %ld %llu", h, b, &pid, &start) != 4 ||
        sscanf(s->owner, "%63s %39s %ld %llu", mh, mb, &mpid, &mstart) != 4)
        return fresh;
    if (strcmp(h, mh) != 0)
        return fresh; /* another machine */
    if (strcmp(b, mb) != 0)
        return false; /* this machine restarted since */
    return start != 0 && proc_start(pid) == start;
}

kk_status kk_store_claim_input(kk_store *s, kk_ctx *ctx, const char *input_digest,
                               const char *profile_digest, const char *folder,
                               kk_store_present_fn present, void *payload,
                               kk_store_claim *claim, kk_store_output *rec)
{
    kk_status st;

    *claim = KK_CLAIM_MINE;
    memset(rec, 0, sizeof *rec);
    if (!s || !input_digest || !profile_digest)
        return kk__fail(ctx, KK_EINVAL, "cannot claim an input: missing argument");
    if (!s->key_id[0])
        return kk__fail(ctx, KK_EKEY, "store '%s' was opened without a key: it cannot claim "
                        "inputs", s->path);
    pthread_mutex_lock(&s->mu);
    if (!s->owner[0])
        set_owner(s);
    /* a claim lost in a power failure only means the input is done again:
     * its commit is not synced (the next synced commit covers it) */
    sqlite3_exec(s->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
    if ((st = kk_store__exec(s, ctx, "BEGIN IMMEDIATE")) != KK_OK)
        goto out;
    sqlite3_stmt *q = kk_store__stmt(s, KK_STMT_INPUT_ROW);
    if (!q) {
        st = kk_store__sql_fail(s, ctx, "cannot prepare a query");
        goto fail;
    }
    sqlite3_bind_text(q, 1, input_digest, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, profile_digest, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, s->key_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    bool take = true;
    if (rc == SQLITE_ROW) {
        const char *run = (const char *)sqlite3_column_text(q, 0);
        const char *owner = (const char *)sqlite3_column_text(q, 1);
        int64_t claimed = sqlite3_column_int64(q, 2);
        const char *path = (const char *)sqlite3_column_text(q, 3);
        const char *dg = (const char *)sqlite3_column_text(q, 5);
        if (path) {
            snprintf(rec->path, sizeof rec->path, "%s", path);
            rec->size = (uint64_t)sqlite3_column_int64(q, 4);
            snprintf(rec->digest, sizeof rec->digest, "%s", dg ? dg : "");
            const char *f = (const char *)sqlite3_column_text(q, 6);
            snprintf(rec->folder, sizeof rec->folder, "%s", f ? f : "");
            if (present && present(payload, rec)) {
                *claim = KK_CLAIM_DONE;
                take = false;
            } else if (folder && strcmp(rec->folder, folder) == 0 && run &&
                       strcmp(run, s->run_id) != 0 && owner_alive(s, owner ? owner : "", claimed)) {
                /* committed by a live run, about to appear in this folder */
                *claim = KK_CLAIM_BUSY;
                take = false;
            }
        } else if (run && strcmp(run, s->run_id) != 0 && owner_alive(s, owner ? owner : "", claimed)) {
            *claim = KK_CLAIM_BUSY;
            take = false;
        }
    } else if (rc != SQLITE_DONE) {
        sqlite3_reset(q);
        st = kk_store__sql_fail(s, ctx, "cannot read the inputs table");
        goto fail;
    }
    sqlite3_reset(q);
    if (take) {
        sqlite3_stmt *c = kk_store__stmt(s, KK_STMT_INPUT_CLAIM);
        if (!c) {
            st = kk_store__sql_fail(s, ctx, "cannot prepare an insert");
            goto fail;
        }
        sqlite3_bind_text(c, 1, input_digest, -1, SQLITE_STATIC);
        sqlite3_bind_text(c, 2, profile_digest, -1, SQLITE_STATIC);
        sqlite3_bind_text(c, 3, s->key_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(c, 4, s->run_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(c, 5, s->owner, -1, SQLITE_STATIC);
        sqlite3_bind_int64(c, 6, (sqlite3_int64)time(NULL));
        rc = sqlite3_step(c);
        sqlite3_reset(c);
        if (rc != SQLITE_DONE) {
            st = kk_store__sql_fail(s, ctx, "cannot claim an input");
            goto fail;
        }
    }
    if ((st = kk_store__exec(s, ctx, "COMMIT")) == KK_OK)
        goto out;
fail:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
out:
    sqlite3_exec(s->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
    pthread_mutex_unlock(&s->mu);
    return st;
}

kk_status kk_store_commit_output(kk_store *s, kk_ctx *ctx, const char *input_digest,
                                 const char *profile_digest, const kk_audit_entry *e,
                                 const kk_store_output *o)
{
    const char *c[KK_AC_COUNT];
    char *now = NULL;

    if (!s || !input_digest || !profile_digest || !o ||
        (e && (!e->status || !e->input_digest)))
        return kk__fail(ctx, KK_EINVAL, "cannot record an output: missing argument");
    if (!s->key_id[0])
        return kk__fail(ctx, KK_EKEY, "store '%s' was opened without a key: it cannot record "
                        "outputs", s->path);
    if (e) {
        if (!(now = kk_store__now()))
            return kk__fail(ctx, KK_ENOMEM, "out of memory writing an audit row");
        audit_columns(s, e, now, c);
    }
    pthread_mutex_lock(&s->mu);
    if (!s->owner[0])
        set_owner(s);
    kk_status st = e ? kk_store__queue_audit(s, ctx, c) : KK_OK;
    if (st == KK_OK) {
        st = flush_tx(s, ctx, input_digest, profile_digest, o);
        if (st != KK_OK && e && s->naudits > 0) {
            /* not committed: the row saying the output was written goes,
             * or a later commit would record an output that never appeared */
            kk_store_pending_audit *a = &s->audits[--s->naudits];
            for (int k = 0; k < KK_AC_COUNT; k++)
                kk_free(a->c[k]);
        }
    }
    pthread_mutex_unlock(&s->mu);
    kk_free(now);
    return st;
}

/* ---- lookup ----------------------------------------------------------- */

/* Decrypt one row's original into a kk_free'd string (under the mutex). */
static kk_status decrypt_row(kk_store *s, kk_ctx *ctx, char kind,
                             const char *domain, const char *id,
                             const char *row_key_id, const void *nonce,
                             int nonce_len, const void *enc, int enc_len,
                             char **out)
{
    unsigned char bind[KK_STORE_BIND_BYTES], *pt;
    size_t ptlen;

    if (strcmp(row_key_id, s->key_id) != 0)
        return kk__fail(ctx, KK_EKEY,
                        "'%s' was recorded under key id %s; the key given "
                        "has id %s", id, row_key_id, s->key_id);
    if (nonce_len != crypto_secretbox_NONCEBYTES ||
        enc_len < (int)(crypto_secretbox_MACBYTES + KK_STORE_BIND_BYTES))
        return kk__fail(ctx, KK_ESTORE, "store '%s': the row for '%s' is "
                        "damaged", s->path, id);
    ptlen = (size_t)enc_len - crypto_secretbox_MACBYTES;
    pt = scratch(s, ptlen + 1);
    if (!pt)
        return kk__fail(ctx, KK_ENOMEM, "out of memory decrypting a row");
    bind_value(kind, domain, id, bind);
    if (crypto_secretbox_open_easy(pt, enc, (unsigned long long)enc_len,
                                   nonce, enc_key(s)) != 0 ||
        sodium_memcmp(pt, bind, sizeof bind) != 0) {
        sodium_memzero(pt, ptlen);
        return kk__fail(ctx, KK_ESTORE,
                        "store '%s': the row for '%s' does not decrypt: it "
                        "was altered or moved", s->path, id);
    }
    *out = kk__strndup((const char *)pt + KK_STORE_BIND_BYTES,
                       ptlen - KK_STORE_BIND_BYTES);
    sodium_memzero(pt, ptlen);
    if (!*out)
        return kk__fail(ctx, KK_ENOMEM, "out of memory decrypting a row");
    return KK_OK;
}

/* Queue and commit a lookup audit row (under the mutex). */
static kk_status audit_now(kk_store *s, kk_ctx *ctx, const char *status,
                           const char *subject, const char *sop_uid)
{
    const char *c[KK_AC_COUNT] = {0};
    char *now = kk_store__now();
    kk_status st;
    kk_ctx *tmp;

    if (!now)
        return kk__fail(ctx, KK_ENOMEM, "out of memory writing an audit row");
    c[KK_AC_RUN_ID] = s->run_id;
    c[KK_AC_TIME] = now;
    c[KK_AC_OPERATOR] = s->operator_name;
    c[KK_AC_STATUS] = status;
    c[KK_AC_SUBJECT] = subject;
    c[KK_AC_SOP_UID] = sop_uid;
    /* Keep an earlier failure message on ctx if this succeeds. */
    tmp = kk_ctx_new();
    st = kk_store__queue_audit(s, tmp ? tmp : ctx, c);
    if (st == KK_OK)
        st = kk_store__flush_locked(s, tmp ? tmp : ctx);
    if (st != KK_OK && tmp)
        kk__fail(ctx, st, "%s", kk_error_message(tmp));
    kk_ctx_free(tmp);
    kk_free(now);
    return st;
}

static kk_status lookup_pseudonym(kk_store *s, kk_ctx *ctx,
                                  const char *domain_filter,
                                  const char *pseudonym, char **out,
                                  char **domain)
{
    sqlite3_stmt *q = NULL;
    kk_status st = KK_OK;
    char *found_domain = NULL, *subject = NULL;
    kk_buf sb = KK_BUF_INIT;
    int rc, rows = 0;

    if (out)
        *out = NULL;
    if (domain)
        *domain = NULL;
    if (!s || !pseudonym || !*pseudonym || !out)
        return kk__fail(ctx, KK_EINVAL, "lookup: missing argument");
    if (!s->key)
        return kk__fail(ctx, KK_EKEY, "lookup needs the key");
    pthread_mutex_lock(&s->mu);
    if ((st = kk_store__flush_locked(s, ctx)) != KK_OK)
        goto out;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT domain, key_id, nonce, original_enc FROM "
                           "pseudonyms WHERE pseudonym = ?1 AND "
                           "(?2 IS NULL OR domain = ?2) ORDER BY domain",
                           -1, &q, NULL) != SQLITE_OK) {
        st = kk_store__sql_fail(s, ctx, "cannot look up");
        goto out;
    }
    sqlite3_bind_text(q, 1, pseudonym, -1, SQLITE_STATIC);
    if (domain_filter)
        sqlite3_bind_text(q, 2, domain_filter, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *d = (const char *)sqlite3_column_text(q, 0);
        if (++rows > 1) {
            st = kk__fail(ctx, KK_EINVAL,
                          "pseudonym '%s' exists in domains '%s' and '%s': "
                          "name the domain", pseudonym,
                          found_domain ? found_domain : "", d ? d : "");
            break;
        }
        found_domain = kk__strdup(d ? d : "");
        if (!found_domain) {
            st = kk__fail(ctx, KK_ENOMEM, "out of memory");
            break;
        }
        st = decrypt_row(s, ctx, 'p', found_domain, pseudonym,
                         (const char *)sqlite3_column_text(q, 1),
                         sqlite3_column_blob(q, 2), sqlite3_column_bytes(q, 2),
                         sqlite3_column_blob(q, 3), sqlite3_column_bytes(q, 3),
                         out);
        if (st != KK_OK)
            break;
    }
    if (st == KK_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
        st = kk_store__sql_fail(s, ctx, "cannot look up");
    if (st == KK_OK && rows == 0)
        st = kk__fail(ctx, KK_ENOTFOUND, "pseudonym '%s' is not in '%s'",
                      pseudonym, s->path);
    sqlite3_finalize(q);
    q = NULL;

    /* IMPLEMENTATION-OF: R07 - every lookup is logged before it answers. */
    kk__buf_printf(&sb, "pseudonym:%s:%s",
                   found_domain ? found_domain
                                : (domain_filter ? domain_filter : "*"),
                   pseudonym);
    subject = sb.failed ? NULL : kk__buf_detach(&sb);
    {
        kk_status ast = audit_now(s, ctx, st == KK_OK ? "lookup"
                                                      : "lookup-failed",
                                  subject, NULL);
        if (ast != KK_OK && st == KK_OK)
            st = ast;
    }
out:
    pthread_mutex_unlock(&s->mu);
    kk__buf_free(&sb);
    kk_free(subject);
    if (st != KK_OK) {
        if (*out) {
            sodium_memzero(*out, strlen(*out));
            kk_free(*out);
            *out = NULL;
        }
        kk_free(found_domain);
    } else if (domain) {
        *domain = found_domain;
    } else {
        kk_free(found_domain);
    }
    return st;
}

kk_status kk_store_lookup_pseudonym(kk_store *s, kk_ctx *ctx,
                                    const char *pseudonym, char **out,
                                    char **domain)
{
    return lookup_pseudonym(s, ctx, NULL, pseudonym, out, domain);
}

kk_status kk_store_lookup_pseudonym_in(kk_store *s, kk_ctx *ctx,
                                       const char *domain,
                                       const char *pseudonym, char **out)
{
    return lookup_pseudonym(s, ctx, domain, pseudonym, out, NULL);
}

kk_status kk_store_lookup_uid(kk_store *s, kk_ctx *ctx, const char *new_uid,
                              char **out)
{
    sqlite3_stmt *q = NULL;
    kk_status st = KK_OK;
    kk_buf sb = KK_BUF_INIT;
    int rc;

    if (out)
        *out = NULL;
    if (!s || !new_uid || !*new_uid || !out)
        return kk__fail(ctx, KK_EINVAL, "lookup: missing argument");
    if (!s->key)
        return kk__fail(ctx, KK_EKEY, "lookup needs the key");
    pthread_mutex_lock(&s->mu);
    if ((st = kk_store__flush_locked(s, ctx)) != KK_OK)
        goto out;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT key_id, nonce, original_enc FROM uids "
                           "WHERE new_uid = ?", -1, &q, NULL) != SQLITE_OK) {
        st = kk_store__sql_fail(s, ctx, "cannot look up");
        goto out;
    }
    sqlite3_bind_text(q, 1, new_uid, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        st = decrypt_row(s, ctx, 'u', NULL, new_uid,
                         (const char *)sqlite3_column_text(q, 0),
                         sqlite3_column_blob(q, 1), sqlite3_column_bytes(q, 1),
                         sqlite3_column_blob(q, 2), sqlite3_column_bytes(q, 2),
                         out);
    else if (rc == SQLITE_DONE)
        st = kk__fail(ctx, KK_ENOTFOUND, "UID '%s' is not in '%s'", new_uid,
                      s->path);
    else
        st = kk_store__sql_fail(s, ctx, "cannot look up");
    sqlite3_finalize(q);

    kk__buf_printf(&sb, "uid:%s", new_uid);
    {
        kk_status ast = audit_now(s, ctx, st == KK_OK ? "lookup"
                                                      : "lookup-failed",
                                  sb.failed ? NULL : sb.data, new_uid);
        if (ast != KK_OK && st == KK_OK)
            st = ast;
    }
out:
    pthread_mutex_unlock(&s->mu);
    kk__buf_free(&sb);
    if (st != KK_OK && *out) {
        sodium_memzero(*out, strlen(*out));
        kk_free(*out);
        *out = NULL;
    }
    return st;
}

/* ---- export ----------------------------------------------------------- */

static void csv_field(FILE *fp, const char *v)
{
    if (strpbrk(v, ",\"\r\n") == NULL) {
        fputs(v, fp);
        return;
    }
    fputc('"', fp);
    for (; *v; v++) {
        if (*v == '"')
            fputc('"', fp);
        fputc(*v, fp);
    }
    fputc('"', fp);
}

/* Every mapping, decrypted, to fn: UIDs by new UID, then pseudonyms by
 * domain and pseudonym. Holds s->mu; the caller has logged why (R24).
 * Each original is wiped once fn returns. */
static kk_status each_mapping_locked(kk_store *s, kk_ctx *ctx, const char *what,
                                     kk_store_mapping_fn fn, void *payload)
{
    static const char *const sql[2] = {
        "SELECT NULL, new_uid, key_id, nonce, original_enc FROM uids "
        "ORDER BY new_uid",
        "SELECT domain, pseudonym, key_id, nonce, original_enc FROM "
        "pseudonyms ORDER BY domain, pseudonym",
    };
    kk_status st = KK_OK;
    for (int t = 0; t < 2 && st == KK_OK; t++) {
        sqlite3_stmt *q = NULL;
        int rc;
        if (sqlite3_prepare_v2(s->db, sql[t], -1, &q, NULL) != SQLITE_OK)
            return kk_store__sql_fail(s, ctx, what);
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
            const char *dom = (const char *)sqlite3_column_text(q, 0);
            const char *id = (const char *)sqlite3_column_text(q, 1);
            char *orig = NULL;
            st = decrypt_row(s, ctx, t ? 'p' : 'u', dom, id ? id : "",
                             (const char *)sqlite3_column_text(q, 2),
                             sqlite3_column_blob(q, 3),
                             sqlite3_column_bytes(q, 3),
                             sqlite3_column_blob(q, 4),
                             sqlite3_column_bytes(q, 4), &orig);
            if (st != KK_OK)
                break;
            fn(t ? 'p' : 'u', id ? id : "", orig, payload);
            sodium_memzero(orig, strlen(orig));
            kk_free(orig);
        }
        if (st == KK_OK && rc != SQLITE_DONE)
            st = kk_store__sql_fail(s, ctx, what);
        sqlite3_finalize(q);
    }
    return st;
}

static void csv_row(char kind, const char *new_id, const char *original, void *payload)
{
    FILE *fp = payload;
    (void)kind;
    csv_field(fp, original);
    fputc(',', fp);
    csv_field(fp, new_id);
    fputc('\n', fp);
}

kk_status kk_store_export_map(kk_store *s, kk_ctx *ctx, FILE *fp)
{
    sqlite3_stmt *q = NULL;
    kk_status st;
    int other = 0;

    if (!s || !fp)
        return kk__fail(ctx, KK_EINVAL, "export-map: missing argument");
    if (!s->key)
        return kk__fail(ctx, KK_EKEY, "export-map needs the key");
    pthread_mutex_lock(&s->mu);
    if ((st = kk_store__flush_locked(s, ctx)) != KK_OK)
        goto out;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT (SELECT count(*) FROM uids WHERE key_id "
                           "<> ?1) + (SELECT count(*) FROM pseudonyms WHERE "
                           "key_id <> ?1)", -1, &q, NULL) != SQLITE_OK) {
        st = kk_store__sql_fail(s, ctx, "cannot export");
        goto out;
    }
    sqlite3_bind_text(q, 1, s->key_id, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW)
        other = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    q = NULL;
    if (other) {
        st = kk__fail(ctx, KK_EKEY,
                      "store '%s' has %d rows recorded under another key "
                      "than %s: export them with that key", s->path, other,
                      s->key_id);
        goto out;
    }
    /* The export is logged before anything is written (R24). */
    if ((st = audit_now(s, ctx, "export", "export-map", NULL)) != KK_OK)
        goto out;
    fputs("id_old,id_new\n", fp);
    st = each_mapping_locked(s, ctx, "cannot export", csv_row, fp);
    if (st == KK_OK && (fflush(fp) != 0 || ferror(fp)))
        st = kk__fail(ctx, KK_EIO, "cannot write the map: %s",
                      strerror(errno));
out:
    sqlite3_finalize(q);
    pthread_mutex_unlock(&s->mu);
    return st;
}

/* ---- verify: every mapping, decrypted ----------------------------------- */

kk_status kk_store__each_mapping(kk_store *s, kk_ctx *ctx, const char *why,
                                 kk_store_mapping_fn fn, void *payload)
{
    kk_status st;
    if (!s || !fn || !why)
        return kk__fail(ctx, KK_EINVAL, "each_mapping: missing argument");
    if (!s->key)
        return kk__fail(ctx, KK_EKEY, "reading the originals needs the key");
    pthread_mutex_lock(&s->mu);
    st = kk_store__flush_locked(s, ctx);
    /* reading every original is logged before it happens (R24) */
    if (st == KK_OK)
        st = audit_now(s, ctx, why, why, NULL);
    if (st == KK_OK)
        st = each_mapping_locked(s, ctx, "cannot read the mappings", fn, payload);
    pthread_mutex_unlock(&s->mu);
    return st;
}
