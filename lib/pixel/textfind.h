/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/textfind.h - find burned-in text in one 8-bit frame and decide
 * which boxes to redact (issue 4).
 *
 * Detection decides where text is (lib/pixel/detect.h); OCR (ocr.h) reads
 * each candidate line only to decide whether to spare it: Tesseract reads
 * Latin well once a line is cut out, binarized and scaled, but confuses
 * kanji (山田 太郎 -> 山曰 太民), so identifiers are matched fuzzily
 * (textmatch.h) and an unreadable line is redacted, not kept.
 *
 * This file does not decode pixels, paint boxes or log: the codec gives a
 * luminance view, lib/pixel/redact.c paints what comes back. OCR'd text
 * (kk_textbox.text) may be PHI and is never logged or put into an error
 * message (R04). A kk_textfind holds Tesseract engines: use one per thread.
 * Not a public API.
 */
#ifndef KK_PIXEL_TEXTFIND_H
#define KK_PIXEL_TEXTFIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What a box holds. The identifier classes are in order of precedence. */
typedef enum kk_text_class {
    KK_TEXT_OTHER = 0,   /* text that is none of the below, or unreadable */
    KK_TEXT_NAME,        /* a name of the object, or a line labelled as one */
    KK_TEXT_ID,          /* PatientID or another ID */
    KK_TEXT_DATE,        /* a birth or study date, any spelling, era forms too */
    KK_TEXT_ACCESSION,
    KK_TEXT_INSTITUTION,
    KK_TEXT_TECHNICAL    /* wholly allowlisted: MI 1.2, TIs 0.4, FR 30Hz... */
} kk_text_class;

typedef enum kk_text_mode {
    KK_TEXT_MODE_ALL, /* redact all text but wholly technical lines */
    KK_TEXT_MODE_PHI  /* redact lines that match an identifier, carry a
                         label cue (Name, ID, DOB, 氏名...) or look like a
                         date, and lines OCR cannot read */
} kk_text_mode;

/** A box to redact, in frame pixels (already padded and merged). */
typedef struct kk_textbox {
    int x, y, w, h;
    kk_text_class cls;
    float confidence; /* OCR confidence 0..100 of the line; 0: unread */
    char text[160];   /* UTF-8 as OCR read it; never logged */
} kk_textbox;

/**
 * The identifiers of one object, UTF-8, as the header carries them. Any
 * array may be NULL with its count 0; NULL or empty strings are skipped.
 */
typedef struct kk_text_ids {
    const char *const *names;        /* PN values: "Fam^Given=漢字^名=かな^めい" */
    size_t nnames;
    const char *const *ids;          /* PatientID, other patient IDs */
    size_t nids;
    const char *const *dates;        /* DA values YYYYMMDD (birth, study...) */
    size_t ndates;
    const char *const *accessions;   /* AccessionNumber, RequestedProcedureID */
    size_t naccessions;
    const char *const *institutions; /* InstitutionName, station names */
    size_t ninstitutions;
} kk_text_ids;

typedef struct kk_textfind kk_textfind;

/**
 * Start text finding. Tesseract (eng and jpn, TESSDATA_PREFIX or the
 * system tessdata) starts when the first candidate line is read, which
 * takes ~0.3 s: reuse the object for every frame of the thread; frames
 * where the presence stage finds nothing never start it. Side effect, then:
 * OpenMP parallel regions are made inactive process-wide (Debian's
 * Tesseract spins OpenMP threads per line; see ocr.h).
 * @return KK_OK; KK_ENOMEM
 */
kk_status kk_textfind__new(kk_textfind **out, kk_ctx *ctx);
void kk_textfind__free(kk_textfind *tf); /* NULL is a no-op */

/**
 * Find the text boxes to redact in one frame.
 *
 * Lines are detected in both polarities; each is read (eng, then jpn when
 * the line looks Japanese or eng is unsure) and classified. In
 * KK_TEXT_MODE_ALL every line is returned except those wholly made of
 * technical tokens (built-in list plus allow[]). In KK_TEXT_MODE_PHI a
 * line is returned when a word matches an identifier in ids, when it
 * carries a label cue, or when OCR cannot read it; the other pieces of
 * the same row (split by wide gaps) follow a matching piece.
 *
 * @param gray    width*height bytes, row-major, no padding
 * @param ids     the object's identifiers (may be NULL: nothing to match)
 * @param allow   extra POSIX extended regexes for technical tokens, matched
 *                case-insensitively against each whole word or the whole
 *                line; may be NULL when nallow is 0
 * @param[out] boxes  array of *nboxes boxes (kk_free); NULL when none
 * @return KK_OK; KK_EINVAL for a bad image or a bad allow regex (the
 *         message gives its index); KK_ENOTFOUND when OCR must start and
 *         a traineddata file is missing; KK_ENOMEM; KK_EINTERNAL
 */
kk_status kk_textfind__run(kk_textfind *tf, kk_ctx *ctx, const uint8_t *gray, int width,
                           int height, kk_text_mode mode, const kk_text_ids *ids,
                           const char *const *allow, size_t nallow, kk_textbox **boxes,
                           size_t *nboxes);

/**
 * Whether a w by h box is too big to be text in a width by height frame:
 * over a quarter of it is the detector failing on a textured picture.
 * kk_textfind__run() merges no boxes into one that big; its caller drops
 * a box that big.
 */
bool kk_textfind__too_big(int w, int h, int width, int height);

/**
 * The lines of a frame a region rule may leave unpainted: each wholly
 * technical tokens (built-in list plus allow[]), read by eng with some
 * confidence (50 or more), the words read spanning the line's glyph box,
 * which is what is returned: a name beside a token is another line, so
 * an allowlisted token never shelters it.
 * @param[out] boxes  array of *nboxes boxes (kk_free); NULL when none
 * @return as kk_textfind__run()
 */
kk_status kk_textfind__technical(kk_textfind *tf, kk_ctx *ctx, const uint8_t *gray, int width,
                                 int height, const char *const *allow, size_t nallow,
                                 kk_textbox **boxes, size_t *nboxes);

/**
 * Strict or not (the default): a strict finder drops weak candidates
 * (speckle-like, a detection score below 0.8) that are not laid out like
 * text before reading them. For looking again at painted frames, where
 * the grains along a painted box's edges would otherwise be read as
 * fragments of text, and for searching every frame of a cine.
 */
void kk_textfind__strict(kk_textfind *tf, bool strict);

/**
 * Whether the frames to come are measured pictures (monochrome of more
 * than 8 bits: CT, MR, radiographs); off by default. In phi mode a weak
 * candidate inside busy surroundings that OCR makes only a few characters
 * of is then taken for anatomy, not text.
 */
void kk_textfind__measured(kk_textfind *tf, bool measured);

/**
 * Whether only lines that OCR reads as text (two letters or digits read
 * with confidence) count; off by default. For the chroma view of colour
 * images, where colour pictures (Doppler flow, colour maps) make shapes
 * no luminance view has, and colour text reads clearly.
 */
void kk_textfind__need_reading(kk_textfind *tf, bool need);

/**
 * The boxes painted already (not copied: they must outlive the calls to
 * come; NULL, 0 for none): a candidate line wholly inside one is not
 * read or returned. For a cine's frames looked at one by one before
 * painting, where the static text found on composites is seen again:
 * only a line that runs beyond its box (the first glyph of a name the
 * composite cut short) is read.
 */
void kk_textfind__covered(kk_textfind *tf, const kk_textbox *boxes, size_t n);

/** Fixed name of a class ("name", "id", "date", ...). */
const char *kk_text_class__name(kk_text_class cls);

#ifdef __cplusplus
}
#endif
#endif /* KK_PIXEL_TEXTFIND_H */
