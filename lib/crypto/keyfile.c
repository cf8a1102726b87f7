/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/crypto/keyfile.c - passphrases and passphrase-protected key files.
 *
 * Holds: kk_secret (a passphrase in sodium_malloc'd, locked memory), the
 * small-file helpers every key file of lib/crypto uses (the master key's
 * own format stays in key.c), the protected container, and the files of
 * a key pair, which signing keys (sign.c) and recipient keys (pack.c)
 * share: each kind names its headers and derives its own public key.
 *
 * Protected container, version 1: ASCII text,
 *
 *     KAKOU-PROTECTED-1\n
 *     id <16 lowercase hex: the public id of the key inside>\n
 *     kdf argon2id13 <opslimit> <memlimit>\n
 *     salt <32 hex: crypto_pwhash_SALTBYTES>\n
 *     nonce <48 hex: crypto_secretbox_NONCEBYTES>\n
 *     box <hex: crypto_secretbox_easy(plain key file text)>\n
 *
 * The secretbox key is crypto_pwhash(passphrase, salt, opslimit,
 * memlimit, ALG_ARGON2ID13); kakou writes the INTERACTIVE limits
 * (64 MiB, 2 passes), read back from the file, so a later version may
 * raise them without breaking old files. The id line lets `kakou key id`
 * answer without the passphrase; the loader checks it against the key
 * inside. A changed kdf, salt or nonce line only makes the box fail to
 * open ("wrong passphrase or damaged file").
 *
 * Invariants: every buffer that held a passphrase, a derived key or
 * plain key text is sodium_malloc'd and freed with sodium_free (which
 * wipes it) on every path (R09).
 *
 * IMPLEMENTATION-OF: R23 (key encrypted at rest), R24 (access control:
 * the key opens only with its passphrase).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "core/core.h"
#include "crypto/key_internal.h"
#include "crypto/keyfile.h"

#define SECRET_MAX 1024

struct kk_secret {
    char *text; /* sodium_malloc(SECRET_MAX + 1) */
    size_t len;
};

/* ---- kk_secret ------------------------------------------------------- */

static kk_status secret_alloc(kk_secret **out, kk_ctx *ctx)
{
    kk_secret *s;
    kk_status st = kk_crypto__init(ctx);

    if (st != KK_OK)
        return st;
    s = kk__calloc(1, sizeof *s);
    if (s)
        s->text = sodium_malloc(SECRET_MAX + 1);
    if (!s || !s->text) {
        kk_free(s);
        return kk__fail(ctx, KK_ENOMEM, "cannot allocate locked memory for "
                        "a passphrase (check RLIMIT_MEMLOCK)");
    }
    *out = s;
    return KK_OK;
}

void kk_secret_free(kk_secret *s)
{
    if (!s)
        return;
    sodium_free(s->text);
    kk_free(s);
}

kk_status kk_secret_from_file(kk_secret **out, kk_ctx *ctx, const char *path)
{
    kk_secret *s = NULL;
    char *text = NULL;
    size_t len = 0, n = 0;
    kk_status st;

    if (!out || !path || !*path)
        return kk__fail(ctx, KK_EINVAL, "no passphrase file given");
    *out = NULL;
    st = kk_crypto__read_file(ctx, path, "passphrase file", 1, &text, &len);
    if (st != KK_OK)
        return st;
    while (n < len && text[n] != '\n' && text[n] != '\r')
        n++;
    if (n == 0) {
        st = kk__fail(ctx, KK_EKEY, "passphrase file '%s' is empty", path);
        goto out;
    }
    if (n > SECRET_MAX) {
        st = kk__fail(ctx, KK_EKEY, "passphrase in '%s' is longer than %d "
                      "bytes", path, SECRET_MAX);
        goto out;
    }
    if ((st = secret_alloc(&s, ctx)) != KK_OK)
        goto out;
    memcpy(s->text, text, n);
    s->text[n] = '\0';
    s->len = n;
    *out = s;
out:
    sodium_free(text);
    return st;
}

/* Read one line from the terminal fd with echo off into buf (locked). */
static int read_tty_line(int fd, char *buf, size_t cap, size_t *len)
{
    struct termios old, quiet;
    int have_old = tcgetattr(fd, &old) == 0;
    size_t n = 0;
    char c;

    if (have_old) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
        quiet.c_lflag |= ICANON;
        (void)tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    for (;;) {
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || c == '\n' || c == '\r')
            break;
        if (n < cap)
            buf[n] = c;
        n++;
    }
    sodium_memzero(&c, sizeof c);
    if (have_old)
        (void)tcsetattr(fd, TCSAFLUSH, &old);
    if (write(fd, "\n", 1) < 0) {
        /* only cosmetic */
    }
    *len = n;
    return n > cap ? -1 : 0;
}

kk_status kk_secret_prompt(kk_secret **out, kk_ctx *ctx, const char *prompt,
                           int confirm)
{
    kk_secret *s = NULL, *again = NULL;
    kk_status st;
    int fd;

    if (!out)
        return kk__fail(ctx, KK_EINVAL, "kk_secret_prompt: out is NULL");
    *out = NULL;
    fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0 || !isatty(fd)) {
        if (fd >= 0)
            close(fd);
        return kk__fail(ctx, KK_EKEY, "no terminal to ask for a passphrase "
                        "on: give --passphrase-file");
    }
    if ((st = secret_alloc(&s, ctx)) != KK_OK)
        goto out;
    if (confirm && (st = secret_alloc(&again, ctx)) != KK_OK)
        goto out;
    const char *p = prompt ? prompt : "Passphrase: ";
    if (write(fd, p, strlen(p)) < 0 ||
        read_tty_line(fd, s->text, SECRET_MAX, &s->len) != 0) {
        st = kk__fail(ctx, KK_EKEY, "passphrase longer than %d bytes",
                      SECRET_MAX);
        goto out;
    }
    s->text[s->len] = '\0';
    if (s->len == 0) {
        st = kk__fail(ctx, KK_EKEY, "empty passphrase");
        goto out;
    }
    if (confirm) {
        static const char p2[] = "Again: ";
        if (write(fd, p2, sizeof p2 - 1) < 0 ||
            read_tty_line(fd, again->text, SECRET_MAX, &again->len) != 0 ||
            again->len != s->len ||
            sodium_memcmp(again->text, s->text, s->len) != 0) {
            st = kk__fail(ctx, KK_EKEY, "the passphrases do not match");
            goto out;
        }
    }
    *out = s;
    s = NULL;
    st = KK_OK;
out:
    close(fd);
    kk_secret_free(s);
    kk_secret_free(again);
    return st;
}

/* ---- small files ----------------------------------------------------- */

kk_status kk_crypto__read_file(kk_ctx *ctx, const char *path, const char *what,
                               int secret, char **out, size_t *len)
{
    struct stat sb;
    char *buf = NULL;
    size_t got = 0;
    kk_status st;
    int fd;

    *out = NULL;
    *len = 0;
    if ((st = kk_crypto__init(ctx)) != KK_OK)
        return st;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return kk__fail(ctx, KK_ENOTFOUND, "cannot open %s '%s': no "
                            "such file", what, path);
        return kk__fail(ctx, KK_EKEY, "cannot open %s '%s': %s", what, path,
                        strerror(errno));
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = kk__fail(ctx, KK_EKEY, "%s '%s' is not a regular file", what,
                      path);
        goto out;
    }
    if (secret && (sb.st_mode & (S_IRWXG | S_IRWXO))) {
        st = kk__fail(ctx, KK_EKEY,
                      "%s '%s' has mode %04o: group and others must have no "
                      "access; run 'chmod 600 %s'", what, path,
                      (unsigned)(sb.st_mode & 07777), path);
        goto out;
    }
    if (sb.st_size > KK_KEYFILE_MAX) {
        st = kk__fail(ctx, KK_EKEY, "%s '%s' is too large (%lld bytes) to "
                      "be one", what, path, (long long)sb.st_size);
        goto out;
    }
    buf = sodium_malloc(KK_KEYFILE_MAX + 1);
    if (!buf) {
        st = kk__fail(ctx, KK_ENOMEM, "cannot allocate locked memory "
                      "(check RLIMIT_MEMLOCK)");
        goto out;
    }
    for (;;) {
        ssize_t r = read(fd, buf + got, KK_KEYFILE_MAX - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            st = kk__fail(ctx, KK_EKEY, "cannot read %s '%s': %s", what, path,
                          strerror(errno));
            goto out;
        }
        if (r == 0 || got + (size_t)r >= KK_KEYFILE_MAX) {
            got += (size_t)r;
            break;
        }
        got += (size_t)r;
    }
    buf[got] = '\0';
    *out = buf;
    *len = got;
    buf = NULL;
    st = KK_OK;
out:
    close(fd);
    sodium_free(buf);
    return st;
}

int kk_crypto__write_all(int fd, const void *data, size_t n)
{
    const char *buf = data;
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

kk_status kk_crypto__write_new(kk_ctx *ctx, const char *path, const char *what,
                               const void *data, size_t len, unsigned mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  (mode_t)mode);
    if (fd < 0) {
        if (errno == EEXIST)
            return kk__fail(ctx, KK_EEXISTS, "cannot create %s '%s': it "
                            "already exists (a key is never overwritten)",
                            what, path);
        return kk__fail(ctx, KK_EIO, "cannot create %s '%s': %s", what, path,
                        strerror(errno));
    }
    if (fchmod(fd, (mode_t)mode) != 0 ||
        kk_crypto__write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        kk_status st = kk__fail(ctx, KK_EIO, "cannot write %s '%s': %s",
                                what, path, strerror(errno));
        close(fd);
        unlink(path);
        return st;
    }
    if (close(fd) != 0) {
        kk_status st = kk__fail(ctx, KK_EIO, "cannot write %s '%s': %s",
                                what, path, strerror(errno));
        unlink(path);
        return st;
    }
    char *copy = kk__strdup(path);
    if (copy) {
        int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
        kk_free(copy);
    }
    return KK_OK;
}

/* ---- the protected container ----------------------------------------- */

/* The value after "name " on the line starting at *p; advances *p past the
 * line. NULL when the line is not "name value\n". */
static const char *field(const char **p, const char *end, const char *name,
                         size_t *vlen)
{
    size_t nl = strlen(name);
    const char *s = *p, *e;

    if ((size_t)(end - s) < nl + 1 || memcmp(s, name, nl) != 0 ||
        s[nl] != ' ')
        return NULL;
    e = memchr(s, '\n', (size_t)(end - s));
    if (!e)
        return NULL;
    *vlen = (size_t)(e - (s + nl + 1));
    *p = e + 1;
    return s + nl + 1;
}

static int hex_exact(unsigned char *bin, size_t bin_len, const char *hex,
                     size_t hex_len)
{
    size_t got = 0;
    if (hex_len != 2 * bin_len)
        return -1;
    if (sodium_hex2bin(bin, bin_len, hex, hex_len, NULL, &got, NULL) != 0 ||
        got != bin_len)
        return -1;
    return 0;
}

kk_status kk_crypto__unprotect(kk_ctx *ctx, const char *path, const char *text,
                               size_t len, const kk_secret *pass,
                               char **plain, size_t *plain_len)
{
    const size_t ml = sizeof KK_PROTECTED_MAGIC - 1;
    const char *p = text, *end = text + len, *v;
    unsigned char salt[crypto_pwhash_SALTBYTES];
    unsigned char nonce[crypto_secretbox_NONCEBYTES];
    unsigned char *box = NULL, *k = NULL;
    unsigned long long ops = 0;
    size_t vlen, mem = 0, box_len, n;
    char *out = NULL, kdf[96];
    kk_status st;

    *plain = NULL;
    *plain_len = 0;
    if (len < ml || memcmp(text, KK_PROTECTED_MAGIC, ml) != 0) {
        out = sodium_malloc(len + 1);
        if (!out)
            return kk__fail(ctx, KK_ENOMEM, "cannot allocate locked memory");
        memcpy(out, text, len);
        out[len] = '\0';
        *plain = out;
        *plain_len = len;
        return KK_OK;
    }
    if (!pass)
        return kk__fail(ctx, KK_EKEY,
                        "key file '%s' is protected by a passphrase: give "
                        "--passphrase-file FILE (or run on a terminal to be "
                        "asked)", path);
    p += ml;
    if (!field(&p, end, "id", &vlen) || !(v = field(&p, end, "kdf", &vlen)) ||
        vlen >= sizeof kdf)
        goto malformed;
    memcpy(kdf, v, vlen);
    kdf[vlen] = '\0';
    {
        char alg[32];
        if (sscanf(kdf, "%31s %llu %zu", alg, &ops, &mem) != 3 ||
            strcmp(alg, "argon2id13") != 0 ||
            ops < crypto_pwhash_OPSLIMIT_MIN || ops > 64 ||
            mem < crypto_pwhash_MEMLIMIT_MIN || mem > ((size_t)1 << 32))
            goto malformed;
    }
    if (!(v = field(&p, end, "salt", &vlen)) ||
        hex_exact(salt, sizeof salt, v, vlen) != 0 ||
        !(v = field(&p, end, "nonce", &vlen)) ||
        hex_exact(nonce, sizeof nonce, v, vlen) != 0 ||
        !(v = field(&p, end, "box", &vlen)) || p != end ||
        vlen % 2 != 0 || vlen / 2 <= crypto_secretbox_MACBYTES)
        goto malformed;
    box_len = vlen / 2;
    box = kk__malloc(box_len);
    k = sodium_malloc(crypto_secretbox_KEYBYTES);
    out = sodium_malloc(box_len + 1);
    if (!box || !k || !out) {
        st = kk__fail(ctx, KK_ENOMEM, "cannot allocate locked memory");
        goto out;
    }
    if (hex_exact(box, box_len, v, vlen) != 0)
        goto malformed;
    if (crypto_pwhash(k, crypto_secretbox_KEYBYTES, pass->text, pass->len,
                      salt, ops, mem, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        st = kk__fail(ctx, KK_ENOMEM, "cannot derive the key of '%s' from "
                      "the passphrase (out of memory)", path);
        goto out;
    }
    n = box_len - crypto_secretbox_MACBYTES;
    if (crypto_secretbox_open_easy((unsigned char *)out, box, box_len, nonce,
                                   k) != 0) {
        st = kk__fail(ctx, KK_EKEY, "cannot open key file '%s': wrong "
                      "passphrase, or the file is damaged", path);
        goto out;
    }
    out[n] = '\0';
    *plain = out;
    *plain_len = n;
    out = NULL;
    st = KK_OK;
    goto out;
malformed:
    st = kk__fail(ctx, KK_EKEY, "protected key file '%s' is malformed", path);
out:
    kk_free(box);
    sodium_free(k);
    sodium_free(out);
    return st;
}

kk_status kk_crypto__write_keyfile(kk_ctx *ctx, const char *path,
                                   const char *plain, size_t len,
                                   const char *id, const kk_secret *pass)
{
    unsigned char salt[crypto_pwhash_SALTBYTES];
    unsigned char nonce[crypto_secretbox_NONCEBYTES];
    unsigned char *k = NULL, *box = NULL;
    const unsigned long long ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
    const size_t mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    size_t box_len = len + crypto_secretbox_MACBYTES, n;
    char *text = NULL, salt_hex[2 * sizeof salt + 1],
         nonce_hex[2 * sizeof nonce + 1];
    kk_status st;

    if (!pass)
        return kk_crypto__write_new(ctx, path, "key file", plain, len, 0600);
    k = sodium_malloc(crypto_secretbox_KEYBYTES);
    box = kk__malloc(box_len);
    text = kk__malloc(KK_KEYFILE_MAX);
    if (!k || !box || !text) {
        st = kk__fail(ctx, KK_ENOMEM, "cannot allocate locked memory");
        goto out;
    }
    randombytes_buf(salt, sizeof salt);
    randombytes_buf(nonce, sizeof nonce);
    if (crypto_pwhash(k, crypto_secretbox_KEYBYTES, pass->text, pass->len,
                      salt, ops, mem, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        st = kk__fail(ctx, KK_ENOMEM, "cannot derive a key from the "
                      "passphrase (out of memory)");
        goto out;
    }
    crypto_secretbox_easy(box, (const unsigned char *)plain, len, nonce, k);
    sodium_bin2hex(salt_hex, sizeof salt_hex, salt, sizeof salt);
    sodium_bin2hex(nonce_hex, sizeof nonce_hex, nonce, sizeof nonce);
    n = (size_t)snprintf(text, KK_KEYFILE_MAX,
                         KK_PROTECTED_MAGIC "id %s\nkdf argon2id13 %llu %zu\n"
                         "salt %s\nnonce %s\nbox ", id, ops, mem, salt_hex,
                         nonce_hex);
    if (n + 2 * box_len + 2 > KK_KEYFILE_MAX) {
        st = kk__fail(ctx, KK_EINTERNAL, "protected key file too large");
        goto out;
    }
    sodium_bin2hex(text + n, 2 * box_len + 1, box, box_len);
    n += 2 * box_len;
    text[n++] = '\n';
    st = kk_crypto__write_new(ctx, path, "key file", text, n, 0600);
out:
    sodium_free(k);
    kk_free(box);
    kk_free(text);
    return st;
}

/* ---- key pairs ------------------------------------------------------- */

int kk_crypto__hex_line(const char **p, const char *end, const char *name,
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

int kk_crypto__id_line(const char **p, const char *end,
                       char id[KK_KEY_ID_CHARS + 1])
{
    unsigned char b[KK_KEY_ID_CHARS / 2];
    if (kk_crypto__hex_line(p, end, "id", b, sizeof b) != 0)
        return -1;
    sodium_bin2hex(id, KK_KEY_ID_CHARS + 1, b, sizeof b);
    return 0;
}

void kk_crypto__pub_id(const char *domain, const unsigned char *pk,
                       size_t pk_len, char id[KK_KEY_ID_CHARS + 1])
{
    crypto_generichash_state st;
    unsigned char h[32];

    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)domain,
                              strlen(domain) + 1);
    crypto_generichash_update(&st, pk, pk_len);
    crypto_generichash_final(&st, h, sizeof h);
    sodium_bin2hex(id, KK_KEY_ID_CHARS + 1, h, KK_KEY_ID_CHARS / 2);
}

/* "<magic>id <id>\n<field> <hex of n bytes>\n" into buf (cap bytes). */
static size_t pair_text(char *buf, size_t cap, const char *magic,
                        const char *id, const char *field,
                        const unsigned char *bin, size_t n)
{
    size_t len = (size_t)snprintf(buf, cap, "%sid %s\n%s ", magic, id, field);
    if (len + 2 * n + 2 > cap)
        return 0;
    sodium_bin2hex(buf + len, 2 * n + 1, bin, n);
    len += 2 * n;
    buf[len++] = '\n';
    return len;
}

static kk_status write_pair(kk_ctx *ctx, const kk_pair_format *f,
                            const char *path, const unsigned char *secret,
                            size_t n, const unsigned char *pk, size_t pk_len,
                            const char *id, const kk_secret *pass)
{
    char *plain = NULL, *pub_path = NULL, pub[256];
    kk_status st;
    size_t len;

    pub_path = kk__malloc(strlen(path) + 5);
    plain = sodium_malloc(256);
    if (!pub_path || !plain) {
        st = kk__fail(ctx, KK_ENOMEM, "cannot allocate locked memory");
        goto out;
    }
    sprintf(pub_path, "%s.pub", path);
    if (access(pub_path, F_OK) == 0) {
        st = kk__fail(ctx, KK_EEXISTS, "cannot create public key '%s': it "
                      "already exists (a key is never overwritten)", pub_path);
        goto out;
    }
    if (!(len = pair_text(plain, 256, f->magic, id, f->field, secret, n))) {
        st = kk__fail(ctx, KK_EINTERNAL, "key file text too large");
        goto out;
    }
    if ((st = kk_crypto__write_keyfile(ctx, path, plain, len, id, pass)))
        goto out;
    len = pair_text(pub, sizeof pub, f->pub_magic, id, "pub", pk, pk_len);
    if ((st = kk_crypto__write_new(ctx, pub_path, "public key", pub, len,
                                   0644)))
        unlink(path);
out:
    sodium_free(plain);
    kk_free(pub_path);
    return st;
}

static kk_status read_pair_secret(kk_ctx *ctx, const kk_pair_format *f,
                                  const char *path, const kk_secret *pass,
                                  unsigned char *secret, size_t n,
                                  char id[KK_KEY_ID_CHARS + 1])
{
    char *text = NULL, *plain = NULL;
    size_t len = 0, plain_len = 0;
    kk_status st;

    if ((st = kk_crypto__read_file(ctx, path, f->what, 1, &text, &len)) ||
        (st = kk_crypto__unprotect(ctx, path, text, len, pass, &plain,
                                   &plain_len)))
        goto out;
    const char *p = plain, *end = plain + plain_len;
    const size_t ml = strlen(f->magic);
    if (plain_len < ml || memcmp(p, f->magic, ml) != 0) {
        st = kk__fail(ctx, KK_EKEY, "'%s' is not a kakou %s (no '%.*s' "
                      "header; make one with '%s')", path, f->what,
                      (int)ml - 1, f->magic, f->make);
        goto out;
    }
    p += ml;
    if (kk_crypto__id_line(&p, end, id) != 0 ||
        kk_crypto__hex_line(&p, end, f->field, secret, n) != 0 || p != end)
        st = kk__fail(ctx, KK_EKEY, "%s '%s' is malformed", f->what, path);
out:
    sodium_free(text);
    sodium_free(plain);
    return st;
}

kk_status kk_crypto__pair_generate(kk_ctx *ctx, const kk_pair_format *f,
                                   const char *path, const kk_secret *pass,
                                   char *id_out)
{
    unsigned char *secret = NULL; /* the file's bytes, then sk */
    unsigned char pk[KK_PAIR_PUBLIC_BYTES];
    char id[KK_KEY_ID_CHARS + 1];
    kk_status st;

    if (!path || !*path)
        return kk__fail(ctx, KK_EINVAL, "no key file name given");
    if ((st = kk_crypto__init(ctx)) != KK_OK)
        return st;
    if (!(secret = sodium_malloc(f->secret_len + f->sk_len)))
        return kk__fail(ctx, KK_ENOMEM, "cannot allocate locked memory");
    randombytes_buf(secret, f->secret_len);
    f->derive(pk, secret + f->secret_len, secret);
    kk_crypto__pub_id(f->id_domain, pk, sizeof pk, id);
    st = write_pair(ctx, f, path, secret, f->secret_len, pk, sizeof pk, id,
                    pass);
    if (st == KK_OK && id_out)
        memcpy(id_out, id, sizeof id);
    sodium_free(secret);
    return st;
}

void kk_crypto__pair_clear(kk_pair_key *k)
{
    sodium_free(k->sk);
    sodium_memzero(k, sizeof *k);
}

kk_status kk_crypto__pair_load(kk_ctx *ctx, const kk_pair_format *f,
                               const char *path, const kk_secret *pass,
                               kk_pair_key *k)
{
    char id[KK_KEY_ID_CHARS + 1];
    unsigned char *secret = NULL;
    kk_status st;

    memset(k, 0, sizeof *k);
    if (!path || !*path)
        return kk__fail(ctx, KK_EINVAL, "no %s file given", f->what);
    if ((st = kk_crypto__init(ctx)) != KK_OK)
        return st;
    secret = sodium_malloc(f->secret_len);
    k->sk = sodium_malloc(f->sk_len);
    if (!secret || !k->sk) {
        st = kk__fail(ctx, KK_ENOMEM, "cannot allocate locked memory");
        goto out;
    }
    if ((st = read_pair_secret(ctx, f, path, pass, secret, f->secret_len,
                               id)))
        goto out;
    f->derive(k->pk, k->sk, secret);
    kk_crypto__pub_id(f->id_domain, k->pk, sizeof k->pk, k->id);
    if (strcmp(k->id, id) != 0) {
        st = kk__fail(ctx, KK_EKEY, "%s '%s' is damaged: its id does not "
                      "match its key", f->what, path);
        goto out;
    }
    sodium_mprotect_readonly(k->sk);
out:
    if (st != KK_OK)
        kk_crypto__pair_clear(k);
    sodium_free(secret);
    return st;
}

kk_status kk_crypto__read_pair_pub(kk_ctx *ctx, const kk_pair_format *f,
                                   const char *path, unsigned char *pk,
                                   size_t pk_len,
                                   char id[KK_KEY_ID_CHARS + 1])
{
    char *text = NULL, want[KK_KEY_ID_CHARS + 1];
    size_t len = 0;
    kk_status st = kk_crypto__read_file(ctx, path, f->pub_what, 0, &text,
                                        &len);
    if (st != KK_OK)
        return st;
    const char *p = text, *end = text + len;
    const size_t ml = strlen(f->pub_magic);
    if (len < ml || memcmp(p, f->pub_magic, ml) != 0) {
        st = kk__fail(ctx, KK_EKEY, "'%s' is not a kakou %s (no '%.*s' "
                      "header)", path, f->pub_what, (int)ml - 1, f->pub_magic);
    } else {
        p += ml;
        if (kk_crypto__id_line(&p, end, id) != 0 ||
            kk_crypto__hex_line(&p, end, "pub", pk, pk_len) != 0 || p != end)
            st = kk__fail(ctx, KK_EKEY, "%s '%s' is malformed", f->pub_what,
                          path);
        else {
            kk_crypto__pub_id(f->id_domain, pk, pk_len, want);
            if (strcmp(want, id) != 0)
                st = kk__fail(ctx, KK_EKEY, "%s '%s' is damaged: its id "
                              "does not match its key", f->pub_what, path);
        }
    }
    sodium_free(text);
    return st;
}

/* ---- the master key, protected --------------------------------------- */

#define MASTER_MAGIC "KAKOU-KEY-1\n"

kk_status kk_key_generate_file_protected(kk_ctx *ctx, const char *path,
                                         const kk_secret *pass)
{
    unsigned char *bytes = NULL;
    char *plain = NULL;
    kk_key *k = NULL;
    kk_status st;
    size_t n;

    if (!pass)
        return kk_key_generate_file(ctx, path);
    if (!path || !*path)
        return kk__fail(ctx, KK_EINVAL, "no key file name given");
    if ((st = kk_crypto__init(ctx)) != KK_OK)
        return st;
    bytes = sodium_malloc(KK_KEY_BYTES);
    plain = sodium_malloc(256);
    if (!bytes || !plain) {
        st = kk__fail(ctx, KK_ENOMEM, "cannot allocate locked memory");
        goto out;
    }
    randombytes_buf(bytes, KK_KEY_BYTES);
    if ((st = kk_key__from_bytes(&k, ctx, bytes)) != KK_OK)
        goto out;
    n = (size_t)snprintf(plain, 256, MASTER_MAGIC "id %s\nkey ", kk_key_id(k));
    sodium_bin2hex(plain + n, 2 * KK_KEY_BYTES + 1, bytes, KK_KEY_BYTES);
    n += 2 * KK_KEY_BYTES;
    plain[n++] = '\n';
    st = kk_crypto__write_keyfile(ctx, path, plain, n, kk_key_id(k), pass);
out:
    kk_key_free(k);
    sodium_free(bytes);
    sodium_free(plain);
    return st;
}

kk_status kk_key_load_protected(kk_key **out, kk_ctx *ctx, const char *path,
                                const kk_secret *pass)
{
    char *text = NULL, *plain = NULL;
    unsigned char *bytes = NULL;
    size_t len = 0, plain_len = 0, vlen = 0;
    kk_key *k = NULL;
    kk_status st;

    if (!out)
        return kk__fail(ctx, KK_EINVAL, "kk_key_load_protected: out is NULL");
    *out = NULL;
    if (!path || !*path)
        return kk__fail(ctx, KK_EINVAL, "no key file name given");
    if (!kk_key_file_is_protected(path))
        return kk_key_load(out, ctx, path); /* the plain format's checks */
    if ((st = kk_crypto__read_file(ctx, path, "key file", 1, &text, &len)) ||
        (st = kk_crypto__unprotect(ctx, path, text, len, pass, &plain,
                                   &plain_len)))
        goto out;
    {
        const char *p = plain, *end = plain + plain_len, *id, *hex;
        size_t idlen;
        const size_t ml = sizeof MASTER_MAGIC - 1;
        if (plain_len < ml || memcmp(p, MASTER_MAGIC, ml) != 0) {
            st = kk__fail(ctx, KK_EKEY, "'%s' does not hold a kakou project "
                          "key", path);
            goto out;
        }
        p += ml;
        bytes = sodium_malloc(KK_KEY_BYTES);
        if (!bytes) {
            st = kk__fail(ctx, KK_ENOMEM, "cannot allocate locked memory");
            goto out;
        }
        if (!(id = field(&p, end, "id", &idlen)) ||
            idlen != KK_KEY_ID_CHARS || !(hex = field(&p, end, "key", &vlen)) ||
            p != end || hex_exact(bytes, KK_KEY_BYTES, hex, vlen) != 0) {
            st = kk__fail(ctx, KK_EKEY, "key file '%s' is malformed", path);
            goto out;
        }
        if ((st = kk_key__from_file_bytes(&k, ctx, bytes)) != KK_OK)
            goto out;
        char outer[KK_KEY_ID_CHARS + 1];
        if (memcmp(kk_key_id(k), id, KK_KEY_ID_CHARS) != 0 ||
            kk_key_file_id(ctx, path, outer) != KK_OK ||
            strcmp(outer, kk_key_id(k)) != 0) {
            st = kk__fail(ctx, KK_EKEY, "key file '%s' is damaged: its key "
                          "id does not match its key", path);
            goto out;
        }
    }
    *out = k;
    k = NULL;
    st = KK_OK;
out:
    kk_key_free(k);
    sodium_free(bytes);
    sodium_free(text);
    sodium_free(plain);
    return st;
}

int kk_key_file_is_protected(const char *path)
{
    char head[sizeof KK_PROTECTED_MAGIC - 1];
    int fd, yes = 0;

    if (!path)
        return 0;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return 0;
    struct stat sb;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
        read(fd, head, sizeof head) == (ssize_t)sizeof head &&
        memcmp(head, KK_PROTECTED_MAGIC, sizeof head) == 0)
        yes = 1;
    close(fd);
    return yes;
}

kk_status kk_key_file_id(kk_ctx *ctx, const char *path,
                         char id[KK_KEY_ID_CHARS + 1])
{
    char *text = NULL;
    size_t len = 0, vlen = 0;
    kk_status st;
    const char *p, *v;

    if (!kk_key_file_is_protected(path)) {
        kk_key *k = NULL;
        if ((st = kk_key_load(&k, ctx, path)) == KK_OK)
            memcpy(id, kk_key_id(k), KK_KEY_ID_CHARS + 1);
        kk_key_free(k);
        return st;
    }
    if ((st = kk_crypto__read_file(ctx, path, "key file", 1, &text, &len)))
        return st;
    p = text + sizeof KK_PROTECTED_MAGIC - 1;
    v = field(&p, text + len, "id", &vlen);
    if (!v || vlen != KK_KEY_ID_CHARS) {
        st = kk__fail(ctx, KK_EKEY, "protected key file '%s' is malformed",
                      path);
    } else {
        memcpy(id, v, KK_KEY_ID_CHARS);
        id[KK_KEY_ID_CHARS] = '\0';
    }
    sodium_free(text);
    return st;
}
