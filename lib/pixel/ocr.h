/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/ocr.h - read one prepared line image with Tesseract (C API).
 *
 * Holds two Tesseract handles (English and Japanese), initialised once:
 * an engine belongs to one thread and is never shared. The input is a
 * binarized crop (black text on white, see kk_detect__ocr_image); the
 * result is word boxes, in the crop's pixels, with their text and
 * confidence. Tesseract's own diagnostics go to /dev/null, and nothing
 * read is ever put into an error message (R04).
 * Not a public API.
 */
#ifndef KK_PIXEL_OCR_H
#define KK_PIXEL_OCR_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

typedef struct kk_ocr kk_ocr;

typedef enum kk_ocr_lang { KK_OCR_ENG = 0, KK_OCR_JPN = 1 } kk_ocr_lang;

/** One word as Tesseract read it. */
typedef struct kk_ocr_word {
    int x, y, w, h;  /* in the input image's pixels */
    float conf;      /* 0..100 */
    char text[96];   /* UTF-8, truncated on a character boundary */
} kk_ocr_word;

/**
 * Start Tesseract with eng and jpn. Also calls omp_set_max_active_levels(0)
 * when libgomp is loaded: Debian's Tesseract otherwise runs each LSTM step
 * on an OpenMP team, which on line crops triples CPU time (measured).
 * @param datapath  tessdata folder; NULL: TESSDATA_PREFIX or Tesseract's
 *                  built-in default
 * @return KK_OK; KK_ENOTFOUND when either traineddata cannot be loaded;
 *         KK_ENOMEM
 */
kk_status kk_ocr__new(kk_ocr **out, kk_ctx *ctx, const char *datapath);
void kk_ocr__free(kk_ocr *ocr); /* NULL is a no-op */

/**
 * Read one line (page segmentation: a single text line).
 * @param img        w*h bytes, 8-bit grey, no padding
 * @param[out] words array of *n words (kk_free); NULL when none
 * @param[out] mean_conf  mean word confidence, 0 when no word
 */
kk_status kk_ocr__line(kk_ocr *ocr, kk_ctx *ctx, kk_ocr_lang lang, const uint8_t *img, int w,
                       int h, kk_ocr_word **words, size_t *n, float *mean_conf);

#endif /* KK_PIXEL_OCR_H */
