/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/crypto/sign.c - signed delivery (R27): Ed25519 signing keys and the
 * SHA-256 manifest of an output folder.
 *
 * Key files, version 1 (ASCII):
 *     secret  KAKOU-SIGN-1\n id <16 hex>\n seed <64 hex>\n      mode 0600
 *     public  KAKOU-SIGN-PUB-1\n id <16 hex>\n pub <64 hex>\n   mode 0644
 *     sig     KAKOU-SIG-1\n id <16 hex>\n sig <128 hex>\n
 * The secret file may be wrapped in the passphrase container of
 * keyfile.c, which reads and writes these files (kk_crypto__pair_load).
 * The id is the first 8 bytes, in hex, of BLAKE2b-256("kakou sign id v1"
 * NUL || public key), so a signature names the key pair that made it.
 *
 * The manifest: every regular file below the folder (symbolic links and
 * other file types are not followed and not listed), SHA-256
 * (kk_sha256__file in lib/crypto/sha256.c), one "<hex>  <relative path>\n" line per
 * file, sorted by path in byte order (strcmp). The signature is
 * crypto_sign_detached over the manifest's exact bytes, so one changed
 * byte anywhere, in the listing or in a file, is caught.
 *
 * IMPLEMENTATION-OF: R27 (per-file SHA-256 manifest, signed; a tampered,
 * missing or extra file is detected).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "core/core.h"
#include "crypto/key_internal.h"
#include "crypto/keyfile.h"
#include "crypto/sha256.h"
#include "crypto/tree.h"
#include "kakou/sign.h"

static void sign_derive(unsigned char pk[KK_PAIR_PUBLIC_BYTES],
                        unsigned char *sk, const unsigned char *seed)
{
    crypto_sign_seed_keypair(pk, sk, seed);
}

static const kk_pair_format sign_format = {
    "KAKOU-SIGN-1\n", "KAKOU-SIGN-PUB-1\n", "seed", "kakou sign id v1",
    "signing key", "public key", "kakou key new --sign FILE",
    crypto_sign_SEEDBYTES, crypto_sign_SECRETKEYBYTES, sign_derive
};
#define SIG_MAGIC "KAKOU-SIG-1\n"

struct kk_sign_key {
    kk_pair_key k; /* sk: crypto_sign_SECRETKEYBYTES */
};

kk_status kk_sign_key_generate_file(kk_ctx *ctx, const char *path,
                                    const kk_secret *pass, char *id_out)
{
    return kk_crypto__pair_generate(ctx, &sign_format, path, pass, id_out);
}

void kk_sign_key_free(kk_sign_key *key)
{
    if (!key)
        return;
    kk_crypto__pair_clear(&key->k);
    kk_free(key);
}

const char *kk_sign_key_id(const kk_sign_key *key)
{
    return key ? key->k.id : "";
}

kk_status kk_sign_key_load(kk_sign_key **out, kk_ctx *ctx, const char *path,
                           const kk_secret *pass)
{
    kk_sign_key *k;
    kk_status st;

    if (!out)
        return kk__fail(ctx, KK_EINVAL, "kk_sign_key_load: out is NULL");
    *out = NULL;
    if (!(k = kk__calloc(1, sizeof *k)))
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    if ((st = kk_crypto__pair_load(ctx, &sign_format, path, pass, &k->k)))
        kk_free(k);
    else
        *out = k;
    return st;
}

static kk_status sha256_file(kk_ctx *ctx, const char *dir, const char *rel,
                             char hex[KK_SHA256_HEX])
{
    kk_buf path = KK_BUF_INIT;
    kk__buf_printf(&path, "%s/%s", dir, rel);
    if (path.failed) {
        kk__buf_free(&path);
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    }
    kk_status st = KK_OK;
    if (kk_sha256__file(path.data, hex) != 0)
        st = kk__fail(ctx, KK_EIO, "cannot read '%s': %s", path.data, strerror(errno));
    kk__buf_free(&path);
    return st;
}

/* Replace dir/name with data: a temporary file, fsync, rename. */
static kk_status replace_file(kk_ctx *ctx, const char *dir, const char *name,
                              const char *data, size_t len)
{
    kk_buf tmp = KK_BUF_INIT, dst = KK_BUF_INIT;
    kk_status st;

    kk__buf_printf(&tmp, "%s/%s.tmp", dir, name);
    kk__buf_printf(&dst, "%s/%s", dir, name);
    if (tmp.failed || dst.failed) {
        st = kk__fail(ctx, KK_ENOMEM, "out of memory");
        goto out;
    }
    (void)unlink(tmp.data);
    if ((st = kk_crypto__write_new(ctx, tmp.data, "manifest", data, len,
                                   0644)) != KK_OK)
        goto out;
    if (rename(tmp.data, dst.data) != 0) {
        st = kk__fail(ctx, KK_EIO, "cannot write '%s': %s", dst.data,
                      strerror(errno));
        unlink(tmp.data);
    }
out:
    kk__buf_free(&tmp);
    kk__buf_free(&dst);
    return st;
}

kk_status kk_manifest_sign(kk_ctx *ctx, const kk_sign_key *key,
                           const char *dir, size_t *nfiles)
{
    kk_names files = { 0 };
    kk_buf sums = KK_BUF_INIT, sig = KK_BUF_INIT;
    unsigned char s[crypto_sign_BYTES];
    char hex[2 * crypto_sign_BYTES + 1];
    kk_status st;

    if (!key || !dir || !*dir)
        return kk__fail(ctx, KK_EINVAL, "manifest sign: missing argument");
    if (nfiles)
        *nfiles = 0;
    if ((st = kk_crypto__list_tree(ctx, dir, KK_TREE_MANIFEST, &files)))
        goto out;
    for (size_t i = 0; i < files.n && st == KK_OK; i++) {
        char h[KK_SHA256_HEX];
        if ((st = sha256_file(ctx, dir, files.v[i], h)) == KK_OK)
            kk__buf_printf(&sums, "%s  %s\n", h, files.v[i]);
    }
    if (st != KK_OK)
        goto out;
    if (sums.failed) {
        st = kk__fail(ctx, KK_ENOMEM, "out of memory");
        goto out;
    }
    crypto_sign_detached(s, NULL, (const unsigned char *)(sums.data ? sums.data : ""),
                         sums.len, key->k.sk);
    sodium_bin2hex(hex, sizeof hex, s, sizeof s);
    kk__buf_printf(&sig, SIG_MAGIC "id %s\nsig %s\n", key->k.id, hex);
    if (sig.failed) {
        st = kk__fail(ctx, KK_ENOMEM, "out of memory");
        goto out;
    }
    /* the manifest first: a signature never names a manifest it was not
     * made for, even after a crash between the two */
    if ((st = replace_file(ctx, dir, KK_MANIFEST_NAME,
                           sums.data ? sums.data : "", sums.len)) ||
        (st = replace_file(ctx, dir, KK_MANIFEST_SIG_NAME, sig.data,
                           sig.len)))
        goto out;
    if (nfiles)
        *nfiles = files.n;
out:
    kk_crypto__names_free(&files);
    kk__buf_free(&sums);
    kk__buf_free(&sig);
    return st;
}

/* Read dir/name whole (a manifest may be large: not a key file). */
static kk_status slurp(kk_ctx *ctx, const char *dir, const char *name,
                       kk_buf *out)
{
    kk_buf path = KK_BUF_INIT;
    kk_status st = KK_OK;
    char chunk[8192];
    FILE *fp;

    kk__buf_printf(&path, "%s/%s", dir, name);
    if (path.failed)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    fp = fopen(path.data, "rbe");
    if (!fp) {
        st = kk__fail(ctx, errno == ENOENT ? KK_ENOTFOUND : KK_EIO,
                      "cannot read '%s': %s", path.data, strerror(errno));
        kk__buf_free(&path);
        return st;
    }
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        kk__buf_add(out, chunk, n);
    if (ferror(fp))
        st = kk__fail(ctx, KK_EIO, "cannot read '%s'", path.data);
    else if (out->failed)
        st = kk__fail(ctx, KK_ENOMEM, "out of memory");
    fclose(fp);
    kk__buf_free(&path);
    return st;
}

kk_status kk_manifest_verify(kk_ctx *ctx, const char *pub_path,
                             const char *dir, kk_manifest_problem_fn fn,
                             void *payload, kk_manifest_check *out)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], s[crypto_sign_BYTES];
    char pub_id[KK_KEY_ID_CHARS + 1], sig_id[KK_KEY_ID_CHARS + 1];
    kk_buf sums = KK_BUF_INIT, sig = KK_BUF_INIT;
    kk_names listed = { 0 }, hashes = { 0 }, present = { 0 };
    kk_status st;

    if (!pub_path || !dir || !out)
        return kk__fail(ctx, KK_EINVAL, "manifest verify: missing argument");
    memset(out, 0, sizeof *out);
    if ((st = kk_crypto__read_pair_pub(ctx, &sign_format, pub_path, pk,
                                           sizeof pk, pub_id)) ||
        (st = slurp(ctx, dir, KK_MANIFEST_NAME, &sums)) ||
        (st = slurp(ctx, dir, KK_MANIFEST_SIG_NAME, &sig)))
        goto out;
    {
        const char *p = sig.data ? sig.data : "", *end = p + sig.len;
        const size_t ml = sizeof SIG_MAGIC - 1;
        if (sig.len < ml || memcmp(p, SIG_MAGIC, ml) != 0 ||
            (p += ml, kk_crypto__id_line(&p, end, sig_id) != 0) ||
            kk_crypto__hex_line(&p, end, "sig", s, sizeof s) != 0 || p != end) {
            st = kk__fail(ctx, KK_EINVAL, "'%s/%s' is not a kakou signature",
                          dir, KK_MANIFEST_SIG_NAME);
            goto out;
        }
    }
    out->signature_ok =
        strcmp(sig_id, pub_id) == 0 &&
        crypto_sign_verify_detached(s, (const unsigned char *)(sums.data ? sums.data : ""),
                                    sums.len, pk) == 0;
    /* the listing: "<64 hex>  <path>\n" lines */
    for (char *line = sums.data, *nl; line && *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (!nl || nl - line < 67 || line[64] != ' ' || line[65] != ' ') {
            st = kk__fail(ctx, KK_EINVAL, "'%s/%s' is malformed", dir,
                          KK_MANIFEST_NAME);
            goto out;
        }
        char *h = kk__strndup(line, 64);
        char *rel = kk__strndup(line + 66, (size_t)(nl - line - 66));
        if (!h || !rel || kk_crypto__names_add(&hashes, h) != 0 ||
            kk_crypto__names_add(&listed, rel) != 0) {
            kk_free(h);
            kk_free(rel);
            st = kk__fail(ctx, KK_ENOMEM, "out of memory");
            goto out;
        }
        if (listed.n > 1 && strcmp(listed.v[listed.n - 2], rel) >= 0) {
            st = kk__fail(ctx, KK_EINVAL, "'%s/%s' is not sorted by path",
                          dir, KK_MANIFEST_NAME);
            goto out;
        }
    }
    out->files = listed.n;
    if ((st = kk_crypto__list_tree(ctx, dir, KK_TREE_MANIFEST, &present)))
        goto out;
    /* merge the two sorted lists */
    size_t i = 0, j = 0;
    while (i < listed.n || j < present.n) {
        int c = i >= listed.n ? 1 : j >= present.n ? -1
                                  : strcmp(listed.v[i], present.v[j]);
        if (c < 0) {
            out->missing++;
            if (fn)
                fn(listed.v[i], "missing", payload);
            i++;
        } else if (c > 0) {
            out->extra++;
            if (fn)
                fn(present.v[j], "extra", payload);
            j++;
        } else {
            char h[KK_SHA256_HEX];
            if ((st = sha256_file(ctx, dir, listed.v[i], h)) != KK_OK)
                goto out;
            if (sodium_memcmp(h, hashes.v[i], 64) != 0) {
                out->changed++;
                if (fn)
                    fn(listed.v[i], "changed", payload);
            }
            i++;
            j++;
        }
    }
out:
    kk_crypto__names_free(&listed);
    kk_crypto__names_free(&hashes);
    kk_crypto__names_free(&present);
    kk__buf_free(&sums);
    kk__buf_free(&sig);
    return st;
}
