/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/profile/profile_compile.c - the rules as read, with the options
 * settled, into the lookup tables profile_match.c reads: exact tags in a
 * hash map, private tags by group, low byte and creator, masks, VR rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile_priv.h"

/* --- compiling ------------------------------------------------------ */

/* The slot of a table of indexes into p->priv (a power of two, -1 for
 * empty) for the group, low byte and creator of r: the safe private list
 * has hundreds of entries, too many to search one by one. */
static int *priv_slot(const kk_profile *p, int *slots, size_t nslots, const raw_rule *r)
{
    uint64_t h = (uint64_t)r->group << 8 | r->low;
    h = kk__fnv1a(h, r->creator, strlen(r->creator));
    size_t j = hash64(h) & (nslots - 1);
    while (slots[j] >= 0) {
        const priv_rule *e = &p->priv[slots[j]];
        if (e->group == r->group && e->low == r->low && strcmp(e->creator, r->creator) == 0)
            break;
        j = (j + 1) & (nslots - 1);
    }
    return &slots[j];
}

kk_status kk_profile__compile(kk_profile *p, kk_ctx *ctx)
{
    p->default_rule.action = p->default_action;
    p->default_rule.origin = p->default_origin ? p->default_origin : "default";
    p->default_rule.selector = "default";
    p->default_rule.code = kk_action_name(p->default_action);
    p->uses[p->default_action] = true;
    size_t npriv = 0, nmasks = 0, nslots = 16;
    for (int i = 0; i < p->nraw; i++) {
        npriv += p->raw[i].kind == SEL_PRIVATE;
        nmasks += p->raw[i].kind == SEL_MASK;
    }
    while (nslots < 2 * npriv)
        nslots *= 2;
    int *slots = kk__malloc(nslots * sizeof *slots);
    p->priv = kk__calloc(npriv + 1, sizeof *p->priv);
    p->masks = kk__calloc(nmasks + 1, sizeof *p->masks);
    if (!slots || !p->priv || !p->masks) {
        free(slots);
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    }
    memset(slots, 0xff, nslots * sizeof *slots);
    for (int i = 0; i < p->nraw; i++) {
        raw_rule *r = &p->raw[i];
        if (!holds(p, r->when_on, r->when_off))
            continue;
        const kk_rule *rule = &r->rule;
        p->uses[rule->action] = true;
        if (rule->compound == KK_COMPOUND_XZU)
            p->uses[KK_ACTION_UID] = true;
        if (rule->compound == KK_COMPOUND_XD || rule->compound == KK_COMPOUND_XZD ||
            rule->compound == KK_COMPOUND_ZD)
            p->uses[KK_ACTION_DUMMY] = true;
        switch (r->kind) {
        case SEL_TAG:
            if (!map_put(&p->exact, r->tag, rule)) {
                free(slots);
                return kk__fail(ctx, KK_ENOMEM, "out of memory");
            }
            break;
        case SEL_PRIVATE: {
            int *slot = priv_slot(p, slots, nslots, r);
            if (*slot < 0)
                *slot = p->npriv++;
            priv_rule *e = &p->priv[*slot];
            e->group = r->group;
            e->low = r->low;
            e->creator = r->creator;
            e->rule = rule;
            break;
        }
        case SEL_MASK: {
            int j;
            for (j = 0; j < p->nmasks; j++)
                if (p->masks[j].tag == r->tag && p->masks[j].mask == r->mask)
                    break;
            p->masks[j].tag = r->tag;
            p->masks[j].mask = r->mask;
            p->masks[j].rule = rule;
            if (j == p->nmasks)
                p->nmasks++;
            break;
        }
        case SEL_PRIVATE_CLASS:
            p->private_class = rule;
            break;
        case SEL_VR:
            for (int k = 0; k < r->nvrs; k++) {
                int vi = vr_index(r->vrs[k]);
                if (vi >= 0)
                    p->vr_rules[vi] = rule;
            }
            break;
        }
    }
    free(slots);
    p->pixel_rules = kk__calloc((size_t)p->nraw_pixels + 1, sizeof *p->pixel_rules);
    if (!p->pixel_rules)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    for (int i = 0; i < p->nraw_pixels; i++)
        if (holds(p, p->raw_pixels[i].when_on, p->raw_pixels[i].when_off))
            p->pixel_rules[p->npixel_rules++] = p->raw_pixels[i].rule;
    /* adds: the last one for a tag wins */
    p->adds = kk__calloc((size_t)p->nraw_adds + 1, sizeof *p->adds);
    if (!p->adds)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    for (int i = 0; i < p->nraw_adds; i++) {
        raw_add *a = &p->raw_adds[i];
        if (!holds(p, a->when_on, a->when_off))
            continue;
        int j;
        for (j = 0; j < p->nadds; j++)
            if (p->adds[j].tag == a->tag)
                break;
        p->adds[j].tag = a->tag;
        p->adds[j].value = a->value;
        if (j == p->nadds)
            p->nadds++;
    }
    p->codes = kk__calloc((size_t)p->noptions + 2, sizeof *p->codes);
    p->enabled_names = kk__calloc((size_t)p->noptions + 1, sizeof *p->enabled_names);
    if (!p->codes || !p->enabled_names)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    if (p->has_code)
        p->codes[p->ncodes++] = p->own_code;
    int ne = 0;
    for (int i = 0; i < p->noptions; i++) {
        if (!(p->enabled & (1ULL << i)))
            continue;
        p->enabled_names[ne++] = p->options[i].name;
        if (p->options[i].code) {
            p->codes[p->ncodes].value = p->options[i].code;
            p->codes[p->ncodes].meaning = p->options[i].meaning ? p->options[i].meaning : p->options[i].name;
            p->ncodes++;
        }
    }
    return KK_OK;
}
