/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/deid/versions.c - kk_version_libraries(): the versions of the
 * libraries kakou runs with (DCMTK, libsodium, SQLite), as they report
 * themselves at run time. Here rather than in lib/core because it asks
 * lib/dicom, and the engine is the room that sits above all three.
 */
#include <stdio.h>

#include <sodium.h>
#include <sqlite3.h>

#include "core/core.h"
#include "dicom/dicom.h"

const char *kk_version_libraries(void)
{
    static char text[512];
    if (!text[0])
        snprintf(text, sizeof text, "%s\nlibsodium %s\nSQLite %s\n", kk_dcm__library_version(),
                 sodium_version_string(), sqlite3_libversion());
    return text;
}
