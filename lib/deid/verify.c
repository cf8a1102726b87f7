/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/deid/verify.c - kakou verify: check de-identified output against a
 * profile (include/kakou/verify.h, R22).
 *
 * How "the profile would not keep it" is decided: the file is loaded
 * twice; the profile is applied to one copy in memory (a dry run: no
 * store written, ephemeral key), and the copies are compared element by
 * element. An element the run removed is a finding. An element whose value
 * the run changed is a finding unless its action is keyed: a UID or a
 * pseudonym changes every time it is re-applied, so those are checked for
 * their form or against the store instead, and shifted dates are not
 * checked. Records kakou adds to every output (group 0012 at the top) are
 * rewritten by the run and not compared.
 * With kk_verify_pixels(), the pixels are searched too, by the pixel
 * module's last look after painting (kk_pixel__residue: presence stage
 * and detector), and text found there is one finding on Pixel Data.
 * Invariants: nothing here prints; findings carry no value (R04); the
 * originals read from the store live only in this object and are wiped
 * when it is freed.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/core.h"
#include "deid/clean.h"
#include "text/charset.h"
#include "deid/verify_internal.h"
#include "kakou/verify.h"
#include "pixel/redact.h"
#include "store/store_internal.h"

/* --- a set of strings (open addressing) ------------------------------- */

typedef struct strset {
    char **slot;
    size_t cap, n;
} strset;

static uint64_t hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static bool set_has(const strset *s, const char *v, size_t n)
{
    if (!s->cap)
        return false;
    for (size_t i = hash(v, n) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (!s->slot[i])
            return false;
        if (strlen(s->slot[i]) == n && memcmp(s->slot[i], v, n) == 0)
            return true;
    }
}

static int set_add(strset *s, const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || set_has(s, v, n))
        return 0;
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        char **slot = kk__calloc(cap, sizeof *slot);
        if (!slot)
            return -1;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->slot[i])
                continue;
            size_t j = hash(s->slot[i], strlen(s->slot[i])) & (cap - 1);
            while (slot[j])
                j = (j + 1) & (cap - 1);
            slot[j] = s->slot[i];
        }
        free(s->slot);
        s->slot = slot;
        s->cap = cap;
    }
    char *c = kk__strdup(v);
    if (!c)
        return -1;
    size_t j = hash(v, n) & (s->cap - 1);
    while (s->slot[j])
        j = (j + 1) & (s->cap - 1);
    s->slot[j] = c;
    s->n++;
    return 0;
}

static void set_free(strset *s)
{
    for (size_t i = 0; i < s->cap; i++) {
        if (s->slot[i]) {
            sodium_memzero(s->slot[i], strlen(s->slot[i]));
            free(s->slot[i]);
        }
    }
    free(s->slot);
    memset(s, 0, sizeof *s);
}

/* --- the verifier ------------------------------------------------------- */

struct kk_verify {
    const kk_profile *profile;
    kk_deid *deid;        /* dry run */
    kk_cleaner *cleaner;  /* the clean action's patterns */
    bool have_store;
    strset originals;     /* from the store */
    strset new_ids;       /* pseudonyms and new UIDs the store knows */
    bool oom;
    kk_pixel_pool *pixels; /* kk_verify_pixels(): search the pixels too */
    /* without it, where the dry run's first look still boxes text, the
     * last look judges it (made on first need, shared by the threads) */
    pthread_mutex_t judge_lock;
    kk_pixel_pool *judge;
    bool judge_tried;
};

static void take_mapping(char kind, const char *new_id, const char *original, void *payload)
{
    kk_verify *v = payload;
    (void)kind;
    if (set_add(&v->new_ids, new_id) != 0 || set_add(&v->originals, original) != 0)
        v->oom = true;
}

kk_status kk_verify_new(kk_verify **out, kk_ctx *ctx, const kk_profile *profile, kk_store *store)
{
    *out = NULL;
    if (!profile)
        return kk__fail(ctx, KK_EINVAL, "no profile");
    kk_verify *v = kk__calloc(1, sizeof *v);
    if (!v)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    v->profile = profile;
    pthread_mutex_init(&v->judge_lock, NULL);
    kk_status st = kk_deid__new_dry(&v->deid, ctx, profile);
    if (st == KK_OK)
        st = kk_clean__new_for(&v->cleaner, ctx, profile);
    if (st == KK_OK && store) {
        v->have_store = true;
        st = kk_store__each_mapping(store, ctx, "verify", take_mapping, v);
        if (st == KK_OK && v->oom)
            st = kk__fail(ctx, KK_ENOMEM, "out of memory reading the store");
    }
    if (st != KK_OK) {
        kk_verify_free(v);
        return st;
    }
    *out = v;
    return KK_OK;
}

void kk_verify_free(kk_verify *v)
{
    if (!v)
        return;
    kk_deid_free(v->deid);
    kk_clean__free(v->cleaner);
    kk_pixel__pool_free(v->pixels);
    kk_pixel__pool_free(v->judge);
    pthread_mutex_destroy(&v->judge_lock);
    set_free(&v->originals);
    set_free(&v->new_ids);
    free(v);
}

kk_status kk_verify_pixels(kk_verify *v, kk_ctx *ctx)
{
    if (v->pixels)
        return KK_OK;
    return kk_pixel__pool_new(&v->pixels, ctx, v->profile);
}

kk_status kk_verify_explain(kk_verify *v, kk_ctx *ctx, const char *path, kk_explain_fn fn,
                            void *payload)
{
    return kk_deid_explain(v->deid, ctx, path, 0, fn, payload);
}

/* --- one file ------------------------------------------------------------- */

/* What the dry run decided for one location. */
typedef struct decision {
    char *path;
    kk_action action;
    char *rule;
} decision;

typedef struct check {
    kk_verify *v;
    kk_ctx *ctx;
    kk_verify_fn fn;
    void *payload;
    size_t findings;
    decision *dec;
    size_t ndec, capdec;
    bool oom;
    kk_buf loc;
    char *charset; /* (0008,0005) of the object checked, for its text */
    size_t boxed;  /* regions the dry run's first look boxes as text */
} check;

static void collect(const kk_explain_entry *e, void *payload)
{
    check *c = payload;
    if (e->box) {
        /* text detection still boxes text in the pixels: the strict last
         * look judges it after the walk, as deid judged its output (the
         * first look also boxes technical text deid keeps, and weak
         * candidates along painted boxes) */
        if (!c->v->pixels && e->box->source && strcmp(e->box->source, "detected") == 0)
            c->boxed++;
        return;
    }
    if (c->ndec == c->capdec) {
        size_t cap = c->capdec ? c->capdec * 2 : 256;
        decision *d = kk__realloc(c->dec, cap * sizeof *d);
        if (!d) {
            c->oom = true;
            return;
        }
        c->dec = d;
        c->capdec = cap;
    }
    decision *d = &c->dec[c->ndec];
    d->path = kk__strdup(e->path);
    d->rule = kk__strdup(e->rule ? e->rule : "");
    d->action = e->action;
    if (!d->path || !d->rule) {
        free(d->path);
        free(d->rule);
        c->oom = true;
        return;
    }
    c->ndec++;
}

static int cmp_decision(const void *a, const void *b)
{
    return strcmp(((const decision *)a)->path, ((const decision *)b)->path);
}

static const decision *find_decision(const check *c, const char *path)
{
    if (!c->ndec)
        return NULL;
    decision key = { (char *)path, KK_ACTION_KEEP, NULL };
    return bsearch(&key, c->dec, c->ndec, sizeof *c->dec, cmp_decision);
}

static void finding(check *c, kk_dcm_elem *e, uint32_t tag, int depth, const decision *d,
                    const char *problem)
{
    kk_explain_entry x;
    memset(&x, 0, sizeof x);
    x.path = c->loc.data ? c->loc.data : "";
    x.depth = depth;
    x.tag = tag;
    x.keyword = kk_dcm__keyword(tag);
    uint16_t vr = e ? kk_dcm__vr(e) : 0;
    x.vr[0] = vr ? (char)(vr >> 8) : '-';
    x.vr[1] = vr ? (char)(vr & 0xff) : '-';
    x.action = d ? d->action : KK_ACTION_KEEP;
    x.rule = d ? d->rule : "-";
    c->fn(&x, problem, c->payload);
    c->findings++;
}

static bool text_vr(uint16_t vr)
{
    return vr == KK_VR('L', 'O') || vr == KK_VR('S', 'H') || vr == KK_VR('S', 'T') ||
           vr == KK_VR('L', 'T') || vr == KK_VR('U', 'T') || vr == KK_VR('U', 'C') ||
           vr == KK_VR('P', 'N');
}

/* Every value a replacement UID (2.25.…), or one deid keeps: the
 * standard's UIDs (lib/deid/actions.c). */
static bool kakou_uid(const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '\\')
            continue;
        const char *u = s + start;
        size_t l = i - start;
        while (l && (u[l - 1] == ' ' || u[l - 1] == '\0'))
            l--;
        start = i + 1;
        char one[128];
        if (l > 14 && l < sizeof one && memcmp(u, "1.2.840.10008.", 14) == 0) {
            memcpy(one, u, l);
            one[l] = '\0';
            if (kk_dcm__uid_is_standard(one))
                continue;
            return false;
        }
        if (l == 0)
            continue;
        if (l < 6 || memcmp(u, "2.25.", 5) != 0)
            return false;
        for (size_t k = 5; k < l; k++)
            if (u[k] < '0' || u[k] > '9')
                return false;
    }
    return true;
}

/* Does the value, or one of its backslash-separated values (or, for a
 * name, one of its components), equal an original from the store? */
static bool holds_original(const kk_verify *v, const char *s, size_t n, bool pn)
{
    if (!v->originals.n || n == 0)
        return false;
    if (set_has(&v->originals, s, n))
        return true;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        bool cut = i == n || s[i] == '\\' || (pn && (s[i] == '^' || s[i] == '='));
        if (!cut)
            continue;
        size_t a = start, b = i;
        while (a < b && s[a] == ' ')
            a++;
        while (b > a && s[b - 1] == ' ')
            b--;
        if (b - a >= 2 && set_has(&v->originals, s + a, b - a))
            return true;
        start = i + 1;
    }
    return false;
}

static bool same_value(kk_dcm_elem *a, kk_dcm_elem *b)
{
    const char *sa, *sb;
    size_t na, nb;
    if (kk_dcm__get_string(a, &sa, &na) == KK_OK && kk_dcm__get_string(b, &sb, &nb) == KK_OK)
        return na == nb && memcmp(sa, sb, na) == 0;
    if (kk_dcm__length(a) != kk_dcm__length(b))
        return false;
    if (kk_dcm__length(a) > 4096)
        return true; /* bulk data no action rewrites in place */
    char *ta = kk_dcm__value_text(a), *tb = kk_dcm__value_text(b);
    bool same = ta && tb && strcmp(ta, tb) == 0;
    free(ta);
    free(tb);
    return same;
}

static const char *changed_problem(kk_action a)
{
    switch (a) {
    case KK_ACTION_EMPTY: return "has a value; the profile empties it";
    case KK_ACTION_DUMMY: return "not the dummy value the profile puts there";
    case KK_ACTION_CLEAN: return "text the profile would clean further";
    case KK_ACTION_REMOVE: return "has a value; the profile removes it";
    case KK_ACTION_GENERALIZE_AGE: return "an age the profile would generalize";
    case KK_ACTION_TRUNCATE_DATE: return "a date the profile would truncate";
    case KK_ACTION_GENERALIZE_ADDRESS: return "an address the profile would generalize";
    case KK_ACTION_SET: return "not the value the profile sets";
    default: return "a value the profile would change";
    }
}

static void compare_item(check *c, kk_dcm_item *a, kk_dcm_item *b, int depth);

/* DerivationDescription as written by a run that painted burned-in text
 * out of an object without one: kakou's note alone, nothing before it
 * (an original description would stand first, and is judged as any). */
static bool kakou_derivation(kk_dcm_elem *e)
{
    static const char note[] = "burned-in text removed; ";
    const char *s;
    size_t n;
    return kk_dcm__get_string(e, &s, &n) == KK_OK && n >= sizeof note - 1 &&
           memcmp(s, note, sizeof note - 1) == 0 && !memchr(s + sizeof note - 1, ';', n - (sizeof note - 1));
}


/* A code's value and scheme name a concept (DCM 121071, SNOMED 91723000),
 * not a person: the profile keeps them, and their digits are no ID. */
static bool coded_entry(uint32_t tag)
{
    return tag == 0x00080100 || tag == 0x00080119 || tag == 0x00080102 || tag == 0x00080103;
}

static void compare_elem(check *c, kk_dcm_item *b_item, kk_dcm_elem *ea, int depth)
{
    uint32_t tag = kk_dcm__tag(ea);
    uint16_t g = KK_GROUP(tag);
    size_t mark = c->loc.len;
    kk__buf_printf(&c->loc, "%s(%04X,%04X)", mark ? ">" : "", g, KK_ELEMENT(tag));
    const decision *d = find_decision(c, c->loc.data);
    kk_dcm_elem *eb = b_item ? kk_dcm__find(b_item, tag) : NULL;
    uint16_t vr = kk_dcm__vr(ea);
    const kk_verify *v = c->v;

    if (depth == 0 && g == 0x0012 && (KK_ELEMENT(tag) == 0x0062 || KK_ELEMENT(tag) == 0x0063 ||
                                      KK_ELEMENT(tag) == 0x0064))
        goto out; /* kakou's own records: rewritten by every run */
    if (depth == 0 && tag == KK_TAG(0x0008, 0x2111) && kakou_derivation(ea))
        goto out; /* the pixel module's note that it painted (image_dcmtk.cc) */
    if (!eb) {
        finding(c, ea, tag, depth, d,
                (g & 1) ? "private element outside the safe list; the profile removes it"
                        : "present; the profile removes it");
        goto out;
    }
    if (kk_dcm__is_sequence(ea)) {
        kk_dcm_item *ia = kk_dcm__next_item(ea, NULL);
        kk_dcm_item *ib = kk_dcm__next_item(eb, NULL);
        bool fewer = false;
        for (int i = 0; ia; i++) {
            size_t m2 = c->loc.len;
            kk__buf_printf(&c->loc, "[%d]", i);
            if (!ib)
                fewer = true;
            compare_item(c, ia, ib, depth + 1);
            c->loc.len = m2;
            c->loc.data[m2] = '\0';
            ia = kk_dcm__next_item(ea, ia);
            if (ib)
                ib = kk_dcm__next_item(eb, ib);
        }
        if (fewer)
            finding(c, ea, tag, depth, d, "holds items the profile removes");
        goto out;
    }
    const char *s = NULL;
    size_t n = 0;
    bool is_str = kk_dcm__get_string(ea, &s, &n) == KK_OK;
    /* a number equal to an original ID ("1", "-1024") is still a number */
    bool numeric = vr == KK_VR('D', 'S') || vr == KK_VR('I', 'S') || vr == KK_VR('U', 'S') ||
                   vr == KK_VR('S', 'S') || vr == KK_VR('U', 'L') || vr == KK_VR('S', 'L') ||
                   vr == KK_VR('F', 'L') || vr == KK_VR('F', 'D') || vr == KK_VR('A', 'T') ||
                   vr == KK_VR('S', 'V') || vr == KK_VR('U', 'V') || vr == KK_VR('O', 'F') ||
                   vr == KK_VR('O', 'D');
    if (is_str && !numeric && holds_original(v, s, n, vr == KK_VR('P', 'N')))
        finding(c, ea, tag, depth, d, "a value equals an original recorded in the store");
    kk_action act = d ? d->action : KK_ACTION_KEEP;
    if (act == KK_ACTION_UID || (act == KK_ACTION_DUMMY && vr == KK_VR('U', 'I'))) {
        if (is_str && n && !kakou_uid(s, n))
            finding(c, ea, tag, depth, d, "a UID the profile replaces, not a replacement UID");
        else if (is_str && n && v->have_store && !set_has(&v->new_ids, s, n) &&
                 act == KK_ACTION_UID)
            finding(c, ea, tag, depth, d, "a replacement UID the store does not know");
    } else if (act == KK_ACTION_PSEUDONYM) {
        if (is_str && n && v->have_store && !set_has(&v->new_ids, s, n))
            finding(c, ea, tag, depth, d, "not a pseudonym the store knows");
    } else if (act == KK_ACTION_SHIFT_DATE ||
               (act == KK_ACTION_CLEAN && (vr == KK_VR('D', 'A') || vr == KK_VR('D', 'T') ||
                                           vr == KK_VR('T', 'M')))) {
        /* cleaning a date shifts it when the profile shifts dates: keyed */
    } else if (act == KK_ACTION_KEEP || act == KK_ACTION_CLEAN) {
        /* every text value kept or cleaned, private ones too: the clean
         * action's detector, on the decoded text, as a second opinion */
        if (act == KK_ACTION_CLEAN && !same_value(ea, eb)) {
            finding(c, ea, tag, depth, d, changed_problem(act));
        } else if (is_str && n && text_vr(vr) && vr != KK_VR('P', 'N')) {
            kk_buf u = KK_BUF_INIT;
            const char *cs = c->charset ? c->charset : "";
            kk_text_src src = kk_text__decode(cs, strlen(cs), s, n, &u);
            if (src != KK_TEXT_AS_DECLARED)
                finding(c, ea, tag, depth, d, "text not valid in its declared character set");
            else if (!coded_entry(tag) && kk_clean__finds(v->cleaner, NULL, u.data ? u.data : "", u.len))
                finding(c, ea, tag, depth, d, "kept text that looks like a name, ID or date");
            kk__buf_free(&u);
        }
    } else if (!same_value(ea, eb)) {
        finding(c, ea, tag, depth, d, changed_problem(act));
    }
out:
    c->loc.len = mark;
    if (c->loc.data)
        c->loc.data[mark] = '\0';
}

static void compare_item(check *c, kk_dcm_item *a, kk_dcm_item *b, int depth)
{
    if (depth > 64)
        return;
    for (kk_dcm_elem *e = kk_dcm__next(a, NULL); e; e = kk_dcm__next(a, e))
        compare_elem(c, b, e, depth);
}

static bool has_code(kk_dcm_item *ds, const char *code)
{
    kk_dcm_elem *seq = kk_dcm__find(ds, KK_TAG(0x0012, 0x0064));
    for (kk_dcm_item *it = seq ? kk_dcm__next_item(seq, NULL) : NULL; it;
         it = kk_dcm__next_item(seq, it)) {
        kk_dcm_elem *cv = kk_dcm__find(it, KK_TAG(0x0008, 0x0100));
        const char *s;
        size_t n;
        if (cv && kk_dcm__get_string(cv, &s, &n) == KK_OK && n == strlen(code) &&
            memcmp(s, code, n) == 0)
            return true;
    }
    return false;
}

/* Checks of the object as a whole. */
static void check_object(check *c, kk_dcm *a)
{
    kk_dcm_item *ds = kk_dcm__dataset(a);
    kk_dcm_elem *bia = kk_dcm__find(ds, KK_TAG(0x0028, 0x0301));
    const char *s;
    size_t n;
    if (bia && kk_dcm__get_string(bia, &s, &n) == KK_OK && n >= 3 && memcmp(s, "YES", 3) == 0 &&
        !has_code(ds, "113101")) {
        kk__buf_adds(&c->loc, "(0028,0301)");
        finding(c, bia, KK_TAG(0x0028, 0x0301), 0, NULL,
                "YES without code 113101 (Clean Pixel Data) in "
                "DeidentificationMethodCodeSequence: burned-in text may remain");
        c->loc.len = 0;
        c->loc.data[0] = '\0';
    }
    /* File Meta: who sent it, and private information (PS3.15 E.1.1) */
    static const uint32_t meta_tags[] = { KK_TAG(0x0002, 0x0016), KK_TAG(0x0002, 0x0017),
                                          KK_TAG(0x0002, 0x0018), KK_TAG(0x0002, 0x0100),
                                          KK_TAG(0x0002, 0x0102) };
    kk_dcm_item *meta = kk_dcm__meta(a);
    for (size_t i = 0; meta && i < sizeof meta_tags / sizeof meta_tags[0]; i++) {
        kk_dcm_elem *e = kk_dcm__find(meta, meta_tags[i]);
        if (!e || kk_dcm__length(e) == 0)
            continue;
        kk__buf_printf(&c->loc, "(%04X,%04X)", KK_GROUP(meta_tags[i]), KK_ELEMENT(meta_tags[i]));
        finding(c, e, meta_tags[i], 0, NULL, "File Meta element that names a sender or holds "
                                             "private information");
        c->loc.len = 0;
        c->loc.data[0] = '\0';
    }
}

/* Text still in the pixels (issue 14 item 7), searched as deid's last
 * look after painting searches. A line counts when it looks identifying:
 * OCR classed it (a label cue) or it matches the clean action's patterns
 * (dates, IDs, names after honorifics...), as kept header text is judged.
 * Lines that do not (speckle read as "iN", a misread "5. OMHz") are
 * counted apart and reported with it, never as a finding alone: on busy
 * pictures the detector's strays would flag every file. One finding on
 * Pixel Data; the text itself is never shown (R04). */
typedef struct pixel_tally {
    const kk_cleaner *cleaner;
    unsigned lines, other;
    int frames, last_frame;
} pixel_tally;

static void tally_line(int frame, int text_class, const char *text, void *payload)
{
    pixel_tally *t = payload;
    bool identifying = (text_class > 0 && text_class != KK_TEXT_TECHNICAL) ||
                       kk_clean__finds(t->cleaner, NULL, text, strlen(text));
    if (!identifying) {
        t->other++;
        return;
    }
    t->lines++;
    if (frame != t->last_frame) {
        t->frames++;
        t->last_frame = frame;
    }
}

static kk_status check_pixels(check *c, kk_pixel_pool *pool, kk_dcm *a, const char *path)
{
    kk_dcm_elem *pix = kk_dcm__find(kk_dcm__dataset(a), KK_TAG(0x7FE0, 0x0010));
    if (!pix)
        return KK_OK;
    pixel_tally t = { c->v->cleaner, 0, 0, 0, -1 };
    kk_status st = kk_pixel__residue(c->ctx, pool, a, path, tally_line, &t);
    if (st != KK_OK || !t.lines)
        return st;
    char problem[200];
    snprintf(problem, sizeof problem, "text that looks identifying is found in the pixels: "
             "%u line(s) in %d frame(s), and %u other line(s) (burned-in annotation)",
             t.lines, t.frames, t.other);
    kk__buf_adds(&c->loc, "(7FE0,0010)");
    finding(c, pix, KK_TAG(0x7FE0, 0x0010), 0, NULL, problem);
    c->loc.len = 0;
    c->loc.data[0] = '\0';
    return c->loc.failed ? kk__fail(c->ctx, KK_ENOMEM, "out of memory") : KK_OK;
}

/* The last look's detector for judging what the first look boxes; NULL
 * when the pixel module is not there (asked once). */
static kk_pixel_pool *judge_pool(kk_verify *v, kk_ctx *ctx)
{
    pthread_mutex_lock(&v->judge_lock);
    if (!v->judge && !v->judge_tried) {
        v->judge_tried = true;
        if (kk_pixel__pool_new(&v->judge, ctx, v->profile) != KK_OK)
            v->judge = NULL;
    }
    kk_pixel_pool *p = v->judge;
    pthread_mutex_unlock(&v->judge_lock);
    return p;
}

kk_status kk_verify_file(kk_verify *v, kk_ctx *ctx, const char *path, kk_verify_fn fn,
                         void *payload, size_t *findings)
{
    kk_dcm *a = NULL, *b = NULL;
    check c;
    memset(&c, 0, sizeof c);
    c.v = v;
    c.ctx = ctx;
    c.fn = fn;
    c.payload = payload;
    if (findings)
        *findings = 0;
    kk_status st = kk_dcm__load(&a, ctx, path, 4096);
    if (st == KK_OK)
        st = kk_dcm__load(&b, ctx, path, 4096);
    if (st == KK_OK)
        st = kk_deid__apply_loaded(v->deid, ctx, b, path, collect, &c);
    if (st == KK_OK && c.oom)
        st = kk__fail(ctx, KK_ENOMEM, "out of memory checking '%s'", path);
    if (st != KK_OK)
        goto out;
    if (c.ndec)
        qsort(c.dec, c.ndec, sizeof *c.dec, cmp_decision);
    kk__buf_adds(&c.loc, "");
    if (c.loc.failed) {
        st = kk__fail(ctx, KK_ENOMEM, "out of memory");
        goto out;
    }
    {
        kk_dcm_elem *cse = kk_dcm__find(kk_dcm__dataset(a), KK_TAG(0x0008, 0x0005));
        const char *css;
        size_t csn;
        if (cse && kk_dcm__get_string(cse, &css, &csn) == KK_OK)
            c.charset = kk__strndup(css, csn);
    }
    compare_item(&c, kk_dcm__dataset(a), kk_dcm__dataset(b), 0);
    check_object(&c, a);
    if (v->pixels && (st = check_pixels(&c, v->pixels, a, path)) != KK_OK)
        goto out;
    if (!v->pixels && c.boxed) {
        kk_pixel_pool *judge = judge_pool(v, ctx);
        if (judge) {
            if ((st = check_pixels(&c, judge, a, path)) != KK_OK)
                goto out;
        } else {
            /* no pixel module to judge them: the boxes are the finding */
            kk_dcm_elem *pix = kk_dcm__find(kk_dcm__dataset(a), KK_TAG(0x7FE0, 0x0010));
            kk__buf_adds(&c.loc, "(7FE0,0010)");
            finding(&c, pix, KK_TAG(0x7FE0, 0x0010), 0, NULL,
                    "text detection still finds text in the pixels (burned-in annotation)");
            c.loc.len = 0;
            if (c.loc.data)
                c.loc.data[0] = '\0';
        }
    }
    if (findings)
        *findings = c.findings;
out:
    for (size_t i = 0; i < c.ndec; i++) {
        free(c.dec[i].path);
        free(c.dec[i].rule);
    }
    free(c.dec);
    free(c.charset);
    kk__buf_free(&c.loc);
    kk_dcm__free(a);
    kk_dcm__free(b);
    if (st != KK_OK && !strstr(kk_error_message(ctx), path)) {
        char msg[1024]; /* every failure names its input */
        snprintf(msg, sizeof msg, "%s", kk_error_message(ctx));
        kk__fail(ctx, st, "cannot check '%s': %s", path, msg);
    }
    return st;
}
