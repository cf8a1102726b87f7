/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/dict/sr_concepts.c - the Clean Structured Content Option (PS3.15
 * E.3.4): what to do with an SR content item, by its concept name, from
 * Table E.3.4-1 (compiled in from profiles/reference/sr_clean_concepts.tsv
 * by scripts/gen_sr_concepts.sh). Plain C; lib/deid asks it.
 * Retired codes are listed and matched too (E.3.4 Note 3).
 */
#include <string.h>

#include "dict/sr_concepts.h"

struct kk_sr_concept { const char *scheme, *value, *value_type, *basic; const char *opt[7]; };
extern const struct kk_sr_concept kk_sr_concepts[];

/* The option columns of the table, in order. */
static const char *const columns[7] = {
    "retain-uids", "retain-device-identity", "retain-institution-identity",
    "retain-patient-characteristics", "retain-longitudinal-full-dates",
    "retain-longitudinal-modified-dates", "clean-descriptors"
};

static bool enabled(const char *const *on, const char *name)
{
    for (int i = 0; on && on[i]; i++)
        if (strcmp(on[i], name) == 0)
            return true;
    return false;
}

const char *kk_dict__sr_concept_action(const char *scheme, const char *value,
                                      const char *value_type, const char *const *on)
{
    const struct kk_sr_concept *hit = NULL;
    for (int i = 0; kk_sr_concepts[i].scheme; i++) {
        const struct kk_sr_concept *c = &kk_sr_concepts[i];
        if (strcmp(c->scheme, scheme) != 0 || strcmp(c->value, value) != 0)
            continue;
        if (!hit || (value_type && strcmp(c->value_type, value_type) == 0))
            hit = c;
    }
    if (!hit)
        return NULL;
    /* as for Table E.1-1: an option's cell overrides the Basic action, and
     * clean beats keep */
    const char *a = hit->basic;
    for (int k = 0; k < 7; k++)
        if (hit->opt[k][0] == 'K' && enabled(on, columns[k]))
            a = "K";
    for (int k = 0; k < 7; k++)
        if (hit->opt[k][0] == 'C' && enabled(on, columns[k]))
            a = "C";
    return a;
}
