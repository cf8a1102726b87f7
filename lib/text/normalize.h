/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/text/normalize.h - text folded for matching, with a map back to the
 * original bytes (issue 13). Used by the clean action, verify, and any
 * module that compares identifiers with text (OCR in lib/pixel may).
 *
 * kk_text__fold(): ICU's NFKC_Casefold (full-width letters and digits to
 * ASCII, half-width katakana to full width, case folded), then katakana to
 * hiragana, ぢ/づ to じ/ず; hyphens and minus signs (U+2010-2015, U+2212)
 * become '-', Cyrillic and Greek letters drawn like Latin ones their
 * Latin twins (Yamadа, Smіth) and old or variant kanji of names their
 * common form (髙橋, 𠮷田, 渡邉); variation selectors go (辻󠄀本). Every
 * output byte knows the span of input bytes it came from, so a match in
 * the folded text maps back to the original.
 *
 * kk_text__romaji_key() / kk_text__kana_key(): one spelling for a Japanese
 * reading however it is written: Hepburn or Kunrei romaji (shi/si,
 * tsu/tu, chi/ti, fu/hu, ji/zi, sha/sya...), long vowels as ou, oo, ō, oh,
 * uu, ū or a prolonged sound mark, hiragana or katakana.
 * Pure functions; thread-safe.
 */
#ifndef KK_TEXT_NORMALIZE_H
#define KK_TEXT_NORMALIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

typedef struct kk_ftext {
    char *s;        /* folded UTF-8, NUL-terminated */
    size_t len;
    uint32_t *from; /* per byte of s: first input byte it came from */
    uint32_t *to;   /* per byte of s: one past the last input byte */
} kk_ftext;

#define KK_FTEXT_INIT { NULL, 0, NULL, NULL }

#define KK_FOLD_CASE 1u /* case folding (NFKC_Casefold instead of NFKC) */
#define KK_FOLD_KANA 2u /* katakana to hiragana */
#define KK_FOLD_ALL (KK_FOLD_CASE | KK_FOLD_KANA)

/** Fold len bytes of UTF-8: NFKC always, the rest by flags.
 *  @return KK_OK, KK_ENOMEM, KK_EINVAL (ICU) */
kk_status kk_text__fold(const char *in, size_t len, unsigned flags, kk_ftext *out);
void kk_text__ftext_free(kk_ftext *t);

/** Fold (KK_FOLD_ALL) into a plain string (no map); NULL on failure. */
char *kk_text__fold_str(const char *in, size_t len, size_t *outlen);

/**
 * The reading key of a romaji word (ASCII letters, lower or upper case,
 * with macrons or circumflexes): written to out (NUL-terminated).
 * @return its length; 0 when the word is not Japanese romaji
 */
size_t kk_text__romaji_key(const char *word, size_t len, char *out, size_t cap);

/** The same key for hiragana or katakana (UTF-8); 0 when other characters
 *  are present. */
size_t kk_text__kana_key(const char *kana, size_t len, char *out, size_t cap);

/** Hiragana for a romaji word (any spelling), long vowels kept as written;
 *  0 when it is not romaji. */
size_t kk_text__romaji_to_kana(const char *word, size_t len, char *out, size_t cap);

#endif /* KK_TEXT_NORMALIZE_H */
