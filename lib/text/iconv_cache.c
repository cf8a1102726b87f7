/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/text/iconv_cache.c - kk_text__iconv() (iconv_cache.h): a few
 * descriptors per thread, by (to, from), closed by the thread's key
 * destructor when it ends (and at exit for the main thread, which no
 * destructor sees).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "text/iconv_cache.h"

/* the pairs kakou converts between are few: DICOM's sets to and from UTF-8 */
enum { SLOTS = 12, NAME = 32 };

typedef struct slot {
    char to[NAME], from[NAME];
    iconv_t cd;
} slot;

typedef struct cache {
    slot s[SLOTS];
    int n, next;
} cache;

static pthread_key_t key;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool key_ok;

static void cache_free(void *p)
{
    cache *c = p;
    for (int i = 0; i < c->n; i++)
        iconv_close(c->s[i].cd);
    free(c);
}

static void main_exit(void)
{
    void *c = key_ok ? pthread_getspecific(key) : NULL;
    if (c) {
        pthread_setspecific(key, NULL);
        cache_free(c);
    }
}

static void key_init(void)
{
    key_ok = pthread_key_create(&key, cache_free) == 0;
    if (key_ok)
        atexit(main_exit);
}

iconv_t kk_text__iconv(const char *to, const char *from)
{
    pthread_once(&once, key_init);
    if (!key_ok || strlen(to) >= NAME || strlen(from) >= NAME)
        return (iconv_t)-1; /* callers never close: nothing uncached is handed out */
    cache *c = pthread_getspecific(key);
    if (!c) {
        if (!(c = calloc(1, sizeof *c)))
            return (iconv_t)-1;
        if (pthread_setspecific(key, c) != 0) {
            free(c);
            return (iconv_t)-1;
        }
    }
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->s[i].to, to) == 0 && strcmp(c->s[i].from, from) == 0) {
            iconv(c->s[i].cd, NULL, NULL, NULL, NULL); /* the initial state */
            return c->s[i].cd;
        }
    iconv_t cd = iconv_open(to, from);
    if (cd == (iconv_t)-1)
        return cd;
    slot *s;
    if (c->n < SLOTS) {
        s = &c->s[c->n++];
    } else { /* full: the oldest entry goes, round robin */
        s = &c->s[c->next];
        c->next = (c->next + 1) % SLOTS;
        iconv_close(s->cd);
    }
    strcpy(s->to, to);
    strcpy(s->from, from);
    s->cd = cd;
    return cd;
}
