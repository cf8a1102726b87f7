/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tools/cmd_review.c - kakou review: a contact sheet (PNG) of what a
 * profile paints out of the pixels of each file, before and after, for
 * people to check a batch at a glance. Nothing else is written.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "walk.h"

static void help(void)
{
    printf("usage: kakou review [options] -o SHEET.png FILE...\n\n"
           "Draw a contact sheet of each file's first frame before (with the boxes the\n"
           "profile paints out: red detected text, yellow region rules, blue overlays)\n"
           "and after. The 'before' half shows the original pixels: protect the sheet\n"
           "as you would the inputs, or use --after-only.\n\n"
           "options:\n"
           "  -o, --output FILE       the PNG to write (required)\n"
           "  -p, --profile NAME|FILE profile (default dicom-basic -O clean-pixel-data)\n"
           "  -O, --option NAME       enable a profile option (repeatable)\n"
           "  -k, --key KEYFILE       key, for profiles that need one\n"
           KK_CLI_PASSFILE_HELP
           "      --width N           thumbnail width in pixels (default 320)\n"
           "      --columns N         files per row (default 3)\n"
           "      --after-only        leave out the original pixels\n"
           "      --faces             instead: for each head CT or MR volume among the\n"
           "                          files and folders, its skin surface seen from the\n"
           "                          front before and after the profile's defacing\n"
           "\n" KK_CLI_COMMON_HELP "\n"
           "exit status: 0 sheet written, 1 some files could not be read (the sheet\n"
           "crosses them out), 2 usage, profile or output error\n");
}

typedef struct path_list {
    char **v;
    size_t n, cap;
    bool failed;
} path_list;

static int collect_one(const char *path, const char *rel, const struct stat *sb, void *payload)
{
    (void)rel;
    (void)sb;
    path_list *l = payload;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        char **nv = realloc(l->v, cap * sizeof *nv);
        if (!nv) {
            l->failed = true;
            return 1;
        }
        l->v = nv;
        l->cap = cap;
    }
    if (!(l->v[l->n] = strdup(path))) {
        l->failed = true;
        return 1;
    }
    l->n++;
    return 0;
}

/* --faces: the inputs as volumes (kk_deid_review_faces()) */
static int review_faces(const kk_cli *cli, kk_deid *deid, kk_ctx *ctx, int argc, char **argv,
                        const char *out)
{
    path_list l = { NULL, 0, 0, false };
    size_t errors = 0, heads = 0;
    for (int i = 0; i < argc && !l.failed; i++)
        kk_walk(cli, argv[i], false, collect_one, &l, &errors);
    kk_status st = l.failed ? KK_ENOMEM
                            : kk_deid_review_faces(deid, ctx, (const char *const *)l.v, l.n, out,
                                                   &heads);
    for (size_t i = 0; i < l.n; i++)
        free(l.v[i]);
    free(l.v);
    if (st != KK_OK) {
        kk_cli_error(cli, "%s", l.failed ? "out of memory" : kk_error_message(ctx));
        return st == KK_EINVAL ? KK_EXIT_FAILED : KK_EXIT_USAGE;
    }
    kk_cli_info(cli, "wrote %s: %zu head(s), before and after", out, heads);
    return errors ? KK_EXIT_FAILED : KK_EXIT_OK;
}

static void on_error(const char *path, const char *message, void *payload)
{
    (void)path; /* the message names it */
    kk_cli_error((const kk_cli *)payload, "%s", message);
}

int kk_cmd_review(int argc, char **argv)
{
    kk_cli cli = { "review", KK_LOG_WARN, false };
    kk_cli_profile_args pa = { NULL, NULL, { NULL }, 0, NULL };
    kk_review_options ro = KK_REVIEW_OPTIONS_INIT;
    const char *out = NULL;
    enum { OPT_WIDTH = 0x2001, OPT_COLUMNS, OPT_AFTER, OPT_FACES };
    bool faces = false;
    static const struct option longopts[] = {
        KK_CLI_PROFILE_LONG,
        { "output", required_argument, NULL, 'o' },
        { "width", required_argument, NULL, OPT_WIDTH },
        { "columns", required_argument, NULL, OPT_COLUMNS },
        { "after-only", no_argument, NULL, OPT_AFTER },
        { "faces", no_argument, NULL, OPT_FACES },
        KK_CLI_COMMON_LONG,
        { NULL, 0, NULL, 0 }
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, KK_CLI_PROFILE_SHORT "o:" KK_CLI_COMMON_SHORT, longopts, NULL)) != -1) {
        int taken = kk_cli_profile_option(&cli, &pa, c, optarg);
        if (taken < 0)
            return KK_EXIT_USAGE;
        if (taken)
            continue;
        switch (c) {
        case 'o': out = optarg; break;
        case OPT_WIDTH:
            ro.thumb_width = atoi(optarg);
            if (ro.thumb_width < 32 || ro.thumb_width > 4096)
                return kk_cli_usage_error(&cli, "--width takes 32 to 4096");
            break;
        case OPT_COLUMNS:
            ro.columns = atoi(optarg);
            if (ro.columns < 1 || ro.columns > 64)
                return kk_cli_usage_error(&cli, "--columns takes 1 to 64");
            break;
        case OPT_AFTER: ro.after_only = 1; break;
        case OPT_FACES: faces = true; break;
        case 'h': help(); return KK_EXIT_OK;
        default:
            if (kk_cli_common_option(&cli, c, optarg))
                break;
            return kk_cli_usage_error(&cli, "unknown option");
        }
    }
    if (!out)
        return kk_cli_usage_error(&cli, "give the sheet to write with -o SHEET.png");
    if (optind >= argc)
        return kk_cli_usage_error(&cli, "give at least one FILE");
    /* without a profile, the Basic Profile with its pixel option */
    if (!pa.profile && pa.noptions == 0 && !faces) {
        pa.options[pa.noptions++] = "clean-pixel-data";
        pa.options[pa.noptions] = NULL;
    }
    kk_ctx *ctx = kk_ctx_new();
    kk_cli_run run;
    int rc = KK_EXIT_USAGE;
    size_t failed = 0;
    ro.on_error = on_error;
    ro.payload = &cli;
    if (kk_cli_open_deciding_run(&cli, ctx, &pa, &run) != KK_OK)
        goto out;
    if (faces) {
        rc = review_faces(&cli, run.deid, ctx, argc - optind, argv + optind, out);
        goto out;
    }
    if (kk_deid_review(run.deid, ctx, (const char *const *)argv + optind, (size_t)(argc - optind),
                       out, &ro, &failed) != KK_OK) {
        kk_cli_error(&cli, "%s", kk_error_message(ctx));
        goto out;
    }
    if (failed)
        kk_cli_warn(&cli, "%zu of %d file(s) could not be read; they are crossed out", failed,
                    argc - optind);
    kk_cli_info(&cli, "wrote %s", out);
    rc = failed ? KK_EXIT_FAILED : KK_EXIT_OK;
out:
    kk_cli_close_run(&run);
    kk_ctx_free(ctx);
    return rc;
}
