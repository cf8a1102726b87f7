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
 * keyfile.c. The id is the first 8 bytes, in hex, of
 * BLAKE2b-256("kakou sign id v1" NUL || public key), so a signature names
 * the key pair that made it.
 *
 * The manifest: every regular file below the folder (symbolic links and
 * other file types are not followed and not listed), SHA-256 with
 * libsodium's crypto_hash_sha256, one "<hex>  <relative path>\n" line per
 * file, sorted by path in byte order (strcmp). The signature is
 * crypto_sign_detached over the manifest's exact bytes, so one changed
 * byte anywhere, in the listing or in a file, is caught.
 *
 * IMPLEMENTATION-OF: R27 (per-file SHA-256 manifest, signed; a tampered,
 * missing or extra file is detected).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "core/core.h"
#include "crypto/key_internal.h"
#include "crypto/keyfile.h"
#include "kakou/sign.h"

#define SIGN_MAGIC "KAKOU-SIGN-1\n"
#define PUB_MAGIC "KAKOU-SIGN-PUB-1\n"
#define SIG_MAGIC "KAKOU-SIG-1\n"
#define SIGN_ID_DOMAIN "kakou sign id v1"

struct kk_sign_key {
    unsigned char *sk; /* sodium_malloc(crypto_sign_SECRETKEYBYTES) */
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    char id[KK_KEY_ID_CHARS + 1];
};

static void sign_id_of(const unsigned char pk[crypto_sign_PUBLICKEYBYTES],
                       char id[KK_KEY_ID_CHARS + 1])
{
    crypto_generichash_state st;
    unsigned char h[32];

    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)SIGN_ID_DOMAIN,
                              sizeof SIGN_ID_DOMAIN);
    crypto_generichash_update(&st, pk, crypto_sign_PUBLICKEYBYTES);
    crypto_generichash_final(&st, h, sizeof h);
    sodium_bin2hex(id, KK_KEY_ID_CHARS + 1, h, KK_KEY_ID_CHARS / 2);
}

/* "name <hex of exactly n bytes>\n" at *p; advances. -1 when not. */
static int hex_line(const char **p, const char *end, const char *name,
                    unsigned char *bin, size_t n)
{
    size_t nl = strlen(name), got = 0;
    const char *s = *p, *e;

    if ((size_t)(end - s) < nl + 1 + 2 * n + 1 || memcmp(s, name, nl) != 0 ||
        s[nl] != ' ')
        return -1;
    s += nl + 1;
    e = s + 2 * n;
    if (*e != '\n' ||
        sodium_hex2bin(bin, n, s, 2 * n, NULL, &got, NULL) != 0 || got != n)
        return -1;
    *p = e + 1;
    return 0;
}

/* "id <16 hex>\n" at *p into id; advances. */
static int id_line(const char **p, const char *end,
                   char id[KK_KEY_ID_CHARS + 1])
{
    unsigned char b[KK_KEY_ID_CHARS / 2];
    if (hex_line(p, end, "id", b, sizeof b) != 0)
        return -1;
    sodium_bin2hex(id, KK_KEY_ID_CHARS + 1, b, sizeof b);
    return 0;
}

kk_status kk_sign_key_generate_file(kk_ctx *ctx, const char *path,
                                    const kk_secret *pass, char *id_out)
{
    unsigned char *secret = NULL; /* seed, then sk */
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    char id[KK_KEY_ID_CHARS + 1], *plain = NULL, *pub_path = NULL;
    char pub[256];
    kk_status st;
    size_t n;

    if (!path || !*path)
        return kk__fail(ctx, KK_EINVAL, "no key file name given");
    if ((st = kk_crypto__init(ctx)) != KK_OK)
        return st;
    pub_path = kk__malloc(strlen(path) + 5);
    secret = sodium_malloc(crypto_sign_SEEDBYTES + crypto_sign_SECRETKEYBYTES);
    plain = sodium_malloc(256);
    if (!pub_path || !secret || !plain) {
        st = kk__fail(ctx, KK_ENOMEM, "cannot allocate locked memory");
        goto out;
    }
    sprintf(pub_path, "%s.pub", path);
    if (access(pub_path, F_OK) == 0) {
        st = kk__fail(ctx, KK_EEXISTS, "cannot create public key '%s': it "
                      "already exists (a key is never overwritten)", pub_path);
        goto out;
    }
    randombytes_buf(secret, crypto_sign_SEEDBYTES);
    crypto_sign_seed_keypair(pk, secret + crypto_sign_SEEDBYTES, secret);
    sign_id_of(pk, id);
    n = (size_t)snprintf(plain, 256, SIGN_MAGIC "id %s\nseed ", id);
    sodium_bin2hex(plain + n, 2 * crypto_sign_SEEDBYTES + 1, secret,
                   crypto_sign_SEEDBYTES);
    n += 2 * crypto_sign_SEEDBYTES;
    plain[n++] = '\n';
    if ((st = kk_crypto__write_keyfile(ctx, path, plain, n, id, pass)))
        goto out;
    n = (size_t)snprintf(pub, sizeof pub, PUB_MAGIC "id %s\npub ", id);
    sodium_bin2hex(pub + n, 2 * sizeof pk + 1, pk, sizeof pk);
    n += 2 * sizeof pk;
    pub[n++] = '\n';
    if ((st = kk_crypto__write_new(ctx, pub_path, "public key", pub, n,
                                   0644))) {
        unlink(path);
        goto out;
    }
    if (id_out)
        memcpy(id_out, id, sizeof id);
out:
    sodium_free(secret);
    sodium_free(plain);
    kk_free(pub_path);
    return st;
}

void kk_sign_key_free(kk_sign_key *key)
{
    if (!key)
        return;
    sodium_free(key->sk);
    sodium_memzero(key, sizeof *key);
    kk_free(key);
}

const char *kk_sign_key_id(const kk_sign_key *key)
{
    return key ? key->id : "";
}

kk_status kk_sign_key_load(kk_sign_key **out, kk_ctx *ctx, const char *path,
                           const kk_secret *pass)
{
    char *text = NULL, *plain = NULL, id[KK_KEY_ID_CHARS + 1];
    unsigned char *seed = NULL;
    size_t len = 0, plain_len = 0;
    kk_sign_key *k = NULL;
    kk_status st;

    if (!out)
        return kk__fail(ctx, KK_EINVAL, "kk_sign_key_load: out is NULL");
    *out = NULL;
    if (!path || !*path)
        return kk__fail(ctx, KK_EINVAL, "no signing key file given");
    if ((st = kk_crypto__read_file(ctx, path, "signing key", 1, &text, &len)) ||
        (st = kk_crypto__unprotect(ctx, path, text, len, pass, &plain,
                                   &plain_len)))
        goto out;
    const char *p = plain, *end = plain + plain_len;
    const size_t ml = sizeof SIGN_MAGIC - 1;
    seed = sodium_malloc(crypto_sign_SEEDBYTES);
    k = kk__calloc(1, sizeof *k);
    if (k)
        k->sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
    if (!seed || !k || !k->sk) {
        st = kk__fail(ctx, KK_ENOMEM, "cannot allocate locked memory");
        goto out;
    }
    if (plain_len < ml || memcmp(p, SIGN_MAGIC, ml) != 0) {
        st = kk__fail(ctx, KK_EKEY, "'%s' is not a kakou signing key (no "
                      "'KAKOU-SIGN-1' header; make one with 'kakou key new "
                      "--sign FILE')", path);
        goto out;
    }
    p += ml;
    if (id_line(&p, end, id) != 0 ||
        hex_line(&p, end, "seed", seed, crypto_sign_SEEDBYTES) != 0 ||
        p != end) {
        st = kk__fail(ctx, KK_EKEY, "signing key '%s' is malformed", path);
        goto out;
    }
    crypto_sign_seed_keypair(k->pk, k->sk, seed);
    sign_id_of(k->pk, k->id);
    if (strcmp(k->id, id) != 0) {
        st = kk__fail(ctx, KK_EKEY, "signing key '%s' is damaged: its id "
                      "does not match its key", path);
        goto out;
    }
    sodium_mprotect_readonly(k->sk);
    *out = k;
    k = NULL;
out:
    kk_sign_key_free(k);
    sodium_free(seed);
    sodium_free(text);
    sodium_free(plain);
    return st;
}

static kk_status load_pub(kk_ctx *ctx, const char *path,
                          unsigned char pk[crypto_sign_PUBLICKEYBYTES],
                          char id[KK_KEY_ID_CHARS + 1])
{
    char *text = NULL, want[KK_KEY_ID_CHARS + 1];
    size_t len = 0;
    kk_status st = kk_crypto__read_file(ctx, path, "public key", 0, &text,
                                        &len);
    if (st != KK_OK)
        return st;
    const char *p = text, *end = text + len;
    const size_t ml = sizeof PUB_MAGIC - 1;
    if (len < ml || memcmp(p, PUB_MAGIC, ml) != 0) {
        st = kk__fail(ctx, KK_EKEY, "'%s' is not a kakou public key (no "
                      "'KAKOU-SIGN-PUB-1' header)", path);
    } else {
        p += ml;
        if (id_line(&p, end, id) != 0 ||
            hex_line(&p, end, "pub", pk, crypto_sign_PUBLICKEYBYTES) != 0 ||
            p != end)
            st = kk__fail(ctx, KK_EKEY, "public key '%s' is malformed", path);
        else {
            sign_id_of(pk, want);
            if (strcmp(want, id) != 0)
                st = kk__fail(ctx, KK_EKEY, "public key '%s' is damaged: "
                              "its id does not match its key", path);
        }
    }
    sodium_free(text);
    return st;
}

/* ---- the folder listing ------------------------------------------------ */

typedef struct name_list {
    char **v;
    size_t n, cap;
} name_list;

static void names_free(name_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        kk_free(l->v[i]);
    kk_free(l->v);
    memset(l, 0, sizeof *l);
}

static int names_add(name_list *l, char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char **v = kk__realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file below root/rel, as paths relative to root. */
static kk_status list_dir(kk_ctx *ctx, const char *root, const char *rel,
                          name_list *out, int depth)
{
    kk_buf path = KK_BUF_INIT;
    kk_status st = KK_OK;
    struct dirent *de;
    DIR *d;

    if (depth > 64)
        return kk__fail(ctx, KK_ELIMIT, "'%s/%s' is nested too deeply", root,
                        rel);
    kk__buf_printf(&path, "%s%s%s", root, *rel ? "/" : "", rel);
    if (path.failed)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    d = opendir(path.data);
    if (!d) {
        st = kk__fail(ctx, KK_EIO, "cannot read folder '%s': %s", path.data,
                      strerror(errno));
        kk__buf_free(&path);
        return st;
    }
    while (st == KK_OK && (de = readdir(d)) != NULL) {
        struct stat sb;
        kk_buf child = KK_BUF_INIT, full = KK_BUF_INIT;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (!*rel && (strcmp(de->d_name, KK_MANIFEST_NAME) == 0 ||
                      strcmp(de->d_name, KK_MANIFEST_SIG_NAME) == 0 ||
                      strcmp(de->d_name, KK_MANIFEST_NAME ".tmp") == 0))
            continue;
        kk__buf_printf(&child, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
        kk__buf_printf(&full, "%s/%s", path.data, de->d_name);
        if (child.failed || full.failed) {
            st = kk__fail(ctx, KK_ENOMEM, "out of memory");
        } else if (lstat(full.data, &sb) != 0) {
            st = kk__fail(ctx, KK_EIO, "cannot stat '%s': %s", full.data,
                          strerror(errno));
        } else if (S_ISDIR(sb.st_mode)) {
            st = list_dir(ctx, root, child.data, out, depth + 1);
        } else if (S_ISREG(sb.st_mode)) {
            if (strpbrk(child.data, "\n\r\\")) {
                st = kk__fail(ctx, KK_EINVAL, "file name '%s' holds a line "
                              "break or a backslash: it cannot be listed in "
                              "a manifest", full.data);
            } else if (names_add(out, child.data) != 0) {
                st = kk__fail(ctx, KK_ENOMEM, "out of memory");
            } else {
                child.data = NULL;
            }
        }
        kk__buf_free(&child);
        kk__buf_free(&full);
    }
    closedir(d);
    kk__buf_free(&path);
    return st;
}

static kk_status list_files(kk_ctx *ctx, const char *dir, name_list *out)
{
    kk_status st = list_dir(ctx, dir, "", out, 0);
    if (st == KK_OK)
        qsort(out->v, out->n, sizeof *out->v, cmp_str);
    return st;
}

static kk_status sha256_file(kk_ctx *ctx, const char *dir, const char *rel,
                             char hex[2 * crypto_hash_sha256_BYTES + 1])
{
    crypto_hash_sha256_state h;
    unsigned char md[crypto_hash_sha256_BYTES];
    kk_buf path = KK_BUF_INIT;
    unsigned char *buf = NULL;
    kk_status st = KK_OK;
    int fd;

    kk__buf_printf(&path, "%s/%s", dir, rel);
    buf = kk__malloc(1 << 16);
    if (path.failed || !buf) {
        kk_free(buf);
        kk__buf_free(&path);
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    }
    fd = open(path.data, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        st = kk__fail(ctx, KK_EIO, "cannot read '%s': %s", path.data,
                      strerror(errno));
        goto out;
    }
    crypto_hash_sha256_init(&h);
    for (;;) {
        ssize_t r = read(fd, buf, 1 << 16);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            st = kk__fail(ctx, KK_EIO, "cannot read '%s': %s", path.data,
                          strerror(errno));
            break;
        }
        if (r == 0)
            break;
        crypto_hash_sha256_update(&h, buf, (unsigned long long)r);
    }
    close(fd);
    crypto_hash_sha256_final(&h, md);
    sodium_bin2hex(hex, 2 * sizeof md + 1, md, sizeof md);
out:
    kk_free(buf);
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
    name_list files = { 0 };
    kk_buf sums = KK_BUF_INIT, sig = KK_BUF_INIT;
    unsigned char s[crypto_sign_BYTES];
    char hex[2 * crypto_sign_BYTES + 1];
    kk_status st;

    if (!key || !dir || !*dir)
        return kk__fail(ctx, KK_EINVAL, "manifest sign: missing argument");
    if (nfiles)
        *nfiles = 0;
    if ((st = list_files(ctx, dir, &files)) != KK_OK)
        goto out;
    for (size_t i = 0; i < files.n && st == KK_OK; i++) {
        char h[2 * crypto_hash_sha256_BYTES + 1];
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
                         sums.len, key->sk);
    sodium_bin2hex(hex, sizeof hex, s, sizeof s);
    kk__buf_printf(&sig, SIG_MAGIC "id %s\nsig %s\n", key->id, hex);
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
    names_free(&files);
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
    name_list listed = { 0 }, hashes = { 0 }, present = { 0 };
    kk_status st;

    if (!pub_path || !dir || !out)
        return kk__fail(ctx, KK_EINVAL, "manifest verify: missing argument");
    memset(out, 0, sizeof *out);
    if ((st = load_pub(ctx, pub_path, pk, pub_id)) ||
        (st = slurp(ctx, dir, KK_MANIFEST_NAME, &sums)) ||
        (st = slurp(ctx, dir, KK_MANIFEST_SIG_NAME, &sig)))
        goto out;
    {
        const char *p = sig.data ? sig.data : "", *end = p + sig.len;
        const size_t ml = sizeof SIG_MAGIC - 1;
        if (sig.len < ml || memcmp(p, SIG_MAGIC, ml) != 0 ||
            (p += ml, id_line(&p, end, sig_id) != 0) ||
            hex_line(&p, end, "sig", s, sizeof s) != 0 || p != end) {
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
        if (!h || !rel || names_add(&hashes, h) != 0 ||
            names_add(&listed, rel) != 0) {
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
    if ((st = list_files(ctx, dir, &present)) != KK_OK)
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
            char h[2 * crypto_hash_sha256_BYTES + 1];
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
    names_free(&listed);
    names_free(&hashes);
    names_free(&present);
    kk__buf_free(&sums);
    kk__buf_free(&sig);
    return st;
}
