/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/check_batch.c - kk_batch (include/kakou/batch.h).
 *
 * Proves: the outcome callback is called once for every input, with its
 * rank and status (done, skipped, failed); with a store the library writes
 * one audit row per input, whose digests equal sha256sum's of the input
 * and of the output; a second batch on the same store does nothing again
 * (done-before, no new row); two batches running at once on one store and
 * one folder do each input once between them; without a store, the
 * journal resumes; the report has one JSON line per input.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "corpus.h"
#include "kakou/kakou.h"

#define NSTATUS (KK_BATCH_SUPPRESSED + 1)

static char dir[256];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/kk-check-batch.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void sha256sum(const char *path, char hex[65])
{
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(fscanf(p, "%64s", hex), 1);
    pclose(p);
}

/* What the outcome callback saw. */
typedef struct tally {
    pthread_mutex_t mu;
    int calls;
    int by_status[NSTATUS];
    int seen_n[64]; /* how often each rank was reported */
    int progress;   /* progress callbacks */
} tally;

static void on_outcome(void *payload, const kk_batch_outcome *o)
{
    tally *t = payload;
    pthread_mutex_lock(&t->mu);
    t->calls++;
    ck_assert_int_lt(o->status, NSTATUS);
    t->by_status[o->status]++;
    if (o->n < 64)
        t->seen_n[o->n]++;
    ck_assert_uint_eq(strlen(o->input_id), 32);
    if (o->status == KK_BATCH_DONE)
        ck_assert_ptr_nonnull(o->result);

    pthread_mutex_unlock(&t->mu);
}

static void on_progress(void *payload, const kk_batch_count *c)
{
    tally *t = payload;
    pthread_mutex_lock(&t->mu);
    t->progress++;
    ck_assert_uint_ge(c->added, c->seen);
    pthread_mutex_unlock(&t->mu);
}

typedef struct run {
    kk_ctx *ctx;
    kk_profile *profile;
    kk_store *store;
    kk_deid *deid;
    char out[300];
} run;

static void run_open(run *r, const char *profile, const kk_key *key, const char *db)
{
    memset(r, 0, sizeof *r);
    r->ctx = kk_ctx_new();
    ck_assert_int_eq(kk_profile_load(&r->profile, r->ctx, profile, NULL), KK_OK);
    if (db)
        ck_assert_int_eq(kk_store_open(&r->store, r->ctx, db, key), KK_OK);
    kk_deid_options o = KK_DEID_OPTIONS_INIT;
    o.key = key;
    o.store = r->store;
    ck_assert_msg(kk_deid_new(&r->deid, r->ctx, r->profile, &o) == KK_OK, "%s",
                  kk_error_message(r->ctx));
    snprintf(r->out, sizeof r->out, "%s/out", dir);
    mkdir(r->out, 0755);
}

static void run_close(run *r)
{
    kk_deid_free(r->deid);
    if (r->store)
        ck_assert_int_eq(kk_store_close(r->store, r->ctx), KK_OK);
    kk_profile_free(r->profile);
    kk_ctx_free(r->ctx);
}

/* One batch over paths; the counts at the end. */
static kk_batch_count batch(run *r, const kk_key *key, const char *const *paths, size_t n,
                            int workers, tally *t, FILE *report)
{
    kk_batch_options bo = KK_BATCH_OPTIONS_INIT;
    bo.deid = r->deid;
    bo.profile = r->profile;
    bo.key = key;
    bo.store = r->store;
    bo.out_dir = r->out;
    bo.workers = workers;
    bo.journal = 1;
    bo.report = report;
    bo.on_outcome = on_outcome;
    bo.on_progress = on_progress;
    bo.payload = t;
    kk_batch *b;
    ck_assert_msg(kk_batch_new(&b, r->ctx, &bo) == KK_OK, "%s", kk_error_message(r->ctx));
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(kk_batch_add_path(b, r->ctx, paths[i]), KK_OK);
    kk_batch_count c;
    ck_assert_int_eq(kk_batch_run(b, r->ctx, &c), KK_OK);
    kk_batch_free(b);
    return c;
}

static const char *samples[] = { TESTDATA "/sample/ct-1.dcm", TESTDATA "/sample/ct-2.dcm",
                                 TESTDATA "/sample/sr-1.dcm" };

START_TEST(outcomes_once_each)
{
    kk_ctx *ctx = kk_ctx_new();
    kk_key *key;
    ck_assert_int_eq(kk_key_new_ephemeral(&key, ctx), KK_OK);
    run r;
    run_open(&r, "dicom-basic", key, NULL);
    char junk[300], gone[300];
    snprintf(junk, sizeof junk, "%s/junk.txt", dir);
    FILE *f = fopen(junk, "w");
    fputs("not DICOM at all, not even close to it; just words\n", f);
    fclose(f);
    snprintf(gone, sizeof gone, "%s/gone.dcm", dir);
    ck_assert_int_eq(symlink("/nonexistent/kakou", gone), 0); /* stat fails: counted */
    const char *paths[] = { samples[0], samples[1], samples[2], junk };
    tally t = { PTHREAD_MUTEX_INITIALIZER, 0, { 0 }, { 0 }, 0 };
    char rp[300];
    snprintf(rp, sizeof rp, "%s/report.jsonl", dir);
    FILE *report = fopen(rp, "w");
    kk_batch_count c = batch(&r, NULL, paths, 4, 2, &t, report);
    fclose(report);
    ck_assert_int_eq(t.calls, 4);
    ck_assert_int_eq(t.progress, 4);
    for (int n = 1; n <= 4; n++)
        ck_assert_int_eq(t.seen_n[n], 1);
    ck_assert_int_eq(t.by_status[KK_BATCH_DONE], 3);
    ck_assert_int_eq(t.by_status[KK_BATCH_SKIPPED], 1);
    ck_assert_uint_eq(c.added, 4);
    ck_assert_uint_eq(c.seen, 4);
    ck_assert_uint_eq(c.written, 3);
    ck_assert_uint_eq(c.skipped, 1);
    ck_assert_uint_eq(c.failed, 0);
    /* one report line per input, naming none by path */
    f = fopen(rp, "r");
    char line[4096];
    int lines = 0;
    while (fgets(line, sizeof line, f)) {
        lines++;
        ck_assert_ptr_null(strstr(line, "/sample/"));
        ck_assert_ptr_nonnull(strstr(line, "\"input_id\":"));
    }
    fclose(f);
    ck_assert_int_eq(lines, 4);
    /* a path that cannot be stat'ed is refused and counted */
    kk_batch_options bo = KK_BATCH_OPTIONS_INIT;
    bo.deid = r.deid;
    bo.profile = r.profile;
    bo.out_dir = r.out;
    kk_batch *b;
    ck_assert_int_eq(kk_batch_new(&b, r.ctx, &bo), KK_OK);
    ck_assert_int_eq(kk_batch_add_path(b, r.ctx, gone), KK_ENOTFOUND);
    ck_assert_int_eq(kk_batch_run(b, r.ctx, &c), KK_OK);
    ck_assert_uint_eq(c.failed, 1);
    kk_batch_free(b);
    ck_assert_int_eq(kk_sniff_dicom(samples[0]), 1);
    ck_assert_int_eq(kk_sniff_dicom(junk), 0);
    run_close(&r);
    kk_key_free(key);
    kk_ctx_free(ctx);
}
END_TEST

/* The audit rows, by input digest: status and output digest. */
static int audit_rows(const char *db, const char *in_digest, char out_digest[65])
{
    sqlite3 *h;
    ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *s;
    ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT output_digest, status FROM audit WHERE "
                                        "input_digest = ?", -1, &s, NULL), SQLITE_OK);
    sqlite3_bind_text(s, 1, in_digest, -1, SQLITE_STATIC);
    int n = 0;
    out_digest[0] = '\0';
    while (sqlite3_step(s) == SQLITE_ROW) {
        n++;
        ck_assert_str_eq((const char *)sqlite3_column_text(s, 1), "ok");
        snprintf(out_digest, 65, "%s", (const char *)sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    sqlite3_close(h);
    return n;
}

/* Each outcome's output, by input path (for the digest check). */
typedef struct outputs {
    pthread_mutex_t mu;
    char path[3][1200];
    char out[3][300];
} outputs;

static void keep_output(void *payload, const kk_batch_outcome *o)
{
    outputs *x = payload;
    pthread_mutex_lock(&x->mu);
    for (int i = 0; i < 3; i++)
        if (strcmp(o->path, samples[i]) == 0 && o->output) {
            snprintf(x->path[i], sizeof x->path[i], "%s", o->path);
            snprintf(x->out[i], sizeof x->out[i], "%s", o->output);
        }
    pthread_mutex_unlock(&x->mu);
}

START_TEST(store_audit_and_resume)
{
    kk_ctx *ctx = kk_ctx_new();
    kk_key *key;
    ck_assert_int_eq(kk_key_new_ephemeral(&key, ctx), KK_OK);
    char db[300];
    snprintf(db, sizeof db, "%s/s.db", dir);
    run r;
    run_open(&r, "jp-pseudonymized", key, db);
    outputs x;
    memset(&x, 0, sizeof x);
    pthread_mutex_init(&x.mu, NULL);
    kk_batch_options bo = KK_BATCH_OPTIONS_INIT;
    bo.deid = r.deid;
    bo.profile = r.profile;
    bo.key = key;
    bo.store = r.store;
    bo.out_dir = r.out;
    bo.workers = 2;
    bo.on_outcome = keep_output;
    bo.payload = &x;
    kk_batch *b;
    ck_assert_int_eq(kk_batch_new(&b, r.ctx, &bo), KK_OK);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(kk_batch_add_path(b, r.ctx, samples[i]), KK_OK);
    kk_batch_count c;
    ck_assert_int_eq(kk_batch_run(b, r.ctx, &c), KK_OK);
    kk_batch_free(b);
    ck_assert_uint_eq(c.written, 3);
    ck_assert_int_eq(kk_store_flush(r.store, r.ctx), KK_OK);
    /* the library wrote one "ok" row per input, with sha256sum's digests */
    for (int i = 0; i < 3; i++) {
        char in_hex[65], out_hex[65], row_out[65], outp[700];
        sha256sum(samples[i], in_hex);
        snprintf(outp, sizeof outp, "%s/%s", r.out, x.out[i]);
        sha256sum(outp, out_hex);
        ck_assert_int_eq(audit_rows(db, in_hex, row_out), 1);
        ck_assert_str_eq(row_out, out_hex);
    }
    /* again on the same store: nothing done twice, no new row */
    tally t = { PTHREAD_MUTEX_INITIALIZER, 0, { 0 }, { 0 }, 0 };
    c = batch(&r, key, samples, 3, 2, &t, NULL);
    ck_assert_uint_eq(c.done_before, 3);
    ck_assert_uint_eq(c.written, 0);
    ck_assert_int_eq(t.by_status[KK_BATCH_DONE_BEFORE], 3);
    ck_assert_int_eq(kk_store_flush(r.store, r.ctx), KK_OK);
    for (int i = 0; i < 3; i++) {
        char in_hex[65], row_out[65];
        sha256sum(samples[i], in_hex);
        ck_assert_int_eq(audit_rows(db, in_hex, row_out), 1);
    }
    run_close(&r);
    kk_key_free(key);
    kk_ctx_free(ctx);
}
END_TEST

typedef struct racer {
    run r;
    const kk_key *key;
    const char *const *paths;
    size_t n;
    tally t;
    kk_batch_count c;
} racer;

static void *race(void *arg)
{
    racer *x = arg;
    x->c = batch(&x->r, x->key, x->paths, x->n, 2, &x->t, NULL);
    return NULL;
}

START_TEST(two_batches_one_store)
{
    kk_ctx *ctx = kk_ctx_new();
    kk_key *key;
    ck_assert_int_eq(kk_key_new_ephemeral(&key, ctx), KK_OK);
    char db[300];
    snprintf(db, sizeof db, "%s/s.db", dir);
    /* distinct inputs: the samples and corpus images */
    kk_test_corpus cp;
    kk_test_corpus_load(&cp);
    const char *paths[40];
    char buf[40][1300];
    size_t n = 0;
    for (int i = 0; i < 3; i++)
        paths[n++] = samples[i];
    for (int i = 0; i < cp.nfiles && n < 24; i++) {
        if (strncmp(cp.files[i], "image/", 6) != 0)
            continue;
        snprintf(buf[n], sizeof buf[n], "%s/%s", cp.dir, cp.files[i]);
        paths[n] = buf[n];
        n++;
    }
    static racer a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    kk_store *init;
    ck_assert_int_eq(kk_store_open(&init, ctx, db, key), KK_OK); /* made before the race */
    ck_assert_int_eq(kk_store_close(init, ctx), KK_OK);
    run_open(&a.r, "jp-pseudonymized", key, db);
    run_open(&b.r, "jp-pseudonymized", key, db);
    a.key = b.key = key;
    a.paths = b.paths = paths;
    a.n = b.n = n;
    pthread_mutex_init(&a.t.mu, NULL);
    pthread_mutex_init(&b.t.mu, NULL);
    pthread_t ta, tb;
    ck_assert_int_eq(pthread_create(&ta, NULL, race, &a), 0);
    ck_assert_int_eq(pthread_create(&tb, NULL, race, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    ck_assert_int_eq(a.t.calls, (int)n);
    ck_assert_int_eq(b.t.calls, (int)n);
    /* every input was done once, by one of them: none written twice (it
     * would be a duplicate), none with two "ok" audit rows; an input
     * that fails (a corpus object whose pixels cannot be decoded) fails
     * in the one that claimed it */
    ck_assert_uint_eq(a.c.duplicates + b.c.duplicates, 0);
    ck_assert_uint_eq(a.c.skipped, b.c.skipped);
    size_t doable = n - a.c.skipped;
    ck_assert_uint_le(a.c.written + b.c.written, doable);
    ck_assert_uint_ge(a.c.written + b.c.written + a.c.failed + b.c.failed, doable);
    ck_assert_uint_gt(a.c.written + b.c.written, doable / 2);
    ck_assert_int_eq(kk_store_flush(a.r.store, a.r.ctx), KK_OK);
    ck_assert_int_eq(kk_store_flush(b.r.store, b.r.ctx), KK_OK);
    sqlite3 *h;
    ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT count(*) FROM audit WHERE status = 'ok'",
                                        -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_int_eq(sqlite3_column_int(st, 0), (int)(a.c.written + b.c.written));
    sqlite3_finalize(st);
    ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT count(*) FROM (SELECT input_digest FROM "
                                        "audit WHERE status = 'ok' GROUP BY input_digest "
                                        "HAVING count(*) > 1)", -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_int_eq(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    run_close(&a.r);
    run_close(&b.r);
    kk_test_corpus_free(&cp);
    kk_key_free(key);
    kk_ctx_free(ctx);
}
END_TEST

START_TEST(journal_resumes)
{
    kk_ctx *ctx = kk_ctx_new();
    kk_key *key;
    ck_assert_int_eq(kk_key_new_ephemeral(&key, ctx), KK_OK);
    run r;
    run_open(&r, "dicom-basic", key, NULL);
    tally t = { PTHREAD_MUTEX_INITIALIZER, 0, { 0 }, { 0 }, 0 };
    kk_batch_count c = batch(&r, key, samples, 3, 1, &t, NULL);
    ck_assert_uint_eq(c.written, 3);
    char jp[400];
    snprintf(jp, sizeof jp, "%s/.kakou-journal", r.out);
    ck_assert_int_eq(access(jp, R_OK), 0);
    memset(t.by_status, 0, sizeof t.by_status);
    c = batch(&r, key, samples, 3, 1, &t, NULL);
    ck_assert_uint_eq(c.done_before, 3);
    ck_assert_int_eq(t.by_status[KK_BATCH_DONE_BEFORE], 3);
    run_close(&r);
    kk_key_free(key);
    kk_ctx_free(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("batch");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, outcomes_once_each);
    tcase_add_test(tc, store_audit_and_resume);
    tcase_add_test(tc, two_batches_one_store);
    tcase_add_test(tc, journal_resumes);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
