/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/deid/deid.c - the de-identification engine: walk every element of a
 * DICOM object at every depth, ask the profile what to do, do it, and
 * write the object back atomically under a name made of its new UIDs.
 *
 * Invariants:
 *  (1) the input is only read; the output appears whole under its name
 *      (linkat() of an O_TMPFILE, or rename() of a temp file), or not at
 *      all (open_output());
 *  (2) pixel data is decoded only when the profile's `pixel` rules find
 *      something to paint out (lib/pixel/redact.c); otherwise it stays
 *      byte for byte (lib/dicom writes the original transfer syntax);
 *  (3) private creators live exactly as long as an element of their block;
 *  (4) an overlay whose data is removed loses its whole 60xx group (Overlay
 *      Data is Type 1 in the Overlay Plane module);
 *  (5) nothing here prints; errors name the file and the tag, never a value
 *      (R04).
 * The keyed actions (pseudonym, date shift, generalizers) are in
 * actions_keyed.c; dummy values and UID mapping in actions.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "core/core.h"
#include "crypto/keyed.h"
#include "crypto/sha256.h"
#include "deid/actions.h"
#include "deid/charset_fix.h"
#include "deid/clean.h"
#include "deid/deface.h"
#include "deid/deid_internal.h"
#include "deid/release_internal.h"
#include "dicom/dicom.h"
#include "dict/sr_concepts.h"
#include "deid/review.h"
#include "pixel/image.h"
#include "pixel/redact.h"
#include "pixel/volume_io.h"
#include "profile/profile_internal.h"
#include "store/store_internal.h"
#include "text/charset.h"

#define TAG_SPECIFIC_CHARSET KK_TAG(0x0008, 0x0005)
#define TAG_SOP_CLASS KK_TAG(0x0008, 0x0016)
#define TAG_SOP_INSTANCE KK_TAG(0x0008, 0x0018)
#define TAG_STUDY_UID KK_TAG(0x0020, 0x000D)
#define TAG_SERIES_UID KK_TAG(0x0020, 0x000E)
#define TAG_PATIENT_ID KK_TAG(0x0010, 0x0020)
#define TAG_ISSUER KK_TAG(0x0010, 0x0021)
#define TAG_DEID_METHOD KK_TAG(0x0012, 0x0063)
#define TAG_DEID_CODES KK_TAG(0x0012, 0x0064)
#define TAG_MEDIA_SOP_CLASS KK_TAG(0x0002, 0x0002)
#define TAG_MEDIA_SOP_INSTANCE KK_TAG(0x0002, 0x0003)
#define DICOMDIR_CLASS "1.2.840.10008.1.3.10"

struct kk_deid {
    const kk_profile *profile;
    kk_key *own_key;     /* ephemeral, when the caller gave none */
    const kk_key *key;
    kk_store *store;
    kk_cleaner *cleaner;
    uint32_t lazy;
    uint64_t max_bytes;
    uint64_t half_memory; /* the pixel claim limit when max_bytes is 0 */
    bool need_ids;
    bool iod_repair; /* keep Type 1/2 attributes a rule removes, replaced */
    bool sr_concepts; /* Clean Structured Content: Table E.3.4-1 applies */
    bool pixel_rules;      /* the profile has `pixel` rules */
    /* text finders, made when an object first needs one: a run whose
     * objects need none never loads the pixel module */
    pthread_mutex_t pixels_lock;
    kk_pixel_pool *pixels;
    bool decide_only;      /* explain and review only: may lack a store */
    bool digests;          /* SHA-256 of inputs and outputs (store, or asked) */
    bool unnamed_outputs;  /* /proc/self/fd reopens an O_TMPFILE (open_output()) */
    char method[4][65];  /* DeidentificationMethod values to append */
    int nmethod;
    /* defacing (deface.c): the profile's `deface`, and what
     * kk_deid_prepare() found */
    kk_deface_mode deface;
    bool deface_required;
    kk_deface *volumes;
    const kk_release *release; /* two-pass release (issue 17), or NULL */
};

void kk_deid_set_release(kk_deid *d, const kk_release *release)
{
    if (d)
        d->release = release;
}

void kk_preload(void)
{
    kk_dcm__init();
}

kk_status kk_deid_new(kk_deid **out, kk_ctx *ctx, const kk_profile *profile,
                      const kk_deid_options *opts)
{
    *out = NULL;
    kk_deid_options defaults = KK_DEID_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    if (!profile)
        return kk__fail(ctx, KK_EINVAL, "no profile");
    if (kk_profile_needs_key(profile) && !opts->key)
        return kk__fail(ctx, KK_EKEY, "profile '%s' needs a key: create one with "
                        "'kakou key new FILE' and pass it with -k FILE",
                        kk_profile_name(profile));
    if (kk_profile_forbids_key(profile) && (opts->key || opts->store))
        return kk__fail(ctx, opts->key ? KK_EKEY : KK_ESTORE,
                        "profile '%s' makes a fresh key for each run and destroys it, and keeps "
                        "no correspondence (R09): give no key and no store",
                        kk_profile_name(profile));
    if (kk_profile_needs_store(profile) && !opts->store && !opts->decide_only)
        return kk__fail(ctx, KK_ESTORE, "profile '%s' keeps a correspondence: give a store "
                        "with --db FILE", kk_profile_name(profile));
    kk_deid *d = kk__calloc(1, sizeof *d);
    if (!d)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    d->profile = profile;
    d->unnamed_outputs = access("/proc/self/fd", X_OK) == 0;
    pthread_mutex_init(&d->pixels_lock, NULL);
    d->store = opts->store;
    d->lazy = opts->lazy_threshold ? opts->lazy_threshold : 4096;
    d->max_bytes = opts->max_object_bytes;
    /* the machine's memory does not change during a run: ask once */
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    d->half_memory = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page / 2 : UINT64_MAX;
    d->decide_only = opts->decide_only != 0;
    d->digests = opts->store || opts->digests;
    d->iod_repair = strcmp(kk_profile__param(profile, "iod-repair", "on"), "off") != 0;
    for (const char *const *en0 = kk_profile__enabled(profile); *en0; en0++)
        if (strcmp(*en0, "clean-structured-content") == 0)
            d->sr_concepts = true;
    kk_status st = KK_OK;
    if (opts->key) {
        d->key = opts->key;
    } else {
        st = kk_key_new_ephemeral(&d->own_key, ctx);
        d->key = d->own_key;
    }
    if (st == KK_OK && (kk_profile__uses(profile, KK_ACTION_CLEAN) ||
                        kk_profile__uses(profile, KK_ACTION_GENERALIZE_ADDRESS))) {
        d->need_ids = true;
        st = kk_clean__new_for(&d->cleaner, ctx, profile);
    }
    const char *dm = kk_profile__param(profile, "deface", "off");
    d->deface = strcmp(dm, "remove") == 0 ? KK_DEFACE_REMOVE
                : strcmp(dm, "blur") == 0 ? KK_DEFACE_BLUR : KK_DEFACE_OFF;
    if (st == KK_OK && d->deface == KK_DEFACE_OFF && strcmp(dm, "off") != 0)
        st = kk__fail(ctx, KK_EINVAL, "profile '%s': deface is off, remove or blur",
                      kk_profile_name(profile));
    d->deface_required = d->deface != KK_DEFACE_OFF &&
                         strcmp(kk_profile__param(profile, "deface.required", "no"), "yes") == 0;
    int npixel;
    kk_profile__pixel_rules(profile, &npixel);
    d->pixel_rules = npixel > 0;
    if (st != KK_OK) {
        kk_deid_free(d);
        return st;
    }
    /* DeidentificationMethod: who, which profile and rules, which options */
    snprintf(d->method[d->nmethod++], 65, "kakou %s %s %s", KK_VERSION_STRING,
             kk_profile_name(profile), kk_profile_version(profile));
    snprintf(d->method[d->nmethod++], 65, "rules sha256:%.32s", kk_profile_digest(profile));
    const char *const *en = kk_profile__enabled(profile);
    kk_buf b = KK_BUF_INIT;
    for (int i = 0; en[i]; i++)
        kk__buf_printf(&b, "%s%s", i ? "," : "options: ", en[i]);
    if (b.len) {
        /* LO holds 64 characters: long option lists are cut, the codes
         * in DeidentificationMethodCodeSequence carry them in full */
        snprintf(d->method[d->nmethod++], 65, "%s", b.data);
    }
    kk__buf_free(&b);
    *out = d;
    return KK_OK;
}

void kk_deid_free(kk_deid *d)
{
    if (!d)
        return;
    kk_key_free(d->own_key);
    kk_clean__free(d->cleaner);
    kk_pixel__pool_free(d->pixels);
    kk_deface__free(d->volumes);
    pthread_mutex_destroy(&d->pixels_lock);
    free(d);
}

void kk_deid_result_clear(kk_deid_result *r)
{
    if (!r)
        return;
    free(r->output_path);
    free(r->sop_instance_uid);
    memset(r, 0, sizeof *r);
}

/* --- one walk over one object --------------------------------------- */

typedef struct walk {
    kk_deid *d;
    kk_ctx *ctx;
    kk_dcm *dcm;
    const char *path;         /* input, for messages */
    char *sop_class;
    bool dicomdir;
    const kk_idset *ids;      /* the object's identifiers (the cleaner's) */
    kk_charset_fix csfix;     /* mis-declared text re-encoded (R21) */
    kk_action_env env;
    kk_deid_result *res;
    kk_explain_fn fn;
    void *payload;
    bool show_values;
    kk_buf loc;               /* explain: where we are */
    kk_status err;
    /* set by recurse() for the next item: its value element and the
     * action Table E.3.4-1 gives it (Clean Structured Content) */
    uint32_t sr_tag;
    kk_action sr_action;
    kk_pixel_plan plan;       /* burned-in text: what the profile asks */
    kk_pixel_outcome pixels;  /* and what was done */
    bool defaced;             /* the face was removed from the pixels */
    /* kk_deid_file_ex(): its hooks, and the input's bytes as read and
     * hashed (NULL when not held: no digests, or a very large input) */
    const kk_deid_hooks *hooks;
    bool see_input;
    unsigned char *src;
    size_t src_len;
} walk;

static char *dup_string_of(kk_dcm_item *item, uint32_t tag)
{
    kk_dcm_elem *e = kk_dcm__find(item, tag);
    const char *s;
    size_t n;
    if (!e || kk_dcm__get_string(e, &s, &n) != KK_OK)
        return NULL;
    return kk__strndup(s, n);
}

static uint16_t effective_vr(kk_dcm_elem *e, uint32_t tag)
{
    uint16_t vr = kk_dcm__vr(e);
    if (vr == KK_VR('U', 'N') && !(KK_GROUP(tag) & 1)) {
        uint16_t dvr = kk_dcm__dict_vr(tag);
        if (dvr)
            return dvr;
    }
    return vr;
}

/* The raw (0008,0005) in force for an item. */
typedef struct charset_ref {
    const char *s;
    size_t n;
} charset_ref;

static charset_ref item_charset(kk_dcm_item *item, charset_ref parent)
{
    kk_dcm_elem *e = kk_dcm__find(item, TAG_SPECIFIC_CHARSET);
    charset_ref c = parent;
    if (e)
        kk_dcm__get_string(e, &c.s, &c.n);
    return c;
}

/* Identifiers of the object, for the clean action: every PN, every date,
 * every ID-like text attribute, at any depth (issue 2, section 3). */
static bool id_like_keyword(const char *kw)
{
    size_t n = strlen(kw);
    static const char *const ends[] = { "ID", "IDs", "Number", "Numbers", "Locator",
                                        "Identifier", "Address", "Telephone",
                                        "TelephoneNumbers", "InstitutionName",
                                        "InstitutionalDepartmentName" };
    for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) {
        size_t l = strlen(ends[i]);
        if (n >= l && strcmp(kw + n - l, ends[i]) == 0)
            return true;
    }
    return false;
}

static void collect_ids(kk_buf *list, kk_dcm_item *item, charset_ref cs, int depth)
{
    if (depth > 64)
        return;
    cs = item_charset(item, cs);
    for (kk_dcm_elem *e = kk_dcm__next(item, NULL); e; e = kk_dcm__next(item, e)) {
        uint32_t tag = kk_dcm__tag(e);
        if (kk_dcm__is_sequence(e)) {
            for (kk_dcm_item *it = kk_dcm__next_item(e, NULL); it; it = kk_dcm__next_item(e, it))
                collect_ids(list, it, cs, depth + 1);
            continue;
        }
        if (KK_GROUP(tag) & 1)
            continue;
        uint16_t vr = effective_vr(e, tag);
        if (vr != KK_VR('P', 'N') && vr != KK_VR('D', 'A') && vr != KK_VR('D', 'T') &&
            vr != KK_VR('L', 'O') && vr != KK_VR('S', 'H'))
            continue;
        const char *s;
        size_t n;
        if (kk_dcm__get_string(e, &s, &n) != KK_OK || n == 0)
            continue;
        if (vr == KK_VR('D', 'A') || vr == KK_VR('D', 'T')) {
            kk_idlist__add(list, 'D', s, n);
            continue;
        }
        if (vr != KK_VR('P', 'N') && !id_like_keyword(kk_dcm__keyword(tag)))
            continue;
        kk_buf u = KK_BUF_INIT;
        kk_text__to_utf8(cs.s, cs.n, s, n, &u);
        if (u.data)
            kk_idlist__add(list, vr == KK_VR('P', 'N') ? 'N' : 'I', u.data, u.len);
        kk__buf_free(&u);
    }
}

/* The object's identifier set, from the cleaner: the objects of a series
 * share one, and the texts it cleaned. */
static kk_status object_ids(walk *w, kk_dcm_item *ds)
{
    kk_buf list = KK_BUF_INIT;
    charset_ref none = { "", 0 };
    collect_ids(&list, ds, none, 0);
    if (!list.failed)
        w->ids = kk_clean__ids(w->d->cleaner, list.data ? list.data : "", list.len);
    kk__buf_free(&list);
    return w->ids ? KK_OK : kk__fail(w->ctx, KK_ENOMEM, "out of memory");
}

/* Resolve a compound code by the attribute's Type in the IOD
 * (profiles/reference/README.md). The Types known are top-level ones: a
 * nested attribute takes the last alternative, which keeps the object
 * valid and still leaves no original value (D replaces, U remaps). */
static kk_action resolve(const walk *w, const kk_rule *r, uint32_t tag, int depth)
{
    if (r->compound == KK_COMPOUND_NONE)
        return r->action;
    int type = depth == 0 ? kk_dict__iod_type(w->sop_class, tag) : 1;
    if (depth > 0 && r->compound == KK_COMPOUND_XZ)
        type = 2; /* X/Z offers no replacement: empty it */
    switch (r->compound) {
    case KK_COMPOUND_XZ: return type == 1 ? KK_ACTION_DUMMY : type == 2 ? KK_ACTION_EMPTY : KK_ACTION_REMOVE;
    case KK_COMPOUND_XD: return type <= 2 ? KK_ACTION_DUMMY : KK_ACTION_REMOVE;
    case KK_COMPOUND_ZD: return type == 1 ? KK_ACTION_DUMMY : KK_ACTION_EMPTY;
    case KK_COMPOUND_XZD: return type == 1 ? KK_ACTION_DUMMY : type == 2 ? KK_ACTION_EMPTY : KK_ACTION_REMOVE;
    case KK_COMPOUND_XZU:
        /* the sequence holds references only: kept with every UID remapped,
         * referential integrity holds and nothing original remains */
        return KK_ACTION_UID;
    case KK_COMPOUND_NONE: break;
    }
    return r->action;
}

static void report(walk *w, kk_dcm_elem *e, uint32_t tag, int depth, kk_action a,
                   const char *origin)
{
    if (w->res)
        w->res->counts[a]++;
    if (!w->fn)
        return;
    kk_explain_entry x;
    memset(&x, 0, sizeof x);
    size_t mark = w->loc.len;
    kk__buf_printf(&w->loc, "%s(%04X,%04X)", mark ? ">" : "", KK_GROUP(tag), KK_ELEMENT(tag));
    x.path = w->loc.data ? w->loc.data : "";
    x.depth = depth;
    x.tag = tag;
    x.keyword = kk_dcm__keyword(tag);
    uint16_t vr = e ? kk_dcm__vr(e) : 0;
    x.vr[0] = vr ? (char)(vr >> 8) : '-';
    x.vr[1] = vr ? (char)(vr & 0xff) : '-';
    x.action = a;
    x.rule = origin;
    char *v = NULL;
    if (w->show_values && e)
        v = kk_dcm__value_text(e);
    x.value = v;
    w->fn(&x, w->payload);
    free(v);
    w->loc.len = mark;
    if (w->loc.data)
        w->loc.data[mark] = '\0';
}

static void process_item(walk *w, kk_dcm_item *item, charset_ref cs, int depth, bool dummy);

static bool sr_content_sequence(uint32_t tag)
{
    return tag == KK_TAG(0x0040, 0xA730) ||  /* ContentSequence */
           tag == KK_TAG(0x0040, 0x0555) ||  /* AcquisitionContextSequence */
           tag == KK_TAG(0x0040, 0x0612);    /* SpecimenPreparationStepContentItemSequence */
}

static char *item_string(kk_dcm_item *item, uint32_t tag)
{
    kk_dcm_elem *e = kk_dcm__find(item, tag);
    const char *s;
    size_t n;
    if (!e || kk_dcm__get_string(e, &s, &n) != KK_OK)
        return NULL;
    return kk__strndup(s, n);
}

/* Table E.3.4-1 for one content item: 'X' (remove the item), or the
 * value element's tag and action in *tag / *a. */
static char sr_item_action(walk *w, kk_dcm_item *item, uint32_t *tag, kk_action *a)
{
    *tag = 0;
    kk_dcm_elem *cn = kk_dcm__find(item, KK_TAG(0x0040, 0xA043));
    kk_dcm_item *code = cn ? kk_dcm__next_item(cn, NULL) : NULL;
    if (!code)
        return 0;
    char *scheme = item_string(code, KK_TAG(0x0008, 0x0102));
    char *value = item_string(code, KK_TAG(0x0008, 0x0100));
    char *vt = item_string(item, KK_TAG(0x0040, 0xA040));
    const char *act = scheme && value ? kk_dict__sr_concept_action(scheme, value, vt,
                                                              kk_profile__enabled(w->d->profile))
                                      : NULL;
    static const struct { const char *vt; uint32_t tag; } value_of[] = {
        { "TEXT", KK_TAG(0x0040, 0xA160) }, { "DATE", KK_TAG(0x0040, 0xA121) },
        { "TIME", KK_TAG(0x0040, 0xA122) }, { "DATETIME", KK_TAG(0x0040, 0xA120) },
        { "PNAME", KK_TAG(0x0040, 0xA123) }, { "UIDREF", KK_TAG(0x0040, 0xA124) },
    };
    char r = 0;
    if (act) {
        if (act[0] == 'X' && act[1] == '\0') {
            r = 'X';
        } else {
            for (size_t i = 0; vt && i < sizeof value_of / sizeof value_of[0]; i++)
                if (strcmp(vt, value_of[i].vt) == 0)
                    *tag = value_of[i].tag;
            /* X/D inside a document: the item stays, its value is replaced */
            *a = act[0] == 'K' ? KK_ACTION_KEEP : act[0] == 'C' ? KK_ACTION_CLEAN : KK_ACTION_DUMMY;
            r = 'V';
        }
    }
    free(scheme);
    free(value);
    free(vt);
    return r;
}

/* Items of a sequence the profile replaces (D) keep their structure, but
 * every text value in them becomes a dummy (dummy is true). */
static void recurse(walk *w, kk_dcm_elem *seq, uint32_t tag, charset_ref cs, int depth, bool dummy)
{
    size_t mark = w->loc.len;
    int i = 0;
    bool concepts = w->d->sr_concepts && sr_content_sequence(tag);
    kk_dcm_item *it = kk_dcm__next_item(seq, NULL);
    while (it && w->err == KK_OK) {
        if (w->fn)
            kk__buf_printf(&w->loc, "%s(%04X,%04X)[%d]", mark ? ">" : "", KK_GROUP(tag),
                           KK_ELEMENT(tag), i);
        w->sr_tag = 0;
        if (concepts && sr_item_action(w, it, &w->sr_tag, &w->sr_action) == 'X') {
            /* Table E.3.4-1 removes this content item, with its subtree */
            report(w, NULL, KK_TAG(0xFFFE, 0xE000), depth + 1, KK_ACTION_REMOVE,
                   "content item removed by its concept name (PS3.15 Table E.3.4-1)");
            it = kk_dcm__remove_item(seq, it);
        } else {
            process_item(w, it, cs, depth + 1, dummy);
            it = kk_dcm__next_item(seq, it);
        }
        i++;
        w->loc.len = mark;
        if (w->loc.data)
            w->loc.data[mark] = '\0';
    }
}

/* Private creators of the group being walked, by block (0x10-0xFF), so
 * that finding one costs nothing: kk_dcm__find() searches the item from
 * the start, which a file of 1,000,000 private elements makes quadratic.
 * Elements come in tag order, so a block's creator precedes its data. */
typedef struct creator_cache {
    uint16_t group;
    kk_dcm_elem *by_block[0x100];
} creator_cache;

static void note_creator(creator_cache *cc, kk_dcm_elem *e, uint32_t tag)
{
    if (cc->group != KK_GROUP(tag)) {
        memset(cc->by_block, 0, sizeof cc->by_block);
        cc->group = KK_GROUP(tag);
    }
    cc->by_block[KK_ELEMENT(tag) & 0xFF] = e;
}

/* Private creator of the block a private data element belongs to. */
static const char *creator_of(const creator_cache *cc, uint32_t tag, size_t *len)
{
    uint16_t el = KK_ELEMENT(tag);
    if (el < 0x1000 || cc->group != KK_GROUP(tag))
        return NULL;
    kk_dcm_elem *c = cc->by_block[el >> 8];
    const char *s;
    if (!c || kk_dcm__get_string(c, &s, len) != KK_OK)
        return NULL;
    return s;
}

/* Blocks (group << 8 | block) that still hold a data element, in tag
 * order, for settle_private_creators(). */
typedef struct block_set {
    uint32_t *v;
    size_t n, cap;
    bool failed;
} block_set;

static void block_add(block_set *b, uint32_t key)
{
    if (b->n && b->v[b->n - 1] == key)
        return;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        uint32_t *v = kk__realloc(b->v, cap * sizeof *v);
        if (!v) {
            b->failed = true;
            return;
        }
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n++] = key;
}

static bool block_has(const block_set *b, uint32_t key)
{
    size_t lo = 0, hi = b->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (b->v[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < b->n && b->v[lo] == key;
}

/* Drop creators whose block lost every element; report what stays. One
 * pass to list the blocks in use, one to settle: linear in the item. */
static void settle_private_creators(walk *w, kk_dcm_item *item, int depth)
{
    block_set used = { NULL, 0, 0, false };
    for (kk_dcm_elem *f = kk_dcm__next(item, NULL); f; f = kk_dcm__next(item, f)) {
        uint32_t t = kk_dcm__tag(f);
        if ((KK_GROUP(t) & 1) && KK_ELEMENT(t) >= 0x1000)
            block_add(&used, (uint32_t)KK_GROUP(t) << 8 | (KK_ELEMENT(t) >> 8));
    }
    for (kk_dcm_elem *e = kk_dcm__next(item, NULL); e;) {
        uint32_t tag = kk_dcm__tag(e);
        uint16_t g = KK_GROUP(tag), el = KK_ELEMENT(tag);
        if (!(g & 1) || el < 0x10 || el > 0xFF) {
            e = kk_dcm__next(item, e);
            continue;
        }
        /* out of memory: keep the creator, which names a vendor only */
        bool keep = used.failed || block_has(&used, (uint32_t)g << 8 | el);
        report(w, e, tag, depth, keep ? KK_ACTION_KEEP : KK_ACTION_REMOVE,
               keep ? "private creator of kept elements" : "private creator of removed elements");
        e = keep ? kk_dcm__next(item, e) : kk_dcm__remove(item, e);
    }
    free(used.v);
}

/* Text VRs a dummy sequence replaces; codes (CS), numbers and UIDs keep
 * the item's structure valid and identify no one. */
static bool dummy_text_vr(uint16_t vr)
{
    switch (vr) {
    case KK_VR('S', 'H'): case KK_VR('L', 'O'): case KK_VR('S', 'T'): case KK_VR('L', 'T'):
    case KK_VR('U', 'T'): case KK_VR('U', 'C'): case KK_VR('P', 'N'): case KK_VR('A', 'E'):
    case KK_VR('U', 'R'): case KK_VR('D', 'A'): case KK_VR('D', 'T'): case KK_VR('T', 'M'):
    case KK_VR('A', 'S'):
        return true;
    default:
        return false;
    }
}

/* Kept values that are not text, so never cleaned: codes (CS, and the
 * code values of coded entries), AE titles and URLs. A vendor or a site
 * may still put the patient's name or ID there (ContentLabel YAMADA,
 * ScanOptions HELICAL\<PatientID>, a procedure code that is the
 * accession number); only the object's own identifiers are looked for,
 * never the cleaner's patterns, which would take codes for names. */
static bool kept_holds_ids(const walk *w, kk_dcm_elem *e, uint32_t tag, uint16_t vr,
                           charset_ref cs)
{
    if (!w->ids || kk_dcm__is_sequence(e))
        return false;
    if (vr == KK_VR('I', 'S') || vr == KK_VR('D', 'S')) {
        const char *s;
        size_t n;
        return kk_dcm__get_string(e, &s, &n) == KK_OK && kk_clean__number_is_id(w->ids, s, n);
    }
    /* (text the profile keeps whole, not cleaned, holds them too: an
     * EthnicGroup or a TimezoneOffsetFromUTC typed with the name; but not
     * an identifier the identifiers come from, which a profile keeps on
     * purpose: PatientID K) */
    if (vr != KK_VR('C', 'S') && vr != KK_VR('A', 'E') && vr != KK_VR('U', 'R') &&
        vr != KK_VR('S', 'H') && vr != KK_VR('L', 'O') && vr != KK_VR('S', 'T') &&
        vr != KK_VR('L', 'T') && vr != KK_VR('U', 'T') && vr != KK_VR('U', 'C') &&
        tag != KK_TAG(0x0008, 0x0100) && tag != KK_TAG(0x0008, 0x0119))
        return false;
    if ((vr == KK_VR('S', 'H') || vr == KK_VR('L', 'O')) && !(KK_GROUP(tag) & 1) &&
        id_like_keyword(kk_dcm__keyword(tag)))
        return false;
    /* codes that give an object its structure, never a label anyone types
     * (a test patient called Perfusion^Stroke, an SR item of Value Type
     * TEXT): changing them would break the object */
    static const uint32_t structural[] = {
        TAG_SPECIFIC_CHARSET, KK_TAG(0x0008, 0x0008) /* ImageType */,
        KK_TAG(0x0008, 0x9007) /* FrameType */, KK_TAG(0x0008, 0x0060) /* Modality */,
        KK_TAG(0x0040, 0xA010) /* RelationshipType */, KK_TAG(0x0040, 0xA040) /* ValueType */,
        KK_TAG(0x0040, 0xA050) /* ContinuityOfContent */,
        KK_TAG(0x0028, 0x0004) /* PhotometricInterpretation */,
    };
    for (size_t i = 0; i < sizeof structural / sizeof structural[0]; i++)
        if (tag == structural[i])
            return false;
    const char *s;
    size_t n;
    if (kk_dcm__get_string(e, &s, &n) != KK_OK || n == 0)
        return false;
    kk_buf u = KK_BUF_INIT;
    kk_text__to_utf8(cs.s, cs.n, s, n, &u);
    bool found = u.failed || (u.data && kk_clean__holds_ids(w->ids, u.data, u.len));
    kk__buf_free(&u);
    return found;
}

/* A safe-list private element stored as UN (a system on the way did not
 * know the creator) cannot be cleaned in place: its VR is unknown. When
 * its bytes read as text and the cleaner finds something in them, it goes
 * whole; binary values (no text) and clean text stay. */
static bool private_un_finds(const walk *w, kk_dcm_elem *e, charset_ref cs)
{
    const unsigned char *b;
    size_t n;
    if (kk_dcm__get_bytes(e, &b, &n) != KK_OK || n == 0)
        return false;
    while (n && (b[n - 1] == ' ' || b[n - 1] == '\0'))
        n--;
    bool number = true;
    for (size_t i = 0; i < n; i++) {
        if (b[i] < 0x20 && b[i] != 0x1B && b[i] != '\t' && b[i] != '\r' && b[i] != '\n')
            return false; /* binary: not text */
        if (!strchr("0123456789.+-eE\\ ", b[i]))
            number = false;
    }
    /* a DS or IS (ELSCINT1 DLP 248.5859): a measurement, never cleaned */
    if (n == 0 || number)
        return false;
    kk_buf u = KK_BUF_INIT;
    kk_text__to_utf8(cs.s, cs.n, (const char *)b, n, &u);
    bool found = u.failed ||
                 (u.data && kk_clean__finds(w->d->cleaner, w->ids, u.data, u.len));
    kk__buf_free(&u);
    return found;
}

/* A kept binary value of the standard (OB or UN: a CertifiedTimestamp, a
 * FrameOriginTimestamp an option keeps as a date) whose bytes are text
 * holding the object's own name or ID. Pixel data, overlays, waveforms
 * and other bulk values (over 64 KiB) are not text and are not read. */
static bool kept_bytes_hold_ids(const walk *w, kk_dcm_elem *e, uint32_t tag, charset_ref cs)
{
    if (!w->ids || KK_GROUP(tag) == 0x7FE0 || KK_GROUP(tag) == 0x5400 ||
        (KK_GROUP(tag) >= 0x6000 && KK_GROUP(tag) <= 0x60FF))
        return false;
    const unsigned char *b;
    size_t n;
    if (kk_dcm__get_bytes(e, &b, &n) != KK_OK || n == 0 || n > 65536)
        return false;
    size_t text = 0;
    for (size_t i = 0; i < n; i++)
        if ((b[i] >= 0x20 && b[i] < 0x7F) || b[i] == '\t' || b[i] == '\r' || b[i] == '\n' ||
            b[i] == 0x1B || b[i] == 0)
            text++;
    /* (nine in ten bytes printable ASCII: a token or a note; random
     * bytes, a waveform's samples, have about four in ten) */
    if (text * 10 < n * 9)
        return false;
    kk_buf u = KK_BUF_INIT;
    kk_text__to_utf8(cs.s, cs.n, (const char *)b, n, &u);
    bool found = !u.failed && u.data && kk_clean__holds_ids(w->ids, u.data, u.len);
    kk__buf_free(&u);
    return found;
}

/* The size of one value of a binary VR whose values have a fixed size
 * (US 2, FD 8, AT 4), or 0. */
static unsigned fixed_value_size(uint16_t vr)
{
    switch (vr) {
    case KK_VR('U', 'S'): case KK_VR('S', 'S'):
        return 2;
    case KK_VR('U', 'L'): case KK_VR('S', 'L'): case KK_VR('F', 'L'): case KK_VR('A', 'T'):
    case KK_VR('O', 'F'): case KK_VR('O', 'L'):
        return 4;
    case KK_VR('F', 'D'): case KK_VR('O', 'D'): case KK_VR('S', 'V'): case KK_VR('U', 'V'):
    case KK_VR('O', 'V'):
        return 8;
    default:
        return 0;
    }
}

static void process_item(walk *w, kk_dcm_item *item, charset_ref parent_cs, int depth, bool dummy)
{
    if (depth > 200) {
        w->err = kk__fail(w->ctx, KK_ELIMIT, "cannot read '%s': sequences nested deeper than 200",
                          w->path);
        return;
    }
    charset_ref cs = item_charset(item, parent_cs);
    uint32_t sr_tag = w->sr_tag;       /* this item's SR value, if any */
    kk_action sr_action = w->sr_action;
    w->sr_tag = 0;
    unsigned char overlay_gone[128];
    memset(overlay_gone, 0, sizeof overlay_gone);
    bool any_overlay_gone = false;
    const kk_profile *p = w->d->profile;
    creator_cache creators;
    memset(&creators, 0, sizeof creators);
    for (kk_dcm_elem *e = kk_dcm__next(item, NULL); e && w->err == KK_OK;) {
        uint32_t tag = kk_dcm__tag(e);
        uint16_t g = KK_GROUP(tag), el = KK_ELEMENT(tag);
        if (el == 0x0000 && g != 0x0002) {
            /* group lengths are wrong after any edit; they are retired */
            report(w, e, tag, depth, KK_ACTION_REMOVE, "group length");
            e = kk_dcm__remove(item, e);
            continue;
        }
        unsigned vsize = fixed_value_size(kk_dcm__vr(e));
        uint32_t vlen = kk_dcm__length(e);
        if (vsize && vlen != 0xFFFFFFFFu && vlen % vsize) {
            /* a value no reader can split into values (FD of 5 bytes):
             * written as it came it breaks the output for other readers;
             * the image's own description cannot go without the image */
            if (g == 0x0028 && depth == 0) {
                w->err = kk__fail(w->ctx, KK_ENOTDICOM, "cannot read '%s': (%04X,%04X) holds %lu "
                                  "bytes, not a multiple of its VR's %u (PS3.5 6.2)", w->path,
                                  (unsigned)g, (unsigned)el, (unsigned long)vlen, vsize);
                return;
            }
            report(w, e, tag, depth, KK_ACTION_REMOVE, "value length not a multiple of its VR's size");
            e = kk_dcm__remove(item, e);
            continue;
        }
        if (g == 0x0002) {
            /* File Meta Information belongs before the data set (PS3.10
             * 7.1); inside it, it is invalid, and its Source AE title or
             * private UIDs are no one's to keep */
            report(w, e, tag, depth, KK_ACTION_REMOVE, "group 0002 inside the data set (PS3.10 7.1)");
            e = kk_dcm__remove(item, e);
            continue;
        }
        if (g == 0x0004 && depth == 0 && !w->dicomdir) {
            report(w, e, tag, depth, KK_ACTION_REMOVE, "group 0004 outside a DICOMDIR (PS3.15 E.1.1)");
            e = kk_dcm__remove(item, e);
            continue;
        }
        if ((g & 1) && el >= 0x10 && el <= 0xFF) {
            note_creator(&creators, e, tag);
            e = kk_dcm__next(item, e); /* creators: settled after the pass */
            continue;
        }
        size_t clen = 0;
        const char *creator = (g & 1) ? creator_of(&creators, tag, &clen) : NULL;
        char cbuf[80];
        if (creator) {
            /* trimmed copy, NUL-terminated, for the profile lookup */
            while (clen && creator[clen - 1] == ' ')
                clen--;
            snprintf(cbuf, sizeof cbuf, "%.*s", (int)clen, creator);
            creator = cbuf;
        }
        uint16_t vr = effective_vr(e, tag);
        kk_match_level level;
        const kk_rule *r = kk_profile__match(p, tag, vr, creator, &level);
        kk_action a = resolve(w, r, tag, depth);
        const char *origin = r->origin;
        if (sr_tag && tag == sr_tag) {
            a = sr_action;
            origin = "content item value, by its concept name (PS3.15 Table E.3.4-1)";
        }
        if (a == KK_ACTION_REMOVE && depth > 0 && w->d->iod_repair && !(g & 1) &&
            level == KK_MATCH_EXACT && !(g >= 0x5000 && g <= 0x60FF) &&
            (kk_dcm__is_sequence(e) || kk_dcm__vr_is_string(vr))) {
            /* nested Types are unknown here: an empty value removes as much
             * and keeps a Type 2 attribute of the item present */
            a = KK_ACTION_EMPTY;
            origin = "empty: nested attribute the rule removes (the item may require it)";
        }
        if (a == KK_ACTION_REMOVE && depth == 0 && w->d->iod_repair && !(g & 1) &&
            level == KK_MATCH_EXACT && !(g >= 0x5000 && g <= 0x60FF)) {
            /* removing what the IOD requires makes the object invalid: a
             * Type 1 attribute gets a dummy, a Type 2 one is emptied; no
             * original value stays either way */
            int type = kk_dict__iod_type(w->sop_class, tag);
            if (type == 1 && (kk_dcm__is_sequence(e) || kk_action__dummy(vr) || vr == KK_VR('U', 'I'))) {
                a = KK_ACTION_DUMMY;
                origin = "dummy: Type 1 in the IOD, where the rule removes";
            } else if (type == 2) {
                a = KK_ACTION_EMPTY;
                origin = "empty: Type 2 in the IOD, where the rule removes";
            }
        }
        if (dummy && (a == KK_ACTION_KEEP || a == KK_ACTION_CLEAN) && dummy_text_vr(vr) &&
            !kk_dcm__is_sequence(e)) {
            a = KK_ACTION_DUMMY;
            origin = "inside a sequence the profile replaces (D)";
        }
        if ((g & 1) && a == KK_ACTION_KEEP && w->d->cleaner &&
            (vr == KK_VR('L', 'O') || vr == KK_VR('S', 'H') || vr == KK_VR('S', 'T') ||
             vr == KK_VR('L', 'T') || vr == KK_VR('U', 'T') || vr == KK_VR('U', 'C'))) {
            /* a safe-list private element may hold any text (issue 13) */
            a = KK_ACTION_CLEAN;
            origin = "safe-list private text, cleaned like any kept text";
        }
        if ((g & 1) && a == KK_ACTION_KEEP && vr == KK_VR('U', 'N') && w->d->cleaner &&
            private_un_finds(w, e, cs)) {
            a = KK_ACTION_REMOVE;
            origin = "safe-list private stored as UN, holding text the cleaner finds";
        }
        /* (clean keeps a code or a number as it is: it is looked at here) */
        bool kept_code = a == KK_ACTION_CLEAN &&
                         (vr == KK_VR('C', 'S') || vr == KK_VR('A', 'S') || vr == KK_VR('D', 'S') ||
                          vr == KK_VR('I', 'S'));
        if ((a == KK_ACTION_KEEP || kept_code) && kept_holds_ids(w, e, tag, vr, cs)) {
            /* a dummy only where the IOD needs a value: a code's dummy is
             * seldom one of its enumerated values (SmokingStatus) */
            bool needed = depth == 0 && kk_dict__iod_type(w->sop_class, tag) == 1;
            a = needed ? KK_ACTION_DUMMY : KK_ACTION_EMPTY;
            origin = needed ? "kept value holding the object's own identifier, replaced"
                            : "kept value holding the object's own identifier, emptied";
        }
        if (a == KK_ACTION_KEEP && !(g & 1) && (vr == KK_VR('O', 'B') || vr == KK_VR('U', 'N')) &&
            !kk_dcm__is_sequence(e) && kept_bytes_hold_ids(w, e, tag, cs)) {
            a = KK_ACTION_REMOVE;
            origin = "kept binary value holding the object's own identifier, removed";
        }
        report(w, e, tag, depth, a, origin);
        if (a == KK_ACTION_REMOVE) {
            if (el == 0x3000 && g >= 0x6000 && g <= 0x60FF && !(g & 1)) {
                overlay_gone[(g - 0x6000) / 2] = 1;
                any_overlay_gone = true;
            }
            e = kk_dcm__remove(item, e);
            continue;
        }
        if (kk_dcm__is_sequence(e)) {
            if (a == KK_ACTION_EMPTY)
                kk_dcm__clear_items(e);
            else /* keep, dummy, clean, uid...: keep the items, apply the profile inside */
                recurse(w, e, tag, cs, depth, dummy || a == KK_ACTION_DUMMY);
            e = kk_dcm__next(item, e);
            continue;
        }
        w->env.charset = cs.s;
        w->env.charset_len = cs.n;
        kk_status st = kk_action__apply(&w->env, item, &e, tag, vr, a, r);
        if (st == KK_EINVAL) {
            /* the action cannot apply to this value: privacy first, drop it */
            report(w, e, tag, depth, KK_ACTION_REMOVE, "value the action could not handle");
            e = kk_dcm__remove(item, e);
            continue;
        }
        if (st != KK_OK) {
            w->err = st;
            return;
        }
        e = kk_dcm__next(item, e);
    }
    if (w->err != KK_OK)
        return;
    if (any_overlay_gone) {
        for (kk_dcm_elem *e = kk_dcm__next(item, NULL); e;) {
            uint32_t tag = kk_dcm__tag(e);
            uint16_t g = KK_GROUP(tag);
            if (g >= 0x6000 && g <= 0x60FE && !(g & 1) && overlay_gone[(g - 0x6000) / 2]) {
                report(w, e, tag, depth, KK_ACTION_REMOVE, "rest of an overlay whose data was removed");
                e = kk_dcm__remove(item, e);
            } else {
                e = kk_dcm__next(item, e);
            }
        }
    }
    settle_private_creators(w, item, depth);
}

/* Attributes the profile adds, and the record of what was done. */
static kk_status add_records(walk *w, kk_dcm_item *ds)
{
    int n;
    const kk_profile_add *adds = kk_profile__adds(w->d->profile, &n);
    for (int i = 0; i < n; i++) {
        kk_status st = kk_dcm__put_string(ds, w->ctx, adds[i].tag, adds[i].value);
        if (st != KK_OK)
            return st;
    }
    if (w->pixels.residue_frames) {
        /* text is still found after painting (`set pixel.residue
         * report`): the pixels are not claimed clean (issue 14) */
        kk_status sp = kk_dcm__put_string(ds, w->ctx, KK_TAG(0x0028, 0x0301), "YES");
        if (sp != KK_OK)
            return sp;
    } else if (w->pixels.cleaned) {
        /* the text was painted out of the pixels, and a look at the
         * painted frames finds none left: say so, and only then (issues
         * 4 and 14, R19); a check that found nothing leaves it as it was */
        kk_status sp = kk_dcm__put_string(ds, w->ctx, KK_TAG(0x0028, 0x0301), "NO");
        kk_dcm_item *it;
        if (sp == KK_OK)
            sp = kk_dcm__append_item(ds, w->ctx, TAG_DEID_CODES, &it);
        if (sp == KK_OK)
            sp = kk_dcm__put_string(it, w->ctx, KK_TAG(0x0008, 0x0100), "113101");
        if (sp == KK_OK)
            sp = kk_dcm__put_string(it, w->ctx, KK_TAG(0x0008, 0x0102), "DCM");
        if (sp == KK_OK)
            sp = kk_dcm__put_string(it, w->ctx, KK_TAG(0x0008, 0x0104), "Clean Pixel Data Option");
        if (sp != KK_OK)
            return sp;
    }
    if (w->defaced) {
        /* the face was removed from the volume (issue 18, R20) */
        kk_status sp = kk_dcm__put_string(ds, w->ctx, KK_TAG(0x0028, 0x0302), "NO");
        kk_dcm_item *it;
        if (sp == KK_OK)
            sp = kk_dcm__append_item(ds, w->ctx, TAG_DEID_CODES, &it);
        if (sp == KK_OK)
            sp = kk_dcm__put_string(it, w->ctx, KK_TAG(0x0008, 0x0100), "113102");
        if (sp == KK_OK)
            sp = kk_dcm__put_string(it, w->ctx, KK_TAG(0x0008, 0x0102), "DCM");
        if (sp == KK_OK)
            sp = kk_dcm__put_string(it, w->ctx, KK_TAG(0x0008, 0x0104),
                                    "Clean Recognizable Visual Features Option");
        if (sp != KK_OK)
            return sp;
    }
    /* every output says it was de-identified, whatever the profile (R01) */
    kk_status st0 = kk_dcm__put_string(ds, w->ctx, KK_TAG(0x0012, 0x0062), "YES");
    if (st0 != KK_OK)
        return st0;
    /* DeidentificationMethod: append to earlier records, never replace */
    kk_buf m = KK_BUF_INIT;
    kk_dcm_elem *old = kk_dcm__find(ds, TAG_DEID_METHOD);
    const char *s;
    size_t sl;
    if (old && kk_dcm__get_string(old, &s, &sl) == KK_OK && sl && kk_text__is_ascii(s, sl)) {
        kk__buf_add(&m, s, sl);
        kk__buf_addc(&m, '\\');
    }
    for (int i = 0; i < w->d->nmethod; i++)
        kk__buf_printf(&m, "%s%s", i ? "\\" : "", w->d->method[i]);
    if (w->csfix.converted)
        kk__buf_adds(&m, "\\kakou: mis-declared text re-encoded as ISO_IR 192");
    if (w->csfix.removed)
        kk__buf_printf(&m, "\\kakou: %d undecodable text values removed", w->csfix.removed);
    if (w->defaced)
        kk__buf_printf(&m, "\\face and ears %s (kakou deface)",
                       w->d->deface == KK_DEFACE_BLUR ? "blurred" : "removed");
    kk_status st = m.failed ? KK_ENOMEM : kk_dcm__put_string(ds, w->ctx, TAG_DEID_METHOD, m.data);
    kk__buf_free(&m);
    if (st != KK_OK)
        return st;
    int nc;
    const kk_profile_code *codes = kk_profile__codes(w->d->profile, &nc);
    for (int i = 0; i < nc; i++) {
        kk_dcm_item *it;
        st = kk_dcm__append_item(ds, w->ctx, TAG_DEID_CODES, &it);
        if (st == KK_OK)
            st = kk_dcm__put_string(it, w->ctx, KK_TAG(0x0008, 0x0100), codes[i].value);
        if (st == KK_OK)
            st = kk_dcm__put_string(it, w->ctx, KK_TAG(0x0008, 0x0102), "DCM");
        if (st == KK_OK)
            st = kk_dcm__put_string(it, w->ctx, KK_TAG(0x0008, 0x0104), codes[i].meaning);
        if (st != KK_OK)
            return st;
    }
    return KK_OK;
}

static kk_status check_size(kk_deid *d, kk_ctx *ctx, const char *in_path, uint64_t *size)
{
    struct stat sb;
    if (stat(in_path, &sb) != 0)
        return kk__fail(ctx, errno == ENOENT ? KK_ENOTFOUND : KK_EIO, "cannot read '%s': %s",
                        in_path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return kk__fail(ctx, KK_ENOTDICOM, "cannot read '%s': not a regular file but %s",
                        in_path, kk__file_kind(sb.st_mode));
    *size = (uint64_t)sb.st_size;
    if (d->max_bytes && (uint64_t)sb.st_size > d->max_bytes)
        return kk__fail(ctx, KK_ELIMIT, "cannot read '%s': %llu MiB is above the per-object "
                        "limit of %llu MiB (raise it with --max-object-size)", in_path,
                        (unsigned long long)(sb.st_size >> 20),
                        (unsigned long long)(d->max_bytes >> 20));
    return KK_OK;
}

/* The run's text finders, made on first use. */
static kk_status pixel_pool(kk_deid *d, kk_ctx *ctx, kk_pixel_pool **out)
{
    kk_status st = KK_OK;
    pthread_mutex_lock(&d->pixels_lock);
    if (!d->pixels)
        st = kk_pixel__pool_new(&d->pixels, ctx, d->profile);
    *out = d->pixels;
    pthread_mutex_unlock(&d->pixels_lock);
    return st;
}

/* Burned-in text boxes: into the result, and to explain one by one. */
static void report_pixels(walk *w)
{
    const kk_pixel_outcome *o = &w->pixels;
    if (w->res) {
        w->res->pixel_boxes_rule = o->by_source[KK_PIXEL_SOURCE_RULE];
        w->res->pixel_boxes_detected = o->by_source[KK_PIXEL_SOURCE_DETECTED];
        w->res->pixel_boxes_overlay = o->by_source[KK_PIXEL_SOURCE_OVERLAY];
        w->res->pixels_cleaned = o->cleaned;
        w->res->pixel_residue_frames = o->residue_frames;
        w->res->seconds_pixels = o->seconds;
    }
    if (!w->fn)
        return;
    for (size_t i = 0; i < o->nboxes; i++) {
        const kk_pixel_box *b = &o->boxes[i];
        kk_explain_box xb;
        memset(&xb, 0, sizeof xb);
        xb.frame = b->frame;
        xb.x = b->x;
        xb.y = b->y;
        xb.width = b->w;
        xb.height = b->h;
        xb.source = kk_pixel__source_name(b->source);
        xb.text_class = b->source == KK_PIXEL_SOURCE_DETECTED ? kk_pixel__class_name(b->text_class)
                        : b->source == KK_PIXEL_SOURCE_RULE ? "region" : "overlay";
        xb.text = w->show_values && b->source == KK_PIXEL_SOURCE_DETECTED ? b->text : NULL;
        kk_explain_entry x;
        memset(&x, 0, sizeof x);
        x.path = "(7FE0,0010)";
        x.tag = KK_TAG(0x7FE0, 0x0010);
        x.keyword = "PixelData";
        x.vr[0] = 'O';
        x.vr[1] = 'B';
        x.action = KK_ACTION_CLEAN;
        x.rule = b->source == KK_PIXEL_SOURCE_RULE || !w->plan.mode_origin ? "pixel region" : w->plan.mode_origin;
        x.box = &xb;
        w->fn(&x, w->payload);
    }
}

/* An unsigned number held by a top-level element (US, IS...), or def. */
static uint64_t number_of(kk_dcm_item *ds, uint32_t tag, uint64_t def)
{
    kk_dcm_elem *e = kk_dcm__find(ds, tag);
    char *v = e ? kk_dcm__value_text(e) : NULL;
    uint64_t n = def;
    if (v && *v) {
        char *end;
        long long x = strtoll(v, &end, 10);
        n = x < 0 ? 0 : (uint64_t)x;
    }
    free(v);
    return n;
}

/* Pixel Data must hold what Rows x Columns x frames claim, and what they
 * claim must fit the per-object limit before anything decodes it: a
 * 200-byte file may claim petabytes. Without a limit set, half of the
 * machine's memory is the limit. */
static kk_status check_pixels(walk *w, kk_dcm_item *ds, const char *in_path)
{
    kk_dcm_elem *px = kk_dcm__find(ds, KK_TAG(0x7FE0, 0x0010));
    if (!px)
        return KK_OK;
    uint64_t rows = number_of(ds, KK_TAG(0x0028, 0x0010), 0);
    uint64_t cols = number_of(ds, KK_TAG(0x0028, 0x0011), 0);
    uint64_t frames = number_of(ds, KK_TAG(0x0028, 0x0008), 1);
    uint64_t spp = number_of(ds, KK_TAG(0x0028, 0x0002), 1);
    uint64_t bits = number_of(ds, KK_TAG(0x0028, 0x0100), 8);
    uint64_t claim, bytes;
    bool over = __builtin_mul_overflow(rows, cols, &claim) ||
                __builtin_mul_overflow(claim, frames ? frames : 1, &claim) ||
                __builtin_mul_overflow(claim, spp ? spp : 1, &claim) ||
                __builtin_mul_overflow(claim, bits, &bytes);
    bytes = over ? UINT64_MAX : bytes / 8;
    bool user_limit = w->d->max_bytes != 0;
    uint64_t limit = user_limit ? w->d->max_bytes : w->d->half_memory;
    if (bytes > limit) {
        if (user_limit)
            return kk__fail(w->ctx, KK_ELIMIT, "cannot read '%s': Rows x Columns x frames claim "
                            "%llu MiB of pixels, above the per-object limit of %llu MiB (raise it "
                            "with --max-object-size)", in_path, (unsigned long long)(bytes >> 20),
                            (unsigned long long)(limit >> 20));
        return kk__fail(w->ctx, KK_ELIMIT, "cannot read '%s': Rows x Columns x frames claim "
                        "%llu MiB of pixels, more than half of this machine's memory (%llu MiB); "
                        "to try anyway, set a limit with --max-object-size", in_path,
                        (unsigned long long)(bytes >> 20), (unsigned long long)(limit >> 20));
    }
    uint32_t held = kk_dcm__length(px);
    char *photometric = dup_string_of(ds, KK_TAG(0x0028, 0x0004));
    /* 4:2:2 keeps two samples per pixel, not three */
    if (photometric && strstr(photometric, "_422"))
        bytes = bytes / 3 * 2;
    free(photometric);
    /* an empty Pixel Data claims nothing (some objects carry none) */
    if (!kk_dcm__is_encapsulated(px) && held != 0xFFFFFFFFu && held != 0 && bytes > held &&
        !kk_dcm__pixels_carried_raw(w->dcm))
        return kk__fail(w->ctx, KK_ENOTDICOM, "cannot read '%s': Pixel Data holds %lu bytes, "
                        "fewer than Rows x Columns x frames need (%llu)", in_path,
                        (unsigned long)held, (unsigned long long)bytes);
    return KK_OK;
}

/* De-identify w->dcm, already loaded, in memory; in_path names it in
 * messages. */
static kk_status walk_loaded(walk *w, const char *in_path)
{
    kk_deid *d = w->d;
    kk_status st;
    kk_dcm_item *ds = kk_dcm__dataset(w->dcm);
    kk_dcm_item *meta = kk_dcm__meta(w->dcm);
    /* zeros read as elements of group 0000 (or group lengths alone) are
     * no data set: nothing to de-identify, nothing to write */
    bool any = false;
    for (kk_dcm_elem *e = kk_dcm__next(ds, NULL); e && !any; e = kk_dcm__next(ds, e))
        any = KK_GROUP(kk_dcm__tag(e)) != 0x0000 && KK_ELEMENT(kk_dcm__tag(e)) != 0x0000;
    if (!any)
        return kk__fail(w->ctx, KK_ENOTDICOM, "cannot read '%s': no data element (only group "
                        "0000 or group lengths): not DICOM", in_path);
    w->sop_class = dup_string_of(ds, TAG_SOP_CLASS);
    if (!w->sop_class)
        w->sop_class = dup_string_of(meta, TAG_MEDIA_SOP_CLASS);
    w->dicomdir = w->sop_class && strcmp(w->sop_class, DICOMDIR_CLASS) == 0;
    /* a DICOMDIR holds records, never an image: one claiming the class
     * over Pixel Data would drop out of the release unseen */
    if (w->dicomdir && (kk_dcm__find(ds, KK_TAG(0x7FE0, 0x0010)) || kk_dcm__find(ds, KK_TAG(0x7FE0, 0x0008)) ||
                        kk_dcm__find(ds, KK_TAG(0x7FE0, 0x0009))))
        return kk__fail(w->ctx, KK_ENOTDICOM, "cannot read '%s': (0008,0016) SOPClassUID says "
                        "Media Storage Directory (a DICOMDIR), but it holds pixel data", in_path);
    if (w->dicomdir)
        /* its records point into the file by offset and name the
         * original files: rebuild it from the outputs instead (E.1.1) */
        return kk__fail(w->ctx, KK_ESKIPPED, "skipped '%s': a DICOMDIR is not de-identified; "
                        "rebuild it from the outputs (e.g. dcmmkdir)", in_path);
    st = check_pixels(w, ds, in_path);
    if (st != KK_OK)
        return st;
    /* text in a set it does not declare is read as what it is (R21) */
    st = kk_deid__fix_charsets(ds, w->ctx, &w->csfix);
    if (st != KK_OK)
        return st;
    if (d->need_ids) {
        st = object_ids(w, ds);
        if (st != KK_OK)
            return st;
    }
    charset_ref none = { "", 0 };
    /* the pixel rules' conditions read the header before it changes */
    if (d->pixel_rules) {
        st = kk_pixel__plan(&w->plan, w->ctx, d->profile, w->dcm, in_path);
        if (st != KK_OK)
            return st;
    }
    w->env.ctx = w->ctx;
    w->env.key = d->key;
    w->env.store = d->store;
    w->env.cleaner = d->cleaner;
    w->env.ids = w->ids;
    w->env.profile = d->profile;
    w->env.path = in_path;
    w->env.patient = dup_string_of(ds, TAG_PATIENT_ID);
    w->env.issuer = dup_string_of(ds, TAG_ISSUER);
    process_item(w, ds, none, 0, false);
    if (w->err != KK_OK)
        return w->err;
    if (w->plan.active) {
        kk_pixel_pool *pool = NULL;
        st = pixel_pool(d, w->ctx, &pool);
        if (st != KK_OK) {
            char why[512];
            snprintf(why, sizeof why, "%s", kk_error_message(w->ctx));
            return kk__fail(w->ctx, st, "cannot clean burned-in text in '%s': %s", in_path, why);
        }
            st = kk_pixel__apply(&w->plan, w->ctx, pool, w->dcm, in_path, !w->fn, &w->pixels,
                             NULL);
        if (st != KK_OK)
            return st;
        report_pixels(w);
    }
    if (d->volumes && !w->fn) {
        st = kk_deface__apply(d->volumes, w->ctx, w->dcm, in_path, &w->defaced);
        if (st != KK_OK)
            return st;
    }
    /* the old meta feeds only Media Storage UIDs of objects without
     * SOP UIDs (DICOMDIR): map its instance UID like any other */
    kk_dcm_elem *mi = kk_dcm__find(meta, TAG_MEDIA_SOP_INSTANCE);
    if (mi) {
        const kk_rule *r = kk_profile__match(d->profile, TAG_MEDIA_SOP_INSTANCE, KK_VR('U', 'I'), NULL, NULL);
        kk_action a = resolve(w, r, TAG_MEDIA_SOP_INSTANCE, 0);
        if (a != KK_ACTION_KEEP)
            a = KK_ACTION_UID;
        if (a == KK_ACTION_UID) {
            st = kk_action__apply(&w->env, meta, &mi, TAG_MEDIA_SOP_INSTANCE, KK_VR('U', 'I'), a, r);
            if (st == KK_EINVAL) {
                /* not a UID value (a broken meta): drop it, as the walk
                 * drops any value an action cannot handle */
                kk_dcm__remove(meta, mi);
                st = KK_OK;
            }
            if (st != KK_OK)
                return st;
        }
    }
    return add_records(w, ds);
}

/* Inputs up to this size are held in memory while they are done, so
 * that their bytes are read once: hashed, and the Pixel Data written from
 * them. Larger ones are hashed a chunk at a time and read again. */
#define HOLD_MAX ((uint64_t)256 << 20)

/* The input is open and checked, not yet parsed (kk_dcm__load_source()):
 * read it once, hash it, and show it to the on_input hook. */
static kk_status hash_input(walk *w, kk_ctx *ctx, int fd, uint64_t size, bool keep)
{
    char *hex = w->res->input_sha256;
    kk_sha256 h;
    kk_status st = kk_sha256__begin(&h, ctx);
    if (st != KK_OK)
        return st;
    {
        unsigned char *hold = keep && size && size <= HOLD_MAX ? malloc(size) : NULL;
        unsigned char *chunk = hold ? NULL : malloc((size_t)1 << 17);
        uint64_t at = 0;
        while (hold || chunk) {
            unsigned char *dest = hold ? hold + at : chunk;
            size_t want = hold ? (size_t)(size - at) : (size_t)1 << 17;
            if (want == 0)
                break;
            ssize_t n = pread(fd, dest, want, (off_t)at);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                int e = errno;
                free(hold);
                free(chunk);
                kk_sha256__abandon(&h);
                return kk__fail(ctx, KK_EIO, "cannot read '%s': %s", w->path, strerror(e));
            }
            if (n == 0)
                break; /* shorter than it was: what there is */
            kk_sha256__add(&h, dest, (size_t)n);
            at += (uint64_t)n;
        }
        free(chunk);
        if (!hold && !chunk && size) {
            kk_sha256__abandon(&h);
            return kk__fail(ctx, KK_ENOMEM, "cannot read '%s': out of memory", w->path);
        }
        kk_sha256__end(&h, hex);
        w->src = hold;
        w->src_len = (size_t)at;
    }
    return KK_OK;
}

static kk_status see_source(void *payload, kk_ctx *ctx, int fd, uint64_t size)
{
    walk *w = payload;
    kk_status st = w->d->digests ? hash_input(w, ctx, fd, size, true) : KK_OK;
    if (st == KK_OK && w->hooks && w->hooks->on_input)
        st = w->hooks->on_input(w->hooks->payload, ctx, w->res->input_sha256, size);
    return st;
}

/* Load and de-identify in memory. */
static kk_status run_walk(walk *w, const char *in_path)
{
    uint64_t size = 0;
    kk_status st = check_size(w->d, w->ctx, in_path, &size);
    if (st == KK_ELIMIT && w->see_input && w->d->digests) {
        /* not done, but its audit row names it by its digest */
        int fd = open(in_path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        char why[512];
        snprintf(why, sizeof why, "%s", kk_error_message(w->ctx));
        if (fd >= 0) {
            hash_input(w, w->ctx, fd, size, false);
            close(fd);
        }
        kk__fail(w->ctx, st, "%s", why);
    }
    if (st != KK_OK)
        return st;
    if (w->res)
        w->res->bytes_in = size;
    st = kk_dcm__load_source(&w->dcm, w->ctx, in_path, w->d->lazy,
                             w->see_input ? see_source : NULL, w);
    if (st != KK_OK)
        return st;
    return walk_loaded(w, in_path);
}

static void walk_init(walk *w, kk_deid *d, kk_ctx *ctx, const char *path)
{
    memset(w, 0, sizeof *w);
    w->d = d;
    w->ctx = ctx;
    w->path = path;
}

static void walk_free(walk *w)
{
    kk_pixel__plan_free(&w->plan);
    kk_pixel__outcome_free(&w->pixels);
    kk_dcm__free(w->dcm);
    free(w->sop_class);
    free(w->env.patient);
    free(w->env.issuer);
    if (w->ids)
        kk_clean__release_ids(w->d->cleaner, w->ids);
    kk__buf_free(&w->loc);
    free(w->src);
}

/* A UID is safe as a path component when it is digits and dots. */
static void path_part(char *out, size_t outsz, const char *uid, const char *what, const walk *w)
{
    bool ok = uid && *uid && strlen(uid) <= 64 && uid[0] != '.';
    for (const char *s = uid; ok && *s; s++)
        if (!((*s >= '0' && *s <= '9') || *s == '.'))
            ok = false;
    if (ok) {
        snprintf(out, outsz, "%s", uid);
        return;
    }
    /* none, or not a UID: name it from the input's content instead */
    char fallback[KK_UID_BUF];
    kk_keyed__uid(w->d->key, what, fallback);
    snprintf(out, outsz, "%s", fallback);
}

static bool same_content(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    bool same = fa && fb;
    char ba[65536], bb[65536];
    while (same) {
        size_t na = fread(ba, 1, sizeof ba, fa), nb = fread(bb, 1, sizeof bb, fb);
        if (na != nb || memcmp(ba, bb, na) != 0)
            same = false;
        if (na == 0)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

static kk_status mkdirs(kk_ctx *ctx, char *path)
{
    for (char *s = path + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        int rc = mkdir(path, 0755);
        *s = '/';
        if (rc != 0 && errno != EEXIST)
            return kk__fail(ctx, KK_EIO, "cannot create a folder in the output: %s", strerror(errno));
    }
    return KK_OK;
}

/* Where an output is written before it appears under its name: an
 * unnamed file in its final folder (O_TMPFILE, written through
 * /proc/self/fd), linked in whole, so a killed run leaves nothing behind
 * and the file's inode is made beside its siblings. Where the file system
 * has no O_TMPFILE, a named .kakou-PID-XXXXXX.tmp in the output folder,
 * renamed into place (kakou deid removes those a killed run left). */
typedef struct output_file {
    int fd;          /* the unnamed file, or -1 */
    bool named;      /* path is a named temporary file to unlink */
    char path[PATH_MAX];
} output_file;

/* An unnamed file in final's folder, made when missing; of->fd stays -1
 * where the file system has no O_TMPFILE. */
static kk_status open_unnamed(kk_ctx *ctx, char *final, output_file *of)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", final);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0 && errno == ENOENT) {
        /* the study and series folders usually exist: made only when not */
        kk_status st = mkdirs(ctx, final);
        if (st != KK_OK)
            return st;
        fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    }
    if (fd >= 0) {
        of->fd = fd;
        snprintf(of->path, sizeof of->path, "/proc/self/fd/%d", fd);
    }
    return KK_OK;
}

static kk_status open_output(const kk_deid *d, kk_ctx *ctx, const char *out_dir, char *final,
                             output_file *of)
{
    if (d->unnamed_outputs) {
        kk_status st = open_unnamed(ctx, final, of);
        if (st != KK_OK || of->fd >= 0)
            return st;
    }
    /* the PID lets a later run remove what a killed one left (kakou deid) */
    if (snprintf(of->path, sizeof of->path, "%s/.kakou-%ld-XXXXXX.tmp", out_dir,
                 (long)getpid()) >= (int)sizeof of->path) {
        of->path[0] = '\0';
        return kk__fail(ctx, KK_EINVAL, "output folder path is too long");
    }
    int fd = mkstemps(of->path, 4);
    if (fd < 0) {
        of->path[0] = '\0';
        return kk__fail(ctx, KK_EIO, "cannot write to '%s': %s", out_dir, strerror(errno));
    }
    close(fd);
    of->named = true;
    return KK_OK;
}

/* Give the written file its name, never over an existing one: 0, or -1
 * with errno (EEXIST: the name is taken). */
static int place_output(kk_ctx *ctx, output_file *of, char *final)
{
    if (!of->named)
        return linkat(AT_FDCWD, of->path, AT_FDCWD, final, AT_SYMLINK_FOLLOW);
    int rc = renameat2(AT_FDCWD, of->path, AT_FDCWD, final, RENAME_NOREPLACE);
    if (rc != 0 && errno == ENOENT) {
        if (mkdirs(ctx, final) != KK_OK) {
            errno = EIO;
            return -1;
        }
        rc = renameat2(AT_FDCWD, of->path, AT_FDCWD, final, RENAME_NOREPLACE);
    }
    if (rc == 0)
        of->path[0] = '\0'; /* nothing left to remove */
    return rc;
}

static void close_output(output_file *of)
{
    if (of->fd >= 0)
        close(of->fd);
    if (of->named && of->path[0])
        unlink(of->path);
}

/* Every failure names its input: a message from below that does not
 * (an element kakou cannot write, say) gets the path in front. */
static kk_status name_input(kk_ctx *ctx, kk_status st, const char *doing, const char *in_path)
{
    if (st == KK_OK || !ctx || strstr(kk_error_message(ctx), in_path))
        return st;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", kk_error_message(ctx));
    return kk__fail(ctx, st, "cannot %s '%s': %s", doing, in_path, msg);
}

/* Before an output appears: the caller's hook, then every pending row of
 * the store committed (durably: synchronous=FULL), so that no output is
 * ever visible without its correspondence (UIDs, pseudonyms, audit). */
static kk_status commit_rows(kk_deid *d, kk_ctx *ctx, const char *in_path, const char *written,
                             const kk_deid_result *res, const kk_deid_hooks *hooks)
{
    kk_status st = hooks && hooks->before_publish
                       ? hooks->before_publish(hooks->payload, ctx, written, res)
                       : KK_OK;
    if (st == KK_OK && d->store)
        st = kk_store__flush(d->store, ctx);
    if (st == KK_OK)
        return KK_OK;
    char why[512];
    snprintf(why, sizeof why, "%s", kk_error_message(ctx));
    return kk__fail(ctx, st, "cannot write the output of '%s': its correspondence could not be "
                    "recorded in the store (%s); the output is not kept", in_path, why);
}

kk_status kk_deid_file(kk_deid *d, kk_ctx *ctx, const char *in_path, const char *out_dir,
                       kk_deid_result *res)
{
    return kk_deid_file_ex(d, ctx, in_path, out_dir, res, NULL);
}

/* kk_deid_file_publish()'s hook, called as kk_deid_file_ex() calls its own */
typedef struct old_publish {
    kk_deid_publish_fn fn;
    void *payload;
} old_publish;

static kk_status call_old_publish(void *payload, kk_ctx *ctx, const char *written,
                                  const kk_deid_result *res)
{
    const old_publish *o = payload;
    return o->fn(o->payload, ctx, written, res->output_path, res->sop_instance_uid);
}

kk_status kk_deid_file_publish(kk_deid *d, kk_ctx *ctx, const char *in_path, const char *out_dir,
                               kk_deid_result *res, kk_deid_publish_fn before_publish,
                               void *payload)
{
    old_publish o = { before_publish, payload };
    kk_deid_hooks h = KK_DEID_HOOKS_INIT;
    h.before_publish = call_old_publish;
    h.payload = &o;
    return kk_deid_file_ex(d, ctx, in_path, out_dir, res, before_publish ? &h : NULL);
}

/* Every byte of an output as it is written: its digest and size. */
typedef struct out_sink {
    kk_sha256 h;
    uint64_t n;
} out_sink;

static void sink_out(void *payload, const void *data, size_t len)
{
    out_sink *s = payload;
    kk_sha256__add(&s->h, data, len);
    s->n += len;
}

kk_status kk_deid_file_ex(kk_deid *d, kk_ctx *ctx, const char *in_path, const char *out_dir,
                          kk_deid_result *res, const kk_deid_hooks *hooks)
{
    kk_deid_result own = KK_DEID_RESULT_INIT;
    if (!res)
        res = &own;
    memset(res, 0, sizeof *res);
    walk w;
    walk_init(&w, d, ctx, in_path);
    w.res = res;
    w.hooks = hooks;
    w.see_input = d->digests || (hooks && hooks->on_input);
    if (d->decide_only)
        return kk__fail(ctx, KK_EINVAL, "this run only explains: it was started with decide_only");
    kk_status st = run_walk(&w, in_path);
    output_file of = { -1, false, "" };
    bool duplicate = false;
    if (st != KK_OK)
        goto out;
    kk_dcm_item *ds = kk_dcm__dataset(w.dcm);
    if (d->release && (st = kk_release__apply(d->release, ctx, in_path, ds)) != KK_OK)
        goto out;
    char *study = dup_string_of(ds, TAG_STUDY_UID);
    char *series = dup_string_of(ds, TAG_SERIES_UID);
    char *sop = dup_string_of(ds, TAG_SOP_INSTANCE);
    if (!sop)
        sop = dup_string_of(kk_dcm__meta(w.dcm), TAG_MEDIA_SOP_INSTANCE);
    char p1[72], p2[72], p3[72];
    path_part(p1, sizeof p1, study, "no-study", &w);
    path_part(p2, sizeof p2, series, "no-series", &w);
    path_part(p3, sizeof p3, sop, in_path, &w);
    free(study);
    free(series);
    free(sop);
    char rel[256], final[PATH_MAX];
    snprintf(rel, sizeof rel, "%s/%s/%s.dcm", p1, p2, p3);
    if (snprintf(final, sizeof final, "%s/%s", out_dir, rel) >= (int)sizeof final) {
        st = kk__fail(ctx, KK_EINVAL, "output folder path is too long");
        goto out;
    }
    st = open_output(d, ctx, out_dir, final, &of);
    if (st != KK_OK)
        goto out;
    errno = 0;
    out_sink sink = { { NULL }, 0 };
    if (d->digests && (st = kk_sha256__begin(&sink.h, ctx)) != KK_OK)
        goto out;
    st = d->digests ? kk_dcm__save_sink(w.dcm, ctx, of.path, w.src, w.src_len, sink_out, &sink)
                    : kk_dcm__save(w.dcm, ctx, of.path);
    int saved = errno;
    if (d->digests)
        kk_sha256__end(&sink.h, res->output_sha256);
    errno = saved;
    if (st != KK_OK) {
        char why[512];
        snprintf(why, sizeof why, "%s", errno == ENOSPC ? "no space left on the output device"
                                        : errno == EFBIG ? "file too large for the output (file "
                                                           "size limit)"
                                        : errno == EDQUOT ? "disk quota exceeded on the output"
                                                        : kk_error_message(ctx));
        kk__fail(ctx, st, "cannot write the output of '%s': %s", in_path, why);
        goto out;
    }
    /* a name taken by other content fails before anything is committed:
     * the store must not record an output that will not appear */
    struct stat taken;
    if (stat(final, &taken) == 0 && !same_content(of.path, final)) {
        st = kk__fail(ctx, KK_EEXISTS, "cannot write the output of '%s': '%s' already exists "
                      "with other content (another input has the same SOP Instance UID)",
                      in_path, rel);
        goto out;
    }
    struct stat sb;
    res->bytes_out = d->digests ? sink.n : stat(of.path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    res->output_path = kk__strdup(rel);
    res->sop_instance_uid = kk__strdup(p3);
    if (!res->output_path || !res->sop_instance_uid) {
        st = kk__fail(ctx, KK_ENOMEM, "out of memory");
        goto out;
    }
    st = commit_rows(d, ctx, in_path, of.path, res, hooks);
    if (st != KK_OK)
        goto out;
    if (place_output(ctx, &of, final) != 0) {
        if (errno == EEXIST && same_content(of.path, final)) {
            /* the same object again (a re-run, or a duplicate input) */
            duplicate = true;
        } else if (errno == EEXIST) {
            st = kk__fail(ctx, KK_EEXISTS, "cannot write the output of '%s': '%s' already exists "
                          "with other content (another input has the same SOP Instance UID)",
                          in_path, rel);
            goto out;
        } else {
            st = kk__fail(ctx, KK_EIO, "cannot write the output of '%s': %s", in_path,
                          strerror(errno));
            goto out;
        }
    }
    res->duplicate = duplicate;
out:
    if (st != KK_OK) {
        /* a failed input has no output; its input digest stays */
        free(res->output_path);
        free(res->sop_instance_uid);
        res->output_path = res->sop_instance_uid = NULL;
        res->output_sha256[0] = '\0';
    }
    if (res == &own)
        kk_deid_result_clear(&own);
    close_output(&of);
    walk_free(&w);
    return name_input(ctx, st, "de-identify", in_path);
}

kk_status kk_deid_explain(kk_deid *d, kk_ctx *ctx, const char *in_path, int show_values,
                          kk_explain_fn fn, void *payload)
{
    walk w;
    walk_init(&w, d, ctx, in_path);
    w.fn = fn;
    w.payload = payload;
    w.show_values = show_values != 0;
    kk_status st = run_walk(&w, in_path);
    walk_free(&w);
    return name_input(ctx, st, "explain", in_path);
}

/* --- defacing (deface.c) ------------------------------------------------ */

int kk_deid_defaces(const kk_deid *d)
{
    return d && d->deface != KK_DEFACE_OFF;
}

kk_status kk_deid_prepare(kk_deid *d, kk_ctx *ctx, const char *const *paths, size_t npaths,
                          kk_deid_prepared *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (d->deface == KK_DEFACE_OFF)
        return KK_OK;
    kk_deface__free(d->volumes);
    d->volumes = NULL;
    kk_deface_stats stats;
    kk_status st = kk_deface__prepare(&d->volumes, ctx, paths, npaths, d->deface,
                                      d->deface_required, &stats);
    if (st == KK_OK && out) {
        out->volumes = stats.volumes;
        out->heads = stats.heads;
        out->defaced = stats.faces;
        out->failed = stats.failed;
        out->voxels = stats.voxels;
        out->seconds = stats.seconds;
    }
    return st;
}

kk_status kk_deid_review_faces(kk_deid *d, kk_ctx *ctx, const char *const *paths, size_t npaths,
                               const char *png_path, size_t *heads)
{
    enum { TILE = 256 };
    if (heads)
        *heads = 0;
    uint8_t *tiles = NULL;
    int n = 0;
    kk_status st = kk_deface__render(ctx, paths, npaths, d->deface, TILE, &tiles, &n);
    if (st != KK_OK)
        return st;
    if (n == 0) {
        free(tiles);
        return kk__fail(ctx, KK_EINVAL, "no head CT or MR volume among the %zu file(s)", npaths);
    }
    /* one row a head: before | after, 8 pixels of gap */
    int w = 2 * TILE + 8, h = n * TILE + (n - 1) * 8;
    uint8_t *img = kk__calloc((size_t)w * h, 1);
    if (!img) {
        free(tiles);
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    }
    for (int i = 0; i < n; i++)
        for (int side = 0; side < 2; side++)
            for (int y = 0; y < TILE; y++)
                memcpy(img + (size_t)(i * (TILE + 8) + y) * w + side * (TILE + 8),
                       tiles + ((size_t)(2 * i + side) * TILE + y) * TILE, TILE);
    free(tiles);
    st = kk_pixel__write_gray_png(ctx, png_path, img, w, h);
    free(img);
    if (st == KK_OK && heads)
        *heads = (size_t)n;
    return st;
}

/* --- in memory (lib/deid/deid_internal.h) --------------------------- */

kk_status kk_deid__buffer(kk_deid *d, kk_ctx *ctx, const void *data, size_t len, kk_buf *out)
{
    return kk_deid__buffer_ex(d, ctx, data, len, "<memory>", out, NULL, NULL);
}

kk_status kk_deid__buffer_ex(kk_deid *d, kk_ctx *ctx, const void *data, size_t len,
                             const char *label, kk_buf *out, kk_deid_result *res,
                             kk_deid__names *names)
{
    walk w;
    walk_init(&w, d, ctx, label);
    w.res = res;
    if (res) {
        memset(res, 0, sizeof *res);
        res->bytes_in = len;
    }
    if (names)
        memset(names, 0, sizeof *names);
    kk_status st = KK_OK;
    if (d->decide_only)
        st = kk__fail(ctx, KK_EINVAL, "this run only explains: it was started with decide_only");
    if (st == KK_OK && d->max_bytes && len > d->max_bytes)
        st = kk__fail(ctx, KK_ELIMIT, "cannot read '%s': %llu MiB is above the per-object "
                      "limit of %llu MiB (raise it with --max-object-size)", label,
                      (unsigned long long)(len >> 20), (unsigned long long)(d->max_bytes >> 20));
    if (st == KK_OK) {
        st = kk_dcm__load_buffer(&w.dcm, ctx, data, len);
        if (st != KK_OK && strcmp(label, "<memory>") != 0) {
            /* the loader names the input '<memory>': give the caller's label */
            char why[512];
            snprintf(why, sizeof why, "%s", kk_error_message(ctx));
            const char *m = strstr(why, "'<memory>'");
            if (m)
                kk__fail(ctx, st, "%.*s'%s'%s", (int)(m - why), why, label, m + 10);
        }
    }
    if (st == KK_OK)
        st = walk_loaded(&w, label);
    if (st == KK_OK && out)
        st = kk_dcm__save_buffer(w.dcm, ctx, out);
    if (st == KK_OK && names) {
        kk_dcm_item *ds = kk_dcm__dataset(w.dcm);
        names->study = dup_string_of(ds, TAG_STUDY_UID);
        names->series = dup_string_of(ds, TAG_SERIES_UID);
        names->sop = dup_string_of(ds, TAG_SOP_INSTANCE);
        if (!names->sop)
            names->sop = dup_string_of(kk_dcm__meta(w.dcm), TAG_MEDIA_SOP_INSTANCE);
        names->sop_class = w.sop_class ? kk__strdup(w.sop_class) : NULL;
        /* the name kk_deid_file() would give it; an object without UIDs is
         * named from its content (the keyed digest of its bytes) */
        char fallback[80] = "memory";
        if (!names->sop) {
            unsigned char dg[KK_KEY_DIGEST_BYTES];
            char hex[2 * KK_KEY_DIGEST_BYTES + 1];
            kk_key_digest(d->key, "buffer-name", data, len, dg);
            sodium_bin2hex(hex, sizeof hex, dg, sizeof dg);
            snprintf(fallback, sizeof fallback, "memory-%.32s", hex);
        }
        char p1[72], p2[72], p3[72];
        path_part(p1, sizeof p1, names->study, "no-study", &w);
        path_part(p2, sizeof p2, names->series, "no-series", &w);
        path_part(p3, sizeof p3, names->sop, fallback, &w);
        snprintf(names->output_path, sizeof names->output_path, "%s/%s/%s.dcm", p1, p2, p3);
    }
    walk_free(&w);
    return st;
}

const kk_profile *kk_deid__profile(const kk_deid *d)
{
    return d->profile;
}

kk_store *kk_deid__store(const kk_deid *d)
{
    return d->store;
}

/* --- the review contact sheet (lib/deid/review.c) ----------------------- */

kk_status kk_deid__review_one(kk_deid *d, kk_ctx *ctx, const char *path, kk_image **before,
                              kk_image **after, kk_pixel_outcome *out)
{
    *before = *after = NULL;
    memset(out, 0, sizeof *out);
    walk w;
    walk_init(&w, d, ctx, path);
    uint64_t size;
    kk_status st = check_size(d, ctx, path, &size);
    if (st == KK_OK)
        st = kk_dcm__load(&w.dcm, ctx, path, d->lazy);
    if (st == KK_OK)
        st = kk_deid__fix_charsets(kk_dcm__dataset(w.dcm), ctx, &w.csfix);
    if (st == KK_OK && d->need_ids)
        st = object_ids(&w, kk_dcm__dataset(w.dcm));
    if (st == KK_OK && d->pixel_rules)
        st = kk_pixel__plan(&w.plan, ctx, d->profile, w.dcm, path);
    if (st == KK_OK)
        st = kk_image__decode(before, ctx, w.dcm);
    kk_pixel_pool *pool = NULL;
    if (st == KK_OK && w.plan.active)
        st = pixel_pool(d, ctx, &pool);
    if (st == KK_OK && w.plan.active)
        st = kk_pixel__apply(&w.plan, ctx, pool, w.dcm, path, false, out, after);
    else if (st == KK_OK)
        st = kk_image__decode(after, ctx, w.dcm);
    if (st != KK_OK) {
        kk_image__free(*before);
        kk_image__free(*after);
        *before = *after = NULL;
        kk_pixel__outcome_free(out);
    }
    walk_free(&w);
    return st;
}

/* --- for lib/deid/verify.c (deid/verify_internal.h) ---------------------- */

kk_status kk_deid__new_dry(kk_deid **out, kk_ctx *ctx, const kk_profile *profile)
{
    /* a run that only decides: nothing is written or recorded, so a
     * profile that keeps a correspondence needs no store here, and a
     * keyed one gets an ephemeral key (the decisions do not depend on it) */
    kk_key *eph = NULL;
    kk_deid_options o = KK_DEID_OPTIONS_INIT;
    o.decide_only = 1;
    if (!kk_profile_forbids_key(profile)) {
        kk_status st = kk_key_new_ephemeral(&eph, ctx);
        if (st != KK_OK)
            return st;
        o.key = eph;
    }
    kk_status st = kk_deid_new(out, ctx, profile, &o);
    if (st != KK_OK) {
        kk_key_free(eph);
        return st;
    }
    if (eph)
        (*out)->own_key = eph; /* kk_deid_new made none: a key was given */
    return KK_OK;
}

kk_status kk_deid__apply_loaded(kk_deid *d, kk_ctx *ctx, kk_dcm *dcm, const char *path,
                                kk_explain_fn fn, void *payload)
{
    walk w;
    walk_init(&w, d, ctx, path);
    w.fn = fn;
    w.payload = payload;
    w.dcm = dcm;
    kk_status st = walk_loaded(&w, path);
    w.dcm = NULL; /* the caller's */
    walk_free(&w);
    return st;
}
