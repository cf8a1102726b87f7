/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/jls.h - one JPEG-LS frame to samples, through Debian's CharLS
 * 2.x (libcharls). DCMTK decodes JPEG-LS with an old CharLS of its own
 * that rejects some valid streams (7 bits stored, issue 14 item 6); this
 * is the fallback image_dcmtk.cc tries when DCMTK's decoder fails.
 * Decodes memory buffers only and knows nothing of DICOM. Not a public API.
 */
#ifndef KK_PIXEL_JLS_H
#define KK_PIXEL_JLS_H

#include <stddef.h>
#include <stdint.h>

#include "kakou/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A decoded frame. */
typedef struct kk_jls_frame {
    int width, height, ncomp, prec;
    int32_t *data; /* width*height*ncomp values, colour-by-pixel; kk_free() */
} kk_jls_frame;

/**
 * Decode a JPEG-LS stream (SOI to EOI; trailing padding is ignored).
 * @return KK_OK; KK_EUNSUPPORTED with *why set to a static text (the
 *         stream is broken, or a colour transform or subsampling is used);
 *         KK_ENOMEM
 */
kk_status kk_jls__decode(const uint8_t *buf, size_t len, kk_jls_frame *out, const char **why);

#ifdef __cplusplus
}
#endif
#endif /* KK_PIXEL_JLS_H */
