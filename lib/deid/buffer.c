/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/deid/buffer.c - kk_deid_buffer(): bytes in, bytes out, on the engine
 * of kk_deid_file() (deid.c, kk_deid__buffer_ex()), with the SHA-256 of
 * both sides and the audit row (R25) when the run has a store.
 *
 * Digests: lib/crypto/sha256.c (libgcrypt; it says why).
 */
#include <string.h>

#include "core/core.h"
#include "crypto/sha256.h"
#include "deid/deid_internal.h"
#include "kakou/store.h"

void kk_deid_buffer_result_clear(kk_deid_buffer_result *r)
{
    if (!r)
        return;
    unsigned version = r->version;
    kk_free(r->data);
    kk_free(r->output_path);
    kk_free(r->study_instance_uid);
    kk_free(r->series_instance_uid);
    kk_free(r->sop_instance_uid);
    kk_free(r->sop_class_uid);
    memset(r, 0, sizeof *r);
    r->version = version;
}

/* The audit row of one object, as `kakou deid` writes it for a file. A
 * failure to queue it is the call's failure: an object without its row
 * must not be handed on. */
static kk_status audit(kk_deid *d, kk_ctx *ctx, const char *in_digest, const char *out_digest,
                       const char *sop, const char *status)
{
    const kk_profile *p = kk_deid__profile(d);
    kk_audit_entry a = { kk_profile_name(p), kk_profile_version(p), kk_profile_digest(p),
                         in_digest, out_digest, sop, status };
    return kk_store_audit(kk_deid__store(d), ctx, &a);
}

kk_status kk_deid_buffer(kk_deid *d, kk_ctx *ctx, const void *data, size_t size,
                         const char *label, kk_deid_buffer_result *r)
{
    if (!d || !r || (!data && size))
        return kk__fail(ctx, KK_EINVAL, "kk_deid_buffer: missing argument");
    kk_deid_buffer_result_clear(r);
    if (!r->version)
        r->version = KK_DEID_BUFFER_RESULT_VERSION;
    if (!label)
        label = "<memory>";
    kk_store *store = kk_deid__store(d);
    kk_status st;
    if (store && (st = kk_sha256__hex(ctx, data, size, r->input_sha256)) != KK_OK)
        return st;
    kk_buf out = KK_BUF_INIT;
    kk_deid_result res;
    kk_deid__names names;
    st = kk_deid__buffer_ex(d, ctx, data, size, label, &out, &res, &names);
    if (st == KK_OK && out.failed)
        st = kk__fail(ctx, KK_ENOMEM, "out of memory writing '%s'", label);
    if (st != KK_OK) {
        kk__buf_free(&out);
        if (store && st != KK_EINVAL) {
            /* keep the engine's message: it says why */
            char why[1024];
            snprintf(why, sizeof why, "%s", kk_error_message(ctx));
            kk_status sa = audit(d, ctx, r->input_sha256, NULL, NULL,
                                 st == KK_ESKIPPED ? "skipped" : "failed");
            if (sa != KK_OK)
                return sa;
            kk__fail(ctx, st, "%s", why);
        }
        return st;
    }
    r->size = out.len;
    r->data = (unsigned char *)kk__buf_detach(&out);
    r->output_path = kk__strdup(names.output_path);
    r->study_instance_uid = names.study;
    r->series_instance_uid = names.series;
    r->sop_instance_uid = names.sop;
    r->sop_class_uid = names.sop_class;
    memcpy(r->counts, res.counts, sizeof r->counts);
    r->pixels_cleaned = res.pixels_cleaned;
    r->pixel_boxes = res.pixel_boxes_rule + res.pixel_boxes_detected + res.pixel_boxes_overlay;
    if (!r->output_path || !r->data) {
        kk_deid_buffer_result_clear(r);
        return kk__fail(ctx, KK_ENOMEM, "out of memory writing '%s'", label);
    }
    if (store) {
        st = kk_sha256__hex(ctx, r->data, r->size, r->output_sha256);
        if (st == KK_OK)
            st = audit(d, ctx, r->input_sha256, r->output_sha256, r->sop_instance_uid, "ok");
        if (st != KK_OK) {
            char keep[65];
            memcpy(keep, r->input_sha256, sizeof keep);
            kk_deid_buffer_result_clear(r);
            memcpy(r->input_sha256, keep, sizeof keep);
            return st;
        }
    }
    return KK_OK;
}
