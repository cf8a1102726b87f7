/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/check_textfind.c - lib/pixel/textfind.c on the synthetic
 * burned-in set (issue 4 acceptance criteria).
 *
 * The sets (seeds 4 and 7 by default) are generated at test time by
 * tests/tools/make_burned.py into temporary folders (PGM frames,
 * per-pixel class masks, truth.txt). Proves, for each set on its own, in
 * mode ALL and in mode PHI:
 *   - text-pixel recall >= 0.99 for identifier text over the set (glyph
 *     pixels of names, IDs, dates, accession numbers, institutions
 *     covered by the returned boxes), and >= 0.90 in every frame (the
 *     worst frame, not an aggregate);
 *   - at most 1.5% of a no-text image is redacted;
 *   - at most 25% of a frame with text is redacted outside its text
 *     boxes (a precision bound: boxes grown over the whole frame fail
 *     it; seed 4 measures 11% on us_small, where a bright tissue arc
 *     between two rows of small text is painted: a known miss);
 *   - technical tokens are spared in mode ALL (most of their pixels).
 * Measured numbers and frames per second are printed to the log.
 * Environment: PYTHON (default /usr/bin/python3), KK_BURNED_KEEP=1 keeps
 * the generated folder, KK_BURNED_VERBOSE=1 prints each frame's numbers,
 * KK_BURNED_ONLY=STEM runs the frames whose name contains STEM,
 * KK_BURNED_SEED="N M..." generates other sets (default "4 7", each set
 * checked on its own; make check-pixels-long runs more seeds).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pixel/textfind.h"

#ifndef TESTDATA
#define TESTDATA "testdata"
#endif

/* Tesseract's own leak in single-line segmentation (see tests/lsan.supp),
 * built in so this binary passes under LeakSanitizer on its own. Full
 * unwinding: Debian's Tesseract has no frame pointers, and without it the
 * leak's stack stops before the function the suppression names. */
const char *__lsan_default_suppressions(void);
__attribute__((visibility("default"))) const char *__lsan_default_suppressions(void)
{
    return "leak:tesseract::make_single_row\n";
}
const char *__asan_default_options(void);
__attribute__((visibility("default"))) const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}

typedef struct frame {
    char stem[96];
    int set; /* index into g_dirs */
    int notext;
    char *name, *id, *dates[2], *acc, *inst;
    int ndates;
    int box[48][4]; /* the truth boxes of all its text */
    int nbox;
} frame;

#define MAX_SETS 4
static char g_dirs[MAX_SETS][256];
static int g_seeds[MAX_SETS];
static int g_nsets;
static frame g_frames[128 * MAX_SETS];
static int g_nframes;

static char *dup_line(const char *s)
{
    char *d = strdup(s);
    ck_assert_ptr_nonnull(d);
    return d;
}

static void generate_set(int set)
{
    const char *py = getenv("PYTHON") ? getenv("PYTHON") : "/usr/bin/python3";
    char *dir = g_dirs[set];
    strcpy(dir, "/tmp/kk-burned-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' '%s/../tests/tools/make_burned.py' '%s' --no-dicom --seed %d",
             py, TESTDATA, dir, g_seeds[set]);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s/truth.txt", dir);
    FILE *f = fopen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    char line[512];
    frame *cur = NULL;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = '\0';
        const char *v = tab + 1;
        if (strcmp(line, "image") == 0) {
            ck_assert_int_lt(g_nframes, 128 * MAX_SETS);
            cur = &g_frames[g_nframes++];
            memset(cur, 0, sizeof *cur);
            cur->set = set;
            snprintf(cur->stem, sizeof cur->stem, "%s", v);
        } else if (!cur) {
            continue;
        } else if (strcmp(line, "notext") == 0) {
            cur->notext = atoi(v);
        } else if (strcmp(line, "name") == 0) {
            cur->name = dup_line(v);
        } else if (strcmp(line, "id") == 0) {
            cur->id = dup_line(v);
        } else if (strcmp(line, "date") == 0 && cur->ndates < 2) {
            cur->dates[cur->ndates++] = dup_line(v);
        } else if (strcmp(line, "accession") == 0) {
            cur->acc = dup_line(v);
        } else if (strcmp(line, "institution") == 0) {
            cur->inst = dup_line(v);
        } else if (strcmp(line, "box") == 0 && cur->nbox < 48) {
            int *b = cur->box[cur->nbox];
            if (sscanf(v, "%d %d %d %d", &b[0], &b[1], &b[2], &b[3]) == 4)
                cur->nbox++;
        }
    }
    fclose(f);
    ck_assert_int_gt(g_nframes, 20);
}

static void generate(void)
{
    const char *seeds = getenv("KK_BURNED_SEED") ? getenv("KK_BURNED_SEED") : "4 7";
    for (const char *p = seeds; *p && g_nsets < MAX_SETS;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p) {
            p++;
            continue;
        }
        g_seeds[g_nsets] = (int)v;
        generate_set(g_nsets++);
        p = end;
    }
    ck_assert_int_gt(g_nsets, 0);
}

static void cleanup(void)
{
    for (int i = 0; i < g_nframes; i++) {
        frame *fr = &g_frames[i];
        free(fr->name);
        free(fr->id);
        free(fr->dates[0]);
        free(fr->dates[1]);
        free(fr->acc);
        free(fr->inst);
    }
    g_nframes = 0;
    for (int s = 0; s < g_nsets; s++)
        if (g_dirs[s][0] && !getenv("KK_BURNED_KEEP")) {
            char cmd[sizeof g_dirs + 16];
            snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dirs[s]);
            if (system(cmd) != 0)
                fprintf(stderr, "cannot remove %s\n", g_dirs[s]);
        }
    g_nsets = 0;
}

static uint8_t *read_pgm(const char *dir, const char *stem, const char *suffix, int *w, int *h)
{
    char path[512];
    snprintf(path, sizeof path, "%s/pgm/%s%s", dir, stem, suffix);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    int maxv = 0;
    ck_assert_int_eq(fscanf(f, "P5 %d %d %d", w, h, &maxv), 3);
    fgetc(f);
    size_t n = (size_t)*w * *h;
    uint8_t *p = malloc(n);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(fread(p, 1, n, f), n);
    fclose(f);
    return p;
}

typedef struct tally {
    double id_px, id_cov, tech_px, tech_cov;
    double worst_notext, worst_recall, worst_outside;
    char worst_outside_stem[96];
    char worst_stem[96];
    double seconds;
    int frames, text_frames;
} tally;

static void run_set(kk_text_mode mode, int set, tally *t)
{
    memset(t, 0, sizeof *t);
    t->worst_recall = 1.0;
    kk_ctx *ctx = kk_ctx_new();
    kk_textfind *tf = NULL;
    ck_assert_int_eq(kk_textfind__new(&tf, ctx), KK_OK);
    for (int i = 0; i < g_nframes; i++) {
        frame *fr = &g_frames[i];
        const char *only = getenv("KK_BURNED_ONLY");
        if (fr->set != set || (only && !strstr(fr->stem, only)))
            continue;
        int w, h, mw, mh;
        uint8_t *g = read_pgm(g_dirs[set], fr->stem, ".pgm", &w, &h);
        uint8_t *mask = read_pgm(g_dirs[set], fr->stem, ".mask.pgm", &mw, &mh);
        ck_assert(w == mw && h == mh);
        const char *names[] = { fr->name };
        const char *idv[] = { fr->id };
        const char *accs[] = { fr->acc };
        const char *insts[] = { fr->inst };
        kk_text_ids ids = { names, 1, idv, 1, (const char *const *)fr->dates, (size_t)fr->ndates,
                            accs, 1, insts, 1 };
        kk_textbox *boxes = NULL;
        size_t nb = 0;
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        kk_status st = kk_textfind__run(tf, ctx, g, w, h, mode, &ids, NULL, 0, &boxes, &nb);
        clock_gettime(CLOCK_MONOTONIC, &b);
        ck_assert_msg(st == KK_OK, "%s: %s", fr->stem, kk_error_message(ctx));
        t->seconds += (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
        t->frames++;
        uint8_t *cov = calloc((size_t)w * h, 1);
        ck_assert_ptr_nonnull(cov);
        for (size_t k = 0; k < nb; k++) {
            ck_assert(boxes[k].x >= 0 && boxes[k].y >= 0 && boxes[k].w > 0 && boxes[k].h > 0);
            ck_assert(boxes[k].x + boxes[k].w <= w && boxes[k].y + boxes[k].h <= h);
            for (int y = boxes[k].y; y < boxes[k].y + boxes[k].h; y++)
                memset(cov + (size_t)y * w + boxes[k].x, 1, (size_t)boxes[k].w);
        }
        /* the truth boxes, padded by 3 px for anti-aliased fringes */
        uint8_t *inside = calloc((size_t)w * h, 1);
        ck_assert_ptr_nonnull(inside);
        for (int k = 0; k < fr->nbox; k++) {
            int x0 = fr->box[k][0] - 3, y0 = fr->box[k][1] - 3;
            int x1 = fr->box[k][0] + fr->box[k][2] + 3, y1 = fr->box[k][1] + fr->box[k][3] + 3;
            x0 = x0 < 0 ? 0 : x0;
            y0 = y0 < 0 ? 0 : y0;
            x1 = x1 > w ? w : x1;
            y1 = y1 > h ? h : y1;
            for (int y = y0; y < y1; y++)
                memset(inside + (size_t)y * w + x0, 1, (size_t)(x1 - x0));
        }
        double idp = 0, idc = 0, area = 0, outside = 0;
        for (size_t p = 0; p < (size_t)w * h; p++) {
            area += cov[p];
            outside += cov[p] && !inside[p];
            if (mask[p] >= 1 && mask[p] <= 5) {
                idp++;
                idc += cov[p];
            } else if (mask[p] == 6) {
                t->tech_px++;
                t->tech_cov += cov[p];
            }
        }
        t->id_px += idp;
        t->id_cov += idc;
        if (fr->notext) {
            double frac = area / ((double)w * h);
            if (frac > t->worst_notext)
                t->worst_notext = frac;
        } else {
            t->text_frames++;
            double o = outside / ((double)w * h);
            if (o > t->worst_outside) {
                t->worst_outside = o;
                memcpy(t->worst_outside_stem, fr->stem, sizeof t->worst_outside_stem);
            }
            double r = idp > 0 ? idc / idp : 1.0;
            if (r < t->worst_recall) {
                t->worst_recall = r;
                memcpy(t->worst_stem, fr->stem, sizeof t->worst_stem);
            }
        }
        if (getenv("KK_BURNED_VERBOSE") && atoi(getenv("KK_BURNED_VERBOSE")) > 1)
            for (size_t k = 0; k < nb; k++)
                printf("box %s %d %d %d %d %d %d\n", fr->stem, (int)mode, boxes[k].x, boxes[k].y,
                       boxes[k].w, boxes[k].h, (int)boxes[k].cls);
        if (getenv("KK_BURNED_VERBOSE"))
            printf("%-20s mode %d boxes %zu recall %.4f area %.4f\n", fr->stem, (int)mode, nb,
                   idp > 0 ? idc / idp : 1.0, area / ((double)w * h));
        free(cov);
        free(inside);
        free(boxes);
        free(g);
        free(mask);
    }
    kk_textfind__free(tf);
    kk_ctx_free(ctx);
    printf("seed %d mode %s: identifier pixel recall %.4f (worst frame %.4f, %s), technical pixels "
           "redacted %.3f, worst no-text area %.4f, worst area outside text %.4f (%s), "
           "%d frames in %.2f s (%.1f frames/s)\n",
           g_seeds[set], mode == KK_TEXT_MODE_ALL ? "ALL" : "PHI", t->id_cov / t->id_px, t->worst_recall,
           t->worst_stem, t->tech_px > 0 ? t->tech_cov / t->tech_px : 0.0, t->worst_notext,
           t->worst_outside, t->worst_outside_stem, t->frames, t->seconds,
           t->frames / t->seconds);
    fflush(stdout);
}

static void check_tally(const tally *t, int set)
{
    if (!getenv("KK_BURNED_ONLY"))
        ck_assert_int_gt(t->text_frames, 20);
    ck_assert_msg(t->id_px == 0 || t->id_cov / t->id_px >= 0.99, "seed %d: identifier recall %.4f",
                  g_seeds[set], t->id_cov / t->id_px);
    ck_assert_msg(t->worst_recall >= 0.90, "seed %d: identifier recall %.4f in frame %s",
                  g_seeds[set], t->worst_recall, t->worst_stem);
    ck_assert_msg(t->worst_notext <= 0.015, "seed %d: no-text area %.4f", g_seeds[set],
                  t->worst_notext);
    ck_assert_msg(t->worst_outside <= 0.25, "seed %d: area outside text %.4f in frame %s",
                  g_seeds[set], t->worst_outside, t->worst_outside_stem);
}

START_TEST(mode_all_recall_and_false_positives)
{
    tally t[MAX_SETS];
    /* every set measured before any is judged, so the log shows them all */
    for (int s = 0; s < g_nsets; s++)
        run_set(KK_TEXT_MODE_ALL, s, &t[s]);
    for (int s = 0; s < g_nsets; s++) {
        check_tally(&t[s], s);
        /* technical tokens are mostly spared */
        ck_assert_msg(t[s].tech_px == 0 || t[s].tech_cov / t[s].tech_px <= 0.6,
                      "seed %d: technical redacted %.3f", g_seeds[s], t[s].tech_cov / t[s].tech_px);
    }
}
END_TEST

START_TEST(mode_phi_recall_and_false_positives)
{
    tally t[MAX_SETS];
    for (int s = 0; s < g_nsets; s++)
        run_set(KK_TEXT_MODE_PHI, s, &t[s]);
    for (int s = 0; s < g_nsets; s++)
        check_tally(&t[s], s);
}
END_TEST

START_TEST(bad_arguments)
{
    kk_ctx *ctx = kk_ctx_new();
    kk_textfind *tf = NULL;
    ck_assert_int_eq(kk_textfind__new(&tf, ctx), KK_OK);
    uint8_t px[16] = { 0 };
    kk_textbox *b = (kk_textbox *)1;
    size_t n = 7;
    ck_assert_int_eq(kk_textfind__run(tf, ctx, px, 0, 4, KK_TEXT_MODE_ALL, NULL, NULL, 0, &b, &n),
                     KK_EINVAL);
    ck_assert_ptr_null(b);
    ck_assert_uint_eq(n, 0);
    /* the allow patterns are compiled for a frame with a candidate (a
     * row of glyph-like bars): most frames have none, and a profile's
     * patterns are checked when it is read */
    enum { W = 96, H = 40 };
    static uint8_t bars[W * H];
    for (int k = 0; k < 7; k++)
        for (int y = 14; y < 26; y++)
            for (int x = 8 + 11 * k; x < 8 + 11 * k + 5; x++)
                bars[y * W + x] = 255;
    const char *bad[] = { "(" };
    ck_assert_int_eq(kk_textfind__run(tf, ctx, bars, W, H, KK_TEXT_MODE_ALL, NULL, bad, 1, &b, &n),
                     KK_EINVAL);
    ck_assert_str_eq(kk_error_message(ctx), "cannot compile allow pattern 0");
    ck_assert_ptr_null(b);
    /* a blank frame has no text, and nothing to match against */
    ck_assert_int_eq(kk_textfind__run(tf, ctx, px, 4, 4, KK_TEXT_MODE_ALL, NULL, NULL, 0, &b, &n),
                     KK_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(kk_textfind__run(tf, ctx, px, 4, 4, KK_TEXT_MODE_ALL, NULL, bad, 1, &b, &n),
                     KK_OK);
    ck_assert_uint_eq(n, 0);
    kk_textfind__free(tf);
    kk_textfind__free(NULL);
    kk_ctx_free(ctx);
}
END_TEST

Suite *textfind_suite(void)
{
    Suite *s = suite_create("textfind");
    TCase *tc = tcase_create("synthetic_set");
    tcase_add_unchecked_fixture(tc, generate, cleanup);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, mode_all_recall_and_false_positives);
    tcase_add_test(tc, mode_phi_recall_and_false_positives);
    suite_add_tcase(s, tc);
    TCase *api = tcase_create("api");
    tcase_set_timeout(api, 60);
    tcase_add_test(api, bad_arguments);
    suite_add_tcase(s, api);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(textfind_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
