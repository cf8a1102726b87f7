/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/check_pack.c - sealed archives (lib/crypto/pack.c): the
 * paths unpack accepts, and archives kakou pack never makes (an unsafe
 * path, a file listed twice, no final chunk), built here from the format
 * in pack.c with libsodium directly. A well-formed archive built the same
 * way unpacks, so each refusal is the check's and not the builder's.
 * t0905 covers what the CLI does with real output folders.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/pack_internal.h"
#include "kakou/pack.h"

static char tmpdir[256];

static void setup_dir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/kk-check-pack.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown_dir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

/* ---- paths ----------------------------------------------------------- */

START_TEST(paths)
{
    static const char *const good[] = {
        "a", "a/b", "a.dcm", "..a", "a..", ".hidden", "a/...", "a/.b/c",
        "SHA256SUMS", "sub dir/x y", "1/2/3/4/5",
    };
    static const char *const bad[] = {
        "/a", "/", "..", "../a", "a/..", "a/../b", ".", "./a", "a/./b",
        "a//b", "a/", "../../etc/passwd", "/etc/passwd",
    };
    char longp[KK_PACK_PATH_MAX + 2];

    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        ck_assert_msg(kk_pack__path_ok(good[i], strlen(good[i])),
                      "refused '%s'", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(!kk_pack__path_ok(bad[i], strlen(bad[i])),
                      "accepted '%s'", bad[i]);
    ck_assert(!kk_pack__path_ok("", 0));
    ck_assert(!kk_pack__path_ok(NULL, 1));
    ck_assert(!kk_pack__path_ok("a\0b", 3));
    memset(longp, 'a', sizeof longp);
    ck_assert(kk_pack__path_ok(longp, KK_PACK_PATH_MAX));
    ck_assert(!kk_pack__path_ok(longp, KK_PACK_PATH_MAX + 1));
}
END_TEST

/* ---- archives made here ---------------------------------------------- */

typedef struct entry {
    const char *path;
    const char *data;
} entry;

static unsigned char stream[4 * KK_PACK_CHUNK_BYTES];

static size_t be(unsigned char *b, unsigned long long v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        b[i] = (unsigned char)(v & 0xff);
    return (size_t)n;
}

/* The recipient's public key and id, from tmpdir/rk.pub. */
static void read_pub(unsigned char pk[crypto_box_PUBLICKEYBYTES], char id[17])
{
    char path[300], line[200];
    snprintf(path, sizeof path, "%s/rk.pub", tmpdir);
    FILE *fp = fopen(path, "r");
    ck_assert_ptr_nonnull(fp);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, fp));
    ck_assert_ptr_nonnull(fgets(line, sizeof line, fp));
    ck_assert_int_eq(sscanf(line, "id %16s", id), 1);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, fp));
    ck_assert_int_eq(sodium_hex2bin(pk, crypto_box_PUBLICKEYBYTES, line + 4,
                                    64, NULL, NULL, NULL), 0);
    fclose(fp);
}

/* Write tmpdir/a.kpk holding the entries (the size of each claimed
 * more bytes larger) and the end marker, in one chunk per
 * KK_PACK_CHUNK_BYTES, the last tagged last_tag. */
static void make_archive(const entry *e, size_t n, size_t more,
                         unsigned char last_tag)
{
    unsigned char pk[crypto_box_PUBLICKEYBYTES], key[32];
    unsigned char head[13 + 20 + 32 + crypto_box_SEALBYTES +
                       crypto_secretstream_xchacha20poly1305_HEADERBYTES];
    unsigned char out[KK_PACK_CHUNK_BYTES +
                      crypto_secretstream_xchacha20poly1305_ABYTES];
    crypto_secretstream_xchacha20poly1305_state st;
    char id[17], path[300];
    size_t len = 0;

    read_pub(pk, id);
    memset(stream, 0, sizeof stream);
    for (size_t i = 0; i < n; i++) {
        size_t pl = strlen(e[i].path), dl = strlen(e[i].data);
        len += be(stream + len, pl, 4);
        memcpy(stream + len, e[i].path, pl);
        len += pl;
        len += be(stream + len, dl + more, 8);
        memcpy(stream + len, e[i].data, dl);
        len += dl;
    }
    len += be(stream + len, 0, 4);
    size_t chunks = (len + KK_PACK_CHUNK_BYTES - 1) / KK_PACK_CHUNK_BYTES;
    if (chunks == 0)
        chunks = 1;
    ck_assert_uint_le(chunks, 4);

    memcpy(head, KK_PACK_MAGIC, 13);
    snprintf((char *)head + 13, 21, "id %s\n", id);
    crypto_secretstream_xchacha20poly1305_keygen(key);
    ck_assert_int_eq(crypto_box_seal(head + 33, key, sizeof key, pk), 0);
    crypto_secretstream_xchacha20poly1305_init_push(&st, head + 33 + 32 +
                                                    crypto_box_SEALBYTES, key);
    snprintf(path, sizeof path, "%s/a.kpk", tmpdir);
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(head, 1, sizeof head, fp), sizeof head);
    for (size_t c = 0; c < chunks; c++) {
        crypto_secretstream_xchacha20poly1305_push(
            &st, out, NULL, stream + c * KK_PACK_CHUNK_BYTES,
            KK_PACK_CHUNK_BYTES, c == 0 ? head : NULL, c == 0 ? 33 : 0,
            c + 1 == chunks ? last_tag
                            : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
        ck_assert_uint_eq(fwrite(out, 1, sizeof out, fp), sizeof out);
    }
    ck_assert_int_eq(fclose(fp), 0);
}

/* Unpack tmpdir/a.kpk into tmpdir/dest/out; the status, and the message
 * in msg (256 bytes). */
static kk_status unpack(char *msg)
{
    char path[300], dest[300];
    kk_box_key *key = NULL;
    kk_ctx *ctx = kk_ctx_new();

    snprintf(path, sizeof path, "%s/rk", tmpdir);
    ck_assert_int_eq(kk_box_key_load(&key, ctx, path, NULL), KK_OK);
    snprintf(path, sizeof path, "%s/a.kpk", tmpdir);
    snprintf(dest, sizeof dest, "%s/dest/out", tmpdir);
    int fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    kk_status st = kk_unpack_fd(ctx, key, fd, "a.kpk", dest, NULL);
    snprintf(msg, 256, "%s", kk_error_message(ctx));
    close(fd);
    kk_box_key_free(key);
    kk_ctx_free(ctx);
    return st;
}

static int exists(const char *rel)
{
    char path[400];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    return lstat(path, &sb) == 0;
}

/* tmpdir/dest holds nothing (no DESTDIR, no temporary folder). */
static void nothing_left(void)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s/dest')\"", tmpdir);
    ck_assert_msg(system(cmd) == 0, "something was left in dest/");
}

static void setup_keys(void)
{
    char path[300], sub[300];
    kk_ctx *ctx = kk_ctx_new();
    setup_dir();
    snprintf(path, sizeof path, "%s/rk", tmpdir);
    ck_assert_int_eq(kk_box_key_generate_file(ctx, path, NULL, NULL), KK_OK);
    snprintf(sub, sizeof sub, "%s/dest", tmpdir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    kk_ctx_free(ctx);
}

START_TEST(well_formed_unpacks)
{
    static const entry e[] = { { "a", "alpha" }, { "b/c", "gamma" } };
    char msg[256];
    make_archive(e, 2, 0, crypto_secretstream_xchacha20poly1305_TAG_FINAL);
    ck_assert_msg(unpack(msg) == KK_OK, "%s", msg);
    ck_assert(exists("dest/out/a"));
    ck_assert(exists("dest/out/b/c"));
}
END_TEST

#define FINAL crypto_secretstream_xchacha20poly1305_TAG_FINAL
#define MESSAGE crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
#define EVIL_ABS "/tmp/kk-check-pack-evil"

/* Archives kakou pack never writes, and what unpack says of each. */
static const struct hostile {
    const char *name;
    entry e[2];
    size_t n, more;    /* entries; bytes each claims beyond its own */
    unsigned char tag; /* of the last chunk */
    const char *says;
} hostile[] = {
    { "dotdot", { { "../evil", "pwned" } }, 1, 0, FINAL, "unsafe path" },
    { "deep dotdot", { { "a", "x" }, { "b/../../../evil", "pwned" } }, 2, 0,
      FINAL, "unsafe path" },
    { "absolute", { { EVIL_ABS, "pwned" } }, 1, 0, FINAL, "unsafe path" },
    { "twice", { { "a", "first" }, { "a", "second" } }, 2, 0, FINAL,
      "listed twice or out of order" },
    /* every file and the end marker, the last chunk not tagged final */
    { "no final tag", { { "a", "alpha" } }, 1, 0, MESSAGE,
      "is truncated: its last chunk is not marked final" },
    /* a file longer than the chunks that follow it */
    { "cut after a chunk", { { "a", "alpha" } }, 1, 1000000, MESSAGE,
      "is truncated: it ends before chunk 2" },
    { "past the final chunk", { { "a", "alpha" } }, 1, 1000000, FINAL,
      "run past its final chunk" },
};

START_TEST(hostile_refused)
{
    const struct hostile *h = &hostile[_i];
    char msg[256];

    make_archive(h->e, h->n, h->more, h->tag);
    ck_assert_msg(unpack(msg) == KK_EINVAL, "%s: not refused (%s)", h->name,
                  msg);
    ck_assert_msg(strstr(msg, h->says) != NULL, "%s: %s", h->name, msg);
    ck_assert(!exists("evil"));
    ck_assert(access(EVIL_ABS, F_OK) != 0);
    nothing_left();
}
END_TEST

Suite *pack_suite(void)
{
    Suite *s = suite_create("pack");
    TCase *tc;

    tc = tcase_create("paths");
    tcase_add_test(tc, paths);
    suite_add_tcase(s, tc);

    tc = tcase_create("hostile_archives");
    tcase_add_checked_fixture(tc, setup_keys, teardown_dir);
    tcase_add_test(tc, well_formed_unpacks);
    tcase_add_loop_test(tc, hostile_refused, 0,
                        (int)(sizeof hostile / sizeof *hostile));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pack_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
