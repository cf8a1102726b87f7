/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/crypto/keyfile.h - what the key-file code of lib/crypto shares:
 * reading a small secret file into locked memory, creating a new file
 * that is never overwritten, the passphrase-protected container, and the
 * files of a key pair (keyfile.c). Not a public API.
 */
#ifndef KK_CRYPTO_KEYFILE_H
#define KK_CRYPTO_KEYFILE_H

#include <stddef.h>

#include "kakou/common.h"
#include "kakou/key.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest key, public-key or signature file kakou reads. */
#define KK_KEYFILE_MAX 4096
#define KK_PROTECTED_MAGIC "KAKOU-PROTECTED-1\n"

/**
 * Read a whole small file (at most KK_KEYFILE_MAX bytes) into
 * sodium_malloc'd memory, NUL-terminated. With secret set, a file that
 * group or others may access is refused (R24). what names the file in
 * messages ("key file", "public key").
 * @param[out] out  release with sodium_free()
 */
kk_status kk_crypto__read_file(kk_ctx *ctx, const char *path, const char *what,
                               int secret, char **out, size_t *len);

/**
 * Create path (O_EXCL, never overwritten) with mode, write data, fsync
 * the file and its folder. A partial file is removed.
 */
kk_status kk_crypto__write_new(kk_ctx *ctx, const char *path, const char *what,
                               const void *data, size_t len, unsigned mode);

/** Write all n bytes to fd (EINTR retried). -1 with errno when not. */
int kk_crypto__write_all(int fd, const void *data, size_t n);

/**
 * The plain text of a key file: text itself, or, for a protected file,
 * the decrypted text (pass required; KK_EKEY with a clear message
 * without it or when it is wrong).
 * @param[out] plain  sodium_malloc'd, NUL-terminated; sodium_free() it
 */
kk_status kk_crypto__unprotect(kk_ctx *ctx, const char *path, const char *text,
                               size_t len, const kk_secret *pass,
                               char **plain, size_t *plain_len);

/**
 * Write the key-file text plain to path: as is when pass is NULL, else in
 * the protected container, with the public id line kept in clear.
 */
kk_status kk_crypto__write_keyfile(kk_ctx *ctx, const char *path,
                                   const char *plain, size_t len,
                                   const char *id, const kk_secret *pass);

/* ---- key pairs: signing keys (sign.c) and recipient keys (pack.c) ---- */

/**
 * "name <hex of exactly n bytes>\n" at *p into bin; advances *p.
 * -1 when the text there is not that line.
 */
int kk_crypto__hex_line(const char **p, const char *end, const char *name,
                        unsigned char *bin, size_t n);

/** "id <16 hex>\n" at *p into id; advances *p. -1 when not. */
int kk_crypto__id_line(const char **p, const char *end,
                       char id[KK_KEY_ID_CHARS + 1]);

/**
 * The id of a public key: the first 8 bytes, in hex, of
 * BLAKE2b-256(domain NUL || pk). The domain keeps the ids of the kinds of
 * key apart ("kakou sign id v1", "kakou box id v1").
 */
void kk_crypto__pub_id(const char *domain, const unsigned char *pk,
                       size_t pk_len, char id[KK_KEY_ID_CHARS + 1]);

/** The public half of every kind of pair (Ed25519, X25519). */
#define KK_PAIR_PUBLIC_BYTES 32

/**
 * The files of one kind of key pair, version 1 (ASCII):
 *     secret  <magic>\n id <16 hex>\n <field> <hex>\n    mode 0600
 *     public  <pub_magic>\n id <16 hex>\n pub <hex>\n    mode 0644
 * The secret file may be wrapped in the passphrase container. The file
 * holds secret_len random bytes (a seed, an X25519 secret key); derive
 * makes the key pair of them.
 */
typedef struct kk_pair_format {
    const char *magic;      /* "KAKOU-SIGN-1\n" */
    const char *pub_magic;  /* "KAKOU-SIGN-PUB-1\n" */
    const char *field;      /* the secret's line: "seed" */
    const char *id_domain;  /* for kk_crypto__pub_id() */
    const char *what;       /* in messages: "signing key" */
    const char *pub_what;   /* in messages: "public key" */
    const char *make;       /* how to make one: "kakou key new --sign FILE" */
    size_t secret_len;      /* bytes in the file */
    size_t sk_len;          /* bytes of the secret key derive makes */
    void (*derive)(unsigned char pk[KK_PAIR_PUBLIC_BYTES], unsigned char *sk,
                   const unsigned char *secret);
} kk_pair_format;

/** A loaded key pair. */
typedef struct kk_pair_key {
    unsigned char *sk; /* sodium_malloc(sk_len), read-only */
    unsigned char pk[KK_PAIR_PUBLIC_BYTES];
    char id[KK_KEY_ID_CHARS + 1];
} kk_pair_key;

/**
 * Make a new pair of kind f and write it: the secret to path, the public
 * key to path.pub; neither is ever overwritten (a failure leaves
 * neither). id_out (KK_KEY_ID_CHARS + 1 bytes) may be NULL.
 */
kk_status kk_crypto__pair_generate(kk_ctx *ctx, const kk_pair_format *f,
                                   const char *path, const kk_secret *pass,
                                   char *id_out);

/** Load the secret half of a pair of kind f into k (checked: its id). */
kk_status kk_crypto__pair_load(kk_ctx *ctx, const kk_pair_format *f,
                               const char *path, const kk_secret *pass,
                               kk_pair_key *k);

/** Wipe and free what k holds. */
void kk_crypto__pair_clear(kk_pair_key *k);

/** Read a public key file: pk_len bytes and its id, checked. */
kk_status kk_crypto__read_pair_pub(kk_ctx *ctx, const kk_pair_format *f,
                                   const char *path, unsigned char *pk,
                                   size_t pk_len,
                                   char id[KK_KEY_ID_CHARS + 1]);

/** A persistent key (read from a key file) from its bytes. */
kk_status kk_key__from_file_bytes(kk_key **out, kk_ctx *ctx,
                                  const unsigned char bytes[KK_KEY_BYTES]);

#ifdef __cplusplus
}
#endif
#endif /* KK_CRYPTO_KEYFILE_H */
