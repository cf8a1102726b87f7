/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/module.c - the one symbol kakou-pixel.so exports: its table of
 * entry points (module.h). Built into the module only, not into
 * libkakou.a, where the core calls lib/pixel directly.
 */
#include "core/core.h"
#include "pixel/module.h"

__attribute__((visibility("default"))) const kk_pixel_module kk_pixel_module_v1 = {
    KK_PIXEL_MODULE_ABI,
    KK_VERSION_STRING,
    kk_pixel__pool_new,
    kk_pixel__pool_free,
    kk_pixel__apply,
    kk_image__decode,
    kk_pixel__residue,
    kk_image__free,
    kk_sheet__new,
    kk_sheet__free,
    kk_pixel__sheet_add,
    kk_pixel__sheet_write,
    kk_pixel__read_frames,
    kk_pixel__write_patch,
    kk_pixel__write_gray_png,
};
