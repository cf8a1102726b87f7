/* SPDX-License-Identifier: Apache-2.0 */
/*
 * include/kakou/profile.h - de-identification profiles: load, inspect, lint.
 *
 * A profile is data: rules that map attributes (by tag, keyword, mask,
 * private creator or VR class) to actions. Built-in profiles are compiled
 * into the library ("dicom-basic", the PS3.15 Basic Profile with its
 * options); other profiles are files in the language of kakou.profile(5).
 * A loaded profile never changes, so threads may share it.
 */
#ifndef KAKOU_PROFILE_H
#define KAKOU_PROFILE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kk_profile kk_profile;

/**
 * Load a profile by built-in name or from a file path (includes and
 * `inherit` resolve relative to the including file).
 *
 * @param[out] out  the profile; release it with kk_profile_free()
 * @param ctx       receives the error message on failure
 * @param name_or_path  built-in name or path, UTF-8
 * @param options   NULL-terminated list of option names to enable (as
 *                  `-O` does), or NULL
 * @return KK_OK; KK_ENOTFOUND if no such name or file; KK_ESYNTAX, with
 *         kk_error_message(ctx) reading "FILE:LINE:COL: what is wrong";
 *         KK_EINVAL for an unknown or conflicting option
 */
KK_API kk_status kk_profile_load(kk_profile **out, kk_ctx *ctx,
                                 const char *name_or_path,
                                 const char *const *options);

/** Free a profile. NULL is a no-op. */
KK_API void kk_profile_free(kk_profile *profile);

/** Profile name, e.g. "dicom-basic". Borrowed. */
KK_API const char *kk_profile_name(const kk_profile *profile);
/** Profile version string. Borrowed. */
KK_API const char *kk_profile_version(const kk_profile *profile);
/** Hex SHA-256 of the resolved rules and enabled options. Borrowed. */
KK_API const char *kk_profile_digest(const kk_profile *profile);
/** True when the profile needs a key (it uses keyed actions). */
KK_API int kk_profile_needs_key(const kk_profile *profile);
/**
 * True when the profile must run with a fresh key that is destroyed at the
 * end, and no store: nothing may link its outputs to its inputs (R09).
 */
KK_API int kk_profile_forbids_key(const kk_profile *profile);
/** True when the profile needs a store (it keeps a correspondence). */
KK_API int kk_profile_needs_store(const kk_profile *profile);

/**
 * The resolved rules as profile text, one rule per line, each followed by
 * the `file:line` that set it.
 * @param[out] out  a string; release it with kk_free()
 */
KK_API kk_status kk_profile_format(char **out, kk_ctx *ctx,
                                   const kk_profile *profile);

/** Names of the built-in profiles, NULL-terminated. Static. */
KK_API const char *const *kk_profile_builtin_names(void);

/**
 * Text of a built-in profile, or NULL if there is none by that name.
 * Static.
 */
KK_API const char *kk_profile_builtin_text(const char *name);

#ifdef __cplusplus
}
#endif
#endif /* KAKOU_PROFILE_H */
