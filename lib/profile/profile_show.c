/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/profile/profile_show.c - `profile show` (kk_profile_format()): the
 * rules a profile resolves to, one line each with its origin; and the
 * digest, taken over the same lines without their origins.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "profile/profile_priv.h"

/* --- showing -------------------------------------------------------- */

/* `profile show` (kk_profile_format()) and the digest write the same
 * lines. The digest covers each line up to its first "    # ": the origin
 * comment, or an earlier "    # " inside a value. So the same rules give
 * the same digest wherever their files live. */
typedef struct show {
    kk_buf b;    /* the text; for the digest, the current line only */
    crypto_hash_sha256_state *digest; /* NULL for the text */
} show;

/* The origin comment. The digest cuts the line where it starts, if not
 * before: there, only the comment's first six bytes need writing. */
static void show_origin(show *w, const char *origin)
{
    kk__buf_add(&w->b, "    # ", 6);
    if (!w->digest)
        kk__buf_adds(&w->b, origin);
}

/* The first "    # " in [s, end), or NULL. As memmem, but faster here:
 * memchr skips to the few '#'s of a line. */
static const char *find_comment(const char *s, const char *end)
{
    while (end - s >= 6) {
        const char *h = memchr(s + 4, '#', (size_t)(end - s - 5));
        if (!h)
            return NULL;
        if (h[1] == ' ' && memcmp(h - 4, "    ", 4) == 0)
            return h - 4;
        s = h - 3;
    }
    return NULL;
}

/* End the line. The digest hashes it, cut, and writes the next line in
 * the same space. */
static void show_end(show *w)
{
    kk_buf *b = &w->b;
    if (!w->digest) {
        kk__buf_addc(b, '\n');
        return;
    }
    if (b->failed)
        return; /* the digest fails */
    char *cut = (char *)find_comment(b->data, b->data + b->len);
    if (cut) {
        *cut = '\n';
        b->len = (size_t)(cut - b->data) + 1;
    } else {
        kk__buf_addc(b, '\n');
    }
    crypto_hash_sha256_update(w->digest, (const unsigned char *)b->data, b->len);
    b->len = 0; /* the next line, in the same space */
    b->data[0] = '\0';
}

/* A selector. Selectors were once written with snprintf to buffers of
 * fixed sizes, and the digest covers them: each kind keeps its buffer's
 * size, and so the place where a long one is cut. */
typedef struct sel_text {
    char s[160];
    size_t len, max; /* max: the buffer's size - 1 */
} sel_text;

static void sel_init(sel_text *t, size_t size)
{
    t->len = 0;
    t->max = size - 1;
}

static void sel_add(sel_text *t, const char *s, size_t n)
{
    if (n > t->max - t->len)
        n = t->max - t->len;
    memcpy(t->s + t->len, s, n);
    t->len += n;
}

/* v in digits upper-case hex digits, as %0*X writes it */
static void sel_hex(sel_text *t, unsigned v, int digits)
{
    char h[8];
    for (int i = digits - 1; i >= 0; i--, v >>= 4)
        h[i] = "0123456789ABCDEF"[v & 0xf];
    sel_add(t, h, (size_t)digits);
}

/* A rule's line: the selector padded to 34 columns (%-34s), the action as
 * written, the arguments, the origin. Written by hand, not with printf:
 * there is a line per rule, and the digest writes them on every load. */
static void show_rule(show *w, const sel_text *sel, const kk_rule *r)
{
    static const char pad[] = "                                  ";
    kk_buf *b = &w->b;
    kk__buf_add(b, sel->s, sel->len);
    if (sel->len < sizeof pad - 1)
        kk__buf_add(b, pad, sizeof pad - 1 - sel->len);
    kk__buf_addc(b, ' ');
    kk__buf_adds(b, r->code);
    for (int i = 0; i < r->nargs; i++) {
        const kk_rule_arg *a = &r->args[i];
        kk__buf_addc(b, ' ');
        if (a->key) {
            kk__buf_adds(b, a->key);
            kk__buf_addc(b, '=');
            kk__buf_adds(b, a->value);
        } else {
            kk__buf_addc(b, '"');
            kk__buf_adds(b, a->value);
            kk__buf_addc(b, '"');
        }
    }
    show_origin(w, r->origin);
    show_end(w);
}

static void show_pixel(const kk_profile *p, show *w)
{
    static const char *const modes[] = { "off", "phi", "all-text" };
    kk_buf *b = &w->b;
    for (int i = 0; i < p->npixel_rules; i++) {
        const kk_pixel_rule *r = &p->pixel_rules[i];
        if (r->kind == KK_PIXEL_RULE_MODE) {
            kk__buf_printf(b, "pixel mode %s", modes[r->mode]);
        } else {
            kk__buf_printf(b, "pixel region ");
            for (int k = 0; k < 4; k++) {
                int v = r->box[k];
                if (r->pct & (1u << k))
                    kk__buf_printf(b, "%s%d.%02d%%", v < 0 ? "-" : "", abs(v) / 100, abs(v) % 100);
                else
                    kk__buf_printf(b, "%d", v);
                kk__buf_addc(b, k < 3 ? ',' : ' ');
            }
        }
        if (r->nconds)
            kk__buf_printf(b, "%sif", r->kind == KK_PIXEL_RULE_MODE ? " " : "");
        for (int c = 0; c < r->nconds; c++) {
            const kk_pixel_cond *pc = &r->conds[c];
            kk__buf_printf(b, " \"%s%s", kk_dict__keyword(pc->tag), pc->op == '!' ? "!=" : pc->op == '~' ? "~" : "=");
            for (int v = 0; v < pc->nvalues; v++)
                kk__buf_printf(b, "%s%s", v ? "|" : "", pc->values[v]);
            kk__buf_addc(b, '"');
        }
        show_origin(w, r->origin);
        show_end(w);
    }
    for (int i = 0; i < p->npixel_allow; i++) {
        kk__buf_printf(b, "pixel allow \"%s\"", p->pixel_allow[i]);
        show_end(w);
    }
}

/* Sort n tags, a byte at a time (radix sort; tmp has room for n): qsort's
 * calls to a comparison function were a noticeable part of a load. */
static void sort_tags(uint32_t *tags, uint32_t *tmp, size_t n)
{
    uint32_t *from = tags, *to = tmp;
    for (int shift = 0; shift < 32; shift += 8) {
        size_t start[257] = { 0 };
        for (size_t i = 0; i < n; i++)
            start[((from[i] >> shift) & 0xff) + 1]++;
        for (int d = 0; d < 256; d++)
            start[d + 1] += start[d];
        for (size_t i = 0; i < n; i++)
            to[start[(from[i] >> shift) & 0xff]++] = from[i];
        uint32_t *t = from;
        from = to;
        to = t;
    }
    /* four passes: the result is back in tags */
}

static void show_all(const kk_profile *p, show *w)
{
    kk_buf *b = &w->b;
    kk__buf_printf(b, "profile %s", p->name);
    show_end(w);
    kk__buf_printf(b, "version %s", p->version);
    show_end(w);
    if (p->description) {
        kk__buf_printf(b, "description \"%s\"", p->description);
        show_end(w);
    }
    for (int i = 0; i < p->ncodes; i++) {
        kk__buf_printf(b, "# code DCM %s \"%s\"", p->codes[i].value, p->codes[i].meaning);
        show_end(w);
    }
    for (int i = 0; p->enabled_names[i]; i++) {
        kk__buf_printf(b, "enable %s", p->enabled_names[i]);
        show_end(w);
    }
    kk__buf_printf(b, "default %s", kk_action_name(p->default_action));
    show_origin(w, p->default_rule.origin);
    show_end(w);
    for (int i = 0; i < p->nadds; i++) {
        kk__buf_printf(b, "add (%04X,%04X) \"%s\"", KK_GROUP(p->adds[i].tag),
                       KK_ELEMENT(p->adds[i].tag), p->adds[i].value);
        show_end(w);
    }
    for (int i = 0; i < p->nparams; i += 2) {
        if (strcmp(p->params[i], "deface") == 0 && i + 3 < p->nparams &&
            strcmp(p->params[i + 2], "deface.required") == 0) {
            kk__buf_printf(b, "deface %s%s", p->params[i + 1],
                           strcmp(p->params[i + 3], "yes") == 0 ? " required" : "");
            i += 2;
        } else {
            kk__buf_printf(b, "set %s \"%s\"", p->params[i], p->params[i + 1]);
        }
        show_end(w);
    }
    /* exact rules in tag order */
    uint32_t *tags = kk__malloc(2 * (p->exact.n + 1) * sizeof *tags);
    if (!tags) {
        b->failed = true;
        return;
    }
    size_t nt = 0;
    for (size_t i = 0; i < p->exact.cap; i++)
        if (p->exact.vals[i])
            tags[nt++] = (uint32_t)p->exact.keys[i];
    sort_tags(tags, tags + nt, nt);
    sel_text sel;
    for (size_t i = 0; i < nt; i++) {
        uint32_t t = tags[i];
        const char *kw = kk_dict__keyword(t);
        sel_init(&sel, 64);
        sel_add(&sel, "(", 1);
        sel_hex(&sel, KK_GROUP(t), 4);
        sel_add(&sel, ",", 1);
        sel_hex(&sel, KK_ELEMENT(t), 4);
        sel_add(&sel, ") ", 2);
        sel_add(&sel, kw, strlen(kw));
        show_rule(w, &sel, map_get(&p->exact, t));
    }
    free(tags);
    for (int i = 0; i < p->nmasks; i++) {
        uint32_t t = p->masks[i].tag, m = p->masks[i].mask;
        sel_init(&sel, 32);
        sel_add(&sel, "(", 1);
        for (int k = 0; k < 8; k++) {
            int sh = 28 - 4 * k;
            if (k == 4)
                sel_add(&sel, ",", 1);
            if ((m >> sh) & 0xf)
                sel_hex(&sel, t >> sh, 1);
            else
                sel_add(&sel, "x", 1);
        }
        sel_add(&sel, ")", 1);
        show_rule(w, &sel, p->masks[i].rule);
    }
    for (int i = 0; i < p->npriv; i++) {
        sel_init(&sel, 160);
        sel_add(&sel, "(", 1);
        sel_hex(&sel, p->priv[i].group, 4);
        sel_add(&sel, ",xx", 3);
        sel_hex(&sel, p->priv[i].low, 2);
        sel_add(&sel, ",\"", 2);
        sel_add(&sel, p->priv[i].creator, strlen(p->priv[i].creator));
        sel_add(&sel, "\")", 2);
        show_rule(w, &sel, p->priv[i].rule);
    }
    if (p->private_class) {
        sel_init(&sel, 8);
        sel_add(&sel, "private", 7);
        show_rule(w, &sel, p->private_class);
    }
    for (int vi = 0; vi < 26 * 26; vi++)
        if (p->vr_rules[vi]) {
            char vr[5] = { 'v', 'r', ':', (char)('A' + vi / 26), (char)('A' + vi % 26) };
            sel_init(&sel, 8);
            sel_add(&sel, vr, sizeof vr);
            show_rule(w, &sel, p->vr_rules[vi]);
        }
    show_pixel(p, w);
}

kk_status kk_profile_format(char **out, kk_ctx *ctx, const kk_profile *p)
{
    show w = { KK_BUF_INIT, NULL };
    show_all(p, &w);
    if (w.b.failed) {
        kk__buf_free(&w.b);
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    }
    *out = kk__buf_detach(&w.b);
    return *out ? KK_OK : KK_ENOMEM;
}

kk_status kk_profile__digest(kk_profile *p, kk_ctx *ctx)
{
    crypto_hash_sha256_state sha;
    crypto_hash_sha256_init(&sha);
    show w = { KK_BUF_INIT, &sha };
    show_all(p, &w);
    bool failed = w.b.failed;
    kk__buf_free(&w.b);
    if (failed)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&sha, h);
    sodium_bin2hex(p->digest, sizeof p->digest, h, sizeof h);
    return KK_OK;
}
