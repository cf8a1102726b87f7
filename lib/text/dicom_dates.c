/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/text/dicom_dates.c - DICOM DA/TM/DT/AS values and Japanese era
 * dates (see dicom_dates.h for the contract).
 *
 * Pure: no crypto, no allocation, no global state, no locale. Every
 * parser takes (s, len) and reads nothing past len; every writer goes
 * through struct wbuf, which refuses to overflow and leaves "" behind on
 * failure. Day arithmetic uses Howard Hinnant's days_from_civil algorithm
 * (proleptic Gregorian, exact for every year 1..9999).
 *
 * Serves R10 (age top-coding), R11/R12 (shift, year-month truncation),
 * R22 (era spellings of a birth date). No value ever reaches a message.
 */
#include <stdio.h>
#include <string.h>

#include "text/dicom_dates.h"

/* ---- small helpers ---------------------------------------------------- */

typedef struct wbuf {
    char *p;
    size_t sz, len;
    int bad;
} wbuf;

static void wb_init(wbuf *w, char *out, size_t outsz)
{
    w->p = out;
    w->sz = out ? outsz : 0;
    w->len = 0;
    w->bad = (w->sz == 0);
    if (w->sz)
        out[0] = '\0';
}

static void wb_add(wbuf *w, const char *s, size_t n)
{
    if (w->bad)
        return;
    if (w->len + n + 1 > w->sz) {
        w->bad = 1;
        return;
    }
    memcpy(w->p + w->len, s, n);
    w->len += n;
    w->p[w->len] = '\0';
}

static void wb_adds(wbuf *w, const char *s)
{
    wb_add(w, s, strlen(s));
}

static void wb_int(wbuf *w, int v, int width)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%0*d", width, v);
    if (n > 0)
        wb_add(w, tmp, (size_t)n);
}

static kk_status wb_finish(wbuf *w, kk_status st)
{
    if (st == KK_OK && w->bad)
        st = KK_EINVAL;
    if (st != KK_OK && w->sz)
        w->p[0] = '\0';
    return st;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Trim spaces and NUL padding from both ends of [*s, *s + *len). */
static void trim(const char **s, size_t *len)
{
    while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\0'))
        (*len)--;
    while (*len && (*s)[0] == ' ') {
        (*s)++;
        (*len)--;
    }
}

/* n digits at s as a number; -1 if any is not a digit. */
static int num(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static size_t digit_run(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && is_digit(s[i]))
        i++;
    return i;
}

/* ---- calendar --------------------------------------------------------- */

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int kk_date__days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30,
                                31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12)
        return 0;
    return dim[m - 1] + (m == 2 && is_leap(y));
}

int kk_date__valid(int y, int m, int d)
{
    return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 &&
           d <= kk_date__days_in_month(y, m);
}

int64_t kk_date__to_days(const kk_date *dt)
{
    int64_t y = dt->y - (dt->m <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (dt->m + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + dt->d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

kk_date kk_date__from_days(int64_t z)
{
    kk_date r;
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    r.y = (int)(y + (m <= 2));
    r.m = (int)m;
    r.d = (int)d;
    return r;
}

static int date_cmp(const kk_date *a, const kk_date *b)
{
    if (a->y != b->y)
        return a->y < b->y ? -1 : 1;
    if (a->m != b->m)
        return a->m < b->m ? -1 : 1;
    if (a->d != b->d)
        return a->d < b->d ? -1 : 1;
    return 0;
}

/* ---- DA --------------------------------------------------------------- */

kk_status kk_date__parse_da(const char *s, size_t len, kk_date *out)
{
    kk_date d;

    if (!s && len)
        return KK_EINVAL;
    trim(&s, &len);
    if (len == 8) {
        d.y = num(s, 4);
        d.m = num(s + 4, 2);
        d.d = num(s + 6, 2);
    } else if (len == 10 && s[4] == '.' && s[7] == '.') {
        d.y = num(s, 4);
        d.m = num(s + 5, 2);
        d.d = num(s + 8, 2);
    } else {
        return KK_EINVAL;
    }
    if (!kk_date__valid(d.y, d.m, d.d))
        return KK_EINVAL;
    if (out)
        *out = d;
    return KK_OK;
}

kk_status kk_date__format_da(const kk_date *d, char *out, size_t outsz)
{
    wbuf w;

    wb_init(&w, out, outsz);
    if (!d || !kk_date__valid(d->y, d->m, d->d))
        return wb_finish(&w, KK_EINVAL);
    wb_int(&w, d->y, 4);
    wb_int(&w, d->m, 2);
    wb_int(&w, d->d, 2);
    return wb_finish(&w, KK_OK);
}

static kk_status shift_date(kk_date *d, int days)
{
    kk_date r = kk_date__from_days(kk_date__to_days(d) + days);
    if (!kk_date__valid(r.y, r.m, r.d))
        return KK_EINVAL;
    *d = r;
    return KK_OK;
}

/* Apply fn to each backslash-separated value (and each end of a range
 * "A-B" when ranges is set), writing the results with the delimiters. */
typedef kk_status (*value_fn)(const char *s, size_t len, void *arg,
                              wbuf *w);

static kk_status each_value(const char *s, size_t len, int ranges,
                            value_fn fn, void *arg, char *out, size_t outsz)
{
    wbuf w;
    kk_status st = KK_OK;
    size_t start = 0;

    wb_init(&w, out, outsz);
    if (!s && len)
        return wb_finish(&w, KK_EINVAL);
    /* Drop the padding of the whole value first. */
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\0'))
        len--;
    for (size_t i = 0; i <= len && st == KK_OK; i++) {
        if (i < len && s[i] != '\\')
            continue;
        const char *v = s + start;
        size_t vl = i - start;
        trim(&v, &vl);
        const char *dash = ranges && vl ? memchr(v, '-', vl) : NULL;
        if (dash) {
            size_t l1 = (size_t)(dash - v);
            const char *b = dash + 1;
            size_t l2 = vl - l1 - 1;
            if (l1)
                st = fn(v, l1, arg, &w);
            wb_add(&w, "-", 1);
            if (st == KK_OK && l2)
                st = fn(b, l2, arg, &w);
            if (!l1 && !l2)
                st = KK_EINVAL;
        } else if (vl) {
            st = fn(v, vl, arg, &w);
        }
        if (i < len)
            wb_add(&w, "\\", 1);
        start = i + 1;
    }
    return wb_finish(&w, st);
}

static kk_status shift_one_da(const char *s, size_t len, void *arg, wbuf *w)
{
    kk_date d;
    char buf[9];
    kk_status st = kk_date__parse_da(s, len, &d);

    if (st == KK_OK)
        st = shift_date(&d, *(const int *)arg);
    if (st == KK_OK)
        st = kk_date__format_da(&d, buf, sizeof buf);
    if (st == KK_OK)
        wb_add(w, buf, 8);
    return st;
}

kk_status kk_date__shift_da(const char *s, size_t len, int days, char *out,
                            size_t outsz)
{
    return each_value(s, len, 1, shift_one_da, &days, out, outsz);
}

static kk_status trunc_one_da(const char *s, size_t len, void *arg, wbuf *w)
{
    kk_date d;
    kk_status st = kk_date__parse_da(s, len, &d);

    (void)arg;
    if (st != KK_OK)
        return st;
    wb_int(w, d.y, 4);
    wb_int(w, d.m, 2);
    wb_add(w, "01", 2);
    return KK_OK;
}

kk_status kk_date__truncate_da_month(const char *s, size_t len, char *out,
                                     size_t outsz)
{
    return each_value(s, len, 1, trunc_one_da, NULL, out, outsz);
}

/* ---- TM --------------------------------------------------------------- */

static kk_status parse_frac(const char *s, size_t len, kk_time *t)
{
    /* s points after the '.'; 1..6 digits. */
    if (len < 1 || len > 6 || digit_run(s, len) != len)
        return KK_EINVAL;
    int v = num(s, len);
    for (size_t i = len; i < 6; i++)
        v *= 10;
    t->frac = v;
    t->frac_digits = (int)len;
    return KK_OK;
}

kk_status kk_date__parse_tm(const char *s, size_t len, kk_time *out)
{
    kk_time t = {-1, -1, -1, -1, 0};
    size_t n;

    if (!s && len)
        return KK_EINVAL;
    trim(&s, &len);
    n = digit_run(s, len);
    if (n >= 2 && len > 2 && s[2] == ':') {
        /* Legacy HH:MM[:SS[.F]]. */
        if (n != 2 || len < 5 || digit_run(s + 3, len - 3) != 2)
            return KK_EINVAL;
        t.h = num(s, 2);
        t.min = num(s + 3, 2);
        if (len > 5) {
            if (s[5] != ':' || len < 8 || digit_run(s + 6, len - 6) != 2)
                return KK_EINVAL;
            t.s = num(s + 6, 2);
            if (len > 8) {
                if (s[8] != '.' || parse_frac(s + 9, len - 9, &t) != KK_OK)
                    return KK_EINVAL;
            }
        }
    } else {
        if (n != 2 && n != 4 && n != 6)
            return KK_EINVAL;
        t.h = num(s, 2);
        if (n >= 4)
            t.min = num(s + 2, 2);
        if (n == 6)
            t.s = num(s + 4, 2);
        if (n < len) {
            if (n != 6 || s[n] != '.' ||
                parse_frac(s + n + 1, len - n - 1, &t) != KK_OK)
                return KK_EINVAL;
        }
    }
    if (t.h > 23 || t.min > 59 || t.s > 60)
        return KK_EINVAL;
    if (out)
        *out = t;
    return KK_OK;
}

/* ---- DT --------------------------------------------------------------- */

kk_status kk_date__parse_dt(const char *s, size_t len, kk_datetime *out)
{
    kk_datetime r;
    size_t n, p;

    memset(&r, 0, sizeof r);
    r.date.m = r.date.d = -1;
    r.time.h = r.time.min = r.time.s = r.time.frac = -1;
    if (!s && len)
        return KK_EINVAL;
    trim(&s, &len);
    n = digit_run(s, len);
    if (n < 4 || n > 14 || n % 2)
        return KK_EINVAL;
    r.date.y = num(s, 4);
    if (r.date.y < 1)
        return KK_EINVAL;
    if (n >= 6) {
        r.date.m = num(s + 4, 2);
        if (r.date.m < 1 || r.date.m > 12)
            return KK_EINVAL;
    }
    if (n >= 8) {
        r.date.d = num(s + 6, 2);
        if (!kk_date__valid(r.date.y, r.date.m, r.date.d))
            return KK_EINVAL;
    }
    if (n >= 10)
        r.time.h = num(s + 8, 2);
    if (n >= 12)
        r.time.min = num(s + 10, 2);
    if (n >= 14)
        r.time.s = num(s + 12, 2);
    if (r.time.h > 23 || r.time.min > 59 || r.time.s > 60)
        return KK_EINVAL;
    p = n;
    if (p < len && s[p] == '.') {
        size_t f;
        if (n != 14)
            return KK_EINVAL;
        f = digit_run(s + p + 1, len - p - 1);
        if (parse_frac(s + p + 1, f, &r.time) != KK_OK)
            return KK_EINVAL;
        p += 1 + f;
    }
    if (p < len && (s[p] == '+' || s[p] == '-')) {
        int sign = s[p] == '-' ? -1 : 1;
        if (len - p != 5 || digit_run(s + p + 1, 4) != 4)
            return KK_EINVAL;
        int hh = num(s + p + 1, 2), mm = num(s + p + 3, 2);
        if (mm > 59)
            return KK_EINVAL;
        r.tz_minutes = sign * (hh * 60 + mm);
        if (r.tz_minutes < -12 * 60 || r.tz_minutes > 14 * 60)
            return KK_EINVAL;
        r.has_tz = 1;
        p = len;
    }
    if (p != len)
        return KK_EINVAL;
    if (out)
        *out = r;
    return KK_OK;
}

static kk_status shift_one_dt(const char *s, size_t len, void *arg, wbuf *w)
{
    kk_datetime dt;
    char buf[9];
    kk_status st = kk_date__parse_dt(s, len, &dt);

    if (st != KK_OK)
        return st;
    if (dt.date.d < 0)
        return KK_EINVAL; /* no full date to shift */
    st = shift_date(&dt.date, *(const int *)arg);
    if (st == KK_OK)
        st = kk_date__format_da(&dt.date, buf, sizeof buf);
    if (st != KK_OK)
        return st;
    wb_add(w, buf, 8);
    /* s was trimmed by each_value: the rest follows the 8 date digits. */
    wb_add(w, s + 8, len - 8);
    return KK_OK;
}

kk_status kk_date__shift_dt(const char *s, size_t len, int days, char *out,
                            size_t outsz)
{
    /* No ranges: '-' is a UTC offset sign in DT. */
    return each_value(s, len, 0, shift_one_dt, &days, out, outsz);
}

/* ---- AS and ages ------------------------------------------------------ */

#define DEFAULT_TOP_YEARS 90
#define DEFAULT_MARKER "090Y"

kk_status kk_date__generalize_as(const char *s, size_t len,
                                 int threshold_years, const char *marker,
                                 char *out, size_t outsz)
{
    wbuf w;
    int n;

    wb_init(&w, out, outsz);
    if (!s && len)
        return wb_finish(&w, KK_EINVAL);
    trim(&s, &len);
    if (len != 4 || (n = num(s, 3)) < 0 ||
        (s[3] != 'D' && s[3] != 'W' && s[3] != 'M' && s[3] != 'Y'))
        return wb_finish(&w, KK_EINVAL);
    if (threshold_years <= 0)
        threshold_years = DEFAULT_TOP_YEARS;
    /* Only a Y age can reach the threshold: 999M is 83 years. */
    if (s[3] == 'Y' && n >= threshold_years)
        wb_adds(&w, marker ? marker : DEFAULT_MARKER);
    else
        wb_add(&w, s, 4);
    return wb_finish(&w, KK_OK);
}

kk_status kk_date__age_years(const kk_date *birth, const kk_date *at,
                             int *out)
{
    if (!birth || !at || !kk_date__valid(birth->y, birth->m, birth->d) ||
        !kk_date__valid(at->y, at->m, at->d) || date_cmp(at, birth) < 0)
        return KK_EINVAL;
    int y = at->y - birth->y;
    if (at->m < birth->m || (at->m == birth->m && at->d < birth->d))
        y--;
    if (out)
        *out = y;
    return KK_OK;
}

kk_status kk_date__age_as(const kk_date *birth, const kk_date *at,
                          int threshold_years, const char *marker,
                          char *out, size_t outsz)
{
    wbuf w;
    int years;
    kk_status st;

    wb_init(&w, out, outsz);
    st = kk_date__age_years(birth, at, &years);
    if (st != KK_OK)
        return wb_finish(&w, st);
    if (threshold_years <= 0)
        threshold_years = DEFAULT_TOP_YEARS;
    if (years >= threshold_years) {
        wb_adds(&w, marker ? marker : DEFAULT_MARKER);
    } else if (years >= 1) {
        wb_int(&w, years > 999 ? 999 : years, 3);
        wb_add(&w, "Y", 1);
    } else {
        int months = (at->y - birth->y) * 12 + at->m - birth->m -
                     (at->d < birth->d);
        int64_t days = kk_date__to_days(at) - kk_date__to_days(birth);
        if (months >= 1) {
            wb_int(&w, months, 3);
            wb_add(&w, "M", 1);
        } else if (days >= 7) {
            wb_int(&w, (int)(days / 7), 3);
            wb_add(&w, "W", 1);
        } else {
            wb_int(&w, (int)days, 3);
            wb_add(&w, "D", 1);
        }
    }
    return wb_finish(&w, KK_OK);
}

/* ---- Japanese eras ---------------------------------------------------- */

static const struct era_info {
    char letter;
    const char *name;   /* two kanji, UTF-8 */
    const char *abbr;   /* one kanji */
    const char *square; /* the one-character ligature (U+337E...) */
    kk_date start;
} eras[KK_ERA_COUNT] = {
    /* Meiji: the Gregorian calendar came in Meiji 6; earlier dates are
     * accepted from 1868-01-01 so as not to miss a spelling. */
    {'M', "\xe6\x98\x8e\xe6\xb2\xbb", "\xe6\x98\x8e", "\xe3\x8d\xbe",
     {1868, 1, 1}},
    {'T', "\xe5\xa4\xa7\xe6\xad\xa3", "\xe5\xa4\xa7", "\xe3\x8d\xbd",
     {1912, 7, 30}},
    {'S', "\xe6\x98\xad\xe5\x92\x8c", "\xe6\x98\xad", "\xe3\x8d\xbc",
     {1926, 12, 25}},
    {'H', "\xe5\xb9\xb3\xe6\x88\x90", "\xe5\xb9\xb3", "\xe3\x8d\xbb",
     {1989, 1, 8}},
    {'R', "\xe4\xbb\xa4\xe5\x92\x8c", "\xe4\xbb\xa4", "\xe3\x8b\xbf",
     {2019, 5, 1}},
};

#define U_NEN "\xe5\xb9\xb4"     /* 年 */
#define U_GATSU "\xe6\x9c\x88"   /* 月 */
#define U_NICHI "\xe6\x97\xa5"   /* 日 */
#define U_GAN "\xe5\x85\x83"     /* 元 */
#define U_SPACE "\xe3\x80\x80"   /* ideographic space */

/* Does [*p, end) start with lit? Then advance past it. */
static int eat(const char **p, const char *end, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(end - *p) >= n && memcmp(*p, lit, n) == 0) {
        *p += n;
        return 1;
    }
    return 0;
}

static void skip_spaces(const char **p, const char *end)
{
    for (;;) {
        if (*p < end && **p == ' ')
            (*p)++;
        else if (!eat(p, end, U_SPACE))
            return;
    }
}

/* 1..max_digits ASCII or full-width digits. -1 if none. */
static int eat_number(const char **p, const char *end, int max_digits)
{
    int v = 0, n = 0;
    for (;;) {
        if (*p < end && is_digit(**p)) {
            v = v * 10 + (**p - '0');
            (*p)++;
        } else if (end - *p >= 3 && (unsigned char)(*p)[0] == 0xef &&
                   (unsigned char)(*p)[1] == 0xbc &&
                   (unsigned char)(*p)[2] >= 0x90 &&
                   (unsigned char)(*p)[2] <= 0x99) {
            v = v * 10 + ((unsigned char)(*p)[2] - 0x90);
            *p += 3;
        } else {
            break;
        }
        if (++n > max_digits)
            return -1;
    }
    return n ? v : -1;
}

/* An ASCII or full-width letter, upper-cased; 0 if none. */
static char eat_letter(const char **p, const char *end)
{
    if (*p < end && ((**p >= 'A' && **p <= 'Z') || (**p >= 'a' && **p <= 'z'))) {
        char c = **p;
        (*p)++;
        return (char)(c >= 'a' ? c - 'a' + 'A' : c);
    }
    if (end - *p >= 3 && (unsigned char)(*p)[0] == 0xef) {
        unsigned char b1 = (unsigned char)(*p)[1], b2 = (unsigned char)(*p)[2];
        if (b1 == 0xbc && b2 >= 0xa1 && b2 <= 0xba) {
            *p += 3;
            return (char)('A' + (b2 - 0xa1));
        }
        if (b1 == 0xbd && b2 >= 0x81 && b2 <= 0x9a) {
            *p += 3;
            return (char)('A' + (b2 - 0x81));
        }
    }
    return 0;
}

/* Separator kinds: 1 '.', 2 '/', 3 '-', 4 年/月 (kanji). 0 if none. */
static int eat_sep(const char **p, const char *end, int kanji_kind)
{
    if (*p < end) {
        if (**p == '.') { (*p)++; return 1; }
        if (**p == '/') { (*p)++; return 2; }
        if (**p == '-') { (*p)++; return 3; }
    }
    if (eat(p, end, "\xef\xbc\x8e")) return 1; /* full-width . */
    if (eat(p, end, "\xef\xbc\x8f")) return 2; /* full-width / */
    if (eat(p, end, "\xef\xbc\x8d")) return 3; /* full-width - */
    if (eat(p, end, "\xe3\x83\xbb")) return 1; /* katakana middle dot */
    if (eat(p, end, kanji_kind == 1 ? U_NEN : U_GATSU)) return 4;
    return 0;
}

/* Is d inside era e? The next era's first day counts for both. */
static int in_era(kk_era e, const kk_date *d)
{
    if (date_cmp(d, &eras[e].start) < 0)
        return 0;
    if (e + 1 < KK_ERA_COUNT && date_cmp(d, &eras[e + 1].start) > 0)
        return 0;
    return 1;
}

kk_status kk_date__parse_era(const char *s, size_t len, kk_date *out,
                             kk_era *era_out)
{
    const char *p = s, *end = s + len;
    int e = -1, y, m, d, sep1, sep2;

    if (!s)
        return KK_EINVAL;
    while (end > p && (end[-1] == '\0'))
        end--;
    skip_spaces(&p, end);
    for (int i = 0; i < KK_ERA_COUNT && e < 0; i++)
        if (eat(&p, end, eras[i].name) || eat(&p, end, eras[i].square))
            e = i;
    for (int i = 0; i < KK_ERA_COUNT && e < 0; i++)
        if (eat(&p, end, eras[i].abbr))
            e = i;
    if (e < 0) {
        char c = eat_letter(&p, end);
        for (int i = 0; i < KK_ERA_COUNT && c; i++)
            if (eras[i].letter == c)
                e = i;
        if (e < 0)
            return KK_EINVAL;
        if (p < end && *p == '.' && end - p > 1 && is_digit(p[1]))
            p++; /* "S.45.3.12" */
    }
    skip_spaces(&p, end);
    if (eat(&p, end, U_GAN))
        y = 1;
    else if ((y = eat_number(&p, end, 2)) < 1)
        return KK_EINVAL;
    skip_spaces(&p, end);
    if (!(sep1 = eat_sep(&p, end, 1)))
        return KK_EINVAL;
    skip_spaces(&p, end);
    if ((m = eat_number(&p, end, 2)) < 1)
        return KK_EINVAL;
    skip_spaces(&p, end);
    if (!(sep2 = eat_sep(&p, end, 2)) || sep2 != sep1)
        return KK_EINVAL;
    skip_spaces(&p, end);
    if ((d = eat_number(&p, end, 2)) < 1)
        return KK_EINVAL;
    skip_spaces(&p, end);
    if (sep1 == 4) {
        eat(&p, end, U_NICHI);
        skip_spaces(&p, end);
    }
    if (p != end)
        return KK_EINVAL;

    kk_date r = {eras[e].start.y + y - 1, m, d};
    if (!kk_date__valid(r.y, r.m, r.d) || !in_era((kk_era)e, &r))
        return KK_EINVAL;
    if (out)
        *out = r;
    if (era_out)
        *era_out = (kk_era)e;
    return KK_OK;
}

/* Append line (without its '\n') unless already present. */
static void add_form(wbuf *w, const char *line, size_t *count)
{
    size_t n = strlen(line);
    const char *p = w->p;

    if (w->bad)
        return;
    while (p && p < w->p + w->len) {
        const char *nl = memchr(p, '\n', (size_t)(w->p + w->len - p));
        if (!nl)
            break;
        if ((size_t)(nl - p) == n && memcmp(p, line, n) == 0)
            return;
        p = nl + 1;
    }
    wb_add(w, line, n);
    wb_add(w, "\n", 1);
    if (!w->bad)
        (*count)++;
}

/* v in full-width digits (each U+FF10..FF19), zero-padded to width. */
static void fw_int(char *buf, size_t sz, int v, int width)
{
    char ascii[16];
    size_t o = 0;
    int n = snprintf(ascii, sizeof ascii, "%0*d", width, v);
    for (int i = 0; i < n && o + 4 <= sz; i++) {
        buf[o++] = (char)0xef;
        buf[o++] = (char)0xbc;
        buf[o++] = (char)(0x90 + (ascii[i] - '0'));
    }
    buf[o < sz ? o : sz - 1] = '\0';
}

static void era_forms_one(wbuf *w, kk_era e, const kk_date *d, size_t *count)
{
    const struct era_info *ei = &eras[e];
    int ey = d->y - ei->start.y + 1;
    char line[160], a[40], b[40], c[40];
    /* era years are written with one or two digits, and that is what
     * kk_date__parse_era reads: a form for Reiwa 6662 would be a
     * spelling no one writes and the parser refuses (fuzz_dates) */
    if (ey > 99)
        return;
    static const char seps[] = "./-";

    /* Letter forms: upper and lower case, each separator, plain and
     * zero-padded. */
    for (int lc = 0; lc < 2; lc++) {
        char L = lc ? (char)(ei->letter - 'A' + 'a') : ei->letter;
        for (int si = 0; si < 3; si++) {
            snprintf(line, sizeof line, "%c%d%c%d%c%d", L, ey, seps[si],
                     d->m, seps[si], d->d);
            add_form(w, line, count);
            snprintf(line, sizeof line, "%c%02d%c%02d%c%02d", L, ey,
                     seps[si], d->m, seps[si], d->d);
            add_form(w, line, count);
        }
    }
    /* Kanji forms: name or abbreviation, 年月日 or dots. */
    for (int pad = 0; pad < 2; pad++) {
        int wd = pad ? 2 : 1;
        snprintf(line, sizeof line, "%s%0*d" U_NEN "%0*d" U_GATSU "%0*d"
                 U_NICHI, ei->name, wd, ey, wd, d->m, wd, d->d);
        add_form(w, line, count);
        if (ey == 1) {
            snprintf(line, sizeof line, "%s" U_GAN U_NEN "%0*d" U_GATSU
                     "%0*d" U_NICHI, ei->name, wd, d->m, wd, d->d);
            add_form(w, line, count);
        }
        snprintf(line, sizeof line, "%s%0*d.%0*d.%0*d", ei->name, wd, ey,
                 wd, d->m, wd, d->d);
        add_form(w, line, count);
        snprintf(line, sizeof line, "%s%0*d.%0*d.%0*d", ei->abbr, wd, ey,
                 wd, d->m, wd, d->d);
        add_form(w, line, count);
        /* Full-width digits. */
        fw_int(a, sizeof a, ey, wd);
        fw_int(b, sizeof b, d->m, wd);
        fw_int(c, sizeof c, d->d, wd);
        snprintf(line, sizeof line, "%s%s" U_NEN "%s" U_GATSU "%s" U_NICHI,
                 ei->name, a, b, c);
        add_form(w, line, count);
        if (ey == 1) {
            snprintf(line, sizeof line, "%s" U_GAN U_NEN "%s" U_GATSU "%s"
                     U_NICHI, ei->name, b, c);
            add_form(w, line, count);
        }
    }
}

kk_status kk_date__era_forms(const kk_date *d, char *out, size_t outsz,
                             size_t *count)
{
    wbuf w;
    size_t n = 0;
    int any = 0;

    wb_init(&w, out, outsz);
    if (count)
        *count = 0;
    if (!d || !kk_date__valid(d->y, d->m, d->d))
        return wb_finish(&w, KK_EINVAL);
    for (int e = 0; e < KK_ERA_COUNT; e++) {
        if (in_era((kk_era)e, d)) {
            era_forms_one(&w, (kk_era)e, d, &n);
            any = 1;
        }
    }
    if (!any)
        return wb_finish(&w, KK_EINVAL);
    if (w.bad)
        n = 0;
    if (count)
        *count = n;
    return wb_finish(&w, KK_OK);
}
