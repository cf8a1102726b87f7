/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/deid/charset_fix.h - make every text value of an object valid in its
 * declared character set before it is de-identified (R21).
 *
 * Mis-declared text (Shift_JIS under ISO_IR 100 or none, UTF-8 under
 * ISO_IR 100, raw Shift_JIS in an ISO 2022 object) is decoded as what it
 * is, and the whole object is then written in ISO_IR 192; a value that
 * decodes as nothing is removed (fail closed). Objects whose text is valid
 * as declared are left as they are: one pass of byte checks. Not a public
 * API.
 */
#ifndef KK_DEID_CHARSET_FIX_H
#define KK_DEID_CHARSET_FIX_H

#include "core/core.h"
#include "dicom/dicom.h"

typedef struct kk_charset_fix {
    int converted; /* 1 when the object was re-encoded as ISO_IR 192 */
    int removed;   /* values removed because they decode as nothing */
} kk_charset_fix;

/** Check the data set ds; convert it when needed. */
kk_status kk_deid__fix_charsets(kk_dcm_item *ds, kk_ctx *ctx, kk_charset_fix *out);

#endif /* KK_DEID_CHARSET_FIX_H */
