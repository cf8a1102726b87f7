/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/crypto/keyfile.h - what the key-file code of lib/crypto shares:
 * reading a small secret file into locked memory, creating a new file
 * that is never overwritten, and the passphrase-protected container
 * (keyfile.c). Not a public API.
 */
#ifndef KK_CRYPTO_KEYFILE_H
#define KK_CRYPTO_KEYFILE_H

#include <stddef.h>

#include "kakou/common.h"
#include "kakou/key.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest key, public-key or signature file kakou reads. */
#define KK_KEYFILE_MAX 4096
#define KK_PROTECTED_MAGIC "KAKOU-PROTECTED-1\n"

/**
 * Read a whole small file (at most KK_KEYFILE_MAX bytes) into
 * sodium_malloc'd memory, NUL-terminated. With secret set, a file that
 * group or others may access is refused (R24). what names the file in
 * messages ("key file", "public key").
 * @param[out] out  release with sodium_free()
 */
kk_status kk_crypto__read_file(kk_ctx *ctx, const char *path, const char *what,
                               int secret, char **out, size_t *len);

/**
 * Create path (O_EXCL, never overwritten) with mode, write data, fsync
 * the file and its folder. A partial file is removed.
 */
kk_status kk_crypto__write_new(kk_ctx *ctx, const char *path, const char *what,
                               const void *data, size_t len, unsigned mode);

/**
 * The plain text of a key file: text itself, or, for a protected file,
 * the decrypted text (pass required; KK_EKEY with a clear message
 * without it or when it is wrong).
 * @param[out] plain  sodium_malloc'd, NUL-terminated; sodium_free() it
 */
kk_status kk_crypto__unprotect(kk_ctx *ctx, const char *path, const char *text,
                               size_t len, const kk_secret *pass,
                               char **plain, size_t *plain_len);

/**
 * Write the key-file text plain to path: as is when pass is NULL, else in
 * the protected container, with the public id line kept in clear.
 */
kk_status kk_crypto__write_keyfile(kk_ctx *ctx, const char *path,
                                   const char *plain, size_t len,
                                   const char *id, const kk_secret *pass);

/** A persistent key (read from a key file) from its bytes. */
kk_status kk_key__from_file_bytes(kk_key **out, kk_ctx *ctx,
                                  const unsigned char bytes[KK_KEY_BYTES]);

#ifdef __cplusplus
}
#endif
#endif /* KK_CRYPTO_KEYFILE_H */
