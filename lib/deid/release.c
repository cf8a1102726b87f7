/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/deid/release.c - the release plan: rare values (item ④, R13) and
 * k-anonymity over quasi-identifiers (item ⑤, R14), in two passes.
 *
 * Profile statements (lib/profile keeps them as parameters):
 *     quasi ATTRIBUTE hierarchy NAME      a quasi-identifier
 *     rare ATTRIBUTE below N generalize|remove
 *     release k N
 *     release suppress-limit P%
 *
 * Hierarchies (level 0 is the value the output would hold; the last level
 * is '*', the attribute emptied):
 *     age       PatientAge in years: exact -> 5-year band -> 10-year band
 *               -> 20-year band with 80+ top-coded -> *; 90 and over is
 *               top-coded at every level (090Y); a band is written as its
 *               lower bound (045Y = 45-49)
 *     height    PatientSize (m): 0.01 m -> 5 cm bands, bottom 1.40, top
 *               1.90 -> 10 cm bands, bottom 1.50, top 1.80 -> *
 *     weight    PatientWeight (kg): 1 kg -> 5 kg bands, 40..100 ->
 *               10 kg bands, 50..90 -> *
 *     date      a DA: day -> month (YYYYMM01) -> year (YYYY0101) -> *
 *     model     ManufacturerModelName: Manufacturer + model ->
 *               Manufacturer (model emptied) -> * (both emptied)
 *     bodypart  BodyPartExamined -> region (HEAD, NECK, CHEST, ABDOMEN,
 *               PELVIS, SPINE, EXTREMITY, WHOLEBODY, OTHER) -> *
 *     sex, institution, station, department, flat: value -> *
 *     FILE      (a name holding '/' or ending in .csv) ARX style: one row
 *               per value, "value,level1,level2,...", a value not listed
 *               is '*' above level 0
 * Values are bands, never noise: an output holds a value a reader can
 * understand from kakou.profile(5).
 *
 * Patients: one record per source PatientID (normalised, qualified by
 * IssuerOfPatientID; StudyInstanceUID when there is no PatientID), held in
 * memory only. A patient's value of an attribute is the set of values of
 * all its files, so a patient with two scanners differs from one with one.
 *
 * Rare values (④): for `rare A below N`, a value held by fewer than N
 * patients is replaced: `remove` empties it; `generalize` takes it up its
 * hierarchy to the first level where its generalised value is held by N
 * patients (or to '*').
 *
 * k-anonymity (⑤), greedy search on the generalisation lattice (one
 * level of one attribute at a time): start with every attribute at level
 * 0; while more patients than the suppression limit sit in classes of
 * fewer than k, raise the one attribute whose next level leaves the
 * fewest such patients (ties: the attribute with the most distinct
 * values at its level, as Datafly does). Then each attribute is lowered
 * again, one level at a time, while the limit still holds. Then the
 * patients still in small classes are suppressed: none of their files is
 * written. Every level reached is the least that the greedy path needed;
 * it is not proven minimal over the whole lattice (ARX's Flash is), which
 * kakou.profile(5) says.
 *
 * IMPLEMENTATION-OF: R13, R14.
 */
#include <ctype.h>
#include <pthread.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "deid/release_internal.h"
#include "profile/profile_internal.h"

#define MAX_Q 16
#define MAX_LEVELS 8
#define TAG_MANUFACTURER KK_TAG(0x0008, 0x0070)
#define TAG_MODEL KK_TAG(0x0008, 0x1090)
#define TAG_PATIENT_ID KK_TAG(0x0010, 0x0020)
#define TAG_ISSUER KK_TAG(0x0010, 0x0021)
#define TAG_STUDY_UID KK_TAG(0x0020, 0x000D)

typedef enum hkind { H_FLAT, H_AGE, H_HEIGHT, H_WEIGHT, H_DATE, H_MODEL, H_BODYPART, H_FILE } hkind;

typedef struct quasi {
    const char *attr, *hname;
    uint32_t tag;
    hkind kind;
    int levels;           /* level 0 .. levels-1; the last is '*' */
    bool in_output;       /* the profile keeps the attribute */
    char ***rows;         /* H_FILE */
    size_t nrows;
    unsigned rare_below;
    bool rare_remove;
    size_t rare_values, rare_instances;
    int level;            /* chosen */
} quasi;

typedef struct frec {
    char *path, *pkey;
    size_t patient;
    char *v[MAX_Q];
    signed char rare[MAX_Q];
} frec;

typedef struct prec {
    size_t first, nfiles; /* into order[] */
    bool suppressed;
    uint64_t h[MAX_Q][MAX_LEVELS];
} prec;

struct kk_release {
    pthread_mutex_t mu; /* kk_release_add() from several threads */
    const kk_profile *profile;
    unsigned k;
    double limit_pct;
    quasi q[MAX_Q];
    int nq;
    frec *f;
    size_t nf, capf;
    size_t *order;   /* files by patient */
    size_t *by_path; /* files by path */
    prec *pt;
    size_t np;
    bool solved;
    size_t supp_patients, supp_instances, classes, smallest;
    size_t *hist_size, *hist_count, nhist;
    /* the classes before the release generalised or suppressed anything */
    size_t *hist0_size, *hist0_count, nhist0;
};

/* ---- hierarchies -------------------------------------------------------- */

static const struct { const char *name; hkind kind; int levels; } hierarchies[] = {
    { "age", H_AGE, 5 }, { "height", H_HEIGHT, 4 }, { "weight", H_WEIGHT, 4 },
    { "date", H_DATE, 4 }, { "model", H_MODEL, 3 }, { "bodypart", H_BODYPART, 3 },
    { "sex", H_FLAT, 2 }, { "institution", H_FLAT, 2 }, { "station", H_FLAT, 2 },
    { "department", H_FLAT, 2 }, { "flat", H_FLAT, 2 },
};

static const struct { const char *part, *region; } regions[] = {
    { "HEAD", "HEAD" }, { "BRAIN", "HEAD" }, { "SKULL", "HEAD" }, { "ORBIT", "HEAD" },
    { "SINUS", "HEAD" }, { "EAR", "HEAD" }, { "FACE", "HEAD" }, { "TMJ", "HEAD" },
    { "IAC", "HEAD" }, { "JAW", "HEAD" }, { "NECK", "NECK" }, { "HEADNECK", "NECK" },
    { "LARYNX", "NECK" }, { "THYROID", "NECK" }, { "CHEST", "CHEST" }, { "LUNG", "CHEST" },
    { "HEART", "CHEST" }, { "BREAST", "CHEST" }, { "THORAX", "CHEST" }, { "RIB", "CHEST" },
    { "CLAVICLE", "CHEST" }, { "STERNUM", "CHEST" }, { "CHESTABDOMEN", "CHEST" },
    { "ABDOMEN", "ABDOMEN" }, { "LIVER", "ABDOMEN" }, { "KIDNEY", "ABDOMEN" },
    { "PANCREAS", "ABDOMEN" }, { "STOMACH", "ABDOMEN" }, { "COLON", "ABDOMEN" },
    { "ABDOMENPELVIS", "ABDOMEN" }, { "GALLBLADDER", "ABDOMEN" }, { "SPLEEN", "ABDOMEN" },
    { "PELVIS", "PELVIS" }, { "HIP", "PELVIS" }, { "BLADDER", "PELVIS" },
    { "PROSTATE", "PELVIS" }, { "UTERUS", "PELVIS" }, { "OVARY", "PELVIS" },
    { "SPINE", "SPINE" }, { "CSPINE", "SPINE" }, { "TSPINE", "SPINE" }, { "LSPINE", "SPINE" },
    { "SSPINE", "SPINE" }, { "COCCYX", "SPINE" }, { "ARM", "EXTREMITY" },
    { "HAND", "EXTREMITY" }, { "FINGER", "EXTREMITY" }, { "ELBOW", "EXTREMITY" },
    { "SHOULDER", "EXTREMITY" }, { "WRIST", "EXTREMITY" }, { "FOREARM", "EXTREMITY" },
    { "LEG", "EXTREMITY" }, { "KNEE", "EXTREMITY" }, { "FOOT", "EXTREMITY" },
    { "ANKLE", "EXTREMITY" }, { "TOE", "EXTREMITY" }, { "FEMUR", "EXTREMITY" },
    { "TIBIA", "EXTREMITY" }, { "HUMERUS", "EXTREMITY" }, { "EXTREMITY", "EXTREMITY" },
    { "UPRLIMB", "EXTREMITY" }, { "LOWRLIMB", "EXTREMITY" }, { "HAND", "EXTREMITY" },
    { "WHOLEBODY", "WHOLEBODY" },
};

static double clampd(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/* The value v (as pass 1 read it) at level l, into out. "" is '*'. */
static void gen(const quasi *q, const char *v, int l, char *out, size_t cap)
{
    out[0] = '\0';
    if (!v || !*v || l >= q->levels - 1)
        return;
    if (l == 0 && q->kind != H_AGE && q->kind != H_HEIGHT && q->kind != H_WEIGHT &&
        q->kind != H_BODYPART) {
        snprintf(out, cap, "%s", v);
        return;
    }
    switch (q->kind) {
    case H_AGE: {
        long y = strtol(v, NULL, 10);
        static const int band[] = { 1, 5, 10, 20 };
        if (y >= 90 || (l == 3 && y >= 80)) {
            snprintf(out, cap, "%03dY", y >= 90 ? 90 : 80);
            return;
        }
        snprintf(out, cap, "%03ldY", y - y % band[l]);
        return;
    }
    case H_HEIGHT: case H_WEIGHT: {
        double x = strtod(v, NULL);
        bool h = q->kind == H_HEIGHT;
        if (l == 0) {
            snprintf(out, cap, h ? "%.2f" : "%.0f", x);
            return;
        }
        double lo = h ? (l == 1 ? 1.40 : 1.50) : (l == 1 ? 40 : 50);
        double hi = h ? (l == 1 ? 1.90 : 1.80) : (l == 1 ? 100 : 90);
        double step = h ? (l == 1 ? 0.05 : 0.10) : (l == 1 ? 5 : 10);
        x = clampd(x, lo, hi);
        x = lo + floor((x - lo) / step + 1e-9) * step;
        snprintf(out, cap, h ? "%.2f" : "%.0f", x);
        return;
    }
    case H_DATE:
        if (strlen(v) >= 8)
            snprintf(out, cap, l == 1 ? "%.6s01" : "%.4s0101", v);
        return;
    case H_MODEL: {
        const char *us = strchr(v, '\x1f');
        snprintf(out, cap, "%.*s", us ? (int)(us - v) : (int)strlen(v), v);
        return;
    }
    case H_BODYPART: {
        char up[64];
        size_t i = 0;
        for (; v[i] && i < sizeof up - 1; i++)
            up[i] = (char)toupper((unsigned char)v[i]);
        up[i] = '\0';
        if (l == 0) {
            snprintf(out, cap, "%s", up);
            return;
        }
        for (size_t r = 0; r < sizeof regions / sizeof *regions; r++)
            if (strcmp(regions[r].part, up) == 0) {
                snprintf(out, cap, "%s", regions[r].region);
                return;
            }
        snprintf(out, cap, "OTHER");
        return;
    }
    case H_FILE:
        for (size_t r = 0; r < q->nrows; r++)
            if (strcmp(q->rows[r][0], v) == 0) {
                const char *g = q->rows[r][l];
                snprintf(out, cap, "%s", strcmp(g, "*") == 0 ? "" : g);
                return;
            }
        return;
    case H_FLAT:
        return;
    }
}

static kk_status load_hierarchy_file(kk_ctx *ctx, quasi *q)
{
    FILE *fp = fopen(q->hname, "re");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int cols = -1;
    kk_status st = KK_OK;

    if (!fp)
        return kk__fail(ctx, KK_ENOTFOUND, "cannot read hierarchy file '%s' (quasi %s)",
                        q->hname, q->attr);
    while (st == KK_OK && (len = getline(&line, &cap, fp)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        char **row = kk__calloc(MAX_LEVELS, sizeof *row);
        int n = 0;
        char *save = NULL;
        for (char *c = strtok_r(line, ",;", &save); c && n < MAX_LEVELS - 1;
             c = strtok_r(NULL, ",;", &save))
            if (row)
                row[n++] = kk__strdup(c);
        if (!row || (cols >= 0 && n != cols) || n < 1) {
            st = row ? kk__fail(ctx, KK_ESYNTAX, "hierarchy file '%s': every row needs the "
                                "same number of columns", q->hname)
                     : kk__fail(ctx, KK_ENOMEM, "out of memory");
        }
        cols = n;
        char ***nr = row ? kk__realloc(q->rows, (q->nrows + 1) * sizeof *nr) : NULL;
        if (nr) {
            q->rows = nr;
            q->rows[q->nrows++] = row;
        } else if (row) {
            for (int i = 0; i < n; i++)
                kk_free(row[i]);
            kk_free(row);
        }
    }
    free(line);
    fclose(fp);
    if (st == KK_OK && cols < 1)
        st = kk__fail(ctx, KK_ESYNTAX, "hierarchy file '%s' is empty", q->hname);
    /* value, its levels, then '*' */
    q->levels = cols + 1;
    return st;
}

/* ---- the plan ----------------------------------------------------------- */

int kk_profile_has_release(const kk_profile *p)
{
    int n;
    const char *const *v = kk_profile__params(p, &n);
    for (int i = 0; i + 1 < n; i += 2)
        if (strncmp(v[i], "quasi:", 6) == 0 || strncmp(v[i], "rare:", 5) == 0)
            return 1;
    return 0;
}

static quasi *quasi_of(kk_release *r, const char *attr)
{
    for (int i = 0; i < r->nq; i++)
        if (strcmp(r->q[i].attr, attr) == 0)
            return &r->q[i];
    return NULL;
}

static bool kept(const kk_profile *p, uint32_t tag)
{
    kk_match_level lv;
    const kk_rule *rule = kk_profile__match(p, tag, kk_dcm__dict_vr(tag), NULL, &lv);
    if (!rule)
        return true;
    if (rule->compound != KK_COMPOUND_NONE)
        return false;
    /* kept as is, or cleaned (free text scrubbed: a code or a model name
     * comes out as it went in), or generalised by the profile itself */
    return rule->action == KK_ACTION_KEEP || rule->action == KK_ACTION_CLEAN ||
           rule->action == KK_ACTION_GENERALIZE_AGE || rule->action == KK_ACTION_TRUNCATE_DATE;
}

kk_status kk_release_new(kk_release **out, kk_ctx *ctx, const kk_profile *p, unsigned k)
{
    kk_release *r;
    int n;
    const char *const *v;
    kk_status st = KK_OK;

    if (!out || !p)
        return kk__fail(ctx, KK_EINVAL, "kk_release_new: missing argument");
    *out = NULL;
    kk_dcm__init();
    r = kk__calloc(1, sizeof *r);
    if (!r)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    r->profile = p;
    pthread_mutex_init(&r->mu, NULL);
    const char *ks = kk_profile__param(p, "release:k", "10");
    r->k = k ? k : (unsigned)strtoul(ks, NULL, 10);
    if (r->k < 1)
        r->k = 1;
    r->limit_pct = strtod(kk_profile__param(p, "release:suppress-limit", "0"), NULL);
    if (r->limit_pct < 0 || r->limit_pct > 100) {
        kk_release_free(r);
        return kk__fail(ctx, KK_EINVAL, "release suppress-limit must be 0%%..100%%");
    }
    v = kk_profile__params(p, &n);
    for (int i = 0; i + 1 < n && st == KK_OK; i += 2) {
        bool isq = strncmp(v[i], "quasi:", 6) == 0, isr = strncmp(v[i], "rare:", 5) == 0;
        if (!isq && !isr)
            continue;
        const char *attr = v[i] + (isq ? 6 : 5);
        quasi *q = quasi_of(r, attr);
        if (!q) {
            uint32_t tag;
            if (kk_dcm__tag_of_keyword(attr, &tag) != KK_OK) {
                st = kk__fail(ctx, KK_EINVAL, "profile '%s': '%s' is not a DICOM keyword "
                              "(quasi/rare)", kk_profile_name(p), attr);
                break;
            }
            if (r->nq == MAX_Q) {
                st = kk__fail(ctx, KK_ELIMIT, "more than %d quasi-identifiers", MAX_Q);
                break;
            }
            q = &r->q[r->nq++];
            q->attr = attr;
            q->tag = tag;
            q->hname = "flat";
            q->kind = H_FLAT;
            q->levels = 2;
            q->in_output = kept(p, tag);
        }
        if (isq) {
            q->hname = v[i + 1];
            size_t h = 0, nh = sizeof hierarchies / sizeof *hierarchies;
            while (h < nh && strcmp(hierarchies[h].name, q->hname) != 0)
                h++;
            if (h < nh) {
                q->kind = hierarchies[h].kind;
                q->levels = hierarchies[h].levels;
            } else if (strchr(q->hname, '/') || strstr(q->hname, ".csv")) {
                q->kind = H_FILE;
                st = load_hierarchy_file(ctx, q);
            } else {
                st = kk__fail(ctx, KK_EINVAL, "quasi %s: unknown hierarchy '%s' (age, height, "
                              "weight, date, model, bodypart, sex, institution, station, "
                              "department, flat, or a file)", attr, q->hname);
            }
        } else {
            char *end;
            unsigned long below = strtoul(v[i + 1], &end, 10);
            q->rare_below = (unsigned)below;
            q->rare_remove = strstr(end, "remove") != NULL;
        }
    }
    if (st != KK_OK) {
        kk_release_free(r);
        return st;
    }
    *out = r;
    return KK_OK;
}

void kk_release_free(kk_release *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nf; i++) {
        kk_free(r->f[i].path);
        kk_free(r->f[i].pkey);
        for (int j = 0; j < r->nq; j++)
            kk_free(r->f[i].v[j]);
    }
    for (int j = 0; j < r->nq; j++) {
        for (size_t i = 0; i < r->q[j].nrows; i++) {
            for (int c = 0; c < MAX_LEVELS; c++)
                kk_free(r->q[j].rows[i][c]);
            kk_free(r->q[j].rows[i]);
        }
        kk_free(r->q[j].rows);
    }
    kk_free(r->f);
    kk_free(r->order);
    kk_free(r->by_path);
    kk_free(r->pt);
    kk_free(r->hist_size);
    kk_free(r->hist_count);
    kk_free(r->hist0_size);
    kk_free(r->hist0_count);
    pthread_mutex_destroy(&r->mu);
    kk_free(r);
}

/* ---- pass 1 ------------------------------------------------------------- */

static char *string_of(kk_dcm_item *ds, uint32_t tag)
{
    kk_dcm_elem *e = kk_dcm__find(ds, tag);
    const char *s;
    size_t n;
    if (!e || kk_dcm__get_string(e, &s, &n) != KK_OK)
        return NULL;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\0'))
        n--;
    while (n > 0 && *s == ' ') {
        s++;
        n--;
    }
    return kk__strndup(s, n);
}

kk_status kk_release__read_ids(kk_ctx *ctx, const char *path, kk_release_ids *out)
{
    kk_dcm *dcm = NULL;
    memset(out, 0, sizeof *out);
    kk_status st = kk_dcm__load(&dcm, ctx, path, 64);
    if (st != KK_OK)
        return st;
    kk_dcm_item *ds = kk_dcm__dataset(dcm);
    char *id = string_of(ds, TAG_PATIENT_ID), *iss = string_of(ds, TAG_ISSUER);
    if (id)
        out->id = kk_release__normalize_id(id, strlen(id));
    if (iss)
        out->issuer = kk_release__normalize_id(iss, strlen(iss));
    kk_free(id);
    kk_free(iss);
    kk_dcm__free(dcm);
    return KK_OK;
}

/* The value pass 1 keeps for q: what the hierarchy starts from. */
static char *value_of(const quasi *q, kk_dcm_item *ds, bool raw)
{
    char *v = string_of(ds, q->tag);
    if (raw || !v)
        return v;
    if (q->kind == H_AGE) {
        /* nnnY/M/W/D: years; a child under one is 0 */
        long n = strtol(v, NULL, 10);
        size_t len = strlen(v);
        char unit = len ? v[len - 1] : 'Y';
        kk_free(v);
        kk_buf b = KK_BUF_INIT;
        kk__buf_printf(&b, "%ld", unit == 'Y' ? n : unit == 'M' ? n / 12 : 0);
        return kk__buf_detach(&b);
    }
    if (q->kind == H_MODEL) {
        char *m = string_of(ds, TAG_MANUFACTURER);
        kk_buf b = KK_BUF_INIT;
        kk__buf_printf(&b, "%s\x1f%s", m ? m : "", v);
        kk_free(m);
        kk_free(v);
        return kk__buf_detach(&b);
    }
    return v;
}

static kk_status add_file(kk_release *r, kk_ctx *ctx, const char *path, bool check)
{
    kk_dcm *dcm = NULL;
    kk_status st;
    frec rec;
    frec *f = &rec;
    if (r->solved)
        return kk__fail(ctx, KK_EINVAL, "the release is already solved");
    if ((st = kk_dcm__load(&dcm, ctx, path, 64)) != KK_OK)
        return st;
    kk_dcm_item *ds = kk_dcm__dataset(dcm);
    memset(f, 0, sizeof *f);
    f->path = kk__strdup(path);
    char *id = string_of(ds, TAG_PATIENT_ID);
    if (check && id && *id) {
        kk_buf b = KK_BUF_INIT;
        kk__buf_printf(&b, "P\x1f%s", id);
        f->pkey = kk__buf_detach(&b);
    } else if (check) {
        /* no PatientID in the output (jp-anonymized empties it): each
         * study stands for a patient */
        char *study = string_of(ds, TAG_STUDY_UID);
        kk_buf b = KK_BUF_INIT;
        kk__buf_printf(&b, "S\x1f%s", study ? study : path);
        kk_free(study);
        f->pkey = kk__buf_detach(&b);
    } else {
        char *iss = string_of(ds, TAG_ISSUER);
        char *nid = id && *id ? kk_release__normalize_id(id, strlen(id)) : NULL;
        char *niss = iss ? kk_release__normalize_id(iss, strlen(iss)) : NULL;
        kk_buf b = KK_BUF_INIT;
        if (nid && *nid) {
            kk__buf_printf(&b, "P\x1f%s\x1f%s", nid, niss ? niss : "");
        } else {
            char *study = string_of(ds, TAG_STUDY_UID);
            kk__buf_printf(&b, "S\x1f%s", study ? study : path);
            kk_free(study);
        }
        f->pkey = kk__buf_detach(&b);
        kk_free(iss);
        kk_free(nid);
        kk_free(niss);
    }
    kk_free(id);
    for (int j = 0; j < r->nq; j++)
        if (check || r->q[j].in_output)
            f->v[j] = value_of(&r->q[j], ds, false);
    kk_dcm__free(dcm);
    if (!f->path || !f->pkey) {
        kk_free(f->path);
        kk_free(f->pkey);
        for (int j = 0; j < r->nq; j++)
            kk_free(f->v[j]);
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    }
    /* the header was read outside the lock: several threads may add */
    pthread_mutex_lock(&r->mu);
    if (r->nf == r->capf) {
        size_t cap = r->capf ? 2 * r->capf : 256;
        frec *nf = kk__realloc(r->f, cap * sizeof *nf);
        if (!nf) {
            pthread_mutex_unlock(&r->mu);
            kk_free(f->path);
            kk_free(f->pkey);
            for (int j = 0; j < r->nq; j++)
                kk_free(f->v[j]);
            return kk__fail(ctx, KK_ENOMEM, "out of memory");
        }
        r->f = nf;
        r->capf = cap;
    }
    r->f[r->nf++] = rec;
    pthread_mutex_unlock(&r->mu);
    return KK_OK;
}

kk_status kk_release_add(kk_release *r, kk_ctx *ctx, const char *path)
{
    return add_file(r, ctx, path, false);
}

kk_status kk_release_check_add(kk_release *r, kk_ctx *ctx, const char *path)
{
    return add_file(r, ctx, path, true);
}

/* ---- solving ------------------------------------------------------------ */

static const kk_release *sort_r; /* qsort has no payload: set under one call */

static int cmp_by_patient(const void *a, const void *b)
{
    return strcmp(sort_r->f[*(const size_t *)a].pkey, sort_r->f[*(const size_t *)b].pkey);
}

static int cmp_by_path(const void *a, const void *b)
{
    return strcmp(sort_r->f[*(const size_t *)a].path, sort_r->f[*(const size_t *)b].path);
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int eff_level(const frec *f, int j, int l)
{
    return f->rare[j] > l ? f->rare[j] : l;
}

/* Hash of the set of values patient p holds for q j at level l. */
static kk_status patient_hash(kk_release *r, size_t p, int j, int l, uint64_t *out)
{
    prec *pt = &r->pt[p];
    char **vals = kk__calloc(pt->nfiles, sizeof *vals);
    char buf[256];
    if (!vals)
        return KK_ENOMEM;
    for (size_t i = 0; i < pt->nfiles; i++) {
        const frec *f = &r->f[r->order[pt->first + i]];
        gen(&r->q[j], f->v[j], eff_level(f, j, l), buf, sizeof buf);
        vals[i] = kk__strdup(buf);
        if (!vals[i]) {
            for (size_t k = 0; k < i; k++)
                kk_free(vals[k]);
            kk_free(vals);
            return KK_ENOMEM;
        }
    }
    qsort(vals, pt->nfiles, sizeof *vals, cmp_cstr);
    uint64_t h = 1469598103934665603ull ^ (uint64_t)j;
    for (size_t i = 0; i < pt->nfiles; i++)
        if (i == 0 || strcmp(vals[i], vals[i - 1]) != 0)
            h = kk__fnv1a(kk__fnv1a(h, vals[i], strlen(vals[i])), "\x1e", 1);
    for (size_t i = 0; i < pt->nfiles; i++)
        kk_free(vals[i]);
    kk_free(vals);
    *out = h;
    return KK_OK;
}

/* Rare values of q j: count patients per generalised value. */
typedef struct vp { char *v; size_t p; } vp;

static int cmp_vp(const void *a, const void *b)
{
    const vp *x = a, *y = b;
    int c = strcmp(x->v, y->v);
    return c ? c : (x->p > y->p) - (x->p < y->p);
}

/* patients holding each file's value of q j at level l, per file */
static kk_status count_patients(kk_release *r, int j, int l, size_t *count)
{
    vp *a = kk__calloc(r->nf ? r->nf : 1, sizeof *a);
    char buf[256];
    if (!a)
        return KK_ENOMEM;
    for (size_t i = 0; i < r->nf; i++) {
        gen(&r->q[j], r->f[i].v[j], l, buf, sizeof buf);
        a[i].v = kk__strdup(buf);
        a[i].p = r->f[i].patient;
        if (!a[i].v) {
            for (size_t k = 0; k < i; k++)
                kk_free(a[k].v);
            kk_free(a);
            return KK_ENOMEM;
        }
    }
    /* sort a copy of indices: count distinct patients per value */
    size_t *idx = kk__calloc(r->nf ? r->nf : 1, sizeof *idx);
    if (!idx) {
        for (size_t k = 0; k < r->nf; k++)
            kk_free(a[k].v);
        kk_free(a);
        return KK_ENOMEM;
    }
    vp *s = kk__calloc(r->nf ? r->nf : 1, sizeof *s);
    if (s) {
        for (size_t i = 0; i < r->nf; i++)
            s[i] = a[i];
        qsort(s, r->nf, sizeof *s, cmp_vp);
        for (size_t i = 0; i < r->nf; i++) {
            /* binary search the run of a[i].v in s and count patients */
            size_t lo = 0, hi = r->nf;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (strcmp(s[mid].v, a[i].v) < 0)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            size_t n = 0;
            for (size_t k = lo; k < r->nf && strcmp(s[k].v, a[i].v) == 0; k++)
                if (k == lo || s[k].p != s[k - 1].p)
                    n++;
            count[i] = n;
        }
    }
    for (size_t k = 0; k < r->nf; k++)
        kk_free(a[k].v);
    kk_free(a);
    kk_free(s);
    kk_free(idx);
    return s ? KK_OK : KK_ENOMEM;
}

static kk_status rare_values(kk_release *r, kk_ctx *ctx)
{
    size_t *count = kk__calloc(r->nf ? r->nf : 1, sizeof *count);
    if (!count)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    for (int j = 0; j < r->nq; j++) {
        quasi *q = &r->q[j];
        if (!q->rare_below || !q->in_output)
            continue;
        if (count_patients(r, j, 0, count) != KK_OK) {
            kk_free(count);
            return kk__fail(ctx, KK_ENOMEM, "out of memory");
        }
        bool any = false;
        for (size_t i = 0; i < r->nf; i++) {
            r->f[i].rare[j] = 0;
            if (r->f[i].v[j] && *r->f[i].v[j] && count[i] < q->rare_below) {
                r->f[i].rare[j] = (signed char)(q->rare_remove ? q->levels - 1 : -1);
                any = true;
            }
        }
        /* generalize: up the hierarchy until the generalised value is
         * held by enough patients */
        for (int l = 1; any && l < q->levels - 1; l++) {
            if (count_patients(r, j, l, count) != KK_OK) {
                kk_free(count);
                return kk__fail(ctx, KK_ENOMEM, "out of memory");
            }
            any = false;
            for (size_t i = 0; i < r->nf; i++)
                if (r->f[i].rare[j] < 0) {
                    if (count[i] >= q->rare_below)
                        r->f[i].rare[j] = (signed char)l;
                    else
                        any = true;
                }
        }
        /* values replaced: distinct level-0 values, and instances */
        char **seen = kk__calloc(r->nf ? r->nf : 1, sizeof *seen);
        size_t ns = 0;
        for (size_t i = 0; i < r->nf; i++) {
            if (r->f[i].rare[j] < 0)
                r->f[i].rare[j] = (signed char)(q->levels - 1);
            if (r->f[i].rare[j] > 0) {
                q->rare_instances++;
                if (seen)
                    seen[ns++] = r->f[i].v[j];
            }
        }
        if (seen) {
            qsort(seen, ns, sizeof *seen, cmp_cstr);
            for (size_t i = 0; i < ns; i++)
                if (i == 0 || strcmp(seen[i], seen[i - 1]) != 0)
                    q->rare_values++;
            kk_free(seen);
        }
    }
    kk_free(count);
    return KK_OK;
}

/* Patients in classes of fewer than k at levels L (suppressed ones left
 * out when skip_suppressed); with mark, they are marked suppressed and
 * the histogram is made. */
static size_t outliers(kk_release *r, const int *L, bool mark, uint64_t *keys, size_t *idx)
{
    size_t n = 0;
    for (size_t p = 0; p < r->np; p++) {
        uint64_t h = 1469598103934665603ull;
        for (int j = 0; j < r->nq; j++)
            h = (h ^ r->pt[p].h[j][L[j]]) * 1099511628211ull + (uint64_t)j;
        keys[2 * n] = h;
        keys[2 * n + 1] = p;
        n++;
    }
    qsort(keys, n, 2 * sizeof *keys, cmp_u64);
    size_t out = 0;
    (void)idx;
    for (size_t i = 0; i < n;) {
        size_t e = i;
        while (e < n && keys[2 * e] == keys[2 * i])
            e++;
        if (e - i < r->k) {
            out += e - i;
            if (mark)
                for (size_t t = i; t < e; t++)
                    r->pt[keys[2 * t + 1]].suppressed = true;
        }
        i = e;
    }
    return out;
}

/* Distinct values (patient sets) of q j at level l. */
static size_t distinct(kk_release *r, int j, int l, uint64_t *keys)
{
    size_t n = 0;
    for (size_t p = 0; p < r->np; p++)
        keys[n++] = r->pt[p].h[j][l];
    qsort(keys, n, sizeof *keys, cmp_u64);
    size_t d = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || keys[i] != keys[i - 1])
            d++;
    return d;
}

static kk_status histogram(kk_release *r, const int *L, uint64_t *keys)
{
    size_t n = 0;
    for (size_t p = 0; p < r->np; p++) {
        if (r->pt[p].suppressed)
            continue;
        uint64_t h = 1469598103934665603ull;
        for (int j = 0; j < r->nq; j++)
            h = (h ^ r->pt[p].h[j][L[j]]) * 1099511628211ull + (uint64_t)j;
        keys[n++] = h;
    }
    qsort(keys, n, sizeof *keys, cmp_u64);
    r->classes = 0;
    r->smallest = 0;
    r->nhist = 0;
    r->hist_size = kk__calloc(n + 1, sizeof *r->hist_size);
    r->hist_count = kk__calloc(n + 1, sizeof *r->hist_count);
    size_t *sizes = kk__calloc(n + 1, sizeof *sizes);
    if (!r->hist_size || !r->hist_count || !sizes) {
        kk_free(sizes);
        return KK_ENOMEM;
    }
    size_t ns = 0;
    for (size_t i = 0; i < n;) {
        size_t e = i;
        while (e < n && keys[e] == keys[i])
            e++;
        sizes[ns++] = e - i;
        r->classes++;
        if (!r->smallest || e - i < r->smallest)
            r->smallest = e - i;
        i = e;
    }
    qsort(sizes, ns, sizeof *sizes, cmp_u64);
    for (size_t i = 0; i < ns;) {
        size_t e = i;
        while (e < ns && sizes[e] == sizes[i])
            e++;
        r->hist_size[r->nhist] = sizes[i];
        r->hist_count[r->nhist++] = e - i;
        i = e;
    }
    kk_free(sizes);
    return KK_OK;
}

static kk_status group(kk_release *r, kk_ctx *ctx)
{
    r->order = kk__calloc(r->nf ? r->nf : 1, sizeof *r->order);
    r->by_path = kk__calloc(r->nf ? r->nf : 1, sizeof *r->by_path);
    r->pt = kk__calloc(r->nf ? r->nf : 1, sizeof *r->pt);
    if (!r->order || !r->by_path || !r->pt)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    for (size_t i = 0; i < r->nf; i++)
        r->order[i] = r->by_path[i] = i;
    sort_r = r;
    qsort(r->order, r->nf, sizeof *r->order, cmp_by_patient);
    qsort(r->by_path, r->nf, sizeof *r->by_path, cmp_by_path);
    sort_r = NULL;
    r->np = 0;
    for (size_t i = 0; i < r->nf; i++) {
        if (i == 0 || strcmp(r->f[r->order[i]].pkey, r->f[r->order[i - 1]].pkey) != 0) {
            r->pt[r->np].first = i;
            r->np++;
        }
        r->pt[r->np - 1].nfiles++;
        r->f[r->order[i]].patient = r->np - 1;
    }
    return KK_OK;
}

static kk_status hashes(kk_release *r, kk_ctx *ctx, bool all_levels)
{
    for (size_t p = 0; p < r->np; p++)
        for (int j = 0; j < r->nq; j++)
            for (int l = 0; l < (all_levels ? r->q[j].levels : 1); l++)
                if (patient_hash(r, p, j, l, &r->pt[p].h[j][l]) != KK_OK)
                    return kk__fail(ctx, KK_ENOMEM, "out of memory");
    return KK_OK;
}

kk_status kk_release_solve(kk_release *r, kk_ctx *ctx)
{
    kk_status st;
    int L[MAX_Q] = { 0 };
    if (!r)
        return kk__fail(ctx, KK_EINVAL, "no release");
    if (r->solved)
        return KK_OK;
    /* a quasi-identifier the profile removes is one class: level '*' */
    for (int j = 0; j < r->nq; j++)
        if (!r->q[j].in_output)
            L[j] = r->q[j].levels - 1;
    if ((st = group(r, ctx)) || (st = rare_values(r, ctx)) || (st = hashes(r, ctx, true)))
        return st;
    uint64_t *keys = kk__calloc(2 * (r->np + 1), sizeof *keys);
    if (!keys)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    /* the classes as the data came, for the report's before-and-after */
    int L0[MAX_Q] = { 0 };
    if (histogram(r, L0, keys) != KK_OK) {
        kk_free(keys);
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    }
    r->hist0_size = r->hist_size;
    r->hist0_count = r->hist_count;
    r->nhist0 = r->nhist;
    r->hist_size = r->hist_count = NULL;
    r->nhist = 0;
    size_t limit = (size_t)floor(r->limit_pct / 100.0 * (double)r->np + 1e-9);
    size_t cur = outliers(r, L, false, keys, NULL);
    while (cur > limit) {
        int best = -1;
        size_t best_out = 0;
        size_t best_distinct = 0;
        for (int j = 0; j < r->nq; j++) {
            if (L[j] >= r->q[j].levels - 1)
                continue;
            L[j]++;
            size_t o = outliers(r, L, false, keys, NULL);
            L[j]--;
            /* ties (common while every patient is alone): the attribute
             * with the most distinct values at its level, as Datafly */
            size_t d = distinct(r, j, L[j], keys);
            if (best < 0 || o < best_out || (o == best_out && d > best_distinct)) {
                best = j;
                best_out = o;
                best_distinct = d;
            }
        }
        if (best < 0)
            break; /* every attribute is '*': fewer than k patients in all */
        L[best]++;
        cur = best_out;
    }
    /* then back down: lower any attribute one level at a time while the
     * limit still holds (the greedy path may have raised one that a later
     * step made unnecessary): the result is a local minimum */
    for (bool again = cur <= limit; again;) {
        again = false;
        for (int j = 0; j < r->nq; j++) {
            if (!r->q[j].in_output || L[j] == 0)
                continue;
            L[j]--;
            size_t o = outliers(r, L, false, keys, NULL);
            if (o <= limit)
                again = true;
            else
                L[j]++;
        }
    }
    outliers(r, L, true, keys, NULL);
    for (int j = 0; j < r->nq; j++)
        r->q[j].level = L[j];
    for (size_t p = 0; p < r->np; p++)
        if (r->pt[p].suppressed) {
            r->supp_patients++;
            r->supp_instances += r->pt[p].nfiles;
        }
    st = histogram(r, L, keys);
    kk_free(keys);
    if (st != KK_OK)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    r->solved = true;
    return KK_OK;
}

static const frec *find_file(const kk_release *r, const char *path)
{
    size_t lo = 0, hi = r->nf;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(r->f[r->by_path[mid]].path, path);
        if (c == 0)
            return &r->f[r->by_path[mid]];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int kk_release_suppressed(const kk_release *r, const char *path)
{
    if (!r || !r->solved || !path)
        return 0;
    const frec *f = find_file(r, path);
    return f && r->pt[f->patient].suppressed;
}

kk_status kk_release__apply(const kk_release *r, kk_ctx *ctx, const char *in_path,
                            kk_dcm_item *ds)
{
    char buf[256];
    if (!r || !r->solved)
        return KK_OK;
    const frec *f = find_file(r, in_path);
    if (!f)
        return kk__fail(ctx, KK_EINVAL, "'%s' was not read in the release's first pass",
                        in_path);
    if (r->pt[f->patient].suppressed)
        return kk__fail(ctx, KK_ESKIPPED, "'%s' belongs to a suppressed patient", in_path);
    for (int j = 0; j < r->nq; j++) {
        const quasi *q = &r->q[j];
        if (!q->in_output)
            continue;
        int l = eff_level(f, j, q->level);
        gen(q, f->v[j], l, buf, sizeof buf);
        uint32_t tags[2] = { q->tag, 0 };
        if (q->kind == H_MODEL) {
            /* level 1: the model goes, the manufacturer stays */
            if (l >= 1)
                buf[0] = '\0';
            if (l >= 2)
                tags[1] = TAG_MANUFACTURER;
        }
        for (int t = 0; t < 2 && tags[t]; t++) {
            kk_dcm_elem *e = kk_dcm__find(ds, tags[t]);
            if (!e)
                continue;
            kk_status st = t == 1 || !buf[0] ? kk_dcm__set_empty(e, ctx)
                                              : kk_dcm__set_string(ds, &e, ctx, buf, strlen(buf));
            if (st != KK_OK)
                return st;
        }
    }
    return KK_OK;
}

bool kk_release__histogram(const kk_release *r, bool after, const size_t **size,
                           const size_t **count, size_t *n, unsigned *k)
{
    if (!r || !r->solved)
        return false;
    *size = after ? r->hist_size : r->hist0_size;
    *count = after ? r->hist_count : r->hist0_count;
    *n = after ? r->nhist : r->nhist0;
    *k = r->k;
    return true;
}

kk_status kk_release_write_report(const kk_release *r, kk_ctx *ctx, FILE *fp,
                                  size_t opted_out)
{
    if (!r || !r->solved || !fp)
        return kk__fail(ctx, KK_EINVAL, "the release is not solved");
    fprintf(fp, "{\"k\":%u,\"k_reached\":%zu,\"suppress_limit_percent\":%g,"
            "\"patients\":%zu,\"instances\":%zu,\"patients_suppressed\":%zu,"
            "\"instances_suppressed\":%zu,\"opted_out_instances\":%zu,\"classes\":%zu,"
            "\"class_sizes\":{",
            r->k, r->smallest, r->limit_pct, r->np, r->nf, r->supp_patients,
            r->supp_instances, opted_out, r->classes);
    for (size_t i = 0; i < r->nhist; i++)
        fprintf(fp, "%s\"%zu\":%zu", i ? "," : "", r->hist_size[i], r->hist_count[i]);
    fprintf(fp, "},\"class_sizes_before\":{");
    for (size_t i = 0; i < r->nhist0; i++)
        fprintf(fp, "%s\"%zu\":%zu", i ? "," : "", r->hist0_size[i], r->hist0_count[i]);
    fprintf(fp, "},\"attributes\":[");
    for (int j = 0; j < r->nq; j++) {
        const quasi *q = &r->q[j];
        fprintf(fp, "%s{\"attribute\":\"%s\",\"hierarchy\":\"%s\",\"in_output\":%s,"
                "\"level\":%d,\"top_level\":%d,\"rare_below\":%u,\"rare_values_replaced\":%zu,"
                "\"rare_instances_replaced\":%zu}",
                j ? "," : "", q->attr, q->kind == H_FILE ? "file" : q->hname,
                q->in_output ? "true" : "false", q->level, q->levels - 1, q->rare_below,
                q->rare_values, q->rare_instances);
    }
    fprintf(fp, "]}\n");
    if (fflush(fp) != 0 || ferror(fp))
        return kk__fail(ctx, KK_EIO, "cannot write the release report");
    return KK_OK;
}

kk_status kk_release_check_result(kk_release *r, kk_ctx *ctx, unsigned k,
                                  kk_release_check *out)
{
    kk_status st;
    int L[MAX_Q] = { 0 };
    memset(out, 0, sizeof *out);
    if (!r || r->solved)
        return kk__fail(ctx, KK_EINVAL, "kk_release_check_result: not a check");
    r->k = k ? k : r->k;
    if ((st = group(r, ctx)) || (st = hashes(r, ctx, false)))
        return st;
    for (int j = 0; j < r->nq; j++)
        r->q[j].levels = 2; /* identity at level 0: the outputs as written */
    uint64_t *keys = kk__calloc(2 * (r->np + 1), sizeof *keys);
    if (!keys)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    st = histogram(r, L, keys);
    kk_free(keys);
    if (st != KK_OK)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    r->solved = true;
    out->patients = r->np;
    out->instances = r->nf;
    out->classes = r->classes;
    out->smallest = r->smallest;
    for (size_t i = 0; i < r->nhist; i++)
        if (r->hist_size[i] < r->k)
            out->classes_below += r->hist_count[i];
    return KK_OK;
}
