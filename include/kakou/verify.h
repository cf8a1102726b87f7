/* SPDX-License-Identifier: Apache-2.0 */
/*
 * include/kakou/verify.h - check de-identified output against a profile
 * (R22), and explain a profile's decisions without a key or a store.
 *
 * A finding is anything in a file that the profile would not let out:
 *  - an attribute that re-applying the profile would remove, empty or
 *    change (dummies, cleaned text, generalized values and fixed values are
 *    stable under the profile, so a change means the value is not what
 *    the profile leaves); private elements outside the safe list;
 *  - a UID the profile replaces that is not a kakou replacement UID
 *    (2.25.…), or, with a store, not one the store knows; a pseudonym the
 *    store does not know (without a store pseudonyms and shifted dates
 *    cannot be told from originals and are not checked);
 *  - with a store, any value equal to an original recorded in it;
 *  - text the profile keeps that looks like a name, ID or date (Gregorian
 *    or Japanese era), by the patterns of the clean action;
 *  - BurnedInAnnotation YES without code 113101 (Clean Pixel Data) in
 *    DeidentificationMethodCodeSequence; File Meta elements that name
 *    senders or carry private information;
 *  - with kk_verify_pixels(), text found in the pixels (one finding on
 *    Pixel Data, counting lines and frames).
 * Findings name the attribute (path, tag, keyword) and the problem, never
 * a value (R04). A kk_verify never writes to its store except one audit
 * row when it reads the originals; one kk_verify may serve several threads,
 * each with its own kk_ctx.
 */
#ifndef KAKOU_VERIFY_H
#define KAKOU_VERIFY_H

#include "common.h"
#include "deid.h"
#include "profile.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kk_verify kk_verify;
typedef struct kk_store kk_store;

/**
 * Prepare to check files against profile.
 * @param[out] out  release with kk_verify_free()
 * @param profile   borrowed; must outlive the verifier
 * @param store     NULL, or a store opened with its key (borrowed): its
 *                  originals are read once, here (audited as "verify")
 * @return KK_OK; KK_EKEY when the store was opened without its key;
 *         KK_ESTORE when it cannot be read
 */
KK_API kk_status kk_verify_new(kk_verify **out, kk_ctx *ctx, const kk_profile *profile,
                               kk_store *store);

/** Free a verifier, wiping the originals it read. NULL is a no-op. */
KK_API void kk_verify_free(kk_verify *verify);

/**
 * Search the pixels of every file checked from now on for text, with the
 * detector deid's last look after painting uses (the presence stage, then
 * text lines, all but wholly technical ones and the profile's allowlist).
 * An object whose pixels cannot be decoded then fails to check.
 * @return KK_OK; KK_EUNSUPPORTED when the pixel module is not installed
 */
KK_API kk_status kk_verify_pixels(kk_verify *verify, kk_ctx *ctx);

/** A finding: the attribute (entry->value is always NULL) and what is
 *  wrong with it, e.g. "present; the profile removes it". */
typedef void (*kk_verify_fn)(const kk_explain_entry *entry, const char *problem,
                             void *payload);

/**
 * Check one file; fn is called once per finding.
 * @param[out] findings  how many (may be NULL)
 * @return KK_OK whether or not there were findings; KK_ENOTDICOM when the
 *         file cannot be read
 */
KK_API kk_status kk_verify_file(kk_verify *verify, kk_ctx *ctx, const char *path,
                                kk_verify_fn fn, void *payload, size_t *findings);

/**
 * What the profile would do to every attribute of path, as
 * kk_deid_explain() reports it (values never shown), without a key or a
 * store: for regression tests of profiles (kakou profile test).
 */
KK_API kk_status kk_verify_explain(kk_verify *verify, kk_ctx *ctx, const char *path,
                                   kk_explain_fn fn, void *payload);

#ifdef __cplusplus
}
#endif
#endif /* KAKOU_VERIFY_H */
