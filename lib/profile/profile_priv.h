/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/profile/profile_priv.h - what the files of lib/profile share and no
 * other room sees: struct kk_profile, the statements as read, the storage
 * pool and the exact-tag map (static inline, so matching stays inlined),
 * the parser's state, and the calls between the room's files:
 *   profile.c          load and free: parse, settle options, compile, digest
 *   profile_parse.c    the lexer and parser (statements, selectors, actions)
 *   profile_compile.c  rules as read -> lookup tables, options settled
 *   profile_match.c    the lookups the engine makes, and the getters
 *   profile_show.c     `profile show` and the digest, which print the same
 *   profile_iod.c      IOD Types of attributes (the generated table)
 * lib/profile/profile_internal.h is the room's face to the other rooms.
 * Not a public API.
 */
#ifndef KK_PROFILE_PRIV_H
#define KK_PROFILE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "dict/dict.h"
#include "profile/profile_internal.h"

#define KK_MAX_DEPTH 16
#define KK_MAX_OPTIONS 64
#define KK_MAX_TOKENS 32

struct kk_builtin_profile { const char *name; const char *text; };
extern const struct kk_builtin_profile kk_builtin_profiles[];

typedef enum sel_kind { SEL_TAG, SEL_PRIVATE, SEL_MASK, SEL_PRIVATE_CLASS, SEL_VR } sel_kind;

/* A rule as read, before options are settled. */
typedef struct raw_rule {
    sel_kind kind;
    uint32_t tag, mask;      /* SEL_TAG, SEL_MASK (mask: 1 bits must match) */
    uint16_t group;          /* SEL_PRIVATE */
    uint8_t low;             /* SEL_PRIVATE: element low byte */
    uint8_t nvrs;            /* SEL_VR */
    const char *creator;     /* SEL_PRIVATE */
    const uint16_t *vrs;     /* SEL_VR: nvrs of them */
    uint64_t when_on, when_off;
    kk_rule rule;
} raw_rule;

typedef struct raw_add {
    uint32_t tag;
    const char *value;
    uint64_t when_on, when_off;
} raw_add;

/* A `pixel` statement as read. */
typedef struct raw_pixel {
    kk_pixel_rule rule;
    uint64_t when_on, when_off;
} raw_pixel;

typedef struct option_decl {
    const char *name, *code, *meaning;
    size_t name_len;
} option_decl;

/* Open-addressing map from a 64-bit key to a rule. */
typedef struct rule_map {
    uint64_t *keys;
    const kk_rule **vals;
    size_t cap, n;
} rule_map;

typedef struct priv_rule {
    uint16_t group;
    uint8_t low;
    const char *creator;
    const kk_rule *rule;
} priv_rule;

typedef struct mask_rule {
    uint32_t tag, mask;
    const kk_rule *rule;
} mask_rule;

/* The strings and small arrays a profile keeps (names, selectors,
 * origins, arguments, conditions) live in blocks freed with the profile:
 * a load keeps thousands of them, and a malloc and a free for each cost
 * as much as the parsing did. */
typedef struct pool_block {
    struct pool_block *next;
    size_t used, cap;
    max_align_t data[]; /* cap bytes */
} pool_block;

struct kk_profile {
    const char *name, *version, *description;
    kk_profile_code own_code;
    bool has_code;
    /* everything read */
    raw_rule *raw;
    int nraw, capraw;
    raw_add *raw_adds;
    int nraw_adds, capraw_adds;
    option_decl options[KK_MAX_OPTIONS];
    int noptions;
    const char *conflicts[KK_MAX_OPTIONS][2];
    int nconflicts;
    struct enable_stmt { const char *name; uint64_t on, off; } *enables;
    int nenable;
    raw_pixel *raw_pixels;
    int nraw_pixels;
    const char **pixel_allow; /* NULL-terminated */
    int npixel_allow;
    kk_pixel_rule *pixel_rules; /* compiled: options settled */
    int npixel_rules;
    const char **params; /* key, value pairs */
    int nparams;
    pool_block *pool;
    const char *default_origin;
    kk_action default_action;
    /* compiled */
    uint64_t enabled;
    const char **enabled_names;
    rule_map exact;
    priv_rule *priv;
    int npriv;
    mask_rule *masks;
    int nmasks;
    const kk_rule *private_class;
    const kk_rule *vr_rules[26 * 26];
    kk_rule default_rule;
    kk_profile_add *adds;
    int nadds;
    kk_profile_code *codes;
    int ncodes;
    char digest[65];
    bool uses[KK_ACTION__COUNT];
};

/* --- small helpers -------------------------------------------------- */

/* n bytes of the profile's storage, aligned to align (a power of two);
 * NULL when memory runs out. */
static inline void *pool_alloc(kk_profile *p, size_t n, size_t align)
{
    pool_block *b = p->pool;
    size_t at = b ? (b->used + align - 1) & ~(align - 1) : 0;
    if (!b || at > b->cap || n > b->cap - at) {
        /* blocks double up to 256 KiB; a bigger request gets its own */
        size_t cap = b ? b->cap * 2 : 16384;
        if (cap > 262144)
            cap = 262144;
        if (cap < n)
            cap = n;
        b = kk__malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = p->pool;
        b->cap = cap;
        p->pool = b;
        at = 0;
    }
    b->used = at + n;
    return (char *)b->data + at;
}

/* An array of n zeroed elements of size bytes. */
static inline void *pool_calloc(kk_profile *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *a = pool_alloc(p, n * size, _Alignof(max_align_t));
    if (a)
        memset(a, 0, n * size);
    return a;
}

static inline char *pool_strndup(kk_profile *p, const char *s, size_t n)
{
    char *d = pool_alloc(p, n + 1, 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static inline char *pool_strdup(kk_profile *p, const char *s)
{
    return pool_strndup(p, s, strlen(s));
}

static inline uint64_t hash64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static inline bool map_put(rule_map *m, uint64_t key, const kk_rule *val)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        uint64_t *keys = kk__malloc(cap * sizeof *keys);
        const kk_rule **vals = kk__calloc(cap, sizeof *vals);
        if (!keys || !vals) {
            free(keys);
            free(vals);
            return false;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->vals[i])
                continue;
            size_t j = hash64(m->keys[i]) & (cap - 1);
            while (vals[j])
                j = (j + 1) & (cap - 1);
            keys[j] = m->keys[i];
            vals[j] = m->vals[i];
        }
        free(m->keys);
        free(m->vals);
        m->keys = keys;
        m->vals = vals;
        m->cap = cap;
    }
    size_t j = hash64(key) & (m->cap - 1);
    while (m->vals[j] && m->keys[j] != key)
        j = (j + 1) & (m->cap - 1);
    if (!m->vals[j])
        m->n++;
    m->keys[j] = key;
    m->vals[j] = val;
    return true;
}

static inline const kk_rule *map_get(const rule_map *m, uint64_t key)
{
    if (!m->cap)
        return NULL;
    size_t j = hash64(key) & (m->cap - 1);
    while (m->vals[j]) {
        if (m->keys[j] == key)
            return m->vals[j];
        j = (j + 1) & (m->cap - 1);
    }
    return NULL;
}

static inline int vr_index(uint16_t vr)
{
    int a = (vr >> 8) - 'A', b = (vr & 0xff) - 'A';
    if (a < 0 || a >= 26 || b < 0 || b >= 26)
        return -1;
    return a * 26 + b;
}

/* The option named by the n bytes at name, or -1. */
static inline int option_index(const kk_profile *p, const char *name, size_t n)
{
    for (int i = 0; i < p->noptions; i++)
        if (p->options[i].name_len == n && memcmp(p->options[i].name, name, n) == 0)
            return i;
    return -1;
}

static inline bool holds(const kk_profile *p, uint64_t on, uint64_t off)
{
    return (p->enabled & on) == on && (p->enabled & off) == 0;
}

/* --- between the room's files --------------------------------------- */

typedef struct parse_state {
    kk_profile *p;
    kk_ctx *ctx;
    const char *file;   /* for messages */
    size_t file_len;
    int line;
    const char *stack[KK_MAX_DEPTH + 1]; /* canonical paths being read */
    int depth;
    /* text given in memory (kk_profile__load_text): it has no folder, so
     * it may reference built-in profiles only */
    bool memory;
} parse_state;

/* Parse text (its name for messages is file) into ps->p: the statements
 * as read, includes and inherits followed (profile_parse.c). */
kk_status kk_profile__parse_text(parse_state *ps, const char *text, const char *file);
/* The whole file at path, NUL-terminated (free()). */
kk_status kk_profile__read_file(kk_ctx *ctx, const char *path, char **out);
/* The statements as read, options settled, into lookup tables
 * (profile_compile.c). */
kk_status kk_profile__compile(kk_profile *p, kk_ctx *ctx);
/* p->digest: SHA-256 of what `profile show` prints, origins left out
 * (profile_show.c). */
kk_status kk_profile__digest(kk_profile *p, kk_ctx *ctx);

#endif /* KK_PROFILE_PRIV_H */
