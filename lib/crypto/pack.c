/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/crypto/pack.c - sealed delivery (issue 17): X25519 recipient keys
 * and the encrypted archive of an output folder.
 *
 * Key files, version 1 (ASCII; keyfile.c writes and reads them):
 *     secret  KAKOU-BOX-1\n id <16 hex>\n sk <64 hex>\n        mode 0600
 *     public  KAKOU-BOX-PUB-1\n id <16 hex>\n pub <64 hex>\n   mode 0644
 * The id is the first 8 bytes, in hex, of BLAKE2b-256("kakou box id v1"
 * NUL || public key).
 *
 * Archive, version 1 (binary):
 *     "KAKOU-PACK-1\n"                        13 bytes
 *     "id <16 hex>\n"                         20: the recipient key id
 *     crypto_box_seal(stream key)             80: 32 + crypto_box_SEALBYTES
 *     secretstream header                     24
 *     chunks, each KK_PACK_CHUNK_BYTES + 17 bytes
 *       (crypto_secretstream_xchacha20poly1305_push; the first with the
 *       33 clear bytes above as additional data; the last, and only the
 *       last, tagged TAG_FINAL)
 * The chunks carry one plain stream:
 *     per file: path length (u32, big-endian, 1..4096), the path
 *               (relative, '/' between folders), size (u64, big-endian),
 *               the bytes
 *     the end:  a path length of 0, then zeros to the end of the chunk
 * Every chunk is full, so a cut archive ends either inside a chunk or
 * before the final one: "truncated" in both cases, never "damaged". Files
 * come sorted by path in byte order, which unpack checks: a path listed
 * twice, or out of order, is refused like one that is absolute or holds
 * "..".
 *
 * Unpack writes into a new folder beside the destination and renames it
 * into place only after the final chunk verified: a failure removes that
 * folder, so nothing of a bad archive is left.
 *
 * Invariants: the stream key, the stream state and the secret key are
 * sodium_malloc'd (locked, wiped when freed) on every path.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "core/core.h"
#include "crypto/key_internal.h"
#include "crypto/keyfile.h"
#include "crypto/pack_internal.h"
#include "crypto/tree.h"
#include "kakou/pack.h"

/* X25519: the secret key is the file's 32 random bytes, as
 * crypto_box_keypair() makes it; the public key is its base point
 * multiple. */
static void box_derive(unsigned char pk[KK_PAIR_PUBLIC_BYTES],
                       unsigned char *sk, const unsigned char *secret)
{
    memcpy(sk, secret, crypto_box_SECRETKEYBYTES);
    crypto_scalarmult_base(pk, sk);
}

static const kk_pair_format box_format = {
    "KAKOU-BOX-1\n", "KAKOU-BOX-PUB-1\n", "sk", KK_PACK_ID_DOMAIN,
    "recipient key", "recipient public key", "kakou key new --box FILE",
    crypto_box_SECRETKEYBYTES, crypto_box_SECRETKEYBYTES, box_derive
};

#define CHUNK KK_PACK_CHUNK_BYTES
#define SS_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define SS_HEADER crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define SS_KEY crypto_secretstream_xchacha20poly1305_KEYBYTES
#define SEALED (SS_KEY + crypto_box_SEALBYTES)
#define MAGIC_LEN (sizeof KK_PACK_MAGIC - 1)
#define ID_LINE (3 + KK_KEY_ID_CHARS + 1)
#define CLEAR (MAGIC_LEN + ID_LINE)
#define HEAD (CLEAR + SEALED + SS_HEADER)

typedef crypto_secretstream_xchacha20poly1305_state ss_state;

struct kk_box_key {
    kk_pair_key k; /* sk: crypto_box_SECRETKEYBYTES */
};

/* ---- recipient keys -------------------------------------------------- */

kk_status kk_box_key_generate_file(kk_ctx *ctx, const char *path,
                                   const kk_secret *pass, char *id_out)
{
    return kk_crypto__pair_generate(ctx, &box_format, path, pass, id_out);
}

void kk_box_key_free(kk_box_key *key)
{
    if (!key)
        return;
    kk_crypto__pair_clear(&key->k);
    kk_free(key);
}

const char *kk_box_key_id(const kk_box_key *key)
{
    return key ? key->k.id : "";
}

kk_status kk_box_key_load(kk_box_key **out, kk_ctx *ctx, const char *path,
                          const kk_secret *pass)
{
    kk_box_key *k;
    kk_status st;

    if (!out)
        return kk__fail(ctx, KK_EINVAL, "kk_box_key_load: out is NULL");
    *out = NULL;
    if (!(k = kk__calloc(1, sizeof *k)))
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    if ((st = kk_crypto__pair_load(ctx, &box_format, path, pass, &k->k)))
        kk_free(k);
    else
        *out = k;
    return st;
}

/* ---- paths ----------------------------------------------------------- */

int kk_pack__path_ok(const char *path, size_t n)
{
    size_t i = 0;

    if (!path || n == 0 || n > KK_PACK_PATH_MAX || memchr(path, '\0', n) ||
        path[0] == '/')
        return 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && path[j] != '/')
            j++;
        /* the component is path[i, j) */
        if (j == i || (j - i == 1 && path[i] == '.') ||
            (j - i == 2 && path[i] == '.' && path[i + 1] == '.'))
            return 0;
        i = j + 1;
    }
    return 1;
}

/* ---- the writer ------------------------------------------------------ */

typedef struct pack_out {
    kk_ctx *ctx;
    int fd;
    ss_state *ss;              /* sodium_malloc'd */
    unsigned char *plain;      /* CHUNK bytes */
    unsigned char *cipher;     /* CHUNK + SS_ABYTES bytes */
    size_t len;                /* plain bytes waiting */
    const unsigned char *ad;   /* the clear head, for the first chunk */
    size_t ad_len;
} pack_out;

static kk_status out_flush(pack_out *w, unsigned char tag)
{
    crypto_secretstream_xchacha20poly1305_push(w->ss, w->cipher, NULL,
                                               w->plain, CHUNK, w->ad,
                                               w->ad_len, tag);
    w->ad = NULL;
    w->ad_len = 0;
    w->len = 0;
    if (kk_crypto__write_all(w->fd, w->cipher, CHUNK + SS_ABYTES) != 0)
        return kk__fail(w->ctx, KK_EIO, "cannot write the archive: %s",
                        strerror(errno));
    return KK_OK;
}

/* Room for at least one byte in w->plain: a full chunk goes out first
 * (as a plain message: more follows it). */
static kk_status out_room(pack_out *w)
{
    return w->len == CHUNK ? out_flush(w, 0) : KK_OK;
}

static kk_status out_put(pack_out *w, const void *data, size_t n)
{
    const unsigned char *p = data;
    kk_status st;

    while (n > 0) {
        if ((st = out_room(w)) != KK_OK)
            return st;
        size_t k = CHUNK - w->len < n ? CHUNK - w->len : n;
        memcpy(w->plain + w->len, p, k);
        w->len += k;
        p += k;
        n -= k;
    }
    return KK_OK;
}

static void be_put(unsigned char *b, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        b[i] = (unsigned char)(v & 0xff);
}

static uint64_t be_get(const unsigned char *b, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | b[i];
    return v;
}

/* One file: its header, then its bytes read straight into the chunk. */
static kk_status pack_one(pack_out *w, const char *dir, const char *rel)
{
    unsigned char head[12];
    kk_buf path = KK_BUF_INIT;
    kk_status st = KK_OK;
    struct stat sb;
    size_t rl = strlen(rel);
    int fd = -1;

    kk__buf_printf(&path, "%s/%s", dir, rel);
    if (path.failed)
        return kk__fail(w->ctx, KK_ENOMEM, "out of memory");
    if (!kk_pack__path_ok(rel, rl)) {
        st = kk__fail(w->ctx, KK_EINVAL, "'%s': its path cannot be packed",
                      path.data);
        goto out;
    }
    fd = open(path.data, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = kk__fail(w->ctx, KK_EIO, "cannot read '%s': %s", path.data,
                      fd < 0 ? strerror(errno) : "not a regular file");
        goto out;
    }
    uint64_t left = (uint64_t)sb.st_size;
    be_put(head, rl, 4);
    be_put(head + 4, left, 8);
    if ((st = out_put(w, head, 4)) || (st = out_put(w, rel, rl)) ||
        (st = out_put(w, head + 4, 8)))
        goto out;
    while (left > 0) {
        if ((st = out_room(w)) != KK_OK)
            goto out;
        size_t want = CHUNK - w->len;
        if (want > left)
            want = (size_t)left;
        ssize_t r = read(fd, w->plain + w->len, want);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            st = kk__fail(w->ctx, KK_EIO, "cannot read '%s': %s", path.data,
                          r < 0 ? strerror(errno)
                                : "it became shorter while it was packed");
            goto out;
        }
        w->len += (size_t)r;
        left -= (uint64_t)r;
    }
    char extra;
    if (read(fd, &extra, 1) > 0)
        st = kk__fail(w->ctx, KK_EIO, "cannot pack '%s': it grew while it "
                      "was packed", path.data);
out:
    if (fd >= 0)
        close(fd);
    kk__buf_free(&path);
    return st;
}

kk_status kk_pack_fd(kk_ctx *ctx, const char *pub_path, const char *dir,
                     int fd, size_t *nfiles)
{
    unsigned char pk[crypto_box_PUBLICKEYBYTES], head[HEAD];
    unsigned char *key = NULL;
    char id[KK_KEY_ID_CHARS + 1];
    pack_out w = { ctx, fd, NULL, NULL, NULL, 0, NULL, 0 };
    kk_names files = { 0 };
    kk_status st;

    if (!pub_path || !dir || !*dir || fd < 0)
        return kk__fail(ctx, KK_EINVAL, "pack: missing argument");
    if (nfiles)
        *nfiles = 0;
    if ((st = kk_crypto__init(ctx)) ||
        (st = kk_crypto__read_pair_pub(ctx, &box_format, pub_path, pk,
                                       sizeof pk, id)) ||
        (st = kk_crypto__list_tree(ctx, dir, KK_TREE_STRICT, &files)))
        goto out;
    key = sodium_malloc(SS_KEY);
    w.ss = sodium_malloc(sizeof *w.ss);
    w.plain = kk__malloc(CHUNK);
    w.cipher = kk__malloc(CHUNK + SS_ABYTES);
    if (!key || !w.ss || !w.plain || !w.cipher) {
        st = kk__fail(ctx, KK_ENOMEM, "cannot allocate locked memory");
        goto out;
    }
    memcpy(head, KK_PACK_MAGIC, MAGIC_LEN);
    snprintf((char *)head + MAGIC_LEN, ID_LINE + 1, "id %s\n", id);
    crypto_secretstream_xchacha20poly1305_keygen(key);
    if (crypto_box_seal(head + CLEAR, key, SS_KEY, pk) != 0 ||
        crypto_secretstream_xchacha20poly1305_init_push(w.ss, head + CLEAR +
                                                        SEALED, key) != 0) {
        st = kk__fail(ctx, KK_EKEY, "cannot seal to '%s': not a usable "
                      "public key", pub_path);
        goto out;
    }
    if (kk_crypto__write_all(fd, head, sizeof head) != 0) {
        st = kk__fail(ctx, KK_EIO, "cannot write the archive: %s",
                      strerror(errno));
        goto out;
    }
    w.ad = head;
    w.ad_len = CLEAR;
    for (size_t i = 0; i < files.n; i++)
        if ((st = pack_one(&w, dir, files.v[i])) != KK_OK)
            goto out;
    /* the end: a path length of 0, zeros to the end of the final chunk */
    static const unsigned char end[4];
    if ((st = out_put(&w, end, sizeof end)) != KK_OK)
        goto out;
    memset(w.plain + w.len, 0, CHUNK - w.len);
    if ((st = out_flush(&w, crypto_secretstream_xchacha20poly1305_TAG_FINAL)))
        goto out;
    if (nfiles)
        *nfiles = files.n;
out:
    kk_crypto__names_free(&files);
    sodium_free(key);
    sodium_free(w.ss);
    kk_free(w.plain);
    kk_free(w.cipher);
    return st;
}

/* "dir/" resolved, to tell whether a path lies below it. */
static char *resolved_dir(const char *dir)
{
    char *r = realpath(dir, NULL), *out = NULL;
    if (r && (out = kk__malloc(strlen(r) + 2)))
        sprintf(out, "%s%s", r, strcmp(r, "/") == 0 ? "" : "/");
    free(r);
    return out;
}

kk_status kk_pack_file(kk_ctx *ctx, const char *pub_path, const char *dir,
                       const char *archive, size_t *nfiles)
{
    char *copy = NULL, *in = NULL, *at = NULL;
    kk_buf tmp = KK_BUF_INIT;
    kk_status st;
    int fd = -1;

    if (!archive || !*archive || !dir || !*dir)
        return kk__fail(ctx, KK_EINVAL, "pack: missing argument");
    copy = kk__strdup(archive);
    if (!copy)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    in = resolved_dir(dir);
    at = resolved_dir(dirname(copy));
    if (in && at && strncmp(at, in, strlen(in)) == 0) {
        st = kk__fail(ctx, KK_EINVAL, "archive '%s' would be inside the "
                      "folder '%s' it packs", archive, dir);
        goto out;
    }
    kk__buf_printf(&tmp, "%s.tmp.XXXXXX", archive);
    if (tmp.failed) {
        st = kk__fail(ctx, KK_ENOMEM, "out of memory");
        goto out;
    }
    if ((fd = mkostemp(tmp.data, O_CLOEXEC)) < 0) {
        st = kk__fail(ctx, KK_EIO, "cannot create archive '%s': %s", archive,
                      strerror(errno));
        goto out;
    }
    if ((st = kk_pack_fd(ctx, pub_path, dir, fd, nfiles)) != KK_OK)
        goto out;
    int rc = fsync(fd);
    if (close(fd) != 0)
        rc = -1;
    fd = -1;
    if (rc != 0 || rename(tmp.data, archive) != 0) {
        st = kk__fail(ctx, KK_EIO, "cannot write archive '%s': %s", archive,
                      strerror(errno));
        goto out;
    }
    kk__buf_free(&tmp); /* renamed: nothing to remove */
out:
    if (fd >= 0)
        close(fd);
    if (tmp.data)
        unlink(tmp.data);
    kk__buf_free(&tmp);
    kk_free(copy);
    kk_free(in);
    kk_free(at);
    return st;
}

/* ---- the reader ------------------------------------------------------ */

typedef struct pack_in {
    kk_ctx *ctx;
    int fd;
    const char *name;
    ss_state *ss;              /* sodium_malloc'd */
    unsigned char *plain, *cipher;
    size_t pos, len;           /* unread plain bytes: plain[pos, len) */
    unsigned long long chunk;  /* chunks read */
    int final;                 /* the final chunk was read */
    const unsigned char *ad;
    size_t ad_len;
} pack_in;

/* Read up to n bytes (fewer only at the end of the input). */
static ssize_t read_full(int fd, unsigned char *b, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, b + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static kk_status in_next_chunk(pack_in *r)
{
    unsigned char tag = 0;
    ssize_t got;

    if (r->final)
        return kk__fail(r->ctx, KK_EINVAL, "archive '%s' is malformed: its "
                        "files run past its final chunk", r->name);
    got = read_full(r->fd, r->cipher, CHUNK + SS_ABYTES);
    if (got < 0)
        return kk__fail(r->ctx, KK_EIO, "cannot read archive '%s': %s",
                        r->name, strerror(errno));
    if (got < (ssize_t)(CHUNK + SS_ABYTES))
        return kk__fail(r->ctx, KK_EINVAL, "archive '%s' is truncated: it "
                        "ends %s chunk %llu, before its final chunk", r->name,
                        got ? "inside" : "before", r->chunk + 1);
    if (crypto_secretstream_xchacha20poly1305_pull(
            r->ss, r->plain, NULL, &tag, r->cipher, CHUNK + SS_ABYTES, r->ad,
            r->ad_len) != 0)
        return kk__fail(r->ctx, KK_EINVAL, "archive '%s' is damaged: chunk "
                        "%llu does not verify (changed, reordered, or from "
                        "another archive)", r->name, r->chunk + 1);
    r->ad = NULL;
    r->ad_len = 0;
    r->chunk++;
    if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL)
        r->final = 1;
    else if (tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE)
        return kk__fail(r->ctx, KK_EINVAL, "archive '%s' is malformed: "
                        "chunk %llu has tag %u", r->name, r->chunk,
                        (unsigned)tag);
    r->pos = 0;
    r->len = CHUNK;
    return KK_OK;
}

/* Plain bytes available, at least one: *p points at them. */
static kk_status in_avail(pack_in *r, const unsigned char **p, size_t *n)
{
    kk_status st;
    if (r->pos == r->len && (st = in_next_chunk(r)) != KK_OK)
        return st;
    *p = r->plain + r->pos;
    *n = r->len - r->pos;
    return KK_OK;
}

static kk_status in_get(pack_in *r, void *dst, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *p;
    size_t k;
    kk_status st;

    while (n > 0) {
        if ((st = in_avail(r, &p, &k)) != KK_OK)
            return st;
        if (k > n)
            k = n;
        memcpy(d, p, k);
        r->pos += k;
        d += k;
        n -= k;
    }
    return KK_OK;
}

/* The end of the stream: the rest of the final chunk, and nothing after. */
static kk_status in_end(pack_in *r)
{
    unsigned char extra;

    if (!r->final)
        return kk__fail(r->ctx, KK_EINVAL, "archive '%s' is truncated: its "
                        "last chunk is not marked final", r->name);
    if (read_full(r->fd, &extra, 1) != 0)
        return kk__fail(r->ctx, KK_EINVAL, "archive '%s' is malformed: "
                        "bytes follow its final chunk", r->name);
    return KK_OK;
}

/* Create the folders of rel below root (rel is checked). */
static kk_status make_parents(kk_ctx *ctx, const char *root, char *rel)
{
    for (char *s = strchr(rel, '/'); s; s = strchr(s + 1, '/')) {
        kk_buf d = KK_BUF_INIT;
        *s = '\0';
        kk__buf_printf(&d, "%s/%s", root, rel);
        *s = '/';
        if (d.failed)
            return kk__fail(ctx, KK_ENOMEM, "out of memory");
        int rc = mkdir(d.data, 0777);
        int e = errno;
        kk__buf_free(&d);
        if (rc != 0 && e != EEXIST)
            return kk__fail(ctx, KK_EIO, "cannot create the folder of '%s': "
                            "%s", rel, strerror(e));
    }
    return KK_OK;
}

/* One file of the stream into root/rel. */
static kk_status unpack_one(pack_in *r, const char *root, char *rel)
{
    unsigned char sz[8];
    kk_buf path = KK_BUF_INIT;
    kk_status st;
    int fd = -1;

    if ((st = in_get(r, sz, sizeof sz)) || (st = make_parents(r->ctx, root,
                                                              rel)))
        return st;
    uint64_t left = be_get(sz, 8);
    kk__buf_printf(&path, "%s/%s", root, rel);
    if (path.failed)
        return kk__fail(r->ctx, KK_ENOMEM, "out of memory");
    fd = open(path.data, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
              0666);
    if (fd < 0) {
        st = kk__fail(r->ctx, KK_EIO, "cannot create '%s' of the archive: %s",
                      rel, strerror(errno));
        goto out;
    }
    while (left > 0) {
        const unsigned char *p;
        size_t k;
        if ((st = in_avail(r, &p, &k)) != KK_OK)
            goto out;
        if (k > left)
            k = (size_t)left;
        if (kk_crypto__write_all(fd, p, k) != 0) {
            st = kk__fail(r->ctx, KK_EIO, "cannot write '%s': %s", path.data,
                          strerror(errno));
            goto out;
        }
        r->pos += k;
        left -= k;
    }
    if (fsync(fd) != 0)
        st = kk__fail(r->ctx, KK_EIO, "cannot write '%s': %s", path.data,
                      strerror(errno));
out:
    if (fd >= 0 && close(fd) != 0 && st == KK_OK)
        st = kk__fail(r->ctx, KK_EIO, "cannot write '%s': %s", path.data,
                      strerror(errno));
    kk__buf_free(&path);
    return st;
}

/* Every file of the stream below root. */
static kk_status unpack_files(pack_in *r, const char *root, size_t *nfiles)
{
    char *prev = NULL, *rel = NULL;
    kk_status st = KK_OK;

    for (;;) {
        unsigned char b[4];
        if ((st = in_get(r, b, sizeof b)) != KK_OK)
            break;
        size_t n = (size_t)be_get(b, 4);
        if (n == 0) {
            st = in_end(r);
            break;
        }
        if (n > KK_PACK_PATH_MAX || !(rel = kk__malloc(n + 1))) {
            st = n > KK_PACK_PATH_MAX
                     ? kk__fail(r->ctx, KK_EINVAL, "archive '%s' is "
                                "malformed: a path of %zu bytes", r->name, n)
                     : kk__fail(r->ctx, KK_ENOMEM, "out of memory");
            break;
        }
        if ((st = in_get(r, rel, n)) != KK_OK)
            break;
        rel[n] = '\0';
        if (!kk_pack__path_ok(rel, n)) {
            st = kk__fail(r->ctx, KK_EINVAL, "archive '%s' holds an unsafe "
                          "path (absolute, with '..' or '.', or empty): "
                          "nothing unpacked", r->name);
            break;
        }
        if (prev && strcmp(prev, rel) >= 0) {
            st = kk__fail(r->ctx, KK_EINVAL, "archive '%s' is malformed: "
                          "'%s' is listed twice or out of order", r->name,
                          rel);
            break;
        }
        if ((st = unpack_one(r, root, rel)) != KK_OK)
            break;
        kk_free(prev);
        prev = rel;
        rel = NULL;
        (*nfiles)++;
    }
    kk_free(prev);
    kk_free(rel);
    return st;
}

/* Open the clear head: the key id, the sealed stream key. */
static kk_status open_head(pack_in *r, const kk_box_key *key,
                           unsigned char head[HEAD])
{
    unsigned char *k = NULL;
    kk_status st = KK_OK;
    ssize_t got = read_full(r->fd, head, HEAD);

    if (got < 0)
        return kk__fail(r->ctx, KK_EIO, "cannot read archive '%s': %s",
                        r->name, strerror(errno));
    if ((size_t)got < MAGIC_LEN || memcmp(head, KK_PACK_MAGIC, MAGIC_LEN))
        return kk__fail(r->ctx, KK_EINVAL, "'%s' is not a kakou archive (no "
                        "'KAKOU-PACK-1' header)", r->name);
    if (got < (ssize_t)HEAD)
        return kk__fail(r->ctx, KK_EINVAL, "archive '%s' is truncated: it "
                        "ends inside its head", r->name);
    if (memcmp(head + MAGIC_LEN, "id ", 3) != 0 || head[CLEAR - 1] != '\n')
        return kk__fail(r->ctx, KK_EINVAL, "archive '%s' is malformed: no "
                        "key id", r->name);
    if (memcmp(head + MAGIC_LEN + 3, key->k.id, KK_KEY_ID_CHARS) != 0)
        return kk__fail(r->ctx, KK_EKEY, "archive '%s' is sealed to key "
                        "%.16s, not to this key (%s)", r->name,
                        (const char *)head + MAGIC_LEN + 3, key->k.id);
    if (!(k = sodium_malloc(SS_KEY)))
        return kk__fail(r->ctx, KK_ENOMEM, "cannot allocate locked memory");
    if (crypto_box_seal_open(k, head + CLEAR, SEALED, key->k.pk,
                             key->k.sk) != 0)
        st = kk__fail(r->ctx, KK_EINVAL, "archive '%s' is damaged: its "
                      "sealed key does not open with key %s", r->name,
                      key->k.id);
    else if (crypto_secretstream_xchacha20poly1305_init_pull(
                 r->ss, head + CLEAR + SEALED, k) != 0)
        st = kk__fail(r->ctx, KK_EINVAL, "archive '%s' is damaged: its "
                      "stream header is invalid", r->name);
    sodium_free(k);
    r->ad = head;
    r->ad_len = CLEAR;
    return st;
}

static int rm_entry(const char *path, const struct stat *sb, int type,
                    struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* destdir must not exist, or be an empty folder (not a link to one). */
static kk_status check_dest(kk_ctx *ctx, const char *dest)
{
    struct stat sb;
    struct dirent *de;
    int empty = 1;
    DIR *d;

    if (lstat(dest, &sb) != 0)
        return errno == ENOENT ? KK_OK
                               : kk__fail(ctx, KK_EIO, "cannot use '%s': %s",
                                          dest, strerror(errno));
    if (S_ISDIR(sb.st_mode) && (d = opendir(dest)) != NULL) {
        while (empty && (de = readdir(d)) != NULL)
            empty = strcmp(de->d_name, ".") == 0 ||
                    strcmp(de->d_name, "..") == 0;
        closedir(d);
        if (empty)
            return KK_OK;
    }
    return kk__fail(ctx, KK_EEXISTS, "'%s' exists and is not an empty "
                    "folder: unpack only writes a new folder", dest);
}

kk_status kk_unpack_fd(kk_ctx *ctx, const kk_box_key *key, int fd,
                       const char *name, const char *destdir,
                       size_t *nfiles)
{
    pack_in r = { ctx, fd, name ? name : "-", NULL, NULL, NULL, 0, 0, 0, 0,
                  NULL, 0 };
    unsigned char head[HEAD];
    char *copy = NULL, *copy2 = NULL;
    kk_buf tmp = KK_BUF_INIT;
    size_t n = 0;
    int made = 0;
    kk_status st;

    if (!key || fd < 0 || !destdir || !*destdir)
        return kk__fail(ctx, KK_EINVAL, "unpack: missing argument");
    if (nfiles)
        *nfiles = 0;
    copy = kk__strdup(destdir);
    copy2 = kk__strdup(destdir);
    r.ss = sodium_malloc(sizeof *r.ss);
    r.plain = kk__malloc(CHUNK);
    r.cipher = kk__malloc(CHUNK + SS_ABYTES);
    if (!copy || !copy2 || !r.ss || !r.plain || !r.cipher) {
        st = kk__fail(ctx, KK_ENOMEM, "cannot allocate locked memory");
        goto out;
    }
    for (size_t l = strlen(copy); l > 1 && copy[l - 1] == '/'; l--)
        copy[l - 1] = copy2[l - 1] = '\0';
    kk__buf_printf(&tmp, "%s/.%s.unpack-XXXXXX", dirname(copy),
                   basename(copy2));
    if (tmp.failed) {
        st = kk__fail(ctx, KK_ENOMEM, "out of memory");
        goto out;
    }
    if ((st = check_dest(ctx, destdir)) || (st = open_head(&r, key, head)))
        goto out;
    if (!mkdtemp(tmp.data)) {
        st = kk__fail(ctx, KK_EIO, "cannot create a folder beside '%s': %s",
                      destdir, strerror(errno));
        goto out;
    }
    made = 1;
    if ((st = unpack_files(&r, tmp.data, &n)) != KK_OK)
        goto out;
    /* an empty destdir gives way (rename() would too, but not to a
     * folder that filled up meanwhile) */
    if ((rmdir(destdir) != 0 && errno != ENOENT) ||
        rename(tmp.data, destdir) != 0) {
        st = kk__fail(ctx, KK_EIO, "cannot rename the unpacked folder to "
                      "'%s': %s", destdir, strerror(errno));
        goto out;
    }
    made = 0; /* in place: nothing to remove */
    if (nfiles)
        *nfiles = n;
out:
    if (made)
        (void)nftw(tmp.data, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    kk__buf_free(&tmp);
    kk_free(copy);
    kk_free(copy2);
    sodium_free(r.ss);
    kk_free(r.plain);
    kk_free(r.cipher);
    return st;
}
