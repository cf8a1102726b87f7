/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/image.c - what is done to decoded pixels without a codec: the
 * 8-bit views text detection and review sheets look at, painting boxes
 * black as displayed, clearing overlay bits hidden above HighBit, and the
 * small getters. Decoding and encoding live in image_dcmtk.cc.
 *
 * "Black as displayed" is the end of the stored range a viewer shows as
 * black whatever its window (MONOCHROME2 minimum, MONOCHROME1 maximum), so
 * a painted box cannot be brought back by windowing.
 */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "pixel/image_internal.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

static uint64_t mask_of(int bits)
{
    return bits >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << bits) - 1);
}

void kk_image__range(const kk_image *img, int64_t *lo, int64_t *hi)
{
    int bs = img->bits_stored;
    if (img->is_signed) {
        *lo = -((int64_t)1 << (bs - 1));
        *hi = ((int64_t)1 << (bs - 1)) - 1;
    } else {
        *lo = 0;
        *hi = (int64_t)mask_of(bs);
    }
}

void kk_image__to_float(const kk_image *img, double slope, double intercept, float *out)
{
    if (img->bytes == 2 && kk_image__low_bit(img) == 0 && img->bits_stored <= 16) {
        /* one loop the compiler can keep in registers: every slice of a
         * head series comes through here */
        const uint16_t *d = (const uint16_t *)(const void *)img->data;
        uint32_t m = (uint32_t)mask_of(img->bits_stored), sb = 1u << (img->bits_stored - 1);
        for (size_t i = 0; i < img->nsamples; i++) {
            int32_t v = (int32_t)(d[i] & m);
            if (img->is_signed && (v & (int32_t)sb))
                v -= (int32_t)(m + 1);
            out[i] = (float)(v * slope + intercept);
        }
        return;
    }
    for (size_t i = 0; i < img->nsamples; i++)
        out[i] = (float)((double)kk_image__value(img, i) * slope + intercept);
}

int64_t kk_image__value(const kk_image *img, size_t i)
{
    return kk_image__value_raw(img, kk_image__raw(img, i));
}

int64_t kk_image__value_raw(const kk_image *img, uint32_t raw)
{
    int bs = img->bits_stored;
    uint64_t v = ((uint64_t)raw >> kk_image__low_bit(img)) & mask_of(bs);
    if (img->is_signed && (v >> (bs - 1)) & 1)
        return (int64_t)v - ((int64_t)1 << bs);
    return (int64_t)v;
}

uint32_t kk_image__pattern(const kk_image *img, int64_t v)
{
    int64_t lo, hi;
    kk_image__range(img, &lo, &hi);
    if (v < lo)
        v = lo;
    if (v > hi)
        v = hi;
    int lb = kk_image__low_bit(img);
    uint64_t raw = ((uint64_t)v & mask_of(img->bits_stored)) << lb;
    if (img->is_signed && v < 0) /* sign-extend above HighBit */
        raw |= mask_of(img->bytes * 8) & ~mask_of(img->high_bit + 1);
    return (uint32_t)(raw & mask_of(img->bytes * 8));
}

void kk_image__free(kk_image *img)
{
    if (!img)
        return;
    kk_free(img->path);
    kk_free(img->data);
    kk_free(img->fdata);
    for (int k = 0; k < 3; k++)
        kk_free(img->lut[k]);
    kk_free(img);
}

int kk_image__frames(const kk_image *img) { return img->frames; }
int kk_image__rows(const kk_image *img) { return img->rows; }
int kk_image__columns(const kk_image *img) { return img->cols; }
int kk_image__samples(const kk_image *img) { return img->spp; }
bool kk_image__input_lossy(const kk_image *img) { return img->lossy_in; }
bool kk_image__has_unsearched(const kk_image *img) { return img->unsearched; }

const char *kk_image__photometric(const kk_image *img)
{
    switch (img->pi) {
    case KK_PI_MONO1: return "MONOCHROME1";
    case KK_PI_MONO2: return "MONOCHROME2";
    case KK_PI_RGB: return "RGB";
    case KK_PI_YBR_FULL: return "YBR_FULL";
    case KK_PI_PALETTE: return "PALETTE COLOR";
    }
    return "";
}

static size_t index_of(const kk_image *img, int frame, int x, int y, int s)
{
    return (((size_t)frame * (size_t)img->rows + (size_t)y) * (size_t)img->cols + (size_t)x) *
               (size_t)img->spp + (size_t)s;
}

int64_t kk_image__sample(const kk_image *img, int frame, int x, int y, int s)
{
    return kk_image__value(img, index_of(img, frame, x, y, s));
}

/* --- views ---------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The 0.5th and 99.5th percentiles of a monochrome frame. */
static kk_status robust_range(const kk_image *img, size_t first, size_t n, int64_t *plo,
                              int64_t *phi)
{
    size_t klo = (size_t)(0.005 * (double)(n - 1) + 0.5);
    size_t khi = (size_t)(0.995 * (double)(n - 1) + 0.5);
    int64_t lo, hi;
    kk_image__range(img, &lo, &hi);
    if (img->bits_stored <= 16) {
        size_t span = (size_t)(hi - lo) + 1;
        uint32_t *hist = kk__calloc(span, sizeof *hist);
        if (!hist)
            return KK_ENOMEM;
        for (size_t i = 0; i < n; i++)
            hist[kk_image__value(img, first + i) - lo]++;
        size_t seen = 0;
        bool got_lo = false;
        for (size_t b = 0; b < span; b++) {
            seen += hist[b];
            if (!got_lo && seen > klo) {
                *plo = lo + (int64_t)b;
                got_lo = true;
            }
            if (seen > khi) {
                *phi = lo + (int64_t)b;
                break;
            }
        }
        if (img->bits_stored <= 8) { /* as view(): the range in use */
            size_t b0 = 0, b1 = span - 1;
            while (b0 < span && !hist[b0])
                b0++;
            while (b1 > b0 && !hist[b1])
                b1--;
            *plo = lo + (int64_t)b0;
            *phi = lo + (int64_t)b1;
        }
        kk_free(hist);
        return KK_OK;
    }
    int64_t *v = kk__malloc(n * sizeof *v);
    if (!v)
        return KK_ENOMEM;
    for (size_t i = 0; i < n; i++)
        v[i] = kk_image__value(img, first + i);
    qsort(v, n, sizeof *v, cmp_i64);
    *plo = v[klo];
    *phi = v[khi];
    kk_free(v);
    return KK_OK;
}

static uint8_t to8(const kk_image *img, int64_t v)
{
    int bs = img->bits_stored;
    if (img->is_signed)
        v += (int64_t)1 << (bs - 1);
    if (v < 0)
        v = 0;
    if (bs > 8)
        v >>= bs - 8;
    else if (bs < 8)
        v = v * 255 / (int64_t)mask_of(bs);
    return (uint8_t)(v > 255 ? 255 : v);
}

static uint8_t clamp8(double v)
{
    return v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)(v + 0.5);
}

static uint8_t luma(uint8_t r, uint8_t g, uint8_t b)
{
    return clamp8(0.299 * r + 0.587 * g + 0.114 * b);
}

static void palette_rgb(const kk_image *img, int64_t v, uint8_t rgb[3])
{
    int64_t i = v - img->lut_first;
    if (i < 0)
        i = 0;
    if (i >= img->lut_n)
        i = img->lut_n - 1;
    for (int k = 0; k < 3; k++)
        rgb[k] = (uint8_t)(img->lut[k][i] >> 8);
}

/* One pixel of a colour frame as 8-bit RGB. */
static void colour_rgb(const kk_image *img, size_t i, uint8_t rgb[3])
{
    if (img->pi == KK_PI_PALETTE) {
        palette_rgb(img, kk_image__value(img, i), rgb);
        return;
    }
    uint8_t a = to8(img, kk_image__value(img, i)), b = to8(img, kk_image__value(img, i + 1)),
            c = to8(img, kk_image__value(img, i + 2));
    if (img->pi == KK_PI_YBR_FULL) { /* PS3.3 C.7.6.3.1.2 */
        double y = a, cb = b - 128.0, cr = c - 128.0;
        rgb[0] = clamp8(y + 1.402 * cr);
        rgb[1] = clamp8(y - 0.344136 * cb - 0.714136 * cr);
        rgb[2] = clamp8(y + 1.772 * cb);
        return;
    }
    rgb[0] = a;
    rgb[1] = b;
    rgb[2] = c;
}

/* What view() makes of a frame. */
enum view_kind { VIEW_GRAY, VIEW_RGB, VIEW_EXTREMES };

/* Where the extremes view cuts: values at or beyond top or bottom; a side
 * counts when its values lie more than an eighth of the window beyond it
 * (INT64_MAX / INT64_MIN: it does not). */
static void extreme_cuts(const kk_image_window *w, int64_t *top, int64_t *bottom)
{
    int64_t gap = (w->hi - w->lo) / 8 + 1;
    *top = w->vmax > w->hi + gap ? w->hi + (w->vmax - w->hi) / 4 : INT64_MAX;
    *bottom = w->vmin < w->lo - gap ? w->lo - (w->lo - w->vmin) / 4 : INT64_MIN;
}

/* The smallest and largest of n 16-bit samples with flip applied, in 16
 * lanes the compiler turns into vector instructions at -O2 (signed lanes,
 * the sign bit flipped once more: SSE2 has a signed 16-bit min and max,
 * not an unsigned one); a third of the view's time was one loop of 32-bit
 * keys for 8 and 16 bits. */
#define KEY_LANES 16

static void key_range16(const uint16_t *d, size_t n, uint16_t flip, uint32_t *kmin,
                        uint32_t *kmax)
{
    const uint16_t f = (uint16_t)(flip ^ 0x8000u);
    int16_t lo[KEY_LANES], hi[KEY_LANES];
    for (int j = 0; j < KEY_LANES; j++) {
        lo[j] = INT16_MAX;
        hi[j] = INT16_MIN;
    }
    size_t i = 0;
    for (; i + KEY_LANES <= n; i += KEY_LANES)
        for (int j = 0; j < KEY_LANES; j++) {
            int16_t k = (int16_t)(uint16_t)(d[i + j] ^ f);
            lo[j] = k < lo[j] ? k : lo[j];
            hi[j] = k > hi[j] ? k : hi[j];
        }
    for (; i < n; i++) {
        int16_t k = (int16_t)(uint16_t)(d[i] ^ f);
        lo[0] = k < lo[0] ? k : lo[0];
        hi[0] = k > hi[0] ? k : hi[0];
    }
    int16_t l = INT16_MAX, h = INT16_MIN;
    for (int j = 0; j < KEY_LANES; j++) {
        l = lo[j] < l ? lo[j] : l;
        h = hi[j] > h ? hi[j] : h;
    }
    /* back to unsigned keys: undo the extra flip of the sign bit */
    *kmin = (uint16_t)((uint16_t)l ^ 0x8000u);
    *kmax = (uint16_t)((uint16_t)h ^ 0x8000u);
}

#define HIST_WAYS 4
#define HIST_WAYS_MAX_KEYS 16384

/* Histogram of n 16-bit keys (flip applied, less kmin) in HIST_WAYS tables
 * of nk counts, hk[0..HIST_WAYS*nk), summed into the first. */
static void histogram16(const uint16_t *d, size_t n, uint16_t flip, uint32_t kmin, uint32_t *hk,
                        size_t nk)
{
    uint32_t *h1 = hk + nk, *h2 = hk + 2 * nk, *h3 = hk + 3 * nk;
    size_t i = 0;
    for (; i + HIST_WAYS <= n; i += HIST_WAYS) {
        hk[(uint16_t)(d[i] ^ flip) - kmin]++;
        h1[(uint16_t)(d[i + 1] ^ flip) - kmin]++;
        h2[(uint16_t)(d[i + 2] ^ flip) - kmin]++;
        h3[(uint16_t)(d[i + 3] ^ flip) - kmin]++;
    }
    for (; i < n; i++)
        hk[(uint16_t)(d[i] ^ flip) - kmin]++;
    for (size_t k = 0; k < nk; k++)
        hk[k] += h1[k] + h2[k] + h3[k];
}

static kk_status view(const kk_image *img, kk_ctx *ctx, int frame, uint8_t *out,
                      enum view_kind kind, bool *any, kk_image_window *wout,
                      const kk_image_window *hint)
{
    bool rgb = kind == VIEW_RGB;
    if (kind == VIEW_EXTREMES && hint && hint->frame == frame && frame >= 0 &&
        frame < img->frames) {
        /* the luminance view of this frame told the window: most frames
         * have nothing far beyond it, and need no pass of their own */
        int64_t top, bottom;
        extreme_cuts(hint, &top, &bottom);
        if (top == INT64_MAX && bottom == INT64_MIN)
            return KK_OK;
    }
    if (frame < 0 || frame >= img->frames)
        return kk__fail(ctx, KK_EINVAL, "cannot view frame %d of '%s': it has %d", frame + 1,
                        img->path, img->frames);
    size_t n = (size_t)img->rows * (size_t)img->cols;
    size_t first = (size_t)frame * n * (size_t)img->spp;
    if ((img->pi == KK_PI_MONO1 || img->pi == KK_PI_MONO2) && img->bytes <= 2 && !rgb) {
        /* every frame of every image comes through here (the presence
         * stage): a pass for the range of the raw bits, one for their
         * histogram, one through a table from raw bits to grey. Raw bits
         * are keyed with the sign bit flipped, so that the keys of signed
         * values in use lie close together (tables stay small). */
        const uint16_t *d16 = (const uint16_t *)(const void *)img->data + first;
        const uint8_t *d8 = img->data + first;
        uint32_t flip = img->is_signed ? (uint32_t)1 << (8 * img->bytes - 1) : 0;
        uint32_t kmin = UINT32_MAX, kmax = 0;
        if (img->bytes == 2)
            key_range16(d16, n, (uint16_t)flip, &kmin, &kmax);
        else
            for (size_t i = 0; i < n; i++) {
                uint32_t k = d8[i] ^ flip;
                kmin = k < kmin ? k : kmin;
                kmax = k > kmax ? k : kmax;
            }
        size_t nk = (size_t)(kmax - kmin) + 1;
        /* 16-bit counts go to HIST_WAYS tables in turn, then are summed:
         * a CT's air is one value over half the frame, and counting it in
         * one table waits on the last store each time */
        size_t ways = img->bytes == 2 && nk <= HIST_WAYS_MAX_KEYS ? HIST_WAYS : 1;
        uint32_t *hk = kk__calloc(nk * ways, sizeof *hk);
        /* indexed by the key itself (at most 64 Ki): the last pass, one
         * look-up per sample, does no arithmetic on it */
        uint8_t *lut = kk__malloc((size_t)kmax + 1);
        int64_t rlo, rhi;
        kk_image__range(img, &rlo, &rhi);
        size_t span = (size_t)(rhi - rlo) + 1;
        uint32_t *hv = kk__calloc(span, sizeof *hv);
        if (!hk || !lut || !hv) {
            kk_free(hk);
            kk_free(lut);
            kk_free(hv);
            return kk__fail(ctx, KK_ENOMEM, "cannot view '%s': out of memory", img->path);
        }
        if (img->bytes == 1)
            for (size_t i = 0; i < n; i++)
                hk[(d8[i] ^ flip) - kmin]++;
        else if (ways == 1)
            for (size_t i = 0; i < n; i++)
                hk[(d16[i] ^ flip) - kmin]++;
        else
            histogram16(d16, n, (uint16_t)flip, kmin, hk, nk);
        /* the 0.5th and 99.5th percentiles, over values (not raw bits) */
        int64_t vmin = rhi, vmax = rlo;
        for (size_t k = 0; k < nk; k++)
            if (hk[k]) {
                int64_t v = kk_image__value_raw(img, (uint32_t)(k + kmin) ^ flip);
                hv[v - rlo] += hk[k];
                vmin = v < vmin ? v : vmin;
                vmax = v > vmax ? v : vmax;
            }
        size_t klo = (size_t)(0.005 * (double)(n - 1) + 0.5);
        size_t khi = (size_t)(0.995 * (double)(n - 1) + 0.5);
        int64_t lo = vmin, hi = vmin;
        size_t seen = 0;
        bool got_lo = false;
        for (int64_t v = vmin; v <= vmax; v++) {
            seen += hv[v - rlo];
            if (!got_lo && seen > klo) {
                lo = v;
                got_lo = true;
            }
            if (seen > khi) {
                hi = v;
                break;
            }
        }
        kk_free(hv);
        /* 8-bit pictures are made to be seen as stored: their whole range
         * in use, not percentiles, or the grain of a nearly blank page (a
         * form, a fax: text under 0.5% of it) is raised to the contrast of
         * the text and hides it */
        if (img->bits_stored <= 8) {
            lo = vmin;
            hi = vmax;
        }
        double scale = hi > lo ? 255.0 / (double)(hi - lo) : 0.0;
        /* the extremes: values far beyond the window, where burned-in text
         * is drawn (the largest or smallest value) and where the window
         * would clip it into the brightest or darkest anatomy; a side
         * counts when its values lie an eighth of the window beyond it
         * and cover under 3% of the frame (not a CT's padding) */
        int64_t top = INT64_MAX, bottom = INT64_MIN;
        if (wout)
            *wout = (kk_image_window){ frame, lo, hi, vmin, vmax };
        if (kind == VIEW_EXTREMES) {
            kk_image_window w = { frame, lo, hi, vmin, vmax };
            extreme_cuts(&w, &top, &bottom);
            size_t above = 0, below = 0;
            for (size_t k = 0; k < nk; k++) {
                if (!hk[k])
                    continue;
                int64_t v = kk_image__value_raw(img, (uint32_t)(k + kmin) ^ flip);
                above += v >= top ? hk[k] : 0;
                below += v <= bottom ? hk[k] : 0;
            }
            if (above * 100 > n * 3)
                top = INT64_MAX;
            if (below * 100 > n * 3)
                bottom = INT64_MIN;
            *any = top != INT64_MAX || bottom != INT64_MIN;
        }
        for (size_t k = 0; k < nk; k++) {
            uint8_t g = 0;
            if (hk[k]) {
                int64_t v = kk_image__value_raw(img, (uint32_t)(k + kmin) ^ flip);
                if (kind == VIEW_EXTREMES)
                    g = v >= top ? 255 : v <= bottom ? 0 : 128;
                else
                    g = clamp8((double)(v - lo) * scale);
                if (img->pi == KK_PI_MONO1)
                    g = (uint8_t)(255 - g);
            }
            lut[k + kmin] = g;
        }
        if (img->bytes == 1)
            for (size_t i = 0; i < n; i++)
                out[i] = lut[d8[i] ^ flip];
        else if (flip == 0)
            for (size_t i = 0; i < n; i++)
                out[i] = lut[d16[i]];
        else
            for (size_t i = 0; i < n; i++)
                out[i] = lut[d16[i] ^ flip];
        kk_free(hk);
        kk_free(lut);
        return KK_OK;
    }
    if (img->pi == KK_PI_MONO1 || img->pi == KK_PI_MONO2) {
        int64_t lo = 0, hi = 0;
        if (robust_range(img, first, n, &lo, &hi) != KK_OK)
            return kk__fail(ctx, KK_ENOMEM, "cannot view '%s': out of memory", img->path);
        double scale = hi > lo ? 255.0 / (double)(hi - lo) : 0.0;
        for (size_t i = 0; i < n; i++) {
            uint8_t g = clamp8((double)(kk_image__value(img, first + i) - lo) * scale);
            if (img->pi == KK_PI_MONO1)
                g = (uint8_t)(255 - g);
            if (rgb)
                out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = g;
            else
                out[i] = g;
        }
        return KK_OK;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t c[3];
        colour_rgb(img, first + i * (size_t)img->spp, c);
        if (rgb)
            memcpy(out + 3 * i, c, 3);
        else
            out[i] = img->pi == KK_PI_YBR_FULL ? to8(img, kk_image__value(img, first + i * 3))
                                               : luma(c[0], c[1], c[2]);
    }
    return KK_OK;
}

kk_status kk_image__gray8(const kk_image *img, kk_ctx *ctx, int frame, uint8_t *out)
{
    return view(img, ctx, frame, out, VIEW_GRAY, NULL, NULL, NULL);
}

kk_status kk_image__gray8_window(const kk_image *img, kk_ctx *ctx, int frame, uint8_t *out,
                                 kk_image_window *w)
{
    w->frame = -1; /* stays so unless the frame is windowed */
    return view(img, ctx, frame, out, VIEW_GRAY, NULL, w, NULL);
}

kk_status kk_image__rgb8(const kk_image *img, kk_ctx *ctx, int frame, uint8_t *out)
{
    return view(img, ctx, frame, out, VIEW_RGB, NULL, NULL, NULL);
}

bool kk_image__has_extremes(const kk_image *img)
{
    return (img->pi == KK_PI_MONO1 || img->pi == KK_PI_MONO2) && img->bytes == 2 &&
           img->bits_stored > 8;
}

kk_status kk_image__extremes8(const kk_image *img, kk_ctx *ctx, int frame, uint8_t *out,
                              const kk_image_window *hint, bool *any)
{
    *any = false;
    if (!kk_image__has_extremes(img)) {
        if (frame < 0 || frame >= img->frames)
            return kk__fail(ctx, KK_EINVAL, "cannot view frame %d of '%s': it has %d", frame + 1,
                            img->path, img->frames);
        memset(out, 128, (size_t)img->rows * (size_t)img->cols);
        return KK_OK;
    }
    return view(img, ctx, frame, out, VIEW_EXTREMES, any, NULL, hint);
}

bool kk_image__is_colour(const kk_image *img)
{
    return img->spp == 3 || img->pi == KK_PI_PALETTE;
}

kk_status kk_image__chroma8(const kk_image *img, kk_ctx *ctx, int frame, uint8_t *out)
{
    if (frame < 0 || frame >= img->frames)
        return kk__fail(ctx, KK_EINVAL, "cannot view frame %d of '%s': it has %d", frame + 1,
                        img->path, img->frames);
    size_t n = (size_t)img->rows * (size_t)img->cols;
    if (!kk_image__is_colour(img)) {
        memset(out, 0, n);
        return KK_OK;
    }
    size_t first = (size_t)frame * n * (size_t)img->spp;
    for (size_t i = 0; i < n; i++) {
        uint8_t c[3];
        colour_rgb(img, first + i * (size_t)img->spp, c);
        uint8_t hi = c[0] > c[1] ? c[0] : c[1], lo = c[0] < c[1] ? c[0] : c[1];
        hi = c[2] > hi ? c[2] : hi;
        lo = c[2] < lo ? c[2] : lo;
        out[i] = (uint8_t)(hi - lo);
    }
    return KK_OK;
}

/* --- painting ------------------------------------------------------- */

/* The raw sample values of black as displayed, one per sample. */
static void black(const kk_image *img, uint32_t px[3])
{
    int64_t lo, hi;
    kk_image__range(img, &lo, &hi);
    switch (img->pi) {
    case KK_PI_MONO1:
        px[0] = kk_image__pattern(img, hi);
        break;
    case KK_PI_MONO2:
        px[0] = kk_image__pattern(img, lo);
        break;
    case KK_PI_RGB:
        px[0] = px[1] = px[2] = kk_image__pattern(img, img->is_signed ? lo : 0);
        break;
    case KK_PI_YBR_FULL:
        px[0] = kk_image__pattern(img, img->is_signed ? lo : 0);
        px[1] = px[2] = kk_image__pattern(img, img->is_signed ? 0 : ((int64_t)1 << (img->bits_stored - 1)));
        break;
    case KK_PI_PALETTE: {
        long best = -1, bi = 0;
        for (int i = 0; i < img->lut_n; i++) {
            long r = img->lut[0][i] >> 8, g = img->lut[1][i] >> 8, b = img->lut[2][i] >> 8;
            long d = r * r + g * g + b * b;
            if (best < 0 || d < best) {
                best = d;
                bi = i;
            }
        }
        int64_t v = img->lut_first + bi;
        px[0] = kk_image__pattern(img, v < lo ? lo : v > hi ? hi : v);
        break;
    }
    }
}

void kk_image__fill(kk_image *img, int frame, int x, int y, int w, int h)
{
    if (!img || w <= 0 || h <= 0)
        return;
    long x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
    long x1 = (long)x + w, y1 = (long)y + h;
    if (x1 > img->cols)
        x1 = img->cols;
    if (y1 > img->rows)
        y1 = img->rows;
    if (x0 >= x1 || y0 >= y1 || frame >= img->frames)
        return;
    uint32_t px[3] = { 0, 0, 0 };
    black(img, px);
    int f0 = frame < 0 ? 0 : frame, f1 = frame < 0 ? img->frames : frame + 1;
    for (int f = f0; f < f1; f++)
        for (long r = y0; r < y1; r++)
            for (long c = x0; c < x1; c++) {
                size_t i = index_of(img, f, (int)c, (int)r, 0);
                for (int s = 0; s < img->spp; s++)
                    kk_image__set_raw(img, i + (size_t)s, px[s]);
            }
}

/* The canonical bits for raw, or raw itself when it is acceptable as is:
 * value bits kept, bits below LowBit cleared, bits above HighBit zero or,
 * for a negative signed value, zero or its sign extension. */
static inline uint32_t canonical_bits(uint32_t raw, uint32_t keep, uint32_t above, uint32_t sign,
                                      bool is_signed)
{
    uint32_t want = (raw & keep) | (is_signed && (raw & sign) ? above : 0);
    if (raw != want && !(is_signed && (raw & above) == 0 && (raw | above) == want))
        return want;
    return raw;
}

#define CLEAR_LOOP(type)                                                            \
    do {                                                                            \
        type *d = (type *)(void *)img->data;                                        \
        for (size_t i = 0; i < img->nsamples; i++) {                                \
            uint32_t want = canonical_bits(d[i], keep, above, sign, img->is_signed); \
            if (want != d[i]) {                                                     \
                d[i] = (type)want;                                                  \
                changed++;                                                          \
            }                                                                       \
        }                                                                           \
    } while (0)

/* Whether any of n 16-bit samples has bits above HighBit hb that are not
 * allowed there: any at all when unsigned (the OR of every sample says it:
 * one por per 8 samples), and for a signed sample any but the sign alone
 * or its whole extension (t = d >> hb is 0, 1 or all ones). */
static bool high_bits_set16(const uint16_t *d, size_t n, unsigned hb, bool is_signed)
{
    uint16_t all = (uint16_t)(0xFFFFu >> hb), bad = 0;
    size_t i = 0;
#ifdef __SSE2__
    __m128i acc = _mm_setzero_si128();
    if (is_signed) {
        __m128i c = _mm_cvtsi32_si128((int)hb), a = _mm_set1_epi16((short)all);
        __m128i one = _mm_set1_epi16(1);
        for (; i + 8 <= n; i += 8) {
            __m128i t = _mm_srl_epi16(_mm_loadu_si128((const __m128i *)(const void *)(d + i)), c);
            __m128i ok = _mm_or_si128(_mm_cmpeq_epi16(_mm_andnot_si128(one, t), _mm_setzero_si128()),
                                      _mm_cmpeq_epi16(t, a)); /* t is 0 or 1, or all */
            acc = _mm_or_si128(acc, _mm_andnot_si128(ok, one));
        }
    } else {
        for (; i + 8 <= n; i += 8)
            acc = _mm_or_si128(acc, _mm_loadu_si128((const __m128i *)(const void *)(d + i)));
        acc = _mm_srl_epi16(acc, _mm_cvtsi32_si128((int)hb + 1));
    }
    bad = _mm_movemask_epi8(_mm_cmpeq_epi16(acc, _mm_setzero_si128())) != 0xFFFF;
#endif
    for (; i < n; i++) {
        uint16_t t = (uint16_t)(d[i] >> hb);
        bad |= is_signed ? (uint16_t)((t > 1) & (t != all)) : (uint16_t)(t > 1);
    }
    return bad != 0;
}

size_t kk_image__clear_high_bits(kk_image *img)
{
    if (!img)
        return 0;
    int width = img->bytes * 8;
    if (img->bits_alloc == 1 || (img->bits_stored >= width && kk_image__low_bit(img) == 0))
        return 0;
    if (img->bytes == 2 && kk_image__low_bit(img) == 0 && img->high_bit < 15) {
        /* the common case, most often with nothing to clear: one quick
         * pass tells that first (the bits from HighBit up are zero, or,
         * signed, the sign alone or its whole extension) */
        const uint16_t *d = (const uint16_t *)(const void *)img->data;
        if (!high_bits_set16(d, img->nsamples, (unsigned)img->high_bit, img->is_signed))
            return 0;
    }
    /* one pass with the masks worked out once: this runs on every frame */
    uint32_t keep = (uint32_t)(mask_of(img->bits_stored) << kk_image__low_bit(img));
    uint32_t above = (uint32_t)(mask_of(width) & ~mask_of(img->high_bit + 1));
    uint32_t sign = (uint32_t)1 << img->high_bit;
    size_t changed = 0;
    switch (img->bytes) {
    case 1: CLEAR_LOOP(uint8_t); break;
    case 2: CLEAR_LOOP(uint16_t); break;
    default: CLEAR_LOOP(uint32_t); break;
    }
    return changed;
}
