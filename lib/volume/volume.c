/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/volume/volume.c - slice order, head mask, face finding, defacing and
 * a front view of the skin surface (volume.h).
 *
 * The face test and the cut follow quickshear (a plane in front of the
 * brain, below the brow) but take the plane from landmarks of the head
 * mask's midline profile instead of a brain mask: the vertex, the nose tip
 * (the most anterior point 6-17 cm below the vertex), the nasion (the
 * deepest point of the profile 1.2-5.5 cm above the nose tip with a brow,
 * a point further forward, 0.5-4 cm above it). The plane passes 8 mm behind the skin 1 cm above the nasion
 * and leans back 40 degrees from vertical as it goes down, so it runs in
 * front of the frontal lobes and the temporal poles and behind the eyes'
 * front, nose, lips and chin. Below the nose tip the cut goes straight
 * down (a coronal plane), so the tongue, pharynx and spine stay; nothing
 * more than 10 cm below the nose tip is touched (the neck and chest of a
 * long field of view stay).
 *
 * Removing leaves the cavities behind the cut (orbits, sinuses, nasal
 * cavity) open, and a surface render of them shows two dark holes over a
 * bright plane, which face detectors take for eyes. So the 4 mm of head
 * just behind the cut (on each image row, from its first head voxel to
 * its last, cavities included) are set to one value, the head's median:
 * renders show a flat plane.
 *
 * The ears go too (ears.c finds them): set to background, the skin they
 * lie on to the head's median (a smooth side of the head), or all of it
 * blurred with the air around them.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "volume/volume.h"

#ifdef __SSE2__
#include <emmintrin.h>
#include <xmmintrin.h>
#endif

#define BIN_MM 1.0
#define CUT_DEPTH_MM 8.0
#define CUT_ABOVE_NASION_MM 10.0
#define CUT_ANGLE_DEG 40.0
#define CUT_BELOW_NOSE_MM 100.0
#define CAP_MM 4.0
#define BLUR_MM 25.0

static double dot3(const double a[3], const double b[3])
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static void cross3(const double a[3], const double b[3], double out[3])
{
    out[0] = a[1] * b[2] - a[2] * b[1];
    out[1] = a[2] * b[0] - a[0] * b[2];
    out[2] = a[0] * b[1] - a[1] * b[0];
}

typedef struct keyed {
    double d;
    size_t i;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    double x = ((const keyed *)a)->d, y = ((const keyed *)b)->d;
    return x < y ? -1 : x > y;
}

int kk_vol__order(const double (*ipp)[3], size_t n, const double row[3], const double col[3],
                  size_t *order, double *dz)
{
    if (n < 2)
        return -1;
    double nrm[3];
    cross3(row, col, nrm);
    keyed *k = kk__malloc(n * sizeof *k);
    if (!k)
        return -1;
    for (size_t i = 0; i < n; i++) {
        k[i].d = dot3(ipp[i], nrm);
        k[i].i = i;
    }
    qsort(k, n, sizeof *k, cmp_keyed);
    double mean = (k[n - 1].d - k[0].d) / (double)(n - 1);
    int rc = mean > 1e-3 ? 0 : -1;
    for (size_t i = 1; rc == 0 && i < n; i++) {
        double step = k[i].d - k[i - 1].d;
        if (step < 1e-3 || fabs(step - mean) > 0.1 * mean)
            rc = -1;
    }
    for (size_t i = 0; i < n; i++)
        order[i] = k[i].i;
    *dz = mean;
    free(k);
    return rc;
}

/* --- the head mask ----------------------------------------------------- */

/* Otsu's threshold over a 512-bin histogram of the volume. */
static float otsu(const kk_volume *vol)
{
    size_t n = (size_t)vol->nx * vol->ny * vol->nz;
    float lo = vol->v[0], hi = vol->v[0];
    for (size_t i = 0; i < n; i++) {
        if (vol->v[i] < lo)
            lo = vol->v[i];
        if (vol->v[i] > hi)
            hi = vol->v[i];
    }
    if (hi <= lo)
        return hi;
    enum { NB = 512 };
    double hist[NB] = { 0 };
    double scale = (NB - 1) / (double)(hi - lo);
    for (size_t i = 0; i < n; i++)
        hist[(int)((vol->v[i] - lo) * scale)] += 1;
    double sum = 0, sumb = 0, wb = 0, best = -1;
    for (int i = 0; i < NB; i++)
        sum += i * hist[i];
    int t = 0;
    for (int i = 0; i < NB; i++) {
        wb += hist[i];
        if (wb == 0)
            continue;
        double wf = (double)n - wb;
        if (wf == 0)
            break;
        sumb += i * hist[i];
        double mb = sumb / wb, mf = (sum - sumb) / wf;
        double between = wb * wf * (mb - mf) * (mb - mf);
        if (between > best) {
            best = between;
            t = i;
        }
    }
    return lo + (float)((t + 0.5) / scale);
}

/* Fill the holes of each slice: what the border cannot reach is inside. */
static int fill_slices(const kk_volume *vol, uint8_t *m, uint32_t *queue)
{
    int nx = vol->nx, ny = vol->ny;
    size_t plane = (size_t)nx * ny;
    for (int k = 0; k < vol->nz; k++) {
        uint8_t *s = m + (size_t)k * plane;
        size_t head = 0, tail = 0;
        /* 0 outside-unvisited, 1 mask, 2 reached from the border */
        for (int x = 0; x < nx; x++) {
            size_t a = (size_t)x, b = (size_t)(ny - 1) * nx + x;
            if (!s[a]) { s[a] = 2; queue[tail++] = (uint32_t)a; }
            if (!s[b]) { s[b] = 2; queue[tail++] = (uint32_t)b; }
        }
        for (int y = 0; y < ny; y++) {
            size_t a = (size_t)y * nx, b = (size_t)y * nx + nx - 1;
            if (!s[a]) { s[a] = 2; queue[tail++] = (uint32_t)a; }
            if (!s[b]) { s[b] = 2; queue[tail++] = (uint32_t)b; }
        }
        while (head < tail) {
            uint32_t p = queue[head++];
            int x = (int)(p % (uint32_t)nx), y = (int)(p / (uint32_t)nx);
            uint32_t nb[4];
            int nn = 0;
            if (x > 0) nb[nn++] = p - 1;
            if (x < nx - 1) nb[nn++] = p + 1;
            if (y > 0) nb[nn++] = p - (uint32_t)nx;
            if (y < ny - 1) nb[nn++] = p + (uint32_t)nx;
            for (int i = 0; i < nn; i++)
                if (!s[nb[i]]) {
                    s[nb[i]] = 2;
                    queue[tail++] = nb[i];
                }
        }
        for (size_t i = 0; i < plane; i++)
            s[i] = s[i] != 2;
    }
    return 0;
}

/* Keep the largest 6-connected part of m (values 0/1). */
static void largest_part(const kk_volume *vol, uint8_t *m, uint32_t *queue)
{
    size_t nx = (size_t)vol->nx, ny = (size_t)vol->ny, nz = (size_t)vol->nz;
    size_t n = nx * ny * nz, plane = nx * ny;
    uint32_t nx32 = (uint32_t)nx, plane32 = (uint32_t)plane;
    size_t best = 0, best_seed = 0;
    for (int pass = 0; pass < 2; pass++) {
        uint8_t from = pass == 0 ? 1 : 2, to = pass == 0 ? 2 : 3;
        for (size_t seed = pass == 0 ? 0 : best_seed; seed < n; seed++) {
            if (m[seed] != from)
                continue;
            size_t head = 0, tail = 0;
            m[seed] = to;
            queue[tail++] = (uint32_t)seed;
            while (head < tail) {
                /* two 32-bit divisions (the queue's indices are 32-bit):
                 * three 64-bit ones took most of the flood's time */
                uint32_t p = queue[head++];
                uint32_t z = p / plane32, r = p - z * plane32, y = r / nx32, x = r - y * nx32;
                uint32_t nb[6];
                int nn = 0;
                if (x > 0) nb[nn++] = p - 1;
                if (x + 1 < nx32) nb[nn++] = p + 1;
                if (y > 0) nb[nn++] = p - nx32;
                if (y + 1 < ny) nb[nn++] = p + nx32;
                if (z > 0) nb[nn++] = p - plane32;
                if (z + 1 < nz) nb[nn++] = p + plane32;
                for (int i = 0; i < nn; i++)
                    if (m[nb[i]] == from) {
                        m[nb[i]] = to;
                        queue[tail++] = nb[i];
                    }
            }
            if (pass == 1)
                break;
            if (tail > best) {
                best = tail;
                best_seed = seed;
            }
        }
        if (pass == 0 && best == 0)
            break;
        if (pass == 0)
            m[best_seed] = 2; /* the second pass starts from it */
    }
    for (size_t i = 0; i < n; i++)
        m[i] = m[i] == 3;
}

/* Patient position of voxel (c, r, k). */
static void position(const kk_volume *vol, double c, double r, double k, double p[3])
{
    for (int i = 0; i < 3; i++)
        p[i] = vol->origin[i] + c * vol->dc * vol->row[i] + r * vol->dr * vol->col[i] +
               k * vol->dz * vol->normal[i];
}

/* The lowest and highest patient z of the volume's voxel centres. */
static void z_extent(const kk_volume *vol, double *zlo, double *zhi)
{
    *zlo = 1e30;
    *zhi = -1e30;
    for (int corner = 0; corner < 8; corner++) {
        double p[3];
        position(vol, corner & 1 ? vol->nx - 1 : 0, corner & 2 ? vol->ny - 1 : 0,
                 corner & 4 ? vol->nz - 1 : 0, p);
        *zlo = fmin(*zlo, p[2]);
        *zhi = fmax(*zhi, p[2]);
    }
}

/* The cranium is measured 30-70 mm below the vertex and must cover 20 mm
 * there (kk_vol__find_face), so a volume less than 50 mm high (one 1 mm
 * bin of rounding, and 1 mm of slack, allowed) never shows a head. */
#define HEAD_MIN_HEIGHT_MM 48.0

bool kk_vol__too_low_for_a_head(const kk_volume *vol)
{
    double zlo, zhi;
    z_extent(vol, &zlo, &zhi);
    return zhi - zlo < HEAD_MIN_HEIGHT_MM;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct profile {
    int nb;
    double z0;
    double *minx, *maxx, *miny, *maxy, *front;
} profile;

static void profile_free(profile *pr)
{
    free(pr->minx);
    free(pr->maxx);
    free(pr->miny);
    free(pr->maxy);
    free(pr->front);
}

/* Walk the mask voxels with their patient positions. */
#define FOR_MASK_VOXELS(vol, mask, P, ...)                                               \
    do {                                                                                 \
        size_t idx_ = 0;                                                                 \
        for (int k_ = 0; k_ < (vol)->nz; k_++)                                           \
            for (int r_ = 0; r_ < (vol)->ny; r_++) {                                     \
                double base_[3];                                                         \
                position((vol), 0, r_, k_, base_);                                       \
                for (int c_ = 0; c_ < (vol)->nx; c_++, idx_++) {                         \
                    if (!(mask)[idx_])                                                   \
                        continue;                                                        \
                    double P[3];                                                         \
                    for (int i_ = 0; i_ < 3; i_++)                                       \
                        P[i_] = base_[i_] + c_ * (vol)->dc * (vol)->row[i_];             \
                    __VA_ARGS__                                                               \
                }                                                                        \
            }                                                                            \
    } while (0)

static int bin_of(const profile *pr, double z)
{
    int b = (int)floor((z - pr->z0) / BIN_MM);
    return b < 0 ? 0 : b >= pr->nb ? pr->nb - 1 : b;
}

/* A cranium's width (left-right) and depth (front-back) in mm, with
 * margin mm of slack on every bound. */
static bool head_shaped(double width, double depth, double margin)
{
    return width >= 100 - margin && width <= 230 + margin && depth >= 120 - margin &&
           depth <= 270 + margin && depth >= 0.9 * width - margin;
}

/* Slices at least this wide are first looked at in one voxel of every
 * COARSE_STEP x COARSE_STEP (coarse_reject). */
#define COARSE_MIN 384
#define COARSE_STEP 4
#define COARSE_MARGIN_MM 10.0

bool kk_vol__coarse_applies(const kk_volume *vol)
{
    return vol->nx >= COARSE_MIN && vol->ny >= COARSE_MIN;
}

size_t kk_vol__coarse_plane(const kk_volume *vol)
{
    return (size_t)(vol->nx / COARSE_STEP) * (size_t)(vol->ny / COARSE_STEP);
}

/* Each coarse voxel is the mean of its COARSE_STEP x COARSE_STEP, summed
 * in one order (row by row, left to right, from 0) so that every caller
 * gets the same floats; four coarse voxels at a time, one per SSE lane
 * (the same additions in the same order as the plain tail). */
void kk_vol__coarse_slice(const kk_volume *vol, const float *slice, float *out)
{
    enum { S = COARSE_STEP };
    int cx = vol->nx / S, cy = vol->ny / S;
    const float scale = 1.0f / (float)(S * S);
    for (int y = 0; y < cy; y++) {
        float *o = out + (size_t)y * cx;
        const float *rows = slice + (size_t)S * y * vol->nx;
        int x = 0;
#if defined(__SSE2__) && COARSE_STEP == 4
        for (; x + 4 <= cx; x += 4) {
            __m128 acc = _mm_setzero_ps();
            for (int r = 0; r < S; r++) {
                const float *a = rows + (size_t)r * vol->nx + (size_t)S * x;
                __m128 q0 = _mm_loadu_ps(a), q1 = _mm_loadu_ps(a + 4);
                __m128 q2 = _mm_loadu_ps(a + 8), q3 = _mm_loadu_ps(a + 12);
                _MM_TRANSPOSE4_PS(q0, q1, q2, q3); /* qi: sample i of lanes x..x+3 */
                acc = _mm_add_ps(acc, q0);
                acc = _mm_add_ps(acc, q1);
                acc = _mm_add_ps(acc, q2);
                acc = _mm_add_ps(acc, q3);
            }
            _mm_storeu_ps(o + x, _mm_mul_ps(acc, _mm_set1_ps(scale)));
        }
#endif
        for (; x < cx; x++) {
            float acc = 0;
            for (int r = 0; r < S; r++) {
                const float *a = rows + (size_t)r * vol->nx + (size_t)S * x;
                for (int q = 0; q < S; q++)
                    acc += a[q];
            }
            o[x] = acc * scale;
        }
    }
}

/* The coarse volume's geometry: a coarse voxel's centre is the middle of
 * the COARSE_STEP x COARSE_STEP it averages. */
static kk_volume coarse_of(const kk_volume *vol, float *v)
{
    const int s = COARSE_STEP;
    kk_volume h = *vol;
    h.nx = vol->nx / s;
    h.ny = vol->ny / s;
    h.dc = s * vol->dc;
    h.dr = s * vol->dr;
    for (int i = 0; i < 3; i++)
        h.origin[i] = vol->origin[i] + 0.5 * (s - 1) * (vol->dc * vol->row[i] + vol->dr * vol->col[i]);
    h.v = v;
    return h;
}

int kk_vol__coarse_reject(const kk_volume *vol, const float *coarse, kk_vol_face *f)
{
    kk_volume h = coarse_of(vol, (float *)coarse);
    kk_vol_face c;
    if (kk_vol__find_face(&h, &c, NULL) != 0)
        return -1;
    if (c.head || c.width <= 0 || head_shaped(c.width, c.depth, COARSE_MARGIN_MM))
        return 0;
    *f = c;
    return 1;
}

/* Whether the volume is clearly no head, seen in COARSE_STEP x COARSE_STEP
 * averaged voxels (2.8 mm for a 360 mm field of 512): a chest or an abdomen
 * is far wider than any cranium, and telling that from a sixteenth of the
 * voxels saves most of the work on the series of a batch that are not
 * heads. Only a shape outside the head's bounds by more than
 * COARSE_MARGIN_MM (the coarse edges are off by a voxel or two) counts;
 * anything else is looked at in full. 1: f says why; 0: look in full; -1:
 * out of memory. */
static int coarse_reject(const kk_volume *vol, kk_vol_face *f)
{
    if (!kk_vol__coarse_applies(vol))
        return 0;
    size_t cplane = kk_vol__coarse_plane(vol), plane = (size_t)vol->nx * vol->ny;
    float *v = kk__malloc(cplane * vol->nz * sizeof *v);
    if (!v)
        return -1;
    for (int k = 0; k < vol->nz; k++)
        kk_vol__coarse_slice(vol, vol->v + k * plane, v + k * cplane);
    int rc = kk_vol__coarse_reject(vol, v, f);
    free(v);
    return rc;
}

int kk_vol__find_face(const kk_volume *vol, kk_vol_face *f, uint8_t *out_mask)
{
    memset(f, 0, sizeof *f);
    int coarse = 0;
    if (kk_vol__too_low_for_a_head(vol)) {
        /* what the full look would say, without making the mask */
        snprintf(f->why, sizeof f->why, "covers less than 2 cm of a cranium");
        coarse = 1;
    } else {
        coarse = coarse_reject(vol, f);
    }
    if (coarse < 0)
        return -1;
    if (coarse > 0) {
        /* no head: an empty mask */
        if (out_mask)
            memset(out_mask, 0, (size_t)vol->nx * vol->ny * vol->nz);
        return 0;
    }
    size_t n = (size_t)vol->nx * vol->ny * vol->nz;
    uint8_t *m = out_mask ? out_mask : kk__malloc(n);
    uint32_t *queue = kk__malloc(n * sizeof *queue);
    profile pr;
    memset(&pr, 0, sizeof pr);
    int rc = -1;
    if (!m || !queue)
        goto out;
    float t = vol->ct ? -500.0f : 0.5f * otsu(vol);
    for (size_t i = 0; i < n; i++)
        m[i] = vol->v[i] > t;
    fill_slices(vol, m, queue);
    largest_part(vol, m, queue);
    free(queue);
    queue = NULL;

    /* height bins over the volume's extent */
    double zlo, zhi;
    z_extent(vol, &zlo, &zhi);
    pr.z0 = zlo;
    pr.nb = (int)((zhi - zlo) / BIN_MM) + 2;
    pr.minx = kk__malloc((size_t)pr.nb * sizeof(double));
    pr.maxx = kk__malloc((size_t)pr.nb * sizeof(double));
    pr.miny = kk__malloc((size_t)pr.nb * sizeof(double));
    pr.maxy = kk__malloc((size_t)pr.nb * sizeof(double));
    pr.front = kk__malloc((size_t)pr.nb * sizeof(double));
    if (!pr.minx || !pr.maxx || !pr.miny || !pr.maxy || !pr.front)
        goto out;
    for (int b = 0; b < pr.nb; b++) {
        pr.minx[b] = pr.miny[b] = pr.front[b] = 1e30;
        pr.maxx[b] = pr.maxy[b] = -1e30;
    }
    double top = -1e30;
    FOR_MASK_VOXELS(vol, m, P, {
        int b = bin_of(&pr, P[2]);
        if (P[0] < pr.minx[b]) pr.minx[b] = P[0];
        if (P[0] > pr.maxx[b]) pr.maxx[b] = P[0];
        if (P[1] < pr.miny[b]) pr.miny[b] = P[1];
        if (P[1] > pr.maxy[b]) pr.maxy[b] = P[1];
        if (P[2] > top) top = P[2];
    });
    rc = 0;
    if (top < -1e29) {
        snprintf(f->why, sizeof f->why, "nothing but background");
        goto out;
    }
    f->top = top;
    /* the cranium: 3 to 7 cm below the vertex */
    double w[256], d[256], c[256];
    int nw = 0, first = -1, last = -1;
    for (int b = bin_of(&pr, top - 70); b <= bin_of(&pr, top - 30) && nw < 256; b++) {
        if (pr.maxx[b] < pr.minx[b])
            continue;
        if (first < 0)
            first = b;
        last = b;
        w[nw] = pr.maxx[b] - pr.minx[b];
        d[nw] = pr.maxy[b] - pr.miny[b];
        c[nw] = 0.5 * (pr.maxx[b] + pr.minx[b]);
        nw++;
    }
    /* thick slices fill few 1 mm bins: what counts is the height covered */
    if (nw < 3 || (last - first) * BIN_MM < 20) {
        snprintf(f->why, sizeof f->why, "covers less than 2 cm of a cranium");
        goto out;
    }
    f->width = median(w, nw);
    f->depth = median(d, nw);
    f->centre_x = median(c, nw);
    if (!head_shaped(f->width, f->depth, 0)) {
        snprintf(f->why, sizeof f->why, "not shaped like a head (%.0f mm wide, %.0f mm deep)",
                 f->width, f->depth);
        goto out;
    }
    f->head = true;
    /* the midline's anterior profile */
    double cx = f->centre_x;
    FOR_MASK_VOXELS(vol, m, P, {
        if (fabs(P[0] - cx) < 20) {
            int b = bin_of(&pr, P[2]);
            if (P[1] < pr.front[b]) pr.front[b] = P[1];
        }
    });
    int nose = -1;
    for (int b = bin_of(&pr, top - 170); b <= bin_of(&pr, top - 60); b++)
        if (pr.front[b] < 1e29 && (nose < 0 || pr.front[b] < pr.front[nose]))
            nose = b;
    if (nose < 0) {
        snprintf(f->why, sizeof f->why, "the field of view ends above the face");
        goto out;
    }
    /* the nasion: the deepest point of the profile 1.2-5.5 cm above the
     * nose tip that has a brow (a point at least 1 mm more anterior)
     * 0.5-4 cm above it */
    int nasion = -1;
    double brow = 1e30;
    for (int b = nose + (int)(12 / BIN_MM); b <= nose + (int)(55 / BIN_MM) && b < pr.nb; b++) {
        if (pr.front[b] > 1e29)
            continue;
        double above = 1e30;
        for (int a = b + (int)(5 / BIN_MM); a <= b + (int)(40 / BIN_MM) && a < pr.nb; a++)
            above = fmin(above, pr.front[a]);
        if (above < 1e29 && pr.front[b] - above >= 1 &&
            (nasion < 0 || pr.front[b] > pr.front[nasion])) {
            nasion = b;
            brow = above;
        }
    }
    double lips = -1e30;
    for (int b = nose - (int)(50 / BIN_MM); b <= nose - (int)(25 / BIN_MM); b++)
        if (b >= 0 && pr.front[b] < 1e29)
            lips = fmax(lips, pr.front[b]);
    f->nose_z = pr.z0 + (nose + 0.5) * BIN_MM;
    f->nose_y = pr.front[nose];
    if (nasion < 0 || brow > 1e29) {
        snprintf(f->why, sizeof f->why, "no nasion and brow above the most anterior point");
        goto out;
    }
    f->nasion_z = pr.z0 + (nasion + 0.5) * BIN_MM;
    f->nasion_y = pr.front[nasion];
    bool protrudes = f->nasion_y - f->nose_y >= 6;
    bool dip = f->nasion_y - brow >= 1; /* by construction; kept for clarity */
    bool below = lips < -1e29 || lips - f->nose_y >= 6;
    if (!protrudes || !dip || !below) {
        snprintf(f->why, sizeof f->why, "no nose on the front of the head");
        goto out;
    }
    f->face = true;
    int bb = bin_of(&pr, f->nasion_z + CUT_ABOVE_NASION_MM);
    double skin = pr.front[bb] < 1e29 ? pr.front[bb] : f->nasion_y;
    double a = CUT_ANGLE_DEG * M_PI / 180.0;
    f->point[0] = cx;
    f->point[1] = skin + CUT_DEPTH_MM;
    f->point[2] = f->nasion_z + CUT_ABOVE_NASION_MM;
    f->normal[0] = 0;
    f->normal[1] = -cos(a);
    f->normal[2] = -sin(a);
    f->floor_z = f->nose_z - CUT_BELOW_NOSE_MM;
    f->knee_z = f->nose_z;
out:
    free(queue);
    profile_free(&pr);
    if (!out_mask)
        free(m);
    return rc;
}

/* --- defacing ----------------------------------------------------------- */

/* Box mean of radius r along one axis (stride s, n samples, count lines
 * of it starting at the offsets given by the two outer loops). */
static void box_axis(float *v, float *tmp, int nx, int ny, int nz, int axis, int r)
{
    int len = axis == 0 ? nx : axis == 1 ? ny : nz;
    size_t stride = axis == 0 ? 1 : axis == 1 ? (size_t)nx : (size_t)nx * ny;
    int na = axis == 0 ? ny : nx, nb = axis == 2 ? ny : nz;
    for (int b = 0; b < nb; b++)
        for (int a = 0; a < na; a++) {
            size_t start = axis == 0 ? ((size_t)b * ny + a) * nx
                           : axis == 1 ? (size_t)b * nx * ny + a
                                       : (size_t)b * nx + a;
            double sum = 0;
            int cnt = 0;
            for (int i = 0; i < r && i < len; i++) {
                sum += v[start + i * stride];
                cnt++;
            }
            for (int i = 0; i < len; i++) {
                if (i + r < len) {
                    sum += v[start + (size_t)(i + r) * stride];
                    cnt++;
                }
                if (i - r - 1 >= 0) {
                    sum -= v[start + (size_t)(i - r - 1) * stride];
                    cnt--;
                }
                tmp[i] = (float)(sum / cnt);
            }
            for (int i = 0; i < len; i++)
                v[start + i * stride] = tmp[i];
        }
}

/* How far P lies in front of the cut (mm; > 0: in the face region). */
static double in_front(const kk_vol_face *f, const double P[3])
{
    if (P[2] < f->floor_z)
        return -1e30;
    double zp = P[2] >= f->knee_z ? P[2] : f->knee_z;
    /* below the knee the cut is vertical: the plane's point at the knee */
    double s = (P[0] - f->point[0]) * f->normal[0] + (P[1] - f->point[1]) * f->normal[1] +
               (zp - f->point[2]) * f->normal[2];
    return s;
}

size_t kk_vol__deface(kk_volume *vol, const kk_vol_face *f, kk_deface_mode mode,
                      const uint8_t *mask, uint8_t *changed)
{
    size_t n = (size_t)vol->nx * vol->ny * vol->nz;
    if (changed)
        memset(changed, 0, n);
    if (!f->face || mode == KK_DEFACE_OFF)
        return 0;
    float bg = vol->v[0];
    for (size_t i = 0; i < n; i++)
        if (vol->v[i] < bg)
            bg = vol->v[i];
    if (vol->ct && bg < -1000)
        bg = -1000;
    /* the cap's value: the head's median (a 4096-bin histogram) */
    float lo = bg, hi = bg;
    for (size_t i = 0; i < n; i++)
        if (mask[i] && vol->v[i] > hi)
            hi = vol->v[i];
    enum { NB = 4096 };
    size_t *hist = kk__calloc(NB, sizeof *hist);
    if (!hist)
        return (size_t)-1;
    size_t inside = 0;
    double scale = hi > lo ? (NB - 1) / (double)(hi - lo) : 0;
    for (size_t i = 0; i < n; i++)
        if (mask[i]) {
            hist[(int)((vol->v[i] - lo) * scale)]++;
            inside++;
        }
    float cap = bg;
    for (size_t b = 0, acc = 0; b < NB; b++) {
        acc += hist[b];
        if (acc * 2 >= inside) {
            cap = scale > 0 ? lo + (float)((b + 0.5) / scale) : lo;
            break;
        }
    }
    free(hist);
    float *blur = NULL;
    if (mode == KK_DEFACE_BLUR) {
        int len = vol->nx > vol->ny ? vol->nx : vol->ny;
        len = len > vol->nz ? len : vol->nz;
        blur = kk__malloc(n * sizeof *blur);
        float *tmp = kk__malloc((size_t)len * sizeof *tmp);
        if (!blur || !tmp) {
            free(blur);
            free(tmp);
            return (size_t)-1;
        }
        memcpy(blur, vol->v, n * sizeof *blur);
        double sp[3] = { vol->dc, vol->dr, vol->dz };
        for (int it = 0; it < 3; it++)
            for (int axis = 0; axis < 3; axis++) {
                int r = (int)(BLUR_MM / sp[axis] + 0.5);
                box_axis(blur, tmp, vol->nx, vol->ny, vol->nz, axis, r < 1 ? 1 : r);
            }
        free(tmp);
    }
    /* the ears: set to background, or blurred with the air around them */
    uint8_t *ears = kk__malloc(n);
    if (!ears || kk_vol__find_ears(vol, f, mask, ears) < 0) {
        free(ears);
        free(blur);
        return (size_t)-1;
    }
    size_t count = 0, idx = 0;
    for (int k = 0; k < vol->nz; k++)
        for (int r = 0; r < vol->ny; r++) {
            double base[3];
            position(vol, 0, r, k, base);
            /* the cap covers the row between its first and last head
             * voxel: cavities open to the cut are closed too */
            int cmin = vol->nx, cmax = -1;
            for (int c = 0; c < vol->nx; c++)
                if (mask[idx + (size_t)c]) {
                    cmin = c < cmin ? c : cmin;
                    cmax = c;
                }
            for (int c = 0; c < vol->nx; c++, idx++) {
                double P[3];
                for (int i = 0; i < 3; i++)
                    P[i] = base[i] + c * vol->dc * vol->row[i];
                double s = in_front(f, P);
                /* the ears; blurring, the air around them too */
                uint8_t ear = ears[idx] == KK_EAR_AIR && mode != KK_DEFACE_BLUR ? 0 : ears[idx];
                if (!ear && s <= -CAP_MM)
                    continue;
                float nv = mode == KK_DEFACE_BLUR ? blur[idx] : bg;
                if (mode == KK_DEFACE_BLUR || ear == KK_EAR)
                    ;
                else if (ear == KK_EAR_FLAT)
                    nv = s > 0 ? bg : cap;
                else if (s <= 0) {
                    if (c < cmin || c > cmax)
                        continue;
                    nv = cap;
                }
                if (nv != vol->v[idx]) {
                    vol->v[idx] = nv;
                    if (changed)
                        changed[idx] = 1;
                    count++;
                }
            }
        }
    free(ears);
    free(blur);
    return count;
}

/* --- a front view -------------------------------------------------------- */

void kk_vol__render_front(const kk_volume *vol, const uint8_t *mask, int w, int h, double px,
                          uint8_t *out)
{
    memset(out, 0, (size_t)w * h);
    float *depth = kk__malloc((size_t)w * h * sizeof *depth);
    if (!depth)
        return;
    for (size_t i = 0; i < (size_t)w * h; i++)
        depth[i] = 1e30f;
    /* centre the view on the mask's extent */
    double lo[3] = { 1e30, 1e30, 1e30 }, hi[3] = { -1e30, -1e30, -1e30 };
    FOR_MASK_VOXELS(vol, mask, P, {
        for (int i = 0; i < 3; i++) {
            lo[i] = fmin(lo[i], P[i]);
            hi[i] = fmax(hi[i], P[i]);
        }
    });
    if (lo[0] > hi[0]) {
        free(depth);
        return;
    }
    double cx = 0.5 * (lo[0] + hi[0]), cz = 0.5 * (lo[2] + hi[2]);
    /* splat each voxel over the pixels its footprint covers */
    double foot = fmax(vol->dc, fmax(vol->dr, vol->dz));
    int rad = (int)ceil(0.5 * foot / px);
    FOR_MASK_VOXELS(vol, mask, P, {
        int u = (int)lround((P[0] - cx) / px) + w / 2;
        int v = (int)lround((cz - P[2]) / px) + h / 2;
        for (int dv = -rad; dv <= rad; dv++)
            for (int du = -rad; du <= rad; du++) {
                int uu = u + du, vv = v + dv;
                if (uu < 0 || vv < 0 || uu >= w || vv >= h)
                    continue;
                float *dp = &depth[(size_t)vv * w + uu];
                if (P[1] < *dp)
                    *dp = (float)P[1];
            }
    });
    /* fill pinholes, then smooth the depth a little (3x3 mean) */
    float far = -1e30f, near = 1e30f;
    for (size_t i = 0; i < (size_t)w * h; i++)
        if (depth[i] < 1e29f) {
            far = fmaxf(far, depth[i]);
            near = fminf(near, depth[i]);
        }
    float *sm = kk__malloc((size_t)w * h * sizeof *sm);
    if (!sm) {
        free(depth);
        return;
    }
    for (int v = 0; v < h; v++)
        for (int u = 0; u < w; u++) {
            double sum = 0;
            int cnt = 0;
            for (int dv = -1; dv <= 1; dv++)
                for (int du = -1; du <= 1; du++) {
                    int uu = u + du, vv = v + dv;
                    if (uu < 0 || vv < 0 || uu >= w || vv >= h)
                        continue;
                    float d = depth[(size_t)vv * w + uu];
                    sum += d < 1e29f ? d : far + 50;
                    cnt++;
                }
            sm[(size_t)v * w + u] = (float)(sum / cnt);
        }
    /* Lambert shading, light from the viewer and a little above; what is
     * nearer is brighter (half as bright 8 cm deeper) */
    double L[3] = { 0, -0.45, 0.89 };
    for (int v = 1; v < h - 1; v++)
        for (int u = 1; u < w - 1; u++) {
            size_t i = (size_t)v * w + u;
            if (depth[i] > 1e29f)
                continue;
            double gx = (sm[i + 1] - sm[i - 1]) / (2 * px), gy = (sm[i + w] - sm[i - w]) / (2 * px);
            double nrm[3] = { -gx, -gy, 1 };
            double lam = dot3(nrm, L) / sqrt(dot3(nrm, nrm));
            double cue = 1 - 0.5 * (sm[i] - near) / 40.0;
            cue = cue < 0.2 ? 0.2 : cue > 1 ? 1 : cue;
            double shade = 20 + 235 * (lam > 0 ? lam : 0) * cue;
            out[i] = (uint8_t)(shade > 255 ? 255 : shade);
        }
    free(sm);
    free(depth);
}
