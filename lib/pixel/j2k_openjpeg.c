/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/j2k_openjpeg.c - JPEG 2000 frames through OpenJPEG 2.5, on
 * memory streams. Decoding accepts a raw J2K codestream or a JP2 file;
 * encoding writes a raw codestream, reversible (lossless), one quality
 * layer. OpenJPEG's messages are dropped: they may describe the content.
 * No global state.
 */
#include <limits.h>
#include <string.h>

#include <openjpeg.h>

#include "core/core.h"
#include "pixel/j2k.h"

/* --- memory streams ------------------------------------------------- */

typedef struct mem {
    uint8_t *p;
    size_t len, cap, pos;
    bool failed;
} mem;

static OPJ_SIZE_T mem_read(void *buf, OPJ_SIZE_T n, void *user)
{
    mem *m = user;
    if (m->pos >= m->len)
        return (OPJ_SIZE_T)-1;
    if (n > m->len - m->pos)
        n = m->len - m->pos;
    memcpy(buf, m->p + m->pos, n);
    m->pos += n;
    return n;
}

static OPJ_SIZE_T mem_write(void *buf, OPJ_SIZE_T n, void *user)
{
    mem *m = user;
    if (m->pos + n > m->cap) {
        size_t cap = m->cap ? m->cap : 65536;
        while (cap < m->pos + n)
            cap *= 2;
        uint8_t *p = kk__realloc(m->p, cap);
        if (!p) {
            m->failed = true;
            return (OPJ_SIZE_T)-1;
        }
        m->p = p;
        m->cap = cap;
    }
    memcpy(m->p + m->pos, buf, n);
    m->pos += n;
    if (m->pos > m->len)
        m->len = m->pos;
    return n;
}

static OPJ_OFF_T mem_skip(OPJ_OFF_T n, void *user)
{
    mem *m = user;
    if (n < 0 && (size_t)(-n) > m->pos)
        return -1;
    m->pos = (size_t)((OPJ_OFF_T)m->pos + n);
    return n;
}

static OPJ_BOOL mem_seek(OPJ_OFF_T n, void *user)
{
    mem *m = user;
    if (n < 0)
        return OPJ_FALSE;
    m->pos = (size_t)n;
    return OPJ_TRUE;
}

static opj_stream_t *mem_stream(mem *m, bool input)
{
    opj_stream_t *s = opj_stream_create(OPJ_J2K_STREAM_CHUNK_SIZE, input ? OPJ_TRUE : OPJ_FALSE);
    if (!s)
        return NULL;
    opj_stream_set_user_data(s, m, NULL);
    if (input) {
        opj_stream_set_user_data_length(s, m->len);
        opj_stream_set_read_function(s, mem_read);
    } else {
        opj_stream_set_write_function(s, mem_write);
    }
    opj_stream_set_skip_function(s, mem_skip);
    opj_stream_set_seek_function(s, mem_seek);
    return s;
}

static void quiet(const char *msg, void *user)
{
    (void)msg;
    (void)user;
}

static void silence(opj_codec_t *c)
{
    opj_set_info_handler(c, quiet, NULL);
    opj_set_warning_handler(c, quiet, NULL);
    opj_set_error_handler(c, quiet, NULL);
}

/* --- decode --------------------------------------------------------- */

kk_status kk_j2k__decode(const uint8_t *buf, size_t len, kk_j2k_frame *out, const char **why)
{
    static const uint8_t jp2_magic[12] = { 0, 0, 0, 0x0C, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A };
    memset(out, 0, sizeof *out);
    *why = "";
    OPJ_CODEC_FORMAT fmt;
    if (len >= 12 && memcmp(buf, jp2_magic, 12) == 0)
        fmt = OPJ_CODEC_JP2;
    else if (len >= 4 && buf[0] == 0xFF && buf[1] == 0x4F && buf[2] == 0xFF && buf[3] == 0x51)
        fmt = OPJ_CODEC_J2K;
    else {
        *why = "no JPEG 2000 codestream in the frame";
        return KK_EUNSUPPORTED;
    }
    kk_status st = KK_EUNSUPPORTED;
    mem m = { (uint8_t *)(uintptr_t)buf, len, len, 0, false };
    opj_stream_t *s = mem_stream(&m, true);
    opj_codec_t *c = opj_create_decompress(fmt);
    opj_image_t *im = NULL;
    opj_codestream_info_v2_t *info = NULL;
    opj_dparameters_t p;
    if (!s || !c) {
        st = KK_ENOMEM;
        goto out;
    }
    silence(c);
    opj_set_default_decoder_parameters(&p);
    if (!opj_setup_decoder(c, &p) || !opj_read_header(s, c, &im) || !opj_decode(c, s, im) ||
        !opj_end_decompress(c, s)) {
        *why = "the JPEG 2000 codestream cannot be decoded";
        goto out;
    }
    info = opj_get_cstr_info(c);
    if (im->numcomps != 1 && im->numcomps != 3) {
        *why = "JPEG 2000 frames of other than 1 or 3 components are not supported";
        goto out;
    }
    int w = (int)im->comps[0].w, h = (int)im->comps[0].h, prec = (int)im->comps[0].prec;
    bool sgnd = im->comps[0].sgnd != 0;
    for (unsigned i = 0; i < im->numcomps; i++) {
        const opj_image_comp_t *cp = &im->comps[i];
        if (cp->dx != 1 || cp->dy != 1 || (int)cp->w != w || (int)cp->h != h ||
            (int)cp->prec != prec || (cp->sgnd != 0) != sgnd || !cp->data) {
            *why = "JPEG 2000 components are subsampled or differ in size or precision";
            goto out;
        }
    }
    if (w <= 0 || h <= 0 || prec < 1 || prec > 31) {
        *why = "JPEG 2000 frame of an unsupported size or precision";
        goto out;
    }
    size_t n = (size_t)w * (size_t)h, nc = im->numcomps;
    out->data = kk__malloc(n * nc * sizeof(int32_t));
    if (!out->data) {
        st = KK_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < nc; k++)
            out->data[i * nc + k] = im->comps[k].data[i];
    out->width = w;
    out->height = h;
    out->ncomp = (int)nc;
    out->prec = prec;
    out->sgnd = sgnd;
    out->mct = nc == 3 && info && info->m_default_tile_info.mct != 0;
    st = KK_OK;
out:
    if (info)
        opj_destroy_cstr_info(&info);
    if (im)
        opj_image_destroy(im);
    if (c)
        opj_destroy_codec(c);
    if (s)
        opj_stream_destroy(s);
    return st;
}

/* --- encode --------------------------------------------------------- */

kk_status kk_j2k__encode(const int32_t *samples, int width, int height, int ncomp, int prec,
                         bool sgnd, uint8_t **out, size_t *outlen, const char **why)
{
    *out = NULL;
    *outlen = 0;
    *why = "";
    if ((ncomp != 1 && ncomp != 3) || width <= 0 || height <= 0 || prec < 1 || prec > 30) {
        *why = "the pixels cannot be written as JPEG 2000 (components or precision)";
        return KK_EUNSUPPORTED;
    }
    opj_image_cmptparm_t parm[3];
    memset(parm, 0, sizeof parm);
    for (int k = 0; k < ncomp; k++) {
        parm[k].dx = parm[k].dy = 1;
        parm[k].w = (OPJ_UINT32)width;
        parm[k].h = (OPJ_UINT32)height;
        parm[k].prec = (OPJ_UINT32)prec;
        parm[k].sgnd = sgnd ? 1 : 0;
    }
    kk_status st = KK_EUNSUPPORTED;
    mem m = { NULL, 0, 0, 0, false };
    opj_stream_t *s = NULL;
    opj_codec_t *c = NULL;
    opj_image_t *im = opj_image_create((OPJ_UINT32)ncomp, parm,
                                       ncomp == 3 ? OPJ_CLRSPC_SRGB : OPJ_CLRSPC_GRAY);
    if (!im) {
        st = KK_ENOMEM;
        goto out;
    }
    im->x0 = im->y0 = 0;
    im->x1 = (OPJ_UINT32)width;
    im->y1 = (OPJ_UINT32)height;
    size_t n = (size_t)width * (size_t)height;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < ncomp; k++)
            im->comps[k].data[i] = samples[i * (size_t)ncomp + (size_t)k];

    opj_cparameters_t p;
    opj_set_default_encoder_parameters(&p);
    p.tcp_numlayers = 1;
    p.tcp_rates[0] = 0; /* lossless */
    p.cp_disto_alloc = 1;
    p.irreversible = 0;
    p.tcp_mct = ncomp == 3 ? 1 : 0;
    /* each resolution level halves the smaller side: keep it at least 1 */
    int lv = 1, side = width < height ? width : height;
    while (lv < 6 && (side >> lv) > 0)
        lv++;
    p.numresolution = lv;
    c = opj_create_compress(OPJ_CODEC_J2K);
    s = mem_stream(&m, false);
    if (!c || !s) {
        st = KK_ENOMEM;
        goto out;
    }
    silence(c);
    if (!opj_setup_encoder(c, &p, im) || !opj_start_compress(c, im, s) || !opj_encode(c, s) ||
        !opj_end_compress(c, s) || m.failed) {
        st = m.failed ? KK_ENOMEM : KK_EUNSUPPORTED;
        *why = "the JPEG 2000 encoder failed";
        goto out;
    }
    if (m.len % 2) { /* fragments are even; a byte after EOC is ignored */
        uint8_t zero = 0;
        mem_write(&zero, 1, &m);
        if (m.failed) {
            st = KK_ENOMEM;
            goto out;
        }
    }
    *out = m.p;
    *outlen = m.len;
    m.p = NULL;
    st = KK_OK;
out:
    if (s)
        opj_stream_destroy(s);
    if (c)
        opj_destroy_codec(c);
    if (im)
        opj_image_destroy(im);
    kk_free(m.p);
    return st;
}
