/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/profile/profile.c - the profile language (kakou.profile(5)): load a
 * profile (read its text, follow `inherit` and `include`, settle options,
 * compile the rules into lookup tables, take the digest) and free it. The
 * jobs live in files of their own (profile_priv.h lists them), as SQLite
 * splits its planner; this file strings them together.
 *
 * One statement per line; `#` starts a comment outside quotes. Errors are
 * reported as "FILE:LINE:COL: message". A profile that includes itself,
 * directly or not, is an error, and so is nesting deeper than 16 files.
 * Holds no DICOM knowledge beyond tags and VRs: keywords are looked up in
 * the compiled-in dictionary of lib/dict, in plain C, so loading a profile
 * never starts DCMTK.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "profile/profile_priv.h"

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
    st = kk_profile__compile(p, ctx);
    if (st == KK_OK)
        st = kk_profile__digest(p, ctx);
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
        st = ps.stack[0] ? kk_profile__parse_text(&ps, builtin, name_or_path) : KK_ENOMEM;
    } else {
        char *text = NULL;
        char canon[PATH_MAX];
        if (!realpath(name_or_path, canon)) {
            st = kk__fail(ctx, KK_ENOTFOUND, "no profile named '%s' (built-in: dicom-basic%s), "
                          "and no such file", name_or_path,
                          kk_profile_builtin_text("jp-pseudonymized") ? ", jp-pseudonymized, jp-anonymized" : "");
            goto fail;
        }
        st = kk_profile__read_file(ctx, canon, &text);
        if (st != KK_OK)
            goto fail;
        ps.stack[0] = pool_strdup(p, canon);
        st = ps.stack[0] ? kk_profile__parse_text(&ps, text, name_or_path) : KK_ENOMEM;
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
    kk_status st = ps.stack[0] ? kk_profile__parse_text(&ps, copy, name) : KK_ENOMEM;
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
