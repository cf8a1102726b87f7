/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz/fuzz_dates.c - libFuzzer harness for the DA, TM, DT and AS parsers
 * and the Japanese era parser (lib/text/dicom_dates.c). The first byte
 * gives a day shift and an age threshold; the rest is the value, fed to
 * every parser and transformer. Checks what the header promises: outputs
 * are NUL-terminated within their size, "" on failure, and a parsed date
 * round-trips through its day number and its era spellings.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text/dicom_dates.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* out must be a string within sz, and "" when st is not KK_OK */
static void check_out(kk_status st, const char *out, size_t sz)
{
    if (!memchr(out, '\0', sz))
        abort();
    if (st != KK_OK && out[0] != '\0')
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    int days = (int)(int8_t)data[0] * 397;        /* about +-140 years */
    int threshold = data[0] % 120;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    char out[256];
    kk_status st;

    kk_date d;
    if (kk_date__parse_da(s, n, &d) == KK_OK) {
        if (!kk_date__valid(d.y, d.m, d.d))
            abort();
        kk_date r = kk_date__from_days(kk_date__to_days(&d));
        if (r.y != d.y || r.m != d.m || r.d != d.d)
            abort();
        st = kk_date__format_da(&d, out, sizeof out);
        check_out(st, out, sizeof out);
        char forms[4096];
        size_t count = 0;
        st = kk_date__era_forms(&d, forms, sizeof forms, &count);
        check_out(st, forms, sizeof forms);
        /* every spelling parses back to the same date */
        for (char *line = forms; st == KK_OK && *line;) {
            char *nl = strchr(line, '\n');
            if (!nl)
                abort();
            kk_date e;
            if (kk_date__parse_era(line, (size_t)(nl - line), &e, NULL) != KK_OK ||
                e.y != d.y || e.m != d.m || e.d != d.d)
                abort();
            line = nl + 1;
        }
        kk_date at = kk_date__from_days(kk_date__to_days(&d) + (days < 0 ? -days : days));
        int years;
        (void)kk_date__age_years(&d, &at, &years);
        st = kk_date__age_as(&d, &at, threshold, NULL, out, sizeof out);
        check_out(st, out, sizeof out);
    }
    kk_time t;
    (void)kk_date__parse_tm(s, n, &t);
    kk_datetime dt;
    (void)kk_date__parse_dt(s, n, &dt);
    st = kk_date__shift_da(s, n, days, out, sizeof out);
    check_out(st, out, sizeof out);
    st = kk_date__shift_dt(s, n, days, out, sizeof out);
    check_out(st, out, sizeof out);
    st = kk_date__truncate_da_month(s, n, out, sizeof out);
    check_out(st, out, sizeof out);
    st = kk_date__generalize_as(s, n, threshold, NULL, out, sizeof out);
    check_out(st, out, sizeof out);
    /* small buffers: the size must be honoured */
    char tiny[5];
    st = kk_date__shift_da(s, n, days, tiny, sizeof tiny);
    check_out(st, tiny, sizeof tiny);
    st = kk_date__generalize_as(s, n, threshold, "90+", tiny, sizeof tiny);
    check_out(st, tiny, sizeof tiny);
    kk_era era;
    if (kk_date__parse_era(s, n, &d, &era) == KK_OK) {
        if (!kk_date__valid(d.y, d.m, d.d) || era < 0 || era >= KK_ERA_COUNT)
            abort();
    }
    return 0;
}
