/*
 * tools/cmd_deid.c - `kakou deid`: de-identify files and folders into an
 * output folder, with N worker threads.
 *
 * Inputs are never written; each output appears atomically (lib/deid).
 * A failed input is named on stderr with the reason and the batch goes
 * on. With a store (--db), every input gets an audit row and inputs
 * already done are skipped, so a killed run resumes where it stopped.
 * Nothing printed carries an attribute value (R04).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

#include <sodium.h>

#include "cli.h"

typedef struct file_list {
    char **paths;
    size_t n, cap;
} file_list;

typedef struct job {
    kk_cli *cli;
    kk_deid *deid;
    kk_store *store;
    const kk_profile *profile;
    const char *out_dir;
    file_list *files;
    atomic_size_t next;
    atomic_size_t written, skipped, failed, done_before, duplicates;
} job;

static int add_path(file_list *l, const char *p)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        char **n = realloc(l->paths, cap * sizeof *n);
        if (!n)
            return -1;
        l->paths = n;
        l->cap = cap;
    }
    l->paths[l->n] = strdup(p);
    return l->paths[l->n++] ? 0 : -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walk a folder, sorted, so runs are reproducible. Symlinked folders are
 * not followed (no loops). */
static int walk_dir(const kk_cli *cli, file_list *l, const char *dir, int depth)
{
    if (depth > 64) {
        kk_cli_warn(cli, "'%s': folders nested too deep, not read", dir);
        return 0;
    }
    DIR *d = opendir(dir);
    if (!d) {
        kk_cli_error(cli, "cannot read folder '%s': %s", dir, strerror(errno));
        return 1;
    }
    file_list here = { NULL, 0, 0 };
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char p[PATH_MAX];
        if (snprintf(p, sizeof p, "%s/%s", dir, de->d_name) >= (int)sizeof p)
            continue;
        add_path(&here, p);
    }
    closedir(d);
    qsort(here.paths, here.n, sizeof *here.paths, cmp_str);
    int bad = 0;
    for (size_t i = 0; i < here.n; i++) {
        struct stat sb;
        if (lstat(here.paths[i], &sb) == 0 && S_ISDIR(sb.st_mode))
            bad |= walk_dir(cli, l, here.paths[i], depth + 1);
        else if (lstat(here.paths[i], &sb) == 0 && (S_ISREG(sb.st_mode) || S_ISLNK(sb.st_mode)))
            add_path(l, here.paths[i]);
        free(here.paths[i]);
    }
    free(here.paths);
    return bad;
}

/* DICOM files start with "DICM" at 128, or (without File Meta) with a
 * tag of a low group; anything else is not DICOM and is skipped. */
static int sniff_dicom(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    unsigned char b[132];
    ssize_t n = read(fd, b, sizeof b);
    close(fd);
    if (n < 0)
        return -1;
    if (n == 132 && memcmp(b + 128, "DICM", 4) == 0)
        return 1;
    if (n < 8)
        return 0;
    unsigned le = b[0] | (b[1] << 8), be = (b[0] << 8) | b[1];
    unsigned g = le <= 0x0010 ? le : be;
    if ((g == 0x0000 || g == 0x0002 || g == 0x0004 || g == 0x0008 || g == 0x0010) &&
        (le <= 0x0010 || be <= 0x0010))
        return 1;
    return 0;
}

/* Hex SHA-256 of a file, for the audit log (R25). */
static int file_digest(const char *path, char hex[65])
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    unsigned char buf[1 << 16];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        crypto_hash_sha256_update(&st, buf, (unsigned long long)n);
    close(fd);
    if (n < 0)
        return -1;
    unsigned char h[32];
    crypto_hash_sha256_final(&st, h);
    sodium_bin2hex(hex, 65, h, sizeof h);
    return 0;
}

static void audit(job *j, kk_ctx *ctx, const char *in_digest, const char *out_path,
                  const char *sop, const char *status)
{
    if (!j->store)
        return;
    char out_digest[65];
    bool have_out = out_path && file_digest(out_path, out_digest) == 0;
    kk_audit_entry a = { kk_profile_name(j->profile), kk_profile_version(j->profile),
                         kk_profile_digest(j->profile), in_digest,
                         have_out ? out_digest : NULL, sop, status };
    if (kk_store_audit(j->store, ctx, &a) != KK_OK)
        kk_cli_error(j->cli, "cannot write the audit log: %s", kk_error_message(ctx));
}

static void do_one(job *j, kk_ctx *ctx, const char *path)
{
    int dicom = sniff_dicom(path);
    if (dicom <= 0) {
        if (dicom < 0) {
            kk_cli_error(j->cli, "cannot read '%s': %s", path, strerror(errno));
            atomic_fetch_add(&j->failed, 1);
        } else {
            kk_cli_info(j->cli, "skipped '%s': not a DICOM file", path);
            atomic_fetch_add(&j->skipped, 1);
        }
        return;
    }
    char digest[65] = "";
    if (j->store) {
        if (file_digest(path, digest) != 0) {
            kk_cli_error(j->cli, "cannot read '%s': %s", path, strerror(errno));
            atomic_fetch_add(&j->failed, 1);
            return;
        }
        if (kk_store_input_done(j->store, digest)) {
            kk_cli_debug(j->cli, "'%s' was done in an earlier run", path);
            atomic_fetch_add(&j->done_before, 1);
            return;
        }
    }
    kk_deid_result res = KK_DEID_RESULT_INIT;
    kk_status st = kk_deid_file(j->deid, ctx, path, j->out_dir, &res);
    if (st == KK_ESKIPPED) {
        kk_cli_warn(j->cli, "%s", kk_error_message(ctx));
        atomic_fetch_add(&j->skipped, 1);
        audit(j, ctx, digest, NULL, NULL, "skipped");
        return;
    }
    if (st != KK_OK) {
        kk_cli_error(j->cli, "%s", kk_error_message(ctx));
        atomic_fetch_add(&j->failed, 1);
        audit(j, ctx, digest, NULL, NULL, "failed");
        return;
    }
    char out_path[PATH_MAX];
    snprintf(out_path, sizeof out_path, "%s/%s", j->out_dir, res.output_path);
    kk_cli_debug(j->cli, "'%s' -> %s", path, res.output_path);
    audit(j, ctx, digest, out_path, res.sop_instance_uid, "ok");
    if (res.duplicate) {
        kk_cli_warn(j->cli, "'%s' gives the same object as an earlier input: %s written once",
                    path, res.output_path);
        atomic_fetch_add(&j->duplicates, 1);
    } else {
        atomic_fetch_add(&j->written, 1);
    }
    kk_deid_result_clear(&res);
}

static void *worker(void *arg)
{
    job *j = arg;
    kk_ctx *ctx = kk_ctx_new();
    if (!ctx)
        return NULL;
    for (;;) {
        size_t i = atomic_fetch_add(&j->next, 1);
        if (i >= j->files->n)
            break;
        do_one(j, ctx, j->files->paths[i]);
        kk_error_clear(ctx);
    }
    kk_ctx_free(ctx);
    return NULL;
}

static void help(void)
{
    printf("usage: kakou deid [-p PROFILE] [-O OPTION]... [-k KEYFILE] [--db DB]\n"
           "                  -o OUTDIR [-j N] [-v|-q] INPUT...\n\n"
           "De-identify DICOM files and folders (walked recursively) into OUTDIR,\n"
           "as OUTDIR/STUDY/SERIES/SOP.dcm named from the new UIDs.\n\n"
           "options:\n"
           "  -p, --profile PROFILE   built-in name or profile file (default dicom-basic)\n"
           "  -O, --option OPTION     enable a profile option (repeatable)\n"
           "  -k, --key KEYFILE       key for pseudonyms, UIDs and date shifts\n"
           "      --db DB             store for correspondence and audit (not in OUTDIR)\n"
           "  -o, --output OUTDIR     output folder (created)\n"
           "  -j, --jobs N            worker threads (default: number of cores)\n"
           "      --max-object-size MB  refuse inputs larger than MB (default: no limit)\n"
           "\n" KK_CLI_COMMON_HELP "\n"
           "exit status: 0 all done, 1 some inputs failed, 2 usage or configuration error\n");
}

/* mkdir -p */
static int mkdir_p(const char *dir)
{
    char p[PATH_MAX];
    if (snprintf(p, sizeof p, "%s/", dir) >= (int)sizeof p) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST)
            return -1;
        *s = '/';
    }
    return 0;
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
    const char *out_dir = NULL, *db_path = NULL;
    kk_cli_profile_args pa = { NULL, NULL, { NULL }, 0 };
    long jobs = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned long long max_mb = 0;
    enum { OPT_DB = 0x2001, OPT_MAXSIZE };
    static const struct option longopts[] = {
        KK_CLI_PROFILE_LONG,
        { "db", required_argument, NULL, OPT_DB },
        { "output", required_argument, NULL, 'o' },
        { "jobs", required_argument, NULL, 'j' },
        { "max-object-size", required_argument, NULL, OPT_MAXSIZE },
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
    file_list files = { NULL, 0, 0 };
    int rc = KK_EXIT_USAGE;
    if (!ctx)
        return KK_EXIT_USAGE;
    profile = kk_cli_load_profile(&cli, ctx, pa.profile, pa.options);
    if (!profile)
        goto out;
    if (kk_profile_forbids_key(profile) && (key_path || db_path)) {
        kk_cli_error(&cli, "profile '%s' makes a fresh key for each run and destroys it, and "
                     "keeps no correspondence (R09): give no -k and no --db",
                     kk_profile_name(profile));
        goto out;
    }
    if (key_path && kk_key_load(&key, ctx, key_path) != KK_OK) {
        kk_cli_error(&cli, "%s", kk_error_message(ctx));
        goto out;
    }
    if (!key && kk_profile_needs_key(profile)) {
        kk_cli_error(&cli, "profile '%s' needs a key: create one with 'kakou key new FILE' "
                     "(keep it apart from the data) and give it with -k FILE",
                     kk_profile_name(profile));
        goto out;
    }
    if (mkdir_p(out_dir) != 0) {
        kk_cli_error(&cli, "cannot create output folder '%s': %s", out_dir, strerror(errno));
        goto out;
    }
    if (access(out_dir, W_OK) != 0) {
        kk_cli_error(&cli, "cannot write to output folder '%s': %s", out_dir, strerror(errno));
        goto out;
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

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t missing = 0;
    for (int i = optind; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) != 0) {
            kk_cli_error(&cli, "cannot read '%s': %s", argv[i], strerror(errno));
            missing++;
        } else if (S_ISDIR(sb.st_mode)) {
            missing += (size_t)walk_dir(&cli, &files, argv[i], 0);
        } else {
            add_path(&files, argv[i]);
        }
    }
    job j;
    memset(&j, 0, sizeof j);
    j.cli = &cli;
    j.deid = deid;
    j.store = store;
    j.profile = profile;
    j.out_dir = out_dir;
    j.files = &files;
    atomic_init(&j.next, 0);
    atomic_init(&j.written, 0);
    atomic_init(&j.skipped, 0);
    atomic_init(&j.failed, missing);
    atomic_init(&j.done_before, 0);
    atomic_init(&j.duplicates, 0);
    size_t nthreads = (size_t)jobs < files.n ? (size_t)jobs : files.n;
    if (nthreads <= 1) {
        worker(&j);
    } else {
        pthread_t *tids = calloc(nthreads, sizeof *tids);
        size_t started = 0;
        for (; tids && started < nthreads; started++)
            if (pthread_create(&tids[started], NULL, worker, &j) != 0)
                break;
        if (started == 0)
            worker(&j);
        for (size_t i = 0; i < started; i++)
            pthread_join(tids[i], NULL);
        free(tids);
    }
    if (store && kk_store_close(store, ctx) != KK_OK) {
        kk_cli_error(&cli, "cannot close the store: %s", kk_error_message(ctx));
        atomic_fetch_add(&j.failed, 1);
    }
    store = NULL;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    size_t failed = atomic_load(&j.failed);
    size_t before = atomic_load(&j.done_before);
    if (cli.level >= KK_LOG_WARN) {
        fprintf(stderr, "kakou deid: read %zu, written %zu, skipped %zu, failed %zu",
                files.n, atomic_load(&j.written), atomic_load(&j.skipped), failed);
        if (before)
            fprintf(stderr, ", done before %zu", before);
        if (atomic_load(&j.duplicates))
            fprintf(stderr, ", duplicates %zu", atomic_load(&j.duplicates));
        fprintf(stderr, ", %.2f s\n", secs);
    }
    rc = failed ? KK_EXIT_FAILED : KK_EXIT_OK;
out:
    if (store)
        kk_store_close(store, ctx);
    kk_deid_free(deid);
    kk_key_free(key);
    kk_profile_free(profile);
    for (size_t i = 0; i < files.n; i++)
        free(files.paths[i]);
    free(files.paths);
    kk_ctx_free(ctx);
    return rc;
}
