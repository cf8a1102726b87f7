/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/codes.h - barcodes and QR codes in one 8-bit frame: where they
 * are, never what they say. A wristband or label scanned into a document
 * carries the patient's ID as a code beside the printed text; the text
 * search paints the text, this finds the code so it is painted too.
 * A thin adapter over ZBar (Debian's libzbar), which knows EAN/UPC,
 * Code 128, Code 39, Code 93, Codabar, Interleaved 2 of 5, DataBar and QR.
 * Not a public API.
 */
#ifndef KK_PIXEL_CODES_H
#define KK_PIXEL_CODES_H

#include <stddef.h>
#include <stdint.h>

typedef struct kk_code_box {
    int x, y, w, h;
} kk_code_box;

/**
 * Codes in an 8-bit frame of cols x rows (row-major, no padding): up to
 * max boxes, each the code's extent with its quiet zone. @return how many
 * were found (0 when ZBar cannot run: never an error, the text search
 * still runs)
 */
size_t kk_codes__find(const uint8_t *g, int cols, int rows, kk_code_box *out, size_t max);

#endif /* KK_PIXEL_CODES_H */
