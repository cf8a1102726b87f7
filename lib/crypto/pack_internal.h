/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/crypto/pack_internal.h - what the unit tests may know of an
 * archive (lib/crypto/pack.c) beyond the public API: its layout, to make
 * hostile archives, and the check every path in one passes. Not a public
 * API.
 */
#ifndef KK_CRYPTO_PACK_INTERNAL_H
#define KK_CRYPTO_PACK_INTERNAL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The clear head of an archive: the magic, then "id <16 hex>\n" (the
 * recipient key id), then the sealed stream key and the stream header.
 * The magic and id line are the additional data of the first chunk. */
#define KK_PACK_MAGIC "KAKOU-PACK-1\n"
#define KK_PACK_ID_DOMAIN "kakou box id v1"
#define KK_PACK_PATH_MAX 4096

/**
 * 1 when the n bytes at path may name a file of an archive: not empty,
 * at most KK_PACK_PATH_MAX bytes, no NUL, relative (no leading '/'),
 * and no empty, "." or ".." component; 0 when not.
 */
int kk_pack__path_ok(const char *path, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* KK_CRYPTO_PACK_INTERNAL_H */
