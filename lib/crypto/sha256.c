/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/crypto/sha256.c - SHA-256 for the digests of inputs and outputs.
 *
 * libgcrypt, not libsodium: its SHA-256 uses the CPU's SHA extensions,
 * about 4.5 times as fast, and with a store every input and output is
 * hashed. Not OpenSSL: as fast, but loading libcrypto added 2 ms to every
 * kakou process (bench/README.md). libgcrypt wants its version check
 * before first use: done once here unless the application did it already
 * (GCRYCTL_INITIALIZATION_FINISHED_P).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include <gcrypt.h>
#include <sodium.h>

#include "core/core.h"
#include "crypto/sha256.h"

static pthread_once_t gcrypt_once = PTHREAD_ONCE_INIT;
static int gcrypt_ok;

static void gcrypt_init(void)
{
    if (gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P)) {
        gcrypt_ok = 1;
        return;
    }
    if (!gcry_check_version(GCRYPT_VERSION))
        return;
    gcry_control(GCRYCTL_DISABLE_SECMEM, 0); /* only public data is hashed */
    gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
    gcrypt_ok = 1;
}

static kk_status ready(kk_ctx *ctx)
{
    pthread_once(&gcrypt_once, gcrypt_init);
    return gcrypt_ok ? KK_OK
                     : kk__fail(ctx, KK_EINTERNAL,
                                "libgcrypt is older than the one kakou was built with");
}

kk_status kk_sha256__begin(kk_sha256 *h, kk_ctx *ctx)
{
    h->md = NULL;
    kk_status st = ready(ctx);
    if (st != KK_OK)
        return st;
    gcry_md_hd_t md;
    if (gcry_md_open(&md, GCRY_MD_SHA256, 0) != 0)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    h->md = md;
    return KK_OK;
}

void kk_sha256__add(kk_sha256 *h, const void *data, size_t len)
{
    if (h->md && len)
        gcry_md_write((gcry_md_hd_t)h->md, data, len);
}

void kk_sha256__end(kk_sha256 *h, char hex[KK_SHA256_HEX])
{
    hex[0] = '\0';
    if (!h->md)
        return;
    const unsigned char *d = gcry_md_read((gcry_md_hd_t)h->md, GCRY_MD_SHA256);
    if (d)
        sodium_bin2hex(hex, KK_SHA256_HEX, d, 32);
    kk_sha256__abandon(h);
}

void kk_sha256__abandon(kk_sha256 *h)
{
    if (h->md)
        gcry_md_close((gcry_md_hd_t)h->md);
    h->md = NULL;
}

kk_status kk_sha256__hex(kk_ctx *ctx, const void *data, size_t len, char hex[KK_SHA256_HEX])
{
    kk_status st = ready(ctx);
    if (st != KK_OK)
        return st;
    unsigned char d[32];
    gcry_md_hash_buffer(GCRY_MD_SHA256, d, data, len);
    sodium_bin2hex(hex, KK_SHA256_HEX, d, sizeof d);
    return KK_OK;
}

int kk_sha256__file(const char *path, char hex[KK_SHA256_HEX])
{
    /* never waits, never follows a link (a manifest names files, not links) */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    kk_sha256 h;
    unsigned char *buf = malloc((size_t)1 << 17);
    if (!buf || kk_sha256__begin(&h, NULL) != KK_OK) {
        free(buf);
        close(fd);
        errno = ENOMEM;
        return -1;
    }
    ssize_t n;
    while ((n = read(fd, buf, (size_t)1 << 17)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            kk_sha256__add(&h, buf, (size_t)n);
    int saved = errno;
    close(fd);
    free(buf);
    if (n < 0) {
        kk_sha256__abandon(&h);
        errno = saved;
        return -1;
    }
    kk_sha256__end(&h, hex);
    return 0;
}
