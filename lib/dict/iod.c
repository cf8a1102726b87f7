/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/dict/iod.c - the IOD Type (1, 1C, 2, 2C, 3) of an attribute in a
 * SOP Class, from the table compiled in out of
 * profiles/reference/iod_types.tsv ($(BUILD)/gen/iod_types.c, made by
 * scripts/gen_iod_types.sh). Plain C.
 */
#include <string.h>

#include "dict/dict.h"

/* --- IOD Types ------------------------------------------------------ */

struct kk_iod_class { const char *uid; uint32_t first, count; };
extern const uint64_t kk_iod_rows[];
extern const struct kk_iod_class kk_iod_classes[];
extern const size_t kk_iod_class_count;

int kk_dict__iod_type(const char *sop_class_uid, uint32_t tag)
{
    if (!sop_class_uid)
        return 3;
    /* repeating groups are listed under their first group */
    uint16_t g = KK_GROUP(tag);
    if (g >= 0x6000 && g <= 0x60FF && !(g & 1))
        tag = KK_TAG(0x6000, KK_ELEMENT(tag));
    else if (g >= 0x5000 && g <= 0x50FF && !(g & 1))
        tag = KK_TAG(0x5000, KK_ELEMENT(tag));
    size_t lo = 0, hi = kk_iod_class_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(kk_iod_classes[mid].uid, sop_class_uid);
        if (c == 0) {
            const uint64_t *rows = kk_iod_rows + kk_iod_classes[mid].first;
            size_t a = 0, z = kk_iod_classes[mid].count;
            while (a < z) {
                size_t m = (a + z) / 2;
                uint32_t t = (uint32_t)(rows[m] >> 4);
                if (t == tag)
                    return (int)(rows[m] & 0xf);
                if (t < tag)
                    a = m + 1;
                else
                    z = m;
            }
            return 3;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 3;
}
