/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/dict/sr_concepts.h - Table E.3.4-1: actions for SR content items by
 * concept name, for the Clean Structured Content Option. Not a public API.
 */
#ifndef KK_DICT_SR_CONCEPTS_H
#define KK_DICT_SR_CONCEPTS_H

#include <stdbool.h>

/**
 * The action ("X", "D", "K", "C" or "X/D") for a content item whose
 * Concept Name Code is (scheme, value), with the given options enabled
 * (NULL-terminated names); NULL when the table does not list it.
 * value_type (e.g. "TEXT") picks between rows of one code; may be NULL.
 */
const char *kk_dict__sr_concept_action(const char *scheme, const char *value,
                                      const char *value_type, const char *const *enabled);

#endif /* KK_DICT_SR_CONCEPTS_H */
