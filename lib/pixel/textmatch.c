/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/textmatch.c - classify OCR'd lines (see textmatch.h).
 *
 * Text is decoded from UTF-8 into code points and normalized once:
 * full-width ASCII becomes ASCII, the ideographic space a space, katakana
 * hiragana, letters lower case. Then:
 *   romaji name parts   approximate substring (Sellers' edit distance) of
 *                       the part in the line's letters, k = len/4; parts
 *                       of 2-3 letters must equal a whole word;
 *   kanji/kana parts    at least half of the part's characters occur in
 *                       the line (OCR confuses kanji: 山田 -> 山曰);
 *   IDs, accessions     approximate substring of the folded alphanumerics
 *                       (O->0, I/L->1, S->5, B->8, Z->2), k = (len-2)/4;
 *   dates               digit runs (separators, month names and 年月日
 *                       dropped) against every order of Y, M, D, padded or
 *                       not, k = 1 from 7 digits; era forms (S45.3.12,
 *                       昭和45年3月12日, 元年) after an era marker;
 *   institutions        the whole name, or one distinctive word of it;
 *   readings            a name part's Japanese reading key (lib/text:
 *                       Hepburn or Kunrei romaji, hiragana, katakana of
 *                       any width) against the keys of the line's words,
 *                       so ﾔﾏﾀﾞ in PatientName finds YAMADA on the screen
 *                       and YAMADA^TARO finds ヤマダ タロウ.
 * Technical lines are tokenized on spaces and covered greedily by up to
 * three tokens at a time, each span matching an anchored regex.
 * Regexes run in the C locale on bytes, as in lib/deid/clean.c.
 */
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "pixel/textmatch.h"
#include "text/normalize.h"

#define MAXPAT 64 /* longest pattern matched by edit distance, code points */

typedef struct u32s {
    uint32_t *c;
    size_t n;
} u32s;

typedef struct u32list {
    u32s *v;
    size_t n, cap;
} u32list;

typedef struct ymd {
    int y, m, d;
} ymd;

struct kk_textmatch {
    u32list latin_names; /* lower-case letters only */
    u32list cjk_names;   /* normalized code points */
    u32list ids;         /* folded alphanumerics */
    u32list accs;
    u32list inst_whole;  /* letters only, or CJK code points */
    u32list inst_words;  /* distinctive words of Latin names */
    u32list readings;    /* reading keys of name parts (kk_text__*_key) */
    ymd *dates;
    size_t ndates;
    regex_t *allow; /* the profile's allowlist; the built-in patterns are shared */
    size_t nallow;
    bool failed;
};

/* ---- Unicode -------------------------------------------------------- */

/* Decode UTF-8; invalid bytes become U+FFFD. */
static size_t utf8_next(const unsigned char *s, size_t len, size_t i, uint32_t *cp)
{
    unsigned c = s[i];
    int n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
    if (n <= 0) {
        *cp = n == 0 ? c : 0xFFFD;
        return i + 1;
    }
    uint32_t v = c & (0x3F >> n);
    for (int k = 1; k <= n; k++) {
        if (i + (size_t)k >= len || (s[i + k] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return i + 1;
        }
        v = (v << 6) | (s[i + k] & 0x3F);
    }
    *cp = v;
    return i + (size_t)n + 1;
}

static uint32_t norm_cp(uint32_t c)
{
    if (c >= 0xFF01 && c <= 0xFF5E)
        c -= 0xFEE0; /* full-width ASCII */
    if (c == 0x3000)
        c = ' ';
    if (c >= 0x30A1 && c <= 0x30F6)
        c -= 0x60; /* katakana -> hiragana */
    if (c >= 'A' && c <= 'Z')
        c += 'a' - 'A';
    return c;
}

static bool is_cjk(uint32_t c)
{
    return (c >= 0x3041 && c <= 0x309F) || (c >= 0x30A0 && c <= 0x30FF) ||
           (c >= 0x3400 && c <= 0x9FFF) || (c >= 0xF900 && c <= 0xFAFF) || c == 0x3005;
}

static bool is_alpha(uint32_t c) { return c >= 'a' && c <= 'z'; }
static bool is_digit(uint32_t c) { return c >= '0' && c <= '9'; }

/* Decode and normalize s; the caller frees the result. */
static u32s decode(const char *s)
{
    u32s r = { NULL, 0 };
    size_t len = s ? strlen(s) : 0;
    r.c = kk__malloc((len + 1) * sizeof *r.c);
    if (!r.c)
        return r;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        i = utf8_next((const unsigned char *)s, len, i, &cp);
        r.c[r.n++] = norm_cp(cp);
    }
    return r;
}

/* OCR look-alikes, for IDs: letters that read as digits become digits. */
static uint32_t fold_id(uint32_t c)
{
    switch (c) {
    case 'o': case 'q': case 'd': return '0';
    case 'i': case 'l': case '|': case '!': case 'j': return '1';
    case 's': return '5';
    case 'b': return '8';
    case 'z': return '2';
    case 'g': return '9';
    default: return c;
    }
}

/* ---- lists ------------------------------------------------------------ */

static void list_push(kk_textmatch *m, u32list *l, const uint32_t *c, size_t n)
{
    if (n == 0)
        return;
    if (n > MAXPAT)
        n = MAXPAT;
    if (l->n == l->cap) {
        size_t nc = l->cap ? 2 * l->cap : 8;
        u32s *nv = kk__realloc(l->v, nc * sizeof *nv);
        if (!nv) {
            m->failed = true;
            return;
        }
        l->v = nv;
        l->cap = nc;
    }
    uint32_t *copy = kk__malloc(n * sizeof *copy);
    if (!copy) {
        m->failed = true;
        return;
    }
    memcpy(copy, c, n * sizeof *copy);
    l->v[l->n].c = copy;
    l->v[l->n].n = n;
    l->n++;
}

static void list_free(u32list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].c);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* ---- edit distance ------------------------------------------------------ */

/* Least edit distance between p and any substring of t (Sellers). */
static size_t approx_substring(const uint32_t *p, size_t m, const uint32_t *t, size_t n)
{
    size_t col[MAXPAT + 1];
    if (m > MAXPAT)
        m = MAXPAT;
    for (size_t i = 0; i <= m; i++)
        col[i] = i;
    size_t best = m;
    for (size_t j = 0; j < n; j++) {
        size_t diag = col[0]; /* D[i-1][j-1] */
        col[0] = 0;           /* a match may start anywhere */
        for (size_t i = 1; i <= m; i++) {
            size_t up = col[i];
            size_t v = diag + (p[i - 1] != t[j]);
            if (col[i - 1] + 1 < v)
                v = col[i - 1] + 1;
            if (up + 1 < v)
                v = up + 1;
            diag = up;
            col[i] = v;
        }
        if (col[m] < best)
            best = col[m];
    }
    return best;
}

static bool words_equal(const uint32_t *p, size_t m, const uint32_t *t, size_t n)
{
    /* p equals a maximal run of letters or digits in t */
    for (size_t j = 0; j + m <= n; j++) {
        if (memcmp(p, t + j, m * sizeof *p) != 0)
            continue;
        bool lb = j == 0 || !(is_alpha(t[j - 1]) || is_digit(t[j - 1]));
        bool rb = j + m == n || !(is_alpha(t[j + m]) || is_digit(t[j + m]));
        if (lb && rb)
            return true;
    }
    return false;
}

/* ---- building ------------------------------------------------------------ */

/* The reading key of one word (romaji, or kana of any width) as code
 * points; 0 when it is neither. */
static size_t reading_key(const char *w, size_t len, uint32_t *key, size_t cap)
{
    char k[MAXPAT + 1];
    size_t n = kk_text__romaji_key(w, len, k, sizeof k);
    if (n == 0) {
        size_t fl = 0;
        char *f = kk_text__fold_str(w, len, &fl); /* half-width kana to hiragana */
        if (f)
            n = kk_text__kana_key(f, fl, k, sizeof k);
        free(f);
    }
    if (n > cap)
        n = cap;
    for (size_t i = 0; i < n; i++)
        key[i] = (unsigned char)k[i];
    return n;
}

static bool word_sep(unsigned char c)
{
    return c == '=' || c == '^' || c == ' ' || c == ',' || c == '\\' || c == '.' ||
           c == ':' || c == '/' || c == '(' || c == ')' || c == '-' || c == '_';
}

/* Readings of a name's parts: kept at 3 letters or more ("ito", "ono"). */
static void add_readings(kk_textmatch *m, const char *pn)
{
    size_t n = strlen(pn);
    for (size_t i = 0; i < n;) {
        while (i < n && word_sep((unsigned char)pn[i]))
            i++;
        size_t j = i;
        while (j < n && !word_sep((unsigned char)pn[j]))
            j++;
        uint32_t key[MAXPAT];
        size_t kn = j > i ? reading_key(pn + i, j - i, key, MAXPAT) : 0;
        if (kn >= 3)
            list_push(m, &m->readings, key, kn);
        i = j;
    }
}

/* A reading of the name is the key of a word of the line, or of two or
 * three words run together (OCR splits and joins words); from 5 letters
 * it may lie inside them, from 6 with one edit. */
static bool match_readings(const kk_textmatch *m, const char *line)
{
    if (m->readings.n == 0)
        return false;
    uint32_t keys[32][MAXPAT];
    size_t kn[32], nw = 0;
    size_t n = strlen(line);
    for (size_t i = 0; i < n && nw < 32;) {
        while (i < n && word_sep((unsigned char)line[i]))
            i++;
        size_t j = i;
        while (j < n && !word_sep((unsigned char)line[j]))
            j++;
        if (j > i)
            kn[nw] = reading_key(line + i, j - i, keys[nw], MAXPAT);
        if (j > i && kn[nw] > 0)
            nw++;
        i = j;
    }
    for (size_t r = 0; r < m->readings.n; r++) {
        const u32s *p = &m->readings.v[r];
        for (size_t w = 0; w < nw; w++) {
            uint32_t run[MAXPAT];
            size_t rn = 0;
            for (size_t v = w; v < nw && v < w + 3; v++) {
                for (size_t q = 0; q < kn[v] && rn < MAXPAT; q++)
                    run[rn++] = keys[v][q];
                if (rn == p->n && memcmp(run, p->c, rn * sizeof *run) == 0)
                    return true;
                if (p->n >= 5 && approx_substring(p->c, p->n, run, rn) <= (p->n >= 6))
                    return true;
            }
        }
    }
    return false;
}

static void add_name(kk_textmatch *m, const char *pn)
{
    add_readings(m, pn);
    u32s v = decode(pn);
    if (!v.c) {
        m->failed = true;
        return;
    }
    /* components are split by '=', '^', spaces and commas */
    size_t start = 0;
    for (size_t i = 0; i <= v.n; i++) {
        if (i < v.n && v.c[i] != '=' && v.c[i] != '^' && v.c[i] != ' ' && v.c[i] != ',' &&
            v.c[i] != '\\')
            continue;
        uint32_t buf[MAXPAT];
        size_t nl = 0, nc = 0;
        uint32_t cbuf[MAXPAT];
        for (size_t k = start; k < i; k++) {
            if (is_alpha(v.c[k]) && nl < MAXPAT)
                buf[nl++] = v.c[k];
            else if (is_cjk(v.c[k]) && nc < MAXPAT)
                cbuf[nc++] = v.c[k];
        }
        if (nl >= 2)
            list_push(m, &m->latin_names, buf, nl);
        if (nc >= 1)
            list_push(m, &m->cjk_names, cbuf, nc);
        start = i + 1;
    }
    free(v.c);
}

static void add_folded(kk_textmatch *m, u32list *l, const char *s)
{
    u32s v = decode(s);
    if (!v.c) {
        m->failed = true;
        return;
    }
    size_t start = 0;
    for (size_t i = 0; i <= v.n; i++) {
        if (i < v.n && v.c[i] != '\\')
            continue;
        uint32_t buf[MAXPAT];
        size_t n = 0;
        for (size_t k = start; k < i && n < MAXPAT; k++)
            if (is_alpha(v.c[k]) || is_digit(v.c[k]))
                buf[n++] = fold_id(v.c[k]);
        /* one or two characters identify no one, and OCR reads them in
         * any speckle (StudyID "1" matched every lone i, l and |) */
        if (n >= 3)
            list_push(m, l, buf, n);
        start = i + 1;
    }
    free(v.c);
}

static const char *const generic_words[] = {
    "hospital", "clinic", "general", "medical", "center", "centre", "university",
    "memorial", "city", "national", "prefectural", "the", "and", "imaging", "radiology",
    "health", "institute", "care", "byoin", "iin", "kurinikku", NULL
};

static void add_institution(kk_textmatch *m, const char *s)
{
    u32s v = decode(s);
    if (!v.c) {
        m->failed = true;
        return;
    }
    uint32_t lat[MAXPAT], cjk[MAXPAT];
    size_t nl = 0, nc = 0;
    for (size_t i = 0; i < v.n; i++) {
        if (is_alpha(v.c[i]) && nl < MAXPAT)
            lat[nl++] = v.c[i];
        else if (is_cjk(v.c[i]) && nc < MAXPAT)
            cjk[nc++] = v.c[i];
    }
    if (nl >= 3)
        list_push(m, &m->inst_whole, lat, nl);
    if (nc >= 1)
        list_push(m, &m->inst_whole, cjk, nc);
    /* distinctive words: "Sakura" of "Sakura General Hospital" */
    size_t start = 0;
    for (size_t i = 0; i <= v.n; i++) {
        if (i < v.n && is_alpha(v.c[i]))
            continue;
        size_t n = i - start;
        if (n >= 4 && n <= MAXPAT) {
            char word[MAXPAT + 1];
            for (size_t k = 0; k < n; k++)
                word[k] = (char)v.c[start + k];
            word[n] = '\0';
            bool generic = false;
            for (const char *const *g = generic_words; *g; g++)
                generic = generic || strcmp(*g, word) == 0;
            if (!generic)
                list_push(m, &m->inst_words, v.c + start, n);
        }
        start = i + 1;
    }
    free(v.c);
}

static void add_date(kk_textmatch *m, const char *da)
{
    if (!da || strlen(da) < 8)
        return;
    for (int i = 0; i < 8; i++)
        if (da[i] < '0' || da[i] > '9')
            return;
    ymd d = { (da[0] - '0') * 1000 + (da[1] - '0') * 100 + (da[2] - '0') * 10 + (da[3] - '0'),
              (da[4] - '0') * 10 + (da[5] - '0'), (da[6] - '0') * 10 + (da[7] - '0') };
    if (d.m < 1 || d.m > 12 || d.d < 1 || d.d > 31)
        return;
    ymd *nd = kk__realloc(m->dates, (m->ndates + 1) * sizeof *nd);
    if (!nd) {
        m->failed = true;
        return;
    }
    m->dates = nd;
    m->dates[m->ndates++] = d;
}

/* Technical tokens, matched against whole spans of tokens. The integer
 * part of a bare number has at most 3 digits, so IDs and years are not
 * technical. */
static const char *const tech_patterns[] = {
    "^(MI|M1|ML|T[I1L][SBC]?)[ :=]*[0-9]{1,2}([.,][0-9]{1,2})?$",
    "^(FR|FPS|G|GN|GAIN|DR|DYN|PWR|POWER|P|Z|ZOOM|D|DEPTH|PRF|WF|F|FREQ|CF|CFG|PG|AO|SV|"
    "PERS|E|ENH|MAP|B|M|C|S|A)[ :=]*-?[0-9]{1,3}([.,][0-9]{1,2})? *"
    "(HZ|KHZ|MHZ|DB|CM|MM|%|S|MS|FPS|CM/S|M/S)?$",
    "^-?[0-9]{1,3}([.,][0-9]{1,2})? *(HZ|KHZ|MHZ|DB|CM|MM|%|S|MS|FPS|CM/S|M/S|X)?$",
    "^(R|L|CM|MM|2D|3D|4D|M|B|CW|PW|THI|HAR|HI|CFM|PD|CD|HZ|MHZ|KHZ|DB|FPS|RES|PEN|GEN|"
    "FRZ|FREEZE|DEPTH|GAIN|ZOOM|MODE|MI|TIS|TIB|TIC|FR|GN|DR|PWR|PRF|WF|ENH|MAP|DYN)$",
    "^[A-Z]{1,3}[0-9]{1,2}-[0-9]{1,2}[A-Z]?$",
    "^[-+.,:;=/|_~'\"]+$",
};
#define NTECH (sizeof tech_patterns / sizeof tech_patterns[0])

/* The built-in patterns are compiled once per process: compiling them for
 * every frame cost more than the rest of a text-free frame's matching.
 * glibc's regexec may share a compiled pattern between threads. */
static regex_t tech_re[NTECH];
static bool tech_ok;
static pthread_once_t tech_once = PTHREAD_ONCE_INIT;

static void tech_compile(void)
{
    for (size_t i = 0; i < NTECH; i++)
        if (regcomp(&tech_re[i], tech_patterns[i], REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0)
            return;
    tech_ok = true;
}

kk_status kk_textmatch__new(kk_textmatch **out, kk_ctx *ctx, const kk_text_ids *ids,
                            const char *const *allow, size_t nallow)
{
    *out = NULL;
    pthread_once(&tech_once, tech_compile);
    if (!tech_ok)
        return kk__fail(ctx, KK_EINTERNAL, "cannot compile the technical patterns");
    kk_textmatch *m = kk__calloc(1, sizeof *m);
    if (!m)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    if (nallow) {
        m->allow = kk__calloc(nallow, sizeof *m->allow);
        if (!m->allow) {
            free(m);
            return kk__fail(ctx, KK_ENOMEM, "out of memory");
        }
    }
    for (size_t i = 0; i < nallow; i++) {
        if (!allow[i] || regcomp(&m->allow[i], allow[i], REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0) {
            kk_textmatch__free(m);
            return kk__fail(ctx, KK_EINVAL, "cannot compile allow pattern %zu", i);
        }
        m->nallow++;
    }
    if (ids) {
        for (size_t i = 0; i < ids->nnames; i++)
            if (ids->names[i])
                add_name(m, ids->names[i]);
        for (size_t i = 0; i < ids->nids; i++)
            if (ids->ids[i])
                add_folded(m, &m->ids, ids->ids[i]);
        for (size_t i = 0; i < ids->naccessions; i++)
            if (ids->accessions[i])
                add_folded(m, &m->accs, ids->accessions[i]);
        for (size_t i = 0; i < ids->ndates; i++)
            add_date(m, ids->dates[i]);
        for (size_t i = 0; i < ids->ninstitutions; i++)
            if (ids->institutions[i])
                add_institution(m, ids->institutions[i]);
    }
    if (m->failed) {
        kk_textmatch__free(m);
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    }
    *out = m;
    return KK_OK;
}

void kk_textmatch__free(kk_textmatch *m)
{
    if (!m)
        return;
    list_free(&m->latin_names);
    list_free(&m->cjk_names);
    list_free(&m->ids);
    list_free(&m->accs);
    list_free(&m->inst_whole);
    list_free(&m->inst_words);
    list_free(&m->readings);
    free(m->dates);
    for (size_t i = 0; i < m->nallow; i++)
        regfree(&m->allow[i]);
    free(m->allow);
    free(m);
}

/* ---- matching ------------------------------------------------------------- */

/* A line in the forms the matchers want. */
typedef struct line_forms {
    u32s all;     /* normalized */
    u32s letters; /* letters only, joined */
    u32s folded;  /* alphanumerics, look-alikes folded, joined */
} line_forms;

static bool forms_make(line_forms *f, const char *line)
{
    f->all = decode(line);
    f->letters.c = kk__malloc((f->all.n + 1) * sizeof(uint32_t));
    f->folded.c = kk__malloc((f->all.n + 1) * sizeof(uint32_t));
    f->letters.n = f->folded.n = 0;
    if (!f->all.c || !f->letters.c || !f->folded.c)
        return false;
    for (size_t i = 0; i < f->all.n; i++) {
        uint32_t c = f->all.c[i];
        if (is_alpha(c))
            f->letters.c[f->letters.n++] = c;
        if (is_alpha(c) || is_digit(c) || c == '|' || c == '!')
            f->folded.c[f->folded.n++] = fold_id(c);
    }
    return true;
}

static void forms_free(line_forms *f)
{
    free(f->all.c);
    free(f->letters.c);
    free(f->folded.c);
}

/* How many of p's characters occur in t, each t character used once. */
static size_t overlap(const uint32_t *p, size_t m, const uint32_t *t, size_t n)
{
    unsigned char used[512] = { 0 };
    if (n > sizeof used)
        n = sizeof used;
    size_t hit = 0;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++)
            if (!used[j] && t[j] == p[i]) {
                used[j] = 1;
                hit++;
                break;
            }
    return hit;
}

static bool match_latin(const u32s *part, const line_forms *f)
{
    if (part->n <= 3)
        return words_equal(part->c, part->n, f->all.c, f->all.n);
    size_t k = part->n / 4;
    return approx_substring(part->c, part->n, f->letters.c, f->letters.n) <= k;
}

static bool match_cjk(const u32s *part, const line_forms *f, size_t min_hits)
{
    size_t hit = overlap(part->c, part->n, f->all.c, f->all.n);
    size_t need = (part->n + 1) / 2;
    if (need < min_hits)
        need = min_hits < part->n ? min_hits : part->n;
    return hit >= need;
}

static bool match_folded(const u32s *id, const line_forms *f)
{
    if (id->n < 4) {
        /* a short ID must be a whole token of the line */
        uint32_t *tok = kk__malloc((f->all.n + 1) * sizeof *tok);
        if (!tok)
            return true; /* cannot tell: treat as a match (redact) */
        for (size_t i = 0; i < f->all.n; i++)
            tok[i] = fold_id(f->all.c[i]);
        bool r = words_equal(id->c, id->n, tok, f->all.n);
        free(tok);
        return r;
    }
    size_t k = id->n >= 6 ? (id->n - 2) / 4 : 0;
    if (approx_substring(id->c, id->n, f->folded.c, f->folded.n) <= k)
        return true;
    /* a piece of it: an ID split in two by a wide gap ("190430  -77") */
    if (f->folded.n >= 5 && f->folded.n * 5 >= id->n * 3 && f->folded.n <= MAXPAT) {
        size_t kk = f->folded.n >= 8 ? 1 : 0;
        return approx_substring(f->folded.c, f->folded.n, id->c, id->n) <= kk;
    }
    return false;
}

/* Era markers: ASCII letter, one kanji or two. */
static const struct {
    int start_y, start_m, start_d;
    char letter;
    uint32_t k1, k2; /* 昭和 = U+662D U+548C */
} eras[] = {
    { 2019, 5, 1, 'r', 0x4EE4, 0x548C },  /* 令和 */
    { 1989, 1, 8, 'h', 0x5E73, 0x6210 },  /* 平成 */
    { 1926, 12, 25, 's', 0x662D, 0x548C }, /* 昭和 */
    { 1912, 7, 30, 't', 0x5927, 0x6B63 }, /* 大正 */
    { 1868, 1, 1, 'm', 0x660E, 0x6CBB },  /* 明治 */
};
#define NERAS (sizeof eras / sizeof eras[0])

static int month_of(const uint32_t *c, size_t n)
{
    static const char *const mon[] = { "jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec" };
    if (n < 3)
        return 0;
    for (int i = 0; i < 12; i++)
        if (c[0] == (uint32_t)mon[i][0] && c[1] == (uint32_t)mon[i][1] && c[2] == (uint32_t)mon[i][2])
            return i + 1;
    return 0;
}

static bool is_date_sep(uint32_t c)
{
    return c == '/' || c == '-' || c == '.' || c == ',' || c == ' ' || c == ':' || c == '\'' ||
           c == 0x5E74 || c == 0x6708 || c == 0x65E5; /* 年 月 日 */
}

static size_t put_num(uint32_t *dst, int v, int pad)
{
    char b[16];
    int n = 0;
    if (v >= 1000)
        b[n++] = (char)('0' + v / 1000 % 10);
    if (v >= 100)
        b[n++] = (char)('0' + v / 100 % 10);
    if (v >= 10 || pad)
        b[n++] = (char)('0' + v / 10 % 10);
    b[n++] = (char)('0' + v % 10);
    for (int i = 0; i < n; i++)
        dst[i] = (uint32_t)b[i];
    return (size_t)n;
}

static bool digits_match(const uint32_t *target, size_t tn, const uint32_t *run, size_t rn)
{
    size_t k = tn >= 7 ? 1 : 0;
    return approx_substring(target, tn, run, rn) <= k;
}

/* Does the digit run (with its era, if one precedes it) spell date d? */
static bool run_is_date(const ymd *d, const uint32_t *run, size_t rn, int era)
{
    uint32_t t[16];
    size_t n;
    if (era >= 0) {
        const ymd s = { eras[era].start_y, eras[era].start_m, eras[era].start_d };
        if (d->y < s.y || (d->y == s.y && (d->m < s.m || (d->m == s.m && d->d < s.d)))) {
            /* the day an era changes is spelt in both eras */
            if (!(era + 1 < (int)NERAS))
                return false;
        }
        int ey = d->y - eras[era].start_y + 1;
        if (ey < 1 || ey > 99)
            return false;
        for (int pad = 0; pad < 2; pad++) {
            n = put_num(t, ey, pad);
            n += put_num(t + n, d->m, pad);
            n += put_num(t + n, d->d, pad);
            if (rn >= n && approx_substring(t, n, run, rn) <= (n >= 6 ? 1u : 0u))
                return true;
        }
        return false;
    }
    for (int order = 0; order < 3; order++)
        for (int pad = 0; pad < 2; pad++) {
            int a = order == 0 ? d->y : order == 1 ? d->d : d->m;
            int b = order == 0 ? d->m : order == 1 ? d->m : d->d;
            int c = order == 0 ? d->d : d->y;
            n = put_num(t, a, pad);
            n += put_num(t + n, b, pad);
            n += put_num(t + n, c, pad);
            if (n >= 6 && digits_match(t, n, run, rn))
                return true;
        }
    return false;
}

static bool match_dates(const kk_textmatch *m, const line_forms *f)
{
    if (!m->ndates)
        return false;
    const uint32_t *c = f->all.c;
    size_t n = f->all.n;
    uint32_t run[128];
    for (size_t i = 0; i < n;) {
        /* an era marker just before a number */
        int era = -1;
        size_t j = i;
        for (size_t e = 0; e < NERAS; e++) {
            if (c[j] == eras[e].k1) {
                /* OCR (jpn) puts spaces between characters: 令 和 5 年 */
                era = (int)e;
                j++;
                while (j < n && c[j] == ' ')
                    j++;
                if (j < n && c[j] == eras[e].k2)
                    j++;
                break;
            }
            if (c[j] == (uint32_t)eras[e].letter && (j == 0 || !is_alpha(c[j - 1])) &&
                j + 1 < n && (is_digit(c[j + 1]) || c[j + 1] == ' ' || c[j + 1] == '.')) {
                era = (int)e;
                j += 1;
                break;
            }
        }
        while (era >= 0 && j < n && c[j] == ' ')
            j++;
        if (j >= n || !(is_digit(c[j]) || (era >= 0 && c[j] == 0x5143 /* 元 */))) {
            i++;
            continue;
        }
        size_t rn = 0;
        size_t k = j;
        while (k < n && rn < sizeof run / sizeof run[0] - 2) {
            if (is_digit(c[k])) {
                run[rn++] = c[k++];
            } else if (c[k] == 0x5143) {
                run[rn++] = '1';
                k++;
            } else if (is_date_sep(c[k])) {
                k++;
            } else if (is_alpha(c[k]) && month_of(c + k, n - k) && rn > 0) {
                /* "12 MAR 1970" */
                rn += put_num(run + rn, month_of(c + k, n - k), 1);
                while (k < n && is_alpha(c[k]))
                    k++;
            } else {
                break;
            }
        }
        for (size_t d = 0; d < m->ndates; d++)
            if (run_is_date(&m->dates[d], run, rn, era))
                return true;
        i = k > i ? k : i + 1;
    }
    return false;
}

kk_text_class kk_textmatch__identifier(const kk_textmatch *m, const char *line)
{
    if (!m || !line || !*line)
        return KK_TEXT_OTHER;
    line_forms f;
    kk_text_class r = KK_TEXT_OTHER;
    if (!forms_make(&f, line)) {
        forms_free(&f);
        return KK_TEXT_NAME; /* out of memory: redact rather than keep */
    }
    for (size_t i = 0; i < m->latin_names.n && r == KK_TEXT_OTHER; i++)
        if (match_latin(&m->latin_names.v[i], &f))
            r = KK_TEXT_NAME;
    for (size_t i = 0; i < m->cjk_names.n && r == KK_TEXT_OTHER; i++)
        if (match_cjk(&m->cjk_names.v[i], &f, 1))
            r = KK_TEXT_NAME;
    if (r == KK_TEXT_OTHER && match_readings(m, line))
        r = KK_TEXT_NAME;
    for (size_t i = 0; i < m->ids.n && r == KK_TEXT_OTHER; i++)
        if (match_folded(&m->ids.v[i], &f))
            r = KK_TEXT_ID;
    if (r == KK_TEXT_OTHER && match_dates(m, &f))
        r = KK_TEXT_DATE;
    for (size_t i = 0; i < m->accs.n && r == KK_TEXT_OTHER; i++)
        if (match_folded(&m->accs.v[i], &f))
            r = KK_TEXT_ACCESSION;
    for (size_t i = 0; i < m->inst_whole.n && r == KK_TEXT_OTHER; i++) {
        const u32s *p = &m->inst_whole.v[i];
        if (is_alpha(p->c[0])) {
            if (approx_substring(p->c, p->n, f.letters.c, f.letters.n) <= p->n / 5)
                r = KK_TEXT_INSTITUTION;
        } else if (match_cjk(p, &f, 2)) {
            r = KK_TEXT_INSTITUTION;
        }
    }
    for (size_t i = 0; i < m->inst_words.n && r == KK_TEXT_OTHER; i++)
        if (match_latin(&m->inst_words.v[i], &f))
            r = KK_TEXT_INSTITUTION;
    forms_free(&f);
    return r;
}

/* Any date, the object's or not: three numbers joined by . / -, or
 * digits with 年 and 月. A burned-in date is a study or birth date far
 * more often than anything else. */
static bool date_shaped(const uint32_t *c, size_t n)
{
    bool year = false, month = false, digit = false;
    for (size_t i = 0; i < n; i++) {
        year = year || c[i] == 0x5E74;
        month = month || c[i] == 0x6708;
        digit = digit || is_digit(c[i]);
    }
    if (year && month && digit)
        return true;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(c[i]) || (i > 0 && is_digit(c[i - 1])))
            continue;
        size_t j = i, groups = 0;
        uint32_t sep = 0;
        for (;;) {
            size_t d0 = j;
            while (j < n && is_digit(c[j]))
                j++;
            if (j == d0 || j - d0 > 4)
                break;
            groups++;
            if (groups == 3)
                return true;
            if (j >= n || (c[j] != '.' && c[j] != '/' && c[j] != '-') || (sep && c[j] != sep))
                break;
            sep = c[j++];
        }
    }
    return false;
}

bool kk_textmatch__label(const char *line, kk_text_class *cls)
{
    static const struct {
        const char *word; /* a whole ASCII word, or a CJK substring */
        kk_text_class cls;
    } cues[] = {
        { "name", KK_TEXT_NAME }, { "patient", KK_TEXT_NAME }, { "pt", KK_TEXT_NAME },
        { "id", KK_TEXT_ID }, { "pid", KK_TEXT_ID }, { "mrn", KK_TEXT_ID },
        { "dob", KK_TEXT_DATE }, { "birth", KK_TEXT_DATE }, { "born", KK_TEXT_DATE },
        { "date", KK_TEXT_DATE },
        { "acc", KK_TEXT_ACCESSION }, { "accession", KK_TEXT_ACCESSION },
        { "\xe6\xb0\x8f\xe5\x90\x8d", KK_TEXT_NAME },             /* 氏名 */
        { "\xe6\x82\xa3\xe8\x80\x85", KK_TEXT_NAME },             /* 患者 */
        { "\xe5\x90\x8d\xe5\x89\x8d", KK_TEXT_NAME },             /* 名前 */
        { "\xe3\x81\x8b\xe3\x82\x8b\xe3\x81\xa6", KK_TEXT_ID },   /* かるて (カルテ) */
        { "\xe7\x94\x9f\xe5\xb9\xb4", KK_TEXT_DATE },             /* 生年 */
        { "\xe6\xa4\x9c\xe6\x9f\xbb\xe6\x97\xa5", KK_TEXT_DATE }, /* 検査日 */
        { "\xe5\x8f\x97\xe4\xbb\x98", KK_TEXT_ACCESSION },        /* 受付 */
    };
    if (!line)
        return false;
    u32s v = decode(line);
    if (!v.c)
        return true; /* out of memory: redact rather than keep */
    bool found = false;
    for (size_t q = 0; q < sizeof cues / sizeof cues[0] && !found; q++) {
        u32s p = decode(cues[q].word);
        if (!p.c) {
            found = true;
            break;
        }
        if (is_alpha(p.c[0]))
            found = words_equal(p.c, p.n, v.c, v.n);
        else
            for (size_t j = 0; j < v.n && !found; j++) {
                /* jpn OCR puts spaces between characters: 検査 日 */
                size_t k = 0, t = j;
                while (k < p.n && t < v.n) {
                    if (v.c[t] == ' ' && k > 0) {
                        t++;
                        continue;
                    }
                    if (v.c[t] != p.c[k])
                        break;
                    k++;
                    t++;
                }
                found = k == p.n;
            }
        if (found && cls)
            *cls = cues[q].cls;
        free(p.c);
    }
    if (!found && date_shaped(v.c, v.n)) {
        found = true;
        if (cls)
            *cls = KK_TEXT_DATE;
    }
    free(v.c);
    return found;
}

static bool tech_span(const kk_textmatch *m, const char *s)
{
    for (size_t i = 0; i < NTECH; i++)
        if (regexec(&tech_re[i], s, 0, NULL, 0) == 0)
            return true;
    for (size_t i = 0; i < m->nallow; i++)
        if (regexec(&m->allow[i], s, 0, NULL, 0) == 0)
            return true;
    return false;
}

bool kk_textmatch__technical(const kk_textmatch *m, const char *line)
{
    if (!m || !line)
        return false;
    /* ASCII-fold full-width forms so the patterns see "MI 1.2" */
    u32s v = decode(line);
    if (!v.c)
        return false;
    char *s = kk__malloc(strlen(line) + 2);
    if (!s) {
        free(v.c);
        return false;
    }
    size_t n = 0;
    bool ascii = true;
    for (size_t i = 0; i < v.n; i++) {
        if (v.c[i] >= 0x80) {
            ascii = false;
            break;
        }
        if (v.c[i] == ' ' && (n == 0 || s[n - 1] == ' '))
            continue;
        s[n++] = (char)v.c[i];
    }
    while (n > 0 && s[n - 1] == ' ')
        n--;
    s[n] = '\0';
    free(v.c);
    bool ok = false;
    if (!ascii) {
        /* a profile pattern may name non-ASCII tokens: try the raw line */
        ok = tech_span(m, line);
        free(s);
        return ok;
    }
    if (n == 0) {
        free(s);
        return false;
    }
    if (tech_span(m, s)) {
        free(s);
        return true;
    }
    /* cover the tokens greedily with spans of up to three tokens */
    size_t starts[64], ntok = 0;
    for (size_t i = 0; i < n && ntok < 64; i++)
        if (s[i] != ' ' && (i == 0 || s[i - 1] == ' '))
            starts[ntok++] = i;
    ok = true;
    for (size_t t = 0; t < ntok && ok;) {
        size_t take = 0;
        for (size_t span = 3; span >= 1 && !take; span--) {
            if (t + span > ntok)
                continue;
            size_t a = starts[t];
            size_t b = t + span < ntok ? starts[t + span] - 1 : n;
            char save = s[b];
            s[b] = '\0';
            if (tech_span(m, s + a))
                take = span;
            s[b] = save;
        }
        if (!take)
            ok = false;
        t += take;
    }
    free(s);
    return ok;
}

void kk_textmatch__chars(const char *line, int *alnum, int *cjk, int *other)
{
    int a = 0, c = 0, o = 0;
    size_t len = line ? strlen(line) : 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        i = utf8_next((const unsigned char *)line, len, i, &cp);
        cp = norm_cp(cp);
        if (is_alpha(cp) || is_digit(cp))
            a++;
        else if (is_cjk(cp))
            c++;
        else if (cp != ' ')
            o++;
    }
    if (alnum)
        *alnum = a;
    if (cjk)
        *cjk = c;
    if (other)
        *other = o;
}

int kk_textmatch__digits(const char *line)
{
    int d = 0;
    size_t len = line ? strlen(line) : 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        i = utf8_next((const unsigned char *)line, len, i, &cp);
        d += is_digit(norm_cp(cp));
    }
    return d;
}
