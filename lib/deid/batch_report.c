/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/deid/batch_report.c - the report of a batch (include/kakou/batch.h):
 * one JSON line per input,
 * {"n":1,"input_id":"…","input":"…"?,"status":"done","reason":"…"?,
 *  "output":"…","bytes_in":N,"bytes_out":N,"actions":{"keep":N,…},
 *  "pixels":{"cleaned":0,"boxes_rule":0,"boxes_detected":0,
 *  "boxes_overlay":0,"residue_frames":0},"seconds":{"total":0.01,"pixels":0}}
 * Inputs are named by id; a reason's mention of the input path becomes
 * "<input>".
 */
#include <inttypes.h>
#include <string.h>

#include "core/core.h"
#include "deid/batch_internal.h"

/* Length of the valid UTF-8 sequence at s (1..4), or 0. */
static int utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    int n = s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 && s[0] < 0xE0 ? 2 : 0;
    if (s[0] >= 0xF5)
        n = 0;
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

/* A JSON string: quotes, backslashes and controls escaped; bytes that are
 * not UTF-8 (paths can be anything) become U+FFFD, so each line parses. */
static void json(kk_buf *b, const char *s)
{
    kk__buf_addc(b, '"');
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (*p == '"' || *p == '\\') {
            char e[2] = { '\\', (char)*p };
            kk__buf_add(b, e, 2);
            p++;
        } else if (*p < 0x20 || *p == 0x7f) {
            kk__buf_printf(b, "\\u%04x", *p);
            p++;
        } else {
            int n = utf8_len(p);
            if (n == 0) {
                kk__buf_adds(b, "\\ufffd");
                p++;
            } else {
                kk__buf_add(b, p, (size_t)n);
                p += n;
            }
        }
    }
    kk__buf_addc(b, '"');
}

/* The message with every occurrence of the input path replaced by
 * "<input>": the report names inputs by id only. */
static void json_reason(kk_buf *b, const char *msg, const char *path)
{
    kk_buf t = KK_BUF_INIT;
    size_t pl = strlen(path);
    const char *s = msg, *hit;
    while (pl && (hit = strstr(s, path)) != NULL) {
        kk__buf_add(&t, s, (size_t)(hit - s));
        kk__buf_adds(&t, "<input>");
        s = hit + pl;
    }
    kk__buf_adds(&t, s);
    json(b, t.data ? t.data : "");
    kk__buf_free(&t);
}

static const char *status_word(kk_batch_status s)
{
    switch (s) {
    case KK_BATCH_DONE: return "done";
    case KK_BATCH_DUPLICATE: return "duplicate";
    case KK_BATCH_DONE_BEFORE: return "done-before";
    case KK_BATCH_SKIPPED: return "skipped";
    default: return "failed";
    }
}

char *kk_batch__report_line(const kk_batch_outcome *o, const char *path_shown)
{
    kk_buf b = KK_BUF_INIT;
    kk__buf_printf(&b, "{\"n\":%" PRIu64 ",\"input_id\":\"%s\"", o->n, o->input_id);
    if (path_shown) {
        kk__buf_adds(&b, ",\"input\":");
        json(&b, path_shown);
    }
    kk__buf_adds(&b, ",\"status\":");
    json(&b, status_word(o->status));
    if (o->reason) {
        kk__buf_adds(&b, ",\"reason\":");
        json_reason(&b, o->reason, o->path);
    }
    if (o->output) {
        kk__buf_adds(&b, ",\"output\":");
        json(&b, o->output);
    }
    const kk_deid_result *r = o->result;
    if (r) {
        kk__buf_printf(&b, ",\"bytes_in\":%" PRIu64 ",\"bytes_out\":%" PRIu64 ",\"actions\":{",
                       r->bytes_in, r->bytes_out);
        int k = 0;
        for (int a = 0; a < KK_ACTION__COUNT; a++)
            if (r->counts[a])
                kk__buf_printf(&b, "%s\"%s\":%u", k++ ? "," : "", kk_action_name((kk_action)a),
                               r->counts[a]);
        kk__buf_printf(&b, "},\"pixels\":{\"cleaned\":%d,\"boxes_rule\":%u,\"boxes_detected\":%u,"
                           "\"boxes_overlay\":%u,\"residue_frames\":%u}",
                       r->pixels_cleaned ? 1 : 0, r->pixel_boxes_rule, r->pixel_boxes_detected,
                       r->pixel_boxes_overlay, r->pixel_residue_frames);
    }
    kk__buf_printf(&b, ",\"seconds\":{\"total\":%.6f,\"pixels\":%.6f}}\n", o->seconds,
                   r ? r->seconds_pixels : 0.0);
    if (b.failed) {
        kk__buf_free(&b);
        return NULL;
    }
    return kk__buf_detach(&b);
}
