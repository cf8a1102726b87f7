/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tools/cmd_explain.c - `kakou explain`: one line per attribute at every
 * depth with the action the profile decides and the rule behind it.
 * Values are shown only with --show-values (they may be PHI).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void help(void)
{
    printf("usage: kakou explain [-p PROFILE] [-O OPTION]... [-k KEYFILE] [--show-values] FILE\n\n"
           "Print, for every attribute of FILE at every depth, the action PROFILE takes and\n"
           "the rule (file:line) that decided it. Nothing is written.\n\n"
           "options:\n"
           "  -p, --profile PROFILE   built-in name or profile file (default dicom-basic)\n"
           "  -O, --option OPTION     enable a profile option (repeatable)\n"
           "  -k, --key KEYFILE       key, for profiles that need one\n"
           KK_CLI_PASSFILE_HELP
           "      --show-values       also print each value as it was (may show PHI)\n"
           "\n" KK_CLI_COMMON_HELP "\n"
           "output: PATH KEYWORD VR ACTION RULE [= VALUE]; burned-in text boxes as\n"
           "  (7FE0,0010) PixelData OB C RULE box frame=F x=X y=Y w=W h=H source=S class=C\n"
           "exit status: 0 explained, 1 the file could not be read, 2 usage or profile error\n");
}

static void print_entry(const kk_explain_entry *e, void *payload)
{
    (void)payload;
    printf("%-40s %-36s %s %-9s %s", e->path, e->keyword[0] ? e->keyword : "-", e->vr,
           kk_action_name(e->action), e->rule);
    if (e->box) {
        /* burned-in text painted out of the pixels */
        const kk_explain_box *b = e->box;
        if (b->frame < 0)
            printf(" box frame=all");
        else
            printf(" box frame=%d", b->frame);
        printf(" x=%d y=%d w=%d h=%d source=%s class=%s", b->x, b->y, b->width, b->height,
               b->source, b->text_class);
        if (b->text)
            printf(" = %s", b->text);
    } else if (e->value) {
        printf(" = %s", e->value);
    }
    putchar('\n');
}

int kk_cmd_explain(int argc, char **argv)
{
    kk_cli cli = { "explain", KK_LOG_WARN, false };
    kk_cli_profile_args pa = { NULL, NULL, { NULL }, 0, NULL };
    int show = 0;
    enum { OPT_SHOW = 0x2001 };
    static const struct option longopts[] = {
        KK_CLI_PROFILE_LONG,
        { "show-values", no_argument, NULL, OPT_SHOW },
        KK_CLI_COMMON_LONG,
        { NULL, 0, NULL, 0 }
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, KK_CLI_PROFILE_SHORT KK_CLI_COMMON_SHORT, longopts, NULL)) != -1) {
        int taken = kk_cli_profile_option(&cli, &pa, c, optarg);
        if (taken < 0)
            return KK_EXIT_USAGE;
        if (taken)
            continue;
        switch (c) {
        case OPT_SHOW: show = 1; break;
        case 'h': help(); return KK_EXIT_OK;
        default:
            if (kk_cli_common_option(&cli, c, optarg))
                break;
            return kk_cli_usage_error(&cli, "unknown option");
        }
    }
    if (optind != argc - 1)
        return kk_cli_usage_error(&cli, "give exactly one FILE");
    kk_ctx *ctx = kk_ctx_new();
    kk_cli_run run;
    int rc = KK_EXIT_USAGE;
    if (kk_cli_open_deciding_run(&cli, ctx, &pa, &run) == KK_OK) {
        rc = KK_EXIT_OK;
        if (kk_deid_explain(run.deid, ctx, argv[optind], show, print_entry, NULL) != KK_OK) {
            kk_cli_error(&cli, "%s", kk_error_message(ctx));
            rc = KK_EXIT_FAILED;
        }
    }
    kk_cli_close_run(&run);
    kk_ctx_free(ctx);
    return rc;
}
