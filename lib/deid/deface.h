/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/deid/deface.h - defacing within a run (R20): a first pass over the
 * inputs' headers groups them into volumes by series, has lib/volume find
 * and remove the face of each head volume, and keeps, per input, the
 * samples that changed; kk_deid_file() then writes them through the
 * normal per-file path (kk_deface__apply()).
 * Not a public API.
 */
#ifndef KK_DEID_DEFACE_H
#define KK_DEID_DEFACE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/core.h"
#include "dicom/dicom.h"
#include "volume/volume.h"

typedef struct kk_deface kk_deface;

/** What the run found, for messages and tests. */
typedef struct kk_deface_stats {
    size_t volumes;   /* series read as volumes */
    size_t heads;     /* of them, heads */
    size_t faces;     /* of them, showing a face: defaced */
    size_t failed;    /* volumes that could not be read or defaced */
    size_t voxels;    /* voxels changed */
    double seconds;   /* CPU seconds finding and removing faces (decoding excluded) */
} kk_deface_stats;

/**
 * Read the headers of paths, group them by SeriesInstanceUID, and deface
 * each CT or MR volume that shows a face, in mode. With required, a
 * volume of 10 or more slices that cannot be read, or that shows a face
 * and cannot be defaced, makes each of its inputs fail in
 * kk_deface__apply() (fail closed); otherwise it is left as it is.
 * An input that cannot be read at all is left for kk_deid_file() to
 * report.
 */
kk_status kk_deface__prepare(kk_deface **out, kk_ctx *ctx, const char *const *paths,
                             size_t npaths, kk_deface_mode mode, bool required,
                             kk_deface_stats *stats);
void kk_deface__free(kk_deface *df);

/**
 * For review: the skin surface of each head volume among paths, seen from
 * the front (kk_vol__render_front(), 1 mm a pixel), before and after
 * defacing in mode (OFF: after = before). *tiles (free()) holds *heads
 * pairs of size x size 8-bit tiles, before then after.
 */
kk_status kk_deface__render(kk_ctx *ctx, const char *const *paths, size_t npaths,
                            kk_deface_mode mode, int size, uint8_t **tiles, int *heads);

/**
 * Put the defaced pixels of in_path (as named to kk_deface__prepare())
 * into dcm. *defaced tells whether anything changed.
 * @return KK_OK (also for an input of no head volume); the failure
 *         recorded for its volume (fail closed)
 */
kk_status kk_deface__apply(const kk_deface *df, kk_ctx *ctx, kk_dcm *dcm, const char *in_path,
                           bool *defaced);

#endif /* KK_DEID_DEFACE_H */
