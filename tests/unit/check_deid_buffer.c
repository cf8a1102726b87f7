/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/check_deid_buffer.c - kk_deid_buffer(): bytes in, bytes out.
 *
 * Proves: the output is byte for byte what kk_deid_file() writes, under
 * the same name; the new UIDs are keyed (same key, same UIDs; another key,
 * others); no planted value survives; bad bytes fail with a message that
 * names the label and no value; four threads on one run give the same
 * bytes as one; with a store the audit row (R25) holds the SHA-256 of the
 * input and output bytes (equal to sha256sum's), the new SOP Instance UID
 * and the outcome, and the chain verifies; kk_store_flush() commits it;
 * kk_deid_file() gives the SHA-256 of its input and output (equal to
 * sha256sum's) from the one read and the one write, and shows them to
 * kk_deid_file_ex()'s hooks.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "kakou/kakou.h"
#include "corpus.h"

#define SAMPLE TESTDATA "/sample/ct-1.dcm"

static char dir[256];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/kk-check-buffer.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static int contains(const unsigned char *hay, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return 1;
    return 0;
}

typedef struct run {
    kk_ctx *ctx;
    kk_profile *profile;
    kk_key *key;
    kk_store *store;
    kk_deid *deid;
} run;

static void run_open(run *r, const char *profile, kk_key *key, const char *db)
{
    memset(r, 0, sizeof *r);
    r->ctx = kk_ctx_new();
    ck_assert_int_eq(kk_profile_load(&r->profile, r->ctx, profile, NULL), KK_OK);
    r->key = key;
    if (db)
        ck_assert_int_eq(kk_store_open(&r->store, r->ctx, db, key), KK_OK);
    kk_deid_options o = KK_DEID_OPTIONS_INIT;
    o.key = key;
    o.store = r->store;
    ck_assert_msg(kk_deid_new(&r->deid, r->ctx, r->profile, &o) == KK_OK, "%s",
                  kk_error_message(r->ctx));
}

static void run_close(run *r)
{
    kk_deid_free(r->deid);
    if (r->store)
        ck_assert_int_eq(kk_store_close(r->store, r->ctx), KK_OK);
    kk_profile_free(r->profile);
    kk_ctx_free(r->ctx);
}

START_TEST(same_as_file)
{
    kk_ctx *ctx = kk_ctx_new();
    kk_key *key;
    ck_assert_int_eq(kk_key_new_ephemeral(&key, ctx), KK_OK);
    run r;
    run_open(&r, "dicom-basic", key, NULL);
    size_t n;
    unsigned char *in = slurp(SAMPLE, &n);
    kk_deid_buffer_result br = KK_DEID_BUFFER_RESULT_INIT;
    ck_assert_msg(kk_deid_buffer(r.deid, r.ctx, in, n, "sample", &br) == KK_OK, "%s",
                  kk_error_message(r.ctx));
    kk_deid_result fr = KK_DEID_RESULT_INIT;
    ck_assert_int_eq(kk_deid_file(r.deid, r.ctx, SAMPLE, dir, &fr), KK_OK);
    ck_assert_str_eq(br.output_path, fr.output_path);
    ck_assert_str_eq(br.sop_instance_uid, fr.sop_instance_uid);
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, fr.output_path);
    size_t fn;
    unsigned char *file = slurp(path, &fn);
    ck_assert_uint_eq(fn, br.size);
    ck_assert_int_eq(memcmp(file, br.data, fn), 0);
    /* the name is made of the new UIDs */
    char want[256];
    snprintf(want, sizeof want, "%s/%s/%s.dcm", br.study_instance_uid, br.series_instance_uid,
             br.sop_instance_uid);
    ck_assert_str_eq(br.output_path, want);
    ck_assert_str_eq(br.sop_class_uid, "1.2.840.10008.5.1.4.1.1.2");
    ck_assert_str_ne(br.sop_instance_uid, "2.25.123456789012345678901234567851");
    ck_assert_str_ne(br.study_instance_uid, "2.25.12345678901234567890123456781");
    ck_assert_uint_gt(br.counts[KK_ACTION_UID], 2);
    ck_assert_uint_gt(br.counts[KK_ACTION_REMOVE] + br.counts[KK_ACTION_EMPTY], 3);
    /* no digests without a store */
    ck_assert_str_eq(br.input_sha256, "");
    /* nothing planted left */
    ck_assert(!contains(br.data, br.size, "Yamada"));
    ck_assert(!contains(br.data, br.size, "KAKOU-0001"));
    ck_assert(!contains(br.data, br.size, "19650412"));
    ck_assert(!contains(br.data, br.size, "Kakou Sample Hospital"));
    ck_assert(!contains(br.data, br.size, "2.25.123456789012345678901234567851"));
    ck_assert(contains(in, n, "KAKOU-0001")); /* the check can see it */
    kk_deid_buffer_result_clear(&br);
    ck_assert_ptr_null(br.data);
    ck_assert_uint_eq(br.version, KK_DEID_BUFFER_RESULT_VERSION);
    kk_deid_result_clear(&fr);
    free(file);
    free(in);
    run_close(&r);
    kk_key_free(key);
    kk_ctx_free(ctx);
}
END_TEST

START_TEST(keyed_uids)
{
    kk_ctx *ctx = kk_ctx_new();
    kk_key *k1, *k2;
    ck_assert_int_eq(kk_key_new_ephemeral(&k1, ctx), KK_OK);
    ck_assert_int_eq(kk_key_new_ephemeral(&k2, ctx), KK_OK);
    run a, b, c;
    run_open(&a, "dicom-basic", k1, NULL);
    run_open(&b, "dicom-basic", k1, NULL);
    run_open(&c, "dicom-basic", k2, NULL);
    size_t n;
    unsigned char *in = slurp(SAMPLE, &n);
    kk_deid_buffer_result ra = KK_DEID_BUFFER_RESULT_INIT, rb = KK_DEID_BUFFER_RESULT_INIT,
                          rc = KK_DEID_BUFFER_RESULT_INIT;
    ck_assert_int_eq(kk_deid_buffer(a.deid, a.ctx, in, n, NULL, &ra), KK_OK);
    ck_assert_int_eq(kk_deid_buffer(b.deid, b.ctx, in, n, NULL, &rb), KK_OK);
    ck_assert_int_eq(kk_deid_buffer(c.deid, c.ctx, in, n, NULL, &rc), KK_OK);
    ck_assert_str_eq(ra.sop_instance_uid, rb.sop_instance_uid);
    ck_assert_str_eq(ra.study_instance_uid, rb.study_instance_uid);
    ck_assert_uint_eq(ra.size, rb.size);
    ck_assert_int_eq(memcmp(ra.data, rb.data, ra.size), 0);
    ck_assert_str_ne(ra.sop_instance_uid, rc.sop_instance_uid);
    ck_assert_str_ne(ra.study_instance_uid, rc.study_instance_uid);
    kk_deid_buffer_result_clear(&ra);
    kk_deid_buffer_result_clear(&rb);
    kk_deid_buffer_result_clear(&rc);
    free(in);
    run_close(&a);
    run_close(&b);
    run_close(&c);
    kk_key_free(k1);
    kk_key_free(k2);
    kk_ctx_free(ctx);
}
END_TEST

START_TEST(bad_bytes)
{
    run r;
    run_open(&r, "dicom-basic", NULL, NULL);
    size_t n;
    unsigned char *in = slurp(SAMPLE, &n);
    /* cut in the middle of the data set: a truncated object */
    kk_deid_buffer_result br = KK_DEID_BUFFER_RESULT_INIT;
    static const char junk[] = "this is not DICOM, KAKOU-0001";
    kk_status st = kk_deid_buffer(r.deid, r.ctx, junk, sizeof junk, "C-STORE #7", &br);
    ck_assert_int_eq(st, KK_ENOTDICOM);
    ck_assert_ptr_null(br.data);
    ck_assert_ptr_nonnull(strstr(kk_error_message(r.ctx), "'C-STORE #7'"));
    ck_assert_ptr_null(strstr(kk_error_message(r.ctx), "KAKOU-0001"));
    ck_assert_int_eq(kk_deid_buffer(r.deid, r.ctx, NULL, 0, NULL, &br), KK_ENOTDICOM);
    ck_assert_int_eq(kk_deid_buffer(r.deid, r.ctx, NULL, 5, NULL, &br), KK_EINVAL);
    free(in);
    run_close(&r);
}
END_TEST

typedef struct worker {
    kk_deid *deid;
    const unsigned char *in;
    size_t n;
    unsigned char *out;
    size_t outn;
    kk_status st;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    kk_ctx *ctx = kk_ctx_new();
    for (int i = 0; i < 20; i++) {
        kk_deid_buffer_result br = KK_DEID_BUFFER_RESULT_INIT;
        w->st = kk_deid_buffer(w->deid, ctx, w->in, w->n, NULL, &br);
        if (w->st != KK_OK)
            break;
        free(w->out);
        w->out = malloc(br.size);
        memcpy(w->out, br.data, br.size);
        w->outn = br.size;
        kk_deid_buffer_result_clear(&br);
    }
    kk_ctx_free(ctx);
    return NULL;
}

START_TEST(threads)
{
    kk_ctx *ctx = kk_ctx_new();
    kk_key *key;
    ck_assert_int_eq(kk_key_new_ephemeral(&key, ctx), KK_OK);
    char db[300];
    snprintf(db, sizeof db, "%s/t.db", dir);
    run r;
    run_open(&r, "jp-pseudonymized", key, db);
    size_t n;
    unsigned char *in = slurp(SAMPLE, &n);
    worker w[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){ r.deid, in, n, NULL, 0, KK_OK };
        ck_assert_int_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    kk_deid_buffer_result one = KK_DEID_BUFFER_RESULT_INIT;
    ck_assert_int_eq(kk_deid_buffer(r.deid, r.ctx, in, n, NULL, &one), KK_OK);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(w[i].st, KK_OK);
        ck_assert_uint_eq(w[i].outn, one.size);
        ck_assert_int_eq(memcmp(w[i].out, one.data, one.size), 0);
        free(w[i].out);
    }
    ck_assert_int_eq(kk_store_flush(r.store, r.ctx), KK_OK);
    /* 4 x 20 + 1 audit rows, all committed (read by another connection) */
    sqlite3 *h;
    ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *s;
    ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT count(*) FROM audit WHERE status='ok'", -1,
                                        &s, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
    ck_assert_int_eq(sqlite3_column_int(s, 0), 81);
    sqlite3_finalize(s);
    sqlite3_close(h);
    kk_deid_buffer_result_clear(&one);
    free(in);
    run_close(&r);
    kk_key_free(key);
    kk_ctx_free(ctx);
}
END_TEST

static void sha256sum(const char *path, char hex[65])
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(fscanf(p, "%64s", hex), 1);
    pclose(p);
}

START_TEST(audit_row)
{
    kk_ctx *ctx = kk_ctx_new();
    kk_key *key;
    ck_assert_int_eq(kk_key_new_ephemeral(&key, ctx), KK_OK);
    char db[300], out[300];
    snprintf(db, sizeof db, "%s/a.db", dir);
    snprintf(out, sizeof out, "%s/out.dcm", dir);
    run r;
    run_open(&r, "jp-pseudonymized", key, db);
    size_t n;
    unsigned char *in = slurp(SAMPLE, &n);
    kk_deid_buffer_result br = KK_DEID_BUFFER_RESULT_INIT;
    ck_assert_msg(kk_deid_buffer(r.deid, r.ctx, in, n, "x", &br) == KK_OK, "%s",
                  kk_error_message(r.ctx));
    FILE *f = fopen(out, "wb");
    fwrite(br.data, 1, br.size, f);
    fclose(f);
    char want_in[65], want_out[65];
    sha256sum(SAMPLE, want_in);
    sha256sum(out, want_out);
    ck_assert_str_eq(br.input_sha256, want_in);
    ck_assert_str_eq(br.output_sha256, want_out);
    static const char junk[] = "not DICOM at all";
    kk_deid_buffer_result bad = KK_DEID_BUFFER_RESULT_INIT;
    ck_assert_int_eq(kk_deid_buffer(r.deid, r.ctx, junk, sizeof junk, "junk", &bad),
                     KK_ENOTDICOM);
    ck_assert_ptr_nonnull(strstr(kk_error_message(r.ctx), "'junk'"));
    ck_assert_int_eq(kk_store_flush(r.store, r.ctx), KK_OK);
    /* committed: another connection sees both rows now */
    sqlite3 *h;
    ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *s;
    ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT input_digest, output_digest, "
                                        "sop_instance_uid, status, profile_name FROM audit "
                                        "ORDER BY id", -1, &s, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
    ck_assert_str_eq((const char *)sqlite3_column_text(s, 0), want_in);
    ck_assert_str_eq((const char *)sqlite3_column_text(s, 1), want_out);
    ck_assert_str_eq((const char *)sqlite3_column_text(s, 2), br.sop_instance_uid);
    ck_assert_str_eq((const char *)sqlite3_column_text(s, 3), "ok");
    ck_assert_str_eq((const char *)sqlite3_column_text(s, 4), "jp-pseudonymized");
    ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
    ck_assert_str_eq((const char *)sqlite3_column_text(s, 3), "failed");
    ck_assert_ptr_null(sqlite3_column_text(s, 1));
    ck_assert_int_eq(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
    sqlite3_close(h);
    int64_t bad_row = -1;
    ck_assert_int_eq(kk_store_verify(r.store, r.ctx, &bad_row), KK_OK);
    ck_assert_int_eq(bad_row, 0);
    /* the store maps the new SOP Instance UID back */
    char *orig = NULL;
    ck_assert_int_eq(kk_store_lookup_uid(r.store, r.ctx, br.sop_instance_uid, &orig), KK_OK);
    ck_assert_str_eq(orig, "2.25.123456789012345678901234567851");
    kk_free(orig);
    kk_deid_buffer_result_clear(&br);
    free(in);
    run_close(&r);
    kk_key_free(key);
    kk_ctx_free(ctx);
}
END_TEST

/* kk_deid_file_ex()'s hooks: what each saw */
typedef struct seen {
    int inputs, publishes;
    char in[65], out[65];
    kk_status answer; /* on_input's */
} seen;

static kk_status saw_input(void *payload, kk_ctx *ctx, const char *sha, uint64_t size)
{
    (void)ctx;
    seen *s = payload;
    s->inputs++;
    ck_assert_uint_gt(size, 0);
    snprintf(s->in, sizeof s->in, "%s", sha);
    return s->answer;
}

static kk_status saw_output(void *payload, kk_ctx *ctx, const char *written,
                            const kk_deid_result *res)
{
    (void)ctx;
    seen *s = payload;
    s->publishes++;
    /* what is written is what the digest says, before it appears */
    char now[65], copy[300];
    size_t n;
    unsigned char *bytes = slurp(written, &n); /* /proc/self/fd/N: ours only */
    snprintf(copy, sizeof copy, "%s/written", dir);
    FILE *f = fopen(copy, "wb");
    ck_assert_uint_eq(fwrite(bytes, 1, n, f), n);
    fclose(f);
    free(bytes);
    sha256sum(copy, now);
    ck_assert_int_eq(unlink(copy), 0);
    ck_assert_uint_eq(n, res->bytes_out);
    ck_assert_str_eq(now, res->output_sha256);
    snprintf(s->out, sizeof s->out, "%s", res->output_sha256);
    return KK_OK;
}

/* Hash while copying: kk_deid_file() gives the SHA-256 of the input and
 * of the output it wrote, equal to sha256sum's, without a store when
 * asked (digests), from the one read and the one write. */
START_TEST(file_digests)
{
    kk_ctx *ctx = kk_ctx_new();
    kk_key *key;
    kk_profile *profile;
    kk_deid *deid;
    ck_assert_int_eq(kk_key_new_ephemeral(&key, ctx), KK_OK);
    ck_assert_int_eq(kk_profile_load(&profile, ctx, "dicom-basic", NULL), KK_OK);
    kk_deid_options o = KK_DEID_OPTIONS_INIT;
    o.key = key;
    o.digests = 1;
    ck_assert_int_eq(kk_deid_new(&deid, ctx, profile, &o), KK_OK);
    const char *inputs[] = { SAMPLE, TESTDATA "/sample/ct-2.dcm", TESTDATA "/sample/sr-1.dcm" };
    for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++) {
        kk_deid_result res = KK_DEID_RESULT_INIT;
        ck_assert_msg(kk_deid_file(deid, ctx, inputs[i], dir, &res) == KK_OK, "%s",
                      kk_error_message(ctx));
        char want_in[65], want_out[65], path[600];
        snprintf(path, sizeof path, "%s/%s", dir, res.output_path);
        sha256sum(inputs[i], want_in);
        sha256sum(path, want_out);
        ck_assert_str_eq(res.input_sha256, want_in);
        ck_assert_str_eq(res.output_sha256, want_out);
        struct stat sb;
        ck_assert_int_eq(stat(path, &sb), 0);
        ck_assert_uint_eq(res.bytes_out, (uint64_t)sb.st_size);
        kk_deid_result_clear(&res);
    }
    /* objects whose Pixel Data is carried from the input byte for byte
     * (written from the bytes read and hashed) or re-encoded: the corpus */
    kk_test_corpus cp;
    kk_test_corpus_load(&cp);
    int checked = 0;
    for (int i = 0; i < cp.nfiles && checked < 12; i++) {
        if (strncmp(cp.files[i], "image/", 6) != 0)
            continue;
        char in[1300], out[1300], want_in[65], want_out[65];
        snprintf(in, sizeof in, "%s/%s", cp.dir, cp.files[i]);
        kk_deid_result res = KK_DEID_RESULT_INIT;
        if (kk_deid_file(deid, ctx, in, dir, &res) != KK_OK) {
            kk_deid_result_clear(&res);
            continue;
        }
        snprintf(out, sizeof out, "%s/%s", dir, res.output_path);
        sha256sum(in, want_in);
        sha256sum(out, want_out);
        ck_assert_msg(strcmp(res.input_sha256, want_in) == 0, "input digest of %s", in);
        ck_assert_msg(strcmp(res.output_sha256, want_out) == 0, "output digest of %s", in);
        kk_deid_result_clear(&res);
        checked++;
    }
    ck_assert(cp.nfiles == 0 || checked > 0);
    kk_test_corpus_free(&cp);
    /* the hooks see the same digests, on_input before anything is done */
    seen s = { 0, 0, "", "", KK_OK };
    kk_deid_hooks h = KK_DEID_HOOKS_INIT;
    h.on_input = saw_input;
    h.before_publish = saw_output;
    h.payload = &s;
    char sub[300];
    snprintf(sub, sizeof sub, "%s/hooked", dir);
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    kk_deid_result res = KK_DEID_RESULT_INIT;
    ck_assert_int_eq(kk_deid_file_ex(deid, ctx, SAMPLE, sub, &res, &h), KK_OK);
    ck_assert_int_eq(s.inputs, 1);
    ck_assert_int_eq(s.publishes, 1);
    ck_assert_str_eq(s.in, res.input_sha256);
    ck_assert_str_eq(s.out, res.output_sha256);
    kk_deid_result_clear(&res);
    /* an input on_input turns down is not written */
    snprintf(sub, sizeof sub, "%s/refused", dir);
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    s.answer = KK_EEXISTS;
    ck_assert_int_eq(kk_deid_file_ex(deid, ctx, SAMPLE, sub, &res, &h), KK_EEXISTS);
    ck_assert_int_eq(s.inputs, 2);
    ck_assert_int_eq(s.publishes, 1);
    ck_assert_ptr_null(res.output_path);
    ck_assert_int_eq(rmdir(sub), 0); /* empty */
    kk_deid_result_clear(&res);
    kk_deid_free(deid);
    /* without a store and without asking: no digests */
    o.digests = 0;
    ck_assert_int_eq(kk_deid_new(&deid, ctx, profile, &o), KK_OK);
    ck_assert_int_eq(kk_deid_file(deid, ctx, SAMPLE, dir, &res), KK_OK);
    ck_assert_str_eq(res.input_sha256, "");
    ck_assert_str_eq(res.output_sha256, "");
    kk_deid_result_clear(&res);
    kk_deid_free(deid);
    kk_profile_free(profile);
    kk_key_free(key);
    kk_ctx_free(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("deid_buffer");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, same_as_file);
    tcase_add_test(tc, keyed_uids);
    tcase_add_test(tc, bad_bytes);
    tcase_add_test(tc, threads);
    tcase_add_test(tc, audit_row);
    tcase_add_test(tc, file_digests);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
