/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tools/profile_test.c - regression tests of profiles (profile_test.h).
 *
 * A case is CASES/NAME.dcm with CASES/NAME.expected beside it: the
 * outcome the profile gave when the case was accepted, one line per
 * attribute as `kakou explain` prints it (no values). A case whose
 * outcome changed is shown as a unified diff (expected -> now), computed
 * here by LCS over lines (outcomes are a few hundred lines). Pixel text
 * boxes are not part of an outcome (see outcome_line()).
 * Decisions come from kk_verify_explain(): no key and no store needed.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profile_test.h"

typedef struct lines {
    char **v;
    size_t n, cap;
} lines;

static void lines_add(lines *l, char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 128;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            free(s);
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
}

static void lines_free(lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* The stable text of one outcome, as `kakou explain` prints it. Boxes of
 * burned-in text are left out: they come from text detection, which
 * changes with its models (kakou review is for checking them). */
static void outcome_line(const kk_explain_entry *e, void *payload)
{
    if (e->box)
        return;
    char buf[1024];
    snprintf(buf, sizeof buf, "%-40s %-36s %s %-9s %s", e->path,
             e->keyword[0] ? e->keyword : "-", e->vr, kk_action_name(e->action), e->rule);
    lines_add(payload, strdup(buf));
}

static int read_lines(const char *path, lines *l)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, fp)) > 0) {
        if (line[n - 1] == '\n')
            line[n - 1] = '\0';
        lines_add(l, strdup(line));
    }
    free(line);
    fclose(fp);
    return 0;
}

static int write_lines(const char *path, const lines *l)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return -1;
    FILE *fp = fopen(tmp, "w");
    if (!fp)
        return -1;
    for (size_t i = 0; i < l->n; i++)
        fprintf(fp, "%s\n", l->v[i]);
    if (fclose(fp) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Unified diff of a (expected) and b (now), 2 lines of context. */
static void udiff(const char *name_a, const char *name_b, const lines *a, const lines *b)
{
    size_t n = a->n, m = b->n;
    /* LCS lengths from the end: L[i][j] for a[i..], b[j..] */
    unsigned *L = calloc((n + 1) * (m + 1), sizeof *L);
    if (!L) {
        printf("--- %s\n+++ %s\n(outcome changed; too large to diff)\n", name_a, name_b);
        return;
    }
#define AT(i, j) L[(size_t)(i) * (m + 1) + (j)]
    for (size_t i = n; i-- > 0;)
        for (size_t j = m; j-- > 0;)
            AT(i, j) = strcmp(a->v[i], b->v[j]) == 0 ? AT(i + 1, j + 1) + 1
                       : AT(i + 1, j) >= AT(i, j + 1) ? AT(i + 1, j) : AT(i, j + 1);
    /* the edit script: ' ', '-', '+' with indices */
    size_t cap = n + m + 1, k = 0;
    char *op = malloc(cap);
    size_t *ia = malloc(cap * sizeof *ia), *ib = malloc(cap * sizeof *ib);
    if (!op || !ia || !ib)
        goto out;
    size_t i = 0, j = 0;
    while (i < n || j < m) {
        if (i < n && j < m && strcmp(a->v[i], b->v[j]) == 0) {
            op[k] = ' ', ia[k] = i++, ib[k] = j++;
        } else if (i < n && (j == m || AT(i + 1, j) >= AT(i, j + 1))) {
            op[k] = '-', ia[k] = i++, ib[k] = j;
        } else {
            op[k] = '+', ia[k] = i, ib[k] = j++;
        }
        k++;
    }
    printf("--- %s\n+++ %s\n", name_a, name_b);
    const size_t ctx = 2;
    for (size_t s = 0; s < k;) {
        if (op[s] == ' ') {
            s++;
            continue;
        }
        /* a hunk: from ctx before this change to ctx after the last
         * change that is within 2*ctx of the one before */
        size_t start = s >= ctx ? s - ctx : 0, end = s;
        for (size_t t = s; t < k; t++) {
            if (op[t] != ' ')
                end = t;
            else if (t - end > 2 * ctx)
                break;
        }
        size_t stop = end + ctx + 1 < k ? end + ctx + 1 : k;
        size_t na = 0, nb = 0;
        for (size_t t = start; t < stop; t++) {
            na += op[t] != '+';
            nb += op[t] != '-';
        }
        printf("@@ -%zu,%zu +%zu,%zu @@\n", ia[start] + 1, na, ib[start] + 1, nb);
        for (size_t t = start; t < stop; t++)
            printf("%c%s\n", op[t], op[t] == '+' ? b->v[ib[t]] : a->v[ia[t]]);
        s = stop;
    }
out:
    free(op);
    free(ia);
    free(ib);
    free(L);
#undef AT
}

static kk_verify *load(const kk_cli *cli, kk_ctx *ctx, const char *name, const char **options,
                       kk_profile **p)
{
    kk_verify *v = NULL;
    *p = kk_cli_load_profile(cli, ctx, name, options);
    if (!*p)
        return NULL;
    if (kk_verify_new(&v, ctx, *p, NULL) != KK_OK) {
        kk_cli_error(cli, "%s", kk_error_message(ctx));
        kk_profile_free(*p);
        *p = NULL;
    }
    return v;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int kk_profile_test(const kk_cli *cli, const char *profile, const char *cases,
                    const char **options, bool update)
{
    kk_ctx *ctx = kk_ctx_new();
    kk_profile *p = NULL;
    kk_verify *v = ctx ? load(cli, ctx, profile, options, &p) : NULL;
    if (!v) {
        kk_ctx_free(ctx);
        return KK_EXIT_USAGE;
    }
    int rc = KK_EXIT_OK;
    DIR *d = opendir(cases);
    lines names = { NULL, 0, 0 };
    if (!d) {
        kk_cli_error(cli, "cannot read folder '%s': %s", cases, strerror(errno));
        rc = KK_EXIT_USAGE;
        goto out;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l > 4 && strcmp(de->d_name + l - 4, ".dcm") == 0)
            lines_add(&names, strndup(de->d_name, l - 4));
    }
    closedir(d);
    if (names.n)
        qsort(names.v, names.n, sizeof *names.v, cmp_str);
    size_t changed = 0, same = 0, updated = 0;
    for (size_t i = 0; i < names.n; i++) {
        char dcm[PATH_MAX], exp[PATH_MAX];
        snprintf(dcm, sizeof dcm, "%s/%s.dcm", cases, names.v[i]);
        snprintf(exp, sizeof exp, "%s/%s.expected", cases, names.v[i]);
        lines now = { NULL, 0, 0 }, want = { NULL, 0, 0 };
        if (kk_verify_explain(v, ctx, dcm, outcome_line, &now) != KK_OK) {
            kk_cli_error(cli, "%s", kk_error_message(ctx));
            kk_error_clear(ctx);
            rc = KK_EXIT_FAILED;
            lines_free(&now);
            continue;
        }
        bool have = read_lines(exp, &want) == 0;
        bool differ = !have || want.n != now.n;
        for (size_t k = 0; !differ && k < now.n; k++)
            differ = strcmp(want.v[k], now.v[k]) != 0;
        if (!differ) {
            same++;
        } else if (update) {
            /* what is accepted is shown, never rewritten silently: the
             * diff goes to review with the commit */
            if (!have) {
                printf("%s: new expected outcome (%zu lines)\n", exp, now.n);
            } else {
                char b[PATH_MAX + 32];
                snprintf(b, sizeof b, "%s (profile %s)", dcm, profile);
                udiff(exp, b, &want, &now);
            }
            if (write_lines(exp, &now) != 0) {
                kk_cli_error(cli, "cannot write '%s': %s", exp, strerror(errno));
                rc = KK_EXIT_FAILED;
            } else {
                kk_cli_info(cli, "updated '%s'", exp);
                updated++;
            }
        } else {
            changed++;
            if (!have)
                printf("%s: no expected outcome (run with --update to accept it)\n", exp);
            else {
                char b[PATH_MAX + 32];
                snprintf(b, sizeof b, "%s (profile %s)", dcm, profile);
                udiff(exp, b, &want, &now);
            }
        }
        lines_free(&now);
        lines_free(&want);
    }
    if (names.n == 0) {
        /* a test of nothing must not pass */
        kk_cli_error(cli, "no cases (NAME.dcm) in '%s'", cases);
        rc = KK_EXIT_USAGE;
    }
    if (cli->level >= KK_LOG_WARN)
        fprintf(stderr, "kakou profile: %zu cases, %zu unchanged, %zu changed%s", names.n, same,
                changed, update ? "" : "\n");
    if (update && cli->level >= KK_LOG_WARN)
        fprintf(stderr, ", %zu updated%s\n", updated,
                updated ? ": review the diff above (git diff) before committing it" : "");
    if (changed && rc == KK_EXIT_OK)
        rc = KK_EXIT_FAILED;
out:
    lines_free(&names);
    kk_verify_free(v);
    kk_profile_free(p);
    kk_ctx_free(ctx);
    return rc;
}

/* --- diff ---------------------------------------------------------------- */

typedef struct outcome {
    char *path, *keyword, *rule;
    char vr[3];
    kk_action action;
} outcome;

typedef struct outcomes {
    outcome *v;
    size_t n, cap;
} outcomes;

static void take(const kk_explain_entry *e, void *payload)
{
    outcomes *o = payload;
    if (e->box)
        return; /* pixels: kakou review shows them */
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 128;
        outcome *v = realloc(o->v, cap * sizeof *v);
        if (!v)
            return;
        o->v = v;
        o->cap = cap;
    }
    outcome *x = &o->v[o->n++];
    x->path = strdup(e->path);
    x->keyword = strdup(e->keyword[0] ? e->keyword : "-");
    x->rule = strdup(e->rule);
    memcpy(x->vr, e->vr, 3);
    x->action = e->action;
}

static void outcomes_free(outcomes *o)
{
    for (size_t i = 0; i < o->n; i++) {
        free(o->v[i].path);
        free(o->v[i].keyword);
        free(o->v[i].rule);
    }
    free(o->v);
    memset(o, 0, sizeof *o);
}

static const outcome *find(const outcomes *o, const char *path)
{
    for (size_t i = 0; i < o->n; i++)
        if (o->v[i].path && strcmp(o->v[i].path, path) == 0)
            return &o->v[i];
    return NULL;
}

int kk_profile_diff(const kk_cli *cli, const char *a, const char *b, const char **options,
                    int nfiles, char **files)
{
    kk_ctx *ctx = kk_ctx_new();
    kk_profile *pa = NULL, *pb = NULL;
    kk_verify *va = ctx ? load(cli, ctx, a, options, &pa) : NULL;
    kk_verify *vb = va ? load(cli, ctx, b, options, &pb) : NULL;
    int rc = KK_EXIT_OK;
    size_t ndiff = 0;
    if (!va || !vb) {
        rc = KK_EXIT_USAGE;
        goto out;
    }
    for (int f = 0; f < nfiles; f++) {
        outcomes oa = { NULL, 0, 0 }, ob = { NULL, 0, 0 };
        if (kk_verify_explain(va, ctx, files[f], take, &oa) != KK_OK ||
            kk_verify_explain(vb, ctx, files[f], take, &ob) != KK_OK) {
            kk_cli_error(cli, "%s", kk_error_message(ctx));
            kk_error_clear(ctx);
            rc = KK_EXIT_FAILED;
        } else {
            for (size_t i = 0; i < oa.n; i++) {
                const outcome *x = &oa.v[i], *y = find(&ob, x->path);
                if (y && y->action == x->action)
                    continue;
                printf("%s: %s %s %s: %s (%s) -> %s (%s)\n", files[f], x->path, x->keyword,
                       x->vr, kk_action_name(x->action), x->rule,
                       y ? kk_action_name(y->action) : "-", y ? y->rule : "not reached");
                ndiff++;
            }
            for (size_t i = 0; i < ob.n; i++) {
                const outcome *y = &ob.v[i];
                if (find(&oa, y->path))
                    continue;
                printf("%s: %s %s %s: - (not reached) -> %s (%s)\n", files[f], y->path,
                       y->keyword, y->vr, kk_action_name(y->action), y->rule);
                ndiff++;
            }
        }
        outcomes_free(&oa);
        outcomes_free(&ob);
    }
    if (cli->level >= KK_LOG_WARN)
        fprintf(stderr, "kakou profile: %zu attributes differ between '%s' and '%s' over %d files\n",
                ndiff, a, b, nfiles);
    if (ndiff && rc == KK_EXIT_OK)
        rc = KK_EXIT_FAILED;
out:
    kk_verify_free(va);
    kk_verify_free(vb);
    kk_profile_free(pa);
    kk_profile_free(pb);
    kk_ctx_free(ctx);
    return rc;
}
