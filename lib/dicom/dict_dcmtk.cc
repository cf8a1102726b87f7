/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/dicom/dict_dcmtk.cc - the data dictionary behind lib/dicom/dicom.h:
 * keyword and VR of a tag, tag of a keyword, and the compiled-in copy of
 * DCMTK's dictionary put into DCMTK.
 *
 * Debian's DCMTK has no built-in dictionary; by default each process
 * parses dicom.dic and private.dic, a quarter of a one-file run. The build
 * has DCMTK load them once and writes every entry out as a table
 * ($(BUILD)/gen/dcm_dict.inc, by scripts/gen_dcm_dict.cc), which lib/dict
 * compiles in and looks up in plain C (lib/dict/dict.h). When the global
 * dictionary holds nothing but DCMTK's skeleton after it is created (the
 * kakou command sets DCMDICTPATH=":", no file, when it is unset; a library
 * user may do the same), kk_dcm__dict_fill() adds the table's entries, so
 * DCMTK ends up with the same dictionary, built the same way, without
 * reading a file. A dictionary that has entries (a host application's, or
 * files named by the user's DCMDICTPATH) is left as it is. Adding the
 * entries takes a millisecond; lookups by tag or keyword answer from the
 * table meanwhile, so loading a profile need not wait for it.
 *
 * Invariants: (1) with the table in place, DCMTK's dictionary equals the
 * text one entry for entry, in the same order (tests/tools/dict_compare.cc);
 * (2) kk_dcm__tag_of_keyword() gives what DcmTag::findTagFromName() gives
 * for the keyword, or else for "RETIRED_" + keyword (a public retired
 * attribute also over a private namesake), whichever dictionary
 * is loaded: from lib/dict when the table is the dictionary, else from
 * an index built from the loaded dictionary (DCMTK itself would scan
 * every entry per lookup), where only a name with a comma, which DCMTK
 * may read as "gggg,eeee", goes to DCMTK; (3) names handed out point
 * into the dictionary's entries, which live as long as the process (the
 * table's strings are not copied: libkakou.so and kakou-pixel.so are
 * linked -z nodelete, so they are never unmapped).
 */
#include <stdint.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdict.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmdata/dcdicent.h"
#include "dcmtk/dcmdata/dctag.h"
#include "dcmtk/dcmdata/dcvr.h"

extern "C" {
#include "core/core.h"
#include "dicom/dicom.h"
#include "dict/dict.h"
}

static_assert(EVR_UNKNOWN2B < 256, "DcmEVR no longer fits the table's uint8_t");
static_assert(KK_DICT_RANGE_UNSPECIFIED == (int)DcmDictRange_Unspecified &&
                  KK_DICT_RANGE_ODD == (int)DcmDictRange_Odd &&
                  KK_DICT_RANGE_EVEN == (int)DcmDictRange_Even,
              "lib/dict's range restrictions are no longer DCMTK's");

/* set once, by kk_dcm__dict_create() inside kk_dcm__init_settings()'s
 * call_once: read after it only */
static bool builtin_in_use;

/* Add the table to dict. If memory runs out part way, the entries added
 * stay (each is complete, and DCMTK owns it). */
static void add_table(DcmDataDictionary &dict)
{
    size_t n, nnormal;
    const kk_dict_entry *table = kk_dict__entries(&n, &nnormal);
    for (size_t i = 0; i < n; i++) {
        const kk_dict_entry &t = table[i];
        DcmDictEntry *e = new (std::nothrow)
            DcmDictEntry(t.group, t.element, t.upper_group, t.upper_element,
                         DcmVR((DcmEVR)t.evr), kk_dict__string(t.name), t.vm_min, t.vm_max,
                         kk_dict__string(t.version), OFFalse /* strings are static */,
                         kk_dict__string(t.creator));
        if (!e)
            return;
        e->setGroupRangeRestriction((DcmDictRangeRestriction)t.group_range);
        e->setElementRangeRestriction((DcmDictRangeRestriction)t.element_range);
        dict.addEntry(e); /* DCMTK owns it now, even if this throws */
    }
}

void kk_dcm__dict_create(void)
{
    /* the first lock creates the dictionary: from DCMDICTPATH's files, or
     * from none (DCMDICTPATH=":" or /dev/null), or from the default path;
     * numberOfEntries() leaves the skeleton out (Item and friends) */
    const DcmDataDictionary &dict = dcmDataDict.rdlock();
    builtin_in_use = dict.numberOfEntries() <= 0;
    dcmDataDict.rdunlock();
}

void kk_dcm__dict_fill(void)
{
    if (!builtin_in_use)
        return;
    DcmDataDictionary &dict = dcmDataDict.wrlock();
    try {
        add_table(dict);
    } catch (...) {
        /* DCMTK's lists ran out of memory: the entries added stay, and
         * lookups still answer from the table */
    }
    dcmDataDict.wrunlock();
}

bool kk_dcm__dict_builtin(void)
{
    kk_dcm__init_settings();
    return builtin_in_use;
}

/* "xs", "ox" and friends are ambiguous: 0 for unknown */
static uint16_t plain_vr(DcmEVR evr)
{
    const char *n = DcmVR(evr).getVRName();
    if (n && strlen(n) == 2 && n[0] >= 'A' && n[0] <= 'Z' && n[1] >= 'A' && n[1] <= 'Z')
        return KK_VR(n[0], n[1]);
    return 0;
}

static const char *keyword_of_name(const char *name)
{
    if (name && strncmp(name, "RETIRED_", 8) == 0)
        name += 8; /* PS3.6 keywords have no prefix */
    return name ? name : "";
}

/* With the table as the dictionary, tag lookups answer from it without
 * DCMTK, so they need not wait for the table to be in DCMTK's
 * dictionary (kk_dcm__dict_fill(), which may be running on another
 * thread: kk_preload()). */
const char *kk_dcm__keyword(uint32_t tag)
{
    kk_dcm__init_settings();
    if (builtin_in_use)
        return kk_dict__keyword(tag);
    DcmTagKey key((Uint16)(tag >> 16), (Uint16)(tag & 0xffff));
    const DcmDataDictionary &dict = dcmDataDict.rdlock();
    const DcmDictEntry *ent = dict.findEntry(key, NULL);
    const char *name = ent ? ent->getTagName() : "";
    dcmDataDict.rdunlock();
    /* entries live as long as the process: the name may be kept */
    return keyword_of_name(name);
}

bool kk_dcm__uid_is_standard(const char *uid)
{
    return dcmFindNameOfUID(uid, NULL) != NULL;
}

uint16_t kk_dcm__dict_vr(uint32_t tag)
{
    kk_dcm__init_settings();
    if (builtin_in_use)
        return kk_dict__vr(tag);
    DcmTagKey key((Uint16)(tag >> 16), (Uint16)(tag & 0xffff));
    const DcmDataDictionary &dict = dcmDataDict.rdlock();
    const DcmDictEntry *ent = dict.findEntry(key, NULL);
    uint16_t vr = ent ? plain_vr(ent->getEVR()) : 0;
    dcmDataDict.rdunlock();
    return vr;
}

/* PS3.6 keywords name public attributes: where a private dictionary entry
 * shares the bare name of a retired public one (StudyComments is both
 * (0013,0026) and RETIRED_StudyComments (0032,4000)), the public one wins. */
static bool pick(bool found, uint32_t tag, bool found_retired, uint32_t retired, uint32_t *out)
{
    if (found && (!found_retired || !(KK_GROUP(tag) & 1)))
        *out = tag;
    else if (found_retired)
        *out = retired;
    return found || found_retired;
}

/* --- keywords of a dictionary that is not the table -------------------
 *
 * With the table, keywords come from its sorted index. A dictionary read
 * from files (a library user's default) has no index, and DCMTK's
 * findEntry(name) scans every entry: a profile of 700 keywords took 13 ms
 * to load. So the first lookup builds the index findEntry() implies: for
 * each name, the first public entry in hash order, else the first
 * repeating one, else the first private one. It is rebuilt when the
 * dictionary's entry counts change (a host that adds entries later). */

struct runtime_keyword {
    std::string name;
    uint32_t tag;
    int rank; /* 0 public, 1 repeating, 2 private: lower wins */
};

static std::mutex runtime_mu;
static std::vector<runtime_keyword> runtime_index; /* sorted by name */
static int runtime_normal = -1, runtime_repeating = -1;

static void add_runtime(std::vector<runtime_keyword> &v, const DcmDictEntry *e, int rank)
{
    const char *n = e ? e->getTagName() : NULL;
    if (n && *n)
        v.push_back({ n, KK_TAG(e->getGroup(), e->getElement()), rank });
}

/* Rebuild from dict (read-locked by the caller) if it changed. */
static void refresh_runtime_index(DcmDataDictionary &dict)
{
    int normal = dict.numberOfNormalTagEntries();
    int repeating = dict.numberOfRepeatingTagEntries();
    if (normal == runtime_normal && repeating == runtime_repeating)
        return;
    std::vector<runtime_keyword> v;
    v.reserve((size_t)normal + (size_t)repeating);
    for (DcmHashDictIterator it = dict.normalBegin(); it != dict.normalEnd(); ++it)
        add_runtime(v, *it, ((*it)->getGroup() & 1) ? 2 : 0);
    for (DcmDictEntryListIterator it = dict.repeatingBegin(); it != dict.repeatingEnd(); ++it)
        add_runtime(v, *it, 1);
    /* stable: among equal names and ranks, the first in DCMTK's order */
    std::stable_sort(v.begin(), v.end(), [](const runtime_keyword &a, const runtime_keyword &b) {
        int c = a.name.compare(b.name);
        return c != 0 ? c < 0 : a.rank < b.rank;
    });
    v.erase(std::unique(v.begin(), v.end(),
                        [](const runtime_keyword &a, const runtime_keyword &b) {
                            return a.name == b.name;
                        }),
            v.end());
    runtime_index.swap(v);
    runtime_normal = normal;
    runtime_repeating = repeating;
}

/* findEntry(name)'s answer for prefix + key, from the runtime index */
static bool runtime_lookup(const char *prefix, const char *key, uint32_t *tag)
{
    std::string name = std::string(prefix) + key;
    auto it = std::lower_bound(runtime_index.begin(), runtime_index.end(), name,
                               [](const runtime_keyword &a, const std::string &n) {
                                   return a.name < n;
                               });
    if (it == runtime_index.end() || it->name != name)
        return false;
    *tag = it->tag;
    return true;
}

kk_status kk_dcm__tag_of_keyword(const char *keyword, uint32_t *tag)
{
    kk_dcm__init_settings();
    bool bare = strncmp(keyword, "RETIRED_", 8) != 0;
    uint32_t t1 = 0, t2 = 0;
    bool f1 = false, f2 = false;
    /* A comma may make DCMTK read the name as "gggg,eeee" (sscanf): only
     * DCMTK's own lookup gives its answer then. An empty name is refused
     * by DCMTK, and then "RETIRED_" is looked up, which no entry is. */
    if (strchr(keyword, ',')) {
        kk_dcm__init(); /* DCMTK's lookup needs the whole dictionary */
        DcmTag t;
        f1 = DcmTag::findTagFromName(keyword, t).good();
        if (f1)
            t1 = KK_TAG(t.getGroup(), t.getElement());
        std::string r = std::string("RETIRED_") + keyword;
        f2 = bare && DcmTag::findTagFromName(r.c_str(), t).good();
        if (f2)
            t2 = KK_TAG(t.getGroup(), t.getElement());
    } else if (builtin_in_use) {
        return kk_dict__tag_of_keyword(keyword, tag);
    } else {
        try {
            std::lock_guard<std::mutex> g(runtime_mu);
            DcmDataDictionary &dict = const_cast<DcmDataDictionary &>(dcmDataDict.rdlock());
            try {
                refresh_runtime_index(dict);
            } catch (...) {
                dcmDataDict.rdunlock();
                throw;
            }
            dcmDataDict.rdunlock();
            f1 = *keyword && runtime_lookup("", keyword, &t1);
            f2 = bare && runtime_lookup("RETIRED_", keyword, &t2);
        } catch (...) {
            return KK_ENOMEM;
        }
    }
    return pick(f1, t1, f2, t2, tag) ? KK_OK : KK_ENOTFOUND;
}
