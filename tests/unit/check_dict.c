/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/check_dict.c - lib/dicom/dict_dcmtk.cc: keyword, VR and tag
 * lookups in DCMTK's data dictionary; and lib/dict/dict.c, the same
 * lookups in plain C in the compiled-in table, which must give the same
 * answers whichever dictionary DCMTK has loaded (case "plain C").
 *
 * The answers are the ones kakou gave before the dictionary was compiled
 * in (DCMTK's findTagFromName over the text files), and must not depend
 * on which dictionary is loaded: main() sets DCMDICTPATH=/dev/null unless
 * it is set, so a plain run uses the compiled-in table and its sorted
 * index, and tests/e2e/t0700-dict-builtin.sh runs this again with
 * DCMDICTPATH naming the text files. tests/tools/dict_compare.cc checks
 * every keyword; this pins the cases profiles rely on: standard, retired
 * (DCMTK's RETIRED_X and PS3.6's X), repeating groups, private-only names,
 * DCMTK's "gggg,eeee" form and names that are not there.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dicom/dicom.h"
#include "dict/dict.h"
#include "kakou/kakou.h"

static const struct {
    const char *keyword;
    uint32_t tag; /* 0: KK_ENOTFOUND */
} keywords[] = {
    { "PatientName", 0x00100010 },
    { "PatientID", 0x00100020 },
    { "SOPInstanceUID", 0x00080018 },
    { "PixelData", 0x7FE00010 },
    /* standard wins over the private entries of the same name */
    { "AcquisitionNumber", 0x00200012 },
    /* retired: DCMTK's spelling and PS3.6's */
    { "RETIRED_AcquisitionComments", 0x00184000 },
    { "AcquisitionComments", 0x00184000 },
    { "RETIRED_StudyComments", 0x00324000 },
    /* a PS3.6 keyword names the public attribute, not the private entry
     * of the same name DCMTK would find first (11 such names) */
    { "StudyComments", 0x00324000 },
    { "ImagePosition", 0x00200030 },
    { "RETIRED_PatientName", 0 },
    /* repeating groups: the first group */
    { "OverlayRows", 0x60000010 },
    { "OverlayData", 0x60003000 },
    { "RETIRED_CurveDimensions", 0x50000005 },
    { "CurveDimensions", 0x50000005 },
    /* DCMTK's skeleton */
    { "Item", 0xFFFEE000 },
    /* a name only a private dictionary entry has */
    { "2DOversamplingLines", 0x001900D5 },
    /* DCMTK reads "gggg,eeee" as a tag */
    { "0010,0020", 0x00100020 },
    /* not keywords */
    { "NoSuchKeyword", 0 },
    { "RETIRED_NoSuchKeyword", 0 },
    { "patientname", 0 },
    { "PatientName ", 0 },
    { "PatientNam", 0 },
    { "PatientNameX", 0 },
    { "RETIRED_", 0 },
    { "", 0 },
};

START_TEST(tag_of_keyword)
{
    uint32_t tag = 0xdeadbeef;
    kk_status st = kk_dcm__tag_of_keyword(keywords[_i].keyword, &tag);
    if (keywords[_i].tag) {
        ck_assert_msg(st == KK_OK, "'%s' not found", keywords[_i].keyword);
        ck_assert_msg(tag == keywords[_i].tag, "'%s': %08X, wanted %08X", keywords[_i].keyword,
                      tag, keywords[_i].tag);
    } else {
        ck_assert_msg(st == KK_ENOTFOUND, "'%s' found: %08X", keywords[_i].keyword, tag);
        ck_assert_uint_eq(tag, 0xdeadbeef);
    }
}
END_TEST

/* lib/dict, which lib/profile uses: the same cases, without DCMTK */
START_TEST(dict_tag_of_keyword)
{
    uint32_t tag = 0xdeadbeef;
    kk_status st = kk_dict__tag_of_keyword(keywords[_i].keyword, &tag);
    if (keywords[_i].tag) {
        ck_assert_msg(st == KK_OK, "'%s' not found", keywords[_i].keyword);
        ck_assert_msg(tag == keywords[_i].tag, "'%s': %08X, wanted %08X", keywords[_i].keyword,
                      tag, keywords[_i].tag);
    } else {
        ck_assert_msg(st == KK_ENOTFOUND, "'%s' found: %08X", keywords[_i].keyword, tag);
        ck_assert_uint_eq(tag, 0xdeadbeef);
    }
}
END_TEST

START_TEST(dict_keyword_and_vr_of_tag)
{
    ck_assert_str_eq(kk_dict__keyword(0x00100010), "PatientName");
    ck_assert_str_eq(kk_dict__keyword(0x00324000), "StudyComments");
    ck_assert_str_eq(kk_dict__keyword(0x60020010), "OverlayRows");
    ck_assert_str_eq(kk_dict__keyword(0x00091000), "");
    ck_assert_str_eq(kk_dict__keyword(0x00100000), "GenericGroupLength");
    ck_assert_uint_eq(kk_dict__vr(0x00100010), KK_VR('P', 'N'));
    ck_assert_uint_eq(kk_dict__vr(0x60000010), KK_VR('U', 'S'));
    ck_assert_uint_eq(kk_dict__vr(0x00280106), 0);
    ck_assert_uint_eq(kk_dict__vr(0x00091000), 0);
    /* and what lib/dicom answers, over every tag of the table */
    size_t n, nnormal;
    const kk_dict_entry *t = kk_dict__entries(&n, &nnormal);
    ck_assert_uint_gt(nnormal, 4000);
    for (size_t i = 0; i < n; i++) {
        uint32_t tag = KK_TAG(t[i].group, t[i].element);
        ck_assert_str_eq(kk_dict__keyword(tag), kk_dcm__keyword(tag));
        ck_assert_uint_eq(kk_dict__vr(tag), kk_dcm__dict_vr(tag));
    }
}
END_TEST

START_TEST(keyword_of_tag)
{
    ck_assert_str_eq(kk_dcm__keyword(0x00100010), "PatientName");
    ck_assert_str_eq(kk_dcm__keyword(0x00324000), "StudyComments"); /* no RETIRED_ */
    ck_assert_str_eq(kk_dcm__keyword(0x60020010), "OverlayRows");     /* repeating */
    ck_assert_str_eq(kk_dcm__keyword(0x00091000), "");
    ck_assert_str_eq(kk_dcm__keyword(0x00100000), "GenericGroupLength");
}
END_TEST

START_TEST(vr_of_tag)
{
    ck_assert_uint_eq(kk_dcm__dict_vr(0x00100010), KK_VR('P', 'N'));
    ck_assert_uint_eq(kk_dcm__dict_vr(0x00080018), KK_VR('U', 'I'));
    ck_assert_uint_eq(kk_dcm__dict_vr(0x60000010), KK_VR('U', 'S'));
    ck_assert_uint_eq(kk_dcm__dict_vr(0x00280106), 0); /* "xs": US or SS */
    ck_assert_uint_eq(kk_dcm__dict_vr(0x00091000), 0);
}
END_TEST

static void *preload(void *arg)
{
    (void)arg;
    kk_preload();
    return NULL;
}

/* kk_preload() on one thread while a profile loads on another (what the
 * kakou command does): both finish, lookups answer, and DCMTK's own
 * dictionary has its entries (an implicit VR element gets its VR). */
START_TEST(preload_beside_profile_load)
{
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, preload, NULL), 0);
    kk_ctx *ctx = kk_ctx_new();
    kk_profile *p = NULL;
    ck_assert_int_eq(kk_profile_load(&p, ctx, "dicom-basic", NULL), KK_OK);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    kk_preload(); /* again: nothing more to do */
    ck_assert_str_eq(kk_dcm__keyword(0x00100010), "PatientName");
    static const unsigned char implicit_le[] = {
        0x10, 0x00, 0x10, 0x00, 8, 0, 0, 0, 'D', 'O', 'E', '^', 'J', 'O', 'H', 'N',
    };
    kk_dcm *d = NULL;
    ck_assert_int_eq(kk_dcm__load_buffer(&d, ctx, implicit_le, sizeof implicit_le), KK_OK);
    kk_dcm_elem *e = kk_dcm__find(kk_dcm__dataset(d), 0x00100010);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(kk_dcm__vr(e), KK_VR('P', 'N'));
    kk_dcm__free(d);
    kk_profile_free(p);
    kk_ctx_free(ctx);
}
END_TEST

/* /dev/null: the compiled-in table; files named: DCMTK's own load */
START_TEST(builtin_when_no_files)
{
    const char *path = getenv("DCMDICTPATH");
    ck_assert_ptr_nonnull(path);
    ck_assert_int_eq(kk_dcm__dict_builtin(), strcmp(path, "/dev/null") == 0);
}
END_TEST

static Suite *dict_suite(void)
{
    Suite *s = suite_create("dict");
    TCase *tc = tcase_create("lookup");
    tcase_add_loop_test(tc, tag_of_keyword, 0, (int)(sizeof keywords / sizeof keywords[0]));
    tcase_add_test(tc, keyword_of_tag);
    tcase_add_test(tc, vr_of_tag);
    suite_add_tcase(s, tc);
    tc = tcase_create("plain C");
    tcase_add_loop_test(tc, dict_tag_of_keyword, 0, (int)(sizeof keywords / sizeof keywords[0]));
    tcase_add_test(tc, dict_keyword_and_vr_of_tag);
    suite_add_tcase(s, tc);
    tc = tcase_create("source");
    tcase_add_test(tc, builtin_when_no_files);
    tcase_add_test(tc, preload_beside_profile_load);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    /* as the kakou command does: no files named, no files read */
    setenv("DCMDICTPATH", "/dev/null", 0);
    SRunner *sr = srunner_create(dict_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
