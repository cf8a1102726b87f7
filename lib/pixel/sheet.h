/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/sheet.h - a contact sheet of before/after thumbnails with the
 * redacted boxes drawn (OpenCV, in sheet_opencv.cc), for people to check
 * a batch at a glance (kakou review).
 * Not a public API.
 */
#ifndef KK_PIXEL_SHEET_H
#define KK_PIXEL_SHEET_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kk_sheet kk_sheet;

/** A box drawn on a "before" thumbnail; colour by kind. */
typedef struct kk_sheet_box {
    int x, y, w, h;
    int kind; /* 0 detected text (red), 1 region rule (yellow), 2 overlay (blue) */
} kk_sheet_box;

kk_status kk_sheet__new(kk_sheet **out, kk_ctx *ctx, int thumb_width, int columns, int after_only);
void kk_sheet__free(kk_sheet *s);

/**
 * Add one object: RGB interleaved frames, width x height, before and
 * after (either may be NULL for a failed object: a crossed tile), and a
 * short label (an index, never a file name or value).
 */
kk_status kk_sheet__add(kk_sheet *s, kk_ctx *ctx, const uint8_t *before, const uint8_t *after,
                        int width, int height, const kk_sheet_box *boxes, size_t nboxes,
                        const char *label);

/** The sheet as RGB: *rgb (kk_free) of *w by *h pixels. */
kk_status kk_sheet__render(kk_sheet *s, kk_ctx *ctx, uint8_t **rgb, int *w, int *h);

#ifdef __cplusplus
}
#endif
#endif /* KK_PIXEL_SHEET_H */
