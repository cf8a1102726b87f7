/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/deid/clean_cache.h - what the cleaner made already: identifier sets
 * by the list of identifiers they were made from, and the texts cleaned
 * with each set.
 *
 * The objects of one series carry the same names, IDs and dates and the
 * same descriptions, and cleaning them again costs more than reading the
 * object (issue 13: at most 0.1 ms per file). A cleaned text is a function
 * of the set and the text alone, so it is kept under the set it was
 * cleaned with and nowhere else: a text never comes back cleaned with
 * another object's identifiers. Bounded in entries and bytes; one cache
 * serves every thread (one lock). Not a public API.
 */
#ifndef KK_DEID_CLEAN_CACHE_H
#define KK_DEID_CLEAN_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/core.h"

typedef struct kk_clean_cache kk_clean_cache;
/** One identifier list: its set, and the texts cleaned with it. */
typedef struct kk_clean_entry kk_clean_entry;

/**
 * A cache that keeps at most max_entries lists. bind tells a set its entry
 * before any other thread can find it; drop frees a set the cache lets go
 * of. NULL when out of memory.
 */
kk_clean_cache *kk_clean_cache__new(int max_entries, void (*bind)(void *set, kk_clean_entry *e),
                                    void (*drop)(void *set));
void kk_clean_cache__free(kk_clean_cache *c);

/**
 * The entry of the list (len bytes), with a reference the caller gives
 * back with kk_clean_cache__release; NULL when no entry has it.
 */
kk_clean_entry *kk_clean_cache__find(kk_clean_cache *c, const void *list, size_t len);
/**
 * Add set, made from list, and return its entry with a reference. When
 * another thread added the same list meanwhile, set is dropped and that
 * entry returned. NULL (set not taken) when out of memory or every entry
 * is in use.
 */
kk_clean_entry *kk_clean_cache__add(kk_clean_cache *c, const void *list, size_t len, void *set);
void *kk_clean_cache__set(const kk_clean_entry *e);
void kk_clean_cache__release(kk_clean_cache *c, kk_clean_entry *e);

/**
 * The text in cleaned with e's set, appended to out; *changed as the
 * cleaner said. false when it is not kept.
 */
bool kk_clean_cache__text(kk_clean_cache *c, kk_clean_entry *e, const char *in, size_t len,
                          kk_buf *out, bool *changed);
/** Keep what in became (out, outlen; ignored when !changed). */
void kk_clean_cache__put_text(kk_clean_cache *c, kk_clean_entry *e, const char *in, size_t len,
                              const char *out, size_t outlen, bool changed);

/** How many lists and texts are kept (tests, reports). */
void kk_clean_cache__count(kk_clean_cache *c, int *lists, int *texts);

#endif /* KK_DEID_CLEAN_CACHE_H */
