/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/crypto/tree.h - the regular files below a delivery folder, as
 * sorted relative paths: what the manifest lists (sign.c) and what an
 * archive carries (pack.c). Not a public API.
 */
#ifndef KK_CRYPTO_TREE_H
#define KK_CRYPTO_TREE_H

#include <stddef.h>

#include "kakou/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A list of strings the list owns (kk__malloc'd). */
typedef struct kk_names {
    char **v;
    size_t n, cap;
} kk_names;

/** Free every string and the list; leaves it empty. */
void kk_crypto__names_free(kk_names *l);

/** Append s (the list takes it). -1 when out of memory (s not taken). */
int kk_crypto__names_add(kk_names *l, char *s);

/** What kk_crypto__list_tree() does with what it meets. */
enum {
    /* the manifest: SHA256SUMS, SHA256SUMS.sig (and the temporary
     * SHA256SUMS.tmp) at the top are left out, other kinds of file are
     * passed over, a name with a line break or a backslash is refused */
    KK_TREE_MANIFEST = 1,
    /* an archive: everything is listed, and a symbolic link or any other
     * kind of file than a folder or a regular file is refused */
    KK_TREE_STRICT = 2
};

/**
 * Every regular file below dir (at most 64 folders deep), as paths
 * relative to dir, sorted in byte order (strcmp).
 * @param[out] out  free with kk_crypto__names_free()
 */
kk_status kk_crypto__list_tree(kk_ctx *ctx, const char *dir, int flags,
                               kk_names *out);

#ifdef __cplusplus
}
#endif
#endif /* KK_CRYPTO_TREE_H */
