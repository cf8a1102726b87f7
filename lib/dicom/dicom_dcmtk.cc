/* SPDX-License-Identifier: Apache-2.0 */
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
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
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

#include <pthread.h>
#include <zlib.h>

extern "C" {
#include "core/core.h"
#include "dicom/dicom.h"
}

/* kakou's Implementation Class UID (a UUID-derived 2.25 UID) and name. */
#define KK_IMPLEMENTATION_CLASS_UID "2.25.192937014247975074551817128510851317396"
#define KK_IMPLEMENTATION_VERSION_NAME "KAKOU_" "010"

struct kk_dcm {
    DcmFileFormat *ff;       /* as read; its data set moves to out on save */
    /* The top-level Pixel Data element as it lies in the input file,
     * [pix_off, pix_end) with its length field, found by scan_object().
     * On save it is copied from the input byte for byte (copy_file_range,
     * no pass through user space) when nothing can have changed it; always
     * for a transfer syntax newer than DCMTK (raw_pixels), whose Pixel Data
     * DCMTK cannot hold. */
    long long pix_off = -1, pix_end = -1;
    uint32_t pix_len = 0;
    char pix_vr[3] = "";
    bool pix_even = false;
    bool raw_pixels = false;
    bool pixels_exposed = false; /* lib/pixel had the DCMTK data set */
    bool pixels_copied = false;  /* the last save copied them */
    DcmDataset *ds;          /* owned */
    /* what to write: the transfer syntax read, unless lib/pixel re-encoded
     * the pixels in another one */
    E_TransferSyntax out_xfer = EXS_Unknown;
    std::string ts_uid;
    std::string path;
    int memfd = -1;          /* kk_dcm__load_buffer: the file holding the bytes */
    int srcfd = -1;          /* the input, open while DCMTK may read it (lazily) */
    dev_t src_dev = 0;       /* what srcfd was at load: source_intact() */
    ino_t src_ino = 0;
};

static inline DcmItem *IT(kk_dcm_item *i) { return reinterpret_cast<DcmItem *>(i); }
static inline kk_dcm_item *CI(DcmItem *i) { return reinterpret_cast<kk_dcm_item *>(i); }
static inline DcmElement *EL(kk_dcm_elem *e) { return reinterpret_cast<DcmElement *>(e); }
static inline const DcmElement *EL(const kk_dcm_elem *e) { return reinterpret_cast<const DcmElement *>(e); }
static inline kk_dcm_elem *CE(DcmObject *e) { return reinterpret_cast<kk_dcm_elem *>(e); }

static std::once_flag settings_once, init_once;

void kk_dcm__init_settings(void)
{
    std::call_once(settings_once, [] {
        /* DCMTK's warnings may quote values; kakou reports errors itself. */
        OFLog::configure(OFLogger::OFF_LOG_LEVEL);
        dcmEnableAutomaticInputDataCorrection.set(OFTrue);
        dcmAcceptOddAttributeLength.set(OFTrue);
        /* standard attributes stored as UN get their dictionary VR, so
         * rules and values see a UID as a UID (PS3.5 6.2.2) */
        dcmEnableUnknownVRConversion.set(OFTrue);
        /* create the dictionary, with logging already off (a bad
         * DCMDICTPATH is reported through it) */
        kk_dcm__dict_create();
    });
}

void kk_dcm__init(void)
{
    std::call_once(init_once, [] {
        kk_dcm__init_settings();
        /* the compiled-in entries, when the dictionary came up empty */
        kk_dcm__dict_fill();
    });
}

static uint16_t vr_code(DcmEVR evr)
{
    const char *n = DcmVR(evr).getValidVRName();
    if (!n || strlen(n) < 2)
        return KK_VR('U', 'N');
    return KK_VR(n[0], n[1]);
}

/* --- DCMTK's conditions in DICOM terms --------------------------------- */

/* What a DCMTK condition means for the file at hand, in the words of
 * PS3.5, or NULL when there are none better than DCMTK's own. */
static const char *dicom_words(const OFCondition &c)
{
    if (c == EC_StreamNotifyClient || c == EC_EndOfStream)
        return "the file ends inside an element: it is cut short, or an element's length "
               "runs past its end";
    if (c == EC_InvalidStream)
        return "an element's value length runs past the end of the file or of the item "
               "that holds it";
    if (c == EC_InvalidTag)
        return "the bytes where the next element should start are not an element header "
               "(tag, VR, length)";
    if (c == EC_SequDelimitationItemMissing)
        return "a sequence or encapsulated Pixel Data of undefined length has no Sequence "
               "Delimitation Item (FFFE,E0DD)";
    if (c == EC_ItemDelimitationItemMissing)
        return "an item of undefined length has no Item Delimitation Item (FFFE,E00D)";
    if (c == EC_PrematureSequDelimitationItem)
        return "a Sequence Delimitation Item (FFFE,E0DD) comes inside an item";
    if (c == EC_ElemLengthLargerThanItem || c == EC_SeqOrItemContentOverflow)
        return "an element is longer than the item that holds it";
    if (c == EC_UndefinedLengthOBOW)
        return "an OB or OW element other than Pixel Data has undefined length";
    if (c == EC_CorruptedData)
        return "the data set is corrupted: a value does not agree with its VR or length";
    if (c == EC_IllegalCall || c == EC_IllegalParameter)
        return "an element's VR, length or value cannot be taken as encoded";
    if (c == EC_FileMetaInfoHeaderMissing)
        return "no File Meta Information (group 0002) after the 'DICM' prefix";
    if (c == EC_UnknownVR)
        return "an element has a VR that PS3.5 does not define";
    if (c == EC_RepresentationNotFound || c == EC_CannotChangeRepresentation)
        return "its Pixel Data (7FE0,0010) cannot be put into the transfer syntax to write "
               "(encapsulated fragments where native pixels are needed, or a codec that "
               "cannot decode them)";
    if (c == EC_TagNotFound)
        return "a required element is missing";
    return NULL;
}

/* "(GGGG,EEEE) Keyword" of an element, for messages. */
static std::string tag_words(const DcmTagKey &key)
{
    char b[16];
    snprintf(b, sizeof b, "(%04X,%04X)", key.getGroup(), key.getElement());
    DcmTag t(key);
    const char *name = t.getTagName();
    std::string s(b);
    if (name && *name && strcmp(name, DcmTag_ERROR_TagName) != 0)
        s += std::string(" ") + name;
    return s;
}

/* Where reading stopped: the last element of what DCMTK read, down
 * through the last item of each sequence. */
static std::string last_read(DcmItem *it)
{
    std::string where;
    for (int depth = 0; it && depth < 16; depth++) {
        unsigned long n = it->card();
        if (n == 0)
            break;
        DcmElement *e = it->getElement(n - 1);
        if (!e)
            break;
        if (!where.empty())
            where += " > ";
        where += tag_words(e->getTag().getXTag());
        DcmEVR vr = e->ident();
        if (vr != EVR_SQ)
            break;
        DcmSequenceOfItems *sq = OFstatic_cast(DcmSequenceOfItems *, e);
        if (sq->card() == 0)
            break;
        char b[32];
        snprintf(b, sizeof b, " item %lu", sq->card());
        where += b;
        it = sq->getItem(sq->card() - 1);
    }
    return where;
}

/* Bytes from a file, for a message: printable ASCII as it is, the rest
 * as \xNN, at most max bytes. */
static std::string printable(const char *s, size_t max)
{
    std::string o;
    for (size_t i = 0; s[i] && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            o.push_back((char)c);
        } else {
            char b[8];
            snprintf(b, sizeof b, "\\x%02x", c);
            o += b;
        }
    }
    return o;
}

static kk_status read_failed(kk_dcm *d, kk_ctx *ctx, const char *what, const OFCondition &cond)
{
    const char *words = dicom_words(cond);
    std::string where = d->ff ? last_read(d->ff->getDataset()) : std::string();
    std::string meta = where.empty() && d->ff ? last_read(d->ff->getMetaInfo()) : std::string();
    std::string at = !where.empty() ? " (the last element read: " + where + ")"
                   : !meta.empty() ? " (in the File Meta Information, after " + meta + ")"
                   : std::string(" (before the first element)");
    if (words)
        return kk__fail(ctx, KK_ENOTDICOM, "cannot read '%s': %s%s", what, words, at.c_str());
    return kk__fail(ctx, KK_ENOTDICOM, "cannot read '%s': %s%s", what, cond.text(), at.c_str());
}

/* A transfer syntax newer than this DCMTK (HTJ2K, deflated image frames,
 * JPEG XL) is explicit VR little endian with encapsulated Pixel Data
 * (PS3.5 A.4): the header is de-identified as usual and the Pixel Data is
 * carried over byte for byte, under the original transfer syntax UID. */
static kk_status adopt_newer_syntax(kk_dcm *d, kk_ctx *ctx, const char *what, const char *uid)
{
    size_t n = strlen(uid);
    if (n == 0 || n > 64 || strspn(uid, "0123456789.") != n)
        return kk__fail(ctx, KK_ENOTDICOM, "cannot read '%s': (0002,0010) TransferSyntaxUID "
                        "'%s' is not a UID (PS3.5 9.1: digits and dots, at most 64)", what,
                        printable(uid, 64).c_str());
    bool encapsulated_family = strncmp(uid, "1.2.840.10008.1.2.4.", 20) == 0 ||
                               strcmp(uid, "1.2.840.10008.1.2.8.1") == 0;
    if (!encapsulated_family || d->ds->getOriginalXfer() != EXS_LittleEndianExplicit)
        return kk__fail(ctx, KK_ENOTDICOM, "cannot read '%s': (0002,0010) TransferSyntaxUID "
                        "'%s' is not a transfer syntax DCMTK %s knows", what,
                        printable(uid, 64).c_str(), OFFIS_DCMTK_VERSION_STRING);
    DcmElement *px = NULL;
    if (d->ds->findAndGetElement(DCM_PixelData, px, OFFalse).good() && px) {
        if (d->pix_off < 0 || d->pix_len != 0xFFFFFFFFu)
            return kk__fail(ctx, KK_ENOTDICOM, "cannot read '%s': (0002,0010) TransferSyntaxUID "
                            "'%s' needs encapsulated Pixel Data (7FE0,0010), and it is not",
                            what, printable(uid, 64).c_str());
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
        return read_failed(d, ctx, what, cond);
    OFString meta_ts;
    bool newer = d->ff->getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, meta_ts).good() &&
                 !meta_ts.empty() && DcmXfer(meta_ts.c_str()).getXfer() == EXS_Unknown;
    d->ds = d->ff->getAndRemoveDataset();
    if (!d->ds || d->ds->card() == 0)
        return kk__fail(ctx, KK_ENOTDICOM, "cannot read '%s': the file holds no data set "
                        "(no element after the File Meta Information)", what);
    E_TransferSyntax xfer = d->ds->getOriginalXfer();
    DcmXfer x(xfer);
    if (xfer == EXS_Unknown)
        return kk__fail(ctx, KK_ENOTDICOM, "cannot read '%s': the data set's encoding (its "
                        "transfer syntax) cannot be told from the file", what);
    d->ts_uid = x.getXferID();
    if (newer)
        return adopt_newer_syntax(d, ctx, what, meta_ts.c_str());
    return KK_OK;
}

/* --- nesting pre-scan ----------------------------------------------- */

/* DCMTK reads a sequence by recursion, a few stack frames per level, with
 * no limit: about 5,500 nested sequences overflow an 8 MiB stack. Three
 * defences, each enough for what the one before it may miss:
 *  1. Before DCMTK reads anything, walk the element headers (tag, VR,
 *     length; values are skipped, not read) and count how deep sequences
 *     go. The walk takes for a possible sequence whatever DCMTK could read
 *     as one: VR SQ, any undefined length, and any value of defined length
 *     whose first bytes are an Item tag, whatever its VR says (a UN that
 *     DCMTK converts to SQ by its dictionary, an implicit VR private
 *     sequence its private dictionary knows with the creator): such a
 *     value is walked as items, in implicit VR little endian below a UN
 *     (PS3.5 6.2.2, as DCMTK reads it). A deflated data set is inflated
 *     (zlib) as it is walked. A value taken for a sequence that is none
 *     only costs the walk; it cannot hide nesting after it, because every
 *     container ends where its length says.
 *  2. DCMTK parses on a thread of its own with a stack of KK_PARSE_STACK
 *     bytes (reserved, touched only as deep as the parse goes), enough for
 *     some 40,000 levels, 200 times the limit: a construction the walk
 *     does not know fails no worse than "nested too deep".
 *  3. After the parse, the data set's sequences are counted (a bounded
 *     walk of DCMTK's objects): deeper than KK_MAX_NESTING is refused, and
 *     the objects are freed on the big stack too. The same count runs
 *     before every write, so no output is deeper than the limit.
 * Cost per file: one thread start (about 25 us) and the walk of the
 * parsed objects (under 1% of the parse); measured in bench/README.md. */
#define KK_MAX_NESTING 200

/* Reads a file through one buffer with pread: the scan hops from header
 * to header, and stdio would make a system call for every hop. */
class byte_reader {
  public:
    explicit byte_reader(int fd) : fd_(fd) {}
    bool read(unsigned char *b, size_t n)
    {
        if (pos_ < base_ || pos_ + (long long)n > base_ + (long long)len_) {
            ssize_t got;
            do
                got = pread(fd_, buf_, sizeof buf_, (off_t)pos_);
            while (got < 0 && errno == EINTR);
            base_ = pos_;
            len_ = got > 0 ? (size_t)got : 0;
            if (len_ < n)
                return false;
        }
        memcpy(b, buf_ + (pos_ - base_), n);
        pos_ += (long long)n;
        return true;
    }
    bool skip(uint64_t n)
    {
        if (n > (uint64_t)(INT64_MAX - pos_))
            return false;
        pos_ += (long long)n;
        return true;
    }
    void seek(long long at) { pos_ = at; }
    long long tell() const { return pos_; }
    int fd() const { return fd_; }

  private:
    int fd_;
    long long pos_ = 0, base_ = 0;
    size_t len_ = 0;
    unsigned char buf_[1 << 16];
};

/* The inflated bytes of a deflated data set (PS3.5 A.5: raw deflate,
 * RFC 1951) starting at a file offset, read forward only. */
class inflate_reader {
  public:
    inflate_reader(int fd, long long at) : fd_(fd), file_pos_(at)
    {
        memset(&z_, 0, sizeof z_);
        ok_ = inflateInit2(&z_, -MAX_WBITS) == Z_OK;
    }
    ~inflate_reader()
    {
        if (ok_)
            inflateEnd(&z_);
    }
    inflate_reader(const inflate_reader &) = delete;
    inflate_reader &operator=(const inflate_reader &) = delete;
    bool read(unsigned char *b, size_t n)
    {
        while (n > 0) {
            if (out_pos_ == out_len_ && !fill())
                return false;
            size_t k = std::min(n, out_len_ - out_pos_);
            memcpy(b, out_ + out_pos_, k);
            out_pos_ += k;
            pos_ += (long long)k;
            b += k;
            n -= k;
        }
        return true;
    }
    bool skip(uint64_t n)
    {
        while (n > 0) {
            if (out_pos_ == out_len_ && !fill())
                return false;
            size_t k = (size_t)std::min<uint64_t>(n, out_len_ - out_pos_);
            out_pos_ += k;
            pos_ += (long long)k;
            n -= k;
        }
        return true;
    }
    long long tell() const { return pos_; }

  private:
    bool fill()
    {
        if (!ok_ || done_)
            return false;
        for (;;) {
            if (z_.avail_in == 0) {
                ssize_t got;
                do
                    got = pread(fd_, in_, sizeof in_, (off_t)file_pos_);
                while (got < 0 && errno == EINTR);
                if (got <= 0)
                    return false;
                file_pos_ += got;
                z_.next_in = in_;
                z_.avail_in = (uInt)got;
            }
            z_.next_out = out_;
            z_.avail_out = sizeof out_;
            int rc = inflate(&z_, Z_NO_FLUSH);
            out_pos_ = 0;
            out_len_ = sizeof out_ - z_.avail_out;
            if (rc == Z_STREAM_END)
                done_ = true;
            else if (rc != Z_OK && rc != Z_BUF_ERROR)
                ok_ = false;
            if (out_len_ > 0)
                return true;
            if (done_ || !ok_)
                return false;
        }
    }
    int fd_;
    long long file_pos_, pos_ = 0;
    z_stream z_;
    bool ok_, done_ = false;
    size_t out_pos_ = 0, out_len_ = 0;
    unsigned char in_[1 << 15], out_[1 << 16];
};

struct header_scan {
    bool big_endian, explicit_vr;
};

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
static bool scan_meta(byte_reader &fp, std::string *ts)
{
    unsigned char b[12];
    if ((fp.seek(128), false) || !fp.read(b, 4) || memcmp(b, "DICM", 4) != 0) {
        fp.seek(0);
        return false;
    }
    for (;;) {
        long long at = fp.tell();
        if (!fp.read(b, 8) || u16(b, false) != 0x0002) {
            fp.seek(at);
            return true;
        }
        uint32_t len = u16(b + 6, false);
        if (long_vr(b + 4)) {
            if (!fp.read(b + 8, 4))
                return true;
            len = u32(b + 8, false);
        }
        if (len == 0xFFFFFFFFu)
            return true; /* DCMTK will refuse it */
        if (u16(b + 2, false) == 0x0010 && len < 128) {
            char v[128];
            if (!fp.read((unsigned char *)v, len))
                return true;
            std::string t(v, len);
            while (!t.empty() && (t.back() == '\0' || t.back() == ' '))
                t.pop_back();
            *ts = t;
        } else if (!fp.skip(len)) {
            return true;
        }
    }
}

/* What scan_object() learns about a file before DCMTK reads it. */
struct scan_result {
    int depth;            /* deepest sequence nesting, up to limit + 1 */
    uint64_t elements;
    long long pix_off, pix_end; /* the top-level Pixel Data element, or -1 */
    uint32_t pix_len;
    char pix_vr[3];       /* as written; "" in implicit VR */
    bool pix_even;        /* its value, or every fragment, has an even length */
    long long stray_end;  /* an Item Delimitation Item outside any item, or -1 */
};

/* Encapsulated Pixel Data: step over the items to the sequence
 * delimiter. Returns the offset just past it, or -1. */
template <class Reader>
static long long skip_fragments(Reader &fp, bool be, bool *even)
{
    unsigned char b[8];
    for (;;) {
        if (!fp.read(b, 8) || u16(b, be) != 0xFFFE)
            return -1;
        uint16_t e = u16(b + 2, be);
        uint32_t len = u32(b + 4, be);
        if (e == 0xE0DD)
            return fp.tell();
        if (e != 0xE000 || len == 0xFFFFFFFFu || !fp.skip(len))
            return -1;
        *even = *even && len % 2 == 0;
    }
}

/* One container open in the walk: a sequence or an item. */
struct open_container {
    long long end;     /* where it ends; -1: undefined length */
    long long min_end; /* the nearest end of it and of those around it */
    bool seq;
    header_scan enc;   /* how its content is encoded */
};

/* Walk the element headers of a data set (values are skipped, not read):
 * how deep sequences may nest (see the comment above KK_MAX_NESTING), how
 * many elements there are, and, when top_pixels, where the top-level Pixel
 * Data lies. */
template <class Reader>
static void walk_data_set(Reader &fp, header_scan top, int limit, bool top_pixels,
                          scan_result *r)
{
    std::vector<open_container> open;
    int seqs = 0;
    auto push = [&](long long end, bool seq, header_scan enc) {
        long long outer = open.empty() ? -1 : open.back().min_end;
        long long m = end < 0 ? outer : outer < 0 ? end : std::min(outer, end);
        open.push_back(open_container{ end, m, seq, enc });
        seqs += seq ? 1 : 0;
        r->depth = std::max(r->depth, std::min(seqs, limit + 1));
    };
    auto pop = [&]() {
        seqs -= open.back().seq ? 1 : 0;
        open.pop_back();
    };
    const header_scan un_content = { false, false }; /* implicit VR little endian */
    for (;;) {
        long long at = fp.tell();
        /* a container ends where its length says, and with it all inside */
        while (!open.empty() && open.back().min_end >= 0 && at >= open.back().min_end)
            pop();
        if (seqs > limit)
            return;
        header_scan h = open.empty() ? top : open.back().enc;
        unsigned char b[12];
        if (!fp.read(b, 8))
            return;
        uint16_t g = u16(b, h.big_endian), e = u16(b + 2, h.big_endian);
        ++r->elements;
        if (g == 0xFFFE) {
            uint32_t len = u32(b + 4, h.big_endian);
            bool undef_top = !open.empty() && open.back().end < 0;
            if (e == 0xE000) {
                push(len == 0xFFFFFFFFu ? -1 : at + 8 + (long long)len, false, h);
            } else if (e == 0xE00D) {
                if (undef_top && !open.back().seq)
                    pop();
                else if (open.empty() && r->stray_end < 0)
                    r->stray_end = at;
            } else if (e == 0xE0DD) {
                if (undef_top && !open.back().seq && open.size() >= 2 &&
                    open[open.size() - 2].seq && open[open.size() - 2].end < 0)
                    pop(); /* an item left open by its sequence's end */
                if (!open.empty() && open.back().seq && open.back().end < 0)
                    pop();
            }
            continue;
        }
        uint32_t len;
        bool sq = false, un = false;
        long long start;
        if (h.explicit_vr && b[4] >= 'A' && b[4] <= 'Z' && b[5] >= 'A' && b[5] <= 'Z') {
            if (long_vr(b + 4)) {
                if (!fp.read(b + 8, 4))
                    return;
                len = u32(b + 8, h.big_endian);
                start = at + 12;
            } else {
                len = u16(b + 6, h.big_endian);
                start = at + 8;
            }
            sq = b[4] == 'S' && b[5] == 'Q';
            un = b[4] == 'U' && b[5] == 'N';
        } else {
            len = u32(b + 4, h.big_endian);
            start = at + 8;
        }
        if (g == 0x7FE0 && e == 0x0010 && !sq) {
            if (!open.empty() || !top_pixels) {
                bool even = true;
                if (len == 0xFFFFFFFFu ? skip_fragments(fp, h.big_endian, &even) < 0 : !fp.skip(len))
                    return;
                continue;
            }
            /* a later one (a second header) makes the first unusable */
            r->pix_off = r->pix_end = -1;
            bool even = len % 2 == 0 || len == 0xFFFFFFFFu;
            long long end = len == 0xFFFFFFFFu ? skip_fragments(fp, h.big_endian, &even)
                            : fp.skip(len) ? start + (long long)len : -1;
            if (end < 0)
                return;
            r->pix_off = at;
            r->pix_end = end;
            r->pix_len = len;
            r->pix_even = even;
            bool explicit_vr = start - at == 12;
            r->pix_vr[0] = explicit_vr ? (char)b[4] : '\0';
            r->pix_vr[1] = explicit_vr ? (char)b[5] : '\0';
            r->pix_vr[2] = '\0';
            continue;
        }
        /* what is read below a UN is implicit VR little endian */
        header_scan inner = un ? un_content : h;
        if (len == 0xFFFFFFFFu) {
            /* a sequence (a UN one too), or encapsulated pixel data: items follow */
            push(-1, true, inner);
        } else if (sq) {
            push(start + (long long)len, true, inner);
        } else if (len >= 8) {
            /* any other value that begins with an Item may be read as a
             * sequence: by the dictionary (implicit VR, private ones by
             * their creator) or by UN conversion */
            unsigned char v[8];
            if (!fp.read(v, 8))
                return;
            if (u16(v, inner.big_endian) == 0xFFFE && u16(v + 2, inner.big_endian) == 0xE000) {
                uint32_t il = u32(v + 4, inner.big_endian);
                push(start + (long long)len, true, inner);
                ++r->elements;
                push(il == 0xFFFFFFFFu ? -1 : start + 8 + (long long)il, false, inner);
            } else if (!fp.skip(len - 8)) {
                return;
            }
        } else if (!fp.skip(len)) {
            return;
        }
    }
}

/* The walk of a whole file: File Meta Information for the transfer
 * syntax, then the data set, inflated when deflated. */
static void scan_object(byte_reader &fp, int limit, scan_result *r)
{
    *r = scan_result{ 0, 0, -1, -1, 0, "", false, -1 };
    std::string ts;
    bool meta = scan_meta(fp, &ts);
    header_scan h = { false, true };
    if (meta) {
        if (ts == "1.2.840.10008.1.2")
            h.explicit_vr = false;
        else if (ts == "1.2.840.10008.1.2.2")
            h.big_endian = true;
        else if (ts.compare(0, 22, "1.2.840.10008.1.2.1.99") == 0) {
            /* deflated explicit VR little endian: the walk sees what
             * DCMTK will inflate; Pixel Data is not copied raw from it */
            inflate_reader z(fp.fd(), fp.tell());
            walk_data_set(z, h, limit, false, r);
            return;
        }
    } else {
        /* no meta: DCMTK guesses from the first element */
        unsigned char b[6];
        long long at = fp.tell();
        if (!fp.read(b, 6))
            return;
        fp.seek(at);
        h.explicit_vr = b[4] >= 'A' && b[4] <= 'Z' && b[5] >= 'A' && b[5] <= 'Z';
    }
    walk_data_set(fp, h, limit, true, r);
}

/* What DCMTK spends per element read (object, list node, value),
 * measured: 1,000,000 empty elements take about 210 MB. */
#define KK_BYTES_PER_ELEMENT 200

/* Refuse, before DCMTK reads it, an object nested too deep for its
 * recursive reader, or with so many elements that holding them would
 * take more than half of the memory this process may use (the machine's,
 * or ulimit -v): a 2 GB file of empty elements would need 50 GB. */
static kk_status check_nesting(kk_ctx *ctx, const char *what, int fd, scan_result *r)
{
    *r = scan_result{ 0, 0, -1, -1, 0, "", false, -1 };
    if (fd < 0)
        return KK_OK; /* DCMTK reports the open error */
    {
        byte_reader in(fd);
        scan_object(in, KK_MAX_NESTING, r);
    }
    close(fd);
    uint64_t n = r->elements;
    if (r->depth > KK_MAX_NESTING)
        return kk__fail(ctx, KK_ELIMIT, "cannot read '%s': sequences nested deeper than %d",
                        what, KK_MAX_NESTING);
    /* DCMTK ends the data set there, and what follows would be lost */
    if (r->stray_end >= 0)
        return kk__fail(ctx, KK_ENOTDICOM, "cannot read '%s': an Item Delimitation Item "
                        "(FFFE,E00D) at byte %lld stands outside any item (PS3.5 7.5)", what,
                        r->stray_end);
    if (n < 4096)
        return KK_OK; /* under 1 MB of DCMTK objects: no machine is that small */
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

/* How deep sequences nest below item (here levels deep already), up to
 * limit + 1: the recursion is bounded by the limit. */
static int seq_depth(DcmItem *item, int here, int limit)
{
    int best = here;
    for (DcmObject *o = item->nextInContainer(NULL); o && best <= limit;
         o = item->nextInContainer(o)) {
        if (o->ident() != EVR_SQ)
            continue;
        if (here + 1 > limit)
            return limit + 1;
        best = std::max(best, here + 1);
        DcmSequenceOfItems *sq = static_cast<DcmSequenceOfItems *>(o);
        for (DcmObject *i = sq->nextInContainer(NULL); i && best <= limit;
             i = sq->nextInContainer(i))
            best = std::max(best, seq_depth(static_cast<DcmItem *>(i), here + 1, limit));
    }
    return best;
}

/* DCMTK's parse on a stack of its own (see KK_MAX_NESTING). 32 MiB are
 * reserved, not used: only the pages the recursion touches are. */
#define KK_PARSE_STACK ((size_t)32 << 20)

struct parse_job {
    DcmFileFormat *ff;
    const char *path;
    uint32_t lazy;
    OFCondition cond;
    int depth;
    bool nomem, failed;
};

static void *parse_main(void *arg)
{
    parse_job *j = static_cast<parse_job *>(arg);
    try {
        j->cond = j->ff->loadFile(OFFilename(j->path), EXS_Unknown, EGL_noChange,
                                  j->lazy ? j->lazy : 4096, ERM_autoDetect);
        /* a failed read keeps what it read, for read_failed()'s message:
         * counted too, so a deep part is freed here, on this stack */
        DcmDataset *ds = j->ff->getDataset();
        if (ds)
            j->depth = seq_depth(ds, 0, KK_MAX_NESTING);
    } catch (const std::bad_alloc &) {
        j->nomem = true;
    } catch (...) {
        j->failed = true;
    }
    if (j->nomem || j->failed || j->depth > KK_MAX_NESTING) {
        /* whatever was read is freed by recursion too: here, on this stack */
        delete j->ff;
        j->ff = NULL;
    }
    return NULL;
}

static void run_parse(parse_job *j)
{
    pthread_attr_t a;
    pthread_t t;
    bool started = false;
    if (pthread_attr_init(&a) == 0) {
        started = pthread_attr_setstacksize(&a, KK_PARSE_STACK) == 0 &&
                  pthread_create(&t, &a, parse_main, j) == 0;
        pthread_attr_destroy(&a);
    }
    if (started)
        pthread_join(t, NULL);
    else
        parse_main(j); /* no thread (ulimit -v): the walk still bounds the depth */
}

static kk_status load_open(kk_dcm **out, kk_ctx *ctx, const char *open_as, const char *path,
                           const char *what, uint32_t lazy_threshold, const scan_result &scan,
                           int fd);

/* Load path; what names it in messages; fn (may be NULL) sees it first. */
static kk_status load_as(kk_dcm **out, kk_ctx *ctx, const char *path, const char *what,
                         uint32_t lazy_threshold, kk_dcm_source_fn fn = NULL,
                         void *payload = NULL)
{
    *out = NULL;
    kk_dcm__init();
    /* Only a regular file is read: a FIFO, socket or device would block
     * (or never end), so the type is checked on the open descriptor,
     * opened without waiting, and DCMTK reads that same file through it. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0) {
        int e = errno; /* a socket cannot be opened at all (ENXIO) */
        if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
            return kk__fail(ctx, KK_ENOTDICOM, "cannot read '%s': not a regular file but %s",
                            what, kk__file_kind(sb.st_mode));
        return kk__fail(ctx, KK_ENOTDICOM, "cannot read '%s': %s", what, strerror(e));
    }
    if (fstat(fd, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        close(fd);
        return kk__fail(ctx, KK_ENOTDICOM, "cannot read '%s': not a regular file but %s", what,
                        kk__file_kind(sb.st_mode));
    }
    char via[64] = "";
    if (fcntl(fd, F_SETFL, O_RDONLY) == 0)
        snprintf(via, sizeof via, "/proc/self/fd/%d", fd);
    if (via[0] && access(via, R_OK) != 0)
        via[0] = '\0'; /* no /proc: DCMTK opens the path again */
    if (fn) {
        struct stat now;
        if (fstat(fd, &now) != 0) {
            int e = errno;
            close(fd);
            return kk__fail(ctx, KK_ENOTDICOM, "cannot read '%s': %s", what, strerror(e));
        }
        kk_status seen = fn(payload, ctx, fd, (uint64_t)now.st_size);
        if (seen != KK_OK) {
            close(fd);
            return seen;
        }
    }
    scan_result scan;
    kk_status nest = check_nesting(ctx, what, fcntl(fd, F_DUPFD_CLOEXEC, 0), &scan);
    if (nest != KK_OK) {
        close(fd);
        return nest;
    }
    kk_status st = load_open(out, ctx, via[0] ? via : path, path, what, lazy_threshold, scan, fd);
    if (st != KK_OK)
        close(fd);
    return st;
}

/* Load the input DCMTK opens as open_as (path, or /proc/self/fd/N for
 * fd); the result keeps fd. */
static kk_status load_open(kk_dcm **out, kk_ctx *ctx, const char *open_as, const char *path,
                           const char *what, uint32_t lazy_threshold, const scan_result &scan,
                           int fd)
{
    kk_dcm *d = new (std::nothrow) kk_dcm();
    if (!d)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    d->pix_off = scan.pix_off;
    d->pix_end = scan.pix_end;
    d->pix_len = scan.pix_len;
    d->pix_even = scan.pix_even;
    memcpy(d->pix_vr, scan.pix_vr, sizeof d->pix_vr);
    try {
        d->path = path;
        d->ff = new DcmFileFormat();
        parse_job pj = { d->ff, open_as, lazy_threshold, EC_Normal, 0, false, false };
        run_parse(&pj);
        d->ff = pj.ff;
        kk_status st = pj.nomem ? kk__fail(ctx, KK_ENOMEM, "cannot read '%s': out of memory", what)
                       : pj.failed ? kk__fail(ctx, KK_ENOTDICOM, "cannot read '%s': parser failure",
                                              what)
                       : pj.depth > KK_MAX_NESTING
                           ? kk__fail(ctx, KK_ELIMIT, "cannot read '%s': sequences nested deeper "
                                      "than %d", what, KK_MAX_NESTING)
                           : finish_load(d, ctx, what, pj.cond);
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
    d->srcfd = fd;
    struct stat sb;
    if (fstat(fd, &sb) == 0) {
        d->src_dev = sb.st_dev;
        d->src_ino = sb.st_ino;
    }
    *out = d;
    return KK_OK;
}

/* DCMTK reads lazy values by reopening /proc/self/fd/N. Should anything
 * in the process close N by mistake, N may come back as another input's
 * descriptor, and that input's bytes would be written into this output.
 * So the output is kept only if N is still the file it was at load. */
static bool source_intact(const kk_dcm *d)
{
    if (d->srcfd < 0)
        return true;
    struct stat sb;
    if (fstat(d->srcfd, &sb) != 0 || sb.st_dev != d->src_dev || sb.st_ino != d->src_ino)
        return false;
    /* a buffer's memfd is the same file as srcfd (opened through it) */
    return d->memfd < 0 ||
           (fstat(d->memfd, &sb) == 0 && sb.st_dev == d->src_dev && sb.st_ino == d->src_ino);
}

kk_status kk_dcm__load(kk_dcm **out, kk_ctx *ctx, const char *path, uint32_t lazy_threshold)
{
    return load_as(out, ctx, path, path, lazy_threshold);
}

kk_status kk_dcm__load_source(kk_dcm **out, kk_ctx *ctx, const char *path,
                              uint32_t lazy_threshold, kk_dcm_source_fn fn, void *payload)
{
    return load_as(out, ctx, path, path, lazy_threshold, fn, payload);
}

void kk_dcm__free(kk_dcm *d)
{
    if (!d)
        return;
    delete d->ds;
    delete d->ff;
    if (d->memfd >= 0)
        close(d->memfd);
    if (d->srcfd >= 0)
        close(d->srcfd);
    delete d;
}

kk_dcm_item *kk_dcm__dataset(kk_dcm *d) { return CI(d->ds); }
kk_dcm_item *kk_dcm__meta(kk_dcm *d) { return CI(d->ff->getMetaInfo()); }
const char *kk_dcm__transfer_syntax(kk_dcm *d) { return d->ts_uid.c_str(); }
const char *kk_dcm__path(const kk_dcm *d) { return d->path.c_str(); }

static std::string missing_pixel_attrs(DcmItem *ds)
{
    static const DcmTagKey need[] = { DCM_SamplesPerPixel, DCM_PhotometricInterpretation,
                                      DCM_Rows, DCM_Columns, DCM_BitsAllocated,
                                      DCM_BitsStored, DCM_HighBit, DCM_PixelRepresentation };
    std::string s;
    if (!ds || !ds->tagExists(DCM_PixelData))
        return s;
    for (const DcmTagKey &k : need) {
        DcmElement *e = NULL;
        if (ds->findAndGetElement(k, e, OFFalse).good() && e && e->getLength() > 0)
            continue;
        if (!s.empty())
            s += ", ";
        s += tag_words(k);
    }
    return s;
}

const char *kk_dcm__missing_pixel_attrs(kk_dcm *d, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", d ? missing_pixel_attrs(d->ds).c_str() : "");
    return buf;
}

const char *kk_dcm__condition_words(unsigned short module, unsigned short code)
{
    return dicom_words(OFCondition(module, code, OF_error, ""));
}
void *kk_dcm__dcmtk_dataset(kk_dcm *d)
{
    /* whoever holds the DCMTK data set may change the pixels */
    d->pixels_exposed = true;
    return d->ds;
}
bool kk_dcm__pixels_carried_raw(const kk_dcm *d) { return d->raw_pixels; }
bool kk_dcm__pixels_copied(const kk_dcm *d) { return d->pixels_copied; }

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
    /* nothing deeper than a reader may take is written (KK_MAX_NESTING) */
    if (seq_depth(d->ds, 0, KK_MAX_NESTING) > KK_MAX_NESTING)
        return kk__fail(ctx, KK_ELIMIT, "cannot write '%s': sequences nested deeper than %d",
                        what, KK_MAX_NESTING);
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
        if (cond.bad()) {
            const char *words = dicom_words(cond);
            std::string lacks = missing_pixel_attrs(d->ds);
            if (words && !lacks.empty()) /* what DCMTK's pixel codecs looked for */
                st = kk__fail(ctx, KK_ENOTDICOM, "cannot write the de-identified '%s': its Pixel "
                              "Data (7FE0,0010) cannot be decoded or re-encoded without %s "
                              "(Image Pixel Module, Type 1), which the input lacks",
                              d->path.c_str(), lacks.c_str());
            else if (words) /* the input's fault: name the input */
                st = kk__fail(ctx, KK_ENOTDICOM, "cannot write the de-identified '%s': %s",
                              d->path.c_str(), words);
            else if (strncmp(what, "/proc/self/fd/", 14) == 0)
                st = kk__fail(ctx, KK_EIO, "cannot write the output of '%s': %s", d->path.c_str(),
                              cond.text());
            else
                st = kk__fail(ctx, KK_EIO, "cannot write '%s': %s", what, cond.text());
        }
    } catch (const std::bad_alloc &) {
        st = kk__fail(ctx, KK_ENOMEM, "cannot write '%s': out of memory", what);
    } catch (...) {
        st = kk__fail(ctx, KK_EINTERNAL, "cannot write '%s': writer failure", what);
    }
    if (st == KK_OK && !source_intact(d))
        st = kk__fail(ctx, KK_EINTERNAL, "cannot write '%s': the descriptor of its input was "
                      "closed and reused while it was read: not written", what);
    if (out) {
        /* the data set belongs to d: take it back before out dies */
        DcmDataset *ds = out->getAndRemoveDataset();
        (void)ds;
        delete out;
    }
    return st;
}

/* Copy [off, end) of in to the end of out: in the kernel when it can
 * (copy_file_range: no copy through user space, a reflink where the file
 * system shares blocks), else through a buffer. */
static bool copy_range(int in, int out, long long off, long long end)
{
    if (lseek(out, 0, SEEK_END) < 0)
        return false;
    loff_t from = (loff_t)off;
    bool kernel = true;
    while (from < end) {
        size_t want = (size_t)std::min<long long>(end - from, 1LL << 30);
        ssize_t n;
        if (kernel) {
            n = copy_file_range(in, &from, out, NULL, want, 0);
            if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP ||
                          errno == EINVAL || errno == EBADF)) {
                kernel = false;
                continue;
            }
        } else {
            char chunk[1 << 16];
            n = pread(in, chunk, std::min(want, sizeof chunk), (off_t)from);
            for (ssize_t w = 0; n > 0 && w < n;) {
                ssize_t k = write(out, chunk + w, (size_t)(n - w));
                if (k < 0 && errno == EINTR)
                    continue;
                if (k <= 0)
                    return false;
                w += k;
            }
            if (n > 0)
                from += n;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO; /* the input got shorter */
            return false;
        }
    }
    return true;
}

/* Append the input's Pixel Data element to what DCMTK wrote. */
static kk_status append_raw_pixels(kk_dcm *d, kk_ctx *ctx, const char *path)
{
    if (!source_intact(d))
        return kk__fail(ctx, KK_EINTERNAL, "cannot write '%s': the descriptor of its input was "
                        "closed and reused while it was read: not written", path);
    int in = d->srcfd >= 0 ? fcntl(d->srcfd, F_DUPFD_CLOEXEC, 0) : open(d->path.c_str(), O_RDONLY | O_CLOEXEC);
    int out = open(path, O_WRONLY | O_CLOEXEC);
    bool ok = in >= 0 && out >= 0 && copy_range(in, out, d->pix_off, d->pix_end);
    int saved = errno;
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    errno = saved;
    return ok ? KK_OK : kk__fail(ctx, KK_EIO, "cannot write '%s': %s", path, strerror(errno));
}

/* The data set's last element (the list has no tail pointer to ask). */
static DcmObject *last_element(DcmDataset *ds)
{
    DcmObject *last = NULL, *o = NULL;
    while ((o = ds->nextInContainer(o)) != NULL)
        last = o;
    return last;
}

/* The top-level Pixel Data, when it may be carried from the input byte
 * for byte: nothing can have changed it (lib/pixel never had the data set,
 * its length is as read, a native value was never loaded), it is the last
 * element to write, the transfer syntax stays, and DCMTK would have
 * written the same bytes (it pads odd lengths, and writes encapsulated
 * Pixel Data as OB whatever the input said). */
static DcmElement *carried_pixels(kk_dcm *d)
{
    if (d->raw_pixels || d->pix_off < 0 || d->pixels_exposed || !d->pix_even)
        return NULL;
    if (d->out_xfer != EXS_Unknown && d->out_xfer != d->ds->getOriginalXfer())
        return NULL;
    DcmObject *last = last_element(d->ds);
    if (!last || last->getTag() != DCM_PixelData || !last->isLeaf())
        return NULL;
    DcmElement *px = static_cast<DcmElement *>(last);
    if (px->getLengthField() != d->pix_len)
        return NULL;
    if (d->pix_len != 0xFFFFFFFFu && px->valueLoaded())
        return NULL;
    const char *vr = d->pix_len == 0xFFFFFFFFu ? "OB" : DcmVR(px->getVR()).getVRName();
    if (d->pix_vr[0] && strcmp(d->pix_vr, vr) != 0)
        return NULL;
    return px;
}

kk_status kk_dcm__save(kk_dcm *d, kk_ctx *ctx, const char *path)
{
    if (d->raw_pixels) {
        /* Pixel Data must stay the last element */
        DcmObject *last = last_element(d->ds);
        if (last && last->getTag() > DCM_PixelData)
            return kk__fail(ctx, KK_EINTERNAL, "cannot write '%s': elements follow Pixel Data",
                            path);
    }
    DcmElement *px = carried_pixels(d);
    if (px)
        d->ds->remove(px);
    kk_status st = save_with(d, ctx, path, [&](DcmFileFormat *out, E_TransferSyntax xfer) {
        return out->saveFile(OFFilename(path), xfer, EET_ExplicitLength, EGL_withoutGL,
                             EPD_withoutPadding, 0, 0, EWM_dontUpdateMeta);
    });
    if (px && d->ds->insert(px).bad())
        delete px; /* cannot happen: its place was just freed */
    if (st == KK_OK && (d->raw_pixels || px))
        st = append_raw_pixels(d, ctx, path);
    d->pixels_copied = st == KK_OK && px;
    return st;
}

/* Have DCMTK write ff into a buffer a chunk at a time, each chunk handed
 * to emit(data, len) before the next is made; emit returns false to stop
 * (a write error). */
template <typename Emit>
static OFCondition write_chunks(DcmFileFormat *ff, E_TransferSyntax xfer, Emit emit)
{
    char chunk[1 << 16];
    DcmOutputBufferStream os(chunk, sizeof chunk);
    DcmWriteCache wcache;
    ff->transferInit();
    OFCondition c = EC_StreamNotifyClient;
    while (c == EC_StreamNotifyClient) {
        c = ff->write(os, xfer, EET_ExplicitLength, &wcache, EGL_withoutGL, EPD_withoutPadding,
                      0, 0, 0, EWM_dontUpdateMeta);
        void *p = NULL;
        offile_off_t n = 0;
        os.flushBuffer(p, n);
        if (n > 0 && !emit(p, (size_t)n))
            c = makeOFCondition(OFM_dcmdata, 18, OF_error, strerror(errno));
    }
    ff->transferEnd();
    return c;
}

/* Write all of data to fd, and show it to sink: false with errno. */
static bool put_all(int fd, const void *data, size_t len, kk_dcm_sink_fn sink, void *payload)
{
    if (!kk__write_all(fd, data, len))
        return false;
    if (sink && len)
        sink(payload, data, len);
    return true;
}

/* Append [off, end) of the input to fd and to sink: from src when it holds
 * them (the bytes the caller hashed as the input), else read again. */
static bool put_source(kk_dcm *d, int fd, long long off, long long end, const void *src,
                       size_t src_len, kk_dcm_sink_fn sink, void *payload)
{
    if (src && off >= 0 && end >= off && (unsigned long long)end <= src_len)
        return put_all(fd, static_cast<const char *>(src) + off, (size_t)(end - off), sink,
                       payload);
    int in = d->srcfd >= 0 ? fcntl(d->srcfd, F_DUPFD_CLOEXEC, 0)
                           : open(d->path.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return false;
    std::vector<char> chunk((size_t)1 << 17);
    bool ok = true;
    for (long long at = off; ok && at < end;) {
        ssize_t n = pread(in, chunk.data(), (size_t)std::min<long long>(end - at, (long long)chunk.size()),
                          (off_t)at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO; /* the input got shorter */
            ok = false;
            break;
        }
        ok = put_all(fd, chunk.data(), (size_t)n, sink, payload);
        at += n;
    }
    int saved = errno;
    close(in);
    errno = saved;
    return ok;
}

kk_status kk_dcm__save_sink(kk_dcm *d, kk_ctx *ctx, const char *path, const void *src,
                            size_t src_len, kk_dcm_sink_fn sink, void *payload)
{
    if (d->raw_pixels) {
        DcmObject *last = last_element(d->ds);
        if (last && last->getTag() > DCM_PixelData)
            return kk__fail(ctx, KK_EINTERNAL, "cannot write '%s': elements follow Pixel Data",
                            path);
    }
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0)
        return kk__fail(ctx, KK_EIO, "cannot write '%s': %s", path, strerror(errno));
    DcmElement *px = carried_pixels(d);
    if (px)
        d->ds->remove(px);
    int write_errno = 0;
    /* DCMTK writes into a buffer a chunk at a time; each chunk goes to the
     * file and to sink before the next is made */
    kk_status st = save_with(d, ctx, path, [&](DcmFileFormat *ff, E_TransferSyntax xfer) {
        return write_chunks(ff, xfer, [&](const void *p, size_t n) {
            if (put_all(fd, p, n, sink, payload))
                return true;
            write_errno = errno;
            return false;
        });
    });
    if (px && d->ds->insert(px).bad())
        delete px; /* cannot happen: its place was just freed */
    if (st == KK_OK && (d->raw_pixels || px)) {
        if (!source_intact(d))
            st = kk__fail(ctx, KK_EINTERNAL, "cannot write '%s': the descriptor of its input "
                          "was closed and reused while it was read: not written", path);
        else if (!put_source(d, fd, d->pix_off, d->pix_end, src, src_len, sink, payload)) {
            write_errno = errno;
            st = kk__fail(ctx, KK_EIO, "cannot write '%s': %s", path, strerror(errno));
        }
    }
    if (close(fd) != 0 && st == KK_OK) {
        write_errno = errno;
        st = kk__fail(ctx, KK_EIO, "cannot write '%s': %s", path, strerror(errno));
    }
    d->pixels_copied = st == KK_OK && px;
    if (st != KK_OK && write_errno)
        errno = write_errno; /* the caller names ENOSPC, EFBIG, EDQUOT */
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

kk_status kk_dcm__get_bytes(kk_dcm_elem *ke, const unsigned char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    DcmElement *e = EL(ke);
    /* (a private element of an implicit VR file whose creator DCMTK does
     * not know is EVR_UNKNOWN: its bytes as read) */
    if (e->ident() != EVR_UN && e->ident() != EVR_OB && e->ident() != EVR_UNKNOWN &&
        e->ident() != EVR_UNKNOWN2B)
        return KK_EINVAL;
    Uint8 *b = NULL;
    if (e->getUint8Array(b).bad() || !b)
        return KK_OK; /* empty */
    *out = b;
    *len = e->getLength();
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

/* An element kakou writes is there already with another VR (an input
 * that holds, say, DeidentificationMethodCodeSequence as LO): say which
 * element and how it differs, in PS3.6's terms. */
static kk_status not_as_expected(kk_dcm_item *item, kk_ctx *ctx, const DcmTagKey &key,
                                 const char *doing, const OFCondition &c)
{
    DcmElement *e = NULL;
    if (IT(item)->findAndGetElement(key, e, OFFalse).good() && e) {
        DcmTag dict(key);
        DcmVR had(e->getVR());
        if (dict.getEVR() != e->ident())
            return kk__fail(ctx, KK_ENOTDICOM, "%s %s: the input has it with VR %s, where "
                            "PS3.6 says %s", doing, tag_words(key).c_str(), had.getVRName(),
                            DcmVR(dict.getEVR()).getVRName());
    }
    const char *words = dicom_words(c);
    return kk__fail(ctx, KK_EINTERNAL, "%s %s: %s", doing, tag_words(key).c_str(),
                    words ? words : c.text());
}

kk_status kk_dcm__put_string(kk_dcm_item *item, kk_ctx *ctx, uint32_t tag, const char *s)
{
    DcmTagKey key((Uint16)(tag >> 16), (Uint16)(tag & 0xffff));
    OFCondition c = IT(item)->putAndInsertString(key, s, OFTrue);
    if (c.bad())
        return not_as_expected(item, ctx, key, "cannot insert", c);
    return KK_OK;
}

kk_status kk_dcm__append_item(kk_dcm_item *item, kk_ctx *ctx, uint32_t tag, kk_dcm_item **out)
{
    DcmTagKey key((Uint16)(tag >> 16), (Uint16)(tag & 0xffff));
    DcmItem *n = NULL;
    OFCondition c = IT(item)->findOrCreateSequenceItem(key, n, -2 /* append */);
    if (c.bad() || !n)
        return not_as_expected(item, ctx, key, "cannot add an item to", c);
    *out = CI(n);
    return KK_OK;
}

/* --- version (the dictionary is in dict_dcmtk.cc) ------------------- */

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
        OFCondition c = write_chunks(ff, xfer, [&](const void *p, size_t n) {
            kk__buf_add(outbuf, p, n);
            return true;
        });
        if (c.good() && outbuf->failed)
            throw std::bad_alloc();
        return c;
    });
    return st;
}
