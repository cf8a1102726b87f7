/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/j2k.h - one JPEG 2000 frame to samples and back, through
 * OpenJPEG 2.5 (DCMTK 3.6.7 has no JPEG 2000 codec). Works on memory
 * buffers only; knows nothing of DICOM (image_dcmtk.cc splits and joins
 * the fragments). Not a public API.
 */
#ifndef KK_PIXEL_J2K_H
#define KK_PIXEL_J2K_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kakou/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A decoded frame. */
typedef struct kk_j2k_frame {
    int width, height, ncomp, prec;
    bool sgnd;
    bool mct;      /* an ICT/RCT was undone: the components are RGB */
    int32_t *data; /* width*height*ncomp values, colour-by-pixel; kk_free() */
} kk_j2k_frame;

/**
 * Decode a J2K codestream or a JP2 file (told apart by their magic).
 * @return KK_OK; KK_EUNSUPPORTED with *why set to a static text (the
 *         codestream is broken, or its components are subsampled or of
 *         unequal size or precision); KK_ENOMEM
 */
kk_status kk_j2k__decode(const uint8_t *buf, size_t len, kk_j2k_frame *out, const char **why);

/**
 * Encode samples (width*height*ncomp, colour-by-pixel) as a J2K
 * codestream, reversible 5/3 wavelet, one layer, with the reversible
 * colour transform when ncomp is 3 (PhotometricInterpretation YBR_RCT).
 * @param[out] out  the codestream, even length (padded after EOC); kk_free()
 * @return KK_OK; KK_EUNSUPPORTED with *why set; KK_ENOMEM
 */
kk_status kk_j2k__encode(const int32_t *samples, int width, int height, int ncomp, int prec,
                         bool sgnd, uint8_t **out, size_t *outlen, const char **why);

#ifdef __cplusplus
}
#endif
#endif /* KK_PIXEL_J2K_H */
