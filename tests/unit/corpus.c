/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/corpus.c - see corpus.h.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "corpus.h"

void kk_test_corpus_load(kk_test_corpus *c)
{
    const char *shared = getenv("SHARED");
    c->nfiles = 0;
    snprintf(c->dir, sizeof c->dir, "%s/corpus", shared && *shared ? shared : "../shared");
    char mf[1100];
    snprintf(mf, sizeof mf, "%s/MANIFEST.tsv", c->dir);
    FILE *fp = fopen(mf, "r");
    if (!fp)
        return;
    char line[8192];
    bool header = true;
    while (fgets(line, sizeof line, fp) && c->nfiles < KK_TEST_CORPUS_MAX) {
        char *tab = strchr(line, '\t');
        if (header || !tab) {
            header = false;
            continue;
        }
        c->files[c->nfiles++] = kk__strndup(line, (size_t)(tab - line));
    }
    fclose(fp);
}

void kk_test_corpus_free(kk_test_corpus *c)
{
    for (int i = 0; i < c->nfiles; i++)
        kk_free(c->files[i]);
    c->nfiles = 0;
}
