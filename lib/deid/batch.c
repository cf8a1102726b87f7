/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/deid/batch.c - kk_batch (include/kakou/batch.h): many inputs, N
 * worker threads fed through a bounded queue, one kk_deid_file_ex() each.
 *
 * Design:
 *  - kk_batch_add() feeds a queue of QUEUE_PER_WORKER * N inputs; workers
 *    take from it. Nothing holds the whole list, so memory stays flat in
 *    the batch size. When no worker thread can start, kk_batch_add() does
 *    the input itself.
 *  - With a store, each input is claimed once lib/deid has read and hashed
 *    it (kk_deid_file_ex()'s on_input): runs sharing the store do each
 *    input once; inside this batch, two copies of one input (same digest)
 *    are not claimed at once (the "in flight" set: check, then act).
 *    Before the output appears (before_publish) its audit row and where it
 *    went are committed with the object's rows, with the digests lib/deid
 *    made while reading and writing.
 *  - Without a store: the journal (batch_journal.c); the report line
 *    (batch_report.c).
 * Messages go to the message callback; nothing here prints.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/core.h"
#include "crypto/sha256.h"
#include "deid/batch_internal.h"
#include "kakou/store.h"

#define QUEUE_PER_WORKER 4
#define ID_HEX KK_BATCH_ID_HEX

/* One input in flight: its path, the part below its argument, rank. */
typedef struct input {
    uint64_t n;
    uint64_t size;
    int64_t mtime_ns;
    size_t rel_off;
    char path[];
} input;

typedef struct queue {
    input **slot;
    size_t cap, head, count;
    bool closed;
    pthread_mutex_t mu;
    pthread_cond_t nonempty, nonfull;
} queue;

struct kk_batch {
    kk_batch_options o;
    char *out_dir;
    kk_key *own_key;      /* names inputs when the run has no key */
    const kk_key *id_key;
    char out_folder[64];  /* out_dir as the store names it: device:inode */
    queue q;
    kk_journal *jn;       /* NULL: no journal */
    pthread_mutex_t report_mu;
    atomic_size_t added, seen, written, skipped, failed, done_before, duplicates, opted_out,
        suppressed;
    atomic_uint_fast64_t bytes_seen;
    pthread_t *tids;
    size_t started;
    bool joined;
    kk_ctx *inline_ctx;   /* no worker thread could start: work in kk_batch_add() */
    /* digests of the inputs being done now, with a store */
    pthread_mutex_t fly_mu;
    pthread_cond_t fly_cv;
    char (*fly)[65];
    size_t nfly;
};

static void say(const kk_batch *b, int level, const char *fmt, ...) KK_PRINTF(3, 4);
static void say(const kk_batch *b, int level, const char *fmt, ...)
{
    if (!b->o.on_message)
        return;
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    b->o.on_message(b->o.payload, level, msg);
}

/* --- queue ------------------------------------------------------------ */

static int queue_init(queue *q, size_t cap)
{
    q->slot = calloc(cap, sizeof *q->slot);
    q->cap = cap;
    q->head = q->count = 0;
    q->closed = false;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->nonempty, NULL);
    pthread_cond_init(&q->nonfull, NULL);
    return q->slot ? 0 : -1;
}

static void queue_push(queue *q, input *in)
{
    pthread_mutex_lock(&q->mu);
    while (q->count == q->cap)
        pthread_cond_wait(&q->nonfull, &q->mu);
    q->slot[(q->head + q->count) % q->cap] = in;
    q->count++;
    pthread_cond_signal(&q->nonempty);
    pthread_mutex_unlock(&q->mu);
}

/* NULL when the queue is closed and empty. */
static input *queue_pop(queue *q)
{
    pthread_mutex_lock(&q->mu);
    while (q->count == 0 && !q->closed)
        pthread_cond_wait(&q->nonempty, &q->mu);
    input *in = NULL;
    if (q->count) {
        in = q->slot[q->head];
        q->head = (q->head + 1) % q->cap;
        q->count--;
        pthread_cond_signal(&q->nonfull);
    }
    pthread_mutex_unlock(&q->mu);
    return in;
}

static void queue_close(queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->closed = true;
    pthread_cond_broadcast(&q->nonempty);
    pthread_mutex_unlock(&q->mu);
}

static void queue_destroy(queue *q)
{
    free(q->slot);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->nonempty);
    pthread_cond_destroy(&q->nonfull);
}

/* --- naming inputs ------------------------------------------------------ */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The keyed id of an input: its path below its argument, size, mtime and
 * the profile (another profile must not count as done). */
static void input_id(const kk_batch *b, const input *in, char hex[ID_HEX + 1])
{
    char meta[160];
    int m = snprintf(meta, sizeof meta, "%" PRIu64 " %" PRId64 " %s", in->size, in->mtime_ns,
                     kk_profile_digest(b->o.profile));
    const char *rel = in->path + in->rel_off;
    size_t rl = strlen(rel);
    unsigned char *buf = malloc(rl + 1 + (size_t)m);
    unsigned char d[KK_KEY_DIGEST_BYTES] = { 0 };
    if (buf) {
        memcpy(buf, rel, rl + 1); /* the NUL frames the path */
        memcpy(buf + rl + 1, meta, (size_t)m);
        kk_key_digest(b->id_key, "input", buf, rl + 1 + (size_t)m, d);
        free(buf);
    }
    sodium_bin2hex(hex, ID_HEX + 1, d, ID_HEX / 2);
}

/* --- the store: claim, in flight, audit ---------------------------------- */

/* "failed" and "skipped" rows; an input that could not be read has no
 * digest to name it by. */
static void audit(kk_batch *b, kk_ctx *ctx, const char *in_digest, const char *status)
{
    if (!b->o.store || !in_digest[0])
        return;
    const kk_profile *p = b->o.profile;
    kk_audit_entry a = { kk_profile_name(p), kk_profile_version(p), kk_profile_digest(p),
                         in_digest, NULL, NULL, status };
    if (kk_store_audit(b->o.store, ctx, &a) != KK_OK)
        say(b, KK_BATCH_ERROR, "cannot write the audit log: %s", kk_error_message(ctx));
}

static void fly_enter(kk_batch *b, const char *digest)
{
    pthread_mutex_lock(&b->fly_mu);
    for (;;) {
        bool busy = false;
        for (size_t i = 0; i < b->nfly && !busy; i++)
            busy = strcmp(b->fly[i], digest) == 0;
        if (!busy)
            break;
        pthread_cond_wait(&b->fly_cv, &b->fly_mu);
    }
    memcpy(b->fly[b->nfly++], digest, 65);
    pthread_mutex_unlock(&b->fly_mu);
}

static void fly_leave(kk_batch *b, const char *digest)
{
    pthread_mutex_lock(&b->fly_mu);
    for (size_t i = 0; i < b->nfly; i++) {
        if (strcmp(b->fly[i], digest) == 0) {
            memcpy(b->fly[i], b->fly[--b->nfly], 65);
            break;
        }
    }
    pthread_cond_broadcast(&b->fly_cv);
    pthread_mutex_unlock(&b->fly_mu);
}

/* With a store: an output recorded for an input counts as done only when
 * it is in this batch's output folder with its size and digest. */
typedef struct present_check {
    const kk_batch *b;
    bool damaged; /* the recorded output is there with other bytes */
    char path[PATH_MAX];
} present_check;

static int output_present(void *payload, const kk_store_output *rec)
{
    present_check *p = payload;
    char hex[65];
    struct stat sb;
    p->damaged = false;
    if (!rec->path[0] || strstr(rec->path, "..") ||
        snprintf(p->path, sizeof p->path, "%s/%s", p->b->out_dir, rec->path) >= (int)sizeof p->path)
        return 0;
    if (stat(p->path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return 0;
    if ((uint64_t)sb.st_size == rec->size && kk_sha256__file(p->path, hex) == 0 &&
        strcmp(hex, rec->digest) == 0)
        return 1;
    p->damaged = true;
    return 0;
}

/* One input through kk_deid_file_ex() with a store. */
typedef struct publishing {
    kk_batch *b;
    const char *path;
    char digest[65];
    bool flying;
    kk_store_claim claim;
    bool claim_failed, not_mine;
    char why[512];            /* the store's message when the claim failed */
    present_check pc;
    kk_store_output recorded; /* by an earlier run, or empty */
} publishing;

/* Read and hashed, not yet parsed: claim it. */
static kk_status on_input(void *payload, kk_ctx *ctx, const char *digest, uint64_t size)
{
    (void)size;
    publishing *p = payload;
    kk_batch *b = p->b;
    memcpy(p->digest, digest, sizeof p->digest);
    fly_enter(b, p->digest);
    p->flying = true;
    /* under this profile (its digest covers the options) and key: an
     * output another profile made is not this one's (issue 19) */
    kk_status st = kk_store_claim_input(b->o.store, ctx, p->digest,
                                        kk_profile_digest(b->o.profile), b->out_folder,
                                        output_present, &p->pc, &p->claim, &p->recorded);
    if (st != KK_OK) {
        p->claim_failed = true;
        snprintf(p->why, sizeof p->why, "%s", kk_error_message(ctx));
        return st;
    }
    if (p->claim != KK_CLAIM_MINE) {
        p->not_mine = true;
        return KK_EEXISTS; /* nothing to do here */
    }
    if (p->pc.damaged && strcmp(p->recorded.folder, b->out_folder) == 0) {
        /* this input's own output, recorded here, no longer the bytes
         * written: written again under the same name */
        say(b, KK_BATCH_WARN, "the output of '%s' (%s) differs from what the store recorded: "
            "writing it again", p->path, p->recorded.path);
        unlink(p->pc.path);
    }
    return KK_OK;
}

/* Written, not yet visible: its audit row and where it goes, committed
 * with the object's rows in one durable transaction. */
static kk_status publish(void *payload, kk_ctx *ctx, const char *written,
                         const kk_deid_result *res)
{
    (void)written;
    const publishing *p = payload;
    kk_batch *b = p->b;
    const kk_profile *pr = b->o.profile;
    kk_store_output o;
    memset(&o, 0, sizeof o);
    snprintf(o.digest, sizeof o.digest, "%s", res->output_sha256);
    snprintf(o.path, sizeof o.path, "%s", res->output_path);
    snprintf(o.folder, sizeof o.folder, "%s", b->out_folder);
    o.size = res->bytes_out;
    kk_audit_entry a = { kk_profile_name(pr), kk_profile_version(pr), kk_profile_digest(pr),
                         p->digest, o.digest, res->sop_instance_uid, "ok" };
    /* the same output an earlier run recorded here and was killed before
     * it appeared: its audit row already says what is written now */
    const kk_store_output *r = &p->recorded;
    bool again = r->path[0] && strcmp(r->folder, o.folder) == 0 && strcmp(r->path, o.path) == 0 &&
                 strcmp(r->digest, o.digest) == 0;
    return kk_store_commit_output(b->o.store, ctx, p->digest, kk_profile_digest(pr),
                                  again ? NULL : &a, &o);
}

/* --- one input -------------------------------------------------------- */

static void tell(kk_batch *b, kk_batch_outcome *o, const input *in)
{
    if (b->o.report) {
        char *line = kk_batch__report_line(o, b->o.report_paths ? in->path + in->rel_off : NULL);
        if (line) {
            pthread_mutex_lock(&b->report_mu);
            fputs(line, b->o.report);
            fflush(b->o.report);
            pthread_mutex_unlock(&b->report_mu);
        }
        kk_free(line);
    }
    if (b->o.on_outcome)
        b->o.on_outcome(b->o.payload, o);
}

static void fail(kk_batch *b, kk_batch_outcome *o, const char *reason)
{
    say(b, KK_BATCH_ERROR, "%s", reason);
    atomic_fetch_add(&b->failed, 1);
    o->status = KK_BATCH_FAILED;
    o->reason = reason;
}

static void do_one(kk_batch *b, kk_ctx *ctx, const input *in)
{
    const char *path = in->path;
    double t0 = now_s();
    char id[ID_HEX + 1];
    input_id(b, in, id);
    kk_batch_outcome o = { in->n, path, id, KK_BATCH_FAILED, NULL, NULL, NULL, 0.0 };
    char prev[PATH_MAX];
    char reason[1600];
    kk_deid_result res = KK_DEID_RESULT_INIT;
    publishing pub;
    memset(&pub, 0, sizeof pub);

    if (b->jn && kk_batch__journal_done(b->jn, id, prev, sizeof prev)) {
        say(b, KK_BATCH_DEBUG, "'%s' was done in an earlier run", path);
        atomic_fetch_add(&b->done_before, 1);
        o.status = KK_BATCH_DONE_BEFORE;
        o.output = prev;
        goto out;
    }
    int dicom = kk_sniff_dicom(path);
    if (dicom < 0) {
        snprintf(reason, sizeof reason, "cannot read '%s': %s", path, strerror(errno));
        fail(b, &o, reason);
        goto out;
    }
    if (dicom == 0) {
        snprintf(reason, sizeof reason, "not a DICOM file");
        say(b, KK_BATCH_INFO, "skipped '%s': not a DICOM file", path);
        atomic_fetch_add(&b->skipped, 1);
        o.status = KK_BATCH_SKIPPED;
        o.reason = reason;
        goto out;
    }
    if (b->o.optout && kk_optout_matches(b->o.optout, ctx, path) == 1) {
        atomic_fetch_add(&b->opted_out, 1);
        atomic_fetch_add(&b->seen, 1);
        o.status = KK_BATCH_OPTED_OUT; /* R26: no trace but the count */
        if (b->o.on_outcome)
            b->o.on_outcome(b->o.payload, &o);
        return;
    }
    if (b->o.release && kk_release_suppressed(b->o.release, path)) {
        atomic_fetch_add(&b->suppressed, 1);
        atomic_fetch_add(&b->seen, 1);
        o.status = KK_BATCH_SUPPRESSED; /* R14: no output */
        if (b->o.on_outcome)
            b->o.on_outcome(b->o.payload, &o);
        return;
    }
    pub.b = b;
    pub.path = path;
    pub.pc.b = b;
    kk_deid_hooks hooks = KK_DEID_HOOKS_INIT;
    hooks.on_input = on_input;
    hooks.before_publish = publish;
    hooks.payload = &pub;
    kk_status st = kk_deid_file_ex(b->o.deid, ctx, path, b->out_dir, &res,
                                   b->o.store ? &hooks : NULL);
    if (pub.claim_failed) {
        snprintf(reason, sizeof reason, "cannot claim '%s' in the store: %s", path, pub.why);
        fail(b, &o, reason);
        goto out;
    }
    if (pub.not_mine) {
        if (pub.claim == KK_CLAIM_DONE) {
            say(b, KK_BATCH_DEBUG, "'%s' was done in an earlier run: %s", path,
                pub.recorded.path);
            o.output = pub.recorded.path;
        } else {
            say(b, KK_BATCH_DEBUG, "'%s' is being done by another run on the same store", path);
        }
        atomic_fetch_add(&b->done_before, 1);
        o.status = KK_BATCH_DONE_BEFORE;
        goto out;
    }
    if (st == KK_ESKIPPED) {
        say(b, KK_BATCH_WARN, "%s", kk_error_message(ctx));
        atomic_fetch_add(&b->skipped, 1);
        audit(b, ctx, res.input_sha256, "skipped");
        o.status = KK_BATCH_SKIPPED;
        o.reason = kk_error_message(ctx);
        goto out;
    }
    if (st != KK_OK) {
        snprintf(reason, sizeof reason, "%s", kk_error_message(ctx));
        fail(b, &o, reason);
        audit(b, ctx, res.input_sha256, "failed");
        goto out;
    }
    say(b, KK_BATCH_DEBUG, "'%s' -> %s", path, res.output_path);
    /* its "ok" audit row was committed by publish(), before it appeared */
    bool first = false;
    if (b->jn && !kk_batch__journal_add(b->jn, id, res.output_path, &first) && first)
        say(b, KK_BATCH_ERROR, "cannot write the journal in '%s': %s", b->out_dir,
            strerror(errno));
    if (res.duplicate) {
        say(b, KK_BATCH_WARN, "'%s' gives the same object as an earlier input: %s written once",
            path, res.output_path);
        atomic_fetch_add(&b->duplicates, 1);
        o.status = KK_BATCH_DUPLICATE;
    } else {
        atomic_fetch_add(&b->written, 1);
        o.status = KK_BATCH_DONE;
    }
    o.output = res.output_path;
    o.result = &res;
out:
    if (pub.flying)
        fly_leave(b, pub.digest);
    atomic_fetch_add(&b->bytes_seen, in->size);
    atomic_fetch_add(&b->seen, 1);
    o.seconds = now_s() - t0;
    tell(b, &o, in);
    kk_deid_result_clear(&res);
}

/* After each input: the progress callback, with the counts. */
static void progressed(const kk_batch *b)
{
    if (!b->o.on_progress)
        return;
    kk_batch_count c;
    kk_batch_counts(b, &c);
    b->o.on_progress(b->o.payload, &c);
}

static void *worker(void *arg)
{
    kk_batch *b = arg;
    kk_ctx *ctx = kk_ctx_new();
    input *in;
    while ((in = queue_pop(&b->q)) != NULL) {
        if (ctx)
            do_one(b, ctx, in);
        else
            atomic_fetch_add(&b->failed, 1);
        progressed(b);
        free(in);
        if (ctx)
            kk_error_clear(ctx);
    }
    kk_ctx_free(ctx);
    return NULL;
}

/* --- the batch ---------------------------------------------------------- */

/* Remove temp files of kakou processes that died (kill -9, power loss):
 * .kakou-PID-XXXXXX.tmp whose PID no longer runs on this machine. */
static void remove_stale_temps(const kk_batch *b)
{
    DIR *d = opendir(b->out_dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        long pid;
        char rest[64];
        if (strncmp(de->d_name, ".kakou-", 7) != 0 ||
            sscanf(de->d_name + 7, "%ld-%63s", &pid, rest) != 2 || pid <= 0 ||
            strlen(rest) < 4 || strcmp(rest + strlen(rest) - 4, ".tmp") != 0)
            continue;
        if (pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char p[PATH_MAX];
        if (snprintf(p, sizeof p, "%s/%s", b->out_dir, de->d_name) < (int)sizeof p &&
            unlink(p) == 0)
            say(b, KK_BATCH_DEBUG, "removed '%s', left by a run that was killed", p);
    }
    closedir(d);
}

kk_status kk_batch_new(kk_batch **out, kk_ctx *ctx, const kk_batch_options *opts)
{
    *out = NULL;
    if (!opts || !opts->deid || !opts->profile || !opts->out_dir)
        return kk__fail(ctx, KK_EINVAL, "kk_batch_new: missing option");
    kk_batch *b = kk__calloc(1, sizeof *b);
    if (!b)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    b->o = *opts;
    size_t workers = opts->workers > 0 ? (size_t)opts->workers : 1;
    b->out_dir = kk__strdup(opts->out_dir);
    pthread_mutex_init(&b->report_mu, NULL);
    pthread_mutex_init(&b->fly_mu, NULL);
    pthread_cond_init(&b->fly_cv, NULL);
    b->fly = calloc(workers + 1, sizeof *b->fly);
    b->tids = calloc(workers, sizeof *b->tids);
    b->joined = true; /* nothing to join until a worker starts */
    kk_status st = KK_OK;
    if (!b->out_dir || !b->fly || !b->tids || queue_init(&b->q, workers * QUEUE_PER_WORKER) != 0)
        st = kk__fail(ctx, KK_ENOMEM, "out of memory");
    /* inputs are named (journal, report) by a digest under the run's key;
     * without one, under a key of this batch only */
    b->id_key = opts->key;
    if (st == KK_OK && !opts->key && (st = kk_key_new_ephemeral(&b->own_key, ctx)) == KK_OK)
        b->id_key = b->own_key;
    struct stat osb;
    if (stat(b->out_dir, &osb) == 0)
        snprintf(b->out_folder, sizeof b->out_folder, "%llu:%llu",
                 (unsigned long long)osb.st_dev, (unsigned long long)osb.st_ino);
    if (st == KK_OK)
        remove_stale_temps(b);
    /* the journal serves runs with a key and no store: without a key the
     * UIDs change every run and nothing could be resumed */
    if (st == KK_OK && opts->key && !opts->store && opts->journal)
        st = kk_batch__journal_open(&b->jn, ctx, b->out_dir);
    if (st != KK_OK) {
        kk_batch_free(b);
        return st;
    }
    for (; b->started < workers; b->started++)
        if (pthread_create(&b->tids[b->started], NULL, worker, b) != 0)
            break;
    b->joined = b->started == 0;
    if (b->started == 0) {
        /* a queue nobody drains would block: kk_batch_add() does the work */
        say(b, KK_BATCH_WARN, "cannot start worker threads: working in one");
        b->inline_ctx = kk_ctx_new();
    }
    *out = b;
    return KK_OK;
}

kk_status kk_batch_add(kk_batch *b, kk_ctx *ctx, const kk_batch_input *in)
{
    if (!b || !in || !in->path)
        return kk__fail(ctx, KK_EINVAL, "kk_batch_add: missing argument");
    size_t len = strlen(in->path);
    input *x = malloc(sizeof *x + len + 1);
    uint64_t n = atomic_fetch_add(&b->added, 1) + 1;
    if (!x) {
        atomic_fetch_add(&b->failed, 1);
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    }
    memcpy(x->path, in->path, len + 1);
    const char *rel = in->rel;
    if (!rel) {
        rel = strrchr(in->path, '/');
        rel = rel ? rel + 1 : in->path;
    }
    size_t off = rel >= in->path && rel <= in->path + len ? (size_t)(rel - in->path) : len;
    x->rel_off = off;
    x->n = n;
    x->size = in->size;
    x->mtime_ns = in->mtime_ns;
    if (b->started == 0) {
        if (b->inline_ctx) {
            do_one(b, b->inline_ctx, x);
            kk_error_clear(b->inline_ctx);
        } else {
            atomic_fetch_add(&b->failed, 1);
        }
        progressed(b);
        free(x);
    } else {
        queue_push(&b->q, x);
    }
    return KK_OK;
}

kk_status kk_batch_add_path(kk_batch *b, kk_ctx *ctx, const char *path)
{
    struct stat sb;
    if (!b || !path)
        return kk__fail(ctx, KK_EINVAL, "kk_batch_add_path: missing argument");
    if (stat(path, &sb) != 0) {
        int e = errno;
        atomic_fetch_add(&b->failed, 1);
        return kk__fail(ctx, e == ENOENT ? KK_ENOTFOUND : KK_EIO, "cannot read '%s': %s", path,
                        strerror(e));
    }
    kk_batch_input in = { path, NULL, (uint64_t)sb.st_size,
                          (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec };
    return kk_batch_add(b, ctx, &in);
}

void kk_batch_counts(const kk_batch *cb, kk_batch_count *out)
{
    kk_batch *b = (kk_batch *)cb; /* atomics are read, not changed */
    memset(out, 0, sizeof *out);
    if (!b)
        return;
    out->added = atomic_load(&b->added);
    out->seen = atomic_load(&b->seen);
    out->written = atomic_load(&b->written);
    out->duplicates = atomic_load(&b->duplicates);
    out->done_before = atomic_load(&b->done_before);
    out->skipped = atomic_load(&b->skipped);
    out->failed = atomic_load(&b->failed);
    out->opted_out = atomic_load(&b->opted_out);
    out->suppressed = atomic_load(&b->suppressed);
    out->bytes_seen = atomic_load(&b->bytes_seen);
}

static void join(kk_batch *b)
{
    if (b->joined)
        return;
    queue_close(&b->q);
    for (size_t i = 0; i < b->started; i++)
        pthread_join(b->tids[i], NULL);
    b->joined = true;
}

kk_status kk_batch_run(kk_batch *b, kk_ctx *ctx, kk_batch_count *out)
{
    if (!b)
        return kk__fail(ctx, KK_EINVAL, "kk_batch_run: missing argument");
    join(b);
    kk_batch__journal_close(b->jn);
    b->jn = NULL;
    if (out)
        kk_batch_counts(b, out);
    return KK_OK;
}

void kk_batch_free(kk_batch *b)
{
    if (!b)
        return;
    join(b);
    kk_batch__journal_close(b->jn);
    if (b->q.slot)
        queue_destroy(&b->q);
    pthread_mutex_destroy(&b->report_mu);
    pthread_mutex_destroy(&b->fly_mu);
    pthread_cond_destroy(&b->fly_cv);
    kk_ctx_free(b->inline_ctx);
    kk_key_free(b->own_key);
    free(b->fly);
    free(b->tids);
    free(b->out_dir);
    free(b);
}
