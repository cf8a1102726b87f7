/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/text/charset.c - DICOM character sets to and from UTF-8 (see
 * charset.h). ISO 2022 code extensions are parsed here (PS3.5 6.1.2.5):
 * G0/G1 designations switch per escape sequence and reset at value
 * delimiters; each run of bytes is decoded with iconv in the set then in
 * force. JIS X 0208/0212 and JIS X 0201 katakana runs are rewritten as
 * EUC-JP first, which glibc decodes reliably.
 *
 * While a two-byte set is invoked in G0, bytes 0x21-0x7E come in pairs:
 * 0x3D ('='), 0x5C ('\') and 0x7E are halves of characters (女 is 0x3D77),
 * never delimiters. Writing back returns to the value's initial G0 set
 * (ESC ( B, or ESC ( J under ISO 2022 IR 13) before every delimiter and at
 * the end of the value.
 */
#include <errno.h>
#include <ctype.h>
#include <iconv.h>
#include <string.h>

#include "text/charset.h"
#include "text/iconv_cache.h"

/* A NUL with something after it: UTF-16 or binary, no DICOM text (a
 * value may end in NUL padding) */
static bool interior_nul(const char *s, size_t len)
{
    const char *z = memchr(s, 0, len);
    if (!z)
        return false;
    for (size_t i = (size_t)(z - s); i < len; i++)
        if (s[i] != 0)
            return true;
    return false;
}

bool kk_text__is_ascii(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80 || s[i] == 0x1b)
            return false;
    return !interior_nul(s, len);
}

/* Defined Terms of (0008,0005) and their iconv names. ISO_IR 13 is read
 * as CP932, which keeps 0x5C and 0x7E ASCII as pydicom and DCMTK do. */
static const struct { const char *term; const char *iconv; } single_sets[] = {
    { "ISO_IR 6", "ISO-8859-1" }, /* ASCII; decoded leniently */
    { "ISO_IR 100", "ISO-8859-1" }, { "ISO_IR 101", "ISO-8859-2" },
    { "ISO_IR 109", "ISO-8859-3" }, { "ISO_IR 110", "ISO-8859-4" },
    { "ISO_IR 144", "ISO-8859-5" }, { "ISO_IR 127", "ISO-8859-6" },
    { "ISO_IR 126", "ISO-8859-7" }, { "ISO_IR 138", "ISO-8859-8" },
    { "ISO_IR 148", "ISO-8859-9" }, { "ISO_IR 203", "ISO-8859-15" },
    { "ISO_IR 166", "TIS-620" }, { "ISO_IR 13", "CP932" },
    { "ISO_IR 192", "UTF-8" }, { "GB18030", "GB18030" }, { "GBK", "GBK" },
    { NULL, NULL }
};

/* G1 sets of the ISO 2022 terms, for the initial state. */
typedef enum g_set {
    G_ASCII, G_ROMAN, G_JISX0208, G_JISX0212, G_KATAKANA, G_LATIN, G_KSX1001, G_GB2312
} g_set;

typedef struct iso2022_state {
    g_set g0, g1;
    const char *latin; /* iconv name when g1 is G_LATIN */
} iso2022_state;

static const struct { const char *term; g_set g1; const char *latin; } iso2022_terms[] = {
    { "ISO 2022 IR 6", G_ASCII, NULL }, { "ISO 2022 IR 13", G_KATAKANA, NULL },
    { "ISO 2022 IR 87", G_ASCII, NULL }, { "ISO 2022 IR 159", G_ASCII, NULL },
    { "ISO 2022 IR 100", G_LATIN, "ISO-8859-1" }, { "ISO 2022 IR 101", G_LATIN, "ISO-8859-2" },
    { "ISO 2022 IR 109", G_LATIN, "ISO-8859-3" }, { "ISO 2022 IR 110", G_LATIN, "ISO-8859-4" },
    { "ISO 2022 IR 144", G_LATIN, "ISO-8859-5" }, { "ISO 2022 IR 127", G_LATIN, "ISO-8859-6" },
    { "ISO 2022 IR 126", G_LATIN, "ISO-8859-7" }, { "ISO 2022 IR 138", G_LATIN, "ISO-8859-8" },
    { "ISO 2022 IR 148", G_LATIN, "ISO-8859-9" }, { "ISO 2022 IR 203", G_LATIN, "ISO-8859-15" },
    { "ISO 2022 IR 166", G_LATIN, "TIS-620" }, { "ISO 2022 IR 149", G_KSX1001, NULL },
    { "ISO 2022 IR 58", G_GB2312, NULL },
    { NULL, G_ASCII, NULL }
};

/* The n-th backslash-separated value of cs, trimmed. */
static size_t cs_value(const char *cs, size_t cslen, int n, const char **out)
{
    const char *s = cs, *end = cs + cslen;
    for (int i = 0; i < n; i++) {
        const char *bs = memchr(s, '\\', (size_t)(end - s));
        if (!bs) {
            *out = end;
            return 0;
        }
        s = bs + 1;
    }
    const char *bs = memchr(s, '\\', (size_t)(end - s));
    const char *e = bs ? bs : end;
    while (s < e && *s == ' ')
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\0'))
        e--;
    *out = s;
    return (size_t)(e - s);
}

static bool term_is(const char *v, size_t n, const char *term)
{
    return strlen(term) == n && memcmp(v, term, n) == 0;
}

/* True when any value of cs is term. */
static bool cs_has(const char *cs, size_t cslen, const char *term)
{
    for (int k = 0; k < 8; k++) {
        const char *v;
        size_t n = cs_value(cs ? cs : "", cs ? cslen : 0, k, &v);
        if (term_is(v, n, term))
            return true;
    }
    return false;
}

/* Convert with iconv. Lenient (ok == NULL): each byte that does not
 * convert becomes U+FFFD and is counted in *bad when bad is given.
 * Strict: *ok turns false at the first one and conversion stops. */
static void iconv_append2(const char *from, const char *to, const char *in, size_t len,
                          kk_buf *out, bool *ok, size_t *bad)
{
    if (!len)
        return;
    iconv_t cd = kk_text__iconv(to, from);
    if (cd == (iconv_t)-1) {
        if (ok)
            *ok = false;
        else
            kk__buf_add(out, in, len);
        if (bad)
            *bad += len;
        return;
    }
    char buf[1024];
    char *ip = (char *)in;
    size_t il = len;
    while (il > 0) {
        char *op = buf;
        size_t ol = sizeof buf;
        size_t r = iconv(cd, &ip, &il, &op, &ol);
        kk__buf_add(out, buf, (size_t)(op - buf));
        if (r == (size_t)-1 && errno != E2BIG) {
            if (bad)
                (*bad)++;
            if (ok) {
                *ok = false;
                break;
            }
            kk__buf_adds(out, "\xEF\xBF\xBD"); /* U+FFFD */
            ip++;
            il--;
        }
    }
    if (!ok || *ok) {
        char *op = buf;
        size_t ol = sizeof buf;
        iconv(cd, NULL, NULL, &op, &ol); /* back to the initial shift state */
        kk__buf_add(out, buf, (size_t)(op - buf));
    }
}

static void iconv_append(const char *from, const char *to, const char *in, size_t len,
                         kk_buf *out, bool *ok)
{
    iconv_append2(from, to, in, len, out, ok, NULL);
}

static bool is_delimiter(char c)
{
    return c == '^' || c == '=' || c == '\\' || c == '\r' || c == '\n' || c == '\t' ||
           c == '\f';
}

static bool two_byte(g_set g)
{
    return g == G_JISX0208 || g == G_JISX0212;
}

/* Decode an ISO 2022 value: follow escapes, convert each run. *bad counts
 * bytes that are not valid in the sets designated. */
static void iso2022_to_utf8(const iso2022_state *initial, const char *in, size_t len,
                            kk_buf *out, size_t *bad)
{
    iso2022_state st = *initial;
    kk_buf run = KK_BUF_INIT;  /* bytes of the current run, as EUC-JP etc. */
    const char *run_cs = NULL; /* iconv name of the run */
#define FLUSH()                                                          \
    do {                                                                 \
        if (run.len)                                                     \
            iconv_append2(run_cs ? run_cs : "ISO-8859-1", "UTF-8", run.data, \
                          run.len, out, NULL, bad);                      \
        run.len = 0;                                                     \
    } while (0)
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)in[i];
        if (c == 0x1b) {
            FLUSH();
            const char *e = in + i + 1;
            size_t rest = len - i - 1;
            size_t used = 0;
            if (rest >= 2 && e[0] == '(' && e[1] == 'B') {
                st.g0 = G_ASCII; used = 2;
            } else if (rest >= 2 && e[0] == '(' && e[1] == 'J') {
                st.g0 = G_ROMAN; used = 2;
            } else if (rest >= 2 && e[0] == ')' && e[1] == 'I') {
                st.g1 = G_KATAKANA; used = 2;
            } else if (rest >= 2 && e[0] == '$' && (e[1] == 'B' || e[1] == '@')) {
                st.g0 = G_JISX0208; used = 2;
            } else if (rest >= 3 && e[0] == '$' && e[1] == '(' && e[2] == 'D') {
                st.g0 = G_JISX0212; used = 3;
            } else if (rest >= 3 && e[0] == '$' && e[1] == ')' && e[2] == 'C') {
                st.g1 = G_KSX1001; used = 3;
            } else if (rest >= 3 && e[0] == '$' && e[1] == ')' && e[2] == 'A') {
                st.g1 = G_GB2312; used = 3;
            } else if (rest >= 2 && e[0] == '-') {
                static const struct { char f; const char *cs; } g96[] = {
                    { 'A', "ISO-8859-1" }, { 'B', "ISO-8859-2" }, { 'C', "ISO-8859-3" },
                    { 'D', "ISO-8859-4" }, { 'L', "ISO-8859-5" }, { 'G', "ISO-8859-6" },
                    { 'F', "ISO-8859-7" }, { 'H', "ISO-8859-8" }, { 'M', "ISO-8859-9" },
                    { 'b', "ISO-8859-15" }, { 'T', "TIS-620" }, { 0, NULL } };
                for (int k = 0; g96[k].f; k++)
                    if (g96[k].f == e[1]) {
                        st.g1 = G_LATIN;
                        st.latin = g96[k].cs;
                        used = 2;
                    }
            }
            if (!used) {
                kk__buf_adds(out, "\xEF\xBF\xBD");
                if (bad)
                    (*bad)++;
                i++;
                continue;
            }
            i += 1 + used;
            continue;
        }
        const char *cs;
        if (c >= 0x21 && c <= 0x7f && two_byte(st.g0)) {
            /* a character of JIS X 0208/0212: two bytes, whatever they are */
            if (c == 0x7f || i + 1 >= len || (unsigned char)in[i + 1] < 0x21 ||
                (unsigned char)in[i + 1] > 0x7e) {
                kk__buf_adds(out, "\xEF\xBF\xBD");
                if (bad)
                    (*bad)++;
                i++;
                continue;
            }
            cs = "EUC-JP";
            if (run_cs != cs)
                FLUSH();
            run_cs = cs;
            if (st.g0 == G_JISX0212)
                kk__buf_addc(&run, (char)0x8f);
            kk__buf_addc(&run, (char)(c | 0x80));
            kk__buf_addc(&run, (char)((unsigned char)in[i + 1] | 0x80));
            i += 2;
            continue;
        }
        if (is_delimiter((char)c)) {
            FLUSH();
            kk__buf_addc(out, (char)c);
            /* PS3.5 6.1.2.5.3: delimiters switch back to the initial sets */
            st = *initial;
            i++;
            continue;
        }
        if (c < 0x80) {
            cs = "ISO-8859-1";
            if (run_cs != cs)
                FLUSH();
            run_cs = cs;
            kk__buf_addc(&run, (char)c);
            i++;
            continue;
        }
        switch (st.g1) {
        case G_KATAKANA:
            if (c < 0xa1 || c > 0xdf) {
                kk__buf_adds(out, "\xEF\xBF\xBD");
                if (bad)
                    (*bad)++;
                i++;
                continue;
            }
            cs = "EUC-JP";
            if (run_cs != cs)
                FLUSH();
            run_cs = cs;
            kk__buf_addc(&run, (char)0x8e);
            kk__buf_addc(&run, (char)c);
            i++;
            continue;
        case G_KSX1001:
        case G_GB2312:
            cs = st.g1 == G_KSX1001 ? "EUC-KR" : "GB2312";
            if (run_cs != cs)
                FLUSH();
            run_cs = cs;
            kk__buf_addc(&run, (char)c);
            if (i + 1 < len)
                kk__buf_addc(&run, in[i + 1]);
            i += 2;
            continue;
        case G_LATIN:
            cs = st.latin;
            break;
        default:
            /* no G1 set designated: the byte means nothing */
            kk__buf_adds(out, "\xEF\xBF\xBD");
            if (bad)
                (*bad)++;
            i++;
            continue;
        }
        if (run_cs != cs)
            FLUSH();
        run_cs = cs;
        kk__buf_addc(&run, (char)c);
        i++;
    }
    FLUSH();
#undef FLUSH
    kk__buf_free(&run);
}

/* Length of the valid UTF-8 sequence at s (strict: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t k;
    unsigned min, cp;
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0) {
        k = 1; min = 0x80; cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        k = 2; min = 0x800; cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        k = 3; min = 0x10000; cp = c & 0x07;
    } else {
        return 0;
    }
    if (k >= n)
        return 0;
    for (size_t j = 1; j <= k; j++) {
        if ((s[j] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[j] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return k + 1;
}

/* Valid UTF-8 with at least one multibyte character. */
static bool utf8_multibyte(const char *s, size_t n)
{
    bool multi = false;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq((const unsigned char *)s + i, n - i);
        if (!k)
            return false;
        if (k > 1)
            multi = true;
        i += k;
    }
    return multi;
}

/* Make out[from..] valid UTF-8: glibc's iconv passes some invalid input
 * through from UTF-8 (5- and 6-byte forms), and what is decoded here is
 * compared and re-encoded, so every bad byte becomes U+FFFD. */
static size_t utf8_repair(kk_buf *out, size_t from)
{
    const unsigned char *s = (const unsigned char *)out->data;
    size_t i = from, bad = 0;
    while (i < out->len) {
        size_t k = utf8_seq(s + i, out->len - i);
        if (!k)
            break;
        i += k;
    }
    if (i >= out->len)
        return 0;
    kk_buf fixed = KK_BUF_INIT;
    kk__buf_add(&fixed, out->data + i, out->len - i);
    out->len = i;
    out->data[i] = '\0';
    s = (const unsigned char *)fixed.data;
    for (size_t j = 0; j < fixed.len;) {
        size_t k = utf8_seq(s + j, fixed.len - j);
        if (k) {
            kk__buf_add(out, s + j, k);
            j += k;
        } else {
            kk__buf_adds(out, "\xEF\xBF\xBD"); /* U+FFFD */
            bad++;
            j++;
        }
    }
    if (fixed.failed)
        out->failed = true;
    kk__buf_free(&fixed);
    return bad;
}

static void to_utf8(const char *cs, size_t cslen, const char *in, size_t len, kk_buf *out,
                    size_t *bad);

void kk_text__to_utf8(const char *cs, size_t cslen, const char *in, size_t len, kk_buf *out)
{
    size_t from = out->len;
    to_utf8(cs, cslen, in, len, out, NULL);
    if (!out->failed && out->data)
        utf8_repair(out, from);
}

static bool is_iso2022(const char *cs, size_t cslen, const char *in, size_t len)
{
    const char *v0, *v1;
    size_t n0 = cs_value(cs ? cs : "", cs ? cslen : 0, 0, &v0);
    size_t n1 = cs_value(cs ? cs : "", cs ? cslen : 0, 1, &v1);
    return (n0 >= 8 && memcmp(v0, "ISO 2022", 8) == 0) ||
           (n1 >= 8 && memcmp(v1, "ISO 2022", 8) == 0) || memchr(in, 0x1b, len);
}

static void to_utf8(const char *cs, size_t cslen, const char *in, size_t len, kk_buf *out,
                    size_t *bad)
{
    const char *v0;
    size_t n0 = cs_value(cs ? cs : "", cs ? cslen : 0, 0, &v0);
    if (!is_iso2022(cs, cslen, in, len)) {
        if (kk_text__is_ascii(in, len)) {
            kk__buf_add(out, in, len);
            return;
        }
        const char *name = "ISO-8859-1";
        for (int i = 0; single_sets[i].term; i++)
            if (term_is(v0, n0, single_sets[i].term))
                name = single_sets[i].iconv;
        iconv_append2(name, "UTF-8", in, len, out, NULL, bad);
        return;
    }
    iso2022_state st = { G_ASCII, G_ASCII, NULL };
    if (term_is(v0, n0, "ISO 2022 IR 13"))
        st.g0 = G_ROMAN;
    for (int i = 0; iso2022_terms[i].term; i++)
        if (term_is(v0, n0, iso2022_terms[i].term)) {
            st.g1 = iso2022_terms[i].g1;
            st.latin = iso2022_terms[i].latin;
        }
    /* \ISO 2022 IR 58 (or IR 149) text with no ESC $ ) A (C) before its
     * GB2312 (KS X 1001) bytes, as pydicom and some devices write it:
     * the only two-byte G1 set declared is what the bytes mean, rather
     * than a guess at another character set */
    if (st.g1 == G_ASCII && !memchr(in, 0x1b, len)) {
        bool gb = cs_has(cs, cslen, "ISO 2022 IR 58"), ks = cs_has(cs, cslen, "ISO 2022 IR 149");
        if (gb != ks)
            st.g1 = gb ? G_GB2312 : G_KSX1001;
    }
    iso2022_to_utf8(&st, in, len, out, bad);
}

/* --- strict decoding with detection --------------------------------- */

static bool has_c1(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80 && (unsigned char)s[i] <= 0x9f)
            return true;
    return false;
}

/* The Latin sets, whose letters beyond ASCII stand one at a time in words
 * (Cyrillic, Greek, Arabic, Hebrew and Thai words are all high bytes). */
static bool latin_set(const char *iconv_name)
{
    static const char *const latin[] = { "ISO-8859-1", "ISO-8859-2", "ISO-8859-3", "ISO-8859-4",
                                         "ISO-8859-9", "ISO-8859-15", NULL };
    for (int i = 0; latin[i]; i++)
        if (strcmp(iconv_name, latin[i]) == 0)
            return true;
    return false;
}

/* EUC-JP read as a Latin set (ISO_IR 100 over a Japanese system's bytes):
 * every high byte in A1-FE, or 8E before a half-width katakana (SS2), in
 * runs of even length (two bytes a character), one run two characters or
 * more, or one symbol of row 1 (A1 and a byte: 、。・：ー), which Latin
 * never writes (¡ and a sign: mGy・cm). Latin text puts its few accented
 * letters one at a time inside words. */
static bool eucjp_runs(const char *s, size_t n, size_t *longest_out, bool *symbol_out);

static bool looks_eucjp(const char *s, size_t n)
{
    size_t longest;
    bool symbol;
    return eucjp_runs(s, n, &longest, &symbol) && (longest >= 4 || symbol);
}

/* Whether every high byte of s stands in an EUC-JP pair (A1-FE twice, or
 * 8E and a half-width katakana); the longest run of them, and whether one
 * run is a symbol of row 1. */
static bool eucjp_runs(const char *s, size_t n, size_t *longest_out, bool *symbol_out)
{
    size_t run = 0, longest = 0;
    bool symbol = false;
    *longest_out = 0;
    *symbol_out = false;
    for (size_t i = 0; i <= n; i++) {
        unsigned char c = i < n ? (unsigned char)s[i] : 0;
        if (c >= 0x80) {
            if (c == 0x8e && i + 1 < n && (unsigned char)s[i + 1] >= 0xa1 &&
                (unsigned char)s[i + 1] <= 0xdf && run % 2 == 0) {
                run += 2;
                i++;
                continue;
            }
            if (c < 0xa1 || c == 0xff)
                return false;
            run++;
            continue;
        }
        if (run % 2)
            return false;
        if (run == 2 && (unsigned char)s[i - 2] == 0xa1)
            symbol = true;
        longest = run > longest ? run : longest;
        run = 0;
    }
    *longest_out = longest;
    *symbol_out = symbol;
    return longest > 0;
}

/* Half-width katakana (JIS X 0201, ISO_IR 13, Shift_JIS's single bytes)
 * read as a Latin set: every high byte in A1-DF, two or more of them side
 * by side somewhere, and none touching an ASCII letter (Latin puts an
 * accented letter inside a word: Müller, José; ｻﾄｳ ﾊﾅｺ reads as "³Ä³ ÊÅº"). */
static bool looks_halfwidth_kana(const char *s, size_t n)
{
    size_t run = 0, longest = 0;
    for (size_t i = 0; i <= n; i++) {
        unsigned char c = i < n ? (unsigned char)s[i] : 0;
        if (c >= 0x80) {
            if (c < 0xa1 || c > 0xdf || (i > 0 && isalpha((unsigned char)s[i - 1])) ||
                (i + 1 < n && isalpha((unsigned char)s[i + 1])))
                return false;
            run++;
            continue;
        }
        longest = run > longest ? run : longest;
        run = 0;
    }
    return longest >= 2;
}

/* Whether every run of high bytes is of even length and each pair's
 * first byte is EUC-JP's hiragana, katakana or a level-1 kanji row. */
static bool eucjp_level1_pairs(const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i <= n; i++) {
        unsigned char c = i < n ? (unsigned char)s[i] : 0;
        if (c >= 0x80) {
            if (run % 2 == 0 && c != 0xa4 && c != 0xa5 && (c < 0xb0 || c > 0xcf))
                return false;
            run++;
            continue;
        }
        if (run % 2)
            return false;
        run = 0;
    }
    return true;
}

/* Which Japanese bytes these are, when they could be both: EUC-JP pairs
 * decode as half-width katakana too (山田 as ｻｳﾅﾄ). Half-width katakana
 * it is when a (han)dakuten stands after a kana that takes one (ﾔﾏﾀﾞ) and
 * no half-width punctuation (｡｢｣､･, the lead bytes of EUC-JP's kana and
 * symbols) or stray mark is there; EUC-JP when its runs allow it; else
 * half-width katakana when they allow it. KK_TEXT_AS_SJIS (half-width
 * katakana), KK_TEXT_AS_EUCJP, or KK_TEXT_AS_DECLARED for neither. */
static kk_text_src guess_japanese(const char *s, size_t n)
{
    bool hw = looks_halfwidth_kana(s, n), euc = looks_eucjp(s, n);
    int good = 0, bad = 0;
    for (size_t i = 0; hw && i < n; i++) {
        unsigned char c = (unsigned char)s[i], p = i ? (unsigned char)s[i - 1] : 0;
        if (c >= 0xa1 && c <= 0xa5)
            bad++;
        else if (c == 0xde)
            (p == 0xb3 || (p >= 0xb6 && p <= 0xc4) || (p >= 0xca && p <= 0xce)) ? good++ : bad++;
        else if (c == 0xdf)
            (p >= 0xca && p <= 0xce) ? good++ : bad++;
    }
    /* with no mark to tell, pairs that are all common kanji or kana in
     * EUC-JP (level 1, rows 0x24, 0x25, 0x30-0x4F: 林 as ﾎﾓ, 点 as ﾅﾀ) are
     * EUC-JP: a word in half-width katakana is rarely all of even length
     * with every other letter in ｰ..ﾏ */
    if (hw && bad == 0 && good == 0 && !euc && eucjp_level1_pairs(s, n))
        return KK_TEXT_AS_EUCJP;
    if (hw && bad == 0 && (good > 0 || !euc))
        return KK_TEXT_AS_SJIS;
    if (euc)
        return KK_TEXT_AS_EUCJP;
    return hw ? KK_TEXT_AS_SJIS : KK_TEXT_AS_DECLARED;
}

static bool try_strict(const char *from, const char *in, size_t len, kk_buf *out)
{
    bool ok = true;
    size_t mark = out->len;
    iconv_append(from, "UTF-8", in, len, out, &ok);
    if (!ok || out->failed) {
        out->len = mark;
        if (out->data)
            out->data[mark] = '\0';
        return false;
    }
    return true;
}

/* What the bytes are when they are not what (0008,0005) says. */
static kk_text_src detect(const char *in, size_t len, kk_buf *out, bool latin_ok)
{
    if (memchr(in, 0x1b, len) == NULL) {
        if (utf8_multibyte(in, len)) {
            kk__buf_add(out, in, len);
            return KK_TEXT_AS_UTF8;
        }
        /* EUC-JP pairs decode as Shift_JIS too, as half-width katakana
         * (佐藤 as ｺｴﾆ｣): tell them apart first. With no name declared,
         * one pair beside ASCII letters (Hirschsprung病) is EUC-JP too:
         * half-width katakana comes in words of its own. */
        size_t longest;
        bool symbol;
        kk_text_src g = guess_japanese(in, len);
        if ((g == KK_TEXT_AS_EUCJP || (g == KK_TEXT_AS_DECLARED && eucjp_runs(in, len, &longest, &symbol))) &&
            try_strict("EUC-JP", in, len, out))
            return KK_TEXT_AS_EUCJP;
        if (try_strict("CP932", in, len, out))
            return KK_TEXT_AS_SJIS;
        if (try_strict("EUC-JP", in, len, out))
            return KK_TEXT_AS_EUCJP;
    }
    if (memchr(in, 0x1b, len)) {
        /* escapes with no ISO 2022 term declared: ISO-2022-JP, undeclared */
        static const char jis[] = "ISO 2022 IR 6\\ISO 2022 IR 87\\ISO 2022 IR 159";
        size_t bad = 0, mark = out->len;
        to_utf8(jis, sizeof jis - 1, in, len, out, &bad);
        if (!out->failed && out->data)
            bad += utf8_repair(out, mark);
        if (!bad && !out->failed)
            return KK_TEXT_AS_JIS;
        out->len = mark;
        if (out->data)
            out->data[mark] = '\0';
    }
    if (latin_ok && !has_c1(in, len) && memchr(in, 0x1b, len) == NULL &&
        try_strict("ISO-8859-1", in, len, out))
        return KK_TEXT_AS_LATIN1;
    return KK_TEXT_UNDECODABLE;
}

kk_text_src kk_text__decode(const char *cs, size_t cslen, const char *in, size_t len, kk_buf *out)
{
    if (interior_nul(in, len))
        return KK_TEXT_UNDECODABLE; /* a name in UTF-16 would pass every check */
    if (kk_text__is_ascii(in, len)) {
        kk__buf_add(out, in, len);
        return KK_TEXT_AS_DECLARED;
    }
    size_t mark = out->len;
    const char *v0;
    size_t n0 = cs_value(cs ? cs : "", cs ? cslen : 0, 0, &v0);
    const char *name = NULL;
    for (int i = 0; single_sets[i].term; i++)
        if (term_is(v0, n0, single_sets[i].term))
            name = single_sets[i].iconv;
    bool iso2022 = (cs && cslen && is_iso2022(cs, cslen, "", 0));
    kk_text_src r;
    if (iso2022) {
        size_t bad = 0;
        to_utf8(cs, cslen, in, len, out, &bad);
        if (!out->failed && out->data)
            bad += utf8_repair(out, mark);
        if (!bad && !out->failed)
            return KK_TEXT_AS_DECLARED;
    } else if (name && (n0 && !term_is(v0, n0, "ISO_IR 6"))) {
        if (strcmp(name, "UTF-8") == 0) {
            if (utf8_multibyte(in, len)) {
                kk__buf_add(out, in, len);
                return KK_TEXT_AS_DECLARED;
            }
        } else if (strcmp(name, "CP932") == 0) {
            /* ISO_IR 13 is JIS X 0201 alone: ASCII and half-width katakana */
            bool single = true;
            for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)in[i];
                if (c >= 0x80 && (c < 0xa1 || c > 0xdf))
                    single = false;
            }
            if (single && try_strict("CP932", in, len, out))
                return KK_TEXT_AS_DECLARED;
        } else if (strncmp(name, "ISO-8859", 8) == 0 || strcmp(name, "TIS-620") == 0) {
            /* a single-byte set: UTF-8, or Shift_JIS (whose lead bytes are
             * C1 controls here), under the wrong name; under a Latin name,
             * EUC-JP or half-width katakana too, which hold no C1 byte */
            bool single = !utf8_multibyte(in, len) && !has_c1(in, len);
            if (single && latin_set(name)) {
                kk_text_src g = guess_japanese(in, len);
                if (g == KK_TEXT_AS_SJIS && try_strict("CP932", in, len, out))
                    return g;
                if (g == KK_TEXT_AS_EUCJP && try_strict("EUC-JP", in, len, out))
                    return g;
            }
            if (single && try_strict(name, in, len, out))
                return KK_TEXT_AS_DECLARED;
        } else if (try_strict(name, in, len, out)) {
            return KK_TEXT_AS_DECLARED;
        }
    }
    out->len = mark;
    if (out->data)
        out->data[mark] = '\0';
    out->failed = false;
    /* no set, or the bytes break the one declared: what are they? A
     * single-byte declaration that holds no C1 bytes was Latin text. */
    r = detect(in, len, out, !iso2022);
    if (r == KK_TEXT_UNDECODABLE) {
        out->len = mark;
        if (out->data)
            out->data[mark] = '\0';
    }
    return r;
}

/* --- encoding ------------------------------------------------------- */

/* Decode one UTF-8 character at s; returns its length (0 when invalid). */
static size_t utf8_cp(const char *s, size_t n, unsigned *cp)
{
    size_t k = utf8_seq((const unsigned char *)s, n);
    if (!k)
        return 0;
    unsigned c = (unsigned char)s[0];
    if (k == 1) {
        *cp = c;
        return 1;
    }
    unsigned v = c & (k == 2 ? 0x1F : k == 3 ? 0x0F : 0x07);
    for (size_t j = 1; j < k; j++)
        v = (v << 6) | ((unsigned char)s[j] & 0x3F);
    *cp = v;
    return k;
}

/* Write UTF-8 text as ISO 2022 under the Japanese terms: ASCII (or JIS X
 * 0201 Roman) in G0, half-width katakana in G1 (IR 13), JIS X 0208 (IR 87)
 * and JIS X 0212 (IR 159) designated to G0 by escape. Back to the initial
 * G0 set before each delimiter and at the end. */
static kk_status iso2022_jp_from_utf8(const char *cs, size_t cslen, const char *in, size_t len,
                                      kk_buf *out)
{
    const char *v0;
    size_t n0 = cs_value(cs, cslen, 0, &v0);
    bool roman = term_is(v0, n0, "ISO 2022 IR 13");
    bool kana = cs_has(cs, cslen, "ISO 2022 IR 13");
    bool k0208 = cs_has(cs, cslen, "ISO 2022 IR 87");
    bool k0212 = cs_has(cs, cslen, "ISO 2022 IR 159");
    const char *back = roman ? "\x1b(J" : "\x1b(B";
    g_set initial_g1 = roman ? G_KATAKANA : G_ASCII;
    g_set g0 = roman ? G_ROMAN : G_ASCII, g0_initial = g0, g1 = initial_g1;
    iconv_t cd = kk_text__iconv("EUC-JP", "UTF-8");
    if (cd == (iconv_t)-1)
        return KK_EINVAL;
    kk_status st = KK_OK;
    for (size_t i = 0; i < len;) {
        unsigned cp;
        size_t k = utf8_cp(in + i, len - i, &cp);
        if (!k) {
            st = KK_EINVAL;
            break;
        }
        if (cp < 0x80) {
            if (is_delimiter((char)cp) || cp == '\0') {
                if (g0 != g0_initial)
                    kk__buf_adds(out, back);
                g0 = g0_initial;
                g1 = initial_g1;
            } else if (g0 != G_ASCII && g0 != G_ROMAN) {
                /* a space too: readers (pydicom, Python's iso2022_jp)
                 * take bytes in a two-byte set as pairs */
                kk__buf_adds(out, back);
                g0 = g0_initial;
            }
            kk__buf_addc(out, (char)cp);
            i += k;
            continue;
        }
        if (cp >= 0xFF61 && cp <= 0xFF9F) {
            if (!kana) {
                st = KK_EINVAL;
                break;
            }
            if (g1 != G_KATAKANA) {
                kk__buf_adds(out, "\x1b)I");
                g1 = G_KATAKANA;
            }
            kk__buf_addc(out, (char)(0xA1 + (cp - 0xFF61)));
            i += k;
            continue;
        }
        char eb[8];
        char *ip = (char *)in + i, *op = eb;
        size_t il = k, ol = sizeof eb;
        if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1) {
            st = KK_EINVAL;
            break;
        }
        size_t el = (size_t)(op - eb);
        unsigned char b0 = (unsigned char)eb[0];
        if (el == 2 && b0 >= 0xA1 && b0 <= 0xFE && k0208) {
            if (g0 != G_JISX0208) {
                kk__buf_adds(out, "\x1b$B");
                g0 = G_JISX0208;
            }
            kk__buf_addc(out, (char)(eb[0] & 0x7f));
            kk__buf_addc(out, (char)(eb[1] & 0x7f));
        } else if (el == 3 && b0 == 0x8F && k0212) {
            if (g0 != G_JISX0212) {
                kk__buf_adds(out, "\x1b$(D");
                g0 = G_JISX0212;
            }
            kk__buf_addc(out, (char)(eb[1] & 0x7f));
            kk__buf_addc(out, (char)(eb[2] & 0x7f));
        } else {
            st = KK_EINVAL; /* not in the sets the object declares */
            break;
        }
        i += k;
    }
    if (st == KK_OK && g0 != g0_initial)
        kk__buf_adds(out, back);
    return st;
}

/* The ISO 2022 sets PS3.5 invokes in G1 (GR) that kakou writes back:
 * the 96-character sets (ESC - F) and KS X 1001, GB 2312 (ESC $ ) F). */
static const struct {
    const char *term, *esc, *iconv;
    size_t width; /* bytes a character takes */
} gr_sets[] = {
    { "ISO 2022 IR 100", "\x1b-A", "ISO-8859-1", 1 }, { "ISO 2022 IR 101", "\x1b-B", "ISO-8859-2", 1 },
    { "ISO 2022 IR 109", "\x1b-C", "ISO-8859-3", 1 }, { "ISO 2022 IR 110", "\x1b-D", "ISO-8859-4", 1 },
    { "ISO 2022 IR 144", "\x1b-L", "ISO-8859-5", 1 }, { "ISO 2022 IR 127", "\x1b-G", "ISO-8859-6", 1 },
    { "ISO 2022 IR 126", "\x1b-F", "ISO-8859-7", 1 }, { "ISO 2022 IR 138", "\x1b-H", "ISO-8859-8", 1 },
    { "ISO 2022 IR 148", "\x1b-M", "ISO-8859-9", 1 }, { "ISO 2022 IR 203", "\x1b-b", "ISO-8859-15", 1 },
    { "ISO 2022 IR 166", "\x1b-T", "TIS-620", 1 },    { "ISO 2022 IR 149", "\x1b$)C", "EUC-KR", 2 },
    { "ISO 2022 IR 58", "\x1b$)A", "GB2312", 2 },
};
#define NGR_SETS (sizeof gr_sets / sizeof gr_sets[0])

/* Is c, one UTF-8 character, in gr_sets[g] (its GR bytes into eb)? */
static bool gr_bytes(size_t g, const char *c, size_t k, char eb[8])
{
    iconv_t cd = kk_text__iconv(gr_sets[g].iconv, "UTF-8");
    if (cd == (iconv_t)-1)
        return false;
    char *ip = (char *)c, *op = eb;
    size_t il = k, ol = 8;
    iconv(cd, NULL, NULL, NULL, NULL);
    if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 || (size_t)(op - eb) != gr_sets[g].width)
        return false;
    for (size_t b = 0; b < gr_sets[g].width; b++)
        if ((unsigned char)eb[b] < 0xA0)
            return false;
    return true;
}

/* UTF-8 into the G1 sets of an ISO 2022 term (gr_sets): the set of the
 * first value is in G1 at the start and after each delimiter; a run of
 * another declared set starts with its designation, as PS3.5 H.3.1 writes
 * Korean and J.3 Chinese; ASCII stays in G0. */
static kk_status iso2022_gr_from_utf8(const char *cs, size_t cslen, const char *in, size_t len,
                                      kk_buf *out)
{
    const char *v0;
    size_t n0 = cs_value(cs, cslen, 0, &v0);
    size_t initial = NGR_SETS, g1 = NGR_SETS;
    for (size_t g = 0; g < NGR_SETS; g++)
        if (term_is(v0, n0, gr_sets[g].term))
            initial = g1 = g;
    for (size_t i = 0; i < len;) {
        unsigned cp;
        size_t k = utf8_cp(in + i, len - i, &cp);
        if (!k)
            return KK_EINVAL;
        if (cp < 0x80) {
            if (is_delimiter((char)cp) || cp == '\0')
                g1 = initial;
            kk__buf_addc(out, (char)cp);
            i += k;
            continue;
        }
        char eb[8];
        size_t use = NGR_SETS;
        if (g1 < NGR_SETS && gr_bytes(g1, in + i, k, eb))
            use = g1;
        for (size_t g = 0; g < NGR_SETS && use == NGR_SETS; g++)
            if (cs_has(cs, cslen, gr_sets[g].term) && gr_bytes(g, in + i, k, eb))
                use = g;
        if (use == NGR_SETS)
            return KK_EINVAL;
        if (use != g1) {
            kk__buf_adds(out, gr_sets[use].esc);
            g1 = use;
        }
        kk__buf_add(out, eb, gr_sets[use].width);
        i += k;
    }
    return KK_OK;
}

static bool gr_declared(const char *cs, size_t cslen)
{
    for (size_t g = 0; g < NGR_SETS; g++)
        if (cs_has(cs, cslen, gr_sets[g].term))
            return true;
    return false;
}

kk_status kk_text__from_utf8(const char *cs, size_t cslen, const char *in, size_t len,
                             kk_buf *out)
{
    if (kk_text__is_ascii(in, len)) {
        kk__buf_add(out, in, len);
        return KK_OK;
    }
    if (!cs)
        cs = "", cslen = 0;
    size_t mark = out->len;
    kk_status st;
    if (cs_has(cs, cslen, "ISO 2022 IR 87") || cs_has(cs, cslen, "ISO 2022 IR 13") ||
        cs_has(cs, cslen, "ISO 2022 IR 159")) {
        st = iso2022_jp_from_utf8(cs, cslen, in, len, out);
    } else if (gr_declared(cs, cslen)) {
        st = iso2022_gr_from_utf8(cs, cslen, in, len, out);
    } else {
        const char *v0;
        size_t n0 = cs_value(cs, cslen, 0, &v0);
        const char *name = NULL;
        for (int i = 0; single_sets[i].term; i++)
            if (term_is(v0, n0, single_sets[i].term))
                name = single_sets[i].iconv;
        if (n0 == 0 || term_is(v0, n0, "ISO_IR 6") || is_iso2022(cs, cslen, "", 0))
            name = NULL;
        st = KK_EINVAL;
        if (name && strcmp(name, "CP932") == 0) {
            /* ISO_IR 13 is JIS X 0201: ASCII and half-width katakana only */
            for (size_t i = 0; i < len && name;) {
                unsigned cp;
                size_t k = utf8_cp(in + i, len - i, &cp);
                if (!k || (cp >= 0x80 && (cp < 0xFF61 || cp > 0xFF9F)))
                    name = NULL;
                i += k ? k : 1;
            }
        }
        if (name) {
            bool ok = true;
            iconv_append("UTF-8", name, in, len, out, &ok);
            st = ok ? KK_OK : KK_EINVAL;
        }
    }
    if (st != KK_OK || out->failed) {
        out->len = mark;
        if (out->data)
            out->data[mark] = '\0';
        return KK_EINVAL;
    }
    return KK_OK;
}
