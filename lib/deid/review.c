/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/deid/review.c - kk_deid_review(): a contact sheet (PNG) of what a
 * run would paint out of each object's pixels, for people to check a batch
 * at a glance. This is the loop: each object is read and planned as
 * kk_deid_file() would (kk_deid__review_one(), deid.c), and its images
 * and boxes go down to lib/pixel/review_sheet.c, which draws the tile and
 * writes the PNG. The calls go one way, deid to pixel; in libkakou.so the
 * pixel calls reach the pixel module through lib/pixel/loader.c.
 */
#include "deid/review.h"
#include "pixel/review_sheet.h"

kk_status kk_deid_review(kk_deid *d, kk_ctx *ctx, const char *const *paths, size_t npaths,
                         const char *png_path, const kk_review_options *opts, size_t *failed)
{
    kk_review_options defaults = KK_REVIEW_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    if (failed)
        *failed = 0;
    if (!d || !paths || npaths == 0 || !png_path)
        return kk__fail(ctx, KK_EINVAL, "no files to review");
    kk_sheet *sheet = NULL;
    kk_status st = kk_sheet__new(&sheet, ctx, opts->thumb_width, opts->columns, opts->after_only);
    for (size_t i = 0; st == KK_OK && i < npaths; i++) {
        kk_image *before = NULL, *after = NULL;
        kk_pixel_outcome out;
        if (kk_deid__review_one(d, ctx, paths[i], &before, &after, &out) != KK_OK) {
            if (failed)
                (*failed)++;
            if (opts->on_error)
                opts->on_error(paths[i], kk_error_message(ctx), opts->payload);
            st = kk_pixel__sheet_add(sheet, ctx, i, NULL, NULL, NULL);
            continue;
        }
        st = kk_pixel__sheet_add(sheet, ctx, i, before, after, &out);
        kk_image__free(before);
        kk_image__free(after);
        kk_pixel__outcome_free(&out);
    }
    if (st == KK_OK)
        st = kk_pixel__sheet_write(sheet, ctx, png_path);
    kk_sheet__free(sheet);
    return st;
}
