/* SPDX-License-Identifier: Apache-2.0 */
/*
 * include/kakou/deid.h - apply a profile to DICOM files.
 *
 * A kk_deid is one de-identification run over a set of instances: the
 * profile, the key behind UIDs and pseudonyms, and (optionally) the store
 * that keeps the correspondence. Replacement UIDs are consistent across
 * the whole run, and across runs that share a key.
 *
 * Thread safety: one kk_deid may be used by several threads at once for
 * separate files, each thread with its own kk_ctx; kk_deid_new() and
 * kk_deid_free() are not to race with other calls on the same run.
 *
 * Data dictionary: the first call that needs DCMTK (kk_profile_load())
 * has it create its dictionary, and DCMTK reads its text files, which
 * takes milliseconds, unless DCMDICTPATH says otherwise. Set
 * DCMDICTPATH=/dev/null (before that call and before threads start), as
 * the kakou command does, and libkakou adds its compiled-in copy of
 * DCMTK's dictionary, the same entries, read from no file. libkakou does
 * this whenever DCMTK's dictionary has no entries, and leaves one that has
 * entries (loaded by the application, or from DCMDICTPATH's files) alone.
 * kk_preload() does this set-up at a time the application chooses.
 */
#ifndef KAKOU_DEID_H
#define KAKOU_DEID_H

#include "common.h"
#include "key.h"
#include "profile.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kk_deid kk_deid;
typedef struct kk_store kk_store;

/**
 * Do now the one-time set-up that the first file would otherwise wait
 * for: DCMTK's settings and data dictionary (about a millisecond with the
 * compiled-in dictionary, more when DCMTK reads its text files). Optional,
 * thread-safe, and done once however often it is called. With the
 * compiled-in dictionary, loading a profile does not wait for it, so an
 * application may call it from a thread of its own while it loads its
 * profile and opens its store, as the kakou command does.
 */
KK_API void kk_preload(void);

/** What happened to one attribute. Never renumbered; add new ones last. */
typedef enum kk_action {
    KK_ACTION_KEEP = 0,      /**< K */
    KK_ACTION_REMOVE,        /**< X */
    KK_ACTION_EMPTY,         /**< Z */
    KK_ACTION_DUMMY,         /**< D */
    KK_ACTION_CLEAN,         /**< C */
    KK_ACTION_UID,           /**< U: keyed replacement UID */
    KK_ACTION_PSEUDONYM,     /**< keyed pseudonym, recorded in the store */
    KK_ACTION_SHIFT_DATE,    /**< per-patient keyed date shift */
    KK_ACTION_GENERALIZE_AGE, /**< top-code ages */
    KK_ACTION_TRUNCATE_DATE, /**< reduce a date to year-month */
    KK_ACTION_GENERALIZE_ADDRESS, /**< reduce an address to prefecture/city */
    KK_ACTION_SET,           /**< replace with a fixed value */
    KK_ACTION__COUNT
} kk_action;

/** Short name of an action as the profile language spells it. */
KK_API const char *kk_action_name(kk_action action);

/** Options of a run. Initialize with KK_DEID_OPTIONS_INIT. */
typedef struct kk_deid_options {
    unsigned version;
    /** Key for UIDs, pseudonyms and shifts; NULL makes an ephemeral one. */
    const kk_key *key;
    /** Store for correspondence and audit; NULL for none. */
    kk_store *store;
    /** Largest value kept in memory while reading; larger ones are read
     *  from the input only when written (0: default 4096). */
    uint32_t lazy_threshold;
    /** Per-object limit in bytes, on the input's size and on the pixel
     *  data that Rows x Columns x frames claim (0: no limit on the size;
     *  pixel claims are then held to half of the machine's memory). */
    uint64_t max_object_bytes;
    /** 1 for a run that only decides (kk_deid_explain(), kk_deid_review()):
     *  a profile that keeps a correspondence needs no store, and
     *  kk_deid_file() refuses to run. */
    int decide_only;
    /** 1: kk_deid_file() gives the SHA-256 of each input and output in its
     *  result even without a store (with one it always does). */
    int digests;
} kk_deid_options;

#define KK_DEID_OPTIONS_VERSION 1
#define KK_DEID_OPTIONS_INIT { KK_DEID_OPTIONS_VERSION, NULL, NULL, 0, 0, 0, 0 }

/**
 * Start a run.
 * @param[out] out  release with kk_deid_free()
 * @param profile   borrowed; must outlive the run
 * @param opts      NULL for defaults
 * @return KK_OK; KK_EKEY when the profile needs a key and none was given;
 *         KK_ESTORE when it needs a store and none was given
 */
KK_API kk_status kk_deid_new(kk_deid **out, kk_ctx *ctx,
                             const kk_profile *profile,
                             const kk_deid_options *opts);

/** End a run, wiping its secrets. NULL is a no-op. */
KK_API void kk_deid_free(kk_deid *deid);

/** What one file gave. Clear with kk_deid_result_clear(). */
typedef struct kk_deid_result {
    /** Output path, relative to the output directory. */
    char *output_path;
    /** The new SOP Instance UID. */
    char *sop_instance_uid;
    /** How many attributes each action was applied to. */
    unsigned counts[KK_ACTION__COUNT];
    /** Bytes read and written. */
    uint64_t bytes_in, bytes_out;
    /** 1 when the output already existed with the same bytes (the same
     *  object from another input, or a re-run): nothing new was written. */
    int duplicate;
    /** Burned-in text boxes redacted in the pixels, by where they came
     *  from: a region rule, text detection, an overlay. */
    unsigned pixel_boxes_rule, pixel_boxes_detected, pixel_boxes_overlay;
    /** 1 when the pixel data was decoded, cleaned and re-encoded. */
    int pixels_cleaned;
    /** Seconds spent in pixel text detection and redaction. */
    double seconds_pixels;
    /** Frames where text is still found after painting (the output says
     *  BurnedInAnnotation YES and has no Clean Pixel Data code). */
    unsigned pixel_residue_frames;
    /** Hex SHA-256 of the input's bytes and of the output's, made in the
     *  one pass that reads the input and the one that writes the output
     *  (hash while copying: neither file is read again), when the run has
     *  a store or asked for digests; "" otherwise. Equal to what
     *  sha256sum says of the input file and of the output file. */
    char input_sha256[65], output_sha256[65];
} kk_deid_result;

#define KK_DEID_RESULT_INIT { NULL, NULL, { 0 }, 0, 0, 0, 0, 0, 0, 0, 0.0, 0, "", "" }

/** Free what a result holds and zero it. */
KK_API void kk_deid_result_clear(kk_deid_result *result);

/**
 * De-identify one file into out_dir, named from the new UIDs as
 * STUDY/SERIES/SOP.dcm. The input is never written. The output appears
 * atomically (temp file in out_dir, then rename) or not at all, and with a
 * store only after the object's rows are committed.
 *
 * @param result  may be NULL
 * @return KK_OK; KK_ENOTDICOM when the input cannot be parsed (the message
 *         names the file and the problem); KK_EIO when writing fails;
 *         KK_ESKIPPED for a DICOMDIR (rebuild it from the outputs);
 *         KK_EEXISTS when another input already wrote a different object
 *         under the same SOP Instance UID
 */
KK_API kk_status kk_deid_file(kk_deid *deid, kk_ctx *ctx,
                              const char *in_path, const char *out_dir,
                              kk_deid_result *result);

/**
 * Called by kk_deid_file_publish() when the output is written in full but
 * not yet visible: written_path reads it, output_path is its name below
 * out_dir, sop_instance_uid the new SOP Instance UID. KK_OK lets it
 * appear; any other status removes it and fails the input (the message
 * set in ctx is kept as the reason).
 */
typedef kk_status (*kk_deid_publish_fn)(void *payload, kk_ctx *ctx, const char *written_path,
                                        const char *output_path, const char *sop_instance_uid);

/**
 * kk_deid_file(), with before_publish (may be NULL) called before the
 * output becomes visible. With a store, every row of the object (UIDs,
 * pseudonyms, and whatever before_publish queues) is committed durably
 * before the output appears; when that fails the output is removed and
 * the input fails (KK_ESTORE or the store's status).
 */
KK_API kk_status kk_deid_file_publish(kk_deid *deid, kk_ctx *ctx,
                                      const char *in_path, const char *out_dir,
                                      kk_deid_result *result,
                                      kk_deid_publish_fn before_publish, void *payload);
/** What kk_deid_file_ex() calls; each may be NULL. Initialize with
 *  KK_DEID_HOOKS_INIT. */
typedef struct kk_deid_hooks {
    unsigned version;
    /** Once the input is open, found a regular file within the run's
     *  limit, and read (with digests, input_sha256 is its SHA-256; else
     *  ""), before it is parsed. KK_OK goes on; any other status ends the
     *  call with that status and the message set in ctx, nothing written
     *  (a batch claims the input here: another run has it). */
    kk_status (*on_input)(void *payload, kk_ctx *ctx, const char *input_sha256, uint64_t size);
    /** As kk_deid_publish_fn: the output is written in full, not yet
     *  visible; result holds its output_path, sop_instance_uid, bytes_in,
     *  bytes_out and (with digests) both digests. */
    kk_status (*before_publish)(void *payload, kk_ctx *ctx, const char *written_path,
                                const kk_deid_result *result);
    void *payload;
} kk_deid_hooks;

#define KK_DEID_HOOKS_VERSION 1
#define KK_DEID_HOOKS_INIT { KK_DEID_HOOKS_VERSION, NULL, NULL, NULL }

/**
 * kk_deid_file_publish() with both hooks: on_input sees the input (and
 * its digest) before any work is done on it, before_publish the output
 * (and its digest) before it appears.
 */
KK_API kk_status kk_deid_file_ex(kk_deid *deid, kk_ctx *ctx, const char *in_path,
                                 const char *out_dir, kk_deid_result *result,
                                 const kk_deid_hooks *hooks);

/** What kk_deid_buffer() gave. Initialize with KK_DEID_BUFFER_RESULT_INIT;
 *  clear with kk_deid_buffer_result_clear(). */
typedef struct kk_deid_buffer_result {
    unsigned version;
    /** The de-identified object as a DICOM file (preamble, File Meta
     *  Information, data set), in the transfer syntax kk_deid_file() would
     *  write; release with kk_free() or kk_deid_buffer_result_clear(). */
    unsigned char *data;
    size_t size;
    /** Where kk_deid_file() would write it: STUDY/SERIES/SOP.dcm, made of
     *  the new UIDs (so the same input under the same key always gets the
     *  same name). */
    char *output_path;
    /** The new Study, Series and SOP Instance UIDs (NULL when the object
     *  has none) and its SOP Class UID (unchanged). */
    char *study_instance_uid, *series_instance_uid, *sop_instance_uid;
    char *sop_class_uid;
    /** Hex SHA-256 of the input and output bytes, computed in the same
     *  call when the run has a store (they go into its audit row); ""
     *  otherwise. */
    char input_sha256[65], output_sha256[65];
    /** How many attributes each action was applied to. */
    unsigned counts[KK_ACTION__COUNT];
    /** 1 when the pixel data was cleaned; the boxes painted out. */
    int pixels_cleaned;
    unsigned pixel_boxes;
} kk_deid_buffer_result;

#define KK_DEID_BUFFER_RESULT_VERSION 1
#define KK_DEID_BUFFER_RESULT_INIT { KK_DEID_BUFFER_RESULT_VERSION, NULL, 0, NULL, NULL, NULL, \
                                     NULL, NULL, "", "", { 0 }, 0, 0 }

/** Free what a result holds and zero it (keeping its version). */
KK_API void kk_deid_buffer_result_clear(kk_deid_buffer_result *result);

/**
 * De-identify a DICOM object held in memory: the bytes of a DICOM file
 * in (read as kk_deid_file() reads a file), the de-identified file's
 * bytes out, as kk_deid_file() would have written them. Nothing touches
 * the output folders; this is the shape of a C-STORE gateway or a PACS
 * plugin (kakou gateway, plugins/orthanc).
 *
 * Thread safety: as kk_deid_file(): one kk_deid serves several threads at
 * once, each with its own kk_ctx and result.
 *
 * Store: when the run has one, the correspondence rows are recorded as for
 * a file, and one audit row (R25) is queued the way `kakou deid` writes it:
 * the profile, the input's and output's SHA-256, the new SOP Instance UID
 * and "ok" (or "failed" or "skipped", without output). Rows are committed
 * in batches: call kk_store_flush() before telling anyone the object is
 * safe.
 *
 * @param label   names the object in messages instead of '<memory>' (e.g.
 *                "C-STORE #12 from MODALITY"); NULL for '<memory>'. Never
 *                put an attribute value in it.
 * @param result  filled on KK_OK; on failure it holds the input digest (with
 *                a store) and nothing else
 * @return KK_OK; KK_ENOTDICOM when the bytes cannot be parsed (the message
 *         says why, never a value); KK_ESKIPPED for a DICOMDIR; KK_ELIMIT
 *         above the run's per-object limit; KK_EEXISTS for a pseudonym
 *         collision in the store; KK_ESTORE; KK_ENOMEM
 */
KK_API kk_status kk_deid_buffer(kk_deid *deid, kk_ctx *ctx, const void *data, size_t size,
                                const char *label, kk_deid_buffer_result *result);
/** 1 when the run's profile defaces (`deface remove` or `deface blur`):
 *  kk_deid_prepare() must then see the inputs before kk_deid_file(). */
KK_API int kk_deid_defaces(const kk_deid *deid);

/** What kk_deid_prepare() found. */
typedef struct kk_deid_prepared {
    size_t volumes;  /**< CT and MR series read as volumes */
    size_t heads;    /**< of them, heads */
    size_t defaced;  /**< of them, showing a face, which was removed */
    size_t failed;   /**< volumes that could not be read */
    size_t voxels;   /**< voxels changed */
    double seconds;  /**< CPU seconds finding and removing faces, decoding excluded */
} kk_deid_prepared;

/**
 * Defacing (R20): read the headers of the inputs of a run, group them
 * into volumes by series (SeriesInstanceUID; slices sorted along the
 * normal of ImageOrientationPatient by ImagePositionPatient; enhanced
 * multi-frame objects give one slice a frame), and find and remove the
 * face of each CT or MR head volume that shows one. kk_deid_file() then
 * writes each input with its defaced pixels, in its own transfer syntax,
 * with RecognizableVisualFeatures NO and code 113102. Call it once, before
 * kk_deid_file(), with every input of the run, named as kk_deid_file()
 * will be given them; a no-op unless kk_deid_defaces(). With `deface ...
 * required`, the inputs of a volume that cannot be read as one, or that
 * shows a face that cannot be removed, fail in kk_deid_file().
 * Holds the changed samples until kk_deid_free(). Not thread-safe with
 * kk_deid_file() on the same run.
 * @param out  may be NULL
 * @return KK_OK (inputs that cannot be read are left to kk_deid_file());
 *         KK_ENOMEM; KK_EUNSUPPORTED when the pixel module is missing
 */
KK_API kk_status kk_deid_prepare(kk_deid *deid, kk_ctx *ctx, const char *const *paths,
                                 size_t npaths, kk_deid_prepared *out);

/**
 * Write a PNG for people to check defacing at a glance: for each head CT
 * or MR volume among paths (grouped as kk_deid_prepare() does), its skin
 * surface seen from the front, depth-shaded, 1 mm a pixel, before (left)
 * and after (right) the profile's `deface` (after = before when it is
 * off). The left column shows faces: protect the file as the inputs.
 * @param heads  may be NULL; how many heads were drawn
 * @return KK_OK; KK_EINVAL when there is no head volume; KK_EIO
 */
KK_API kk_status kk_deid_review_faces(kk_deid *deid, kk_ctx *ctx, const char *const *paths,
                                      size_t npaths, const char *png_path, size_t *heads);

/** A box of burned-in text, as kk_deid_explain() reports it. */
typedef struct kk_explain_box {
    int frame; /**< 0-based; -1 for every frame */
    int x, y, width, height;
    /** "rule" (a `pixel region`), "detected" (text detection) or
     *  "overlay" (overlay bits in the pixel data) */
    const char *source;
    /** "name", "id", "date", "accession", "institution", "text",
     *  "region" or "overlay" */
    const char *text_class;
    /** What OCR read, or NULL unless show_values was asked. */
    const char *text;
} kk_explain_box;

/** One attribute as kk_deid_explain() reports it. Borrowed for the call. */
typedef struct kk_explain_entry {
    /** Location, e.g. "(0008,1140)[0]>(0008,1155)". */
    const char *path;
    int depth;
    uint32_t tag;
    const char *keyword; /**< "" when unknown */
    char vr[3];
    kk_action action;
    /** The rule that decided it, "file:line", or "default". */
    const char *rule;
    /** Value before, or NULL unless show_values was asked. */
    const char *value;
    /** For burned-in text painted out of the pixels (tag is PixelData,
     *  action KK_ACTION_CLEAN): the box; NULL for an attribute. */
    const struct kk_explain_box *box;
} kk_explain_entry;

typedef void (*kk_explain_fn)(const kk_explain_entry *entry, void *payload);

/**
 * Report, for every attribute at every depth, the action the profile
 * decides and the rule behind it. Nothing is written.
 */
KK_API kk_status kk_deid_explain(kk_deid *deid, kk_ctx *ctx,
                                 const char *in_path, int show_values,
                                 kk_explain_fn fn, void *payload);

/** Options of kk_deid_review(). Initialize with KK_REVIEW_OPTIONS_INIT. */
typedef struct kk_review_options {
    unsigned version;
    /** Width of each thumbnail in pixels (0: 320). */
    int thumb_width;
    /** Objects per row of the sheet (0: 3). */
    int columns;
    /** Leave out the "before" thumbnails, which show the original pixels
     *  (and so any burned-in PHI). */
    int after_only;
    /** Called for each file that cannot be read, with the message (it
     *  names the file and the problem, never a value); may be NULL. */
    void (*on_error)(const char *path, const char *message, void *payload);
    void *payload;
} kk_review_options;

#define KK_REVIEW_OPTIONS_VERSION 1
#define KK_REVIEW_OPTIONS_INIT { KK_REVIEW_OPTIONS_VERSION, 0, 0, 0, NULL, NULL }

/**
 * Write a contact sheet (PNG) for people to check burned-in text removal
 * at a glance: for each file, its first frame before (with the boxes the
 * run would paint out drawn in red for detected text, yellow for region
 * rules) and after. Nothing else is written. A file that cannot be read
 * gets a crossed-out tile and is counted in *failed.
 * The sheet shows original pixels unless after_only is set: protect it as
 * you would the inputs.
 * @return KK_OK (even with failed files); KK_EIO when the sheet cannot be
 *         written; KK_EINVAL for no files
 */
KK_API kk_status kk_deid_review(kk_deid *deid, kk_ctx *ctx, const char *const *paths,
                                size_t npaths, const char *png_path,
                                const kk_review_options *opts, size_t *failed);

#ifdef __cplusplus
}
#endif
#endif /* KAKOU_DEID_H */
