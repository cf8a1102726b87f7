/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/crypto/key_internal.h - what the rest of the library (keyed.c, the
 * store) and the unit tests may know about a kk_key beyond the public API.
 * The key bytes themselves never leave the key's guarded memory through
 * this header: callers get a borrowed read-only pointer (R09, R23).
 * Not a public API.
 */
#ifndef KK_CRYPTO_KEY_INTERNAL_H
#define KK_CRYPTO_KEY_INTERNAL_H

#include "kakou/common.h"
#include "kakou/key.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * A key from given bytes (tests and known-answer vectors). The key is
 * marked ephemeral: it was never read from a key file.
 * @param[out] out  release with kk_key_free()
 */
kk_status kk_key__from_bytes(kk_key **out, kk_ctx *ctx,
                             const unsigned char bytes[KK_KEY_BYTES]);

/**
 * The KK_KEY_BYTES key bytes, borrowed, in read-only guarded memory that
 * lives as long as the key. Never copy them out of locked memory.
 */
const unsigned char *kk_key__bytes(const kk_key *key);

/** Call sodium_init() once (thread-safe). KK_EINTERNAL if it fails. */
kk_status kk_crypto__init(kk_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif /* KK_CRYPTO_KEY_INTERNAL_H */
