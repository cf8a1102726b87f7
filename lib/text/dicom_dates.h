/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/text/dicom_dates.h - DICOM DA, TM, DT and AS values and Japanese era
 * dates: parse, validate, shift, truncate, generalize, format.
 *
 * Pure and fuzzable: no crypto, no allocation, no global state. Inputs are
 * (const char *s, size_t len) and need not be NUL-terminated; nothing is
 * read past len. Outputs go to caller buffers with their size and are
 * always NUL-terminated on KK_OK; on failure out is "" (when outsz > 0).
 * Values are never copied into error messages (R04): these functions take
 * no kk_ctx and return a bare status.
 *
 * Trailing spaces (DICOM even-length padding) and NUL padding are ignored
 * on input; outputs are unpadded (the writer pads).
 *
 * Serves R10 (age top-coding), R11/R12 (date shift and year-month
 * truncation) and R22 (era spellings of a birth date for residue search).
 * Not a public API.
 */
#ifndef KK_TEXT_DICOM_DATES_H
#define KK_TEXT_DICOM_DATES_H

#include <stddef.h>
#include <stdint.h>

#include "kakou/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A calendar date (proleptic Gregorian). */
typedef struct kk_date {
    int y, m, d; /* year 1..9999, month 1..12, day 1..31 */
} kk_date;

/** A time of day; fields absent from a partial TM are -1. */
typedef struct kk_time {
    int h, min, s;  /* s may be 60 (leap second) */
    int frac;       /* microseconds; -1 when absent */
    int frac_digits;/* 0..6 digits given */
} kk_time;

/** A DT value; absent components are -1 (date part: m, d). */
typedef struct kk_datetime {
    kk_date date;   /* y always present; m and d may be -1 */
    kk_time time;   /* all -1 when absent */
    int tz_minutes; /* offset east of UTC, when has_tz */
    int has_tz;
} kk_datetime;

/** 1 when y-m-d is a valid date in 1..9999. */
int kk_date__valid(int y, int m, int d);
/** Days in month m of year y (0 for a bad month). */
int kk_date__days_in_month(int y, int m);
/** Days since 1970-01-01 of a valid date (negative before). */
int64_t kk_date__to_days(const kk_date *d);
/** The date of a day number (inverse of kk_date__to_days). */
kk_date kk_date__from_days(int64_t days);

/**
 * Parse one DA value: YYYYMMDD, or legacy ACR-NEMA YYYY.MM.DD.
 * @return KK_OK; KK_EINVAL when malformed or not a real date
 */
kk_status kk_date__parse_da(const char *s, size_t len, kk_date *out);
/** Format a date as DA "YYYYMMDD" (outsz >= 9). */
kk_status kk_date__format_da(const kk_date *d, char *out, size_t outsz);

/**
 * Parse one TM value: HH, HHMM, HHMMSS, HHMMSS.F{1,6}; also the legacy
 * HH:MM[:SS[.F]] form.
 */
kk_status kk_date__parse_tm(const char *s, size_t len, kk_time *out);

/**
 * Parse one DT value: YYYY[MM[DD[HH[MM[SS[.F{1,6}]]]]]][(+|-)HHMM].
 * The offset must be within -1200..+1400.
 */
kk_status kk_date__parse_dt(const char *s, size_t len, kk_datetime *out);

/**
 * Shift a DA value by days. Multi-valued values (backslash-separated) have
 * every value shifted; empty values stay empty; a range "A-B" has both
 * ends shifted. Legacy YYYY.MM.DD comes out as YYYYMMDD.
 * @return KK_OK; KK_EINVAL when a value is malformed, the result leaves
 *         years 1..9999, or out is too small
 */
kk_status kk_date__shift_da(const char *s, size_t len, int days, char *out,
                            size_t outsz);

/**
 * Shift the date part of a DT value by days, keeping time, fraction and
 * offset as written. Multi-valued like kk_date__shift_da. A DT without a
 * full date (YYYY or YYYYMM only) cannot be shifted: KK_EINVAL.
 */
kk_status kk_date__shift_dt(const char *s, size_t len, int days, char *out,
                            size_t outsz);

/**
 * Reduce a DA value to its year and month, stored as the first of the
 * month (YYYYMM01). Multi-valued like kk_date__shift_da.
 */
kk_status kk_date__truncate_da_month(const char *s, size_t len, char *out,
                                     size_t outsz);

/**
 * Generalize an AS value ("nnnD", "nnnW", "nnnM", "nnnY"): an age of
 * threshold_years or more becomes marker (NULL: "090Y" - read as "90 and
 * over"); other ages are copied. threshold_years <= 0 means 90.
 */
kk_status kk_date__generalize_as(const char *s, size_t len,
                                 int threshold_years, const char *marker,
                                 char *out, size_t outsz);

/**
 * Completed years of age at date at, for someone born on birth.
 * @return KK_OK; KK_EINVAL when at is before birth
 */
kk_status kk_date__age_years(const kk_date *birth, const kk_date *at,
                             int *out);

/**
 * Age as an AS value: "nnnY" from one year on, else "nnnM" from one month,
 * else "nnnW" from one week, else "nnnD". Ages of threshold_years or more
 * (<= 0 means 90) give marker (NULL: "090Y"). outsz >= 5 (or the marker's
 * length + 1).
 */
kk_status kk_date__age_as(const kk_date *birth, const kk_date *at,
                          int threshold_years, const char *marker,
                          char *out, size_t outsz);

/** Japanese eras (gengo) kakou knows, oldest first. */
typedef enum kk_era {
    KK_ERA_MEIJI = 0, /* M 明治, from 1868 */
    KK_ERA_TAISHO,    /* T 大正, from 1912-07-30 */
    KK_ERA_SHOWA,     /* S 昭和, from 1926-12-25 */
    KK_ERA_HEISEI,    /* H 平成, from 1989-01-08 */
    KK_ERA_REIWA,     /* R 令和, from 2019-05-01 */
    KK_ERA_COUNT
} kk_era;

/**
 * Parse a Japanese era date, e.g. "S45.3.12", "H31/4/30", "R6-4-1",
 * "昭和45年3月12日", "令和元年5月1日", "昭45.3.12" (UTF-8; ASCII or
 * full-width digits and letters; spaces between parts are allowed).
 * The whole input must be the date. The era year must exist and the date
 * must fall inside the era (the day an era changes is accepted for both
 * eras, as both spellings occur on that day).
 * @param[out] era  the era written, or NULL
 */
kk_status kk_date__parse_era(const char *s, size_t len, kk_date *out,
                             kk_era *era);

/**
 * Every spelling kakou searches for of a date in the Japanese calendar:
 * letter forms ("S45.3.12", "S45.03.12", "S45/3/12", "S45-3-12", also
 * lowercase and zero-padded), kanji forms ("昭和45年3月12日",
 * "昭和45年03月12日", "昭45.3.12", full-width digits, "元年" for year 1),
 * one per line, each line ending in '\n'. On an era-change day the forms
 * of both eras are given. An era year above 99 (Reiwa after 2117) has no
 * form: *count is then 0.
 * @param[out] count  number of forms written, or NULL
 * @return KK_OK; KK_EINVAL for a date before 1868 or out too small
 */
kk_status kk_date__era_forms(const kk_date *d, char *out, size_t outsz,
                             size_t *count);

#ifdef __cplusplus
}
#endif
#endif /* KK_TEXT_DICOM_DATES_H */
