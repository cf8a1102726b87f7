/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tools/cli.h - what the subcommands of the kakou tool share: exit codes,
 * verbosity, messages in one format, and the command table.
 * Each subcommand lives in tools/cmd_<name>.c and is listed once in
 * tools/kakou.c. Messages never carry attribute values (R04).
 */
#ifndef KK_TOOLS_CLI_H
#define KK_TOOLS_CLI_H

#include <stdbool.h>

#include "kakou/kakou.h"

/* Exit codes, fixed by issue 2: see man/kakou.1 EXIT STATUS. */
#define KK_EXIT_OK 0      /* every input was done */
#define KK_EXIT_FAILED 1  /* some inputs failed; the rest were done */
#define KK_EXIT_USAGE 2   /* usage, profile, key or configuration error */

/* Log levels, as DCMTK's tools: -q error only, default warn+info summary,
 * -v info, -v -v (or -d) debug. */
enum kk_log_level { KK_LOG_ERROR = 0, KK_LOG_WARN, KK_LOG_INFO, KK_LOG_DEBUG };

typedef struct kk_cli {
    const char *name;       /* "deid", for messages: "kakou deid: ..." */
    int level;              /* enum kk_log_level */
    bool show_progress;
} kk_cli;

/* Common options every subcommand takes: -h/--help, -q, -v, -d and
 * --log-level LEVEL. Returns true when opt was one of them. */
bool kk_cli_common_option(kk_cli *cli, int opt, const char *arg);

#define KK_CLI_COMMON_SHORT "hqvd"
#define KK_CLI_LOG_LEVEL_OPT 0x1001
#define KK_CLI_COMMON_LONG                                   \
    { "help", no_argument, NULL, 'h' },                      \
    { "quiet", no_argument, NULL, 'q' },                     \
    { "verbose", no_argument, NULL, 'v' },                   \
    { "debug", no_argument, NULL, 'd' },                     \
    { "log-level", required_argument, NULL, KK_CLI_LOG_LEVEL_OPT }

/* -p PROFILE, -O OPTION (repeatable) and -k KEYFILE, as deid and explain
 * take them. */
typedef struct kk_cli_profile_args {
    const char *profile;   /* NULL: dicom-basic */
    const char *key_path;  /* NULL: none */
    const char *options[65];
    int noptions;          /* options[noptions] is NULL */
    const char *passphrase_file; /* --passphrase-file: NULL, none */
} kk_cli_profile_args;

#define KK_CLI_PROFILE_SHORT "p:O:k:"
#define KK_CLI_PASSFILE_OPT 0x1002
#define KK_CLI_PROFILE_LONG                                  \
    { "profile", required_argument, NULL, 'p' },             \
    { "option", required_argument, NULL, 'O' },              \
    { "key", required_argument, NULL, 'k' },                 \
    { "passphrase-file", required_argument, NULL, KK_CLI_PASSFILE_OPT }

/* The --help line of --passphrase-file, for every command taking -k. */
#define KK_CLI_PASSFILE_HELP                                          \
    "      --passphrase-file F  the passphrase of a protected key file\n" \
    "                      (first line of F, mode 0600); without it a\n"  \
    "                      protected key is asked for on a terminal\n"

/* Load the key file path (-k): a protected one opens with the passphrase
 * in pass_file, or one asked for on the terminal when stdin is one.
 * The error is left in ctx (a protected key without its passphrase says
 * so); the caller prints it. */
kk_status kk_cli_load_key(const kk_cli *cli, kk_ctx *ctx, const char *path,
                          const char *pass_file, kk_key **out);

/* The passphrase for a key file: from pass_file, or asked on the terminal
 * (twice with confirm). *out stays NULL (and KK_OK is returned) when
 * neither is possible and required is 0. The error is left in ctx. */
kk_status kk_cli_passphrase(const kk_cli *cli, kk_ctx *ctx, const char *pass_file,
                            int confirm, int required, kk_secret **out);

/* Take opt when it is -p, -O or -k: returns 1 when taken, 0 when not
 * one of them, -1 after printing a usage error. */
int kk_cli_profile_option(const kk_cli *cli, kk_cli_profile_args *pa, int opt,
                          const char *arg);

/* The --help lines of the common options, the same in every subcommand. */
#define KK_CLI_COMMON_HELP                                           \
    "general options:\n"                                             \
    "  -h, --help          show this help and exit\n"                \
    "  -q, --quiet         print errors only\n"                      \
    "  -v, --verbose       say more; twice for debug output\n"       \
    "  -d, --debug         debug output\n"                           \
    "      --log-level L   error, warn, info or debug\n"

void kk_cli_error(const kk_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void kk_cli_warn(const kk_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void kk_cli_info(const kk_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void kk_cli_debug(const kk_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Print "kakou NAME: try 'kakou NAME --help'" and return KK_EXIT_USAGE. */
int kk_cli_usage_error(const kk_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Load a profile for a subcommand: -p value (default "dicom-basic") and
 * the -O options gathered so far. Prints the error and returns NULL. */
kk_profile *kk_cli_load_profile(const kk_cli *cli, kk_ctx *ctx,
                                const char *name_or_path,
                                const char **options);

/* A run that only decides (explain, review): the -p/-O profile, the -k key
 * or an ephemeral one when the profile needs a key, and a kk_deid started
 * with decide_only. Errors are printed; kk_cli_close_run() frees it all. */
typedef struct kk_cli_run {
    kk_profile *profile;
    kk_key *key;
    kk_deid *deid;
} kk_cli_run;
kk_status kk_cli_open_deciding_run(const kk_cli *cli, kk_ctx *ctx, const kk_cli_profile_args *pa,
                                   kk_cli_run *run);
void kk_cli_close_run(kk_cli_run *run);

/* The first pass of a release (tools/release_pass.c): read every input's
 * header (opted-out patients left out), solve, write the JSON report to
 * report_path and the class-size chart (PNG) to chart_path when given.
 * Errors are printed. */
kk_status kk_cli_release_pass(const kk_cli *cli, kk_ctx *ctx, const kk_profile *profile,
                              unsigned k, const kk_optout *optout, const char *report_path,
                              const char *chart_path, int jobs, int nargs, char **args,
                              kk_release **out);

/* A subcommand: main-like entry point. argv[0] is the subcommand name. */
typedef struct kk_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} kk_command;

int kk_cmd_deid(int argc, char **argv);
int kk_cmd_explain(int argc, char **argv);
int kk_cmd_profile(int argc, char **argv);
int kk_cmd_key(int argc, char **argv);
int kk_cmd_lookup(int argc, char **argv);
int kk_cmd_db(int argc, char **argv);
int kk_cmd_verify(int argc, char **argv);
int kk_cmd_review(int argc, char **argv);
int kk_cmd_manifest(int argc, char **argv);
int kk_cmd_pack(int argc, char **argv);
int kk_cmd_unpack(int argc, char **argv);
int kk_cmd_gateway(int argc, char **argv);

#endif /* KK_TOOLS_CLI_H */
