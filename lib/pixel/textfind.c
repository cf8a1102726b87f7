/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/textfind.c - burned-in text: detect, read, decide (see
 * textfind.h).
 *
 * Steps for one frame: (1) candidate lines of both polarities
 * (detect_opencv.cc); where a light and a dark line cover the same place,
 * the one with the stronger contrast is kept and takes the other's extent;
 * (2) each line is cut out, scaled to ~32 px glyphs, binarized and read
 * with Tesseract eng, and again with jpn when eng is unsure (Japanese text
 * reads as low-confidence Latin); readings are cached by the crop's hash,
 * so a static banner in a cine is read once; (3) each reading is
 * classified (textmatch.c); (4) the mode decides; in PHI mode a matching
 * piece takes the rest of its row with it, as a name or ID is often split
 * by a wide gap; (5) boxes are padded to cover anti-aliased edges and
 * merged.
 *
 * Safe defaults: a line that looks like text but that OCR cannot read is
 * redacted in both modes; out of memory while classifying means redact.
 * Weak candidates (a detection score below kStrong) that OCR does not
 * read either are dropped: that is speckle, not text.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pixel/detect.h"
#include "pixel/ocr.h"
#include "pixel/redact.h"
#include "pixel/textfind.h"
#include "pixel/textmatch.h"

#define TARGET_GLYPH_H 32   /* glyph height Tesseract reads best, px */
#define CONF_READ 60.0f     /* below this a reading counts as unread */
#define SMALL_GLYPH 9       /* glyphs this high or less are small text */
#define CONF_SMALL 80.0f    /* ...whose readings must be this confident */
#define CONF_ENG_SURE 85.0f /* eng readings below this are tried in jpn too */
#define CONF_TECH 60.0f     /* a technical line must be read at least this well */
#define CONF_KEEP 50.0f     /* ...to be kept inside a region rule, where it must
                               also match the patterns whole and span its line
                               (Tesseract gives a clean "MI 1.2" 58) */
#define STRONG_SCORE 0.80f  /* detection score that makes an unread line text */
#define CACHE_SLOTS 64
/* telling text from pictures (anatomy, Doppler colour, calipers) */
#define CONF_WORDS 75.0f    /* a reading this sure, of 2+ characters, is text */
#define PICTURE_SAL 6.0f    /* glyphs standing out less than this from their
                               surroundings sit on a textured picture */
#define BIG_GLYPH 40        /* components this high are rarely lone glyphs */
#define MIN_CONTRAST 24     /* |text - background| of visible text */
#define ID_DIGITS 5         /* a line with this many digits may identify */

typedef struct reading {
    char eng[160], jpn[160];
    float eng_conf, jpn_conf;
    int eng_words, jpn_words;
    int has_jpn;
    /* word boxes (frame pixels) from either reading, as one extent */
    int wx0, wy0, wx1, wy1;
} reading;

typedef struct cache_slot {
    uint64_t hash;
    int w, h, used;
    reading r;
} cache_slot;

struct kk_textfind {
    kk_ocr *ocr;
    bool strict; /* weak candidates that do not look like text are dropped */
    bool need_reading; /* only lines OCR reads as text count */
    bool measured;     /* the frame is a measured picture (more than 8 bits) */
    const kk_textbox *covered; /* painted already: lines inside are not read */
    size_t ncovered;
    cache_slot cache[CACHE_SLOTS];
    unsigned next_slot;
};

const char *kk_text_class__name(kk_text_class cls)
{
    return kk_pixel__class_name((int)cls); /* one spelling, shared with explain */
}

kk_status kk_textfind__new(kk_textfind **out, kk_ctx *ctx)
{
    *out = NULL;
    kk_textfind *tf = kk__calloc(1, sizeof *tf);
    if (!tf)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    /* OCR starts with the first line to read: most frames have none, and
     * starting Tesseract costs ~0.3 s */
    (void)ctx;
    *out = tf;
    return KK_OK;
}

void kk_textfind__free(kk_textfind *tf)
{
    if (!tf)
        return;
    kk_ocr__free(tf->ocr);
    /* the cache holds text read from images: PHI */
    memset(tf->cache, 0, sizeof tf->cache);
    free(tf);
}

void kk_textfind__strict(kk_textfind *tf, bool strict)
{
    if (tf)
        tf->strict = strict;
}

void kk_textfind__measured(kk_textfind *tf, bool measured)
{
    if (tf)
        tf->measured = measured;
}

void kk_textfind__need_reading(kk_textfind *tf, bool need)
{
    if (tf)
        tf->need_reading = need;
}

void kk_textfind__covered(kk_textfind *tf, const kk_textbox *boxes, size_t n)
{
    if (tf) {
        tf->covered = n ? boxes : NULL;
        tf->ncovered = boxes ? n : 0;
    }
}

/* Whether x, y, w, h lies wholly inside a box painted already. */
static int is_covered(const kk_textfind *tf, int x, int y, int w, int h)
{
    for (size_t i = 0; i < tf->ncovered; i++) {
        const kk_textbox *b = &tf->covered[i];
        if (x >= b->x && y >= b->y && x + w <= b->x + b->w && y + h <= b->y + b->h)
            return 1;
    }
    return 0;
}

static int overlap_1d(int a0, int a1, int b0, int b1)
{
    int lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;
    return hi > lo ? hi - lo : 0;
}

/* The gap between two lines along the row: negative where they overlap. */
static int gap_along(const kk_detect_line *a, const kk_detect_line *b)
{
    return a->x > b->x ? a->x - (b->x + b->w) : b->x - (a->x + a->w);
}

static void join_words(char *dst, size_t cap, const kk_ocr_word *w, size_t n)
{
    size_t len = 0;
    dst[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t wl = strlen(w[i].text);
        if (len + wl + 2 > cap)
            break;
        if (len)
            dst[len++] = ' ';
        memcpy(dst + len, w[i].text, wl);
        len += wl;
        dst[len] = '\0';
    }
}

/* Read one line with lang into text/conf; widen the word extent. */
static kk_status read_lang(kk_textfind *tf, kk_ctx *ctx, kk_ocr_lang lang, const uint8_t *img,
                           int w, int h, double scale, int ox, int oy, int border, char *text,
                           size_t cap, float *conf, int *nwords, reading *r)
{
    kk_ocr_word *words = NULL;
    size_t n = 0;
    kk_status st = kk_ocr__line(tf->ocr, ctx, lang, img, w, h, &words, &n, conf);
    if (st != KK_OK)
        return st;
    join_words(text, cap, words, n);
    *nwords = (int)n;
    for (size_t i = 0; i < n; i++) {
        int x0 = ox + (int)((words[i].x - border) / scale);
        int y0 = oy + (int)((words[i].y - border) / scale);
        int x1 = ox + (int)((words[i].x + words[i].w - border) / scale + 0.999);
        int y1 = oy + (int)((words[i].y + words[i].h - border) / scale + 0.999);
        if (x0 < r->wx0) r->wx0 = x0;
        if (y0 < r->wy0) r->wy0 = y0;
        if (x1 > r->wx1) r->wx1 = x1;
        if (y1 > r->wy1) r->wy1 = y1;
    }
    free(words);
    return KK_OK;
}

static kk_status read_line(kk_textfind *tf, kk_ctx *ctx, const uint8_t *gray, int width,
                           int height, const kk_detect_line *l, reading *r)
{
    uint8_t *img = NULL;
    int w = 0, h = 0, ox = 0, oy = 0, border = 0;
    double scale = 1;
    memset(r, 0, sizeof *r);
    r->wx0 = r->wy0 = 1 << 30;
    r->wx1 = r->wy1 = -1;
    kk_status st = kk_detect__ocr_image(ctx, gray, width, height, l, TARGET_GLYPH_H, &img, &w,
                                        &h, &scale, &ox, &oy, &border);
    if (st != KK_OK)
        return st;
    uint64_t hash = kk__fnv1a(KK_FNV1A_INIT, img, (size_t)w * h) ^ ((uint64_t)ox << 32) ^ (uint64_t)oy;
    for (int i = 0; i < CACHE_SLOTS; i++) {
        cache_slot *s = &tf->cache[i];
        if (s->used && s->hash == hash && s->w == w && s->h == h) {
            *r = s->r;
            free(img);
            return KK_OK;
        }
    }
    if (!tf->ocr)
        st = kk_ocr__new(&tf->ocr, ctx, NULL);
    if (st != KK_OK) {
        free(img);
        return st;
    }
    st = read_lang(tf, ctx, KK_OCR_ENG, img, w, h, scale, ox, oy, border, r->eng, sizeof r->eng,
                   &r->eng_conf, &r->eng_words, r);
    if (st == KK_OK && (r->eng_words == 0 || r->eng_conf < CONF_ENG_SURE)) {
        r->has_jpn = 1;
        st = read_lang(tf, ctx, KK_OCR_JPN, img, w, h, scale, ox, oy, border, r->jpn,
                       sizeof r->jpn, &r->jpn_conf, &r->jpn_words, r);
    }
    free(img);
    if (st != KK_OK)
        return st;
    cache_slot *s = &tf->cache[tf->next_slot++ % CACHE_SLOTS];
    s->hash = hash;
    s->w = w;
    s->h = h;
    s->used = 1;
    s->r = *r;
    return KK_OK;
}

/* Glyphs of one height on one baseline with thin strokes: a line that
 * looks like text whatever OCR makes of it (and is redacted unread). */
static int looks_like_text(const kk_detect_line *l)
{
    /* a pixel of slack: small glyphs sit a pixel off the baseline, and
     * the stroke estimate has a floor of about 2 px (granted to crisp
     * edges only: a row of speckle grains is as thick as it is high) */
    float px = 1.0f / (float)(l->glyph_h > 0 ? l->glyph_h : 1);
    float max_stroke = l->sharp >= 1.0f ? 0.6f + 2 * px : 0.75f;
    if (l->ncomp < 3 || l->glyph_h >= BIG_GLYPH || l->stroke > max_stroke)
        return 0;
    /* a long row of small glyphs lines up less well, but is a long row */
    return (l->h_spread <= 0.35f && l->base_spread <= 0.15f + px) ||
           (l->ncomp >= 6 && l->h_spread <= 0.45f && l->base_spread <= 0.25f + px);
}

/* How far the glyphs stand out from their background on the side of
 * their polarity: a "light line" darker than what surrounds it (the gaps
 * between dark glyphs, on a light page) has none. */
static int contrast(const kk_detect_line *l)
{
    int c = l->polarity > 0 ? l->text_level - l->bg_level : l->bg_level - l->text_level;
    return c > 0 ? c : 0;
}

/* Do two lines cover the same place (half of the smaller one)? */
static int same_place(const kk_detect_line *a, const kk_detect_line *b)
{
    long ov = (long)overlap_1d(a->x, a->x + a->w, b->x, b->x + b->w) *
              overlap_1d(a->y, a->y + a->h, b->y, b->y + b->h);
    long aa = (long)a->w * a->h, ab = (long)b->w * b->h;
    return ov * 2 >= (aa < ab ? aa : ab);
}

/* k takes the extent of d, which it replaces; only its width when d is a
 * solid block of background much taller than k (the black between rows,
 * seen as one dark glyph): a row of gaps over several rows of text does
 * tell where their glyphs are. */
static void take_extent(kk_detect_line *k, const kk_detect_line *d, int rows)
{
    int x0 = k->x < d->x ? k->x : d->x;
    int y0 = k->y < d->y ? k->y : d->y;
    int x1 = k->x + k->w > d->x + d->w ? k->x + k->w : d->x + d->w;
    int y1 = k->y + k->h > d->y + d->h ? k->y + k->h : d->y + d->h;
    int gh = k->glyph_h;
    /* nor when the union would span rows: OCR reads one row of a crop */
    if (!rows || (contrast(d) < MIN_CONTRAST && d->ncomp <= 2 && 2 * d->h > 3 * k->h + 4) ||
        (y1 - y0 > 2 * gh + 6 && y1 - y0 > k->h)) {
        y0 = k->y;
        y1 = k->y + k->h;
    }
    k->x = x0;
    k->y = y0;
    k->w = x1 - x0;
    k->h = y1 - y0;
    if (d->score > k->score)
        k->score = d->score;
}

/* Keep one of two lines of opposite polarity that cover the same place.
 * A dark "line" with no contrast to its surroundings is the gaps between
 * light glyphs: it tells how far their row runs (pieces the light pass
 * split, or merged into a tissue line), so every light line it covers
 * takes its extent before it goes. */
static void dedupe_polarity(kk_detect_line *l, size_t n, char *dead)
{
    for (size_t d = 0; d < n; d++) {
        if (contrast(&l[d]) >= MIN_CONTRAST)
            continue;
        for (size_t k = 0; k < n; k++)
            if (k != d && !dead[k] && l[k].polarity != l[d].polarity &&
                contrast(&l[k]) >= MIN_CONTRAST && same_place(&l[k], &l[d])) {
                /* the rows of the gaps: no more than the glyphs' own,
                 * or the crop OCR reads takes in what lies above */
                take_extent(&l[k], &l[d], l[d].h <= l[k].h + l[k].glyph_h / 4);
                dead[d] = 1;
            }
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            if (dead[i] || dead[j] || l[i].polarity == l[j].polarity ||
                !same_place(&l[i], &l[j]))
                continue;
            size_t keep = contrast(&l[i]) >= contrast(&l[j]) ? i : j, drop = keep == i ? j : i;
            /* a piece inside a glyph (the counter of an A) is no rival
             * to the row of glyphs around it when their contrasts are
             * near: the glyphs' row is the line */
            /* nor is a piece of a row of glyphs laid out like text, under
             * half as long with fewer parts (the light page beside the
             * first glyphs of a dark row that runs onto a speckle panel):
             * the row is the line, however bright that page */
            if ((l[drop].glyph_h >= 2 * l[keep].glyph_h &&
                 10 * contrast(&l[drop]) >= 7 * contrast(&l[keep])) ||
                (looks_like_text(&l[drop]) && l[drop].ncomp > l[keep].ncomp &&
                 l[drop].w >= 2 * l[keep].w)) {
                size_t t = keep;
                keep = drop;
                drop = t;
            }
            take_extent(&l[keep], &l[drop], 1);
            dead[drop] = 1;
        }
}

/* OCR read characters, not guesses at a picture: two letters or digits
 * read with confidence (kana and kanji: two, with more confidence, as
 * jpn reads any blob as a kanji). */
static int reads_as_text(const reading *r)
{
    int a = 0, c = 0;
    if (r->eng_words > 0 && r->eng_conf >= CONF_WORDS) {
        kk_textmatch__chars(r->eng, &a, NULL, NULL);
        if (a >= 2)
            return 1;
    }
    if (r->has_jpn && r->jpn_words > 0 && r->jpn_conf >= CONF_SMALL) {
        kk_textmatch__chars(r->jpn, &a, &c, NULL);
        if (a + c >= 2)
            return 1;
    }
    return 0;
}

/* Whether under a tenth of the ring half a glyph wide around the line
 * differs from ref by visible contrast. */
static int ring_plain(const uint8_t *g, int width, int height, const kk_detect_line *l, int ref)
{
    int m = l->glyph_h / 2 > 2 ? l->glyph_h / 2 : 2;
    int x0 = l->x - m, y0 = l->y - m, x1 = l->x + l->w + m, y1 = l->y + l->h + m;
    size_t n = 0, busy = 0;
    for (int y = y0; y < y1; y++) {
        if (y < 0 || y >= height)
            continue;
        for (int x = x0; x < x1; x++) {
            if (x < 0 || x >= width ||
                (y >= l->y && y < l->y + l->h && x >= l->x && x < l->x + l->w))
                continue;
            int d = (int)g[(size_t)y * width + x] - ref;
            n++;
            busy += d >= MIN_CONTRAST || d <= -MIN_CONTRAST;
        }
    }
    return n > 0 && busy * 10 <= n;
}

/* Little else stands out around the line in the chroma view: text set on
 * a plain or grey background, not a piece of a picture (Doppler flow is
 * colour all around). */
static int quiet_around(const uint8_t *g, int width, int height, const kk_detect_line *l)
{
    return ring_plain(g, width, height, l, 0);
}

/* The ring around the line is its background, plain: text set on a
 * label or an empty corner, not rows of grains in tissue. */
static int plain_around(const uint8_t *g, int width, int height, const kk_detect_line *l)
{
    return ring_plain(g, width, height, l, l->bg_level);
}

/* OCR made fewer than five letters or digits of the line in eng: its
 * guess at a picture, or nothing. */
static int few_characters(const reading *r)
{
    int a = 0;
    kk_textmatch__chars(r->eng, &a, NULL, NULL);
    return a < 5;
}

/* Blobs as thick as they are high, not laid out like text: pieces of the
 * picture (vessels, sulci of a brain tile), not glyphs, whose strokes stay
 * well under half their height. Below 8 px the stroke estimate's 2 px
 * floor says little, so there only strokes thicker than the blobs are
 * high count. */
static int thick_blobs(const kk_detect_line *l)
{
    if (looks_like_text(l))
        return 0;
    return (l->glyph_h >= 8 && l->stroke > 0.5f) || (l->glyph_h >= 4 && l->stroke > 1.0f);
}

/* Glyphs this high OCR reads when they are glyphs; such a candidate, not
 * laid out like text, that it reads nothing of is a picture's shapes (the
 * brains of a mosaic's row of tiles). */
#define BIG_UNREAD_GLYPH 16

static int big_glyphs(const kk_detect_line *l)
{
    return l->glyph_h >= BIG_UNREAD_GLYPH && !looks_like_text(l);
}

/* Dark blobs this high lying on what is darker still (the air around a
 * mosaic's tiles): no dark glyphs, but the gaps inside a bright slice,
 * however well they line up (seed 56's mr_mosaic: three sulci of one
 * tile as a 33 px "LJ"). */
static int big_dark_gaps(const kk_detect_line *l)
{
    return l->glyph_h >= BIG_UNREAD_GLYPH && l->polarity < 0 && contrast(l) == 0;
}

/* In phi mode in a measured picture (CT, MR, a radiograph), a candidate
 * going as unread text that OCR does not read as text may be the anatomy:
 *  - a weak one OCR makes only a few characters of, inside busy anatomy
 *    (rows of grains in a brain slice read as "bot" or "|"); a longer
 *    misreading (6 px "Yuki Kobayashi" as "KOOByasr") or a strong one is
 *    text. (On 8-bit screens and speckle a name is often read that badly:
 *    there it goes.)
 *  - blobs as thick as they are high, or 16+ px ones read as nothing,
 *    or 16+ px dark ones on darker ground read as a few characters;
 *  - one or two blobs alone on the black around a head (the scalp and
 *    ears of an outer MR slice), strong as they are, read as a character
 *    or two: a glyph of a line goes with the line's identifier
 *    (propagation), alone it is tissue. */
static int anatomy_not_text(const uint8_t *gray, int width, int height, const kk_detect_line *l,
                            const reading *r)
{
    if (l->score < STRONG_SCORE && few_characters(r) && !plain_around(gray, width, height, l))
        return 1;
    if (thick_blobs(l) || big_glyphs(l) || (big_dark_gaps(l) && few_characters(r)))
        return 1;
    return l->ncomp <= 2 && few_characters(r) && plain_around(gray, width, height, l);
}

/* OCR saw only symbols (a caliper's cross, an arrow, a bracket). */
static int reads_as_symbols(const reading *r)
{
    int a = 0, c = 0, o = 0, a2 = 0, c2 = 0, o2 = 0;
    kk_textmatch__chars(r->eng, &a, &c, &o);
    if (r->has_jpn)
        kk_textmatch__chars(r->jpn, &a2, &c2, &o2);
    return a + c + a2 + c2 == 0 && o + o2 > 0;
}

/* A candidate that is more likely part of the picture than text: neither
 * laid out like text nor read as text, and one of: barely standing out
 * from a textured background (tissue, Doppler colour, speckle); bigger
 * than glyphs come (bone on film, the background between rows); a lone
 * symbol. (A dark line with no contrast to its surroundings is not one:
 * it is the gaps between light glyphs, which may be all that is left of
 * a row of text crossed by a bright tissue line.) */
static int picture_like(const kk_detect_line *l, const reading *r)
{
    if (looks_like_text(l) || reads_as_text(r))
        return 0;
    if (l->saliency < PICTURE_SAL || l->glyph_h >= BIG_GLYPH)
        return 1;
    return l->ncomp <= 2 && reads_as_symbols(r);
}

typedef struct decision {
    int redact;
    int picture;   /* spared as part of the picture, unless its row is text */
    int propagate; /* an identifier or a label: takes its row along */
    int label;     /* ...a label cue alone (Name, ID): no identifier read */
    int technical;
    kk_text_class cls;
    float conf;
} decision;

/* A label cue read from one blob (a sulcus as "id", 80% sure): the two
 * letters of a label are two blobs or more (the i's dot alone is one), so
 * OCR's confidence says nothing here. */
static int lone_label(const kk_detect_line *l, const decision *d)
{
    return d->label && l->ncomp <= 1;
}

static decision decide(const kk_textmatch *m, kk_text_mode mode, const kk_detect_line *l,
                       const reading *r, int alone)
{
    decision d = { 0, 0, 0, 0, 0, KK_TEXT_OTHER, 0 };
    float best = r->eng_conf > r->jpn_conf ? r->eng_conf : r->jpn_conf;
    int words = r->eng_words + r->jpn_words;
    d.conf = words ? best : 0;
    kk_text_class c = kk_textmatch__identifier(m, r->eng);
    if (c == KK_TEXT_OTHER && r->has_jpn)
        c = kk_textmatch__identifier(m, r->jpn);
    kk_text_class lc = KK_TEXT_OTHER;
    int label = kk_textmatch__label(r->eng, &lc) || (r->has_jpn && kk_textmatch__label(r->jpn, &lc));
    /* small text is misread with confidence: ask more of it */
    int unread = words == 0 || best < CONF_READ || (l->glyph_h <= SMALL_GLYPH && best < CONF_SMALL);
    d.technical = c == KK_TEXT_OTHER &&
                  ((r->eng_words > 0 && r->eng_conf >= CONF_TECH && kk_textmatch__technical(m, r->eng)) ||
                   (r->jpn_words > 0 && r->jpn_conf >= CONF_SMALL && kk_textmatch__technical(m, r->jpn)));
    if (c != KK_TEXT_OTHER) {
        d.redact = d.propagate = 1;
        d.cls = c;
        return d;
    }
    if (label && !d.technical) {
        d.redact = d.propagate = d.label = 1;
        d.cls = lc;
        return d;
    }
    if (d.technical) {
        d.cls = KK_TEXT_TECHNICAL;
        return d;
    }
    /* (a strong line alone on a plain background in the chroma view is
     * faint colour text, as it stands out little: not a picture) */
    if (!alone && picture_like(l, r)) {
        d.picture = 1;
        return d;
    }
    /* a long number that is no technical token: a date or an ID that OCR
     * misread a digit or a separator of (S33/11@1, #6250110), or another
     * patient's; identifiers are what burned-in numbers mostly are */
    if (!unread && (kk_textmatch__digits(r->eng) >= ID_DIGITS ||
                    (r->has_jpn && kk_textmatch__digits(r->jpn) >= ID_DIGITS))) {
        d.redact = d.propagate = 1;
        d.cls = KK_TEXT_OTHER;
        return d;
    }
    if (unread) {
        /* weak gaps between light things (dark speckle under a tissue
         * arc): the picture's, unless their row is text, as the gaps
         * between light glyphs crossed by a tissue line are */
        if (l->polarity < 0 && contrast(l) == 0 && l->score < STRONG_SCORE) {
            d.picture = 1;
            return d;
        }
        /* speckle reads as nothing too: only a strong candidate is text;
         * and OCR reads some word into any texture, so in phi mode (the
         * anatomy) a guess counts only on a row laid out like text */
        d.redact = l->score >= STRONG_SCORE ||
                   (words > 0 && (mode == KK_TEXT_MODE_ALL || looks_like_text(l)));
        d.cls = KK_TEXT_OTHER;
        return d;
    }
    d.redact = mode == KK_TEXT_MODE_ALL;
    d.cls = KK_TEXT_OTHER;
    return d;
}

/* In the same row: overlapping vertically, of similar size, close by. */
static int same_row(const kk_detect_line *a, const kk_detect_line *b, int tight)
{
    int hmin = a->h < b->h ? a->h : b->h, hmax = a->h > b->h ? a->h : b->h;
    if (overlap_1d(a->y, a->y + a->h, b->y, b->y + b->h) * 2 < hmin || hmax > 2 * hmin + 4)
        return 0;
    int gh = a->glyph_h > b->glyph_h ? a->glyph_h : b->glyph_h;
    int gap = gap_along(a, b);
    return tight ? 2 * gap <= 3 * gh : gap <= 4 * gh;
}

static int box_touch(const kk_textbox *a, const kk_textbox *b)
{
    return a->x <= b->x + b->w && b->x <= a->x + a->w && a->y <= b->y + b->h &&
           b->y <= a->y + a->h;
}

static int precedence(kk_text_class c)
{
    /* identifiers first, then other text, then technical */
    return c == KK_TEXT_OTHER ? 10 : c == KK_TEXT_TECHNICAL ? 11 : (int)c;
}

/* Boxes that touch on one row, or one mostly inside the other, become one;
 * boxes of different rows stay apart, even when they touch: their union
 * would paint the picture between them. */
static int mergeable(const kk_textbox *a, const kk_textbox *b)
{
    if (!box_touch(a, b))
        return 0;
    int hmin = a->h < b->h ? a->h : b->h;
    int wmin = a->w < b->w ? a->w : b->w;
    int ov_y = overlap_1d(a->y, a->y + a->h, b->y, b->y + b->h);
    int ov_x = overlap_1d(a->x, a->x + a->w, b->x, b->x + b->w);
    if (2 * ov_y >= hmin)
        return 1;
    long inter = (long)ov_x * ov_y, amin = (long)hmin * wmin;
    long aa = (long)a->w * a->h, ab = (long)b->w * b->h;
    return 10 * inter >= 8 * (aa < ab ? aa : ab) || (amin > 0 && 10 * inter >= 8 * amin);
}

bool kk_textfind__too_big(int w, int h, int width, int height)
{
    return (long long)w * h * 4 > (long long)width * height;
}

/* Merge touching boxes of one line or block, while a merged box is not
 * too big (kk_textfind__too_big): a page of text merged into one (a
 * form's columns and the rows across them) would be dropped whole. */
static void merge_boxes(kk_textbox *b, size_t *n, int width, int height)
{
    int changed = 1;
    while (changed) {
        changed = 0;
        for (size_t i = 0; i < *n; i++)
            for (size_t j = i + 1; j < *n; j++) {
                if (!mergeable(&b[i], &b[j]))
                    continue;
                int x0 = b[i].x < b[j].x ? b[i].x : b[j].x;
                int y0 = b[i].y < b[j].y ? b[i].y : b[j].y;
                int x1 = b[i].x + b[i].w > b[j].x + b[j].w ? b[i].x + b[i].w : b[j].x + b[j].w;
                int y1 = b[i].y + b[i].h > b[j].y + b[j].h ? b[i].y + b[i].h : b[j].y + b[j].h;
                if (kk_textfind__too_big(x1 - x0, y1 - y0, width, height))
                    continue;
                b[i].x = x0;
                b[i].y = y0;
                b[i].w = x1 - x0;
                b[i].h = y1 - y0;
                if (precedence(b[j].cls) < precedence(b[i].cls))
                    b[i].cls = b[j].cls;
                if (b[j].confidence < b[i].confidence)
                    b[i].confidence = b[j].confidence;
                size_t len = strlen(b[i].text);
                if (b[j].text[0] && len + 2 < sizeof b[i].text) {
                    /* keep whole UTF-8 characters only */
                    size_t room = sizeof b[i].text - len - 2, tl = strlen(b[j].text);
                    if (tl > room) {
                        tl = room;
                        while (tl > 0 && ((unsigned char)b[j].text[tl] & 0xC0) == 0x80)
                            tl--;
                    }
                    if (len)
                        b[i].text[len++] = ' ';
                    memcpy(b[i].text + len, b[j].text, tl);
                    b[i].text[len + tl] = '\0';
                }
                b[j] = b[--*n];
                changed = 1;
                j--;
            }
    }
}

/* Two pieces of one line of text: glyphs of one height, on one baseline,
 * at one grey level (a gap line has none), at most three glyphs apart
 * (a word between them the detector missed, on speckle). */
static int aligned(const kk_detect_line *a, const kk_detect_line *b)
{
    int gh = a->glyph_h > b->glyph_h ? a->glyph_h : b->glyph_h;
    int tol = gh / 4 > 2 ? gh / 4 : 2;
    int gap = gap_along(a, b);
    return abs(a->glyph_h - b->glyph_h) <= tol && abs(a->y - b->y) <= tol &&
           abs(a->y + a->h - b->y - b->h) <= tol &&
           (abs(a->text_level - b->text_level) <= 24 || contrast(a) < MIN_CONTRAST ||
            contrast(b) < MIN_CONTRAST) &&
           gap <= 3 * gh;
}

/* Is one piece's span of rows inside the other's, the two close along
 * the row (within three times the taller's height)? The glyph height of
 * a piece the detector took only some strokes of (12 px kanji, dark on a
 * mid-grey picture, across its edge: seed 44's sc01) is far below the
 * glyphs', so aligned() finds no row in it. */
static int nested_rows(const kk_detect_line *a, const kk_detect_line *b)
{
    int gap = gap_along(a, b);
    int hmax = a->h > b->h ? a->h : b->h;
    int in = (a->y >= b->y && a->y + a->h <= b->y + b->h) || (b->y >= a->y && b->y + b->h <= a->y + a->h);
    return in && gap <= 3 * hmax;
}

/* Pieces of one row that the detector split at a wide gap (a hyphen, a
 * colon, a wide space: "1985" "07-05", "Acc:" "X7720221") may each read
 * as nothing in particular; read together they are a date or an ID. Each
 * chain of pieces of one polarity close together on one row, of which not
 * every piece already goes with its row, is read again as one line
 * (gap lines, with no contrast of their own, join either polarity);
 * when that reading matches, every piece takes its decision. */
static kk_status read_row_chains(kk_textfind *tf, kk_ctx *ctx, const kk_textmatch *m,
                                 kk_text_mode mode, const uint8_t *gray, int width, int height,
                                 const kk_detect_line *lines, size_t n, const char *dead,
                                 decision *dec)
{
    int *chain = kk__calloc(n ? n : 1, sizeof *chain);
    if (!chain)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        chain[i] = (int)i;
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++)
                if (!dead[i] && !dead[j] && chain[i] != chain[j] &&
                    (lines[i].polarity == lines[j].polarity || contrast(&lines[i]) < MIN_CONTRAST ||
                     contrast(&lines[j]) < MIN_CONTRAST) &&
                    (same_row(&lines[i], &lines[j], 1) || aligned(&lines[i], &lines[j]) ||
                     nested_rows(&lines[i], &lines[j]))) {
                    int a = chain[i] < chain[j] ? chain[i] : chain[j];
                    int b = chain[i] < chain[j] ? chain[j] : chain[i];
                    for (size_t k = 0; k < n; k++)
                        if (chain[k] == b)
                            chain[k] = a;
                    changed = 1;
                }
    }
    kk_status st = KK_OK;
    for (size_t c = 0; c < n && st == KK_OK; c++) {
        if (dead[c] || chain[c] != (int)c)
            continue;
        int members = 0, all_go = 1;
        kk_detect_line u = lines[c];
        int x0 = u.x, y0 = u.y, x1 = u.x + u.w, y1 = u.y + u.h;
        for (size_t k = 0; k < n; k++) {
            if (dead[k] || chain[k] != (int)c)
                continue;
            members++;
            all_go = all_go && dec[k].propagate;
            const kk_detect_line *l = &lines[k];
            x0 = l->x < x0 ? l->x : x0;
            y0 = l->y < y0 ? l->y : y0;
            x1 = l->x + l->w > x1 ? l->x + l->w : x1;
            y1 = l->y + l->h > y1 ? l->y + l->h : y1;
            if (l->glyph_h > u.glyph_h)
                u.glyph_h = l->glyph_h;
            if (contrast(l) > contrast(&u)) {
                /* the polarity of the clearest piece: a gap line (the
                 * dark between light glyphs) joins the row of its glyphs */
                u.polarity = l->polarity;
                u.text_level = l->text_level;
                u.bg_level = l->bg_level;
            }
            if (l->score > u.score)
                u.score = l->score;
        }
        if (members < 2 || all_go)
            continue;
        /* binarized between the faintest glyphs and the nearest
         * background of the pieces, so that every piece stays legible
         * (one on a light page, the next on a darker picture) */
        for (size_t k = 0; k < n; k++) {
            const kk_detect_line *l = &lines[k];
            if (dead[k] || chain[k] != (int)c || l->polarity != u.polarity ||
                contrast(l) < MIN_CONTRAST)
                continue;
            int p = u.polarity;
            if (p * l->text_level < p * u.text_level)
                u.text_level = l->text_level;
            if (p * l->bg_level > p * u.bg_level)
                u.bg_level = l->bg_level;
        }
        u.x = x0;
        u.y = y0;
        u.w = x1 - x0;
        u.h = y1 - y0;
        reading r;
        st = read_line(tf, ctx, gray, width, height, &u, &r);
        if (st != KK_OK)
            break;
        decision d = decide(m, mode, &u, &r, 0);
        memset(&r, 0, sizeof r); /* OCR'd text is PHI */
        if (!d.propagate)
            continue;
        for (size_t k = 0; k < n; k++)
            if (!dead[k] && chain[k] == (int)c && !dec[k].propagate) {
                dec[k].redact = dec[k].propagate = 1;
                dec[k].picture = 0;
                dec[k].technical = 0;
                dec[k].cls = d.cls;
            }
    }
    free(chain);
    return st;
}

/* Is column x of rows [y0, y1) ink of a line of this polarity: pixels on
 * the text side of thr? Returns how many. */
static int column_ink(const uint8_t *gray, int width, int x, int y0, int y1, int polarity, int thr)
{
    int n = 0;
    for (int y = y0; y < y1; y++) {
        int v = gray[(size_t)y * width + x];
        n += polarity > 0 ? v >= thr : v <= thr;
    }
    return n;
}

/* The background of column x just above and below a line of glyphs at
 * text_level: the median grey of rows [a0, a1) and [b0, b1), when those
 * are plain (seven in eight within a quarter of the glyphs' contrast to
 * it: a panel, speckle much lighter than the glyphs); -1 when they are
 * textured (tissue as bright as the glyphs here and there) or empty. */
static int column_bg(const uint8_t *gray, int width, int x, int a0, int a1, int b0, int b1,
                     int text_level)
{
    int hist[256] = { 0 }, n = 0, med = -1;
    for (int y = a0; y < a1; y++, n++)
        hist[gray[(size_t)y * width + x]]++;
    for (int y = b0; y < b1; y++, n++)
        hist[gray[(size_t)y * width + x]]++;
    for (int v = 0, acc = 0; v < 256 && med < 0; v++)
        if (2 * (acc += hist[v]) > n)
            med = v;
    if (med < 0)
        return -1;
    int tol = abs(text_level - med) / 4, near = 0;
    for (int v = med - tol < 0 ? 0 : med - tol; v <= med + tol && v < 256; v++)
        near += hist[v];
    return 8 * near >= 7 * n ? med : -1;
}

/* Grow [*x0, *x1) of a line along its baseline over the glyphs the
 * detector did not chain to it: the last digits of an ID cut off by a
 * wide gap, glyphs merged with a tissue line that crosses them, a faint
 * glyph at either end, the start of a line that runs onto another
 * background (speckle beside a white panel). A column is more of the
 * line when it holds ink at the line's level (midway between its glyphs
 * and their background: the plain background above and below that
 * column, else the line's own) inside the line's rows, and much less of
 * it in the rows just above and below (where speckle at that level would
 * be as dense); the line grows to the last such column before a gap
 * wider than a glyph. */
static void grow_along_baseline(const uint8_t *gray, int width, int height,
                                const kk_detect_line *l, int *x0, int *x1)
{
    int gh = l->glyph_h > 0 ? l->glyph_h : l->h;
    if (contrast(l) < MIN_CONTRAST / 2)
        return;
    int ya = l->y, yb = l->y + l->h;
    int band = l->h / 2 > 2 ? l->h / 2 : 2;
    int ua = ya - 2 - band < 0 ? 0 : ya - 2 - band, ub = ya - 2 < 0 ? 0 : ya - 2;
    int da = yb + 2 > height ? height : yb + 2, db = yb + 2 + band > height ? height : yb + 2 + band;
    int maxgap = gh + 2;
    for (int dir = -1; dir <= 1; dir += 2) {
        int edge = dir < 0 ? *x0 : *x1 - 1, last = edge, gap = 0;
        for (int x = edge + dir; x >= 0 && x < width && gap <= maxgap; x += dir) {
            int bg = column_bg(gray, width, x, ua, ub, da, db, l->text_level);
            /* glyphs of the line's level stand out from this background by
             * visible contrast, or the column holds none (below that, a
             * page's noise is ink as often as not: a blob of white page
             * grew along 600 px of it, seed 21's doc_vertical) */
            int thr = (l->text_level + (bg < 0 ? l->bg_level : bg)) / 2;
            int c = l->polarity > 0 ? l->text_level - thr : thr - l->text_level;
            int in = 0, out = 0;
            if (2 * c >= MIN_CONTRAST) {
                in = column_ink(gray, width, x, ya, yb, l->polarity, thr);
                out = column_ink(gray, width, x, ua, ub, l->polarity, thr) +
                      column_ink(gray, width, x, da, db, l->polarity, thr);
            }
            if (in >= 2 && 3 * out <= in) {
                last = x;
                gap = 0;
            } else {
                gap++;
            }
        }
        if (dir < 0)
            *x0 = last;
        else
            *x1 = last + 1;
    }
}

/* Candidate lines: the presence stage first, then the full detector in
 * the regions it found only (most frames of most images have none). */
/* Append n lines to *all (*nall of them). */
static kk_status append_lines(kk_ctx *ctx, kk_detect_line **all, size_t *nall,
                              const kk_detect_line *l, size_t n)
{
    if (n == 0)
        return KK_OK;
    kk_detect_line *na = kk__realloc(*all, (*nall + n) * sizeof *na);
    if (!na)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    memcpy(na + *nall, l, n * sizeof *l);
    *all = na;
    *nall += n;
    return KK_OK;
}

/* Candidate lines within the regions the presence stage found (a whole
 * frame region: the whole frame). */
static kk_status find_lines(kk_ctx *ctx, const uint8_t *gray, int width, int height,
                            const kk_detect_rect *r, size_t nr, kk_detect_line **lines,
                            size_t *nlines)
{
    *lines = NULL;
    *nlines = 0;
    if (nr == 0)
        return KK_OK;
    if (nr == 1 && r[0].w == width && r[0].h == height)
        return kk_detect__lines(ctx, gray, width, height, lines, nlines);
    size_t biggest = 0;
    for (size_t i = 0; i < nr; i++)
        if ((size_t)r[i].w * r[i].h > biggest)
            biggest = (size_t)r[i].w * r[i].h;
    uint8_t *crop = kk__malloc(biggest ? biggest : 1);
    if (!crop)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    kk_detect_line *all = NULL;
    size_t nall = 0;
    kk_status st = KK_OK;
    for (size_t i = 0; i < nr && st == KK_OK; i++) {
        for (int y = 0; y < r[i].h; y++)
            memcpy(crop + (size_t)y * r[i].w, gray + (size_t)(r[i].y + y) * width + r[i].x,
                   (size_t)r[i].w);
        kk_detect_line *l = NULL;
        size_t n = 0;
        st = kk_detect__lines(ctx, crop, r[i].w, r[i].h, &l, &n);
        for (size_t k = 0; st == KK_OK && k < n; k++) {
            l[k].x += r[i].x;
            l[k].y += r[i].y;
        }
        if (st == KK_OK)
            st = append_lines(ctx, &all, &nall, l, n);
        free(l);
    }
    free(crop);
    if (st != KK_OK) {
        free(all);
        return st;
    }
    *lines = all;
    *nlines = nall;
    return KK_OK;
}

/* Pieces of one column the detector split where it skipped a glyph (a
 * hyphen is a sliver across the transposed row; "1945" "08" "15"): in
 * the transposed region, pieces of one polarity on one row, of one glyph
 * height, at most two glyph pitches apart along it (a glyph's pitch down
 * a column is its height on the page, which the transposed line does not
 * measure: its length over its glyphs does). Each chain becomes its first
 * piece, grown over the others, which *dead marks. */
static void chain_column_pieces(kk_detect_line *l, size_t n, char *dead)
{
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                if (i == j || dead[i] || dead[j] || l[i].polarity != l[j].polarity)
                    continue;
                kk_detect_line *a = &l[i], *b = &l[j];
                int gh = a->glyph_h > b->glyph_h ? a->glyph_h : b->glyph_h;
                int tol = gh / 4 > 2 ? gh / 4 : 2;
                int pa = a->w / (a->ncomp > 0 ? a->ncomp : 1), pb = b->w / (b->ncomp > 0 ? b->ncomp : 1);
                int gap = gap_along(a, b);
                if (abs(a->glyph_h - b->glyph_h) > tol || abs(a->y - b->y) > tol ||
                    abs(a->y + a->h - b->y - b->h) > tol || gap > 2 * (pa > pb ? pa : pb))
                    continue;
                int x0 = a->x < b->x ? a->x : b->x, y0 = a->y < b->y ? a->y : b->y;
                int x1 = a->x + a->w > b->x + b->w ? a->x + a->w : b->x + b->w;
                int y1 = a->y + a->h > b->y + b->h ? a->y + a->h : b->y + b->h;
                /* the shape of a piece laid out like text, else of the
                 * longer one; the strength of either */
                int la = looks_like_text(a), lb = looks_like_text(b);
                kk_detect_line u = la || (!lb && a->ncomp >= b->ncomp) ? *a : *b;
                u.x = x0;
                u.y = y0;
                u.w = x1 - x0;
                u.h = y1 - y0;
                u.ncomp = a->ncomp + b->ncomp;
                u.score = a->score > b->score ? a->score : b->score;
                *a = u;
                dead[j] = 1;
                changed = 1;
            }
    }
}

/* Text written top to bottom (a Japanese form, a fax, a label on its
 * side): the detector looks along rows, so it is run on each column
 * region of the presence stage transposed, where a column is a row.
 * Candidates of three glyphs or more (the pieces of a column chained),
 * looking like text or strong, at least twice as long as wide, returned
 * in frame coordinates (x, w across; y, h along the column). */
static kk_status find_column_lines(kk_ctx *ctx, const uint8_t *gray, int width,
                                   const kk_detect_rect *r, size_t nr, kk_detect_line **cols,
                                   size_t *ncols)
{
    *cols = NULL;
    *ncols = 0;
    kk_detect_line *all = NULL;
    size_t nall = 0;
    kk_status st = KK_OK;
    for (size_t i = 0; i < nr && st == KK_OK; i++) {
        int w = r[i].w, h = r[i].h;
        uint8_t *t = kk__malloc((size_t)w * (size_t)h);
        if (!t) {
            st = kk__fail(ctx, KK_ENOMEM, "out of memory");
            break;
        }
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                t[(size_t)x * h + y] = gray[(size_t)(r[i].y + y) * width + r[i].x + x];
        kk_detect_line *l = NULL;
        size_t n = 0, keep = 0;
        st = kk_detect__lines(ctx, t, h, w, &l, &n);
        free(t);
        char *dead = st == KK_OK && n ? kk__calloc(n, 1) : NULL;
        if (st == KK_OK && n && !dead)
            st = kk__fail(ctx, KK_ENOMEM, "out of memory");
        if (st == KK_OK && n)
            chain_column_pieces(l, n, dead);
        for (size_t k = 0; st == KK_OK && k < n; k++) {
            kk_detect_line c = l[k];
            if (dead[k] || c.ncomp < 3 || c.w < 2 * c.h ||
                (c.score < STRONG_SCORE && !looks_like_text(&c)))
                continue;
            /* back to the frame: rows of t are columns of the region */
            l[keep] = c;
            l[keep].x = r[i].x + c.y;
            l[keep].y = r[i].y + c.x;
            l[keep].w = c.h;
            l[keep].h = c.w;
            keep++;
        }
        if (st == KK_OK)
            st = append_lines(ctx, &all, &nall, l, keep);
        free(dead);
        free(l);
    }
    if (st != KK_OK || nall == 0) {
        free(all);
        return st;
    }
    *cols = all;
    *ncols = nall;
    return KK_OK;
}

/* gray (width by height) transposed: its columns are rows; NULL when
 * out of memory. */
static uint8_t *transposed(const uint8_t *gray, int width, int height)
{
    uint8_t *t = kk__malloc((size_t)width * (size_t)height);
    if (t)
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                t[(size_t)x * height + y] = gray[(size_t)y * width + x];
    return t;
}

/* A column grows along its length as a row grows along its baseline
 * (grow_along_baseline, in the transposed frame t): the glyphs the
 * detector did not chain at either end (seed 46's doc_vertical: the
 * lower stroke of 二, the last glyph of a name written top to bottom, lay
 * a blank stroke gap below its upper one and was left, and the output
 * claimed clean with 98.9% painted), by a glyph at most, and only on a
 * plain background (a page, a label): columns of a sector's speckle and of
 * a CT film page's pictures grew along them, and the looks again after
 * painting chained along what that changed (pydicom's US1_J2KI and wg04's
 * SC1_J2KI then kept text after the third look). */
static void grow_along_column(const uint8_t *gray, const uint8_t *t, int width, int height,
                              kk_detect_line *c)
{
    if (!plain_around(gray, width, height, c))
        return;
    kk_detect_line r = *c;
    r.x = c->y;
    r.y = c->x;
    r.w = c->h;
    r.h = c->w;
    int y0 = r.x, y1 = r.x + r.w;
    grow_along_baseline(t, height, width, &r, &y0, &y1);
    int gh = c->glyph_h > 0 ? c->glyph_h : c->w;
    y0 = y0 < c->y - gh ? c->y - gh : y0;
    y1 = y1 > c->y + c->h + gh ? c->y + c->h + gh : y1;
    c->y = y0;
    c->h = y1 - y0;
}

/* The box of a column, padded for anti-aliased fringes. */
static kk_textbox column_box(const kk_detect_line *c, int width, int height)
{
    kk_textbox b;
    memset(&b, 0, sizeof b);
    int pad = 2 + c->glyph_h / 8;
    int x0 = c->x - pad, y0 = c->y - pad, x1 = c->x + c->w + pad, y1 = c->y + c->h + pad;
    b.x = x0 < 0 ? 0 : x0;
    b.y = y0 < 0 ? 0 : y0;
    b.w = (x1 > width ? width : x1) - b.x;
    b.h = (y1 > height ? height : y1) - b.y;
    b.cls = KK_TEXT_OTHER;
    return b;
}

/* A column laid out as a row OCR can read: turned a quarter clockwise
 * (text written bottom to top), anticlockwise (top to bottom), or its
 * glyphs cut apart at blank rows and set side by side, upright (a
 * Japanese name written top to bottom). The image is filled with the
 * background level; *line describes the glyphs in it. */
enum { TURN_CW, TURN_CCW, RESTACK };

static uint8_t *column_as_row(const uint8_t *gray, int width, int height,
                              const kk_detect_line *c, int how, int *ow, int *oh,
                              kk_detect_line *line)
{
    int mg = 2 + c->glyph_h / 4;
    int xa = c->x - mg < 0 ? 0 : c->x - mg, xb = c->x + c->w + mg > width ? width : c->x + c->w + mg;
    int ya = c->y - mg < 0 ? 0 : c->y - mg, yb = c->y + c->h + mg > height ? height : c->y + c->h + mg;
    int cw = xb - xa, ch = yb - ya;
    if (cw <= 0 || ch <= 0)
        return NULL;
    uint8_t bg = (uint8_t)c->bg_level;
    uint8_t *out = NULL;
    int w = 0, h = 0;
    if (how != RESTACK) {
        w = ch;
        h = cw;
        out = kk__malloc((size_t)w * h);
        if (!out)
            return NULL;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int r = how == TURN_CW ? ch - 1 - x : x;
                int col = how == TURN_CW ? y : cw - 1 - y;
                out[(size_t)y * w + x] = gray[(size_t)(ya + r) * width + xa + col];
            }
    } else {
        /* cells: runs of inked rows, a run joined to the next while the
         * two together stay about one glyph high (二, 三 have gaps) */
        int thr = (c->text_level + c->bg_level) / 2;
        int cells[64][2], nc = 0;
        for (int r = 0; r < ch && nc < 64;) {
            int inked = 0;
            for (int x = 0; x < cw && !inked; x++) {
                int v = gray[(size_t)(ya + r) * width + xa + x];
                inked = c->polarity > 0 ? v > thr : v < thr;
            }
            if (!inked) {
                r++;
                continue;
            }
            int e = r;
            for (; e < ch; e++) {
                int any = 0;
                for (int x = 0; x < cw && !any; x++) {
                    int v = gray[(size_t)(ya + e) * width + xa + x];
                    any = c->polarity > 0 ? v > thr : v < thr;
                }
                if (!any)
                    break;
            }
            if (nc && e - cells[nc - 1][0] <= c->w + c->w / 6)
                cells[nc - 1][1] = e;
            else {
                cells[nc][0] = r;
                cells[nc][1] = e;
                nc++;
            }
            r = e;
        }
        if (nc == 0)
            return NULL;
        int gap = c->w / 3 + 2, hmax = 0;
        w = mg;
        for (int i = 0; i < nc; i++) {
            w += cw + gap;
            if (cells[i][1] - cells[i][0] > hmax)
                hmax = cells[i][1] - cells[i][0];
        }
        w += mg;
        h = hmax + 2 * mg;
        out = kk__malloc((size_t)w * h);
        if (!out)
            return NULL;
        memset(out, bg, (size_t)w * h);
        int x = mg;
        for (int i = 0; i < nc; i++) {
            int ch_i = cells[i][1] - cells[i][0], top = mg + (hmax - ch_i) / 2;
            for (int r = 0; r < ch_i; r++)
                memcpy(out + (size_t)(top + r) * w + x,
                       gray + (size_t)(ya + cells[i][0] + r) * width + xa, (size_t)cw);
            x += cw + gap;
        }
    }
    *line = *c;
    line->x = mg / 2;
    line->y = mg / 2;
    line->w = w - mg;
    line->h = h - mg;
    *ow = w;
    *oh = h;
    return out;
}

/* Phi mode: whether a column says something identifying, read turned
 * both ways and restacked (Tesseract reads rows only). Only a reading
 * that names an identifier, a label or a long number counts: a column
 * nothing reads is anatomy until shown otherwise. */
static kk_status column_identifies(kk_textfind *tf, kk_ctx *ctx, const kk_textmatch *m,
                                   const uint8_t *gray, int width, int height,
                                   const kk_detect_line *c, int *yes)
{
    *yes = 0;
    for (int how = TURN_CW; how <= RESTACK && !*yes; how++) {
        int w = 0, h = 0;
        kk_detect_line vl;
        uint8_t *img = column_as_row(gray, width, height, c, how, &w, &h, &vl);
        if (!img) {
            if (how == RESTACK)
                continue;
            return kk__fail(ctx, KK_ENOMEM, "out of memory");
        }
        reading rd;
        kk_status st = read_line(tf, ctx, img, w, h, &vl, &rd);
        free(img);
        if (st != KK_OK)
            return st;
        decision d = decide(m, KK_TEXT_MODE_PHI, &vl, &rd, 0);
        /* a label cue alone counts when OCR reads it as text: any column
         * of a brain tile is read as "id" now and then */
        *yes = d.propagate && !d.technical && (!d.label || reads_as_text(&rd));
        memset(&rd, 0, sizeof rd); /* OCR'd text is PHI */
    }
    return KK_OK;
}

/* Columns to paint: all-text mode every column by its shape (nothing
 * reads them well enough to spare one); phi mode those whose reading
 * identifies. */
static kk_status find_columns(kk_textfind *tf, kk_ctx *ctx, const kk_textmatch *m,
                              kk_text_mode mode, const uint8_t *gray, int width, int height,
                              const kk_detect_rect *r, size_t nr, kk_textbox **boxes,
                              size_t *nboxes)
{
    *boxes = NULL;
    *nboxes = 0;
    kk_detect_line *c = NULL;
    size_t n = 0, k = 0;
    kk_status st = find_column_lines(ctx, gray, width, r, nr, &c, &n);
    kk_textbox *out = n ? kk__calloc(n, sizeof *out) : NULL;
    if (st == KK_OK && n && !out)
        st = kk__fail(ctx, KK_ENOMEM, "out of memory");
    uint8_t *t = NULL; /* the frame transposed, once a column goes */
    for (size_t i = 0; st == KK_OK && i < n; i++) {
        int yes = mode == KK_TEXT_MODE_ALL;
        if (!yes)
            st = column_identifies(tf, ctx, m, gray, width, height, &c[i], &yes);
        if (st == KK_OK && yes && !t && (t = transposed(gray, width, height)) == NULL)
            st = kk__fail(ctx, KK_ENOMEM, "out of memory");
        if (st == KK_OK && yes) {
            grow_along_column(gray, t, width, height, &c[i]);
            out[k++] = column_box(&c[i], width, height);
        }
    }
    free(t);
    free(c);
    if (st != KK_OK || k == 0) {
        free(out);
        return st;
    }
    *boxes = out;
    *nboxes = k;
    return KK_OK;
}

kk_status kk_textfind__run(kk_textfind *tf, kk_ctx *ctx, const uint8_t *gray, int width,
                           int height, kk_text_mode mode, const kk_text_ids *ids,
                           const char *const *allow, size_t nallow, kk_textbox **boxes,
                           size_t *nboxes)
{
    *boxes = NULL;
    *nboxes = 0;
    if (!tf || !gray || width <= 0 || height <= 0 || (nallow && !allow) ||
        (mode != KK_TEXT_MODE_ALL && mode != KK_TEXT_MODE_PHI))
        return kk__fail(ctx, KK_EINVAL, "text finding: bad arguments");
    kk_textmatch *m = NULL;
    kk_detect_line *lines = NULL;
    size_t nlines = 0;
    char *dead = NULL;
    reading *rd = NULL;
    decision *dec = NULL;
    kk_textbox *out = NULL;
    kk_textbox *cols = NULL;
    size_t ncols = 0;
    kk_detect_rect *rows = NULL, *colr = NULL;
    size_t nrows = 0, ncolr = 0;
    kk_status st = kk_detect__presence(ctx, gray, width, height, mode == KK_TEXT_MODE_ALL, &rows,
                                       &nrows, &colr, &ncolr);
    if (st == KK_OK)
        st = find_lines(ctx, gray, width, height, rows, nrows, &lines, &nlines);
    /* most frames hold no candidate at all: the matcher (the object's
     * identifiers in every form) is built for those that do */
    if (st == KK_OK && nlines + ncolr > 0)
        st = kk_textmatch__new(&m, ctx, ids, allow, nallow);
    if (st == KK_OK)
        st = find_columns(tf, ctx, m, mode, gray, width, height, colr, ncolr, &cols, &ncols);
    free(rows);
    free(colr);
    if (st != KK_OK || nlines + ncols == 0)
        goto out;
    dead = kk__calloc(nlines + 1, 1);
    rd = kk__calloc(nlines + 1, sizeof *rd);
    dec = kk__calloc(nlines + 1, sizeof *dec);
    out = kk__calloc(nlines + ncols, sizeof *out);
    if (!dead || !rd || !dec || !out) {
        st = kk__fail(ctx, KK_ENOMEM, "out of memory");
        goto out;
    }
    dedupe_polarity(lines, nlines, dead);
    for (size_t i = 0; i < nlines; i++)
        if ((tf->strict && lines[i].score < STRONG_SCORE && !looks_like_text(&lines[i])) ||
            is_covered(tf, lines[i].x, lines[i].y, lines[i].w, lines[i].h))
            dead[i] = 1;
    for (size_t i = 0; i < nlines; i++) {
        if (dead[i])
            continue;
        st = read_line(tf, ctx, gray, width, height, &lines[i], &rd[i]);
        if (st != KK_OK)
            goto out;
        /* colour text as light as what lies under it shows in the chroma
         * view only, where it stands out little (seed 27's green 8 px
         * line: 15 levels of chroma): strong there and alone on a plain
         * (grey) background, it is text, not a colour picture's shape */
        int alone = tf->need_reading && lines[i].score >= STRONG_SCORE &&
                    quiet_around(gray, width, height, &lines[i]);
        dec[i] = decide(m, mode, &lines[i], &rd[i], alone);
        /* (a label cue counts as unread here: a sulcus read as "id" is
         * no label, and would take its row of tissue along) */
        if (mode == KK_TEXT_MODE_PHI && tf->measured && dec[i].redact &&
            (!dec[i].propagate || dec[i].label) &&
            (!reads_as_text(&rd[i]) || lone_label(&lines[i], &dec[i])) &&
            anatomy_not_text(gray, width, height, &lines[i], &rd[i]))
            dec[i].redact = dec[i].propagate = dec[i].label = 0;
        if (tf->need_reading && !reads_as_text(&rd[i]) &&
            !((looks_like_text(&lines[i]) || lines[i].score >= STRONG_SCORE) &&
              quiet_around(gray, width, height, &lines[i])))
            dead[i] = 1;
    }
    st = read_row_chains(tf, ctx, m, mode, gray, width, height, lines, nlines, dead, dec);
    if (st != KK_OK)
        goto out;
    /* a piece spared as picture beside text that goes is text after all
     * (a glyph split off a name): ALL mode; PHI mode propagates below */
    for (int changed = mode == KK_TEXT_MODE_ALL; changed;) {
        changed = 0;
        for (size_t j = 0; j < nlines; j++) {
            if (dead[j] || !dec[j].picture || dec[j].redact)
                continue;
            for (size_t i = 0; i < nlines; i++)
                if (i != j && !dead[i] && dec[i].redact && same_row(&lines[i], &lines[j], 1)) {
                    dec[j].redact = 1;
                    changed = 1;
                    break;
                }
        }
    }
    /* a matching piece takes the rest of its row (PHI; ALL has it already) */
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t i = 0; i < nlines; i++) {
            if (dead[i] || !dec[i].propagate)
                continue;
            for (size_t j = 0; j < nlines; j++) {
                /* a technical token only when it touches: "190430" "-77" */
                if (dead[j] || dec[j].propagate ||
                    !same_row(&lines[i], &lines[j], dec[j].technical))
                    continue;
                dec[j].redact = dec[j].propagate = 1;
                if (dec[j].cls == KK_TEXT_OTHER)
                    dec[j].cls = dec[i].cls;
                changed = 1;
            }
        }
    }
    size_t n = 0;
    for (size_t i = 0; i < nlines; i++) {
        if (dead[i] || !dec[i].redact)
            continue;
        const kk_detect_line *l = &lines[i];
        int x0 = l->x, y0 = l->y, x1 = l->x + l->w, y1 = l->y + l->h;
        grow_along_baseline(gray, width, height, l, &x0, &x1);
        /* glyphs OCR saw beyond the components (a faint dot, an accent):
         * along the line as far as they go, across it an eighth of a
         * glyph at most (Tesseract's word boxes take in rows of the
         * crop's margin: on seed 29's CT capture its lines' boxes grew
         * by a fifth of their glyphs above and below, and painted 5.5% of
         * the picture around them) */
        if (rd[i].wx1 > rd[i].wx0) {
            int m = l->glyph_h / 8;
            int wy0 = rd[i].wy0 < l->y - m ? l->y - m : rd[i].wy0;
            int wy1 = rd[i].wy1 > l->y + l->h + m ? l->y + l->h + m : rd[i].wy1;
            x0 = rd[i].wx0 < x0 ? rd[i].wx0 : x0;
            y0 = wy0 < y0 ? wy0 : y0;
            x1 = rd[i].wx1 > x1 ? rd[i].wx1 : x1;
            y1 = wy1 > y1 ? wy1 : y1;
        }
        /* anti-aliased fringes lie outside the thresholded glyphs */
        int pad = 2 + l->glyph_h / 8;
        x0 = x0 - pad < 0 ? 0 : x0 - pad;
        y0 = y0 - pad < 0 ? 0 : y0 - pad;
        x1 = x1 + pad > width ? width : x1 + pad;
        y1 = y1 + pad > height ? height : y1 + pad;
        kk_textbox *b = &out[n++];
        b->x = x0;
        b->y = y0;
        b->w = x1 - x0;
        b->h = y1 - y0;
        b->cls = dec[i].cls;
        b->confidence = dec[i].conf;
        const char *t = rd[i].eng_conf >= rd[i].jpn_conf || !rd[i].has_jpn ? rd[i].eng : rd[i].jpn;
        size_t tl = strlen(t);
        if (tl >= sizeof b->text)
            tl = sizeof b->text - 1;
        memcpy(b->text, t, tl);
        b->text[tl] = '\0';
    }
    for (size_t i = 0; i < ncols; i++)
        if (!is_covered(tf, cols[i].x, cols[i].y, cols[i].w, cols[i].h))
            out[n++] = cols[i];
    merge_boxes(out, &n, width, height);
    if (n) {
        *boxes = out;
        *nboxes = n;
        out = NULL;
    }
out:
    if (rd)
        memset(rd, 0, nlines * sizeof *rd); /* OCR'd text is PHI */
    free(rd);
    free(dec);
    free(dead);
    free(lines);
    free(out);
    free(cols);
    kk_textmatch__free(m);
    return st;
}

kk_status kk_textfind__technical(kk_textfind *tf, kk_ctx *ctx, const uint8_t *gray, int width,
                                 int height, const char *const *allow, size_t nallow,
                                 kk_textbox **boxes, size_t *nboxes)
{
    *boxes = NULL;
    *nboxes = 0;
    if (!tf || !gray || width <= 0 || height <= 0 || (nallow && !allow))
        return kk__fail(ctx, KK_EINVAL, "text finding: bad arguments");
    kk_textmatch *m = NULL;
    kk_detect_rect *rows = NULL;
    size_t nrows = 0, nlines = 0, n = 0;
    kk_detect_line *lines = NULL;
    char *dead = NULL, *tech = NULL;
    kk_textbox *out = NULL;
    kk_status st = kk_detect__presence(ctx, gray, width, height, false, &rows, &nrows, NULL, NULL);
    if (st == KK_OK)
        st = find_lines(ctx, gray, width, height, rows, nrows, &lines, &nlines);
    free(rows);
    if (st == KK_OK && nlines > 0)
        st = kk_textmatch__new(&m, ctx, NULL, allow, nallow);
    if (st != KK_OK || nlines == 0)
        goto out;
    dead = kk__calloc(nlines, 1);
    tech = kk__calloc(nlines, 1);
    out = kk__calloc(nlines, sizeof *out);
    if (!dead || !tech || !out) {
        st = kk__fail(ctx, KK_ENOMEM, "out of memory");
        goto out;
    }
    dedupe_polarity(lines, nlines, dead);
    for (size_t i = 0; i < nlines && st == KK_OK; i++) {
        if (dead[i])
            continue;
        reading rd;
        st = read_line(tf, ctx, gray, width, height, &lines[i], &rd);
        /* and the words read span the line: glyphs OCR skipped (a faint
         * name beside the token) would sit in the box unread */
        if (st == KK_OK)
            tech[i] = rd.eng_words > 0 && rd.eng_conf >= CONF_KEEP &&
                      kk_textmatch__technical(m, rd.eng) && rd.wx1 > rd.wx0 &&
                      (rd.wx1 - rd.wx0) * 5 >= lines[i].w * 4;
        memset(&rd, 0, sizeof rd); /* OCR'd text may be PHI */
    }
    /* the token's own glyph box, no wider: a name beside it on the row is
     * another line, painted with the rest of the region */
    for (size_t i = 0; i < nlines && st == KK_OK; i++) {
        if (dead[i] || !tech[i])
            continue;
        const kk_detect_line *l = &lines[i];
        kk_textbox *b = &out[n++];
        b->x = l->x;
        b->y = l->y;
        b->w = l->w;
        b->h = l->h;
        b->cls = KK_TEXT_TECHNICAL;
    }
    if (st == KK_OK && n) {
        *boxes = out;
        *nboxes = n;
        out = NULL;
    }
out:
    free(out);
    free(tech);
    free(dead);
    free(lines);
    kk_textmatch__free(m);
    return st;
}
