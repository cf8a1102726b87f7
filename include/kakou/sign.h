/* SPDX-License-Identifier: Apache-2.0 */
/*
 * include/kakou/sign.h - signed delivery (R27): an Ed25519 signing key
 * pair, and a SHA-256 manifest of an output folder with a detached
 * signature over it.
 *
 * The manifest is OUTDIR/SHA256SUMS in the format of `sha256sum`
 * ("<64 hex>  <relative path>\n", sorted by path in byte order, the
 * manifest and its signature left out), so `cd OUTDIR && sha256sum -c
 * SHA256SUMS` checks it without kakou. OUTDIR/SHA256SUMS.sig holds an
 * Ed25519 signature (libsodium crypto_sign_detached) over the manifest's
 * bytes and the id of the key that made it.
 */
#ifndef KAKOU_SIGN_H
#define KAKOU_SIGN_H

#include "common.h"
#include "key.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KK_MANIFEST_NAME "SHA256SUMS"
#define KK_MANIFEST_SIG_NAME "SHA256SUMS.sig"

typedef struct kk_sign_key kk_sign_key;

/**
 * Write a new Ed25519 key pair: the secret key to path (mode 0600; with
 * pass, encrypted as kk_key_generate_file_protected() does) and the
 * public key to path.pub (mode 0644). Neither file is ever overwritten.
 * @param[out] id  the key id (KK_KEY_ID_CHARS + 1 bytes), or NULL
 */
KK_API kk_status kk_sign_key_generate_file(kk_ctx *ctx, const char *path,
                                           const kk_secret *pass, char *id);

/**
 * Load a signing key (the secret half); pass for a protected file.
 * @param[out] out  release with kk_sign_key_free()
 */
KK_API kk_status kk_sign_key_load(kk_sign_key **out, kk_ctx *ctx,
                                  const char *path, const kk_secret *pass);

/** Wipe and free. NULL is a no-op. */
KK_API void kk_sign_key_free(kk_sign_key *key);

/** The public id of a signing key (hex). Borrowed. */
KK_API const char *kk_sign_key_id(const kk_sign_key *key);

/**
 * Write dir/SHA256SUMS for every regular file below dir and
 * dir/SHA256SUMS.sig, replacing earlier ones. A file name holding a line
 * break or a backslash is refused (sha256sum would escape it).
 * @param[out] nfiles  files listed, or NULL
 */
KK_API kk_status kk_manifest_sign(kk_ctx *ctx, const kk_sign_key *key,
                                  const char *dir, size_t *nfiles);

/** What kk_manifest_verify() found. */
typedef struct kk_manifest_check {
    int signature_ok;   /**< 1 when the signature verifies under the key */
    size_t files;       /**< files listed in the manifest */
    size_t changed, missing, extra;
} kk_manifest_check;

/** Called for each file that differs: problem is "changed", "missing"
 *  or "extra"; rel is the path below dir. */
typedef void (*kk_manifest_problem_fn)(const char *rel, const char *problem,
                                       void *payload);

/**
 * Check dir against its signed manifest under the public key in
 * pub_path. KK_OK when the check ran (look at out for the verdict); an
 * error when it could not (no manifest, unreadable key).
 */
KK_API kk_status kk_manifest_verify(kk_ctx *ctx, const char *pub_path,
                                    const char *dir,
                                    kk_manifest_problem_fn fn, void *payload,
                                    kk_manifest_check *out);

#ifdef __cplusplus
}
#endif
#endif /* KAKOU_SIGN_H */
