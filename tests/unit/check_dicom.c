/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/check_dicom.c - lib/dicom: saving copies untouched Pixel
 * Data from the input file (copy_file_range) instead of writing it through
 * DCMTK, and the two ways give the same bytes.
 *
 * Cases: every object of ../shared/corpus is loaded and saved twice, once
 * as kk_deid_file() saves it (Pixel Data copied when nothing changed it)
 * and once after handing the data set to lib/pixel's door
 * (kk_dcm__dcmtk_dataset(), which rules the copy out): the files must be
 * equal byte for byte, and most native and encapsulated objects must take
 * the copy (the rest: odd lengths, and encapsulated Pixel Data written as
 * OW, which DCMTK mends). A Pixel Data value that was emptied, or followed by another
 * element, or an output in another transfer syntax, is never copied.
 * SHARED (default ../shared) locates the cp.dir; KK_DICOM_VERBOSE=1 lists
 * the objects whose Pixel Data was not copied.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "dicom/dicom.h"
#include "corpus.h"

#define TAG_PIXEL_DATA KK_TAG(0x7FE0, 0x0010)

static kk_test_corpus cp;
static char tmpdir[] = "/tmp/kakou-check-dicom-XXXXXX";


static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    rewind(fp);
    unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, fp) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(fp);
    *len = (size_t)n;
    return b;
}

/* Load path and save it to out; expose: go through lib/pixel's door first. */
static int save_one(const char *path, const char *out, bool expose, bool *copied)
{
    kk_ctx *ctx = kk_ctx_new();
    kk_dcm *d = NULL;
    int rc = -1;
    if (kk_dcm__load(&d, ctx, path, 0) == KK_OK) {
        if (expose)
            (void)kk_dcm__dcmtk_dataset(d);
        if (kk_dcm__save(d, ctx, out) == KK_OK) {
            rc = 0;
            *copied = kk_dcm__pixels_copied(d);
        }
    }
    kk_dcm__free(d);
    kk_ctx_free(ctx);
    return rc;
}

START_TEST(corpus_copy_equals_dcmtk)
{
    char in[1200], a[1100], b[1100];
    snprintf(in, sizeof in, "%s/%s", cp.dir, cp.files[_i]);
    snprintf(a, sizeof a, "%s/a.dcm", tmpdir);
    snprintf(b, sizeof b, "%s/b.dcm", tmpdir);
    bool copied = false, never = false;
    if (save_one(in, a, false, &copied) != 0)
        return; /* unreadable or unwritable either way: t0110 judges those */
    ck_assert_msg(save_one(in, b, true, &never) == 0, "%s: saved once, not twice", cp.files[_i]);
    ck_assert_msg(!never, "%s: copied after lib/pixel had the data set", cp.files[_i]);
    size_t la = 0, lb = 0;
    unsigned char *ba = slurp(a, &la), *bb = slurp(b, &lb);
    ck_assert_ptr_nonnull(ba);
    ck_assert_ptr_nonnull(bb);
    ck_assert_msg(la == lb && memcmp(ba, bb, la) == 0,
                  "%s: copying Pixel Data gave other bytes than DCMTK (%zu vs %zu bytes)",
                  cp.files[_i], la, lb);
    free(ba);
    free(bb);
}
END_TEST

START_TEST(most_pixels_are_copied)
{
    int with_pixels = 0, copied_native = 0, copied_encapsulated = 0;
    for (int i = 0; i < cp.nfiles; i++) {
        char in[1200], a[1100];
        snprintf(in, sizeof in, "%s/%s", cp.dir, cp.files[i]);
        snprintf(a, sizeof a, "%s/c.dcm", tmpdir);
        kk_ctx *ctx = kk_ctx_new();
        kk_dcm *d = NULL;
        if (kk_dcm__load(&d, ctx, in, 0) == KK_OK) {
            kk_dcm_elem *px = kk_dcm__find(kk_dcm__dataset(d), TAG_PIXEL_DATA);
            bool has = px && kk_dcm__length(px) > 0;
            bool enc = px && kk_dcm__is_encapsulated(px);
            if (has && kk_dcm__save(d, ctx, a) == KK_OK) {
                with_pixels++;
                if (kk_dcm__pixels_copied(d))
                    *(enc ? &copied_encapsulated : &copied_native) += 1;
                else if (getenv("KK_DICOM_VERBOSE"))
                    fprintf(stderr, "not copied: %s (%s, %u bytes)\n", cp.files[i],
                            kk_dcm__transfer_syntax(d), kk_dcm__length(px));
            }
        }
        kk_dcm__free(d);
        kk_ctx_free(ctx);
    }
    fprintf(stderr, "check_dicom: %d objects with Pixel Data, %d native and %d encapsulated "
            "copied\n", with_pixels, copied_native, copied_encapsulated);
    ck_assert_int_gt(with_pixels, 60);
    /* the rest (KK_DICOM_VERBOSE=1 lists them): values under the lazy
     * threshold, which DCMTK holds anyway; deflated data sets; odd
     * lengths; Data Set Trailing Padding after Pixel Data; encapsulated
     * Pixel Data marked OW */
    ck_assert_msg(copied_native + copied_encapsulated >= with_pixels * 2 / 3,
                  "only %d of %d objects with Pixel Data were copied",
                  copied_native + copied_encapsulated, with_pixels);
    ck_assert_int_gt(copied_native, 20);
    ck_assert_int_gt(copied_encapsulated, 20);
}
END_TEST

/* A corpus object with native, explicit VR little endian Pixel Data. */
static const char *native_file(char *buf, size_t n)
{
    snprintf(buf, n, "%s/image/pydicomdata__CT_small.dcm", cp.dir);
    if (access(buf, R_OK) == 0)
        return buf;
    for (int i = 0; i < cp.nfiles; i++) {
        if (strncmp(cp.files[i], "image/", 6) != 0)
            continue;
        snprintf(buf, n, "%s/%s", cp.dir, cp.files[i]);
        kk_ctx *ctx = kk_ctx_new();
        kk_dcm *d = NULL;
        bool ok = kk_dcm__load(&d, ctx, buf, 0) == KK_OK &&
                  strcmp(kk_dcm__transfer_syntax(d), "1.2.840.10008.1.2.1") == 0;
        kk_dcm_elem *px = ok ? kk_dcm__find(kk_dcm__dataset(d), TAG_PIXEL_DATA) : NULL;
        ok = ok && px && !kk_dcm__is_encapsulated(px) && kk_dcm__length(px) > 65536;
        kk_dcm__free(d);
        kk_ctx_free(ctx);
        if (ok)
            return buf;
    }
    return NULL;
}

START_TEST(changed_pixels_are_written)
{
    char in[1200], out[1100];
    ck_assert_ptr_nonnull(native_file(in, sizeof in));
    snprintf(out, sizeof out, "%s/e.dcm", tmpdir);
    kk_ctx *ctx = kk_ctx_new();
    kk_dcm *d = NULL;
    ck_assert_int_eq(kk_dcm__load(&d, ctx, in, 0), KK_OK);
    kk_dcm_elem *px = kk_dcm__find(kk_dcm__dataset(d), TAG_PIXEL_DATA);
    ck_assert_ptr_nonnull(px);
    /* untouched: copied */
    ck_assert_int_eq(kk_dcm__save(d, ctx, out), KK_OK);
    ck_assert(kk_dcm__pixels_copied(d));
    /* emptied by a rule: written by DCMTK, empty */
    ck_assert_int_eq(kk_dcm__set_empty(px, ctx), KK_OK);
    ck_assert_int_eq(kk_dcm__save(d, ctx, out), KK_OK);
    ck_assert(!kk_dcm__pixels_copied(d));
    kk_dcm__free(d);
    d = NULL;
    ck_assert_int_eq(kk_dcm__load(&d, ctx, out, 0), KK_OK);
    px = kk_dcm__find(kk_dcm__dataset(d), TAG_PIXEL_DATA);
    ck_assert(px == NULL || kk_dcm__length(px) == 0);
    kk_dcm__free(d);
    kk_ctx_free(ctx);
}
END_TEST

START_TEST(element_after_pixels_is_written)
{
    char in[1200], out[1100];
    ck_assert_ptr_nonnull(native_file(in, sizeof in));
    snprintf(out, sizeof out, "%s/f.dcm", tmpdir);
    kk_ctx *ctx = kk_ctx_new();
    kk_dcm *d = NULL;
    ck_assert_int_eq(kk_dcm__load(&d, ctx, in, 0), KK_OK);
    /* a private block after Pixel Data: the copy would put Pixel Data
     * after it */
    ck_assert_int_eq(kk_dcm__put_string(kk_dcm__dataset(d), ctx, KK_TAG(0x7FE1, 0x0010),
                                        "KAKOU TEST"), KK_OK);
    ck_assert_int_eq(kk_dcm__save(d, ctx, out), KK_OK);
    ck_assert(!kk_dcm__pixels_copied(d));
    kk_dcm__free(d);
    d = NULL;
    ck_assert_int_eq(kk_dcm__load(&d, ctx, out, 0), KK_OK);
    ck_assert_ptr_nonnull(kk_dcm__find(kk_dcm__dataset(d), TAG_PIXEL_DATA));
    ck_assert_ptr_nonnull(kk_dcm__find(kk_dcm__dataset(d), KK_TAG(0x7FE1, 0x0010)));
    kk_dcm__free(d);
    kk_ctx_free(ctx);
}
END_TEST

START_TEST(other_syntax_is_written)
{
    char in[1200], out[1100];
    ck_assert_ptr_nonnull(native_file(in, sizeof in));
    snprintf(out, sizeof out, "%s/g.dcm", tmpdir);
    kk_ctx *ctx = kk_ctx_new();
    kk_dcm *d = NULL;
    ck_assert_int_eq(kk_dcm__load(&d, ctx, in, 0), KK_OK);
    ck_assert_int_eq(kk_dcm__set_transfer_syntax(d, ctx, "1.2.840.10008.1.2"), KK_OK);
    ck_assert_int_eq(kk_dcm__save(d, ctx, out), KK_OK);
    ck_assert(!kk_dcm__pixels_copied(d));
    kk_dcm__free(d);
    d = NULL;
    ck_assert_int_eq(kk_dcm__load(&d, ctx, out, 0), KK_OK);
    ck_assert_str_eq(kk_dcm__transfer_syntax(d), "1.2.840.10008.1.2");
    kk_dcm__free(d);
    kk_ctx_free(ctx);
}
END_TEST

static Suite *dicom_suite(void)
{
    Suite *s = suite_create("dicom");
    TCase *tc = tcase_create("pixel copy");
    tcase_add_test(tc, changed_pixels_are_written);
    tcase_add_test(tc, element_after_pixels_is_written);
    tcase_add_test(tc, other_syntax_is_written);
    suite_add_tcase(s, tc);
    tc = tcase_create("corpus");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, corpus_copy_equals_dcmtk, 0, cp.nfiles);
    tcase_add_test(tc, most_pixels_are_copied);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    kk_test_corpus_load(&cp);
    if (cp.nfiles == 0) {
        fprintf(stderr, "check_dicom: no corpus at %s (set SHARED)\n", cp.dir);
        return EXIT_FAILURE;
    }
    if (!mkdtemp(tmpdir)) {
        perror("check_dicom: mkdtemp");
        return EXIT_FAILURE;
    }
    SRunner *sr = srunner_create(dicom_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    kk_test_corpus_free(&cp);
    const char *n[] = { "a", "b", "c", "e", "f", "g" };
    for (size_t i = 0; i < sizeof n / sizeof n[0]; i++) {
        char p[1100];
        snprintf(p, sizeof p, "%s/%s.dcm", tmpdir, n[i]);
        unlink(p);
    }
    rmdir(tmpdir);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
