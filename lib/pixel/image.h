/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/image.h - the pixel codec layer: decode the Pixel Data of a
 * loaded object into native samples, give text detection 8-bit views of a
 * frame, paint boxes "black as displayed", clear overlay bits hidden in
 * unused high bits, and write the pixels back into the object.
 *
 * Pixels are held colour-by-pixel, one frame after another, each sample in
 * 1, 2 or 4 bytes of host order (1-bit images are unpacked to one byte a
 * pixel). Colour arrives as RGB (JPEG YCbCr, JPEG 2000 ICT/RCT and JPEG
 * YBR_FULL_422 are converted by the decoder) or as YBR_FULL (native YBR,
 * 4:2:2 expanded), never subsampled.
 *
 * Implemented in image.c (pure C: views, fill, bits; the layout is in
 * image_internal.h), image_dcmtk.cc
 * (DCMTK: decode and encode, JPEG, JPEG-LS, RLE, native) and
 * j2k_openjpeg.c (JPEG 2000 through OpenJPEG), jls_charls.c (JPEG-LS
 * through Debian's CharLS, where DCMTK's fails). Errors name the file and
 * the problem, never a pixel or header value (R04).
 * Not a public API.
 */
#ifndef KK_PIXEL_IMAGE_H
#define KK_PIXEL_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dicom/dicom.h"
#include "kakou/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Decoded native pixels of one object, all frames. */
typedef struct kk_image kk_image;

/**
 * Decode the Pixel Data (7FE0,0010) of dcm: native (implicit/explicit
 * little endian, explicit big endian, deflated), 1/8/16/32 bits allocated,
 * signed or not, MONOCHROME1/2, RGB, YBR_FULL(_422), PALETTE COLOR,
 * planar configuration 0 or 1, any number of frames; RLE; JPEG baseline,
 * extended (8/12 bit) and lossless; JPEG-LS; JPEG 2000 (.90/.91).
 * dcm is not changed (decoding happens on a copy of the pixel module).
 *
 * @param[out] out  the image; release it with kk_image__free()
 * @return KK_OK; KK_EUNSUPPORTED, with a message naming the file, when
 *         there is no Pixel Data (float or double Pixel Data included),
 *         the pixels are carried over raw (kk_dcm__pixels_carried_raw()),
 *         the encoding or photometric interpretation is not handled, or
 *         the Pixel Data is shorter than its attributes say; KK_ELIMIT
 *         above 1 GiB of samples; KK_ENOMEM
 */
kk_status kk_image__decode(kk_image **out, kk_ctx *ctx, kk_dcm *dcm);
/** NULL is a no-op. */
void kk_image__free(kk_image *img);

int kk_image__frames(const kk_image *img);
int kk_image__rows(const kk_image *img);
int kk_image__columns(const kk_image *img);
/** Samples per pixel as held: 1 or 3. */
int kk_image__samples(const kk_image *img);
/** PhotometricInterpretation of the pixels as held ("MONOCHROME2", "RGB",
 *  "YBR_FULL", "PALETTE COLOR", ...). Static storage. */
const char *kk_image__photometric(const kk_image *img);

/**
 * The stored value of one sample (sign-extended when signed, bits outside
 * BitsStored ignored). Samples of a pixel are consecutive.
 */
int64_t kk_image__sample(const kk_image *img, int frame, int x, int y, int s);

/**
 * An 8-bit luminance view of one frame (rows*columns bytes, row by row)
 * for text detection: monochrome windowed from the 0.5th to the 99.5th
 * percentile of the frame's values to 0..255 (8 bits stored or fewer:
 * the range in use, as such pictures are made to be seen as stored),
 * MONOCHROME1 inverted so it
 * looks as displayed; colour to luma (BT.601); PALETTE COLOR through its
 * lookup table.
 * @return KK_OK; KK_EINVAL when frame is out of range
 */
kk_status kk_image__gray8(const kk_image *img, kk_ctx *ctx, int frame, uint8_t *out);

/** The window a monochrome frame's luminance view used: its 0.5th and
 *  99.5th percentiles (lo, hi) and the least and largest values. */
typedef struct kk_image_window {
    int frame; /* -1: none (not a windowed monochrome frame) */
    int64_t lo, hi, vmin, vmax;
} kk_image_window;

/** kk_image__gray8(), telling the window it used in *w. */
kk_status kk_image__gray8_window(const kk_image *img, kk_ctx *ctx, int frame, uint8_t *out,
                                 kk_image_window *w);

/** Like kk_image__gray8() with colour kept: rows*columns*3 bytes, RGB
 *  interleaved (for the review contact sheet). */
kk_status kk_image__rgb8(const kk_image *img, kk_ctx *ctx, int frame, uint8_t *out);

/** True when kk_image__extremes8() can show anything: monochrome, more
 *  than 8 bits stored. */
bool kk_image__has_extremes(const kk_image *img);

/**
 * An 8-bit view of one frame's extremes for text detection: 255 where a
 * value lies far above the frame's 0.5-99.5th percentile window, 0 far
 * below it, 128 elsewhere (MONOCHROME1 inverted). Burned-in text is drawn
 * at the largest or smallest value; the window clips it into the
 * brightest or darkest anatomy next to it (a name on a radiograph's
 * unexposed corner), where the luminance view shows little contrast.
 * A side counts when its values lie more than an eighth of the window
 * beyond it and cover under 3% of the frame. *any tells whether one does;
 * when it does not, out is left as it was. hint (may be NULL): the window
 * kk_image__gray8_window() told for this frame, which spares the pass
 * when no value lies far beyond it (most frames).
 * @return KK_OK; KK_EINVAL when frame is out of range; KK_ENOMEM
 */
kk_status kk_image__extremes8(const kk_image *img, kk_ctx *ctx, int frame, uint8_t *out,
                              const kk_image_window *hint, bool *any);

/** True for colour pixels (3 samples, or PALETTE COLOR). */
bool kk_image__is_colour(const kk_image *img);

/**
 * An 8-bit chroma view of one frame for text detection: per pixel the
 * spread of its displayed R, G and B (max - min), 0 for grey. Colour text
 * as light as what lies under it (green on grey speckle) is invisible in
 * the luminance view and bright here. All 0 for a monochrome image.
 * @return KK_OK; KK_EINVAL when frame is out of range
 */
kk_status kk_image__chroma8(const kk_image *img, kk_ctx *ctx, int frame, uint8_t *out);

/**
 * Paint the rectangle x,y (column, row of its top-left pixel), w by h,
 * clipped to the image, in one frame or in every frame when frame < 0,
 * with black as displayed: the smallest stored value for MONOCHROME2, the
 * largest for MONOCHROME1, 0 in every sample for RGB, Y=0 Cb=Cr=middle for
 * YBR_FULL, the palette index nearest black for PALETTE COLOR. Bits
 * outside BitsStored are cleared in the box (signed: sign-extended).
 */
void kk_image__fill(kk_image *img, int frame, int x, int y, int w, int h);

/**
 * Remove overlay bits hidden in the unused bits of Pixel Data (BitsStored
 * < BitsAllocated; PS3.5 8.1.2, the retired OverlayBitPosition): every bit
 * above HighBit (and below its lowest stored bit) is cleared. Signed
 * samples are sign-extended instead; all-zero high bits are left alone.
 * @return how many samples changed
 */
size_t kk_image__clear_high_bits(kk_image *img);

/** What to write when the input was lossy (JPEG baseline/extended,
 *  JPEG-LS near-lossless, JPEG 2000 .91). */
typedef enum kk_lossy_policy {
    KK_LOSSY_TO_LOSSLESS, /**< Explicit VR Little Endian, uncompressed */
    KK_LOSSY_REENCODE     /**< the input's lossy syntax again, at quality */
} kk_lossy_policy;

/**
 * Write the pixels back into dcm's data set, so that kk_dcm__save() writes
 * them. Lossless inputs (native, RLE, JPEG lossless .57/.70, JPEG-LS .80,
 * JPEG 2000 .90) are re-encoded in the same transfer syntax. Lossy inputs
 * follow policy: KK_LOSSY_TO_LOSSLESS writes Explicit VR Little Endian;
 * KK_LOSSY_REENCODE writes JPEG .50/.51 at IJG quality (1..100), JPEG-LS
 * .81 with NEAR = (100 - quality) / 5 (at least 1; signed pixels, which
 * DCMTK cannot write near-lossless, go to JPEG-LS lossless .80), or JPEG
 * 2000 .91 with the reversible 5/3 wavelet (quality unused).
 *
 * The header is kept truthful: PhotometricInterpretation,
 * PlanarConfiguration, BitsStored, HighBit follow what is written;
 * LossyImageCompression is "01" if the pixels were ever lossy, with
 * LossyImageCompressionRatio/Method appended by a new lossy encoding;
 * DerivationDescription gets "burned-in text removed; ...". Other
 * attributes, NumberOfFrames and any icon image are left alone.
 *
 * @return KK_OK; KK_EUNSUPPORTED when the syntax cannot be written; KK_EIO
 *         when an encoder fails; KK_ENOMEM. On failure dcm may hold the
 *         new pixels in part: do not save it.
 */
kk_status kk_image__encode(kk_image *img, kk_ctx *ctx, kk_dcm *dcm,
                           kk_lossy_policy policy, int quality);

/** True when the input transfer syntax of img was lossy, so
 *  kk_image__encode() applies its policy. */
bool kk_image__input_lossy(const kk_image *img);
/** Does the Pixel Data hold more than the frames decoded (bytes past
 *  them; fragments that start further frames)? Nothing searched them:
 *  the pixels are to be written again from the frames alone. */
bool kk_image__has_unsearched(const kk_image *img);

#ifdef __cplusplus
}
#endif
#endif /* KK_PIXEL_IMAGE_H */
