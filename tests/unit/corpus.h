/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/corpus.h - the public DICOM corpus for unit tests:
 * $SHARED/corpus (default ../shared/corpus) and the paths its MANIFEST.tsv
 * lists, relative to it.
 */
#ifndef KK_TEST_CORPUS_H
#define KK_TEST_CORPUS_H

#define KK_TEST_CORPUS_MAX 512

typedef struct kk_test_corpus {
    char dir[1024];
    char *files[KK_TEST_CORPUS_MAX];
    int nfiles;
} kk_test_corpus;

/* Fill c from the manifest; c->nfiles is 0 when there is none. */
void kk_test_corpus_load(kk_test_corpus *c);
void kk_test_corpus_free(kk_test_corpus *c);

#endif
