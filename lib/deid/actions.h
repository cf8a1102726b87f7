/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/deid/actions.h - what each action does to one element's value.
 *
 * kk_action__apply() is the one place an action meets a value: keep,
 * empty, dummy, clean, uid, set and the keyed actions (pseudonym, date
 * shift, generalizers). Sequences and removal are the walker's business
 * (deid.c). A new action is a new case here and a word in the profile
 * language (profile.c); nothing else changes.
 * Not a public API.
 */
#ifndef KK_DEID_ACTIONS_H
#define KK_DEID_ACTIONS_H

#include "deid/clean.h"
#include "dicom/dicom.h"
#include "kakou/deid.h"
#include "profile/profile_internal.h"

/* What an action may use while it runs on one object. */
typedef struct kk_action_env {
    kk_ctx *ctx;
    const kk_key *key;
    kk_store *store;            /* NULL when no correspondence is kept */
    const kk_cleaner *cleaner;
    const kk_idset *ids;        /* the object's own identifiers */
    const kk_profile *profile;
    const char *path;           /* input, for messages */
    char *patient, *issuer;     /* original PatientID and issuer, or NULL */
    const char *charset;        /* raw (0008,0005) in force, and its length */
    size_t charset_len;
} kk_action_env;

/**
 * Apply action a of rule r to the non-sequence element *e of item.
 * @return KK_OK; KK_EINVAL when the action cannot apply to this value (the
 *         caller removes the element); another status on a real failure
 */
kk_status kk_action__apply(kk_action_env *env, kk_dcm_item *item, kk_dcm_elem **e,
                           uint32_t tag, uint16_t vr, kk_action a, const kk_rule *r);

/** A dummy value for a VR (non-zero length, valid for the VR), or NULL for
 *  VRs that take none. */
const char *kk_action__dummy(uint16_t vr);



/** The keyed and generalizing actions (actions_keyed.c). */
kk_status kk_action__apply_keyed(kk_action_env *env, kk_dcm_item *item, kk_dcm_elem **e,
                                 uint32_t tag, uint16_t vr, kk_action a, const kk_rule *r);
#endif /* KK_DEID_ACTIONS_H */
