/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/deid/charset_fix.c - text values valid in their declared character
 * set (see charset_fix.h). First pass: find a value whose bytes break its
 * set (kk_text__decode). Only then the second pass decodes every text value
 * of every item (per-item (0008,0005) honoured) and writes it as UTF-8,
 * and (0008,0005) becomes ISO_IR 192 wherever it is.
 */
#include <stdlib.h>
#include <string.h>

#include "deid/charset_fix.h"
#include "text/charset.h"

#define TAG_CHARSET KK_TAG(0x0008, 0x0005)

static bool text_vr(uint16_t vr)
{
    return vr == KK_VR('S', 'H') || vr == KK_VR('L', 'O') || vr == KK_VR('S', 'T') ||
           vr == KK_VR('L', 'T') || vr == KK_VR('U', 'T') || vr == KK_VR('P', 'N') ||
           vr == KK_VR('U', 'C');
}

typedef struct cs_ref {
    const char *s;
    size_t n;
} cs_ref;

static cs_ref item_cs(kk_dcm_item *item, cs_ref parent)
{
    kk_dcm_elem *e = kk_dcm__find(item, TAG_CHARSET);
    cs_ref c = parent;
    if (e && kk_dcm__get_string(e, &c.s, &c.n) != KK_OK)
        c = parent;
    return c;
}

/* True when some text value in item (or below) is not valid as declared. */
static bool needs_fix(kk_dcm_item *item, cs_ref cs, int depth)
{
    if (depth > 64)
        return false;
    cs = item_cs(item, cs);
    for (kk_dcm_elem *e = kk_dcm__next(item, NULL); e; e = kk_dcm__next(item, e)) {
        if (kk_dcm__is_sequence(e)) {
            for (kk_dcm_item *it = kk_dcm__next_item(e, NULL); it; it = kk_dcm__next_item(e, it))
                if (needs_fix(it, cs, depth + 1))
                    return true;
            continue;
        }
        if (!text_vr(kk_dcm__vr(e)))
            continue;
        const char *s;
        size_t n;
        if (kk_dcm__get_string(e, &s, &n) != KK_OK || kk_text__is_ascii(s, n))
            continue;
        kk_buf u = KK_BUF_INIT;
        kk_text_src r = kk_text__decode(cs.s, cs.n, s, n, &u);
        kk__buf_free(&u);
        if (r != KK_TEXT_AS_DECLARED)
            return true;
    }
    return false;
}

static kk_status convert(kk_dcm_item *item, kk_ctx *ctx, cs_ref parent, int depth,
                         kk_charset_fix *out)
{
    if (depth > 64)
        return KK_OK;
    cs_ref c = item_cs(item, parent);
    /* the value is rewritten below: keep a copy of the set in force */
    char *own = kk__strndup(c.s ? c.s : "", c.n);
    if (!own)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    cs_ref cs = { own, c.n };
    kk_status st = KK_OK;
    for (kk_dcm_elem *e = kk_dcm__next(item, NULL); e && st == KK_OK;) {
        if (kk_dcm__is_sequence(e)) {
            for (kk_dcm_item *it = kk_dcm__next_item(e, NULL); it && st == KK_OK;
                 it = kk_dcm__next_item(e, it))
                st = convert(it, ctx, cs, depth + 1, out);
            e = kk_dcm__next(item, e);
            continue;
        }
        const char *s;
        size_t n;
        if (kk_dcm__tag(e) == TAG_CHARSET || !text_vr(kk_dcm__vr(e)) ||
            kk_dcm__get_string(e, &s, &n) != KK_OK || kk_text__is_ascii(s, n)) {
            e = kk_dcm__next(item, e);
            continue;
        }
        kk_buf u = KK_BUF_INIT;
        kk_text_src r = kk_text__decode(cs.s, cs.n, s, n, &u);
        if (u.failed) {
            st = kk__fail(ctx, KK_ENOMEM, "out of memory");
        } else if (r == KK_TEXT_UNDECODABLE) {
            /* bytes that are no text at all: never kept (fail closed) */
            out->removed++;
            kk__buf_free(&u);
            e = kk_dcm__remove(item, e);
            continue;
        } else {
            st = kk_dcm__set_string(item, &e, ctx, u.data ? u.data : "", u.len);
        }
        kk__buf_free(&u);
        e = kk_dcm__next(item, e);
    }
    kk_dcm_elem *ce = kk_dcm__find(item, TAG_CHARSET);
    if (st == KK_OK && (ce || depth == 0))
        st = kk_dcm__put_string(item, ctx, TAG_CHARSET, "ISO_IR 192");
    free(own);
    return st;
}

kk_status kk_deid__fix_charsets(kk_dcm_item *ds, kk_ctx *ctx, kk_charset_fix *out)
{
    memset(out, 0, sizeof *out);
    cs_ref none = { "", 0 };
    if (!needs_fix(ds, none, 0))
        return KK_OK;
    out->converted = 1;
    return convert(ds, ctx, none, 0, out);
}
