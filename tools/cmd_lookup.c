/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tools/cmd_lookup.c - `kakou lookup`: the authorized re-identification
 * path (R07). Given the store and the project key, print the original
 * value behind a pseudonym or a replacement UID. Every lookup, found or
 * not, is written to the store's audit log before anything is printed;
 * if the audit row cannot be written, nothing is printed.
 *
 * Only whoever can read the key file (mode 0600) can look up: the key
 * decrypts the store (R24). Messages on stderr never carry the original.
 *
 * Exit: 0 every value found; 1 some value not found (or unreadable);
 * 2 usage, key or store error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "cli.h"

static void help(void)
{
    printf("usage: kakou lookup --db DB -k KEY [--domain D] PSEUDONYM...\n"
           "       kakou lookup --db DB -k KEY --uid NEWUID...\n"
           "\n"
           "Print the original value behind each pseudonym (or replacement UID),\n"
           "one per line, in the order given. Each lookup is audited in DB.\n"
           "\n"
           "input options:\n"
           "      --db DB         the store written by 'kakou deid --db DB'\n"
           "  -k, --key KEY       the project key file the store was written with\n"
           KK_CLI_PASSFILE_HELP
           "\n"
           "processing options:\n"
           "      --uid           the arguments are replacement UIDs, not pseudonyms\n"
           "      --domain D      look the pseudonym up in domain D only (patient,\n"
           "                      accession, ...): needed when a pseudonym exists in\n"
           "                      several domains\n"
           "\n"
           KK_CLI_COMMON_HELP
           "\n"
           "Exit status: 0 all found, 1 some not found, 2 usage, key or store error.\n"
           "See kakou-lookup(1).\n");
}

int kk_cmd_lookup(int argc, char **argv)
{
    kk_cli cli = { "lookup", KK_LOG_WARN, false };
    const char *db_path = NULL, *key_path = NULL, *domain = NULL, *pass_file = NULL;
    bool uid_mode = false;
    enum { OPT_DB = 0x2001, OPT_UID, OPT_DOMAIN, OPT_PASSFILE };
    static const struct option longopts[] = {
        { "db", required_argument, NULL, OPT_DB },
        { "key", required_argument, NULL, 'k' },
        { "uid", no_argument, NULL, OPT_UID },
        { "domain", required_argument, NULL, OPT_DOMAIN },
        { "passphrase-file", required_argument, NULL, OPT_PASSFILE },
        KK_CLI_COMMON_LONG,
        { NULL, 0, NULL, 0 }
    };
    int c, rc = KK_EXIT_OK;

    optind = 1;
    while ((c = getopt_long(argc, argv, "k:" KK_CLI_COMMON_SHORT, longopts, NULL)) != -1) {
        switch (c) {
        case OPT_DB: db_path = optarg; break;
        case 'k': key_path = optarg; break;
        case OPT_UID: uid_mode = true; break;
        case OPT_DOMAIN: domain = optarg; break;
        case OPT_PASSFILE: pass_file = optarg; break;
        case 'h': help(); return KK_EXIT_OK;
        default:
            if (kk_cli_common_option(&cli, c, optarg))
                break;
            return kk_cli_usage_error(&cli, "unknown option");
        }
    }
    if (!db_path)
        return kk_cli_usage_error(&cli, "no store: give --db DB");
    if (!key_path)
        return kk_cli_usage_error(&cli, "no key: give -k KEY");
    if (uid_mode && domain)
        return kk_cli_usage_error(&cli, "--domain is for pseudonyms, not with --uid");
    if (optind >= argc)
        return kk_cli_usage_error(&cli, "nothing to look up: give %s", uid_mode ? "NEWUID" : "PSEUDONYM");

    struct stat sb;
    if (stat(db_path, &sb) != 0) { /* a lookup never creates a store */
        kk_cli_error(&cli, "cannot open store '%s': %s", db_path, strerror(errno));
        return KK_EXIT_USAGE;
    }

    kk_ctx *ctx = kk_ctx_new();
    kk_key *key = NULL;
    kk_store *store = NULL;
    if (!ctx) {
        kk_cli_error(&cli, "out of memory");
        return KK_EXIT_USAGE;
    }
    if (kk_cli_load_key(&cli, ctx, key_path, pass_file, &key) != KK_OK ||
        kk_store_open(&store, ctx, db_path, key) != KK_OK) {
        kk_cli_error(&cli, "%s", kk_error_message(ctx));
        rc = KK_EXIT_USAGE;
        goto out;
    }
    for (int i = optind; i < argc; i++) {
        char *orig = NULL, *dom = NULL;
        kk_status st;
        if (uid_mode)
            st = kk_store_lookup_uid(store, ctx, argv[i], &orig);
        else if (domain)
            st = kk_store_lookup_pseudonym_in(store, ctx, domain, argv[i], &orig);
        else
            st = kk_store_lookup_pseudonym(store, ctx, argv[i], &orig, &dom);
        if (st == KK_OK) {
            printf("%s\n", orig);
            kk_cli_info(&cli, "'%s'%s%s: found (audited)", argv[i], dom ? " in domain " : "",
                        dom ? dom : "");
        } else {
            kk_cli_error(&cli, "%s", kk_error_message(ctx));
            if (st == KK_EKEY) {
                rc = KK_EXIT_USAGE;
            } else if (rc == KK_EXIT_OK) {
                rc = KK_EXIT_FAILED;
            }
        }
        if (orig)
            sodium_memzero(orig, strlen(orig));
        kk_free(orig);
        kk_free(dom);
        if (rc == KK_EXIT_USAGE)
            break;
    }
    if (fflush(stdout) != 0) {
        kk_cli_error(&cli, "cannot write the output");
        rc = KK_EXIT_FAILED;
    }
out:
    if (store && kk_store_close(store, ctx) != KK_OK) {
        kk_cli_error(&cli, "%s", kk_error_message(ctx));
        rc = KK_EXIT_USAGE;
    }
    kk_key_free(key);
    kk_ctx_free(ctx);
    return rc;
}
