/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/core/version.c - kakou's version at run time (include/kakou/
 * version.h holds the numbers), and the versions of the libraries kakou
 * runs with, as they report themselves at run time.
 */
#include <stdio.h>

#include <sodium.h>
#include <sqlite3.h>

#include "core/core.h"
#include "dicom/dicom.h"

const char *kk_version(void)
{
    return KK_VERSION_STRING;
}

int kk_version_number(void)
{
    return KK_VERSION_NUMBER;
}

const char *kk_version_libraries(void)
{
    static char text[512];
    if (!text[0])
        snprintf(text, sizeof text, "%s\nlibsodium %s\nSQLite %s\n", kk_dcm__library_version(),
                 sodium_version_string(), sqlite3_libversion());
    return text;
}
