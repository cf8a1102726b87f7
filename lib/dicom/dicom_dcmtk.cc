/*
 * lib/dicom/dicom_dcmtk.cc - the DCMTK adapter behind lib/dicom/dicom.h.
 *
 * The only C++ of the header engine. It catches every exception and turns
 * each OFCondition into a kk_status and a message; nothing C++ crosses into
 * C. Messages name the file and DCMTK's description of the problem, never
 * a value (R04). DCMTK's own logging is switched off for the same reason.
 *
 * Invariants: (1) the data set is written in the transfer syntax it was
 * read in, so untouched pixel data is copied byte for byte; (2) File Meta
 * Information is rebuilt from scratch with a zero preamble (PS3.15 E.1.1);
 * (3) values above the lazy threshold are left in the input file until
 * written.
 */
#include <errno.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcdict.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcmetinf.h"
#include "dcmtk/dcmdata/dcpixel.h"
#include "dcmtk/dcmdata/dcsequen.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmdata/dcxfer.h"
#include "dcmtk/oflog/oflog.h"

extern "C" {
#include "core/core.h"
#include "dicom/dicom.h"
}

/* kakou's Implementation Class UID (a UUID-derived 2.25 UID) and name. */
#define KK_IMPLEMENTATION_CLASS_UID "2.25.192937014247975074551817128510851317396"
#define KK_IMPLEMENTATION_VERSION_NAME "KAKOU_" "010"

struct kk_dcm {
    DcmFileFormat *ff;       /* as read; its data set moves to out on save */
    /* Pixel Data of a transfer syntax newer than DCMTK (HTJ2K, deflated
     * frames): copied from the input verbatim, after the data set */
    bool raw_pixels;
    long long pix_off, pix_end;
    DcmDataset *ds;          /* owned */
    std::string ts_uid;
    std::string path;
};

static inline DcmItem *IT(kk_dcm_item *i) { return reinterpret_cast<DcmItem *>(i); }
static inline kk_dcm_item *CI(DcmItem *i) { return reinterpret_cast<kk_dcm_item *>(i); }
static inline DcmElement *EL(kk_dcm_elem *e) { return reinterpret_cast<DcmElement *>(e); }
static inline const DcmElement *EL(const kk_dcm_elem *e) { return reinterpret_cast<const DcmElement *>(e); }
static inline kk_dcm_elem *CE(DcmObject *e) { return reinterpret_cast<kk_dcm_elem *>(e); }

static std::once_flag kk_dcm_once;

void kk_dcm__init(void)
{
    std::call_once(kk_dcm_once, [] {
        /* DCMTK's warnings may quote values; kakou reports errors itself. */
        OFLog::configure(OFLogger::OFF_LOG_LEVEL);
        dcmEnableAutomaticInputDataCorrection.set(OFTrue);
        dcmAcceptOddAttributeLength.set(OFTrue);
        /* standard attributes stored as UN get their dictionary VR, so
         * rules and values see a UID as a UID (PS3.5 6.2.2) */
        dcmEnableUnknownVRConversion.set(OFTrue);
        (void)dcmDataDict.isDictionaryLoaded();
    });
}

static uint16_t vr_code(DcmEVR evr)
{
    const char *n = DcmVR(evr).getValidVRName();
    if (!n || strlen(n) < 2)
        return KK_VR('U', 'N');
    return KK_VR(n[0], n[1]);
}

/* Find the top-level Pixel Data of an explicit VR little endian file: the
 * last "(7FE0,0010) OB, undefined length" header, and the sequence
 * delimiter that ends it. */
static bool find_raw_pixels(const char *path, long long *off, long long *end)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return false;
    static const unsigned char head[12] = { 0xE0, 0x7F, 0x10, 0x00, 'O', 'B', 0, 0,
                                            0xFF, 0xFF, 0xFF, 0xFF };
    static const unsigned char delim[8] = { 0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0 };
    std::string buf;
    char chunk[1 << 16];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        buf.append(chunk, n);
    fclose(fp);
    size_t h = buf.rfind(std::string(reinterpret_cast<const char *>(head), 12));
    if (h == std::string::npos)
        return false;
    size_t e = buf.rfind(std::string(reinterpret_cast<const char *>(delim), 8));
    if (e == std::string::npos || e < h)
        return false;
    *off = (long long)h;
    *end = (long long)(e + 8);
    return true;
}

/* A transfer syntax newer than this DCMTK (HTJ2K, deflated image frames,
 * JPEG XL) is explicit VR little endian with encapsulated Pixel Data
 * (PS3.5 A.4): the header is de-identified as usual and the Pixel Data is
 * carried over byte for byte, under the original transfer syntax UID. */
static kk_status adopt_newer_syntax(kk_dcm *d, kk_ctx *ctx, const char *what, const char *uid)
{
    bool encapsulated_family = strncmp(uid, "1.2.840.10008.1.2.4.", 20) == 0 ||
                               strcmp(uid, "1.2.840.10008.1.2.8.1") == 0;
    if (!encapsulated_family || d->ds->getOriginalXfer() != EXS_LittleEndianExplicit)
        return kk__fail(ctx, KK_ENOTDICOM, "cannot read '%s': transfer syntax %.64s is not "
                        "supported by DCMTK %s", what, uid, OFFIS_DCMTK_VERSION_STRING);
    DcmElement *px = NULL;
    if (d->ds->findAndGetElement(DCM_PixelData, px, OFFalse).good() && px) {
        if (!find_raw_pixels(d->path.c_str(), &d->pix_off, &d->pix_end))
            return kk__fail(ctx, KK_ENOTDICOM, "cannot read '%s': no encapsulated Pixel Data "
                            "found for transfer syntax %.64s", what, uid);
        delete d->ds->remove(px);
        d->raw_pixels = true;
    }
    d->ts_uid = uid;
    return KK_OK;
}

static kk_status finish_load(kk_dcm *d, kk_ctx *ctx, const char *what, OFCondition cond)
{
    if (cond.bad())
        return kk__fail(ctx, KK_ENOTDICOM, "cannot read '%s': %s", what, cond.text());
    OFString meta_ts;
    bool newer = d->ff->getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, meta_ts).good() &&
                 !meta_ts.empty() && DcmXfer(meta_ts.c_str()).getXfer() == EXS_Unknown;
    d->ds = d->ff->getAndRemoveDataset();
    if (!d->ds || d->ds->card() == 0)
        return kk__fail(ctx, KK_ENOTDICOM, "cannot read '%s': no data set", what);
    E_TransferSyntax xfer = d->ds->getOriginalXfer();
    DcmXfer x(xfer);
    if (xfer == EXS_Unknown)
        return kk__fail(ctx, KK_ENOTDICOM, "cannot read '%s': unknown transfer syntax", what);
    d->ts_uid = x.getXferID();
    if (newer)
        return adopt_newer_syntax(d, ctx, what, meta_ts.c_str());
    return KK_OK;
}

kk_status kk_dcm__load(kk_dcm **out, kk_ctx *ctx, const char *path, uint32_t lazy_threshold)
{
    *out = NULL;
    kk_dcm__init();
    kk_dcm *d = new (std::nothrow) kk_dcm();
    if (!d)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    try {
        d->path = path;
        d->ff = new DcmFileFormat();
        OFCondition cond = d->ff->loadFile(OFFilename(path), EXS_Unknown, EGL_noChange,
                                           lazy_threshold ? lazy_threshold : 4096,
                                           ERM_autoDetect);
        kk_status st = finish_load(d, ctx, path, cond);
        if (st != KK_OK) {
            kk_dcm__free(d);
            return st;
        }
    } catch (const std::bad_alloc &) {
        kk_dcm__free(d);
        return kk__fail(ctx, KK_ENOMEM, "cannot read '%s': out of memory", path);
    } catch (...) {
        kk_dcm__free(d);
        return kk__fail(ctx, KK_ENOTDICOM, "cannot read '%s': parser failure", path);
    }
    *out = d;
    return KK_OK;
}

void kk_dcm__free(kk_dcm *d)
{
    if (!d)
        return;
    delete d->ds;
    delete d->ff;
    delete d;
}

kk_dcm_item *kk_dcm__dataset(kk_dcm *d) { return CI(d->ds); }
kk_dcm_item *kk_dcm__meta(kk_dcm *d) { return CI(d->ff->getMetaInfo()); }
const char *kk_dcm__transfer_syntax(kk_dcm *d) { return d->ts_uid.c_str(); }

/* Copy a UID from the data set, or else from the (de-identified) old meta. */
static void meta_uid(DcmMetaInfo *meta, DcmDataset *ds, DcmMetaInfo *old,
                     const DcmTagKey &metatag, const DcmTagKey &dstag)
{
    OFString v;
    if (ds->findAndGetOFString(dstag, v).bad() || v.empty())
        old->findAndGetOFString(metatag, v);
    if (!v.empty())
        meta->putAndInsertString(metatag, v.c_str());
}

/* Write d's data set through a fresh DcmFileFormat whose meta header is
 * built here, then take the data set back. */
template <typename Writer>
static kk_status save_with(kk_dcm *d, kk_ctx *ctx, const char *what, Writer write)
{
    DcmFileFormat *out = NULL;
    kk_status st = KK_OK;
    try {
        out = new DcmFileFormat(d->ds, OFFalse);
        DcmMetaInfo *meta = out->getMetaInfo();
        DcmMetaInfo *old = d->ff->getMetaInfo();
        Uint8 version[2] = { 0, 1 };
        meta->putAndInsertUint32(DCM_FileMetaInformationGroupLength, 0);
        meta->putAndInsertUint8Array(DCM_FileMetaInformationVersion, version, 2);
        meta_uid(meta, d->ds, old, DCM_MediaStorageSOPClassUID, DCM_SOPClassUID);
        meta_uid(meta, d->ds, old, DCM_MediaStorageSOPInstanceUID, DCM_SOPInstanceUID);
        meta->putAndInsertString(DCM_TransferSyntaxUID, d->ts_uid.c_str());
        meta->putAndInsertString(DCM_ImplementationClassUID, KK_IMPLEMENTATION_CLASS_UID);
        meta->putAndInsertString(DCM_ImplementationVersionName, KK_IMPLEMENTATION_VERSION_NAME);
        /* DCMTK would put its own implementation UID over ours: compute
         * the group length here and write the header as it stands */
        meta->computeGroupLengthAndPadding(EGL_recalcGL, EPD_noChange, EXS_LittleEndianExplicit);
        OFCondition cond = write(out, d->ds->getOriginalXfer());
        if (cond.bad())
            st = kk__fail(ctx, KK_EIO, "cannot write '%s': %s", what, cond.text());
    } catch (const std::bad_alloc &) {
        st = kk__fail(ctx, KK_ENOMEM, "cannot write '%s': out of memory", what);
    } catch (...) {
        st = kk__fail(ctx, KK_EINTERNAL, "cannot write '%s': writer failure", what);
    }
    if (out) {
        /* the data set belongs to d: take it back before out dies */
        DcmDataset *ds = out->getAndRemoveDataset();
        (void)ds;
        delete out;
    }
    return st;
}

static kk_status append_raw_pixels(kk_dcm *d, kk_ctx *ctx, const char *path)
{
    /* Pixel Data must stay the last element */
    DcmObject *last = NULL, *o = NULL;
    while ((o = d->ds->nextInContainer(o)) != NULL)
        last = o;
    if (last && last->getTag() > DCM_PixelData)
        return kk__fail(ctx, KK_EINTERNAL, "cannot write '%s': elements follow Pixel Data", path);
    FILE *in = fopen(d->path.c_str(), "rb");
    FILE *out = fopen(path, "ab");
    bool ok = in && out && fseeko(in, (off_t)d->pix_off, SEEK_SET) == 0;
    long long left = d->pix_end - d->pix_off;
    char chunk[1 << 16];
    while (ok && left > 0) {
        size_t want = left < (long long)sizeof chunk ? (size_t)left : sizeof chunk;
        size_t n = fread(chunk, 1, want, in);
        if (n == 0 || fwrite(chunk, 1, n, out) != n)
            ok = false;
        left -= (long long)n;
    }
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        ok = false;
    return ok ? KK_OK : kk__fail(ctx, KK_EIO, "cannot write '%s': %s", path, strerror(errno));
}

kk_status kk_dcm__save(kk_dcm *d, kk_ctx *ctx, const char *path)
{
    kk_status st = save_with(d, ctx, path, [&](DcmFileFormat *out, E_TransferSyntax xfer) {
        return out->saveFile(OFFilename(path), xfer, EET_ExplicitLength, EGL_withoutGL,
                             EPD_withoutPadding, 0, 0, EWM_dontUpdateMeta);
    });
    if (st == KK_OK && d->raw_pixels)
        st = append_raw_pixels(d, ctx, path);
    return st;
}

/* --- walking -------------------------------------------------------- */

kk_dcm_elem *kk_dcm__next(kk_dcm_item *item, kk_dcm_elem *prev)
{
    return CE(IT(item)->nextInContainer(reinterpret_cast<DcmObject *>(prev)));
}

kk_dcm_elem *kk_dcm__remove(kk_dcm_item *item, kk_dcm_elem *e)
{
    DcmItem *it = IT(item);
    DcmObject *next = it->nextInContainer(EL(e));
    DcmElement *gone = it->remove(EL(e));
    delete gone;
    return CE(next);
}

kk_dcm_elem *kk_dcm__find(kk_dcm_item *item, uint32_t tag)
{
    DcmElement *e = NULL;
    DcmTagKey key((Uint16)(tag >> 16), (Uint16)(tag & 0xffff));
    if (IT(item)->findAndGetElement(key, e, OFFalse).bad())
        return NULL;
    return CE(e);
}

uint32_t kk_dcm__tag(const kk_dcm_elem *e)
{
    const DcmTag &t = EL(e)->getTag();
    return KK_TAG(t.getGroup(), t.getElement());
}

uint16_t kk_dcm__vr(const kk_dcm_elem *e)
{
    return vr_code(EL(e)->getVR());
}

uint32_t kk_dcm__length(const kk_dcm_elem *e)
{
    return EL(e)->getLengthField();
}

bool kk_dcm__is_sequence(const kk_dcm_elem *e)
{
    return EL(e)->ident() == EVR_SQ;
}

bool kk_dcm__is_encapsulated(const kk_dcm_elem *e)
{
    return EL(e)->ident() == EVR_PixelData && EL(e)->getLengthField() == DCM_UndefinedLength;
}

kk_dcm_item *kk_dcm__next_item(kk_dcm_elem *seq, kk_dcm_item *prev)
{
    DcmElement *e = EL(seq);
    if (e->ident() != EVR_SQ)
        return NULL;
    DcmSequenceOfItems *s = static_cast<DcmSequenceOfItems *>(e);
    DcmObject *o = s->nextInContainer(reinterpret_cast<DcmObject *>(IT(prev)));
    return CI(static_cast<DcmItem *>(o));
}

kk_dcm_item *kk_dcm__remove_item(kk_dcm_elem *seq, kk_dcm_item *item)
{
    DcmSequenceOfItems *s = static_cast<DcmSequenceOfItems *>(EL(seq));
    DcmObject *next = s->nextInContainer(IT(item));
    delete s->remove(IT(item));
    return CI(static_cast<DcmItem *>(next));
}

void kk_dcm__clear_items(kk_dcm_elem *seq)
{
    EL(seq)->clear();
}

/* --- values --------------------------------------------------------- */

bool kk_dcm__vr_is_string(uint16_t vr)
{
    switch (vr) {
    case KK_VR('A', 'E'): case KK_VR('A', 'S'): case KK_VR('C', 'S'):
    case KK_VR('D', 'A'): case KK_VR('D', 'S'): case KK_VR('D', 'T'):
    case KK_VR('I', 'S'): case KK_VR('L', 'O'): case KK_VR('L', 'T'):
    case KK_VR('P', 'N'): case KK_VR('S', 'H'): case KK_VR('S', 'T'):
    case KK_VR('T', 'M'): case KK_VR('U', 'C'): case KK_VR('U', 'I'):
    case KK_VR('U', 'R'): case KK_VR('U', 'T'):
        return true;
    default:
        return false;
    }
}

kk_status kk_dcm__get_string(kk_dcm_elem *ke, const char **out, size_t *len)
{
    *out = "";
    *len = 0;
    DcmElement *e = EL(ke);
    if (!e->isaString())
        return KK_EINVAL;
    char *s = NULL;
    Uint32 n = 0;
    if (e->getString(s, n).bad() || !s)
        return KK_OK; /* empty */
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\0'))
        n--;
    *out = s;
    *len = n;
    return KK_OK;
}

char *kk_dcm__value_text(kk_dcm_elem *ke)
{
    DcmElement *e = EL(ke);
    if (e->ident() == EVR_SQ)
        return kk__strdup("");
    if (e->getLengthField() > 4096 && !e->isaString())
        return kk__strdup("(binary value)");
    OFString v;
    try {
        e->getOFStringArray(v);
    } catch (...) {
        return kk__strdup("");
    }
    return kk__strdup(v.c_str());
}

static bool vr_is_binary_bytes(DcmEVR vr)
{
    return vr == EVR_OB || vr == EVR_UN || vr == EVR_OW || vr == EVR_OF || vr == EVR_OD ||
           vr == EVR_OL || vr == EVR_OV || vr == EVR_ox || vr == EVR_UNKNOWN ||
           vr == EVR_UNKNOWN2B || vr == EVR_px || vr == EVR_PixelData;
}

kk_status kk_dcm__set_string(kk_dcm_item *item, kk_dcm_elem **ke, kk_ctx *ctx, const char *s,
                             size_t len)
{
    DcmElement *e = EL(*ke);
    try {
        DcmEVR vr = e->ident();
        if (vr == EVR_SQ)
            return kk__fail(ctx, KK_EINVAL, "cannot set a text value on a sequence");
        if (vr_is_binary_bytes(vr)) {
            DcmTagKey key = e->getTag().getXTag();
            DcmTag dict(key);
            DcmEVR dvr = dict.getEVR();
            if (!e->getTag().isPrivate() && DcmVR(dvr).isaString()) {
                /* stored as UN/OB but the dictionary knows a text VR */
                DcmElement *n = DcmItem::newDicomElement(dict);
                if (!n)
                    return kk__fail(ctx, KK_EINTERNAL, "cannot create an element");
                OFCondition c = n->putString(s, (Uint32)len);
                if (c.good())
                    c = IT(item)->insert(n, OFTrue /* replace old */);
                if (c.bad()) {
                    delete n;
                    return kk__fail(ctx, KK_EINTERNAL, "cannot replace a value: %s", c.text());
                }
                *ke = CE(n);
                return KK_OK;
            }
            /* raw bytes, padded to even length */
            std::string b(s, len);
            if (b.size() % 2)
                b.push_back('\0');
            OFCondition c = (vr == EVR_OW) ? e->putUint16Array(reinterpret_cast<const Uint16 *>(b.data()), b.size() / 2)
                                           : e->putUint8Array(reinterpret_cast<const Uint8 *>(b.data()), b.size());
            if (c.bad())
                return kk__fail(ctx, KK_EINTERNAL, "cannot replace a value: %s", c.text());
            return KK_OK;
        }
        OFCondition c = e->putString(s, (Uint32)len);
        if (c.bad())
            return kk__fail(ctx, KK_EINTERNAL, "cannot replace a value: %s", c.text());
    } catch (const std::bad_alloc &) {
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    } catch (...) {
        return kk__fail(ctx, KK_EINTERNAL, "cannot replace a value");
    }
    return KK_OK;
}

kk_status kk_dcm__set_empty(kk_dcm_elem *ke, kk_ctx *ctx)
{
    OFCondition c = EL(ke)->clear();
    if (c.bad())
        return kk__fail(ctx, KK_EINTERNAL, "cannot empty a value: %s", c.text());
    return KK_OK;
}

kk_status kk_dcm__put_string(kk_dcm_item *item, kk_ctx *ctx, uint32_t tag, const char *s)
{
    DcmTagKey key((Uint16)(tag >> 16), (Uint16)(tag & 0xffff));
    OFCondition c = IT(item)->putAndInsertString(key, s, OFTrue);
    if (c.bad())
        return kk__fail(ctx, KK_EINTERNAL, "cannot insert (%04X,%04X): %s", tag >> 16,
                        tag & 0xffff, c.text());
    return KK_OK;
}

kk_status kk_dcm__append_item(kk_dcm_item *item, kk_ctx *ctx, uint32_t tag, kk_dcm_item **out)
{
    DcmTagKey key((Uint16)(tag >> 16), (Uint16)(tag & 0xffff));
    DcmItem *n = NULL;
    OFCondition c = IT(item)->findOrCreateSequenceItem(key, n, -2 /* append */);
    if (c.bad() || !n)
        return kk__fail(ctx, KK_EINTERNAL, "cannot add an item to (%04X,%04X): %s", tag >> 16,
                        tag & 0xffff, c.text());
    *out = CI(n);
    return KK_OK;
}

/* --- dictionary ----------------------------------------------------- */

const char *kk_dcm__keyword(uint32_t tag)
{
    kk_dcm__init();
    DcmTagKey key((Uint16)(tag >> 16), (Uint16)(tag & 0xffff));
    const DcmDataDictionary &dict = dcmDataDict.rdlock();
    const DcmDictEntry *ent = dict.findEntry(key, NULL);
    const char *name = ent ? ent->getTagName() : "";
    dcmDataDict.rdunlock();
    if (name && strncmp(name, "RETIRED_", 8) == 0)
        name += 8; /* PS3.6 keywords have no prefix */
    /* entries live as long as the process: the name may be kept */
    return name ? name : "";
}

uint16_t kk_dcm__dict_vr(uint32_t tag)
{
    kk_dcm__init();
    DcmTagKey key((Uint16)(tag >> 16), (Uint16)(tag & 0xffff));
    const DcmDataDictionary &dict = dcmDataDict.rdlock();
    const DcmDictEntry *ent = dict.findEntry(key, NULL);
    uint16_t vr = 0;
    if (ent) {
        DcmEVR evr = ent->getEVR();
        /* "xs", "ox" and friends are ambiguous: report them as unknown */
        const char *n = DcmVR(evr).getVRName();
        if (n && strlen(n) == 2 && n[0] >= 'A' && n[0] <= 'Z' && n[1] >= 'A' && n[1] <= 'Z')
            vr = KK_VR(n[0], n[1]);
    }
    dcmDataDict.rdunlock();
    return vr;
}

kk_status kk_dcm__tag_of_keyword(const char *keyword, uint32_t *tag)
{
    kk_dcm__init();
    DcmTag t;
    if (DcmTag::findTagFromName(keyword, t).bad()) {
        /* DCMTK spells retired keywords RETIRED_X; PS3.6 spells them X */
        std::string r = std::string("RETIRED_") + keyword;
        if (strncmp(keyword, "RETIRED_", 8) == 0 || DcmTag::findTagFromName(r.c_str(), t).bad())
            return KK_ENOTFOUND;
    }
    *tag = KK_TAG(t.getGroup(), t.getElement());
    return KK_OK;
}

const char *kk_dcm__library_version(void)
{
    return "DCMTK " OFFIS_DCMTK_VERSION_STRING;
}
