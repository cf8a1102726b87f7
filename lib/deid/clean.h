/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/deid/clean.h - the clean (C) action for text: remove the object's own
 * identifiers and anything that identifies anyone from a descriptive value
 * (R16, R17, R22, issue 13): names (Japanese by morphological analysis and
 * cue words, romaji and English by titles and roles), addresses, postal
 * codes, IDs, individual identification codes, dates, phone numbers and
 * e-mail addresses. Clinical text around them stays.
 *
 * Works on UTF-8 (lib/text/charset.c decodes first), folded for matching
 * (lib/text/normalize.h: width, case, kana, romaji spellings), so an
 * identifier is found whatever its script or width, and only its own bytes
 * of the original text are replaced. The cleaner's patterns are compiled
 * once per run and only read afterwards; its MeCab model loads on first
 * use, and its cache of sets and cleaned texts (clean_cache.h) is locked:
 * one cleaner serves every thread. Not a public API.
 */
#ifndef KK_DEID_CLEAN_H
#define KK_DEID_CLEAN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/core.h"

typedef struct kk_cleaner kk_cleaner;
struct kk_profile;

/** A cleaner with the defaults: addresses go whole, no allowlist. */
kk_status kk_clean__new(kk_cleaner **out, kk_ctx *ctx);
/**
 * A cleaner configured by the profile's parameters:
 *   clean.address  none (default: the whole address goes) or municipality
 *                  (prefecture and municipality stay, R17 pseudonymized);
 *   clean.allow    tokens (comma or space separated) that look like IDs but
 *                  are kept (e.g. a protocol code).
 */
kk_status kk_clean__new_for(kk_cleaner **out, kk_ctx *ctx, const struct kk_profile *profile);
void kk_clean__free(kk_cleaner *cl);

/** Milliseconds MeCab took to load (0 when it never loaded). */
double kk_clean__morph_load_ms(const kk_cleaner *cl);

/** Where each string of an array is, by hash: slots hold index + 1 (0 is
 *  empty), a power of two of them, at most half full. */
typedef struct kk_strindex {
    uint32_t *slots;
    size_t nslots;
} kk_strindex;

/** The identifiers of one object, folded (normalize.h), with the reading
 *  keys of its names. */
typedef struct kk_idset {
    char **items;
    size_t *lens;
    int n, cap;
    char **keys; /* romaji/kana reading keys of name components */
    int nkeys, capkeys;
    /* name components in kanji, whose readings (kana, romaji) are added
     * from the dictionary when a text first needs them; the set belongs
     * to one object, cleaned on one thread */
    char **kanji;
    int nkanji, capkanji;
    bool readings_done;
    bool no_readings; /* while adding a PN that spells its names itself */
    /* DA values already spelled out: an object repeats its study date in
     * several attributes, and each spelling costs a fold and a search */
    int32_t dates[8];
    int ndates;
    /* the cleaner's cache entry of a set from kk_clean__ids(), which
     * keeps the texts cleaned with it; NULL for a set of the caller's */
    struct kk_clean_entry *entry;
    /* items and keys by hash: an object may hold 100,000 IDs or names
     * in one value */
    kk_strindex item_index, key_index;
} kk_idset;

#define KK_IDSET_INIT { NULL, NULL, 0, 0, NULL, 0, 0, NULL, 0, 0, false, false, { 0 }, 0, NULL, \
                        { NULL, 0 }, { NULL, 0 } }

/** Add a PN value: every component of every group, each group whole, and
 *  the readings in every script. */
void kk_idset__add_name(kk_idset *ids, const char *utf8, size_t len);
/** Add an ID-like value (whole, and each backslash-separated value). */
void kk_idset__add_id(kk_idset *ids, const char *utf8, size_t len);
/** Add a DA value (YYYYMMDD) in every spelling a text may use, Japanese
 *  era forms included. */
void kk_idset__add_date(kk_idset *ids, const char *da, size_t len);
void kk_idset__free(kk_idset *ids);

/**
 * Add one identifier of an object to list, in the order the object holds
 * them: kind 'N' a PN value, 'I' an ID-like value (UTF-8), 'D' a DA or DT
 * value (only its date counts). Equal lists make equal sets.
 */
void kk_idlist__add(kk_buf *list, char kind, const char *s, size_t len);

/**
 * The identifier set made from list (kk_idlist__add), readings included:
 * the one an earlier object with the same list made, or a new one the
 * cleaner keeps for the next. Texts cleaned with it are kept with it, so
 * the objects of a series clean each description once. Read-only; give it
 * back with kk_clean__release_ids. NULL: out of memory.
 */
const kk_idset *kk_clean__ids(const kk_cleaner *cl, const char *list, size_t len);
void kk_clean__release_ids(const kk_cleaner *cl, const kk_idset *ids);
/** How many identifier lists and cleaned texts the cleaner keeps. */
void kk_clean__cached(const kk_cleaner *cl, int *lists, int *texts);

/**
 * Clean text: every match becomes "***". out receives the result, always
 * valid UTF-8 when the input is.
 * @return true when something was removed
 */
bool kk_clean__text(const kk_cleaner *cl, const kk_idset *ids, const char *in, size_t len,
                    kk_buf *out);

/**
 * The same detector, without rewriting: true when text holds something the
 * cleaner would remove (verify's second opinion).
 */
bool kk_clean__finds(const kk_cleaner *cl, const kk_idset *ids, const char *in, size_t len);

/** Digits of an own ID this long or longer, written as a number (IS, DS),
 *  are the ID: shorter ones are counts any object has (StudyID 1). */
#define KK_ID_NUMBER_MIN 6

/** Is a value of numbers (IS, DS; backslash-separated) one of the
 *  object's own IDs, whole (SeriesNumber 84736251 when PatientID is
 *  84736251)? */
bool kk_clean__number_is_id(const kk_idset *ids, const char *in, size_t len);

/**
 * Whether text holds one of the object's own identifiers (a name component
 * in any script or reading, an ID, a date spelling), and nothing else of
 * the detector: for values that are kept, not cleaned (codes, CS, AE),
 * where a pattern would take clinical words for names.
 */
bool kk_clean__holds_ids(const kk_idset *ids, const char *in, size_t len);

#endif /* KK_DEID_CLEAN_H */
