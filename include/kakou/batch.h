/* SPDX-License-Identifier: Apache-2.0 */
/*
 * include/kakou/batch.h - de-identify many files into one output folder
 * (kakou deid): worker threads fed through a bounded queue, each input
 * claimed in the store so that runs sharing it do each input once,
 * resume, one JSON line per input, and the audit row (R25) of each input.
 *
 * A kk_batch runs a kk_deid over inputs given one at a time
 * (kk_batch_add(), which waits while the queue is full, so nothing holds
 * the whole list) and waits for them in kk_batch_run().
 *
 *  - Inputs are never written; each output appears atomically
 *    (kk_deid_file_ex()). A failed input is reported (the message
 *    callback and the outcome callback) and the batch goes on.
 *  - With a store: each input is named by its SHA-256, made as lib/deid
 *    reads it (hash while copying), and claimed with the profile's digest
 *    and the key (kk_store_claim_input()): an input an earlier run did,
 *    whose output is in this folder with its size and digest, is
 *    "done-before"; one another live run is doing is left to it. The audit
 *    row ("ok", with both digests) is committed with the object's rows
 *    before its output appears; "failed" and "skipped" rows are queued.
 *  - Without a store, with a key and journal set: a journal in the output
 *    folder (.kakou-journal), one line per input done, "ID OUTPUT", ID a
 *    keyed digest (kk_key_digest()) of the input's path below its
 *    argument, its size, its mtime and the profile's digest. Lines are
 *    fsync'd in batches; a torn last line is ignored on reading, and an
 *    input whose line was lost is done again (same bytes: a duplicate).
 *  - The report: one JSON line per input, naming it by the same keyed
 *    digest and its rank, not by path (file names can carry PHI), unless
 *    report_paths.
 * Messages name files, never an attribute value (R04).
 */
#ifndef KAKOU_BATCH_H
#define KAKOU_BATCH_H

#include <stdio.h>

#include "common.h"
#include "deid.h"
#include "release.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kk_batch kk_batch;

/** What became of one input. Never renumbered; add new ones last. */
typedef enum kk_batch_status {
    KK_BATCH_DONE = 0,     /**< written */
    KK_BATCH_DUPLICATE,    /**< the same object as an earlier input: written once */
    KK_BATCH_DONE_BEFORE,  /**< done by an earlier run, or being done by another */
    KK_BATCH_SKIPPED,      /**< not DICOM, or a DICOMDIR */
    KK_BATCH_FAILED,       /**< the reason says why */
    KK_BATCH_OPTED_OUT,    /**< its patient opted out (R26): no other trace */
    KK_BATCH_SUPPRESSED    /**< its patient is suppressed by the release (R14) */
} kk_batch_status;

/** One input's outcome, as the outcome callback sees it. Borrowed for the
 *  call. */
typedef struct kk_batch_outcome {
    uint64_t n;               /**< rank in the order inputs were added, from 1 */
    const char *path;         /**< as given to kk_batch_add() */
    const char *input_id;     /**< the keyed digest that names it (32 hex) */
    kk_batch_status status;
    const char *reason;       /**< failed or skipped: the message; else NULL */
    const char *output;       /**< below the output folder, or NULL */
    const kk_deid_result *result; /**< done or duplicate; else NULL */
    double seconds;
} kk_batch_outcome;

/** Levels of the message callback: as the kakou command's -q/-v/-d. */
enum { KK_BATCH_ERROR = 0, KK_BATCH_WARN, KK_BATCH_INFO, KK_BATCH_DEBUG };

/** Called from any worker thread, one line without newline. */
typedef void (*kk_batch_message_fn)(void *payload, int level, const char *message);
/** Called from any worker thread once for every input added. */
typedef void (*kk_batch_outcome_fn)(void *payload, const kk_batch_outcome *outcome);

struct kk_batch_count;
/** Called from any worker thread after each input, with the counts. */
typedef void (*kk_batch_progress_fn)(void *payload, const struct kk_batch_count *counts);

/** Options. Initialize with KK_BATCH_OPTIONS_INIT. */
typedef struct kk_batch_options {
    unsigned version;
    /** The run; borrowed, must outlive the batch. */
    kk_deid *deid;
    /** The run's profile, key (NULL: inputs are named under a key of this
     *  batch only, and there is no journal) and store (NULL: none), as
     *  given to kk_deid_new(); borrowed. */
    const kk_profile *profile;
    const kk_key *key;
    kk_store *store;
    /** The output folder; it must exist. */
    const char *out_dir;
    /** Worker threads (0: 1). */
    int workers;
    /** One JSON line per input is written here when not NULL; borrowed. */
    FILE *report;
    /** 1: the report names inputs by path below their argument too. */
    int report_paths;
    /** 1: keep and read the journal (with a key and no store). */
    int journal;
    /** Patients left out (R26) and the release (R14); NULL for none. */
    const kk_optout *optout;
    const kk_release *release;
    kk_batch_message_fn on_message;
    kk_batch_outcome_fn on_outcome;
    kk_batch_progress_fn on_progress;
    void *payload;
} kk_batch_options;

#define KK_BATCH_OPTIONS_VERSION 1
#define KK_BATCH_OPTIONS_INIT { KK_BATCH_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, 0, \
                                NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL }

/** How many inputs came to what, so far (kk_batch_counts(), on_progress). */
typedef struct kk_batch_count {
    size_t added, seen, written, duplicates, done_before, skipped, failed, opted_out,
        suppressed;
    uint64_t bytes_seen; /**< sizes of the inputs seen */
} kk_batch_count;

/**
 * Start a batch: opens the journal, removes temporary files that killed
 * runs left in the output folder, and starts the workers.
 * @return KK_OK; KK_EINVAL for missing options; KK_EIO when the journal
 *         cannot be opened; KK_ENOMEM
 */
KK_API kk_status kk_batch_new(kk_batch **out, kk_ctx *ctx, const kk_batch_options *opts);

/** One input: its path, the part below the argument it was found under
 *  (names it in the journal and the report; NULL: its last component),
 *  its size and mtime in nanoseconds (from stat). */
typedef struct kk_batch_input {
    const char *path;
    const char *rel;
    uint64_t size;
    int64_t mtime_ns;
} kk_batch_input;

/** Queue one input; waits while the queue is full. Not thread-safe with
 *  itself (one thread adds). @return KK_OK; KK_ENOMEM */
KK_API kk_status kk_batch_add(kk_batch *b, kk_ctx *ctx, const kk_batch_input *in);

/** kk_batch_add() of a file by path (stat'ed here). @return KK_OK;
 *  KK_ENOTFOUND or KK_EIO when it cannot be stat'ed (counted as failed) */
KK_API kk_status kk_batch_add_path(kk_batch *b, kk_ctx *ctx, const char *path);

/** The counts so far; thread-safe (a progress line polls it). */
KK_API void kk_batch_counts(const kk_batch *b, kk_batch_count *out);

/**
 * Wait for every input added, then close the journal (a journal line that
 * could not be written was reported through the message callback: its
 * input is simply done again by the next run). Call once.
 * @param out  may be NULL: the final counts
 * @return KK_OK (even when inputs failed: see the counts); KK_EINVAL
 */
KK_API kk_status kk_batch_run(kk_batch *b, kk_ctx *ctx, kk_batch_count *out);

/** Free a batch (after kk_batch_run(), or instead of it: then it waits
 *  for the inputs added). NULL is a no-op. */
KK_API void kk_batch_free(kk_batch *b);

/** 1 when path looks like DICOM ("DICM" at 128, or a bare data set that
 *  starts with a low group), 0 when not, -1 when it cannot be read (errno
 *  EINVAL: not a regular file). Never blocks. */
KK_API int kk_sniff_dicom(const char *path);

#ifdef __cplusplus
}
#endif
#endif /* KAKOU_BATCH_H */
