/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/deid/clean.h - the clean (C) action for text: remove the object's own
 * identifiers and anything that looks like a name, ID, date, phone number,
 * e-mail address or card number from a descriptive value (R16, R22).
 *
 * Works on UTF-8 (lib/text/charset.c decodes first), so a name is found
 * whatever the object's encoding. The cleaner's patterns are compiled once
 * per run and only read afterwards: one cleaner serves every thread.
 * Not a public API.
 */
#ifndef KK_DEID_CLEAN_H
#define KK_DEID_CLEAN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/core.h"

typedef struct kk_cleaner kk_cleaner;

kk_status kk_clean__new(kk_cleaner **out, kk_ctx *ctx);
void kk_clean__free(kk_cleaner *cl);

/** The identifiers of one object, in UTF-8. */
typedef struct kk_idset {
    char **items;
    size_t *lens;
    int n, cap;
} kk_idset;

#define KK_IDSET_INIT { NULL, NULL, 0, 0 }

/** Add a PN value: every component of every group, and each group whole. */
void kk_idset__add_name(kk_idset *ids, const char *utf8, size_t len);
/** Add an ID-like value (whole, and each backslash-separated value). */
void kk_idset__add_id(kk_idset *ids, const char *utf8, size_t len);
/** Add a DA value (YYYYMMDD) in every spelling a text may use, Japanese
 *  era forms included. */
void kk_idset__add_date(kk_idset *ids, const char *da, size_t len);
void kk_idset__free(kk_idset *ids);

/**
 * Clean text: every match becomes "***". out receives the result.
 * @return true when something was removed
 */
bool kk_clean__text(const kk_cleaner *cl, const kk_idset *ids, const char *in, size_t len,
                    kk_buf *out);

#endif /* KK_DEID_CLEAN_H */
