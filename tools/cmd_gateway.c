/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tools/cmd_gateway.c - `kakou gateway`: a DICOM node that de-identifies
 * what it receives and forwards it (include/kakou/gateway.h does the
 * work; this file parses options, opens the run and handles signals).
 * Runs in the foreground until SIGTERM or SIGINT: then it stops
 * accepting, lets open associations finish, forwards what is queued for a
 * while (--drain) and exits 0.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "kakou/kakou.h"

/* the gateway a signal stops: a signal handler can reach nothing else */
static kk_gateway *volatile running;

static void on_signal(int sig)
{
    (void)sig;
    kk_gateway *gw = running;
    if (gw)
        kk_gateway_stop(gw);
}

static void help(void)
{
    printf("usage: kakou gateway --listen [AET@]PORT --forward AET@HOST:PORT --spool DIR\n"
           "                     [-p PROFILE] [-O OPTION]... [-k KEYFILE --db DB] [-j N]\n"
           "                     [--allow AET[,AET]...] [--bind ADDR] [--report FILE]\n"
           "                     [--tls-key KEY --tls-cert CERT [--tls-ca CA]]\n"
           "                     [--forward-tls --forward-ca CA [--forward-key KEY --forward-cert CERT]]\n\n"
           "Receive DICOM objects (C-STORE, C-ECHO), de-identify each one, keep it in the\n"
           "spool folder and forward it to AET@HOST:PORT. A sender is told Success only\n"
           "once the de-identified object is safe on disk. Runs until SIGTERM or SIGINT.\n\n"
           "options:\n"
           "      --listen [AET@]PORT   port to listen on; with AET, refuse associations\n"
           "                            called otherwise (our AE title, default KAKOU)\n"
           "      --forward AET@HOST:PORT  destination (C-STORE SCP)\n"
           "      --forward-associations N  forward over N associations at once\n"
           "                          (default 1; for a destination that serves several)\n"
           "      --spool DIR         queue folder (tmp/ queue/ sent/ dead/), made when missing\n"
           "  -p, --profile PROFILE   built-in name or profile file (default dicom-basic)\n"
           "  -O, --option OPTION     enable a profile option (repeatable)\n"
           "  -k, --key KEYFILE       key for UIDs and pseudonyms: with it, a re-sent object\n"
           "                          gets the same UIDs and is never forwarded twice\n"
           "      --db DB             store for correspondence and audit (not in DIR)\n"
           "  -j, --jobs N            associations served at once (default 8)\n"
           "      --allow AET[,AET]...  calling AE titles allowed (default: any)\n"
           "      --bind ADDR         IPv4 address to listen on (default 127.0.0.1)\n"
           "      --report FILE       write the counts as JSON to FILE at exit\n"
           "      --attempts N        tries per object before dead/ (default 5)\n"
           "      --retry-delay S     first back-off in seconds, doubled per try (default 1)\n"
           "      --retry-max S       largest back-off in seconds (default 60)\n"
           "      --drain S           at stop, forward what is queued for up to S seconds\n"
           "                          (default 10; 0 not at all)\n"
           "      --max-object-size MB  refuse objects larger than MB\n"
           "TLS (PEM files; DCMTK's dcmtls, BCP 195 profile):\n"
           "      --tls-key KEY       listen over TLS only, with this private key...\n"
           "      --tls-cert CERT     ...and this certificate\n"
           "      --tls-ca CA         senders must show a certificate this CA signed\n"
           "      --forward-tls       forward over TLS...\n"
           "      --forward-ca CA     ...to a destination whose certificate CA signed\n"
           "      --forward-key KEY, --forward-cert CERT  our certificate towards the\n"
           "                          destination, when it asks for one\n"
           "\n" KK_CLI_COMMON_HELP "\n"
           "exit status: 0 stopped by a signal, 1 the network or spool failed while\n"
           "running, 2 usage or configuration error\n");
}

static void log_line(int level, const char *message, void *payload)
{
    const kk_cli *cli = payload;
    switch (level) {
    case KK_GATEWAY_ERROR: kk_cli_error(cli, "%s", message); break;
    case KK_GATEWAY_WARN: kk_cli_warn(cli, "%s", message); break;
    case KK_GATEWAY_INFO: kk_cli_info(cli, "%s", message); break;
    default: kk_cli_debug(cli, "%s", message); break;
    }
}

static bool parse_port(const char *s, int *port)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 1 || v > 65535)
        return false;
    *port = (int)v;
    return true;
}

static bool parse_seconds(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (!*s || *end || v < 0 || v > 86400)
        return false;
    *out = v;
    return true;
}

static bool valid_ae(const char *s, size_t n)
{
    if (n == 0 || n > 16)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\\' || (unsigned char)s[i] < 0x20)
            return false;
    return true;
}

int kk_cmd_gateway(int argc, char **argv)
{
    kk_cli cli = { "gateway", KK_LOG_WARN, false };
    kk_cli_profile_args pa = { NULL, NULL, { NULL }, 0, NULL };
    const char *listen = NULL, *forward = NULL, *spool = NULL, *db_path = NULL;
    const char *allow_arg = NULL, *bind_addr = NULL, *report_path = NULL;
    const char *tls_key = NULL, *tls_cert = NULL, *tls_ca = NULL;
    const char *fwd_ca = NULL, *fwd_key = NULL, *fwd_cert = NULL;
    int fwd_tls = 0;
    long jobs = 8, attempts = 5, fwd_assoc = 1;
    double retry_delay = 1, retry_max = 60, drain = 10;
    unsigned long long max_mb = 0;
    enum { OPT_LISTEN = 0x2001, OPT_FORWARD, OPT_SPOOL, OPT_DB, OPT_ALLOW, OPT_BIND, OPT_REPORT,
           OPT_ATTEMPTS, OPT_RETRY_DELAY, OPT_RETRY_MAX, OPT_DRAIN, OPT_MAXSIZE, OPT_TLS_KEY,
           OPT_TLS_CERT, OPT_TLS_CA, OPT_FWD_TLS, OPT_FWD_CA, OPT_FWD_KEY, OPT_FWD_CERT,
           OPT_FWD_ASSOC };
    static const struct option longopts[] = {
        KK_CLI_PROFILE_LONG,
        { "listen", required_argument, NULL, OPT_LISTEN },
        { "forward", required_argument, NULL, OPT_FORWARD },
        { "spool", required_argument, NULL, OPT_SPOOL },
        { "db", required_argument, NULL, OPT_DB },
        { "jobs", required_argument, NULL, 'j' },
        { "allow", required_argument, NULL, OPT_ALLOW },
        { "bind", required_argument, NULL, OPT_BIND },
        { "report", required_argument, NULL, OPT_REPORT },
        { "attempts", required_argument, NULL, OPT_ATTEMPTS },
        { "retry-delay", required_argument, NULL, OPT_RETRY_DELAY },
        { "retry-max", required_argument, NULL, OPT_RETRY_MAX },
        { "drain", required_argument, NULL, OPT_DRAIN },
        { "max-object-size", required_argument, NULL, OPT_MAXSIZE },
        { "tls-key", required_argument, NULL, OPT_TLS_KEY },
        { "tls-cert", required_argument, NULL, OPT_TLS_CERT },
        { "tls-ca", required_argument, NULL, OPT_TLS_CA },
        { "forward-tls", no_argument, NULL, OPT_FWD_TLS },
        { "forward-ca", required_argument, NULL, OPT_FWD_CA },
        { "forward-key", required_argument, NULL, OPT_FWD_KEY },
        { "forward-cert", required_argument, NULL, OPT_FWD_CERT },
        { "forward-associations", required_argument, NULL, OPT_FWD_ASSOC },
        KK_CLI_COMMON_LONG,
        { NULL, 0, NULL, 0 }
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, KK_CLI_PROFILE_SHORT "j:" KK_CLI_COMMON_SHORT, longopts,
                            NULL)) != -1) {
        int taken = kk_cli_profile_option(&cli, &pa, c, optarg);
        if (taken < 0)
            return KK_EXIT_USAGE;
        if (taken)
            continue;
        char *end;
        switch (c) {
        case OPT_LISTEN: listen = optarg; break;
        case OPT_FORWARD: forward = optarg; break;
        case OPT_SPOOL: spool = optarg; break;
        case OPT_DB: db_path = optarg; break;
        case OPT_ALLOW: allow_arg = optarg; break;
        case OPT_BIND: bind_addr = optarg; break;
        case OPT_REPORT: report_path = optarg; break;
        case OPT_TLS_KEY: tls_key = optarg; break;
        case OPT_TLS_CERT: tls_cert = optarg; break;
        case OPT_TLS_CA: tls_ca = optarg; break;
        case OPT_FWD_TLS: fwd_tls = 1; break;
        case OPT_FWD_CA: fwd_ca = optarg; break;
        case OPT_FWD_KEY: fwd_key = optarg; break;
        case OPT_FWD_CERT: fwd_cert = optarg; break;
        case 'j':
            jobs = strtol(optarg, &end, 10);
            if (*end || jobs < 1 || jobs > 256)
                return kk_cli_usage_error(&cli, "-j takes a number from 1 to 256");
            break;
        case OPT_FWD_ASSOC:
            fwd_assoc = strtol(optarg, &end, 10);
            if (*end || fwd_assoc < 1 || fwd_assoc > 16)
                return kk_cli_usage_error(&cli, "--forward-associations takes a number from 1 "
                                          "to 16");
            break;
        case OPT_ATTEMPTS:
            attempts = strtol(optarg, &end, 10);
            if (*end || attempts < 1 || attempts > 1000)
                return kk_cli_usage_error(&cli, "--attempts takes a number from 1 to 1000");
            break;
        case OPT_RETRY_DELAY:
            if (!parse_seconds(optarg, &retry_delay) || retry_delay <= 0)
                return kk_cli_usage_error(&cli, "--retry-delay takes seconds above 0");
            break;
        case OPT_RETRY_MAX:
            if (!parse_seconds(optarg, &retry_max) || retry_max <= 0)
                return kk_cli_usage_error(&cli, "--retry-max takes seconds above 0");
            break;
        case OPT_DRAIN:
            if (!parse_seconds(optarg, &drain))
                return kk_cli_usage_error(&cli, "--drain takes seconds (0 or more)");
            break;
        case OPT_MAXSIZE:
            max_mb = strtoull(optarg, &end, 10);
            if (*end || max_mb == 0)
                return kk_cli_usage_error(&cli, "--max-object-size takes a number of MiB");
            break;
        case 'h': help(); return KK_EXIT_OK;
        default:
            if (kk_cli_common_option(&cli, c, optarg))
                break;
            return kk_cli_usage_error(&cli, "unknown option");
        }
    }
    if (optind < argc)
        return kk_cli_usage_error(&cli, "unexpected argument '%s'", argv[optind]);
    if (!listen || !forward || !spool)
        return kk_cli_usage_error(&cli, "give --listen [AET@]PORT, --forward AET@HOST:PORT and "
                                  "--spool DIR");
    if (!tls_key != !tls_cert || (tls_ca && !tls_key))
        return kk_cli_usage_error(&cli, "--tls-key and --tls-cert go together, and --tls-ca "
                                  "with them");
    if (fwd_tls && !fwd_ca)
        return kk_cli_usage_error(&cli, "--forward-tls needs --forward-ca CA: the destination's "
                                  "certificate is always checked");
    if (!fwd_tls && (fwd_ca || fwd_key || fwd_cert))
        return kk_cli_usage_error(&cli, "--forward-ca, --forward-key and --forward-cert go "
                                  "with --forward-tls");
    if (!fwd_key != !fwd_cert)
        return kk_cli_usage_error(&cli, "--forward-key and --forward-cert go together");

    /* --listen [AET@]PORT */
    char our_ae[17] = "KAKOU";
    int strict = 0, port;
    const char *at = strchr(listen, '@');
    if (at) {
        if (!valid_ae(listen, (size_t)(at - listen)))
            return kk_cli_usage_error(&cli, "--listen: an AE title has 1 to 16 characters");
        snprintf(our_ae, sizeof our_ae, "%.*s", (int)(at - listen), listen);
        strict = 1;
    }
    if (!parse_port(at ? at + 1 : listen, &port))
        return kk_cli_usage_error(&cli, "--listen takes [AET@]PORT with PORT from 1 to 65535");
    /* --forward AET@HOST:PORT */
    char fwd_ae[17], fwd_host[256];
    int fwd_port;
    const char *fat = strchr(forward, '@');
    const char *colon = fat ? strrchr(fat, ':') : NULL;
    if (!fat || !colon || colon == fat + 1 || !valid_ae(forward, (size_t)(fat - forward)) ||
        (size_t)(colon - fat - 1) >= sizeof fwd_host || !parse_port(colon + 1, &fwd_port))
        return kk_cli_usage_error(&cli, "--forward takes AET@HOST:PORT");
    snprintf(fwd_ae, sizeof fwd_ae, "%.*s", (int)(fat - forward), forward);
    snprintf(fwd_host, sizeof fwd_host, "%.*s", (int)(colon - fat - 1), fat + 1);
    /* --allow A,B,C */
    char *allow_buf = NULL;
    const char *allow[65];
    size_t nallow = 0;
    if (allow_arg) {
        allow_buf = strdup(allow_arg);
        if (!allow_buf)
            return KK_EXIT_USAGE;
        for (char *save = NULL, *t = strtok_r(allow_buf, ",", &save); t;
             t = strtok_r(NULL, ",", &save)) {
            if (!valid_ae(t, strlen(t)) || nallow == 64) {
                free(allow_buf);
                return kk_cli_usage_error(&cli, "--allow takes up to 64 AE titles of 1 to 16 "
                                          "characters, separated by commas");
            }
            allow[nallow++] = t;
        }
        allow[nallow] = NULL;
    }

    kk_ctx *ctx = kk_ctx_new();
    kk_profile *profile = NULL;
    kk_key *key = NULL;
    kk_store *store = NULL;
    kk_deid *deid = NULL;
    kk_gateway *gw = NULL;
    int rc = KK_EXIT_USAGE;
    if (!ctx)
        goto out;
    kk_preload();
    profile = kk_cli_load_profile(&cli, ctx, pa.profile, pa.options);
    if (!profile)
        goto out;
    if (kk_profile_forbids_key(profile) && (pa.key_path || db_path)) {
        kk_cli_error(&cli, "profile '%s' makes a fresh key for each run and destroys it, and "
                     "keeps no correspondence (R09): give no -k and no --db",
                     kk_profile_name(profile));
        goto out;
    }
    if (pa.key_path && kk_cli_load_key(&cli, ctx, pa.key_path, pa.passphrase_file, &key) != KK_OK) {
        kk_cli_error(&cli, "%s", kk_error_message(ctx));
        goto out;
    }
    if (!key && kk_profile_needs_key(profile)) {
        kk_cli_error(&cli, "profile '%s' needs a key: create one with 'kakou key new FILE' "
                     "and give it with -k FILE", kk_profile_name(profile));
        goto out;
    }
    if (!key)
        kk_cli_warn(&cli, "no key (-k): UIDs change at every start, so an object re-sent "
                    "after a restart cannot be recognised and is forwarded again");
    if (db_path) {
        if (!key) {
            kk_cli_error(&cli, "a store needs the key that encrypts it: give -k FILE");
            goto out;
        }
        char rs[PATH_MAX], rd[PATH_MAX];
        if (realpath(spool, rs)) {
            char dbdir[PATH_MAX];
            snprintf(dbdir, sizeof dbdir, "%s", db_path);
            char *slash = strrchr(dbdir, '/');
            if (slash)
                *slash = '\0';
            if (realpath(slash ? dbdir : ".", rd) && strncmp(rd, rs, strlen(rs)) == 0 &&
                (rd[strlen(rs)] == '/' || rd[strlen(rs)] == '\0')) {
                kk_cli_error(&cli, "the store '%s' is inside the spool: keep it apart (R24)",
                             db_path);
                goto out;
            }
        }
        if (kk_store_open(&store, ctx, db_path, key) != KK_OK) {
            kk_cli_error(&cli, "%s", kk_error_message(ctx));
            goto out;
        }
    } else if (kk_profile_needs_store(profile)) {
        kk_cli_error(&cli, "profile '%s' keeps a correspondence: give a store with --db FILE",
                     kk_profile_name(profile));
        goto out;
    }
    kk_deid_options o = KK_DEID_OPTIONS_INIT;
    o.key = key;
    o.store = store;
    o.max_object_bytes = max_mb << 20;
    if (kk_deid_new(&deid, ctx, profile, &o) != KK_OK) {
        kk_cli_error(&cli, "%s", kk_error_message(ctx));
        goto out;
    }
    kk_gateway_options go = KK_GATEWAY_OPTIONS_INIT;
    go.ae_title = our_ae;
    go.listen_ae_strict = strict;
    go.bind_address = bind_addr;
    go.port = port;
    go.allow = allow_arg ? allow : NULL;
    go.max_associations = (int)jobs;
    go.forward_ae = fwd_ae;
    go.forward_host = fwd_host;
    go.forward_port = fwd_port;
    go.spool_dir = spool;
    go.deid = deid;
    go.max_attempts = (int)attempts;
    go.forward_associations = (int)fwd_assoc;
    go.retry_delay = retry_delay;
    go.retry_max = retry_max;
    go.drain_seconds = drain > 0 ? drain : -1;
    go.log = log_line;
    go.log_payload = &cli;
    go.tls_key = tls_key;
    go.tls_cert = tls_cert;
    go.tls_ca = tls_ca;
    go.forward_tls = fwd_tls;
    go.forward_ca = fwd_ca;
    go.forward_key = fwd_key;
    go.forward_cert = fwd_cert;
    if (kk_gateway_new(&gw, ctx, &go) != KK_OK) {
        kk_cli_error(&cli, "%s", kk_error_message(ctx));
        goto out;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    running = gw;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    rc = KK_EXIT_OK;
    if (kk_gateway_run(gw, ctx) != KK_OK) {
        kk_cli_error(&cli, "%s", kk_error_message(ctx));
        rc = KK_EXIT_FAILED;
    }
    running = NULL;
    if (report_path) {
        FILE *f = fopen(report_path, "w");
        if (!f || kk_gateway_report(gw, ctx, f) != KK_OK) {
            kk_cli_error(&cli, "cannot write the report '%s': %s", report_path,
                         f ? kk_error_message(ctx) : strerror(errno));
            rc = KK_EXIT_FAILED;
        }
        if (f && fclose(f) != 0)
            rc = KK_EXIT_FAILED;
    }
out:
    kk_gateway_free(gw);
    kk_deid_free(deid);
    if (store && kk_store_close(store, ctx) != KK_OK) {
        kk_cli_error(&cli, "%s", kk_error_message(ctx));
        rc = rc == KK_EXIT_OK ? KK_EXIT_FAILED : rc;
    }
    kk_key_free(key);
    kk_profile_free(profile);
    kk_ctx_free(ctx);
    free(allow_buf);
    return rc;
}
