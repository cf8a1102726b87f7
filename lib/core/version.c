/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/core/version.c - kakou's version at run time (include/kakou/
 * version.h holds the numbers). The versions of the libraries kakou runs
 * with are lib/deid/versions.c's: the core sits below DCMTK's adapter.
 */
#include "core/core.h"

const char *kk_version(void)
{
    return KK_VERSION_STRING;
}

int kk_version_number(void)
{
    return KK_VERSION_NUMBER;
}
