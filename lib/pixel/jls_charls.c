/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/jls_charls.c - JPEG-LS frames through CharLS 2.x's C API.
 * Decoding only: outputs are written back by DCMTK's encoder, whose
 * streams CharLS reads too. CharLS keeps no global state and prints
 * nothing; its error texts are generic (no content).
 *
 * libcharls.so.2 is opened with dlopen(RTLD_LOCAL), never linked: it
 * exports the CharLS 1.x names (JpegLsDecode, JpegLsEncode, ...) that
 * DCMTK's own libdcmtkcharls exports too, with other structures behind
 * them. Linked, it would take DCMTK's calls and smash its stack; opened
 * locally, only the charls_* functions looked up here reach it.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <charls/charls.h>

#include "core/core.h"
#include "pixel/jls.h"

#define CHARLS_SONAME "libcharls.so.2"

#define CHARLS_FUNCS(X)                                                                           \
    X(charls_jpegls_decoder_create)                                                               \
    X(charls_jpegls_decoder_destroy)                                                              \
    X(charls_jpegls_decoder_set_source_buffer)                                                    \
    X(charls_jpegls_decoder_read_header)                                                          \
    X(charls_jpegls_decoder_get_frame_info)                                                       \
    X(charls_jpegls_decoder_get_interleave_mode)                                                  \
    X(charls_jpegls_decoder_get_color_transformation)                                             \
    X(charls_jpegls_decoder_get_destination_size)                                                 \
    X(charls_jpegls_decoder_decode_to_buffer)                                                     \
    X(charls_get_error_message)

static struct {
#define X(f) __typeof__(&f) f;
    CHARLS_FUNCS(X)
#undef X
} cl;
static bool cl_ok;
static pthread_once_t cl_once = PTHREAD_ONCE_INIT;

/* The handle is kept for the life of the process: frames keep coming. */
static void cl_load(void)
{
    void *h = dlopen(CHARLS_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return;
#define X(f)                                                                                      \
    if (!(*(void **)&cl.f = dlsym(h, #f)))                                                        \
        return;
    CHARLS_FUNCS(X)
#undef X
    cl_ok = true;
}

kk_status kk_jls__decode(const uint8_t *buf, size_t len, kk_jls_frame *out, const char **why)
{
    memset(out, 0, sizeof *out);
    *why = "";
    pthread_once(&cl_once, cl_load);
    if (!cl_ok) {
        *why = "DCMTK's JPEG-LS decoder failed and CharLS (" CHARLS_SONAME ") is not installed";
        return KK_EUNSUPPORTED;
    }
    kk_status st = KK_EUNSUPPORTED;
    uint8_t *raw = NULL;
    charls_jpegls_decoder *dec = cl.charls_jpegls_decoder_create();
    if (!dec)
        return KK_ENOMEM;
    charls_frame_info fi;
    charls_interleave_mode ilv = CHARLS_INTERLEAVE_MODE_NONE;
    charls_color_transformation ct = CHARLS_COLOR_TRANSFORMATION_NONE;
    size_t need = 0;
    charls_jpegls_errc e = cl.charls_jpegls_decoder_set_source_buffer(dec, buf, len);
    if (!e)
        e = cl.charls_jpegls_decoder_read_header(dec);
    if (!e)
        e = cl.charls_jpegls_decoder_get_frame_info(dec, &fi);
    if (!e)
        e = cl.charls_jpegls_decoder_get_interleave_mode(dec, &ilv);
    if (!e)
        e = cl.charls_jpegls_decoder_get_color_transformation(dec, &ct);
    if (!e)
        e = cl.charls_jpegls_decoder_get_destination_size(dec, 0, &need);
    if (e) {
        *why = cl.charls_get_error_message(e);
        goto out;
    }
    /* HP colour transforms are outside DICOM's JPEG-LS (PS3.5 A.4.3) */
    if (ct != CHARLS_COLOR_TRANSFORMATION_NONE) {
        *why = "the JPEG-LS stream uses a colour transformation";
        goto out;
    }
    if (fi.bits_per_sample < 2 || fi.bits_per_sample > 16 || fi.component_count < 1 ||
        fi.component_count > 4) {
        *why = "the JPEG-LS stream has an unsupported precision or component count";
        goto out;
    }
    if (!(raw = kk__malloc(need ? need : 1))) {
        st = KK_ENOMEM;
        goto out;
    }
    if ((e = cl.charls_jpegls_decoder_decode_to_buffer(dec, raw, need, 0))) {
        *why = cl.charls_get_error_message(e);
        goto out;
    }
    size_t w = fi.width, h = fi.height, nc = (size_t)fi.component_count, px = w * h;
    bool wide = fi.bits_per_sample > 8;
    if (need < px * nc * (wide ? 2 : 1)) {
        *why = "the JPEG-LS stream is shorter than its frame header says";
        goto out;
    }
    if (!(out->data = kk__malloc(px * nc * sizeof(int32_t)))) {
        st = KK_ENOMEM;
        goto out;
    }
    /* CharLS gives planes one after another for interleave mode NONE and
     * pixel-interleaved samples for LINE and SAMPLE */
    for (size_t i = 0; i < px; i++)
        for (size_t c = 0; c < nc; c++) {
            size_t from = ilv == CHARLS_INTERLEAVE_MODE_NONE ? c * px + i : i * nc + c;
            uint16_t v;
            if (wide)
                memcpy(&v, raw + 2 * from, 2);
            else
                v = raw[from];
            out->data[i * nc + c] = v;
        }
    out->width = (int)w;
    out->height = (int)h;
    out->ncomp = (int)nc;
    out->prec = fi.bits_per_sample;
    st = KK_OK;
out:
    kk_free(raw);
    cl.charls_jpegls_decoder_destroy(dec);
    return st;
}
