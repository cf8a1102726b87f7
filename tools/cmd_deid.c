/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tools/cmd_deid.c - `kakou deid`: de-identify files and folders into an
 * output folder. The batch engine (worker threads, bounded queue, claim,
 * resume journal, JSON report, digests, audit rows) is libkakou's kk_batch
 * (include/kakou/batch.h); this file parses the options, walks the inputs
 * lazily (tools/walk.c) into kk_batch_add(), and draws the progress line.
 * Nothing printed carries an attribute value (R04).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "walk.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The batch's messages, printed as the command prints its own. */
static void on_message(void *payload, int level, const char *message)
{
    const kk_cli *cli = payload;
    switch (level) {
    case KK_BATCH_ERROR: kk_cli_error(cli, "%s", message); break;
    case KK_BATCH_WARN: kk_cli_warn(cli, "%s", message); break;
    case KK_BATCH_INFO: kk_cli_info(cli, "%s", message); break;
    default: kk_cli_debug(cli, "%s", message); break;
    }
}

typedef struct job {
    kk_cli *cli;
    kk_batch *batch;
    /* totals, counted ahead by another walk when progress is shown */
    atomic_size_t total_files;
    atomic_uint_fast64_t total_bytes;
    atomic_bool total_known, finished;
} job;

static void *preload(void *arg)
{
    (void)arg;
    kk_preload();
    return NULL;
}

/* --- producer, counter, progress ------------------------------------------ */

typedef struct producer {
    job *j;
    kk_ctx *ctx;
    uint64_t n;
} producer;

static int produce(const char *path, const char *rel, const struct stat *sb, void *payload)
{
    producer *p = payload;
    kk_batch_input in = { path, rel, (uint64_t)sb->st_size,
                          (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec };
    p->n++;
    /* a failure (out of memory) is counted by the batch */
    (void)kk_batch_add(p->j->batch, p->ctx, &in);
    return 0;
}

/* Defacing needs a series' slices together: when the profile defaces,
 * the inputs are walked once more up front and lib/deid reads their
 * headers and groups them into volumes (kk_deid_prepare()). Only then is
 * the list of paths held. */
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

static int deface_pass(const kk_cli *cli, kk_deid *deid, kk_ctx *ctx, int argc, char **argv)
{
    path_list l = { NULL, 0, 0, false };
    size_t errors = 0;
    for (int i = 0; i < argc && !l.failed; i++)
        kk_walk(cli, argv[i], true, collect_one, &l, &errors);
    kk_deid_prepared pr;
    kk_status st = l.failed ? KK_ENOMEM
                            : kk_deid_prepare(deid, ctx, (const char *const *)l.v, l.n, &pr);
    for (size_t i = 0; i < l.n; i++)
        free(l.v[i]);
    free(l.v);
    if (st != KK_OK) {
        kk_cli_error(cli, "cannot deface: %s", l.failed ? "out of memory" : kk_error_message(ctx));
        return -1;
    }
    kk_cli_info(cli, "deface: %zu volumes, %zu heads, %zu faces removed (%zu voxels, %.2f s), "
                "%zu unreadable", pr.volumes, pr.heads, pr.defaced, pr.voxels, pr.seconds,
                pr.failed);
    return 0;
}

typedef struct counter {
    job *j;
    int argc;
    char **argv;
} counter;

static int count_one(const char *path, const char *rel, const struct stat *sb, void *payload)
{
    (void)path;
    (void)rel;
    job *j = payload;
    atomic_fetch_add(&j->total_files, 1);
    atomic_fetch_add(&j->total_bytes, (uint64_t)sb->st_size);
    return atomic_load(&j->finished);
}

/* Count what the producer will find, ahead of it, for the ETA. */
static void *count_thread(void *arg)
{
    counter *c = arg;
    size_t errors = 0;
    for (int i = 0; i < c->argc && !atomic_load(&c->j->finished); i++)
        kk_walk(c->j->cli, c->argv[i], true, count_one, c->j, &errors);
    atomic_store(&c->j->total_known, true);
    return NULL;
}

static void draw_progress(job *j, double t0, bool final)
{
    double el = now_s() - t0;
    kk_batch_count c;
    kk_batch_counts(j->batch, &c);
    size_t done = c.seen;
    double mb = (double)c.bytes_seen / 1e6;
    double rate = el > 0 ? mb / el : 0;
    char eta[32] = "";
    if (atomic_load(&j->total_known) && !final && rate > 0) {
        double left = (double)atomic_load(&j->total_bytes) / 1e6 - mb;
        long s = left > 0 ? (long)(left / rate + 0.5) : 0;
        snprintf(eta, sizeof eta, "  ETA %ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    }
    char total[32] = "";
    if (atomic_load(&j->total_known))
        snprintf(total, sizeof total, "/%zu", atomic_load(&j->total_files));
    fprintf(stderr, "\r\033[K%zu%s files  %.1f MB  %.1f MB/s  %.0f files/s%s  %zu failed%s", done,
            total, mb, rate, el > 0 ? (double)done / el : 0.0, eta, c.failed,
            final ? "\n" : "");
}

typedef struct progress {
    job *j;
    double t0;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
} progress;

static void *progress_thread(void *arg)
{
    progress *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_nsec += 250000000;
        if (t.tv_nsec >= 1000000000) {
            t.tv_sec++;
            t.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&p->cv, &p->mu, &t);
        if (!p->stop)
            draw_progress(p->j, p->t0, false);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Remove temp files of kakou processes that died (kill -9, power loss):
 * .kakou-PID-XXXXXX.tmp whose PID no longer runs on this machine. */
static void help(void)
{
    printf("usage: kakou deid [-p PROFILE] [-O OPTION]... [-k KEYFILE] [--db DB]\n"
           "                  -o OUTDIR [-j N] [--report FILE.jsonl] [-v|-q] INPUT...\n\n"
           "De-identify DICOM files and folders (walked recursively) into OUTDIR,\n"
           "as OUTDIR/STUDY/SERIES/SOP.dcm named from the new UIDs.\n\n"
           "options:\n"
           "  -p, --profile PROFILE   built-in name or profile file (default dicom-basic)\n"
           "  -O, --option OPTION     enable a profile option (repeatable)\n"
           "  -k, --key KEYFILE       key for pseudonyms, UIDs and date shifts\n"
           KK_CLI_PASSFILE_HELP
           "      --db DB             store for correspondence and audit (not in OUTDIR)\n"
           "  -o, --output OUTDIR     output folder (created)\n"
           "  -j, --jobs N            worker threads (default: number of cores)\n"
           "      --max-object-size MB  refuse inputs, or decoded pixels, larger than MB\n"
           "                          (default: no file limit; pixels up to half of memory)\n"
           "      --report FILE       write one JSON line per input to FILE\n"
           "      --report-paths      name inputs in the report by path below their\n"
           "                          argument (file names may carry PHI)\n"
           "      --no-journal        do not keep OUTDIR/.kakou-journal (no resume)\n"
           "      --progress          show progress even when stderr is not a terminal\n"
           "      --opt-out FILE      leave out the patients listed in FILE (one source\n"
           "                          PatientID per line, ID^ISSUER or ID<tab>ISSUER)\n"
           "      --k-anonymity N     k for the release (default: the profile's 'release k')\n"
           "      --release-report FILE  write the release report (JSON) to FILE\n"
           "      --release-chart FILE   draw the class sizes before and after (PNG) to FILE\n"
           "      --no-release        judge each file alone: no rare values, no k-anonymity\n"
           "\n" KK_CLI_COMMON_HELP "\n"
           "exit status: 0 all done, 1 some inputs failed, 2 usage or configuration error\n");
}

static bool inside(const char *dir, const char *file)
{
    char rd[PATH_MAX], rf[PATH_MAX];
    if (!realpath(dir, rd))
        return false;
    /* the store may not exist yet: resolve its folder */
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", file);
    char *slash = strrchr(tmp, '/');
    const char *fdir = ".";
    if (slash) {
        *slash = '\0';
        fdir = tmp[0] ? tmp : "/";
    }
    if (!realpath(fdir, rf))
        return false;
    size_t n = strlen(rd);
    return strncmp(rf, rd, n) == 0 && (rf[n] == '\0' || rf[n] == '/');
}

int kk_cmd_deid(int argc, char **argv)
{
    kk_cli cli = { "deid", KK_LOG_WARN, false };
    const char *out_dir = NULL, *db_path = NULL, *report_path = NULL;
    kk_cli_profile_args pa = { NULL, NULL, { NULL }, 0, NULL };
    long jobs = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned long long max_mb = 0;
    bool report_paths = false, no_journal = false, force_progress = false;
    const char *optout_path = NULL, *release_report = NULL, *release_chart = NULL;
    unsigned long kanon = 0;
    bool no_release = false;
    enum { OPT_DB = 0x2001, OPT_MAXSIZE, OPT_REPORT, OPT_REPORT_PATHS, OPT_NO_JOURNAL,
           OPT_PROGRESS, OPT_OPTOUT, OPT_KANON, OPT_RELEASE_REPORT, OPT_RELEASE_CHART, OPT_NO_RELEASE };
    static const struct option longopts[] = {
        KK_CLI_PROFILE_LONG,
        { "db", required_argument, NULL, OPT_DB },
        { "output", required_argument, NULL, 'o' },
        { "jobs", required_argument, NULL, 'j' },
        { "max-object-size", required_argument, NULL, OPT_MAXSIZE },
        { "report", required_argument, NULL, OPT_REPORT },
        { "report-paths", no_argument, NULL, OPT_REPORT_PATHS },
        { "no-journal", no_argument, NULL, OPT_NO_JOURNAL },
        { "progress", no_argument, NULL, OPT_PROGRESS },
        { "opt-out", required_argument, NULL, OPT_OPTOUT },
        { "k-anonymity", required_argument, NULL, OPT_KANON },
        { "release-report", required_argument, NULL, OPT_RELEASE_REPORT },
        { "release-chart", required_argument, NULL, OPT_RELEASE_CHART },
        { "no-release", no_argument, NULL, OPT_NO_RELEASE },
        KK_CLI_COMMON_LONG,
        { NULL, 0, NULL, 0 }
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, KK_CLI_PROFILE_SHORT "o:j:" KK_CLI_COMMON_SHORT, longopts,
                            NULL)) != -1) {
        int taken = kk_cli_profile_option(&cli, &pa, c, optarg);
        if (taken < 0)
            return KK_EXIT_USAGE;
        if (taken)
            continue;
        switch (c) {
        case OPT_DB: db_path = optarg; break;
        case 'o': out_dir = optarg; break;
        case 'j': {
            char *end;
            jobs = strtol(optarg, &end, 10);
            if (*end || jobs < 1 || jobs > 256)
                return kk_cli_usage_error(&cli, "-j takes a number from 1 to 256");
            break;
        }
        case OPT_MAXSIZE: {
            char *end;
            max_mb = strtoull(optarg, &end, 10);
            if (*end || max_mb == 0)
                return kk_cli_usage_error(&cli, "--max-object-size takes a number of MiB");
            break;
        }
        case OPT_REPORT: report_path = optarg; break;
        case OPT_REPORT_PATHS: report_paths = true; break;
        case OPT_NO_JOURNAL: no_journal = true; break;
        case OPT_PROGRESS: force_progress = true; break;
        case OPT_OPTOUT: optout_path = optarg; break;
        case OPT_RELEASE_REPORT: release_report = optarg; break;
        case OPT_RELEASE_CHART: release_chart = optarg; break;
        case OPT_NO_RELEASE: no_release = true; break;
        case OPT_KANON: {
            char *end;
            kanon = strtoul(optarg, &end, 10);
            if (*end || kanon < 1 || kanon > 1000000)
                return kk_cli_usage_error(&cli, "--k-anonymity takes a number from 1");
            break;
        }
        case 'h': help(); return KK_EXIT_OK;
        default:
            if (kk_cli_common_option(&cli, c, optarg))
                break;
            return kk_cli_usage_error(&cli, "unknown option");
        }
    }
    const char *key_path = pa.key_path;
    if (!out_dir)
        return kk_cli_usage_error(&cli, "no output folder: give -o OUTDIR");
    if (optind >= argc)
        return kk_cli_usage_error(&cli, "no input: give files or folders to de-identify");
    if (jobs < 1)
        jobs = 1;

    kk_ctx *ctx = kk_ctx_new();
    kk_profile *profile = NULL;
    kk_key *key = NULL;
    kk_store *store = NULL;
    kk_deid *deid = NULL;
    kk_optout *optout = NULL;
    kk_release *release = NULL;
    FILE *report = NULL;
    kk_batch *batch = NULL;
    int rc = KK_EXIT_USAGE;
    if (!ctx)
        return KK_EXIT_USAGE;
    /* DCMTK's dictionary is made on the second core while the profile
     * loads and the store opens (neither needs it) */
    pthread_t pre;
    bool have_pre = pthread_create(&pre, NULL, preload, NULL) == 0;
    profile = kk_cli_load_profile(&cli, ctx, pa.profile, pa.options);
    if (!profile)
        goto out;
    if (kk_profile_forbids_key(profile) && (key_path || db_path)) {
        kk_cli_error(&cli, "profile '%s' makes a fresh key for each run and destroys it, and "
                     "keeps no correspondence (R09): give no -k and no --db",
                     kk_profile_name(profile));
        goto out;
    }
    if (key_path && kk_cli_load_key(&cli, ctx, key_path, pa.passphrase_file, &key) != KK_OK) {
        kk_cli_error(&cli, "%s", kk_error_message(ctx));
        goto out;
    }
    if (!key && kk_profile_needs_key(profile)) {
        kk_cli_error(&cli, "profile '%s' needs a key: create one with 'kakou key new FILE' "
                     "(keep it apart from the data) and give it with -k FILE",
                     kk_profile_name(profile));
        goto out;
    }
    if (kk_mkdir_p(out_dir) != 0) {
        if (errno == ENOTDIR)
            kk_cli_error(&cli, "output folder '%s' is not a folder (-o names a folder)", out_dir);
        else
            kk_cli_error(&cli, "cannot create output folder '%s': %s", out_dir, strerror(errno));
        goto out;
    }
    if (access(out_dir, W_OK) != 0) {
        kk_cli_error(&cli, "cannot write to output folder '%s': %s", out_dir, strerror(errno));
        goto out;
    }
    for (int i = optind; i < argc; i++) {
        char ri[PATH_MAX], ro[PATH_MAX];
        struct stat sb;
        if (stat(argv[i], &sb) != 0 || !S_ISDIR(sb.st_mode) || !realpath(argv[i], ri) ||
            !realpath(out_dir, ro))
            continue;
        size_t n = strlen(ri);
        if (strncmp(ro, ri, n) == 0 && (ro[n] == '\0' || ro[n] == '/' || (n == 1 && ri[0] == '/'))) {
            /* its outputs would be read as inputs, again on every run */
            kk_cli_error(&cli, "the output folder '%s' is inside the input folder '%s': choose "
                         "one outside it", out_dir, argv[i]);
            goto out;
        }
    }
    if (db_path) {
        if (inside(out_dir, db_path)) {
            kk_cli_error(&cli, "the store '%s' is inside the output folder: keep it apart (R24)",
                         db_path);
            goto out;
        }
        if (!key) {
            kk_cli_error(&cli, "a store needs the key that encrypts it: give -k FILE");
            goto out;
        }
        if (kk_store_open(&store, ctx, db_path, key) != KK_OK) {
            kk_cli_error(&cli, "%s", kk_error_message(ctx));
            goto out;
        }
        if (kk_store_key_retired(store)) { /* R23: rotated away */
            kk_cli_error(&cli, "key %s is retired in store '%s' ('kakou key rotate'): give "
                         "the new key", kk_key_id(key), db_path);
            goto out;
        }
    } else if (kk_profile_needs_store(profile)) {
        kk_cli_error(&cli, "profile '%s' keeps a correspondence: give a store with --db FILE",
                     kk_profile_name(profile));
        goto out;
    }
    if (report_path) {
        if (inside(out_dir, report_path))
            kk_cli_warn(&cli, "the report '%s' is inside the output folder", report_path);
        report = fopen(report_path, "w");
        if (!report) {
            kk_cli_error(&cli, "cannot write the report '%s': %s", report_path, strerror(errno));
            goto out;
        }
    }
    kk_deid_options o = KK_DEID_OPTIONS_INIT;
    o.key = key;
    o.store = store;
    o.max_object_bytes = max_mb << 20;
    if (kk_deid_new(&deid, ctx, profile, &o) != KK_OK) {
        kk_cli_error(&cli, "%s", kk_error_message(ctx));
        goto out;
    }
    if (kk_deid_defaces(deid) && deface_pass(&cli, deid, ctx, argc - optind, argv + optind) != 0)
        goto out;
    if (optout_path && kk_optout_load(&optout, ctx, optout_path) != KK_OK) {
        kk_cli_error(&cli, "%s", kk_error_message(ctx));
        goto out;
    }
    if (no_release && (kanon || release_report || release_chart)) {
        kk_cli_usage_error(&cli, "--no-release with --k-anonymity, --release-report or "
                           "--release-chart");
        goto out;
    }
    if (no_release && kk_profile_has_release(profile))
        kk_cli_warn(&cli, "--no-release: each file is judged alone; the data-set measures of "
                    "profile '%s' (rare values, k-anonymity) are not applied",
                    kk_profile_name(profile));
    if (!no_release &&
        (kanon || kk_profile_has_release(profile) || release_report || release_chart) &&
        kk_cli_release_pass(&cli, ctx, profile, (unsigned)kanon, optout, release_report,
                            release_chart,
                            (int)jobs, argc - optind, argv + optind, &release) != KK_OK)
        goto out;
    kk_deid_set_release(deid, release);
    /* inputs are named (journal, report) by a digest under the run's key;
     * without a key file, under a key of this run only (kk_batch) */
    kk_batch_options bo = KK_BATCH_OPTIONS_INIT;
    bo.deid = deid;
    bo.profile = profile;
    bo.key = key;
    bo.store = store;
    bo.out_dir = out_dir;
    bo.workers = (int)jobs;
    bo.report = report;
    bo.report_paths = report_paths;
    bo.journal = !no_journal;
    bo.optout = optout;
    bo.release = release;
    bo.on_message = on_message;
    bo.payload = &cli;
    if (have_pre) {
        pthread_join(pre, NULL);
        have_pre = false;
    }
    double t0 = now_s();
    if (kk_batch_new(&batch, ctx, &bo) != KK_OK) {
        kk_cli_error(&cli, "%s", kk_error_message(ctx));
        goto out;
    }
    job j;
    memset(&j, 0, sizeof j);
    j.cli = &cli;
    j.batch = batch;
    bool show = force_progress || (cli.level >= KK_LOG_WARN && isatty(STDERR_FILENO));
    progress pr = { &j, t0, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false };
    counter cn = { &j, argc - optind, argv + optind };
    pthread_t pt, ct;
    bool have_pt = false, have_ct = false;
    if (show) {
        have_ct = pthread_create(&ct, NULL, count_thread, &cn) == 0;
        have_pt = pthread_create(&pt, NULL, progress_thread, &pr) == 0;
    }
    producer prod = { &j, ctx, 0 };
    size_t missing = 0;
    for (int i = optind; i < argc; i++)
        kk_walk(&cli, argv[i], false, produce, &prod, &missing);
    kk_batch_count counts;
    kk_batch_run(batch, ctx, &counts);
    atomic_store(&j.finished, true);
    if (have_ct)
        pthread_join(ct, NULL);
    if (have_pt) {
        pthread_mutex_lock(&pr.mu);
        pr.stop = true;
        pthread_cond_signal(&pr.cv);
        pthread_mutex_unlock(&pr.mu);
        pthread_join(pt, NULL);
        draw_progress(&j, t0, true);
    }
    size_t failed = counts.failed + missing;
    kk_batch_free(batch);
    batch = NULL;
    if (store && kk_store_close(store, ctx) != KK_OK) {
        kk_cli_error(&cli, "cannot close the store: %s", kk_error_message(ctx));
        failed++;
    }
    store = NULL;
    if (report && fclose(report) != 0) {
        kk_cli_error(&cli, "cannot write the report '%s': %s", report_path, strerror(errno));
        failed++;
    }
    report = NULL;
    double secs = now_s() - t0;
    size_t before = counts.done_before;
    if (cli.level >= KK_LOG_WARN) {
        fprintf(stderr, "kakou deid: read %zu, written %zu, skipped %zu, failed %zu",
                (size_t)prod.n, counts.written, counts.skipped, failed);
        if (before)
            fprintf(stderr, ", done before %zu", before);
        if (counts.duplicates)
            fprintf(stderr, ", duplicates %zu", counts.duplicates);
        if (optout)
            fprintf(stderr, ", opted out %zu", counts.opted_out);
        if (release)
            fprintf(stderr, ", suppressed %zu", counts.suppressed);
        fprintf(stderr, ", %.2f s\n", secs);
    }
    rc = failed ? KK_EXIT_FAILED : KK_EXIT_OK;
out:
    if (have_pre)
        pthread_join(pre, NULL);
    kk_batch_free(batch);
    if (report)
        fclose(report);
    if (store)
        kk_store_close(store, ctx);
    kk_deid_free(deid);
    kk_release_free(release);
    kk_optout_free(optout);
    kk_key_free(key);
    kk_profile_free(profile);
    kk_ctx_free(ctx);
    return rc;
}
