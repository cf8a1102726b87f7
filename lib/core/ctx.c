/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/core/ctx.c - the error context, status texts, allocation wrapper and
 * the growable buffer. No global state but the optional fault-injection
 * counter of test builds.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"

struct kk_ctx {
    kk_status status;
    char message[1024];
};

kk_ctx *kk_ctx_new(void)
{
    return calloc(1, sizeof(kk_ctx));
}

void kk_ctx_free(kk_ctx *ctx)
{
    free(ctx);
}

const char *kk_error_message(const kk_ctx *ctx)
{
    return ctx ? ctx->message : "";
}

kk_status kk_error_code(const kk_ctx *ctx)
{
    return ctx ? ctx->status : KK_OK;
}

void kk_error_clear(kk_ctx *ctx)
{
    if (ctx) {
        ctx->status = KK_OK;
        ctx->message[0] = '\0';
    }
}

kk_status kk__vfail(kk_ctx *ctx, kk_status status, const char *fmt,
                    va_list ap)
{
    if (ctx) {
        ctx->status = status;
        vsnprintf(ctx->message, sizeof ctx->message, fmt, ap);
    }
    return status;
}

kk_status kk__fail(kk_ctx *ctx, kk_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kk__vfail(ctx, status, fmt, ap);
    va_end(ap);
    return status;
}

const char *kk_status_str(kk_status status)
{
    switch (status) {
    case KK_OK: return "success";
    case KK_ENOMEM: return "out of memory";
    case KK_EINVAL: return "invalid argument";
    case KK_ENOTFOUND: return "not found";
    case KK_ESYNTAX: return "syntax error";
    case KK_ENOTDICOM: return "not a valid DICOM file";
    case KK_EIO: return "input/output error";
    case KK_EKEY: return "key error";
    case KK_ESTORE: return "store error";
    case KK_EINTERNAL: return "internal error";
    case KK_ELIMIT: return "resource limit exceeded";
    case KK_EEXISTS: return "already exists";
    case KK_ESKIPPED: return "input skipped";
    case KK_EUNSUPPORTED: return "not supported";
    }
    return "unknown status";
}

void kk_free(void *ptr)
{
    free(ptr);
}

#ifdef KK_FAULT_INJECTION
/* Test builds only: fail the Nth allocation (KK_FAIL_ALLOC=N). */
static long kk_alloc_countdown = -1;
static long kk_alloc_injected; /* failures injected so far */
static int kk_alloc_should_fail(void)
{
    if (kk_alloc_countdown < 0) {
        const char *e = getenv("KK_FAIL_ALLOC");
        kk_alloc_countdown = e ? atol(e) : 0;
        if (kk_alloc_countdown <= 0)
            kk_alloc_countdown = 0x7fffffffL;
    }
    if (--kk_alloc_countdown != 0)
        return 0;
    kk_alloc_injected++;
    return 1;
}

long kk__alloc_failures_injected(void)
{
    return kk_alloc_injected;
}
#define KK_ALLOC_FAILS() kk_alloc_should_fail()
#else
#define KK_ALLOC_FAILS() 0
#endif

void *kk__malloc(size_t n)
{
    return KK_ALLOC_FAILS() ? NULL : malloc(n ? n : 1);
}

void *kk__calloc(size_t n, size_t size)
{
    return KK_ALLOC_FAILS() ? NULL : calloc(n ? n : 1, size ? size : 1);
}

void *kk__realloc(void *p, size_t n)
{
    return KK_ALLOC_FAILS() ? NULL : realloc(p, n ? n : 1);
}

char *kk__strndup(const char *s, size_t n)
{
    char *d = kk__malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

const char *kk__file_kind(unsigned mode)
{
    mode_t m = (mode_t)mode;
    return S_ISFIFO(m) ? "a FIFO (named pipe)" : S_ISSOCK(m) ? "a socket"
         : S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device"
         : S_ISDIR(m) ? "a folder" : S_ISLNK(m) ? "a symbolic link" : "a special file";
}

char *kk__strdup(const char *s)
{
    return kk__strndup(s, strlen(s));
}

static bool kk_buf_reserve(kk_buf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (b->len + extra + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *d = kk__realloc(b->data, cap);
    if (!d) {
        b->failed = true;
        return false;
    }
    b->data = d;
    b->cap = cap;
    return true;
}

void kk__buf_add(kk_buf *b, const void *p, size_t n)
{
    if (!kk_buf_reserve(b, n))
        return;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void kk__buf_adds(kk_buf *b, const char *s)
{
    kk__buf_add(b, s, strlen(s));
}

void kk__buf_addc(kk_buf *b, char c)
{
    kk__buf_add(b, &c, 1);
}

void kk__buf_printf(kk_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !kk_buf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void kk__buf_free(kk_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}

char *kk__buf_detach(kk_buf *b)
{
    char *d = b->data;
    if (!d)
        d = kk__strdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
    return d;
}

bool kk__write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}
