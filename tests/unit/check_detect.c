/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/check_detect.c - lib/pixel/detect_opencv.cc's pieces that can
 * be held to a definition: the presence stage's 2x2 pooling, vectorised,
 * against the plain maximum and minimum of each block; the geometry of a
 * line of crisp glyphs (its box is their bounding box, its glyph height
 * theirs). The whole search is proved on images by check_textfind and
 * the end-to-end tests.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pixel/detect.h"

static uint8_t max4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    uint8_t m = a > b ? a : b, n = c > d ? c : d;
    return m > n ? m : n;
}

static uint8_t min4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    uint8_t m = a < b ? a : b, n = c < d ? c : d;
    return m < n ? m : n;
}

/* Widths around the 32-pixel vector step and its tail, odd and even, and
 * odd heights (the last row pools with itself); every byte value. */
START_TEST(pool2_is_the_max_and_min_of_each_block)
{
    const int widths[] = { 1, 2, 3, 15, 16, 31, 32, 33, 34, 63, 64, 65, 97, 512 };
    const int heights[] = { 1, 2, 3, 8 };
    unsigned seed = 7;
    for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++)
        for (size_t hi = 0; hi < sizeof heights / sizeof heights[0]; hi++) {
            int w = widths[wi], h = heights[hi], w2 = (w + 1) / 2, h2 = (h + 1) / 2;
            uint8_t *g = malloc((size_t)w * h), *mx = malloc((size_t)w2 * h2),
                    *mn = malloc((size_t)w2 * h2);
            ck_assert(g && mx && mn);
            for (int i = 0; i < w * h; i++)
                g[i] = (uint8_t)(rand_r(&seed) >> 7);
            g[0] = 0;
            g[w * h - 1] = 255;
            kk_detect__pool2(g, w, h, mx, mn);
            for (int y = 0; y < h2; y++)
                for (int x = 0; x < w2; x++) {
                    int x1 = 2 * x + 1 < w ? 2 * x + 1 : 2 * x;
                    int y1 = 2 * y + 1 < h ? 2 * y + 1 : 2 * y;
                    uint8_t a = g[2 * y * w + 2 * x], b = g[2 * y * w + x1];
                    uint8_t c = g[y1 * w + 2 * x], d = g[y1 * w + x1];
                    ck_assert_msg(mx[y * w2 + x] == max4(a, b, c, d) &&
                                      mn[y * w2 + x] == min4(a, b, c, d),
                                  "%dx%d at (%d,%d): %u/%u, want %u/%u", w, h, x, y,
                                  mx[y * w2 + x], mn[y * w2 + x], max4(a, b, c, d),
                                  min4(a, b, c, d));
                }
            free(g);
            free(mx);
            free(mn);
        }
}
END_TEST

/* Rows of bars, light on black: the light line found is exactly the bars'
 * bounding box, of their height and count, and the presence stage sends
 * a region holding it to the detector. */
START_TEST(line_box_is_the_glyphs_bounding_box)
{
    static const struct {
        int x0, y0, bw, bh, gap, n;
    } rows[] = { { 8, 14, 5, 12, 6, 7 }, { 21, 33, 4, 9, 5, 5 }, { 3, 60, 7, 20, 8, 4 } };
    enum { W = 120, H = 96 };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        static uint8_t g[W * H];
        for (int i = 0; i < W * H; i++)
            g[i] = 0;
        for (int k = 0; k < rows[r].n; k++)
            for (int y = rows[r].y0; y < rows[r].y0 + rows[r].bh; y++)
                for (int x = 0; x < rows[r].bw; x++)
                    g[y * W + rows[r].x0 + k * (rows[r].bw + rows[r].gap) + x] = 255;
        int want_w = rows[r].n * rows[r].bw + (rows[r].n - 1) * rows[r].gap;
        kk_ctx *ctx = kk_ctx_new();
        kk_detect_line *l = NULL;
        size_t n = 0, found = 0;
        ck_assert_int_eq(kk_detect__lines(ctx, g, W, H, &l, &n), KK_OK);
        for (size_t i = 0; i < n; i++) {
            if (l[i].polarity != 1)
                continue;
            found++;
            ck_assert_msg(l[i].x == rows[r].x0 && l[i].y == rows[r].y0 && l[i].w == want_w &&
                              l[i].h == rows[r].bh,
                          "row %zu: line %d,%d %dx%d, want %d,%d %dx%d", r, l[i].x, l[i].y,
                          l[i].w, l[i].h, rows[r].x0, rows[r].y0, want_w, rows[r].bh);
            ck_assert_int_eq(l[i].glyph_h, rows[r].bh);
            ck_assert_int_eq(l[i].ncomp, rows[r].n);
        }
        ck_assert_uint_eq(found, 1);
        kk_detect_rect *reg = NULL, *cols = NULL;
        size_t nreg = 0, ncols = 0, holding = 0;
        ck_assert_int_eq(kk_detect__presence(ctx, g, W, H, false, &reg, &nreg, &cols, &ncols), KK_OK);
        for (size_t i = 0; i < nreg; i++)
            holding += reg[i].x <= rows[r].x0 && reg[i].y <= rows[r].y0 &&
                       reg[i].x + reg[i].w >= rows[r].x0 + want_w &&
                       reg[i].y + reg[i].h >= rows[r].y0 + rows[r].bh;
        ck_assert_uint_eq(holding, 1);
        free(l);
        free(reg);
        free(cols);
        kk_ctx_free(ctx);
    }
}
END_TEST

/* A row of small dense glyphs (9 px kanji) pools into one bar with a
 * few holes: the presence stage still sends it to the detector (seed 36,
 * us06: 東京中央病院 at 9 px filled 83% of its pooled bar, which was taken
 * for a solid bar, not text, and the output claimed clean with it). */
START_TEST(presence_keeps_small_dense_text)
{
    enum { W = 160, H = 48, X0 = 40, Y0 = 20, BW = 60, BH = 9 };
    static uint8_t g[W * H];
    memset(g, 0, sizeof g);
    for (int y = Y0; y < Y0 + BH; y++)
        for (int x = X0; x < X0 + BW; x++)
            g[y * W + x] = 230;
    /* holes of 2x2 (one pooled cell each) in pooled rows 1 and 3, every
     * third column: 20 of 150 cells, the bar 87% full */
    for (int py = 1; py <= 3; py += 2)
        for (int px = 1; px < BW / 2; px += 3)
            for (int dy = 0; dy < 2; dy++)
                for (int dx = 0; dx < 2; dx++)
                    g[(Y0 + 2 * py + dy) * W + X0 + 2 * px + dx] = 0;
    kk_ctx *ctx = kk_ctx_new();
    kk_detect_rect *reg = NULL;
    size_t nreg = 0, holding = 0;
    ck_assert_int_eq(kk_detect__presence(ctx, g, W, H, false, &reg, &nreg, NULL, NULL), KK_OK);
    for (size_t i = 0; i < nreg; i++)
        holding += reg[i].x <= X0 && reg[i].y <= Y0 && reg[i].x + reg[i].w >= X0 + BW &&
                   reg[i].y + reg[i].h >= Y0 + BH;
    ck_assert_uint_eq(holding, 1);
    free(reg);
    kk_ctx_free(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("detect");
    TCase *tc = tcase_create("pool2");
    tcase_add_test(tc, pool2_is_the_max_and_min_of_each_block);
    suite_add_tcase(s, tc);
    tc = tcase_create("lines");
    tcase_add_test(tc, line_box_is_the_glyphs_bounding_box);
    tcase_add_test(tc, presence_keeps_small_dense_text);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
