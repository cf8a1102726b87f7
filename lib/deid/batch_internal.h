/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/deid/batch_internal.h - the parts of kk_batch (batch.c): the resume
 * journal (batch_journal.c) and the JSON report line (batch_report.c).
 * Not a public API.
 */
#ifndef KK_DEID_BATCH_INTERNAL_H
#define KK_DEID_BATCH_INTERNAL_H

#include <stdbool.h>
#include <stdio.h>

#include "kakou/batch.h"

#define KK_BATCH_ID_HEX 32 /* 128 bits of the keyed digest */

typedef struct kk_journal kk_journal;

/** Open OUTDIR/.kakou-journal for appending and read the ids in it. */
kk_status kk_batch__journal_open(kk_journal **out, kk_ctx *ctx, const char *out_dir);
/** When id is in the journal: true, with the output recorded for it. */
bool kk_batch__journal_done(kk_journal *jn, const char *id, char *out, size_t outsz);
/** Append "ID OUTPUT"; false when the write failed (reported once). */
bool kk_batch__journal_add(kk_journal *jn, const char *id, const char *out_rel,
                           bool *first_failure);
/** Sync and close; false when a write or sync failed. NULL is a no-op. */
bool kk_batch__journal_close(kk_journal *jn);

/** The JSON line of one outcome, into a malloc'd string (NULL: no memory).
 *  path_shown: the path below its argument, or NULL. */
char *kk_batch__report_line(const kk_batch_outcome *o, const char *path_shown);

#endif /* KK_DEID_BATCH_INTERNAL_H */
