/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/profile/profile_internal.h - a loaded profile as the engine sees it:
 * compiled rules, looked up by tag, private creator, mask, class and VR.
 *
 * Options are fixed at load time, so every `when` condition is settled
 * then: each selector keeps only its winning rule (the last one in file
 * order, base profiles first, whose condition holds). Lookup order, most
 * specific first: exact tag or private creator + element, then masks, then
 * the `private` class, then VR classes, then the default.
 * Not a public API.
 */
#ifndef KK_PROFILE_INTERNAL_H
#define KK_PROFILE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kakou/deid.h"
#include "kakou/profile.h"

/* Compound codes of Table E.1-1a, resolved by IOD Type at apply time. */
typedef enum kk_compound {
    KK_COMPOUND_NONE = 0,
    KK_COMPOUND_XZ,
    KK_COMPOUND_XD,
    KK_COMPOUND_ZD,
    KK_COMPOUND_XZD,
    KK_COMPOUND_XZU
} kk_compound;

typedef struct kk_rule_arg {
    const char *key;   /* NULL for a bare value; owned by the profile */
    const char *value;
} kk_rule_arg;

typedef struct kk_rule {
    kk_action action;      /* when compound is KK_COMPOUND_NONE */
    kk_compound compound;
    kk_rule_arg *args;
    int nargs;
    const char *origin;    /* "file:line", owned by the profile */
    const char *selector;  /* as written, for `profile show` */
    const char *code;      /* action as written ("X/Z/D", "keep", ...) */
} kk_rule;

/* Where a match came from, for kakou explain. */
typedef enum kk_match_level {
    KK_MATCH_EXACT, KK_MATCH_PRIVATE, KK_MATCH_MASK, KK_MATCH_PRIVATE_CLASS,
    KK_MATCH_VR, KK_MATCH_DEFAULT
} kk_match_level;

/**
 * The rule for an attribute.
 * @param creator  Private Creator of a private element's block, or NULL
 * @param vr       the element's VR (KK_VR), used by VR classes
 */
const kk_rule *kk_profile__match(const kk_profile *p, uint32_t tag,
                                 uint16_t vr, const char *creator,
                                 kk_match_level *level);

/** A value of the rule's arguments: "key=value" or NULL. */
const char *kk_rule__arg(const kk_rule *r, const char *key);

/** Attributes to add to the top level after processing. */
typedef struct kk_profile_add {
    uint32_t tag;
    const char *value;
} kk_profile_add;
const kk_profile_add *kk_profile__adds(const kk_profile *p, int *n);

/** The profile's own CID 7050 code and the codes of enabled options. */
typedef struct kk_profile_code {
    const char *value;
    const char *meaning;
} kk_profile_code;
const kk_profile_code *kk_profile__codes(const kk_profile *p, int *n);

/** Names of the enabled options, NULL-terminated. */
const char *const *kk_profile__enabled(const kk_profile *p);

/** A `set NAME VALUE` parameter, or def. */
const char *kk_profile__param(const kk_profile *p, const char *name,
                              const char *def);

/** Rule with the given action or compound anywhere (e.g. keyed actions). */
bool kk_profile__uses(const kk_profile *p, kk_action action);

/** Every parameter as name, value pairs in the order set (later ones
 *  override earlier ones of the same name); *n counts strings. */
const char *const *kk_profile__params(const kk_profile *p, int *n);

/**
 * Load a profile from len bytes of text in memory (fuzzing, tests). name
 * stands for the file in messages ("NAME:LINE:COL: ..."). The text may
 * inherit or include built-in profiles only: it has no folder for
 * relative paths. Otherwise as kk_profile_load().
 */
kk_status kk_profile__load_text(kk_profile **out, kk_ctx *ctx, const char *text,
                                size_t len, const char *name,
                                const char *const *options);

/* --- burned-in text in the pixels (`pixel` statements) ---------------- */

typedef enum kk_pixel_mode {
    KK_PIXEL_MODE_OFF = 0,  /* no text detection (region rules still apply) */
    KK_PIXEL_MODE_PHI,      /* redact detected text that matches the object's identifiers */
    KK_PIXEL_MODE_ALL_TEXT  /* redact all detected text but the allowlisted */
} kk_pixel_mode;

/* A condition on an original header value: KEY=A|B (equal to one, case
 * and padding ignored), KEY!=A|B (none), KEY~A|B (contains one). A
 * multi-valued attribute (ImageType) holds when any value does. */
typedef struct kk_pixel_cond {
    uint32_t tag;
    char op; /* '=', '!', '~' */
    const char **values;
    int nvalues;
} kk_pixel_cond;

typedef enum kk_pixel_rule_kind { KK_PIXEL_RULE_MODE, KK_PIXEL_RULE_REGION } kk_pixel_rule_kind;

typedef struct kk_pixel_rule {
    kk_pixel_rule_kind kind;
    kk_pixel_mode mode;     /* KK_PIXEL_RULE_MODE */
    /* KK_PIXEL_RULE_REGION: x, y, w, h; in pixels, or in hundredths of a
     * percent of the columns (x, w) or rows (y, h) when bit i of pct is
     * set; a negative x or y counts from the right or bottom edge */
    int box[4];
    unsigned pct;
    const kk_pixel_cond *conds;
    int nconds;
    const char *origin; /* "file:line" */
} kk_pixel_rule;

/** The `pixel mode` and `pixel region` statements whose options hold, in
 *  file order (base profiles first): the last mode that matches wins;
 *  every region that matches applies. */
const kk_pixel_rule *kk_profile__pixel_rules(const kk_profile *p, int *n);
/** `pixel allow` patterns (POSIX extended regular expressions): text the
 *  all-text mode leaves alone. NULL-terminated. */
const char *const *kk_profile__pixel_allow(const kk_profile *p, int *n);

#endif /* KK_PROFILE_INTERNAL_H */
