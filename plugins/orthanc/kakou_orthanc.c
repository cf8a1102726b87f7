/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * plugins/orthanc/kakou_orthanc.c - an Orthanc plugin that de-identifies
 * every instance Orthanc receives, before Orthanc stores or indexes it,
 * with libkakou's kk_deid_buffer(). GPL-3.0-or-later because it includes
 * the Orthanc plugin SDK (LICENSE.md in this folder).
 *
 * Orthanc 1.10.1 (Debian 12) has OrthancPluginRegisterReceivedInstanceCallback
 * (new in 1.10.0): the callback gets the bytes as received, from any origin
 * (C-STORE, REST, plugins, Lua, WebDAV), and returns Modify with the
 * de-identified bytes; Orthanc stores those. Orthanc calls it one instance
 * at a time (a global lock in 1.10.1), so its latency caps the ingest rate
 * (bench/README.md measures it).
 *
 * Fail closed. When an instance cannot be de-identified, nothing of it may
 * be stored, and a C-STORE sender must learn it (Orthanc answers Success
 * to a Discard):
 *  - from the DICOM protocol, the callback keeps the instance as is and
 *    notes the digest of its bytes; the C-STORE filter
 *    (OrthancPluginRegisterIncomingCStoreInstanceFilter, which Orthanc calls
 *    after the callback, on what the callback returned) refuses it with
 *    0xC000, so it is not stored and the sender sees the failure;
 *  - the filter also refuses any C-STORE instance that does not say
 *    PatientIdentityRemoved YES (a safety net: nothing that skipped the
 *    callback gets in);
 *  - from any other origin the callback discards it (REST answers
 *    "FilteredOut").
 * Orthanc's log gets the reason, never a value.
 *
 * Configuration, in Orthanc's JSON:
 *   "Kakou": { "Profile": "jp-pseudonymized", "Options": [ ... ],
 *              "Key": "/etc/kakou/key", "Store": "/var/lib/kakou/map.db" }
 * Profile defaults to dicom-basic; Key makes UIDs and pseudonyms stable
 * across instances, restarts and re-sends (the same study sent again gets
 * the same UIDs); Store keeps the correspondence and the audit rows (R25),
 * committed before Orthanc stores each instance. Without a "Kakou" section,
 * or with a bad one, the plugin refuses to start and so does Orthanc.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <orthanc/OrthancCPlugin.h>
#include <sodium.h>

#include "kakou/kakou.h"

#define PLUGIN_NAME "kakou"
#define PLUGIN_VERSION KK_VERSION_STRING
#define FAILED_SLOTS 256

static OrthancPluginContext *orthanc;
static kk_profile *profile;
static kk_key *key;
static kk_store *store;
static kk_deid *deid;

/* digests of C-STORE instances the callback could not de-identify, for
 * the filter to refuse (a ring: the filter runs right after the callback) */
static pthread_mutex_t failed_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned char failed[FAILED_SLOTS][16];
static bool failed_used[FAILED_SLOTS];
static unsigned failed_next;

static void digest(const void *data, size_t size, unsigned char out[16])
{
    crypto_generichash(out, 16, data, size, NULL, 0);
}

static void failed_add(const void *data, size_t size)
{
    unsigned char d[16];
    digest(data, size, d);
    pthread_mutex_lock(&failed_mu);
    memcpy(failed[failed_next], d, 16);
    failed_used[failed_next] = true;
    failed_next = (failed_next + 1) % FAILED_SLOTS;
    pthread_mutex_unlock(&failed_mu);
}

static bool failed_take(const void *data, size_t size)
{
    unsigned char d[16];
    bool any = false;
    pthread_mutex_lock(&failed_mu);
    for (unsigned i = 0; i < FAILED_SLOTS && !any; i++)
        any = failed_used[i];
    pthread_mutex_unlock(&failed_mu);
    if (!any)
        return false;
    digest(data, size, d);
    bool hit = false;
    pthread_mutex_lock(&failed_mu);
    for (unsigned i = 0; i < FAILED_SLOTS; i++) {
        if (failed_used[i] && memcmp(failed[i], d, 16) == 0) {
            failed_used[i] = false;
            hit = true;
            break;
        }
    }
    pthread_mutex_unlock(&failed_mu);
    return hit;
}

static void log_error(const char *fmt, const char *a, const char *b)
{
    char buf[1024];
    snprintf(buf, sizeof buf, fmt, a, b ? b : "");
    OrthancPluginLogError(orthanc, buf);
}

/* ---- a small JSON reader: Orthanc hands the configuration as text ---- */

typedef struct json {
    const char *p;
    bool bad;
} json;

static void ws(json *j)
{
    while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
        j->p++;
}

/* A string into out (escapes; \uXXXX only below 0x80, which is all a
 * path or a profile name needs). out may be NULL to skip any string. */
static void str(json *j, char *out, size_t outsz)
{
    size_t n = 0;
    ws(j);
    if (*j->p != '"') {
        j->bad = true;
        return;
    }
    j->p++;
    while (*j->p && *j->p != '"') {
        char c = *j->p++;
        if (c == '\\') {
            c = *j->p++;
            switch (c) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                unsigned v = 0;
                for (int i = 0; i < 4; i++) {
                    char h = *j->p++;
                    v = v * 16 + (unsigned)(h >= '0' && h <= '9' ? h - '0'
                                            : h >= 'a' && h <= 'f' ? h - 'a' + 10
                                            : h >= 'A' && h <= 'F' ? h - 'A' + 10 : 99);
                }
                if (v > 0xFFFF || (v >= 0x80 && out)) {
                    j->bad = true; /* not hex, or not ASCII where we keep it */
                    return;
                }
                c = (char)v;
                break;
            }
            case '"': case '\\': case '/': break;
            default: j->bad = true; return;
            }
        }
        if (out && n + 1 < outsz)
            out[n++] = c;
        else if (out)
            j->bad = true;
    }
    if (*j->p != '"') {
        j->bad = true;
        return;
    }
    j->p++;
    if (out)
        out[n] = '\0';
}

static void skip(json *j, int depth)
{
    ws(j);
    if (depth > 64) {
        j->bad = true;
        return;
    }
    char c = *j->p;
    if (c == '"') {
        str(j, NULL, 0);
    } else if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        j->p++;
        ws(j);
        if (*j->p == close) {
            j->p++;
            return;
        }
        while (!j->bad) {
            if (c == '{') {
                str(j, NULL, 0);
                ws(j);
                if (*j->p++ != ':') {
                    j->bad = true;
                    return;
                }
            }
            skip(j, depth + 1);
            ws(j);
            if (*j->p == ',') {
                j->p++;
                continue;
            }
            if (*j->p == close) {
                j->p++;
                return;
            }
            j->bad = true;
        }
    } else if (c) {
        /* number, true, false, null */
        const char *s = j->p;
        while (*j->p && !strchr(",}] \t\r\n", *j->p))
            j->p++;
        if (j->p == s)
            j->bad = true;
    } else {
        j->bad = true;
    }
}

/* Position j on the value of member `name` of the object at j; false if
 * there is none. */
static bool member(json *j, const char *name)
{
    ws(j);
    if (*j->p != '{') {
        j->bad = true;
        return false;
    }
    j->p++;
    ws(j);
    if (*j->p == '}')
        return false;
    while (!j->bad) {
        char k[128];
        str(j, k, sizeof k);
        ws(j);
        if (j->bad || *j->p++ != ':') {
            j->bad = true;
            return false;
        }
        if (strcmp(k, name) == 0)
            return true;
        skip(j, 1);
        ws(j);
        if (*j->p == ',') {
            j->p++;
            continue;
        }
        return false;
    }
    return false;
}

/* ---- configuration ----------------------------------------------------- */

typedef struct config {
    char profile[512], key[1024], store[1024];
    char options[32][128];
    const char *option_ptrs[33];
    int noptions;
} config;

static bool read_config(const char *text, config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->profile, sizeof c->profile, "dicom-basic");
    json j = { text, false };
    if (!member(&j, "Kakou")) {
        OrthancPluginLogError(orthanc, "kakou: no \"Kakou\" section in the configuration: the "
                              "plugin will not let Orthanc start without one");
        return false;
    }
    const char *section = j.p;
    static const char *const names[] = { "Profile", "Key", "Store", "Options" };
    for (int i = 0; i < 4; i++) {
        json m = { section, false };
        if (!member(&m, names[i])) {
            if (m.bad)
                break;
            continue;
        }
        if (i < 3) {
            char *dst = i == 0 ? c->profile : i == 1 ? c->key : c->store;
            size_t sz = i == 0 ? sizeof c->profile : sizeof c->key;
            str(&m, dst, sz);
        } else {
            ws(&m);
            if (*m.p != '[') {
                m.bad = true;
            } else {
                m.p++;
                ws(&m);
                while (!m.bad && *m.p != ']') {
                    if (c->noptions == 32) {
                        m.bad = true;
                        break;
                    }
                    str(&m, c->options[c->noptions], sizeof c->options[0]);
                    c->option_ptrs[c->noptions] = c->options[c->noptions];
                    c->noptions++;
                    ws(&m);
                    if (*m.p == ',')
                        m.p++;
                    else if (*m.p != ']')
                        m.bad = true;
                    ws(&m);
                }
            }
        }
        if (m.bad) {
            log_error("kakou: \"Kakou\": \"%s\" must be %s", names[i],
                      i < 3 ? "a string" : "an array of strings");
            return false;
        }
    }
    c->option_ptrs[c->noptions] = NULL;
    return true;
}

/* ---- the callbacks ----------------------------------------------------- */

static OrthancPluginReceivedInstanceAction on_received(OrthancPluginMemoryBuffer64 *modified,
                                                       const void *data, uint64_t size,
                                                       OrthancPluginInstanceOrigin origin)
{
    kk_ctx *ctx = kk_ctx_new();
    kk_deid_buffer_result r = KK_DEID_BUFFER_RESULT_INIT;
    kk_status st = ctx ? kk_deid_buffer(deid, ctx, data, (size_t)size, "received instance", &r)
                       : KK_ENOMEM;
    /* the correspondence and the audit row are on disk before Orthanc
     * stores the instance */
    if (st == KK_OK && store)
        st = kk_store_flush(store, ctx);
    if (st == KK_OK &&
        OrthancPluginCreateMemoryBuffer64(orthanc, modified, r.size) == OrthancPluginErrorCode_Success) {
        memcpy(modified->data, r.data, r.size);
        char msg[256];
        snprintf(msg, sizeof msg, "kakou: de-identified into %s (%s)",
                 r.sop_instance_uid ? r.sop_instance_uid : "-", r.sop_class_uid ? r.sop_class_uid : "-");
        OrthancPluginLogInfo(orthanc, msg);
        kk_deid_buffer_result_clear(&r);
        kk_ctx_free(ctx);
        return OrthancPluginReceivedInstanceAction_Modify;
    }
    log_error("kakou: an instance cannot be de-identified and is not stored: %s%s",
              ctx ? (st == KK_OK ? "out of memory" : kk_error_message(ctx)) : "out of memory",
              origin == OrthancPluginInstanceOrigin_DicomProtocol
                  ? " (C-STORE: refused with 0xC000)" : " (discarded)");
    kk_deid_buffer_result_clear(&r);
    kk_ctx_free(ctx);
    if (origin == OrthancPluginInstanceOrigin_DicomProtocol) {
        /* kept only for the filter to refuse it, so the sender learns */
        failed_add(data, (size_t)size);
        return OrthancPluginReceivedInstanceAction_KeepAsIs;
    }
    return OrthancPluginReceivedInstanceAction_Discard;
}

/* True when the simplified JSON of an instance says
 * "PatientIdentityRemoved": "YES" at the top level. */
static bool identity_removed(const char *text)
{
    json j = { text, false };
    char v[16] = "";
    if (!member(&j, "PatientIdentityRemoved"))
        return false;
    str(&j, v, sizeof v);
    return !j.bad && strcmp(v, "YES") == 0;
}

static int32_t on_cstore(uint16_t *status, const OrthancPluginDicomInstance *instance)
{
    int64_t size = OrthancPluginGetInstanceSize(orthanc, instance);
    const void *data = OrthancPluginGetInstanceData(orthanc, instance);
    if (size > 0 && data && failed_take(data, (size_t)size)) {
        *status = 0xC000;
        return 0;
    }
    char *text = OrthancPluginGetInstanceSimplifiedJson(orthanc, instance);
    bool ok = text && identity_removed(text);
    if (text)
        OrthancPluginFreeString(orthanc, text);
    if (!ok) {
        OrthancPluginLogError(orthanc, "kakou: a C-STORE instance that was not de-identified "
                              "is refused with 0xC000");
        *status = 0xC000;
        return 0;
    }
    return 1;
}

/* ---- the plugin -------------------------------------------------------- */

static void close_all(void)
{
    kk_ctx *ctx = kk_ctx_new();
    kk_deid_free(deid);
    deid = NULL;
    if (store && kk_store_close(store, ctx) != KK_OK)
        log_error("kakou: cannot close the store: %s%s", kk_error_message(ctx), NULL);
    store = NULL;
    kk_key_free(key);
    key = NULL;
    kk_profile_free(profile);
    profile = NULL;
    kk_ctx_free(ctx);
}

ORTHANC_PLUGINS_API int32_t OrthancPluginInitialize(OrthancPluginContext *context)
{
    orthanc = context;
    if (OrthancPluginCheckVersion(context) == 0) {
        OrthancPluginLogError(context, "kakou: this Orthanc is older than the plugin SDK it "
                              "was built with (1.10.0 or later needed)");
        return -1;
    }
    OrthancPluginSetDescription(context, "De-identifies every received instance with kakou "
                                "(PS3.15 profiles, keyed UIDs and pseudonyms).");
    if (sodium_init() < 0)
        return -1;
    char *text = OrthancPluginGetConfiguration(context);
    config c;
    bool ok = text && read_config(text, &c);
    if (text)
        OrthancPluginFreeString(context, text);
    if (!ok)
        return -1;
    kk_ctx *ctx = kk_ctx_new();
    if (!ctx)
        return -1;
    kk_status st = kk_profile_load(&profile, ctx, c.profile, c.option_ptrs);
    if (st == KK_OK && c.key[0])
        st = kk_key_load(&key, ctx, c.key);
    if (st == KK_OK && c.store[0])
        st = key ? kk_store_open(&store, ctx, c.store, key) : KK_EKEY;
    if (st == KK_OK) {
        kk_deid_options o = KK_DEID_OPTIONS_INIT;
        o.key = key;
        o.store = store;
        st = kk_deid_new(&deid, ctx, profile, &o);
    }
    if (st != KK_OK) {
        log_error("kakou: %s%s", st == KK_EKEY && !key && c.store[0]
                                     ? "\"Store\" needs \"Key\", the key that encrypts it"
                                     : kk_error_message(ctx), NULL);
        kk_ctx_free(ctx);
        close_all();
        return -1;
    }
    kk_ctx_free(ctx);
    kk_preload();
    if (OrthancPluginRegisterReceivedInstanceCallback(context, on_received) !=
            OrthancPluginErrorCode_Success ||
        OrthancPluginRegisterIncomingCStoreInstanceFilter(context, on_cstore) !=
            OrthancPluginErrorCode_Success) {
        OrthancPluginLogError(context, "kakou: cannot register the callbacks (another plugin "
                              "holds the received-instance callback?)");
        close_all();
        return -1;
    }
    char msg[1200];
    snprintf(msg, sizeof msg, "kakou: profile %.100s%s%s%.1024s", kk_profile_name(profile),
             key ? ", keyed" : ", ephemeral key", store ? ", store " : "", store ? c.store : "");
    OrthancPluginLogWarning(context, msg);
    return 0;
}

ORTHANC_PLUGINS_API void OrthancPluginFinalize(void)
{
    close_all();
}

ORTHANC_PLUGINS_API const char *OrthancPluginGetName(void)
{
    return PLUGIN_NAME;
}

ORTHANC_PLUGINS_API const char *OrthancPluginGetVersion(void)
{
    return PLUGIN_VERSION;
}
