/* SPDX-License-Identifier: Apache-2.0 */
/*
 * include/kakou/release.h - a release judged on the whole data set:
 * opt-out (R26), rare values (item ④, R13) and k-anonymity over
 * quasi-identifiers (item ⑤, R14).
 *
 * A release is made in two passes. Pass 1 reads the headers of every
 * input (kk_release_add()), forms one record per patient (patient = the
 * source PatientID qualified by IssuerOfPatientID, held in memory only)
 * holding the values the outputs would carry for each quasi-identifier,
 * and kk_release_solve() chooses a generalisation level per attribute
 * and the patients to suppress. Pass 2 de-identifies with
 * kk_deid_set_release(): each output's quasi-identifiers are written at
 * the chosen level, and the caller skips the inputs of suppressed
 * patients (kk_release_suppressed()).
 */
#ifndef KAKOU_RELEASE_H
#define KAKOU_RELEASE_H

#include <stdio.h>

#include "common.h"
#include "deid.h"
#include "profile.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- opt-out (R26) ---------------------------------------------------- */

typedef struct kk_optout kk_optout;

/**
 * Load an opt-out list: one source PatientID per line, optionally with
 * its issuer after '^' or a tab; blank lines and lines starting with '#'
 * are ignored. IDs and issuers are normalised as identifiers are
 * compared: surrounding spaces (ASCII and U+3000) trimmed, full-width
 * digits and Latin letters folded to ASCII.
 * @param[out] out  release with kk_optout_free()
 */
KK_API kk_status kk_optout_load(kk_optout **out, kk_ctx *ctx, const char *path);
KK_API void kk_optout_free(kk_optout *list);
/** Entries in the list. */
KK_API size_t kk_optout_count(const kk_optout *list);
/**
 * 1 when the patient of the DICOM file at path is on the list (an entry
 * without issuer matches any issuer), 0 when not, -1 with the error in
 * ctx when the file cannot be read.
 */
KK_API int kk_optout_matches(const kk_optout *list, kk_ctx *ctx, const char *path);

/* ---- k-anonymity and rare values --------------------------------------- */

typedef struct kk_release kk_release;

/** 1 when the profile has `quasi`, `rare` or `release` statements. */
KK_API int kk_profile_has_release(const kk_profile *profile);

/**
 * A release plan for profile.
 * @param k  0: the profile's `release k`; otherwise this k (--k-anonymity)
 * @param[out] out  release with kk_release_free()
 */
KK_API kk_status kk_release_new(kk_release **out, kk_ctx *ctx,
                                const kk_profile *profile, unsigned k);
KK_API void kk_release_free(kk_release *release);

/** Pass 1: read the header of one input (the path is kept as given; pass
 *  2 must name the file by the same string). Several threads may add at
 *  once. */
KK_API kk_status kk_release_add(kk_release *release, kk_ctx *ctx, const char *path);

/** Choose the generalisation and the suppressed patients. */
KK_API kk_status kk_release_solve(kk_release *release, kk_ctx *ctx);

/** 1 when the input at path belongs to a suppressed patient. */
KK_API int kk_release_suppressed(const kk_release *release, const char *path);

/**
 * The release report as one JSON object: k asked and reached, patients
 * and instances, suppressed, the class-size histogram, the level chosen
 * per attribute and the rare values replaced per attribute. No value and
 * no identifier. extra_opted_out is written as "opted_out_instances".
 */
KK_API kk_status kk_release_write_report(const kk_release *release, kk_ctx *ctx,
                                         FILE *fp, size_t opted_out);

/**
 * The class sizes before and after the release as a grey PNG at png_path
 * (two panels on one scale; classes smaller than k hatched, k dashed).
 * Counts only: no value and no identifier.
 */
KK_API kk_status kk_release_write_chart(const kk_release *release, kk_ctx *ctx,
                                        const char *png_path);

/** Pass 2: write quasi-identifiers of each output at the chosen level. */
KK_API void kk_deid_set_release(kk_deid *deid, const kk_release *release);

/**
 * Check a folder of outputs (kakou verify --k): patients are told apart
 * by the output PatientID; every quasi-identifier of profile is read as
 * written. classes_below: equivalence classes with fewer than k patients.
 */
typedef struct kk_release_check {
    size_t patients, instances, classes, classes_below;
    size_t smallest; /**< the smallest class, 0 when there is none */
} kk_release_check;

KK_API kk_status kk_release_check_add(kk_release *release, kk_ctx *ctx, const char *path);
KK_API kk_status kk_release_check_result(kk_release *release, kk_ctx *ctx,
                                         unsigned k, kk_release_check *out);

#ifdef __cplusplus
}
#endif
#endif /* KAKOU_RELEASE_H */
