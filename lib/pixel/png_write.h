/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/png_write.h - the one PNG writer of lib/pixel (libpng): the
 * review contact sheet, the defacing review and the release chart.
 */
#ifndef KK_PIXEL_PNG_WRITE_H
#define KK_PIXEL_PNG_WRITE_H

#include <stdint.h>

#include "core/core.h"

/** Write w x h pixels of 1 (grey) or 3 (RGB) channels, rows top down,
 *  as a PNG at path, atomically: a temp file beside it, then rename. */
kk_status kk_pixel__png_write(kk_ctx *ctx, const char *path, const uint8_t *px, int w, int h,
                              int channels);

#endif /* KK_PIXEL_PNG_WRITE_H */
