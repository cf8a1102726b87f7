/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/ocr_tesseract.c - Tesseract on candidate lines (see ocr.h).
 *
 * Page segmentation mode 7 (one line): the detector has already found the
 * line, and Tesseract's own layout analysis finds nothing on a raw
 * ultrasound frame. The resolution is set (300 dpi) so Tesseract does not
 * guess it and warn. The LSTM engine only: the legacy one is not in the
 * Debian models.
 *
 * Debian's Tesseract is built with OpenMP and starts a team of threads
 * per LSTM step: on a line-sized image that costs more than it saves
 * (measured: 3x the CPU time, most of it spinning), and kakou runs one
 * engine per thread anyway. kk_ocr__new therefore makes every OpenMP
 * parallel region in the process inactive (omp_set_max_active_levels(0)),
 * looked up at run time so kakou does not link libgomp itself.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include <tesseract/capi.h>

#include "pixel/ocr.h"

struct kk_ocr {
    TessBaseAPI *api[2];
};

static const char *const lang_names[2] = { "eng", "jpn" };

static TessBaseAPI *start(const char *datapath, const char *lang)
{
    TessBaseAPI *api = TessBaseAPICreate();
    if (!api)
        return NULL;
    /* set before Init so its own start-up chatter is silenced too */
    char *names[] = { "debug_file" };
    char *values[] = { "/dev/null" };
    if (TessBaseAPIInit4(api, datapath, lang, OEM_LSTM_ONLY, NULL, 0, names, values, 1, 0) != 0) {
        TessBaseAPIDelete(api);
        return NULL;
    }
    TessBaseAPISetPageSegMode(api, PSM_SINGLE_LINE);
    TessBaseAPISetVariable(api, "user_defined_dpi", "300");
    return api;
}

static void openmp_single_thread(void)
{
    void *sym = dlsym(RTLD_DEFAULT, "omp_set_max_active_levels");
    if (sym) {
        void (*set_levels)(int);
        memcpy(&set_levels, &sym, sizeof set_levels);
        set_levels(0);
    }
}

kk_status kk_ocr__new(kk_ocr **out, kk_ctx *ctx, const char *datapath)
{
    openmp_single_thread();
    *out = NULL;
    kk_ocr *o = kk__calloc(1, sizeof *o);
    if (!o)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    for (int i = 0; i < 2; i++) {
        o->api[i] = start(datapath, lang_names[i]);
        if (!o->api[i]) {
            kk_ocr__free(o);
            return kk__fail(ctx, KK_ENOTFOUND,
                            "cannot load Tesseract traineddata '%s' (install tesseract-ocr-%s "
                            "or set TESSDATA_PREFIX)",
                            lang_names[i], lang_names[i]);
        }
    }
    *out = o;
    return KK_OK;
}

void kk_ocr__free(kk_ocr *o)
{
    if (!o)
        return;
    for (int i = 0; i < 2; i++)
        if (o->api[i]) {
            TessBaseAPIEnd(o->api[i]);
            TessBaseAPIDelete(o->api[i]);
        }
    free(o);
}

/* Copy at most cap-1 bytes of UTF-8, never cutting a character. */
static void copy_utf8(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

kk_status kk_ocr__line(kk_ocr *o, kk_ctx *ctx, kk_ocr_lang lang, const uint8_t *img, int w, int h,
                       kk_ocr_word **words, size_t *n, float *mean_conf)
{
    *words = NULL;
    *n = 0;
    *mean_conf = 0;
    if (!o || !img || w <= 0 || h <= 0 || (lang != KK_OCR_ENG && lang != KK_OCR_JPN))
        return kk__fail(ctx, KK_EINVAL, "OCR: bad line image");
    TessBaseAPI *api = o->api[lang];
    TessBaseAPISetImage(api, img, w, h, 1, w);
    TessBaseAPISetSourceResolution(api, 300);
    if (TessBaseAPIRecognize(api, NULL) != 0) {
        TessBaseAPIClear(api);
        return KK_OK; /* nothing recognisable: the caller treats it as unread */
    }
    kk_status st = KK_OK;
    size_t cap = 0, cnt = 0;
    kk_ocr_word *arr = NULL;
    double sum = 0;
    TessResultIterator *it = TessBaseAPIGetIterator(api);
    if (it) {
        const TessPageIterator *pit = TessResultIteratorGetPageIterator(it);
        do {
            char *t = TessResultIteratorGetUTF8Text(it, RIL_WORD);
            if (!t)
                continue;
            if (t[0]) {
                if (cnt == cap) {
                    size_t nc = cap ? 2 * cap : 8;
                    kk_ocr_word *na = kk__realloc(arr, nc * sizeof *na);
                    if (!na) {
                        TessDeleteText(t);
                        st = kk__fail(ctx, KK_ENOMEM, "out of memory");
                        break;
                    }
                    arr = na;
                    cap = nc;
                }
                kk_ocr_word *wd = &arr[cnt++];
                int l = 0, tp = 0, r = 0, b = 0;
                TessPageIteratorBoundingBox(pit, RIL_WORD, &l, &tp, &r, &b);
                wd->x = l;
                wd->y = tp;
                wd->w = r - l;
                wd->h = b - tp;
                wd->conf = TessResultIteratorConfidence(it, RIL_WORD);
                copy_utf8(wd->text, sizeof wd->text, t);
                sum += wd->conf;
            }
            TessDeleteText(t);
        } while (TessResultIteratorNext(it, RIL_WORD));
        TessResultIteratorDelete(it);
    }
    TessBaseAPIClear(api);
    if (st != KK_OK) {
        free(arr);
        return st;
    }
    *words = arr;
    *n = cnt;
    *mean_conf = cnt ? (float)(sum / (double)cnt) : 0.0f;
    return KK_OK;
}
