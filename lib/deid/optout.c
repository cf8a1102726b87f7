/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/deid/optout.c - the opt-out list (提供停止, R26): patients whose
 * data must not be processed at all.
 *
 * The list holds normalised (PatientID, issuer) pairs, sorted for binary
 * search. Normalising: surrounding ASCII white space and U+3000 trimmed;
 * full-width digits, Latin letters and hyphen (U+FF10-FF19, U+FF21-FF3A,
 * U+FF41-FF5A, U+FF0D) folded to ASCII, as NFKC would; nothing else is
 * changed (IDs stay case-sensitive). A file matches when its
 * normalised PatientID equals an entry's and the entry has no issuer or
 * the same normalised IssuerOfPatientID.
 *
 * IMPLEMENTATION-OF: R26 (opt-out applied before processing).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "deid/release_internal.h"
#include "dicom/dicom.h"
#include "kakou/release.h"

struct kk_optout {
    char **ids;     /* "ID\x1fISSUER" or "ID\x1f" , sorted */
    size_t n;
};

char *kk_release__normalize_id(const char *s, size_t n)
{
    char *out = kk__malloc(n + 1);
    size_t o = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n;) {
        const unsigned char *u = (const unsigned char *)s + i;
        if (n - i >= 3 && u[0] == 0xEF && (u[1] == 0xBC || u[1] == 0xBD)) {
            unsigned cp = 0xFF00u | ((unsigned)(u[1] & 0x03) << 6) | (u[2] & 0x3Fu);
            if ((cp >= 0xFF10 && cp <= 0xFF19) || (cp >= 0xFF21 && cp <= 0xFF3A) ||
                (cp >= 0xFF41 && cp <= 0xFF5A) || cp == 0xFF0D) {
                out[o++] = (char)(cp - 0xFF00 + 0x20);
                i += 3;
                continue;
            }
        }
        out[o++] = s[i++];
    }
    out[o] = '\0';
    /* trim ASCII white space and U+3000 (E3 80 80) at both ends */
    size_t b = 0, e = o;
    for (;;) {
        if (b < e && (out[b] == ' ' || out[b] == '\t' || out[b] == '\r' || out[b] == '\n'))
            b++;
        else if (e - b >= 3 && (unsigned char)out[b] == 0xE3 &&
                 (unsigned char)out[b + 1] == 0x80 && (unsigned char)out[b + 2] == 0x80)
            b += 3;
        else
            break;
    }
    for (;;) {
        if (e > b && (out[e - 1] == ' ' || out[e - 1] == '\t' || out[e - 1] == '\r' ||
                      out[e - 1] == '\n' || out[e - 1] == '\0'))
            e--;
        else if (e - b >= 3 && (unsigned char)out[e - 3] == 0xE3 &&
                 (unsigned char)out[e - 2] == 0x80 && (unsigned char)out[e - 1] == 0x80)
            e -= 3;
        else
            break;
    }
    memmove(out, out + b, e - b);
    out[e - b] = '\0';
    return out;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void kk_optout_free(kk_optout *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        kk_free(l->ids[i]);
    kk_free(l->ids);
    kk_free(l);
}

size_t kk_optout_count(const kk_optout *l)
{
    return l ? l->n : 0;
}

static char *pair(const char *id, const char *issuer)
{
    kk_buf b = KK_BUF_INIT;
    kk__buf_printf(&b, "%s\x1f%s", id, issuer ? issuer : "");
    if (b.failed) {
        kk__buf_free(&b);
        return NULL;
    }
    return kk__buf_detach(&b);
}

kk_status kk_optout_load(kk_optout **out, kk_ctx *ctx, const char *path)
{
    kk_optout *l;
    char *line = NULL;
    size_t cap = 0, lineno = 0, ncap = 0;
    ssize_t len;
    kk_status st = KK_OK;
    FILE *fp;

    if (!out || !path)
        return kk__fail(ctx, KK_EINVAL, "no opt-out list given");
    *out = NULL;
    fp = fopen(path, "re");
    if (!fp)
        return kk__fail(ctx, KK_ENOTFOUND, "cannot read opt-out list '%s'", path);
    l = kk__calloc(1, sizeof *l);
    if (!l) {
        fclose(fp);
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    }
    while ((len = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        char *sep = strpbrk(line, "^\t");
        char *id = kk_release__normalize_id(line, sep ? (size_t)(sep - line) : (size_t)len);
        char *iss = sep ? kk_release__normalize_id(sep + 1, strlen(sep + 1)) : NULL;
        char *pr = NULL;
        if (!id || (sep && !iss)) {
            st = kk__fail(ctx, KK_ENOMEM, "out of memory");
        } else if (!*id || id[0] == '#') {
            if (*id == '\0' && sep)
                st = kk__fail(ctx, KK_EINVAL, "opt-out list '%s' line %zu: an issuer "
                              "without a PatientID", path, lineno);
        } else if (!(pr = pair(id, iss))) {
            st = kk__fail(ctx, KK_ENOMEM, "out of memory");
        } else {
            if (l->n == ncap) {
                size_t nc = ncap ? 2 * ncap : 64;
                char **v = kk__realloc(l->ids, nc * sizeof *v);
                if (!v) {
                    kk_free(pr);
                    pr = NULL;
                    st = kk__fail(ctx, KK_ENOMEM, "out of memory");
                } else {
                    l->ids = v;
                    ncap = nc;
                }
            }
            if (pr)
                l->ids[l->n++] = pr;
        }
        kk_free(id);
        kk_free(iss);
        if (st != KK_OK)
            break;
    }
    free(line);
    if (st == KK_OK && ferror(fp))
        st = kk__fail(ctx, KK_EIO, "cannot read opt-out list '%s'", path);
    fclose(fp);
    if (st != KK_OK) {
        kk_optout_free(l);
        return st;
    }
    qsort(l->ids, l->n, sizeof *l->ids, cmp_str);
    *out = l;
    return KK_OK;
}

static bool listed(const kk_optout *l, const char *id, const char *issuer)
{
    char *k = pair(id, issuer);
    bool hit = false;
    if (!k)
        return false;
    hit = bsearch(&k, l->ids, l->n, sizeof *l->ids, cmp_str) != NULL;
    kk_free(k);
    return hit;
}

int kk_optout_matches(const kk_optout *l, kk_ctx *ctx, const char *path)
{
    kk_release_ids ids;
    if (!l || !l->n)
        return 0;
    if (kk_release__read_ids(ctx, path, &ids) != KK_OK)
        return -1;
    int hit = ids.id && *ids.id &&
              (listed(l, ids.id, NULL) || (ids.issuer && *ids.issuer && listed(l, ids.id, ids.issuer)));
    kk_free(ids.id);
    kk_free(ids.issuer);
    return hit;
}
