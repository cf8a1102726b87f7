/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/deid/release_chart.c - kk_release_write_chart(): the release's
 * class sizes before and after, as a grey PNG a reviewer reads at a
 * glance (issue 17). Two panels on one scale, left before, right after:
 * one bar per class size 1, 2, ... (the last bar: that size and above),
 * its height the number of patients in classes of that size. Bars of
 * classes smaller than k are hatched, a dashed line marks k, and small
 * digits give k, the last size and the tallest bar. Counts only: no value
 * and no identifier is drawn.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "deid/release_internal.h"
#include "pixel/volume_io.h"

enum { PANEL_W = 360, PANEL_H = 220, MARGIN = 24, GAP = 24, LABEL_H = 20 };
enum { WHITE = 255, INK = 0, BAR = 60, RISK = 150, GUIDE = 170 };

/* 3x5 digits, a row a byte (bit 2 = the left column) */
static const uint8_t digits[10][5] = {
    { 7, 5, 5, 5, 7 }, { 2, 6, 2, 2, 7 }, { 7, 1, 7, 4, 7 }, { 7, 1, 7, 1, 7 },
    { 5, 5, 7, 1, 1 }, { 7, 4, 7, 1, 7 }, { 7, 4, 7, 5, 7 }, { 7, 1, 1, 1, 1 },
    { 7, 5, 7, 5, 7 }, { 7, 5, 7, 1, 7 },
};
/* 'k' and '=' and '+' in the same cell */
static const uint8_t glyph_k[5] = { 4, 5, 6, 5, 5 };
static const uint8_t glyph_eq[5] = { 0, 7, 0, 7, 0 };
static const uint8_t glyph_plus[5] = { 0, 2, 7, 2, 0 };

typedef struct canvas {
    uint8_t *px;
    int w, h;
} canvas;

static void dot(canvas *c, int x, int y, uint8_t v)
{
    if (x >= 0 && y >= 0 && x < c->w && y < c->h)
        c->px[(size_t)y * (size_t)c->w + (size_t)x] = v;
}

static void rect(canvas *c, int x0, int y0, int x1, int y1, uint8_t v, bool hatch)
{
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            if (!hatch || ((x + y) % 4) < 2)
                dot(c, x, y, v);
}

static void glyph(canvas *c, const uint8_t g[5], int x, int y, int scale)
{
    for (int r = 0; r < 5; r++)
        for (int b = 0; b < 3; b++)
            if (g[r] & (4 >> b))
                rect(c, x + b * scale, y + r * scale, x + (b + 1) * scale, y + (r + 1) * scale,
                     INK, false);
}

/* Draw text of digits, 'k', '=' and '+' at (x, y); returns the width. */
static int text(canvas *c, const char *s, int x, int y, int scale)
{
    int x0 = x;
    for (; *s; s++, x += 4 * scale) {
        if (*s >= '0' && *s <= '9')
            glyph(c, digits[*s - '0'], x, y, scale);
        else if (*s == 'k')
            glyph(c, glyph_k, x, y, scale);
        else if (*s == '=')
            glyph(c, glyph_eq, x, y, scale);
        else if (*s == '+')
            glyph(c, glyph_plus, x, y, scale);
    }
    return x - x0;
}

/* patients[b]: patients in classes of size b + 1 (the last bucket: that
 * size and above) */
static void bucket(const size_t *size, const size_t *count, size_t n, size_t nb,
                   size_t *patients)
{
    memset(patients, 0, nb * sizeof *patients);
    for (size_t i = 0; i < n; i++) {
        size_t b = size[i] >= nb ? nb - 1 : size[i] - 1;
        patients[b] += size[i] * count[i];
    }
}

static void panel(canvas *c, int x0, const size_t *patients, size_t nb, size_t top, unsigned k)
{
    int y0 = MARGIN, base = MARGIN + PANEL_H;
    int bw = PANEL_W / (int)nb;
    for (size_t b = 0; b < nb; b++) {
        int h = top ? (int)((double)patients[b] / (double)top * (PANEL_H - 4) + 0.5) : 0;
        if (patients[b] && h < 1)
            h = 1; /* a class that exists is never invisible */
        bool risk = b + 1 < k;
        rect(c, x0 + (int)b * bw + 1, base - h, x0 + (int)(b + 1) * bw - 1, base,
             risk ? RISK : BAR, risk);
    }
    /* axes */
    rect(c, x0, base, x0 + PANEL_W, base + 1, INK, false);
    rect(c, x0, y0, x0 + 1, base, INK, false);
    /* k, dashed, at the left edge of size k's bar */
    if (k >= 1 && k <= nb) {
        int xk = x0 + (int)(k - 1) * bw;
        for (int y = y0; y < base; y++)
            if ((y / 4) % 2 == 0)
                dot(c, xk, y, GUIDE);
    }
    /* sizes 1, k and the last (with '+') under the axis */
    char s[32];
    text(c, "1", x0 + 1, base + 4, 2);
    if (k > 1 && k < nb) {
        snprintf(s, sizeof s, "%u", k);
        text(c, s, x0 + (int)(k - 1) * bw, base + 4, 2);
    }
    snprintf(s, sizeof s, "%zu+", nb);
    text(c, s, x0 + PANEL_W - (int)strlen(s) * 8, base + 4, 2);
}

kk_status kk_release_write_chart(const kk_release *r, kk_ctx *ctx, const char *png_path)
{
    const size_t *s0, *c0, *s1, *c1;
    size_t n0, n1;
    unsigned k;
    if (!png_path || !kk_release__histogram(r, false, &s0, &c0, &n0, &k) ||
        !kk_release__histogram(r, true, &s1, &c1, &n1, &k))
        return kk__fail(ctx, KK_EINVAL, "the release is not solved");
    /* sizes 1 .. 2k (at least 10, at most 60), the last bucket open */
    size_t nb = 2 * (size_t)k;
    if (nb < 10)
        nb = 10;
    if (nb > 60)
        nb = 60;
    size_t before[60], after[60], top = 0;
    bucket(s0, c0, n0, nb, before);
    bucket(s1, c1, n1, nb, after);
    for (size_t b = 0; b < nb; b++) {
        if (before[b] > top)
            top = before[b];
        if (after[b] > top)
            top = after[b];
    }
    canvas c = { NULL, 2 * PANEL_W + GAP + 2 * MARGIN, PANEL_H + 2 * MARGIN + LABEL_H };
    c.px = kk__calloc((size_t)c.w * (size_t)c.h, 1);
    if (!c.px)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    memset(c.px, WHITE, (size_t)c.w * (size_t)c.h);
    panel(&c, MARGIN, before, nb, top, k);
    panel(&c, MARGIN + PANEL_W + GAP, after, nb, top, k);
    char s[48];
    snprintf(s, sizeof s, "k=%u", k);
    text(&c, s, c.w / 2 - (int)strlen(s) * 6, 4, 3);
    snprintf(s, sizeof s, "%zu", top);
    text(&c, s, 4, MARGIN - 14, 2);
    kk_status st = kk_pixel__write_gray_png(ctx, png_path, c.px, c.w, c.h);
    kk_free(c.px);
    return st;
}
