/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tools/cmd_deid.c - `kakou deid`: de-identify files and folders into an
 * output folder, with N worker threads fed through a bounded queue.
 *
 * Design:
 *  - The main thread walks the inputs lazily (tools/walk.c) and feeds a
 *    queue of QUEUE_PER_WORKER * N paths; workers take from it. Nothing
 *    holds the whole list, so memory stays flat in the batch size.
 *  - Inputs are never written; each output appears atomically (lib/deid).
 *    A failed input is named on stderr with the reason and the batch goes
 *    on.
 *  - Resume: with a store (--db), by the input's claim in the store: its
 *    SHA-256, the profile digest and the key id, with the output recorded
 *    and present in this folder (kk_store_claim_input). Without one, by a
 *    journal in OUTDIR (.kakou-journal): one line per input done, "ID OUTPUT", where ID is a
 *    keyed digest (kk_key_digest) of the input's path below its argument,
 *    size, mtime and the profile digest. It needs a key file (-k): without
 *    one the UIDs change every run, so there is nothing to resume.
 *    Lines are appended by one writer and fsync'd in batches; a torn last
 *    line (kill -9, power loss) is ignored on reading, and an input whose
 *    line was lost is simply done again (its output is the same bytes:
 *    kk_deid_file reports a duplicate and writes nothing).
 *  - --report: one JSON line per input (see report_line()). Inputs are
 *    named by the same keyed digest and their rank in walk order, not by
 *    path (file names can carry PHI), unless --report-paths.
 *  - Progress on a terminal: a thread redraws one stderr line.
 * Nothing printed carries an attribute value (R04).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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

#include <gcrypt.h>
#include <sodium.h>

#include "cli.h"
#include "walk.h"

#define QUEUE_PER_WORKER 4
#define JOURNAL_NAME ".kakou-journal"
#define JOURNAL_HEADER "# kakou journal 1: input-id output\n"
#define JOURNAL_SYNC_LINES 256
#define JOURNAL_SYNC_MS 1000
#define ID_HEX 32 /* 128 bits of the keyed digest */

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

/* The journal read at start: (first 8 bytes of id, line offset), sorted. */
typedef struct jentry {
    uint64_t id8;
    uint64_t off;
} jentry;

typedef struct journal {
    int fd;
    jentry *seen;
    size_t nseen;
    pthread_mutex_t mu;
    unsigned pending;
    struct timespec last_sync;
    bool failed;
} journal;

typedef struct job {
    kk_cli *cli;
    kk_deid *deid;
    kk_store *store;
    const kk_profile *profile;
    const kk_key *id_key; /* names inputs in the journal and the report */
    const char *out_dir;
    char out_folder[64];  /* out_dir as the store names it: device:inode */
    queue q;
    journal *jn;          /* NULL: no journal */
    FILE *report;
    bool report_paths;
    pthread_mutex_t report_mu;
    atomic_size_t seen, written, skipped, failed, done_before, duplicates;
    /* issue 17: opted-out patients (R26) and patients the release
     * suppresses leave no output, no store row and no report line */
    const kk_optout *optout;
    const kk_release *release;
    atomic_size_t opted_out, suppressed;
    atomic_uint_fast64_t bytes_done;
    /* totals, counted ahead by another walk when progress is shown */
    atomic_size_t total_files;
    atomic_uint_fast64_t total_bytes;
    atomic_bool total_known, finished;
    kk_ctx *inline_ctx;   /* no worker thread could start: work in the walk */
    /* digests of the inputs being done now, with a store: two copies of
     * one input must not both be claimed by this run (check, then act) */
    pthread_mutex_t fly_mu;
    pthread_cond_t fly_cv;
    char (*fly)[65];
    size_t nfly;
} job;

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

/* --- digests ------------------------------------------------------------ */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* libgcrypt wants its version check before first use; done once, before
 * the workers start. */
static bool digest_init(void)
{
    if (!gcry_check_version(GCRYPT_VERSION))
        return false;
    gcry_control(GCRYCTL_DISABLE_SECMEM, 0); /* only public data is hashed */
    gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
    return true;
}

/* Hex SHA-256 of a file: an output an earlier run recorded, to check that
 * it is still what was written (resume). The inputs and outputs of this
 * run are hashed by lib/deid as it reads and writes them (kk_deid_result).
 * libgcrypt, as lib/crypto/sha256.c says why. */
static int file_digest(const char *path, char hex[65])
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC); /* never waits */
    if (fd < 0)
        return -1;
    gcry_md_hd_t md;
    if (gcry_md_open(&md, GCRY_MD_SHA256, 0) != 0) {
        close(fd);
        errno = ENOMEM;
        return -1;
    }
    static _Thread_local unsigned char buf[1 << 17];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        gcry_md_write(md, buf, (size_t)n);
    int saved = errno;
    close(fd);
    const unsigned char *h = n < 0 ? NULL : gcry_md_read(md, GCRY_MD_SHA256);
    if (h)
        sodium_bin2hex(hex, 65, h, 32);
    gcry_md_close(md);
    if (!h) {
        errno = n < 0 ? saved : EIO;
        return -1;
    }
    return 0;
}

/* The keyed id of an input: its path below its argument, size, mtime and
 * the profile (another profile must not count as done). */
static void input_id(const job *j, const input *in, char hex[ID_HEX + 1])
{
    char meta[160];
    int m = snprintf(meta, sizeof meta, "%" PRIu64 " %" PRId64 " %s", in->size, in->mtime_ns,
                     kk_profile_digest(j->profile));
    const char *rel = in->path + in->rel_off;
    size_t rl = strlen(rel);
    unsigned char *buf = malloc(rl + 1 + (size_t)m);
    unsigned char d[KK_KEY_DIGEST_BYTES] = { 0 };
    if (buf) {
        memcpy(buf, rel, rl + 1); /* the NUL frames the path */
        memcpy(buf + rl + 1, meta, (size_t)m);
        kk_key_digest(j->id_key, "input", buf, rl + 1 + (size_t)m, d);
        free(buf);
    }
    sodium_bin2hex(hex, ID_HEX + 1, d, ID_HEX / 2);
}

/* --- journal ------------------------------------------------------------ */

static uint64_t id8_of(const char *hex)
{
    unsigned char b[8] = { 0 };
    sodium_hex2bin(b, sizeof b, hex, 16, NULL, NULL, NULL);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    return v;
}

static int cmp_jentry(const void *a, const void *b)
{
    const jentry *x = a, *y = b;
    return x->id8 < y->id8 ? -1 : x->id8 > y->id8;
}

static bool is_hex_id(const char *s, size_t n)
{
    if (n < ID_HEX + 2 || s[ID_HEX] != ' ')
        return false;
    for (int i = 0; i < ID_HEX; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* Open OUTDIR/.kakou-journal for appending and read the ids in it. Lines
 * that are not whole (a torn last line) or not ours are ignored. */
static journal *journal_open(const kk_cli *cli, const char *out_dir)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", out_dir, JOURNAL_NAME);
    journal *jn = calloc(1, sizeof *jn);
    if (!jn)
        return NULL;
    jn->fd = open(p, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (jn->fd < 0) {
        kk_cli_error(cli, "cannot open the journal '%s': %s", p, strerror(errno));
        free(jn);
        return NULL;
    }
    pthread_mutex_init(&jn->mu, NULL);
    clock_gettime(CLOCK_MONOTONIC, &jn->last_sync);
    FILE *fp = fdopen(dup(jn->fd), "r");
    size_t cap = 0;
    uint64_t off = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t n;
    int last = '\n';
    while (fp && (n = getline(&line, &lcap, fp)) > 0) {
        last = line[n - 1];
        if (last == '\n' && is_hex_id(line, (size_t)n - 1)) {
            if (jn->nseen == cap) {
                cap = cap ? cap * 2 : 1024;
                jentry *s = realloc(jn->seen, cap * sizeof *s);
                if (!s)
                    break;
                jn->seen = s;
            }
            jn->seen[jn->nseen].id8 = id8_of(line);
            jn->seen[jn->nseen].off = off;
            jn->nseen++;
        }
        off += (uint64_t)n;
    }
    free(line);
    if (fp)
        fclose(fp);
    if (jn->nseen)
        qsort(jn->seen, jn->nseen, sizeof *jn->seen, cmp_jentry);
    /* a torn line must not swallow the next one: end it */
    if (off == 0)
        (void)!write(jn->fd, JOURNAL_HEADER, strlen(JOURNAL_HEADER));
    else if (last != '\n')
        (void)!write(jn->fd, "\n", 1);
    return jn;
}

/* When id is in the journal, the output path recorded with it. */
static bool journal_done(journal *jn, const char *id, char *out, size_t outsz)
{
    if (!jn->nseen)
        return false;
    jentry key = { id8_of(id), 0 };
    jentry *e = bsearch(&key, jn->seen, jn->nseen, sizeof *jn->seen, cmp_jentry);
    if (!e)
        return false;
    while (e > jn->seen && e[-1].id8 == key.id8)
        e--;
    for (; e < jn->seen + jn->nseen && e->id8 == key.id8; e++) {
        char buf[ID_HEX + 1 + PATH_MAX];
        ssize_t n = pread(jn->fd, buf, sizeof buf - 1, (off_t)e->off);
        if (n <= ID_HEX + 1)
            continue;
        buf[n] = '\0';
        if (memcmp(buf, id, ID_HEX) != 0)
            continue; /* same 64-bit prefix, another input */
        char *nl = strchr(buf, '\n');
        if (nl)
            *nl = '\0';
        snprintf(out, outsz, "%s", buf + ID_HEX + 1);
        return true;
    }
    return false;
}

static void journal_sync_locked(journal *jn)
{
    if (jn->pending && fdatasync(jn->fd) != 0)
        jn->failed = true;
    jn->pending = 0;
    clock_gettime(CLOCK_MONOTONIC, &jn->last_sync);
}

static void journal_add(job *j, const char *id, const char *out_rel)
{
    journal *jn = j->jn;
    char line[ID_HEX + 1 + PATH_MAX + 1];
    int n = snprintf(line, sizeof line, "%s %s\n", id, out_rel);
    if (n >= (int)sizeof line)
        return;
    pthread_mutex_lock(&jn->mu);
    /* one write per line on an O_APPEND descriptor: lines never interleave */
    if (write(jn->fd, line, (size_t)n) != n && !jn->failed) {
        jn->failed = true;
        kk_cli_error(j->cli, "cannot write the journal in '%s': %s", j->out_dir, strerror(errno));
    }
    jn->pending++;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    long ms = (long)(t.tv_sec - jn->last_sync.tv_sec) * 1000 +
              (t.tv_nsec - jn->last_sync.tv_nsec) / 1000000;
    if (jn->pending >= JOURNAL_SYNC_LINES || ms >= JOURNAL_SYNC_MS)
        journal_sync_locked(jn);
    pthread_mutex_unlock(&jn->mu);
}

static void journal_close(journal *jn)
{
    if (!jn)
        return;
    pthread_mutex_lock(&jn->mu);
    journal_sync_locked(jn);
    pthread_mutex_unlock(&jn->mu);
    close(jn->fd);
    pthread_mutex_destroy(&jn->mu);
    free(jn->seen);
    free(jn);
}

/* --- report ------------------------------------------------------------- */

typedef struct buf {
    char *d;
    size_t n, cap;
} buf;

static void b_add(buf *b, const char *s, size_t n)
{
    if (n == 0)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->n + n + 1) * 2;
        char *d = realloc(b->d, cap);
        if (!d)
            return;
        b->d = d;
        b->cap = cap;
    }
    memcpy(b->d + b->n, s, n);
    b->n += n;
    b->d[b->n] = '\0';
}

static void b_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void b_printf(buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        b_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0. */
static int utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    int n = s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 && s[0] < 0xE0 ? 2 : 0;
    if (s[0] >= 0xF5)
        n = 0;
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

/* A JSON string: quotes, backslashes and controls escaped; bytes that are
 * not UTF-8 (paths can be anything) become U+FFFD, so each line parses. */
static void b_json(buf *b, const char *s)
{
    b_add(b, "\"", 1);
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (*p == '"' || *p == '\\') {
            char e[2] = { '\\', (char)*p };
            b_add(b, e, 2);
            p++;
        } else if (*p < 0x20 || *p == 0x7f) {
            b_printf(b, "\\u%04x", *p);
            p++;
        } else {
            int n = utf8_len(p);
            if (n == 0) {
                b_add(b, "\\ufffd", 6);
                p++;
            } else {
                b_add(b, (const char *)p, (size_t)n);
                p += n;
            }
        }
    }
    b_add(b, "\"", 1);
}

/* The message with every occurrence of the input path replaced by
 * "<input>": the report names inputs by id only. */
static void b_json_reason(buf *b, const char *msg, const char *path)
{
    buf t = { NULL, 0, 0 };
    size_t pl = strlen(path);
    const char *s = msg, *hit;
    while (pl && (hit = strstr(s, path)) != NULL) {
        b_add(&t, s, (size_t)(hit - s));
        b_add(&t, "<input>", 7);
        s = hit + pl;
    }
    b_add(&t, s, strlen(s));
    b_json(b, t.d ? t.d : "");
    free(t.d);
}

typedef struct outcome {
    const char *status;   /* done, failed, skipped, duplicate, done-before */
    const char *reason;   /* failed/skipped: message (may hold the path) */
    const char *output;   /* relative to OUTDIR, or NULL */
    const kk_deid_result *res;
    double seconds;
} outcome;

/* One JSON line:
 * {"n":1,"input_id":"…","input":"…"?,"status":"done","reason":"…"?,
 *  "output":"…","bytes_in":N,"bytes_out":N,"actions":{"keep":N,…},
 *  "pixels":{"cleaned":0,"boxes_rule":0,"boxes_detected":0,
 *  "boxes_overlay":0},"seconds":{"total":0.01,"pixels":0}} */
static void report_line(job *j, const input *in, const char *id, const outcome *o)
{
    if (!j->report)
        return;
    buf b = { NULL, 0, 0 };
    b_printf(&b, "{\"n\":%" PRIu64 ",\"input_id\":\"%s\"", in->n, id);
    if (j->report_paths) {
        b_add(&b, ",\"input\":", 9);
        b_json(&b, in->path + in->rel_off);
    }
    b_add(&b, ",\"status\":", 10);
    b_json(&b, o->status);
    if (o->reason) {
        b_add(&b, ",\"reason\":", 10);
        b_json_reason(&b, o->reason, in->path);
    }
    if (o->output) {
        b_add(&b, ",\"output\":", 10);
        b_json(&b, o->output);
    }
    const kk_deid_result *r = o->res;
    if (r) {
        b_printf(&b, ",\"bytes_in\":%" PRIu64 ",\"bytes_out\":%" PRIu64 ",\"actions\":{",
                 r->bytes_in, r->bytes_out);
        int k = 0;
        for (int a = 0; a < KK_ACTION__COUNT; a++)
            if (r->counts[a])
                b_printf(&b, "%s\"%s\":%u", k++ ? "," : "", kk_action_name((kk_action)a),
                         r->counts[a]);
        b_printf(&b, "},\"pixels\":{\"cleaned\":%d,\"boxes_rule\":%u,\"boxes_detected\":%u,"
                     "\"boxes_overlay\":%u,\"residue_frames\":%u}",
                 r->pixels_cleaned ? 1 : 0, r->pixel_boxes_rule, r->pixel_boxes_detected,
                 r->pixel_boxes_overlay, r->pixel_residue_frames);
    }
    b_printf(&b, ",\"seconds\":{\"total\":%.6f,\"pixels\":%.6f}}\n", o->seconds,
             r ? r->seconds_pixels : 0.0);
    if (b.d) {
        pthread_mutex_lock(&j->report_mu);
        fwrite(b.d, 1, b.n, j->report);
        fflush(j->report);
        pthread_mutex_unlock(&j->report_mu);
    }
    free(b.d);
}

/* --- one input -------------------------------------------------------- */

static void audit(job *j, kk_ctx *ctx, const char *in_digest, const char *status)
{
    /* an input that could not be read has no digest to name it by */
    if (!j->store || !in_digest[0])
        return;
    kk_audit_entry a = { kk_profile_name(j->profile), kk_profile_version(j->profile),
                         kk_profile_digest(j->profile), in_digest, NULL, NULL, status };
    if (kk_store_audit(j->store, ctx, &a) != KK_OK)
        kk_cli_error(j->cli, "cannot write the audit log: %s", kk_error_message(ctx));
}

static void fly_enter(job *j, const char *digest)
{
    pthread_mutex_lock(&j->fly_mu);
    for (;;) {
        bool busy = false;
        for (size_t i = 0; i < j->nfly && !busy; i++)
            busy = strcmp(j->fly[i], digest) == 0;
        if (!busy)
            break;
        pthread_cond_wait(&j->fly_cv, &j->fly_mu);
    }
    memcpy(j->fly[j->nfly++], digest, 65);
    pthread_mutex_unlock(&j->fly_mu);
}

static void fly_leave(job *j, const char *digest)
{
    pthread_mutex_lock(&j->fly_mu);
    for (size_t i = 0; i < j->nfly; i++) {
        if (strcmp(j->fly[i], digest) == 0) {
            memcpy(j->fly[i], j->fly[--j->nfly], 65);
            break;
        }
    }
    pthread_cond_broadcast(&j->fly_cv);
    pthread_mutex_unlock(&j->fly_mu);
}

/* With a store: an output recorded for an input counts as done only when
 * it is in this run's output folder with its size and digest. */
typedef struct present_check {
    const job *j;
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
        snprintf(p->path, sizeof p->path, "%s/%s", p->j->out_dir, rec->path) >= (int)sizeof p->path)
        return 0;
    if (stat(p->path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return 0;
    if ((uint64_t)sb.st_size == rec->size && file_digest(p->path, hex) == 0 &&
        strcmp(hex, rec->digest) == 0)
        return 1;
    p->damaged = true;
    return 0;
}

/* One input through kk_deid_file_ex() with a store: once it is read and
 * its digest known (on_input), it is claimed; before its output appears
 * (before_publish), its audit row and where it goes are committed with
 * the object's rows, in one durable transaction; if that fails the output
 * is removed. The digests are made by lib/deid as it reads and writes. */
typedef struct publishing {
    job *j;
    const char *path;
    char digest[65];
    bool flying;
    kk_store_claim claim;
    bool claim_failed, not_mine;
    present_check pc;
    kk_store_output recorded; /* by an earlier run, or empty */
} publishing;

static kk_status on_input(void *payload, kk_ctx *ctx, const char *digest, uint64_t size)
{
    (void)size;
    publishing *p = payload;
    job *j = p->j;
    memcpy(p->digest, digest, sizeof p->digest);
    fly_enter(j, p->digest);
    p->flying = true;
    /* claimed in the store: runs sharing it do each input once, under
     * this profile (its digest covers the options) and key: an output
     * another profile made is not this one's (issue 19) */
    kk_status st = kk_store_claim_input(j->store, ctx, p->digest, kk_profile_digest(j->profile),
                                        j->out_folder, output_present, &p->pc, &p->claim,
                                        &p->recorded);
    if (st != KK_OK) {
        p->claim_failed = true;
        return st;
    }
    if (p->claim != KK_CLAIM_MINE) {
        p->not_mine = true;
        return KK_EEXISTS; /* nothing to do here */
    }
    if (p->pc.damaged && strcmp(p->recorded.folder, j->out_folder) == 0) {
        /* this input's own output, recorded here, no longer the bytes
         * written: written again under the same name */
        kk_cli_warn(j->cli, "the output of '%s' (%s) differs from what the store recorded: "
                    "writing it again", p->path, p->recorded.path);
        unlink(p->pc.path);
    }
    return KK_OK;
}

static kk_status publish(void *payload, kk_ctx *ctx, const char *written,
                         const kk_deid_result *res)
{
    (void)written;
    const publishing *p = payload;
    job *j = p->j;
    kk_store_output o;
    memset(&o, 0, sizeof o);
    snprintf(o.digest, sizeof o.digest, "%s", res->output_sha256);
    snprintf(o.path, sizeof o.path, "%s", res->output_path);
    snprintf(o.folder, sizeof o.folder, "%s", j->out_folder);
    o.size = res->bytes_out;
    kk_audit_entry a = { kk_profile_name(j->profile), kk_profile_version(j->profile),
                         kk_profile_digest(j->profile), p->digest, o.digest,
                         res->sop_instance_uid, "ok" };
    /* the same output an earlier run recorded here and was killed before
     * it appeared: its audit row already says what is written now */
    const kk_store_output *r = &p->recorded;
    bool again = r->path[0] && strcmp(r->folder, o.folder) == 0 && strcmp(r->path, o.path) == 0 &&
                 strcmp(r->digest, o.digest) == 0;
    return kk_store_commit_output(j->store, ctx, p->digest, kk_profile_digest(j->profile),
                                  again ? NULL : &a, &o);
}

static void do_one(job *j, kk_ctx *ctx, const input *in)
{
    const char *path = in->path;
    double t0 = now_s();
    char id[ID_HEX + 1];
    input_id(j, in, id);
    outcome o = { NULL, NULL, NULL, NULL, 0.0 };
    char prev[PATH_MAX];
    char reason[320];
    kk_deid_result res = KK_DEID_RESULT_INIT;
    char digest[65] = "";
    bool flying = false;

    if (j->jn && journal_done(j->jn, id, prev, sizeof prev)) {
        kk_cli_debug(j->cli, "'%s' was done in an earlier run", path);
        atomic_fetch_add(&j->done_before, 1);
        o.status = "done-before";
        o.output = prev;
        goto out;
    }
    int dicom = kk_sniff_dicom(path);
    if (dicom <= 0) {
        if (dicom < 0) {
            snprintf(reason, sizeof reason, "cannot read '%s': %s", path, strerror(errno));
            kk_cli_error(j->cli, "%s", reason);
            atomic_fetch_add(&j->failed, 1);
            o.status = "failed";
        } else {
            snprintf(reason, sizeof reason, "not a DICOM file");
            kk_cli_info(j->cli, "skipped '%s': not a DICOM file", path);
            atomic_fetch_add(&j->skipped, 1);
            o.status = "skipped";
        }
        o.reason = reason;
        goto out;
    }
    if (j->optout && kk_optout_matches(j->optout, ctx, path) == 1) {
        atomic_fetch_add(&j->opted_out, 1);
        atomic_fetch_add(&j->seen, 1);
        return; /* R26: no trace but the count */
    }
    if (j->release && kk_release_suppressed(j->release, path)) {
        atomic_fetch_add(&j->suppressed, 1);
        atomic_fetch_add(&j->seen, 1);
        return; /* R14: a suppressed patient leaves no output */
    }
    publishing pub;
    memset(&pub, 0, sizeof pub);
    pub.j = j;
    pub.path = path;
    pub.pc.j = j;
    kk_deid_hooks hooks = KK_DEID_HOOKS_INIT;
    hooks.on_input = on_input;
    hooks.before_publish = publish;
    hooks.payload = &pub;
    kk_status st = kk_deid_file_ex(j->deid, ctx, path, j->out_dir, &res, j->store ? &hooks : NULL);
    flying = pub.flying;
    memcpy(digest, pub.digest, sizeof digest);
    if (pub.claim_failed) {
        snprintf(reason, sizeof reason, "cannot claim '%s' in the store: %s", path,
                 kk_error_message(ctx));
        kk_cli_error(j->cli, "%s", reason);
        atomic_fetch_add(&j->failed, 1);
        o.status = "failed";
        o.reason = reason;
        goto out;
    }
    if (pub.not_mine && pub.claim == KK_CLAIM_DONE) {
        kk_cli_debug(j->cli, "'%s' was done in an earlier run: %s", path, pub.recorded.path);
        atomic_fetch_add(&j->done_before, 1);
        o.status = "done-before";
        o.output = pub.recorded.path;
        goto out;
    }
    if (pub.not_mine) {
        kk_cli_debug(j->cli, "'%s' is being done by another run on the same store", path);
        atomic_fetch_add(&j->done_before, 1);
        o.status = "done-before";
        goto out;
    }
    if (st == KK_ESKIPPED) {
        kk_cli_warn(j->cli, "%s", kk_error_message(ctx));
        atomic_fetch_add(&j->skipped, 1);
        audit(j, ctx, digest, "skipped");
        o.status = "skipped";
        o.reason = kk_error_message(ctx);
        goto out;
    }
    if (st != KK_OK) {
        kk_cli_error(j->cli, "%s", kk_error_message(ctx));
        atomic_fetch_add(&j->failed, 1);
        audit(j, ctx, digest, "failed");
        o.status = "failed";
        o.reason = kk_error_message(ctx);
        goto out;
    }
    kk_cli_debug(j->cli, "'%s' -> %s", path, res.output_path);
    /* its "ok" audit row was committed by publish(), before it appeared */
    if (j->jn)
        journal_add(j, id, res.output_path);
    if (res.duplicate) {
        kk_cli_warn(j->cli, "'%s' gives the same object as an earlier input: %s written once",
                    path, res.output_path);
        atomic_fetch_add(&j->duplicates, 1);
        o.status = "duplicate";
    } else {
        atomic_fetch_add(&j->written, 1);
        o.status = "done";
    }
    o.output = res.output_path;
    o.res = &res;
out:
    if (flying)
        fly_leave(j, digest);
    atomic_fetch_add(&j->bytes_done, in->size);
    atomic_fetch_add(&j->seen, 1);
    o.seconds = now_s() - t0;
    report_line(j, in, id, &o);
    kk_deid_result_clear(&res);
}

static void *preload(void *arg)
{
    (void)arg;
    kk_preload();
    return NULL;
}

static void *worker(void *arg)
{
    job *j = arg;
    kk_ctx *ctx = kk_ctx_new();
    input *in;
    while ((in = queue_pop(&j->q)) != NULL) {
        if (ctx)
            do_one(j, ctx, in);
        else
            atomic_fetch_add(&j->failed, 1);
        free(in);
        if (ctx)
            kk_error_clear(ctx);
    }
    kk_ctx_free(ctx);
    return NULL;
}

/* --- producer, counter, progress ------------------------------------------ */

typedef struct producer {
    job *j;
    uint64_t n;
} producer;

static int produce(const char *path, const char *rel, const struct stat *sb, void *payload)
{
    producer *p = payload;
    size_t len = strlen(path);
    input *in = malloc(sizeof *in + len + 1);
    if (!in) {
        atomic_fetch_add(&p->j->failed, 1);
        return 0;
    }
    memcpy(in->path, path, len + 1);
    in->rel_off = (size_t)(rel - path) <= len ? (size_t)(rel - path) : len;
    in->n = ++p->n;
    in->size = (uint64_t)sb->st_size;
    in->mtime_ns = (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
    if (p->j->inline_ctx) {
        do_one(p->j, p->j->inline_ctx, in);
        kk_error_clear(p->j->inline_ctx);
        free(in);
    } else {
        queue_push(&p->j->q, in);
    }
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
    size_t done = atomic_load(&j->seen);
    double mb = (double)atomic_load(&j->bytes_done) / 1e6;
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
            total, mb, rate, el > 0 ? (double)done / el : 0.0, eta, atomic_load(&j->failed),
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
static void remove_stale_temps(const kk_cli *cli, const char *out_dir)
{
    DIR *d = opendir(out_dir);
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
        if (snprintf(p, sizeof p, "%s/%s", out_dir, de->d_name) < (int)sizeof p && unlink(p) == 0)
            kk_cli_debug(cli, "removed '%s', left by a run that was killed", p);
    }
    closedir(d);
}

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
    kk_key *key = NULL, *id_key = NULL;
    kk_store *store = NULL;
    kk_deid *deid = NULL;
    kk_optout *optout = NULL;
    kk_release *release = NULL;
    FILE *report = NULL;
    journal *jn = NULL;
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
        if (!digest_init()) {
            kk_cli_error(&cli, "libgcrypt is older than the one kakou was built with");
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
    /* inputs are named (journal, report) by a digest under the run's key;
     * without a key file, under a key of this run only */
    if (!key && kk_key_new_ephemeral(&id_key, ctx) != KK_OK) {
        kk_cli_error(&cli, "%s", kk_error_message(ctx));
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
    remove_stale_temps(&cli, out_dir);
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
    /* the journal serves runs with a key file and no store: without a key
     * the UIDs change every run and nothing could be resumed */
    if (key && !store && !no_journal && !(jn = journal_open(&cli, out_dir)))
        goto out;

    job j;
    memset(&j, 0, sizeof j);
    j.cli = &cli;
    j.deid = deid;
    j.store = store;
    j.profile = profile;
    j.id_key = key ? key : id_key;
    j.out_dir = out_dir;
    struct stat osb;
    if (stat(out_dir, &osb) == 0)
        snprintf(j.out_folder, sizeof j.out_folder, "%llu:%llu", (unsigned long long)osb.st_dev,
                 (unsigned long long)osb.st_ino);
    j.jn = jn;
    j.report = report;
    j.report_paths = report_paths;
    j.optout = optout;
    j.release = release;
    pthread_mutex_init(&j.report_mu, NULL);
    pthread_mutex_init(&j.fly_mu, NULL);
    pthread_cond_init(&j.fly_cv, NULL);
    j.fly = calloc((size_t)jobs + 1, sizeof *j.fly);
    if (!j.fly || queue_init(&j.q, (size_t)jobs * QUEUE_PER_WORKER) != 0) {
        free(j.fly);
        kk_cli_error(&cli, "out of memory");
        goto out;
    }

    if (have_pre) {
        pthread_join(pre, NULL);
        have_pre = false;
    }
    double t0 = now_s();
    size_t nthreads = (size_t)jobs;
    pthread_t *tids = calloc(nthreads, sizeof *tids);
    size_t started = 0;
    for (; tids && started < nthreads; started++)
        if (pthread_create(&tids[started], NULL, worker, &j) != 0)
            break;
    bool show = force_progress || (cli.level >= KK_LOG_WARN && isatty(STDERR_FILENO));
    progress pr = { &j, t0, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false };
    counter cn = { &j, argc - optind, argv + optind };
    pthread_t pt, ct;
    bool have_pt = false, have_ct = false;
    if (show) {
        have_ct = pthread_create(&ct, NULL, count_thread, &cn) == 0;
        have_pt = pthread_create(&pt, NULL, progress_thread, &pr) == 0;
    }
    producer prod = { &j, 0 };
    size_t missing = 0;
    if (started == 0) {
        /* a queue nobody drains would block: the walk does the work */
        kk_cli_warn(&cli, "cannot start worker threads: working in one");
        j.inline_ctx = ctx;
    }
    for (int i = optind; i < argc; i++)
        kk_walk(&cli, argv[i], false, produce, &prod, &missing);
    queue_close(&j.q);
    for (size_t i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    free(tids);
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
    atomic_fetch_add(&j.failed, missing);
    if (jn) {
        journal_close(jn);
        jn = NULL;
    }
    if (store && kk_store_close(store, ctx) != KK_OK) {
        kk_cli_error(&cli, "cannot close the store: %s", kk_error_message(ctx));
        atomic_fetch_add(&j.failed, 1);
    }
    store = NULL;
    if (report && fclose(report) != 0) {
        kk_cli_error(&cli, "cannot write the report '%s': %s", report_path, strerror(errno));
        atomic_fetch_add(&j.failed, 1);
    }
    report = NULL;
    double secs = now_s() - t0;
    size_t failed = atomic_load(&j.failed);
    size_t before = atomic_load(&j.done_before);
    if (cli.level >= KK_LOG_WARN) {
        fprintf(stderr, "kakou deid: read %zu, written %zu, skipped %zu, failed %zu",
                (size_t)prod.n, atomic_load(&j.written), atomic_load(&j.skipped), failed);
        if (before)
            fprintf(stderr, ", done before %zu", before);
        if (atomic_load(&j.duplicates))
            fprintf(stderr, ", duplicates %zu", atomic_load(&j.duplicates));
        if (optout)
            fprintf(stderr, ", opted out %zu", atomic_load(&j.opted_out));
        if (release)
            fprintf(stderr, ", suppressed %zu", atomic_load(&j.suppressed));
        fprintf(stderr, ", %.2f s\n", secs);
    }
    queue_destroy(&j.q);
    pthread_mutex_destroy(&j.report_mu);
    pthread_mutex_destroy(&j.fly_mu);
    pthread_cond_destroy(&j.fly_cv);
    free(j.fly);
    rc = failed ? KK_EXIT_FAILED : KK_EXIT_OK;
out:
    if (have_pre)
        pthread_join(pre, NULL);
    journal_close(jn);
    if (report)
        fclose(report);
    if (store)
        kk_store_close(store, ctx);
    kk_deid_free(deid);
    kk_release_free(release);
    kk_optout_free(optout);
    kk_key_free(key);
    kk_key_free(id_key);
    kk_profile_free(profile);
    kk_ctx_free(ctx);
    return rc;
}
