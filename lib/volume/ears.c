/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/volume/ears.c - the ears of a head volume (volume.h,
 * kk_vol__find_ears()).
 *
 * A rendered head shows its ears as well as its face, and the outer ear is
 * as individual as a face. Ears are thin flaps sticking out of the side of
 * the head, so they are what a morphological opening of the head mask with
 * a ball of 12 mm takes away: the ball rolls inside the head but does not
 * fit into a flap. The opening is computed exactly, with Euclidean
 * distances in mm (anisotropic voxels included): the squared distance to
 * the background (Felzenszwalb and Huttenlocher's separable transform,
 * one pass per axis) gives the erosion, the squared distance to the
 * erosion gives its dilation, and the opening is that dilation. The mask
 * used is the head mask with its holes filled in (near) sagittal planes
 * too (a dark skull open to the air through the orbits in axial slices
 * would make the scalp a flap; sagittal planes lateral to the orbits
 * close it). The flaps are the head mask at least 5 mm out of its opening
 * (a rough skin is no flap), in connected parts no longer and no higher
 * than 80 mm (an ear, not a scalp all round the head), where
 *   - the height lies between 25 mm above the nasion (the top of the
 *     helix is at the brow) and 30 mm below the nose tip (the lobule is
 *     at the base of the nose);
 *   - the voxel lies in the outer 25 mm of the cranium's width on either
 *     side (the ears sit near the head's widest extent);
 *   - the voxel is at most 8 mm from the background: a flap is thin, and
 *     the brain lies deeper than scalp and skull (never touched).
 * Within 15 mm of a flap, in the same band and depth, what lies out of
 * the opening shrunk by 3 mm is the ear (the flaps, their roots, the
 * concha's walls: background), the air there is air (blurred with them),
 * and what the shrunk opening covers is flattened (the head's median
 * value: renders show a smooth side of the head, not the dark bone and
 * the ear canal the removal bares).
 * Only a box around the band of heights is transformed: everything
 * within reach of it, so the result inside the band is the same as over
 * the whole volume. One core: about 0.5 s for a 176 x 256 x 256 MR.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "volume/volume.h"

#define EAR_BALL_MM 12.0
#define EAR_ABOVE_NASION_MM 25.0
#define EAR_BELOW_NOSE_MM 30.0
#define EAR_LATERAL_MM 25.0
#define EAR_DEPTH_MM 8.0
#define EAR_GROW_MM 15.0
#define EAR_OUT_MM 5.0
#define EAR_SHAVE_MM 3.0
#define EAR_MAX_MM 80.0

#define FAR 1e30f

/* within EAR_DEPTH_MM of the air; in the shrunk opening; a flap; its
 * part counted */
enum { SHALLOW = 1, BALLS = 2, SEED = 4, SEEN = 8 };

typedef struct box {
    int c0, r0, k0;     /* first voxel */
    int nc, nr, nk;     /* size */
} box;

/* Squared Euclidean distance transform of one line (Felzenszwalb and
 * Huttenlocher 2012): d[q] = min_p s2 (q - p)^2 + f[p]; f FAR where no
 * site is. v and z are scratch of n and n + 1. */
static void edt_line(const float *f, float *d, int n, float s2, int *v, float *z)
{
    int k = -1;
    for (int q = 0; q < n; q++) {
        if (f[q] >= FAR)
            continue;
        float s = -HUGE_VALF;
        while (k >= 0) {
            int p = v[k];
            s = ((f[q] + s2 * (float)(q * q)) - (f[p] + s2 * (float)(p * p))) / (2 * s2 * (float)(q - p));
            if (s > z[k])
                break;
            k--;
        }
        if (k < 0)
            s = -HUGE_VALF;
        v[++k] = q;
        z[k] = s;
        z[k + 1] = HUGE_VALF;
    }
    if (k < 0) {
        for (int q = 0; q < n; q++)
            d[q] = FAR;
        return;
    }
    for (int q = 0, j = 0; q < n; q++) {
        while (z[j + 1] < (float)q)
            j++;
        float t = (float)(q - v[j]);
        d[q] = s2 * t * t + f[v[j]];
    }
}

enum { LANES = 16 }; /* lines transformed together: one cache line of each */

/* g: 0 at the sites, FAR elsewhere -> squared distance (mm^2) to the
 * nearest site of the box. Lines along columns are contiguous; along rows
 * and slices, LANES neighbouring lines are copied out and back together. */
static int edt(float *g, const box *b, const double sp[3])
{
    int len = b->nc > b->nr ? b->nc : b->nr;
    len = len > b->nk ? len : b->nk;
    float *f = kk__malloc((size_t)len * (LANES + 1) * sizeof *f);
    int *v = kk__malloc((size_t)len * sizeof *v);
    float *z = kk__malloc(((size_t)len + 1) * sizeof *z);
    if (!f || !v || !z) {
        free(f);
        free(v);
        free(z);
        return -1;
    }
    float *d = f + (size_t)len * LANES;
    size_t plane = (size_t)b->nc * b->nr;
    for (size_t j = 0; j < plane * b->nk; j += (size_t)b->nc) {
        edt_line(g + j, d, b->nc, (float)(sp[0] * sp[0]), v, z);
        memcpy(g + j, d, (size_t)b->nc * sizeof *d);
    }
    for (int axis = 1; axis < 3; axis++) {
        int n = axis == 1 ? b->nr : b->nk;
        size_t stride = axis == 1 ? (size_t)b->nc : plane;
        /* lines start at (c, 0, k) or (c, r, 0) */
        int outer = axis == 1 ? b->nk : b->nr;
        for (int o = 0; o < outer; o++)
            for (int c0 = 0; c0 < b->nc; c0 += LANES) {
                int w = b->nc - c0 < LANES ? b->nc - c0 : LANES;
                float *base = g + (axis == 1 ? (size_t)o * plane : (size_t)o * b->nc) + c0;
                for (int q = 0; q < n; q++)
                    for (int l = 0; l < w; l++)
                        f[(size_t)l * len + q] = base[(size_t)q * stride + l];
                for (int l = 0; l < w; l++) {
                    edt_line(f + (size_t)l * len, d, n, (float)(sp[axis] * sp[axis]), v, z);
                    memcpy(f + (size_t)l * len, d, (size_t)n * sizeof *d);
                }
                for (int q = 0; q < n; q++)
                    for (int l = 0; l < w; l++)
                        base[(size_t)q * stride + l] = f[(size_t)l * len + q];
            }
    }
    free(f);
    free(v);
    free(z);
    return 0;
}

/* Patient z and x of voxel (c, r, k). */
static double coord(const kk_volume *vol, int axis, int c, int r, int k)
{
    return vol->origin[axis] + c * vol->dc * vol->row[axis] + r * vol->dr * vol->col[axis] +
           k * vol->dz * vol->normal[axis];
}

/* The box of the mask's voxels between heights lo and hi, grown by
 * grow mm on every side, within the volume. */
static bool band_box(const kk_volume *vol, const uint8_t *mask, double lo, double hi, double grow,
                     box *b)
{
    int c0 = vol->nx, c1 = -1, r0 = vol->ny, r1 = -1, k0 = vol->nz, k1 = -1;
    size_t idx = 0;
    for (int k = 0; k < vol->nz; k++)
        for (int r = 0; r < vol->ny; r++) {
            double z0 = coord(vol, 2, 0, r, k), zc = vol->dc * vol->row[2];
            for (int c = 0; c < vol->nx; c++, idx++) {
                if (!mask[idx])
                    continue;
                double zz = z0 + c * zc;
                if (zz < lo || zz > hi)
                    continue;
                c0 = c < c0 ? c : c0;
                c1 = c > c1 ? c : c1;
                r0 = r < r0 ? r : r0;
                r1 = r > r1 ? r : r1;
                k0 = k < k0 ? k : k0;
                k1 = k > k1 ? k : k1;
            }
        }
    if (c1 < 0)
        return false;
    int gc = (int)ceil(grow / vol->dc), gr = (int)ceil(grow / vol->dr),
        gk = (int)ceil(grow / vol->dz);
    c0 = c0 - gc < 0 ? 0 : c0 - gc;
    r0 = r0 - gr < 0 ? 0 : r0 - gr;
    k0 = k0 - gk < 0 ? 0 : k0 - gk;
    c1 = c1 + gc >= vol->nx ? vol->nx - 1 : c1 + gc;
    r1 = r1 + gr >= vol->ny ? vol->ny - 1 : r1 + gr;
    k1 = k1 + gk >= vol->nz ? vol->nz - 1 : k1 + gk;
    *b = (box){ c0, r0, k0, c1 - c0 + 1, r1 - r0 + 1, k1 - k0 + 1 };
    return true;
}

/* Fill the holes of m (the box's mask, 0/1) in the planes across axis
 * (what the plane's border cannot reach through 0s) into out (|= 1);
 * queue: a plane's worth. */
static void fill_planes(const uint8_t *m, uint8_t *out, uint8_t *seen, const box *b, int axis,
                        uint32_t *queue)
{
    size_t st[3] = { 1, (size_t)b->nc, (size_t)b->nc * b->nr };
    int len[3] = { b->nc, b->nr, b->nk };
    int u = axis == 0 ? 1 : 0, v = axis == 2 ? 1 : 2;
    for (int w = 0; w < len[axis]; w++) {
        size_t o = (size_t)w * st[axis];
        size_t head = 0, tail = 0;
        for (int j = 0; j < len[v]; j++)
            for (int i = 0; i < len[u]; i++) {
                size_t p = o + (size_t)i * st[u] + (size_t)j * st[v];
                seen[p] = 0;
                if ((i == 0 || j == 0 || i == len[u] - 1 || j == len[v] - 1) && !m[p]) {
                    seen[p] = 1;
                    queue[tail++] = (uint32_t)(i + (size_t)j * len[u]);
                }
            }
        while (head < tail) {
            int i = (int)(queue[head] % (uint32_t)len[u]), j = (int)(queue[head] / (uint32_t)len[u]);
            head++;
            int ni[4] = { i - 1, i + 1, i, i }, nj[4] = { j, j, j - 1, j + 1 };
            for (int d = 0; d < 4; d++) {
                if (ni[d] < 0 || nj[d] < 0 || ni[d] >= len[u] || nj[d] >= len[v])
                    continue;
                size_t p = o + (size_t)ni[d] * st[u] + (size_t)nj[d] * st[v];
                if (!m[p] && !seen[p]) {
                    seen[p] = 1;
                    queue[tail++] = (uint32_t)(ni[d] + (size_t)nj[d] * len[u]);
                }
            }
        }
        for (int j = 0; j < len[v]; j++)
            for (int i = 0; i < len[u]; i++) {
                size_t p = o + (size_t)i * st[u] + (size_t)j * st[v];
                out[p] |= (uint8_t)(!m[p] && !seen[p]);
            }
    }
}

/* The box's head mask, its holes filled in its sagittal planes too (the
 * mask has them filled in its slices; the planes across the axis closest
 * to left-right): a dark skull that some slice opens to the air (an MR's,
 * through the orbits) is inside for the planes that close it, so the
 * scalp over it is no flap and the brain under it is deep. */
static uint8_t *box_mask(const kk_volume *vol, const uint8_t *mask, const box *b)
{
    size_t nb = (size_t)b->nc * b->nr * b->nk;
    int big = b->nc * b->nr;
    big = b->nc * b->nk > big ? b->nc * b->nk : big;
    big = b->nr * b->nk > big ? b->nr * b->nk : big;
    uint8_t *m = kk__malloc(nb), *out = kk__malloc(nb), *seen = kk__malloc(nb);
    uint32_t *queue = kk__malloc((size_t)big * sizeof *queue);
    if (!m || !out || !seen || !queue) {
        free(m);
        free(out);
        free(seen);
        free(queue);
        return NULL;
    }
    size_t i = 0;
    for (int k = 0; k < b->nk; k++)
        for (int r = 0; r < b->nr; r++)
            for (int c = 0; c < b->nc; c++, i++)
                m[i] = mask[((size_t)(b->k0 + k) * vol->ny + (size_t)(b->r0 + r)) * vol->nx +
                            (size_t)(b->c0 + c)];
    memcpy(out, m, nb);
    /* the axis closest to left-right; kk_vol__find_face() filled the
     * slices' planes already */
    double ax[3] = { fabs(vol->row[0]), fabs(vol->col[0]), fabs(vol->normal[0]) };
    int axis = ax[0] >= ax[1] && ax[0] >= ax[2] ? 0 : ax[1] >= ax[2] ? 1 : 2;
    if (axis != 2)
        fill_planes(m, out, seen, b, axis, queue);
    free(m);
    free(seen);
    free(queue);
    return out;
}

/* In the band of heights [lo, hi], in the outer EAR_LATERAL_MM of the
 * cranium's width on either side. */
static bool in_zone(const kk_volume *vol, const kk_vol_face *f, double lo, double hi, int c, int r,
                    int k)
{
    double z = coord(vol, 2, c, r, k), x = coord(vol, 0, c, r, k);
    return z >= lo && z <= hi && fabs(x - f->centre_x) >= 0.5 * f->width - EAR_LATERAL_MM;
}

/* Keep the 6-connected parts of the seeds (flag & SEED) no longer and no
 * higher than an ear: a scalp that an MR's dark skull leaves thin, open to
 * the air through the orbits, is a flap too, but all round the head. */
static int keep_ear_sized(const kk_volume *vol, const box *b, uint8_t *flag, size_t nseed)
{
    uint32_t *queue = kk__malloc(nseed * sizeof *queue);
    if (!queue)
        return -1;
    size_t plane = (size_t)b->nc * b->nr, nb = plane * b->nk;
    for (size_t seed = 0; seed < nb; seed++) {
        if ((flag[seed] & (SEED | SEEN)) != SEED)
            continue;
        size_t head = 0, tail = 0;
        double lo[3] = { HUGE_VAL, HUGE_VAL, HUGE_VAL }, hi[3] = { -HUGE_VAL, -HUGE_VAL, -HUGE_VAL };
        flag[seed] |= SEEN;
        queue[tail++] = (uint32_t)seed;
        while (head < tail) {
            size_t p = queue[head++];
            int c = (int)(p % b->nc), r = (int)(p / b->nc % b->nr), k = (int)(p / plane);
            for (int a = 0; a < 3; a++) {
                double x = coord(vol, a, b->c0 + c, b->r0 + r, b->k0 + k);
                lo[a] = fmin(lo[a], x);
                hi[a] = fmax(hi[a], x);
            }
            size_t nbr[6];
            int nn = 0;
            if (c > 0) nbr[nn++] = p - 1;
            if (c + 1 < b->nc) nbr[nn++] = p + 1;
            if (r > 0) nbr[nn++] = p - (size_t)b->nc;
            if (r + 1 < b->nr) nbr[nn++] = p + (size_t)b->nc;
            if (k > 0) nbr[nn++] = p - plane;
            if (k + 1 < b->nk) nbr[nn++] = p + plane;
            for (int j = 0; j < nn; j++)
                if ((flag[nbr[j]] & (SEED | SEEN)) == SEED) {
                    flag[nbr[j]] |= SEEN;
                    queue[tail++] = (uint32_t)nbr[j];
                }
        }
        if (hi[1] - lo[1] > EAR_MAX_MM || hi[2] - lo[2] > EAR_MAX_MM)
            for (size_t j = 0; j < tail; j++)
                flag[queue[j]] &= (uint8_t)~SEED;
    }
    free(queue);
    return 0;
}

long kk_vol__find_ears(const kk_volume *vol, const kk_vol_face *f, const uint8_t *mask,
                       uint8_t *ears)
{
    size_t n = (size_t)vol->nx * vol->ny * vol->nz;
    memset(ears, 0, n);
    if (!f->face)
        return 0;
    double hi = f->nasion_z + EAR_ABOVE_NASION_MM, lo = f->nose_z - EAR_BELOW_NOSE_MM;
    double r2 = EAR_BALL_MM * EAR_BALL_MM, deep2 = EAR_DEPTH_MM * EAR_DEPTH_MM;
    double out2 = (EAR_BALL_MM + EAR_OUT_MM) * (EAR_BALL_MM + EAR_OUT_MM);
    double flat2 = (EAR_BALL_MM - EAR_SHAVE_MM) * (EAR_BALL_MM - EAR_SHAVE_MM);
    double reach = 2 * EAR_BALL_MM + EAR_OUT_MM + EAR_GROW_MM + 2;
    box b;
    if (!band_box(vol, mask, lo - reach, hi + reach, reach, &b))
        return 0;
    size_t nb = (size_t)b.nc * b.nr * b.nk;
    float *g = kk__malloc(nb * sizeof *g);
    uint8_t *flag = kk__malloc(nb);
    uint8_t *bm = g && flag ? box_mask(vol, mask, &b) : NULL;
    if (!bm) {
        free(g);
        free(flag);
        return -1;
    }
    double sp[3] = { vol->dc, vol->dr, vol->dz };
    /* voxel (c, r, k) of the box is voxel at of the volume */
#define AT(c, r, k) (((size_t)(b.k0 + (k)) * vol->ny + (size_t)(b.r0 + (r))) * vol->nx + (size_t)(b.c0 + (c)))
    size_t i = 0;
    for (int k = 0; k < b.nk; k++)
        for (int r = 0; r < b.nr; r++)
            for (int c = 0; c < b.nc; c++, i++)
                g[i] = bm[i] ? FAR : 0;
    long count = -1;
    if (edt(g, &b, sp) != 0)
        goto out;
    /* the erosion: where the ball fits */
    for (i = 0; i < nb; i++) {
        flag[i] = g[i] <= deep2 ? SHALLOW : 0;
        g[i] = g[i] > r2 ? 0 : FAR;
    }
    if (edt(g, &b, sp) != 0)
        goto out;
    /* the opening is what lies within the ball's radius of the erosion;
     * the flaps lie at least 5 mm out of it (a rough skin is no flap),
     * more than radius + 5 mm from the erosion, near the skin, in the
     * band, on the sides */
    size_t nseed = 0;
    i = 0;
    for (int k = 0; k < b.nk; k++)
        for (int r = 0; r < b.nr; r++)
            for (int c = 0; c < b.nc; c++, i++) {
                flag[i] = (uint8_t)(flag[i] | (g[i] <= flat2 ? BALLS : 0));
                if ((flag[i] & SHALLOW) && g[i] > out2 && bm[i] &&
                    in_zone(vol, f, lo, hi, b.c0 + c, b.r0 + r, b.k0 + k)) {
                    flag[i] |= SEED;
                    nseed++;
                }
            }
    if (nseed && keep_ear_sized(vol, &b, flag, nseed) != 0)
        goto out;
    for (i = 0; i < nb; i++)
        g[i] = flag[i] & SEED ? 0 : FAR;
    if (edt(g, &b, sp) != 0)
        goto out;
    /* around them (in the band, on the sides), near the skin: the tissue
     * out of the opening shrunk by 3 mm (the flaps' roots, the skin they
     * lie on) is the ear, the air there air, the rest of the opening is
     * flattened */
    double grow2 = EAR_GROW_MM * EAR_GROW_MM;
    count = 0;
    i = 0;
    for (int k = 0; k < b.nk; k++)
        for (int r = 0; r < b.nr; r++)
            for (int c = 0; c < b.nc; c++, i++) {
                if (g[i] > grow2 || !(flag[i] & SHALLOW) ||
                    !in_zone(vol, f, lo, hi, b.c0 + c, b.r0 + r, b.k0 + k))
                    continue;
                size_t at = AT(c, r, k);
                ears[at] = flag[i] & BALLS ? KK_EAR_FLAT : bm[i] ? KK_EAR : KK_EAR_AIR;
                count += ears[at] == KK_EAR;
            }
#undef AT
out:
    free(g);
    free(flag);
    free(bm);
    return count;
}
