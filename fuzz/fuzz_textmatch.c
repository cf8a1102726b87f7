/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz/fuzz_textmatch.c - libFuzzer harness for the OCR-result matcher
 * (lib/pixel/textmatch.c). Input: lines separated by '\n'. The first five
 * are the object's identifiers (a PN value, an ID, a DA date, an
 * accession number, an institution); every later line is OCR output,
 * classified as identifier, label and technical token. Bytes need not be
 * valid UTF-8: OCR output is whatever the engine gives.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kakou/kakou.h"
#include "pixel/textmatch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16 * 1024)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    /* split in place; NULs inside a line end it early, as C strings do */
    char *lines[64];
    int n = 0;
    for (char *s = text; n < 64;) {
        lines[n++] = s;
        char *nl = strchr(s, '\n');
        if (!nl)
            break;
        *nl = '\0';
        s = nl + 1;
    }
    const char *id[5];
    for (int i = 0; i < 5; i++)
        id[i] = i < n ? lines[i] : "";
    kk_text_ids ids = { &id[0], 1, &id[1], 1, &id[2], 1, &id[3], 1, &id[4], 1 };
    kk_ctx *ctx = kk_ctx_new();
    kk_textmatch *m = NULL;
    if (ctx && kk_textmatch__new(&m, ctx, &ids, NULL, 0) == KK_OK) {
        for (int i = 5; i < n; i++) {
            kk_text_class c = kk_textmatch__identifier(m, lines[i]);
            if (c > KK_TEXT_TECHNICAL)
                abort();
            (void)kk_textmatch__label(lines[i], &c);
            (void)kk_textmatch__technical(m, lines[i]);
        }
        kk_textmatch__free(m);
    }
    kk_ctx_free(ctx);
    free(text);
    return 0;
}
