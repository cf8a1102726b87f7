/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/profile/profile.c - the profile language (kakou.profile(5)): read
 * profile text, follow `inherit` and `include`, settle options, and compile
 * the rules into lookup tables.
 *
 * One statement per line; `#` starts a comment outside quotes. Errors are
 * reported as "FILE:LINE:COL: message". A profile that includes itself,
 * directly or not, is an error, and so is nesting deeper than 16 files.
 * Holds no DICOM knowledge beyond tags and VRs: keywords are looked up in
 * the compiled-in dictionary of lib/dict, in plain C, so loading a profile
 * never starts DCMTK.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/core.h"
#include "dict/dict.h"
#include "profile/profile_internal.h"

#define KK_MAX_DEPTH 16
#define KK_MAX_OPTIONS 64
#define KK_MAX_TOKENS 32

struct kk_builtin_profile { const char *name; const char *text; };
extern const struct kk_builtin_profile kk_builtin_profiles[];

typedef enum sel_kind { SEL_TAG, SEL_PRIVATE, SEL_MASK, SEL_PRIVATE_CLASS, SEL_VR } sel_kind;

/* A rule as read, before options are settled. */
typedef struct raw_rule {
    sel_kind kind;
    uint32_t tag, mask;      /* SEL_TAG, SEL_MASK (mask: 1 bits must match) */
    uint16_t group;          /* SEL_PRIVATE */
    uint8_t low;             /* SEL_PRIVATE: element low byte */
    uint8_t nvrs;            /* SEL_VR */
    const char *creator;     /* SEL_PRIVATE */
    const uint16_t *vrs;     /* SEL_VR: nvrs of them */
    uint64_t when_on, when_off;
    kk_rule rule;
} raw_rule;

typedef struct raw_add {
    uint32_t tag;
    const char *value;
    uint64_t when_on, when_off;
} raw_add;

/* A `pixel` statement as read. */
typedef struct raw_pixel {
    kk_pixel_rule rule;
    uint64_t when_on, when_off;
} raw_pixel;

typedef struct option_decl {
    const char *name, *code, *meaning;
    size_t name_len;
} option_decl;

/* Open-addressing map from a 64-bit key to a rule. */
typedef struct rule_map {
    uint64_t *keys;
    const kk_rule **vals;
    size_t cap, n;
} rule_map;

typedef struct priv_rule {
    uint16_t group;
    uint8_t low;
    const char *creator;
    const kk_rule *rule;
} priv_rule;

typedef struct mask_rule {
    uint32_t tag, mask;
    const kk_rule *rule;
} mask_rule;

/* The strings and small arrays a profile keeps (names, selectors,
 * origins, arguments, conditions) live in blocks freed with the profile:
 * a load keeps thousands of them, and a malloc and a free for each cost
 * as much as the parsing did. */
typedef struct pool_block {
    struct pool_block *next;
    size_t used, cap;
    max_align_t data[]; /* cap bytes */
} pool_block;

struct kk_profile {
    const char *name, *version, *description;
    kk_profile_code own_code;
    bool has_code;
    /* everything read */
    raw_rule *raw;
    int nraw, capraw;
    raw_add *raw_adds;
    int nraw_adds, capraw_adds;
    option_decl options[KK_MAX_OPTIONS];
    int noptions;
    const char *conflicts[KK_MAX_OPTIONS][2];
    int nconflicts;
    struct enable_stmt { const char *name; uint64_t on, off; } *enables;
    int nenable;
    raw_pixel *raw_pixels;
    int nraw_pixels;
    const char **pixel_allow; /* NULL-terminated */
    int npixel_allow;
    kk_pixel_rule *pixel_rules; /* compiled: options settled */
    int npixel_rules;
    const char **params; /* key, value pairs */
    int nparams;
    pool_block *pool;
    const char *default_origin;
    kk_action default_action;
    /* compiled */
    uint64_t enabled;
    const char **enabled_names;
    rule_map exact;
    priv_rule *priv;
    int npriv;
    mask_rule *masks;
    int nmasks;
    const kk_rule *private_class;
    const kk_rule *vr_rules[26 * 26];
    kk_rule default_rule;
    kk_profile_add *adds;
    int nadds;
    kk_profile_code *codes;
    int ncodes;
    char digest[65];
    bool uses[KK_ACTION__COUNT];
};

/* --- small helpers -------------------------------------------------- */

/* n bytes of the profile's storage, aligned to align (a power of two);
 * NULL when memory runs out. */
static void *pool_alloc(kk_profile *p, size_t n, size_t align)
{
    pool_block *b = p->pool;
    size_t at = b ? (b->used + align - 1) & ~(align - 1) : 0;
    if (!b || at > b->cap || n > b->cap - at) {
        /* blocks double up to 256 KiB; a bigger request gets its own */
        size_t cap = b ? b->cap * 2 : 16384;
        if (cap > 262144)
            cap = 262144;
        if (cap < n)
            cap = n;
        b = kk__malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = p->pool;
        b->cap = cap;
        p->pool = b;
        at = 0;
    }
    b->used = at + n;
    return (char *)b->data + at;
}

/* An array of n zeroed elements of size bytes. */
static void *pool_calloc(kk_profile *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *a = pool_alloc(p, n * size, _Alignof(max_align_t));
    if (a)
        memset(a, 0, n * size);
    return a;
}

static char *pool_strndup(kk_profile *p, const char *s, size_t n)
{
    char *d = pool_alloc(p, n + 1, 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static char *pool_strdup(kk_profile *p, const char *s)
{
    return pool_strndup(p, s, strlen(s));
}

static uint64_t hash64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static bool map_put(rule_map *m, uint64_t key, const kk_rule *val)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        uint64_t *keys = kk__malloc(cap * sizeof *keys);
        const kk_rule **vals = kk__calloc(cap, sizeof *vals);
        if (!keys || !vals) {
            free(keys);
            free(vals);
            return false;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->vals[i])
                continue;
            size_t j = hash64(m->keys[i]) & (cap - 1);
            while (vals[j])
                j = (j + 1) & (cap - 1);
            keys[j] = m->keys[i];
            vals[j] = m->vals[i];
        }
        free(m->keys);
        free(m->vals);
        m->keys = keys;
        m->vals = vals;
        m->cap = cap;
    }
    size_t j = hash64(key) & (m->cap - 1);
    while (m->vals[j] && m->keys[j] != key)
        j = (j + 1) & (m->cap - 1);
    if (!m->vals[j])
        m->n++;
    m->keys[j] = key;
    m->vals[j] = val;
    return true;
}

static const kk_rule *map_get(const rule_map *m, uint64_t key)
{
    if (!m->cap)
        return NULL;
    size_t j = hash64(key) & (m->cap - 1);
    while (m->vals[j]) {
        if (m->keys[j] == key)
            return m->vals[j];
        j = (j + 1) & (m->cap - 1);
    }
    return NULL;
}

static int vr_index(uint16_t vr)
{
    int a = (vr >> 8) - 'A', b = (vr & 0xff) - 'A';
    if (a < 0 || a >= 26 || b < 0 || b >= 26)
        return -1;
    return a * 26 + b;
}

/* --- the lexer -------------------------------------------------------- */

typedef struct token {
    const char *text; /* unquoted, unescaped, NUL-terminated */
    size_t len;
    int col;          /* 1-based */
    bool quoted;
} token;

typedef struct parse_state {
    kk_profile *p;
    kk_ctx *ctx;
    const char *file;   /* for messages */
    size_t file_len;
    int line;
    const char *stack[KK_MAX_DEPTH + 1]; /* canonical paths being read */
    int depth;
    /* text given in memory (kk_profile__load_text): it has no folder, so
     * it may reference built-in profiles only */
    bool memory;
} parse_state;

static kk_status perr(parse_state *ps, int col, const char *fmt, ...) KK_PRINTF(3, 4);
static kk_status perr(parse_state *ps, int col, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return kk__fail(ps->ctx, KK_ESYNTAX, "%s:%d:%d: %s", ps->file, ps->line, col, msg);
}

/* Split the line [line, end) into tokens. A token starting with '(' runs
 * to the matching ')' (quotes inside are kept); "..." is a quoted token.
 * The texts go to out, which has room for the line and a NUL per token:
 * no text is longer than its source. */
static kk_status tokenize(parse_state *ps, const char *line, const char *end, char *out,
                          token *toks, int *ntok)
{
    *ntok = 0;
    const char *s = line;
    while (s < end) {
        while (s < end && (*s == ' ' || *s == '\t' || *s == '\r'))
            s++;
        if (s == end || *s == '#')
            break;
        if (*ntok == KK_MAX_TOKENS)
            return perr(ps, (int)(s - line) + 1, "too many words on one line");
        token *t = &toks[*ntok];
        t->text = out;
        t->col = (int)(s - line) + 1;
        t->quoted = false;
        if (*s == '"') {
            t->quoted = true;
            s++;
            while (s < end && *s != '"') {
                if (*s == '\\' && end - s > 1 && (s[1] == '"' || s[1] == '\\'))
                    s++;
                *out++ = *s++;
            }
            if (s == end)
                return perr(ps, t->col, "unterminated string");
            s++;
        } else if (*s == '(') {
            bool inq = false;
            while (s < end) {
                char c = *s++;
                *out++ = c;
                if (c == '"')
                    inq = !inq;
                else if (!inq && c == ')')
                    break;
            }
            if (out[-1] != ')')
                return perr(ps, t->col, "missing ')'");
        } else {
            while (s < end && *s != ' ' && *s != '\t' && *s != '\r' && *s != '#')
                *out++ = *s++;
        }
        t->len = (size_t)(out - t->text);
        *out++ = '\0';
        (*ntok)++;
    }
    return KK_OK;
}

/* "FILE:LINE" for the current line, in the profile's storage. It was
 * written to a PATH_MAX + 32 byte buffer once, and is cut there still. */
static const char *origin_of(parse_state *ps)
{
    char digits[16], *d = digits + sizeof digits;
    int line = ps->line;
    do
        *--d = (char)('0' + line % 10);
    while ((line /= 10) > 0);
    size_t nd = (size_t)(digits + sizeof digits - d);
    size_t n = ps->file_len + 1 + nd;
    if (n > PATH_MAX + 31)
        n = PATH_MAX + 31;
    char *o = pool_alloc(ps->p, n + 1, 1);
    if (!o)
        return NULL;
    size_t f = ps->file_len < n ? ps->file_len : n;
    memcpy(o, ps->file, f);
    if (f < n) {
        o[f] = ':';
        memcpy(o + f + 1, d, n - f - 1);
    }
    o[n] = '\0';
    return o;
}

/* --- selectors ------------------------------------------------------ */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* "gggg,eeee" with hex digits or x wildcards: value and mask. */
static bool parse_tag_mask(const char *s, size_t n, uint32_t *tag, uint32_t *mask)
{
    if (n != 9 || s[4] != ',')
        return false;
    uint32_t t = 0, m = 0;
    for (size_t i = 0; i < 9; i++) {
        if (i == 4)
            continue;
        t <<= 4;
        m <<= 4;
        if (s[i] == 'x' || s[i] == 'X')
            continue;
        int v = hexval(s[i]);
        if (v < 0)
            return false;
        t |= (uint32_t)v;
        m |= 0xf;
    }
    *tag = t;
    *mask = m;
    return true;
}

static const struct { const char *name; const char *vrs; } vr_classes[] = {
    { "text", "SH,LO,ST,LT,UT,UC" },
    { "dates", "DA,DT,TM" },
    { NULL, NULL }
};

static kk_status parse_selector(parse_state *ps, const token *t, raw_rule *r)
{
    const char *s = t->text;
    size_t n = t->len;
    if (s[0] == 'p' && strcmp(s, "private") == 0) {
        r->kind = SEL_PRIVATE_CLASS;
        return KK_OK;
    }
    if (strncmp(s, "vr:", 3) == 0) {
        r->kind = SEL_VR;
        const char *v = s + 3;
        for (int i = 0; vr_classes[i].name; i++)
            if (strcmp(v, vr_classes[i].name) == 0)
                v = vr_classes[i].vrs;
        uint16_t vrs[24];
        size_t nvrs = 0;
        while (*v) {
            if (!isupper((unsigned char)v[0]) || !isupper((unsigned char)v[1]) ||
                (v[2] != ',' && v[2] != '\0'))
                return perr(ps, t->col, "bad VR list '%s': write vr:PN or vr:DA,DT,TM", s + 3);
            if (nvrs == sizeof vrs / sizeof vrs[0])
                return perr(ps, t->col, "too many VRs");
            vrs[nvrs++] = KK_VR(v[0], v[1]);
            v += v[2] ? 3 : 2;
        }
        if (!nvrs)
            return perr(ps, t->col, "empty VR list");
        uint16_t *kept = pool_alloc(ps->p, nvrs * sizeof *kept, _Alignof(uint16_t));
        if (!kept)
            return kk__fail(ps->ctx, KK_ENOMEM, "out of memory");
        memcpy(kept, vrs, nvrs * sizeof *kept);
        r->vrs = kept;
        r->nvrs = (uint8_t)nvrs;
        return KK_OK;
    }
    if (s[0] == '(') {
        /* (gggg,eeee) or (gggg,xxEE,"creator") */
        if (n < 11 || s[n - 1] != ')')
            return perr(ps, t->col, "bad tag '%s': write (gggg,eeee)", s);
        const char *in = s + 1;
        size_t inner = n - 2;
        const char *comma = inner > 9 ? in + 9 : NULL;
        if (comma && *comma == ',') {
            const char *q = comma + 1;
            size_t ql = (size_t)(s + n - 1 - q);
            if (ql < 2 || q[0] != '"' || q[ql - 1] != '"')
                return perr(ps, t->col, "bad private tag '%s': write (gggg,xxEE,\"CREATOR\")", s);
            uint32_t tag, mask;
            if (!parse_tag_mask(in, 9, &tag, &mask) || (in[5] != 'x' && in[5] != 'X') ||
                (in[6] != 'x' && in[6] != 'X') || (mask & 0xffff00ffu) != 0xffff00ffu)
                return perr(ps, t->col, "bad private tag '%s': write (gggg,xxEE,\"CREATOR\")", s);
            if (!(KK_GROUP(tag) & 1))
                return perr(ps, t->col, "group %04X is not private (odd groups are)", KK_GROUP(tag));
            r->kind = SEL_PRIVATE;
            r->group = KK_GROUP(tag);
            r->low = (uint8_t)(tag & 0xff);
            r->creator = pool_strndup(ps->p, q + 1, ql - 2);
            if (!r->creator)
                return kk__fail(ps->ctx, KK_ENOMEM, "out of memory");
            return KK_OK;
        }
        s = in;
        n = inner;
    }
    uint32_t tag, mask;
    if (parse_tag_mask(s, n, &tag, &mask)) {
        r->tag = tag;
        r->mask = mask;
        r->kind = mask == 0xffffffffu ? SEL_TAG : SEL_MASK;
        return KK_OK;
    }
    if (t->text[0] == '(')
        return perr(ps, t->col, "bad tag '%s': write (gggg,eeee)", t->text);
    if (isupper((unsigned char)s[0])) {
        if (kk_dict__tag_of_keyword(s, &tag) != KK_OK)
            return perr(ps, t->col, "unknown keyword '%s'", s);
        r->kind = SEL_TAG;
        r->tag = tag;
        r->mask = 0xffffffffu;
        return KK_OK;
    }
    return perr(ps, t->col, "cannot read '%s' as an attribute: write a keyword, (gggg,eeee), "
                "a mask like (60xx,3000), (gggg,xxEE,\"CREATOR\"), private or vr:XX", t->text);
}

/* --- actions -------------------------------------------------------- */

static const struct {
    const char *word;
    kk_action action;
    kk_compound compound;
} action_words[] = {
    { "K", KK_ACTION_KEEP, 0 }, { "keep", KK_ACTION_KEEP, 0 },
    { "X", KK_ACTION_REMOVE, 0 }, { "remove", KK_ACTION_REMOVE, 0 },
    { "Z", KK_ACTION_EMPTY, 0 }, { "empty", KK_ACTION_EMPTY, 0 },
    { "D", KK_ACTION_DUMMY, 0 }, { "dummy", KK_ACTION_DUMMY, 0 },
    { "C", KK_ACTION_CLEAN, 0 }, { "clean", KK_ACTION_CLEAN, 0 },
    { "U", KK_ACTION_UID, 0 }, { "uid", KK_ACTION_UID, 0 },
    { "X/Z", KK_ACTION_REMOVE, KK_COMPOUND_XZ },
    { "X/D", KK_ACTION_REMOVE, KK_COMPOUND_XD },
    { "Z/D", KK_ACTION_EMPTY, KK_COMPOUND_ZD },
    { "X/Z/D", KK_ACTION_REMOVE, KK_COMPOUND_XZD },
    { "X/Z/U*", KK_ACTION_REMOVE, KK_COMPOUND_XZU },
    { "X/Z/U", KK_ACTION_REMOVE, KK_COMPOUND_XZU },
    { "pseudonym", KK_ACTION_PSEUDONYM, 0 },
    { "shift-date", KK_ACTION_SHIFT_DATE, 0 },
    { "generalize-age", KK_ACTION_GENERALIZE_AGE, 0 },
    { "truncate-date", KK_ACTION_TRUNCATE_DATE, 0 },
    { "generalize-address", KK_ACTION_GENERALIZE_ADDRESS, 0 },
    { "set", KK_ACTION_SET, 0 },
    { NULL, 0, 0 }
};

const char *kk_action_name(kk_action a)
{
    switch (a) {
    case KK_ACTION_KEEP: return "keep";
    case KK_ACTION_REMOVE: return "remove";
    case KK_ACTION_EMPTY: return "empty";
    case KK_ACTION_DUMMY: return "dummy";
    case KK_ACTION_CLEAN: return "clean";
    case KK_ACTION_UID: return "uid";
    case KK_ACTION_PSEUDONYM: return "pseudonym";
    case KK_ACTION_SHIFT_DATE: return "shift-date";
    case KK_ACTION_GENERALIZE_AGE: return "generalize-age";
    case KK_ACTION_TRUNCATE_DATE: return "truncate-date";
    case KK_ACTION_GENERALIZE_ADDRESS: return "generalize-address";
    case KK_ACTION_SET: return "set";
    case KK_ACTION__COUNT: break;
    }
    return "?";
}

/* The option named by the n bytes at name, or -1. */
static int option_index(const kk_profile *p, const char *name, size_t n)
{
    for (int i = 0; i < p->noptions; i++)
        if (p->options[i].name_len == n && memcmp(p->options[i].name, name, n) == 0)
            return i;
    return -1;
}

/* "when a,!b,c": every named option on, every !option off. Words are
 * separated by ',' or '+'; empty ones are skipped. */
static kk_status parse_when(parse_state *ps, const token *t, uint64_t *on, uint64_t *off)
{
    for (const char *w = t->text; *w;) {
        size_t n = strcspn(w, ",+");
        if (n) {
            bool neg = w[0] == '!';
            int i = option_index(ps->p, w + neg, n - neg);
            if (i < 0)
                return perr(ps, t->col, "unknown option '%.*s' (declare it with 'option %.*s')",
                            (int)(n - neg), w + neg, (int)(n - neg), w + neg);
            if (neg)
                *off |= 1ULL << i;
            else
                *on |= 1ULL << i;
        }
        w += n + (w[n] != '\0');
    }
    return KK_OK;
}

static kk_status parse_rule(parse_state *ps, token *toks, int n)
{
    kk_profile *p = ps->p;
    if (n < 2)
        return perr(ps, toks[0].col + (int)toks[0].len, "missing action after '%s'",
                    toks[0].text);
    if (p->nraw == p->capraw) {
        int cap = p->capraw ? p->capraw * 2 : 1024;
        raw_rule *nr = kk__realloc(p->raw, (size_t)cap * sizeof *nr);
        if (!nr)
            return kk__fail(ps->ctx, KK_ENOMEM, "out of memory");
        p->raw = nr;
        p->capraw = cap;
    }
    raw_rule *r = &p->raw[p->nraw];
    memset(r, 0, sizeof *r);
    kk_status st = parse_selector(ps, &toks[0], r);
    if (st != KK_OK)
        return st;
    const char *word = toks[1].text;
    int i;
    for (i = 0; action_words[i].word; i++)
        if (action_words[i].word[0] == word[0] && strcmp(action_words[i].word, word) == 0)
            break;
    if (!action_words[i].word)
        return perr(ps, toks[1].col, "unknown action '%s'", word);
    r->rule.action = action_words[i].action;
    r->rule.compound = action_words[i].compound;
    r->rule.code = action_words[i].word; /* the same text, in static storage */
    int k = 2;
    int nargs = 0;
    for (int j = 2; j < n && strcmp(toks[j].text, "when") != 0; j++)
        nargs++;
    if (nargs) {
        r->rule.args = pool_calloc(p, (size_t)nargs, sizeof *r->rule.args);
        if (!r->rule.args)
            return kk__fail(ps->ctx, KK_ENOMEM, "out of memory");
    }
    for (; k < n && strcmp(toks[k].text, "when") != 0; k++) {
        const token *t = &toks[k];
        kk_rule_arg *a = &r->rule.args[r->rule.nargs++];
        const char *eq = t->quoted ? NULL : strchr(t->text, '=');
        if (eq) {
            size_t kl = (size_t)(eq - t->text);
            a->key = pool_strndup(p, t->text, kl);
            a->value = pool_strndup(p, eq + 1, t->len - kl - 1);
        } else {
            a->value = pool_strndup(p, t->text, t->len);
        }
        if (!a->value || (eq && !a->key))
            return kk__fail(ps->ctx, KK_ENOMEM, "out of memory");
    }
    if (k < n) {
        if (k + 1 >= n)
            return perr(ps, toks[k].col + 4, "missing option name after 'when'");
        if (k + 2 < n)
            return perr(ps, toks[k + 2].col, "unexpected '%s' after the condition",
                        toks[k + 2].text);
        st = parse_when(ps, &toks[k + 1], &r->when_on, &r->when_off);
        if (st != KK_OK)
            return st;
    }
    if (r->rule.action == KK_ACTION_SET && kk_rule__arg(&r->rule, NULL) == NULL)
        return perr(ps, toks[1].col, "'set' needs a value, e.g. set \"ANONYMOUS\"");
    r->rule.origin = origin_of(ps);
    r->rule.selector = pool_strndup(p, toks[0].text, toks[0].len);
    if (!r->rule.origin || !r->rule.selector)
        return kk__fail(ps->ctx, KK_ENOMEM, "out of memory");
    p->nraw++;
    return KK_OK;
}

/* --- statements ----------------------------------------------------- */

static kk_status parse_text(parse_state *ps, const char *text, const char *file);

static kk_status read_file(kk_ctx *ctx, const char *path, char **out)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return kk__fail(ctx, KK_ENOTFOUND, "cannot open profile '%s': %s", path, strerror(errno));
    kk_buf b = KK_BUF_INIT;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
        kk__buf_add(&b, chunk, n);
        if (b.len > (16u << 20)) {
            fclose(fp);
            kk__buf_free(&b);
            return kk__fail(ctx, KK_ELIMIT, "profile '%s' is larger than 16 MiB", path);
        }
    }
    bool err = ferror(fp);
    fclose(fp);
    if (err || b.failed) {
        kk__buf_free(&b);
        return kk__fail(ctx, err ? KK_EIO : KK_ENOMEM, "cannot read profile '%s'", path);
    }
    *out = kk__buf_detach(&b);
    return KK_OK;
}

const char *kk_profile_builtin_text(const char *name)
{
    for (int i = 0; kk_builtin_profiles[i].name; i++)
        if (strcmp(kk_builtin_profiles[i].name, name) == 0)
            return kk_builtin_profiles[i].text;
    return NULL;
}

const char *const *kk_profile_builtin_names(void)
{
    static const char *names[16];
    static int done;
    if (!done) {
        int i;
        for (i = 0; kk_builtin_profiles[i].name && i < 15; i++)
            names[i] = kk_builtin_profiles[i].name;
        names[i] = NULL;
        done = 1;
    }
    return names;
}

/* Read a referenced profile: a built-in name, else a path relative to the
 * including file. */
static kk_status parse_reference(parse_state *ps, const token *t)
{
    const char *ref = t->text;
    const char *builtin = strchr(ref, '/') ? NULL : kk_profile_builtin_text(ref);
    char canon[PATH_MAX + 16];
    char *text = NULL;
    if (builtin) {
        snprintf(canon, sizeof canon, "builtin:%s", ref);
    } else {
        char path[PATH_MAX];
        if (ps->memory)
            return perr(ps, t->col, "no built-in profile named '%s' (profile text given in "
                        "memory can only reference built-in profiles)", ref);
        if (ref[0] == '/' || strncmp(ps->file, "builtin:", 8) == 0) {
            snprintf(path, sizeof path, "%s", ref);
        } else {
            const char *slash = strrchr(ps->file, '/');
            int dl = slash ? (int)(slash - ps->file) : 0;
            if (slash)
                snprintf(path, sizeof path, "%.*s/%s", dl, ps->file, ref);
            else
                snprintf(path, sizeof path, "%s", ref);
        }
        if (!realpath(path, canon))
            return perr(ps, t->col, "cannot open '%s': %s", ref, strerror(errno));
    }
    for (int i = 0; i <= ps->depth; i++)
        if (ps->stack[i] && strcmp(ps->stack[i], canon) == 0)
            return perr(ps, t->col, "'%s' includes itself", ref);
    if (ps->depth >= KK_MAX_DEPTH)
        return perr(ps, t->col, "includes nested deeper than %d files", KK_MAX_DEPTH);
    kk_status st;
    if (!builtin) {
        st = read_file(ps->ctx, canon, &text);
        if (st == KK_ENOMEM)
            return st;
        if (st != KK_OK)
            return perr(ps, t->col, "cannot open '%s'", ref);
    }
    const char *name = pool_strdup(ps->p, canon);
    /* messages inside a built-in name it; inside a file, the path as given */
    const char *shown = builtin ? pool_strdup(ps->p, ref) : name;
    if (!name || !shown) {
        free(text);
        return kk__fail(ps->ctx, KK_ENOMEM, "out of memory");
    }
    parse_state sub = *ps;
    sub.depth = ps->depth + 1;
    sub.stack[sub.depth] = name;
    st = parse_text(&sub, builtin ? builtin : text, shown);
    free(text);
    return st;
}

static kk_status set_once(parse_state *ps, const char **slot, const token *t)
{
    /* the profile being loaded names itself; included files do not */
    if (ps->depth > 0 && *slot)
        return KK_OK;
    if (ps->depth > 0 && ps->p->name && slot != &ps->p->name)
        return KK_OK;
    *slot = pool_strndup(ps->p, t->text, t->len);
    return *slot ? KK_OK : kk__fail(ps->ctx, KK_ENOMEM, "out of memory");
}

/* --- pixel statements ------------------------------------------------- */

/* One coordinate of a region: N, -N or N% (kept in hundredths of a
 * percent, so 12.5% is exact). */
static bool parse_coord(const char *s, size_t n, int *v, bool *pct)
{
    char buf[24];
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    *pct = buf[n - 1] == '%';
    if (*pct)
        buf[--n] = '\0';
    char *end;
    errno = 0;
    double d = strtod(buf, &end);
    if (end == buf || *end || errno || d < -100000 || d > 100000)
        return false;
    if (*pct && (d < -100 || d > 100))
        return false;
    *v = (int)(*pct ? d * 100 + (d < 0 ? -0.5 : 0.5) : d);
    return *pct || d == (double)*v;
}

static kk_status parse_region(parse_state *ps, const token *t, kk_pixel_rule *r)
{
    const char *s = t->text;
    for (int i = 0; i < 4; i++) {
        size_t n = strcspn(s, ",");
        bool pct;
        if ((i < 3) != (s[n] == ',') || !parse_coord(s, n, &r->box[i], &pct) ||
            (i >= 2 && r->box[i] <= 0))
            return perr(ps, t->col, "a region is X,Y,W,H in pixels or percent (W and H "
                        "positive), not '%s'", t->text);
        if (pct)
            r->pct |= 1u << i;
        s += n + (s[n] == ',');
    }
    return KK_OK;
}

/* KEY=A|B, KEY!=A|B or KEY~A|B */
static kk_status parse_cond(parse_state *ps, const token *t, kk_pixel_cond *c)
{
    kk_profile *p = ps->p;
    const char *s = t->text;
    size_t k = strcspn(s, "=!~");
    if (k == 0 || !s[k] || (s[k] == '!' && s[k + 1] != '='))
        return perr(ps, t->col, "a condition is KEYWORD=VALUE, KEYWORD!=VALUE or "
                    "KEYWORD~TEXT, not '%s'", s);
    char kw[64];
    if (k >= sizeof kw)
        return perr(ps, t->col, "unknown attribute in '%s'", s);
    memcpy(kw, s, k);
    kw[k] = '\0';
    if (kk_dict__tag_of_keyword(kw, &c->tag) != KK_OK)
        return perr(ps, t->col, "unknown attribute '%s'", kw);
    c->op = s[k];
    const char *v = s + k + (s[k] == '!' ? 2 : 1);
    if (!*v)
        return perr(ps, t->col, "'%s' needs a value", s);
    int nv = 1;
    for (const char *q = v; *q; q++)
        nv += *q == '|';
    const char **vals = pool_calloc(p, (size_t)nv, sizeof *vals);
    if (!vals)
        return kk__fail(ps->ctx, KK_ENOMEM, "out of memory");
    for (int i = 0; i < nv; i++) {
        size_t n = strcspn(v, "|");
        vals[i] = pool_strndup(p, v, n);
        if (!vals[i])
            return kk__fail(ps->ctx, KK_ENOMEM, "out of memory");
        v += n + (v[n] == '|');
    }
    c->values = vals;
    c->nvalues = nv;
    return KK_OK;
}

/* pixel mode MODE [if COND...] [when OPTIONS]
 * pixel region X,Y,W,H [if COND...] [when OPTIONS]
 * pixel allow "REGEX" */
static kk_status parse_pixel(parse_state *ps, token *toks, int n)
{
    kk_profile *p = ps->p;
    if (n < 3)
        return perr(ps, toks[0].col, "expected 'pixel mode MODE', 'pixel region X,Y,W,H' "
                    "or 'pixel allow \"REGEX\"'");
    const char *what = toks[1].text;
    if (strcmp(what, "allow") == 0) {
        if (n != 3)
            return perr(ps, toks[3].col, "unexpected '%s'", toks[3].text);
        regex_t re;
        if (regcomp(&re, toks[2].text, REG_EXTENDED | REG_NOSUB) != 0)
            return perr(ps, toks[2].col, "not a valid regular expression");
        regfree(&re);
        const char **na = kk__realloc(p->pixel_allow, (size_t)(p->npixel_allow + 2) * sizeof *na);
        if (!na)
            return kk__fail(ps->ctx, KK_ENOMEM, "out of memory");
        p->pixel_allow = na;
        na[p->npixel_allow] = pool_strndup(p, toks[2].text, toks[2].len);
        if (!na[p->npixel_allow])
            return kk__fail(ps->ctx, KK_ENOMEM, "out of memory");
        na[++p->npixel_allow] = NULL;
        return KK_OK;
    }
    raw_pixel rp;
    memset(&rp, 0, sizeof rp);
    kk_status st;
    if (strcmp(what, "mode") == 0) {
        rp.rule.kind = KK_PIXEL_RULE_MODE;
        const char *m = toks[2].text;
        if (strcmp(m, "off") == 0)
            rp.rule.mode = KK_PIXEL_MODE_OFF;
        else if (strcmp(m, "phi") == 0)
            rp.rule.mode = KK_PIXEL_MODE_PHI;
        else if (strcmp(m, "all-text") == 0)
            rp.rule.mode = KK_PIXEL_MODE_ALL_TEXT;
        else
            return perr(ps, toks[2].col, "pixel mode is off, phi or all-text, not '%s'", m);
    } else if (strcmp(what, "region") == 0) {
        rp.rule.kind = KK_PIXEL_RULE_REGION;
        if ((st = parse_region(ps, &toks[2], &rp.rule)) != KK_OK)
            return st;
    } else {
        return perr(ps, toks[1].col, "expected mode, region or allow after 'pixel', not '%s'", what);
    }
    int i = 3;
    if (i < n && strcmp(toks[i].text, "if") == 0) {
        int first = ++i;
        while (i < n && strcmp(toks[i].text, "when") != 0)
            i++;
        if (i == first)
            return perr(ps, toks[first - 1].col, "'if' needs a condition");
        kk_pixel_cond *conds = pool_calloc(p, (size_t)(i - first), sizeof *conds);
        if (!conds)
            return kk__fail(ps->ctx, KK_ENOMEM, "out of memory");
        for (int j = first; j < i; j++)
            if ((st = parse_cond(ps, &toks[j], &conds[j - first])) != KK_OK)
                return st;
        rp.rule.conds = conds;
        rp.rule.nconds = i - first;
    }
    if (i < n) {
        if (strcmp(toks[i].text, "when") != 0 || i + 2 != n)
            return perr(ps, toks[i].col, "expected 'if CONDITION...' or 'when OPTION'");
        if ((st = parse_when(ps, &toks[i + 1], &rp.when_on, &rp.when_off)) != KK_OK)
            return st;
    }
    rp.rule.origin = origin_of(ps);
    if (!rp.rule.origin)
        return kk__fail(ps->ctx, KK_ENOMEM, "out of memory");
    raw_pixel *nr = kk__realloc(p->raw_pixels, (size_t)(p->nraw_pixels + 1) * sizeof *nr);
    if (!nr)
        return kk__fail(ps->ctx, KK_ENOMEM, "out of memory");
    p->raw_pixels = nr;
    p->raw_pixels[p->nraw_pixels++] = rp;
    return KK_OK;
}

static kk_status parse_line(parse_state *ps, token *toks, int n)
{
    kk_profile *p = ps->p;
    const char *w = toks[0].text;
#define NEED(k, what)                                                        \
    do {                                                                     \
        if (n < (k) + 1)                                                     \
            return perr(ps, toks[n - 1].col + (int)strlen(toks[n - 1].text), \
                        "'%s' needs %s", w, what);                           \
    } while (0)
#define AT_MOST(k)                                                           \
    do {                                                                     \
        if (n > (k) + 1)                                                     \
            return perr(ps, toks[(k) + 1].col, "unexpected '%s'", toks[(k) + 1].text); \
    } while (0)
    /* most lines are rules, whose selectors start with '(' or a keyword's
     * capital: only a lowercase word can be a statement */
    if (w[0] < 'a' || w[0] > 'z')
        return parse_rule(ps, toks, n);
    if (strcmp(w, "profile") == 0) {
        NEED(1, "a name");
        AT_MOST(1);
        if (ps->depth > 0)
            return KK_OK;
        p->name = pool_strndup(p, toks[1].text, toks[1].len);
        return p->name ? KK_OK : KK_ENOMEM;
    }
    if (strcmp(w, "version") == 0) {
        NEED(1, "a version");
        AT_MOST(1);
        if (ps->depth > 0 && p->version)
            return KK_OK;
        return set_once(ps, &p->version, &toks[1]);
    }
    if (strcmp(w, "description") == 0) {
        NEED(1, "a text in quotes");
        AT_MOST(1);
        if (ps->depth > 0 && p->description)
            return KK_OK;
        return set_once(ps, &p->description, &toks[1]);
    }
    if (strcmp(w, "code") == 0) {
        NEED(2, "a CID 7050 code value and its meaning");
        AT_MOST(2);
        p->own_code.value = pool_strndup(p, toks[1].text, toks[1].len);
        p->own_code.meaning = pool_strndup(p, toks[2].text, toks[2].len);
        p->has_code = true;
        return p->own_code.value && p->own_code.meaning ? KK_OK : KK_ENOMEM;
    }
    if (strcmp(w, "option") == 0) {
        NEED(1, "a name");
        if (option_index(p, toks[1].text, toks[1].len) >= 0)
            return perr(ps, toks[1].col, "option '%s' is declared twice", toks[1].text);
        if (p->noptions == KK_MAX_OPTIONS)
            return perr(ps, toks[1].col, "more than %d options", KK_MAX_OPTIONS);
        option_decl *o = &p->options[p->noptions];
        memset(o, 0, sizeof *o);
        for (int i = 2; i < n; i++) {
            const token *t = &toks[i];
            if (!t->quoted && strncmp(t->text, "code=", 5) == 0 && !o->code) {
                if (!(o->code = pool_strndup(p, t->text + 5, t->len - 5)))
                    return KK_ENOMEM;
            } else if (t->quoted && !o->meaning) {
                if (!(o->meaning = pool_strndup(p, t->text, t->len)))
                    return KK_ENOMEM;
            } else {
                return perr(ps, t->col, "unexpected '%s'", t->text);
            }
        }
        o->name = pool_strndup(p, toks[1].text, toks[1].len);
        o->name_len = toks[1].len;
        if (!o->name)
            return KK_ENOMEM;
        p->noptions++;
        return KK_OK;
    }
    if (strcmp(w, "conflict") == 0) {
        NEED(2, "two option names");
        AT_MOST(2);
        for (int i = 1; i <= 2; i++)
            if (option_index(p, toks[i].text, toks[i].len) < 0)
                return perr(ps, toks[i].col, "unknown option '%s'", toks[i].text);
        if (p->nconflicts == KK_MAX_OPTIONS)
            return perr(ps, toks[1].col, "too many conflicts");
        for (int i = 0; i < 2; i++)
            if (!(p->conflicts[p->nconflicts][i] = pool_strndup(p, toks[i + 1].text, toks[i + 1].len)))
                return KK_ENOMEM;
        p->nconflicts++;
        return KK_OK;
    }
    if (strcmp(w, "enable") == 0) {
        NEED(1, "an option name");
        /* enable A B ... [when COND]: options set by the profile itself */
        uint64_t on = 0, off = 0;
        int last = n;
        for (int i = 1; i < n; i++)
            if (strcmp(toks[i].text, "when") == 0) {
                if (i + 2 != n)
                    return perr(ps, toks[i].col, "expected 'when OPTION'");
                kk_status st = parse_when(ps, &toks[i + 1], &on, &off);
                if (st != KK_OK)
                    return st;
                last = i;
                break;
            }
        for (int i = 1; i < last; i++) {
            if (option_index(p, toks[i].text, toks[i].len) < 0)
                return perr(ps, toks[i].col, "unknown option '%s'", toks[i].text);
            struct enable_stmt *ne = kk__realloc(p->enables, (size_t)(p->nenable + 1) * sizeof *ne);
            if (!ne)
                return KK_ENOMEM;
            p->enables = ne;
            p->enables[p->nenable].name = pool_strndup(p, toks[i].text, toks[i].len);
            if (!p->enables[p->nenable].name)
                return KK_ENOMEM;
            p->enables[p->nenable].on = on;
            p->enables[p->nenable].off = off;
            p->nenable++;
        }
        return KK_OK;
    }
    if (strcmp(w, "inherit") == 0 || strcmp(w, "include") == 0) {
        NEED(1, "a profile name or path");
        AT_MOST(1);
        if (strcmp(w, "inherit") == 0 && p->nraw > 0 && ps->depth == 0)
            return perr(ps, toks[0].col, "'inherit' must come before the rules");
        return parse_reference(ps, &toks[1]);
    }
    if (strcmp(w, "default") == 0) {
        NEED(1, "keep or remove");
        AT_MOST(1);
        if (strcmp(toks[1].text, "keep") == 0 || strcmp(toks[1].text, "K") == 0)
            p->default_action = KK_ACTION_KEEP;
        else if (strcmp(toks[1].text, "remove") == 0 || strcmp(toks[1].text, "X") == 0)
            p->default_action = KK_ACTION_REMOVE;
        else
            return perr(ps, toks[1].col, "default must be 'keep' or 'remove', not '%s'",
                        toks[1].text);
        p->default_origin = origin_of(ps);
        return p->default_origin ? KK_OK : KK_ENOMEM;
    }
    if (strcmp(w, "add") == 0) {
        NEED(2, "an attribute and a value");
        raw_rule tmp;
        memset(&tmp, 0, sizeof tmp);
        kk_status st = parse_selector(ps, &toks[1], &tmp);
        if (st != KK_OK)
            return st;
        if (tmp.kind != SEL_TAG)
            return perr(ps, toks[1].col, "'add' needs one attribute, not a class or mask");
        raw_add a = { tmp.tag, NULL, 0, 0 };
        if (n > 3) {
            if (strcmp(toks[3].text, "when") != 0 || n != 5)
                return perr(ps, toks[3].col, "expected 'when OPTION'");
            st = parse_when(ps, &toks[4], &a.when_on, &a.when_off);
            if (st != KK_OK)
                return st;
        }
        a.value = pool_strndup(p, toks[2].text, toks[2].len);
        if (!a.value)
            return kk__fail(ps->ctx, KK_ENOMEM, "out of memory");
        raw_add *na = kk__realloc(p->raw_adds, (size_t)(p->nraw_adds + 1) * sizeof *na);
        if (!na)
            return kk__fail(ps->ctx, KK_ENOMEM, "out of memory");
        p->raw_adds = na;
        p->raw_adds[p->nraw_adds++] = a;
        return KK_OK;
    }
    if (strcmp(w, "pixel") == 0)
        return parse_pixel(ps, toks, n);
    if (strcmp(w, "deface") == 0) {
        /* deface off|remove|blur [required]: kept as the parameters
         * "deface" and "deface.required" (lib/deid/deface.c) */
        NEED(1, "off, remove or blur");
        AT_MOST(2);
        const char *m = toks[1].text;
        if (strcmp(m, "off") != 0 && strcmp(m, "remove") != 0 && strcmp(m, "blur") != 0)
            return perr(ps, toks[1].col, "deface is off, remove or blur, not '%s'", m);
        if (n == 3 && (strcmp(toks[2].text, "required") != 0 || strcmp(m, "off") == 0))
            return perr(ps, toks[2].col, "expected 'deface remove|blur [required]'");
        const char **np = kk__realloc(p->params, (size_t)(p->nparams + 4) * sizeof *np);
        if (!np)
            return KK_ENOMEM;
        p->params = np;
        p->params[p->nparams++] = "deface";
        if (!(p->params[p->nparams++] = pool_strndup(p, m, strlen(m))))
            return KK_ENOMEM;
        p->params[p->nparams++] = "deface.required";
        p->params[p->nparams++] = n == 3 ? "yes" : "no";
        return KK_OK;
    }
    /* issue 17: the data-set level of a release, kept as parameters named
     * "quasi:ATTR", "rare:ATTR" and "release:NAME" (lib/deid/release.c) */
    if (strcmp(w, "quasi") == 0 || strcmp(w, "rare") == 0 || strcmp(w, "release") == 0) {
        const char *pfx = w;
        int want = w[0] == 'q' ? 3 : w[0] == 'r' && w[1] == 'a' ? 4 : 2;
        NEED(want, w[0] == 'q' ? "ATTRIBUTE hierarchy NAME"
                   : w[1] == 'a' ? "ATTRIBUTE below N generalize|remove" : "a name and a value");
        AT_MOST(want);
        if (w[0] == 'q' && strcmp(toks[2].text, "hierarchy") != 0)
            return perr(ps, toks[2].col, "expected 'hierarchy', not '%s'", toks[2].text);
        if (w[1] == 'a' && strcmp(toks[2].text, "below") != 0)
            return perr(ps, toks[2].col, "expected 'below', not '%s'", toks[2].text);
        if (w[1] == 'a' && strcmp(toks[4].text, "generalize") != 0 &&
            strcmp(toks[4].text, "remove") != 0)
            return perr(ps, toks[4].col, "expected 'generalize' or 'remove', not '%s'",
                        toks[4].text);
        if (w[1] == 'e' && strcmp(toks[1].text, "k") != 0 &&
            strcmp(toks[1].text, "suppress-limit") != 0)
            return perr(ps, toks[1].col, "unknown release setting '%s' (k, suppress-limit)",
                        toks[1].text);
        char name[160], value[160];
        snprintf(name, sizeof name, "%s:%.*s", pfx, (int)toks[1].len, toks[1].text);
        if (w[1] == 'a')
            snprintf(value, sizeof value, "%.*s %.*s", (int)toks[3].len, toks[3].text,
                     (int)toks[4].len, toks[4].text);
        else
            snprintf(value, sizeof value, "%.*s", (int)toks[want].len, toks[want].text);
        const char **np = kk__realloc(p->params, (size_t)(p->nparams + 2) * sizeof *np);
        if (!np)
            return KK_ENOMEM;
        p->params = np;
        if (!(p->params[p->nparams++] = pool_strndup(p, name, strlen(name))) ||
            !(p->params[p->nparams++] = pool_strndup(p, value, strlen(value))))
            return KK_ENOMEM;
        return KK_OK;
    }
    if (strcmp(w, "set") == 0) {
        NEED(2, "a name and a value");
        AT_MOST(2);
        const char **np = kk__realloc(p->params, (size_t)(p->nparams + 2) * sizeof *np);
        if (!np)
            return KK_ENOMEM;
        p->params = np;
        for (int i = 1; i <= 2; i++)
            if (!(p->params[p->nparams++] = pool_strndup(p, toks[i].text, toks[i].len)))
                return KK_ENOMEM;
        return KK_OK;
    }
#undef NEED
#undef AT_MOST
    return parse_rule(ps, toks, n);
}

static kk_status parse_text(parse_state *ps, const char *text, const char *file)
{
    parse_state st = *ps;
    st.file = file;
    st.file_len = strlen(file);
    st.line = 0;
    char *words = NULL; /* the texts of the current line's tokens */
    size_t cap = 0;
    kk_status rc = KK_OK;
    /* a line ends at '\n'; the text, at its first NUL */
    for (const char *s = text; *s && rc == KK_OK;) {
        const char *e = strchrnul(s, '\n');
        size_t need = (size_t)(e - s) + KK_MAX_TOKENS + 1;
        st.line++;
        if (need > cap) {
            cap = need > 2 * cap ? need : 2 * cap;
            free(words);
            words = kk__malloc(cap);
            if (!words)
                return kk__fail(ps->ctx, KK_ENOMEM, "out of memory");
        }
        token toks[KK_MAX_TOKENS];
        int ntok = 0;
        rc = tokenize(&st, s, e, words, toks, &ntok);
        if (rc == KK_OK && ntok > 0)
            rc = parse_line(&st, toks, ntok);
        s = *e ? e + 1 : e;
    }
    free(words);
    return rc;
}

/* --- compiling ------------------------------------------------------ */

static bool holds(const kk_profile *p, uint64_t on, uint64_t off)
{
    return (p->enabled & on) == on && (p->enabled & off) == 0;
}

/* The slot of a table of indexes into p->priv (a power of two, -1 for
 * empty) for the group, low byte and creator of r: the safe private list
 * has hundreds of entries, too many to search one by one. */
static int *priv_slot(const kk_profile *p, int *slots, size_t nslots, const raw_rule *r)
{
    uint64_t h = (uint64_t)r->group << 8 | r->low;
    for (const char *c = r->creator; *c; c++)
        h = (h ^ (unsigned char)*c) * 0x100000001b3ULL; /* FNV-1a */
    size_t j = hash64(h) & (nslots - 1);
    while (slots[j] >= 0) {
        const priv_rule *e = &p->priv[slots[j]];
        if (e->group == r->group && e->low == r->low && strcmp(e->creator, r->creator) == 0)
            break;
        j = (j + 1) & (nslots - 1);
    }
    return &slots[j];
}

static kk_status compile(kk_profile *p, kk_ctx *ctx)
{
    p->default_rule.action = p->default_action;
    p->default_rule.origin = p->default_origin ? p->default_origin : "default";
    p->default_rule.selector = "default";
    p->default_rule.code = kk_action_name(p->default_action);
    p->uses[p->default_action] = true;
    size_t npriv = 0, nmasks = 0, nslots = 16;
    for (int i = 0; i < p->nraw; i++) {
        npriv += p->raw[i].kind == SEL_PRIVATE;
        nmasks += p->raw[i].kind == SEL_MASK;
    }
    while (nslots < 2 * npriv)
        nslots *= 2;
    int *slots = kk__malloc(nslots * sizeof *slots);
    p->priv = kk__calloc(npriv + 1, sizeof *p->priv);
    p->masks = kk__calloc(nmasks + 1, sizeof *p->masks);
    if (!slots || !p->priv || !p->masks) {
        free(slots);
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    }
    memset(slots, 0xff, nslots * sizeof *slots);
    for (int i = 0; i < p->nraw; i++) {
        raw_rule *r = &p->raw[i];
        if (!holds(p, r->when_on, r->when_off))
            continue;
        const kk_rule *rule = &r->rule;
        p->uses[rule->action] = true;
        if (rule->compound == KK_COMPOUND_XZU)
            p->uses[KK_ACTION_UID] = true;
        if (rule->compound == KK_COMPOUND_XD || rule->compound == KK_COMPOUND_XZD ||
            rule->compound == KK_COMPOUND_ZD)
            p->uses[KK_ACTION_DUMMY] = true;
        switch (r->kind) {
        case SEL_TAG:
            if (!map_put(&p->exact, r->tag, rule)) {
                free(slots);
                return kk__fail(ctx, KK_ENOMEM, "out of memory");
            }
            break;
        case SEL_PRIVATE: {
            int *slot = priv_slot(p, slots, nslots, r);
            if (*slot < 0)
                *slot = p->npriv++;
            priv_rule *e = &p->priv[*slot];
            e->group = r->group;
            e->low = r->low;
            e->creator = r->creator;
            e->rule = rule;
            break;
        }
        case SEL_MASK: {
            int j;
            for (j = 0; j < p->nmasks; j++)
                if (p->masks[j].tag == r->tag && p->masks[j].mask == r->mask)
                    break;
            p->masks[j].tag = r->tag;
            p->masks[j].mask = r->mask;
            p->masks[j].rule = rule;
            if (j == p->nmasks)
                p->nmasks++;
            break;
        }
        case SEL_PRIVATE_CLASS:
            p->private_class = rule;
            break;
        case SEL_VR:
            for (int k = 0; k < r->nvrs; k++) {
                int vi = vr_index(r->vrs[k]);
                if (vi >= 0)
                    p->vr_rules[vi] = rule;
            }
            break;
        }
    }
    free(slots);
    p->pixel_rules = kk__calloc((size_t)p->nraw_pixels + 1, sizeof *p->pixel_rules);
    if (!p->pixel_rules)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    for (int i = 0; i < p->nraw_pixels; i++)
        if (holds(p, p->raw_pixels[i].when_on, p->raw_pixels[i].when_off))
            p->pixel_rules[p->npixel_rules++] = p->raw_pixels[i].rule;
    /* adds: the last one for a tag wins */
    p->adds = kk__calloc((size_t)p->nraw_adds + 1, sizeof *p->adds);
    if (!p->adds)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    for (int i = 0; i < p->nraw_adds; i++) {
        raw_add *a = &p->raw_adds[i];
        if (!holds(p, a->when_on, a->when_off))
            continue;
        int j;
        for (j = 0; j < p->nadds; j++)
            if (p->adds[j].tag == a->tag)
                break;
        p->adds[j].tag = a->tag;
        p->adds[j].value = a->value;
        if (j == p->nadds)
            p->nadds++;
    }
    p->codes = kk__calloc((size_t)p->noptions + 2, sizeof *p->codes);
    p->enabled_names = kk__calloc((size_t)p->noptions + 1, sizeof *p->enabled_names);
    if (!p->codes || !p->enabled_names)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    if (p->has_code)
        p->codes[p->ncodes++] = p->own_code;
    int ne = 0;
    for (int i = 0; i < p->noptions; i++) {
        if (!(p->enabled & (1ULL << i)))
            continue;
        p->enabled_names[ne++] = p->options[i].name;
        if (p->options[i].code) {
            p->codes[p->ncodes].value = p->options[i].code;
            p->codes[p->ncodes].meaning = p->options[i].meaning ? p->options[i].meaning : p->options[i].name;
            p->ncodes++;
        }
    }
    return KK_OK;
}

static kk_status enable_option(kk_profile *p, kk_ctx *ctx, const char *name)
{
    int i = option_index(p, name, strlen(name));
    if (i < 0) {
        kk_buf b = KK_BUF_INIT;
        for (int j = 0; j < p->noptions; j++)
            kk__buf_printf(&b, "%s%s", j ? ", " : "", p->options[j].name);
        kk_status st = kk__fail(ctx, KK_EINVAL, "unknown option '%s' for profile '%s'%s%s%s",
                                name, p->name ? p->name : "?", p->noptions ? " (it has: " : " (it has none)",
                                b.data ? b.data : "", p->noptions ? ")" : "");
        kk__buf_free(&b);
        return st;
    }
    p->enabled |= 1ULL << i;
    return KK_OK;
}

static kk_status profile_digest(kk_profile *p, kk_ctx *ctx);

/* After parsing: name, options, conflicts, compile, digest. Takes p;
 * on failure frees it. */
static kk_status finish_load(kk_profile **out, kk_profile *p, kk_ctx *ctx,
                             const char *name_or_path, const char *const *options)
{
    kk_status st = KK_OK;
    if (!p->name) {
        const char *base = strrchr(name_or_path, '/');
        base = base ? base + 1 : name_or_path;
        p->name = pool_strndup(p, base, strcspn(base, "."));
    }
    if (!p->version)
        p->version = "0";
    if (!p->name) {
        st = KK_ENOMEM;
        goto fail;
    }
    /* the caller's options first: a profile's `enable ... when` may
     * depend on them */
    for (int i = 0; options && options[i] && st == KK_OK; i++)
        st = enable_option(p, ctx, options[i]);
    for (int i = 0; i < p->nenable && st == KK_OK; i++)
        if (holds(p, p->enables[i].on, p->enables[i].off))
            st = enable_option(p, ctx, p->enables[i].name);
    if (st != KK_OK)
        goto fail;
    for (int i = 0; i < p->nconflicts; i++) {
        const char *const *c = p->conflicts[i];
        int a = option_index(p, c[0], strlen(c[0])), b = option_index(p, c[1], strlen(c[1]));
        if ((p->enabled & (1ULL << a)) && (p->enabled & (1ULL << b))) {
            st = kk__fail(ctx, KK_EINVAL, "options '%s' and '%s' cannot be used together",
                          p->conflicts[i][0], p->conflicts[i][1]);
            goto fail;
        }
    }
    st = compile(p, ctx);
    if (st == KK_OK)
        st = profile_digest(p, ctx);
    if (st != KK_OK)
        goto fail;
    *out = p;
    return KK_OK;
fail:
    if (st == KK_ENOMEM && kk_error_code(ctx) != KK_ENOMEM)
        kk__fail(ctx, KK_ENOMEM, "out of memory");
    kk_profile_free(p);
    return st;
}

kk_status kk_profile_load(kk_profile **out, kk_ctx *ctx, const char *name_or_path,
                          const char *const *options)
{
    *out = NULL;
    if (!name_or_path || !*name_or_path)
        return kk__fail(ctx, KK_EINVAL, "no profile given");
    if (sodium_init() < 0)
        return kk__fail(ctx, KK_EINTERNAL, "libsodium failed to start");
    kk_profile *p = kk__calloc(1, sizeof *p);
    if (!p)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    p->default_action = KK_ACTION_KEEP;
    parse_state ps;
    memset(&ps, 0, sizeof ps);
    ps.p = p;
    ps.ctx = ctx;
    kk_status st;
    const char *builtin = strchr(name_or_path, '/') ? NULL : kk_profile_builtin_text(name_or_path);
    if (builtin) {
        char canon[300];
        snprintf(canon, sizeof canon, "builtin:%s", name_or_path);
        ps.stack[0] = pool_strdup(p, canon);
        st = ps.stack[0] ? parse_text(&ps, builtin, name_or_path) : KK_ENOMEM;
    } else {
        char *text = NULL;
        char canon[PATH_MAX];
        if (!realpath(name_or_path, canon)) {
            st = kk__fail(ctx, KK_ENOTFOUND, "no profile named '%s' (built-in: dicom-basic%s), "
                          "and no such file", name_or_path,
                          kk_profile_builtin_text("jp-pseudonymized") ? ", jp-pseudonymized, jp-anonymized" : "");
            goto fail;
        }
        st = read_file(ctx, canon, &text);
        if (st != KK_OK)
            goto fail;
        ps.stack[0] = pool_strdup(p, canon);
        st = ps.stack[0] ? parse_text(&ps, text, name_or_path) : KK_ENOMEM;
        free(text);
    }
    if (st != KK_OK)
        goto fail;
    return finish_load(out, p, ctx, name_or_path, options);
fail:
    if (st == KK_ENOMEM && kk_error_code(ctx) != KK_ENOMEM)
        kk__fail(ctx, KK_ENOMEM, "out of memory");
    kk_profile_free(p);
    return st;
}

kk_status kk_profile__load_text(kk_profile **out, kk_ctx *ctx, const char *text, size_t len,
                                const char *name, const char *const *options)
{
    *out = NULL;
    if (sodium_init() < 0)
        return kk__fail(ctx, KK_EINTERNAL, "libsodium failed to start");
    /* the parser reads lines up to a NUL: copy, so text need not end in one */
    char *copy = kk__strndup(text, len);
    kk_profile *p = kk__calloc(1, sizeof *p);
    if (!copy || !p) {
        free(copy);
        free(p);
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    }
    p->default_action = KK_ACTION_KEEP;
    parse_state ps;
    memset(&ps, 0, sizeof ps);
    ps.p = p;
    ps.ctx = ctx;
    ps.memory = true;
    ps.stack[0] = pool_strdup(p, name);
    kk_status st = ps.stack[0] ? parse_text(&ps, copy, name) : KK_ENOMEM;
    free(copy);
    if (st != KK_OK) {
        if (st == KK_ENOMEM && kk_error_code(ctx) != KK_ENOMEM)
            kk__fail(ctx, KK_ENOMEM, "out of memory");
        kk_profile_free(p);
        return st;
    }
    return finish_load(out, p, ctx, name, options);
}

void kk_profile_free(kk_profile *p)
{
    if (!p)
        return;
    free(p->raw);
    free(p->raw_adds);
    free(p->enables);
    free(p->raw_pixels);
    free(p->pixel_rules);
    free(p->pixel_allow);
    free(p->params);
    while (p->pool) {
        pool_block *next = p->pool->next;
        free(p->pool);
        p->pool = next;
    }
    free(p->exact.keys);
    free(p->exact.vals);
    free(p->priv);
    free(p->masks);
    free(p->adds);
    free(p->codes);
    free(p->enabled_names);
    free(p);
}

/* --- lookups -------------------------------------------------------- */

const kk_rule *kk_profile__match(const kk_profile *p, uint32_t tag, uint16_t vr,
                                 const char *creator, kk_match_level *level)
{
    kk_match_level dummy;
    if (!level)
        level = &dummy;
    const kk_rule *r = map_get(&p->exact, tag);
    if (r) {
        *level = KK_MATCH_EXACT;
        return r;
    }
    bool is_private = (KK_GROUP(tag) & 1) != 0;
    if (is_private && creator) {
        uint16_t g = KK_GROUP(tag);
        uint8_t low = (uint8_t)(tag & 0xff);
        for (int i = 0; i < p->npriv; i++)
            if (p->priv[i].group == g && p->priv[i].low == low &&
                strcmp(p->priv[i].creator, creator) == 0) {
                *level = KK_MATCH_PRIVATE;
                return p->priv[i].rule;
            }
    }
    for (int i = p->nmasks - 1; i >= 0; i--)
        if ((tag & p->masks[i].mask) == p->masks[i].tag &&
            /* repeating groups (50xx, 60xx) are even; odd ones are private */
            (!is_private || (p->masks[i].mask & 0x00010000u))) {
            *level = KK_MATCH_MASK;
            return p->masks[i].rule;
        }
    if (is_private && p->private_class) {
        *level = KK_MATCH_PRIVATE_CLASS;
        return p->private_class;
    }
    int vi = vr_index(vr);
    if (vi >= 0 && p->vr_rules[vi]) {
        *level = KK_MATCH_VR;
        return p->vr_rules[vi];
    }
    *level = KK_MATCH_DEFAULT;
    return &p->default_rule;
}

const char *kk_rule__arg(const kk_rule *r, const char *key)
{
    for (int i = 0; i < r->nargs; i++) {
        if (!key && !r->args[i].key)
            return r->args[i].value;
        if (key && r->args[i].key && strcmp(r->args[i].key, key) == 0)
            return r->args[i].value;
    }
    return NULL;
}

const kk_profile_add *kk_profile__adds(const kk_profile *p, int *n)
{
    *n = p->nadds;
    return p->adds;
}

const kk_profile_code *kk_profile__codes(const kk_profile *p, int *n)
{
    *n = p->ncodes;
    return p->codes;
}

const char *const *kk_profile__enabled(const kk_profile *p)
{
    return p->enabled_names;
}

const char *kk_profile__param(const kk_profile *p, const char *name, const char *def)
{
    for (int i = p->nparams - 2; i >= 0; i -= 2)
        if (strcmp(p->params[i], name) == 0)
            return p->params[i + 1];
    return def;
}

const char *const *kk_profile__params(const kk_profile *p, int *n)
{
    *n = p->nparams;
    return (const char *const *)p->params;
}

const kk_pixel_rule *kk_profile__pixel_rules(const kk_profile *p, int *n)
{
    *n = p->npixel_rules;
    return p->pixel_rules;
}

const char *const *kk_profile__pixel_allow(const kk_profile *p, int *n)
{
    static const char *const none[] = { NULL };
    *n = p->npixel_allow;
    return p->pixel_allow ? (const char *const *)p->pixel_allow : none;
}

bool kk_profile__uses(const kk_profile *p, kk_action a)
{
    return a < KK_ACTION__COUNT && p->uses[a];
}

const char *kk_profile_name(const kk_profile *p) { return p->name; }
const char *kk_profile_version(const kk_profile *p) { return p->version; }
const char *kk_profile_digest(const kk_profile *p) { return p->digest; }

int kk_profile_needs_key(const kk_profile *p)
{
    return p->uses[KK_ACTION_PSEUDONYM] || p->uses[KK_ACTION_SHIFT_DATE] ||
           strcmp(kk_profile__param(p, "key", "optional"), "required") == 0;
}

int kk_profile_forbids_key(const kk_profile *p)
{
    return strcmp(kk_profile__param(p, "key", "optional"), "ephemeral") == 0;
}

int kk_profile_needs_store(const kk_profile *p)
{
    return strcmp(kk_profile__param(p, "store", "optional"), "required") == 0;
}

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

static kk_status profile_digest(kk_profile *p, kk_ctx *ctx)
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

/* --- IOD Types ------------------------------------------------------ */

struct kk_iod_class { const char *uid; uint32_t first, count; };
extern const uint64_t kk_iod_rows[];
extern const struct kk_iod_class kk_iod_classes[];
extern const size_t kk_iod_class_count;

int kk_iod__type(const char *sop_class_uid, uint32_t tag)
{
    if (!sop_class_uid)
        return 3;
    /* repeating groups are listed under their first group */
    uint16_t g = KK_GROUP(tag);
    if (g >= 0x6000 && g <= 0x60FF && !(g & 1))
        tag = KK_TAG(0x6000, KK_ELEMENT(tag));
    else if (g >= 0x5000 && g <= 0x50FF && !(g & 1))
        tag = KK_TAG(0x5000, KK_ELEMENT(tag));
    size_t lo = 0, hi = kk_iod_class_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(kk_iod_classes[mid].uid, sop_class_uid);
        if (c == 0) {
            const uint64_t *rows = kk_iod_rows + kk_iod_classes[mid].first;
            size_t a = 0, z = kk_iod_classes[mid].count;
            while (a < z) {
                size_t m = (a + z) / 2;
                uint32_t t = (uint32_t)(rows[m] >> 4);
                if (t == tag)
                    return (int)(rows[m] & 0xf);
                if (t < tag)
                    a = m + 1;
                else
                    z = m;
            }
            return 3;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 3;
}
