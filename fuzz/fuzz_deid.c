/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz/fuzz_deid.c - libFuzzer harness for the ingest-and-de-identify
 * path on DICOM bytes: DCMTK parses the buffer (kk_dcm__load_buffer),
 * kakou walks and changes every element (the engine of kk_deid_file) and
 * writes the object back into memory. Profiles: dicom-basic with the
 * cleaning options (free text scrubbing, Table E.3.4-1) for even-sized
 * inputs, jp-anonymized (generalizers, address cutting) for odd ones.
 * A refused input is a normal outcome; crashes, leaks and UB are not.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/core.h"
#include "deid/deid_internal.h"
#include "kakou/kakou.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static kk_profile *profiles[2];
static kk_deid *runs[2];
static int verbose;

static void setup(void)
{
    static const char *const basic_opts[] = { "clean-descriptors", "clean-structured-content",
                                              "retain-safe-private", NULL };
    kk_ctx *ctx = kk_ctx_new();
    if (!ctx || kk_profile_load(&profiles[0], ctx, "dicom-basic", basic_opts) != KK_OK ||
        kk_profile_load(&profiles[1], ctx, "jp-anonymized", NULL) != KK_OK)
        abort();
    verbose = getenv("REPLAY_VERBOSE") != NULL;
    kk_deid_options o = KK_DEID_OPTIONS_INIT;
    o.max_object_bytes = 64u << 20;
    for (int i = 0; i < 2; i++)
        if (kk_deid_new(&runs[i], ctx, profiles[i], &o) != KK_OK)
            abort();
    kk_ctx_free(ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!runs[0])
        setup();
    if (size > 1 << 20)
        return 0;
    kk_ctx *ctx = kk_ctx_new();
    if (!ctx)
        return 0;
    kk_buf out = KK_BUF_INIT;
    kk_status st = kk_deid__buffer(runs[size & 1], ctx, data, size, &out);
    if (st != KK_OK && !*kk_error_message(ctx))
        abort(); /* every failure carries a message */
    if (st == KK_ENOMEM)
        abort(); /* at most 1 MiB in: only a value allocated at its declared
                  * length can exhaust memory (t0600 replays under ulimit -v) */
    if (verbose) /* the replay driver shows what happened */
        fprintf(stderr, "%s: %zu bytes out: %s\n", kk_status_str(st), out.len,
                st == KK_OK ? "" : kk_error_message(ctx));
    kk__buf_free(&out);
    kk_ctx_free(ctx);
    return 0;
}
