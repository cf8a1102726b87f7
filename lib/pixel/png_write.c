/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/png_write.c - kk_pixel__png_write() (png_write.h). Atomic, so
 * a reader never sees half a PNG, and a failed write leaves nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <png.h>

#include "pixel/png_write.h"

kk_status kk_pixel__png_write(kk_ctx *ctx, const char *path, const uint8_t *px, int w, int h,
                              int channels)
{
    if (!path || !px || w <= 0 || h <= 0 || (channels != 1 && channels != 3))
        return kk__fail(ctx, KK_EINVAL, "kk_pixel__png_write: bad argument");
    size_t n = strlen(path);
    char *tmp = kk__malloc(n + 32);
    if (!tmp)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    snprintf(tmp, n + 32, "%s.tmp%ld", path, (long)getpid());
    FILE *fp = fopen(tmp, "wb");
    if (!fp) {
        kk_status st = kk__fail(ctx, KK_EIO, "cannot write '%s': %s", path, strerror(errno));
        free(tmp);
        return st;
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    volatile bool ok = png && info;
    if (ok && setjmp(png_jmpbuf(png)) == 0) {
        png_init_io(png, fp);
        png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8,
                     channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
        png_write_info(png, info);
        size_t stride = (size_t)w * (size_t)channels;
        for (int y = 0; y < h; y++)
            png_write_row(png, (png_const_bytep)(px + (size_t)y * stride));
        png_write_end(png, NULL);
    } else {
        ok = false;
    }
    png_destroy_write_struct(png ? &png : NULL, info ? &info : NULL);
    if (fclose(fp) != 0)
        ok = false;
    kk_status st = KK_OK;
    if (!ok || rename(tmp, path) != 0) {
        st = kk__fail(ctx, KK_EIO, "cannot write '%s': %s", path,
                      ok ? strerror(errno) : "PNG encoder failed");
        unlink(tmp);
    }
    free(tmp);
    return st;
}
