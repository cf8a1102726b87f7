/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/crypto/tree.c - the regular files below a delivery folder, sorted:
 * the listing of the manifest (sign.c) and of an archive (pack.c).
 *
 * Symbolic links are never followed (lstat): the manifest passes them
 * over, an archive refuses them, so neither reaches outside the folder.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/core.h"
#include "crypto/tree.h"
#include "kakou/sign.h"

void kk_crypto__names_free(kk_names *l)
{
    for (size_t i = 0; i < l->n; i++)
        kk_free(l->v[i]);
    kk_free(l->v);
    memset(l, 0, sizeof *l);
}

int kk_crypto__names_add(kk_names *l, char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char **v = kk__realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_manifest_file(const char *name)
{
    return strcmp(name, KK_MANIFEST_NAME) == 0 ||
           strcmp(name, KK_MANIFEST_SIG_NAME) == 0 ||
           strcmp(name, KK_MANIFEST_NAME ".tmp") == 0;
}

/* One entry of a folder: full is its path, child its path below root. */
static kk_status list_entry(kk_ctx *ctx, const char *root, kk_buf *child,
                            const char *full, int flags, kk_names *out,
                            int depth);

/* Every regular file below root/rel, as paths relative to root. */
static kk_status list_dir(kk_ctx *ctx, const char *root, const char *rel,
                          int flags, kk_names *out, int depth)
{
    kk_buf path = KK_BUF_INIT;
    kk_status st = KK_OK;
    struct dirent *de;
    DIR *d;

    if (depth > 64)
        return kk__fail(ctx, KK_ELIMIT, "'%s/%s' is nested too deeply", root,
                        rel);
    kk__buf_printf(&path, "%s%s%s", root, *rel ? "/" : "", rel);
    if (path.failed)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    d = opendir(path.data);
    if (!d) {
        st = kk__fail(ctx, KK_EIO, "cannot read folder '%s': %s", path.data,
                      strerror(errno));
        kk__buf_free(&path);
        return st;
    }
    while (st == KK_OK && (de = readdir(d)) != NULL) {
        kk_buf child = KK_BUF_INIT, full = KK_BUF_INIT;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if ((flags & KK_TREE_MANIFEST) && !*rel && is_manifest_file(de->d_name))
            continue;
        kk__buf_printf(&child, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
        kk__buf_printf(&full, "%s/%s", path.data, de->d_name);
        if (child.failed || full.failed)
            st = kk__fail(ctx, KK_ENOMEM, "out of memory");
        else
            st = list_entry(ctx, root, &child, full.data, flags, out, depth);
        kk__buf_free(&child);
        kk__buf_free(&full);
    }
    closedir(d);
    kk__buf_free(&path);
    return st;
}

static kk_status list_entry(kk_ctx *ctx, const char *root, kk_buf *child,
                            const char *full, int flags, kk_names *out,
                            int depth)
{
    struct stat sb;

    if (lstat(full, &sb) != 0)
        return kk__fail(ctx, KK_EIO, "cannot stat '%s': %s", full,
                        strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return list_dir(ctx, root, child->data, flags, out, depth + 1);
    if (!S_ISREG(sb.st_mode)) {
        if (!(flags & KK_TREE_STRICT))
            return KK_OK;
        return kk__fail(ctx, KK_EINVAL, "'%s' is %s: only regular files "
                        "and folders can be packed (a link could reach "
                        "outside the folder)", full,
                        kk__file_kind(sb.st_mode));
    }
    if ((flags & KK_TREE_MANIFEST) && strpbrk(child->data, "\n\r\\"))
        return kk__fail(ctx, KK_EINVAL, "file name '%s' holds a line break "
                        "or a backslash: it cannot be listed in a manifest",
                        full);
    if (kk_crypto__names_add(out, child->data) != 0)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    child->data = NULL;
    return KK_OK;
}

kk_status kk_crypto__list_tree(kk_ctx *ctx, const char *dir, int flags,
                               kk_names *out)
{
    kk_status st = list_dir(ctx, dir, "", flags, out, 0);
    if (st == KK_OK)
        qsort(out->v, out->n, sizeof *out->v, cmp_str);
    return st;
}
