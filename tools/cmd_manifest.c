/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tools/cmd_manifest.c - `kakou manifest`: sign a delivery folder and
 * check one (R27).
 *
 *   kakou manifest sign --key FILE [--passphrase-file F] OUTDIR
 *                  write OUTDIR/SHA256SUMS and OUTDIR/SHA256SUMS.sig
 *   kakou manifest verify --pub FILE.pub OUTDIR
 *                  check the signature and every file
 *
 * Exit: 0 signed / everything verifies; 1 a bad signature or a changed,
 * missing or extra file (each named on stdout); 2 usage or key error.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static void help(void)
{
    printf("usage: kakou manifest sign --key FILE [--passphrase-file F] OUTDIR\n"
           "       kakou manifest verify --pub FILE.pub OUTDIR\n"
           "\n"
           "Sign a delivery folder, or check a signed one.\n"
           "\n"
           "commands:\n"
           "  sign OUTDIR         write OUTDIR/SHA256SUMS (the SHA-256 of every file\n"
           "                      below OUTDIR, sorted, as 'sha256sum -c' reads it)\n"
           "                      and OUTDIR/SHA256SUMS.sig (an Ed25519 signature)\n"
           "  verify OUTDIR       check the signature with the public key, then every\n"
           "                      file; print 'changed', 'missing' or 'extra' and the\n"
           "                      path for each difference\n"
           "\n"
           "options:\n"
           "      --key FILE      the signing key ('kakou key new --sign FILE')\n"
           "      --passphrase-file F  its passphrase, when it is protected\n"
           "      --pub FILE.pub  the public key of the signer\n"
           "\n"
           KK_CLI_COMMON_HELP
           "\n"
           "Exit status: 0 signed / verified, 1 a bad signature or a file that differs,\n"
           "2 usage or key error. See kakou-manifest(1).\n");
}

static void problem(const char *rel, const char *what, void *payload)
{
    (void)payload;
    printf("%s: %s\n", what, rel);
}

int kk_cmd_manifest(int argc, char **argv)
{
    kk_cli cli = { "manifest", KK_LOG_WARN, false };
    enum { OPT_KEY = 0x2001, OPT_PUB, OPT_PASSFILE };
    static const struct option longopts[] = {
        { "key", required_argument, NULL, OPT_KEY },
        { "pub", required_argument, NULL, OPT_PUB },
        { "passphrase-file", required_argument, NULL, OPT_PASSFILE },
        KK_CLI_COMMON_LONG,
        { NULL, 0, NULL, 0 }
    };
    const char *key_path = NULL, *pub_path = NULL, *pass_file = NULL;
    int c, rc = KK_EXIT_OK;

    optind = 1;
    while ((c = getopt_long(argc, argv, KK_CLI_COMMON_SHORT, longopts, NULL)) != -1) {
        switch (c) {
        case OPT_KEY: key_path = optarg; break;
        case OPT_PUB: pub_path = optarg; break;
        case OPT_PASSFILE: pass_file = optarg; break;
        case 'h': help(); return KK_EXIT_OK;
        default:
            if (kk_cli_common_option(&cli, c, optarg))
                break;
            return kk_cli_usage_error(&cli, "unknown option");
        }
    }
    if (optind >= argc)
        return kk_cli_usage_error(&cli, "no command: give 'sign' or 'verify'");
    const char *sub = argv[optind];
    bool is_sign = strcmp(sub, "sign") == 0;
    if (!is_sign && strcmp(sub, "verify") != 0)
        return kk_cli_usage_error(&cli, "unknown command '%s': give 'sign' or 'verify'", sub);
    if (optind + 2 != argc)
        return kk_cli_usage_error(&cli, "give one folder: '%s OUTDIR'", sub);
    if (is_sign && (!key_path || pub_path))
        return kk_cli_usage_error(&cli, "sign takes --key FILE (the secret key)");
    if (!is_sign && (!pub_path || key_path || pass_file))
        return kk_cli_usage_error(&cli, "verify takes --pub FILE.pub (the public key)");
    const char *dir = argv[optind + 1];

    kk_ctx *ctx = kk_ctx_new();
    kk_secret *pass = NULL;
    kk_sign_key *key = NULL;
    if (!ctx) {
        kk_cli_error(&cli, "out of memory");
        return KK_EXIT_USAGE;
    }
    if (is_sign) {
        size_t n = 0;
        if (kk_key_file_is_protected(key_path) &&
            kk_cli_passphrase(&cli, ctx, pass_file, 0, 1, &pass) != KK_OK) {
            kk_cli_error(&cli, "%s", kk_error_message(ctx));
            rc = KK_EXIT_USAGE;
        } else if (kk_sign_key_load(&key, ctx, key_path, pass) != KK_OK) {
            kk_cli_error(&cli, "%s", kk_error_message(ctx));
            rc = KK_EXIT_USAGE;
        } else if (kk_manifest_sign(ctx, key, dir, &n) != KK_OK) {
            kk_cli_error(&cli, "%s", kk_error_message(ctx));
            rc = KK_EXIT_FAILED;
        } else {
            kk_cli_info(&cli, "signed %zu files in '%s' with key %s", n, dir,
                        kk_sign_key_id(key));
        }
    } else {
        kk_manifest_check chk;
        kk_status st = kk_manifest_verify(ctx, pub_path, dir, problem, NULL, &chk);
        fflush(stdout);
        if (st == KK_EKEY || (st == KK_ENOTFOUND && access(pub_path, F_OK) != 0)) {
            kk_cli_error(&cli, "%s", kk_error_message(ctx));
            rc = KK_EXIT_USAGE;
        } else if (st != KK_OK) {
            kk_cli_error(&cli, "%s", kk_error_message(ctx));
            rc = KK_EXIT_FAILED;
        } else if (!chk.signature_ok) {
            kk_cli_error(&cli, "the signature of '%s/%s' does not verify with '%s': the "
                         "manifest was changed, or signed by another key", dir,
                         KK_MANIFEST_NAME, pub_path);
            rc = KK_EXIT_FAILED;
        } else if (chk.changed || chk.missing || chk.extra) {
            kk_cli_error(&cli, "'%s' differs from its signed manifest: %zu changed, %zu "
                         "missing, %zu extra", dir, chk.changed, chk.missing, chk.extra);
            rc = KK_EXIT_FAILED;
        } else {
            kk_cli_info(&cli, "'%s': signature and %zu files verify", dir, chk.files);
        }
    }
    kk_sign_key_free(key);
    kk_secret_free(pass);
    kk_ctx_free(ctx);
    return rc;
}
