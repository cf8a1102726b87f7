/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/module.h - the table of entry points that the pixel module
 * (kakou-pixel.so: lib/pixel with OpenCV, Tesseract and the image codecs)
 * hands to the core library, which loads it only when a profile's
 * burned-in text rules find something to do (lib/pixel/loader.c).
 * Keeping those libraries out of the core keeps process start and memory
 * small for header-only runs. Bump KK_PIXEL_MODULE_ABI on any change here
 * or to a type these functions take.
 * Not a public API.
 */
#ifndef KK_PIXEL_MODULE_H
#define KK_PIXEL_MODULE_H

#include "pixel/image.h"
#include "pixel/redact.h"
#include "pixel/review_sheet.h"
#include "pixel/volume_io.h"

#define KK_PIXEL_MODULE_ABI 4
#define KK_PIXEL_MODULE_SYMBOL "kk_pixel_module_v1"

typedef struct kk_pixel_module {
    int abi;                          /* KK_PIXEL_MODULE_ABI */
    const char *version;              /* KK_VERSION_STRING it was built from */
    kk_status (*pool_new)(kk_pixel_pool **out, kk_ctx *ctx, const kk_profile *profile);
    void (*pool_free)(kk_pixel_pool *pool);
    kk_status (*apply)(const kk_pixel_plan *plan, kk_ctx *ctx, kk_pixel_pool *pool, kk_dcm *dcm,
                       const char *path, bool write, kk_pixel_outcome *out, kk_image **keep);
    kk_status (*image_decode)(kk_image **out, kk_ctx *ctx, kk_dcm *dcm);
    /* kakou verify --pixels */
    kk_status (*residue)(kk_ctx *ctx, kk_pixel_pool *pool, kk_dcm *dcm, const char *path,
                         kk_pixel_residue_fn fn, void *payload);
    void (*image_free)(kk_image *img);
    /* the review contact sheet (lib/deid/review.c runs the loop) */
    kk_status (*sheet_new)(kk_sheet **out, kk_ctx *ctx, int thumb_width, int columns,
                           int after_only);
    void (*sheet_free)(kk_sheet *sheet);
    kk_status (*sheet_add)(kk_sheet *sheet, kk_ctx *ctx, size_t index, const kk_image *before,
                           const kk_image *after, const kk_pixel_outcome *out);
    kk_status (*sheet_write)(kk_sheet *sheet, kk_ctx *ctx, const char *png_path);
    /* defacing (lib/deid/deface.c) */
    kk_status (*read_frames)(kk_ctx *ctx, kk_dcm *dcm, const char *path, double slope,
                             double intercept, float **out, int *frames, int *rows, int *columns);
    kk_status (*write_patch)(kk_ctx *ctx, kk_dcm *dcm, const char *path,
                             const kk_pixel_patch *patch);
    kk_status (*write_gray_png)(kk_ctx *ctx, const char *path, const uint8_t *gray, int w,
                                int h);
} kk_pixel_module;

#endif /* KK_PIXEL_MODULE_H */
