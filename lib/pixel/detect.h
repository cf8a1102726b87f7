/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/detect.h - find lines of burned-in text in an 8-bit image, and
 * prepare a line for OCR (OpenCV, in detect_opencv.cc).
 *
 * Detection only: nothing here reads text. Both polarities are searched
 * (light text on dark, dark text on light). A line is a group of glyph-like
 * connected components of similar height on one baseline; speckle, anatomy
 * and scale ticks are rejected by size, contrast, sharpness and by how the
 * components line up. The C++ behind this header catches every exception:
 * callers see a kk_status only. Pure: no global state, thread-safe.
 * Not a public API.
 */
#ifndef KK_PIXEL_DETECT_H
#define KK_PIXEL_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One candidate line of text, in frame pixels. */
typedef struct kk_detect_line {
    int x, y, w, h;      /* bounding box of its glyph pixels */
    int polarity;        /* +1 text lighter than background, -1 darker */
    int glyph_h;         /* median height of its components */
    int ncomp;           /* connected components grouped into it */
    int text_level;      /* median grey of its glyph pixels (0..255) */
    int bg_level;        /* median grey around them (0..255) */
    float score;         /* 0..1, how text-like; for ordering and tests */
    /* shape of the line, for the caller to weigh OCR's verdict against */
    float saliency;      /* glyph peak / 90th percentile of the ring around */
    float sharp;         /* edge steepness, ~1 for rendered glyphs */
    float plateau;       /* flat glyph interiors, 0..1 */
    float fill;          /* component pixels / box area */
    float h_spread;      /* mean |h - median h| / median h of the components */
    float base_spread;   /* mean |bottom - median bottom| / median h */
    float stroke;        /* median stroke width / median h */
    float regularity;    /* 0..1: glyphs of one height on one baseline */
} kk_detect_line;

/**
 * Find candidate text lines.
 * @param[out] out  array of *n lines (kk_free); NULL when none
 * @param gray      width*height bytes, row-major, no padding
 * @return KK_OK; KK_EINVAL for a bad size; KK_ENOMEM; KK_EINTERNAL when
 *         OpenCV throws (the message names the stage, not pixel values)
 */
kk_status kk_detect__lines(kk_ctx *ctx, const uint8_t *gray, int width, int height,
                           kk_detect_line **out, size_t *n);

/** A region of a frame worth a closer look, in frame pixels. */
typedef struct kk_detect_rect {
    int x, y, w, h;
} kk_detect_rect;

/**
 * The text-presence stage: a cheap search for anything text-like, run on
 * every frame of every image before the full detector and OCR. Both
 * polarities, at half resolution (2x2 maximum for light text, minimum for
 * dark, so one-pixel strokes survive): a top-hat, a threshold, connected
 * components of glyph size, and components of one height side by side.
 * Returns the regions (with a margin, merged) where kk_detect__lines()
 * should look; none means the frame has no text to find. Tuned to miss
 * nothing the full detector finds; about 0.25 ms for 512x512 on one core.
 * @param wide       regions reach twice as far along their line: a word
 *                   the stage lost beside the one it found (9 px kanji on
 *                   speckle, after an "MI 1.2" it found); for all-text
 *                   searches, where more anatomy seen is no harm
 * @param[out] out   array of *n regions (kk_free); NULL when none
 * @param[out] cols  when not NULL: regions where the same components
 *                   stand one under the other (text top to bottom, or
 *                   turned on its side), for kk_detect__lines() on the
 *                   transposed region; array of *ncols (kk_free)
 */
kk_status kk_detect__presence(kk_ctx *ctx, const uint8_t *gray, int width, int height,
                              bool wide, kk_detect_rect **out, size_t *n, kk_detect_rect **cols,
                              size_t *ncols);

/**
 * The presence stage's half-resolution views: the maximum (mx) and the
 * minimum (mn) of each 2x2 block of gray, (width+1)/2 by (height+1)/2
 * bytes each, no padding; an odd last row or column pools with itself.
 * Vector instructions where the CPU has them; exposed for its test.
 */
void kk_detect__pool2(const uint8_t *gray, int width, int height, uint8_t *mx, uint8_t *mn);

/**
 * Cut a line out of the frame, with a margin, scaled so its glyphs are
 * about target_h pixels high and binarized as black text on white, with a
 * white border: what Tesseract reads best.
 * @param[out] out     the image (kk_free), *ow by *oh bytes, no padding
 * @param[out] scale   output pixels per frame pixel
 * @param[out] ox, oy  frame coordinates of the output's (border-free) origin;
 *                     frame x = ox + (out x - border) / scale
 * @param[out] border  width of the white border added on each side
 */
kk_status kk_detect__ocr_image(kk_ctx *ctx, const uint8_t *gray, int width, int height,
                               const kk_detect_line *line, int target_h,
                               uint8_t **out, int *ow, int *oh, double *scale,
                               int *ox, int *oy, int *border);

#ifdef __cplusplus
}
#endif
#endif /* KK_PIXEL_DETECT_H */
