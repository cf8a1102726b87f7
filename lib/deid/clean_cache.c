/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/deid/clean_cache.c - identifier sets and cleaned texts kept for the
 * next objects (see clean_cache.h).
 *
 * Entries are few (one per series a batch has on the go) and found by a
 * scan; each holds an open-addressing table of texts. The least recently
 * used entry nobody holds goes when a new list comes; an entry's table
 * stops growing at its bounds rather than evicting texts.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "deid/clean_cache.h"

#define TEXT_SLOTS 512               /* per entry; a power of two */
#define TEXT_MAX_LEN 4096            /* longer texts are rare and not kept */
#define ENTRY_MAX_BYTES (256 * 1024) /* text bytes kept per entry */

typedef struct text_rec {
    uint64_t h;
    char *in; /* NULL: an empty slot */
    size_t len;
    char *out; /* NULL when the text came out unchanged */
    size_t outlen;
} text_rec;

struct kk_clean_entry {
    char *list;
    size_t len;
    uint64_t h;
    void *set;
    int refs;
    uint64_t used;
    text_rec *texts; /* TEXT_SLOTS, allocated with the first text */
    int ntexts;
    size_t bytes;
};

struct kk_clean_cache {
    pthread_mutex_t lock;
    kk_clean_entry **e;
    int n, max;
    uint64_t clock;
    void (*bind)(void *set, kk_clean_entry *e);
    void (*drop)(void *set);
};

kk_clean_cache *kk_clean_cache__new(int max_entries, void (*bind)(void *set, kk_clean_entry *e),
                                    void (*drop)(void *set))
{
    kk_clean_cache *c = kk__calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->max = max_entries > 0 ? max_entries : 1;
    c->e = kk__calloc((size_t)c->max, sizeof *c->e);
    if (!c->e) {
        free(c);
        return NULL;
    }
    c->bind = bind;
    c->drop = drop;
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

static void entry_free(kk_clean_cache *c, kk_clean_entry *e)
{
    if (e->texts)
        for (int i = 0; i < TEXT_SLOTS; i++) {
            free(e->texts[i].in);
            free(e->texts[i].out);
        }
    free(e->texts);
    if (c->drop)
        c->drop(e->set);
    free(e->list);
    free(e);
}

void kk_clean_cache__free(kk_clean_cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->n; i++)
        entry_free(c, c->e[i]);
    free(c->e);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* The entry of list; the lock is held. */
static kk_clean_entry *lookup(kk_clean_cache *c, const void *list, size_t len, uint64_t h)
{
    for (int i = 0; i < c->n; i++) {
        kk_clean_entry *e = c->e[i];
        if (e->h == h && e->len == len && memcmp(e->list, list, len) == 0)
            return e;
    }
    return NULL;
}

kk_clean_entry *kk_clean_cache__find(kk_clean_cache *c, const void *list, size_t len)
{
    uint64_t h = kk__fnv1a(KK_FNV1A_INIT, list, len);
    pthread_mutex_lock(&c->lock);
    kk_clean_entry *e = lookup(c, list, len, h);
    if (e) {
        e->refs++;
        e->used = ++c->clock;
    }
    pthread_mutex_unlock(&c->lock);
    return e;
}

kk_clean_entry *kk_clean_cache__add(kk_clean_cache *c, const void *list, size_t len, void *set)
{
    uint64_t h = kk__fnv1a(KK_FNV1A_INIT, list, len);
    kk_clean_entry *n = kk__calloc(1, sizeof *n);
    char *copy = kk__malloc(len ? len : 1);
    if (!n || !copy) {
        free(n);
        free(copy);
        return NULL;
    }
    if (len)
        memcpy(copy, list, len);
    pthread_mutex_lock(&c->lock);
    kk_clean_entry *e = lookup(c, list, len, h);
    if (e) {
        /* another thread made the same set first: use that one */
        e->refs++;
        e->used = ++c->clock;
        pthread_mutex_unlock(&c->lock);
        free(copy);
        free(n);
        if (c->drop)
            c->drop(set);
        return e;
    }
    int slot = c->n;
    if (c->n == c->max) {
        slot = -1;
        for (int i = 0; i < c->n; i++)
            if (!c->e[i]->refs && (slot < 0 || c->e[i]->used < c->e[slot]->used))
                slot = i;
        if (slot < 0) {
            /* every entry in use: the caller keeps its set to itself */
            pthread_mutex_unlock(&c->lock);
            free(copy);
            free(n);
            return NULL;
        }
        entry_free(c, c->e[slot]);
    } else {
        c->n++;
    }
    n->list = copy;
    n->len = len;
    n->h = h;
    n->set = set;
    n->refs = 1;
    n->used = ++c->clock;
    if (c->bind)
        c->bind(set, n);
    c->e[slot] = n;
    pthread_mutex_unlock(&c->lock);
    return n;
}

void *kk_clean_cache__set(const kk_clean_entry *e)
{
    return e->set;
}

void kk_clean_cache__release(kk_clean_cache *c, kk_clean_entry *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&c->lock);
    e->refs--;
    pthread_mutex_unlock(&c->lock);
}

/* The slot of in in e's table (its own, or the empty one it would take);
 * -1 when the table is full. The lock is held. */
static int text_slot(const kk_clean_entry *e, const char *in, size_t len, uint64_t h)
{
    for (int k = 0, i = (int)(h & (TEXT_SLOTS - 1)); k < TEXT_SLOTS;
         k++, i = (i + 1) & (TEXT_SLOTS - 1)) {
        const text_rec *t = &e->texts[i];
        if (!t->in || (t->h == h && t->len == len && memcmp(t->in, in, len) == 0))
            return i;
    }
    return -1;
}

bool kk_clean_cache__text(kk_clean_cache *c, kk_clean_entry *e, const char *in, size_t len,
                          kk_buf *out, bool *changed)
{
    if (len > TEXT_MAX_LEN)
        return false;
    uint64_t h = kk__fnv1a(KK_FNV1A_INIT, in, len);
    bool hit = false;
    pthread_mutex_lock(&c->lock);
    int i = e->texts ? text_slot(e, in, len, h) : -1;
    if (i >= 0 && e->texts[i].in) {
        const text_rec *t = &e->texts[i];
        *changed = t->out != NULL;
        if (t->out)
            kk__buf_add(out, t->out, t->outlen);
        else
            kk__buf_add(out, in, len);
        hit = true;
    }
    pthread_mutex_unlock(&c->lock);
    return hit;
}

void kk_clean_cache__put_text(kk_clean_cache *c, kk_clean_entry *e, const char *in, size_t len,
                              const char *out, size_t outlen, bool changed)
{
    if (len > TEXT_MAX_LEN)
        return;
    uint64_t h = kk__fnv1a(KK_FNV1A_INIT, in, len);
    pthread_mutex_lock(&c->lock);
    if (!e->texts)
        e->texts = kk__calloc(TEXT_SLOTS, sizeof *e->texts);
    size_t cost = len + (changed ? outlen : 0);
    /* three quarters full at most, so a miss ends at an empty slot soon */
    int i = e->texts && e->ntexts < TEXT_SLOTS * 3 / 4 && e->bytes + cost <= ENTRY_MAX_BYTES
                ? text_slot(e, in, len, h)
                : -1;
    if (i >= 0 && !e->texts[i].in) {
        text_rec t = { h, kk__malloc(len ? len : 1), len, NULL, 0 };
        if (t.in && changed) {
            t.out = kk__malloc(outlen ? outlen : 1);
            if (!t.out) {
                free(t.in);
                t.in = NULL;
            } else if (outlen) {
                memcpy(t.out, out, outlen);
            }
            t.outlen = outlen;
        }
        if (t.in) {
            if (len)
                memcpy(t.in, in, len);
            e->texts[i] = t;
            e->ntexts++;
            e->bytes += cost;
        }
    }
    pthread_mutex_unlock(&c->lock);
}

void kk_clean_cache__count(kk_clean_cache *c, int *lists, int *texts)
{
    pthread_mutex_lock(&c->lock);
    *lists = c->n;
    *texts = 0;
    for (int i = 0; i < c->n; i++)
        *texts += c->e[i]->ntexts;
    pthread_mutex_unlock(&c->lock);
}
