/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/image_internal.h - the layout of kk_image, shared by image.c
 * (views, fill, bits) and image_dcmtk.cc (decode, encode). Nothing else
 * may look inside a kk_image.
 *
 * Invariants: data holds frames*rows*cols*spp samples of `bytes` bytes in
 * host order, colour-by-pixel; a sample's stored value is its bits
 * low_bit..high_bit, sign-extended when is_signed; pi is never a
 * subsampled or ICT/RCT interpretation.
 */
#ifndef KK_PIXEL_IMAGE_INTERNAL_H
#define KK_PIXEL_IMAGE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pixel/image.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum kk_pi {
    KK_PI_MONO1,
    KK_PI_MONO2,
    KK_PI_RGB,
    KK_PI_YBR_FULL,
    KK_PI_PALETTE
} kk_pi;

/* How the pixels were decoded, hence how they are encoded again. */
typedef enum kk_src {
    KK_SRC_NATIVE, /* uncompressed: put back as is */
    KK_SRC_DCMTK,  /* RLE, JPEG, JPEG-LS: DCMTK's codecs */
    KK_SRC_J2K,    /* JPEG 2000: OpenJPEG */
    KK_SRC_FLOAT   /* Float or Double Float Pixel Data, seen as 16 bits */
} kk_src;

struct kk_image {
    char *path;           /* for messages */
    int frames, rows, cols, spp;
    int bytes;            /* per sample as held: 1, 2 or 4 */
    int bits_alloc;       /* in the file: 1, 8, 16 or 32 */
    int bits_stored, high_bit;
    bool is_signed;
    kk_pi pi;
    uint8_t *data;
    size_t nsamples;      /* frames*rows*cols*spp */

    /* PALETTE COLOR: the three lookup tables expanded to 16 bits */
    uint16_t *lut[3];
    int lut_n, lut_first;

    /* where the pixels came from */
    kk_src src;
    char ts[68];          /* transfer syntax UID read */
    bool lossy_in;        /* the transfer syntax read is lossy */
    int planar_in;        /* PlanarConfiguration read (native only) */
    bool ybr422_in;       /* native YBR_FULL_422, expanded */
    bool unsearched;      /* Pixel Data holds more than its frames (bytes
                           * past them, fragments of further frames) */

    /* KK_SRC_FLOAT: the values, and the finite range mapped onto the
     * 16-bit samples (lo -> 0, hi -> 65535) */
    double *fdata;
    double flo, fhi;
    bool fdouble;         /* (7FE0,0009) OD rather than (7FE0,0008) OF */
};

/** Lowest stored bit: HighBit + 1 - BitsStored. */
static inline int kk_image__low_bit(const kk_image *img)
{
    int lb = img->high_bit + 1 - img->bits_stored;
    return lb < 0 ? 0 : lb;
}

/** The raw bits of sample i. */
static inline uint32_t kk_image__raw(const kk_image *img, size_t i)
{
    switch (img->bytes) {
    case 1: return img->data[i];
    case 2: return ((const uint16_t *)(const void *)img->data)[i];
    default: return ((const uint32_t *)(const void *)img->data)[i];
    }
}

static inline void kk_image__set_raw(kk_image *img, size_t i, uint32_t v)
{
    switch (img->bytes) {
    case 1: img->data[i] = (uint8_t)v; break;
    case 2: ((uint16_t *)(void *)img->data)[i] = (uint16_t)v; break;
    default: ((uint32_t *)(void *)img->data)[i] = v; break;
    }
}

/** Stored value of sample i. */
int64_t kk_image__value(const kk_image *img, size_t i);
/** Every sample's stored value times slope plus intercept, into out
 *  (nsamples floats). */
void kk_image__to_float(const kk_image *img, double slope, double intercept, float *out);
/** Stored value that the raw bits raw hold. */
int64_t kk_image__value_raw(const kk_image *img, uint32_t raw);
/** The canonical raw bits for stored value v (clipped to the range). */
uint32_t kk_image__pattern(const kk_image *img, int64_t v);
/** Smallest and largest stored value BitsStored allows. */
void kk_image__range(const kk_image *img, int64_t *lo, int64_t *hi);

#ifdef __cplusplus
}
#endif
#endif /* KK_PIXEL_IMAGE_INTERNAL_H */
