/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/crypto/sha256.h - hex SHA-256 of public bytes (inputs and outputs,
 * for the audit log, R25, and the store's claims), in one call or a piece
 * at a time (hash while copying). Not a public API.
 */
#ifndef KK_CRYPTO_SHA256_H
#define KK_CRYPTO_SHA256_H

#include <stddef.h>

#include "kakou/common.h"

#define KK_SHA256_HEX 65 /* 64 hex digits and the NUL */

/** A digest being made: kk_sha256__begin(), kk_sha256__add()..., then
 *  kk_sha256__end() (or kk_sha256__abandon()). */
typedef struct kk_sha256 {
    void *md;
} kk_sha256;

kk_status kk_sha256__begin(kk_sha256 *h, kk_ctx *ctx);
void kk_sha256__add(kk_sha256 *h, const void *data, size_t len);
/** The hex digest; releases h. */
void kk_sha256__end(kk_sha256 *h, char hex[KK_SHA256_HEX]);
/** Release h without a digest. */
void kk_sha256__abandon(kk_sha256 *h);
/** The hex SHA-256 of len bytes at data. */
kk_status kk_sha256__hex(kk_ctx *ctx, const void *data, size_t len, char hex[KK_SHA256_HEX]);

/** The hex SHA-256 of a file, read without waiting (O_NONBLOCK): 0, or
 *  -1 with errno. */
int kk_sha256__file(const char *path, char hex[KK_SHA256_HEX]);

#endif /* KK_CRYPTO_SHA256_H */
