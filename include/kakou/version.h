/* SPDX-License-Identifier: Apache-2.0 */
/*
 * include/kakou/version.h - the version of libkakou: numbers a host can
 * test at compile time, and kk_version()/kk_version_number() to learn at
 * run time which library it was actually linked with.
 *
 * This header is the one place the version is written: the Makefile reads
 * the numbers below for the soname, the file names and kakou.pc.
 *
 * The soname rule. The shared library is libkakou.so.KK_SOVERSION.
 *  - KK_SOVERSION goes up by one when, and only when, a release breaks
 *    the ABI: a KK_API function removed or its prototype changed, a
 *    public struct's layout or an enum member's value changed, or a
 *    documented behaviour changed so that an old caller goes wrong. From
 *    1.0 on, KK_VERSION_MAJOR goes up with it (and KK_SOVERSION equals it).
 *  - A release that only adds (a function, an enum member at the end, a
 *    field at the end of an options struct that carries a version) keeps
 *    the soname and bumps KK_VERSION_MINOR; bug fixes bump
 *    KK_VERSION_PATCH.
 *  - While KK_VERSION_MAJOR is 0 the API is still settling: breaking
 *    changes may come in a minor release, but each still bumps
 *    KK_SOVERSION, so a host linked against libkakou.so.0 never loads an
 *    incompatible library.
 */
#ifndef KAKOU_VERSION_H
#define KAKOU_VERSION_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KK_VERSION_MAJOR 0
#define KK_VERSION_MINOR 1
#define KK_VERSION_PATCH 0
/** The number in the soname, libkakou.so.KK_SOVERSION (rule above). */
#define KK_SOVERSION 0

#define KK__VERSION_STR2(x) #x
#define KK__VERSION_STR(x) KK__VERSION_STR2(x)
/** "MAJOR.MINOR.PATCH" */
#define KK_VERSION_STRING                                                     \
    KK__VERSION_STR(KK_VERSION_MAJOR) "." KK__VERSION_STR(KK_VERSION_MINOR) "." \
    KK__VERSION_STR(KK_VERSION_PATCH)

/** One number that orders versions: MAJOR * 10000 + MINOR * 100 + PATCH
 *  (0.1.0 is 100), for `#if KK_VERSION_NUMBER >= KK_VERSION_CHECK(0, 2, 0)`. */
#define KK_VERSION_CHECK(major, minor, patch) ((major) * 10000 + (minor) * 100 + (patch))
#define KK_VERSION_NUMBER KK_VERSION_CHECK(KK_VERSION_MAJOR, KK_VERSION_MINOR, KK_VERSION_PATCH)

/** The version of the library running, "MAJOR.MINOR.PATCH". Static. */
KK_API const char *kk_version(void);

/**
 * The KK_VERSION_NUMBER of the library running, which may be newer than
 * the header a host was compiled with (same soname, later minor).
 */
KK_API int kk_version_number(void);

/**
 * Versions of the libraries kakou runs with, one "name version" per line
 * (DCMTK, libsodium, SQLite, ...). Borrowed, static.
 */
KK_API const char *kk_version_libraries(void);

#ifdef __cplusplus
}
#endif
#endif /* KAKOU_VERSION_H */
