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

/** The new UIDs of an object kk_deid__buffer_ex() wrote (kk_free each). */
typedef struct kk_deid__names {
    char *study, *series, *sop, *sop_class;
    char output_path[256]; /* STUDY/SERIES/SOP.dcm, as kk_deid_file() names it */
} kk_deid__names;

/**
 * kk_deid__buffer() with a label for messages (never a value), the counts
 * in res (may be NULL) and the new UIDs in names (may be NULL; filled on
 * KK_OK). kk_deid_buffer() (buffer.c) is built on it.
 */
kk_status kk_deid__buffer_ex(kk_deid *d, kk_ctx *ctx, const void *data, size_t len,
                             const char *label, kk_buf *out, kk_deid_result *res,
                             kk_deid__names *names);

/** What a run was started with (borrowed). */
const kk_profile *kk_deid__profile(const kk_deid *d);
kk_store *kk_deid__store(const kk_deid *d);

#endif /* KK_DEID_INTERNAL_H */
