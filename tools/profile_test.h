/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tools/profile_test.h - `kakou profile test` and `kakou profile diff`:
 * regression tests of profiles over case files, and the difference
 * between two profiles over files. Outcomes are the per-attribute lines
 * of `kakou explain` (path, keyword, VR, action, rule), never values.
 */
#ifndef KK_TOOLS_PROFILE_TEST_H
#define KK_TOOLS_PROFILE_TEST_H

#include <stdbool.h>

#include "cli.h"

int kk_profile_test(const kk_cli *cli, const char *profile, const char *cases,
                    const char **options, bool update);
int kk_profile_diff(const kk_cli *cli, const char *a, const char *b, const char **options,
                    int nfiles, char **files);

#endif /* KK_TOOLS_PROFILE_TEST_H */
