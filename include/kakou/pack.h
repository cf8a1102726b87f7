/* SPDX-License-Identifier: Apache-2.0 */
/*
 * include/kakou/pack.h - sealed delivery (issue 17): an X25519 recipient
 * key pair, and one encrypted archive of an output folder that only the
 * recipient can open.
 *
 * An archive carries every regular file below the folder (sorted
 * relative paths; the SHA256SUMS and SHA256SUMS.sig of a signed folder
 * are files like any other). A random key is sealed to the recipient's
 * public key (libsodium crypto_box_seal) and encrypts the files as one
 * stream of 64 KiB chunks (crypto_secretstream_xchacha20poly1305): every
 * chunk is authenticated, their order too, and the last is marked final,
 * so a changed, reordered or cut archive is refused. Packing and
 * unpacking hold one chunk in memory at a time, whatever the file sizes.
 * The format is in lib/crypto/pack.c.
 */
#ifndef KAKOU_PACK_H
#define KAKOU_PACK_H

#include "common.h"
#include "key.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Plain bytes a chunk of an archive carries. */
#define KK_PACK_CHUNK_BYTES 65536

/** The secret half of a recipient key pair. */
typedef struct kk_box_key kk_box_key;

/**
 * Write a new X25519 recipient key pair (crypto_box_keypair): the secret
 * key to path (mode 0600; with pass, encrypted as
 * kk_key_generate_file_protected() does) and the public key to path.pub
 * (mode 0644), which the sender packs with. Neither file is ever
 * overwritten.
 * @param[out] id  the key id (KK_KEY_ID_CHARS + 1 bytes), or NULL
 */
KK_API kk_status kk_box_key_generate_file(kk_ctx *ctx, const char *path,
                                          const kk_secret *pass, char *id);

/**
 * Load a recipient key (the secret half); pass for a protected file.
 * @param[out] out  release with kk_box_key_free()
 */
KK_API kk_status kk_box_key_load(kk_box_key **out, kk_ctx *ctx,
                                 const char *path, const kk_secret *pass);

/** Wipe and free. NULL is a no-op. */
KK_API void kk_box_key_free(kk_box_key *key);

/** The public id of a recipient key (hex). Borrowed. */
KK_API const char *kk_box_key_id(const kk_box_key *key);

/**
 * Write an archive of every regular file below dir, sealed to the
 * recipient public key in pub_path, to fd (a pipe will do). A symbolic
 * link or another kind of file below dir is refused (KK_EINVAL) before
 * anything is written.
 * @param[out] nfiles  files packed, or NULL
 */
KK_API kk_status kk_pack_fd(kk_ctx *ctx, const char *pub_path,
                            const char *dir, int fd, size_t *nfiles);

/**
 * kk_pack_fd() into the file archive, written whole or not at all: a
 * temporary file beside it, fsync, rename (an earlier archive is
 * replaced). An archive inside dir is refused.
 */
KK_API kk_status kk_pack_file(kk_ctx *ctx, const char *pub_path,
                              const char *dir, const char *archive,
                              size_t *nfiles);

/**
 * Open the archive read from fd (name: for messages) with key and write
 * its files below destdir, which must not exist or be an empty folder.
 * Everything is written to a new folder beside destdir, renamed to
 * destdir once the last chunk verifies: on any failure nothing is left.
 * KK_EINVAL for an archive that is truncated, damaged or malformed (a
 * path that is absolute, holds "..", or is out of order), KK_EKEY for
 * one sealed to another key, KK_EEXISTS when destdir holds files.
 * @param[out] nfiles  files unpacked, or NULL
 */
KK_API kk_status kk_unpack_fd(kk_ctx *ctx, const kk_box_key *key, int fd,
                              const char *name, const char *destdir,
                              size_t *nfiles);

#ifdef __cplusplus
}
#endif
#endif /* KAKOU_PACK_H */
