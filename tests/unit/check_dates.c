/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/check_dates.c - lib/text/dicom_dates.c: DICOM DA/TM/DT/AS
 * values and Japanese era dates.
 *
 * Proves R10 (age top-coding), R11/R12 (shift keeps intervals, year-month
 * truncation) and R22 (every era spelling parses back to the date). The
 * malformed-input cases copy each input into a heap buffer of exactly its
 * length, so ASan reports any read past len.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text/dicom_dates.h"

/* Run fn on an exact-size heap copy of s. */
#define EXACT(call_with_p_n, s)                                            \
    do {                                                                   \
        size_t n_ = strlen(s);                                             \
        char *p_ = malloc(n_ ? n_ : 1);                                    \
        memcpy(p_, s, n_);                                                 \
        const char *p = p_;                                                \
        size_t n = n_;                                                     \
        call_with_p_n;                                                     \
        free(p_);                                                          \
    } while (0)

static kk_status shift_da(const char *in, int days, char *out, size_t sz)
{
    kk_status st;
    EXACT(st = kk_date__shift_da(p, n, days, out, sz), in);
    return st;
}

static kk_status shift_dt(const char *in, int days, char *out, size_t sz)
{
    kk_status st;
    EXACT(st = kk_date__shift_dt(p, n, days, out, sz), in);
    return st;
}

static void expect_shift(const char *in, int days, const char *want)
{
    char out[128];
    ck_assert_msg(shift_da(in, days, out, sizeof out) == KK_OK,
                  "shift '%s' by %d failed", in, days);
    ck_assert_str_eq(out, want);
}

/* ---- DA --------------------------------------------------------------- */

START_TEST(da_shift_boundaries)
{
    expect_shift("20240228", 1, "20240229");
    expect_shift("20240228", 2, "20240301");
    expect_shift("20240301", -1, "20240229");
    expect_shift("20230301", -1, "20230228");
    expect_shift("20231231", 1, "20240101");
    expect_shift("20240101", -1, "20231231");
    expect_shift("19000228", 1, "19000301"); /* 1900 is not leap */
    expect_shift("20000228", 1, "20000229"); /* 2000 is */
    expect_shift("20240131", 30, "20240301");
    expect_shift("20240229", 365, "20250228");
    expect_shift("20240229", -366, "20230228");
    expect_shift("19700101", 0, "19700101");
    expect_shift("19700101", -1, "19691231");
    expect_shift("20240115", 36524, "21240115"); /* 2100 not leap */
    expect_shift("99991230", 1, "99991231");
}
END_TEST

START_TEST(da_shift_forms)
{
    char out[64];
    expect_shift("20240101\\20240215", 30, "20240131\\20240316");
    expect_shift("\\20240101", 1, "\\20240102");
    expect_shift("20240101\\", 1, "20240102\\");
    expect_shift("20240101 ", 1, "20240102");       /* padding */
    expect_shift("2024.02.28", 1, "20240229");      /* legacy */
    expect_shift("20240101-20240131", 10, "20240111-20240210");
    expect_shift("-20240131", 1, "-20240201");
    expect_shift("", 5, "");
    /* Out of range, malformed, too small. */
    ck_assert_int_eq(shift_da("00010101", -1, out, sizeof out), KK_EINVAL);
    ck_assert_int_eq(shift_da("99991231", 1, out, sizeof out), KK_EINVAL);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(shift_da("20240230", 1, out, sizeof out), KK_EINVAL);
    ck_assert_int_eq(shift_da("2024013", 1, out, sizeof out), KK_EINVAL);
    ck_assert_int_eq(shift_da("2024-01-31", 1, out, sizeof out), KK_EINVAL);
    ck_assert_int_eq(shift_da("20240101\\x", 1, out, sizeof out), KK_EINVAL);
    ck_assert_int_eq(shift_da("-", 1, out, sizeof out), KK_EINVAL);
    ck_assert_int_eq(shift_da("20240101", 1, out, 8), KK_EINVAL);
    ck_assert_int_eq(shift_da("20240101", 1, out, 9), KK_OK);
    ck_assert_int_eq(shift_da("20240101", 1, NULL, 0), KK_EINVAL);
}
END_TEST

START_TEST(da_shift_keeps_intervals)
{
    /* R11: two dates of one patient keep their distance. */
    kk_date a, b;
    char o1[16], o2[16];
    for (int shift = -800; shift <= 800; shift += 37) {
        ck_assert_int_eq(shift_da("20231120", shift, o1, sizeof o1), KK_OK);
        ck_assert_int_eq(shift_da("20240305", shift, o2, sizeof o2), KK_OK);
        ck_assert_int_eq(kk_date__parse_da(o1, 8, &a), KK_OK);
        ck_assert_int_eq(kk_date__parse_da(o2, 8, &b), KK_OK);
        ck_assert_int_eq(kk_date__to_days(&b) - kk_date__to_days(&a), 106);
    }
}
END_TEST

START_TEST(days_round_trip)
{
    for (int64_t z = -719162; z < 2932897; z += 13) {
        kk_date d = kk_date__from_days(z);
        ck_assert(kk_date__valid(d.y, d.m, d.d));
        ck_assert_int_eq(kk_date__to_days(&d), z);
    }
    kk_date e = {1970, 1, 1};
    ck_assert_int_eq(kk_date__to_days(&e), 0);
}
END_TEST

START_TEST(da_truncate)
{
    char out[64];
    kk_status st;
    EXACT(st = kk_date__truncate_da_month(p, n, out, sizeof out), "19700523");
    ck_assert_int_eq(st, KK_OK);
    ck_assert_str_eq(out, "19700501");
    EXACT(st = kk_date__truncate_da_month(p, n, out, sizeof out),
          "19700523\\20000229 ");
    ck_assert_int_eq(st, KK_OK);
    ck_assert_str_eq(out, "19700501\\20000201");
    EXACT(st = kk_date__truncate_da_month(p, n, out, sizeof out), "1970.05.23");
    ck_assert_str_eq(out, "19700501");
    EXACT(st = kk_date__truncate_da_month(p, n, out, sizeof out), "197005");
    ck_assert_int_eq(st, KK_EINVAL);
}
END_TEST

/* ---- TM and DT ---------------------------------------------------------- */

START_TEST(tm_parse)
{
    kk_time t;
    kk_status st;
    EXACT(st = kk_date__parse_tm(p, n, &t), "123045.5");
    ck_assert_int_eq(st, KK_OK);
    ck_assert_int_eq(t.h, 12);
    ck_assert_int_eq(t.min, 30);
    ck_assert_int_eq(t.s, 45);
    ck_assert_int_eq(t.frac, 500000);
    EXACT(st = kk_date__parse_tm(p, n, &t), "12");
    ck_assert_int_eq(st, KK_OK);
    ck_assert_int_eq(t.min, -1);
    EXACT(st = kk_date__parse_tm(p, n, &t), "1230 ");
    ck_assert_int_eq(st, KK_OK);
    ck_assert_int_eq(t.min, 30);
    EXACT(st = kk_date__parse_tm(p, n, &t), "12:30:45.25");
    ck_assert_int_eq(st, KK_OK);
    ck_assert_int_eq(t.frac, 250000);
    EXACT(st = kk_date__parse_tm(p, n, &t), "235960");
    ck_assert_int_eq(st, KK_OK); /* leap second */
    const char *bad[] = {"2460", "123", "1260", "246000", "1230.5",
                         "123045.1234567", "12:3", "12:30:4", "", "ab",
                         "12:30:45.", "123045."};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        EXACT(st = kk_date__parse_tm(p, n, &t), bad[i]);
        ck_assert_msg(st == KK_EINVAL, "TM '%s' accepted", bad[i]);
    }
}
END_TEST

START_TEST(dt_shift_with_timezone)
{
    char out[128];
    kk_datetime dt;
    kk_status st;

    ck_assert_int_eq(shift_dt("20231231233000.123456+0900", 1, out,
                              sizeof out), KK_OK);
    ck_assert_str_eq(out, "20240101233000.123456+0900");
    ck_assert_int_eq(shift_dt("20240229120000-0500", -365, out, sizeof out),
                     KK_OK);
    ck_assert_str_eq(out, "20230301120000-0500");
    ck_assert_int_eq(shift_dt("20240229", 1, out, sizeof out), KK_OK);
    ck_assert_str_eq(out, "20240301");
    ck_assert_int_eq(shift_dt("2024022910\\20240301", 1, out, sizeof out),
                     KK_OK);
    ck_assert_str_eq(out, "2024030110\\20240302");
    /* Partial dates cannot be shifted; bad offsets are refused. */
    ck_assert_int_eq(shift_dt("2024", 1, out, sizeof out), KK_EINVAL);
    ck_assert_int_eq(shift_dt("202402", 1, out, sizeof out), KK_EINVAL);
    ck_assert_int_eq(shift_dt("20240229+1500", 1, out, sizeof out),
                     KK_EINVAL);
    ck_assert_int_eq(shift_dt("20240229+0960", 1, out, sizeof out),
                     KK_EINVAL);
    ck_assert_int_eq(shift_dt("20240229120000.+0900", 1, out, sizeof out),
                     KK_EINVAL);
    ck_assert_int_eq(shift_dt("202402291200.5", 1, out, sizeof out),
                     KK_EINVAL);

    EXACT(st = kk_date__parse_dt(p, n, &dt), "2024+0900");
    ck_assert_int_eq(st, KK_OK);
    ck_assert_int_eq(dt.date.y, 2024);
    ck_assert_int_eq(dt.date.m, -1);
    ck_assert_int_eq(dt.tz_minutes, 540);
    EXACT(st = kk_date__parse_dt(p, n, &dt), "19991231235959.9-1200");
    ck_assert_int_eq(st, KK_OK);
    ck_assert_int_eq(dt.time.s, 59);
    ck_assert_int_eq(dt.time.frac, 900000);
    ck_assert_int_eq(dt.tz_minutes, -720);
}
END_TEST

/* ---- AS and ages ------------------------------------------------------ */

static kk_status gen_as(const char *in, int thr, const char *marker,
                        char *out, size_t sz)
{
    kk_status st;
    EXACT(st = kk_date__generalize_as(p, n, thr, marker, out, sz), in);
    return st;
}

START_TEST(as_top_coding)
{
    char out[32];
    ck_assert_int_eq(gen_as("095Y", 0, NULL, out, sizeof out), KK_OK);
    ck_assert_str_eq(out, "090Y");
    ck_assert_int_eq(gen_as("090Y", 90, NULL, out, sizeof out), KK_OK);
    ck_assert_str_eq(out, "090Y");
    ck_assert_int_eq(gen_as("089Y", 90, NULL, out, sizeof out), KK_OK);
    ck_assert_str_eq(out, "089Y");
    ck_assert_int_eq(gen_as("116Y ", 90, NULL, out, sizeof out), KK_OK);
    ck_assert_str_eq(out, "090Y");
    ck_assert_int_eq(gen_as("999M", 90, NULL, out, sizeof out), KK_OK);
    ck_assert_str_eq(out, "999M");
    ck_assert_int_eq(gen_as("085Y", 85, "085Y", out, sizeof out), KK_OK);
    ck_assert_str_eq(out, "085Y");
    ck_assert_int_eq(gen_as("100Y", 90, "", out, sizeof out), KK_OK);
    ck_assert_str_eq(out, "");
    const char *bad[] = {"95Y", "095X", "0a5Y", "0095Y", "", "Y095", "095y"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(gen_as(bad[i], 90, NULL, out, sizeof out) == KK_EINVAL,
                      "AS '%s' accepted", bad[i]);
    ck_assert_int_eq(gen_as("095Y", 90, NULL, out, 4), KK_EINVAL);
}
END_TEST

START_TEST(age_from_dates)
{
    char out[16];
    int y;
    kk_date b = {1920, 5, 3}, at = {2024, 5, 2};
    ck_assert_int_eq(kk_date__age_years(&b, &at, &y), KK_OK);
    ck_assert_int_eq(y, 103);
    ck_assert_int_eq(kk_date__age_as(&b, &at, 0, NULL, out, sizeof out),
                     KK_OK);
    ck_assert_str_eq(out, "090Y"); /* R10: 90 and over */

    kk_date b2 = {1970, 3, 12}, at2 = {2024, 3, 11}, at3 = {2024, 3, 12};
    ck_assert_int_eq(kk_date__age_as(&b2, &at2, 90, NULL, out, sizeof out),
                     KK_OK);
    ck_assert_str_eq(out, "053Y");
    ck_assert_int_eq(kk_date__age_as(&b2, &at3, 90, NULL, out, sizeof out),
                     KK_OK);
    ck_assert_str_eq(out, "054Y");

    kk_date nb = {2024, 1, 1}, d4 = {2024, 1, 5}, w2 = {2024, 1, 20},
            m2 = {2024, 3, 15};
    ck_assert_int_eq(kk_date__age_as(&nb, &d4, 90, NULL, out, sizeof out),
                     KK_OK);
    ck_assert_str_eq(out, "004D");
    ck_assert_int_eq(kk_date__age_as(&nb, &w2, 90, NULL, out, sizeof out),
                     KK_OK);
    ck_assert_str_eq(out, "002W");
    ck_assert_int_eq(kk_date__age_as(&nb, &m2, 90, NULL, out, sizeof out),
                     KK_OK);
    ck_assert_str_eq(out, "002M");

    kk_date leap = {2000, 2, 29}, nl = {2001, 2, 28}, nl2 = {2001, 3, 1};
    ck_assert_int_eq(kk_date__age_years(&leap, &nl, &y), KK_OK);
    ck_assert_int_eq(y, 0);
    ck_assert_int_eq(kk_date__age_years(&leap, &nl2, &y), KK_OK);
    ck_assert_int_eq(y, 1);
    ck_assert_int_eq(kk_date__age_years(&at, &b, &y), KK_EINVAL);
}
END_TEST

/* ---- Japanese eras ---------------------------------------------------- */

static kk_status era(const char *in, kk_date *d)
{
    kk_status st;
    EXACT(st = kk_date__parse_era(p, n, d, NULL), in);
    return st;
}

static void expect_era(const char *in, int y, int m, int d)
{
    kk_date r = {0, 0, 0};
    ck_assert_msg(era(in, &r) == KK_OK, "era date '%s' refused", in);
    ck_assert_msg(r.y == y && r.m == m && r.d == d,
                  "era date '%s' gave %04d-%02d-%02d", in, r.y, r.m, r.d);
}

START_TEST(era_examples)
{
    expect_era("S45.3.12", 1970, 3, 12);
    expect_era("昭和45年3月12日", 1970, 3, 12);
    expect_era("R6.4.1", 2024, 4, 1);
    expect_era("H31/4/30", 2019, 4, 30);
    expect_era("令和6年4月1日", 2024, 4, 1);
    expect_era("平成31年4月30日", 2019, 4, 30);
    expect_era("T15.12.25", 1926, 12, 25);
    expect_era("M45.7.29", 1912, 7, 29);
}
END_TEST

START_TEST(era_variants)
{
    expect_era("令和元年5月1日", 2019, 5, 1);
    expect_era("R1.5.1", 2019, 5, 1);
    expect_era("昭和４５年３月１２日", 1970, 3, 12);
    expect_era("s45.03.12", 1970, 3, 12);
    expect_era("Ｓ４５．３．１２", 1970, 3, 12);
    expect_era("S45-3-12", 1970, 3, 12);
    expect_era("S.45.3.12", 1970, 3, 12);
    expect_era("昭45.3.12", 1970, 3, 12);
    expect_era("昭和 45 年 3 月 12 日", 1970, 3, 12);
    expect_era("昭和45年3月12", 1970, 3, 12);
    expect_era("㍼45.3.12", 1970, 3, 12);
    expect_era("S64.1.7", 1989, 1, 7);
    expect_era("H1.1.8", 1989, 1, 8);
    expect_era("S1.12.25", 1926, 12, 25);
    expect_era("T1.7.30", 1912, 7, 30);
    expect_era("大正元年7月30日", 1912, 7, 30);
    expect_era("M1.1.1", 1868, 1, 1);
}
END_TEST

START_TEST(era_malformed)
{
    const char *bad[] = {
        "", "S", "S45", "S45.3", "S45.3.", "X45.3.12", "S45.13.1",
        "S45.2.30", "S45.3/12", "S45年3.12", "S0.1.1", "S100.1.1",
        "H32.1.1", "R1.4.30", "S64.1.9", "T16.1.1", "M46.1.1",
        "昭和45年3月12日x", "昭和", "昭和45年", "昭和45年3月", "元年3月1日",
        "S45.3.12.1", "S4５.3.12x", "\xe6\x98", "S45.3.123", "SS45.3.12",
    };
    kk_date d;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(era(bad[i], &d) == KK_EINVAL, "era '%s' accepted",
                      bad[i]);
}
END_TEST

START_TEST(era_forms_round_trip)
{
    static const kk_date dates[] = {
        {1970, 3, 12}, {2019, 4, 30}, {2019, 5, 1}, {1926, 12, 25},
        {1912, 7, 29}, {1989, 1, 7}, {2024, 11, 3}, {1868, 9, 8},
    };
    char out[8192];
    size_t count;

    for (size_t i = 0; i < sizeof dates / sizeof *dates; i++) {
        ck_assert_int_eq(kk_date__era_forms(&dates[i], out, sizeof out,
                                            &count), KK_OK);
        ck_assert_uint_gt(count, 10);
        size_t lines = 0;
        for (char *p = out, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
            kk_date r;
            lines++;
            EXACT(ck_assert_msg(kk_date__parse_era(p, n, &r, NULL) == KK_OK,
                                "form '%.*s' does not parse", (int)n, p),
                  ({ *nl = '\0'; p; }));
            ck_assert_int_eq(r.y, dates[i].y);
            ck_assert_int_eq(r.m, dates[i].m);
            ck_assert_int_eq(r.d, dates[i].d);
            *nl = '\n';
        }
        ck_assert_uint_eq(lines, count);
    }
    kk_date s = {1970, 3, 12};
    ck_assert_int_eq(kk_date__era_forms(&s, out, sizeof out, &count), KK_OK);
    ck_assert_ptr_nonnull(strstr(out, "S45.3.12\n"));
    ck_assert_ptr_nonnull(strstr(out, "S45.03.12\n"));
    ck_assert_ptr_nonnull(strstr(out, "s45/3/12\n"));
    ck_assert_ptr_nonnull(strstr(out, "昭和45年3月12日\n"));
    ck_assert_ptr_nonnull(strstr(out, "昭和４５年３月１２日\n"));
    kk_date r1 = {2019, 5, 1};
    ck_assert_int_eq(kk_date__era_forms(&r1, out, sizeof out, &count), KK_OK);
    ck_assert_ptr_nonnull(strstr(out, "令和元年5月1日\n"));
    ck_assert_ptr_nonnull(strstr(out, "R1.5.1\n"));
    kk_date old = {1867, 12, 31};
    ck_assert_int_eq(kk_date__era_forms(&old, out, sizeof out, &count),
                     KK_EINVAL);
    ck_assert_int_eq(kk_date__era_forms(&s, out, 20, &count), KK_EINVAL);
    ck_assert_str_eq(out, "");
}
END_TEST

/* ---- malformed input: no crash, no over-read -------------------------- */

static void run_all(const char *p, size_t n)
{
    char out[256];
    kk_date d;
    kk_time t;
    kk_datetime dt;
    (void)kk_date__parse_da(p, n, &d);
    (void)kk_date__parse_tm(p, n, &t);
    (void)kk_date__parse_dt(p, n, &dt);
    (void)kk_date__shift_da(p, n, 12345, out, sizeof out);
    (void)kk_date__shift_dt(p, n, -12345, out, sizeof out);
    (void)kk_date__truncate_da_month(p, n, out, sizeof out);
    (void)kk_date__generalize_as(p, n, 90, NULL, out, sizeof out);
    (void)kk_date__parse_era(p, n, &d, NULL);
    (void)kk_date__shift_da(p, n, 1, out, 3);
}

START_TEST(fuzz_no_crash)
{
    static const char *seeds[] = {
        "20240101\\20240215", "20231231233000.123456+0900", "123045.5",
        "昭和４５年３月１２日", "令和元年5月1日", "H31/4/30", "095Y",
        "2024.02.28", "20240101-20240131", "12:30:45.25",
    };
    unsigned seed = 12345;
    char buf[64];

    /* Every prefix of every seed (cuts UTF-8 in the middle too). */
    for (size_t i = 0; i < sizeof seeds / sizeof *seeds; i++) {
        size_t len = strlen(seeds[i]);
        for (size_t k = 0; k <= len; k++) {
            char *p = malloc(k ? k : 1);
            memcpy(p, seeds[i], k);
            run_all(p, k);
            free(p);
        }
    }
    /* Mutations: random bytes, random lengths, exact-size buffers. */
    for (int it = 0; it < 200000; it++) {
        const char *sd = seeds[it % (sizeof seeds / sizeof *seeds)];
        size_t len = strlen(sd);
        memcpy(buf, sd, len);
        seed = seed * 1103515245u + 12345u;
        int muts = 1 + (int)((seed >> 16) % 4);
        for (int m = 0; m < muts; m++) {
            seed = seed * 1103515245u + 12345u;
            size_t pos = (seed >> 8) % len;
            seed = seed * 1103515245u + 12345u;
            buf[pos] = (char)(seed >> 16);
        }
        seed = seed * 1103515245u + 12345u;
        size_t n = (seed >> 16) % (len + 1);
        char *p = malloc(n ? n : 1);
        memcpy(p, buf, n);
        run_all(p, n);
        free(p);
    }
}
END_TEST

Suite *dates_suite(void)
{
    Suite *s = suite_create("dates");
    TCase *tc;

    tc = tcase_create("da");
    tcase_set_timeout(tc, 120); /* days_round_trip walks every day of 10,000 years: slow under ASan on a busy machine */
    tcase_add_test(tc, da_shift_boundaries);
    tcase_add_test(tc, da_shift_forms);
    tcase_add_test(tc, da_shift_keeps_intervals);
    tcase_add_test(tc, days_round_trip);
    tcase_add_test(tc, da_truncate);
    suite_add_tcase(s, tc);

    tc = tcase_create("tm_dt");
    tcase_add_test(tc, tm_parse);
    tcase_add_test(tc, dt_shift_with_timezone);
    suite_add_tcase(s, tc);

    tc = tcase_create("ages");
    tcase_add_test(tc, as_top_coding);
    tcase_add_test(tc, age_from_dates);
    suite_add_tcase(s, tc);

    tc = tcase_create("eras");
    tcase_add_test(tc, era_examples);
    tcase_add_test(tc, era_variants);
    tcase_add_test(tc, era_malformed);
    tcase_add_test(tc, era_forms_round_trip);
    suite_add_tcase(s, tc);

    tc = tcase_create("malformed");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, fuzz_no_crash);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(dates_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
