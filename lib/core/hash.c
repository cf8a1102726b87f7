/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/core/hash.c - the one FNV-1a every hash table of the library uses:
 * a hash to place a key in a table, never a digest (crypto/ has those).
 */
#include "core/core.h"

uint64_t kk__fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    return h;
}
