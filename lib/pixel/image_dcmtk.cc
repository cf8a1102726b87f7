/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/image_dcmtk.cc - decode the Pixel Data of a loaded object into
 * a kk_image and encode it back, over DCMTK (native, RLE, JPEG, JPEG-LS)
 * and j2k_openjpeg.c (JPEG 2000, which DCMTK 3.6.7 cannot do).
 *
 * Invariants: (1) decoding never changes the object: DCMTK's codecs run on
 * a scratch data set holding a copy of the pixel module, because they
 * rewrite PhotometricInterpretation and friends as they go; (2) encoding
 * touches only the top-level Pixel Data (an icon image keeps its own
 * encoding) and the pixel module attributes that must follow it; (3) a
 * lossless input is written in its own transfer syntax, a lossy one as the
 * caller's policy says, and LossyImageCompression never goes back from
 * "01"; (4) codecs are registered once per process, SOP Instance UIDs are
 * never made up by them; (5) no exception reaches C.
 * Messages name the file and the problem, never a value (R04).
 */
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcofsetl.h"
#include "dcmtk/dcmdata/dcpixel.h"
#include "dcmtk/dcmdata/dcpixseq.h"
#include "dcmtk/dcmdata/dcpxitem.h"
#include "dcmtk/dcmdata/dcrledrg.h"
#include "dcmtk/dcmdata/dcrleerg.h"
#include "dcmtk/dcmdata/dcrlerp.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmdata/dcxfer.h"
#include "dcmtk/dcmimage/diregist.h" /* colour images for the lossy encoders */
#include "dcmtk/dcmjpeg/djdecode.h"
#include "dcmtk/dcmjpeg/djencode.h"
#include "dcmtk/dcmjpeg/djrplol.h"
#include "dcmtk/dcmjpeg/djrploss.h"
#include "dcmtk/dcmjpls/djdecode.h"
#include "dcmtk/dcmjpls/djencode.h"
#include "dcmtk/dcmjpls/djrparam.h"

extern "C" {
#include "core/core.h"
#include "dicom/dicom.h"
#include "pixel/image_internal.h"
#include "pixel/j2k.h"
#include "pixel/jls.h"
}

/* Above this many bytes of samples an object is refused (KK_ELIMIT). */
#define KK_IMAGE_MAX_BYTES ((size_t)1 << 30)

static std::once_flag codecs_once;

static void register_codecs()
{
    std::call_once(codecs_once, [] {
        kk_dcm__init();
        /* YCbCr JPEG comes out as RGB; no codec may invent a UID */
        DJDecoderRegistration::registerCodecs(EDC_photometricInterpretation, EUC_never);
        DJEncoderRegistration::registerCodecs(ECC_lossyYCbCr, EUC_never, OFFalse, 0, 0, 0, OFTrue,
                                              ESS_444, OFFalse);
        DJLSDecoderRegistration::registerCodecs(EJLSUC_never);
        /* raw, not "cooked" through DicomImage, which breaks signed pixels */
        DJLSEncoderRegistration::registerCodecs(0, 0, 0, 0, OFFalse, 0, OFTrue, EJLSUC_never);
        DcmRLEDecoderRegistration::registerCodecs(OFFalse, OFFalse);
        DcmRLEEncoderRegistration::registerCodecs(OFFalse, 0, OFTrue, OFFalse);
    });
}

/* What a transfer syntax is to this layer. */
enum ts_kind { TS_NATIVE, TS_RLE, TS_JPEG_LOSSLESS, TS_JPEG_LOSSY, TS_JLS_LOSSLESS, TS_JLS_LOSSY,
               TS_J2K_LOSSLESS, TS_J2K, TS_OTHER };

static ts_kind kind_of(E_TransferSyntax x)
{
    switch (x) {
    case EXS_LittleEndianImplicit: case EXS_LittleEndianExplicit: case EXS_BigEndianExplicit:
    case EXS_BigEndianImplicit: case EXS_DeflatedLittleEndianExplicit:
        return TS_NATIVE;
    case EXS_RLELossless: return TS_RLE;
    case EXS_JPEGProcess14: case EXS_JPEGProcess14SV1: return TS_JPEG_LOSSLESS;
    case EXS_JPEGProcess1: case EXS_JPEGProcess2_4: return TS_JPEG_LOSSY;
    case EXS_JPEGLSLossless: return TS_JLS_LOSSLESS;
    case EXS_JPEGLSLossy: return TS_JLS_LOSSY;
    case EXS_JPEG2000LosslessOnly: return TS_J2K_LOSSLESS;
    case EXS_JPEG2000: return TS_J2K;
    default: return TS_OTHER;
    }
}

static bool kind_lossy(ts_kind k)
{
    return k == TS_JPEG_LOSSY || k == TS_JLS_LOSSY || k == TS_J2K;
}

struct img_deleter {
    void operator()(kk_image *i) const { kk_image__free(i); }
};
typedef std::unique_ptr<kk_image, img_deleter> img_ptr;

static Uint16 get_us(DcmItem *it, const DcmTagKey &k, Uint16 dflt, bool *present = NULL)
{
    Uint16 v = 0;
    bool ok = it->findAndGetUint16(k, v).good();
    if (present)
        *present = ok;
    return ok ? v : dflt;
}

static std::string get_cs(DcmItem *it, const DcmTagKey &k)
{
    OFString v;
    if (it->findAndGetOFString(k, v).bad())
        return "";
    std::string s = v.c_str();
    while (!s.empty() && s.back() == ' ')
        s.pop_back();
    return s;
}

static DcmPixelData *top_pixels(DcmDataset *ds)
{
    DcmElement *e = NULL;
    if (ds->findAndGetElement(DCM_PixelData, e, OFFalse).bad() || !e || e->ident() != EVR_PixelData)
        return NULL;
    return static_cast<DcmPixelData *>(e);
}

/* How many frames the fragments of seq start: those that open with a
 * JPEG or JPEG-LS SOI or a JPEG 2000 SOC marker; for RLE (one fragment a
 * frame, PS3.5 A.4.2) every fragment. The Basic Offset Table is not one. */
static unsigned long frames_in_fragments(DcmPixelSequence *seq, bool rle)
{
    unsigned long n = 0, items = seq->card();
    for (unsigned long i = 1; i < items; i++) {
        DcmPixelItem *it = NULL;
        Uint8 *b = NULL;
        if (seq->getItem(it, i).bad() || !it || it->getLength() < 2)
            continue;
        if (rle) {
            n++;
            continue;
        }
        if (it->getUint8Array(b).good() && b && b[0] == 0xFF && (b[1] == 0xD8 || b[1] == 0x4F))
            n++;
    }
    return n;
}

/* --- pixel module ---------------------------------------------------- */

/* The layout attributes of it (the object or the scratch copy) into img.
 * *ybr422 tells that the samples are YBR_FULL_422 (2 luma per chroma pair). */
static kk_status read_layout(kk_image *img, kk_ctx *ctx, DcmItem *it, bool *ybr422, int *planar)
{
    const char *path = img->path;
    img->rows = get_us(it, DCM_Rows, 0);
    img->cols = get_us(it, DCM_Columns, 0);
    img->spp = get_us(it, DCM_SamplesPerPixel, 1);
    img->bits_alloc = get_us(it, DCM_BitsAllocated, 0);
    img->bits_stored = get_us(it, DCM_BitsStored, (Uint16)img->bits_alloc);
    img->high_bit = get_us(it, DCM_HighBit, (Uint16)(img->bits_stored - 1));
    img->is_signed = get_us(it, DCM_PixelRepresentation, 0) == 1;
    *planar = get_us(it, DCM_PlanarConfiguration, 0);
    Sint32 nf = 1;
    if (it->findAndGetSint32(DCM_NumberOfFrames, nf).bad() || nf < 1)
        nf = 1;
    img->frames = (int)nf;
    if (img->rows <= 0 || img->cols <= 0)
        return kk__fail(ctx, KK_EUNSUPPORTED, "cannot decode the pixels of '%s': Rows or Columns "
                        "missing or zero", path);
    int ba = img->bits_alloc;
    if (ba != 1 && ba != 8 && ba != 16 && ba != 32)
        return kk__fail(ctx, KK_EUNSUPPORTED, "cannot decode the pixels of '%s': BitsAllocated "
                        "other than 1, 8, 16 or 32 is not supported", path);
    if (img->bits_stored < 1 || img->bits_stored > ba || img->high_bit < img->bits_stored - 1 ||
        img->high_bit >= ba)
        return kk__fail(ctx, KK_EUNSUPPORTED, "cannot decode the pixels of '%s': BitsStored or "
                        "HighBit do not fit BitsAllocated", path);
    img->bytes = ba == 1 ? 1 : ba / 8;
    std::string pi = get_cs(it, DCM_PhotometricInterpretation);
    *ybr422 = false;
    int want_spp = 3;
    if (pi == "MONOCHROME1")
        img->pi = KK_PI_MONO1, want_spp = 1;
    else if (pi == "MONOCHROME2")
        img->pi = KK_PI_MONO2, want_spp = 1;
    else if (pi == "PALETTE COLOR")
        img->pi = KK_PI_PALETTE, want_spp = 1;
    else if (pi == "RGB" || pi == "YBR_RCT" || pi == "YBR_ICT")
        img->pi = KK_PI_RGB; /* ICT/RCT only reach here undone by the decoder */
    else if (pi == "YBR_FULL")
        img->pi = KK_PI_YBR_FULL;
    else if (pi == "YBR_FULL_422")
        img->pi = KK_PI_YBR_FULL, *ybr422 = true;
    else
        return kk__fail(ctx, KK_EUNSUPPORTED, "cannot decode the pixels of '%s': this "
                        "PhotometricInterpretation is not supported", path);
    if (img->spp != want_spp || (want_spp == 3 && ba == 1))
        return kk__fail(ctx, KK_EUNSUPPORTED, "cannot decode the pixels of '%s': "
                        "SamplesPerPixel does not fit PhotometricInterpretation", path);
    double total = (double)img->frames * img->rows * img->cols * img->spp * img->bytes;
    if (total > (double)KK_IMAGE_MAX_BYTES)
        return kk__fail(ctx, KK_ELIMIT, "cannot decode the pixels of '%s': more than %zu MiB of "
                        "samples", path, KK_IMAGE_MAX_BYTES >> 20);
    img->nsamples = (size_t)img->frames * (size_t)img->rows * (size_t)img->cols * (size_t)img->spp;
    return KK_OK;
}

/* Expand a PS3.3 C.7.9.2 segmented palette into out. */
static bool expand_segmented(const Uint16 *w, unsigned long nw, std::vector<Uint16> &out)
{
    unsigned long i = 0;
    while (i + 1 < nw) {
        Uint16 op = w[i], len = w[i + 1];
        if (op == 0) { /* discrete */
            if (i + 2 + len > nw)
                return false;
            out.insert(out.end(), w + i + 2, w + i + 2 + len);
            i += 2 + (unsigned long)len;
        } else if (op == 1) { /* linear from the last value */
            if (out.empty() || i + 2 >= nw)
                return false;
            double y0 = out.back(), y1 = w[i + 2];
            for (unsigned j = 1; j <= len; j++)
                out.push_back((Uint16)(y0 + (y1 - y0) * j / len + 0.5));
            i += 3;
        } else {
            return false; /* indirect segments: not seen in practice */
        }
        if (out.size() > 65536)
            return false;
    }
    return true;
}

static kk_status read_palette(kk_image *img, kk_ctx *ctx, DcmItem *it)
{
    static const DcmTagKey desc[3] = { DCM_RedPaletteColorLookupTableDescriptor,
                                       DCM_GreenPaletteColorLookupTableDescriptor,
                                       DCM_BluePaletteColorLookupTableDescriptor };
    static const DcmTagKey data[3] = { DCM_RedPaletteColorLookupTableData,
                                       DCM_GreenPaletteColorLookupTableData,
                                       DCM_BluePaletteColorLookupTableData };
    static const DcmTagKey seg[3] = { DCM_SegmentedRedPaletteColorLookupTableData,
                                      DCM_SegmentedGreenPaletteColorLookupTableData,
                                      DCM_SegmentedBluePaletteColorLookupTableData };
    std::vector<Uint16> lut[3];
    int n = 0, first = 0, bits = 16;
    for (int k = 0; k < 3; k++) {
        Uint16 d[3] = { 0, 0, 0 };
        for (unsigned long j = 0; j < 3; j++) {
            Sint16 s = 0;
            if (it->findAndGetUint16(desc[k], d[j], j).bad() &&
                it->findAndGetSint16(desc[k], s, j).good())
                d[j] = (Uint16)s;
        }
        int nk = d[0] ? d[0] : 65536;
        if (k == 0) {
            n = nk;
            first = img->is_signed ? (Sint16)d[1] : d[1];
            bits = d[2];
        }
        const Uint16 *w = NULL;
        unsigned long nw = 0;
        if (it->findAndGetUint16Array(data[k], w, &nw).good() && w && nw > 0) {
            if ((int)nw >= nk) {
                lut[k].assign(w, w + nk);
            } else if (2 * (int)nw >= nk && bits == 8) { /* 8-bit entries packed in words */
                const Uint8 *b = reinterpret_cast<const Uint8 *>(w);
                for (int j = 0; j < nk; j++)
                    lut[k].push_back(b[j]);
            }
        } else if (it->findAndGetUint16Array(seg[k], w, &nw).good() && w && nw > 0) {
            if (!expand_segmented(w, nw, lut[k]))
                lut[k].clear();
        }
        if (lut[k].empty())
            return kk__fail(ctx, KK_EUNSUPPORTED, "cannot decode the pixels of '%s': the palette "
                            "lookup tables are missing or unreadable", img->path);
        lut[k].resize((size_t)n, lut[k].back());
    }
    /* 8-bit entries, or "16-bit" tables that hold 8-bit values */
    Uint16 top = 0;
    for (int k = 0; k < 3; k++)
        for (Uint16 v : lut[k])
            top = v > top ? v : top;
    bool eight = bits == 8 || top < 256;
    for (int k = 0; k < 3; k++) {
        img->lut[k] = static_cast<uint16_t *>(kk__malloc((size_t)n * sizeof(uint16_t)));
        if (!img->lut[k])
            return kk__fail(ctx, KK_ENOMEM, "cannot decode the pixels of '%s': out of memory",
                            img->path);
        for (int j = 0; j < n; j++)
            img->lut[k][j] = eight ? (uint16_t)((lut[k][j] & 0xff) * 257) : lut[k][j];
    }
    img->lut_n = n;
    img->lut_first = first;
    return KK_OK;
}

/* --- native samples --------------------------------------------------- */

/* Copy native Pixel Data (element pix, laid out as the attributes say)
 * into img->data, colour-by-pixel, 4:2:2 expanded, bits unpacked. */
static kk_status take_native(kk_image *img, kk_ctx *ctx, DcmPixelData *pix, bool ybr422, int planar,
                             bool big_endian)
{
    const char *path = img->path;
    if (ybr422 && img->cols % 2)
        return kk__fail(ctx, KK_EUNSUPPORTED, "cannot decode the pixels of '%s': YBR_FULL_422 "
                        "with an odd number of Columns", path);
    size_t ns = img->nsamples;
    size_t have_samples = ybr422 ? ns / 3 * 2 : ns; /* as stored */
    size_t need_bytes = img->bits_alloc == 1 ? (ns + 7) / 8 : have_samples * (size_t)img->bytes;
    if (pix->getLength() == 0)
        return kk__fail(ctx, KK_EUNSUPPORTED, "cannot decode the pixels of '%s': Pixel Data is "
                        "empty", path);
    if ((size_t)pix->getLength() < need_bytes)
        return kk__fail(ctx, KK_EUNSUPPORTED, "cannot decode the pixels of '%s': Pixel Data is "
                        "shorter than Rows, Columns, NumberOfFrames and BitsAllocated say", path);
    /* past the frames and the padding byte: a frame NumberOfFrames hides */
    if ((size_t)pix->getLength() > need_bytes + 1)
        img->unsearched = true;
    const uint8_t *src = NULL;
    if (img->bits_alloc <= 8) {
        Uint8 *p = NULL;
        if (pix->getUint8Array(p).bad() || !p)
            return kk__fail(ctx, KK_EUNSUPPORTED, "cannot decode the pixels of '%s': Pixel Data "
                            "cannot be read", path);
        src = p;
    } else {
        Uint16 *p = NULL;
        if (pix->getUint16Array(p).bad() || !p)
            return kk__fail(ctx, KK_EUNSUPPORTED, "cannot decode the pixels of '%s': Pixel Data "
                            "cannot be read", path);
        src = reinterpret_cast<const uint8_t *>(p);
    }
    img->data = static_cast<uint8_t *>(kk__malloc(ns * (size_t)img->bytes));
    if (!img->data)
        return kk__fail(ctx, KK_ENOMEM, "cannot decode the pixels of '%s': out of memory", path);
    size_t px_per_frame = (size_t)img->rows * (size_t)img->cols;
    int spp = img->spp;
    size_t bytes = (size_t)img->bytes;
    if (img->bits_alloc == 1) { /* PS3.5 8.1.1: packed, first pixel in bit 0, across frames */
        for (size_t i = 0; i < ns; i++)
            img->data[i] = (uint8_t)((src[i / 8] >> (i % 8)) & 1);
    } else if (ybr422) { /* Y1 Y2 Cb Cr for each pair of pixels */
        size_t pairs = ns / 6;
        for (size_t p = 0; p < pairs; p++)
            for (int h = 0; h < 2; h++) {
                size_t o = (2 * p + (size_t)h) * 3;
                memcpy(img->data + (o + 0) * bytes, src + (4 * p + (size_t)h) * bytes, bytes);
                memcpy(img->data + (o + 1) * bytes, src + (4 * p + 2) * bytes, bytes);
                memcpy(img->data + (o + 2) * bytes, src + (4 * p + 3) * bytes, bytes);
            }
    } else if (spp == 3 && planar == 1) {
        for (int f = 0; f < img->frames; f++) {
            size_t base = (size_t)f * px_per_frame * 3;
            for (size_t i = 0; i < px_per_frame; i++)
                for (int s = 0; s < 3; s++)
                    memcpy(img->data + (base + i * 3 + (size_t)s) * bytes,
                           src + (base + (size_t)s * px_per_frame + i) * bytes, bytes);
        }
    } else {
        memcpy(img->data, src, ns * bytes);
    }
    if (img->bits_alloc == 32 && big_endian) {
        /* DCMTK swapped OW words, not the 32-bit values */
        uint16_t *w = reinterpret_cast<uint16_t *>(img->data);
        for (size_t i = 0; i < ns; i++) {
            uint16_t t = w[2 * i];
            w[2 * i] = w[2 * i + 1];
            w[2 * i + 1] = t;
        }
    }
    return KK_OK;
}

/* --- JPEG 2000, and JPEG-LS through CharLS ----------------------------- */

/* The fragments of each frame, concatenated; what names the codec in
 * messages (JPEG 2000 or JPEG-LS), whose streams open with different
 * magic. */
static kk_status codec_frames(kk_image *img, kk_ctx *ctx, DcmPixelSequence *seq, bool jls,
                              std::vector<std::vector<uint8_t>> &frames)
{
    const char *path = img->path;
    const char *what = jls ? "JPEG-LS" : "JPEG 2000";
    unsigned long nitems = seq->card();
    if (nitems < 2)
        return kk__fail(ctx, KK_EUNSUPPORTED, "cannot decode the pixels of '%s': no %s "
                        "fragments", path, what);
    std::vector<std::pair<const uint8_t *, size_t>> frag;
    std::vector<size_t> frag_off; /* from the first fragment's item tag */
    size_t off = 0;
    for (unsigned long i = 1; i < nitems; i++) {
        DcmPixelItem *it = NULL;
        Uint8 *p = NULL;
        if (seq->getItem(it, i).bad() || !it)
            return kk__fail(ctx, KK_EUNSUPPORTED, "cannot decode the pixels of '%s': broken "
                            "fragment", path);
        size_t len = it->getLength();
        if (len > 0 && (it->getUint8Array(p).bad() || !p))
            return kk__fail(ctx, KK_EUNSUPPORTED, "cannot decode the pixels of '%s': broken "
                            "fragment", path);
        frag.emplace_back(p, len);
        frag_off.push_back(off);
        off += 8 + len;
    }
    size_t nf = (size_t)img->frames;
    std::vector<size_t> start; /* first fragment of each frame */
    DcmPixelItem *bot = NULL;
    Uint8 *botp = NULL;
    if (seq->getItem(bot, 0).good() && bot && bot->getLength() == 4 * nf &&
        bot->getUint8Array(botp).good() && botp) {
        for (size_t f = 0; f < nf; f++) {
            uint32_t o = (uint32_t)botp[4 * f] | (uint32_t)botp[4 * f + 1] << 8 |
                         (uint32_t)botp[4 * f + 2] << 16 | (uint32_t)botp[4 * f + 3] << 24;
            size_t k = 0;
            while (k < frag_off.size() && frag_off[k] != o)
                k++;
            if (k == frag_off.size() || (!start.empty() && k <= start.back())) {
                start.clear();
                break;
            }
            start.push_back(k);
        }
    }
    if (start.empty()) {
        if (frag.size() == nf) {
            for (size_t f = 0; f < nf; f++)
                start.push_back(f);
        } else if (nf == 1) {
            start.push_back(0);
        } else { /* a frame starts where a codestream or JP2 file does */
            for (size_t k = 0; k < frag.size(); k++) {
                const uint8_t *p = frag[k].first;
                size_t len = frag[k].second;
                bool magic = jls ? len >= 2 && p[0] == 0xFF && p[1] == 0xD8
                                 : len >= 4 && ((p[0] == 0xFF && p[1] == 0x4F && p[2] == 0xFF &&
                                                 p[3] == 0x51) ||
                                                (p[0] == 0 && p[1] == 0 && p[2] == 0 && p[3] == 0x0C));
                if (magic)
                    start.push_back(k);
            }
            if (start.size() != nf || start[0] != 0)
                return kk__fail(ctx, KK_EUNSUPPORTED, "cannot decode the pixels of '%s': the "
                                "%s fragments cannot be matched to frames", path, what);
        }
    }
    frames.resize(nf);
    for (size_t f = 0; f < nf; f++) {
        size_t end = f + 1 < nf ? start[f + 1] : frag.size();
        for (size_t k = start[f]; k < end; k++)
            frames[f].insert(frames[f].end(), frag[k].first, frag[k].first + frag[k].second);
    }
    return KK_OK;
}

/* Store n decoded samples at sample index at: their stored bits, read
 * with the header's signedness (the codecs' output for JPEG 2000 and
 * JPEG-LS alike). */
static void put_frame(kk_image *img, size_t at, size_t n, const int32_t *data)
{
    int bs = img->bits_stored;
    uint64_t mask = bs >= 32 ? 0xffffffffu : (((uint64_t)1 << bs) - 1);
    for (size_t i = 0; i < n; i++) {
        uint64_t u = (uint64_t)(int64_t)data[i] & mask;
        int64_t v = img->is_signed && ((u >> (bs - 1)) & 1) ? (int64_t)u - ((int64_t)1 << bs)
                                                            : (int64_t)u;
        kk_image__set_raw(img, at + i, kk_image__pattern(img, v));
    }
}

static kk_status decode_j2k(kk_image *img, kk_ctx *ctx, DcmPixelSequence *seq)
{
    const char *path = img->path;
    std::vector<std::vector<uint8_t>> frames;
    kk_status st = codec_frames(img, ctx, seq, false, frames);
    if (st != KK_OK)
        return st;
    img->data = static_cast<uint8_t *>(kk__malloc(img->nsamples * (size_t)img->bytes));
    if (!img->data)
        return kk__fail(ctx, KK_ENOMEM, "cannot decode the pixels of '%s': out of memory", path);
    size_t per_frame = (size_t)img->rows * (size_t)img->cols * (size_t)img->spp;
    for (size_t f = 0; f < frames.size(); f++) {
        kk_j2k_frame fr;
        const char *why = "";
        st = kk_j2k__decode(frames[f].data(), frames[f].size(), &fr, &why);
        if (st != KK_OK)
            return kk__fail(ctx, st, "cannot decode the pixels of '%s': %s", path,
                            st == KK_ENOMEM ? "out of memory" : why);
        std::unique_ptr<int32_t, void (*)(void *)> hold(fr.data, kk_free);
        if (fr.width != img->cols || fr.height != img->rows || fr.ncomp != img->spp)
            return kk__fail(ctx, KK_EUNSUPPORTED, "cannot decode the pixels of '%s': the JPEG "
                            "2000 frame does not match Rows, Columns or SamplesPerPixel", path);
        if (fr.prec > img->bits_stored) { /* trust the codestream, fix the header on encode */
            if (fr.prec > img->bits_alloc)
                return kk__fail(ctx, KK_EUNSUPPORTED, "cannot decode the pixels of '%s': JPEG 2000 "
                                "precision exceeds BitsAllocated", path);
            if (f == 0) {
                img->bits_stored = fr.prec;
                img->high_bit = fr.prec - 1;
            }
        }
        if (img->spp == 3 && (fr.mct || img->pi == KK_PI_RGB))
            img->pi = KK_PI_RGB;
        put_frame(img, f * per_frame, per_frame, fr.data);
    }
    return KK_OK;
}

/* JPEG-LS through CharLS, for streams DCMTK's own CharLS refuses (7 bits
 * stored): the samples are the stored bits, read with the header's
 * signedness, as in decode_j2k. */
static kk_status decode_jls(kk_image *img, kk_ctx *ctx, DcmPixelSequence *seq)
{
    const char *path = img->path;
    std::vector<std::vector<uint8_t>> frames;
    kk_status st = codec_frames(img, ctx, seq, true, frames);
    if (st != KK_OK)
        return st;
    img->data = static_cast<uint8_t *>(kk__malloc(img->nsamples * (size_t)img->bytes));
    if (!img->data)
        return kk__fail(ctx, KK_ENOMEM, "cannot decode the pixels of '%s': out of memory", path);
    size_t per_frame = (size_t)img->rows * (size_t)img->cols * (size_t)img->spp;
    for (size_t f = 0; f < frames.size(); f++) {
        kk_jls_frame fr;
        const char *why = "";
        st = kk_jls__decode(frames[f].data(), frames[f].size(), &fr, &why);
        if (st != KK_OK)
            return kk__fail(ctx, st, "cannot decode the pixels of '%s': %s", path,
                            st == KK_ENOMEM ? "out of memory" : why);
        std::unique_ptr<int32_t, void (*)(void *)> hold(fr.data, kk_free);
        if (fr.width != img->cols || fr.height != img->rows || fr.ncomp != img->spp)
            return kk__fail(ctx, KK_EUNSUPPORTED, "cannot decode the pixels of '%s': the JPEG-LS "
                            "frame does not match Rows, Columns or SamplesPerPixel", path);
        if (fr.prec > img->bits_alloc)
            return kk__fail(ctx, KK_EUNSUPPORTED, "cannot decode the pixels of '%s': JPEG-LS "
                            "precision exceeds BitsAllocated", path);
        put_frame(img, f * per_frame, per_frame, fr.data);
    }
    return KK_OK;
}

/* --- decode ---------------------------------------------------------- */

/* A scratch data set with copies of the pixel module and Pixel Data, for
 * DCMTK's decoders to work on. */
static DcmDataset *scratch_copy(DcmDataset *ds, DcmPixelData *pix)
{
    std::unique_ptr<DcmDataset> tmp(new DcmDataset());
    for (DcmObject *o = ds->nextInContainer(NULL); o; o = ds->nextInContainer(o))
        if (o->getGTag() == 0x0028)
            tmp->insert(static_cast<DcmElement *>(o->clone()), OFTrue);
    tmp->insert(new DcmPixelData(*pix), OFTrue);
    return tmp.release();
}

/* A float sample on the 16-bit scale of img (lo -> 0, hi -> 65535; not
 * finite -> 0). */
static uint16_t float_sample(const kk_image *img, double v)
{
    if (!std::isfinite(v) || img->fhi <= img->flo)
        return 0;
    double q = (v - img->flo) / (img->fhi - img->flo) * 65535.0 + 0.5;
    return (uint16_t)(q < 0 ? 0 : q > 65535 ? 65535 : q);
}

/* Float or Double Float Pixel Data (parametric maps: one sample, no
 * BitsAllocated of the integer kind): seen as 16-bit MONOCHROME2 over the
 * finite range of its values, so the same looks search it. */
static kk_status decode_float(kk_image **out, kk_ctx *ctx, kk_dcm *dcm, DcmDataset *ds,
                              const char *path)
{
    img_ptr img(static_cast<kk_image *>(kk__calloc(1, sizeof(kk_image))));
    if (!img || !(img->path = kk__strdup(path)))
        return kk__fail(ctx, KK_ENOMEM, "cannot decode the pixels of '%s': out of memory", path);
    img->rows = get_us(ds, DCM_Rows, 0);
    img->cols = get_us(ds, DCM_Columns, 0);
    img->spp = 1;
    Sint32 nf = 1;
    if (ds->findAndGetSint32(DCM_NumberOfFrames, nf).bad() || nf < 1)
        nf = 1;
    img->frames = (int)nf;
    if (img->rows <= 0 || img->cols <= 0 || get_us(ds, DCM_SamplesPerPixel, 1) != 1)
        return kk__fail(ctx, KK_EUNSUPPORTED, "cannot decode the pixels of '%s': float Pixel Data "
                        "needs Rows, Columns and one sample per pixel", path);
    double total = (double)img->frames * img->rows * img->cols * sizeof(double);
    if (total > (double)KK_IMAGE_MAX_BYTES)
        return kk__fail(ctx, KK_ELIMIT, "cannot decode the pixels of '%s': more than %zu MiB of "
                        "samples", path, KK_IMAGE_MAX_BYTES >> 20);
    size_t ns = (size_t)img->frames * (size_t)img->rows * (size_t)img->cols;
    img->fdouble = !ds->tagExists(DCM_FloatPixelData);
    const Float32 *f32 = NULL;
    const Float64 *f64 = NULL;
    unsigned long have = 0;
    bool ok = img->fdouble ? ds->findAndGetFloat64Array(DCM_DoubleFloatPixelData, f64, &have).good()
                           : ds->findAndGetFloat32Array(DCM_FloatPixelData, f32, &have).good();
    if (!ok || have < ns)
        return kk__fail(ctx, KK_EUNSUPPORTED, "cannot decode the pixels of '%s': float Pixel Data "
                        "holds fewer values than Rows x Columns x frames", path);
    img->unsearched = have > ns;
    img->fdata = static_cast<double *>(kk__malloc(ns * sizeof(double)));
    img->data = static_cast<uint8_t *>(kk__malloc(ns * 2));
    if (!img->fdata || !img->data)
        return kk__fail(ctx, KK_ENOMEM, "cannot decode the pixels of '%s': out of memory", path);
    img->flo = HUGE_VAL;
    img->fhi = -HUGE_VAL;
    for (size_t i = 0; i < ns; i++) {
        double v = img->fdouble ? f64[i] : f32[i];
        img->fdata[i] = v;
        if (std::isfinite(v)) {
            img->flo = std::min(img->flo, v);
            img->fhi = std::max(img->fhi, v);
        }
    }
    uint16_t *d = reinterpret_cast<uint16_t *>(img->data);
    for (size_t i = 0; i < ns; i++)
        d[i] = float_sample(img.get(), img->fdata[i]);
    img->nsamples = ns;
    img->bits_alloc = img->bits_stored = 16;
    img->high_bit = 15;
    img->bytes = 2;
    img->pi = KK_PI_MONO2;
    img->src = KK_SRC_FLOAT;
    const char *uid = kk_dcm__transfer_syntax(dcm);
    snprintf(img->ts, sizeof img->ts, "%s", uid ? uid : "");
    *out = img.release();
    return KK_OK;
}

/* The float values back, each sample painted (no longer its value's place
 * on the 16-bit scale) at the value of its new place: black is lo. */
static kk_status encode_float(kk_image *img, kk_ctx *ctx, DcmDataset *ds)
{
    const uint16_t *d = reinterpret_cast<const uint16_t *>(img->data);
    double span = img->fhi > img->flo ? img->fhi - img->flo : 0;
    std::vector<Float64> v64;
    std::vector<Float32> v32;
    for (size_t i = 0; i < img->nsamples; i++) {
        double v = img->fdata[i];
        if (d[i] != float_sample(img, v))
            v = (img->flo < HUGE_VAL ? img->flo : 0) + span * d[i] / 65535.0;
        if (img->fdouble)
            v64.push_back(v);
        else
            v32.push_back((Float32)v);
    }
    OFCondition c = img->fdouble
        ? ds->putAndInsertFloat64Array(DCM_DoubleFloatPixelData, v64.data(), (unsigned long)v64.size())
        : ds->putAndInsertFloat32Array(DCM_FloatPixelData, v32.data(), (unsigned long)v32.size());
    if (c.bad())
        return kk__fail(ctx, KK_EIO, "cannot encode the pixels of '%s': %s", img->path, c.text());
    return KK_OK;
}

static kk_status decode(kk_image **out, kk_ctx *ctx, kk_dcm *dcm, const char *path)
{
    if (kk_dcm__pixels_carried_raw(dcm))
        return kk__fail(ctx, KK_EUNSUPPORTED, "cannot decode the pixels of '%s': transfer syntax "
                        "%.64s is not supported", path, kk_dcm__transfer_syntax(dcm));
    DcmDataset *ds = static_cast<DcmDataset *>(kk_dcm__dcmtk_dataset(dcm));
    DcmPixelData *pix = top_pixels(ds);
    if (!pix && (ds->tagExists(DCM_FloatPixelData) || ds->tagExists(DCM_DoubleFloatPixelData)))
        return decode_float(out, ctx, dcm, ds, path);
    if (!pix)
        return kk__fail(ctx, KK_EUNSUPPORTED, "cannot decode the pixels of '%s': no Pixel Data",
                        path);
    img_ptr img(static_cast<kk_image *>(kk__calloc(1, sizeof(kk_image))));
    if (!img || !(img->path = kk__strdup(path)))
        return kk__fail(ctx, KK_ENOMEM, "cannot decode the pixels of '%s': out of memory", path);
    E_TransferSyntax rep = EXS_Unknown;
    const DcmRepresentationParameter *rp = NULL;
    pix->getOriginalRepresentationKey(rep, rp);
    bool encapsulated = DcmXfer(rep).isEncapsulated();
    E_TransferSyntax xfer = encapsulated ? rep : ds->getOriginalXfer();
    const char *uid = encapsulated ? DcmXfer(rep).getXferID() : kk_dcm__transfer_syntax(dcm);
    snprintf(img->ts, sizeof img->ts, "%s", uid ? uid : "");
    ts_kind kind = encapsulated ? kind_of(rep) : TS_NATIVE;
    if (kind == TS_OTHER)
        return kk__fail(ctx, KK_EUNSUPPORTED, "cannot decode the pixels of '%s': transfer syntax "
                        "%.64s is not supported", path, img->ts);
    img->lossy_in = kind_lossy(kind);

    bool ybr422 = false;
    int planar = 0;
    kk_status st = read_layout(img.get(), ctx, ds, &ybr422, &planar);
    if (st != KK_OK)
        return st;
    img->planar_in = planar;
    img->ybr422_in = ybr422;
    if (img->pi == KK_PI_PALETTE && (st = read_palette(img.get(), ctx, ds)) != KK_OK)
        return st;

    if (kind == TS_NATIVE) {
        img->src = KK_SRC_NATIVE;
        st = take_native(img.get(), ctx, pix, ybr422, planar,
                         DcmXfer(xfer).getByteOrder() == EBO_BigEndian);
    } else if (kind == TS_J2K || kind == TS_J2K_LOSSLESS) {
        img->src = KK_SRC_J2K;
        if (img->bits_alloc == 1)
            return kk__fail(ctx, KK_EUNSUPPORTED, "cannot decode the pixels of '%s': 1-bit JPEG "
                            "2000 is not supported", path);
        if (ybr422) /* OpenJPEG gives full-size components */
            img->ybr422_in = false;
        DcmPixelSequence *seq = NULL;
        if (pix->getEncapsulatedRepresentation(rep, rp, seq).bad() || !seq)
            return kk__fail(ctx, KK_EUNSUPPORTED, "cannot decode the pixels of '%s': no JPEG 2000 "
                            "fragments", path);
        st = decode_j2k(img.get(), ctx, seq);
    } else {
        img->src = KK_SRC_DCMTK;
        if (img->bits_alloc == 1)
            return kk__fail(ctx, KK_EUNSUPPORTED, "cannot decode the pixels of '%s': 1-bit "
                            "compressed Pixel Data is not supported", path);
        register_codecs();
        std::unique_ptr<DcmDataset> tmp(scratch_copy(ds, pix));
        OFCondition c = tmp->chooseRepresentation(EXS_LittleEndianExplicit, NULL);
        DcmPixelData *np = top_pixels(tmp.get());
        DcmPixelSequence *seq = NULL;
        char lacks[256];
        if ((c.bad() || !np) && (kind == TS_JLS_LOSSLESS || kind == TS_JLS_LOSSY) &&
            !*kk_dcm__missing_pixel_attrs(dcm, lacks, sizeof lacks) &&
            pix->getEncapsulatedRepresentation(rep, rp, seq).good() && seq) {
            /* DCMTK's bundled CharLS refused the stream: ask Debian's */
            if (ybr422) /* CharLS gives full-size components */
                img->ybr422_in = false;
            if ((st = decode_jls(img.get(), ctx, seq)) != KK_OK)
                return st;
            *out = img.release();
            return KK_OK;
        }
        if (c.bad() || !np) {
            const char *words = c.bad() ? kk_dcm__condition_words(c.module(), c.code()) : NULL;
            if (*kk_dcm__missing_pixel_attrs(dcm, lacks, sizeof lacks))
                return kk__fail(ctx, KK_EUNSUPPORTED, "cannot decode the pixels of '%s': %s "
                                "missing (Image Pixel Module, Type 1)", path, lacks);
            return kk__fail(ctx, KK_EUNSUPPORTED, "cannot decode the pixels of '%s': %s", path,
                            words ? words : c.bad() ? c.text() : "decoder failure");
        }
        /* the decoder may have converted colour and changed the layout */
        int frames = img->frames;
        st = read_layout(img.get(), ctx, tmp.get(), &ybr422, &planar);
        if (st == KK_OK && img->frames != frames)
            st = kk__fail(ctx, KK_EINTERNAL, "cannot decode the pixels of '%s': the decoder "
                          "changed NumberOfFrames", path);
        if (st == KK_OK)
            st = take_native(img.get(), ctx, np, ybr422, planar, false);
    }
    if (st != KK_OK)
        return st;
    DcmPixelSequence *frags = NULL;
    if (encapsulated && pix->getEncapsulatedRepresentation(rep, rp, frags).good() && frags &&
        frames_in_fragments(frags, rep == EXS_RLELossless) > (unsigned long)img->frames)
        img->unsearched = true;
    *out = img.release();
    return KK_OK;
}

kk_status kk_image__decode(kk_image **out, kk_ctx *ctx, kk_dcm *dcm)
{
    *out = NULL;
    const char *path = kk_dcm__path(dcm);
    try {
        return decode(out, ctx, dcm, path);
    } catch (const std::bad_alloc &) {
        return kk__fail(ctx, KK_ENOMEM, "cannot decode the pixels of '%s': out of memory", path);
    } catch (...) {
        return kk__fail(ctx, KK_EINTERNAL, "cannot decode the pixels of '%s': decoder failure",
                        path);
    }
}

/* --- encode ---------------------------------------------------------- */

/* Native bytes of img in planar configuration planar, 1-bit repacked,
 * 32-bit words swapped back for a big endian writer; with masked, signed
 * samples lose their sign extension (codecs take BitsStored-bit values). */
static std::vector<uint8_t> native_bytes(const kk_image *img, int planar, bool big_endian,
                                         bool masked)
{
    size_t ns = img->nsamples, bytes = (size_t)img->bytes;
    std::vector<uint8_t> v;
    if (img->bits_alloc == 1) {
        v.assign((ns + 7) / 8, 0);
        for (size_t i = 0; i < ns; i++)
            if (img->data[i] & 1)
                v[i / 8] |= (uint8_t)(1u << (i % 8));
        return v;
    }
    v.resize(ns * bytes);
    if (img->spp == 3 && planar == 1) {
        size_t ppf = (size_t)img->rows * (size_t)img->cols;
        for (int f = 0; f < img->frames; f++) {
            size_t base = (size_t)f * ppf * 3;
            for (size_t i = 0; i < ppf; i++)
                for (size_t s = 0; s < 3; s++)
                    memcpy(&v[(base + s * ppf + i) * bytes], img->data + (base + i * 3 + s) * bytes,
                           bytes);
        }
    } else {
        memcpy(v.data(), img->data, v.size());
    }
    if (masked && img->is_signed && img->high_bit + 1 < img->bits_alloc) {
        uint32_t keep = (uint32_t)((((uint64_t)1) << (img->high_bit + 1)) - 1);
        for (size_t i = 0; i < ns; i++) {
            if (bytes == 1)
                v[i] &= (uint8_t)keep;
            else if (bytes == 2)
                reinterpret_cast<uint16_t *>(v.data())[i] &= (uint16_t)keep;
            else
                reinterpret_cast<uint32_t *>(v.data())[i] &= keep;
        }
    }
    if (img->bits_alloc == 32 && big_endian) {
        uint16_t *w = reinterpret_cast<uint16_t *>(v.data());
        for (size_t i = 0; i < ns; i++) {
            uint16_t t = w[2 * i];
            w[2 * i] = w[2 * i + 1];
            w[2 * i + 1] = t;
        }
    }
    return v;
}

/* A new native Pixel Data element holding img: OB up to 8 bits, else OW
 * (the element read may say OB for what was encapsulated). */
static DcmPixelData *native_element(const kk_image *img, int planar, bool big_endian, bool masked,
                                    OFCondition &c)
{
    std::vector<uint8_t> v = native_bytes(img, planar, big_endian, masked);
    std::unique_ptr<DcmPixelData> pix(
        new DcmPixelData(DcmTag(DCM_PixelData, img->bits_alloc <= 8 ? EVR_OB : EVR_OW)));
    if (img->bits_alloc <= 8)
        c = pix->putUint8Array(v.data(), (unsigned long)v.size());
    else
        c = pix->putUint16Array(reinterpret_cast<const Uint16 *>(v.data()),
                                (unsigned long)(v.size() / 2));
    return c.good() ? pix.release() : NULL;
}

static void put_layout(DcmDataset *ds, const kk_image *img, const char *pi, int planar)
{
    ds->putAndInsertString(DCM_PhotometricInterpretation, pi);
    if (img->spp > 1)
        ds->putAndInsertUint16(DCM_PlanarConfiguration, (Uint16)planar);
    ds->putAndInsertUint16(DCM_BitsStored, (Uint16)img->bits_stored);
    ds->putAndInsertUint16(DCM_HighBit, (Uint16)img->high_bit);
}

static kk_status encode_j2k(kk_image *img, kk_ctx *ctx, DcmDataset *ds, DcmPixelData *pix,
                            E_TransferSyntax target)
{
    const char *path = img->path;
    size_t per_frame = (size_t)img->rows * (size_t)img->cols * (size_t)img->spp;
    std::vector<int32_t> s(per_frame);
    std::unique_ptr<DcmPixelSequence> seq(new DcmPixelSequence(DcmTag(DCM_PixelData, EVR_OB)));
    DcmPixelItem *bot = new DcmPixelItem(DcmTag(DCM_Item, EVR_OB));
    seq->insert(bot);
    DcmOffsetList offsets;
    for (int f = 0; f < img->frames; f++) {
        for (size_t i = 0; i < per_frame; i++)
            s[i] = (int32_t)kk_image__value(img, (size_t)f * per_frame + i);
        uint8_t *cs = NULL;
        size_t len = 0;
        const char *why = "";
        kk_status st = kk_j2k__encode(s.data(), img->cols, img->rows, img->spp, img->bits_stored,
                                      img->is_signed, &cs, &len, &why);
        if (st != KK_OK)
            return kk__fail(ctx, st, "cannot encode the pixels of '%s': %s", path,
                            st == KK_ENOMEM ? "out of memory" : why);
        OFCondition c = seq->storeCompressedFrame(offsets, cs, (Uint32)len, 0);
        kk_free(cs);
        if (c.bad())
            return kk__fail(ctx, KK_EIO, "cannot encode the pixels of '%s': %s", path, c.text());
    }
    OFCondition c = bot->createOffsetTable(offsets);
    if (c.bad())
        return kk__fail(ctx, KK_EIO, "cannot encode the pixels of '%s': %s", path, c.text());
    /* PS3.5 8.2.4: the reversible colour transform is YBR_RCT */
    put_layout(ds, img, img->spp == 3 ? "YBR_RCT" : kk_image__photometric(img), 0);
    pix->putOriginalRepresentation(target, NULL, seq.release());
    return KK_OK;
}

/* Attributes a DCMTK encoder reads or rewrites, copied to its scratch
 * data set and back. Modality and VOI transforms stay out: the lossy
 * encoders render through DicomImage and would bake them into the stored
 * values (an Enhanced CT's functional groups shift every pixel). */
static const DcmTagKey codec_in[] = { DCM_SamplesPerPixel, DCM_PhotometricInterpretation,
                                      DCM_PlanarConfiguration, DCM_NumberOfFrames, DCM_Rows,
                                      DCM_Columns, DCM_BitsAllocated, DCM_BitsStored, DCM_HighBit,
                                      DCM_PixelRepresentation, DCM_LossyImageCompression,
                                      DCM_LossyImageCompressionRatio,
                                      DCM_LossyImageCompressionMethod, DCM_ImageType,
                                      DCM_DerivationDescription };
static const DcmTagKey codec_out[] = { DCM_PhotometricInterpretation, DCM_PlanarConfiguration,
                                       DCM_BitsAllocated, DCM_BitsStored, DCM_HighBit,
                                       DCM_PixelRepresentation, DCM_LossyImageCompression,
                                       DCM_LossyImageCompressionRatio,
                                       DCM_LossyImageCompressionMethod, DCM_ImageType,
                                       DCM_DerivationDescription, DCM_DerivationCodeSequence };

static void copy_elements(DcmItem *from, DcmItem *to, const DcmTagKey *tags, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        DcmElement *e = NULL;
        if (from->findAndGetElement(tags[i], e, OFFalse).good() && e)
            to->insert(static_cast<DcmElement *>(e->clone()), OFTrue);
    }
}

static kk_status encode_dcmtk(kk_image *img, kk_ctx *ctx, DcmDataset *ds,
                              E_TransferSyntax target, int quality)
{
    const char *path = img->path;
    register_codecs();
    std::unique_ptr<DcmDataset> tmp(new DcmDataset());
    copy_elements(ds, tmp.get(), codec_in, sizeof codec_in / sizeof codec_in[0]);
    put_layout(tmp.get(), img, kk_image__photometric(img), 0);
    OFCondition c;
    DcmPixelData *pix = native_element(img, 0, false, true, c);
    if (!pix)
        return kk__fail(ctx, KK_EIO, "cannot encode the pixels of '%s': %s", path, c.text());
    tmp->insert(pix, OFTrue);
    DcmRLERepresentationParameter rle;
    DJ_RPLossless jpeg_lossless(1, 0);
    DJ_RPLossy jpeg_lossy(quality);
    int near = (100 - quality) / 5;
    DJLSRepresentationParameter jls_lossless(0, OFTrue), jls_near((Uint16)(near < 1 ? 1 : near), OFFalse);
    const DcmRepresentationParameter *param = NULL;
    switch (kind_of(target)) {
    case TS_RLE: param = &rle; break;
    case TS_JPEG_LOSSLESS: param = &jpeg_lossless; break;
    case TS_JPEG_LOSSY: param = &jpeg_lossy; break;
    case TS_JLS_LOSSLESS: param = &jls_lossless; break;
    case TS_JLS_LOSSY: param = &jls_near; break;
    default:
        return kk__fail(ctx, KK_EINTERNAL, "cannot encode the pixels of '%s': no encoder", path);
    }
    c = tmp->chooseRepresentation(target, param);
    if (c.bad())
        return kk__fail(ctx, KK_EIO, "cannot encode the pixels of '%s': %s", path, c.text());
    pix->removeAllButCurrentRepresentations();
    /* only the top-level Pixel Data moves: an icon image keeps its encoding */
    ds->insert(static_cast<DcmElement *>(tmp->remove(pix)), OFTrue);
    copy_elements(tmp.get(), ds, codec_out, sizeof codec_out / sizeof codec_out[0]);
    return KK_OK;
}

static void note_derivation(DcmDataset *ds, const char *what)
{
    OFString old;
    std::string d;
    if (ds->findAndGetOFStringArray(DCM_DerivationDescription, old).good() && !old.empty())
        d = std::string(old.c_str()) + "; ";
    d += "burned-in text removed; ";
    d += what;
    if (d.size() > 1024) /* ST */
        d.resize(1024);
    ds->putAndInsertString(DCM_DerivationDescription, d.c_str());
}

static kk_status encode(kk_image *img, kk_ctx *ctx, kk_dcm *dcm, kk_lossy_policy policy,
                        int quality)
{
    const char *path = img->path;
    DcmDataset *ds = static_cast<DcmDataset *>(kk_dcm__dcmtk_dataset(dcm));
    if (img->src == KK_SRC_FLOAT) {
        kk_status fs = encode_float(img, ctx, ds);
        if (fs == KK_OK)
            note_derivation(ds, "float pixel data rewritten");
        return fs;
    }
    DcmPixelData *pix = top_pixels(ds);
    if (!pix)
        return kk__fail(ctx, KK_EINVAL, "cannot encode the pixels of '%s': no Pixel Data", path);
    E_TransferSyntax in = DcmXfer(img->ts).getXfer();
    E_TransferSyntax target = in;
    if (img->lossy_in && policy == KK_LOSSY_TO_LOSSLESS)
        target = EXS_LittleEndianExplicit;
    /* DCMTK's near-lossless JPEG-LS refuses signed pixels: stay lossless */
    if (kind_of(target) == TS_JLS_LOSSY && img->is_signed)
        target = EXS_JPEGLSLossless;
    if (quality < 1 || quality > 100)
        quality = 95;
    bool was_lossy = img->lossy_in || get_cs(ds, DCM_LossyImageCompression) == "01";
    std::string what;
    kk_status st = KK_OK;
    ts_kind k = img->src == KK_SRC_NATIVE && target == in ? TS_NATIVE : kind_of(target);
    if (k == TS_NATIVE) {
        bool same = img->src == KK_SRC_NATIVE;
        int planar = same ? img->planar_in : 0;
        put_layout(ds, img, kk_image__photometric(img), planar);
        OFCondition c;
        DcmPixelData *np = native_element(img, planar,
                                          same && DcmXfer(in).getByteOrder() == EBO_BigEndian,
                                          false, c);
        if (!np)
            return kk__fail(ctx, KK_EIO, "cannot encode the pixels of '%s': %s", path, c.text());
        ds->insert(np, OFTrue);
        what = same ? "pixel data rewritten uncompressed"
                    : "lossy pixel data decompressed to Explicit VR Little Endian";
    } else if (k == TS_J2K || k == TS_J2K_LOSSLESS) {
        st = encode_j2k(img, ctx, ds, pix, target);
        what = "pixel data re-encoded as reversible JPEG 2000";
    } else {
        st = encode_dcmtk(img, ctx, ds, target, quality);
        what = std::string("pixel data re-encoded as ") + DcmXfer(target).getXferName();
    }
    if (st != KK_OK)
        return st;
    if (target != in || img->src != KK_SRC_NATIVE) {
        const char *uid = DcmXfer(target).getXferID();
        st = kk_dcm__set_transfer_syntax(dcm, ctx, uid);
        if (st != KK_OK)
            return st;
    }
    /* DCMTK's lossy encoders set "01" and append ratio and method */
    if (was_lossy)
        ds->putAndInsertString(DCM_LossyImageCompression, "01");
    note_derivation(ds, what.c_str());
    return KK_OK;
}

kk_status kk_image__encode(kk_image *img, kk_ctx *ctx, kk_dcm *dcm, kk_lossy_policy policy,
                           int quality)
{
    const char *path = img->path;
    try {
        return encode(img, ctx, dcm, policy, quality);
    } catch (const std::bad_alloc &) {
        return kk__fail(ctx, KK_ENOMEM, "cannot encode the pixels of '%s': out of memory", path);
    } catch (...) {
        return kk__fail(ctx, KK_EINTERNAL, "cannot encode the pixels of '%s': encoder failure",
                        path);
    }
}
