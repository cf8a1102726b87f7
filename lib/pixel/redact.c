/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/redact.c - burned-in text, the second step: text detection over
 * every frame, painting out and re-encoding (the first step, reading the
 * profile's `pixel` rules against the original header, is
 * lib/pixel/plan.c). See redact.h for the two steps and why.
 *
 * Multi-frame objects (ultrasound cine): text that stays put is found once
 * on composites of sampled frames (the per-pixel minimum keeps static
 * bright text and drops moving speckle; the maximum does the same for dark
 * text) and painted out of every frame. Then every frame is looked at on
 * its own, unpainted first (the composites' lines seen whole: a line in
 * some frames only is cut short on them), then painted: text that moves
 * or shows in some frames only.
 *
 * Claim clean only when clean (issue 14): after painting, the painted
 * frames go through the presence stage, the detector and OCR again; what
 * they find is painted too, up to KK_PAINTED_ROUNDS looks, and frames
 * where the last look still finds text are counted in residue_frames.
 * The profile decides what that means (`set pixel.residue fail|report`).
 */
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pixel/codes.h"
#include "pixel/image.h"
#include "pixel/redact.h"
#include "pixel/textfind.h"

/* frames sampled for the composites */
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
    /* technical lines inside region rules that stay (single frames) */
    kk_textbox *keep;
    size_t nkeep;
} boxlist;

#define BOXLIST_INIT { NULL, 0, 0, false, NULL, 0 }

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
        if (kk_textfind__too_big(tb[i].w, tb[i].h, cols, rows))
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

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return x < y ? -1 : x > y;
}

/* Paint the region r less the kept boxes wholly inside it, band by band:
 * between two consecutive top or bottom edges, the gaps between the kept
 * boxes that span the band. */
static void fill_except(kk_image *img, const kk_pixel_box *r, const kk_textbox *k, size_t nk)
{
    int ys[2 + 2 * 16], ny = 0;
    const kk_textbox *in[16];
    size_t ni = 0;
    for (size_t i = 0; i < nk && ni < 16; i++)
        if (k[i].x >= r->x && k[i].y >= r->y && k[i].x + k[i].w <= r->x + r->w &&
            k[i].y + k[i].h <= r->y + r->h)
            in[ni++] = &k[i];
    if (ni == 0) {
        kk_image__fill(img, r->frame, r->x, r->y, r->w, r->h);
        return;
    }
    ys[ny++] = r->y;
    ys[ny++] = r->y + r->h;
    for (size_t i = 0; i < ni; i++) {
        ys[ny++] = in[i]->y;
        ys[ny++] = in[i]->y + in[i]->h;
    }
    qsort(ys, (size_t)ny, sizeof *ys, cmp_int);
    for (int b = 0; b + 1 < ny; b++) {
        int y0 = ys[b], y1 = ys[b + 1];
        if (y1 <= y0)
            continue;
        int xs[2 * 16], nx = 0;
        for (size_t i = 0; i < ni; i++)
            if (in[i]->y <= y0 && in[i]->y + in[i]->h >= y1) {
                xs[nx++] = in[i]->x;
                xs[nx++] = in[i]->x + in[i]->w;
            }
        /* kept spans in x order; fill what lies between them */
        for (int a = 0; a + 1 < nx; a += 2)
            for (int c = a + 2; c + 1 < nx; c += 2)
                if (xs[c] < xs[a]) {
                    int t0 = xs[a], t1 = xs[a + 1];
                    xs[a] = xs[c];
                    xs[a + 1] = xs[c + 1];
                    xs[c] = t0;
                    xs[c + 1] = t1;
                }
        int x = r->x;
        for (int a = 0; a + 1 < nx; a += 2) {
            if (xs[a] > x)
                kk_image__fill(img, r->frame, x, y0, xs[a] - x, y1 - y0);
            if (xs[a + 1] > x)
                x = xs[a + 1];
        }
        if (r->x + r->w > x)
            kk_image__fill(img, r->frame, x, y0, r->x + r->w - x, y1 - y0);
    }
}

static void paint(kk_image *img, const boxlist *l, size_t from)
{
    for (size_t i = from; i < l->n; i++) {
        if (l->v[i].source == KK_PIXEL_SOURCE_OVERLAY)
            continue;
        if (l->v[i].source == KK_PIXEL_SOURCE_RULE && l->nkeep)
            fill_except(img, &l->v[i], l->keep, l->nkeep);
        else
            kk_image__fill(img, l->v[i].frame, l->v[i].x, l->v[i].y, l->v[i].w, l->v[i].h);
    }
}

/* Paint boxes [from, to) of l into frame f only (those of every frame
 * and those of f). */
static void paint_frame(kk_image *img, const boxlist *l, size_t from, size_t to, int f)
{
    for (size_t i = from; i < to; i++) {
        kk_pixel_box b = l->v[i];
        if (b.source == KK_PIXEL_SOURCE_OVERLAY || (b.frame >= 0 && b.frame != f))
            continue;
        b.frame = f;
        if (b.source == KK_PIXEL_SOURCE_RULE && l->nkeep)
            fill_except(img, &b, l->keep, l->nkeep);
        else
            kk_image__fill(img, f, b.x, b.y, b.w, b.h);
    }
}

static int cmp_u8(const void *a, const void *b)
{
    return (int)*(const uint8_t *)a - (int)*(const uint8_t *)b;
}

/* In the 8-bit view of a painted frame, fill each painted box with the
 * median grey of a ring around it (painted pixels, 0, left out): a black
 * box on speckle makes the grains along its edges stand out like glyphs,
 * which a look for what is left would take for text. */
static void neutral_fill(uint8_t *g, int cols, int rows, const boxlist *l, int frame)
{
    uint8_t ring[4096];
    for (size_t i = 0; i < l->n; i++) {
        const kk_pixel_box *b = &l->v[i];
        if (b->source == KK_PIXEL_SOURCE_OVERLAY || (b->frame >= 0 && b->frame != frame))
            continue;
        int x0 = b->x < 0 ? 0 : b->x, y0 = b->y < 0 ? 0 : b->y;
        int x1 = b->x + b->w > cols ? cols : b->x + b->w;
        int y1 = b->y + b->h > rows ? rows : b->y + b->h;
        if (x1 <= x0 || y1 <= y0)
            continue;
        size_t n = 0;
        for (int m = 1; m <= 3; m++)
            for (int y = y0 - m; y < y1 + m; y++)
                for (int x = x0 - m; x < x1 + m; x++) {
                    if (y < 0 || y >= rows || x < 0 || x >= cols ||
                        (y > y0 - m && y < y1 + m - 1 && x > x0 - m && x < x1 + m - 1))
                        continue;
                    uint8_t v = g[(size_t)y * cols + x];
                    if (v && n < sizeof ring)
                        ring[n++] = v;
                }
        uint8_t fillv = 0;
        if (n) {
            qsort(ring, n, 1, cmp_u8);
            fillv = ring[n / 2];
        }
        for (int y = y0; y < y1; y++)
            memset(g + (size_t)y * cols + x0, fillv, (size_t)(x1 - x0));
    }
}

/* Does b continue a row painted in frame f by the first look (boxes
 * 0..upto-1; not by later looks, which would chain along speckle): most
 * of its height within the box's rows, its height alike, within two
 * heights of it? */
static bool on_painted_row(const kk_pixel_box *b, const boxlist *l, size_t upto, int f)
{
    for (size_t i = 0; i < upto; i++) {
        const kk_pixel_box *p = &l->v[i];
        if (p->source == KK_PIXEL_SOURCE_OVERLAY || (p->frame >= 0 && p->frame != f))
            continue;
        int lo = b->y > p->y ? b->y : p->y;
        int hi = b->y + b->h < p->y + p->h ? b->y + b->h : p->y + p->h;
        int hmin = b->h < p->h ? b->h : p->h, hmax = b->h > p->h ? b->h : p->h;
        int gap = b->x > p->x + p->w ? b->x - (p->x + p->w) : p->x > b->x + b->w ? p->x - (b->x + b->w) : 0;
        if (2 * (hi - lo) >= hmin && hmax <= 2 * hmin + 4 && gap <= 2 * hmin)
            return true;
    }
    return false;
}

/* Does b lie mostly (half its area or more) in boxes the first look
 * painted into frame f (boxes 0..upto-1)? A cine's composites merge the
 * lines of moving text into one tall box, whose rows no single line
 * continues, and the part of a line outside it is the part left. */
static bool mostly_painted(const kk_pixel_box *b, const boxlist *l, size_t upto, int f)
{
    /* pixel by pixel: the composites' boxes overlap one another */
    long long in = 0;
    for (int y = b->y; y < b->y + b->h; y++)
        for (int x = b->x; x < b->x + b->w; x++)
            for (size_t i = 0; i < upto; i++) {
                const kk_pixel_box *p = &l->v[i];
                if (p->source != KK_PIXEL_SOURCE_OVERLAY && (p->frame < 0 || p->frame == f) &&
                    x >= p->x && x < p->x + p->w && y >= p->y && y < p->y + p->h) {
                    in++;
                    break;
                }
            }
    return 2 * in >= (long long)b->w * b->h;
}

/* The views text is searched in: luminance, and a second one: for colour
 * images chroma (colour text as light as what lies under it shows only
 * there), for monochrome images of more than 8 bits their extremes (text
 * drawn at the largest value, clipped by the window into the brightest
 * anatomy beside it). */
static int view_count(const kk_image *img)
{
    return kk_image__is_colour(img) || kk_image__has_extremes(img) ? 2 : 1;
}

/* View v of a frame into out; *skip when it shows nothing to search. The
 * window of the last luminance view is kept in *win for the extremes view
 * of the same frame. */
static kk_status view_of(const kk_image *img, kk_ctx *ctx, kk_textfind *tf, int v, int frame,
                         uint8_t *out, kk_image_window *win, bool *skip)
{
    *skip = false;
    /* colour pictures (Doppler flow) make shapes in chroma: there only
     * what OCR reads counts */
    kk_textfind__need_reading(tf, v > 0 && kk_image__is_colour(img));
    if (v == 0)
        return kk_image__gray8_window(img, ctx, frame, out, win);
    if (kk_image__is_colour(img))
        return kk_image__chroma8(img, ctx, frame, out);
    bool any = false;
    kk_status st = kk_image__extremes8(img, ctx, frame, out, win, &any);
    *skip = !any;
    return st;
}

/* Rounds of "look again at the painted frames": the first finds text
 * that moves or shows in some frames only (and what the first look cut
 * short), the second what the first left, the last only checks. */
#define KK_PAINTED_ROUNDS 3

/* Barcodes and QR codes in a luminance view (codes.h): an ID in another
 * form, painted whatever the mode, as no anatomy looks like one. Looked
 * for where labels are scanned or photographed: images searched for all
 * text (documents, captures, photographs, ultrasound) and radiographs of a
 * megapixel or more, not the cross-sections of a CT or MR series, where
 * ZBar's 10-25 ms a 512x512 frame would be most of the search. */
#define KK_CODES_MIN_PIXELS (1000u * 1000u)

static void find_codes(const uint8_t *g, int cols, int rows, int frame, boxlist *out)
{
    kk_code_box c[16];
    size_t n = kk_codes__find(g, cols, rows, c, 16);
    for (size_t i = 0; i < n; i++) {
        kk_pixel_box b = { frame, c[i].x, c[i].y, c[i].w, c[i].h, KK_PIXEL_SOURCE_DETECTED,
                           KK_TEXT_ID, "" };
        box_add(out, &b);
    }
}

/* Frame f of a cine, before its first look on its own, unpainted: the
 * lines the composites found, seen whole in it. The maximum composite
 * cuts short a line shown in some frames only (seed 32's cine_partial:
 * the first glyph of a name in frames 2-3 of 6 left, and the output
 * claimed clean), and the painted frame shows what is left of it as a
 * lone glyph, which a strict look drops. Lines wholly inside the
 * composites' boxes are not read again (covered); of the others only
 * those read as an identifier that continue a composite box's row or lie
 * mostly inside the composites' boxes count here (seed 52's cine_moving:
 * the last digits of an ID outside the one tall box of the moving lines,
 * left as three digits the strict look drops, and the output claimed
 * clean), as the look at the painted frame that follows judges the rest
 * as before (unread pieces of a noisy cine beside its composites' boxes,
 * painted here too, changed what the later looks chained along the
 * speckle: a corpus cine, dicomparser IM00001, then kept text after the
 * third look). The composites' boxes and these are then painted into f. */
static kk_status look_unpainted(const kk_pixel_plan *plan, kk_ctx *ctx, kk_pixel_pool *pool,
                                kk_textfind *tf, kk_image *img, int f, uint8_t *g,
                                kk_image_window *win, const kk_textbox *cov, size_t ncov,
                                boxlist *out, size_t first_look)
{
    int rows = kk_image__rows(img), cols = kk_image__columns(img);
    size_t before = out->n;
    kk_status st = KK_OK;
    kk_textfind__covered(tf, cov, ncov);
    for (int v = 0; v < view_count(img) && st == KK_OK; v++) {
        bool skip;
        st = view_of(img, ctx, tf, v, f, g, win, &skip);
        if (st == KK_OK && !skip)
            st = find_text(tf, ctx, pool, g, cols, rows, plan->mode, &plan->ids, f, out);
    }
    kk_textfind__covered(tf, NULL, 0);
    size_t k = before;
    for (size_t q = before; q < out->n; q++)
        if (out->v[q].text_class > KK_TEXT_OTHER && out->v[q].text_class < KK_TEXT_TECHNICAL &&
            (on_painted_row(&out->v[q], out, first_look, f) ||
             mostly_painted(&out->v[q], out, first_look, f)))
            out->v[k++] = out->v[q];
    out->n = k;
    paint_frame(img, out, 0, out->n, f);
    return st;
}

static kk_status detect(const kk_pixel_plan *plan, kk_ctx *ctx, kk_pixel_pool *pool,
                        kk_image *img, boxlist *out, kk_pixel_outcome *o)
{
    int rows = kk_image__rows(img), cols = kk_image__columns(img), frames = kk_image__frames(img);
    size_t px = (size_t)rows * (size_t)cols;
    kk_textfind *tf = NULL;
    kk_status st = pool_take(pool, ctx, &tf);
    if (st != KK_OK)
        return st;
    uint8_t *g = kk__malloc(px * 3);
    char *look = kk__calloc((size_t)frames, 1);
    if (!g || !look) {
        free(g);
        free(look);
        pool_give(pool, tf);
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    }
    int nv = view_count(img);
    bool codes = plan->mode == KK_PIXEL_MODE_ALL_TEXT || px >= KK_CODES_MIN_PIXELS;
    kk_image_window win = { -1, 0, 0, 0, 0 };
    kk_textfind__measured(tf, kk_image__has_extremes(img));
    if (frames == 1) {
        for (int v = 0; v < nv && st == KK_OK; v++) {
            bool skip;
            st = view_of(img, ctx, tf, v, 0, g, &win, &skip);
            if (st == KK_OK && !skip)
                st = find_text(tf, ctx, pool, g, cols, rows, plan->mode, &plan->ids, -1, out);
            if (st == KK_OK && v == 0 && codes)
                find_codes(g, cols, rows, -1, out);
        }
        /* nothing found, nothing painted: the look would be the same */
        look[0] = out->n > 0;
    } else {
        /* static text: composites of sampled frames (the per-pixel
         * minimum keeps static light text and drops moving speckle, the
         * maximum does the same for dark text) */
        uint8_t *lo = g + px, *hi = g + 2 * px;
        int ns = frames < KK_SAMPLED_FRAMES ? frames : KK_SAMPLED_FRAMES;
        for (int v = 0; v < nv && st == KK_OK; v++) {
            bool skip = true, skip_one;
            for (int s = 0; s < ns && st == KK_OK; s++) {
                int f = (int)((long long)s * (frames - 1) / (ns - 1));
                st = view_of(img, ctx, tf, v, f, g, &win, &skip_one);
                skip = skip && skip_one;
                for (size_t i = 0; i < px && st == KK_OK; i++) {
                    lo[i] = s == 0 || g[i] < lo[i] ? g[i] : lo[i];
                    hi[i] = s == 0 || g[i] > hi[i] ? g[i] : hi[i];
                }
            }
            if (st == KK_OK && !skip)
                st = find_text(tf, ctx, pool, lo, cols, rows, plan->mode, &plan->ids, -1, out);
            if (st == KK_OK && !skip)
                st = find_text(tf, ctx, pool, hi, cols, rows, plan->mode, &plan->ids, -1, out);
            if (st == KK_OK && v == 0 && codes)
                find_codes(lo, cols, rows, -1, out);
        }
        /* every frame is looked at on its own, once the static text is
         * painted: text that moves, or shows in some frames only */
        memset(look, 1, (size_t)frames);
    }
    size_t first_look = out->n;
    /* a cine's frames are painted as they come to their first look on
     * their own (look_unpainted) */
    kk_textbox *cov = NULL;
    size_t ncov = 0;
    if (frames > 1 && first_look) {
        cov = kk__calloc(first_look, sizeof *cov);
        if (!cov)
            st = kk__fail(ctx, KK_ENOMEM, "out of memory");
        for (size_t i = 0; cov && i < first_look; i++) {
            cov[ncov].x = out->v[i].x;
            cov[ncov].y = out->v[i].y;
            cov[ncov].w = out->v[i].w;
            cov[ncov++].h = out->v[i].h;
        }
    } else {
        paint(img, out, 0);
    }
    kk_textfind__strict(tf, true);
    /* look again at the painted frames, as the presence stage and the
     * detector see them: what the first look cut short or missed, and in
     * the end whether anything is left (issue 14: claim clean only when
     * clean) */
    for (int round = 0; round < KK_PAINTED_ROUNDS && st == KK_OK; round++) {
        int found = 0;
        for (int f = 0; f < frames && st == KK_OK; f++) {
            if (!look[f])
                continue;
            size_t before = out->n;
            if (round == 0 && cov)
                st = look_unpainted(plan, ctx, pool, tf, img, f, g, &win, cov, ncov, out,
                                    first_look);
            for (int v = 0; v < nv && st == KK_OK; v++) {
                bool skip;
                st = view_of(img, ctx, tf, v, f, g, &win, &skip);
                if (st == KK_OK && !skip) {
                    neutral_fill(g, cols, rows, out, f);
                    st = find_text(tf, ctx, pool, g, cols, rows, plan->mode, &plan->ids,
                                   frames == 1 ? -1 : f, out);
                }
            }
            /* a single frame looks again along the rows of what it
             * painted (the ends of lines cut short), as the rest of the
             * frame is what the first look saw; a cine's first round
             * looks at whole frames */
            if (st == KK_OK && (frames == 1 || round > 0)) {
                size_t k = before;
                for (size_t q = before; q < out->n; q++)
                    if (on_painted_row(&out->v[q], out, first_look, f))
                        out->v[k++] = out->v[q];
                out->n = k;
            }
            look[f] = st == KK_OK && out->n > before;
            if (look[f]) {
                found++;
                paint(img, out, before);
            }
        }
        if (round == KK_PAINTED_ROUNDS - 1)
            o->residue_frames = (unsigned)found;
        if (!found)
            break;
    }
    free(cov);
    kk_textfind__strict(tf, false);
    kk_textfind__need_reading(tf, false);
    kk_textfind__measured(tf, false);
    free(look);
    free(g);
    pool_give(pool, tf);
    return st;
}

/* The boxes an earlier run painted, as found in a frame: 4-connected
 * areas of black (0 in the 8-bit view) that fill their bounding box
 * exactly. Text on a black banner leaves holes in the banner's area, so a
 * banner with text is never taken for a box. */
static kk_status painted_boxes(const uint8_t *g, int cols, int rows, int frame, boxlist *out)
{
    size_t px = (size_t)rows * (size_t)cols;
    uint8_t *seen = kk__calloc(px, 1);
    uint32_t *stack = kk__malloc(px * sizeof *stack);
    if (!seen || !stack) {
        free(seen);
        free(stack);
        return KK_ENOMEM;
    }
    for (size_t start = 0; start < px; start++) {
        if (g[start] || seen[start])
            continue;
        size_t top = 0, count = 0;
        int x0 = cols, y0 = rows, x1 = -1, y1 = -1;
        stack[top++] = (uint32_t)start;
        seen[start] = 1;
        while (top) {
            size_t i = stack[--top];
            int x = (int)(i % (size_t)cols), y = (int)(i / (size_t)cols);
            count++;
            x0 = x < x0 ? x : x0;
            x1 = x > x1 ? x : x1;
            y0 = y < y0 ? y : y0;
            y1 = y > y1 ? y : y1;
            size_t nb[4] = { x > 0 ? i - 1 : i, x + 1 < cols ? i + 1 : i,
                             y > 0 ? i - (size_t)cols : i, y + 1 < rows ? i + (size_t)cols : i };
            for (int k = 0; k < 4; k++)
                if (!g[nb[k]] && !seen[nb[k]]) {
                    seen[nb[k]] = 1;
                    stack[top++] = (uint32_t)nb[k];
                }
        }
        int w = x1 - x0 + 1, h = y1 - y0 + 1;
        if (w >= 4 && h >= 4 && count == (size_t)w * (size_t)h && (w < cols || h < rows)) {
            kk_pixel_box b;
            memset(&b, 0, sizeof b);
            b.frame = frame;
            b.x = x0;
            b.y = y0;
            b.w = w;
            b.h = h;
            b.source = KK_PIXEL_SOURCE_RULE;
            box_add(out, &b);
        }
    }
    free(seen);
    free(stack);
    return out->failed ? KK_ENOMEM : KK_OK;
}

kk_status kk_pixel__residue(kk_ctx *ctx, kk_pixel_pool *pool, kk_dcm *dcm, const char *path,
                            kk_pixel_residue_fn fn, void *payload)
{
    kk_image *img = NULL;
    kk_status st = kk_image__decode(&img, ctx, dcm);
    if (st != KK_OK) {
        char why[400];
        snprintf(why, sizeof why, "%s", kk_error_message(ctx));
        return kk__fail(ctx, st, "cannot search the pixels of '%s' for text: %s", path, why);
    }
    int rows = kk_image__rows(img), cols = kk_image__columns(img), frames = kk_image__frames(img);
    kk_textfind *tf = NULL;
    if ((st = pool_take(pool, ctx, &tf)) != KK_OK) {
        kk_image__free(img);
        return st;
    }
    uint8_t *g = kk__malloc((size_t)rows * (size_t)cols);
    boxlist l = BOXLIST_INIT;
    if (!g)
        st = kk__fail(ctx, KK_ENOMEM, "out of memory");
    kk_image_window win = { -1, 0, 0, 0, 0 };
    kk_textfind__strict(tf, true);
    for (int f = 0; f < frames && st == KK_OK; f++) {
        /* painted boxes get the neutral fill deid's last look gives
         * them: their edges on speckle are not text */
        boxlist painted = BOXLIST_INIT;
        st = kk_image__gray8_window(img, ctx, f, g, &win);
        if (st == KK_OK && painted_boxes(g, cols, rows, f, &painted) != KK_OK)
            st = kk__fail(ctx, KK_ENOMEM, "out of memory");
        size_t before = l.n;
        /* a code left (the first frame: a label does not move), looked
         * for before the fill: its bars would pass for painted boxes */
        if (st == KK_OK && f == 0)
            find_codes(g, cols, rows, f, &l);
        for (int v = 0; v < view_count(img) && st == KK_OK; v++) {
            bool skip = false;
            if (v > 0) /* the luminance view is in g already */
                st = view_of(img, ctx, tf, v, f, g, &win, &skip);
            else
                kk_textfind__need_reading(tf, false);
            if (st == KK_OK && !skip)
                neutral_fill(g, cols, rows, &painted, f);
            if (st == KK_OK && !skip)
                st = find_text(tf, ctx, pool, g, cols, rows, KK_PIXEL_MODE_ALL_TEXT, NULL, f, &l);
        }
        free(painted.v);
        for (size_t q = before; st == KK_OK && q < l.n; q++)
            fn(f, l.v[q].text_class, l.v[q].text, payload);
    }
    kk_textfind__strict(tf, false);
    kk_textfind__need_reading(tf, false);
    pool_give(pool, tf);
    free(l.v);
    free(g);
    kk_image__free(img);
    return st;
}

/* A region rule paints a known layout whatever is there, but the
 * technical tokens in it that read clearly and stand alone on their row
 * stay (issue 14: the allowlist honoured inside region rules too). */
static kk_status region_keeps(kk_ctx *ctx, kk_pixel_pool *pool, const kk_image *img, boxlist *l)
{
    int rows = kk_image__rows(img), cols = kk_image__columns(img);
    uint8_t *g = kk__malloc((size_t)rows * (size_t)cols);
    if (!g)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    kk_image_window win = { -1, 0, 0, 0, 0 };
    kk_textfind *tf = NULL;
    kk_status st = kk_image__gray8_window(img, ctx, 0, g, &win);
    if (st == KK_OK)
        st = pool_take(pool, ctx, &tf);
    if (st == KK_OK) {
        omp_set_num_threads(1);
        st = kk_textfind__technical(tf, ctx, g, cols, rows, pool->allow, pool->nallow, &l->keep,
                                    &l->nkeep);
        pool_give(pool, tf);
    }
    free(g);
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
    boxlist l = BOXLIST_INIT;
    for (size_t i = 0; i < plan->nregions; i++)
        box_add(&l, &plan->regions[i]);
    if (plan->nregions && kk_image__frames(img) == 1)
        st = region_keeps(ctx, pool, img, &l);
    if (st == KK_OK && plan->mode != KK_PIXEL_MODE_OFF) {
        st = detect(plan, ctx, pool, img, &l, out);
        out->burned_in_checked = st == KK_OK;
        if (st == KK_OK && out->residue_frames && plan->residue_fail)
            st = kk__fail(ctx, KK_EUNSUPPORTED,
                          "'%s': burned-in text is still found in %u frame(s) after painting; "
                          "not written (`set pixel.residue report` writes it with "
                          "BurnedInAnnotation YES)", path, out->residue_frames);
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
    for (size_t i = 0; i < l.n && st == KK_OK; i++)
        out->by_source[l.v[i].source]++;
    if (st == KK_OK)
        paint(img, &l, 0);
    free(l.keep);
    /* what no look searched goes: the pixels are written from the frames */
    bool rewrite = l.n > 0 || kk_image__has_unsearched(img);
    if (st == KK_OK && rewrite && write) {
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
