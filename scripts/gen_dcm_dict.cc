/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scripts/gen_dcm_dict.cc - write DCMTK's data dictionary out as a C
 * table, for lib/dict/dict.c to compile in (the Makefile builds and runs
 * this at build time). The table is plain C, so lib/dict needs no DCMTK;
 * lib/dicom/dict_dcmtk.cc hands it to DCMTK.
 *
 * Debian's DCMTK has no built-in dictionary: every process that touches
 * DCMTK parses dicom.dic and private.dic (about 8,000 lines, with sscanf)
 * before it can do anything. This program lets DCMTK itself do that parse
 * once, at build time, from its default path (DCM_DICT_DEFAULT_PATH; a
 * DCMDICTPATH in the build's environment is ignored), and writes out every
 * entry it ends up with, all fields, so that the table is exactly what
 * DCMTK would have loaded. It holds no knowledge of the file format.
 *
 * Usage: gen_dcm_dict TARGET DEPFILE > TARGET.tmp
 *   TARGET   the name of the output, for DEPFILE (a make rule naming the
 *            dictionary files read, so a new dictionary regenerates it)
 *
 * The output defines, for lib/dict/dict.c (lib/dict/dict.h defines the
 * type kk_dict_entry, dict.c kk_dict_keyword):
 *   kk_dict_strings[]   every string, NUL-separated; entries hold offsets
 *                       (no pointers: the table needs no relocation)
 *   kk_dict_entries[]   the entries, in an order that rebuilds DCMTK's
 *                       structures exactly when added one by one with
 *                       DcmDataDictionary::addEntry (see order below)
 *   kk_dict_keywords[]  each distinct tag name and the tag DCMTK's
 *                       findEntry(name) gives for it, sorted by name
 *                       (strcmp), for a binary search
 *   kk_dict_by_tag[]    the normal entries without a private creator,
 *                       as indices into kk_dict_entries sorted by tag,
 *                       for findEntry(tag, NULL) by binary search
 *
 * Order. Normal entries come in the reverse of DCMTK's iteration order:
 * within a hash bucket, entries with the same tag and different private
 * creators are kept newest first (DcmDictEntryList::insertAndReplace puts
 * a newcomer in front of the first entry with its tag), so adding them
 * oldest first gives the same list, and findEntry(name), which takes the
 * first match in iteration order, the same answer. Repeating entries come
 * in list order (subsets before supersets, as addEntry keeps them).
 * tests/tools/dict_compare.cc checks the result entry for entry.
 */
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdict.h"
#include "dcmtk/dcmdata/dcdicent.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmdata/dcvr.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

static std::string pool;                         /* all strings, NUL-separated */
static std::map<std::string, unsigned long> offsets;

/* offset of s in the pool (added once), or "KK_DICT_NONE" for NULL */
static std::string offset_of(const char *s)
{
    if (!s)
        return "KK_DICT_NONE";
    auto it = offsets.find(s);
    if (it == offsets.end()) {
        it = offsets.emplace(s, pool.size()).first;
        pool += s;
        pool += '\0';
    }
    return std::to_string(it->second);
}

/* s as the inside of a C string literal: printable ASCII as is, the rest
 * (and " and \) as three-digit octal escapes, which cannot run on */
static std::string quoted(const std::string &s)
{
    std::string out;
    char buf[8];
    for (unsigned char c : s) {
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '?') {
            out += (char)c;
        } else {
            snprintf(buf, sizeof buf, "\\%03o", c);
            out += buf;
        }
    }
    return out;
}

/* s for a comment: letters, digits and _ only */
static std::string comment(const char *s)
{
    std::string out;
    for (; s && *s; s++)
        out += (isalnum((unsigned char)*s) || *s == '_') ? *s : '_';
    return out;
}

/* lib/dict/dict.h's names for DCMTK's values (dict_dcmtk.cc checks
 * that they are equal) */
static const char *restriction(DcmDictRangeRestriction r)
{
    switch (r) {
    case DcmDictRange_Unspecified: return "KK_DICT_RANGE_UNSPECIFIED";
    case DcmDictRange_Odd: return "KK_DICT_RANGE_ODD";
    case DcmDictRange_Even: return "KK_DICT_RANGE_EVEN";
    }
    return NULL;
}

/* the VR as lib/dict packs it (KK_VR), for a name of two capitals; 0 for
 * DCMTK's internal ones ("xs", "ox", ...), which name no single VR */
static std::string plain_vr(DcmEVR evr)
{
    const char *n = DcmVR(evr).getVRName();
    if (n && strlen(n) == 2 && n[0] >= 'A' && n[0] <= 'Z' && n[1] >= 'A' && n[1] <= 'Z') {
        char buf[32];
        snprintf(buf, sizeof buf, "0x%02X%02X", (unsigned)n[0], (unsigned)n[1]);
        return buf;
    }
    return "0";
}

/* EVR_PN and friends: the enumerator is EVR_ followed by the VR's name,
 * which must name the same VR again (checked, so a DCMTK that breaks the
 * rule fails the build here rather than loading a wrong table) */
static std::string evr_name(DcmEVR evr)
{
    DcmVR vr(evr);
    const char *n = vr.getVRName();
    if (!n || DcmVR(n).getEVR() != evr)
        return "";
    return std::string("EVR_") + n;
}

static bool emit_entry(std::string &out, const DcmDictEntry *e)
{
    std::string evr = evr_name(e->getEVR());
    const char *grr = restriction(e->getGroupRangeRestriction());
    const char *err = restriction(e->getElementRangeRestriction());
    if (evr.empty() || !grr || !err) {
        fprintf(stderr, "gen_dcm_dict: (%04X,%04X) %s: VR or range restriction not known\n",
                e->getGroup(), e->getElement(), e->getTagName() ? e->getTagName() : "");
        return false;
    }
    char head[64];
    snprintf(head, sizeof head, "    { 0x%04X, 0x%04X, 0x%04X, 0x%04X, ", e->getGroup(),
             e->getElement(), e->getUpperGroup(), e->getUpperElement());
    out += head;
    /* the DcmEVR as a number (C knows no DcmEVR), named in a comment */
    out += std::string(grr) + ", " + err + ", " + std::to_string((int)e->getEVR()) + " /* " +
           evr + " */, " + plain_vr(e->getEVR()) + ", ";
    out += std::to_string(e->getVMMin()) + ", " + std::to_string(e->getVMMax()) + ", ";
    /* one at a time: the pool's order must not depend on the compiler's
     * order of evaluation */
    std::string name = offset_of(e->getTagName());
    std::string version = offset_of(e->getStandardVersion());
    std::string creator = offset_of(e->getPrivateCreator());
    out += name + ", " + version + ", " + creator + " },";
    out += " /* " + comment(e->getTagName()) + " */\n";
    return true;
}

/* the files DCMTK read: DCM_DICT_DEFAULT_PATH, split as DCMTK splits it */
static std::vector<std::string> dictionary_files(void)
{
    std::vector<std::string> files;
    std::string path = DCM_DICT_DEFAULT_PATH, cur;
    for (char c : path + ENVIRONMENT_PATH_SEPARATOR) {
        if (c == ENVIRONMENT_PATH_SEPARATOR) {
            if (!cur.empty())
                files.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    return files;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: gen_dcm_dict TARGET DEPFILE > TARGET.tmp\n");
        return 2;
    }
    /* what DCMTK loads by default, whatever this shell has set */
    unsetenv(DCM_DICT_ENVIRONMENT_VARIABLE);
    DcmDataDictionary dict(OFFalse /* no built-in */, OFTrue /* external */);
    if (!dict.isDictionaryLoaded() || dict.numberOfEntries() <= 0) {
        fprintf(stderr, "gen_dcm_dict: DCMTK loaded no data dictionary from '%s' "
                "(is the libdcmtk17 package complete?)\n", DCM_DICT_DEFAULT_PATH);
        return 1;
    }

    std::vector<const DcmDictEntry *> normal, repeating;
    for (DcmHashDictIterator it = dict.normalBegin(); it != dict.normalEnd(); ++it)
        normal.push_back(*it);
    std::reverse(normal.begin(), normal.end()); /* oldest first: see the top */
    for (DcmDictEntryListIterator it = dict.repeatingBegin(); it != dict.repeatingEnd(); ++it)
        repeating.push_back(*it);

    std::string entries;
    std::set<std::string> names;
    for (auto *list : { &normal, &repeating }) {
        for (const DcmDictEntry *e : *list) {
            if (!emit_entry(entries, e))
                return 1;
            if (e->getTagName() && e->getTagName()[0])
                names.insert(e->getTagName());
        }
    }

    /* what DcmTag::findTagFromName answers for each name (std::set keeps
     * them in strcmp order, the order of the binary search) */
    std::string keywords;
    for (const std::string &n : names) {
        const DcmDictEntry *e = dict.findEntry(n.c_str());
        if (!e) {
            fprintf(stderr, "gen_dcm_dict: DCMTK cannot find its own name %s\n", n.c_str());
            return 1;
        }
        char line[64];
        snprintf(line, sizeof line, "    { %s, 0x%04X%04Xu },", offset_of(n.c_str()).c_str(),
                 e->getGroup(), e->getElement());
        keywords += line;
        keywords += " /* " + comment(n.c_str()) + " */\n";
    }

    /* normal entries without a private creator, by tag: what
     * findEntry(tag, NULL) looks up before the repeating list */
    std::vector<std::pair<unsigned long, size_t>> by_tag;
    for (size_t i = 0; i < normal.size(); i++)
        if (!normal[i]->getPrivateCreator())
            by_tag.push_back({ (unsigned long)normal[i]->getGroup() << 16 | normal[i]->getElement(), i });
    std::sort(by_tag.begin(), by_tag.end());
    std::string tags;
    for (size_t i = 0; i < by_tag.size(); i++) {
        if (i && by_tag[i].first == by_tag[i - 1].first) {
            fprintf(stderr, "gen_dcm_dict: two entries for tag %08lX without a creator\n",
                    by_tag[i].first);
            return 1;
        }
        tags += "    " + std::to_string(by_tag[i].second) + ",\n";
    }

    printf("/* Generated by scripts/gen_dcm_dict.cc from DCMTK %s's data dictionary\n"
           " * (%s); do not edit. */\n", OFFIS_DCMTK_VERSION_STRING, DCM_DICT_DEFAULT_PATH);
    printf("#define KK_DICT_DCMTK_VERSION \"%s\"\n", OFFIS_DCMTK_VERSION_STRING);
    printf("#define KK_DICT_SOURCE \"%s\"\n", DCM_DICT_DEFAULT_PATH);
    printf("#define KK_DICT_NORMAL %zu\n#define KK_DICT_REPEATING %zu\n", normal.size(),
           repeating.size());
    printf("#define KK_DICT_KEYWORDS %zu\n", names.size());
    printf("#define KK_DICT_BY_TAG %zu\n\n", by_tag.size());
    printf("static const char kk_dict_strings[] =\n");
    for (size_t i = 0; i < pool.size();) {
        size_t n = strlen(pool.c_str() + i);
        printf("    \"%s\\0\"\n", quoted(pool.substr(i, n)).c_str());
        i += n + 1;
    }
    printf("    ;\n\n");
    printf("/* group, element, upper group, upper element, group and element range\n"
           " * restrictions, DcmEVR, VR (KK_VR, 0: not a plain VR), VM min, VM max\n"
           " * (-1: n), name, standard version, private creator (offsets into\n"
           " * kk_dict_strings) */\n");
    printf("static const kk_dict_entry kk_dict_entries[KK_DICT_NORMAL + KK_DICT_REPEATING] = {\n%s};\n\n",
           entries.c_str());
    printf("/* name, tag: sorted by name */\n");
    printf("static const kk_dict_keyword kk_dict_keywords[KK_DICT_KEYWORDS] = {\n%s};\n\n",
           keywords.c_str());
    printf("/* indices into kk_dict_entries of the normal entries without a private\n"
           " * creator, sorted by tag */\n");
    printf("static const uint16_t kk_dict_by_tag[KK_DICT_BY_TAG] = {\n%s};\n", tags.c_str());
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "gen_dcm_dict: cannot write the table\n");
        return 1;
    }

    FILE *dep = fopen(argv[2], "w");
    if (!dep) {
        fprintf(stderr, "gen_dcm_dict: cannot write '%s'\n", argv[2]);
        return 1;
    }
    std::vector<std::string> files = dictionary_files();
    fprintf(dep, "%s:", argv[1]);
    for (auto &f : files)
        fprintf(dep, " %s", f.c_str());
    fprintf(dep, "\n");
    for (auto &f : files)
        fprintf(dep, "%s:\n", f.c_str());
    if (fclose(dep) != 0) {
        fprintf(stderr, "gen_dcm_dict: cannot write '%s'\n", argv[2]);
        return 1;
    }
    return 0;
}
