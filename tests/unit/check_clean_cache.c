/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/check_clean_cache.c - the cleaner's cache of identifier sets
 * and cleaned texts (lib/deid/clean_cache.c).
 *
 * Cases: one set per identifier list (a DT's time of day does not count);
 * a text cleaned with one object's set never comes back for another's; a
 * kept text comes back the same as cleaning it again; sets in use are
 * never evicted, and the cache stays within its bound; threads sharing
 * one cleaner get what a cleaner of their own gives.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deid/clean.h"

static kk_buf list_of(const char *name, const char *id, const char *dt)
{
    kk_buf l = KK_BUF_INIT;
    kk_idlist__add(&l, 'N', name, strlen(name));
    kk_idlist__add(&l, 'I', id, strlen(id));
    kk_idlist__add(&l, 'D', dt, strlen(dt));
    return l;
}

static const kk_idset *ids_of(const kk_cleaner *cl, const char *name, const char *id,
                              const char *dt)
{
    kk_buf l = list_of(name, id, dt);
    const kk_idset *ids = kk_clean__ids(cl, l.data, l.len);
    kk__buf_free(&l);
    ck_assert_ptr_nonnull(ids);
    return ids;
}

static char *clean(const kk_cleaner *cl, const kk_idset *ids, const char *text, bool *changed)
{
    kk_buf b = KK_BUF_INIT;
    bool c = kk_clean__text(cl, ids, text, strlen(text), &b);
    if (changed)
        *changed = c;
    ck_assert(!b.failed);
    return kk__buf_detach(&b);
}

START_TEST(one_set_per_list)
{
    kk_cleaner *cl = NULL;
    ck_assert_int_eq(kk_clean__new(&cl, NULL), KK_OK);
    const kk_idset *a = ids_of(cl, "Yamada^Tarou", "PID778812", "20241101120000");
    /* the next image of the series: another time of day, the same set */
    const kk_idset *b = ids_of(cl, "Yamada^Tarou", "PID778812", "20241101120004.5");
    const kk_idset *c = ids_of(cl, "Suzuki^Hanako", "PID778812", "20241101120000");
    const kk_idset *d = ids_of(cl, "Yamada^Tarou", "PID778813", "20241101120000");
    const kk_idset *e = ids_of(cl, "Yamada^Tarou", "PID778812", "20241102120000");
    ck_assert_ptr_eq(a, b);
    ck_assert_ptr_ne(a, c);
    ck_assert_ptr_ne(a, d);
    ck_assert_ptr_ne(a, e);
    ck_assert_ptr_ne(c, d);
    int lists, texts;
    kk_clean__cached(cl, &lists, &texts);
    ck_assert_int_eq(lists, 4);
    const kk_idset *all[] = { a, b, c, d, e };
    for (int i = 0; i < 5; i++)
        kk_clean__release_ids(cl, all[i]);
    kk_clean__free(cl);
}
END_TEST

START_TEST(texts_stay_with_their_set)
{
    /* "tarou" in lower case is a name only for an object named Tarou */
    const char *text = "tarou ok";
    for (int order = 0; order < 2; order++) {
        kk_cleaner *cl = NULL;
        ck_assert_int_eq(kk_clean__new(&cl, NULL), KK_OK);
        const kk_idset *tarou = ids_of(cl, "Yamada^Tarou", "PID1111", "20240101");
        const kk_idset *hanako = ids_of(cl, "Suzuki^Hanako", "PID2222", "20240101");
        for (int round = 0; round < 3; round++) {
            for (int k = 0; k < 2; k++) {
                bool own = (k ^ order) == 0;
                bool changed;
                char *c = clean(cl, own ? tarou : hanako, text, &changed);
                ck_assert_msg(strcmp(c, own ? "*** ok" : "tarou ok") == 0,
                              "round %d, %s's set: '%s'", round, own ? "Tarou" : "Hanako", c);
                ck_assert(changed == own);
                free(c);
            }
        }
        int lists, texts;
        kk_clean__cached(cl, &lists, &texts);
        ck_assert_int_eq(lists, 2);
        ck_assert_int_eq(texts, 2); /* one text under each set */
        kk_clean__release_ids(cl, tarou);
        kk_clean__release_ids(cl, hanako);
        kk_clean__free(cl);
    }
}
END_TEST

static const char *const texts[] = {
    "Patient Yamada Tarou (PID778812) seen 2024-11-01, 主治医 佐藤 先生",
    "CT CHEST W/O CONTRAST",
    "山田 太郎 様 ＴＥＬ ０３－１２３４－５６７８",
    "Reviewed by Emeka Okonkwo; pt YAMADA",
    "確認 ﾔﾏﾀﾞ ﾀﾛｳ, yamada tarou",
    "",
};

/* Both a name that spells its readings and one in kanji alone, whose
 * readings come from the dictionary. */
static const char *const pns[] = { "Yamada^Tarou=山田^太郎=やまだ^たろう", "山田^太郎" };

START_TEST(kept_texts_equal_cleaning_again)
{
    const char *pn = pns[_i];
    kk_cleaner *cached = NULL, *fresh = NULL;
    ck_assert_int_eq(kk_clean__new(&cached, NULL), KK_OK);
    ck_assert_int_eq(kk_clean__new(&fresh, NULL), KK_OK);
    for (int round = 0; round < 3; round++) {
        kk_idset own = KK_IDSET_INIT;
        kk_idset__add_name(&own, pn, strlen(pn));
        kk_idset__add_id(&own, "PID778812", 9);
        kk_idset__add_date(&own, "20241101", 8);
        const kk_idset *ids = ids_of(cached, pn, "PID778812", "20241101");
        /* shared sets are whole before anyone reads them: nothing is
         * added to them afterwards (readings included) */
        ck_assert(ids->readings_done || !ids->nkanji);
        for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
            bool c1, c2;
            char *want = clean(fresh, &own, texts[i], &c1);
            char *got = clean(cached, ids, texts[i], &c2);
            ck_assert_msg(strcmp(want, got) == 0, "round %d: '%s' became '%s', not '%s'", round,
                          texts[i], got, want);
            ck_assert(c1 == c2);
            free(want);
            free(got);
        }
        /* the readings did their work: the name in kana and romaji goes */
        char *c = clean(cached, ids, texts[4], NULL);
        ck_assert_msg(!strstr(c, "yamada") && !strstr(c, "ﾔﾏﾀﾞ"), "'%s'", c);
        free(c);
        kk_clean__release_ids(cached, ids);
        kk_idset__free(&own);
    }
    int lists, n;
    kk_clean__cached(cached, &lists, &n);
    ck_assert_int_eq(lists, 1);
    ck_assert_int_eq(n, (int)(sizeof texts / sizeof texts[0]));
    kk_clean__free(cached);
    kk_clean__free(fresh);
}
END_TEST

START_TEST(bounded_and_held_sets_stay)
{
    kk_cleaner *cl = NULL;
    ck_assert_int_eq(kk_clean__new(&cl, NULL), KK_OK);
    char name[32], id[32];
    /* many lists given back at once: the cache keeps a bounded number */
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "Name%d^Given", i);
        snprintf(id, sizeof id, "ID%05d", i);
        const kk_idset *ids = ids_of(cl, name, id, "20240101");
        char *c = clean(cl, ids, "Name5 seen", NULL);
        free(c);
        kk_clean__release_ids(cl, ids);
    }
    int lists, texts;
    kk_clean__cached(cl, &lists, &texts);
    ck_assert_int_le(lists, 32);
    ck_assert_int_ge(lists, 1);
    /* sets held by objects on the go are never taken from them: past the
     * bound each new list gets a set of its own, freed when given back */
    const kk_idset *held[100];
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "Held%d^Given", i);
        held[i] = ids_of(cl, name, "X", "20240101");
        ck_assert_ptr_nonnull(held[i]);
    }
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "held%d", i);
        char *c = clean(cl, held[i], name, NULL);
        ck_assert_msg(strcmp(c, "***") == 0, "set %d: '%s'", i, c);
        free(c);
    }
    for (int i = 0; i < 100; i++)
        kk_clean__release_ids(cl, held[i]);
    kk_clean__free(cl);
}
END_TEST

typedef struct job {
    const kk_cleaner *cl;
    int seed;
    int bad;
} job;

static const char *const names[] = { "Yamada^Tarou", "Suzuki^Hanako", "Tanaka^Ichiro" };

static void *worker(void *arg)
{
    job *j = arg;
    for (int i = 0; i < 300; i++) {
        int who = (i + j->seed) % 3;
        kk_buf l = KK_BUF_INIT;
        kk_idlist__add(&l, 'N', names[who], strlen(names[who]));
        const kk_idset *ids = kk_clean__ids(j->cl, l.data, l.len);
        kk__buf_free(&l);
        if (!ids) {
            j->bad++;
            continue;
        }
        for (int k = 0; k < 3; k++) {
            /* the lower-case given name goes only under its own set */
            const char *given = strchr(names[k], '^') + 1;
            char text[64];
            snprintf(text, sizeof text, "%c%s ok", given[0] + 32, given + 1);
            kk_buf b = KK_BUF_INIT;
            kk_clean__text(j->cl, ids, text, strlen(text), &b);
            const char *want = k == who ? "*** ok" : text;
            if (!b.data || strcmp(b.data, want) != 0)
                j->bad++;
            kk__buf_free(&b);
        }
        kk_clean__release_ids(j->cl, ids);
    }
    return NULL;
}

START_TEST(threads_share_one_cleaner)
{
    kk_cleaner *cl = NULL;
    ck_assert_int_eq(kk_clean__new(&cl, NULL), KK_OK);
    pthread_t t[4];
    job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (job){ cl, i, 0 };
        ck_assert_int_eq(pthread_create(&t[i], NULL, worker, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ck_assert_msg(jobs[i].bad == 0, "thread %d: %d wrong texts", i, jobs[i].bad);
    }
    int lists, texts;
    kk_clean__cached(cl, &lists, &texts);
    ck_assert_int_eq(lists, 3);
    ck_assert_int_eq(texts, 9);
    kk_clean__free(cl);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("clean_cache");
    TCase *tc = tcase_create("cache");
    tcase_add_test(tc, one_set_per_list);
    tcase_add_test(tc, texts_stay_with_their_set);
    tcase_add_loop_test(tc, kept_texts_equal_cleaning_again, 0, (int)(sizeof pns / sizeof pns[0]));
    tcase_add_test(tc, bounded_and_held_sets_stay);
    tcase_add_test(tc, threads_share_one_cleaner);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
