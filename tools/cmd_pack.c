/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tools/cmd_pack.c - `kakou pack` and `kakou unpack`: a delivery folder
 * as one archive only its recipient can open (issue 17).
 *
 *   kakou pack --to FILE.pub [-o ARCHIVE|-] OUTDIR
 *                  encrypt every file below OUTDIR to the recipient
 *   kakou unpack --key FILE [--passphrase-file F] -o DESTDIR ARCHIVE|-
 *                  decrypt, check every chunk, write DESTDIR whole
 *
 * Exit: 0 packed / unpacked; 1 the folder or the archive failed (a link
 * in OUTDIR; an archive that is truncated, damaged, sealed to another
 * key, or holds an unsafe path), nothing written; 2 usage or key error,
 * or a DESTDIR that holds files.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static void pack_help(void)
{
    printf("usage: kakou pack --to FILE.pub [-o ARCHIVE|-] OUTDIR\n"
           "\n"
           "Encrypt every file below OUTDIR (its signed manifest too) into one\n"
           "archive that only the holder of the recipient key can open.\n"
           "\n"
           "options:\n"
           "      --to FILE.pub   the recipient's public key ('kakou key new --box')\n"
           "  -o, --output ARCHIVE  write the archive there, whole or not at all\n"
           "                      (a temporary file, renamed); '-' or none: standard\n"
           "                      output, which must not be a terminal\n"
           "\n"
           KK_CLI_COMMON_HELP
           "\n"
           "A symbolic link or a special file below OUTDIR is refused.\n"
           "Exit status: 0 packed, 1 failed (nothing written), 2 usage or key\n"
           "error. See kakou-pack(1).\n");
}

static void unpack_help(void)
{
    printf("usage: kakou unpack --key FILE [--passphrase-file F] -o DESTDIR ARCHIVE|-\n"
           "\n"
           "Decrypt an archive made by 'kakou pack', check every chunk, and write\n"
           "its files to DESTDIR, a new or empty folder: all of them, or nothing.\n"
           "\n"
           "options:\n"
           "      --key FILE      the recipient's secret key ('kakou key new --box')\n"
           "      --passphrase-file F  its passphrase, when it is protected\n"
           "  -o, --output DESTDIR  the folder to create\n"
           "\n"
           KK_CLI_COMMON_HELP
           "\n"
           "Exit status: 0 unpacked, 1 the archive is truncated, damaged, sealed to\n"
           "another key or holds an unsafe path (nothing written), 2 usage or key\n"
           "error, or DESTDIR holds files. See kakou-pack(1).\n");
}

/* Print the failure on ctx; exit usage when usage is set, else failed. */
static int failed(const kk_cli *cli, kk_ctx *ctx, bool usage)
{
    kk_cli_error(cli, "%s", kk_error_message(ctx));
    return usage ? KK_EXIT_USAGE : KK_EXIT_FAILED;
}

static int do_pack(const kk_cli *cli, kk_ctx *ctx, const char *to, const char *output,
                   const char *dir)
{
    bool to_stdout = !output || strcmp(output, "-") == 0;
    size_t n = 0;
    kk_status st = to_stdout ? kk_pack_fd(ctx, to, dir, STDOUT_FILENO, &n)
                             : kk_pack_file(ctx, to, dir, output, &n);
    if (st != KK_OK)
        return failed(cli, ctx, st == KK_EKEY ||
                                (st == KK_ENOTFOUND && access(to, F_OK) != 0));
    kk_cli_info(cli, "packed %zu files of '%s' into '%s' for '%s'", n, dir,
                to_stdout ? "-" : output, to);
    return KK_EXIT_OK;
}

static int do_unpack(const kk_cli *cli, kk_ctx *ctx, const char *key_path,
                     const char *pass_file, const char *dest, const char *archive)
{
    bool from_stdin = strcmp(archive, "-") == 0;
    kk_secret *pass = NULL;
    kk_box_key *key = NULL;
    size_t n = 0;
    int fd = -1, rc = KK_EXIT_OK;

    if ((kk_key_file_is_protected(key_path) &&
         kk_cli_passphrase(cli, ctx, pass_file, 0, 1, &pass) != KK_OK) ||
        kk_box_key_load(&key, ctx, key_path, pass) != KK_OK) {
        rc = failed(cli, ctx, true);
    } else if ((fd = from_stdin ? STDIN_FILENO
                                : open(archive, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
        kk_cli_error(cli, "cannot open archive '%s': %s", archive, strerror(errno));
        rc = KK_EXIT_FAILED;
    } else if (kk_unpack_fd(ctx, key, fd, archive, dest, &n) != KK_OK) {
        /* an archive sealed to another key (KK_EKEY) failed; a DESTDIR
         * with files in it is the caller's error */
        rc = failed(cli, ctx, kk_error_code(ctx) == KK_EEXISTS);
    } else {
        kk_cli_info(cli, "unpacked %zu files of '%s' into '%s'", n, archive, dest);
    }
    if (fd >= 0 && !from_stdin)
        close(fd);
    kk_box_key_free(key);
    kk_secret_free(pass);
    return rc;
}

/* Both commands: their options, checked, and the run. */
static int run(int argc, char **argv, bool unpack)
{
    enum { OPT_TO = 0x2001, OPT_KEY, OPT_PASSFILE };
    static const struct option longopts[] = {
        { "to", required_argument, NULL, OPT_TO },
        { "key", required_argument, NULL, OPT_KEY },
        { "passphrase-file", required_argument, NULL, OPT_PASSFILE },
        { "output", required_argument, NULL, 'o' },
        KK_CLI_COMMON_LONG,
        { NULL, 0, NULL, 0 }
    };
    kk_cli cli = { unpack ? "unpack" : "pack", KK_LOG_WARN, false };
    const char *to = NULL, *key = NULL, *pass_file = NULL, *output = NULL;
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:" KK_CLI_COMMON_SHORT, longopts, NULL)) != -1) {
        switch (c) {
        case OPT_TO: to = optarg; break;
        case OPT_KEY: key = optarg; break;
        case OPT_PASSFILE: pass_file = optarg; break;
        case 'o': output = optarg; break;
        case 'h': unpack ? unpack_help() : pack_help(); return KK_EXIT_OK;
        default:
            if (kk_cli_common_option(&cli, c, optarg))
                break;
            return kk_cli_usage_error(&cli, "unknown option");
        }
    }
    if (!unpack) {
        if (!to)
            return kk_cli_usage_error(&cli, "give the recipient: --to FILE.pub");
        if (key || pass_file)
            return kk_cli_usage_error(&cli, "pack takes the public key (--to FILE.pub); "
                                      "--key is for unpack");
        if (optind + 1 != argc)
            return kk_cli_usage_error(&cli, "give one folder: 'pack --to FILE.pub OUTDIR'");
        if ((!output || strcmp(output, "-") == 0) && isatty(STDOUT_FILENO))
            return kk_cli_usage_error(&cli, "standard output is a terminal: give -o ARCHIVE");
    } else {
        if (!key || to)
            return kk_cli_usage_error(&cli, "give the recipient's secret key: --key FILE");
        if (!output)
            return kk_cli_usage_error(&cli, "give the folder to create: -o DESTDIR");
        if (optind + 1 != argc)
            return kk_cli_usage_error(&cli, "give one archive: 'unpack --key FILE -o DESTDIR "
                                      "ARCHIVE' ('-': standard input)");
    }

    kk_ctx *ctx = kk_ctx_new();
    if (!ctx) {
        kk_cli_error(&cli, "out of memory");
        return KK_EXIT_USAGE;
    }
    rc = unpack ? do_unpack(&cli, ctx, key, pass_file, output, argv[optind])
                : do_pack(&cli, ctx, to, output, argv[optind]);
    kk_ctx_free(ctx);
    return rc;
}

int kk_cmd_pack(int argc, char **argv)
{
    return run(argc, argv, false);
}

int kk_cmd_unpack(int argc, char **argv)
{
    return run(argc, argv, true);
}
