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
 * written; (4) nothing nested deeper than KK_MAX_NESTING reaches DCMTK's
 * recursive reader (see check_nesting()).
 */
#include <errno.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcdict.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcmetinf.h"
#include "dcmtk/dcmdata/dcostrmb.h"
#include "dcmtk/dcmdata/dcpixel.h"
#include "dcmtk/dcmdata/dcsequen.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmdata/dcwcache.h"
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
    /* what to write: the transfer syntax read, unless lib/pixel re-encoded
     * the pixels in another one */
    E_TransferSyntax out_xfer = EXS_Unknown;
    std::string ts_uid;
    std::string path;
    int memfd = -1;          /* kk_dcm__load_buffer: the file holding the bytes */
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
    if (cond == EC_MemoryExhausted)
        return kk__fail(ctx, KK_ENOMEM, "cannot read '%s': out of memory", what);
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

/* --- nesting pre-scan ----------------------------------------------- */

/* DCMTK reads a sequence by recursion, a few stack frames per level, with
 * no limit: 10,000 nested sequences overflow an 8 MiB stack. So before
 * DCMTK reads anything, walk the element headers (tag, VR, length; values
 * are skipped, not read) and count how deep sequences go. The scan only
 * needs to be right about depth: when it cannot follow the bytes it stops
 * and lets DCMTK judge them. Deflated data sets are not scanned. */
#define KK_MAX_NESTING 200

struct header_scan {
    FILE *fp;
    bool big_endian, explicit_vr;
};

static bool rd(FILE *fp, unsigned char *b, size_t n) { return fread(b, 1, n, fp) == n; }

static uint16_t u16(const unsigned char *b, bool be)
{
    return be ? (uint16_t)(b[0] << 8 | b[1]) : (uint16_t)(b[1] << 8 | b[0]);
}

static uint32_t u32(const unsigned char *b, bool be)
{
    return be ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]
              : (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
}

static bool long_vr(const unsigned char *vr)
{
    static const char *const l[] = { "OB", "OW", "OF", "OD", "OL", "OV", "SQ", "UN",
                                     "UT", "UC", "UR", "SV", "UV" };
    for (const char *v : l)
        if (vr[0] == v[0] && vr[1] == v[1])
            return true;
    return false;
}

/* Read File Meta Information (explicit VR little endian) for the transfer
 * syntax; leave fp at the data set. Returns false when there is none. */
static bool scan_meta(FILE *fp, std::string *ts)
{
    unsigned char b[12];
    if (fseeko(fp, 128, SEEK_SET) != 0 || !rd(fp, b, 4) || memcmp(b, "DICM", 4) != 0) {
        rewind(fp);
        return false;
    }
    for (;;) {
        off_t at = ftello(fp);
        if (!rd(fp, b, 8) || u16(b, false) != 0x0002) {
            fseeko(fp, at, SEEK_SET);
            return true;
        }
        uint32_t len = u16(b + 6, false);
        if (long_vr(b + 4)) {
            if (!rd(fp, b + 8, 4))
                return true;
            len = u32(b + 8, false);
        }
        if (len == 0xFFFFFFFFu)
            return true; /* DCMTK will refuse it */
        if (u16(b + 2, false) == 0x0010 && len < 128) {
            char v[128];
            if (!rd(fp, (unsigned char *)v, len))
                return true;
            std::string t(v, len);
            while (!t.empty() && (t.back() == '\0' || t.back() == ' '))
                t.pop_back();
            *ts = t;
        } else if (fseeko(fp, (off_t)len, SEEK_CUR) != 0) {
            return true;
        }
    }
}

/* Deepest sequence nesting of the data set, up to limit + 1. */
static int nesting_depth(FILE *fp, int limit, uint64_t *elements)
{
    *elements = 0;
    std::string ts;
    bool meta = scan_meta(fp, &ts);
    header_scan h = { fp, false, true };
    if (meta) {
        if (ts == "1.2.840.10008.1.2")
            h.explicit_vr = false;
        else if (ts == "1.2.840.10008.1.2.2")
            h.big_endian = true;
        else if (ts.compare(0, 22, "1.2.840.10008.1.2.1.99") == 0)
            return 0; /* deflated */
    } else {
        /* no meta: DCMTK guesses from the first element */
        unsigned char b[6];
        off_t at = ftello(fp);
        if (!rd(fp, b, 6))
            return 0;
        fseeko(fp, at, SEEK_SET);
        h.explicit_vr = b[4] >= 'A' && b[4] <= 'Z' && b[5] >= 'A' && b[5] <= 'Z';
    }
    /* open containers: where each defined-length one ends (-1: undefined);
     * sequences and items both count, two per level of nesting */
    std::vector<long long> open;
    for (;;) {
        long long at = (long long)ftello(fp);
        while (!open.empty() && open.back() >= 0 && at >= open.back())
            open.pop_back();
        unsigned char b[12];
        if (!rd(fp, b, 8))
            return (int)(open.size() / 2);
        uint16_t g = u16(b, h.big_endian), e = u16(b + 2, h.big_endian);
        ++*elements;
        if (g == 0xFFFE) {
            uint32_t len = u32(b + 4, h.big_endian);
            if (e == 0xE000) {
                open.push_back(len == 0xFFFFFFFFu ? -1 : at + 8 + (long long)len);
            } else if (!open.empty()) {
                open.pop_back(); /* item or sequence delimiter */
            }
            if ((int)(open.size() / 2) > limit)
                return limit + 1;
            continue;
        }
        uint32_t len;
        bool seq = false;
        long long start;
        if (h.explicit_vr && b[4] >= 'A' && b[4] <= 'Z' && b[5] >= 'A' && b[5] <= 'Z') {
            if (long_vr(b + 4)) {
                if (!rd(fp, b + 8, 4))
                    return (int)(open.size() / 2);
                len = u32(b + 8, h.big_endian);
                start = at + 12;
            } else {
                len = u16(b + 6, h.big_endian);
                start = at + 8;
            }
            seq = b[4] == 'S' && b[5] == 'Q';
        } else {
            len = u32(b + 4, h.big_endian);
            start = at + 8;
            /* the dictionary says; an empty value cannot nest anyway */
            seq = len != 0 && len != 0xFFFFFFFFu && DcmTag(DcmTagKey(g, e)).getEVR() == EVR_SQ;
        }
        if (len == 0xFFFFFFFFu) {
            /* a sequence, or encapsulated pixel data: items follow */
            open.push_back(-1);
        } else if (seq) {
            open.push_back(start + (long long)len);
        } else if (fseeko(fp, (off_t)len, SEEK_CUR) != 0) {
            return (int)(open.size() / 2);
        }
    }
}

/* What DCMTK spends per element read (object, list node, value),
 * measured: 1,000,000 empty elements take about 210 MB. */
#define KK_BYTES_PER_ELEMENT 200

/* Refuse, before DCMTK reads it, an object nested too deep for its
 * recursive reader, or with so many elements that holding them would
 * take more than half of the memory this process may use (the machine's,
 * or ulimit -v): a 2 GB file of empty elements would need 50 GB. */
static kk_status check_nesting(kk_ctx *ctx, const char *what, FILE *fp)
{
    if (!fp)
        return KK_OK; /* DCMTK reports the open error */
    uint64_t n = 0;
    int depth = nesting_depth(fp, KK_MAX_NESTING, &n);
    fclose(fp);
    if (depth > KK_MAX_NESTING)
        return kk__fail(ctx, KK_ELIMIT, "cannot read '%s': sequences nested deeper than %d",
                        what, KK_MAX_NESTING);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t half = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page / 2 : UINT64_MAX;
    struct rlimit rl; /* ulimit -v, when set, is the machine */
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur / 2 < half)
        half = (uint64_t)rl.rlim_cur / 2;
    if (n > half / KK_BYTES_PER_ELEMENT)
        return kk__fail(ctx, KK_ELIMIT, "cannot read '%s': %llu elements would take about %llu "
                        "MiB of memory, more than half of what this process may use", what,
                        (unsigned long long)n,
                        (unsigned long long)(n * KK_BYTES_PER_ELEMENT >> 20));
    return KK_OK;
}

/* Load path; what names it in messages. */
static kk_status load_as(kk_dcm **out, kk_ctx *ctx, const char *path, const char *what,
                         uint32_t lazy_threshold)
{
    *out = NULL;
    kk_dcm__init();
    kk_status nest = check_nesting(ctx, what, fopen(path, "rb"));
    if (nest != KK_OK)
        return nest;
    kk_dcm *d = new (std::nothrow) kk_dcm();
    if (!d)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    try {
        d->path = path;
        d->ff = new DcmFileFormat();
        OFCondition cond = d->ff->loadFile(OFFilename(path), EXS_Unknown, EGL_noChange,
                                           lazy_threshold ? lazy_threshold : 4096,
                                           ERM_autoDetect);
        kk_status st = finish_load(d, ctx, what, cond);
        if (st != KK_OK) {
            kk_dcm__free(d);
            return st;
        }
    } catch (const std::bad_alloc &) {
        kk_dcm__free(d);
        return kk__fail(ctx, KK_ENOMEM, "cannot read '%s': out of memory", what);
    } catch (...) {
        kk_dcm__free(d);
        return kk__fail(ctx, KK_ENOTDICOM, "cannot read '%s': parser failure", what);
    }
    *out = d;
    return KK_OK;
}

kk_status kk_dcm__load(kk_dcm **out, kk_ctx *ctx, const char *path, uint32_t lazy_threshold)
{
    return load_as(out, ctx, path, path, lazy_threshold);
}

void kk_dcm__free(kk_dcm *d)
{
    if (!d)
        return;
    delete d->ds;
    delete d->ff;
    if (d->memfd >= 0)
        close(d->memfd);
    delete d;
}

kk_dcm_item *kk_dcm__dataset(kk_dcm *d) { return CI(d->ds); }
kk_dcm_item *kk_dcm__meta(kk_dcm *d) { return CI(d->ff->getMetaInfo()); }
const char *kk_dcm__transfer_syntax(kk_dcm *d) { return d->ts_uid.c_str(); }
const char *kk_dcm__path(const kk_dcm *d) { return d->path.c_str(); }
void *kk_dcm__dcmtk_dataset(kk_dcm *d) { return d->ds; }
bool kk_dcm__pixels_carried_raw(const kk_dcm *d) { return d->raw_pixels; }

kk_status kk_dcm__set_transfer_syntax(kk_dcm *d, kk_ctx *ctx, const char *uid)
{
    DcmXfer x(uid);
    if (x.getXfer() == EXS_Unknown || d->raw_pixels)
        return kk__fail(ctx, KK_EINVAL, "cannot write '%s' in transfer syntax %s", d->path.c_str(), uid);
    d->out_xfer = x.getXfer();
    d->ts_uid = x.getXferID();
    return KK_OK;
}

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
        OFCondition cond = write(out, d->out_xfer != EXS_Unknown ? d->out_xfer : d->ds->getOriginalXfer());
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

/* DcmItem::remove(DcmObject *) searches the list from the start, so
 * removing every element of a 1,000,000-element item one after the other
 * takes hours. The element being removed is nearly always the list's
 * current one (the walk just reached it): take it out of the list
 * directly. */
struct ItemList : DcmItem {
    static DcmList *DcmItem::*member() { return &ItemList::elementList; }
};

kk_dcm_elem *kk_dcm__remove(kk_dcm_item *item, kk_dcm_elem *e)
{
    DcmItem *it = IT(item);
    DcmList *list = it->*ItemList::member();
    if (list && list->get(ELP_atpos) == EL(e)) {
        DcmObject *gone = list->remove(); /* the next one becomes current */
        DcmObject *next = list->get(ELP_atpos);
        delete gone;
        return CE(next);
    }
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

/* The same for the items of a sequence (SR content items). */
struct SequenceList : DcmSequenceOfItems {
    static DcmList *DcmSequenceOfItems::*member() { return &SequenceList::itemList; }
};

kk_dcm_item *kk_dcm__remove_item(kk_dcm_elem *seq, kk_dcm_item *item)
{
    DcmSequenceOfItems *s = static_cast<DcmSequenceOfItems *>(EL(seq));
    DcmList *list = s->*SequenceList::member();
    if (list && list->get(ELP_atpos) == IT(item)) {
        DcmObject *gone = list->remove();
        DcmObject *next = list->get(ELP_atpos);
        delete gone;
        return CI(static_cast<DcmItem *>(next));
    }
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

/* --- in memory (fuzzing, gateways) ------------------------------------ */

/* The bytes go to an anonymous in-memory file that DCMTK reads as it
 * reads any file: values above the lazy threshold stay unread until
 * needed. Parsed from a DcmInputBufferStream instead, every value would
 * be allocated at its declared length first: 13 bytes that claim a 4 GiB
 * value would take 4 GiB (found by fuzz/fuzz_deid.c). */
kk_status kk_dcm__load_buffer(kk_dcm **out, kk_ctx *ctx, const void *data, size_t len)
{
    *out = NULL;
    int fd = memfd_create("kakou-buffer", MFD_CLOEXEC);
    if (fd < 0)
        return kk__fail(ctx, KK_EIO, "cannot read '<memory>': %s", strerror(errno));
    const char *p = static_cast<const char *>(data);
    for (size_t done = 0; done < len;) {
        ssize_t n = write(fd, p + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = errno;
            close(fd);
            return kk__fail(ctx, KK_EIO, "cannot read '<memory>': %s", strerror(e));
        }
        done += (size_t)n;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    kk_status st = load_as(out, ctx, path, "<memory>", 4096);
    if (st != KK_OK) {
        close(fd);
        return st;
    }
    (*out)->memfd = fd;
    return KK_OK;
}

kk_status kk_dcm__save_buffer(kk_dcm *d, kk_ctx *ctx, kk_buf *outbuf)
{
    if (d->raw_pixels)
        return kk__fail(ctx, KK_EINVAL, "cannot write '%s' into memory: its Pixel Data is "
                        "carried from the input file", d->path.c_str());
    kk_status st = save_with(d, ctx, "<memory>", [&](DcmFileFormat *ff, E_TransferSyntax xfer) {
        char chunk[1 << 16];
        DcmOutputBufferStream os(chunk, sizeof chunk);
        DcmWriteCache wcache;
        ff->transferInit();
        OFCondition c = EC_StreamNotifyClient;
        while (c == EC_StreamNotifyClient) {
            c = ff->write(os, xfer, EET_ExplicitLength, &wcache, EGL_withoutGL,
                          EPD_withoutPadding, 0, 0, 0, EWM_dontUpdateMeta);
            void *p = NULL;
            offile_off_t n = 0;
            os.flushBuffer(p, n);
            if (n > 0)
                kk__buf_add(outbuf, p, (size_t)n);
        }
        ff->transferEnd();
        if (c.good() && outbuf->failed)
            throw std::bad_alloc();
        return c;
    });
    return st;
}
