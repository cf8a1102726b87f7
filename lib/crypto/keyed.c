/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/crypto/keyed.c - keyed transforms: HMAC-SHA-256 with domain
 * separation and length framing, replacement UIDs, pseudonyms and
 * per-patient date shifts (libsodium crypto_auth_hmacsha256).
 *
 * Pure: the same key, domain and input give the same output on every
 * machine; nothing is stored here (lib/store/ records correspondence).
 *
 * Framing (keyed.h): HMAC(key, frame(domain) || frame(issuer) ||
 * frame(value)), frame(x) = 8-byte little-endian length of x, then x; a
 * NULL issuer is framed as empty.
 *
 * UID: "2.25." + the decimal of the first 16 HMAC bytes read as a
 * big-endian unsigned 128-bit integer (long division on bytes; no leading
 * zero; "2.25.0" only when all 16 bytes are zero). At most 44 characters.
 *
 * Pseudonym: characters are drawn by rejection sampling over a keyed byte
 * stream, so there is no modulo bias at all. For an alphabet of n
 * characters a byte b is used only when b < 256 - (256 % n), and then
 * gives alphabet[b % n]. The stream is block 0 = the framed HMAC above,
 * block i > 0 = HMAC(key, frame("kakou-pseudonym-stream") || frame("") ||
 * frame(block0 || le32(i))): block 0 is a PRF output, so the later blocks
 * depend on (domain, issuer, value) only through it.
 *
 * Date shift: the first 8 HMAC bytes as a little-endian u64, modulo the
 * range size. The range is at most 2^32 days, so the bias is below 2^-32:
 * not worth a rejection loop.
 *
 * Invariant: the HMAC state (derived from the key) lives on the stack for
 * one call only and is wiped with sodium_memzero before every return;
 * the key bytes never leave the key's guarded memory (R09).
 *
 * IMPLEMENTATION-OF: R05 (keyed, domain-separated pseudonyms), R06 (stable
 * under one key), R08 (UID remapping).
 */
#include <string.h>

#include <sodium.h>

#include "core/core.h"
#include "crypto/key_internal.h"
#include "crypto/keyed.h"

#define STREAM_DOMAIN "kakou-pseudonym-stream"

static void frame(crypto_auth_hmacsha256_state *st, const void *p,
                  size_t len)
{
    unsigned char le[8];
    uint64_t n = (uint64_t)len;

    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)(n >> (8 * i));
    crypto_auth_hmacsha256_update(st, le, sizeof le);
    if (len)
        crypto_auth_hmacsha256_update(st, p, len);
}

void kk_keyed__hmac(const kk_key *key, const char *domain, const char *issuer,
                    const void *value, size_t len,
                    unsigned char out[KK_HMAC_BYTES])
{
    crypto_auth_hmacsha256_state st;

    /* The key was made by key.c, which already ran sodium_init(). */
    crypto_auth_hmacsha256_init(&st, kk_key__bytes(key), KK_KEY_BYTES);
    frame(&st, domain, strlen(domain));
    frame(&st, issuer ? issuer : "", issuer ? strlen(issuer) : 0);
    frame(&st, value, value ? len : 0);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

void kk_keyed__uid(const kk_key *key, const char *uid, char out[KK_UID_BUF])
{
    unsigned char h[KK_HMAC_BYTES];
    char digits[40]; /* 2^128 - 1 has 39 digits */
    size_t nd = 0, o;

    kk_keyed__hmac(key, "uid", NULL, uid, uid ? strlen(uid) : 0, h);
    /* Long division of the 16-byte big-endian number by 10: each pass
     * divides in place and yields the least significant digit. */
    for (;;) {
        unsigned rem = 0;
        int nonzero = 0;

        for (int i = 0; i < 16; i++) {
            unsigned cur = (rem << 8) | h[i];
            h[i] = (unsigned char)(cur / 10);
            rem = cur % 10;
            if (h[i])
                nonzero = 1;
        }
        digits[nd++] = (char)('0' + rem);
        if (!nonzero)
            break;
    }
    memcpy(out, "2.25.", 5);
    o = 5;
    while (nd > 0)
        out[o++] = digits[--nd];
    out[o] = '\0';
    sodium_memzero(h, sizeof h);
}

static int alphabet_ok(const char *a, size_t n)
{
    if (n < 2 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)a[i];
        if (c <= 0x20 || c >= 0x7f || c == '\\')
            return 0; /* printable ASCII, no VR delimiter */
        if (memchr(a + i + 1, a[i], n - i - 1))
            return 0; /* duplicates would bias the draw */
    }
    return 1;
}

kk_status kk_keyed__pseudonym(const kk_key *key, const char *domain,
                              const char *issuer, const void *value,
                              size_t len, const kk_pseudonym_format *fmt,
                              char *out, size_t outsz)
{
    unsigned char block0[KK_HMAC_BYTES], block[KK_HMAC_BYTES];
    unsigned char seed[KK_HMAC_BYTES + 4];
    size_t plen, n, o = 0, bi = 0;
    uint32_t counter = 0;
    unsigned limit;

    if (!key || !domain || !*domain || !fmt || !fmt->alphabet || !out)
        return KK_EINVAL;
    plen = fmt->prefix ? strlen(fmt->prefix) : 0;
    n = strlen(fmt->alphabet);
    if (fmt->length < 1 || fmt->length > 60 || !alphabet_ok(fmt->alphabet, n))
        return KK_EINVAL;
    if (outsz < plen + fmt->length + 1)
        return KK_EINVAL;
    limit = 256u - (256u % (unsigned)n);

    kk_keyed__hmac(key, domain, issuer, value, len, block0);
    memcpy(block, block0, sizeof block);
    if (plen)
        memcpy(out, fmt->prefix, plen);
    o = plen;
    while (o < plen + fmt->length) {
        if (bi == sizeof block) {
            /* Next block of the stream. */
            counter++;
            memcpy(seed, block0, sizeof block0);
            for (int i = 0; i < 4; i++)
                seed[KK_HMAC_BYTES + i] = (unsigned char)(counter >> (8 * i));
            kk_keyed__hmac(key, STREAM_DOMAIN, NULL, seed, sizeof seed,
                           block);
            bi = 0;
        }
        unsigned b = block[bi++];
        if (b < limit)
            out[o++] = fmt->alphabet[b % n];
    }
    out[o] = '\0';
    sodium_memzero(block0, sizeof block0);
    sodium_memzero(block, sizeof block);
    sodium_memzero(seed, sizeof seed);
    return KK_OK;
}

int kk_keyed__shift_days(const kk_key *key, const void *patient, size_t len,
                         int min_days, int max_days)
{
    unsigned char h[KK_HMAC_BYTES];
    uint64_t r = 0, range;
    int64_t lo = min_days, hi = max_days;

    if (lo > hi) {
        int64_t t = lo;
        lo = hi;
        hi = t;
    }
    range = (uint64_t)(hi - lo) + 1;
    kk_keyed__hmac(key, "date-shift", NULL, patient, len, h);
    for (int i = 0; i < 8; i++)
        r |= (uint64_t)h[i] << (8 * i);
    sodium_memzero(h, sizeof h);
    return (int)(lo + (int64_t)(r % range));
}
