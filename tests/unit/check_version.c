/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/check_version.c - include/kakou/version.h: the macros agree
 * with each other and with what the library says at run time.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "kakou/kakou.h"

START_TEST(macros_agree)
{
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", KK_VERSION_MAJOR, KK_VERSION_MINOR, KK_VERSION_PATCH);
    ck_assert_str_eq(KK_VERSION_STRING, want);
    ck_assert_int_eq(KK_VERSION_NUMBER,
                     KK_VERSION_MAJOR * 10000 + KK_VERSION_MINOR * 100 + KK_VERSION_PATCH);
    ck_assert(KK_VERSION_CHECK(0, 1, 9) < KK_VERSION_CHECK(0, 2, 0));
    ck_assert(KK_VERSION_CHECK(0, 99, 0) < KK_VERSION_CHECK(1, 0, 0));
    /* the soname follows the major from 1.0 on (version.h) */
    ck_assert(KK_VERSION_MAJOR == 0 || KK_SOVERSION == KK_VERSION_MAJOR);
}
END_TEST

START_TEST(run_time_matches_header)
{
    ck_assert_str_eq(kk_version(), KK_VERSION_STRING);
    ck_assert_int_eq(kk_version_number(), KK_VERSION_NUMBER);
    ck_assert_ptr_nonnull(strstr(kk_version_libraries(), "libsodium "));
}
END_TEST

static Suite *version_suite(void)
{
    Suite *s = suite_create("version");
    TCase *tc = tcase_create("version");
    tcase_add_test(tc, macros_agree);
    tcase_add_test(tc, run_time_matches_header);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(version_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
