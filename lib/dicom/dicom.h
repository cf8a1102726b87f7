/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/dicom/dicom.h - the C face of the DCMTK adapter (dicom_dcmtk.cc):
 * load a DICOM file, walk its items and elements at any depth, read and
 * change values, and write it back in its original transfer syntax.
 *
 * kakou never parses DICOM itself: this is the only place that touches
 * DCMTK. (One exception, before DCMTK reads a file: a scan of element
 * headers that measures sequence nesting, since DCMTK's recursive reader
 * has no depth limit and a hostile file overflows the stack.) Values larger than the lazy threshold stay in the input file until
 * written, so pixel data that no action touches is copied byte for byte and
 * never held twice. String values are raw bytes in the object's declared
 * character set; lib/text/charset.c decodes them.
 * All handles are borrowed from their kk_dcm and die with it.
 * Not a public API.
 */
#ifndef KK_DICOM_H
#define KK_DICOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dict/dict.h" /* KK_TAG, KK_VR */
#include "kakou/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kk_dcm kk_dcm;           /* a loaded file */
typedef struct kk_dcm_item kk_dcm_item; /* a data set or sequence item */
typedef struct kk_dcm_elem kk_dcm_elem; /* an element (sequences too) */


/** Set up DCMTK once per process (logging off, dictionary complete).
 *  Every call into DCMTK comes after it. */
void kk_dcm__init(void);
/** The part of kk_dcm__init() that the lookups of dict_dcmtk.cc need
 *  when the compiled-in table is the dictionary: DCMTK's settings, and
 *  its dictionary created (not yet filled), so they do not wait for the
 *  table to be added to DCMTK's (a millisecond). */
void kk_dcm__init_settings(void);
/** Create DCMTK's dictionary and note whether it holds nothing but the
 *  skeleton (DCMDICTPATH=":" or /dev/null): then the compiled-in copy of DCMTK's
 *  own (dict_dcmtk.cc) is to be the dictionary. Called once, by
 *  kk_dcm__init_settings(), after logging is off. */
void kk_dcm__dict_create(void);
/** Add the compiled-in copy to DCMTK's dictionary when it is to be the
 *  dictionary. Called once, by kk_dcm__init(). */
void kk_dcm__dict_fill(void);
/** True when the compiled-in dictionary is the one in use. */
bool kk_dcm__dict_builtin(void);

/** Load a file. Values longer than lazy_threshold bytes are read when
 *  needed. Fails with KK_ENOTDICOM and a message naming path; with
 *  KK_ELIMIT when sequences nest deeper than 200 levels. */
kk_status kk_dcm__load(kk_dcm **out, kk_ctx *ctx, const char *path,
                       uint32_t lazy_threshold);
/** Parse DICOM bytes held in memory (fuzzing, gateways) as kk_dcm__load()
 *  parses a file; the bytes are copied (into a memfd). Messages name the
 *  input '<memory>'. */
kk_status kk_dcm__load_buffer(kk_dcm **out, kk_ctx *ctx, const void *data,
                              size_t len);
/** Called by kk_dcm__load_source() once the input is open and checked
 *  (a regular file) and before it is parsed: fd reads it (positioned
 *  reads only; never closed by the callee), size is its size. KK_OK goes
 *  on; any other status is returned, with the callee's message. */
typedef kk_status (*kk_dcm_source_fn)(void *payload, kk_ctx *ctx, int fd, uint64_t size);
/** kk_dcm__load(), with fn (may be NULL) shown the input first: the
 *  caller reads it once (its digest) through the very descriptor DCMTK
 *  then parses. */
kk_status kk_dcm__load_source(kk_dcm **out, kk_ctx *ctx, const char *path,
                              uint32_t lazy_threshold, kk_dcm_source_fn fn, void *payload);
void kk_dcm__free(kk_dcm *dcm);

kk_dcm_item *kk_dcm__dataset(kk_dcm *dcm);
kk_dcm_item *kk_dcm__meta(kk_dcm *dcm);
/** UID of the transfer syntax the file was read in; "" when unknown. */
const char *kk_dcm__transfer_syntax(kk_dcm *dcm);

/** The path dcm was loaded from, for messages. Borrowed. */
const char *kk_dcm__path(const kk_dcm *dcm);
/** The Image Pixel Module attributes (Type 1) a pixel decoder needs that
 *  dcm's data set lacks, for a message: "(0028,0103) PixelRepresentation",
 *  comma-separated; "" when none is missing (or there is no Pixel Data).
 *  Written into buf. */
const char *kk_dcm__missing_pixel_attrs(kk_dcm *dcm, char *buf, size_t cap);
/** DCMTK's condition (module, code) in DICOM terms, or NULL. */
const char *kk_dcm__condition_words(unsigned short module, unsigned short code);
/** The DCMTK DcmDataset behind dcm, for the other C++ adapters
 *  (lib/pixel) only. */
void *kk_dcm__dcmtk_dataset(kk_dcm *dcm);
/** True when the Pixel Data is in a transfer syntax DCMTK does not know
 *  and is carried over from the input byte for byte (it cannot be
 *  decoded or changed). */
bool kk_dcm__pixels_carried_raw(const kk_dcm *dcm);
/** True when the last kk_dcm__save() copied the Pixel Data element from
 *  the input file (nothing had changed it) instead of writing it through
 *  DCMTK: the bytes are the same either way, only the cost differs. */
bool kk_dcm__pixels_copied(const kk_dcm *dcm);
/** Write in transfer syntax uid from now on: the pixel data set must
 *  already be in that representation (lib/pixel re-encoded it). */
kk_status kk_dcm__set_transfer_syntax(kk_dcm *dcm, kk_ctx *ctx, const char *uid);

/**
 * Write the data set to path in the transfer syntax it was read in, with a
 * new File Meta Information (zero preamble, kakou's implementation class
 * UID and version name, Media Storage SOP Class/Instance UIDs from the data
 * set, no source AE title). Group lengths are dropped.
 */
kk_status kk_dcm__save(kk_dcm *dcm, kk_ctx *ctx, const char *path);
/** Every byte kk_dcm__save_sink() writes, in order. */
typedef void (*kk_dcm_sink_fn)(void *payload, const void *data, size_t len);
/** kk_dcm__save(), with every byte written to path also given to sink
 *  (hash while copying). src, when not NULL, holds the input's src_len
 *  bytes as read at load: the Pixel Data carried from the input is
 *  written from there, so what sink sees is what the file holds. */
kk_status kk_dcm__save_sink(kk_dcm *dcm, kk_ctx *ctx, const char *path, const void *src,
                            size_t src_len, kk_dcm_sink_fn sink, void *payload);
/** The same, appended to out (a kk_buf from core/core.h). */
struct kk_buf;
kk_status kk_dcm__save_buffer(kk_dcm *dcm, kk_ctx *ctx, struct kk_buf *out);

/* --- walking ---------------------------------------------------------- */

/** The element after prev in item, or the first when prev is NULL. */
kk_dcm_elem *kk_dcm__next(kk_dcm_item *item, kk_dcm_elem *prev);
/** Remove and delete e from item; returns the element that followed it. */
kk_dcm_elem *kk_dcm__remove(kk_dcm_item *item, kk_dcm_elem *e);
/** The direct child with this tag, or NULL. */
kk_dcm_elem *kk_dcm__find(kk_dcm_item *item, uint32_t tag);

uint32_t kk_dcm__tag(const kk_dcm_elem *e);
/** The VR as stored; see kk_dcm__dict_vr() for what the dictionary says. */
uint16_t kk_dcm__vr(const kk_dcm_elem *e);
/** Value length in bytes as read (0xFFFFFFFF for undefined). */
uint32_t kk_dcm__length(const kk_dcm_elem *e);
bool kk_dcm__is_sequence(const kk_dcm_elem *e);
/** Pixel Data stored encapsulated (fragments). */
bool kk_dcm__is_encapsulated(const kk_dcm_elem *e);

/** The item after prev in a sequence, or the first when prev is NULL. */
kk_dcm_item *kk_dcm__next_item(kk_dcm_elem *seq, kk_dcm_item *prev);
/** Remove and delete an item of a sequence; returns the item after it. */
kk_dcm_item *kk_dcm__remove_item(kk_dcm_elem *seq, kk_dcm_item *item);
/** Delete every item of a sequence. */
void kk_dcm__clear_items(kk_dcm_elem *seq);

/* --- values ----------------------------------------------------------- */

/**
 * Raw bytes of a string-VR element (no character set conversion, trailing
 * padding removed). *out is borrowed until the element changes; *out is
 * "" and *len 0 for an empty value.
 * @return KK_OK; KK_EINVAL when the VR is not a string VR
 */
kk_status kk_dcm__get_string(kk_dcm_elem *e, const char **out, size_t *len);

/**
 * Raw bytes of an OB or UN element (a private value whose VR is unknown).
 * *out is borrowed until the element changes; NULL and 0 when empty.
 * @return KK_OK; KK_EINVAL for any other VR
 */
kk_status kk_dcm__get_bytes(kk_dcm_elem *e, const unsigned char **out, size_t *len);

/** The value as text, as dcmdump would show it (binary VRs included);
 *  release with kk_free(). For --show-values only. */
char *kk_dcm__value_text(kk_dcm_elem *e);

/**
 * Replace the value with len bytes of s (a string in the element's VR; for
 * numeric binary VRs, decimal text such as "0"). An element stored as UN
 * or OB whose dictionary VR is a string VR is re-created with that VR.
 * The element handle may change: the new one is returned in *e.
 */
kk_status kk_dcm__set_string(kk_dcm_item *item, kk_dcm_elem **e, kk_ctx *ctx,
                             const char *s, size_t len);
/** Make the value zero length (a sequence loses all its items). */
kk_status kk_dcm__set_empty(kk_dcm_elem *e, kk_ctx *ctx);

/** Insert or replace a string element in item (VR from the dictionary). */
kk_status kk_dcm__put_string(kk_dcm_item *item, kk_ctx *ctx, uint32_t tag,
                             const char *s);
/** Append a new empty item to the sequence tag in item (creating the
 *  sequence); *out is the new item. */
kk_status kk_dcm__append_item(kk_dcm_item *item, kk_ctx *ctx, uint32_t tag,
                              kk_dcm_item **out);

/* --- dictionary ------------------------------------------------------- */

/** Keyword of a tag ("PatientName"), "" when unknown. Static storage. */
const char *kk_dcm__keyword(uint32_t tag);
/** The dictionary VR of a tag (for private tags: unknown), 0 if unknown. */
uint16_t kk_dcm__dict_vr(uint32_t tag);
/** True when DCMTK's table of the standard's UIDs (classes, transfer
 *  syntaxes, well-known frames of reference, coding schemes) names uid. */
bool kk_dcm__uid_is_standard(const char *uid);
/** Tag of a keyword. @return KK_OK or KK_ENOTFOUND */
kk_status kk_dcm__tag_of_keyword(const char *keyword, uint32_t *tag);
/** True when the VR holds text (AE AS CS DA DS DT IS LO LT PN SH ST TM UC
 *  UI UR UT). */
bool kk_dcm__vr_is_string(uint16_t vr);

/** "DCMTK 3.6.7" */
const char *kk_dcm__library_version(void);

#ifdef __cplusplus
}
#endif
#endif /* KK_DICOM_H */
