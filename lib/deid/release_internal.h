/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/deid/release_internal.h - what deid.c and optout.c share with the
 * release plan (release.c). Not a public API.
 */
#ifndef KK_DEID_RELEASE_INTERNAL_H
#define KK_DEID_RELEASE_INTERNAL_H

#include "kakou/release.h"
#include "dicom/dicom.h"

/** The source identity of a file: normalised PatientID and issuer
 *  (kk_free both; NULL when absent). */
typedef struct kk_release_ids {
    char *id, *issuer;
} kk_release_ids;

/** Read PatientID and IssuerOfPatientID of the file (header only). */
kk_status kk_release__read_ids(kk_ctx *ctx, const char *path, kk_release_ids *out);

/** Normalise an identifier (optout.c says how); kk_free the result. */
char *kk_release__normalize_id(const char *s, size_t n);

/** Pass 2: write the quasi-identifiers of the output made from in_path
 *  at the plan's levels. */
kk_status kk_release__apply(const kk_release *r, kk_ctx *ctx, const char *in_path,
                            kk_dcm_item *ds);

/** A solved release's class-size histogram, before (after false) or
 *  after it generalised and suppressed: n sizes, ascending, with the
 *  number of classes of each; false when not solved. */
bool kk_release__histogram(const kk_release *r, bool after, const size_t **size,
                           const size_t **count, size_t *n, unsigned *k);

#endif /* KK_DEID_RELEASE_INTERNAL_H */
