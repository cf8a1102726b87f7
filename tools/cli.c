/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tools/cli.c - what the subcommands share: common options, messages in
 * one format ("kakou NAME: ..."), and loading a profile. Messages never
 * carry attribute values (R04).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

bool kk_cli_common_option(kk_cli *cli, int opt, const char *arg)
{
    switch (opt) {
    case 'q':
        cli->level = KK_LOG_ERROR;
        return true;
    case 'v':
        if (cli->level < KK_LOG_DEBUG)
            cli->level++;
        return true;
    case 'd':
        cli->level = KK_LOG_DEBUG;
        return true;
    case KK_CLI_LOG_LEVEL_OPT:
        if (strcmp(arg, "error") == 0 || strcmp(arg, "fatal") == 0)
            cli->level = KK_LOG_ERROR;
        else if (strcmp(arg, "warn") == 0)
            cli->level = KK_LOG_WARN;
        else if (strcmp(arg, "info") == 0)
            cli->level = KK_LOG_INFO;
        else if (strcmp(arg, "debug") == 0 || strcmp(arg, "trace") == 0)
            cli->level = KK_LOG_DEBUG;
        else {
            fprintf(stderr, "kakou %s: unknown log level '%s' (error, warn, info, debug)\n",
                    cli->name, arg);
            exit(KK_EXIT_USAGE);
        }
        return true;
    default:
        return false;
    }
}

int kk_cli_profile_option(const kk_cli *cli, kk_cli_profile_args *pa, int opt,
                          const char *arg)
{
    switch (opt) {
    case 'p':
        pa->profile = arg;
        return 1;
    case 'k':
        pa->key_path = arg;
        return 1;
    case KK_CLI_PASSFILE_OPT:
        pa->passphrase_file = arg;
        return 1;
    case 'O':
        if (pa->noptions == 64) {
            kk_cli_usage_error(cli, "too many -O options");
            return -1;
        }
        pa->options[pa->noptions++] = arg;
        pa->options[pa->noptions] = NULL;
        return 1;
    default:
        return 0;
    }
}

/* Write a message for a terminal: bytes that came from files (a path, a
 * transfer syntax UID, a library's words about a value) may hold escape
 * sequences or other control characters, which would act on the
 * terminal. Those, and bytes that are not UTF-8, are written as \xNN;
 * text in UTF-8 (Japanese too) is written as it is. */
static void put_escaped(FILE *fp, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        int n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
              : (c & 0xF8) == 0xF0 ? 4 : 0;
        bool ok = n > 0 && !(n == 2 && c < 0xC2) && !(n == 4 && c > 0xF4);
        for (int i = 1; ok && i < n; i++)
            ok = (p[i] & 0xC0) == 0x80;
        if (ok && n == 1 && (c < 0x20 || c == 0x7F))
            ok = false; /* C0 controls and DEL, ESC among them */
        if (ok && n == 2 && c == 0xC2 && p[1] < 0xA0)
            ok = false; /* C1 controls (U+0080..U+009F), CSI among them */
        if (!ok) {
            fprintf(fp, "\\x%02x", c);
            p++;
            continue;
        }
        fwrite(p, 1, (size_t)n, fp);
        p += n;
    }
}

static void vmsg(const kk_cli *cli, int level, const char *prefix, const char *fmt, va_list ap)
{
    if (cli->level < level)
        return;
    char buf[2048];
    char *m = buf;
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    if (n >= (int)sizeof buf && (m = malloc((size_t)n + 1)) != NULL)
        vsnprintf(m, (size_t)n + 1, fmt, aq);
    va_end(aq);
    if (!m)
        m = buf; /* cut short rather than lost */
    flockfile(stderr);
    fprintf(stderr, "kakou %s: %s", cli->name, prefix);
    put_escaped(stderr, m);
    fputc('\n', stderr);
    funlockfile(stderr);
    if (m != buf)
        free(m);
}

void kk_cli_error(const kk_cli *cli, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(cli, KK_LOG_ERROR, "", fmt, ap);
    va_end(ap);
}

void kk_cli_warn(const kk_cli *cli, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(cli, KK_LOG_WARN, "warning: ", fmt, ap);
    va_end(ap);
}

void kk_cli_info(const kk_cli *cli, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(cli, KK_LOG_INFO, "", fmt, ap);
    va_end(ap);
}

void kk_cli_debug(const kk_cli *cli, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(cli, KK_LOG_DEBUG, "", fmt, ap);
    va_end(ap);
}

int kk_cli_usage_error(const kk_cli *cli, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "kakou %s: ", cli->name);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nkakou %s: try 'kakou %s --help'\n", cli->name, cli->name);
    return KK_EXIT_USAGE;
}

kk_profile *kk_cli_load_profile(const kk_cli *cli, kk_ctx *ctx, const char *name_or_path,
                                const char **options)
{
    kk_profile *p = NULL;
    if (kk_profile_load(&p, ctx, name_or_path ? name_or_path : "dicom-basic", options) != KK_OK) {
        fprintf(stderr, "kakou %s: %s\n", cli->name, kk_error_message(ctx));
        return NULL;
    }
    return p;
}

kk_status kk_cli_open_deciding_run(const kk_cli *cli, kk_ctx *ctx, const kk_cli_profile_args *pa,
                                   kk_cli_run *run)
{
    memset(run, 0, sizeof *run);
    run->profile = kk_cli_load_profile(cli, ctx, pa->profile, (const char **)pa->options);
    if (!run->profile)
        return KK_EINVAL;
    kk_status st = KK_OK;
    if (pa->key_path)
        st = kk_cli_load_key(cli, ctx, pa->key_path, pa->passphrase_file, &run->key);
    /* deciding needs no key of the project: an ephemeral one shows the
     * same decisions */
    else if (kk_profile_needs_key(run->profile))
        st = kk_key_new_ephemeral(&run->key, ctx);
    kk_deid_options o = KK_DEID_OPTIONS_INIT;
    o.key = run->key;
    o.decide_only = 1; /* nothing is written: no store needed */
    if (st == KK_OK)
        st = kk_deid_new(&run->deid, ctx, run->profile, &o);
    if (st != KK_OK) {
        kk_cli_error(cli, "%s", kk_error_message(ctx));
        kk_cli_close_run(run);
    }
    return st;
}

void kk_cli_close_run(kk_cli_run *run)
{
    kk_deid_free(run->deid);
    kk_key_free(run->key);
    kk_profile_free(run->profile);
    memset(run, 0, sizeof *run);
}

kk_status kk_cli_passphrase(const kk_cli *cli, kk_ctx *ctx, const char *pass_file,
                            int confirm, int required, kk_secret **out)
{
    kk_status st = KK_OK;
    *out = NULL;
    if (pass_file)
        st = kk_secret_from_file(out, ctx, pass_file);
    else if (required || isatty(STDIN_FILENO))
        st = kk_secret_prompt(out, ctx, "Passphrase: ", confirm);
    (void)cli;
    return st;
}

kk_status kk_cli_load_key(const kk_cli *cli, kk_ctx *ctx, const char *path,
                          const char *pass_file, kk_key **out)
{
    kk_secret *pass = NULL;
    kk_status st = KK_OK;
    *out = NULL;
    /* ask only for a key that needs it, and only on a terminal: elsewhere
     * the loader says the key is protected and how to give the passphrase */
    if (kk_key_file_is_protected(path) && (pass_file || isatty(STDIN_FILENO)))
        st = kk_cli_passphrase(cli, ctx, pass_file, 0, 1, &pass);
    else if (pass_file)
        st = kk_cli_passphrase(cli, ctx, pass_file, 0, 1, &pass);
    if (st != KK_OK)
        return st;
    st = kk_key_load_protected(out, ctx, path, pass);
    kk_secret_free(pass);
    return st;
}
