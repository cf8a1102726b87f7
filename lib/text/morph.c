/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/text/morph.c - MeCab adapter (see morph.h). MeCab's C API is used
 * directly: mecab_model_new2() once, one tagger from it, a lattice per
 * call. Person-name readings come from the dictionary's source CSV
 * (Debian's mecab-ipadic, EUC-JP) when it is installed.
 */
#include <ctype.h>
#include <iconv.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mecab.h>

#include "text/morph.h"
#include "text/normalize.h"

struct kk_morph {
    pthread_mutex_t lock;
    bool tried, ok;
    mecab_model_t *model;
    mecab_t *tagger;
    char **sur, **given; /* sorted reading keys */
    size_t nsur, ngiven;
    char **surf;         /* "surface\treading" of every 人名 entry, sorted */
    size_t nsurf;
    double load_ms;
};

kk_morph *kk_morph__new(void)
{
    kk_morph *m = kk__calloc(1, sizeof *m);
    if (m)
        pthread_mutex_init(&m->lock, NULL);
    return m;
}

static void free_keys(char **k, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(k[i]);
    free(k);
}

void kk_morph__free(kk_morph *m)
{
    if (!m)
        return;
    if (m->tagger)
        mecab_destroy(m->tagger);
    if (m->model)
        mecab_model_destroy(m->model);
    free_keys(m->sur, m->nsur);
    free_keys(m->given, m->ngiven);
    free_keys(m->surf, m->nsurf);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void push_key(char ***arr, size_t *n, size_t *cap, const char *k)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 4096;
        char **a = realloc(*arr, c * sizeof *a);
        if (!a)
            return;
        *arr = a;
        *cap = c;
    }
    char *d = kk__strndup(k, strlen(k));
    if (d)
        (*arr)[(*n)++] = d;
}

static size_t dedup(char **a, size_t n)
{
    if (!n)
        return 0;
    qsort(a, n, sizeof *a, cmp_str);
    size_t o = 1;
    for (size_t i = 1; i < n; i++) {
        if (strcmp(a[i], a[o - 1]) == 0)
            free(a[i]);
        else
            a[o++] = a[i];
    }
    return o;
}

/* Reading keys of every 人名 entry of the dictionary source. */
static void load_names(kk_morph *m)
{
    static const char *const paths[] = { "/usr/share/mecab/dic/ipadic/Noun.name.csv", NULL };
    FILE *f = NULL;
    for (int i = 0; paths[i] && !f; i++)
        f = fopen(paths[i], "r");
    if (!f)
        return;
    iconv_t cd = iconv_open("UTF-8", "EUC-JP");
    if (cd == (iconv_t)-1) {
        fclose(f);
        return;
    }
    size_t csur = 0, cgiven = 0, csurf = 0;
    char line[512], u8[1024], key[128];
    while (fgets(line, sizeof line, f)) {
        char *ip = line, *op = u8;
        size_t il = strlen(line), ol = sizeof u8 - 1;
        iconv(cd, NULL, NULL, NULL, NULL);
        if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1)
            continue;
        *op = '\0';
        /* surface,l,r,cost,名詞,固有名詞,人名,姓|名,*,*,base,reading,pron */
        char *fld[13];
        int nf = 0;
        for (char *p = u8; nf < 13;) {
            fld[nf++] = p;
            char *c = strchr(p, ',');
            if (!c)
                break;
            *c = '\0';
            p = c + 1;
        }
        if (nf < 12)
            continue;
        /* 人名,一般 (天海: テンカイ) names a person too, read as a given name */
        bool sur = strcmp(fld[7], "姓") == 0;
        if (!sur && strcmp(fld[7], "名") != 0 && strcmp(fld[7], "一般") != 0)
            continue;
        size_t kl = kk_text__kana_key(fld[11], strcspn(fld[11], ",\r\n"), key, sizeof key);
        if (kl < 2)
            continue;
        if (sur)
            push_key(&m->sur, &m->nsur, &csur, key);
        else
            push_key(&m->given, &m->ngiven, &cgiven, key);
        char pair[256];
        int pl = snprintf(pair, sizeof pair, "%s\t%.*s", fld[0], (int)strcspn(fld[11], ",\r\n"), fld[11]);
        if (pl > 0 && (size_t)pl < sizeof pair)
            push_key(&m->surf, &m->nsurf, &csurf, pair);
    }
    iconv_close(cd);
    fclose(f);
    m->nsur = dedup(m->sur, m->nsur);
    m->ngiven = dedup(m->given, m->ngiven);
    m->nsurf = dedup(m->surf, m->nsurf);
}

bool kk_morph__ready(kk_morph *m)
{
    if (!m)
        return false;
    pthread_mutex_lock(&m->lock);
    if (!m->tried) {
        m->tried = true;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        static const char *const args[] = { "", "-d /var/lib/mecab/dic/ipadic-utf8",
                                            "-d /var/lib/mecab/dic/debian", NULL };
        for (int i = 0; args[i] && !m->model; i++)
            m->model = mecab_model_new2(args[i]);
        if (m->model)
            m->tagger = mecab_model_new_tagger(m->model);
        m->ok = m->model && m->tagger;
        if (m->ok)
            load_names(m);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        m->load_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    }
    bool ok = m->ok;
    pthread_mutex_unlock(&m->lock);
    return ok;
}

double kk_morph__load_ms(const kk_morph *m)
{
    return m ? m->load_ms : 0;
}

static bool starts(const char *f, const char *p)
{
    return strncmp(f, p, strlen(p)) == 0;
}

static bool ascii_punct(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!ispunct((unsigned char)s[i]))
            return false;
    return n > 0;
}

static kk_tok_kind kind_of(const mecab_node_t *n)
{
    const char *f = n->feature ? n->feature : "";
    if (n->stat == MECAB_UNK_NODE && !starts(f, "記号"))
        return KK_TOK_UNKNOWN;
    if (starts(f, "名詞,固有名詞,人名,姓"))
        return KK_TOK_SURNAME;
    if (starts(f, "名詞,固有名詞,人名"))
        return KK_TOK_GIVEN;
    if (starts(f, "名詞,固有名詞,地域,国"))
        return KK_TOK_NOUN;
    if (starts(f, "名詞,固有名詞,地域"))
        return KK_TOK_PLACE;
    if (starts(f, "名詞,固有名詞,組織"))
        return KK_TOK_ORG;
    if (starts(f, "名詞,接尾"))
        return KK_TOK_SUFFIX;
    if (starts(f, "名詞,数"))
        return KK_TOK_NUMERAL;
    if (starts(f, "名詞,サ変接続") || starts(f, "名詞,形容動詞語幹") || starts(f, "名詞,副詞可能") ||
        starts(f, "名詞,非自立") || starts(f, "名詞,代名詞"))
        return KK_TOK_VNOUN;
    if (starts(f, "名詞"))
        return KK_TOK_NOUN;
    if (starts(f, "記号"))
        return KK_TOK_SYMBOL;
    return KK_TOK_OTHER;
}

/* MeCab's time grows with the square of a run it cannot split (60,000
 * katakana in one value: 9 s), so text goes to it in pieces of at most
 * MORPH_PIECE bytes, cut after a separator where there is one */
#define MORPH_PIECE 2048

static bool separator_before(const char *s, size_t at)
{
    unsigned char c = (unsigned char)s[at - 1];
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '.' || c == ',' || c == ';')
        return true;
    /* 。 、 ， ． and the ideographic space */
    if (at >= 3 && (unsigned char)s[at - 3] == 0xE3 && (unsigned char)s[at - 2] == 0x80 &&
        (c == 0x80 || c == 0x81 || c == 0x82))
        return true;
    return at >= 3 && (unsigned char)s[at - 3] == 0xEF && (unsigned char)s[at - 2] == 0xBC &&
           (c == 0x8C || c == 0x8E);
}

/* Where the piece starting at from ends: len when the rest fits, else
 * after the last separator in the second half of the piece, else at the
 * last character boundary. */
static size_t piece_end(const char *s, size_t len, size_t from)
{
    if (len - from <= MORPH_PIECE)
        return len;
    size_t lim = from + MORPH_PIECE;
    for (size_t at = lim; at > from + MORPH_PIECE / 2; at--)
        if (separator_before(s, at) && ((unsigned char)s[at] & 0xC0) != 0x80)
            return at;
    while (lim > from + 1 && ((unsigned char)s[lim] & 0xC0) == 0x80)
        lim--;
    return lim;
}

/* The tokens of one piece, text[from, to), appended at toks[n]. */
static int piece_tokens(kk_morph *m, const char *text, size_t from, size_t to, kk_token *toks,
                        int n, int max)
{
    mecab_lattice_t *lat = mecab_model_new_lattice(m->model);
    if (!lat)
        return -1;
    const char *base = text + from;
    size_t len = to - from;
    mecab_lattice_set_sentence2(lat, base, len);
    if (mecab_parse_lattice(m->tagger, lat)) {
        for (const mecab_node_t *nd = mecab_lattice_get_bos_node(lat); nd && n < max; nd = nd->next) {
            if (nd->stat == MECAB_BOS_NODE || nd->stat == MECAB_EOS_NODE)
                continue;
            size_t off = (size_t)(nd->surface - base);
            if (off > len || nd->length > len - off)
                continue;
            toks[n].off = from + off;
            toks[n].len = nd->length;
            toks[n].kind = kind_of(nd);
            /* ASCII punctuation (the ：of a form after NFKC) is a symbol,
             * not an unknown word a name could run over */
            if (toks[n].kind == KK_TOK_UNKNOWN && ascii_punct(base + off, nd->length))
                toks[n].kind = KK_TOK_SYMBOL;
            n++;
        }
    } else {
        n = -1;
    }
    mecab_lattice_destroy(lat);
    return n;
}

int kk_morph__tokens(kk_morph *m, const char *text, size_t len, kk_token *toks, int max)
{
    if (!kk_morph__ready(m))
        return -1;
    int n = 0;
    for (size_t from = 0; from < len && n >= 0 && n < max;) {
        size_t to = piece_end(text, len, from);
        n = piece_tokens(m, text, from, to, toks, n, max);
        from = to;
    }
    return n;
}

bool kk_morph__name_key(kk_morph *m, const char *key, bool surname)
{
    if (!kk_morph__ready(m))
        return false;
    char **a = surname ? m->sur : m->given;
    size_t n = surname ? m->nsur : m->ngiven;
    return a && bsearch(&key, a, n, sizeof *a, cmp_str) != NULL;
}

/* The first "surface\t..." entry of the name list, or where it would be. */
static size_t first_surface(const kk_morph *m, const char *surface, size_t len)
{
    size_t lo = 0, hi = m->nsurf;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strncmp(m->surf[mid], surface, len);
        /* unsigned: a longer surface (久保田) sorts after "久保\t" */
        if (c < 0 || (c == 0 && (unsigned char)m->surf[mid][len] < '\t'))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool kk_morph__is_name(kk_morph *m, const char *surface, size_t len)
{
    if (!kk_morph__ready(m) || !len)
        return false;
    size_t i = first_surface(m, surface, len);
    return i < m->nsurf && strncmp(m->surf[i], surface, len) == 0 && m->surf[i][len] == '\t';
}

int kk_morph__readings(kk_morph *m, const char *surface, size_t len,
                       void (*fn)(const char *kana, size_t len, void *payload), void *payload)
{
    if (!kk_morph__ready(m) || !len)
        return 0;
    int n = 0;
    /* the first "surface\t..." entry, then every one after it */
    size_t lo = first_surface(m, surface, len);
    for (size_t i = lo; i < m->nsurf; i++) {
        const char *e = m->surf[i];
        if (strncmp(e, surface, len) != 0 || e[len] != '\t')
            break;
        fn(e + len + 1, strlen(e + len + 1), payload);
        n++;
    }
    if (n)
        return n;
    /* not a name entry: the readings of its tokens, joined */
    mecab_lattice_t *lat = mecab_model_new_lattice(m->model);
    if (!lat)
        return 0;
    mecab_lattice_set_sentence2(lat, surface, len);
    char buf[256];
    size_t bl = 0;
    bool ok = mecab_parse_lattice(m->tagger, lat) != 0;
    for (const mecab_node_t *nd = ok ? mecab_lattice_get_bos_node(lat) : NULL; nd && ok; nd = nd->next) {
        if (nd->stat == MECAB_BOS_NODE || nd->stat == MECAB_EOS_NODE)
            continue;
        /* IPAdic: pos,pos1,pos2,pos3,conj,form,base,reading,pron */
        const char *f = nd->feature ? nd->feature : "";
        int commas = 0;
        while (*f && commas < 7)
            if (*f++ == ',')
                commas++;
        size_t rl = strcspn(f, ",");
        if (commas < 7 || rl == 0 || bl + rl >= sizeof buf) {
            ok = false;
            break;
        }
        memcpy(buf + bl, f, rl);
        bl += rl;
    }
    mecab_lattice_destroy(lat);
    if (ok && bl) {
        buf[bl] = '\0';
        fn(buf, bl, payload);
        n = 1;
    }
    return n;
}
