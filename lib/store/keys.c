/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/store/keys.c - key rotation in the store (R23): the keys table
 * (key_id, first_used, retired) of schema 1 names every key a mapping row
 * was made under; rotating marks the old key retired and records the new
 * one. A retired key still decrypts its rows (lookups, export with that
 * key) but deid refuses it for new work, so a delivery after rotation
 * gets all-new pseudonyms under the new key only.
 *
 * IMPLEMENTATION-OF: R23 (key rotation; the old key retired).
 */
#include <string.h>

#include <sqlite3.h>

#include "core/core.h"
#include "store/store_internal.h"

kk_status kk_store_retire_key(kk_store *s, kk_ctx *ctx, const char *key_id,
                              const char *new_key_id)
{
    sqlite3_stmt *q = NULL;
    kk_status st = KK_OK;
    char *now;

    if (!s || !key_id || !new_key_id)
        return kk__fail(ctx, KK_EINVAL, "retire key: missing argument");
    now = kk_store__now();
    pthread_mutex_lock(&s->mu);
    if ((st = kk_store__flush_locked(s, ctx)) != KK_OK)
        goto out;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO keys(key_id, first_used, retired) "
                           "VALUES (?1, ?2, ?2) ON CONFLICT(key_id) DO UPDATE "
                           "SET retired = coalesce(retired, ?2)", -1, &q,
                           NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_text(q, 1, key_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, now ? now : "", -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(q);
    if (sqlite3_prepare_v2(s->db,
                           "INSERT OR IGNORE INTO keys(key_id, first_used) "
                           "VALUES (?1, ?2)", -1, &q, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_text(q, 1, new_key_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, now ? now : "", -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE)
        goto fail;
    goto out;
fail:
    st = kk_store__sql_fail(s, ctx, "cannot record the key rotation");
out:
    sqlite3_finalize(q);
    pthread_mutex_unlock(&s->mu);
    kk_free(now);
    return st;
}

int kk_store_key_retired(kk_store *s)
{
    sqlite3_stmt *q = NULL;
    int retired = 0;

    if (!s || !s->key_id[0])
        return 0;
    pthread_mutex_lock(&s->mu);
    if (sqlite3_prepare_v2(s->db, "SELECT retired IS NOT NULL FROM keys "
                           "WHERE key_id = ?1", -1, &q, NULL) == SQLITE_OK) {
        sqlite3_bind_text(q, 1, s->key_id, -1, SQLITE_STATIC);
        if (sqlite3_step(q) == SQLITE_ROW)
            retired = sqlite3_column_int(q, 0);
    }
    sqlite3_finalize(q);
    pthread_mutex_unlock(&s->mu);
    return retired;
}
