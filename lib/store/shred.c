/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/store/shred.c - destroying a store at the end of its use (R24).
 *
 * kk_store_shred(): check that the file is a kakou store (application_id
 * "kkst"), delete every row with secure_delete on (SQLite overwrites
 * freed content with zeros), checkpoint the WAL into the file, then
 * overwrite the database file and any -wal, -journal and -shm file with
 * random bytes over their whole length, fsync, unlink, and fsync the
 * folder. What a file system or an SSD keeps of old blocks elsewhere is
 * beyond a program's reach: kakou-db(1) says so, and that full-disk
 * encryption covers it.
 *
 * IMPLEMENTATION-OF: R24 (secure deletion command for end-of-use).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "core/core.h"
#include "store/store_internal.h"


/* Overwrite path with random bytes over its length, fsync, unlink.
 * 0 when done or there is no such file, -1 with errno. */
static int overwrite_unlink(const char *path)
{
    unsigned char buf[65536];
    struct stat sb;
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);

    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    for (off_t done = 0; done < sb.st_size;) {
        size_t n = sizeof buf;
        if ((off_t)n > sb.st_size - done)
            n = (size_t)(sb.st_size - done);
        randombytes_buf(buf, n);
        ssize_t w = pwrite(fd, buf, n, done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        done += w;
    }
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    close(fd);
    return unlink(path);
}

static kk_status wipe_rows(kk_ctx *ctx, const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    kk_status st = KK_OK;
    int app = 0;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        st = kk__fail(ctx, KK_ESTORE, "cannot open store '%s': %s", path,
                      db ? sqlite3_errmsg(db) : "out of memory");
        goto out;
    }
    sqlite3_busy_timeout(db, 10000);
    if (sqlite3_prepare_v2(db, "PRAGMA application_id", -1, &q, NULL) ==
            SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
        app = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    q = NULL;
    if (app != KK_STORE_APP_ID) {
        st = kk__fail(ctx, KK_ESTORE, "'%s' is not a kakou store: not "
                      "shredded", path);
        goto out;
    }
    /* every row of every table, zeroed in place, then the WAL folded in */
    char *err = NULL;
    if (sqlite3_exec(db, "PRAGMA secure_delete=ON;", NULL, NULL, &err) !=
        SQLITE_OK)
        goto sql_fail;
    if (sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = "
                           "'table' AND name NOT LIKE 'sqlite_%'", -1, &q,
                           NULL) != SQLITE_OK)
        goto sql_fail;
    kk_buf sql = KK_BUF_INIT;
    kk__buf_adds(&sql, "BEGIN IMMEDIATE;");
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(q, 0);
        char *one = sqlite3_mprintf("DELETE FROM \"%w\";", t ? t : "");
        if (one)
            kk__buf_adds(&sql, one);
        sqlite3_free(one);
    }
    sqlite3_finalize(q);
    q = NULL;
    kk__buf_adds(&sql, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE); VACUUM;");
    if (sql.failed) {
        kk__buf_free(&sql);
        st = kk__fail(ctx, KK_ENOMEM, "out of memory");
        goto out;
    }
    int rc = sqlite3_exec(db, sql.data, NULL, NULL, &err);
    kk__buf_free(&sql);
    if (rc == SQLITE_OK)
        goto out;
sql_fail:
    st = kk__fail(ctx, KK_ESTORE, "cannot shred store '%s': %s", path,
                  err ? err : sqlite3_errmsg(db));
    sqlite3_free(err);
out:
    sqlite3_finalize(q);
    sqlite3_close(db);
    return st;
}

kk_status kk_store_shred(kk_ctx *ctx, const char *path)
{
    static const char *const sidecars[] = { "", "-wal", "-shm", "-journal" };
    struct stat sb;
    kk_status st;

    if (!path || !*path)
        return kk__fail(ctx, KK_EINVAL, "no store given");
    if (sodium_init() < 0)
        return kk__fail(ctx, KK_EINTERNAL, "cannot initialise libsodium");
    if (lstat(path, &sb) != 0)
        return kk__fail(ctx, KK_ENOTFOUND, "cannot open store '%s': %s", path,
                        strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return kk__fail(ctx, KK_ESTORE, "store '%s' is not a regular file",
                        path);
    if ((st = wipe_rows(ctx, path)) != KK_OK)
        return st;
    for (size_t i = 0; i < sizeof sidecars / sizeof *sidecars; i++) {
        kk_buf p = KK_BUF_INIT;
        kk__buf_printf(&p, "%s%s", path, sidecars[i]);
        if (p.failed)
            return kk__fail(ctx, KK_ENOMEM, "out of memory");
        if (overwrite_unlink(p.data) != 0) {
            st = kk__fail(ctx, KK_EIO, "cannot shred '%s': %s", p.data,
                          strerror(errno));
            kk__buf_free(&p);
            return st;
        }
        kk__buf_free(&p);
    }
    char *copy = kk__strdup(path);
    if (copy) {
        int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
        kk_free(copy);
    }
    return KK_OK;
}
