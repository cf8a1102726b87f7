/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/crypto/digest.c - kk_key_digest(): a keyed digest for naming inputs
 * without revealing them (include/kakou/key.h). The domain is prefixed
 * with "digest/" so no digest can equal a pseudonym, UID or shift made
 * under the same key (R05).
 */
#include <stdio.h>
#include <string.h>

#include "crypto/keyed.h"

kk_status kk_key_digest(const kk_key *key, const char *domain, const void *data, size_t len,
                        unsigned char out[KK_KEY_DIGEST_BYTES])
{
    if (!key || !domain || !out || (!data && len))
        return KK_EINVAL;
    char dom[96];
    if (snprintf(dom, sizeof dom, "digest/%s", domain) >= (int)sizeof dom)
        return KK_EINVAL;
    kk_keyed__hmac(key, dom, NULL, data ? data : "", len, out);
    return KK_OK;
}
