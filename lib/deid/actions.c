/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/deid/actions.c - what each action does to one element's value (see
 * actions.h). Replacement UIDs and pseudonyms are keyed (lib/crypto), so
 * they agree across files, runs and machines that share the key; they are
 * recorded in the store when the run has one (R06, R07, R08).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keyed.h"
#include "deid/actions.h"
#include "store/store_internal.h"
#include "text/charset.h"
#include "text/dicom_dates.h"

const char *kk_action__dummy(uint16_t vr)
{
    switch (vr) {
    case KK_VR('A', 'E'): return "ANONYMOUS";
    case KK_VR('A', 'S'): return "000Y";
    case KK_VR('C', 'S'): return "ANONYMIZED";
    case KK_VR('D', 'A'): return "19000101";
    case KK_VR('D', 'T'): return "19000101000000";
    case KK_VR('T', 'M'): return "000000";
    case KK_VR('D', 'S'): case KK_VR('I', 'S'): return "0";
    case KK_VR('L', 'O'): case KK_VR('S', 'H'): case KK_VR('S', 'T'):
    case KK_VR('L', 'T'): case KK_VR('U', 'T'): case KK_VR('U', 'C'):
        return "ANONYMIZED";
    case KK_VR('P', 'N'): return "ANONYMIZED";
    case KK_VR('U', 'R'): return "urn:x-kakou:anonymized";
    case KK_VR('U', 'S'): case KK_VR('S', 'S'): case KK_VR('U', 'L'):
    case KK_VR('S', 'L'): case KK_VR('F', 'L'): case KK_VR('F', 'D'):
    case KK_VR('U', 'V'): case KK_VR('S', 'V'):
        return "0";
    case KK_VR('O', 'B'): case KK_VR('O', 'W'): case KK_VR('U', 'N'):
    case KK_VR('O', 'D'): case KK_VR('O', 'F'): case KK_VR('O', 'L'):
    case KK_VR('O', 'V'):
        return "\0\0\0\0\0\0\0"; /* eight zero bytes with the NUL */
    default:
        return NULL;
    }
}

static bool is_binary(uint16_t vr)
{
    return vr == KK_VR('O', 'B') || vr == KK_VR('O', 'W') || vr == KK_VR('U', 'N') ||
           vr == KK_VR('O', 'D') || vr == KK_VR('O', 'F') || vr == KK_VR('O', 'L') ||
           vr == KK_VR('O', 'V');
}

static kk_status set_value(kk_action_env *env, kk_dcm_item *item, kk_dcm_elem **e,
                           const char *s, size_t n)
{
    return kk_dcm__set_string(item, e, env->ctx, s, n);
}

static kk_status apply_dummy(kk_action_env *env, kk_dcm_item *item, kk_dcm_elem **e,
                             uint32_t tag, uint16_t vr)
{
    if (vr == KK_VR('U', 'I')) {
        /* a dummy UID is still consistent: derive it from the original */
        char out[KK_UID_BUF];
        const char *s;
        size_t n;
        char src[80];
        if (kk_dcm__get_string(*e, &s, &n) == KK_OK && n)
            snprintf(src, sizeof src, "%.*s", (int)(n < 64 ? n : 64), s);
        else
            snprintf(src, sizeof src, "dummy:%08X", tag);
        kk_keyed__uid(env->key, src, out);
        return set_value(env, item, e, out, strlen(out));
    }
    if (vr == KK_VR('A', 'T'))
        return KK_EINVAL;
    const char *v = kk_action__dummy(vr);
    if (!v)
        return KK_EINVAL;
    return set_value(env, item, e, v, is_binary(vr) ? 8 : strlen(v));
}

/* Replace each UID of a (possibly multi-valued) UI value. Standard UIDs
 * name classes and syntaxes, never instances: kept, when the standard's
 * table knows them; a made-up one under its root (1.2.840.10008.99.<ID>)
 * is replaced like any other. */
static kk_status apply_uid(kk_action_env *env, kk_dcm_item *item, kk_dcm_elem **e, uint16_t vr)
{
    const char *s;
    size_t n;
    if (vr != KK_VR('U', 'I') || kk_dcm__get_string(*e, &s, &n) != KK_OK)
        return KK_EINVAL;
    if (n == 0)
        return KK_OK;
    kk_buf out = KK_BUF_INIT;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '\\')
            continue;
        char uid[128];
        size_t l = i - start;
        while (l && (s[start + l - 1] == ' ' || s[start + l - 1] == '\0'))
            l--;
        if (l >= sizeof uid)
            l = sizeof uid - 1;
        memcpy(uid, s + start, l);
        uid[l] = '\0';
        if (out.len)
            kk__buf_addc(&out, '\\');
        if (l == 0 || (strncmp(uid, "1.2.840.10008.", 14) == 0 && kk_dcm__uid_is_standard(uid))) {
            kk__buf_adds(&out, uid);
        } else {
            char nu[KK_UID_BUF];
            kk_keyed__uid(env->key, uid, nu);
            kk__buf_adds(&out, nu);
            if (env->store) {
                kk_status st = kk_store__record_uid(env->store, env->ctx, nu, uid);
                if (st != KK_OK) {
                    kk__buf_free(&out);
                    return st;
                }
            }
        }
        start = i + 1;
    }
    if (out.failed) {
        kk__buf_free(&out);
        return kk__fail(env->ctx, KK_ENOMEM, "out of memory");
    }
    kk_status st = set_value(env, item, e, out.data ? out.data : "", out.len);
    kk__buf_free(&out);
    return st;
}

/* Per-patient shift of DA, DT and TM values. */
static kk_status apply_shift(kk_action_env *env, kk_dcm_item *item, kk_dcm_elem **e,
                             uint16_t vr, const kk_rule *r)
{
    const char *s;
    size_t n;
    if (kk_dcm__get_string(*e, &s, &n) != KK_OK)
        return KK_EINVAL;
    /* whole days move; the time of day stays (intervals hold) unless the
     * profile removes times (`set date-shift.time remove`, R11) */
    bool drop_time = strcmp(kk_profile__param(env->profile, "date-shift.time", "keep"), "remove") == 0;
    if (vr == KK_VR('T', 'M'))
        return drop_time && n ? kk_dcm__set_empty(*e, env->ctx) : KK_OK;
    if (n == 0)
        return KK_OK;
    const char *range = r ? kk_rule__arg(r, "range") : NULL;
    if (!range)
        range = kk_profile__param(env->profile, "date-shift.range", "-365:-1");
    int lo = -365, hi = -1;
    if (sscanf(range, "%d:%d", &lo, &hi) != 2 || lo > hi)
        return kk__fail(env->ctx, KK_EINVAL, "bad date shift range '%s' (write MIN:MAX days)", range);
    const char *pk = env->patient ? env->patient : "";
    kk_buf key = KK_BUF_INIT;
    kk__buf_printf(&key, "%s\\%s", pk, env->issuer ? env->issuer : "");
    int days = kk_keyed__shift_days(env->key, key.data ? key.data : "", key.len, lo, hi);
    kk__buf_free(&key);
    char out[512];
    kk_status st = vr == KK_VR('D', 'A') ? kk_date__shift_da(s, n, days, out, sizeof out)
                                         : kk_date__shift_dt(s, n, days, out, sizeof out);
    if (st != KK_OK)
        return KK_EINVAL;
    if (drop_time && vr == KK_VR('D', 'T') && !memchr(out, '\\', strlen(out)) && strlen(out) > 8)
        out[8] = '\0';
    return set_value(env, item, e, out, strlen(out));
}

static kk_status apply_clean(kk_action_env *env, kk_dcm_item *item, kk_dcm_elem **e,
                             uint32_t tag, uint16_t vr, const kk_rule *r)
{
    switch (vr) {
    case KK_VR('D', 'A'): case KK_VR('D', 'T'): case KK_VR('T', 'M'):
        /* cleaning a date keeps its meaning but not its value: shift it
         * (PS3.15 E.3.6, Retain Longitudinal Modified Dates) */
        return apply_shift(env, item, e, vr, r);
    case KK_VR('U', 'I'):
        return apply_uid(env, item, e, vr);
    case KK_VR('P', 'N'):
        return apply_dummy(env, item, e, tag, vr);
    case KK_VR('C', 'S'): case KK_VR('A', 'S'): case KK_VR('D', 'S'): case KK_VR('I', 'S'):
    case KK_VR('U', 'S'): case KK_VR('S', 'S'): case KK_VR('U', 'L'): case KK_VR('S', 'L'):
    case KK_VR('F', 'L'): case KK_VR('F', 'D'): case KK_VR('A', 'T'):
        return KK_OK; /* codes and numbers identify no one (PS3.15 E.1-1 Note 9) */
    default:
        break;
    }
    if (!kk_dcm__vr_is_string(vr))
        return KK_EINVAL; /* binary: nothing to read, nothing to keep */
    const char *s;
    size_t n;
    if (kk_dcm__get_string(*e, &s, &n) != KK_OK)
        return KK_EINVAL;
    if (n == 0)
        return KK_OK;
    kk_buf u = KK_BUF_INIT, c = KK_BUF_INIT, enc = KK_BUF_INIT;
    kk_text__to_utf8(env->charset, env->charset_len, s, n, &u);
    kk_status st = KK_OK;
    bool changed = kk_clean__text(env->cleaner, env->ids, u.data ? u.data : "", u.len, &c);
    if (u.failed || c.failed) {
        st = KK_EINVAL;
    } else if (changed) {
        if (kk_text__from_utf8(env->charset, env->charset_len, c.data ? c.data : "", c.len, &enc) != KK_OK)
            st = KK_EINVAL; /* cannot write it back in the declared set: drop it */
        else
            st = set_value(env, item, e, enc.data ? enc.data : "", enc.len);
    }
    kk__buf_free(&u);
    kk__buf_free(&c);
    kk__buf_free(&enc);
    return st;
}

kk_status kk_action__apply(kk_action_env *env, kk_dcm_item *item, kk_dcm_elem **e,
                           uint32_t tag, uint16_t vr, kk_action a, const kk_rule *r)
{
    switch (a) {
    case KK_ACTION_KEEP:
        return KK_OK;
    case KK_ACTION_REMOVE:
        return KK_EINVAL; /* the walker removes */
    case KK_ACTION_EMPTY:
        return kk_dcm__set_empty(*e, env->ctx);
    case KK_ACTION_DUMMY:
        return apply_dummy(env, item, e, tag, vr);
    case KK_ACTION_CLEAN:
        return apply_clean(env, item, e, tag, vr, r);
    case KK_ACTION_UID:
        return apply_uid(env, item, e, vr);
    case KK_ACTION_SET: {
        const char *v = r ? kk_rule__arg(r, NULL) : NULL;
        return v ? set_value(env, item, e, v, strlen(v)) : KK_EINVAL;
    }
    case KK_ACTION_SHIFT_DATE:
        return apply_shift(env, item, e, vr, r);
    case KK_ACTION_PSEUDONYM:
    case KK_ACTION_GENERALIZE_AGE:
    case KK_ACTION_TRUNCATE_DATE:
    case KK_ACTION_GENERALIZE_ADDRESS:
        return kk_action__apply_keyed(env, item, e, tag, vr, a, r);
    case KK_ACTION__COUNT:
        break;
    }
    return kk__fail(env->ctx, KK_EINTERNAL, "unknown action %d", (int)a);
}
