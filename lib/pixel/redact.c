/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/redact.c - burned-in text, the second step: text detection over
 * every frame, painting out and re-encoding (the first step, reading the
 * profile's `pixel` rules against the original header, is
 * lib/deid/pixel_plan.c). See redact.h for the two steps and why.
 *
 * Multi-frame objects (ultrasound cine): text that stays put is found once
 * on composites of sampled frames (the per-pixel minimum keeps static
 * bright text and drops moving speckle; the maximum does the same for dark
 * text) and painted out of every frame. When a sampled frame shows text
 * the composites missed, the text moves, and every frame is searched on
 * its own.
 */
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pixel/image.h"
#include "pixel/redact.h"
#include "pixel/textfind.h"

/* frames sampled for the composites and the moving-text check */
#define KK_SAMPLED_FRAMES 8

/* --- the pool of text finders ----------------------------------------- */

struct kk_pixel_pool {
    pthread_mutex_t lock;
    kk_textfind **free;
    int nfree, cap;
    const char *const *allow;
    size_t nallow;
};

kk_status kk_pixel__pool_new(kk_pixel_pool **out, kk_ctx *ctx, const kk_profile *profile)
{
    kk_pixel_pool *p = kk__calloc(1, sizeof *p);
    if (!p)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    pthread_mutex_init(&p->lock, NULL);
    int n;
    p->allow = kk_profile__pixel_allow(profile, &n);
    p->nallow = (size_t)n;
    *out = p;
    return KK_OK;
}

void kk_pixel__pool_free(kk_pixel_pool *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->nfree; i++)
        kk_textfind__free(p->free[i]);
    free(p->free);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

static kk_status pool_take(kk_pixel_pool *p, kk_ctx *ctx, kk_textfind **tf)
{
    *tf = NULL;
    pthread_mutex_lock(&p->lock);
    if (p->nfree > 0)
        *tf = p->free[--p->nfree];
    pthread_mutex_unlock(&p->lock);
    return *tf ? KK_OK : kk_textfind__new(tf, ctx);
}

static void pool_give(kk_pixel_pool *p, kk_textfind *tf)
{
    pthread_mutex_lock(&p->lock);
    if (p->nfree == p->cap) {
        int cap = p->cap ? p->cap * 2 : 4;
        kk_textfind **nf = kk__realloc(p->free, (size_t)cap * sizeof *nf);
        if (!nf) {
            pthread_mutex_unlock(&p->lock);
            kk_textfind__free(tf);
            return;
        }
        p->free = nf;
        p->cap = cap;
    }
    p->free[p->nfree++] = tf;
    pthread_mutex_unlock(&p->lock);
}

/* --- finding and painting ----------------------------------------------- */

typedef struct boxlist {
    kk_pixel_box *v;
    size_t n, cap;
    bool failed;
} boxlist;

static void box_add(boxlist *l, const kk_pixel_box *b)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        kk_pixel_box *nv = kk__realloc(l->v, cap * sizeof *nv);
        if (!nv) {
            l->failed = true;
            return;
        }
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n++] = *b;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Text boxes of one 8-bit image, appended with the given frame. */
static kk_status find_text(kk_textfind *tf, kk_ctx *ctx, const kk_pixel_pool *pool,
                           const uint8_t *gray, int cols, int rows, kk_pixel_mode mode,
                           const kk_text_ids *ids, int frame, boxlist *out)
{
    kk_textbox *tb = NULL;
    size_t nb = 0;
    /* Tesseract's OpenMP teams spin on idle cores: with one object per
     * worker thread they cost more than they give (3x slower measured
     * on 2 cores). This sets the calling thread's team size only. */
    omp_set_num_threads(1);
    kk_status st = kk_textfind__run(tf, ctx, gray, cols, rows,
                                    mode == KK_PIXEL_MODE_PHI ? KK_TEXT_MODE_PHI : KK_TEXT_MODE_ALL,
                                    ids, pool->allow, pool->nallow, &tb, &nb);
    if (st != KK_OK)
        return st;
    for (size_t i = 0; i < nb; i++) {
        /* a "line" over a quarter of the frame is the detector failing
         * on a textured picture, not text */
        if ((long long)tb[i].w * tb[i].h * 4 > (long long)cols * rows)
            continue;
        kk_pixel_box b;
        memset(&b, 0, sizeof b);
        b.frame = frame;
        b.x = tb[i].x;
        b.y = tb[i].y;
        b.w = tb[i].w;
        b.h = tb[i].h;
        b.source = KK_PIXEL_SOURCE_DETECTED;
        b.text_class = (int)tb[i].cls;
        snprintf(b.text, sizeof b.text, "%s", tb[i].text);
        box_add(out, &b);
    }
    free(tb);
    return out->failed ? kk__fail(ctx, KK_ENOMEM, "out of memory") : KK_OK;
}

/* Is most of b inside one of the boxes of l? */
static bool covered(const kk_pixel_box *b, const boxlist *l, size_t from)
{
    long area = (long)b->w * b->h;
    for (size_t i = from; i < l->n; i++) {
        const kk_pixel_box *c = &l->v[i];
        int x0 = b->x > c->x ? b->x : c->x, y0 = b->y > c->y ? b->y : c->y;
        int x1 = b->x + b->w < c->x + c->w ? b->x + b->w : c->x + c->w;
        int y1 = b->y + b->h < c->y + c->h ? b->y + b->h : c->y + c->h;
        if (x1 > x0 && y1 > y0 && (long)(x1 - x0) * (y1 - y0) * 10 >= area * 8)
            return true;
    }
    return false;
}

static kk_status detect(const kk_pixel_plan *plan, kk_ctx *ctx, kk_pixel_pool *pool,
                        kk_image *img, boxlist *out)
{
    int rows = kk_image__rows(img), cols = kk_image__columns(img), frames = kk_image__frames(img);
    size_t px = (size_t)rows * (size_t)cols;
    kk_textfind *tf = NULL;
    kk_status st = pool_take(pool, ctx, &tf);
    if (st != KK_OK)
        return st;
    uint8_t *g = kk__malloc(px * 3);
    if (!g) {
        pool_give(pool, tf);
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    }
    if (frames == 1) {
        st = kk_image__gray8(img, ctx, 0, g);
        if (st == KK_OK)
            st = find_text(tf, ctx, pool, g, cols, rows, plan->mode, &plan->ids, -1, out);
        goto done;
    }
    /* static text: composites of sampled frames */
    uint8_t *lo = g + px, *hi = g + 2 * px;
    int ns = frames < KK_SAMPLED_FRAMES ? frames : KK_SAMPLED_FRAMES;
    for (int s = 0; s < ns && st == KK_OK; s++) {
        int f = (int)((long long)s * (frames - 1) / (ns - 1));
        st = kk_image__gray8(img, ctx, f, g);
        for (size_t i = 0; i < px && st == KK_OK; i++) {
            lo[i] = s == 0 || g[i] < lo[i] ? g[i] : lo[i];
            hi[i] = s == 0 || g[i] > hi[i] ? g[i] : hi[i];
        }
    }
    size_t static_from = out->n;
    if (st == KK_OK)
        st = find_text(tf, ctx, pool, lo, cols, rows, plan->mode, &plan->ids, -1, out);
    if (st == KK_OK)
        st = find_text(tf, ctx, pool, hi, cols, rows, plan->mode, &plan->ids, -1, out);
    /* moving text: a sampled frame with text the composites missed */
    bool moving = false;
    for (int s = 0; s < ns && st == KK_OK && !moving; s++) {
        int f = (int)((long long)s * (frames - 1) / (ns - 1));
        boxlist one = { NULL, 0, 0, false };
        st = kk_image__gray8(img, ctx, f, g);
        if (st == KK_OK)
            st = find_text(tf, ctx, pool, g, cols, rows, plan->mode, &plan->ids, f, &one);
        for (size_t i = 0; i < one.n && st == KK_OK; i++)
            if (!covered(&one.v[i], out, static_from))
                moving = true;
        free(one.v);
    }
    for (int f = 0; f < frames && st == KK_OK && moving; f++) {
        st = kk_image__gray8(img, ctx, f, g);
        if (st == KK_OK)
            st = find_text(tf, ctx, pool, g, cols, rows, plan->mode, &plan->ids, f, out);
    }
done:
    free(g);
    pool_give(pool, tf);
    return st;
}

kk_status kk_pixel__apply(const kk_pixel_plan *plan, kk_ctx *ctx, kk_pixel_pool *pool,
                          kk_dcm *dcm, const char *path, bool write,
                          kk_pixel_outcome *out, kk_image **keep)
{
    memset(out, 0, sizeof *out);
    if (keep)
        *keep = NULL;
    if (!plan->active)
        return KK_OK;
    double t0 = now();
    kk_image *img = NULL;
    kk_status st = kk_image__decode(&img, ctx, dcm);
    if (st != KK_OK) {
        /* fail closed: text we cannot look for may be there */
        char why[400];
        snprintf(why, sizeof why, "%s", kk_error_message(ctx));
        return kk__fail(ctx, st, "cannot clean burned-in text in '%s': %s", path, why);
    }
    boxlist l = { NULL, 0, 0, false };
    for (size_t i = 0; i < plan->nregions; i++)
        box_add(&l, &plan->regions[i]);
    if (plan->mode != KK_PIXEL_MODE_OFF) {
        st = detect(plan, ctx, pool, img, &l);
        out->burned_in_checked = st == KK_OK;
    }
    if (st == KK_OK && plan->clear_high_bits && kk_image__clear_high_bits(img) > 0) {
        kk_pixel_box b;
        memset(&b, 0, sizeof b);
        b.frame = -1;
        b.w = kk_image__columns(img);
        b.h = kk_image__rows(img);
        b.source = KK_PIXEL_SOURCE_OVERLAY;
        box_add(&l, &b);
    }
    if (st == KK_OK && l.failed)
        st = kk__fail(ctx, KK_ENOMEM, "out of memory");
    for (size_t i = 0; i < l.n && st == KK_OK; i++) {
        out->by_source[l.v[i].source]++;
        if (l.v[i].source != KK_PIXEL_SOURCE_OVERLAY)
            kk_image__fill(img, l.v[i].frame, l.v[i].x, l.v[i].y, l.v[i].w, l.v[i].h);
    }
    if (st == KK_OK && l.n > 0 && write) {
        st = kk_image__encode(img, ctx, dcm, plan->lossy_reencode ? KK_LOSSY_REENCODE : KK_LOSSY_TO_LOSSLESS,
                              plan->quality);
        if (st != KK_OK) {
            char why[400];
            snprintf(why, sizeof why, "%s", kk_error_message(ctx));
            st = kk__fail(ctx, st, "cannot write the cleaned pixels of '%s': %s", path, why);
        }
    }
    out->cleaned = st == KK_OK && l.n > 0 && write;
    if (st == KK_OK && keep && !write)
        *keep = img;
    else
        kk_image__free(img);
    if (st != KK_OK) {
        free(l.v);
        return st;
    }
    out->boxes = l.v;
    out->nboxes = l.n;
    out->seconds = now() - t0;
    return KK_OK;
}
