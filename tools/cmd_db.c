/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tools/cmd_db.c - `kakou db`: look after a store.
 *
 *   kakou db verify --db DB [-k KEY]        check the audit chain (keyed: its MACs)
 *   kakou db upgrade --db DB -k KEY         key an older store's audit chain
 *   kakou db export-map --db DB -k KEY [--format csv] [-o FILE]
 *                                           write id_old,id_new rows
 *   kakou db merge -o OUT.db -k KEY A.db [B.db...]
 *                                           merge stores into OUT.db
 *   kakou db shred --db DB                  destroy a store at the end of
 *                                           its use (R24)
 *
 * The map export holds original identifiers: it goes to stdout or to a
 * new file created with mode 0600 (never overwritten), and the export is
 * audited in the store (R24). Merge refuses conflicting rows and sources
 * whose own audit chain does not verify (R25).
 *
 * Exit: 0 done; 1 tampered log (verify), a failed export, or a source
 * that could not be merged (the others were); 2 usage, key or store error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static void help(void)
{
    printf("usage: kakou db verify --db DB [-k KEY]\n"
           "       kakou db upgrade --db DB -k KEY\n"
           "       kakou db export-map --db DB -k KEY [--format csv] [-o FILE]\n"
           "       kakou db merge -o OUT.db -k KEY A.db [B.db...]\n"
           "       kakou db shred --db DB\n"
           "\n"
           "Check, export or merge kakou stores.\n"
           "\n"
           "commands:\n"
           "  verify              check the audit log's chain and name the first row\n"
           "                      that does not verify; with -k every row's MAC\n"
           "                      (HMAC-SHA-256 under a subkey of the project key),\n"
           "                      without it the links only (read-only either way)\n"
           "  upgrade             re-chain the unkeyed audit log of an older kakou under\n"
           "                      the key, once its old chain verifies (run once per\n"
           "                      old store)\n"
           "  export-map          write every mapping as CSV 'id_old,id_new' (original,\n"
           "                      replacement): UIDs first, then pseudonyms\n"
           "  merge               copy the rows of each source store into OUT.db\n"
           "                      (created if missing); conflicting rows refuse that\n"
           "                      source\n"
           "  shred               destroy the store at the end of its use: every row\n"
           "                      deleted with secure_delete, the file and its -wal\n"
           "                      and -shm overwritten, synced and removed\n"
           "\n"
           "input options:\n"
           "      --db DB         the store (verify, upgrade, export-map, shred)\n"
           "  -k, --key KEY       the project key: verify checks the rows' MACs with it\n"
           "                      (without it, the chain's structure only); upgrade,\n"
           "                      export-map and merge need it\n"
           KK_CLI_PASSFILE_HELP
           "\n"
           "output options:\n"
           "  -o, --output FILE   export-map: a new file (mode 0600) instead of stdout;\n"
           "                      merge: the store to merge into\n"
           "      --format csv    export-map format (csv, the only one)\n"
           "\n"
           KK_CLI_COMMON_HELP
           "\n"
           "Exit status: 0 done, 1 tampered log / failed export / a source not merged,\n"
           "2 usage, key or store error. See kakou-db(1).\n");
}

static int do_verify(kk_cli *cli, kk_ctx *ctx, const char *db_path, const char *key_path,
                     const char *pass_file)
{
    kk_key *key = NULL;
    kk_store *store = NULL;
    int64_t bad = 0;
    int rc = KK_EXIT_OK;

    /* read-only either way: a store on a DVD can be verified */
    if ((key_path && kk_cli_load_key(cli, ctx, key_path, pass_file, &key) != KK_OK) ||
        kk_store_open_readonly(&store, ctx, db_path, key) != KK_OK) {
        kk_cli_error(cli, "%s", kk_error_message(ctx));
        kk_key_free(key);
        return KK_EXIT_USAGE;
    }
    /* without the key only the links can be checked: say so, so that a
     * structure that holds is not read as a log nobody forged */
    kk_status st = key ? kk_store_verify(store, ctx, &bad)
                       : kk_store_verify_structure(store, ctx, &bad);
    if (st == KK_OK) {
        if (key)
            printf("%s: audit log verifies\n", db_path);
        else
            printf("%s: audit log structure verifies (rows' MACs not checked: give -k KEY)\n",
                   db_path);
    } else if (bad > 0) {
        kk_cli_error(cli, "%s", kk_error_message(ctx));
        printf("%s: audit log does not verify: first bad row %lld\n", db_path, (long long)bad);
        rc = KK_EXIT_FAILED;
    } else {
        kk_cli_error(cli, "%s", kk_error_message(ctx));
        rc = KK_EXIT_USAGE;
    }
    if (kk_store_close(store, ctx) != KK_OK) {
        kk_cli_error(cli, "%s", kk_error_message(ctx));
        rc = KK_EXIT_USAGE;
    }
    kk_key_free(key);
    return rc;
}

static int do_upgrade(kk_cli *cli, kk_ctx *ctx, const char *db_path, const char *key_path,
                      const char *pass_file)
{
    kk_key *key = NULL;
    kk_store *store = NULL;
    int rc = KK_EXIT_OK;

    if (kk_cli_load_key(cli, ctx, key_path, pass_file, &key) != KK_OK ||
        kk_store_open(&store, ctx, db_path, key) != KK_OK) {
        kk_cli_error(cli, "%s", kk_error_message(ctx));
        kk_key_free(key);
        return KK_EXIT_USAGE;
    }
    kk_status st = kk_store_upgrade_audit(store, ctx);
    if (st == KK_OK) {
        printf("%s: audit log re-chained under key id %s\n", db_path, kk_key_id(key));
    } else {
        kk_cli_error(cli, "%s", kk_error_message(ctx));
        rc = st == KK_ESTORE ? KK_EXIT_FAILED : KK_EXIT_USAGE;
    }
    if (kk_store_close(store, ctx) != KK_OK) {
        kk_cli_error(cli, "%s", kk_error_message(ctx));
        rc = KK_EXIT_USAGE;
    }
    kk_key_free(key);
    return rc;
}

static int do_export(kk_cli *cli, kk_ctx *ctx, const char *db_path, const char *key_path,
                     const char *pass_file, const char *out_path)
{
    kk_key *key = NULL;
    kk_store *store = NULL;
    FILE *fp = stdout;
    int rc = KK_EXIT_OK;

    if (kk_cli_load_key(cli, ctx, key_path, pass_file, &key) != KK_OK ||
        kk_store_open(&store, ctx, db_path, key) != KK_OK) {
        kk_cli_error(cli, "%s", kk_error_message(ctx));
        rc = KK_EXIT_USAGE;
        goto out;
    }
    if (out_path && strcmp(out_path, "-") != 0) {
        /* The map holds identifiers: a new, private file. */
        int fd = open(out_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            kk_cli_error(cli, "cannot create '%s': %s%s", out_path, strerror(errno),
                         errno == EEXIST ? " (the map is never overwritten)" : "");
            rc = KK_EXIT_USAGE;
            goto out;
        }
        fp = fdopen(fd, "w");
        if (!fp) {
            close(fd);
            kk_cli_error(cli, "cannot write '%s': %s", out_path, strerror(errno));
            rc = KK_EXIT_USAGE;
            goto out;
        }
    }
    kk_status st = kk_store_export_map(store, ctx, fp);
    if (st != KK_OK) {
        kk_cli_error(cli, "%s", kk_error_message(ctx));
        rc = st == KK_EKEY ? KK_EXIT_USAGE : KK_EXIT_FAILED;
    }
    if (fp != stdout) {
        if ((fsync(fileno(fp)) != 0 || fclose(fp) != 0) && rc == KK_EXIT_OK) {
            kk_cli_error(cli, "cannot write '%s': %s", out_path, strerror(errno));
            rc = KK_EXIT_FAILED;
        }
        if (rc != KK_EXIT_OK)
            unlink(out_path); /* no partial map left behind */
        else
            kk_cli_info(cli, "wrote the map to '%s' (mode 0600)", out_path);
    } else if (fflush(stdout) != 0 && rc == KK_EXIT_OK) {
        kk_cli_error(cli, "cannot write the map");
        rc = KK_EXIT_FAILED;
    }
out:
    if (store && kk_store_close(store, ctx) != KK_OK) {
        kk_cli_error(cli, "%s", kk_error_message(ctx));
        rc = KK_EXIT_USAGE;
    }
    kk_key_free(key);
    return rc;
}

static int do_merge(kk_cli *cli, kk_ctx *ctx, const char *out_path, const char *key_path,
                    const char *pass_file, int n, char **srcs)
{
    kk_key *key = NULL;
    kk_store *store = NULL;
    int rc = KK_EXIT_OK;

    if (kk_cli_load_key(cli, ctx, key_path, pass_file, &key) != KK_OK ||
        kk_store_open(&store, ctx, out_path, key) != KK_OK) {
        kk_cli_error(cli, "%s", kk_error_message(ctx));
        rc = KK_EXIT_USAGE;
        goto out;
    }
    for (int i = 0; i < n; i++) {
        if (kk_store_merge(store, ctx, srcs[i]) != KK_OK) {
            kk_cli_error(cli, "%s", kk_error_message(ctx));
            rc = KK_EXIT_FAILED;
        } else {
            kk_cli_info(cli, "merged '%s' into '%s'", srcs[i], out_path);
        }
    }
out:
    if (store && kk_store_close(store, ctx) != KK_OK) {
        kk_cli_error(cli, "%s", kk_error_message(ctx));
        rc = KK_EXIT_USAGE;
    }
    kk_key_free(key);
    return rc;
}

int kk_cmd_db(int argc, char **argv)
{
    kk_cli cli = { "db", KK_LOG_WARN, false };
    const char *db_path = NULL, *key_path = NULL, *out_path = NULL, *format = NULL;
    const char *pass_file = NULL;
    enum { OPT_DB = 0x2001, OPT_FORMAT, OPT_PASSFILE };
    static const struct option longopts[] = {
        { "db", required_argument, NULL, OPT_DB },
        { "key", required_argument, NULL, 'k' },
        { "output", required_argument, NULL, 'o' },
        { "format", required_argument, NULL, OPT_FORMAT },
        { "passphrase-file", required_argument, NULL, OPT_PASSFILE },
        KK_CLI_COMMON_LONG,
        { NULL, 0, NULL, 0 }
    };
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "k:o:" KK_CLI_COMMON_SHORT, longopts, NULL)) != -1) {
        switch (c) {
        case OPT_DB: db_path = optarg; break;
        case 'k': key_path = optarg; break;
        case 'o': out_path = optarg; break;
        case OPT_FORMAT: format = optarg; break;
        case OPT_PASSFILE: pass_file = optarg; break;
        case 'h': help(); return KK_EXIT_OK;
        default:
            if (kk_cli_common_option(&cli, c, optarg))
                break;
            return kk_cli_usage_error(&cli, "unknown option");
        }
    }
    if (optind >= argc)
        return kk_cli_usage_error(&cli, "no command: give verify, upgrade, export-map, merge or shred");
    const char *sub = argv[optind++];
    int nargs = argc - optind;

    if (strcmp(sub, "verify") == 0 || strcmp(sub, "upgrade") == 0) {
        if (!db_path)
            return kk_cli_usage_error(&cli, "no store: give --db DB");
        if (!key_path && strcmp(sub, "upgrade") == 0)
            return kk_cli_usage_error(&cli, "no key: give -k KEY (the audit chain is keyed)");
        if (out_path || format || nargs)
            return kk_cli_usage_error(&cli, "%s takes only --db DB and -k KEY", sub);
    } else if (strcmp(sub, "export-map") == 0) {
        if (!db_path)
            return kk_cli_usage_error(&cli, "no store: give --db DB");
        if (!key_path)
            return kk_cli_usage_error(&cli, "no key: give -k KEY");
        if (format && strcmp(format, "csv") != 0)
            return kk_cli_usage_error(&cli, "unknown format '%s' (csv)", format);
        if (nargs)
            return kk_cli_usage_error(&cli, "export-map takes no arguments");
    } else if (strcmp(sub, "merge") == 0) {
        if (!out_path)
            return kk_cli_usage_error(&cli, "no output store: give -o OUT.db");
        if (!key_path)
            return kk_cli_usage_error(&cli, "no key: give -k KEY (the audit chain is keyed)");
        if (db_path || format)
            return kk_cli_usage_error(&cli, "merge takes -o OUT.db -k KEY and source stores");
        if (nargs < 1)
            return kk_cli_usage_error(&cli, "no source store: give A.db [B.db...]");
    } else if (strcmp(sub, "shred") == 0) {
        if (!db_path)
            return kk_cli_usage_error(&cli, "no store: give --db DB");
        if (key_path || out_path || format || nargs)
            return kk_cli_usage_error(&cli, "shred takes only --db DB");
    } else {
        return kk_cli_usage_error(&cli, "unknown command '%s': give verify, upgrade, export-map, merge or shred", sub);
    }

    /* verify and export-map read a store: never create one. */
    struct stat sb;
    if (db_path && stat(db_path, &sb) != 0) {
        kk_cli_error(&cli, "cannot open store '%s': %s", db_path, strerror(errno));
        return KK_EXIT_USAGE;
    }

    kk_ctx *ctx = kk_ctx_new();
    if (!ctx) {
        kk_cli_error(&cli, "out of memory");
        return KK_EXIT_USAGE;
    }
    if (strcmp(sub, "verify") == 0)
        rc = do_verify(&cli, ctx, db_path, key_path, pass_file);
    else if (strcmp(sub, "upgrade") == 0)
        rc = do_upgrade(&cli, ctx, db_path, key_path, pass_file);
    else if (strcmp(sub, "export-map") == 0)
        rc = do_export(&cli, ctx, db_path, key_path, pass_file, out_path);
    else if (strcmp(sub, "shred") == 0) {
        rc = KK_EXIT_OK;
        if (kk_store_shred(ctx, db_path) != KK_OK) {
            kk_cli_error(&cli, "%s", kk_error_message(ctx));
            rc = KK_EXIT_USAGE;
        } else {
            kk_cli_info(&cli, "shredded store '%s'", db_path);
        }
    } else
        rc = do_merge(&cli, ctx, out_path, key_path, pass_file, nargs, argv + optind);
    kk_ctx_free(ctx);
    return rc;
}
