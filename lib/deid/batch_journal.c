/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/deid/batch_journal.c - the resume journal of a batch without a store
 * (include/kakou/batch.h): OUTDIR/.kakou-journal, one line per input done,
 * "ID OUTPUT". Lines are appended by one write each on an O_APPEND
 * descriptor (they never interleave) and fsync'd in batches; a torn last
 * line (kill -9, power loss) is ignored on reading and ended before the
 * next is appended.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/core.h"
#include "deid/batch_internal.h"

#define JOURNAL_NAME ".kakou-journal"
#define JOURNAL_HEADER "# kakou journal 1: input-id output\n"
#define JOURNAL_SYNC_LINES 256
#define JOURNAL_SYNC_MS 1000
#define ID_HEX KK_BATCH_ID_HEX

/* The journal read at start: (first 8 bytes of id, line offset), sorted. */
typedef struct jentry {
    uint64_t id8;
    uint64_t off;
} jentry;

struct kk_journal {
    int fd;
    jentry *seen;
    size_t nseen;
    pthread_mutex_t mu;
    unsigned pending;
    struct timespec last_sync;
    bool failed;
};

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

/* Lines that are not whole (a torn last line) or not ours are ignored. */
kk_status kk_batch__journal_open(kk_journal **out, kk_ctx *ctx, const char *out_dir)
{
    *out = NULL;
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", out_dir, JOURNAL_NAME);
    kk_journal *jn = kk__calloc(1, sizeof *jn);
    if (!jn)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    jn->fd = open(p, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (jn->fd < 0) {
        int e = errno;
        free(jn);
        return kk__fail(ctx, KK_EIO, "cannot open the journal '%s': %s", p, strerror(e));
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
    *out = jn;
    return KK_OK;
}

bool kk_batch__journal_done(kk_journal *jn, const char *id, char *out, size_t outsz)
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

static void sync_locked(kk_journal *jn)
{
    if (jn->pending && fdatasync(jn->fd) != 0)
        jn->failed = true;
    jn->pending = 0;
    clock_gettime(CLOCK_MONOTONIC, &jn->last_sync);
}

bool kk_batch__journal_add(kk_journal *jn, const char *id, const char *out_rel,
                           bool *first_failure)
{
    char line[ID_HEX + 1 + PATH_MAX + 1];
    int n = snprintf(line, sizeof line, "%s %s\n", id, out_rel);
    *first_failure = false;
    if (n >= (int)sizeof line)
        return true;
    bool ok = true;
    pthread_mutex_lock(&jn->mu);
    if (write(jn->fd, line, (size_t)n) != n) {
        ok = false;
        *first_failure = !jn->failed;
        jn->failed = true;
    }
    jn->pending++;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    long ms = (long)(t.tv_sec - jn->last_sync.tv_sec) * 1000 +
              (t.tv_nsec - jn->last_sync.tv_nsec) / 1000000;
    if (jn->pending >= JOURNAL_SYNC_LINES || ms >= JOURNAL_SYNC_MS)
        sync_locked(jn);
    pthread_mutex_unlock(&jn->mu);
    return ok;
}

bool kk_batch__journal_close(kk_journal *jn)
{
    if (!jn)
        return true;
    pthread_mutex_lock(&jn->mu);
    sync_locked(jn);
    pthread_mutex_unlock(&jn->mu);
    bool ok = !jn->failed;
    close(jn->fd);
    pthread_mutex_destroy(&jn->mu);
    free(jn->seen);
    free(jn);
    return ok;
}
