/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/dict/dict.c - lookups in the compiled-in data dictionary (dict.h).
 * Plain C over a table made at build time from DCMTK's own load of its
 * text dictionary; nothing here calls DCMTK.
 *
 * Invariants: (1) kk_dict__keyword() and kk_dict__vr() give what
 * DcmDataDictionary::findEntry(tag, NULL) gives with the table as the
 * dictionary: the normal entry with that tag and no private creator, else
 * the first repeating entry without one whose ranges hold the tag;
 * (2) kk_dict__tag_of_keyword() gives what DcmTag::findTagFromName() gives
 * for the keyword, else for "RETIRED_" + keyword, with a public entry over
 * a private namesake (tests/unit/check_dict.c, tests/tools/dict_compare.cc);
 * (3) names handed out point into the static table.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "dict/dict.h"

typedef struct kk_dict_keyword {
    uint32_t name;
    uint32_t tag;
} kk_dict_keyword;

#include "dcm_dict.inc"

const kk_dict_entry *kk_dict__entries(size_t *n, size_t *nnormal)
{
    *n = KK_DICT_NORMAL + KK_DICT_REPEATING;
    *nnormal = KK_DICT_NORMAL;
    return kk_dict_entries;
}

const char *kk_dict__string(uint32_t off)
{
    return off == KK_DICT_NONE ? NULL : kk_dict_strings + off;
}

/* findEntry(tag, NULL): invariant (1) */
static const kk_dict_entry *entry_of(uint32_t tag)
{
    size_t lo = 0, hi = KK_DICT_BY_TAG;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const kk_dict_entry *e = &kk_dict_entries[kk_dict_by_tag[mid]];
        uint32_t t = KK_TAG(e->group, e->element);
        if (t == tag)
            return e;
        if (t < tag)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint16_t g = KK_GROUP(tag), el = KK_ELEMENT(tag);
    for (size_t i = KK_DICT_NORMAL; i < KK_DICT_NORMAL + KK_DICT_REPEATING; i++) {
        const kk_dict_entry *e = &kk_dict_entries[i];
        if (e->creator != KK_DICT_NONE ||
            (e->group_range == KK_DICT_RANGE_EVEN && (g & 1)) ||
            (e->group_range == KK_DICT_RANGE_ODD && !(g & 1)) ||
            (e->element_range == KK_DICT_RANGE_EVEN && (el & 1)) ||
            (e->element_range == KK_DICT_RANGE_ODD && !(el & 1)))
            continue;
        if (e->group <= g && g <= e->upper_group && e->element <= el && el <= e->upper_element)
            return e;
    }
    return NULL;
}

const char *kk_dict__keyword(uint32_t tag)
{
    const kk_dict_entry *e = entry_of(tag);
    const char *name = e ? kk_dict__string(e->name) : NULL;
    if (name && strncmp(name, "RETIRED_", 8) == 0)
        name += 8; /* PS3.6 keywords have no prefix */
    return name ? name : "";
}

uint16_t kk_dict__vr(uint32_t tag)
{
    const kk_dict_entry *e = entry_of(tag);
    return e ? e->vr : 0;
}

/* strcmp(prefix followed by key, name), without building the string */
static int compare_joined(const char *prefix, const char *key, const char *name)
{
    for (; *prefix; prefix++, name++)
        if (*prefix != *name)
            return (unsigned char)*prefix - (unsigned char)*name;
    return strcmp(key, name);
}

/* findEntry(prefix + key) by binary search over the sorted names */
static bool name_lookup(const char *prefix, const char *key, uint32_t *tag)
{
    size_t lo = 0, hi = KK_DICT_KEYWORDS;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = compare_joined(prefix, key, kk_dict_strings + kk_dict_keywords[mid].name);
        if (c == 0) {
            *tag = kk_dict_keywords[mid].tag;
            return true;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return false;
}

/* DcmTag::findTagFromName(): an empty name is refused; a name that
 * sscanf reads as "%x,%x" is that tag; else the dictionary's entry */
static bool find_tag_from_name(const char *prefix, const char *key, uint32_t *tag)
{
    if (!*prefix && !*key)
        return false;
    if (!*prefix && strchr(key, ',')) {
        unsigned int g = 0xffff, e = 0xffff;
        if (sscanf(key, "%x,%x", &g, &e) == 2) {
            *tag = KK_TAG((uint16_t)g, (uint16_t)e);
            return true;
        }
    }
    return name_lookup(prefix, key, tag);
}

kk_status kk_dict__tag_of_keyword(const char *keyword, uint32_t *tag)
{
    bool bare = strncmp(keyword, "RETIRED_", 8) != 0;
    uint32_t t1 = 0, t2 = 0;
    /* DCMTK spells retired keywords RETIRED_X; PS3.6 spells them X */
    bool f1 = find_tag_from_name("", keyword, &t1);
    bool f2 = bare && find_tag_from_name("RETIRED_", keyword, &t2);
    /* PS3.6 keywords name public attributes: where a private entry shares
     * the bare name of a retired public one (StudyComments is both
     * (0013,0026) and RETIRED_StudyComments (0032,4000)), the public one
     * wins */
    if (f1 && (!f2 || !(KK_GROUP(t1) & 1)))
        *tag = t1;
    else if (f2)
        *tag = t2;
    return f1 || f2 ? KK_OK : KK_ENOTFOUND;
}
