/* SPDX-License-Identifier: Apache-2.0 */
/*
 * include/kakou/key.h - the secret key behind keyed pseudonyms, hashed
 * UIDs and date shifts.
 *
 * A key is 256 bits from the CSPRNG with a key id (a public label derived
 * from the key). Key bytes live in locked memory, are wiped when the key is
 * freed and are never written to the store or to a log (R09, R23).
 */
#ifndef KAKOU_KEY_H
#define KAKOU_KEY_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KK_KEY_BYTES 32
#define KK_KEY_ID_CHARS 16

typedef struct kk_key kk_key;

/** Size of a key in bytes (KK_KEY_BYTES), for bindings. */
KK_API size_t kk_key_bytes(void);

/**
 * Write a new random key to path, created with mode 0600. Fails with
 * KK_EEXISTS rather than overwrite an existing file.
 */
KK_API kk_status kk_key_generate_file(kk_ctx *ctx, const char *path);

/**
 * Load a key file. Refuses (KK_EKEY) a file that group or others may read
 * or write, or one that is not a kakou key.
 * @param[out] out  release with kk_key_free()
 */
KK_API kk_status kk_key_load(kk_key **out, kk_ctx *ctx, const char *path);

/**
 * A fresh random key that exists only in memory (for anonymization: it is
 * destroyed with kk_key_free() and nothing can be restored, R09).
 */
KK_API kk_status kk_key_new_ephemeral(kk_key **out, kk_ctx *ctx);

/** Wipe and free a key. NULL is a no-op. */
KK_API void kk_key_free(kk_key *key);

/** The key id: KK_KEY_ID_CHARS hex characters, public. Borrowed. */
KK_API const char *kk_key_id(const kk_key *key);

/** True when the key exists only in memory (kk_key_new_ephemeral). */
KK_API int kk_key_is_ephemeral(const kk_key *key);

#define KK_KEY_DIGEST_BYTES 32

/**
 * A keyed digest of data: HMAC-SHA-256 under key, separated by domain from
 * every other use of the key (pseudonyms, UIDs, shifts). Lets a caller
 * name an input without revealing it (batch journals, reports): only the
 * key holder can tell which input a digest stands for.
 * @param domain  required, e.g. "journal"
 * @param[out] out  KK_KEY_DIGEST_BYTES bytes
 * @return KK_OK; KK_EINVAL when key, domain or out is NULL
 */
KK_API kk_status kk_key_digest(const kk_key *key, const char *domain,
                               const void *data, size_t len,
                               unsigned char out[KK_KEY_DIGEST_BYTES]);

/* ---- passphrases and protected key files (R23, R24) ------------------ */

/** A passphrase, held in locked memory and wiped when freed. */
typedef struct kk_secret kk_secret;

/**
 * Read a passphrase from a file: its first line (without the line end).
 * Refuses (KK_EKEY) a file that group or others may read, and an empty
 * passphrase.
 * @param[out] out  release with kk_secret_free()
 */
KK_API kk_status kk_secret_from_file(kk_secret **out, kk_ctx *ctx,
                                     const char *path);

/**
 * Ask for a passphrase on the terminal (/dev/tty) with echo off; with
 * confirm, ask twice and refuse a mismatch. KK_EKEY when there is no
 * terminal.
 * @param[out] out  release with kk_secret_free()
 */
KK_API kk_status kk_secret_prompt(kk_secret **out, kk_ctx *ctx,
                                  const char *prompt, int confirm);

/** Wipe and free a passphrase. NULL is a no-op. */
KK_API void kk_secret_free(kk_secret *secret);

/**
 * Like kk_key_generate_file(), but with pass the key is stored encrypted:
 * Argon2id (crypto_pwhash) derives a key from the passphrase and a random
 * salt, crypto_secretbox seals the key file text (format in
 * lib/crypto/keyfile.c). NULL pass writes a plain key file.
 */
KK_API kk_status kk_key_generate_file_protected(kk_ctx *ctx, const char *path,
                                                const kk_secret *pass);

/**
 * Load a key file, plain or protected. A protected file without pass, or
 * with a wrong one, is refused with KK_EKEY and a message that says so.
 * pass is ignored for a plain file.
 * @param[out] out  release with kk_key_free()
 */
KK_API kk_status kk_key_load_protected(kk_key **out, kk_ctx *ctx,
                                       const char *path,
                                       const kk_secret *pass);

/** 1 when path is a passphrase-protected kakou key file, 0 when not. */
KK_API int kk_key_file_is_protected(const char *path);

/**
 * The key id of a key file without its passphrase: a protected file
 * carries its id in clear (it is public). Checked against the key when
 * the file is loaded.
 * @param[out] id  KK_KEY_ID_CHARS + 1 bytes
 */
KK_API kk_status kk_key_file_id(kk_ctx *ctx, const char *path,
                                char id[KK_KEY_ID_CHARS + 1]);

#ifdef __cplusplus
}
#endif
#endif /* KAKOU_KEY_H */
