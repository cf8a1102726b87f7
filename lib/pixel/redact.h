/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/redact.h - burned-in text: decide from the profile's `pixel`
 * statements what an object's pixels need, find the text, paint it out and
 * put the pixels back (lib/pixel/image.h decodes and re-encodes,
 * lib/pixel/textfind.h finds text).
 *
 * Two steps, because the profile's conditions read the original header
 * (Manufacturer, Modality, ...) and the header is de-identified between
 * them: kk_pixel__plan() before, kk_pixel__apply() after. An object with
 * nothing to redact is never decoded, so its Pixel Data stays byte for
 * byte (invariant (2) of lib/deid/deid.c).
 * Not a public API.
 */
#ifndef KK_PIXEL_REDACT_H
#define KK_PIXEL_REDACT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/core.h"
#include "dicom/dicom.h"
#include "pixel/image.h"
#include "pixel/textfind.h"
#include "profile/profile_internal.h"

typedef enum kk_pixel_source {
    KK_PIXEL_SOURCE_RULE = 0, /* a `pixel region` rule */
    KK_PIXEL_SOURCE_DETECTED, /* text detection */
    KK_PIXEL_SOURCE_OVERLAY   /* overlay bits in the pixel data */
} kk_pixel_source;

/** One redacted box. */
typedef struct kk_pixel_box {
    int frame;             /* -1: every frame */
    int x, y, w, h;
    kk_pixel_source source;
    int text_class;        /* kk_text_class of lib/pixel/textfind.h */
    char text[160];        /* what OCR read (UTF-8); for --show-values only */
} kk_pixel_box;

/** What the profile asks of one object's pixels. */
typedef struct kk_pixel_plan {
    kk_pixel_mode mode;
    const char *mode_origin;  /* the `pixel mode` rule, or NULL */
    kk_pixel_box *regions;    /* rule regions, in pixels */
    size_t nregions;
    int rows, columns, frames;
    bool clear_high_bits;     /* overlay bits may hide above BitsStored */
    /* lossy input: re-encode in its own syntax (`set pixel.lossy
     * reencode`, at `set pixel.quality`) or losslessly (the default) */
    bool lossy_reencode;
    int quality;
    /* text still found after painting fails the object (`set
     * pixel.residue fail`) instead of being reported (the default) */
    bool residue_fail;
    /* the object's identifiers, from the original header (mode phi) */
    kk_text_ids ids;
    char **texts; /* what ids points into */
    size_t ntexts;
    bool active;              /* anything at all to do */
} kk_pixel_plan;

/** What kk_pixel__apply() did. */
typedef struct kk_pixel_outcome {
    kk_pixel_box *boxes;
    size_t nboxes;
    unsigned by_source[3];
    bool cleaned;             /* pixels were changed and re-encoded */
    bool burned_in_checked;   /* text detection ran over every frame */
    unsigned residue_frames;  /* frames where text is still found after
                                 painting: the object is not clean */
    double seconds;
} kk_pixel_outcome;

void kk_pixel__plan_free(kk_pixel_plan *plan);
void kk_pixel__outcome_free(kk_pixel_outcome *out);

/** Read the `pixel` rules against the original header of dcm. */
kk_status kk_pixel__plan(kk_pixel_plan *plan, kk_ctx *ctx, const kk_profile *profile,
                         kk_dcm *dcm, const char *path);

/* Text finders hold OCR engines, which are not thread-safe and slow to
 * start: a run keeps a pool and lends one to each object. */
typedef struct kk_pixel_pool kk_pixel_pool;
kk_status kk_pixel__pool_new(kk_pixel_pool **out, kk_ctx *ctx, const kk_profile *profile);
void kk_pixel__pool_free(kk_pixel_pool *pool);

/**
 * Find text as the plan says and paint it out. With write false (explain,
 * review) nothing is re-encoded, and *keep, when keep is not NULL, gets
 * the painted image (kk_image__free()).
 */
kk_status kk_pixel__apply(const kk_pixel_plan *plan, kk_ctx *ctx, kk_pixel_pool *pool,
                          kk_dcm *dcm, const char *path, bool write,
                          kk_pixel_outcome *out, kk_image **keep);

/** One text line kk_pixel__residue() finds: its frame (0-based), its
 *  class (kk_text_class) and what OCR read (UTF-8, may be empty). */
typedef void (*kk_pixel_residue_fn)(int frame, int text_class, const char *text, void *payload);

/**
 * Search the pixels of dcm as they are, every frame, for text left in
 * them: the presence stage and the detector, strict, as deid's last look
 * after painting searches (kk_pixel__apply), in all-text mode (every line
 * but wholly technical ones and the profile's allowlist). Boxes painted
 * by an earlier run (black areas that fill their bounding box) get the
 * neutral fill that last look gives them. For `kakou verify --pixels`
 * (issue 14 item 7), which judges each line.
 * @return KK_OK; the decoder's error, naming path
 */
kk_status kk_pixel__residue(kk_ctx *ctx, kk_pixel_pool *pool, kk_dcm *dcm, const char *path,
                            kk_pixel_residue_fn fn, void *payload);

/** "name", "id", "date", "accession", "institution", "technical" or
 *  "text", for a kk_text_class. */
const char *kk_pixel__class_name(int text_class);

/** "rule", "detected", "overlay" */
const char *kk_pixel__source_name(kk_pixel_source s);

#endif /* KK_PIXEL_REDACT_H */
