/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/codes_zbar.c - barcodes and QR codes by ZBar (codes.h).
 *
 * ZBar reports a code's outline as the points where its scan lines
 * crossed it: a QR code's four corners, a linear code's scan positions
 * along its bars. The box is their extent; a linear code read on one scan
 * line only is grown to a bar height of a quarter of its width, and every
 * box by its quiet zone.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <zbar.h>

#include "pixel/codes.h"

/* Scan every second row and column, every fourth in frames of a
 * megapixel or more (radiographs): codes are far larger than that, and
 * ZBar's time grows with the lines it scans (a noisy 1.5 megapixel frame:
 * 320 ms at 2, 160 ms at 4). */
#define KK_CODES_DENSITY 2
#define KK_CODES_DENSITY_LARGE 4

size_t kk_codes__find(const uint8_t *g, int cols, int rows, kk_code_box *out, size_t max)
{
    if (!g || cols < 16 || rows < 16 || !max)
        return 0;
    zbar_image_scanner_t *sc = zbar_image_scanner_create();
    zbar_image_t *im = zbar_image_create();
    size_t n = 0;
    if (!sc || !im)
        goto done;
    int density = (long)cols * rows >= 1000L * 1000L ? KK_CODES_DENSITY_LARGE : KK_CODES_DENSITY;
    zbar_image_scanner_set_config(sc, 0, ZBAR_CFG_X_DENSITY, density);
    zbar_image_scanner_set_config(sc, 0, ZBAR_CFG_Y_DENSITY, density);
    zbar_image_set_format(im, zbar_fourcc('Y', '8', '0', '0'));
    zbar_image_set_size(im, (unsigned)cols, (unsigned)rows);
    /* ZBar reads the buffer; no cleanup handler: the caller owns it */
    zbar_image_set_data(im, g, (unsigned long)cols * (unsigned long)rows, NULL);
    if (zbar_scan_image(sc, im) <= 0)
        goto done;
    for (const zbar_symbol_t *s = zbar_image_first_symbol(im); s && n < max;
         s = zbar_symbol_next(s)) {
        unsigned np = zbar_symbol_get_loc_size(s);
        if (!np)
            continue;
        int x0 = cols, y0 = rows, x1 = -1, y1 = -1;
        for (unsigned i = 0; i < np; i++) {
            int x = zbar_symbol_get_loc_x(s, i), y = zbar_symbol_get_loc_y(s, i);
            x0 = x < x0 ? x : x0;
            y0 = y < y0 ? y : y0;
            x1 = x > x1 ? x : x1;
            y1 = y > y1 ? y : y1;
        }
        int w = x1 - x0 + 1, h = y1 - y0 + 1;
        bool qr = zbar_symbol_get_type(s) == ZBAR_QRCODE;
        /* a linear code read along one scan line only: its bars run
         * above and below it, by a quarter of its width */
        if (!qr && h < w / 8) {
            int cy = (y0 + y1) / 2;
            h = w / 4;
            y0 = cy - h / 2;
        }
        if (!qr && w < h / 8) { /* a vertical linear code */
            int cx = (x0 + x1) / 2;
            w = h / 4;
            x0 = cx - w / 2;
        }
        int m = (w < h ? w : h) / 8 + 6; /* the quiet zone, and the
                                            half-module ZBar's points miss */
        x0 -= m;
        y0 -= m;
        w += 2 * m;
        h += 2 * m;
        if (x0 < 0) {
            w += x0;
            x0 = 0;
        }
        if (y0 < 0) {
            h += y0;
            y0 = 0;
        }
        if (x0 + w > cols)
            w = cols - x0;
        if (y0 + h > rows)
            h = rows - y0;
        if (w > 0 && h > 0)
            out[n++] = (kk_code_box){ x0, y0, w, h };
    }
done:
    if (im)
        zbar_image_destroy(im);
    if (sc)
        zbar_image_scanner_destroy(sc);
    return n;
}
