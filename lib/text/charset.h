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
 * @return KK_OK; KK_EINVAL when the text cannot be represented (the caller
 *         then drops the value rather than write bytes that lie)
 */
kk_status kk_text__from_utf8(const char *cs, size_t cslen, const char *in, size_t len,
                             kk_buf *out);

/** True when every byte is 7-bit and there is no ESC. */
bool kk_text__is_ascii(const char *s, size_t len);

#endif /* KK_TEXT_CHARSET_H */
