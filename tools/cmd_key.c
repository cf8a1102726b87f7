/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tools/cmd_key.c - `kakou key`: create a key file, or print the key id
 * of one. The key itself is never printed (R09, R23).
 *
 *   kakou key new FILE   write a new random key (mode 0600), print its id
 *   kakou key id FILE    print the key id of an existing key file
 *
 * Exit: 0 done; 2 usage or key error (exists, unsafe mode, malformed).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void help(void)
{
    printf("usage: kakou key new [options] FILE\n"
           "       kakou key id [options] FILE\n"
           "\n"
           "Create a project key, or print the key id of one.\n"
           "\n"
           "commands:\n"
           "  new FILE            write a new random 256-bit key to FILE (mode 0600;\n"
           "                      an existing file is never overwritten) and print\n"
           "                      its key id\n"
           "  id FILE             print the key id of the key in FILE\n"
           "\n"
           KK_CLI_COMMON_HELP
           "\n"
           "The key id is public: it names the key in every store row without\n"
           "revealing it. Keep FILE outside the output and store folders, and back\n"
           "it up: pseudonyms cannot be reproduced or looked up without it.\n"
           "See kakou-key(1).\n");
}

int kk_cmd_key(int argc, char **argv)
{
    kk_cli cli = { "key", KK_LOG_WARN, false };
    static const struct option longopts[] = {
        KK_CLI_COMMON_LONG,
        { NULL, 0, NULL, 0 }
    };
    int c, rc = KK_EXIT_OK;

    optind = 1;
    while ((c = getopt_long(argc, argv, KK_CLI_COMMON_SHORT, longopts, NULL)) != -1) {
        switch (c) {
        case 'h': help(); return KK_EXIT_OK;
        default:
            if (kk_cli_common_option(&cli, c, optarg))
                break;
            return kk_cli_usage_error(&cli, "unknown option");
        }
    }
    if (optind >= argc)
        return kk_cli_usage_error(&cli, "no command: give 'new FILE' or 'id FILE'");
    const char *sub = argv[optind];
    if (strcmp(sub, "new") != 0 && strcmp(sub, "id") != 0)
        return kk_cli_usage_error(&cli, "unknown command '%s': give 'new FILE' or 'id FILE'", sub);
    if (optind + 1 >= argc)
        return kk_cli_usage_error(&cli, "no key file: give '%s FILE'", sub);
    if (optind + 2 < argc)
        return kk_cli_usage_error(&cli, "one key file at a time");
    const char *path = argv[optind + 1];

    kk_ctx *ctx = kk_ctx_new();
    kk_key *key = NULL;
    if (!ctx) {
        kk_cli_error(&cli, "out of memory");
        return KK_EXIT_USAGE;
    }
    if (strcmp(sub, "new") == 0 && kk_key_generate_file(ctx, path) != KK_OK) {
        kk_cli_error(&cli, "%s", kk_error_message(ctx));
        rc = KK_EXIT_USAGE;
    } else if (kk_key_load(&key, ctx, path) != KK_OK) {
        kk_cli_error(&cli, "%s", kk_error_message(ctx));
        rc = KK_EXIT_USAGE;
    } else {
        printf("%s\n", kk_key_id(key));
        if (strcmp(sub, "new") == 0)
            kk_cli_info(&cli, "wrote key %s to '%s' (mode 0600); back it up", kk_key_id(key), path);
    }
    kk_key_free(key);
    kk_ctx_free(ctx);
    return rc;
}
