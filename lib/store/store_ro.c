/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/store/store_ro.c - open a store read-only (kakou db verify), and
 * say so plainly when a store cannot be written.
 *
 * A store is an SQLite database in WAL mode. Read-only, it is opened with
 * SQLITE_OPEN_READONLY: nothing is created, migrated or recorded. A WAL
 * database is read through its -shm index, which SQLite creates next to
 * the file; on read-only media (a DVD, a read-only mount, a folder this
 * user cannot write) it cannot, and the open fails (SQLITE_CANTOPEN).
 * Then, as long as no write-ahead log (-wal) with unfinished writes lies
 * beside it, the file is complete and nobody can change it, so it is
 * opened as immutable (no locks, no -shm). With a non-empty -wal the
 * store is refused: its last writes would be missed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "core/core.h"
#include "crypto/key_internal.h"
#include "store/store_internal.h"

/* "file:" URI for path with query (SQLite's URI rules: %-escape what is
 * not plain). */
static char *uri_for(const char *path, const char *query)
{
    kk_buf b = KK_BUF_INIT;
    kk__buf_adds(&b, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9') || strchr("/-_.~", *p))
            kk__buf_add(&b, p, 1);
        else
            kk__buf_printf(&b, "%%%02X", *p);
    }
    kk__buf_printf(&b, "?%s", query);
    return b.failed ? (kk__buf_free(&b), NULL) : kk__buf_detach(&b);
}

/* Why path (and the folder it is in) cannot be written, or NULL when it
 * can: "read-only file system", "permission denied". */
const char *kk_store__why_readonly(const char *path, char *buf, size_t cap)
{
    if (access(path, W_OK) != 0 && (errno == EROFS || errno == EACCES || errno == EPERM)) {
        snprintf(buf, cap, "the file is read-only (%s)", strerror(errno));
        return buf;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    if (access(dir, W_OK) != 0 && (errno == EROFS || errno == EACCES || errno == EPERM)) {
        snprintf(buf, cap, "its folder is read-only (%s): SQLite keeps its write-ahead log "
                 "beside the store", strerror(errno));
        return buf;
    }
    return NULL;
}

static int read_int(sqlite3 *db, const char *sql, int *out)
{
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &q, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(q);
        *out = rc == SQLITE_ROW ? sqlite3_column_int(q, 0) : 0;
        if (rc == SQLITE_ROW || rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    sqlite3_finalize(q);
    return rc;
}

static int open_ro(const char *path, const char *query, sqlite3 **db)
{
    char *uri = uri_for(path, query);
    if (!uri)
        return SQLITE_NOMEM;
    int rc = sqlite3_open_v2(uri, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX |
                             SQLITE_OPEN_URI, NULL);
    kk_free(uri);
    return rc;
}

kk_status kk_store_open_readonly(kk_store **out, kk_ctx *ctx, const char *path,
                                 const kk_key *key)
{
    kk_status st;
    struct stat sb;

    if (!out)
        return kk__fail(ctx, KK_EINVAL, "kk_store_open_readonly: out is NULL");
    *out = NULL;
    if (!path || !*path)
        return kk__fail(ctx, KK_EINVAL, "no store file name given");
    if ((st = kk_crypto__init(ctx)) != KK_OK)
        return st;
    if (stat(path, &sb) != 0)
        return kk__fail(ctx, errno == ENOENT ? KK_ENOTFOUND : KK_ESTORE,
                        "cannot open store '%s': %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return kk__fail(ctx, KK_ESTORE, "store '%s' is not a regular file but %s", path,
                        kk__file_kind(sb.st_mode));

    kk_store *s = kk__calloc(1, sizeof *s);
    if (!s || !(s->path = kk__strdup(path))) {
        kk_free(s);
        return kk__fail(ctx, KK_ENOMEM, "out of memory opening a store");
    }
    pthread_mutex_init(&s->mu, NULL);
    s->key = key;
    s->first_pending_ms = -1;
    int version = 0, app = 0, tables = 0;
    int rc = open_ro(path, "mode=ro", &s->db);
    if (rc == SQLITE_OK)
        sqlite3_busy_timeout(s->db, KK_STORE_BUSY_MS);
    if (rc == SQLITE_OK)
        rc = read_int(s->db, "PRAGMA user_version", &version);
    if ((rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_READONLY) {
        /* WAL on read-only media: no -shm can be made */
        char wal[4096];
        struct stat wb;
        snprintf(wal, sizeof wal, "%s-wal", path);
        if (stat(wal, &wb) == 0 && wb.st_size > 0) {
            st = kk__fail(ctx, KK_ESTORE, "store '%s' is on read-only media with unfinished "
                          "writes in '%s': copy both to writable media and open it there",
                          path, wal);
            goto fail;
        }
        sqlite3_close(s->db);
        s->db = NULL;
        rc = open_ro(path, "immutable=1", &s->db);
        if (rc == SQLITE_OK)
            rc = read_int(s->db, "PRAGMA user_version", &version);
    }
    if (rc == SQLITE_OK)
        rc = read_int(s->db, "PRAGMA application_id", &app);
    if (rc == SQLITE_OK)
        rc = read_int(s->db, "SELECT count(*) FROM sqlite_master", &tables);
    if (rc != SQLITE_OK) {
        if ((rc & 0xff) == SQLITE_NOTADB)
            st = kk__fail(ctx, KK_ESTORE, "'%s' is not a kakou store", path);
        else if (s->db)
            st = kk__fail(ctx, KK_ESTORE, "cannot read store '%s': %s", path,
                          sqlite3_errmsg(s->db));
        else
            st = kk__fail(ctx, KK_ENOMEM, "out of memory opening '%s'", path);
        goto fail;
    }
    if (app != KK_STORE_APP_ID || tables == 0) {
        st = kk__fail(ctx, KK_ESTORE, "'%s' is not a kakou store", path);
        goto fail;
    }
    /* older schemas differ in the inputs table only, which reading
     * (verify, export) does not touch: read them as they are */
    if (version < 1 || version > KK_STORE_SCHEMA_VERSION) {
        st = kk__fail(ctx, KK_ESTORE, "store '%s' has schema version %d, this kakou reads %d%s",
                      path, version, KK_STORE_SCHEMA_VERSION,
                      version < KK_STORE_SCHEMA_VERSION
                          ? ": open it once where it can be written, to upgrade it"
                          : ": upgrade kakou");
        goto fail;
    }
    if (key) {
        s->subkeys = sodium_malloc(KK_STORE_NSUBKEYS * crypto_kdf_KEYBYTES);
        if (!s->subkeys) {
            st = kk__fail(ctx, KK_ENOMEM, "cannot allocate locked memory for store keys");
            goto fail;
        }
        crypto_kdf_derive_from_key(s->subkeys, crypto_kdf_KEYBYTES, KK_STORE_SUBKEY_ENC,
                                   KK_STORE_KDF_CONTEXT, kk_key__bytes(key));
        crypto_kdf_derive_from_key(s->subkeys + crypto_kdf_KEYBYTES, crypto_kdf_KEYBYTES,
                                   KK_STORE_SUBKEY_LOOKUP, KK_STORE_KDF_CONTEXT,
                                   kk_key__bytes(key));
        crypto_kdf_derive_from_key(s->subkeys + KK_STORE_AUDIT_KEY_OFFSET, crypto_kdf_KEYBYTES,
                                   KK_STORE_SUBKEY_AUDIT, KK_STORE_KDF_CONTEXT,
                                   kk_key__bytes(key));
        memcpy(s->key_id, kk_key_id(key), KK_KEY_ID_CHARS + 1);
        /* the chain key, so that a keyed verify works read-only too */
        if ((st = kk_store__audit_key_load(s, ctx)) != KK_OK)
            goto fail;
        sodium_mprotect_readonly(s->subkeys);
    }
    unsigned char rid[16];
    randombytes_buf(rid, sizeof rid);
    sodium_bin2hex(s->run_id, sizeof s->run_id, rid, sizeof rid);
    snprintf(s->operator_name, sizeof s->operator_name, "uid:%lu", (unsigned long)geteuid());
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
