/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/loader.c - load the pixel module (kakou-pixel.so,
 * lib/pixel/module.h) the first time burned-in text work is asked for, and
 * forward to it. Part of libkakou.so and of the kakou command only:
 * libkakou.a links lib/pixel directly instead.
 *
 * Where the module is looked for, first found wins:
 *  (1) $KAKOU_PIXEL_MODULE, a file;
 *  (2) beside the object holding this code (the kakou binary or
 *      libkakou.so), then in its kakou/ subfolder, then in ../lib/kakou/
 *      (an installed bin/kakou), then in .. (a build folder's tests);
 *  (3) KK_PIXEL_MODULE_DIR, the install folder given at build time.
 */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "pixel/module.h"

#ifndef KK_PIXEL_MODULE_DIR
#define KK_PIXEL_MODULE_DIR "/usr/local/lib/kakou"
#endif
#define MODULE_FILE "kakou-pixel.so"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const kk_pixel_module *module;
static char why[PATH_MAX + 200];

static bool try_load(const char *path)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        /* a module that exists but fails to load is worth reporting */
        if (e && !strstr(e, "No such file"))
            snprintf(why, sizeof why, "%s", e);
        return false;
    }
    const kk_pixel_module *m = dlsym(h, KK_PIXEL_MODULE_SYMBOL);
    if (!m || m->abi != KK_PIXEL_MODULE_ABI || strcmp(m->version, KK_VERSION_STRING) != 0) {
        snprintf(why, sizeof why, "'%s' is not the pixel module of kakou %s", path, KK_VERSION_STRING);
        dlclose(h);
        return false;
    }
    module = m; /* kept loaded for the life of the process */
    return true;
}

static void load(void)
{
    const char *env = getenv("KAKOU_PIXEL_MODULE");
    if (env && *env) {
        if (!try_load(env) && !why[0])
            snprintf(why, sizeof why, "KAKOU_PIXEL_MODULE names '%s', which cannot be loaded", env);
        return;
    }
    Dl_info info;
    if (dladdr((void *)load, &info) && info.dli_fname) {
        char self[PATH_MAX];
        if (realpath(info.dli_fname, self)) {
            char *slash = strrchr(self, '/');
            if (slash) {
                *slash = '\0';
                static const char *const rel[] = { "", "/kakou", "/../lib/kakou", "/.." };
                for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
                    char path[PATH_MAX + 64];
                    snprintf(path, sizeof path, "%s%s/" MODULE_FILE, self, rel[i]);
                    if (try_load(path))
                        return;
                }
            }
        }
    }
    try_load(KK_PIXEL_MODULE_DIR "/" MODULE_FILE);
}

static kk_status need(kk_ctx *ctx)
{
    pthread_once(&once, load);
    if (module)
        return KK_OK;
    return kk__fail(ctx, KK_EUNSUPPORTED, "burned-in text needs the pixel module " MODULE_FILE
                    " (OpenCV, Tesseract, image codecs), which is not installed%s%s; install "
                    "it in " KK_PIXEL_MODULE_DIR " or name it with KAKOU_PIXEL_MODULE",
                    why[0] ? ": " : "", why);
}

kk_status kk_pixel__pool_new(kk_pixel_pool **out, kk_ctx *ctx, const kk_profile *profile)
{
    *out = NULL;
    kk_status st = need(ctx);
    return st == KK_OK ? module->pool_new(out, ctx, profile) : st;
}

void kk_pixel__pool_free(kk_pixel_pool *pool)
{
    if (pool && module)
        module->pool_free(pool);
}

kk_status kk_pixel__apply(const kk_pixel_plan *plan, kk_ctx *ctx, kk_pixel_pool *pool, kk_dcm *dcm,
                          const char *path, bool write, kk_pixel_outcome *out, kk_image **keep)
{
    kk_status st = need(ctx);
    return st == KK_OK ? module->apply(plan, ctx, pool, dcm, path, write, out, keep) : st;
}

kk_status kk_pixel__residue(kk_ctx *ctx, kk_pixel_pool *pool, kk_dcm *dcm, const char *path,
                            kk_pixel_residue_fn fn, void *payload)
{
    kk_status st = need(ctx);
    return st == KK_OK ? module->residue(ctx, pool, dcm, path, fn, payload) : st;
}

kk_status kk_image__decode(kk_image **out, kk_ctx *ctx, kk_dcm *dcm)
{
    *out = NULL;
    kk_status st = need(ctx);
    return st == KK_OK ? module->image_decode(out, ctx, dcm) : st;
}

void kk_image__free(kk_image *img)
{
    if (img && module)
        module->image_free(img);
}

kk_status kk_sheet__new(kk_sheet **out, kk_ctx *ctx, int thumb_width, int columns, int after_only)
{
    *out = NULL;
    kk_status st = need(ctx);
    return st == KK_OK ? module->sheet_new(out, ctx, thumb_width, columns, after_only) : st;
}

void kk_sheet__free(kk_sheet *sheet)
{
    if (sheet && module)
        module->sheet_free(sheet);
}

kk_status kk_pixel__sheet_add(kk_sheet *sheet, kk_ctx *ctx, size_t index, const kk_image *before,
                              const kk_image *after, const kk_pixel_outcome *out)
{
    kk_status st = need(ctx);
    return st == KK_OK ? module->sheet_add(sheet, ctx, index, before, after, out) : st;
}

kk_status kk_pixel__sheet_write(kk_sheet *sheet, kk_ctx *ctx, const char *png_path)
{
    kk_status st = need(ctx);
    return st == KK_OK ? module->sheet_write(sheet, ctx, png_path) : st;
}

kk_status kk_pixel__read_frames(kk_ctx *ctx, kk_dcm *dcm, const char *path, double slope,
                                double intercept, float **out, int *frames, int *rows,
                                int *columns)
{
    *out = NULL;
    kk_status st = need(ctx);
    return st == KK_OK ? module->read_frames(ctx, dcm, path, slope, intercept, out, frames, rows,
                                             columns)
                       : st;
}

kk_status kk_pixel__write_patch(kk_ctx *ctx, kk_dcm *dcm, const char *path,
                                const kk_pixel_patch *patch)
{
    kk_status st = need(ctx);
    return st == KK_OK ? module->write_patch(ctx, dcm, path, patch) : st;
}

kk_status kk_pixel__write_gray_png(kk_ctx *ctx, const char *path, const uint8_t *gray, int w,
                                   int h)
{
    kk_status st = need(ctx);
    return st == KK_OK ? module->write_gray_png(ctx, path, gray, w, h) : st;
}
