/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/text/iconv_cache.h - iconv descriptors kept per thread. Opening one
 * per value made glibc load and unload its gconv modules (ISO8859-1.so,
 * EUC-JP.so, libJIS.so...) for every text element: dlopen and a dozen
 * system calls each time.
 */
#ifndef KK_TEXT_ICONV_CACHE_H
#define KK_TEXT_ICONV_CACHE_H

#include <iconv.h>

/** This thread's descriptor from from to to, in its initial state, or
 *  (iconv_t)-1 when iconv cannot convert between them. Never closed by
 *  the caller: it is closed when the thread ends. */
iconv_t kk_text__iconv(const char *to, const char *from);

#endif /* KK_TEXT_ICONV_CACHE_H */
