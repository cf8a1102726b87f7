/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/check_crypto.c - the key (lib/crypto/key.c) and the keyed
 * transforms (lib/crypto/keyed.c).
 *
 * Known answers were computed independently with Python's hmac/hashlib
 * from the framing in keyed.h (key = bytes 0x00..0x1f). Proves R05 (keyed,
 * domain-separated), R06 (deterministic), R08 (valid UIDs), R23/R24 (key
 * file created 0600, unsafe or damaged key files refused).
 */
#include <check.h>
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
#include "crypto/keyed.h"

static unsigned char test_bytes[KK_KEY_BYTES];
static char tmpdir[256];

static kk_key *test_key(void)
{
    kk_key *k = NULL;
    for (int i = 0; i < KK_KEY_BYTES; i++)
        test_bytes[i] = (unsigned char)i;
    ck_assert_int_eq(kk_key__from_bytes(&k, NULL, test_bytes), KK_OK);
    return k;
}

static void hex(const unsigned char *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

static void setup_dir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/kk-check-crypto.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown_dir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

/* ---- known answers -------------------------------------------------- */

START_TEST(rfc4231_case2)
{
    /* The primitive: RFC 4231 test case 2. */
    static const char data[] = "what do ya want for nothing?";
    crypto_auth_hmacsha256_state st;
    unsigned char out[32];
    char h[65];

    ck_assert_int_ge(sodium_init(), 0);
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)"Jefe", 4);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)data,
                                  strlen(data));
    crypto_auth_hmacsha256_final(&st, out);
    hex(out, 32, h);
    ck_assert_str_eq(h, "5bdcc146bf60754e6a042426089575c7"
                        "5a003f089d2739839dec58b964ec3843");
}
END_TEST

START_TEST(hmac_framing_kat)
{
    kk_key *k = test_key();
    unsigned char out[32];
    char h[65];

    kk_keyed__hmac(k, "uid", NULL, "1.2.840.10008.1", 15, out);
    hex(out, 32, h);
    ck_assert_str_eq(h, "6fd14855b820f6499d55b14b7645ac65"
                        "ee4bdbadbd1f159d3d4c332c4df85292");
    kk_keyed__hmac(k, "patient", "HOSP", "12345", 5, out);
    hex(out, 32, h);
    ck_assert_str_eq(h, "89fa385d71b52f7e84ec99ebe383598d"
                        "128688a388d7f9e8556f8c4d02abbb8a");
    kk_key_free(k);
}
END_TEST

START_TEST(uid_kat)
{
    kk_key *k = test_key();
    char uid[KK_UID_BUF];

    kk_keyed__uid(k, "1.2.840.10008.1", uid);
    ck_assert_str_eq(uid, "2.25.148630964700429807992884103744363801701");
    kk_key_free(k);
}
END_TEST

START_TEST(pseudonym_kat)
{
    kk_key *k = test_key();
    char out[80];
    kk_pseudonym_format f = {"P", 12, "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"};
    kk_pseudonym_format g = {
        "", 60,
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+"};

    ck_assert_int_eq(kk_keyed__pseudonym(k, "patient", "HOSP", "12345", 5,
                                         &f, out, sizeof out), KK_OK);
    ck_assert_str_eq(out, "P1NRBBDQWYHXP");
    /* 60 characters: the stream needs more than one block. */
    ck_assert_int_eq(kk_keyed__pseudonym(k, "patient", NULL, "12345", 5, &g,
                                         out, sizeof out), KK_OK);
    ck_assert_str_eq(out, "pAiHX+Zua4Neqb0P7Fsoj8n+hq2Oo7EfO4z+jPrLlpbrBNuxX"
                          "qU6qtTW46VL");
    kk_key_free(k);
}
END_TEST

START_TEST(shift_kat)
{
    kk_key *k = test_key();
    ck_assert_int_eq(kk_keyed__shift_days(k, "PAT1", 4, -30, 30), -17);
    ck_assert_int_eq(kk_keyed__shift_days(k, "PAT1", 4, 30, -30), -17);
    ck_assert_int_eq(kk_keyed__shift_days(k, "PAT1", 4, 5, 5), 5);
    kk_key_free(k);
}
END_TEST

/* ---- properties ----------------------------------------------------- */

static void assert_valid_uid(const char *u)
{
    size_t n = strlen(u);
    ck_assert_uint_le(n, 64);
    ck_assert_uint_gt(n, 5);
    ck_assert(strncmp(u, "2.25.", 5) == 0);
    for (size_t i = 0; i < n; i++) {
        ck_assert(u[i] == '.' || (u[i] >= '0' && u[i] <= '9'));
        int starts = i == 0 || u[i - 1] == '.';
        if (starts) {
            ck_assert(u[i] != '.');
            /* No leading zero unless the component is "0". */
            if (u[i] == '0')
                ck_assert(i + 1 == n || u[i + 1] == '.');
        }
    }
    ck_assert(u[n - 1] != '.');
}

START_TEST(uid_always_valid)
{
    kk_key *k = NULL;
    char uid[KK_UID_BUF], in[64];

    ck_assert_int_eq(kk_key_new_ephemeral(&k, NULL), KK_OK);
    for (int i = 0; i < 20000; i++) {
        snprintf(in, sizeof in, "1.2.392.200036.9116.%d.%d", i, i * 7);
        kk_keyed__uid(k, in, uid);
        assert_valid_uid(uid);
    }
    kk_keyed__uid(k, "", uid);
    assert_valid_uid(uid);
    kk_key_free(k);
}
END_TEST

START_TEST(deterministic_and_key_separated)
{
    kk_key *a = test_key(), *b = NULL;
    char u1[KK_UID_BUF], u2[KK_UID_BUF], u3[KK_UID_BUF];
    unsigned char h1[32], h2[32], plain[32];

    ck_assert_int_eq(kk_key_new_ephemeral(&b, NULL), KK_OK);
    kk_keyed__uid(a, "1.2.3.4", u1);
    kk_keyed__uid(a, "1.2.3.4", u2);
    kk_keyed__uid(b, "1.2.3.4", u3);
    ck_assert_str_eq(u1, u2);
    ck_assert_str_ne(u1, u3);
    /* R05: not an unkeyed hash. */
    kk_keyed__hmac(a, "patient", NULL, "12345", 5, h1);
    crypto_hash_sha256(plain, (const unsigned char *)"12345", 5);
    ck_assert(memcmp(h1, plain, 32) != 0);
    /* Domains separate. */
    kk_keyed__hmac(a, "accession", NULL, "12345", 5, h2);
    ck_assert(memcmp(h1, h2, 32) != 0);
    kk_key_free(a);
    kk_key_free(b);
}
END_TEST

START_TEST(framing_separates_fields)
{
    kk_key *k = test_key();
    unsigned char h1[32], h2[32], h3[32];

    kk_keyed__hmac(k, "ab", "c", "x", 1, h1);
    kk_keyed__hmac(k, "a", "bc", "x", 1, h2);
    kk_keyed__hmac(k, "ab", NULL, "cx", 2, h3);
    ck_assert(memcmp(h1, h2, 32) != 0);
    ck_assert(memcmp(h1, h3, 32) != 0);
    /* NULL issuer is framed as empty. */
    kk_keyed__hmac(k, "ab", "", "cx", 2, h1);
    ck_assert(memcmp(h1, h3, 32) == 0);
    kk_key_free(k);
}
END_TEST

START_TEST(pseudonym_formats)
{
    kk_key *k = test_key();
    char out[80], small[5];
    kk_pseudonym_format ok = {"ID", 8, "0123456789"};
    kk_pseudonym_format dup = {"", 8, "0123456789A1"};
    kk_pseudonym_format one = {"", 8, "0"};
    kk_pseudonym_format zero = {"", 0, "01"};
    kk_pseudonym_format big = {"", 61, "01"};
    kk_pseudonym_format bs = {"", 4, "01\\"};

    ck_assert_int_eq(kk_keyed__pseudonym(k, "d", NULL, "v", 1, &ok, out,
                                         sizeof out), KK_OK);
    ck_assert_uint_eq(strlen(out), 10);
    ck_assert(strncmp(out, "ID", 2) == 0);
    ck_assert_uint_eq(strspn(out + 2, "0123456789"), 8);
    ck_assert_int_eq(kk_keyed__pseudonym(k, "d", NULL, "v", 1, &ok, small,
                                         sizeof small), KK_EINVAL);
    ck_assert_int_eq(kk_keyed__pseudonym(k, "d", NULL, "v", 1, &dup, out,
                                         sizeof out), KK_EINVAL);
    ck_assert_int_eq(kk_keyed__pseudonym(k, "d", NULL, "v", 1, &one, out,
                                         sizeof out), KK_EINVAL);
    ck_assert_int_eq(kk_keyed__pseudonym(k, "d", NULL, "v", 1, &zero, out,
                                         sizeof out), KK_EINVAL);
    ck_assert_int_eq(kk_keyed__pseudonym(k, "d", NULL, "v", 1, &big, out,
                                         sizeof out), KK_EINVAL);
    ck_assert_int_eq(kk_keyed__pseudonym(k, "d", NULL, "v", 1, &bs, out,
                                         sizeof out), KK_EINVAL);
    ck_assert_int_eq(kk_keyed__pseudonym(k, "", NULL, "v", 1, &ok, out,
                                         sizeof out), KK_EINVAL);
    kk_key_free(k);
}
END_TEST

START_TEST(pseudonym_unbiased_enough)
{
    /* Alphabet of 3 (256 % 3 != 0): each letter near 1/3 over many draws. */
    kk_key *k = test_key();
    kk_pseudonym_format f = {"", 60, "abc"};
    long counts[3] = {0, 0, 0};
    char out[64], in[32];

    for (int i = 0; i < 2000; i++) {
        snprintf(in, sizeof in, "%d", i);
        ck_assert_int_eq(kk_keyed__pseudonym(k, "d", NULL, in, strlen(in), &f,
                                             out, sizeof out), KK_OK);
        for (int j = 0; j < 60; j++)
            counts[out[j] - 'a']++;
    }
    for (int j = 0; j < 3; j++) {
        ck_assert_int_gt(counts[j], 40000 - 1500);
        ck_assert_int_lt(counts[j], 40000 + 1500);
    }
    kk_key_free(k);
}
END_TEST

START_TEST(shift_in_range_and_spread)
{
    kk_key *k = test_key();
    int seen[21] = {0};
    char in[32];

    for (int i = 0; i < 4200; i++) {
        snprintf(in, sizeof in, "P%d", i);
        int d = kk_keyed__shift_days(k, in, strlen(in), -10, 10);
        ck_assert_int_ge(d, -10);
        ck_assert_int_le(d, 10);
        seen[d + 10]++;
    }
    for (int j = 0; j < 21; j++)
        ck_assert_int_gt(seen[j], 100); /* expected 200 each */
    ck_assert_int_eq(kk_keyed__shift_days(k, "x", 1, INT32_MIN, INT32_MAX) <=
                     INT32_MAX, 1);
    kk_key_free(k);
}
END_TEST

/* ---- key files ------------------------------------------------------ */

START_TEST(key_id_kat)
{
    kk_key *k = test_key();
    ck_assert_str_eq(kk_key_id(k), "8fdf9d9be45777bf");
    ck_assert_int_eq(kk_key_is_ephemeral(k), 1);
    ck_assert_uint_eq(kk_key_bytes(), 32);
    kk_key_free(k);
    kk_key_free(NULL);
}
END_TEST

START_TEST(key_file_round_trip)
{
    char path[300];
    kk_ctx *ctx = kk_ctx_new();
    kk_key *k = NULL, *k2 = NULL;
    struct stat sb;
    mode_t old = umask(0);

    snprintf(path, sizeof path, "%s/project.key", tmpdir);
    ck_assert_int_eq(kk_key_generate_file(ctx, path), KK_OK);
    umask(old);
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0600);
    ck_assert_int_eq(kk_key_load(&k, ctx, path), KK_OK);
    ck_assert_int_eq(kk_key_is_ephemeral(k), 0);
    ck_assert_uint_eq(strlen(kk_key_id(k)), KK_KEY_ID_CHARS);
    ck_assert_int_eq(kk_key_load(&k2, ctx, path), KK_OK);
    ck_assert_str_eq(kk_key_id(k), kk_key_id(k2));
    ck_assert(memcmp(kk_key__bytes(k), kk_key__bytes(k2), 32) == 0);
    /* Never overwritten. */
    ck_assert_int_eq(kk_key_generate_file(ctx, path), KK_EEXISTS);
    ck_assert_ptr_nonnull(strstr(kk_error_message(ctx), path));
    kk_key_free(k);
    kk_key_free(k2);
    kk_ctx_free(ctx);
}
END_TEST

START_TEST(key_file_mode_refused)
{
    char path[300], want[400];
    kk_ctx *ctx = kk_ctx_new();
    kk_key *k = NULL;

    snprintf(path, sizeof path, "%s/open.key", tmpdir);
    ck_assert_int_eq(kk_key_generate_file(ctx, path), KK_OK);
    ck_assert_int_eq(chmod(path, 0644), 0);
    ck_assert_int_eq(kk_key_load(&k, ctx, path), KK_EKEY);
    ck_assert_ptr_null(k);
    snprintf(want, sizeof want, "chmod 600 %s", path);
    ck_assert_ptr_nonnull(strstr(kk_error_message(ctx), want));
    ck_assert_ptr_nonnull(strstr(kk_error_message(ctx), "0644"));
    ck_assert_int_eq(chmod(path, 0640), 0);
    ck_assert_int_eq(kk_key_load(&k, ctx, path), KK_EKEY);
    ck_assert_int_eq(chmod(path, 0600), 0);
    ck_assert_int_eq(kk_key_load(&k, ctx, path), KK_OK);
    kk_key_free(k);
    kk_ctx_free(ctx);
}
END_TEST

static void write_file(const char *path, const char *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, data, n), (ssize_t)n);
    close(fd);
    chmod(path, 0600);
}

START_TEST(key_file_bad_content_refused)
{
    char path[300], good[200];
    kk_ctx *ctx = kk_ctx_new();
    kk_key *k = NULL;
    FILE *fp;
    size_t n;

    snprintf(path, sizeof path, "%s/bad.key", tmpdir);
    /* Wrong size. */
    write_file(path, "KAKOU-KEY-1\nid 00\nkey 00\n", 25);
    ck_assert_int_eq(kk_key_load(&k, ctx, path), KK_EKEY);
    ck_assert_ptr_nonnull(strstr(kk_error_message(ctx), path));
    ck_assert_ptr_nonnull(strstr(kk_error_message(ctx), "size"));
    /* Empty. */
    write_file(path, "", 0);
    ck_assert_int_eq(kk_key_load(&k, ctx, path), KK_EKEY);
    /* Right size, damaged: take a good file and change bytes. */
    unlink(path);
    ck_assert_int_eq(kk_key_generate_file(ctx, path), KK_OK);
    fp = fopen(path, "rb");
    n = fread(good, 1, sizeof good, fp);
    fclose(fp);
    ck_assert_uint_eq(n, 101);
    good[0] = 'X'; /* magic */
    write_file(path, good, n);
    ck_assert_int_eq(kk_key_load(&k, ctx, path), KK_EKEY);
    ck_assert_ptr_nonnull(strstr(kk_error_message(ctx), "not a kakou key"));
    good[0] = 'K';
    good[40] = good[40] == 'a' ? 'b' : 'a'; /* a key digit: id mismatch */
    write_file(path, good, n);
    ck_assert_int_eq(kk_key_load(&k, ctx, path), KK_EKEY);
    ck_assert_ptr_nonnull(strstr(kk_error_message(ctx), "damaged"));
    good[40] = 'Z'; /* not hex */
    write_file(path, good, n);
    ck_assert_int_eq(kk_key_load(&k, ctx, path), KK_EKEY);
    ck_assert_ptr_nonnull(strstr(kk_error_message(ctx), "malformed"));
    ck_assert_ptr_null(k);
    /* Missing file, directory. */
    ck_assert_int_eq(kk_key_load(&k, ctx, "/nonexistent/x.key"),
                     KK_ENOTFOUND);
    ck_assert_int_eq(kk_key_load(&k, ctx, tmpdir), KK_EKEY);
    kk_ctx_free(ctx);
}
END_TEST

START_TEST(ephemeral_keys_differ)
{
    kk_key *a = NULL, *b = NULL;
    ck_assert_int_eq(kk_key_new_ephemeral(&a, NULL), KK_OK);
    ck_assert_int_eq(kk_key_new_ephemeral(&b, NULL), KK_OK);
    ck_assert_int_eq(kk_key_is_ephemeral(a), 1);
    ck_assert_str_ne(kk_key_id(a), kk_key_id(b));
    kk_key_free(a);
    kk_key_free(b);
}
END_TEST

START_TEST(protected_key_round_trip)
{
    char path[300], pf[300], bad[300];
    kk_ctx *ctx = kk_ctx_new();
    kk_key *k = NULL;
    kk_secret *pass = NULL, *wrong = NULL;
    char id[KK_KEY_ID_CHARS + 1];
    FILE *fp;

    snprintf(path, sizeof path, "%s/protected.key", tmpdir);
    snprintf(pf, sizeof pf, "%s/pass", tmpdir);
    snprintf(bad, sizeof bad, "%s/bad", tmpdir);
    fp = fopen(pf, "w");
    fputs("correct horse\n", fp);
    fclose(fp);
    fp = fopen(bad, "w");
    fputs("correct horsf\n", fp);
    fclose(fp);
    chmod(pf, 0600);
    chmod(bad, 0600);
    ck_assert_int_eq(kk_secret_from_file(&pass, ctx, pf), KK_OK);
    ck_assert_int_eq(kk_secret_from_file(&wrong, ctx, bad), KK_OK);
    ck_assert_int_eq(kk_key_generate_file_protected(ctx, path, pass), KK_OK);
    ck_assert_int_eq(kk_key_file_is_protected(path), 1);
    /* refused without a passphrase, by both loaders, with a clear message */
    ck_assert_int_eq(kk_key_load(&k, ctx, path), KK_EKEY);
    ck_assert_ptr_nonnull(strstr(kk_error_message(ctx), "passphrase"));
    ck_assert_int_eq(kk_key_load_protected(&k, ctx, path, NULL), KK_EKEY);
    ck_assert_ptr_nonnull(strstr(kk_error_message(ctx), "protected by a passphrase"));
    ck_assert_int_eq(kk_key_load_protected(&k, ctx, path, wrong), KK_EKEY);
    ck_assert_ptr_nonnull(strstr(kk_error_message(ctx), "wrong passphrase"));
    ck_assert_ptr_null(k);
    ck_assert_int_eq(kk_key_load_protected(&k, ctx, path, pass), KK_OK);
    ck_assert_int_eq(kk_key_is_ephemeral(k), 0);
    ck_assert_int_eq(kk_key_file_id(ctx, path, id), KK_OK);
    ck_assert_str_eq(id, kk_key_id(k));
    /* the file holds no hex of the key */
    {
        char hex[65], buf[4096] = "";
        sodium_bin2hex(hex, sizeof hex, kk_key__bytes(k), 32);
        fp = fopen(path, "r");
        size_t n = fread(buf, 1, sizeof buf - 1, fp);
        fclose(fp);
        buf[n] = '\0';
        ck_assert_ptr_null(strstr(buf, hex));
    }
    kk_key_free(k);
    kk_secret_free(pass);
    kk_secret_free(wrong);
    kk_ctx_free(ctx);
}
END_TEST

Suite *crypto_suite(void)
{
    Suite *s = suite_create("crypto");
    TCase *tc;

    tc = tcase_create("known_answers");
    tcase_add_test(tc, rfc4231_case2);
    tcase_add_test(tc, hmac_framing_kat);
    tcase_add_test(tc, uid_kat);
    tcase_add_test(tc, pseudonym_kat);
    tcase_add_test(tc, shift_kat);
    tcase_add_test(tc, key_id_kat);
    suite_add_tcase(s, tc);

    tc = tcase_create("properties");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, uid_always_valid);
    tcase_add_test(tc, deterministic_and_key_separated);
    tcase_add_test(tc, framing_separates_fields);
    tcase_add_test(tc, pseudonym_formats);
    tcase_add_test(tc, pseudonym_unbiased_enough);
    tcase_add_test(tc, shift_in_range_and_spread);
    tcase_add_test(tc, ephemeral_keys_differ);
    suite_add_tcase(s, tc);

    tc = tcase_create("key_files");
    tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
    tcase_add_test(tc, key_file_round_trip);
    tcase_add_test(tc, key_file_mode_refused);
    tcase_add_test(tc, key_file_bad_content_refused);
    tcase_add_test(tc, protected_key_round_trip);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(crypto_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
