/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/review_sheet.c - the pixel half of the review contact sheet
 * (review_sheet.h): an object's first frame, before with the boxes drawn
 * and after, as a tile; the sheet as a PNG. Labels are running numbers,
 * never file names or values; the "before" half shows original pixels
 * (see deid.h). Which objects, and what a run would paint out of them, is
 * decided above, in lib/deid/review.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pixel/png_write.h"
#include "pixel/review_sheet.h"

kk_status kk_pixel__sheet_add(kk_sheet *sheet, kk_ctx *ctx, size_t index, const kk_image *before,
                              const kk_image *after, const kk_pixel_outcome *out)
{
    char label[64];
    if (!before || !after || !out) {
        snprintf(label, sizeof label, "#%zu: cannot read", index + 1);
        return kk_sheet__add(sheet, ctx, NULL, NULL, 4, 3, NULL, 0, label);
    }
    int w = kk_image__columns(before), h = kk_image__rows(before);
    size_t px = (size_t)w * (size_t)h * 3;
    uint8_t *rb = kk__malloc(px), *ra = kk__malloc(px);
    kk_sheet_box *boxes = kk__calloc(out->nboxes + 1, sizeof *boxes);
    size_t nb = 0;
    kk_status st = KK_OK;
    if (!rb || !ra || !boxes)
        st = kk__fail(ctx, KK_ENOMEM, "out of memory");
    if (st == KK_OK)
        st = kk_image__rgb8(before, ctx, 0, rb);
    if (st == KK_OK)
        st = kk_image__rgb8(after, ctx, 0, ra);
    for (size_t i = 0; st == KK_OK && i < out->nboxes; i++) {
        const kk_pixel_box *b = &out->boxes[i];
        if (b->frame > 0)
            continue; /* the sheet shows the first frame */
        boxes[nb].x = b->x;
        boxes[nb].y = b->y;
        boxes[nb].w = b->w;
        boxes[nb].h = b->h;
        boxes[nb].kind = b->source == KK_PIXEL_SOURCE_DETECTED ? 0 : b->source == KK_PIXEL_SOURCE_RULE ? 1 : 2;
        nb++;
    }
    if (st == KK_OK) {
        snprintf(label, sizeof label, "#%zu: %u text, %u region%s", index + 1,
                 out->by_source[KK_PIXEL_SOURCE_DETECTED], out->by_source[KK_PIXEL_SOURCE_RULE],
                 kk_image__frames(before) > 1 ? ", frame 1" : "");
        st = kk_sheet__add(sheet, ctx, rb, ra, w, h, boxes, nb, label);
    }
    free(rb);
    free(ra);
    free(boxes);
    return st;
}

kk_status kk_pixel__sheet_write(kk_sheet *sheet, kk_ctx *ctx, const char *png_path)
{
    uint8_t *rgb = NULL;
    int w = 0, h = 0;
    kk_status st = kk_sheet__render(sheet, ctx, &rgb, &w, &h);
    if (st == KK_OK)
        st = kk_pixel__png_write(ctx, png_path, rgb, w, h, 3);
    free(rgb);
    return st;
}
