/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/text/charset.c - DICOM character sets to and from UTF-8 (see
 * charset.h). ISO 2022 code extensions are parsed here (PS3.5 6.1.2.5):
 * G0/G1 designations switch per escape sequence and reset at value
 * delimiters; each run of bytes is decoded with iconv in the set then in
 * force. JIS X 0208/0212 and JIS X 0201 katakana runs are rewritten as
 * EUC-JP first, which glibc decodes reliably.
 */
#include <errno.h>
#include <iconv.h>
#include <string.h>

#include "text/charset.h"

bool kk_text__is_ascii(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80 || s[i] == 0x1b)
            return false;
    return true;
}

/* Defined Terms of (0008,0005) and their iconv names. */
static const struct { const char *term; const char *iconv; } single_sets[] = {
    { "ISO_IR 6", "ISO-8859-1" }, /* ASCII; decoded leniently */
    { "ISO_IR 100", "ISO-8859-1" }, { "ISO_IR 101", "ISO-8859-2" },
    { "ISO_IR 109", "ISO-8859-3" }, { "ISO_IR 110", "ISO-8859-4" },
    { "ISO_IR 144", "ISO-8859-5" }, { "ISO_IR 127", "ISO-8859-6" },
    { "ISO_IR 126", "ISO-8859-7" }, { "ISO_IR 138", "ISO-8859-8" },
    { "ISO_IR 148", "ISO-8859-9" }, { "ISO_IR 203", "ISO-8859-15" },
    { "ISO_IR 166", "TIS-620" }, { "ISO_IR 13", "SHIFT_JIS" },
    { "ISO_IR 192", "UTF-8" }, { "GB18030", "GB18030" }, { "GBK", "GBK" },
    { NULL, NULL }
};

/* G1 sets of the ISO 2022 terms, for the initial state. */
typedef enum g_set {
    G_ASCII, G_JISX0208, G_JISX0212, G_KATAKANA, G_LATIN, G_KSX1001, G_GB2312
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

static void iconv_append(const char *from, const char *to, const char *in, size_t len,
                         kk_buf *out, bool *ok)
{
    if (!len)
        return;
    iconv_t cd = iconv_open(to, from);
    if (cd == (iconv_t)-1) {
        if (ok)
            *ok = false;
        else
            kk__buf_add(out, in, len);
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
            if (ok) {
                *ok = false;
                break;
            }
            kk__buf_adds(out, "\xEF\xBF\xBD"); /* U+FFFD */
            ip++;
            il--;
        }
    }
    if (ok && *ok) {
        char *op = buf;
        size_t ol = sizeof buf;
        iconv(cd, NULL, NULL, &op, &ol); /* back to the initial shift state */
        kk__buf_add(out, buf, (size_t)(op - buf));
    }
    iconv_close(cd);
}

static bool is_delimiter(char c)
{
    return c == '^' || c == '=' || c == '\\' || c == '\r' || c == '\n' || c == '\t' ||
           c == '\f';
}

/* Decode an ISO 2022 value: follow escapes, convert each run. */
static void iso2022_to_utf8(const iso2022_state *initial, const char *in, size_t len,
                            kk_buf *out)
{
    iso2022_state st = *initial;
    kk_buf run = KK_BUF_INIT;  /* bytes of the current run, as EUC-JP etc. */
    const char *run_cs = NULL; /* iconv name of the run */
#define FLUSH()                                                          \
    do {                                                                 \
        if (run.len)                                                     \
            iconv_append(run_cs ? run_cs : "ISO-8859-1", "UTF-8", run.data, \
                         run.len, out, NULL);                            \
        run.len = 0;                                                     \
    } while (0)
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)in[i];
        if (c == 0x1b) {
            FLUSH();
            const char *e = in + i + 1;
            size_t rest = len - i - 1;
            size_t used = 0;
            if (rest >= 2 && e[0] == '(' && (e[1] == 'B' || e[1] == 'J')) {
                st.g0 = G_ASCII; used = 2;
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
                i++;
                continue;
            }
            i += 1 + used;
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
        const char *cs;
        if (c < 0x80) {
            if (st.g0 == G_JISX0208 || st.g0 == G_JISX0212) {
                if (i + 1 >= len || (unsigned char)in[i + 1] < 0x21) {
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
            cs = "ISO-8859-1";
            break;
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

/* Make out[from..] valid UTF-8: glibc's iconv passes some invalid input
 * through from UTF-8 (5- and 6-byte forms), and what is decoded here is
 * compared and re-encoded, so every bad byte becomes U+FFFD. */
static void utf8_repair(kk_buf *out, size_t from)
{
    const unsigned char *s = (const unsigned char *)out->data;
    size_t i = from;
    while (i < out->len) {
        size_t k = utf8_seq(s + i, out->len - i);
        if (!k)
            break;
        i += k;
    }
    if (i >= out->len)
        return;
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
            j++;
        }
    }
    if (fixed.failed)
        out->failed = true;
    kk__buf_free(&fixed);
}

static void to_utf8(const char *cs, size_t cslen, const char *in, size_t len, kk_buf *out);

void kk_text__to_utf8(const char *cs, size_t cslen, const char *in, size_t len, kk_buf *out)
{
    size_t from = out->len;
    to_utf8(cs, cslen, in, len, out);
    if (!out->failed && out->data)
        utf8_repair(out, from);
}

static void to_utf8(const char *cs, size_t cslen, const char *in, size_t len, kk_buf *out)
{
    const char *v0;
    size_t n0 = cs_value(cs ? cs : "", cs ? cslen : 0, 0, &v0);
    const char *v1;
    size_t n1 = cs_value(cs ? cs : "", cs ? cslen : 0, 1, &v1);
    bool iso2022 = (n0 >= 8 && memcmp(v0, "ISO 2022", 8) == 0) ||
                   (n1 >= 8 && memcmp(v1, "ISO 2022", 8) == 0) || memchr(in, 0x1b, len);
    if (!iso2022) {
        if (kk_text__is_ascii(in, len)) {
            kk__buf_add(out, in, len);
            return;
        }
        const char *name = "ISO-8859-1";
        for (int i = 0; single_sets[i].term; i++)
            if (term_is(v0, n0, single_sets[i].term))
                name = single_sets[i].iconv;
        iconv_append(name, "UTF-8", in, len, out, NULL);
        return;
    }
    iso2022_state st = { G_ASCII, G_ASCII, NULL };
    for (int i = 0; iso2022_terms[i].term; i++)
        if (term_is(v0, n0, iso2022_terms[i].term)) {
            st.g1 = iso2022_terms[i].g1;
            st.latin = iso2022_terms[i].latin;
        }
    iso2022_to_utf8(&st, in, len, out);
}

kk_status kk_text__from_utf8(const char *cs, size_t cslen, const char *in, size_t len,
                             kk_buf *out)
{
    if (kk_text__is_ascii(in, len)) {
        kk__buf_add(out, in, len);
        return KK_OK;
    }
    const char *v0;
    size_t n0 = cs_value(cs ? cs : "", cs ? cslen : 0, 0, &v0);
    const char *name = NULL;
    for (int i = 0; single_sets[i].term; i++)
        if (term_is(v0, n0, single_sets[i].term))
            name = single_sets[i].iconv;
    if (name && strcmp(name, "SHIFT_JIS") == 0)
        name = NULL; /* JIS X 0201 alone: only katakana; not safe to write */
    if (n0 == 0 || term_is(v0, n0, "ISO_IR 6"))
        name = NULL;
    /* any value naming IR 87 can take ISO-2022-JP */
    bool has87 = false;
    for (int k = 0; k < 8; k++) {
        const char *v;
        size_t n = cs_value(cs ? cs : "", cs ? cslen : 0, k, &v);
        if (term_is(v, n, "ISO 2022 IR 87"))
            has87 = true;
    }
    if (has87)
        name = "ISO-2022-JP";
    if (!name)
        return KK_EINVAL;
    bool ok = true;
    size_t mark = out->len;
    iconv_append("UTF-8", name, in, len, out, &ok);
    if (!ok) {
        out->len = mark;
        if (out->data)
            out->data[mark] = '\0';
        return KK_EINVAL;
    }
    return KK_OK;
}
