/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tools/cmd_verify.c - `kakou verify`: check de-identified output against
 * a profile and exit 1 on any finding (R22). What counts as a finding is
 * in include/kakou/verify.h. Each finding is one line on stdout:
 *   FILE: PATH KEYWORD VR: PROBLEM (action ACTION, rule RULE)
 * naming the file and the attribute, never the value (R04).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "walk.h"

typedef struct vjob {
    kk_cli *cli;
    kk_verify *verify;
    kk_ctx *ctx;
    const char *file;
    size_t files, clean, dirty, unreadable, findings;
} vjob;

static void print_finding(const kk_explain_entry *e, const char *problem, void *payload)
{
    vjob *j = payload;
    printf("%s: %s %s %s: %s (action %s, rule %s)\n", j->file, e->path,
           e->keyword && e->keyword[0] ? e->keyword : "-", e->vr, problem,
           kk_action_name(e->action), e->rule && e->rule[0] ? e->rule : "-");
}

static int verify_one(const char *path, const char *rel, const struct stat *sb, void *payload)
{
    (void)rel;
    (void)sb;
    vjob *j = payload;
    int dicom = kk_sniff_dicom(path);
    if (dicom < 0) {
        kk_cli_error(j->cli, "cannot read '%s': %s", path, strerror(errno));
        j->unreadable++;
        return 0;
    }
    if (dicom == 0) {
        kk_cli_info(j->cli, "skipped '%s': not a DICOM file", path);
        return 0;
    }
    j->files++;
    j->file = path;
    size_t n = 0;
    if (kk_verify_file(j->verify, j->ctx, path, print_finding, j, &n) != KK_OK) {
        kk_cli_error(j->cli, "%s", kk_error_message(j->ctx));
        kk_error_clear(j->ctx);
        j->unreadable++;
        return 0;
    }
    j->findings += n;
    if (n)
        j->dirty++;
    else
        j->clean++;
    fflush(stdout);
    return 0;
}

/* --k N: every DICOM file into the release check */
typedef struct kjob {
    kk_release *r;
    kk_ctx *ctx;
    size_t unreadable;
} kjob;

static int k_one(const char *path, const char *rel, const struct stat *sb, void *payload)
{
    kjob *kj = payload;
    (void)rel;
    (void)sb;
    if (kk_sniff_dicom(path) == 1 && kk_release_check_add(kj->r, kj->ctx, path) != KK_OK)
        kj->unreadable++;
    return 0;
}

static void help(void)
{
    printf("usage: kakou verify [-p PROFILE] [-O OPTION]... [--db DB -k KEYFILE] [--pixels] PATH...\n\n"
           "Check de-identified files (folders are walked recursively) for anything\n"
           "PROFILE would not let out. One line per finding on stdout:\n"
           "  FILE: PATH KEYWORD VR: PROBLEM (action ACTION, rule RULE)\n"
           "Values are never printed.\n\n"
           "options:\n"
           "  -p, --profile PROFILE   the profile the output was made with (default dicom-basic)\n"
           "  -O, --option OPTION     a profile option the output was made with (repeatable)\n"
           "      --db DB             the run's store: no value may equal an original in it\n"
           "  -k, --key KEYFILE       the key of the store\n"
           "      --pixels            search the pixels for text too, as deid's last look\n"
           "                          after painting does (one finding per file with text)\n"
           "      --k N               check k-anonymity instead: every class of patients\n"
           "                          sharing the profile's quasi-identifiers (as the\n"
           "                          outputs hold them) has at least N patients\n"
           KK_CLI_PASSFILE_HELP
           "\n" KK_CLI_COMMON_HELP "\n"
           "exit status: 0 no finding, 1 findings or unreadable files, 2 usage or configuration\n"
           "error, or no DICOM file found\n");
}

int kk_cmd_verify(int argc, char **argv)
{
    kk_cli cli = { "verify", KK_LOG_WARN, false };
    kk_cli_profile_args pa = { NULL, NULL, { NULL }, 0, NULL };
    const char *db_path = NULL;
    enum { OPT_DB = 0x2001, OPT_K, OPT_PIXELS };
    unsigned long kcheck = 0;
    bool pixels = false;
    static const struct option longopts[] = {
        KK_CLI_PROFILE_LONG,
        { "db", required_argument, NULL, OPT_DB },
        { "k", required_argument, NULL, OPT_K },
        { "pixels", no_argument, NULL, OPT_PIXELS },
        KK_CLI_COMMON_LONG,
        { NULL, 0, NULL, 0 }
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, KK_CLI_PROFILE_SHORT KK_CLI_COMMON_SHORT, longopts,
                            NULL)) != -1) {
        int taken = kk_cli_profile_option(&cli, &pa, c, optarg);
        if (taken < 0)
            return KK_EXIT_USAGE;
        if (taken)
            continue;
        switch (c) {
        case OPT_DB: db_path = optarg; break;
        case OPT_PIXELS: pixels = true; break;
        case OPT_K: {
            char *end;
            kcheck = strtoul(optarg, &end, 10);
            if (*end || kcheck < 1)
                return kk_cli_usage_error(&cli, "--k takes a number from 1");
            break;
        }
        case 'h': help(); return KK_EXIT_OK;
        default:
            if (kk_cli_common_option(&cli, c, optarg))
                break;
            return kk_cli_usage_error(&cli, "unknown option");
        }
    }
    if (optind >= argc)
        return kk_cli_usage_error(&cli, "give the files or folders to check");
    if (db_path && !pa.key_path)
        return kk_cli_usage_error(&cli, "--db needs the key that encrypts it: give -k FILE");
    if (pa.key_path && !db_path)
        return kk_cli_usage_error(&cli, "-k serves --db only: give the store too");
    kk_ctx *ctx = kk_ctx_new();
    kk_profile *p = NULL;
    kk_key *key = NULL;
    kk_store *store = NULL;
    kk_verify *v = NULL;
    int rc = KK_EXIT_USAGE;
    if (!ctx)
        return KK_EXIT_USAGE;
    p = kk_cli_load_profile(&cli, ctx, pa.profile, pa.options);
    if (!p)
        goto out;
    if (db_path) {
        if (kk_cli_load_key(&cli, ctx, pa.key_path, pa.passphrase_file, &key) != KK_OK ||
            kk_store_open(&store, ctx, db_path, key) != KK_OK) {
            kk_cli_error(&cli, "%s", kk_error_message(ctx));
            goto out;
        }
    }
    if (kcheck) {
        kk_release *r = NULL;
        kk_release_check chk;
        if (!kk_profile_has_release(p)) {
            kk_cli_error(&cli, "profile '%s' names no quasi-identifier: nothing to check",
                         kk_profile_name(p));
            goto out;
        }
        if (kk_release_new(&r, ctx, p, (unsigned)kcheck) != KK_OK) {
            kk_cli_error(&cli, "%s", kk_error_message(ctx));
            goto out;
        }
        kjob kj = { r, ctx, 0 };
        size_t errors = 0;
        for (int i = optind; i < argc; i++)
            kk_walk(&cli, argv[i], false, k_one, &kj, &errors);
        if (kk_release_check_result(r, ctx, (unsigned)kcheck, &chk) != KK_OK) {
            kk_cli_error(&cli, "%s", kk_error_message(ctx));
            kk_release_free(r);
            goto out;
        }
        kk_release_free(r);
        printf("k-anonymity: %zu instances, %zu patients, %zu classes, smallest %zu, "
               "%zu below k=%lu\n", chk.instances, chk.patients, chk.classes, chk.smallest,
               chk.classes_below, kcheck);
        rc = chk.classes_below || kj.unreadable || errors || !chk.instances ? KK_EXIT_FAILED
                                                                            : KK_EXIT_OK;
        goto out;
    }
    if (kk_verify_new(&v, ctx, p, store) != KK_OK || (pixels && kk_verify_pixels(v, ctx) != KK_OK)) {
        kk_cli_error(&cli, "%s", kk_error_message(ctx));
        goto out;
    }
    vjob j = { &cli, v, ctx, NULL, 0, 0, 0, 0, 0 };
    for (int i = optind; i < argc; i++)
        kk_walk(&cli, argv[i], false, verify_one, &j, &j.unreadable);
    if (cli.level >= KK_LOG_WARN)
        fprintf(stderr, "kakou verify: %zu files, %zu clean, %zu with findings (%zu findings), "
                        "%zu unreadable\n",
                j.files, j.clean, j.dirty, j.findings, j.unreadable);
    rc = j.findings || j.unreadable ? KK_EXIT_FAILED : KK_EXIT_OK;
    if (j.files == 0 && j.unreadable == 0) {
        /* nothing checked is not "clean": an empty output folder would
         * otherwise pass (a run that wrote nothing) */
        kk_cli_error(&cli, "no DICOM file to verify in the paths given");
        rc = KK_EXIT_USAGE;
    }
out:
    kk_verify_free(v);
    if (store && kk_store_close(store, ctx) != KK_OK) {
        kk_cli_error(&cli, "%s", kk_error_message(ctx));
        if (rc == KK_EXIT_OK)
            rc = KK_EXIT_FAILED;
    }
    kk_key_free(key);
    kk_profile_free(p);
    kk_ctx_free(ctx);
    return rc;
}
