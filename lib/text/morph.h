/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/text/morph.h - Japanese morphological analysis for the cleaner: a
 * thin adapter over MeCab's C API with the system dictionary (IPAdic from
 * Debian's mecab-ipadic-utf8).
 *
 * One kk_morph holds one MeCab model and tagger, loaded on first use (so a
 * run that never meets Japanese text never loads it) and shared by every
 * thread: each call parses with its own lattice, which MeCab allows
 * concurrently. It also holds the reading keys (normalize.h) of every
 * person name in the dictionary, so romaji names are known too.
 * Not a public API.
 */
#ifndef KK_TEXT_MORPH_H
#define KK_TEXT_MORPH_H

#include <stdbool.h>
#include <stddef.h>

#include "core/core.h"

typedef struct kk_morph kk_morph;

typedef enum kk_tok_kind {
    KK_TOK_OTHER = 0,
    KK_TOK_SURNAME,   /* 名詞,固有名詞,人名,姓 */
    KK_TOK_GIVEN,     /* 名詞,固有名詞,人名,名 / 一般 */
    KK_TOK_PLACE,     /* 名詞,固有名詞,地域 (not 国) */
    KK_TOK_ORG,       /* 名詞,固有名詞,組織 */
    KK_TOK_NOUN,      /* other nouns */
    KK_TOK_VNOUN,     /* 名詞,サ変接続 / 形容動詞語幹 / 副詞可能: 確認, 撮影 */
    KK_TOK_NUMERAL,   /* 名詞,数: 二 in 二瓶 */
    KK_TOK_SUFFIX,    /* 名詞,接尾 */
    KK_TOK_UNKNOWN,   /* not in the dictionary */
    KK_TOK_SYMBOL,    /* 記号, spaces */
} kk_tok_kind;

typedef struct kk_token {
    size_t off, len;  /* bytes of the parsed text */
    kk_tok_kind kind;
} kk_token;

kk_morph *kk_morph__new(void);
void kk_morph__free(kk_morph *m);

/** Load the model now (idempotent, thread-safe). @return false when MeCab
 *  or its dictionary is missing: callers fall back to character runs. */
bool kk_morph__ready(kk_morph *m);

/**
 * Tokens of len bytes of UTF-8 text, at most max. Loads the model on first
 * use. @return the number of tokens; -1 when no model could be loaded
 */
int kk_morph__tokens(kk_morph *m, const char *text, size_t len, kk_token *toks, int max);

/** True when key (kk_text__romaji_key) is the reading of a surname
 *  (surname true) or given name (false) in the dictionary. */
bool kk_morph__name_key(kk_morph *m, const char *key, bool surname);

/** True when the dictionary has len bytes of surface as a person's name
 *  (a surname or given name), however MeCab tags it in a sentence. */
bool kk_morph__is_name(kk_morph *m, const char *surface, size_t len);

/**
 * Every reading (katakana, UTF-8) the dictionary gives a name written as
 * surface (a surname or given name in kanji); when it knows the word only
 * as other tokens, the readings of its tokens joined. Calls fn for each.
 * @return the number of readings
 */
int kk_morph__readings(kk_morph *m, const char *surface, size_t len,
                       void (*fn)(const char *kana, size_t len, void *payload), void *payload);

/** Milliseconds the last load took, for the benchmark. */
double kk_morph__load_ms(const kk_morph *m);

#endif /* KK_TEXT_MORPH_H */
