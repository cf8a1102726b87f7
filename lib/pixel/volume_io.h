/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/volume_io.h - the pixels of a volume's slices in and out, for
 * defacing (lib/deid/deface.c, lib/volume/volume.h): decode an object's
 * frames into physical values, and put changed values back in the
 * object's own transfer syntax (image.h's rules: lossless inputs stay
 * lossless, lossy inputs follow the lossy policy).
 * Built into the pixel module (module.h) with the codecs.
 * Not a public API.
 */
#ifndef KK_PIXEL_VOLUME_IO_H
#define KK_PIXEL_VOLUME_IO_H

#include <stddef.h>
#include <stdint.h>

#include "dicom/dicom.h"
#include "kakou/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Changed samples of one object: sample (frame * rows + row) * columns +
 *  column gets physical value value[i] (stored = (value - intercept) /
 *  slope, rounded, clipped to BitsStored). */
typedef struct kk_pixel_patch {
    size_t n;
    const uint32_t *at;
    const float *value;
    double slope, intercept;
} kk_pixel_patch;

/**
 * Decode the Pixel Data of dcm into frames*rows*columns floats (stored
 * value * slope + intercept). Monochrome only.
 * @param[out] out  kk_free() it
 * @return KK_OK; KK_EUNSUPPORTED for colour or what the decoder cannot
 *         read (the message names the file); KK_ENOMEM
 */
kk_status kk_pixel__read_frames(kk_ctx *ctx, kk_dcm *dcm, const char *path, double slope,
                                double intercept, float **out, int *frames, int *rows,
                                int *columns);

/**
 * Decode dcm, apply patch, and encode it back into dcm (lossy inputs
 * written losslessly). DerivationDescription says "face removed".
 */
kk_status kk_pixel__write_patch(kk_ctx *ctx, kk_dcm *dcm, const char *path,
                                const kk_pixel_patch *patch);

/** Write w x h 8-bit gray pixels (row by row) as a PNG file. */
kk_status kk_pixel__write_gray_png(kk_ctx *ctx, const char *path, const uint8_t *gray, int w,
                                   int h);

#ifdef __cplusplus
}
#endif
#endif /* KK_PIXEL_VOLUME_IO_H */
