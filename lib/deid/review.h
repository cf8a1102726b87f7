/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/deid/review.h - what the review contact sheet's loop (lib/deid/review.c)
 * needs from the engine (deid.c): one object's pixels before and after, and
 * the boxes. Not a public API.
 */
#ifndef KK_DEID_REVIEW_H
#define KK_DEID_REVIEW_H

#include "kakou/deid.h"
#include "pixel/image.h"
#include "pixel/redact.h"

/** Read path as kk_deid_file() would, find what the profile paints out
 *  of its pixels, and hand over the decoded image before and after. */
kk_status kk_deid__review_one(kk_deid *d, kk_ctx *ctx, const char *path, kk_image **before,
                              kk_image **after, kk_pixel_outcome *out);

#endif /* KK_DEID_REVIEW_H */
