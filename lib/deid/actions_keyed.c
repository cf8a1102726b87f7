/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/deid/actions_keyed.c - keyed and generalizing actions: pseudonym,
 * generalize-age, truncate-date and generalize-address.
 *
 * Pseudonyms come from HMAC-SHA-256 under the run's key with the domain
 * named by the rule (R05): the same value in the same domain always gets
 * the same pseudonym under one key (R06), and the store keeps the
 * correspondence, encrypted, when the run has one (R07). A PN pseudonym
 * replaces every component group (R02).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keyed.h"
#include "deid/actions.h"
#include "store/store_internal.h"
#include "text/charset.h"
#include "text/dicom_dates.h"

/* Longest value a VR allows, for sizing pseudonyms. */
static unsigned vr_max(uint16_t vr)
{
    switch (vr) {
    case KK_VR('S', 'H'): return 16;
    case KK_VR('L', 'O'): return 64;
    case KK_VR('P', 'N'): return 64;
    case KK_VR('C', 'S'): return 16;
    case KK_VR('A', 'E'): return 16;
    default: return 64;
    }
}

/* A 12-digit My Number with a valid check digit (番号利用法): it is an
 * individual identification code, so it is deleted, never pseudonymized and
 * never stored (R03, R04). */
static bool is_my_number(const char *s, size_t n)
{
    while (n && s[n - 1] == ' ')
        n--;
    if (n != 12)
        return false;
    for (size_t i = 0; i < 12; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    int sum = 0;
    for (int k = 1; k <= 11; k++) {
        int digit = s[11 - k] - '0';
        int q = k <= 6 ? k + 1 : k - 5;
        sum += digit * q;
    }
    int r = sum % 11;
    int check = r <= 1 ? 0 : 11 - r;
    return check == s[11] - '0';
}

static kk_status apply_pseudonym(kk_action_env *env, kk_dcm_item *item, kk_dcm_elem **e,
                                 uint16_t vr, const kk_rule *r)
{
    const char *s;
    size_t n;
    if (!kk_dcm__vr_is_string(vr) || kk_dcm__get_string(*e, &s, &n) != KK_OK)
        return KK_EINVAL;
    if (n == 0)
        return KK_OK;
    if (is_my_number(s, n))
        return KK_EINVAL; /* the walker removes it */
    const char *domain = kk_rule__arg(r, "domain");
    if (!domain)
        domain = "default";
    kk_pseudonym_format fmt;
    fmt.prefix = kk_rule__arg(r, "prefix");
    if (!fmt.prefix)
        fmt.prefix = "";
    const char *len = kk_rule__arg(r, "length");
    unsigned want = len ? (unsigned)atoi(len) : 12;
    unsigned max = vr_max(vr);
    if (strlen(fmt.prefix) >= max)
        return kk__fail(env->ctx, KK_EINVAL, "pseudonym prefix longer than the VR allows");
    if (want + strlen(fmt.prefix) > max)
        want = max - (unsigned)strlen(fmt.prefix);
    fmt.length = want ? want : 1;
    fmt.alphabet = kk_rule__arg(r, "alphabet");
    if (!fmt.alphabet)
        fmt.alphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    /* the issuer qualifies patient IDs (R05: issuer-qualified IDs) */
    const char *issuer = strcmp(domain, "patient") == 0 ? env->issuer : NULL;
    char out[128];
    kk_status st = kk_keyed__pseudonym(env->key, domain, issuer, s, n, &fmt, out, sizeof out);
    if (st != KK_OK)
        return kk__fail(env->ctx, st, "bad pseudonym format in the profile");
    if (env->store) {
        st = kk_store__record_pseudonym(env->store, env->ctx, domain, out, s, n);
        if (st != KK_OK)
            return st;
    }
    return kk_dcm__set_string(item, e, env->ctx, out, strlen(out));
}

static kk_status apply_generalize_age(kk_action_env *env, kk_dcm_item *item, kk_dcm_elem **e,
                                      uint16_t vr, const kk_rule *r)
{
    const char *s;
    size_t n;
    if (vr != KK_VR('A', 'S') || kk_dcm__get_string(*e, &s, &n) != KK_OK)
        return KK_EINVAL;
    if (n == 0)
        return KK_OK;
    const char *th = kk_rule__arg(r, "threshold");
    const char *marker = kk_rule__arg(r, "marker");
    char out[32];
    if (kk_date__generalize_as(s, n, th ? atoi(th) : 90, marker, out, sizeof out) != KK_OK)
        return KK_EINVAL;
    return kk_dcm__set_string(item, e, env->ctx, out, strlen(out));
}

static kk_status apply_truncate(kk_action_env *env, kk_dcm_item *item, kk_dcm_elem **e,
                                uint16_t vr)
{
    const char *s;
    size_t n;
    if (kk_dcm__get_string(*e, &s, &n) != KK_OK)
        return KK_EINVAL;
    if (n == 0)
        return KK_OK;
    char out[256];
    if (vr == KK_VR('D', 'A')) {
        if (kk_date__truncate_da_month(s, n, out, sizeof out) != KK_OK)
            return KK_EINVAL;
    } else if (vr == KK_VR('D', 'T') && n >= 6) {
        /* YYYYMM is a valid DT: keep year and month only */
        snprintf(out, sizeof out, "%.6s", s);
    } else {
        return KK_EINVAL;
    }
    return kk_dcm__set_string(item, e, env->ctx, out, strlen(out));
}

/* Japanese addresses: keep up to the municipality (都道府県 + 市区町村),
 * drop the rest (R17). Non-Japanese text keeps nothing it cannot place. */
static size_t jp_city_end(const char *u, size_t n)
{
    static const char *const pref_end[] = { "都", "道", "府", "県" };
    static const char *const city_end[] = { "市", "区", "町", "村", "郡" };
    size_t i = 0, pref = 0;
    for (; i < n && i < 24; i++)
        for (size_t k = 0; k < 4; k++)
            if (strncmp(u + i, pref_end[k], 3) == 0) {
                pref = i + 3;
                goto found_pref;
            }
found_pref:
    if (!pref)
        return 0;
    size_t end = pref;
    /* the first 市/区/町/村 after the prefecture; a 市 followed by a 区
     * (政令指定都市) keeps the ward too */
    for (i = pref; i + 3 <= n && i < pref + 36; i++) {
        for (size_t k = 0; k < 5; k++)
            if (strncmp(u + i, city_end[k], 3) == 0) {
                end = i + 3;
                if (k == 0) {
                    for (size_t j = end; j + 3 <= n && j < end + 18; j++)
                        if (strncmp(u + j, "区", 3) == 0)
                            return j + 3;
                }
                return end;
            }
    }
    return end;
}

static kk_status apply_generalize_address(kk_action_env *env, kk_dcm_item *item,
                                          kk_dcm_elem **e)
{
    const char *s;
    size_t n;
    if (kk_dcm__get_string(*e, &s, &n) != KK_OK)
        return KK_EINVAL;
    if (n == 0)
        return KK_OK;
    kk_buf u = KK_BUF_INIT, enc = KK_BUF_INIT;
    kk_text__to_utf8(env->charset, env->charset_len, s, n, &u);
    size_t keep = u.data ? jp_city_end(u.data, u.len) : 0;
    kk_status st = KK_EINVAL;
    if (keep && kk_text__from_utf8(env->charset, env->charset_len, u.data, keep, &enc) == KK_OK)
        st = kk_dcm__set_string(item, e, env->ctx, enc.data, enc.len);
    kk__buf_free(&u);
    kk__buf_free(&enc);
    return st;
}

kk_status kk_action__apply_keyed(kk_action_env *env, kk_dcm_item *item, kk_dcm_elem **e,
                                 uint32_t tag, uint16_t vr, kk_action a, const kk_rule *r)
{
    (void)tag;
    switch (a) {
    case KK_ACTION_PSEUDONYM:
        return apply_pseudonym(env, item, e, vr, r);
    case KK_ACTION_GENERALIZE_AGE:
        return apply_generalize_age(env, item, e, vr, r);
    case KK_ACTION_TRUNCATE_DATE:
        return apply_truncate(env, item, e, vr);
    case KK_ACTION_GENERALIZE_ADDRESS:
        return apply_generalize_address(env, item, e);
    default:
        return kk__fail(env->ctx, KK_EINTERNAL, "action %s is not a keyed action",
                        kk_action_name(a));
    }
}
