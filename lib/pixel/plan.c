/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/plan.c - burned-in text, the first step: read the
 * profile's `pixel` rules against the original header of an object, before
 * the header is de-identified (lib/pixel/redact.h). Part of the core
 * library, though in the pixel room: it needs neither OpenCV nor
 * Tesseract, so a run whose rules find nothing to do never loads the pixel
 * module (lib/pixel/loader.c). The Makefile keeps it out of the module's
 * own objects (PIXEL_CORE_OBJ).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pixel/redact.h"
#include "text/charset.h"

#define TAG_ROWS KK_TAG(0x0028, 0x0010)
#define TAG_COLUMNS KK_TAG(0x0028, 0x0011)
#define TAG_FRAMES KK_TAG(0x0028, 0x0008)
#define TAG_BITS_ALLOCATED KK_TAG(0x0028, 0x0100)
#define TAG_BITS_STORED KK_TAG(0x0028, 0x0101)
#define TAG_PIXEL_DATA KK_TAG(0x7FE0, 0x0010)
#define TAG_FLOAT_PIXEL_DATA KK_TAG(0x7FE0, 0x0008)
#define TAG_DOUBLE_PIXEL_DATA KK_TAG(0x7FE0, 0x0009)

const char *kk_pixel__class_name(int c)
{
    switch ((kk_text_class)c) {
    case KK_TEXT_NAME: return "name";
    case KK_TEXT_ID: return "id";
    case KK_TEXT_DATE: return "date";
    case KK_TEXT_ACCESSION: return "accession";
    case KK_TEXT_INSTITUTION: return "institution";
    case KK_TEXT_TECHNICAL: return "technical";
    case KK_TEXT_OTHER: break;
    }
    return "text";
}

const char *kk_pixel__source_name(kk_pixel_source s)
{
    switch (s) {
    case KK_PIXEL_SOURCE_RULE: return "rule";
    case KK_PIXEL_SOURCE_DETECTED: return "detected";
    case KK_PIXEL_SOURCE_OVERLAY: return "overlay";
    }
    return "?";
}

/* --- reading the original header --------------------------------------- */

/* The value of a top-level attribute as text (binary VRs as dcmdump
 * shows them), or NULL. */
static char *value_of(kk_dcm *dcm, uint32_t tag)
{
    kk_dcm_elem *e = kk_dcm__find(kk_dcm__dataset(dcm), tag);
    if (!e)
        return NULL;
    const char *s;
    size_t n;
    if (kk_dcm__get_string(e, &s, &n) == KK_OK)
        return kk__strndup(s, n);
    return kk_dcm__value_text(e);
}

static long number_of(kk_dcm *dcm, uint32_t tag, long def)
{
    char *v = value_of(dcm, tag);
    if (!v)
        return def;
    char *end;
    long n = strtol(v, &end, 10);
    if (end == v)
        n = def;
    free(v);
    return n;
}

/* Trim spaces, then compare one value of a condition. */
static bool value_holds(char op, const char *have, size_t n, const char *want)
{
    while (n && (*have == ' '))
        have++, n--;
    while (n && (have[n - 1] == ' ' || have[n - 1] == '\0'))
        n--;
    if (op == '~') {
        size_t wl = strlen(want);
        for (size_t i = 0; i + wl <= n; i++)
            if (strncasecmp(have + i, want, wl) == 0)
                return true;
        return false;
    }
    return strlen(want) == n && strncasecmp(have, want, n) == 0;
}

static bool cond_holds(kk_dcm *dcm, const kk_pixel_cond *c)
{
    char *v = value_of(dcm, c->tag);
    bool any = false;
    if (v) {
        /* any of the attribute's values against any of the rule's */
        for (const char *s = v;;) {
            size_t n = strcspn(s, "\\");
            for (int i = 0; i < c->nvalues && !any; i++)
                any = value_holds(c->op == '!' ? '=' : c->op, s, n, c->values[i]);
            if (!s[n] || any)
                break;
            s += n + 1;
        }
        free(v);
    }
    return c->op == '!' ? !any : any;
}

static bool rule_holds(kk_dcm *dcm, const kk_pixel_rule *r)
{
    for (int i = 0; i < r->nconds; i++)
        if (!cond_holds(dcm, &r->conds[i]))
            return false;
    return true;
}

/* A region in pixels, clipped to the image; false when nothing is left. */
static bool resolve_region(const kk_pixel_rule *r, int rows, int cols, kk_pixel_box *b)
{
    int v[4];
    for (int i = 0; i < 4; i++) {
        int size = (i % 2 == 0) ? cols : rows;
        v[i] = (r->pct & (1u << i)) ? (int)((long long)r->box[i] * size / 10000) : r->box[i];
    }
    if (v[0] < 0)
        v[0] += cols;
    if (v[1] < 0)
        v[1] += rows;
    int x0 = v[0] < 0 ? 0 : v[0], y0 = v[1] < 0 ? 0 : v[1];
    int x1 = v[0] + v[2] > cols ? cols : v[0] + v[2];
    int y1 = v[1] + v[3] > rows ? rows : v[1] + v[3];
    if (x1 <= x0 || y1 <= y0)
        return false;
    memset(b, 0, sizeof *b);
    b->frame = -1;
    b->x = x0;
    b->y = y0;
    b->w = x1 - x0;
    b->h = y1 - y0;
    b->source = KK_PIXEL_SOURCE_RULE;
    return true;
}

/* --- the identifiers text detection matches (mode phi) ------------------ */

static const uint32_t id_names[] = {
    KK_TAG(0x0010, 0x0010), KK_TAG(0x0010, 0x1001), KK_TAG(0x0010, 0x1060),
    KK_TAG(0x0008, 0x0090), KK_TAG(0x0008, 0x1050), KK_TAG(0x0008, 0x1060),
    KK_TAG(0x0008, 0x1070), KK_TAG(0x0032, 0x1032), KK_TAG(0x0010, 0x2297), 0 };
static const uint32_t id_ids[] = {
    KK_TAG(0x0010, 0x0020), KK_TAG(0x0010, 0x1000), KK_TAG(0x0010, 0x1040),
    KK_TAG(0x0010, 0x2154), KK_TAG(0x0038, 0x0010), 0 };
static const uint32_t id_dates[] = {
    KK_TAG(0x0010, 0x0030), KK_TAG(0x0008, 0x0020), KK_TAG(0x0008, 0x0021),
    KK_TAG(0x0008, 0x0022), KK_TAG(0x0008, 0x0023), KK_TAG(0x0008, 0x0012), 0 };
static const uint32_t id_accessions[] = {
    KK_TAG(0x0008, 0x0050), KK_TAG(0x0040, 0x1001), KK_TAG(0x0020, 0x0010),
    KK_TAG(0x0040, 0x0009), 0 };
static const uint32_t id_institutions[] = {
    KK_TAG(0x0008, 0x0080), KK_TAG(0x0008, 0x1010), KK_TAG(0x0008, 0x1040),
    KK_TAG(0x0008, 0x0081), 0 };

/* UTF-8 values of the listed top-level attributes, into plan->texts. */
static kk_status collect(kk_pixel_plan *plan, kk_ctx *ctx, kk_dcm *dcm, const uint32_t *tags,
                         const char *const **list, size_t *n)
{
    kk_dcm_item *ds = kk_dcm__dataset(dcm);
    const char *cs = "";
    size_t csn = 0;
    kk_dcm_elem *ce = kk_dcm__find(ds, KK_TAG(0x0008, 0x0005));
    if (ce)
        kk_dcm__get_string(ce, &cs, &csn);
    size_t first = plan->ntexts;
    for (int i = 0; tags[i]; i++) {
        kk_dcm_elem *e = kk_dcm__find(ds, tags[i]);
        const char *s;
        size_t len;
        if (!e || kk_dcm__get_string(e, &s, &len) != KK_OK || len == 0)
            continue;
        kk_buf u = KK_BUF_INIT;
        kk_text__to_utf8(cs, csn, s, len, &u);
        char **nt = kk__realloc(plan->texts, (plan->ntexts + 1) * sizeof *nt);
        if (!nt || u.failed) {
            kk__buf_free(&u);
            return kk__fail(ctx, KK_ENOMEM, "out of memory");
        }
        plan->texts = nt;
        plan->texts[plan->ntexts++] = kk__buf_detach(&u);
    }
    *list = (const char *const *)plan->texts + first;
    *n = plan->ntexts - first;
    return KK_OK;
}

static kk_status collect_ids(kk_pixel_plan *plan, kk_ctx *ctx, kk_dcm *dcm)
{
    /* the pointers into plan->texts are set once it stops growing */
    size_t at[6];
    const char *const *unused;
    size_t n;
    at[0] = plan->ntexts;
    kk_status st = collect(plan, ctx, dcm, id_names, &unused, &n);
    at[1] = plan->ntexts;
    if (st == KK_OK)
        st = collect(plan, ctx, dcm, id_ids, &unused, &n);
    at[2] = plan->ntexts;
    if (st == KK_OK)
        st = collect(plan, ctx, dcm, id_dates, &unused, &n);
    at[3] = plan->ntexts;
    if (st == KK_OK)
        st = collect(plan, ctx, dcm, id_accessions, &unused, &n);
    at[4] = plan->ntexts;
    if (st == KK_OK)
        st = collect(plan, ctx, dcm, id_institutions, &unused, &n);
    at[5] = plan->ntexts;
    if (st != KK_OK)
        return st;
    const char *const *t = (const char *const *)plan->texts;
    plan->ids.names = t ? t + at[0] : NULL;
    plan->ids.nnames = at[1] - at[0];
    plan->ids.ids = t ? t + at[1] : NULL;
    plan->ids.nids = at[2] - at[1];
    plan->ids.dates = t ? t + at[2] : NULL;
    plan->ids.ndates = at[3] - at[2];
    plan->ids.accessions = t ? t + at[3] : NULL;
    plan->ids.naccessions = at[4] - at[3];
    plan->ids.institutions = t ? t + at[4] : NULL;
    plan->ids.ninstitutions = at[5] - at[4];
    return KK_OK;
}

void kk_pixel__plan_free(kk_pixel_plan *plan)
{
    for (size_t i = 0; i < plan->ntexts; i++)
        free(plan->texts[i]);
    free(plan->texts);
    free(plan->regions);
    memset(plan, 0, sizeof *plan);
}

/* Pixel Data of at most this many bytes and no Rows or Columns passes
 * unsearched: 8 x 8 8-bit pixels are too few for a character. */
#define UNSIZED_PIXELS_MAX 64

kk_status kk_pixel__plan(kk_pixel_plan *plan, kk_ctx *ctx, const kk_profile *profile,
                         kk_dcm *dcm, const char *path)
{
    memset(plan, 0, sizeof *plan);
    int nrules;
    const kk_pixel_rule *rules = kk_profile__pixel_rules(profile, &nrules);
    kk_dcm_item *top = kk_dcm__dataset(dcm);
    kk_dcm_elem *pixels = kk_dcm__find(top, TAG_PIXEL_DATA);
    /* parametric maps: searched like any image */
    kk_dcm_elem *floats = kk_dcm__find(top, TAG_FLOAT_PIXEL_DATA);
    kk_dcm_elem *doubles = kk_dcm__find(top, TAG_DOUBLE_PIXEL_DATA);
    kk_dcm_elem *px = pixels ? pixels : floats ? floats : doubles;
    bool applies = false;
    for (int i = 0; i < nrules && !applies; i++)
        applies = rule_holds(dcm, &rules[i]) &&
                  (rules[i].kind != KK_PIXEL_RULE_MODE || rules[i].mode != KK_PIXEL_MODE_OFF);
    if (!applies)
        return KK_OK;
    /* Pixel Data in a transfer syntax DCMTK cannot decode (HTJ2K, deflated
     * image frames) is carried over as it came, and a second pixel
     * element beside the first (Float Pixel Data with Pixel Data) would
     * be: neither can be searched, so neither passes */
    int elements = (pixels != NULL) + (floats != NULL) + (doubles != NULL);
    if (kk_dcm__pixels_carried_raw(dcm))
        return kk__fail(ctx, KK_EUNSUPPORTED, "cannot search the pixels of '%s' for burned-in "
                        "text: transfer syntax %.64s cannot be decoded here",
                        path ? path : "(buffer)", kk_dcm__transfer_syntax(dcm));
    if (elements > 1)
        return kk__fail(ctx, KK_EUNSUPPORTED, "cannot search the pixels of '%s' for burned-in "
                        "text: it holds %d pixel elements (Pixel Data, Float Pixel Data, Double "
                        "Float Pixel Data), where an image has one", path ? path : "(buffer)",
                        elements);
    /* an empty Pixel Data (a corpus NM's was stripped) holds nothing */
    if (!px || kk_dcm__length(px) == 0)
        return KK_OK;
    plan->rows = (int)number_of(dcm, TAG_ROWS, 0);
    plan->columns = (int)number_of(dcm, TAG_COLUMNS, 0);
    plan->frames = (int)number_of(dcm, TAG_FRAMES, 1);
    if (plan->frames < 1)
        plan->frames = 1;
    bool placeable = plan->rows > 0 && plan->columns > 0;
    /* a few bytes cannot hold text (pydicom's test files carry 2) */
    if (!placeable && kk_dcm__length(px) <= UNSIZED_PIXELS_MAX)
        return KK_OK;
    int unplaced = 0;
    plan->regions = kk__calloc((size_t)nrules, sizeof *plan->regions);
    if (!plan->regions)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    for (int i = 0; i < nrules; i++) {
        const kk_pixel_rule *r = &rules[i];
        if (!rule_holds(dcm, r))
            continue;
        if (r->kind == KK_PIXEL_RULE_MODE) {
            plan->mode = r->mode;
            plan->mode_origin = r->origin;
        } else if (!placeable) {
            unplaced++;
        } else if (resolve_region(r, plan->rows, plan->columns, &plan->regions[plan->nregions])) {
            plan->nregions++;
        }
    }
    /* Pixel Data whose frame size is not stated cannot be searched, yet
     * its bytes are there for any reader that guesses the size: fail
     * closed rather than pass it unexamined */
    if (!placeable) {
        if (plan->mode == KK_PIXEL_MODE_OFF && unplaced == 0)
            return KK_OK;
        return kk__fail(ctx, KK_EUNSUPPORTED, "cannot search the pixels of '%s' for burned-in "
                        "text: Rows or Columns missing or zero", path ? path : "(buffer)");
    }
    plan->lossy_reencode = strcmp(kk_profile__param(profile, "pixel.lossy", "lossless"), "reencode") == 0;
    plan->quality = atoi(kk_profile__param(profile, "pixel.quality", "95"));
    plan->residue_fail = strcmp(kk_profile__param(profile, "pixel.residue", "report"), "fail") == 0;
    if (plan->quality < 50 || plan->quality > 100)
        plan->quality = 95;
    long alloc = number_of(dcm, TAG_BITS_ALLOCATED, 0), stored = number_of(dcm, TAG_BITS_STORED, 0);
    plan->active = plan->mode != KK_PIXEL_MODE_OFF || plan->nregions > 0;
    /* overlays kept in the unused high bits (PS3.5 8.1.2, retired) go
     * with the rest of the burned-in text */
    plan->clear_high_bits = plan->active && stored > 0 && alloc > stored;
    /* all-text mode needs them too: an identifier is never spared as a
     * technical token ("P0033917" is P and a number) */
    if (plan->mode != KK_PIXEL_MODE_OFF)
        return collect_ids(plan, ctx, dcm);
    return KK_OK;
}

void kk_pixel__outcome_free(kk_pixel_outcome *o)
{
    free(o->boxes);
    memset(o, 0, sizeof *o);
}
