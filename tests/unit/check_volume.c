/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/check_volume.c - lib/volume/volume.c: slice order, the head
 * and face tests, and the cut, on analytic phantoms built here in memory
 * (an ellipsoid head with brow, nose, lips and a brain; a body cylinder;
 * a head with no face), in axial and sagittal slices; slabs too low for
 * a head; the ears on a ball with two flaps.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "volume/volume.h"

static bool ell(const double p[3], double cx, double cy, double cz, double a, double b, double c)
{
    double x = (p[0] - cx) / a, y = (p[1] - cy) / b, z = (p[2] - cz) / c;
    return x * x + y * y + z * z <= 1;
}

static bool brain(const double p[3])
{
    return ell(p, 0, 0, 20, 60, 80, 76) && !(p[1] < -25 && p[2] < 5);
}

enum { HEAD, FACELESS, BODY };

/* CT values (HU) of a phantom at patient position p. */
static float value(int kind, const double p[3])
{
    if (kind == BODY)
        return (p[0] / 170) * (p[0] / 170) + (p[1] / 110) * (p[1] / 110) <= 1 ? 40 : -1000;
    bool in = ell(p, 0, 0, -10, 75, 95, 120);
    if (kind == HEAD)
        in = in || ell(p, 0, -91, 14, 50, 6, 16) || ell(p, 0, -92, -28, 12, 22, 28) ||
             ell(p, 0, -87, -64, 24, 9, 5) || ell(p, 0, -87, -76, 22, 9, 5) ||
             ell(p, 0, -78, -100, 30, 14, 14);
    if (!in)
        return -1000;
    if (brain(p))
        return 35;
    return ell(p, 0, 0, -10, 69, 89, 114) && !ell(p, 0, 0, -10, 63, 83, 108) ? 1100 : 40;
}

/* n x n pixels of 250/n mm in each of 100 slices 2.5 mm apart, around
 * the origin. */
static void make_fine(kk_volume *v, int kind, bool sagittal, int n)
{
    memset(v, 0, sizeof *v);
    v->nx = v->ny = n;
    v->nz = 100;
    v->dc = v->dr = 250.0 / n;
    v->dz = 2.5;
    v->ct = true;
    double row[3] = { 1, 0, 0 }, col[3] = { 0, 1, 0 };
    if (sagittal) {
        double r2[3] = { 0, 1, 0 }, c2[3] = { 0, 0, -1 };
        memcpy(row, r2, sizeof row);
        memcpy(col, c2, sizeof col);
    }
    memcpy(v->row, row, sizeof row);
    memcpy(v->col, col, sizeof col);
    v->normal[0] = row[1] * col[2] - row[2] * col[1];
    v->normal[1] = row[2] * col[0] - row[0] * col[2];
    v->normal[2] = row[0] * col[1] - row[1] * col[0];
    for (int i = 0; i < 3; i++)
        v->origin[i] = -124 * (row[i] + col[i] + v->normal[i]);
    v->v = malloc(sizeof(float) * (size_t)n * n * 100);
    ck_assert_ptr_nonnull(v->v);
    size_t idx = 0;
    for (int k = 0; k < 100; k++)
        for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++) {
                double p[3];
                for (int i = 0; i < 3; i++)
                    p[i] = v->origin[i] + v->dc * (c * row[i] + r * col[i]) +
                           2.5 * k * v->normal[i];
                v->v[idx++] = value(kind, p);
            }
}

/* 100 x 100 x 100 voxels of 2.5 mm around the origin. */
static void make(kk_volume *v, int kind, bool sagittal)
{
    make_fine(v, kind, sagittal, 100);
}

START_TEST(test_order)
{
    double row[3] = { 1, 0, 0 }, col[3] = { 0, 0.8, -0.6 }; /* tilted */
    double n[3] = { 0, 0.6, 0.8 };
    double ipp[6][3];
    int perm[6] = { 3, 0, 5, 1, 4, 2 };
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 3; j++)
            ipp[i][j] = 10 + perm[i] * 1.5 * n[j];
    size_t order[6];
    double dz = 0;
    ck_assert_int_eq(kk_vol__order((const double(*)[3])ipp, 6, row, col, order, &dz), 0);
    ck_assert(fabs(dz - 1.5) < 1e-9);
    for (int k = 0; k < 6; k++)
        ck_assert_int_eq(perm[order[k]], k);
    /* a gap: not a volume */
    ipp[2][0] += 0;
    for (int j = 0; j < 3; j++)
        ipp[2][j] = 10 + 9 * 1.5 * n[j];
    ck_assert_int_eq(kk_vol__order((const double(*)[3])ipp, 6, row, col, order, &dz), -1);
    /* two slices at one place */
    ck_assert_int_eq(kk_vol__order((const double(*)[3])ipp, 1, row, col, order, &dz), -1);
}
END_TEST

static void check_head(bool sagittal)
{
    kk_volume v;
    make(&v, HEAD, sagittal);
    size_t n = 100 * 100 * 100;
    float *before = malloc(sizeof(float) * n);
    uint8_t *mask = malloc(n), *changed = malloc(n);
    memcpy(before, v.v, sizeof(float) * n);
    kk_vol_face f;
    ck_assert_int_eq(kk_vol__find_face(&v, &f, mask), 0);
    ck_assert_msg(f.head && f.face, "%s", f.why);
    ck_assert_msg(f.nose_z > -50 && f.nose_z < -15, "nose %.1f nasion %.1f", f.nose_z, f.nasion_z);
    ck_assert(fabs(f.nasion_z - 2) < 8);
    ck_assert(fabs(f.width - 150) < 35);
    size_t nch = kk_vol__deface(&v, &f, KK_DEFACE_REMOVE, mask, changed);
    ck_assert(nch > 1000);
    /* the brain is untouched, the nose tip and lips are gone */
    size_t in = 0, same = 0, idx = 0;
    bool nose_gone = false, lips_gone = false;
    for (int k = 0; k < 100; k++)
        for (int r = 0; r < 100; r++)
            for (int c = 0; c < 100; c++, idx++) {
                double p[3];
                for (int i = 0; i < 3; i++)
                    p[i] = v.origin[i] + 2.5 * (c * v.row[i] + r * v.col[i] + k * v.normal[i]);
                if (brain(p)) {
                    in++;
                    same += v.v[idx] == before[idx];
                }
                if (fabs(p[0]) < 2 && fabs(p[1] + 110) < 2 && fabs(p[2] + 28) < 2)
                    nose_gone = before[idx] > -500 && v.v[idx] == -1000;
                if (fabs(p[0]) < 2 && fabs(p[1] + 92) < 2 && fabs(p[2] + 64) < 2)
                    lips_gone = before[idx] > -500 && v.v[idx] == -1000;
            }
    ck_assert(in > 10000);
    ck_assert_uint_eq(same, in);
    ck_assert(nose_gone);
    ck_assert(lips_gone);
    free(before);
    free(mask);
    free(changed);
    free(v.v);
}

START_TEST(test_head_axial) { check_head(false); }
END_TEST

START_TEST(test_head_sagittal) { check_head(true); }
END_TEST

START_TEST(test_not_faces)
{
    kk_volume v;
    kk_vol_face f;
    make(&v, BODY, false);
    ck_assert_int_eq(kk_vol__find_face(&v, &f, NULL), 0);
    ck_assert(!f.head && !f.face);
    ck_assert_uint_eq(kk_vol__deface(&v, &f, KK_DEFACE_REMOVE, NULL, NULL), 0);
    free(v.v);
    make(&v, FACELESS, false);
    ck_assert_int_eq(kk_vol__find_face(&v, &f, NULL), 0);
    ck_assert(f.head);
    ck_assert_msg(!f.face, "a face on a plain ellipsoid");
    free(v.v);
}
END_TEST

/* Slices of 400 x 400 are first judged in 2 x 2 averaged voxels: a body
 * far wider than a head is rejected there (with an empty mask), a head
 * still goes on to the full look and shows its face. */
START_TEST(test_coarse_look)
{
    kk_volume v;
    kk_vol_face f;
    make_fine(&v, BODY, false, 400);
    size_t n = (size_t)400 * 400 * 100;
    uint8_t *mask = malloc(n);
    ck_assert_ptr_nonnull(mask);
    memset(mask, 7, n);
    ck_assert_int_eq(kk_vol__find_face(&v, &f, mask), 0);
    ck_assert(!f.head && !f.face);
    ck_assert_msg(strstr(f.why, "not shaped like a head") != NULL, "%s", f.why);
    ck_assert_msg(f.width > 240, "width %.1f", f.width); /* wider than the FOV */
    ck_assert_int_eq(mask[((size_t)50 * 400 + 200) * 400 + 200], 0); /* no mask made */
    free(v.v);
    make_fine(&v, HEAD, false, 400);
    ck_assert_int_eq(kk_vol__find_face(&v, &f, mask), 0);
    ck_assert_msg(f.head && f.face, "%s", f.why);
    ck_assert_msg(f.nose_z > -50 && f.nose_z < -15, "nose %.1f", f.nose_z);
    ck_assert(fabs(f.width - 150) < 35);
    ck_assert_int_eq(mask[((size_t)50 * 400 + 200) * 400 + 200], 1); /* the full look's mask */
    free(mask);
    free(v.v);
}
END_TEST

/* The coarse look built slice by slice (kk_vol__coarse_slice, SSE lanes
 * and a plain tail) is the same floats as the plain sum over each 4 x 4
 * block, row by row from 0, times 1/16: values of mixed magnitudes make
 * any other order of the additions round differently. 396 columns: 96
 * coarse voxels in lanes and 3 in the tail. And a coarse volume built so
 * is judged as find_face judges the full one. */
START_TEST(test_coarse_slices)
{
    kk_volume v;
    memset(&v, 0, sizeof v);
    v.nx = 396;
    v.ny = 388;
    v.nz = 1;
    float *slice = malloc((size_t)v.nx * v.ny * sizeof *slice);
    ck_assert_ptr_nonnull(slice);
    ck_assert(kk_vol__coarse_applies(&v));
    ck_assert_uint_eq(kk_vol__coarse_plane(&v), (size_t)99 * 97);
    unsigned r = 12345;
    for (size_t i = 0; i < (size_t)v.nx * v.ny; i++) {
        r = r * 1103515245u + 12345u;
        slice[i] = (float)((r >> 8) & 0xffff) * ((r & 1) ? 1e-3f : 1e3f) - 3e7f * (float)(r & 2);
    }
    float *got = malloc(kk_vol__coarse_plane(&v) * sizeof *got);
    ck_assert_ptr_nonnull(got);
    kk_vol__coarse_slice(&v, slice, got);
    for (int y = 0; y < v.ny / 4; y++)
        for (int x = 0; x < v.nx / 4; x++) {
            float want = 0;
            for (int rr = 0; rr < 4; rr++)
                for (int q = 0; q < 4; q++)
                    want += slice[(size_t)(4 * y + rr) * v.nx + 4 * x + q];
            want *= 1.0f / 16;
            float g = got[(size_t)y * (v.nx / 4) + x];
            ck_assert_msg(memcmp(&g, &want, sizeof g) == 0, "(%d,%d): %.9g, want %.9g", x, y,
                          (double)g, (double)want);
        }
    free(got);
    free(slice);
    /* a body far wider than a head: rejected from its coarse slices, as
     * find_face rejects the full volume; a head is left to the full look */
    for (int kind = BODY; kind >= HEAD; kind -= BODY - HEAD) {
        make_fine(&v, kind, false, 400);
        size_t cp = kk_vol__coarse_plane(&v), plane = (size_t)v.nx * v.ny;
        float *c = malloc(cp * v.nz * sizeof *c);
        ck_assert_ptr_nonnull(c);
        for (int k = 0; k < v.nz; k++)
            kk_vol__coarse_slice(&v, v.v + k * plane, c + k * cp);
        kk_vol_face a, b;
        memset(&a, 0, sizeof a);
        int rc = kk_vol__coarse_reject(&v, c, &a);
        ck_assert_int_eq(kk_vol__find_face(&v, &b, NULL), 0);
        ck_assert_int_eq(rc, kind == BODY ? 1 : 0);
        if (kind == BODY)
            ck_assert(memcmp(&a, &b, sizeof a) == 0);
        else
            ck_assert(b.head && b.face);
        free(c);
        free(v.v);
    }
}
END_TEST

/* A head needs 50 mm of height (the cranium is measured 30-70 mm below
 * the vertex over at least 20 mm): a lower slab is no head, told from its
 * geometry alone, and find_face says so with an empty mask. The height is
 * patient z, whichever way the slices lie. */
START_TEST(test_too_low_for_a_head)
{
    kk_volume v;
    make(&v, HEAD, false); /* 100 axial slices 2.5 mm apart: 247.5 mm */
    ck_assert(!kk_vol__too_low_for_a_head(&v));
    v.nz = 21; /* 50 mm */
    ck_assert(!kk_vol__too_low_for_a_head(&v));
    v.nz = 19; /* 45 mm */
    ck_assert(kk_vol__too_low_for_a_head(&v));
    uint8_t *mask = malloc((size_t)100 * 100 * 19);
    ck_assert_ptr_nonnull(mask);
    memset(mask, 7, (size_t)100 * 100 * 19);
    kk_vol_face f;
    ck_assert_int_eq(kk_vol__find_face(&v, &f, mask), 0);
    ck_assert(!f.head && !f.face);
    ck_assert_msg(strstr(f.why, "less than 2 cm") != NULL, "%s", f.why);
    for (size_t i = 0; i < (size_t)100 * 100 * 19; i++)
        ck_assert_int_eq(mask[i], 0);
    free(mask);
    free(v.v);
    /* sagittal: patient z runs down the 100 rows of 2.5 mm, so two slices
     * are high enough, and 19 rows are not */
    make(&v, HEAD, true);
    v.nz = 2;
    ck_assert(!kk_vol__too_low_for_a_head(&v));
    v.ny = 19;
    ck_assert(kk_vol__too_low_for_a_head(&v));
    free(v.v);
}
END_TEST

START_TEST(test_render)
{
    kk_volume v;
    make(&v, HEAD, false);
    size_t n = 100 * 100 * 100;
    uint8_t *mask = malloc(n), *img = malloc(200 * 200);
    kk_vol_face f;
    ck_assert_int_eq(kk_vol__find_face(&v, &f, mask), 0);
    kk_vol__render_front(&v, mask, 200, 200, 1.5, img);
    /* the head fills the middle, the corners are background */
    ck_assert_int_eq(img[0], 0);
    ck_assert_int_eq(img[200 * 200 - 1], 0);
    ck_assert(img[100 * 200 + 100] > 0);
    free(mask);
    free(img);
    free(v.v);
}
END_TEST

/* A ball of 75 mm (a head) with, when flaps, two plates 6 mm thick
 * sticking 20 mm out of its sides at ear level: a mask of 2 x 2 x 2.5 mm
 * voxels. */
static uint8_t *ball_with_flaps(kk_volume *v, bool flaps)
{
    memset(v, 0, sizeof *v);
    v->nx = v->ny = 110;
    v->nz = 88;
    v->dc = v->dr = 2;
    v->dz = 2.5;
    double row[3] = { 1, 0, 0 }, col[3] = { 0, 1, 0 }, nrm[3] = { 0, 0, 1 };
    memcpy(v->row, row, sizeof row);
    memcpy(v->col, col, sizeof col);
    memcpy(v->normal, nrm, sizeof nrm);
    v->origin[0] = v->origin[1] = -109;
    v->origin[2] = -108.75;
    uint8_t *m = malloc((size_t)v->nx * v->ny * v->nz);
    ck_assert_ptr_nonnull(m);
    size_t idx = 0;
    for (int k = 0; k < v->nz; k++)
        for (int r = 0; r < v->ny; r++)
            for (int c = 0; c < v->nx; c++, idx++) {
                double x = -109 + 2 * c, y = -109 + 2 * r, z = -108.75 + 2.5 * k;
                bool flap = flaps && fabs(x) > 60 && fabs(x) < 95 && fabs(y) < 3 && z > -30 &&
                            z < 20;
                m[idx] = x * x + y * y + z * z <= 75 * 75 || flap;
            }
    return m;
}

START_TEST(test_ears)
{
    kk_volume v;
    kk_vol_face f;
    memset(&f, 0, sizeof f);
    f.head = f.face = true;
    f.nasion_z = 10;
    f.nose_z = -30;
    f.width = 150;
    f.centre_x = 0;
    uint8_t *m = ball_with_flaps(&v, true);
    size_t n = (size_t)v.nx * v.ny * v.nz;
    uint8_t *ears = malloc(n);
    ck_assert_ptr_nonnull(ears);
    long count = kk_vol__find_ears(&v, &f, m, ears);
    size_t flap = 0, gone = 0, deep = 0, far = 0, idx = 0;
    for (int k = 0; k < v.nz; k++)
        for (int r = 0; r < v.ny; r++)
            for (int c = 0; c < v.nx; c++, idx++) {
                double x = -109 + 2 * c, y = -109 + 2 * r, z = -108.75 + 2.5 * k;
                double d = sqrt(x * x + y * y + z * z);
                ck_assert(ears[idx] != 1 || m[idx]);
                if (m[idx] && d > 76) {
                    flap++;
                    gone += ears[idx] == 1;
                }
                /* the ball: never deeper than 8 mm, never far from a flap */
                deep += ears[idx] == 1 && d < 75 - 9;
                far += ears[idx] && (fabs(y) > 16 || z < -45 || z > 35);
            }
    ck_assert_msg(flap > 500 && gone == flap, "%zu of %zu flap voxels found", gone, flap);
    ck_assert_uint_eq(deep, 0);
    ck_assert_uint_eq(far, 0);
    ck_assert(count >= (long)flap);
    free(m);
    /* a ball alone has no ears; a head without a face is not looked at */
    m = ball_with_flaps(&v, false);
    ck_assert_int_eq(kk_vol__find_ears(&v, &f, m, ears), 0);
    free(m);
    m = ball_with_flaps(&v, true);
    f.face = false;
    ck_assert_int_eq(kk_vol__find_ears(&v, &f, m, ears), 0);
    for (size_t i = 0; i < n; i++)
        ck_assert(!ears[i]);
    free(m);
    free(ears);
}
END_TEST

static Suite *volume_suite(void)
{
    Suite *s = suite_create("volume");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_order);
    tcase_add_test(tc, test_head_axial);
    tcase_add_test(tc, test_head_sagittal);
    tcase_add_test(tc, test_not_faces);
    tcase_add_test(tc, test_coarse_look);
    tcase_add_test(tc, test_coarse_slices);
    tcase_add_test(tc, test_too_low_for_a_head);
    tcase_add_test(tc, test_render);
    tcase_add_test(tc, test_ears);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(volume_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
