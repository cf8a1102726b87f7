/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/review_sheet.h - the pixel half of the review contact sheet
 * (kakou review): one object's decoded images and boxes become a tile, and
 * the sheet becomes a PNG file. The loop over the inputs, which reads and
 * plans each object as a run would, is lib/deid/review.c's: this room only
 * draws. Part of the pixel module (kakou-pixel.so): it needs OpenCV and
 * libpng.
 * Not a public API.
 */
#ifndef KK_PIXEL_REVIEW_SHEET_H
#define KK_PIXEL_REVIEW_SHEET_H

#include <stddef.h>

#include "pixel/image.h"
#include "pixel/redact.h"
#include "pixel/sheet.h"

/**
 * Add the index-th object's tile: the first frame of before (boxes drawn)
 * and after, labelled with the running number and the count of boxes by
 * source, never a file name or value. before NULL: a crossed tile for an
 * object that could not be read (after and out are then ignored).
 */
kk_status kk_pixel__sheet_add(kk_sheet *sheet, kk_ctx *ctx, size_t index, const kk_image *before,
                              const kk_image *after, const kk_pixel_outcome *out);

/** Render the sheet and write it to png_path as PNG, atomically. */
kk_status kk_pixel__sheet_write(kk_sheet *sheet, kk_ctx *ctx, const char *png_path);

#endif /* KK_PIXEL_REVIEW_SHEET_H */
