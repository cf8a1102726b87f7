/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz/fuzz_charset.c - libFuzzer harness for the Japanese (and other)
 * text decoder and encoder (lib/text/charset.c). Input: the raw value of
 * (0008,0005), a newline, then the text. The text is decoded to UTF-8,
 * which must be valid UTF-8 whatever the bytes; that is encoded back into
 * the declared set, and the raw text is encoded as if it were UTF-8.
 * Without a newline the input is text under a character set picked by
 * its first byte from the terms kakou knows.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "text/charset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const terms[] = {
    "", "ISO_IR 6", "ISO_IR 100", "ISO_IR 13", "ISO_IR 192", "GB18030",
    "ISO 2022 IR 87", "ISO 2022 IR 6\\ISO 2022 IR 87",
    "ISO 2022 IR 13\\ISO 2022 IR 87", "\\ISO 2022 IR 87\\ISO 2022 IR 159",
    "ISO 2022 IR 6\\ISO 2022 IR 100", "ISO 2022 IR 149", "ISO 2022 IR 58",
    "ISO_IR 13\\ISO 2022 IR 87",
};

/* Strict UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
static int valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        unsigned min, cp;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xE0) == 0xC0) { k = 1; min = 0x80; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { k = 2; min = 0x800; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { k = 3; min = 0x10000; cp = c & 0x07; }
        else return 0;
        if (k >= n - i) /* truncated sequence */
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += k + 1;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    const char *cs, *text;
    size_t cslen, len;
    const uint8_t *nl = memchr(data, '\n', size < 80 ? size : 80);
    if (nl) {
        cs = (const char *)data;
        cslen = (size_t)(nl - data);
        text = (const char *)nl + 1;
        len = size - cslen - 1;
    } else {
        if (size == 0)
            return 0;
        cs = terms[data[0] % (sizeof terms / sizeof terms[0])];
        cslen = strlen(cs);
        text = (const char *)data + 1;
        len = size - 1;
    }
    kk_buf u = KK_BUF_INIT;
    kk_text__to_utf8(cs, cslen, text, len, &u);
    if (!u.failed && !valid_utf8((const unsigned char *)(u.data ? u.data : ""), u.len))
        abort(); /* decoded text must be valid UTF-8, whatever came in */
    kk_buf back = KK_BUF_INIT;
    (void)kk_text__from_utf8(cs, cslen, u.data ? u.data : "", u.len, &back);
    kk__buf_free(&back);
    (void)kk_text__from_utf8(cs, cslen, text, len, &back);
    kk__buf_free(&back);
    (void)kk_text__is_ascii(text, len);
    kk__buf_free(&u);
    return 0;
}
