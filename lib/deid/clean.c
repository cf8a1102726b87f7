/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/deid/clean.c - the clean (C) action for text (see clean.h).
 *
 * Two passes over the UTF-8 text mark bytes to remove: (1) the object's
 * own identifiers, matched case-insensitively and, when ASCII, on word
 * boundaries; (2) patterns for dates (Gregorian and Japanese era), long
 * digit runs (IDs, My Number, card numbers), phone numbers, e-mail
 * addresses, caret-separated DICOM names and names next to honorifics
 * (Mr/Dr..., 様/さん/殿/先生). Each marked run becomes "***".
 * The process stays in the C locale, so regex works on bytes and the
 * multibyte literals below are plain byte strings.
 */
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deid/clean.h"

typedef struct pattern {
    const char *re;
    const char *needs; /* a byte the text must hold for the pattern to apply */
} pattern;

static const pattern patterns[] = {
    /* Gregorian dates in common spellings */
    { "[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}", "0123456789" },
    { "[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{2,4}", "0123456789" },
    { "[0-9]{2,4}年[0-9]{1,2}月([0-9]{1,2}日)?", "0123456789" },
    /* Japanese era dates: 昭和45年3月12日, 平成元年, S45.3.12, H31/4/30 */
    { "(明治|大正|昭和|平成|令和)[ ]*(元|[0-9]{1,2})年([0-9]{1,2}月([0-9]{1,2}日)?)?", "\xe5\xe6\xe4" },
    { "(^|[^A-Za-z])[MTSHRmtshr][0-9]{1,2}[./-][0-9]{1,2}([./-][0-9]{1,2})?", "0123456789" },
    /* IDs, My Number, insurance and card numbers: 5+ digits in a token */
    { "[A-Za-z0-9]*[0-9]{5,}[A-Za-z0-9]*", "0123456789" },
    { "[0-9]{4}[- ][0-9]{4}[- ][0-9]{4}([- ][0-9]{1,4})?", "0123456789" },
    { "[A-Za-z]{0,3}[0-9]{2,}[-/][0-9]{2,}([-/][0-9]+)*", "0123456789" },
    /* phone numbers */
    { "\\+?\\(?[0-9]{2,5}\\)?[- ][0-9]{1,4}[- ][0-9]{3,4}", "0123456789" },
    /* e-mail */
    { "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+", "@" },
    /* DICOM-style names: Family^Given */
    { "[^ ^=\\\\,;:()]+\\^[^ ^=\\\\,;:()]*(\\^[^ ^=\\\\,;:()]*)*", "^" },
    /* honorific followed by a capitalised name */
    { "(Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sr|Sra|Herr|Frau|Mme|Mlle)\\.?[ ]+[A-Z][A-Za-z'-]+([ ]+[A-Z][A-Za-z'-]+)?",
      "MDPSHFm" },
    { "[Pp]atient[ :]+[A-Z][A-Za-z'-]+([ ,]+[A-Z][A-Za-z'-]+)?", "Pp" },
};
#define NPATTERNS (sizeof patterns / sizeof patterns[0])

struct kk_cleaner {
    regex_t re[NPATTERNS];
    int ncompiled;
};

kk_status kk_clean__new(kk_cleaner **out, kk_ctx *ctx)
{
    *out = NULL;
    kk_cleaner *cl = kk__calloc(1, sizeof *cl);
    if (!cl)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    for (size_t i = 0; i < NPATTERNS; i++) {
        if (regcomp(&cl->re[i], patterns[i].re, REG_EXTENDED) != 0) {
            kk_clean__free(cl);
            return kk__fail(ctx, KK_EINTERNAL, "cannot compile clean pattern %zu", i);
        }
        cl->ncompiled++;
    }
    *out = cl;
    return KK_OK;
}

void kk_clean__free(kk_cleaner *cl)
{
    if (!cl)
        return;
    for (int i = 0; i < cl->ncompiled; i++)
        regfree(&cl->re[i]);
    free(cl);
}

/* --- identifier sets ------------------------------------------------ */

static void idset_push(kk_idset *ids, const char *s, size_t len)
{
    while (len && (s[0] == ' ' || s[0] == '\0')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\0'))
        len--;
    /* one ASCII letter identifies nothing; one CJK character may (姓) */
    if (len < 2)
        return;
    for (int i = 0; i < ids->n; i++)
        if (ids->lens[i] == len && memcmp(ids->items[i], s, len) == 0)
            return;
    if (ids->n == ids->cap) {
        int cap = ids->cap ? ids->cap * 2 : 16;
        char **it = kk__realloc(ids->items, (size_t)cap * sizeof *it);
        if (!it)
            return;
        ids->items = it;
        size_t *ln = kk__realloc(ids->lens, (size_t)cap * sizeof *ln);
        if (!ln)
            return;
        ids->lens = ln;
        ids->cap = cap;
    }
    char *c = kk__strndup(s, len);
    if (!c)
        return;
    ids->items[ids->n] = c;
    ids->lens[ids->n] = len;
    ids->n++;
}

void kk_idset__add_name(kk_idset *ids, const char *s, size_t len)
{
    /* groups split by '=', components by '^' and by spaces */
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '=' || s[i] == '\\') {
            const char *g = s + start;
            size_t gl = i - start;
            size_t cs = 0;
            for (size_t j = 0; j <= gl; j++) {
                if (j == gl || g[j] == '^' || g[j] == ' ') {
                    idset_push(ids, g + cs, j - cs);
                    cs = j + 1;
                }
            }
            /* the group with its carets read as spaces, and joined up */
            kk_buf b = KK_BUF_INIT, j2 = KK_BUF_INIT;
            for (size_t j = 0; j < gl; j++) {
                kk__buf_addc(&b, g[j] == '^' ? ' ' : g[j]);
                if (g[j] != '^' && g[j] != ' ')
                    kk__buf_addc(&j2, g[j]);
            }
            if (b.data)
                idset_push(ids, b.data, b.len);
            if (j2.data)
                idset_push(ids, j2.data, j2.len);
            kk__buf_free(&b);
            kk__buf_free(&j2);
            start = i + 1;
        }
    }
}

void kk_idset__add_id(kk_idset *ids, const char *s, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++)
        if (i == len || s[i] == '\\') {
            idset_push(ids, s + start, i - start);
            start = i + 1;
        }
}

static const struct { int start; const char *kanji; char letter; } eras[] = {
    { 2019, "令和", 'R' }, { 1989, "平成", 'H' }, { 1926, "昭和", 'S' },
    { 1912, "大正", 'T' }, { 1868, "明治", 'M' },
};

void kk_idset__add_date(kk_idset *ids, const char *s, size_t len)
{
    if (len < 8)
        return;
    for (int i = 0; i < 8; i++)
        if (!isdigit((unsigned char)s[i]))
            return;
    int y = atoi((char[]){ s[0], s[1], s[2], s[3], 0 });
    int m = atoi((char[]){ s[4], s[5], 0 });
    int d = atoi((char[]){ s[6], s[7], 0 });
    char b[96];
    const char *fmts[] = { "%04d%02d%02d", "%04d-%02d-%02d", "%04d/%02d/%02d", "%04d.%02d.%02d",
                           "%04d/%d/%d", "%04d-%d-%d", "%04d.%d.%d", "%04d年%d月%d日",
                           "%04d年%02d月%02d日" };
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        snprintf(b, sizeof b, fmts[i], y, m, d);
        idset_push(ids, b, strlen(b));
    }
    const char *dmy[] = { "%02d/%02d/%04d", "%02d.%02d.%04d", "%02d-%02d-%04d", "%d/%d/%04d" };
    for (size_t i = 0; i < sizeof dmy / sizeof dmy[0]; i++) {
        snprintf(b, sizeof b, dmy[i], d, m, y);
        idset_push(ids, b, strlen(b));
        snprintf(b, sizeof b, dmy[i], m, d, y);
        idset_push(ids, b, strlen(b));
    }
    for (size_t i = 0; i < sizeof eras / sizeof eras[0]; i++) {
        if (y < eras[i].start)
            continue;
        int ey = y - eras[i].start + 1;
        snprintf(b, sizeof b, "%s%d年%d月%d日", eras[i].kanji, ey, m, d);
        idset_push(ids, b, strlen(b));
        if (ey == 1) {
            snprintf(b, sizeof b, "%s元年%d月%d日", eras[i].kanji, m, d);
            idset_push(ids, b, strlen(b));
        }
        snprintf(b, sizeof b, "%c%d.%d.%d", eras[i].letter, ey, m, d);
        idset_push(ids, b, strlen(b));
        snprintf(b, sizeof b, "%c%d/%d/%d", eras[i].letter, ey, m, d);
        idset_push(ids, b, strlen(b));
        snprintf(b, sizeof b, "%c%02d.%02d.%02d", eras[i].letter, ey, m, d);
        idset_push(ids, b, strlen(b));
        break;
    }
}

void kk_idset__free(kk_idset *ids)
{
    for (int i = 0; i < ids->n; i++)
        free(ids->items[i]);
    free(ids->items);
    free(ids->lens);
    ids->items = NULL;
    ids->lens = NULL;
    ids->n = ids->cap = 0;
}

/* --- cleaning ------------------------------------------------------- */

static bool ascii_only(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return false;
    return true;
}

static void mark_at(const char *in, size_t len, const char *id, size_t il, bool ascii, size_t i,
                    unsigned char *mark)
{
    /* ASCII identifiers only on word boundaries: "Li" is not in "Lipid" */
    if (ascii && ((i > 0 && isalnum((unsigned char)in[i - 1]) && isalnum((unsigned char)id[0])) ||
                  (i + il < len && isalnum((unsigned char)in[i + il]) &&
                   isalnum((unsigned char)id[il - 1]))))
        return;
    memset(mark + i, 1, il);
}

/* Every place an identifier occurs: ASCII ones without regard to case
 * (searched in an ASCII-lowercased copy), others byte for byte. This runs
 * on every cleaned text, for every identifier of the object. */
static void mark_identifiers(const kk_idset *ids, const char *in, size_t len, unsigned char *mark)
{
    char small[512], lid[256];
    char *low = NULL;
    for (int k = 0; k < ids->n; k++) {
        const char *id = ids->items[k];
        size_t il = ids->lens[k];
        if (il == 0 || il > len)
            continue;
        bool ascii = ascii_only(id, il) && il <= sizeof lid;
        const char *hay = in, *needle = id;
        if (ascii) {
            if (!low) {
                low = len <= sizeof small ? small : malloc(len);
                if (!low)
                    return;
                for (size_t i = 0; i < len; i++)
                    low[i] = (char)tolower((unsigned char)in[i]);
            }
            for (size_t i = 0; i < il; i++)
                lid[i] = (char)tolower((unsigned char)id[i]);
            hay = low;
            needle = lid;
        }
        /* texts are short: memchr for the first byte beats memmem's setup */
        const char *end = hay + len - il + 1;
        for (const char *p = hay; p < end; p++) {
            p = memchr(p, needle[0], (size_t)(end - p));
            if (!p)
                break;
            if (memcmp(p + 1, needle + 1, il - 1) == 0)
                mark_at(in, len, id, il, ascii, (size_t)(p - hay), mark);
        }
    }
    if (low && low != small)
        free(low);
}

static void mark_patterns(const kk_cleaner *cl, const char *in, size_t len, unsigned char *mark)
{
    char *z = kk__strndup(in, len); /* regexec wants NUL-terminated text */
    if (!z)
        return;
    for (size_t p = 0; p < NPATTERNS; p++) {
        if (!strpbrk(z, patterns[p].needs))
            continue;
        size_t off = 0;
        regmatch_t m;
        while (off < len && regexec(&cl->re[p], z + off, 1, &m, off ? REG_NOTBOL : 0) == 0) {
            if (m.rm_eo <= m.rm_so) {
                off += (size_t)m.rm_so + 1;
                continue;
            }
            memset(mark + off + (size_t)m.rm_so, 1, (size_t)(m.rm_eo - m.rm_so));
            off += (size_t)m.rm_eo;
        }
    }
    free(z);
    /* a name before a Japanese honorific: the run of non-ASCII characters
     * (at most 8) just before 様, さん, さま, 殿, 先生, 氏 */
    static const char *const honorifics[] = { "様", "さん", "さま", "殿", "先生", "氏", "くん", "ちゃん" };
    for (size_t h = 0; h < sizeof honorifics / sizeof honorifics[0]; h++) {
        size_t hl = strlen(honorifics[h]);
        for (size_t i = 0; i + hl <= len; i++) {
            if (memcmp(in + i, honorifics[h], hl) != 0)
                continue;
            size_t s = i;
            int chars = 0;
            while (s > 0 && chars < 8) {
                size_t t = s - 1;
                while (t > 0 && ((unsigned char)in[t] & 0xC0) == 0x80)
                    t--;
                unsigned char c = (unsigned char)in[t];
                /* stop at ASCII, and at ideographic space/comma/period */
                if (c < 0x80 || memcmp(in + t, "\xe3\x80\x80", 3) == 0 ||
                    memcmp(in + t, "\xe3\x80\x81", 3) == 0 || memcmp(in + t, "\xe3\x80\x82", 3) == 0)
                    break;
                s = t;
                chars++;
            }
            /* also a romanised name: "Yamada-sama" is caught by the ASCII run */
            if (chars)
                memset(mark + s, 1, i - s);
        }
    }
}

bool kk_clean__text(const kk_cleaner *cl, const kk_idset *ids, const char *in, size_t len,
                    kk_buf *out)
{
    unsigned char small[512];
    unsigned char *mark = len <= sizeof small ? small : kk__calloc(len, 1);
    if (!mark) {
        return true; /* cannot clean: report a change so the caller drops it */
    }
    memset(mark, 0, len);
    if (ids)
        mark_identifiers(ids, in, len, mark);
    mark_patterns(cl, in, len, mark);
    bool changed = false;
    for (size_t i = 0; i < len;) {
        if (!mark[i]) {
            kk__buf_addc(out, in[i++]);
            continue;
        }
        changed = true;
        while (i < len && mark[i])
            i++;
        kk__buf_adds(out, "***");
    }
    if (mark != small)
        free(mark);
    return changed;
}
