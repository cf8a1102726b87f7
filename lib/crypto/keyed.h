/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/crypto/keyed.h - keyed transforms (HMAC-SHA-256, libsodium):
 * pseudonyms, replacement UIDs and per-patient date shifts.
 *
 * Pure functions: the same key, domain and input always give the same
 * output, on every machine; nothing is stored here (lib/store/ records
 * correspondence). Every input is domain-separated and length-framed
 * before hashing, so ("ab","c") and ("a","bc") never collide (R05). No key
 * byte outlives a call outside the key's locked memory (R09).
 * Not a public API.
 */
#ifndef KK_CRYPTO_KEYED_H
#define KK_CRYPTO_KEYED_H

#include <stddef.h>

#include "kakou/common.h"
#include "kakou/key.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KK_HMAC_BYTES 32
/** Longest UID plus its NUL. */
#define KK_UID_BUF 65

/**
 * HMAC-SHA-256(key, frame(domain) || frame(issuer) || frame(value)), where
 * frame(x) is the 8-byte little-endian length of x followed by x. issuer
 * may be NULL (framed as empty). domain is required.
 */
void kk_keyed__hmac(const kk_key *key, const char *domain, const char *issuer,
                    const void *value, size_t len,
                    unsigned char out[KK_HMAC_BYTES]);

/**
 * Replacement UID: "2.25." followed by the decimal of the first 128 bits of
 * HMAC(key, "uid", NULL, uid). Always valid: at most 44 characters, no
 * leading zero in any component.
 */
void kk_keyed__uid(const kk_key *key, const char *uid, char out[KK_UID_BUF]);

/** How a pseudonym looks. */
typedef struct kk_pseudonym_format {
    const char *prefix;   /**< e.g. "P"; may be "" */
    unsigned length;      /**< characters after the prefix (1..60) */
    const char *alphabet; /**< characters to draw from (2..64 of them) */
} kk_pseudonym_format;

/**
 * A pseudonym for value in domain (e.g. "patient", "accession"), qualified
 * by issuer (may be NULL). Writes prefix + length characters of the
 * alphabet and a NUL into out.
 * @return KK_OK; KK_EINVAL when the format is unusable or out too small
 */
kk_status kk_keyed__pseudonym(const kk_key *key, const char *domain,
                              const char *issuer, const void *value,
                              size_t len, const kk_pseudonym_format *fmt,
                              char *out, size_t outsz);

/**
 * Per-patient date shift in days, uniform in [min_days, max_days], from
 * HMAC(key, "date-shift", NULL, patient). The same patient always gets the
 * same shift under the same key, so intervals within a patient hold.
 */
int kk_keyed__shift_days(const kk_key *key, const void *patient, size_t len,
                         int min_days, int max_days);

#ifdef __cplusplus
}
#endif
#endif /* KK_CRYPTO_KEYED_H */
