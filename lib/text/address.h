/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/text/address.h - Japanese addresses (R17): 都道府県 + 市区町村 + 町域 +
 * 丁目/番地/号 or N-N-N + building and room, and postal codes.
 * Works on NFKC-folded UTF-8 (normalize.h: ASCII digits and hyphens).
 * Pure functions; thread-safe. Not a public API.
 */
#ifndef KK_TEXT_ADDRESS_H
#define KK_TEXT_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct kk_span {
    size_t from, to; /* bytes [from, to) */
} kk_span;

/**
 * The part of an address value to keep at most: prefecture and
 * municipality (政令市 with its ward). A leading postal code (〒, NNN-NNNN)
 * is skipped; its first three digits go to postal3 when given (4 bytes).
 * @return the span kept; empty (from == to) when no prefecture or
 *         municipality is found
 */
kk_span kk_text__address_head(const char *s, size_t n, char *postal3);

/**
 * Addresses inside free text: every span to remove, at most max. With
 * keep_head the prefecture and municipality stay (pseudonymized); without,
 * the whole address goes. Postal codes always go. In the order of the
 * text, none overlapping.
 * @return the number of spans
 */
size_t kk_text__address_spans(const char *s, size_t n, bool keep_head, kk_span *spans,
                              size_t max);

/**
 * Addresses in Latin script inside free text (address_latin.c): a house
 * number and street ("221B Baker Street", "7 Rue de Rivoli",
 * "Hauptstrasse 17"), a romaji chome chain and town ("3-12-5 Hongo"), a
 * P.O. Box; with the room, building, town and postcode around them. With
 * keep_head a prefecture, a romaji municipality (-shi, -ku, -gun), a US
 * state and a country stay. UK and Canadian postcodes always go.
 * @return the number of spans
 */
size_t kk_text__address_latin_spans(const char *s, size_t n, bool keep_head, kk_span *spans,
                                    size_t max);

/** True when the bytes at s are one of the 47 prefecture names (with or
 *  without 都道府県); *len receives its length. */
bool kk_text__prefecture_at(const char *s, size_t n, size_t *len);

#endif /* KK_TEXT_ADDRESS_H */
