/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/deid/verify_internal.h - what lib/deid/verify.c needs from the
 * engine (deid.c): a run that only decides, and the walk over an object
 * already loaded. Not a public API.
 */
#ifndef KK_DEID_VERIFY_INTERNAL_H
#define KK_DEID_VERIFY_INTERNAL_H

#include "dicom/dicom.h"
#include "kakou/deid.h"

/** A kk_deid for deciding only (explain, verify, profile test): an
 *  ephemeral key when the profile allows one, no store whatever the
 *  profile says. Never give it to kk_deid_file(). */
kk_status kk_deid__new_dry(kk_deid **out, kk_ctx *ctx, const kk_profile *profile);

/** Apply the profile to dcm in memory, reporting each decision to fn (as
 *  kk_deid_explain does). dcm stays the caller's. */
kk_status kk_deid__apply_loaded(kk_deid *d, kk_ctx *ctx, kk_dcm *dcm, const char *path,
                                kk_explain_fn fn, void *payload);

#endif /* KK_DEID_VERIFY_INTERNAL_H */
