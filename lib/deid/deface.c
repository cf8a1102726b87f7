/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/deid/deface.c - the defacing pass of a run (deface.h): headers ->
 * series -> volumes (lib/volume) -> per-input patches of changed samples.
 *
 * Slices: a single-frame object is one slice; an enhanced multi-frame
 * object gives one slice per frame, its position and orientation from the
 * Per-frame or Shared Functional Groups. Within a series the slices of the
 * most common orientation and size form the volume (a localizer mixed
 * into the series stays out and untouched), ordered along the normal of
 * ImageOrientationPatient by ImagePositionPatient. CT values become HU
 * through RescaleSlope/Intercept.
 *
 * Each input's pixels are decoded twice (here, and when kk_deid_file()
 * writes it) so that only the changed samples are held between the two:
 * the run's memory grows with the face regions, not with the batch.
 * Slices of 384 x 384 or more are first decoded straight into the coarse
 * look (kk_vol__coarse_slice): a series it rejects (a chest, an abdomen)
 * never has its full-size volume; one it does not is decoded again.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "deid/deface.h"
#include "pixel/volume_io.h"

#define MIN_SLICES 10

typedef struct entry {
    char *path;
    char *series;
    int frames, rows, cols;
    double (*iop)[6];   /* per frame */
    double (*ipp)[3];   /* per frame */
    double ps[2];
    double slope, intercept;
    bool ct;
    bool usable;        /* CT or MR with a geometry */
    /* results */
    kk_status fail;     /* fail closed: the status to give */
    char *why;
    uint32_t *at;
    float *val;
    size_t n, cap;
} entry;

/* kk_deface__render(): front views of each head, before and after */
typedef struct render_sink {
    int size;          /* a tile is size x size */
    uint8_t *tiles;    /* pairs of tiles, before then after */
    int n, cap;        /* pairs */
} render_sink;

struct kk_deface {
    entry *e;
    size_t n;
    render_sink *sink; /* set while rendering: no patches are kept */
};

#define RENDER_MM 1.0

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* one core's work, whatever the load */
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static kk_dcm_item *first_item(kk_dcm_item *it, uint32_t seq)
{
    kk_dcm_elem *e = it ? kk_dcm__find(it, seq) : NULL;
    return e && kk_dcm__is_sequence(e) ? kk_dcm__next_item(e, NULL) : NULL;
}

/* Up to max decimal values of tag; how many were read. */
static int numbers(kk_dcm_item *it, uint32_t tag, double *v, int max)
{
    kk_dcm_elem *e = it ? kk_dcm__find(it, tag) : NULL;
    char *s = e ? kk_dcm__value_text(e) : NULL;
    int n = 0;
    for (char *p = s; p && *p && n < max;) {
        char *end;
        double x = strtod(p, &end);
        if (end == p)
            break;
        v[n++] = x;
        p = end;
        while (*p == ' ' || *p == '\\')
            p++;
    }
    free(s);
    return n;
}

static char *text_of(kk_dcm_item *it, uint32_t tag)
{
    kk_dcm_elem *e = kk_dcm__find(it, tag);
    const char *s;
    size_t len;
    if (!e || kk_dcm__get_string(e, &s, &len) != KK_OK || !len)
        return NULL;
    while (len && s[len - 1] == ' ')
        len--;
    return kk__strndup(s, len);
}

/* tag inside the first item of seq of the per-frame item, else of the
 * shared item (PS3.3 C.7.6.16). */
static int group_numbers(kk_dcm_item *frame, kk_dcm_item *shared, uint32_t seq, uint32_t tag,
                         double *v, int max)
{
    int n = numbers(first_item(frame, seq), tag, v, max);
    return n ? n : numbers(first_item(shared, seq), tag, v, max);
}

#define T(g, e) KK_TAG(0x##g, 0x##e)

static void read_header(entry *en, kk_ctx *ctx)
{
    kk_dcm *dcm = NULL;
    if (kk_dcm__load(&dcm, ctx, en->path, 4096) != KK_OK)
        return; /* kk_deid_file() reports it */
    kk_dcm_item *ds = kk_dcm__dataset(dcm);
    char *modality = text_of(ds, T(0008, 0060));
    en->series = text_of(ds, T(0020, 000E));
    en->ct = modality && strcmp(modality, "CT") == 0;
    bool mr = modality && strcmp(modality, "MR") == 0;
    free(modality);
    double v[6];
    en->rows = numbers(ds, T(0028, 0010), v, 1) ? (int)v[0] : 0;
    en->cols = numbers(ds, T(0028, 0011), v, 1) ? (int)v[0] : 0;
    en->frames = numbers(ds, T(0028, 0008), v, 1) ? (int)v[0] : 1;
    if ((!en->ct && !mr) || !en->series || en->rows < 16 || en->cols < 16 || en->frames < 1 ||
        en->frames > 100000 || !kk_dcm__find(ds, T(7FE0, 0010)))
        goto out;
    en->iop = kk__calloc((size_t)en->frames, sizeof *en->iop);
    en->ipp = kk__calloc((size_t)en->frames, sizeof *en->ipp);
    if (!en->iop || !en->ipp)
        goto out;
    kk_dcm_item *shared = first_item(ds, T(5200, 9229));
    kk_dcm_elem *per = kk_dcm__find(ds, T(5200, 9230));
    en->slope = 1;
    en->intercept = 0;
    if (per && kk_dcm__is_sequence(per)) {
        kk_dcm_item *fi = NULL;
        for (int f = 0; f < en->frames; f++) {
            fi = kk_dcm__next_item(per, fi);
            if (!fi || group_numbers(fi, shared, T(0020, 9116), T(0020, 0037), en->iop[f], 6) != 6 ||
                group_numbers(fi, shared, T(0020, 9113), T(0020, 0032), en->ipp[f], 3) != 3)
                goto out;
            if (f == 0) {
                if (group_numbers(fi, shared, T(0028, 9110), T(0028, 0030), en->ps, 2) != 2)
                    goto out;
                if (group_numbers(fi, shared, T(0028, 9145), T(0028, 1053), v, 1))
                    en->slope = v[0];
                if (group_numbers(fi, shared, T(0028, 9145), T(0028, 1052), v, 1))
                    en->intercept = v[0];
            }
        }
    } else {
        if (en->frames != 1 || numbers(ds, T(0020, 0037), en->iop[0], 6) != 6 ||
            numbers(ds, T(0020, 0032), en->ipp[0], 3) != 3 ||
            numbers(ds, T(0028, 0030), en->ps, 2) != 2)
            goto out;
        if (numbers(ds, T(0028, 1053), v, 1))
            en->slope = v[0];
        if (numbers(ds, T(0028, 1052), v, 1))
            en->intercept = v[0];
    }
    if (en->slope == 0)
        en->slope = 1;
    en->usable = en->ps[0] > 0 && en->ps[1] > 0;
out:
    kk_dcm__free(dcm);
}

typedef struct slice {
    size_t entry;
    int frame;
} slice;

static bool same_frame(const entry *a, int fa, const entry *b, int fb)
{
    if (a->rows != b->rows || a->cols != b->cols || fabs(a->ps[0] - b->ps[0]) > 1e-3 ||
        fabs(a->ps[1] - b->ps[1]) > 1e-3)
        return false;
    for (int i = 0; i < 6; i++)
        if (fabs(a->iop[fa][i] - b->iop[fb][i]) > 1e-3)
            return false;
    return true;
}

static void fail_group(kk_deface *df, const slice *s, size_t n, kk_status st,
                       const char *detail)
{
    for (size_t i = 0; i < n; i++) {
        entry *en = &df->e[s[i].entry];
        en->fail = st;
        kk_buf b = KK_BUF_INIT;
        kk__buf_printf(&b, "cannot deface '%s': %s", en->path, detail);
        free(en->why);
        en->why = kk__buf_detach(&b);
    }
}

static bool push(entry *en, uint32_t at, float value)
{
    if (en->n == en->cap) {
        size_t cap = en->cap ? en->cap * 2 : 4096;
        uint32_t *na = kk__realloc(en->at, cap * sizeof *na);
        if (!na)
            return false;
        en->at = na;
        float *nv = kk__realloc(en->val, cap * sizeof *nv);
        if (!nv)
            return false;
        en->val = nv;
        en->cap = cap;
    }
    en->at[en->n] = at;
    en->val[en->n++] = value;
    return true;
}

/* Decode the slices of a volume: into vol->v at full size, or (coarse not
 * NULL) straight into its coarse look (kk_vol__coarse_slice). false when
 * it cannot be read: *st is set when the run must stop (out of memory);
 * otherwise the series is failed (deface required) or counted. */
static bool read_volume(kk_deface *df, kk_ctx *ctx, const slice *s, size_t ns, const int *kof,
                        const kk_volume *vol, float *coarse, bool required,
                        kk_deface_stats *stats, kk_status *st)
{
    size_t plane = (size_t)vol->nx * vol->ny;
    size_t cplane = coarse ? kk_vol__coarse_plane(vol) : 0;
    for (size_t i = 0; i < ns; i++) {
        if (i > 0 && s[i].entry == s[i - 1].entry)
            continue; /* the frames of one object are decoded together */
        entry *en = &df->e[s[i].entry];
        kk_dcm *dcm = NULL;
        float *px = NULL;
        int fr = 0, rows = 0, cols = 0;
        kk_status rs = kk_dcm__load(&dcm, ctx, en->path, 4096);
        if (rs == KK_OK)
            rs = kk_pixel__read_frames(ctx, dcm, en->path, en->slope, en->intercept, &px, &fr,
                                       &rows, &cols);
        kk_dcm__free(dcm);
        if (rs == KK_OK && (rows != en->rows || cols != en->cols || fr < en->frames)) {
            rs = KK_EUNSUPPORTED;
            kk__fail(ctx, rs, "cannot read '%s': its pixels do not match Rows, Columns and "
                     "NumberOfFrames", en->path);
        }
        if (rs != KK_OK) {
            char why[512];
            snprintf(why, sizeof why, "its volume cannot be read (deface required): %s",
                     kk_error_message(ctx));
            free(px);
            if (rs == KK_ENOMEM) {
                *st = rs;
                return false;
            }
            if (required)
                fail_group(df, s, ns, rs, why);
            stats->failed++;
            return false;
        }
        for (size_t j = i; j < ns && s[j].entry == s[i].entry; j++) {
            const float *from = px + (size_t)s[j].frame * plane;
            if (coarse)
                kk_vol__coarse_slice(vol, from, coarse + (size_t)kof[j] * cplane);
            else
                memcpy(vol->v + (size_t)kof[j] * plane, from, plane * sizeof *from);
        }
        free(px);
    }
    return true;
}

/* One series: the slices of its main orientation as a volume. */
static kk_status one_volume(kk_deface *df, kk_ctx *ctx, slice *all, size_t nall,
                            kk_deface_mode mode, bool required, kk_deface_stats *stats)
{
    /* the most common orientation and size */
    size_t best = 0, best_n = 0;
    for (size_t i = 0; i < nall; i++) {
        size_t c = 0;
        for (size_t j = 0; j < nall; j++)
            c += same_frame(&df->e[all[i].entry], all[i].frame, &df->e[all[j].entry], all[j].frame);
        if (c > best_n) {
            best_n = c;
            best = i;
        }
        if (best_n > nall / 2)
            break;
    }
    if (best_n < MIN_SLICES)
        return KK_OK;
    slice *s = kk__malloc(best_n * sizeof *s);
    double (*ipp)[3] = kk__malloc(best_n * sizeof *ipp);
    size_t *order = kk__malloc(best_n * sizeof *order);
    kk_volume vol;
    memset(&vol, 0, sizeof vol);
    uint8_t *changed = NULL, *mask = NULL;
    int *kof = NULL;
    float *coarse = NULL;
    kk_status st = KK_OK;
    if (!s || !ipp || !order) {
        st = kk__fail(ctx, KK_ENOMEM, "out of memory");
        goto out;
    }
    const entry *ref = &df->e[all[best].entry];
    int rf = all[best].frame;
    size_t ns = 0;
    for (size_t j = 0; j < nall; j++)
        if (same_frame(ref, rf, &df->e[all[j].entry], all[j].frame)) {
            s[ns] = all[j];
            memcpy(ipp[ns], df->e[all[j].entry].ipp[all[j].frame], sizeof ipp[ns]);
            ns++;
        }
    stats->volumes++;
    const double *row = ref->iop[rf], *col = ref->iop[rf] + 3;
    double dz;
    if (kk_vol__order((const double(*)[3])ipp, ns, row, col, order, &dz) != 0) {
        if (required)
            fail_group(df, s, ns, KK_EUNSUPPORTED, "its series is "
                       "not a volume (slices unevenly spaced or at one position), so whether "
                       "it shows a face cannot be told (deface required)");
        stats->failed++;
        goto out;
    }
    size_t plane = (size_t)ref->rows * ref->cols;
    if (plane * ns > (size_t)1 << 31) {
        if (required)
            fail_group(df, s, ns, KK_ELIMIT, "its volume is above "
                       "2^31 voxels (deface required)");
        stats->failed++;
        goto out;
    }
    vol.nx = ref->cols;
    vol.ny = ref->rows;
    vol.nz = (int)ns;
    vol.dc = ref->ps[1];
    vol.dr = ref->ps[0];
    vol.dz = dz;
    vol.ct = ref->ct;
    memcpy(vol.row, row, sizeof vol.row);
    memcpy(vol.col, col, sizeof vol.col);
    vol.normal[0] = row[1] * col[2] - row[2] * col[1];
    vol.normal[1] = row[2] * col[0] - row[0] * col[2];
    vol.normal[2] = row[0] * col[1] - row[1] * col[0];
    memcpy(vol.origin, ipp[order[0]], sizeof vol.origin);
    /* a slab too low to hold a head: its pixels are not even read (most
     * series of a batch; find_face would say the same after reading) */
    if (kk_vol__too_low_for_a_head(&vol))
        goto out;
    /* where each (entry, frame) goes */
    kof = kk__malloc(ns * sizeof *kof);
    if (!kof) {
        st = kk__fail(ctx, KK_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < ns; k++)
        kof[order[k]] = (int)k;
    kk_vol_face face;
    if (kk_vol__coarse_applies(&vol)) {
        /* the coarse look first, from the slices as they are decoded: a
         * chest or an abdomen is rejected without its full-size volume
         * (the allocation, its page faults, the copy); anything else is
         * read again in full below */
        size_t cplane = kk_vol__coarse_plane(&vol);
        coarse = kk__malloc(cplane * ns * sizeof *coarse);
        if (!coarse) {
            st = kk__fail(ctx, KK_ENOMEM, "out of memory");
            goto out;
        }
        if (!read_volume(df, ctx, s, ns, kof, &vol, coarse, required, stats, &st))
            goto out;
        double t0 = now();
        int rc = kk_vol__coarse_reject(&vol, coarse, &face);
        stats->seconds += now() - t0;
        if (rc < 0) {
            st = kk__fail(ctx, KK_ENOMEM, "out of memory");
            goto out;
        }
        if (rc > 0)
            goto out; /* no head: nothing to change, nothing to draw */
        free(coarse);
        coarse = NULL;
    }
    vol.v = kk__malloc(plane * ns * sizeof *vol.v);
    if (!vol.v) {
        st = kk__fail(ctx, KK_ENOMEM, "out of memory");
        goto out;
    }
    if (!read_volume(df, ctx, s, ns, kof, &vol, NULL, required, stats, &st))
        goto out;
    double t0 = now();
    changed = kk__malloc(plane * ns);
    mask = kk__malloc(plane * ns);
    if (!changed || !mask || kk_vol__find_face(&vol, &face, mask) != 0) {
        st = kk__fail(ctx, KK_ENOMEM, "out of memory");
        goto out;
    }
    stats->heads += face.head;
    render_sink *rs = df->sink;
    uint8_t *tile = NULL;
    if (rs && face.head) {
        if (rs->n == rs->cap) {
            int cap = rs->cap ? rs->cap * 2 : 4;
            uint8_t *nt = kk__realloc(rs->tiles, (size_t)cap * 2 * rs->size * rs->size);
            if (!nt) {
                st = kk__fail(ctx, KK_ENOMEM, "out of memory");
                goto out;
            }
            rs->tiles = nt;
            rs->cap = cap;
        }
        tile = rs->tiles + (size_t)rs->n++ * 2 * rs->size * rs->size;
        kk_vol__render_front(&vol, mask, rs->size, rs->size, RENDER_MM, tile);
        memcpy(tile + (size_t)rs->size * rs->size, tile, (size_t)rs->size * rs->size);
    }
    if (!face.face) {
        stats->seconds += now() - t0;
        goto out;
    }
    size_t nch = kk_vol__deface(&vol, &face, mode, mask, changed);
    stats->seconds += now() - t0;
    if (nch == (size_t)-1) {
        st = kk__fail(ctx, KK_ENOMEM, "out of memory");
        goto out;
    }
    stats->faces++;
    stats->voxels += nch;
    if (tile) {
        /* the head as the defaced volume shows it */
        kk_vol_face after;
        if (kk_vol__find_face(&vol, &after, mask) != 0) {
            st = kk__fail(ctx, KK_ENOMEM, "out of memory");
            goto out;
        }
        kk_vol__render_front(&vol, mask, rs->size, rs->size, RENDER_MM,
                             tile + (size_t)rs->size * rs->size);
    }
    for (size_t k = 0; rs == NULL && k < ns; k++) {
        const slice *sl = &s[order[k]];
        entry *en = &df->e[sl->entry];
        const uint8_t *ch = changed + k * plane;
        const float *vv = vol.v + k * plane;
        for (size_t p = 0; p < plane; p++)
            if (ch[p] && !push(en, (uint32_t)((size_t)sl->frame * plane + p), vv[p])) {
                st = kk__fail(ctx, KK_ENOMEM, "out of memory");
                goto out;
            }
    }
out:
    free(kof);
    free(coarse);
    free(changed);
    free(mask);
    free(vol.v);
    free(s);
    free(ipp);
    free(order);
    return st;
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->path, ((const entry *)b)->path);
}

static int cmp_series(const void *a, const void *b, void *payload)
{
    const entry *e = payload;
    const entry *x = &e[*(const size_t *)a], *y = &e[*(const size_t *)b];
    int c = strcmp(x->series, y->series);
    return c ? c : strcmp(x->path, y->path);
}

static kk_status prepare(kk_deface **out, kk_ctx *ctx, const char *const *paths, size_t npaths,
                         kk_deface_mode mode, bool required, kk_deface_stats *stats,
                         render_sink *sink)
{
    *out = NULL;
    memset(stats, 0, sizeof *stats);
    kk_deface *df = kk__calloc(1, sizeof *df);
    if (!df || (npaths && !(df->e = kk__calloc(npaths, sizeof *df->e)))) {
        free(df);
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    }
    df->n = npaths;
    df->sink = sink;
    kk_status st = KK_OK;
    for (size_t i = 0; i < npaths && st == KK_OK; i++)
        if (!(df->e[i].path = kk__strdup(paths[i])))
            st = kk__fail(ctx, KK_ENOMEM, "out of memory");
    if (st == KK_OK) {
        /* sorted by path, for kk_deface__apply()'s look-up */
        qsort(df->e, df->n, sizeof *df->e, cmp_path);
        for (size_t i = 0; i < df->n; i++)
            read_header(&df->e[i], ctx);
    }
    size_t *idx = NULL;
    size_t nidx = 0;
    if (st == KK_OK && !(idx = kk__malloc((df->n + 1) * sizeof *idx)))
        st = kk__fail(ctx, KK_ENOMEM, "out of memory");
    for (size_t i = 0; st == KK_OK && i < df->n; i++)
        if (df->e[i].usable)
            idx[nidx++] = i;
    if (st == KK_OK && nidx)
        qsort_r(idx, nidx, sizeof *idx, cmp_series, df->e);
    for (size_t a = 0; st == KK_OK && a < nidx;) {
        size_t b = a;
        size_t nsl = 0;
        while (b < nidx && strcmp(df->e[idx[b]].series, df->e[idx[a]].series) == 0)
            nsl += (size_t)df->e[idx[b++]].frames;
        slice *sl = kk__malloc(nsl * sizeof *sl);
        if (!sl) {
            st = kk__fail(ctx, KK_ENOMEM, "out of memory");
            break;
        }
        size_t k = 0;
        for (size_t i = a; i < b; i++)
            for (int f = 0; f < df->e[idx[i]].frames; f++) {
                sl[k].entry = idx[i];
                sl[k++].frame = f;
            }
        st = one_volume(df, ctx, sl, nsl, mode, required, stats);
        free(sl);
        a = b;
    }
    free(idx);
    if (st != KK_OK) {
        kk_deface__free(df);
        return st;
    }
    *out = df;
    return KK_OK;
}

kk_status kk_deface__prepare(kk_deface **out, kk_ctx *ctx, const char *const *paths,
                             size_t npaths, kk_deface_mode mode, bool required,
                             kk_deface_stats *stats)
{
    return prepare(out, ctx, paths, npaths, mode, required, stats, NULL);
}

kk_status kk_deface__render(kk_ctx *ctx, const char *const *paths, size_t npaths,
                            kk_deface_mode mode, int size, uint8_t **tiles, int *heads)
{
    *tiles = NULL;
    *heads = 0;
    render_sink sink = { size, NULL, 0, 0 };
    kk_deface_stats stats;
    kk_deface *df = NULL;
    kk_status st = prepare(&df, ctx, paths, npaths,
                           mode == KK_DEFACE_OFF ? KK_DEFACE_REMOVE : mode, false, &stats, &sink);
    kk_deface__free(df);
    if (st != KK_OK) {
        free(sink.tiles);
        return st;
    }
    if (mode == KK_DEFACE_OFF) /* the profile keeps faces: after = before */
        for (int i = 0; i < sink.n; i++)
            memcpy(sink.tiles + ((size_t)2 * i + 1) * size * size,
                   sink.tiles + (size_t)2 * i * size * size, (size_t)size * size);
    *tiles = sink.tiles;
    *heads = sink.n;
    return KK_OK;
}

void kk_deface__free(kk_deface *df)
{
    if (!df)
        return;
    for (size_t i = 0; i < df->n; i++) {
        entry *en = &df->e[i];
        free(en->path);
        free(en->series);
        free(en->iop);
        free(en->ipp);
        free(en->at);
        free(en->val);
        free(en->why);
    }
    free(df->e);
    free(df);
}

kk_status kk_deface__apply(const kk_deface *df, kk_ctx *ctx, kk_dcm *dcm, const char *in_path,
                           bool *defaced)
{
    *defaced = false;
    if (!df)
        return KK_OK;
    entry key;
    memset(&key, 0, sizeof key);
    key.path = (char *)in_path;
    const entry *en = bsearch(&key, df->e, df->n, sizeof *df->e, cmp_path);
    if (!en)
        return KK_OK;
    if (en->fail != KK_OK)
        return kk__fail(ctx, en->fail, "%s", en->why ? en->why : "cannot deface");
    if (!en->n)
        return KK_OK;
    kk_pixel_patch patch = { en->n, en->at, en->val, en->slope, en->intercept };
    kk_status st = kk_pixel__write_patch(ctx, dcm, in_path, &patch);
    if (st == KK_OK)
        *defaced = true;
    return st;
}
