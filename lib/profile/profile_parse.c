/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/profile/profile_parse.c - the lexer and the parser of the profile
 * language: lines into tokens, statements into the raw rules, options,
 * pixel statements and parameters of a kk_profile (profile_priv.h).
 * `inherit` and `include` are followed here; nothing is compiled.
 * Errors are "FILE:LINE:COL: message".
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile_priv.h"

/* --- the lexer -------------------------------------------------------- */

typedef struct token {
    const char *text; /* unquoted, unescaped, NUL-terminated */
    size_t len;
    int col;          /* 1-based */
    bool quoted;
} token;

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

kk_status kk_profile__read_file(kk_ctx *ctx, const char *path, char **out)
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
        st = kk_profile__read_file(ps->ctx, canon, &text);
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
    st = kk_profile__parse_text(&sub, builtin ? builtin : text, shown);
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

kk_status kk_profile__parse_text(parse_state *ps, const char *text, const char *file)
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
