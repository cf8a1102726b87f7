/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/deid/deid_internal.h - de-identification entry points the library
 * uses internally (fuzzing harnesses, tests), not part of the public API.
 * Holds no state; see deid.c for the engine and its invariants.
 */
#ifndef KK_DEID_INTERNAL_H
#define KK_DEID_INTERNAL_H

#include <stddef.h>

#include "core/core.h"
#include "kakou/deid.h"

/**
 * De-identify len bytes of DICOM held in memory, as kk_deid_file() would
 * a file, and append the output object to out (NULL: walk only). Nothing
 * touches the file system. Messages name the input '<memory>'.
 * @return KK_OK or the status kk_deid_file() would give
 */
kk_status kk_deid__buffer(kk_deid *d, kk_ctx *ctx, const void *data, size_t len,
                          kk_buf *out);

#endif /* KK_DEID_INTERNAL_H */
