/*
 * lib/profile/profile.c - the profile language (kakou.profile(5)): read
 * profile text, follow `inherit` and `include`, settle options, and compile
 * the rules into lookup tables.
 *
 * One statement per line; `#` starts a comment outside quotes. Errors are
 * reported as "FILE:LINE:COL: message". A profile that includes itself,
 * directly or not, is an error, and so is nesting deeper than 16 files.
 * Holds no DICOM knowledge beyond tags and VRs: the dictionary lookups for
 * keywords go through lib/dicom/.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/core.h"
#include "dicom/dicom.h"
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
    char *creator;           /* SEL_PRIVATE */
    uint16_t vrs[24];        /* SEL_VR */
    int nvrs;
    uint64_t when_on, when_off;
    kk_rule rule;
} raw_rule;

typedef struct raw_add {
    uint32_t tag;
    char *value;
    uint64_t when_on, when_off;
} raw_add;

/* A `pixel` statement as read. */
typedef struct raw_pixel {
    kk_pixel_rule rule;
    uint64_t when_on, when_off;
} raw_pixel;

typedef struct option_decl {
    char *name, *code, *meaning;
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
    char *creator;
    const kk_rule *rule;
} priv_rule;

typedef struct mask_rule {
    uint32_t tag, mask;
    const kk_rule *rule;
} mask_rule;

struct kk_profile {
    char *name, *version, *description;
    kk_profile_code own_code;
    bool has_code;
    /* everything read */
    raw_rule *raw;
    int nraw, capraw;
    raw_add *raw_adds;
    int nraw_adds, capraw_adds;
    option_decl options[KK_MAX_OPTIONS];
    int noptions;
    char *conflicts[KK_MAX_OPTIONS][2];
    int nconflicts;
    struct enable_stmt { char *name; uint64_t on, off; } *enables;
    int nenable;
    raw_pixel *raw_pixels;
    int nraw_pixels;
    char **pixel_allow; /* NULL-terminated */
    int npixel_allow;
    kk_pixel_rule *pixel_rules; /* compiled: options settled */
    int npixel_rules;
    char **params; /* key, value pairs */
    int nparams;
    char **strings; /* owned strings: origins, selectors */
    int nstrings, capstrings;
    char *default_origin;
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

static const char *keep_string(kk_profile *p, char *s)
{
    if (!s)
        return NULL;
    if (p->nstrings == p->capstrings) {
        int cap = p->capstrings ? p->capstrings * 2 : 256;
        char **n = kk__realloc(p->strings, (size_t)cap * sizeof *n);
        if (!n) {
            free(s);
            return NULL;
        }
        p->strings = n;
        p->capstrings = cap;
    }
    p->strings[p->nstrings++] = s;
    return s;
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
    char *text;   /* unquoted, unescaped */
    int col;      /* 1-based */
    bool quoted;
} token;

typedef struct parse_state {
    kk_profile *p;
    kk_ctx *ctx;
    const char *file;   /* for messages */
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

/* Split one line into tokens. A token starting with '(' runs to the
 * matching ')' (quotes inside are kept); "..." is a quoted token. */
static kk_status tokenize(parse_state *ps, const char *line, token *toks, int *ntok)
{
    *ntok = 0;
    const char *s = line;
    while (*s) {
        while (*s == ' ' || *s == '\t' || *s == '\r')
            s++;
        if (!*s || *s == '#')
            break;
        if (*ntok == KK_MAX_TOKENS)
            return perr(ps, (int)(s - line) + 1, "too many words on one line");
        token *t = &toks[(*ntok)++];
        t->col = (int)(s - line) + 1;
        t->quoted = false;
        kk_buf b = KK_BUF_INIT;
        if (*s == '"') {
            t->quoted = true;
            s++;
            while (*s && *s != '"') {
                if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
                    s++;
                kk__buf_addc(&b, *s++);
            }
            if (*s != '"') {
                kk__buf_free(&b);
                (*ntok)--;
                return perr(ps, t->col, "unterminated string");
            }
            s++;
        } else if (*s == '(') {
            bool inq = false;
            while (*s) {
                if (*s == '"')
                    inq = !inq;
                kk__buf_addc(&b, *s);
                if (!inq && *s == ')') {
                    s++;
                    break;
                }
                s++;
            }
            if (b.len == 0 || b.data[b.len - 1] != ')') {
                kk__buf_free(&b);
                (*ntok)--;
                return perr(ps, t->col, "missing ')'");
            }
        } else {
            while (*s && *s != ' ' && *s != '\t' && *s != '\r' && *s != '#')
                kk__buf_addc(&b, *s++);
        }
        if (b.failed) {
            kk__buf_free(&b);
            (*ntok)--;
            return kk__fail(ps->ctx, KK_ENOMEM, "out of memory");
        }
        t->text = kk__buf_detach(&b);
        if (!t->text) {
            (*ntok)--;
            return kk__fail(ps->ctx, KK_ENOMEM, "out of memory");
        }
    }
    return KK_OK;
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
    size_t n = strlen(s);
    if (strcmp(s, "private") == 0) {
        r->kind = SEL_PRIVATE_CLASS;
        return KK_OK;
    }
    if (strncmp(s, "vr:", 3) == 0) {
        r->kind = SEL_VR;
        const char *v = s + 3;
        for (int i = 0; vr_classes[i].name; i++)
            if (strcmp(v, vr_classes[i].name) == 0)
                v = vr_classes[i].vrs;
        while (*v) {
            if (!isupper((unsigned char)v[0]) || !isupper((unsigned char)v[1]) ||
                (v[2] != ',' && v[2] != '\0'))
                return perr(ps, t->col, "bad VR list '%s': write vr:PN or vr:DA,DT,TM", s + 3);
            if (r->nvrs == (int)(sizeof r->vrs / sizeof r->vrs[0]))
                return perr(ps, t->col, "too many VRs");
            r->vrs[r->nvrs++] = KK_VR(v[0], v[1]);
            v += v[2] ? 3 : 2;
        }
        if (!r->nvrs)
            return perr(ps, t->col, "empty VR list");
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
            r->creator = kk__strndup(q + 1, ql - 2);
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
        if (kk_dcm__tag_of_keyword(s, &tag) != KK_OK)
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

static int option_index(const kk_profile *p, const char *name)
{
    for (int i = 0; i < p->noptions; i++)
        if (strcmp(p->options[i].name, name) == 0)
            return i;
    return -1;
}

/* "when a,!b,c": every named option on, every !option off. */
static kk_status parse_when(parse_state *ps, const token *t, uint64_t *on, uint64_t *off)
{
    char *list = t->text, *save = NULL;
    char *copy = kk__strdup(list);
    if (!copy)
        return kk__fail(ps->ctx, KK_ENOMEM, "out of memory");
    for (char *w = strtok_r(copy, ",+", &save); w; w = strtok_r(NULL, ",+", &save)) {
        bool neg = w[0] == '!';
        int i = option_index(ps->p, w + neg);
        if (i < 0) {
            kk_status st = perr(ps, t->col, "unknown option '%s' (declare it with 'option %s')",
                                w + neg, w + neg);
            free(copy);
            return st;
        }
        if (neg)
            *off |= 1ULL << i;
        else
            *on |= 1ULL << i;
    }
    free(copy);
    return KK_OK;
}

static kk_status parse_rule(parse_state *ps, token *toks, int n)
{
    kk_profile *p = ps->p;
    if (n < 2)
        return perr(ps, toks[0].col + (int)strlen(toks[0].text), "missing action after '%s'",
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
    if (st != KK_OK) {
        free(r->creator);
        return st;
    }
    int i;
    for (i = 0; action_words[i].word; i++)
        if (strcmp(action_words[i].word, toks[1].text) == 0)
            break;
    if (!action_words[i].word) {
        free(r->creator);
        return perr(ps, toks[1].col, "unknown action '%s'", toks[1].text);
    }
    r->rule.action = action_words[i].action;
    r->rule.compound = action_words[i].compound;
    int k = 2;
    int nargs = 0;
    for (int j = 2; j < n && strcmp(toks[j].text, "when") != 0; j++)
        nargs++;
    if (nargs) {
        r->rule.args = kk__calloc((size_t)nargs, sizeof *r->rule.args);
        if (!r->rule.args) {
            free(r->creator);
            return kk__fail(ps->ctx, KK_ENOMEM, "out of memory");
        }
    }
    for (; k < n && strcmp(toks[k].text, "when") != 0; k++) {
        kk_rule_arg *a = &r->rule.args[r->rule.nargs++];
        char *eq = toks[k].quoted ? NULL : strchr(toks[k].text, '=');
        if (eq) {
            a->key = kk__strndup(toks[k].text, (size_t)(eq - toks[k].text));
            a->value = kk__strdup(eq + 1);
        } else {
            a->value = kk__strdup(toks[k].text);
        }
    }
    if (k < n) {
        if (k + 1 >= n) {
            st = perr(ps, toks[k].col + 4, "missing option name after 'when'");
            goto bad;
        }
        if (k + 2 < n) {
            st = perr(ps, toks[k + 2].col, "unexpected '%s' after the condition", toks[k + 2].text);
            goto bad;
        }
        st = parse_when(ps, &toks[k + 1], &r->when_on, &r->when_off);
        if (st != KK_OK)
            goto bad;
    }
    if (r->rule.action == KK_ACTION_SET && kk_rule__arg(&r->rule, NULL) == NULL) {
        st = perr(ps, toks[1].col, "'set' needs a value, e.g. set \"ANONYMOUS\"");
        goto bad;
    }
    char origin[PATH_MAX + 32];
    snprintf(origin, sizeof origin, "%s:%d", ps->file, ps->line);
    r->rule.origin = keep_string(p, kk__strdup(origin));
    r->rule.selector = keep_string(p, kk__strdup(toks[0].text));
    r->rule.code = keep_string(p, kk__strdup(toks[1].text));
    if (!r->rule.origin || !r->rule.selector || !r->rule.code) {
        st = kk__fail(ps->ctx, KK_ENOMEM, "out of memory");
        goto bad;
    }
    p->nraw++;
    return KK_OK;
bad:
    for (int j = 0; j < r->rule.nargs; j++) {
        free(r->rule.args[j].key);
        free(r->rule.args[j].value);
    }
    free(r->rule.args);
    free(r->creator);
    return st;
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
        if (st != KK_OK)
            return perr(ps, t->col, "cannot open '%s'", ref);
    }
    const char *name = keep_string(ps->p, kk__strdup(builtin ? canon : canon));
    if (!name) {
        free(text);
        return kk__fail(ps->ctx, KK_ENOMEM, "out of memory");
    }
    /* messages inside a built-in name it; inside a file, the path as given */
    const char *shown = builtin ? canon : name;
    parse_state sub = *ps;
    sub.depth = ps->depth + 1;
    sub.stack[sub.depth] = name;
    st = parse_text(&sub, builtin ? builtin : text, builtin ? keep_string(ps->p, kk__strdup(ref)) : shown);
    free(text);
    if (st == KK_OK)
        return KK_OK;
    return st;
}

static kk_status set_once(parse_state *ps, char **slot, const token *t)
{
    /* the profile being loaded names itself; included files do not */
    if (ps->depth > 0 && *slot)
        return KK_OK;
    if (ps->depth > 0 && ps->p->name && slot != &ps->p->name)
        return KK_OK;
    free(*slot);
    *slot = kk__strdup(t->text);
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
    if (kk_dcm__tag_of_keyword(kw, &c->tag) != KK_OK)
        return perr(ps, t->col, "unknown attribute '%s'", kw);
    c->op = s[k];
    const char *v = s + k + (s[k] == '!' ? 2 : 1);
    if (!*v)
        return perr(ps, t->col, "'%s' needs a value", s);
    int nv = 1;
    for (const char *q = v; *q; q++)
        nv += *q == '|';
    const char **vals = kk__calloc((size_t)nv, sizeof *vals);
    if (!vals || !keep_string(p, (char *)vals))
        return kk__fail(ps->ctx, KK_ENOMEM, "out of memory");
    for (int i = 0; i < nv; i++) {
        size_t n = strcspn(v, "|");
        vals[i] = keep_string(p, kk__strndup(v, n));
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
        char **na = kk__realloc(p->pixel_allow, (size_t)(p->npixel_allow + 2) * sizeof *na);
        if (!na)
            return kk__fail(ps->ctx, KK_ENOMEM, "out of memory");
        p->pixel_allow = na;
        na[p->npixel_allow] = kk__strdup(toks[2].text);
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
        kk_pixel_cond *conds = kk__calloc((size_t)(i - first), sizeof *conds);
        if (!conds || !keep_string(p, (char *)conds))
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
    char origin[PATH_MAX + 32];
    snprintf(origin, sizeof origin, "%s:%d", ps->file, ps->line);
    rp.rule.origin = keep_string(p, kk__strdup(origin));
    raw_pixel *nr = kk__realloc(p->raw_pixels, (size_t)(p->nraw_pixels + 1) * sizeof *nr);
    if (!nr || !rp.rule.origin)
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
    if (strcmp(w, "profile") == 0) {
        NEED(1, "a name");
        AT_MOST(1);
        if (ps->depth > 0)
            return KK_OK;
        free(p->name);
        p->name = kk__strdup(toks[1].text);
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
        p->own_code.value = keep_string(p, kk__strdup(toks[1].text));
        p->own_code.meaning = keep_string(p, kk__strdup(toks[2].text));
        p->has_code = true;
        return KK_OK;
    }
    if (strcmp(w, "option") == 0) {
        NEED(1, "a name");
        if (option_index(p, toks[1].text) >= 0)
            return perr(ps, toks[1].col, "option '%s' is declared twice", toks[1].text);
        if (p->noptions == KK_MAX_OPTIONS)
            return perr(ps, toks[1].col, "more than %d options", KK_MAX_OPTIONS);
        option_decl *o = &p->options[p->noptions];
        memset(o, 0, sizeof *o);
        for (int i = 2; i < n; i++) {
            if (!toks[i].quoted && strncmp(toks[i].text, "code=", 5) == 0 && !o->code) {
                o->code = kk__strdup(toks[i].text + 5);
            } else if (toks[i].quoted && !o->meaning) {
                o->meaning = kk__strdup(toks[i].text);
            } else {
                /* not counted in noptions yet: kk_profile_free() would
                 * not see what this declaration holds */
                free(o->code);
                free(o->meaning);
                memset(o, 0, sizeof *o);
                return perr(ps, toks[i].col, "unexpected '%s'", toks[i].text);
            }
        }
        o->name = kk__strdup(toks[1].text);
        p->noptions++;
        return KK_OK;
    }
    if (strcmp(w, "conflict") == 0) {
        NEED(2, "two option names");
        AT_MOST(2);
        for (int i = 1; i <= 2; i++)
            if (option_index(p, toks[i].text) < 0)
                return perr(ps, toks[i].col, "unknown option '%s'", toks[i].text);
        if (p->nconflicts == KK_MAX_OPTIONS)
            return perr(ps, toks[1].col, "too many conflicts");
        p->conflicts[p->nconflicts][0] = kk__strdup(toks[1].text);
        p->conflicts[p->nconflicts][1] = kk__strdup(toks[2].text);
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
            if (option_index(p, toks[i].text) < 0)
                return perr(ps, toks[i].col, "unknown option '%s'", toks[i].text);
            struct enable_stmt *ne = kk__realloc(p->enables, (size_t)(p->nenable + 1) * sizeof *ne);
            if (!ne)
                return KK_ENOMEM;
            p->enables = ne;
            p->enables[p->nenable].name = kk__strdup(toks[i].text);
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
        char origin[PATH_MAX + 32];
        snprintf(origin, sizeof origin, "%s:%d", ps->file, ps->line);
        free(p->default_origin);
        p->default_origin = kk__strdup(origin);
        return KK_OK;
    }
    if (strcmp(w, "add") == 0) {
        NEED(2, "an attribute and a value");
        raw_rule tmp;
        memset(&tmp, 0, sizeof tmp);
        kk_status st = parse_selector(ps, &toks[1], &tmp);
        free(tmp.creator);
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
        a.value = kk__strdup(toks[2].text);
        raw_add *na = kk__realloc(p->raw_adds, (size_t)(p->nraw_adds + 1) * sizeof *na);
        if (!na || !a.value) {
            free(a.value);
            return kk__fail(ps->ctx, KK_ENOMEM, "out of memory");
        }
        p->raw_adds = na;
        p->raw_adds[p->nraw_adds++] = a;
        return KK_OK;
    }
    if (strcmp(w, "pixel") == 0)
        return parse_pixel(ps, toks, n);
    if (strcmp(w, "set") == 0) {
        NEED(2, "a name and a value");
        AT_MOST(2);
        char **np = kk__realloc(p->params, (size_t)(p->nparams + 2) * sizeof *np);
        if (!np)
            return KK_ENOMEM;
        p->params = np;
        p->params[p->nparams++] = kk__strdup(toks[1].text);
        p->params[p->nparams++] = kk__strdup(toks[2].text);
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
    st.line = 0;
    const char *s = text;
    kk_status rc = KK_OK;
    while (*s && rc == KK_OK) {
        const char *e = strchr(s, '\n');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        st.line++;
        char *line = kk__strndup(s, n);
        if (!line)
            return kk__fail(ps->ctx, KK_ENOMEM, "out of memory");
        token toks[KK_MAX_TOKENS];
        int ntok = 0;
        rc = tokenize(&st, line, toks, &ntok);
        if (rc == KK_OK && ntok > 0)
            rc = parse_line(&st, toks, ntok);
        for (int i = 0; i < ntok; i++)
            free(toks[i].text);
        free(line);
        s = e ? e + 1 : s + n;
    }
    return rc;
}

/* --- compiling ------------------------------------------------------ */

static bool holds(const kk_profile *p, uint64_t on, uint64_t off)
{
    return (p->enabled & on) == on && (p->enabled & off) == 0;
}

static kk_status compile(kk_profile *p, kk_ctx *ctx)
{
    p->default_rule.action = p->default_action;
    p->default_rule.origin = p->default_origin ? p->default_origin : "default";
    p->default_rule.selector = "default";
    p->default_rule.code = kk_action_name(p->default_action);
    p->uses[p->default_action] = true;
    p->priv = kk__calloc((size_t)p->nraw + 1, sizeof *p->priv);
    p->masks = kk__calloc((size_t)p->nraw + 1, sizeof *p->masks);
    if (!p->priv || !p->masks)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
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
            if (!map_put(&p->exact, r->tag, rule))
                return kk__fail(ctx, KK_ENOMEM, "out of memory");
            break;
        case SEL_PRIVATE: {
            int j;
            for (j = 0; j < p->npriv; j++)
                if (p->priv[j].group == r->group && p->priv[j].low == r->low &&
                    strcmp(p->priv[j].creator, r->creator) == 0)
                    break;
            p->priv[j].group = r->group;
            p->priv[j].low = r->low;
            p->priv[j].creator = r->creator;
            p->priv[j].rule = rule;
            if (j == p->npriv)
                p->npriv++;
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
    int i = option_index(p, name);
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

static void profile_digest(kk_profile *p);

/* After parsing: name, options, conflicts, compile, digest. Takes p;
 * on failure frees it. */
static kk_status finish_load(kk_profile **out, kk_profile *p, kk_ctx *ctx,
                             const char *name_or_path, const char *const *options)
{
    kk_status st = KK_OK;
    if (!p->name) {
        const char *base = strrchr(name_or_path, '/');
        base = base ? base + 1 : name_or_path;
        p->name = kk__strndup(base, strcspn(base, "."));
    }
    if (!p->version)
        p->version = kk__strdup("0");
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
        int a = option_index(p, p->conflicts[i][0]), b = option_index(p, p->conflicts[i][1]);
        if ((p->enabled & (1ULL << a)) && (p->enabled & (1ULL << b))) {
            st = kk__fail(ctx, KK_EINVAL, "options '%s' and '%s' cannot be used together",
                          p->conflicts[i][0], p->conflicts[i][1]);
            goto fail;
        }
    }
    st = compile(p, ctx);
    if (st != KK_OK)
        goto fail;
    profile_digest(p);
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
    kk_dcm__init();
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
        ps.stack[0] = keep_string(p, kk__strdup(canon));
        st = parse_text(&ps, builtin, name_or_path);
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
        ps.stack[0] = keep_string(p, kk__strdup(canon));
        st = parse_text(&ps, text, name_or_path);
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
    kk_dcm__init();
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
    ps.stack[0] = keep_string(p, kk__strdup(name));
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
    for (int i = 0; i < p->nraw; i++) {
        free(p->raw[i].creator);
        for (int j = 0; j < p->raw[i].rule.nargs; j++) {
            free(p->raw[i].rule.args[j].key);
            free(p->raw[i].rule.args[j].value);
        }
        free(p->raw[i].rule.args);
    }
    free(p->raw);
    for (int i = 0; i < p->nraw_adds; i++)
        free(p->raw_adds[i].value);
    free(p->raw_adds);
    for (int i = 0; i < p->noptions; i++) {
        free(p->options[i].name);
        free(p->options[i].code);
        free(p->options[i].meaning);
    }
    for (int i = 0; i < p->nconflicts; i++) {
        free(p->conflicts[i][0]);
        free(p->conflicts[i][1]);
    }
    for (int i = 0; i < p->nenable; i++)
        free(p->enables[i].name);
    free(p->enables);
    free(p->raw_pixels);
    free(p->pixel_rules);
    for (int i = 0; i < p->npixel_allow; i++)
        free(p->pixel_allow[i]);
    free(p->pixel_allow);
    for (int i = 0; i < p->nparams; i++)
        free(p->params[i]);
    free(p->params);
    for (int i = 0; i < p->nstrings; i++)
        free(p->strings[i]);
    free(p->strings);
    free(p->default_origin);
    free(p->exact.keys);
    free(p->exact.vals);
    free(p->priv);
    free(p->masks);
    free(p->adds);
    free(p->codes);
    free(p->enabled_names);
    free(p->name);
    free(p->version);
    free(p->description);
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

static void format_rule(kk_buf *b, const char *sel, const kk_rule *r)
{
    kk__buf_printf(b, "%-34s %s", sel, r->code);
    for (int i = 0; i < r->nargs; i++) {
        if (r->args[i].key)
            kk__buf_printf(b, " %s=%s", r->args[i].key, r->args[i].value);
        else
            kk__buf_printf(b, " \"%s\"", r->args[i].value);
    }
    kk__buf_printf(b, "    # %s\n", r->origin);
}

static void format_pixel(const kk_profile *p, kk_buf *b)
{
    static const char *const modes[] = { "off", "phi", "all-text" };
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
            kk__buf_printf(b, " \"%s%s", kk_dcm__keyword(pc->tag), pc->op == '!' ? "!=" : pc->op == '~' ? "~" : "=");
            for (int v = 0; v < pc->nvalues; v++)
                kk__buf_printf(b, "%s%s", v ? "|" : "", pc->values[v]);
            kk__buf_addc(b, '"');
        }
        kk__buf_printf(b, "    # %s\n", r->origin);
    }
    for (int i = 0; i < p->npixel_allow; i++)
        kk__buf_printf(b, "pixel allow \"%s\"\n", p->pixel_allow[i]);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void format_all(const kk_profile *p, kk_buf *b)
{
    kk__buf_printf(b, "profile %s\nversion %s\n", p->name, p->version);
    if (p->description)
        kk__buf_printf(b, "description \"%s\"\n", p->description);
    for (int i = 0; i < p->ncodes; i++)
        kk__buf_printf(b, "# code DCM %s \"%s\"\n", p->codes[i].value, p->codes[i].meaning);
    for (int i = 0; p->enabled_names[i]; i++)
        kk__buf_printf(b, "enable %s\n", p->enabled_names[i]);
    kk__buf_printf(b, "default %s    # %s\n", kk_action_name(p->default_action),
                   p->default_rule.origin);
    for (int i = 0; i < p->nadds; i++)
        kk__buf_printf(b, "add (%04X,%04X) \"%s\"\n", KK_GROUP(p->adds[i].tag),
                       KK_ELEMENT(p->adds[i].tag), p->adds[i].value);
    for (int i = 0; i < p->nparams; i += 2)
        kk__buf_printf(b, "set %s \"%s\"\n", p->params[i], p->params[i + 1]);
    /* exact rules in tag order */
    uint64_t *tags = kk__malloc((p->exact.n + 1) * sizeof *tags);
    size_t nt = 0;
    for (size_t i = 0; tags && i < p->exact.cap; i++)
        if (p->exact.vals[i])
            tags[nt++] = p->exact.keys[i];
    if (nt > 1)
        qsort(tags, nt, sizeof *tags, cmp_u64);
    for (size_t i = 0; i < nt; i++) {
        char sel[64];
        uint32_t t = (uint32_t)tags[i];
        const char *kw = kk_dcm__keyword(t);
        snprintf(sel, sizeof sel, "(%04X,%04X) %s", KK_GROUP(t), KK_ELEMENT(t), kw);
        format_rule(b, sel, map_get(&p->exact, tags[i]));
    }
    free(tags);
    for (int i = 0; i < p->nmasks; i++) {
        char sel[32];
        uint32_t t = p->masks[i].tag, m = p->masks[i].mask;
        char hex[9];
        for (int k = 0; k < 8; k++) {
            int sh = 28 - 4 * k;
            hex[k] = ((m >> sh) & 0xf) ? "0123456789ABCDEF"[(t >> sh) & 0xf] : 'x';
        }
        snprintf(sel, sizeof sel, "(%.4s,%.4s)", hex, hex + 4);
        format_rule(b, sel, p->masks[i].rule);
    }
    for (int i = 0; i < p->npriv; i++) {
        char sel[160];
        snprintf(sel, sizeof sel, "(%04X,xx%02X,\"%s\")", p->priv[i].group, p->priv[i].low,
                 p->priv[i].creator);
        format_rule(b, sel, p->priv[i].rule);
    }
    if (p->private_class)
        format_rule(b, "private", p->private_class);
    for (int vi = 0; vi < 26 * 26; vi++)
        if (p->vr_rules[vi]) {
            char sel[8];
            snprintf(sel, sizeof sel, "vr:%c%c", 'A' + vi / 26, 'A' + vi % 26);
            format_rule(b, sel, p->vr_rules[vi]);
        }
    format_pixel(p, b);
}

kk_status kk_profile_format(char **out, kk_ctx *ctx, const kk_profile *p)
{
    kk_buf b = KK_BUF_INIT;
    format_all(p, &b);
    if (b.failed) {
        kk__buf_free(&b);
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    }
    *out = kk__buf_detach(&b);
    return *out ? KK_OK : KK_ENOMEM;
}

/* The digest covers the resolved rules, not where they came from, so the
 * same rules give the same digest wherever the files live. */
static void profile_digest(kk_profile *p)
{
    kk_buf b = KK_BUF_INIT;
    format_all(p, &b);
    /* drop the "# origin" comments */
    kk_buf c = KK_BUF_INIT;
    for (char *s = b.data; s && *s;) {
        char *e = strchr(s, '\n');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        char *hash = memmem(s, n, "    # ", 6);
        kk__buf_add(&c, s, hash ? (size_t)(hash - s) : n);
        kk__buf_addc(&c, '\n');
        s = e ? e + 1 : s + n;
    }
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)(c.data ? c.data : ""), c.len);
    sodium_bin2hex(p->digest, sizeof p->digest, h, sizeof h);
    kk__buf_free(&b);
    kk__buf_free(&c);
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
