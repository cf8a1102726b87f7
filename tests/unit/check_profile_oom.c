/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/check_profile_oom.c - loading a profile when memory runs out.
 *
 * In a build with fault injection (make CFLAGS=-DKK_FAULT_INJECTION
 * check-unit), case N fails the library's Nth allocation: KK_FAIL_ALLOC=N,
 * which the library reads at its first allocation, so every case needs a
 * process of its own (keep CK_FORK on, and allocate nothing through the
 * library before the cases run). A load must then fail with KK_ENOMEM, or,
 * once N is past its allocations, give the profile a load without failures
 * gives: the same digest. Other builds run each load once, undisturbed.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "dicom/dicom.h"
#include "kakou/kakou.h"
#include "profile/profile_internal.h"

#ifdef KK_FAULT_INJECTION
/* past the last allocation of each load below (about 100 today); more
 * cases cost only time */
#define NCASES 300
#else
#define NCASES 1
#endif

/* Every kind of statement, and values the digest cuts ("    # "). */
static const char text[] =
    "profile oom\n"
    "version \"7    # seven\"\n"
    "description \"rules    # and values\"\n"
    "code 99 \"Pinned\"\n"
    "option on code=1 \"On\"\n"
    "option off\n"
    "conflict on off\n"
    "enable on\n"
    "default remove\n"
    "add PatientIdentityRemoved \"YES\"\n"
    "set key required\n"
    "PatientName set \"x    # y\" when on\n"
    "PatientName keep when off\n"
    "PatientID pseudonym domain=patient length=12 \"bare\"\n"
    "(0008,0050) X/Z/D\n"
    "(60xx,3000) Z\n"
    "(0029,xx10,\"SIEMENS CSA HEADER\") K\n"
    "private X\n"
    "vr:DA,TM U\n"
    "pixel mode phi if Modality=US|SC \"Manufacturer~GE    # Med\"\n"
    "pixel region -200,0,12.5%,7 when on\n"
    "pixel allow \"^MI [0-9.]+$\"\n";

/* its digest, from a load that did not fail */
#define TEXT_DIGEST "09bfd9936056e4422a1aaa650620fd9c53c8fb4f23262bce2a7aab9e3dd6d0b9"

static void fail_allocation(int n)
{
#ifdef KK_FAULT_INJECTION
    char v[16];
    snprintf(v, sizeof v, "%d", n);
    setenv("KK_FAIL_ALLOC", v, 1);
#else
    (void)n;
#endif
}

/* Fault-injection builds: a failed load must come from an injected
 * failure (exactly one, the Nth allocation), a good load from none, and
 * case 0 (the first allocation fails) must fail: else the cases would pass
 * without ever running a failure path. */
static void injected(int i, bool ok)
{
#ifdef KK_FAULT_INJECTION
    ck_assert_msg(kk__alloc_failures_injected() == (ok ? 0 : 1),
                  "case %d: load %s, %ld allocation failures injected", i,
                  ok ? "succeeded" : "failed", kk__alloc_failures_injected());
    ck_assert_msg(i != 0 || !ok, "case 0: the first allocation failed, yet the load succeeded");
#else
    (void)i;
    ck_assert(ok);
#endif
}

/* KK_ENOMEM with a message, or a profile; true for a profile */
static bool loaded(kk_status st, kk_ctx *ctx, const kk_profile *p)
{
    if (st != KK_OK) {
        ck_assert_msg(st == KK_ENOMEM, "status %d: %s", st, kk_error_message(ctx));
        ck_assert_int_eq(kk_error_code(ctx), KK_ENOMEM);
        ck_assert_str_ne(kk_error_message(ctx), "");
        ck_assert_ptr_null(p);
        return false;
    }
    ck_assert_ptr_nonnull(p);
    return true;
}

START_TEST(text_out_of_memory)
{
    fail_allocation(_i + 1);
    kk_ctx *ctx = kk_ctx_new();
    kk_profile *p = NULL;
    kk_status st = kk_profile__load_text(&p, ctx, text, strlen(text), "oom.kkp", NULL);
    bool ok = loaded(st, ctx, p);
    injected(_i, ok);
    if (ok) {
        ck_assert_str_eq(kk_profile_digest(p), TEXT_DIGEST);
        const kk_rule *r = kk_profile__match(p, KK_TAG(0x0010, 0x0020), 0, NULL, NULL);
        ck_assert_str_eq(kk_rule__arg(r, "domain"), "patient");
        ck_assert_str_eq(kk_rule__arg(r, NULL), "bare");
    }
    kk_profile_free(p);
    kk_ctx_free(ctx);
}
END_TEST

/* inherit, include, the big tables, options */
START_TEST(builtin_out_of_memory)
{
    fail_allocation(_i + 1);
    kk_ctx *ctx = kk_ctx_new();
    kk_profile *p = NULL;
    const char *opts[] = { "shift-dates", NULL };
    kk_status st = kk_profile_load(&p, ctx, "jp-pseudonymized", opts);
    bool ok = loaded(st, ctx, p);
    injected(_i, ok);
    if (ok) {
        ck_assert_str_eq(kk_profile_name(p), "jp-pseudonymized");
        const kk_rule *r = kk_profile__match(p, KK_TAG(0x0010, 0x0020), 0, NULL, NULL);
        ck_assert_int_eq(r->action, KK_ACTION_PSEUDONYM);
    }
    kk_profile_free(p);
    kk_ctx_free(ctx);
}
END_TEST

/* files, and a file that includes another */
START_TEST(file_out_of_memory)
{
    char dir[] = "/tmp/kk-check-profile-oom.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char a[64], b[64];
    snprintf(a, sizeof a, "%s/a.kkp", dir);
    snprintf(b, sizeof b, "%s/b.kkp", dir);
    FILE *fp = fopen(a, "w");
    ck_assert_ptr_nonnull(fp);
    fputs("profile a\ninclude b.kkp\nPatientName K\n", fp);
    fclose(fp);
    fp = fopen(b, "w");
    ck_assert_ptr_nonnull(fp);
    fputs("PatientID X\n", fp);
    fclose(fp);
    fail_allocation(_i + 1);
    kk_ctx *ctx = kk_ctx_new();
    kk_profile *p = NULL;
    kk_status st = kk_profile_load(&p, ctx, a, NULL);
    bool ok = loaded(st, ctx, p);
    injected(_i, ok);
    if (ok) {
        const kk_rule *r = kk_profile__match(p, KK_TAG(0x0010, 0x0020), 0, NULL, NULL);
        ck_assert_int_eq(r->action, KK_ACTION_REMOVE);
    }
    kk_profile_free(p);
    kk_ctx_free(ctx);
    unlink(a);
    unlink(b);
    rmdir(dir);
}
END_TEST

Suite *profile_oom_suite(void)
{
    Suite *s = suite_create("profile_oom");
    TCase *tc = tcase_create("load");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, text_out_of_memory, 0, NCASES);
    tcase_add_loop_test(tc, builtin_out_of_memory, 0, NCASES);
    tcase_add_loop_test(tc, file_out_of_memory, 0, NCASES);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(profile_oom_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
