/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/check_image.c - lib/pixel/image*: the pixel codec layer.
 *
 * Cases: every object of ../shared/corpus with Pixel Data decodes (or is
 * listed in `undecodable` with its reason), takes a black box, is encoded,
 * saved, reloaded and decoded again: the box is black as displayed; a
 * lossless input keeps its transfer syntax and every other sample; a lossy
 * input is written as each policy says. Synthetic images prove
 * clear_high_bits, the MONOCHROME1 inversion of gray8, and the views;
 * unsupported pixels give a clean error naming the file.
 * KK_IMAGE_KEEP=DIR keeps the written files for tests/e2e/t0410 (dcmdump,
 * pydicom); KK_IMAGE_ONLY=SUBSTRING runs the corpus case on matching
 * paths only. SHARED (default ../shared) locates the corpus.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "dicom/dicom.h"
#include "corpus.h"
#include "pixel/image_internal.h"

#define EXPLICIT_LE "1.2.840.10008.1.2.1"
#define JLS_LOSSLESS "1.2.840.10008.1.2.4.80"
#define JLS_NEAR "1.2.840.10008.1.2.4.81"

/* Objects with Pixel Data that kakou cannot decode, and why. The
 * corpus case fails if any other object fails to decode, or if one of
 * these starts to work (so the list stays true). */
static const struct {
    const char *path, *why;
} undecodable[] = {
    { "image/openrem__NM-NmIm-Siemens-s1-1.dcm", "empty" }, /* pixels stripped by the corpus */
    { "malformed/dwv__dwv-test_no-number-rows.dcm", "Rows" },
    { "malformed/fodicom__GH1146.dcm", "empty" },
    { "malformed/fodicom__GH340.dcm", "BitsAllocated" }, /* 12-bit packed ACR-NEMA */
    { "malformed/orthanc__2026-05-26-oob-monochrome-65535.dcm", "MiB" },
    { "malformed/pydicom__JPEG2000-embedded-sequence-delimiter.dcm", "cannot be decoded" }, /* fake */
    { "malformed/pydicom__MR_truncated.dcm", "shorter" },
    { "malformed/pydicom__meta_missing_tsyntax.dcm", "Rows" }, /* no image module */
    { "malformed/pydicomdata__emri_small_jpeg_2k_lossless_too_short.dcm", "JPEG 2000" },
    { "private/pydicom__nested_priv_SQ.dcm", "Rows" },
    { "sr_rt/pydicomdata__liver_rle.dcm", "1-bit compressed" },
    { "ts/libdicom__encap_defined_bot_2_to_2.dcm", "no JPEG 2000 codestream" }, /* BOT test, not J2K */
    { "ts/pydicomdata__liver_nonbyte_aligned_deflate.dcm", "transfer syntax" }, /* deflated frames */
    { "ts/pydicomdata__HTJ2KLossless_08_RGB.dcm", "transfer syntax" },         /* HTJ2K, DCMTK 3.6.7 */
    { "ts/pydicomdata__HTJ2K_08_RGB.dcm", "transfer syntax" },
};

static kk_test_corpus cp;


static const char *known_reason(const char *rel)
{
    for (size_t i = 0; i < sizeof undecodable / sizeof undecodable[0]; i++)
        if (strcmp(undecodable[i].path, rel) == 0)
            return undecodable[i].why;
    return NULL;
}

static bool has_pixels(kk_dcm *d)
{
    kk_dcm_item *ds = kk_dcm__dataset(d);
    return kk_dcm__find(ds, KK_TAG(0x7FE0, 0x0010)) || kk_dcm__find(ds, KK_TAG(0x7FE0, 0x0008)) ||
           kk_dcm__find(ds, KK_TAG(0x7FE0, 0x0009));
}

/* The box every corpus object gets: the middle half, a quarter high. */
static void box_of(const kk_image *img, int *x, int *y, int *w, int *h)
{
    *x = img->cols / 4;
    *y = img->rows / 4;
    *w = img->cols / 2 > 0 ? img->cols / 2 : 1;
    *h = img->rows / 4 > 0 ? img->rows / 4 : 1;
}

static bool in_box(int c, int r, int x, int y, int w, int h)
{
    return c >= x && c < x + w && r >= y && r < y + h;
}

/* Black as displayed for sample s of img, as stored values. */
static int64_t black_of(const kk_image *img, int s, int64_t palette_index)
{
    int64_t lo, hi;
    kk_image__range(img, &lo, &hi);
    switch (img->pi) {
    case KK_PI_MONO1: return hi;
    case KK_PI_MONO2: return lo;
    case KK_PI_RGB: return img->is_signed ? lo : 0;
    case KK_PI_YBR_FULL: return s == 0 ? 0 : (int64_t)1 << (img->bits_stored - 1);
    case KK_PI_PALETTE: return palette_index;
    }
    return 0;
}

static void flat_name(const char *rel, char *out, size_t n)
{
    snprintf(out, n, "%s", rel);
    for (char *p = out; *p; p++)
        if (*p == '/')
            *p = '+';
}

/* Encode painted under policy, save, reload, decode, compare with the
 * painted pixels `want`. */
static void round_trip(const char *rel, const char *path, kk_lossy_policy policy)
{
    kk_ctx *ctx = kk_ctx_new();
    kk_dcm *d = NULL;
    kk_image *img = NULL, *back = NULL;
    ck_assert_int_eq(kk_dcm__load(&d, ctx, path, 4096), KK_OK);
    char ts_in[80];
    snprintf(ts_in, sizeof ts_in, "%s", kk_dcm__transfer_syntax(d));
    ck_assert_msg(kk_image__decode(&img, ctx, d) == KK_OK, "%s: %s", rel, kk_error_message(ctx));
    int x, y, w, h;
    box_of(img, &x, &y, &w, &h);
    kk_image__fill(img, -1, x, y, w, h);
    int64_t pal = img->pi == KK_PI_PALETTE ? kk_image__sample(img, 0, x, y, 0) : 0;
    bool lossy = kk_image__input_lossy(img);
    ck_assert_msg(kk_image__encode(img, ctx, d, policy, 95) == KK_OK, "%s: %s", rel,
                  kk_error_message(ctx));

    char out[1400], flat[600];
    const char *keep = getenv("KK_IMAGE_KEEP");
    flat_name(rel, flat, sizeof flat);
    if (keep && *keep)
        snprintf(out, sizeof out, "%s/%s.%s.dcm", keep, flat,
                 policy == KK_LOSSY_REENCODE ? "reencode" : "lossless");
    else
        snprintf(out, sizeof out, "/tmp/kk-check-image.%d.dcm", (int)getpid());
    ck_assert_msg(kk_dcm__save(d, ctx, out) == KK_OK, "%s: %s", rel, kk_error_message(ctx));
    kk_dcm__free(d);
    d = NULL;

    ck_assert_int_eq(kk_dcm__load(&d, ctx, out, 4096), KK_OK);
    const char *ts_out = kk_dcm__transfer_syntax(d);
    if (!lossy)
        ck_assert_msg(strcmp(ts_out, ts_in) == 0, "%s: written as %s", rel, ts_out);
    else if (policy == KK_LOSSY_TO_LOSSLESS)
        ck_assert_str_eq(ts_out, EXPLICIT_LE);
    else /* or lossless JPEG-LS where DCMTK cannot do near-lossless */
        ck_assert_msg(strcmp(ts_out, ts_in) == 0 ||
                          (strcmp(ts_in, JLS_NEAR) == 0 && strcmp(ts_out, JLS_LOSSLESS) == 0),
                      "%s: re-encoded as %s", rel, ts_out);
    ck_assert_msg(kk_image__decode(&back, ctx, d) == KK_OK, "%s: %s", rel, kk_error_message(ctx));
    ck_assert_int_eq(back->frames, img->frames);
    ck_assert_int_eq(back->rows, img->rows);
    ck_assert_int_eq(back->cols, img->cols);
    ck_assert_int_eq(back->spp, img->spp);
    ck_assert_int_eq(back->pi, img->pi);

    bool exact = !lossy || policy == KK_LOSSY_TO_LOSSLESS;
    int64_t lo, hi;
    kk_image__range(back, &lo, &hi);
    double tol = exact ? 0 : 0.12 * (double)(hi - lo); /* lossy ringing near edges */
    const int margin = exact ? 0 : 8;
    size_t bad_outside = 0;
    for (int f = 0; f < img->frames; f++)
        for (int r = 0; r < img->rows; r++)
            for (int c = 0; c < img->cols; c++)
                for (int s = 0; s < img->spp; s++) {
                    int64_t v = kk_image__sample(back, f, c, r, s);
                    if (in_box(c, r, x + margin, y + margin, w - 2 * margin, h - 2 * margin)) {
                        int64_t b = black_of(back, s, pal);
                        double dv = (double)(v > b ? v - b : b - v);
                        ck_assert_msg(dv <= tol, "%s: box not black at frame %d (%d,%d)", rel,
                                      f + 1, c, r);
                    } else if (exact && v != kk_image__sample(img, f, c, r, s)) {
                        bad_outside++;
                    }
                }
    ck_assert_msg(bad_outside == 0, "%s: %zu samples changed outside the box", rel, bad_outside);
    kk_image__free(img);
    kk_image__free(back);
    kk_dcm__free(d);
    kk_ctx_free(ctx);
    if (!(keep && *keep))
        unlink(out);
}

START_TEST(corpus_round_trip)
{
    const char *rel = cp.files[_i];
    char path[1700];
    snprintf(path, sizeof path, "%s/%s", cp.dir, rel);
    kk_ctx *ctx = kk_ctx_new();
    kk_dcm *d = NULL;
    const char *known = known_reason(rel);
    const char *only = getenv("KK_IMAGE_ONLY"); /* a substring, for debugging */
    if (only && *only && !strstr(rel, only))
        return;
    if (kk_dcm__load(&d, ctx, path, 4096) != KK_OK) {
        /* DCMTK refuses it (malformed/, some ts/): tests/e2e cover that */
        printf("%s: not loadable: %s\n", rel, kk_error_message(ctx));
        kk_ctx_free(ctx);
        return;
    }
    kk_image *img = NULL;
    kk_status st = kk_image__decode(&img, ctx, d);
    bool pixels = has_pixels(d) || kk_dcm__pixels_carried_raw(d);
    kk_dcm__free(d);
    if (!pixels) {
        ck_assert_int_eq(st, KK_EUNSUPPORTED);
        ck_assert_msg(strstr(kk_error_message(ctx), "Pixel Data") != NULL, "%s", kk_error_message(ctx));
        ck_assert_ptr_nonnull(strstr(kk_error_message(ctx), path));
        kk_ctx_free(ctx);
        return;
    }
    if (known) {
        ck_assert_msg(st != KK_OK, "%s now decodes: take it off the undecodable list", rel);
        ck_assert_msg(strstr(kk_error_message(ctx), known) != NULL, "%s: %s", rel,
                      kk_error_message(ctx));
        ck_assert_ptr_nonnull(strstr(kk_error_message(ctx), path));
        printf("%s: undecodable: %s\n", rel, kk_error_message(ctx));
        kk_ctx_free(ctx);
        return;
    }
    ck_assert_msg(st == KK_OK, "%s: %s", rel, kk_error_message(ctx));
    bool lossy = kk_image__input_lossy(img);
    kk_image__free(img);
    kk_ctx_free(ctx);
    round_trip(rel, path, KK_LOSSY_TO_LOSSLESS);
    if (lossy)
        round_trip(rel, path, KK_LOSSY_REENCODE);
}
END_TEST

/* --- synthetic ------------------------------------------------------- */

static kk_image *synthetic(kk_pi pi, int rows, int cols, int bytes, int bits_stored, bool is_signed)
{
    kk_image *img = kk__calloc(1, sizeof *img);
    img->path = kk__strdup("synthetic.dcm");
    img->frames = 1;
    img->rows = rows;
    img->cols = cols;
    img->spp = (pi == KK_PI_RGB || pi == KK_PI_YBR_FULL) ? 3 : 1;
    img->bytes = bytes;
    img->bits_alloc = bytes * 8;
    img->bits_stored = bits_stored;
    img->high_bit = bits_stored - 1;
    img->is_signed = is_signed;
    img->pi = pi;
    img->nsamples = (size_t)rows * (size_t)cols * (size_t)img->spp;
    img->data = kk__calloc(img->nsamples, (size_t)bytes);
    return img;
}

START_TEST(clear_high_bits_12_of_16)
{
    kk_image *img = synthetic(KK_PI_MONO2, 4, 4, 2, 12, false);
    uint16_t *px = (uint16_t *)(void *)img->data;
    for (int i = 0; i < 16; i++)
        px[i] = (uint16_t)(i * 100);
    px[3] |= 0x1000; /* an overlay bit, PS3.5 8.1.2 */
    px[7] |= 0x8000;
    px[9] |= 0xF000;
    ck_assert_uint_eq(kk_image__clear_high_bits(img), 3);
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq(px[i], i * 100);
    ck_assert_uint_eq(kk_image__clear_high_bits(img), 0);
    kk_image__free(img);

    /* signed: sign extension and zeros above HighBit are both clean */
    img = synthetic(KK_PI_MONO2, 1, 4, 2, 12, true);
    px = (uint16_t *)(void *)img->data;
    px[0] = 0xFFFF; /* -1, sign-extended */
    px[1] = 0x0FFF; /* -1, not extended */
    px[2] = 0x2005; /* 5 with an overlay bit */
    px[3] = 0x0800 | 0x4000; /* -2048 with an overlay bit */
    ck_assert_uint_eq(kk_image__clear_high_bits(img), 2);
    ck_assert_uint_eq(px[2], 5);
    ck_assert_uint_eq(px[3], 0xF800);
    ck_assert_int_eq(kk_image__sample(img, 0, 1, 0, 0), -1);
    kk_image__free(img);

    /* HighBit 15 of BitsStored 12: the four bits below LowBit go */
    img = synthetic(KK_PI_MONO2, 1, 3, 2, 12, false);
    img->high_bit = 15;
    px = (uint16_t *)(void *)img->data;
    px[0] = 0xABC0;
    px[1] = 0xABC5;
    px[2] = 0x000F;
    ck_assert_uint_eq(kk_image__clear_high_bits(img), 2);
    ck_assert_uint_eq(px[0], 0xABC0);
    ck_assert_uint_eq(px[1], 0xABC0);
    ck_assert_uint_eq(px[2], 0);
    kk_image__free(img);
}
END_TEST

/* The check for bits to clear runs in lanes (8 with SSE2) and then one
 * by one: a stray bit in one lane only, or in the tail only, is still
 * found; signed samples that carry their sign alone or its whole
 * extension (-1 as 0x0FFF and as 0xFFFF, in lanes) are clean. */
START_TEST(clear_high_bits_in_a_lane_or_the_tail)
{
    const int where[] = { 5, 15, 36 }; /* lanes 5 and 15, the tail of 37 */
    for (int sgn = 0; sgn < 2; sgn++)
        for (size_t k = 0; k < sizeof where / sizeof where[0]; k++) {
            kk_image *img = synthetic(KK_PI_MONO2, 1, 37, 2, 12, sgn);
            uint16_t *px = (uint16_t *)(void *)img->data;
            for (int i = 0; i < 37; i++)
                px[i] = (uint16_t)(i * 50);
            if (sgn) {
                px[2] = 0x0FFF;
                px[11] = 0xFFFF;
                px[20] = 0xF800;
            }
            px[where[k]] |= 0x2000;
            ck_assert_msg(kk_image__clear_high_bits(img) == 1, "signed %d, sample %d", sgn,
                          where[k]);
            ck_assert_uint_eq(px[where[k]], (uint16_t)(where[k] * 50));
            kk_image__free(img);
        }
}
END_TEST

/* 16-bit values are counted in four tables in turn and summed: on a ramp
 * (every value once, no multiple of four long) the window is the 0.5th
 * to 99.5th percentile of all of them, so the view rises from black to
 * white through mid-grey, as it would counted in one table. */
START_TEST(gray8_window_of_a_ramp)
{
    int n = 4003;
    kk_image *img = synthetic(KK_PI_MONO2, 1, n, 2, 16, false);
    uint16_t *px = (uint16_t *)(void *)img->data;
    for (int i = 0; i < n; i++)
        px[i] = (uint16_t)(30000 + i);
    uint8_t *g = malloc((size_t)n);
    ck_assert_ptr_nonnull(g);
    kk_image_window w;
    ck_assert_int_eq(kk_image__gray8_window(img, NULL, 0, g, &w), KK_OK);
    /* percentiles of n values: ranks 20 and 3982 */
    ck_assert_int_eq(w.lo, 30020);
    ck_assert_int_eq(w.hi, 33982);
    ck_assert_int_eq(w.vmin, 30000);
    ck_assert_int_eq(w.vmax, 30000 + n - 1);
    ck_assert_uint_eq(g[0], 0);
    ck_assert_uint_eq(g[n - 1], 255);
    ck_assert_uint_ge(g[n / 2], 126);
    ck_assert_uint_le(g[n / 2], 129);
    free(g);
    kk_image__free(img);
}
END_TEST

/* The view's range of raw values is taken in 16 lanes at a time and the
 * rest one by one: the extremes of a frame whose size is no multiple of
 * 16, one in the last (odd) sample and one in the first, over the whole
 * 16-bit range, signed and unsigned, come out black and white. */
START_TEST(gray8_extremes_in_every_lane)
{
    for (int sgn = 0; sgn < 2; sgn++) {
        kk_image *img = synthetic(KK_PI_MONO2, 7, 5, 2, 16, sgn);
        uint16_t *px = (uint16_t *)(void *)img->data;
        for (int i = 0; i < 35; i++)
            px[i] = (uint16_t)(sgn ? 100 * i - 1700 : 1000 + 100 * i);
        px[0] = sgn ? 0x7FFF : 0xFFFF;  /* the largest value */
        px[34] = sgn ? 0x8000 : 0x0000; /* the smallest, in the tail */
        px[17] = sgn ? 0x7FFE : 0xFFFE; /* in a lane of the first 32 */
        uint8_t g[35];
        ck_assert_int_eq(kk_image__gray8(img, NULL, 0, g), KK_OK);
        ck_assert_uint_eq(g[0], 255);
        ck_assert_uint_eq(g[34], 0);
        ck_assert_uint_ge(g[17], 254);
        /* the rest rise with their values, between the two */
        for (int i = 1; i < 33; i++)
            if (i != 16 && i != 17)
                ck_assert_msg(g[i] <= g[i + 1] && g[i] < 255, "sample %d: %u", i, g[i]);
        kk_image__free(img);
    }
}
END_TEST

START_TEST(gray8_monochrome1_inverted)
{
    kk_image *img = synthetic(KK_PI_MONO2, 10, 100, 2, 12, false);
    uint16_t *px = (uint16_t *)(void *)img->data;
    for (int r = 0; r < 10; r++)
        for (int c = 0; c < 100; c++)
            px[r * 100 + c] = (uint16_t)(c * 40);
    uint8_t g2[1000], g1[1000];
    ck_assert_int_eq(kk_image__gray8(img, NULL, 0, g2), KK_OK);
    img->pi = KK_PI_MONO1;
    ck_assert_int_eq(kk_image__gray8(img, NULL, 0, g1), KK_OK);
    ck_assert_uint_eq(g2[0], 0);
    ck_assert_uint_eq(g2[99], 255);
    for (int i = 0; i < 1000; i++)
        ck_assert_uint_eq(g1[i], 255 - g2[i]);
    /* black as displayed for MONOCHROME1 is the largest value */
    kk_image__fill(img, 0, 0, 0, 5, 5);
    ck_assert_int_eq(kk_image__sample(img, 0, 0, 0, 0), 4095);
    ck_assert_int_eq(kk_image__sample(img, 0, 5, 0, 0), 200);
    ck_assert_int_eq(kk_image__gray8(img, NULL, 1, g1), KK_EINVAL);
    kk_image__free(img);
}
END_TEST

START_TEST(gray8_monochrome1_corpus)
{
    /* highdicom's DX is MONOCHROME1: dark in gray8 where stored values are high */
    char path[1200];
    snprintf(path, sizeof path, "%s/image/highdicom__dx_image.dcm", cp.dir);
    kk_ctx *ctx = kk_ctx_new();
    kk_dcm *d = NULL;
    kk_image *img = NULL;
    ck_assert_int_eq(kk_dcm__load(&d, ctx, path, 4096), KK_OK);
    ck_assert_int_eq(kk_image__decode(&img, ctx, d), KK_OK);
    ck_assert_str_eq(kk_image__photometric(img), "MONOCHROME1");
    size_t n = (size_t)img->rows * (size_t)img->cols;
    uint8_t *g = malloc(n), *rgb = malloc(3 * n);
    ck_assert_int_eq(kk_image__gray8(img, ctx, 0, g), KK_OK);
    ck_assert_int_eq(kk_image__rgb8(img, ctx, 0, rgb), KK_OK);
    size_t imax = 0, imin = 0;
    for (size_t i = 0; i < n; i++) {
        if (kk_image__value(img, i) > kk_image__value(img, imax))
            imax = i;
        if (kk_image__value(img, i) < kk_image__value(img, imin))
            imin = i;
        ck_assert_uint_eq(rgb[3 * i], g[i]);
    }
    ck_assert_uint_eq(g[imax], 0);
    ck_assert_uint_eq(g[imin], 255);
    free(g);
    free(rgb);
    kk_image__free(img);
    kk_dcm__free(d);
    kk_ctx_free(ctx);
}
END_TEST

START_TEST(views_colour_and_palette)
{
    kk_image *img = synthetic(KK_PI_RGB, 1, 2, 1, 8, false);
    uint8_t px[6] = { 255, 0, 0, 10, 20, 30 }, g[2], rgb[9];
    memcpy(img->data, px, 6);
    ck_assert_int_eq(kk_image__gray8(img, NULL, 0, g), KK_OK);
    ck_assert_uint_eq(g[0], 76); /* 0.299 * 255 */
    ck_assert_int_eq(kk_image__rgb8(img, NULL, 0, rgb), KK_OK);
    ck_assert_mem_eq(rgb, px, 6);
    kk_image__fill(img, 0, 1, 0, 9, 9);
    ck_assert_int_eq(kk_image__sample(img, 0, 1, 0, 2), 0);
    ck_assert_int_eq(kk_image__sample(img, 0, 0, 0, 0), 255);
    img->pi = KK_PI_YBR_FULL;
    kk_image__fill(img, -1, 0, 0, 1, 1);
    ck_assert_int_eq(kk_image__sample(img, 0, 0, 0, 0), 0);
    ck_assert_int_eq(kk_image__sample(img, 0, 0, 0, 1), 128);
    ck_assert_int_eq(kk_image__rgb8(img, NULL, 0, rgb), KK_OK);
    ck_assert_uint_eq(rgb[0], 0);
    kk_image__free(img);

    img = synthetic(KK_PI_PALETTE, 1, 3, 1, 8, false);
    img->lut_n = 3;
    img->lut_first = 1;
    uint16_t r[3] = { 0xFFFF, 0x1000, 0x8000 }, gg[3] = { 0xFFFF, 0x0800, 0 }, b[3] = { 0xFFFF, 0, 0 };
    uint16_t *t[3] = { r, gg, b };
    for (int k = 0; k < 3; k++) {
        img->lut[k] = kk__malloc(sizeof r);
        memcpy(img->lut[k], t[k], sizeof r);
    }
    img->data[0] = 1;
    img->data[1] = 3;
    img->data[2] = 0; /* below the first mapped value: entry 0 */
    ck_assert_int_eq(kk_image__rgb8(img, NULL, 0, rgb), KK_OK);
    ck_assert_uint_eq(rgb[0], 255);
    ck_assert_uint_eq(rgb[3], 0x80);
    ck_assert_uint_eq(rgb[6], 255);
    kk_image__fill(img, 0, 0, 0, 3, 1);
    ck_assert_int_eq(kk_image__sample(img, 0, 0, 0, 0), 2); /* nearest black */
    kk_image__free(img);
}
END_TEST

START_TEST(unsupported_is_clean)
{
    kk_ctx *ctx = kk_ctx_new();
    kk_dcm *d = NULL;
    kk_image *img = NULL;
    char path[1200];
    snprintf(path, sizeof path, "%s/ts/pydicomdata__HTJ2K_08_RGB.dcm", cp.dir);
    ck_assert_int_eq(kk_dcm__load(&d, ctx, path, 4096), KK_OK);
    ck_assert_int_eq(kk_image__decode(&img, ctx, d), KK_EUNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(kk_error_message(ctx), path));
    kk_dcm__free(d);
    kk_image__free(NULL);
    kk_ctx_free(ctx);
}
END_TEST

static Suite *image_suite(void)
{
    Suite *s = suite_create("image");
    TCase *tc = tcase_create("synthetic");
    tcase_add_test(tc, clear_high_bits_12_of_16);
    tcase_add_test(tc, clear_high_bits_in_a_lane_or_the_tail);
    tcase_add_test(tc, gray8_window_of_a_ramp);
    tcase_add_test(tc, gray8_extremes_in_every_lane);
    tcase_add_test(tc, gray8_monochrome1_inverted);
    tcase_add_test(tc, views_colour_and_palette);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, unsupported_is_clean);
    tcase_add_test(tc, gray8_monochrome1_corpus);
    suite_add_tcase(s, tc);
    tc = tcase_create("corpus");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, corpus_round_trip, 0, cp.nfiles);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    kk_test_corpus_load(&cp);
    if (cp.nfiles == 0) {
        fprintf(stderr, "check_image: no corpus at %s (set SHARED)\n", cp.dir);
        return EXIT_FAILURE;
    }
    SRunner *sr = srunner_create(image_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    kk_test_corpus_free(&cp);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
