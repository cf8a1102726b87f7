/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/text/idnum.h - individual identification codes (個人識別符号, R03/R04)
 * and their check digits. Values are folded first (normalize.h), so
 * full-width digits and any separators (space, hyphen, dot, slash) count.
 * Pure functions; thread-safe. Not a public API.
 */
#ifndef KK_TEXT_IDNUM_H
#define KK_TEXT_IDNUM_H

#include <stdbool.h>
#include <stddef.h>

/** My Number (個人番号): 12 digits, the last a check digit (番号法施行規則). */
bool kk_text__my_number_ok(const char *digits12);

/** Insurer number (保険者番号): 8 digits (法別番号 + 都道府県 + 保険者 +
 *  検証番号) or 6 (国民健康保険), the last a Luhn-style check digit. */
bool kk_text__insurer_number_ok(const char *digits, size_t n);

/** Which code a value is, when it is one. */
typedef enum kk_idcode {
    KK_IDCODE_NONE = 0,
    KK_IDCODE_MY_NUMBER,      /* 12 digits with a valid check digit */
    KK_IDCODE_LICENSE,        /* 運転免許証番号: 12 digits otherwise */
    KK_IDCODE_PASSPORT,       /* 旅券: 2 letters + 7 digits */
    KK_IDCODE_RESIDENCE_CARD, /* 在留カード: 2 letters + 8 digits + 2 letters */
    KK_IDCODE_PENSION,        /* 基礎年金番号: 4 + 6 digits */
    KK_IDCODE_INSURER,        /* 保険者番号 with a valid check digit */
} kk_idcode;

/**
 * Whether a whole value (UTF-8, any width and separators) is one of the
 * codes above. An 8-digit value counts as an insurer number only with a
 * known 法別番号 and a valid check digit.
 */
kk_idcode kk_text__idcode(const char *utf8, size_t len);

#endif /* KK_TEXT_IDNUM_H */
