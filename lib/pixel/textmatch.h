/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/textmatch.h - classify a line of OCR'd text: does it hold one
 * of the object's identifiers, a label that announces one, or only
 * technical tokens?
 *
 * Built for OCR output, which is noisy: names match in romaji (any order,
 * case or spacing, by edit distance), in kanji and kana by character
 * overlap (hiragana and katakana are the same; half of a name part's
 * characters suffice, as OCR confuses kanji); IDs and accession numbers by
 * edit distance after folding look-alikes (O/0, I/l/1, S/5, B/8); dates in
 * any order and separator, with month names and Japanese era forms
 * (S45.3.12, 昭和45年3月12日, H31/4/30). A matcher is built per object
 * and only read afterwards. Nothing here logs or keeps the text.
 * Not a public API.
 */
#ifndef KK_PIXEL_TEXTMATCH_H
#define KK_PIXEL_TEXTMATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "pixel/textfind.h"

typedef struct kk_textmatch kk_textmatch;

/**
 * Prepare matching for one object.
 * @param ids    identifiers (NULL: none)
 * @param allow  extra technical-token regexes (POSIX ERE, case-insensitive)
 * @return KK_OK; KK_EINVAL when an allow regex does not compile; KK_ENOMEM
 */
kk_status kk_textmatch__new(kk_textmatch **out, kk_ctx *ctx, const kk_text_ids *ids,
                            const char *const *allow, size_t nallow);
void kk_textmatch__free(kk_textmatch *m); /* NULL is a no-op */

/** The identifier class a line matches (KK_TEXT_NAME...INSTITUTION), or
 *  KK_TEXT_OTHER when none matches. */
kk_text_class kk_textmatch__identifier(const kk_textmatch *m, const char *line);

/** true when the line carries a label cue (Name, ID, DOB, 氏名, 患者,
 *  生年月日...) or has the shape of a date (any date: 2024/4/1, 3年4月);
 *  *cls (may be NULL) gets the class it announces. */
bool kk_textmatch__label(const char *line, kk_text_class *cls);

/** true when every word of the line (or the line as a whole) is a
 *  technical token; false for an empty line. */
bool kk_textmatch__technical(const kk_textmatch *m, const char *line);

/** The digits of a line (full-width ones too). */
int kk_textmatch__digits(const char *line);
/** Count the characters of a line by kind, full-width forms folded:
 *  *alnum ASCII letters and digits, *cjk kana and kanji, *other the rest
 *  but spaces (punctuation, symbols, undecodable bytes). Any pointer may
 *  be NULL. Used to tell a reading from OCR's guesses at a picture. */
void kk_textmatch__chars(const char *line, int *alnum, int *cjk, int *other);

#endif /* KK_PIXEL_TEXTMATCH_H */
