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
#include "text/address.h"
#include "text/dicom_dates.h"
#include "text/idnum.h"
#include "text/normalize.h"

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

/* An individual identification code (個人識別符号: My Number, passport,
 * residence card, pension number, in any width and with any separators):
 * it is deleted, never pseudonymized, never stored, never an HMAC input
 * (R03, R04). Every backslash-separated value is checked. A PatientID
 * of 12 digits or 8 is the hospital's own more often than a licence or an
 * insurer number: there only the codes with a check digit or a shape of
 * their own count. */
static bool is_personal_code(kk_action_env *env, uint32_t tag, const char *s, size_t n)
{
    kk_buf u = KK_BUF_INIT;
    kk_text__to_utf8(env->charset, env->charset_len, s, n, &u);
    bool hit = false;
    const char *p = u.data ? u.data : "";
    size_t start = 0;
    for (size_t i = 0; i <= u.len && !hit; i++) {
        if (i < u.len && p[i] != '\\')
            continue;
        kk_idcode c = kk_text__idcode(p + start, i - start);
        if (tag == KK_TAG(0x0010, 0x0020))
            hit = c == KK_IDCODE_MY_NUMBER || c == KK_IDCODE_PASSPORT ||
                  c == KK_IDCODE_RESIDENCE_CARD || c == KK_IDCODE_PENSION;
        else
            hit = c != KK_IDCODE_NONE;
        start = i + 1;
    }
    kk__buf_free(&u);
    return hit;
}

static kk_status apply_pseudonym(kk_action_env *env, kk_dcm_item *item, kk_dcm_elem **e,
                                 uint32_t tag, uint16_t vr, const kk_rule *r)
{
    const char *s;
    size_t n;
    if (!kk_dcm__vr_is_string(vr) || kk_dcm__get_string(*e, &s, &n) != KK_OK)
        return KK_EINVAL;
    if (n == 0)
        return KK_OK;
    if (is_personal_code(env, tag, s, n))
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
 * drop the rest (R17, lib/text/address.c); a postal code goes, or keeps
 * its first three digits with `set address.postal 3`. Non-Japanese text
 * keeps nothing it cannot place. */
static kk_status apply_generalize_address(kk_action_env *env, kk_dcm_item *item,
                                          kk_dcm_elem **e)
{
    const char *s;
    size_t n;
    if (kk_dcm__get_string(*e, &s, &n) != KK_OK)
        return KK_EINVAL;
    if (n == 0)
        return KK_OK;
    kk_buf u = KK_BUF_INIT, enc = KK_BUF_INIT, out = KK_BUF_INIT;
    kk_ftext f = KK_FTEXT_INIT;
    kk_text__to_utf8(env->charset, env->charset_len, s, n, &u);
    kk_status st = KK_EINVAL;
    if (u.data && kk_text__fold(u.data, u.len, 0, &f) == KK_OK) {
        char postal3[4];
        kk_span head = kk_text__address_head(f.s, f.len, postal3);
        bool three = strcmp(kk_profile__param(env->profile, "address.postal", "remove"), "3") == 0;
        if (head.to > head.from) {
            if (three && postal3[0])
                kk__buf_printf(&out, "%s ", postal3);
            kk__buf_add(&out, f.s + head.from, head.to - head.from);
            if (!out.failed &&
                kk_text__from_utf8(env->charset, env->charset_len, out.data, out.len, &enc) == KK_OK)
                st = kk_dcm__set_string(item, e, env->ctx, enc.data, enc.len);
        }
    }
    kk_text__ftext_free(&f);
    kk__buf_free(&u);
    kk__buf_free(&out);
    kk__buf_free(&enc);
    return st;
}

kk_status kk_action__apply_keyed(kk_action_env *env, kk_dcm_item *item, kk_dcm_elem **e,
                                 uint32_t tag, uint16_t vr, kk_action a, const kk_rule *r)
{
    switch (a) {
    case KK_ACTION_PSEUDONYM:
        return apply_pseudonym(env, item, e, tag, vr, r);
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
