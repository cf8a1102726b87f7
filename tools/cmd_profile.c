/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tools/cmd_profile.c - `kakou profile lint|show|source|list|test|diff`:
 * check a profile file, print the resolved rules of a profile, list the
 * built-in ones; regression tests and comparisons are in profile_test.c.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "profile_test.h"

static void help(void)
{
    printf("usage: kakou profile lint [-O OPTION]... FILE...\n"
           "       kakou profile show [-O OPTION]... NAME|FILE\n"
           "       kakou profile source NAME\n"
           "       kakou profile list\n"
           "       kakou profile test [-O OPTION]... [--update] PROFILE CASES/\n"
           "       kakou profile diff [-O OPTION]... A B FILE...\n\n"
           "lint    check profile files; errors read FILE:LINE:COLUMN: message\n"
           "show    print the resolved rules, each with the file:line that set it\n"
           "source  print the text of a built-in profile\n"
           "list    print the names of the built-in profiles\n"
           "test    compare what PROFILE does to each CASES/NAME.dcm with CASES/NAME.expected\n"
           "        and show a diff for each case that changed (--update rewrites them)\n"
           "diff    list the attributes of FILEs whose action differs between A and B\n\n"
           "exit status: 0 ok (test: no case changed; diff: no difference), 1 a case\n"
           "changed or the profiles differ, 2 a profile has an error or usage error\n");
}

int kk_cmd_profile(int argc, char **argv)
{
    kk_cli cli = { "profile", KK_LOG_WARN, false };
    const char *options[65];
    int nopt = 0;
    bool update = false;
    enum { OPT_UPDATE = 0x2001 };
    static const struct option longopts[] = {
        { "option", required_argument, NULL, 'O' },
        { "update", no_argument, NULL, OPT_UPDATE },
        KK_CLI_COMMON_LONG,
        { NULL, 0, NULL, 0 }
    };
    if (argc < 2) {
        help();
        return KK_EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
        help();
        return KK_EXIT_OK;
    }
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "O:" KK_CLI_COMMON_SHORT, longopts, NULL)) != -1) {
        switch (c) {
        case 'O':
            if (nopt == 64)
                return kk_cli_usage_error(&cli, "too many -O options");
            options[nopt++] = optarg;
            break;
        case OPT_UPDATE: update = true; break;
        case 'h': help(); return KK_EXIT_OK;
        default:
            if (kk_cli_common_option(&cli, c, optarg))
                break;
            return kk_cli_usage_error(&cli, "unknown option");
        }
    }
    options[nopt] = NULL;
    if (strcmp(sub, "list") == 0) {
        for (const char *const *n = kk_profile_builtin_names(); *n; n++)
            printf("%s\n", *n);
        return KK_EXIT_OK;
    }
    if (strcmp(sub, "source") == 0) {
        if (optind != argc - 1)
            return kk_cli_usage_error(&cli, "give one built-in profile name");
        const char *t = kk_profile_builtin_text(argv[optind]);
        if (!t) {
            kk_cli_error(&cli, "no built-in profile named '%s'", argv[optind]);
            return KK_EXIT_USAGE;
        }
        fputs(t, stdout);
        return KK_EXIT_OK;
    }
    if (strcmp(sub, "test") == 0) {
        if (optind != argc - 2)
            return kk_cli_usage_error(&cli, "give a profile and a folder of cases");
        return kk_profile_test(&cli, argv[optind], argv[optind + 1], options, update);
    }
    if (update)
        return kk_cli_usage_error(&cli, "--update goes with 'profile test'");
    if (strcmp(sub, "diff") == 0) {
        if (argc - optind < 3)
            return kk_cli_usage_error(&cli, "give two profiles and the files to compare them on");
        return kk_profile_diff(&cli, argv[optind], argv[optind + 1], options, argc - optind - 2,
                               argv + optind + 2);
    }
    if (strcmp(sub, "lint") != 0 && strcmp(sub, "show") != 0)
        return kk_cli_usage_error(&cli, "unknown subcommand '%s' (lint, show, source, list, test, diff)", sub);
    if (optind >= argc)
        return kk_cli_usage_error(&cli, "give a profile");
    if (strcmp(sub, "show") == 0 && optind != argc - 1)
        return kk_cli_usage_error(&cli, "give one profile");
    kk_ctx *ctx = kk_ctx_new();
    int rc = KK_EXIT_OK;
    for (int i = optind; i < argc; i++) {
        kk_profile *p = NULL;
        if (kk_profile_load(&p, ctx, argv[i], options) != KK_OK) {
            kk_cli_error(&cli, "%s", kk_error_message(ctx));
            rc = KK_EXIT_USAGE;
            continue;
        }
        if (strcmp(sub, "lint") == 0) {
            if (cli.level >= KK_LOG_WARN)
                printf("%s: ok (profile %s %s, rules sha256:%s)\n", argv[i], kk_profile_name(p),
                       kk_profile_version(p), kk_profile_digest(p));
        } else {
            char *text = NULL;
            if (kk_profile_format(&text, ctx, p) == KK_OK)
                fputs(text, stdout);
            kk_free(text);
        }
        kk_profile_free(p);
    }
    kk_ctx_free(ctx);
    return rc;
}
