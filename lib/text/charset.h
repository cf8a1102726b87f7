/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/text/charset.h - DICOM character sets (0008,0005) to and from UTF-8.
 *
 * kakou reads Japanese itself because Debian's DCMTK refuses ISO 2022
 * IR 87 (shared ENVIRONMENT.md): ISO 2022 escapes are followed here, and
 * each segment is converted with glibc iconv. Used to compare identifiers
 * with free text and to write cleaned text back in the declared set (R21).
 * Pure functions; safe from any thread. Not a public API.
 */
#ifndef KK_TEXT_CHARSET_H
#define KK_TEXT_CHARSET_H

#include <stdbool.h>
#include <stddef.h>

#include "core/core.h"

/**
 * Decode len bytes of a value in the character set named by the raw value
 * of (0008,0005) (cs, cslen; may be empty) into UTF-8, appended to out.
 * Bytes that do not decode become U+FFFD; never fails on bad input.
 */
void kk_text__to_utf8(const char *cs, size_t cslen, const char *in, size_t len, kk_buf *out);

/**
 * Encode UTF-8 text into the declared character set, appended to out.
 * Under the Japanese ISO 2022 terms the characters go to JIS X 0201 (IR 13),
 * JIS X 0208 (IR 87) or JIS X 0212 (IR 159) by escape, and the value
 * returns to its initial G0 set before each delimiter and at its end.
 * @return KK_OK; KK_EINVAL when the text cannot be represented (the caller
 *         then drops the value rather than write bytes that lie); nothing
 *         is appended then
 */
kk_status kk_text__from_utf8(const char *cs, size_t cslen, const char *in, size_t len,
                             kk_buf *out);

/** What kk_text__decode() found the bytes to be. */
typedef enum kk_text_src {
    KK_TEXT_AS_DECLARED = 0, /* valid in the declared set (or ASCII) */
    KK_TEXT_AS_UTF8,         /* UTF-8 under another name or none */
    KK_TEXT_AS_SJIS,         /* Shift_JIS (CP932) under another name or none */
    KK_TEXT_AS_EUCJP,        /* EUC-JP under another name or none */
    KK_TEXT_AS_JIS,          /* ISO 2022 JIS escapes with no ISO 2022 term */
    KK_TEXT_AS_LATIN1,       /* Latin-1 with no character set declared */
    KK_TEXT_UNDECODABLE      /* none of these: nothing appended */
} kk_text_src;

/**
 * Decode strictly: when the bytes are valid in the declared set, as
 * kk_text__to_utf8() does; otherwise detect what they are (UTF-8,
 * Shift_JIS, EUC-JP, Latin-1 when undeclared) and decode that, so
 * mis-declared text is read as what it is (R21); a NUL inside the value
 * (UTF-16, binary) is no text. UTF-8 is appended to out
 * except when KK_TEXT_UNDECODABLE is returned (the caller removes it).
 */
kk_text_src kk_text__decode(const char *cs, size_t cslen, const char *in, size_t len,
                            kk_buf *out);

/** True when every byte is 7-bit, there is no ESC and no NUL before
 *  another byte (a NUL inside a value is UTF-16 or binary, which
 *  kk_text__decode() calls undecodable; NUL padding at the end is fine). */
bool kk_text__is_ascii(const char *s, size_t len);

#endif /* KK_TEXT_CHARSET_H */
