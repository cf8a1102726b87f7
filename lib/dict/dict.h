/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/dict/dict.h - the DICOM data dictionary compiled into kakou, in
 * plain C: keyword and VR of a tag, tag of a keyword, and the raw table
 * for lib/dicom, which hands it to DCMTK.
 *
 * The table ($(BUILD)/gen/dcm_dict.inc) is written at build time by
 * scripts/gen_dcm_dict.cc from what DCMTK itself loads from its text
 * dictionary, so its answers are DCMTK's: kk_dict__tag_of_keyword() gives
 * what DcmTag::findTagFromName() gives over that dictionary (for the
 * keyword, else for "RETIRED_" + keyword). Nothing here starts DCMTK or
 * reads a file, so lib/profile can resolve keywords without it.
 * lib/dicom answers from this table too whenever the table is DCMTK's
 * dictionary (lib/dicom/dict_dcmtk.cc), and from DCMTK when a host loaded
 * another one.
 *
 * Also the packing of tags and VRs every room shares (KK_TAG, KK_VR).
 * Not a public API.
 */
#ifndef KK_DICT_H
#define KK_DICT_H

#include <stddef.h>
#include <stdint.h>

#include "kakou/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A VR as two characters packed: KK_VR('P','N'). */
#define KK_VR(a, b) ((uint16_t)(((unsigned)(a) << 8) | (unsigned)(b)))

#define KK_TAG(g, e) (((uint32_t)(g) << 16) | (uint32_t)(e))
#define KK_GROUP(t) ((uint16_t)((t) >> 16))
#define KK_ELEMENT(t) ((uint16_t)((t) & 0xffffu))

/** The keyword of a tag (PS3.6 spelling: no "RETIRED_"), "" if unknown.
 *  Static. */
const char *kk_dict__keyword(uint32_t tag);
/** The dictionary VR of a tag, 0 if unknown or not one plain VR (US or
 *  SS, OB or OW, ...). */
uint16_t kk_dict__vr(uint32_t tag);
/** The tag of a keyword (PS3.6 or DCMTK spelling), or of "gggg,eeee".
 *  @return KK_OK or KK_ENOTFOUND */
kk_status kk_dict__tag_of_keyword(const char *keyword, uint32_t *tag);

/* --- the raw table, for lib/dicom/dict_dcmtk.cc ------------------------ */

/* DcmDictRangeRestriction's values (dict_dcmtk.cc checks they still are) */
enum { KK_DICT_RANGE_UNSPECIFIED = 0, KK_DICT_RANGE_ODD = 1, KK_DICT_RANGE_EVEN = 2 };

#define KK_DICT_NONE UINT32_MAX

/* one DcmDictEntry, all of its fields; strings are offsets into the
 * table's strings (kk_dict__string()), KK_DICT_NONE for NULL */
typedef struct kk_dict_entry {
    uint16_t group, element, upper_group, upper_element;
    uint8_t group_range, element_range; /* KK_DICT_RANGE_* */
    uint8_t evr;                        /* DcmEVR, as the DCMTK built with */
    uint16_t vr;                        /* KK_VR of the VR's name; 0: not a plain VR */
    int16_t vm_min, vm_max;             /* DcmVariableVM (-1): n */
    uint32_t name, version, creator;
} kk_dict_entry;

/** Every entry, normal ones first (*nnormal of them), then repeating
 *  ones, in the order that rebuilds DCMTK's dictionary (gen_dcm_dict.cc);
 *  *n is the total. */
const kk_dict_entry *kk_dict__entries(size_t *n, size_t *nnormal);
/** A string of the table, or NULL for KK_DICT_NONE. Static. */
const char *kk_dict__string(uint32_t off);

/** IOD Type of tag in a Storage SOP Class, from the compiled-in table of
 *  profiles/reference/iod_types.tsv (lib/dict/iod.c): 1, 2 or 3 (absent;
 *  also for an unknown class or NULL). 1C counts as 1, 2C as 2. */
int kk_dict__iod_type(const char *sop_class_uid, uint32_t tag);

#ifdef __cplusplus
}
#endif
#endif /* KK_DICT_H */
