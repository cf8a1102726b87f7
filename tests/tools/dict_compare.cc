/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/tools/dict_compare.cc - proves the compiled-in data dictionary
 * (lib/dicom/dict_dcmtk.cc) is the one DCMTK loads from its text files.
 * Run by tests/e2e/t0700-dict-builtin.sh.
 *
 *   dict_compare             load the text dictionary the way DCMTK does
 *                            by default (DCMDICTPATH unset) into a private
 *                            DcmDataDictionary; then start libkakou with
 *                            DCMDICTPATH=/dev/null, so that DCMTK's global
 *                            dictionary is the compiled-in one, and compare
 *                            the two: the normal entries in hash iteration
 *                            order and the repeating ones in list order,
 *                            every field of every entry. Then check, for
 *                            every tag name, that kk_dcm__tag_of_keyword()
 *                            and lib/dict's kk_dict__tag_of_keyword() give
 *                            the tag DCMTK's findEntry(name) gives in the
 *                            text dictionary. Exit 0 if all agree.
 *   dict_compare --keywords  print "keyword<TAB>tag or -" for every name
 *                            of the text dictionary, the same without its
 *                            RETIRED_ prefix, and a few probes, through
 *                            kk_dcm__tag_of_keyword() with the environment
 *                            as given; and "builtin 0|1" first. Two runs,
 *                            one with DCMDICTPATH naming the text files (the
 *                            code of before: DCMTK's findTagFromName) and
 *                            one without, must print the same lookups.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <set>
#include <string>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdict.h"
#include "dcmtk/dcmdata/dcdicent.h"
#include "dcmtk/dcmdata/dctag.h"
#include "dcmtk/dcmdata/dcvr.h"

#include "dicom/dicom.h"
#include "dict/dict.h"

static int failures;

#define FAIL(...)                                                                   \
    do {                                                                            \
        if (failures++ < 20) {                                                      \
            fprintf(stderr, "dict_compare: " __VA_ARGS__);                          \
            fputc('\n', stderr);                                                    \
        }                                                                           \
    } while (0)

static bool same_string(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static const char *show(const char *s)
{
    return s ? s : "(null)";
}

static void compare_entry(const char *what, size_t i, const DcmDictEntry *t, const DcmDictEntry *b)
{
    if (t->getGroup() != b->getGroup() || t->getElement() != b->getElement() ||
        t->getUpperGroup() != b->getUpperGroup() || t->getUpperElement() != b->getUpperElement() ||
        t->getGroupRangeRestriction() != b->getGroupRangeRestriction() ||
        t->getElementRangeRestriction() != b->getElementRangeRestriction() ||
        t->getEVR() != b->getEVR() || t->getVMMin() != b->getVMMin() ||
        t->getVMMax() != b->getVMMax() || !same_string(t->getTagName(), b->getTagName()) ||
        !same_string(t->getStandardVersion(), b->getStandardVersion()) ||
        !same_string(t->getPrivateCreator(), b->getPrivateCreator()))
        FAIL("%s entry %zu differs: text (%04X-%04X,%04X-%04X) %d %d VR %d VM %d-%d %s %s %s; "
             "compiled-in (%04X-%04X,%04X-%04X) %d %d VR %d VM %d-%d %s %s %s", what, i,
             t->getGroup(), t->getUpperGroup(), t->getElement(), t->getUpperElement(),
             (int)t->getGroupRangeRestriction(), (int)t->getElementRangeRestriction(),
             (int)t->getEVR(), t->getVMMin(), t->getVMMax(), show(t->getTagName()),
             show(t->getStandardVersion()), show(t->getPrivateCreator()), b->getGroup(),
             b->getUpperGroup(), b->getElement(), b->getUpperElement(),
             (int)b->getGroupRangeRestriction(), (int)b->getElementRangeRestriction(),
             (int)b->getEVR(), b->getVMMin(), b->getVMMax(), show(b->getTagName()),
             show(b->getStandardVersion()), show(b->getPrivateCreator()));
}

/* every tag name of the text dictionary DCMTK loads by default */
static void text_names(DcmDataDictionary &text, std::set<std::string> &names)
{
    for (DcmHashDictIterator it = text.normalBegin(); it != text.normalEnd(); ++it)
        names.insert((*it)->getTagName());
    for (DcmDictEntryListIterator it = text.repeatingBegin(); it != text.repeatingEnd(); ++it)
        names.insert((*it)->getTagName());
}

/* kk_dcm__tag_of_keyword()'s answer computed with DCMTK's own lookup (a
 * scan of the global dictionary): the keyword, or else RETIRED_ + it, a
 * public retired attribute winning over a private namesake */
static bool before(const std::string &kw, uint32_t *tag)
{
    DcmTag t;
    bool bare = kw.compare(0, 8, "RETIRED_") != 0;
    bool f1 = DcmTag::findTagFromName(kw.c_str(), t).good();
    uint32_t t1 = f1 ? ((uint32_t)t.getGroup() << 16 | t.getElement()) : 0;
    std::string r = "RETIRED_" + kw;
    bool f2 = bare && DcmTag::findTagFromName(r.c_str(), t).good();
    uint32_t t2 = f2 ? ((uint32_t)t.getGroup() << 16 | t.getElement()) : 0;
    if (f1 && (!f2 || !((t1 >> 16) & 1)))
        *tag = t1;
    else if (f2)
        *tag = t2;
    return f1 || f2;
}

/* An entry a host adds after kakou's first lookup is found too. */
static bool added_later_found(void)
{
    DcmDataDictionary &d = dcmDataDict.wrlock();
    d.addEntry(new DcmDictEntry(0x7fe1, 0x0099, DcmVR(EVR_LO), "KakouAddedLater", 1, 1, "private",
                                OFTrue, NULL));
    dcmDataDict.wrunlock();
    uint32_t tag = 0;
    if (kk_dcm__tag_of_keyword("KakouAddedLater", &tag) == KK_OK && tag == 0x7fe10099)
        return true;
    fprintf(stderr, "dict_compare: an entry added after the first lookup is not found\n");
    return false;
}

static int print_keywords(DcmDataDictionary &text)
{
    std::set<std::string> names;
    text_names(text, names);
    std::set<std::string> probes = names;
    for (const std::string &n : names)
        if (n.compare(0, 8, "RETIRED_") == 0)
            probes.insert(n.substr(8));
    for (const char *p : { "", "RETIRED_", "NoSuchKeyword", "RETIRED_NoSuchKeyword",
                           "RETIRED_PatientName", "patientname", "PatientName ", "0010,0010",
                           "10,20", "PatientName,", "Item", "GenericGroupLength" })
        probes.insert(p);
    bool builtin = kk_dcm__dict_builtin();
    printf("builtin %d\n", builtin ? 1 : 0);
    int wrong = 0;
    for (const std::string &p : probes) {
        uint32_t tag = 0;
        bool found = kk_dcm__tag_of_keyword(p.c_str(), &tag) == KK_OK;
        if (found)
            printf("%s\t%08X\n", p.c_str(), tag);
        else
            printf("%s\t-\n", p.c_str());
        /* a dictionary from files is looked up through kakou's own index:
         * it must answer what DCMTK's scan of that dictionary answers */
        uint32_t want = 0;
        if (!builtin) {
            bool had = before(p, &want);
            if ((had != found || (found && want != tag)) && wrong++ < 5)
                fprintf(stderr, "dict_compare: '%s': index %08X (%s), DCMTK %08X (%s)\n",
                        p.c_str(), tag, found ? "found" : "not found", want,
                        had ? "found" : "not found");
        }
    }
    if (!builtin && !added_later_found())
        wrong++;
    return ferror(stdout) || wrong ? 1 : 0;
}

/* tag -> keyword and VR: kakou answers from the table, without DCMTK;
 * it must answer what DCMTK's findEntry(tag, NULL) answers in the text
 * dictionary, for every tag an entry names, the corners and the middle
 * of every range, and tags drawn at random. Returns the tags checked. */
static size_t compare_tag_lookups(DcmDataDictionary &text)
{
    std::set<uint32_t> probes;
    for (DcmHashDictIterator it = text.normalBegin(); it != text.normalEnd(); ++it)
        probes.insert(KK_TAG((*it)->getGroup(), (*it)->getElement()));
    for (DcmDictEntryListIterator it = text.repeatingBegin(); it != text.repeatingEnd(); ++it) {
        const DcmDictEntry *e = *it;
        unsigned g0 = e->getGroup(), g1 = e->getUpperGroup();
        unsigned e0 = e->getElement(), e1 = e->getUpperElement();
        for (unsigned g : { g0, g0 + 1, (g0 + g1) / 2, (g0 + g1) / 2 + 1, g1 - 1, g1, g1 + 1 })
            for (unsigned el : { e0, e0 + 1, (e0 + e1) / 2, (e0 + e1) / 2 + 1, e1 - 1, e1, e1 + 1 })
                if (g <= 0xffff && el <= 0xffff)
                    probes.insert(KK_TAG(g, el));
    }
    uint32_t x = 12345;
    for (int i = 0; i < 200000; i++) {
        x = x * 1103515245u + 12345u;
        probes.insert(x);
    }
    for (uint32_t tag : probes) {
        const DcmDictEntry *e = text.findEntry(DcmTagKey(KK_GROUP(tag), KK_ELEMENT(tag)), NULL);
        const char *want = e ? e->getTagName() : "";
        if (want && strncmp(want, "RETIRED_", 8) == 0)
            want += 8;
        const char *got = kk_dcm__keyword(tag);
        if (strcmp(got, want ? want : "") != 0)
            FAIL("tag %08X: keyword '%s', DCMTK says '%s'", tag, got, show(want));
        uint16_t vr = 0;
        const char *vn = e ? DcmVR(e->getEVR()).getVRName() : NULL;
        if (vn && strlen(vn) == 2 && vn[0] >= 'A' && vn[0] <= 'Z' && vn[1] >= 'A' && vn[1] <= 'Z')
            vr = KK_VR(vn[0], vn[1]);
        if (kk_dcm__dict_vr(tag) != vr)
            FAIL("tag %08X: VR %04X, DCMTK says %04X", tag, kk_dcm__dict_vr(tag), vr);
    }
    return probes.size();
}

int main(int argc, char **argv)
{
    bool keywords = argc == 2 && strcmp(argv[1], "--keywords") == 0;
    if (argc > 1 && !keywords) {
        fprintf(stderr, "usage: dict_compare [--keywords]\n");
        return 2;
    }

    /* the text dictionary, as DCMTK loads it when DCMDICTPATH is unset */
    const char *env = getenv("DCMDICTPATH");
    std::string saved = env ? env : "";
    unsetenv("DCMDICTPATH");
    DcmDataDictionary text(OFFalse, OFTrue);
    if (!text.isDictionaryLoaded() || text.numberOfEntries() <= 0) {
        fprintf(stderr, "dict_compare: DCMTK loaded no text dictionary\n");
        return 1;
    }
    if (keywords) {
        if (env)
            setenv("DCMDICTPATH", saved.c_str(), 1);
        return print_keywords(text);
    }

    /* DCMTK's global dictionary, the compiled-in one */
    setenv("DCMDICTPATH", "/dev/null", 1);
    kk_dcm__init();
    if (!kk_dcm__dict_builtin()) {
        fprintf(stderr, "dict_compare: with DCMDICTPATH=/dev/null the compiled-in dictionary "
                        "is not in use\n");
        return 1;
    }
    DcmDataDictionary &built = dcmDataDict.wrlock();
    if (built.numberOfNormalTagEntries() != text.numberOfNormalTagEntries() ||
        built.numberOfRepeatingTagEntries() != text.numberOfRepeatingTagEntries() ||
        built.numberOfSkeletonEntries() != text.numberOfSkeletonEntries() ||
        built.isDictionaryLoaded() != text.isDictionaryLoaded())
        FAIL("counts differ: text %d normal, %d repeating, %d skeleton, loaded %d; compiled-in "
             "%d, %d, %d, %d", text.numberOfNormalTagEntries(), text.numberOfRepeatingTagEntries(),
             text.numberOfSkeletonEntries(), (int)text.isDictionaryLoaded(),
             built.numberOfNormalTagEntries(), built.numberOfRepeatingTagEntries(),
             built.numberOfSkeletonEntries(), (int)built.isDictionaryLoaded());
    size_t n = 0;
    DcmHashDictIterator ti = text.normalBegin(), bi = built.normalBegin();
    for (; ti != text.normalEnd() && bi != built.normalEnd(); ++ti, ++bi, ++n)
        compare_entry("normal", n, *ti, *bi);
    if (ti != text.normalEnd() || bi != built.normalEnd())
        FAIL("normal entries: one dictionary ends after %zu", n);
    size_t normal = n;
    n = 0;
    DcmDictEntryListIterator tr = text.repeatingBegin(), br = built.repeatingBegin();
    for (; tr != text.repeatingEnd() && br != built.repeatingEnd(); ++tr, ++br, ++n)
        compare_entry("repeating", n, *tr, *br);
    if (tr != text.repeatingEnd() || br != built.repeatingEnd())
        FAIL("repeating entries: one dictionary ends after %zu", n);
    dcmDataDict.wrunlock();

    /* keyword -> tag: the index against DCMTK's lookup in the text */
    std::set<std::string> names;
    text_names(text, names);
    size_t retired = 0;
    for (const std::string &name : names) {
        const DcmDictEntry *e = text.findEntry(name.c_str());
        uint32_t want = e ? KK_TAG(e->getGroup(), e->getElement()) : 0, got = 0;
        /* a private namesake of a retired public attribute: the public one */
        const DcmDictEntry *pub = e && (e->getGroup() & 1) && name.compare(0, 8, "RETIRED_") != 0
                                      ? text.findEntry(("RETIRED_" + name).c_str()) : NULL;
        if (pub)
            want = KK_TAG(pub->getGroup(), pub->getElement());
        if (kk_dcm__tag_of_keyword(name.c_str(), &got) != KK_OK)
            FAIL("keyword %s: not found, DCMTK says %08X", name.c_str(), want);
        else if (!e || got != want)
            FAIL("keyword %s: %08X, DCMTK says %08X", name.c_str(), got, want);
        /* lib/dict (plain C, what profiles use) answers the same */
        got = 0;
        if (kk_dict__tag_of_keyword(name.c_str(), &got) != KK_OK || got != want)
            FAIL("keyword %s: lib/dict says %08X, DCMTK %08X", name.c_str(), got, want);
        if (name.compare(0, 8, "RETIRED_") != 0)
            continue;
        /* PS3.6 spelling: DCMTK's answer for the bare name, if any and
         * public, else for the RETIRED_ one */
        std::string bare = name.substr(8);
        const DcmDictEntry *b = text.findEntry(bare.c_str());
        if (b && !(b->getGroup() & 1))
            want = KK_TAG(b->getGroup(), b->getElement());
        got = 0;
        if (kk_dcm__tag_of_keyword(bare.c_str(), &got) != KK_OK)
            FAIL("keyword %s: not found, DCMTK says %08X", bare.c_str(), want);
        else if (got != want)
            FAIL("keyword %s: %08X, DCMTK says %08X", bare.c_str(), got, want);
        got = 0;
        if (kk_dict__tag_of_keyword(bare.c_str(), &got) != KK_OK || got != want)
            FAIL("keyword %s: lib/dict says %08X, DCMTK %08X", bare.c_str(), got, want);
        retired++;
    }
    size_t tags = compare_tag_lookups(text);
    if (failures)
        fprintf(stderr, "dict_compare: %d difference(s)\n", failures);
    else
        printf("dict_compare: %zu normal and %zu repeating entries equal; %zu keywords and %zu "
               "retired ones resolve as DCMTK does; so do %zu tags\n", normal, n, names.size(),
               retired, tags);
    return failures ? 1 : 0;
}
