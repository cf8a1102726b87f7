/* SPDX-License-Identifier: Apache-2.0 */
/*
 * include/kakou/gateway.h - a DICOM node that de-identifies what it
 * receives and forwards it (kakou gateway).
 *
 * A kk_gateway listens for associations (C-ECHO, and C-STORE of every
 * storage SOP class and transfer syntax DCMTK knows), de-identifies each
 * object with kk_deid_buffer() and answers Success only once the
 * de-identified object is durable in the spool folder: written, fsync'd,
 * and, when the run has a store, its rows committed. It refuses with
 * 0xA700 (out of resources) when the spool or store cannot take the
 * object and with 0xC000 (cannot understand) when the object cannot be
 * de-identified; nothing is ever answered Success and then dropped.
 * A sender thread forwards the spool to one destination with C-STORE,
 * reusing its association, with bounded retries and exponential back-off
 * per object and a dead-letter folder; it resumes what a killed gateway
 * left, and never forwards the same de-identified SOP Instance twice: a
 * C-STORE whose answer never came (a kill, a broken link) is settled by
 * asking the destination with C-FIND at IMAGE level before sending again;
 * only a destination that answers no C-FIND may then get that one object
 * twice (kakou-gateway(1), "Exactly once").
 *
 * Spool folder: tmp/ (objects being written), queue/ (durable, waiting:
 * SOP.dcm named by the NEW SOP Instance UID), sent/ (one empty file per
 * delivered SOP Instance), dead/ (SOP.dcm and SOP.txt saying why),
 * sending (the name of the object whose C-STORE is under way).
 *
 * Messages (the log callback, the report) carry AE titles, counts, SOP
 * classes, statuses and new UIDs only, never an original value (R04).
 */
#ifndef KAKOU_GATEWAY_H
#define KAKOU_GATEWAY_H

#include <stdio.h>

#include "common.h"
#include "deid.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kk_gateway kk_gateway;

/** Log levels of the callback: as the kakou command's -q/-v/-d. */
enum { KK_GATEWAY_ERROR = 0, KK_GATEWAY_WARN, KK_GATEWAY_INFO, KK_GATEWAY_DEBUG };

/** Called from any of the gateway's threads, one line without newline. */
typedef void (*kk_gateway_log_fn)(int level, const char *message, void *payload);

/** Options. Initialize with KK_GATEWAY_OPTIONS_INIT. */
typedef struct kk_gateway_options {
    unsigned version;
    /** Our AE title (NULL: "KAKOU"): the called AE title an association
     *  must use when listen_ae_strict is set, and the calling AE title of
     *  the associations we open. */
    const char *ae_title;
    /** 1: refuse associations whose called AE title is not ae_title. */
    int listen_ae_strict;
    /** Address to listen on (NULL: 127.0.0.1; IPv4) and port (1-65535). */
    const char *bind_address;
    int port;
    /** Calling AE titles allowed, NULL-terminated; NULL allows any. */
    const char *const *allow;
    /** Associations served at once (0: 8); more are refused (transient). */
    int max_associations;
    /** Where to forward: AE title, host and port. */
    const char *forward_ae;
    const char *forward_host;
    int forward_port;
    /** The spool folder, made when missing. */
    const char *spool_dir;
    /** The run; borrowed, must outlive the gateway. Its store, when it has
     *  one, is flushed before each Success. */
    kk_deid *deid;
    /** Attempts per object before it goes to dead/ (0: 5). */
    int max_attempts;
    /** Back-off: first delay and largest delay in seconds (0: 1 and 60). */
    double retry_delay, retry_max;
    /** After a stop, how long to keep forwarding what is queued, in
     *  seconds (0: 10; negative: not at all). What is left stays queued. */
    double drain_seconds;
    /** Seconds an association may stay silent before it is aborted (0: 120). */
    int idle_timeout;
    kk_gateway_log_fn log;
    void *log_payload;
    /* Version 2: TLS (DCMTK's dcmtls over OpenSSL, the BCP 195 profile
     * storescp and storescu use by default). PEM files. */
    /** Listening side: our private key and certificate, both or neither.
     *  With them, associations are accepted over TLS only. */
    const char *tls_key, *tls_cert;
    /** With tls_key: the CA a sender's certificate must chain to (a sender
     *  without one is refused); NULL: senders are not asked for one. */
    const char *tls_ca;
    /** 1: forward over TLS; forward_ca is then required and the
     *  destination's certificate must chain to it. */
    int forward_tls;
    const char *forward_ca;
    /** Our key and certificate towards the destination, for one that asks
     *  for a certificate; both or neither. */
    const char *forward_key, *forward_cert;
    /* Version 3 */
    /** Associations forwarding at once, each with a sender thread of its
     *  own (0: 1; at most 16). More than one suits a destination that
     *  serves associations in parallel (a PACS, Orthanc, storescp
     *  --fork): its answers come back in parallel. */
    int forward_associations;
} kk_gateway_options;

#define KK_GATEWAY_OPTIONS_VERSION 3
#define KK_GATEWAY_OPTIONS_INIT { KK_GATEWAY_OPTIONS_VERSION, NULL, 0, NULL, 0, NULL, 0, NULL, \
                                  NULL, 0, NULL, NULL, 0, 0.0, 0.0, 0.0, 0, NULL, NULL, \
                                  NULL, NULL, NULL, 0, NULL, NULL, NULL, 0 }

/**
 * Make a gateway: the spool folders, the listening socket (so a port in
 * use fails here), the TLS contexts (so a bad key or certificate fails
 * here), and the queue a killed gateway left. Options of version 1 (no
 * TLS fields) and 2 (no forward_associations) are taken as they are.
 * @return KK_OK; KK_EINVAL for bad options; KK_EIO when the spool, the
 *         port or a TLS file cannot be used (the message says which)
 */
KK_API kk_status kk_gateway_new(kk_gateway **out, kk_ctx *ctx, const kk_gateway_options *opts);

/**
 * Serve until kk_gateway_stop(): then stop accepting, let the open
 * associations finish, forward what is queued for up to drain_seconds and
 * return KK_OK.
 */
KK_API kk_status kk_gateway_run(kk_gateway *gw, kk_ctx *ctx);

/** Ask kk_gateway_run() to return. Async-signal-safe (a signal handler
 *  may call it). */
KK_API void kk_gateway_stop(kk_gateway *gw);

/** Write the counts as one JSON object: associations, echoes, instances
 *  received, stored, refused (by status), duplicates, forwarded (and
 *  with warnings), retries, dead letters, unknown outcomes (asked, found
 *  at the destination, sent again unasked), per SOP class and per calling
 *  AE title, and the destination's statuses. */
KK_API kk_status kk_gateway_report(kk_gateway *gw, kk_ctx *ctx, FILE *fp);

/** Free a gateway that is not running. NULL is a no-op. */
KK_API void kk_gateway_free(kk_gateway *gw);

#ifdef __cplusplus
}
#endif
#endif /* KAKOU_GATEWAY_H */
