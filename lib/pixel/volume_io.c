/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/volume_io.c - a volume's slices in and out (volume_io.h),
 * through the codecs of image.h. Sets samples through image_internal.h's
 * kk_image__pattern(), as image.c does.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "pixel/image.h"
#include "pixel/image_internal.h"
#include "pixel/png_write.h"
#include "pixel/volume_io.h"

static bool monochrome(const kk_image *img)
{
    return img->spp == 1 && (img->pi == KK_PI_MONO1 || img->pi == KK_PI_MONO2);
}

kk_status kk_pixel__read_frames(kk_ctx *ctx, kk_dcm *dcm, const char *path, double slope,
                                double intercept, float **out, int *frames, int *rows,
                                int *columns)
{
    *out = NULL;
    kk_image *img = NULL;
    kk_status st = kk_image__decode(&img, ctx, dcm);
    if (st != KK_OK)
        return st;
    if (!monochrome(img)) {
        kk_image__free(img);
        return kk__fail(ctx, KK_EUNSUPPORTED, "cannot read '%s' as a slice of a volume: "
                        "the pixels are not monochrome", path);
    }
    float *v = kk__malloc(img->nsamples * sizeof *v);
    if (!v) {
        kk_image__free(img);
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    }
    kk_image__to_float(img, slope, intercept, v);
    *out = v;
    *frames = img->frames;
    *rows = img->rows;
    *columns = img->cols;
    kk_image__free(img);
    return KK_OK;
}

/* "burned-in text removed" is what kk_image__encode() says of its own
 * work; here the face and ears were removed instead. */
static kk_status fix_derivation(kk_ctx *ctx, kk_dcm *dcm)
{
    kk_dcm_item *ds = kk_dcm__dataset(dcm);
    kk_dcm_elem *e = kk_dcm__find(ds, KK_TAG(0x0008, 0x2111));
    char *old = e ? kk_dcm__value_text(e) : NULL;
    if (!old)
        return KK_OK;
    const char *needle = "burned-in text removed";
    char *at = strstr(old, needle);
    kk_status st = KK_OK;
    if (at) {
        kk_buf b = KK_BUF_INIT;
        kk__buf_add(&b, old, (size_t)(at - old));
        kk__buf_adds(&b, "face and ears removed");
        kk__buf_adds(&b, at + strlen(needle));
        st = b.failed ? KK_ENOMEM : kk_dcm__put_string(ds, ctx, KK_TAG(0x0008, 0x2111), b.data);
        kk__buf_free(&b);
    }
    free(old);
    return st;
}

kk_status kk_pixel__write_patch(kk_ctx *ctx, kk_dcm *dcm, const char *path,
                                const kk_pixel_patch *patch)
{
    kk_image *img = NULL;
    kk_status st = kk_image__decode(&img, ctx, dcm);
    if (st != KK_OK)
        return st;
    if (!monochrome(img)) {
        kk_image__free(img);
        return kk__fail(ctx, KK_EUNSUPPORTED, "cannot deface '%s': the pixels are not "
                        "monochrome", path);
    }
    double slope = patch->slope != 0 ? patch->slope : 1.0;
    for (size_t i = 0; i < patch->n; i++) {
        size_t at = patch->at[i];
        if (at >= img->nsamples)
            continue;
        double stored = floor(((double)patch->value[i] - patch->intercept) / slope + 0.5);
        if (stored > 2147483647.0)
            stored = 2147483647.0;
        if (stored < -2147483648.0)
            stored = -2147483648.0;
        kk_image__set_raw(img, at, kk_image__pattern(img, (int64_t)stored));
    }
    st = kk_image__encode(img, ctx, dcm, KK_LOSSY_TO_LOSSLESS, 0);
    kk_image__free(img);
    if (st == KK_OK)
        st = fix_derivation(ctx, dcm);
    return st;
}

kk_status kk_pixel__write_gray_png(kk_ctx *ctx, const char *path, const uint8_t *gray, int w,
                                   int h)
{
    return kk_pixel__png_write(ctx, path, gray, w, h, 1);
}
