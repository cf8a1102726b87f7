/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz/fuzz_profile.c - libFuzzer harness for the profile language
 * (lib/profile/profile.c): the input is profile text, loaded from memory
 * with kk_profile__load_text() and, when it loads, formatted back
 * (`profile show`). Text in memory may inherit built-in profiles only, so
 * the harness never touches the file system. Crashes, leaks and UB are
 * the findings; a syntax error is a normal outcome.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "kakou/kakou.h"
#include "profile/profile_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* profiles are small text files; size bounds the run time only */
    if (size > 64 * 1024)
        return 0;
    static const char *const opts[] = { "retain-patient-characteristics", NULL };
    kk_ctx *ctx = kk_ctx_new();
    if (!ctx)
        return 0;
    kk_profile *p = NULL;
    /* the last byte's low bit turns on a caller option, as -O does */
    const char *const *o = size && (data[size - 1] & 1) ? opts : NULL;
    if (kk_profile__load_text(&p, ctx, (const char *)data, size, "fuzz.kkp", o) == KK_OK) {
        char *text = NULL;
        if (kk_profile_format(&text, ctx, p) == KK_OK)
            kk_free(text);
        kk_profile_free(p);
    } else {
        /* every failure carries a message */
        const char *m = kk_error_message(ctx);
        if (!m || !*m)
            abort();
    }
    kk_ctx_free(ctx);
    return 0;
}
