/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tools/cmd_key.c - `kakou key`: create a key file, print the key id of
 * one, or rotate to a new key. The key itself is never printed (R09, R23).
 *
 *   kakou key new [--passphrase-file F | --protect] FILE
 *                          write a new random key (mode 0600), print its id
 *   kakou key new --sign [...] FILE
 *                          write an Ed25519 signing key pair FILE, FILE.pub
 *   kakou key new --box [...] FILE
 *                          write an X25519 recipient key pair FILE, FILE.pub
 *   kakou key id FILE      print the key id of an existing key file
 *   kakou key rotate -k OLD [--db DB] [...] NEWFILE
 *                          write a new key and retire OLD in the store
 *
 * Exit: 0 done; 2 usage or key error (exists, unsafe mode, malformed,
 * wrong or missing passphrase).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static void help(void)
{
    printf("usage: kakou key new [--sign | --box] [--passphrase-file F | --protect] FILE\n"
           "       kakou key id FILE\n"
           "       kakou key rotate -k OLDKEY [--db DB] [--passphrase-file F | --protect] NEWFILE\n"
           "\n"
           "Create a project key, a signing key or a recipient key, print the key\n"
           "id of one, or rotate to a new project key.\n"
           "\n"
           "commands:\n"
           "  new FILE            write a new random 256-bit key to FILE (mode 0600;\n"
           "                      an existing file is never overwritten) and print\n"
           "                      its key id\n"
           "  id FILE             print the key id of the key in FILE (a protected\n"
           "                      file too: the id is public)\n"
           "  rotate NEWFILE      write a new key to NEWFILE and print its id; with\n"
           "                      --db, record OLDKEY as retired in the store: deid\n"
           "                      refuses it from then on, lookups still use it;\n"
           "                      OLDKEY hands the audit chain to the new key\n"
           "\n"
           "options:\n"
           "      --sign          new: an Ed25519 signing key pair for 'kakou manifest':\n"
           "                      the secret key in FILE (0600), the public key in\n"
           "                      FILE.pub (give that to the recipient)\n"
           "      --box           new: an X25519 recipient key pair for 'kakou unpack':\n"
           "                      the secret key in FILE (0600), the public key in\n"
           "                      FILE.pub (give that to the sender, for 'kakou pack')\n"
           "      --passphrase-file F  store the new key encrypted under the passphrase\n"
           "                      on the first line of F (Argon2id + secretbox)\n"
           "      --protect       the same, with the passphrase asked twice on the\n"
           "                      terminal (no echo)\n"
           "  -k, --key OLDKEY    rotate: the key being retired\n"
           "      --db DB         rotate: the store that records the rotation\n"
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
    enum { OPT_SIGN = 0x2001, OPT_PASSFILE, OPT_PROTECT, OPT_DB, OPT_BOX };
    static const struct option longopts[] = {
        { "sign", no_argument, NULL, OPT_SIGN },
        { "box", no_argument, NULL, OPT_BOX },
        { "passphrase-file", required_argument, NULL, OPT_PASSFILE },
        { "protect", no_argument, NULL, OPT_PROTECT },
        { "key", required_argument, NULL, 'k' },
        { "db", required_argument, NULL, OPT_DB },
        KK_CLI_COMMON_LONG,
        { NULL, 0, NULL, 0 }
    };
    const char *pass_file = NULL, *old_path = NULL, *db_path = NULL;
    bool sign = false, box = false, protect = false;
    int c, rc = KK_EXIT_OK;

    optind = 1;
    while ((c = getopt_long(argc, argv, "k:" KK_CLI_COMMON_SHORT, longopts, NULL)) != -1) {
        switch (c) {
        case OPT_SIGN: sign = true; break;
        case OPT_BOX: box = true; break;
        case OPT_PASSFILE: pass_file = optarg; break;
        case OPT_PROTECT: protect = true; break;
        case 'k': old_path = optarg; break;
        case OPT_DB: db_path = optarg; break;
        case 'h': help(); return KK_EXIT_OK;
        default:
            if (kk_cli_common_option(&cli, c, optarg))
                break;
            return kk_cli_usage_error(&cli, "unknown option");
        }
    }
    if (optind >= argc)
        return kk_cli_usage_error(&cli, "no command: give 'new FILE', 'id FILE' or 'rotate NEWFILE'");
    const char *sub = argv[optind];
    bool is_new = strcmp(sub, "new") == 0, is_rotate = strcmp(sub, "rotate") == 0;
    if (!is_new && !is_rotate && strcmp(sub, "id") != 0)
        return kk_cli_usage_error(&cli, "unknown command '%s': give 'new FILE', 'id FILE' or 'rotate NEWFILE'", sub);
    if (optind + 1 >= argc)
        return kk_cli_usage_error(&cli, "no key file: give '%s FILE'", sub);
    if (optind + 2 < argc)
        return kk_cli_usage_error(&cli, "one key file at a time");
    if (pass_file && protect)
        return kk_cli_usage_error(&cli, "give --passphrase-file or --protect, not both");
    if (!is_new && !is_rotate && (pass_file || protect || sign || box))
        return kk_cli_usage_error(&cli, "'id' takes no key options");
    if ((sign || box) && !is_new)
        return kk_cli_usage_error(&cli, "--sign and --box are for 'new'");
    if (sign && box)
        return kk_cli_usage_error(&cli, "give --sign or --box, not both");
    if (is_rotate && !old_path)
        return kk_cli_usage_error(&cli, "rotate needs the key it retires: give -k OLDKEY");
    if (!is_rotate && (old_path || db_path))
        return kk_cli_usage_error(&cli, "-k and --db are for 'rotate'");
    const char *path = argv[optind + 1];

    kk_ctx *ctx = kk_ctx_new();
    kk_key *key = NULL, *old = NULL;
    kk_secret *pass = NULL;
    kk_store *store = NULL;
    char id[KK_KEY_ID_CHARS + 1], old_id[KK_KEY_ID_CHARS + 1];
    if (!ctx) {
        kk_cli_error(&cli, "out of memory");
        return KK_EXIT_USAGE;
    }
    if (!is_new && !is_rotate) {
        if (kk_key_file_id(ctx, path, id) != KK_OK)
            goto fail;
        printf("%s\n", id);
        goto out;
    }
    if (is_rotate && kk_key_file_id(ctx, old_path, old_id) != KK_OK)
        goto fail;
    /* the old key itself, before the new file exists: it holds the audit
     * chain and hands it over (a failure must not leave a half rotation) */
    if (is_rotate && db_path) {
        struct stat sb;
        if (stat(db_path, &sb) != 0) {
            kk_cli_error(&cli, "cannot open store '%s': no such file", db_path);
            rc = KK_EXIT_USAGE;
            goto out;
        }
        if (kk_cli_load_key(&cli, ctx, old_path, pass_file, &old) != KK_OK ||
            kk_store_open(&store, ctx, db_path, old) != KK_OK)
            goto fail;
    }
    if ((pass_file || protect) &&
        kk_cli_passphrase(&cli, ctx, pass_file, 1, 1, &pass) != KK_OK)
        goto fail;
    if (sign || box) {
        if ((sign ? kk_sign_key_generate_file(ctx, path, pass, id)
                  : kk_box_key_generate_file(ctx, path, pass, id)) != KK_OK)
            goto fail;
        printf("%s\n", id);
        kk_cli_info(&cli, "wrote %s key %s to '%s' (mode 0600%s) and its public key "
                    "to '%s.pub'", sign ? "signing" : "recipient", id, path,
                    pass ? ", encrypted" : "", path);
        goto out;
    }
    if (kk_key_generate_file_protected(ctx, path, pass) != KK_OK ||
        kk_key_load_protected(&key, ctx, path, pass) != KK_OK)
        goto fail;
    if (is_rotate && strcmp(old_id, kk_key_id(key)) == 0) {
        kk_cli_error(&cli, "the new key has the id of the old one");
        rc = KK_EXIT_USAGE;
        goto out;
    }
    if (store) {
        if (kk_store_grant_audit(store, ctx, key) != KK_OK ||
            kk_store_retire_key(store, ctx, old_id, kk_key_id(key)) != KK_OK)
            goto fail;
        kk_cli_info(&cli, "store '%s': key %s retired, key %s in use", db_path, old_id,
                    kk_key_id(key));
    }
    printf("%s\n", kk_key_id(key));
    kk_cli_info(&cli, "wrote key %s to '%s' (mode 0600%s); back it up", kk_key_id(key), path,
                pass ? ", encrypted" : "");
    goto out;
fail:
    kk_cli_error(&cli, "%s", kk_error_message(ctx));
    rc = KK_EXIT_USAGE;
out:
    if (store && kk_store_close(store, ctx) != KK_OK) {
        kk_cli_error(&cli, "%s", kk_error_message(ctx));
        rc = KK_EXIT_USAGE;
    }
    kk_secret_free(pass);
    kk_key_free(key);
    kk_key_free(old);
    kk_ctx_free(ctx);
    return rc;
}
