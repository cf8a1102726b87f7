/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/crypto/key.c - the master key: generation, the key file, loading
 * and the public key id.
 *
 * Holds: kk_key (32 bytes from the CSPRNG in sodium_malloc'd memory that is
 * guarded, locked and read-only while idle) and the key file format. Does
 * not hold any keyed transform (keyed.c) or store encryption (lib/store/).
 *
 * Key file format, version 1: exactly 101 bytes of ASCII text,
 *
 *     KAKOU-KEY-1\n
 *     id <16 lowercase hex: the key id>\n
 *     key <64 lowercase hex: the 32 key bytes>\n
 *
 * The id line is redundant (it is recomputed from the key) and is checked
 * on load, so a damaged file is refused rather than silently used.
 * The key id is the first 8 bytes, in hex, of
 * BLAKE2b-256("kakou key id v1" NUL || key): public, and it reveals nothing
 * about the key (R23: every mapping row names the key it was made under).
 *
 * Invariants: (1) a key file is created with O_CREAT|O_EXCL and mode 0600,
 * written, fsync'd, and never overwritten; (2) a key file that group or
 * others may access is refused (R24); (3) every buffer that held key bytes
 * or key-file text is wiped with sodium_memzero on every path (R09).
 *
 * IMPLEMENTATION-OF: R23 (256-bit key from a CSPRNG, stored outside the
 * DB, identified by key id), R09 (keys zeroized in memory).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <sodium.h>

#include "core/core.h"
#include "crypto/key_internal.h"
#include "crypto/keyfile.h"

#define KEY_MAGIC "KAKOU-KEY-1\n"
#define KEY_ID_DOMAIN "kakou key id v1"
/* "KAKOU-KEY-1\n" + "id " + 16 + "\n" + "key " + 64 + "\n" */
#define KEY_FILE_BYTES (12 + 3 + KK_KEY_ID_CHARS + 1 + 4 + 2 * KK_KEY_BYTES + 1)

struct kk_key {
    unsigned char *bytes;           /* sodium_malloc, read-only when idle */
    char id[KK_KEY_ID_CHARS + 1];
    int ephemeral;
};

size_t kk_key_bytes(void)
{
    return KK_KEY_BYTES;
}

kk_status kk_crypto__init(kk_ctx *ctx)
{
    /* sodium_init() is thread-safe and idempotent: 0 first time, 1 after. */
    if (sodium_init() < 0)
        return kk__fail(ctx, KK_EINTERNAL, "cannot initialise libsodium");
    return KK_OK;
}

static void key_id_of(const unsigned char key[KK_KEY_BYTES],
                      char id[KK_KEY_ID_CHARS + 1])
{
    crypto_generichash_state st;
    unsigned char h[32];

    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)KEY_ID_DOMAIN,
                              sizeof KEY_ID_DOMAIN); /* with its NUL */
    crypto_generichash_update(&st, key, KK_KEY_BYTES);
    crypto_generichash_final(&st, h, sizeof h);
    sodium_bin2hex(id, KK_KEY_ID_CHARS + 1, h, KK_KEY_ID_CHARS / 2);
    sodium_memzero(&st, sizeof st);
    sodium_memzero(h, sizeof h);
}

/* A key object with uninitialised (but allocated) secret bytes, writable. */
static kk_status key_alloc(kk_key **out, kk_ctx *ctx)
{
    kk_key *k;
    kk_status st = kk_crypto__init(ctx);

    if (st != KK_OK)
        return st;
    k = kk__calloc(1, sizeof *k);
    if (!k)
        return kk__fail(ctx, KK_ENOMEM, "out of memory allocating a key");
    /* sodium_malloc: guard pages, canary, mlock and MADV_DONTDUMP. */
    k->bytes = sodium_malloc(KK_KEY_BYTES);
    if (!k->bytes) {
        kk_free(k);
        return kk__fail(ctx, KK_ENOMEM,
                        "cannot allocate locked memory for a key "
                        "(check RLIMIT_MEMLOCK)");
    }
    *out = k;
    return KK_OK;
}

/* Finish a key whose bytes are set: id, then read-only. */
static void key_seal(kk_key *k)
{
    key_id_of(k->bytes, k->id);
    sodium_mprotect_readonly(k->bytes);
}

void kk_key_free(kk_key *key)
{
    if (!key)
        return;
    /* sodium_free makes the region writable, zeroes it and unmaps it. */
    sodium_free(key->bytes);
    sodium_memzero(key, sizeof *key);
    kk_free(key);
}

const char *kk_key_id(const kk_key *key)
{
    return key ? key->id : "";
}

int kk_key_is_ephemeral(const kk_key *key)
{
    return key ? key->ephemeral : 0;
}

const unsigned char *kk_key__bytes(const kk_key *key)
{
    return key->bytes;
}

kk_status kk_key_new_ephemeral(kk_key **out, kk_ctx *ctx)
{
    kk_key *k = NULL;
    kk_status st;

    if (!out)
        return kk__fail(ctx, KK_EINVAL, "kk_key_new_ephemeral: out is NULL");
    *out = NULL;
    st = key_alloc(&k, ctx);
    if (st != KK_OK)
        return st;
    randombytes_buf(k->bytes, KK_KEY_BYTES);
    k->ephemeral = 1;
    key_seal(k);
    *out = k;
    return KK_OK;
}

kk_status kk_key__from_bytes(kk_key **out, kk_ctx *ctx,
                             const unsigned char bytes[KK_KEY_BYTES])
{
    kk_key *k = NULL;
    kk_status st;

    if (!out || !bytes)
        return kk__fail(ctx, KK_EINVAL, "kk_key__from_bytes: NULL argument");
    *out = NULL;
    st = key_alloc(&k, ctx);
    if (st != KK_OK)
        return st;
    memcpy(k->bytes, bytes, KK_KEY_BYTES);
    k->ephemeral = 1;
    key_seal(k);
    *out = k;
    return KK_OK;
}

/* Write all of buf to fd, retrying on EINTR and short writes. */
static int write_all(int fd, const char *buf, size_t n)
{
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

/* fsync the directory holding path, so the new name is durable too. */
static void fsync_parent(const char *path)
{
    char *copy = kk__strdup(path);
    int dfd;

    if (!copy)
        return;
    dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    kk_free(copy);
}

kk_status kk_key_generate_file(kk_ctx *ctx, const char *path)
{
    unsigned char *secret = NULL; /* key bytes, then file text */
    char *text;
    char id[KK_KEY_ID_CHARS + 1];
    kk_status st;
    int fd = -1;
    size_t n;

    if (!path || !*path)
        return kk__fail(ctx, KK_EINVAL, "no key file name given");
    st = kk_crypto__init(ctx);
    if (st != KK_OK)
        return st;
    /* One locked region: 32 key bytes, then the file text. */
    secret = sodium_malloc(KK_KEY_BYTES + KEY_FILE_BYTES + 1);
    if (!secret)
        return kk__fail(ctx, KK_ENOMEM,
                        "cannot allocate locked memory for a key "
                        "(check RLIMIT_MEMLOCK)");
    text = (char *)secret + KK_KEY_BYTES;
    randombytes_buf(secret, KK_KEY_BYTES);
    key_id_of(secret, id);
    memcpy(text, KEY_MAGIC "id ", 15);
    memcpy(text + 15, id, KK_KEY_ID_CHARS);
    n = 15 + KK_KEY_ID_CHARS;
    memcpy(text + n, "\nkey ", 5);
    n += 5;
    sodium_bin2hex(text + n, 2 * KK_KEY_BYTES + 1, secret, KK_KEY_BYTES);
    n += 2 * KK_KEY_BYTES;
    text[n++] = '\n';
    if (n != KEY_FILE_BYTES) {
        st = kk__fail(ctx, KK_EINTERNAL, "key file layout mismatch");
        goto out;
    }

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
              0600);
    if (fd < 0) {
        if (errno == EEXIST)
            st = kk__fail(ctx, KK_EEXISTS,
                          "cannot create key file '%s': it already exists "
                          "(a key is never overwritten)", path);
        else
            st = kk__fail(ctx, KK_EIO, "cannot create key file '%s': %s",
                          path, strerror(errno));
        goto out;
    }
    /* The umask can only remove bits; make sure it is exactly 0600. */
    if (fchmod(fd, 0600) != 0 || write_all(fd, text, n) != 0 ||
        fsync(fd) != 0) {
        st = kk__fail(ctx, KK_EIO, "cannot write key file '%s': %s", path,
                      strerror(errno));
        close(fd);
        fd = -1;
        unlink(path);
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        st = kk__fail(ctx, KK_EIO, "cannot write key file '%s': %s", path,
                      strerror(errno));
        unlink(path);
        goto out;
    }
    fd = -1;
    fsync_parent(path);
    st = KK_OK;
out:
    sodium_free(secret); /* zeroes first */
    sodium_memzero(id, sizeof id);
    return st;
}

static int is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

kk_status kk_key_load(kk_key **out, kk_ctx *ctx, const char *path)
{
    kk_key *k = NULL;
    char *text = NULL; /* locked: the file text holds the key in hex */
    struct stat sb;
    kk_status st;
    size_t got = 0, bin_len = 0;
    int fd = -1;

    if (!out)
        return kk__fail(ctx, KK_EINVAL, "kk_key_load: out is NULL");
    *out = NULL;
    if (!path || !*path)
        return kk__fail(ctx, KK_EINVAL, "no key file name given");
    st = kk_crypto__init(ctx);
    if (st != KK_OK)
        return st;

    /* O_NONBLOCK: a FIFO given as key file is refused below, not waited on */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENXIO) /* a socket */
            return kk__fail(ctx, KK_EKEY, "key file '%s' is not a regular file", path);
        if (errno == ENOENT)
            return kk__fail(ctx, KK_ENOTFOUND,
                            "cannot open key file '%s': no such file", path);
        return kk__fail(ctx, KK_EKEY, "cannot open key file '%s': %s", path,
                        strerror(errno));
    }
    if (fstat(fd, &sb) != 0) {
        st = kk__fail(ctx, KK_EKEY, "cannot stat key file '%s': %s", path,
                      strerror(errno));
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = kk__fail(ctx, KK_EKEY, "key file '%s' is not a regular file",
                      path);
        goto out;
    }
    /* IMPLEMENTATION-OF: R24 - a key others can read is no secret. */
    if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
        st = kk__fail(ctx, KK_EKEY,
                      "key file '%s' has mode %04o: group and others must "
                      "have no access; run 'chmod 600 %s'",
                      path, (unsigned)(sb.st_mode & 07777), path);
        goto out;
    }
    if (sb.st_size != KEY_FILE_BYTES && kk_key_file_is_protected(path)) {
        st = kk__fail(ctx, KK_EKEY,
                      "key file '%s' is protected by a passphrase: give "
                      "--passphrase-file FILE", path);
        goto out;
    }
    if (sb.st_size != KEY_FILE_BYTES) {
        st = kk__fail(ctx, KK_EKEY,
                      "'%s' is not a kakou key file (size %lld, expected "
                      "%d bytes)",
                      path, (long long)sb.st_size, KEY_FILE_BYTES);
        goto out;
    }

    text = sodium_malloc(KEY_FILE_BYTES + 1);
    if (!text) {
        st = kk__fail(ctx, KK_ENOMEM,
                      "cannot allocate locked memory for a key "
                      "(check RLIMIT_MEMLOCK)");
        goto out;
    }
    while (got < KEY_FILE_BYTES) {
        ssize_t r = read(fd, text + got, KEY_FILE_BYTES - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (got != KEY_FILE_BYTES) {
        st = kk__fail(ctx, KK_EKEY, "cannot read key file '%s'", path);
        goto out;
    }
    text[KEY_FILE_BYTES] = '\0';

    /* Layout: magic, "id " id "\n", "key " hex "\n". */
    {
        const char *p = text;
        const char *id = p + 15;
        const char *hex = id + KK_KEY_ID_CHARS + 5;

        if (memcmp(p, KEY_MAGIC, 12) != 0) {
            st = kk__fail(ctx, KK_EKEY,
                          "'%s' is not a kakou key file (no "
                          "'KAKOU-KEY-1' header)", path);
            goto out;
        }
        if (memcmp(p + 12, "id ", 3) != 0 ||
            !is_lower_hex(id, KK_KEY_ID_CHARS) ||
            memcmp(id + KK_KEY_ID_CHARS, "\nkey ", 5) != 0 ||
            !is_lower_hex(hex, 2 * KK_KEY_BYTES) ||
            hex[2 * KK_KEY_BYTES] != '\n') {
            st = kk__fail(ctx, KK_EKEY, "key file '%s' is malformed", path);
            goto out;
        }
        st = key_alloc(&k, ctx);
        if (st != KK_OK)
            goto out;
        if (sodium_hex2bin(k->bytes, KK_KEY_BYTES, hex, 2 * KK_KEY_BYTES,
                           NULL, &bin_len, NULL) != 0 ||
            bin_len != KK_KEY_BYTES) {
            st = kk__fail(ctx, KK_EKEY, "key file '%s' is malformed", path);
            goto out;
        }
        key_seal(k);
        if (memcmp(k->id, id, KK_KEY_ID_CHARS) != 0) {
            st = kk__fail(ctx, KK_EKEY,
                          "key file '%s' is damaged: its key id does not "
                          "match its key", path);
            goto out;
        }
    }
    *out = k;
    k = NULL;
    st = KK_OK;
out:
    if (fd >= 0)
        close(fd);
    sodium_free(text); /* NULL is fine; zeroes first */
    kk_key_free(k);
    return st;
}

/* A key read from a key file (keyfile.c: the protected format): the same
 * as kk_key__from_bytes, but not ephemeral. */
kk_status kk_key__from_file_bytes(kk_key **out, kk_ctx *ctx,
                                  const unsigned char bytes[KK_KEY_BYTES])
{
    kk_status st = kk_key__from_bytes(out, ctx, bytes);
    if (st == KK_OK)
        (*out)->ephemeral = 0;
    return st;
}
