/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/profile/profile_match.c - the lookups the engine makes on a loaded
 * profile (the rule for an attribute, adds, codes, parameters, pixel
 * rules), and the public getters. A loaded profile never changes, so
 * these only read.
 */
#include <stdlib.h>
#include <string.h>

#include "profile/profile_priv.h"

/* --- lookups -------------------------------------------------------- */

const kk_rule *kk_profile__match(const kk_profile *p, uint32_t tag, uint16_t vr,
                                 const char *creator, kk_match_level *level)
{
    kk_match_level dummy;
    if (!level)
        level = &dummy;
    const kk_rule *r = map_get(&p->exact, tag);
    if (r) {
        *level = KK_MATCH_EXACT;
        return r;
    }
    bool is_private = (KK_GROUP(tag) & 1) != 0;
    if (is_private && creator) {
        uint16_t g = KK_GROUP(tag);
        uint8_t low = (uint8_t)(tag & 0xff);
        for (int i = 0; i < p->npriv; i++)
            if (p->priv[i].group == g && p->priv[i].low == low &&
                strcmp(p->priv[i].creator, creator) == 0) {
                *level = KK_MATCH_PRIVATE;
                return p->priv[i].rule;
            }
    }
    for (int i = p->nmasks - 1; i >= 0; i--)
        if ((tag & p->masks[i].mask) == p->masks[i].tag &&
            /* repeating groups (50xx, 60xx) are even; odd ones are private */
            (!is_private || (p->masks[i].mask & 0x00010000u))) {
            *level = KK_MATCH_MASK;
            return p->masks[i].rule;
        }
    if (is_private && p->private_class) {
        *level = KK_MATCH_PRIVATE_CLASS;
        return p->private_class;
    }
    int vi = vr_index(vr);
    if (vi >= 0 && p->vr_rules[vi]) {
        *level = KK_MATCH_VR;
        return p->vr_rules[vi];
    }
    *level = KK_MATCH_DEFAULT;
    return &p->default_rule;
}

const char *kk_rule__arg(const kk_rule *r, const char *key)
{
    for (int i = 0; i < r->nargs; i++) {
        if (!key && !r->args[i].key)
            return r->args[i].value;
        if (key && r->args[i].key && strcmp(r->args[i].key, key) == 0)
            return r->args[i].value;
    }
    return NULL;
}

const kk_profile_add *kk_profile__adds(const kk_profile *p, int *n)
{
    *n = p->nadds;
    return p->adds;
}

const kk_profile_code *kk_profile__codes(const kk_profile *p, int *n)
{
    *n = p->ncodes;
    return p->codes;
}

const char *const *kk_profile__enabled(const kk_profile *p)
{
    return p->enabled_names;
}

const char *kk_profile__param(const kk_profile *p, const char *name, const char *def)
{
    for (int i = p->nparams - 2; i >= 0; i -= 2)
        if (strcmp(p->params[i], name) == 0)
            return p->params[i + 1];
    return def;
}

const char *const *kk_profile__params(const kk_profile *p, int *n)
{
    *n = p->nparams;
    return (const char *const *)p->params;
}

const kk_pixel_rule *kk_profile__pixel_rules(const kk_profile *p, int *n)
{
    *n = p->npixel_rules;
    return p->pixel_rules;
}

const char *const *kk_profile__pixel_allow(const kk_profile *p, int *n)
{
    static const char *const none[] = { NULL };
    *n = p->npixel_allow;
    return p->pixel_allow ? (const char *const *)p->pixel_allow : none;
}

bool kk_profile__uses(const kk_profile *p, kk_action a)
{
    return a < KK_ACTION__COUNT && p->uses[a];
}

const char *kk_profile_name(const kk_profile *p) { return p->name; }
const char *kk_profile_version(const kk_profile *p) { return p->version; }
const char *kk_profile_digest(const kk_profile *p) { return p->digest; }

int kk_profile_needs_key(const kk_profile *p)
{
    return p->uses[KK_ACTION_PSEUDONYM] || p->uses[KK_ACTION_SHIFT_DATE] ||
           strcmp(kk_profile__param(p, "key", "optional"), "required") == 0;
}

int kk_profile_forbids_key(const kk_profile *p)
{
    return strcmp(kk_profile__param(p, "key", "optional"), "ephemeral") == 0;
}

int kk_profile_needs_store(const kk_profile *p)
{
    return strcmp(kk_profile__param(p, "store", "optional"), "required") == 0;
}
