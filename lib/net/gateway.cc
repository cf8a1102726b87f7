/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/net/gateway.cc - kakou gateway: a DICOM storage node that
 * de-identifies what it receives (kk_deid_buffer) and forwards it
 * (include/kakou/gateway.h says what it promises).
 *
 * Why DCMTK's ASC_/DIMSE_ calls and not DcmSCPPool: DcmSCP, DcmSCU and
 * DcmSCPPool are marked experimental in DCMTK 3.6.7 and DcmSCPPool gives
 * no hook between "data set received" and "response sent" other than
 * subclassing a worker whose threading we would not control; the ASC_/
 * DIMSE_ calls are the ones storescp and storescu have used for decades
 * and let us send the C-STORE response exactly when the object is durable.
 * One thread per association (at most max_associations), and
 * forward_associations sender threads to the destination (default one: a
 * storescp serves one association at a time), each with its own
 * association, requestor network and spool/sending file, all taking from
 * one queue. The sender reads only the File Meta Information of a spooled
 * object and sends its data set straight from the file when the
 * destination accepted its transfer syntax.
 *
 * Threads and state:
 *  - run(): the accept loop (ASC_associationWaiting with a 1 s timeout,
 *    so a stop is seen within a second); each association is served by a
 *    detached std::thread counted in `active`.
 *  - the sender: a queue of spool names (in memory; the spool folder is
 *    the truth and is scanned at start), a retry list ordered by time, and
 *    the destination's back-off. Every step is inside try/catch: no error
 *    ends the loop.
 *  - counters: std::atomic, and per-class/per-AE maps under `stats_mu`.
 *
 * Durability: an object is answered Success only after: its bytes are
 * written to tmp/ and fsync'd, the store's rows are committed
 * (kk_store_flush), it is renamed into queue/ and queue/ is fsync'd.
 * Exactly once: the sender writes sent/SOP before it removes queue/SOP.dcm;
 * a receiver renames into queue/ first and then looks for sent/SOP, so an
 * object re-sent after its delivery is recognised (keyed UIDs give the
 * same de-identified SOP Instance UID) and answered Success without being
 * queued again. Before each C-STORE the sender writes the object's name to
 * spool/sending; a C-STORE whose answer never came (a kill: at start,
 * sending names an object without sent/; a broken link or a timeout) is
 * settled by a C-FIND at IMAGE level before the object goes out again. A
 * destination that answers no C-FIND leaves the one window in which an
 * instance can go out twice: the gateway then sends it again and says so.
 *
 * Binding: DCMTK 3.6.7 listens on every interface. Right after
 * ASC_initializeNetwork the gateway closes that socket and puts, under the
 * same descriptor (dup2), one bound to the address asked for; DCMTK
 * accepts on it unchanged (PRIVATE_NETWORKKEY, dcmnet/dulstruc.h).
 */
#include "dcmtk/config/osconfig.h"

#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcmetinf.h"
#include "dcmtk/dcmdata/dcostrmb.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmdata/dcwcache.h"
#include "dcmtk/dcmdata/dcxfer.h"
#include "dcmtk/dcmnet/assoc.h"
#include "dcmtk/dcmnet/dcmtrans.h"
#include "dcmtk/dcmnet/dimse.h"
#include "dcmtk/dcmnet/diutil.h"
#include "dcmtk/dcmnet/dul.h"
#include "dcmtk/dcmnet/dulstruc.h"
#include "dcmtk/dcmtls/tlslayer.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <new>
#include <set>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "core/core.h"
extern "C" {
#include "deid/deid_internal.h" /* kk_deid__store(); a C header without guards */
}
#include "kakou/gateway.h"
#include "kakou/store.h"

namespace {

using Clock = std::chrono::steady_clock;

/* Seconds the sender waits for the destination's answer to one C-STORE
 * before it counts the attempt as failed (a destination that hangs must
 * not hold the queue). */
constexpr int kAnswerTimeout = 120;

double seconds_since(Clock::time_point t)
{
    return std::chrono::duration<double>(Clock::now() - t).count();
}

/* One queued object for the sender. */
struct Entry {
    std::string name;  /* SOP.dcm in queue/ */
    int attempts = 0;
    std::string last;  /* why the last attempt failed */
    /* a C-STORE of it may have reached the destination without its answer
     * reaching us (a kill, a broken link): ask before sending again */
    bool unknown = false;
};

/* Counters per SOP class or per AE title. */
struct Tally {
    unsigned long received = 0, stored = 0, refused = 0, forwarded = 0, dead = 0;
};

} // namespace

struct kk_gateway {
    kk_gateway_options o;
    std::string ae, bind_addr, fwd_ae, fwd_host, spool;
    std::vector<std::string> allow;
    kk_deid *deid = nullptr;
    kk_store *store = nullptr;
    T_ASC_Network *net = nullptr;      /* acceptor */
    std::vector<T_ASC_Network *> out_nets; /* requestors, one per sender */
    /* TLS of each side, or null; used by net and out_nets, freed after them */
    DcmTLSTransportLayer *tls_in = nullptr, *tls_out = nullptr;
    std::vector<const char *> xfers;   /* every transfer syntax we accept */

    std::atomic<bool> stop{ false };
    std::atomic<int> active{ 0 };
    std::atomic<unsigned long> assoc_seq{ 0 };

    /* the sender's queue */
    std::mutex q_mu;
    std::condition_variable q_cv;
    std::deque<Entry> queue;
    std::multimap<Clock::time_point, Entry> later;
    std::unordered_set<std::string> queued; /* names in queue or later */
    std::unordered_set<std::string> sent;   /* delivered in this run */
    bool receivers_done = false;

    /* counts */
    std::atomic<unsigned long> n_assoc{ 0 }, n_rejected{ 0 }, n_echo{ 0 }, n_received{ 0 },
        n_stored{ 0 }, n_dup{ 0 }, n_refused_spool{ 0 }, n_refused_deid{ 0 }, n_forwarded{ 0 },
        n_fwd_warn{ 0 }, n_retries{ 0 }, n_dead{ 0 }, n_resumed{ 0 }, n_unknown{ 0 },
        n_unknown_found{ 0 }, n_unknown_resent{ 0 };
    /* per sender: spool/sending (sending.N for sender N > 0), the object a
     * C-STORE is under way for, and the objects it forwarded */
    std::vector<int> sending_fds;
    std::vector<unsigned long> forwarded_by; /* under stats_mu */
    /* group commit of queue/: renames counted, and how many of them the
     * last fsync of the folder covered (under qsync_mu) */
    std::atomic<unsigned long> q_renamed{ 0 };
    std::mutex qsync_mu;
    unsigned long q_synced = 0;
    std::mutex stats_mu;
    std::map<std::string, Tally> by_class, by_ae;
    std::map<unsigned, unsigned long> dest_status;
    std::vector<double> latency; /* receive -> delivered, seconds (sampled) */
    std::map<std::string, Clock::time_point> arrived;
};

/* ---- messages ---------------------------------------------------------- */

static void say(kk_gateway *gw, int level, const char *fmt, ...) KK_PRINTF(3, 4);
static void say(kk_gateway *gw, int level, const char *fmt, ...)
{
    if (!gw->o.log)
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    gw->o.log(level, buf, gw->o.log_payload);
}

/* A SOP Class by its name in DCMTK's dictionary (never a value). */
static std::string class_name(const char *uid)
{
    if (!uid || !*uid)
        return "unknown";
    const char *n = dcmFindNameOfUID(uid, nullptr);
    return n ? std::string(n) : std::string(uid);
}

static void count(kk_gateway *gw, const std::string &cls, const std::string &ae,
                  unsigned long Tally::*field)
{
    std::lock_guard<std::mutex> l(gw->stats_mu);
    gw->by_class[cls].*field += 1;
    if (!ae.empty())
        gw->by_ae[ae].*field += 1;
}

/* ---- the spool --------------------------------------------------------- */

static std::string spool_path(const kk_gateway *gw, const char *sub, const std::string &name = "")
{
    std::string p = gw->spool + "/" + sub;
    if (!name.empty())
        p += "/" + name;
    return p;
}

/* The file that names the object sender `index` has a C-STORE under way
 * for: "sending" for the first (as before there were several), then
 * "sending.1" ... */
static std::string sending_name(int index)
{
    return index == 0 ? std::string("sending") : "sending." + std::to_string(index);
}

#define KK_MAX_FORWARD_ASSOCIATIONS 16

static int fsync_dir(const std::string &dir)
{
    int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

/* Make a rename into queue/ durable. The receivers share the fsync of the
 * folder: one that finds a sync begun after its rename went through needs
 * none of its own (group commit; perf showed one fsync of the folder per
 * object, each a journal commit, with 4 senders). */
static int sync_queue_dir(kk_gateway *gw)
{
    unsigned long mine = ++gw->q_renamed; /* our rename is done */
    std::lock_guard<std::mutex> l(gw->qsync_mu);
    if (gw->q_synced >= mine)
        return 0;
    unsigned long upto = gw->q_renamed.load(); /* all renamed before this sync */
    if (fsync_dir(gw->spool + "/queue") != 0)
        return -1;
    gw->q_synced = upto;
    return 0;
}


static bool is_sent(kk_gateway *gw, const std::string &sop)
{
    {
        std::lock_guard<std::mutex> l(gw->q_mu);
        if (gw->sent.count(sop))
            return true;
    }
    struct stat sb;
    return stat(spool_path(gw, "sent", sop).c_str(), &sb) == 0;
}

static void enqueue(kk_gateway *gw, const std::string &name, bool unknown = false)
{
    std::lock_guard<std::mutex> l(gw->q_mu);
    if (!gw->queued.insert(name).second)
        return;
    Entry e;
    e.name = name;
    e.unknown = unknown;
    if (unknown)
        gw->queue.push_front(e); /* settle it before anything else goes out */
    else
        gw->queue.push_back(e);
    if (gw->arrived.size() < 100000)
        gw->arrived[name] = Clock::now();
    gw->q_cv.notify_one();
}

/* Turn Nagle's algorithm off on an association's socket. Debian's DCMTK
 * leaves it on unless TCP_NODELAY=1 is in the environment, and DIMSE
 * writes a PDU's header and body apart: the second small write then waits
 * for the peer's delayed ACK, about 40 ms per C-STORE and per response
 * (strace of storescu -> storescp here; the gateway forwarded 14
 * instances/s with it on and 81 with it off, bench/README.md). */
namespace {
/* DcmTransportConnection::getSocket() is protected and dcmnet has no
 * public getter of an association's socket: reach it as a subclass may */
struct SocketOf : DcmTransportConnection {
    static DcmNativeSocketType of(DcmTransportConnection *c)
    {
        return (c->*(&SocketOf::getSocket))();
    }
};
} // namespace

/* Set a TCP option on the association's socket, when it has one. */
static void set_tcp(T_ASC_Association *assoc, int option)
{
    PRIVATE_ASSOCIATIONKEY *key =
        assoc ? reinterpret_cast<PRIVATE_ASSOCIATIONKEY *>(assoc->DULassociation) : nullptr;
    if (!key || !key->connection)
        return;
    int fd = SocketOf::of(key->connection);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, IPPROTO_TCP, option, &one, sizeof one);
}

static void no_delay(T_ASC_Association *assoc)
{
    set_tcp(assoc, TCP_NODELAY);
}

/* Acknowledge what comes next at once, for a peer whose Nagle's
 * algorithm is on (storescu, storescp): it holds the second piece of a PDU
 * until our ACK of the first, which Linux delays up to 40 ms. Quick-ACK
 * mode does not last, so it is asked again before each answer we await. */
static void quick_ack(T_ASC_Association *assoc)
{
    set_tcp(assoc, TCP_QUICKACK);
}

/* DIMSE_storeUser's progress: once the data set is out, the answer is next */
static void on_store_progress(void *assoc, T_DIMSE_StoreProgress *p, T_DIMSE_C_StoreRQ *)
{
    if (p->state == DIMSE_StoreEnd)
        quick_ack(static_cast<T_ASC_Association *>(assoc));
}

/* ---- receiving --------------------------------------------------------- */

/* The received data set as a DICOM file in memory, in the transfer
 * syntax it came in. */
static bool to_file_bytes(DcmDataset *ds, E_TransferSyntax xfer, std::vector<char> &out)
{
    /* one allocation for the whole file: growing the vector copied each
     * object several times over (perf: memmove and page faults led) */
    out.reserve((size_t)ds->calcElementLength(xfer, EET_ExplicitLength) + 4096);
    DcmFileFormat ff(ds, OFFalse /* take it, no copy */);
    char chunk[1 << 16];
    DcmOutputBufferStream os(chunk, sizeof chunk);
    DcmWriteCache wcache;
    ff.transferInit();
    OFCondition c = EC_StreamNotifyClient;
    while (c == EC_StreamNotifyClient) {
        c = ff.write(os, xfer, EET_ExplicitLength, &wcache, EGL_recalcGL, EPD_noChange, 0, 0, 0,
                     EWM_fileformat);
        void *p = nullptr;
        offile_off_t n = 0;
        os.flushBuffer(p, n);
        if (n > 0)
            out.insert(out.end(), static_cast<char *>(p), static_cast<char *>(p) + n);
    }
    ff.transferEnd();
    return c.good();
}

/* Make the de-identified object durable: 0 (queued now or already
 * queued or sent; *dup says which) or a DIMSE status. */
static unsigned spool_object(kk_gateway *gw, kk_ctx *ctx, const kk_deid_buffer_result &r,
                             const std::string &name, bool *dup, std::string &why)
{
    *dup = false;
    std::string sop = name.substr(0, name.size() - 4);
    if (is_sent(gw, sop)) {
        *dup = true; /* delivered already: the destination has it */
        return STATUS_Success;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s/tmp/%s.XXXXXX", gw->spool.c_str(), sop.c_str());
    int fd = mkstemp(tmp);
    if (fd < 0) {
        why = std::string("cannot write to the spool: ") + strerror(errno);
        return 0xA700;
    }
    bool ok = kk__write_all(fd, r.data, r.size) && fsync(fd) == 0;
    int e = errno;
    close(fd);
    if (!ok) {
        unlink(tmp);
        why = std::string("cannot write to the spool: ") + strerror(e);
        return 0xA700;
    }
    /* the store's rows before the object is visible to the sender */
    if (gw->store && kk_store_flush(gw->store, ctx) != KK_OK) {
        unlink(tmp);
        why = std::string("cannot commit the store: ") + kk_error_message(ctx);
        return 0xA701;
    }
    std::string dst = spool_path(gw, "queue", name);
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dst.c_str(), RENAME_NOREPLACE) != 0) {
        e = errno;
        unlink(tmp);
        if (e == EEXIST) {
            *dup = true; /* queued already, the same object (same name) */
            return STATUS_Success;
        }
        why = std::string("cannot move into the spool queue: ") + strerror(e);
        return 0xA700;
    }
    if (sync_queue_dir(gw) != 0) {
        e = errno;
        unlink(dst.c_str());
        why = std::string("cannot sync the spool queue: ") + strerror(e);
        return 0xA700;
    }
    if (is_sent(gw, sop)) {
        /* delivered while we wrote it: a re-send, not a new object */
        unlink(dst.c_str());
        *dup = true;
        return STATUS_Success;
    }
    enqueue(gw, name);
    return STATUS_Success;
}

static unsigned handle_object(kk_gateway *gw, kk_ctx *ctx, DcmDataset *ds, E_TransferSyntax xfer,
                              const std::string &label, const std::string &ae,
                              const std::string &cls)
{
    gw->n_received++;
    count(gw, cls, ae, &Tally::received);
    std::vector<char> bytes;
    bool ok;
    try {
        ok = to_file_bytes(ds, xfer, bytes); /* takes ds */
    } catch (const std::bad_alloc &) {
        ok = false;
    }
    if (!ok) {
        say(gw, KK_GATEWAY_ERROR, "%s: refused (0xA700): cannot hold the object in memory",
            label.c_str());
        gw->n_refused_spool++;
        count(gw, cls, ae, &Tally::refused);
        return 0xA700;
    }
    kk_deid_buffer_result r = KK_DEID_BUFFER_RESULT_INIT;
    kk_status st = kk_deid_buffer(gw->deid, ctx, bytes.data(), bytes.size(), label.c_str(), &r);
    bytes.clear();
    bytes.shrink_to_fit();
    if (st != KK_OK) {
        /* out of memory, a store that cannot take rows, or an internal
         * fault (an input's descriptor reused: lib/dicom): try later;
         * anything else is the object's: it cannot be de-identified */
        unsigned status = (st == KK_ENOMEM || st == KK_ESTORE || st == KK_EINTERNAL) ? 0xA700 : 0xC000;
        say(gw, KK_GATEWAY_ERROR, "%s: refused (0x%04X): %s", label.c_str(), status,
            kk_error_message(ctx));
        (status == 0xC000 ? gw->n_refused_deid : gw->n_refused_spool)++;
        count(gw, cls, ae, &Tally::refused);
        kk_deid_buffer_result_clear(&r);
        return status;
    }
    const char *slash = strrchr(r.output_path, '/');
    std::string name = slash ? slash + 1 : r.output_path;
    bool dup = false;
    std::string why;
    unsigned status = spool_object(gw, ctx, r, name, &dup, why);
    if (status != STATUS_Success) {
        say(gw, KK_GATEWAY_ERROR, "%s: refused (0x%04X): %s", label.c_str(), status, why.c_str());
        gw->n_refused_spool++;
        count(gw, cls, ae, &Tally::refused);
    } else {
        gw->n_stored++;
        count(gw, cls, ae, &Tally::stored);
        if (dup) {
            gw->n_dup++;
            say(gw, KK_GATEWAY_INFO, "%s: %s %s again: already %s, not queued twice",
                label.c_str(), cls.c_str(), name.c_str(),
                is_sent(gw, name.substr(0, name.size() - 4)) ? "forwarded" : "queued");
        } else {
            say(gw, KK_GATEWAY_DEBUG, "%s: %s stored as %s", label.c_str(), cls.c_str(),
                name.c_str());
        }
    }
    kk_deid_buffer_result_clear(&r);
    return status;
}

static void serve(kk_gateway *gw, T_ASC_Association *assoc, std::string ae, unsigned long id)
{
    kk_ctx *ctx = kk_ctx_new();
    unsigned long msgs = 0;
    auto idle_since = Clock::now();
    const int idle = gw->o.idle_timeout > 0 ? gw->o.idle_timeout : 120;
    bool released = false;
    while (ctx) {
        T_ASC_PresentationContextID pres;
        T_DIMSE_Message msg;
        OFCondition c = DIMSE_receiveCommand(assoc, DIMSE_NONBLOCKING, 1, &pres, &msg, nullptr);
        if (c == DIMSE_NODATAAVAILABLE) {
            if (seconds_since(idle_since) > idle) {
                say(gw, KK_GATEWAY_WARN, "association #%lu from %s: silent for %d s, aborted",
                    id, ae.c_str(), idle);
                ASC_abortAssociation(assoc);
                break;
            }
            continue;
        }
        idle_since = Clock::now();
        if (c == DUL_PEERREQUESTEDRELEASE) {
            ASC_acknowledgeRelease(assoc);
            released = true;
            break;
        }
        if (c == DUL_PEERABORTEDASSOCIATION) {
            say(gw, KK_GATEWAY_WARN, "association #%lu from %s: aborted by the peer", id,
                ae.c_str());
            break;
        }
        if (c.bad()) {
            say(gw, KK_GATEWAY_WARN, "association #%lu from %s: %s; aborted", id, ae.c_str(),
                c.text());
            ASC_abortAssociation(assoc);
            break;
        }
        if (msg.CommandField == DIMSE_C_ECHO_RQ) {
            gw->n_echo++;
            DIMSE_sendEchoResponse(assoc, pres, &msg.msg.CEchoRQ, STATUS_Success, nullptr);
            continue;
        }
        if (msg.CommandField != DIMSE_C_STORE_RQ) {
            say(gw, KK_GATEWAY_WARN, "association #%lu from %s: command 0x%04X not supported; "
                "aborted", id, ae.c_str(), (unsigned)msg.CommandField);
            ASC_abortAssociation(assoc);
            break;
        }
        T_DIMSE_C_StoreRQ *req = &msg.msg.CStoreRQ;
        msgs++;
        DcmDataset *ds = nullptr;
        T_ASC_PresentationContextID dpres;
        c = DIMSE_receiveDataSetInMemory(assoc, DIMSE_NONBLOCKING, idle, &dpres, &ds, nullptr,
                                         nullptr);
        if (c.bad()) {
            delete ds;
            say(gw, KK_GATEWAY_WARN, "association #%lu from %s: data set of message %lu not "
                "received (%s); not acknowledged", id, ae.c_str(), msgs, c.text());
            ASC_abortAssociation(assoc);
            break;
        }
        T_ASC_PresentationContext pc;
        E_TransferSyntax xfer = EXS_LittleEndianImplicit;
        if (ASC_findAcceptedPresentationContext(assoc->params, dpres, &pc).good())
            xfer = DcmXfer(pc.acceptedTransferSyntax).getXfer();
        char label[160];
        snprintf(label, sizeof label, "C-STORE %lu of association #%lu from %s", msgs, id,
                 ae.c_str());
        std::string cls = class_name(req->AffectedSOPClassUID);
        unsigned status = handle_object(gw, ctx, ds, xfer, label, ae, cls); /* takes ds */
        T_DIMSE_C_StoreRSP rsp;
        memset(&rsp, 0, sizeof rsp);
        rsp.MessageIDBeingRespondedTo = req->MessageID;
        rsp.DimseStatus = (DIC_US)status;
        rsp.DataSetType = DIMSE_DATASET_NULL;
        OFStandard::strlcpy(rsp.AffectedSOPClassUID, req->AffectedSOPClassUID,
                            sizeof rsp.AffectedSOPClassUID);
        OFStandard::strlcpy(rsp.AffectedSOPInstanceUID, req->AffectedSOPInstanceUID,
                            sizeof rsp.AffectedSOPInstanceUID);
        rsp.opts = O_STORE_AFFECTEDSOPCLASSUID | O_STORE_AFFECTEDSOPINSTANCEUID;
        c = DIMSE_sendStoreResponse(assoc, pres, req, &rsp, nullptr);
        quick_ack(assoc); /* the next C-STORE's pieces */
        if (c.bad()) {
            say(gw, KK_GATEWAY_WARN, "association #%lu from %s: cannot answer message %lu (%s)",
                id, ae.c_str(), msgs, c.text());
            ASC_abortAssociation(assoc);
            break;
        }
    }
    ASC_dropSCPAssociation(assoc);
    ASC_destroyAssociation(&assoc);
    say(gw, KK_GATEWAY_INFO, "association #%lu from %s: %s after %lu C-STORE", id, ae.c_str(),
        released ? "released" : "ended", msgs);
    kk_ctx_free(ctx);
    gw->active--;
}

static void reject(T_ASC_Association *assoc, T_ASC_RejectParametersResult result,
                   T_ASC_RejectParametersSource source, T_ASC_RejectParametersReason reason)
{
    T_ASC_RejectParameters rej = { result, source, reason };
    ASC_rejectAssociation(assoc, &rej);
    ASC_dropAssociation(assoc);
    ASC_destroyAssociation(&assoc);
}

static void accept_one(kk_gateway *gw)
{
    T_ASC_Association *assoc = nullptr;
    /* with TLS, the handshake happens here: a plain or untrusted sender
     * fails it and never gets an association */
    OFCondition c = ASC_receiveAssociation(gw->net, &assoc, ASC_DEFAULTMAXPDU, nullptr, nullptr,
                                           gw->tls_in ? OFTrue : OFFalse, DUL_NOBLOCK, 5);
    if (c.bad()) {
        if (gw->tls_in)
            say(gw, KK_GATEWAY_WARN, "a connection failed before its association: %s "
                "(a sender without TLS, or a certificate not trusted)", c.text());
        if (assoc) {
            ASC_dropAssociation(assoc);
            ASC_destroyAssociation(&assoc);
        }
        return;
    }
    char calling[64] = "", called[64] = "", responding[64] = "";
    ASC_getAPTitles(assoc->params, calling, sizeof calling, called, sizeof called, responding,
                    sizeof responding);
    std::string ae = calling;
    unsigned long id = ++gw->assoc_seq;
    if (gw->stop) {
        reject(assoc, ASC_RESULT_REJECTEDTRANSIENT, ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
               ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED);
        return;
    }
    if (!gw->allow.empty()) {
        bool ok = false;
        for (const auto &a : gw->allow)
            ok = ok || a == ae;
        if (!ok) {
            gw->n_rejected++;
            say(gw, KK_GATEWAY_WARN, "association #%lu from %s refused: calling AE title not "
                "in --allow", id, ae.c_str());
            reject(assoc, ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER,
                   ASC_REASON_SU_CALLINGAETITLENOTRECOGNIZED);
            return;
        }
    }
    if (gw->o.listen_ae_strict && gw->ae != called) {
        gw->n_rejected++;
        say(gw, KK_GATEWAY_WARN, "association #%lu from %s refused: called AE title %s is not %s",
            id, ae.c_str(), called, gw->ae.c_str());
        reject(assoc, ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER,
               ASC_REASON_SU_CALLEDAETITLENOTRECOGNIZED);
        return;
    }
    int max = gw->o.max_associations > 0 ? gw->o.max_associations : 8;
    if (gw->active >= max) {
        gw->n_rejected++;
        say(gw, KK_GATEWAY_WARN, "association #%lu from %s refused: %d associations already",
            id, ae.c_str(), max);
        reject(assoc, ASC_RESULT_REJECTEDTRANSIENT, ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
               ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED);
        return;
    }
    const char *verification[] = { UID_VerificationSOPClass };
    c = ASC_acceptContextsWithPreferredTransferSyntaxes(assoc->params, verification, 1,
                                                        gw->xfers.data(), (int)gw->xfers.size());
    if (c.good())
        c = ASC_acceptContextsWithPreferredTransferSyntaxes(
            assoc->params, dcmAllStorageSOPClassUIDs, numberOfDcmAllStorageSOPClassUIDs,
            gw->xfers.data(), (int)gw->xfers.size());
    if (c.good())
        ASC_setAPTitles(assoc->params, nullptr, nullptr, gw->ae.c_str());
    if (c.good())
        c = ASC_acknowledgeAssociation(assoc);
    if (c.bad()) {
        say(gw, KK_GATEWAY_WARN, "association #%lu from %s: negotiation failed: %s", id,
            ae.c_str(), c.text());
        ASC_dropAssociation(assoc);
        ASC_destroyAssociation(&assoc);
        return;
    }
    gw->n_assoc++;
    no_delay(assoc);
    say(gw, KK_GATEWAY_INFO, "association #%lu from %s accepted (%d presentation contexts)", id,
        ae.c_str(), ASC_countAcceptedPresentationContexts(assoc->params));
    gw->active++;
    try {
        std::thread(serve, gw, assoc, ae, id).detach();
    } catch (const std::exception &) {
        gw->active--;
        say(gw, KK_GATEWAY_ERROR, "association #%lu from %s: no thread to serve it; aborted", id,
            ae.c_str());
        ASC_abortAssociation(assoc);
        ASC_destroyAssociation(&assoc);
    }
}

/* ---- forwarding -------------------------------------------------------- */

/* Request an association to the destination with `params` (taken, in
 * every case). On failure *out is null and `why` says what happened;
 * *rejected tells a refusal by the destination from no connection. */
static OFCondition request_assoc(kk_gateway *gw, T_ASC_Network *net, T_ASC_Parameters *params,
                                 T_ASC_Association **out, std::string &why, bool *rejected)
{
    *out = nullptr;
    *rejected = false;
    ASC_setAPTitles(params, gw->ae.c_str(), gw->fwd_ae.c_str(), nullptr);
    char peer[300];
    snprintf(peer, sizeof peer, "%s:%d", gw->fwd_host.c_str(), gw->o.forward_port);
    ASC_setPresentationAddresses(params, "localhost", peer);
    OFCondition c = EC_Normal;
    if (gw->tls_out)
        c = ASC_setTransportLayerType(params, OFTrue);
    if (c.good())
        c = ASC_requestAssociation(net, params, out);
    if (c.good())
        no_delay(*out);
    if (c.bad()) {
        why = c.text();
        if (c == DUL_ASSOCIATIONREJECTED) {
            T_ASC_RejectParameters rej;
            OFString s;
            ASC_getRejectParameters(params, &rej);
            why = std::string("association rejected: ") + ASC_printRejectParameters(s, &rej).c_str();
            *rejected = true;
        }
        if (*out) {
            ASC_destroyAssociation(out); /* frees params too */
            *out = nullptr;
        } else {
            ASC_destroyAssociationParameters(&params);
        }
    }
    return c;
}

namespace {

/* The association to the destination and what it was proposed. */
struct Link {
    kk_gateway *gw;
    int index = 0;                 /* which sender */
    T_ASC_Network *net = nullptr;  /* its requestor network */
    int sending_fd = -1;           /* its spool/sending file */
    T_ASC_Association *assoc = nullptr;
    std::set<std::pair<std::string, std::string>> wanted; /* (class, xfer) */
    Clock::time_point last_use;
    Clock::time_point retry_at = Clock::now(); /* destination back-off */
    double backoff = 0;
    /* whether the destination answers C-FIND at IMAGE level: -1 not
     * known yet, 0 no (find_why says why), 1 yes */
    int find_ok = -1;
    std::string find_why;

    void close(bool abort)
    {
        if (!assoc)
            return;
        if (abort)
            ASC_abortAssociation(assoc);
        else if (ASC_releaseAssociation(assoc).bad())
            ASC_abortAssociation(assoc);
        ASC_destroyAssociation(&assoc);
        assoc = nullptr;
    }

    /* Open an association proposing every (class, xfer) seen so far. */
    OFCondition open(std::string &why)
    {
        T_ASC_Parameters *params = nullptr;
        OFCondition c = ASC_createAssociationParameters(&params, ASC_DEFAULTMAXPDU);
        if (c.bad()) {
            why = c.text();
            return c;
        }
        T_ASC_PresentationContextID id = 1;
        for (const auto &w : wanted) {
            const char *ts[3];
            int n = 0;
            ts[n++] = w.second.c_str();
            DcmXfer x(w.second.c_str());
            /* uncompressed data can go in another uncompressed syntax */
            if (!x.isEncapsulated()) {
                if (w.second != UID_LittleEndianExplicitTransferSyntax)
                    ts[n++] = UID_LittleEndianExplicitTransferSyntax;
                if (w.second != UID_LittleEndianImplicitTransferSyntax)
                    ts[n++] = UID_LittleEndianImplicitTransferSyntax;
            }
            c = ASC_addPresentationContext(params, id, w.first.c_str(), ts, n);
            if (c.bad())
                break;
            id = (T_ASC_PresentationContextID)(id + 2);
        }
        if (c.bad()) {
            why = c.text();
            ASC_destroyAssociationParameters(&params);
            return c;
        }
        bool rejected;
        c = request_assoc(gw, net, params, &assoc, why, &rejected);
        if (c.good())
            last_use = Clock::now();
        return c;
    }
};

enum class Outcome { delivered, refused, failed, cannot_read, no_link };

/* What the destination says about an instance. */
enum class Has { yes, no, cannot_ask, no_link };

struct FindMatch {
    const char *sop;
    bool found = false;
};

} // namespace

static void on_find_response(void *data, T_DIMSE_C_FindRQ *, int, T_DIMSE_C_FindRSP *,
                             DcmDataset *ids)
{
    FindMatch *m = static_cast<FindMatch *>(data);
    OFString uid;
    if (ids && ids->findAndGetOFString(DCM_SOPInstanceUID, uid).good() && uid == m->sop)
        m->found = true;
}

/* Ask the destination, with a C-FIND at IMAGE level on an association of
 * its own, whether it holds the spooled object `name`. The one way DICOM
 * gives a sender to learn the outcome of a C-STORE whose answer it never
 * got; a destination that answers no C-FIND (storescp) cannot tell. */
static Has ask_destination(kk_gateway *gw, Link &link, const std::string &name, std::string &why)
{
    if (link.find_ok == 0) {
        why = link.find_why;
        return Has::cannot_ask;
    }
    DcmFileFormat ff;
    OFCondition c = ff.loadFile(spool_path(gw, "queue", name).c_str());
    if (c.bad()) {
        why = std::string("cannot read the spooled object: ") + c.text();
        return Has::cannot_ask;
    }
    OFString study, series, sop, patient;
    DcmDataset *ds = ff.getDataset();
    ds->findAndGetOFString(DCM_StudyInstanceUID, study);
    ds->findAndGetOFString(DCM_SeriesInstanceUID, series);
    ds->findAndGetOFString(DCM_SOPInstanceUID, sop);
    ds->findAndGetOFString(DCM_PatientID, patient);
    if (study.empty() || series.empty() || sop.empty()) {
        why = "the object has no Study, Series or SOP Instance UID to ask by";
        return Has::cannot_ask;
    }
    T_ASC_Parameters *params = nullptr;
    c = ASC_createAssociationParameters(&params, ASC_DEFAULTMAXPDU);
    const char *ts[] = { UID_LittleEndianExplicitTransferSyntax,
                         UID_LittleEndianImplicitTransferSyntax };
    if (c.good())
        c = ASC_addPresentationContext(params, 1, UID_FINDStudyRootQueryRetrieveInformationModel,
                                       ts, 2);
    if (c.good())
        c = ASC_addPresentationContext(params, 3,
                                       UID_FINDPatientRootQueryRetrieveInformationModel, ts, 2);
    if (c.bad()) {
        why = c.text();
        if (params)
            ASC_destroyAssociationParameters(&params);
        return Has::cannot_ask;
    }
    T_ASC_Association *assoc = nullptr;
    bool rejected = false;
    if (request_assoc(gw, link.net, params, &assoc, why, &rejected).bad()) {
        if (!rejected)
            return Has::no_link;
        link.find_ok = 0;
        link.find_why = why;
        return Has::cannot_ask;
    }
    const char *model = UID_FINDStudyRootQueryRetrieveInformationModel;
    T_ASC_PresentationContextID pres = ASC_findAcceptedPresentationContextID(assoc, model);
    if (pres == 0) {
        model = UID_FINDPatientRootQueryRetrieveInformationModel;
        pres = ASC_findAcceptedPresentationContextID(assoc, model);
    }
    if (pres == 0) {
        ASC_releaseAssociation(assoc);
        ASC_destroyAssociation(&assoc);
        link.find_ok = 0;
        link.find_why = why = "the destination takes no C-FIND";
        return Has::cannot_ask;
    }
    DcmDataset q;
    q.putAndInsertString(DCM_QueryRetrieveLevel, "IMAGE");
    if (strcmp(model, UID_FINDPatientRootQueryRetrieveInformationModel) == 0)
        q.putAndInsertString(DCM_PatientID, patient.c_str());
    q.putAndInsertString(DCM_StudyInstanceUID, study.c_str());
    q.putAndInsertString(DCM_SeriesInstanceUID, series.c_str());
    q.putAndInsertString(DCM_SOPInstanceUID, sop.c_str());
    T_DIMSE_C_FindRQ req;
    memset(&req, 0, sizeof req);
    req.MessageID = assoc->nextMsgID++;
    OFStandard::strlcpy(req.AffectedSOPClassUID, model, sizeof req.AffectedSOPClassUID);
    req.DataSetType = DIMSE_DATASET_PRESENT;
    req.Priority = DIMSE_PRIORITY_MEDIUM;
    T_DIMSE_C_FindRSP rsp;
    memset(&rsp, 0, sizeof rsp);
    DcmDataset *detail = nullptr;
    FindMatch m;
    m.sop = sop.c_str();
    int responses = 0;
    c = DIMSE_findUser(assoc, pres, &req, &q, responses, on_find_response, &m, DIMSE_NONBLOCKING,
                       kAnswerTimeout, &rsp, &detail);
    delete detail;
    if (c.bad()) {
        why = std::string("C-FIND failed: ") + c.text();
        ASC_abortAssociation(assoc);
        ASC_destroyAssociation(&assoc);
        return Has::no_link;
    }
    if (ASC_releaseAssociation(assoc).bad())
        ASC_abortAssociation(assoc);
    ASC_destroyAssociation(&assoc);
    if (rsp.DimseStatus != STATUS_Success) {
        char buf[80];
        snprintf(buf, sizeof buf, "the destination answered C-FIND with 0x%04X",
                 rsp.DimseStatus);
        link.find_ok = 0; /* it will not answer the next one either */
        link.find_why = why = buf;
        return Has::cannot_ask;
    }
    link.find_ok = 1;
    return m.found ? Has::yes : Has::no;
}

/* Say in spool/sending which object a C-STORE is about to go out for:
 * after a kill its outcome is unknown, and the next start asks. Not
 * fsync'd: a killed process loses nothing it wrote, and a syscall per
 * object is cheap where a sync is not (a power cut can lose it: see the
 * man page). */
static void note_sending(kk_gateway *gw, const Link &link, const std::string &name)
{
    std::string line = name + "\n";
    int fd = link.sending_fd;
    if (fd < 0 || pwrite(fd, line.data(), line.size(), 0) != (ssize_t)line.size() ||
        ftruncate(fd, (off_t)line.size()) != 0)
        say(gw, KK_GATEWAY_WARN, "%s: cannot note it in %s/%s (%s): if the gateway dies "
            "while sending it, a restart sends it again", name.c_str(), gw->spool.c_str(),
            sending_name(link.index).c_str(), strerror(errno));
}

static void record_status(kk_gateway *gw, unsigned status)
{
    std::lock_guard<std::mutex> l(gw->stats_mu);
    gw->dest_status[status]++;
}

/* Send one object: the association is opened (or re-opened with its
 * presentation context) as needed. */
static Outcome send_one(kk_gateway *gw, Link &link, const std::string &name, std::string &why,
                        std::string &cls_out, unsigned *status_out)
{
    std::string path = spool_path(gw, "queue", name);
    /* the File Meta Information only: the data set is sent straight from
     * the file when the destination takes its transfer syntax (kakou
     * writes Media Storage SOP Class/Instance UID equal to the data set's) */
    DcmFileFormat ff;
    OFCondition c = ff.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength,
                                ERM_metaOnly);
    if (c.bad()) {
        why = std::string("cannot read the spooled object: ") + c.text();
        return Outcome::cannot_read;
    }
    DcmMetaInfo *meta = ff.getMetaInfo();
    OFString cls, inst, tsuid;
    meta->findAndGetOFString(DCM_MediaStorageSOPClassUID, cls);
    meta->findAndGetOFString(DCM_MediaStorageSOPInstanceUID, inst);
    meta->findAndGetOFString(DCM_TransferSyntaxUID, tsuid);
    cls_out = class_name(cls.c_str());
    const char *ts = DcmXfer(tsuid.c_str()).getXferID();
    if (cls.empty() || inst.empty() || DcmXfer(tsuid.c_str()).getXfer() == EXS_Unknown) {
        why = "the spooled object has no SOP Class, SOP Instance or transfer syntax UID in its "
              "File Meta Information";
        return Outcome::cannot_read;
    }
    auto key = std::make_pair(std::string(cls.c_str()), std::string(ts));
    if (!link.wanted.count(key)) {
        if (link.wanted.size() >= 120)
            link.wanted.clear();
        link.wanted.insert(key);
        link.close(false); /* re-negotiate with the new context */
    }
    if (!link.assoc) {
        if (Clock::now() < link.retry_at)
            return Outcome::no_link;
        std::string w;
        if (link.open(w).bad()) {
            why = "cannot open an association to the destination: " + w;
            return Outcome::no_link;
        }
    }
    T_ASC_PresentationContextID pres = ASC_findAcceptedPresentationContextID(link.assoc, cls.c_str(), ts);
    if (pres == 0)
        pres = DcmXfer(ts).isEncapsulated() ? 0
                                            : ASC_findAcceptedPresentationContextID(link.assoc, cls.c_str());
    if (pres == 0) {
        why = "the destination accepts no presentation context for " + cls_out + " in " +
              DcmXfer(ts).getXferName();
        return Outcome::refused;
    }
    note_sending(gw, link, name);
    T_DIMSE_C_StoreRQ req;
    memset(&req, 0, sizeof req);
    req.MessageID = link.assoc->nextMsgID++;
    OFStandard::strlcpy(req.AffectedSOPClassUID, cls.c_str(), sizeof req.AffectedSOPClassUID);
    OFStandard::strlcpy(req.AffectedSOPInstanceUID, inst.c_str(), sizeof req.AffectedSOPInstanceUID);
    req.DataSetType = DIMSE_DATASET_PRESENT;
    req.Priority = DIMSE_PRIORITY_MEDIUM;
    T_DIMSE_C_StoreRSP rsp;
    memset(&rsp, 0, sizeof rsp);
    DcmDataset *detail = nullptr;
    T_ASC_PresentationContext pc;
    bool same_ts = ASC_findAcceptedPresentationContext(link.assoc->params, pres, &pc).good() &&
                   strcmp(pc.acceptedTransferSyntax, ts) == 0;
    if (same_ts) {
        c = DIMSE_storeUser(link.assoc, pres, &req, path.c_str(), nullptr, on_store_progress,
                            link.assoc,
                            DIMSE_NONBLOCKING, kAnswerTimeout, &rsp, &detail);
    } else {
        /* another uncompressed transfer syntax: DCMTK converts the data set */
        DcmFileFormat full;
        c = full.loadFile(path.c_str());
        if (c.good())
            c = DIMSE_storeUser(link.assoc, pres, &req, nullptr, full.getDataset(),
                                on_store_progress, link.assoc, DIMSE_NONBLOCKING, kAnswerTimeout, &rsp, &detail);
    }
    delete detail;
    link.last_use = Clock::now();
    if (c.bad()) {
        why = std::string("C-STORE failed: ") + c.text();
        link.close(true);
        return Outcome::failed;
    }
    *status_out = rsp.DimseStatus;
    record_status(gw, rsp.DimseStatus);
    /* Success, and the Warning statuses (0xB000, 0xB006, 0xB007, any
     * 0xBxxx: PS3.4 B.2.3) mean stored */
    if (rsp.DimseStatus == STATUS_Success || (rsp.DimseStatus & 0xF000) == 0xB000)
        return Outcome::delivered;
    char buf[64];
    snprintf(buf, sizeof buf, "the destination answered 0x%04X", rsp.DimseStatus);
    why = buf;
    return Outcome::refused;
}

static void mark_sent(kk_gateway *gw, const std::string &name)
{
    std::string sop = name.substr(0, name.size() - 4);
    {
        std::lock_guard<std::mutex> l(gw->q_mu);
        gw->sent.insert(sop);
    }
    int fd = open(spool_path(gw, "sent", sop).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        say(gw, KK_GATEWAY_ERROR, "cannot record the delivery of %s (%s): after a restart a "
            "re-sent copy would be forwarded again", sop.c_str(), strerror(errno));
    else
        close(fd);
    unlink(spool_path(gw, "queue", name).c_str());
}

static void dead_letter(kk_gateway *gw, const Entry &e, const std::string &cls)
{
    std::string sop = e.name.substr(0, e.name.size() - 4);
    std::string txt = spool_path(gw, "dead", sop + ".txt");
    FILE *f = fopen(txt.c_str(), "w");
    if (f) {
        fprintf(f, "sop_instance_uid: %s\nsop_class: %s\nattempts: %d\nreason: %s\n",
                sop.c_str(), cls.c_str(), e.attempts, e.last.c_str());
        fclose(f);
    }
    if (rename(spool_path(gw, "queue", e.name).c_str(), spool_path(gw, "dead", e.name).c_str()) != 0)
        say(gw, KK_GATEWAY_ERROR, "cannot move %s to the dead-letter folder: %s", e.name.c_str(),
            strerror(errno));
    gw->n_dead++;
    count(gw, cls, "", &Tally::dead);
    say(gw, KK_GATEWAY_ERROR, "%s (%s) moved to dead/ after %d attempts: %s", sop.c_str(),
        cls.c_str(), e.attempts, e.last.c_str());
}

static void sender(kk_gateway *gw, int index)
{
    Link link;
    link.gw = gw;
    link.index = index;
    link.net = gw->out_nets[(size_t)index];
    link.sending_fd = gw->sending_fds[(size_t)index];
    const int max_attempts = gw->o.max_attempts > 0 ? gw->o.max_attempts : 5;
    const double d0 = gw->o.retry_delay > 0 ? gw->o.retry_delay : 1.0;
    const double dmax = gw->o.retry_max > 0 ? gw->o.retry_max : 60.0;
    const double drain = gw->o.drain_seconds == 0 ? 10.0 : gw->o.drain_seconds;
    Clock::time_point drain_end{};
    bool draining = false;
    for (;;) {
        try {
            Entry e;
            bool have = false;
            {
                std::unique_lock<std::mutex> l(gw->q_mu);
                auto now = Clock::now();
                if (gw->receivers_done && !draining) {
                    draining = true;
                    drain_end = now + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(drain > 0 ? drain : 0));
                }
                if (draining && (now >= drain_end || (gw->queue.empty() && gw->later.empty())))
                    break;
                while (!gw->later.empty() && gw->later.begin()->first <= now) {
                    gw->queue.push_front(gw->later.begin()->second);
                    gw->later.erase(gw->later.begin());
                }
                if (!gw->queue.empty() && now >= link.retry_at) {
                    e = gw->queue.front();
                    gw->queue.pop_front();
                    have = true;
                } else {
                    auto until = now + std::chrono::milliseconds(200);
                    if (!gw->later.empty() && gw->later.begin()->first < until)
                        until = gw->later.begin()->first;
                    if (link.retry_at > now && link.retry_at < until)
                        until = link.retry_at;
                    gw->q_cv.wait_until(l, until);
                }
            }
            if (!have) {
                /* an idle association is released after 10 s */
                if (link.assoc && seconds_since(link.last_use) > 10)
                    link.close(false);
                continue;
            }
            std::string why, cls;
            unsigned status = 0;
            Outcome out = Outcome::no_link;
            bool settled = false;
            if (e.unknown) {
                /* exactly once: a C-STORE of it may have been stored without
                 * its answer reaching us; the destination knows */
                Has has = Clock::now() < link.retry_at ? Has::no_link
                                                       : ask_destination(gw, link, e.name, why);
                if (has == Has::no_link) {
                    why = "cannot ask the destination whether it has " + e.name + ": " + why;
                } else {
                    gw->n_unknown++;
                    e.unknown = false;
                    if (has == Has::yes) {
                        gw->n_unknown_found++;
                        say(gw, KK_GATEWAY_INFO, "%s: the answer to its last C-STORE never came; "
                            "the destination has it: not sent again", e.name.c_str());
                        out = Outcome::delivered;
                        settled = true;
                    } else if (has == Has::no) {
                        say(gw, KK_GATEWAY_INFO, "%s: the answer to its last C-STORE never came; "
                            "the destination does not have it: sending", e.name.c_str());
                    } else {
                        gw->n_unknown_resent++;
                        say(gw, KK_GATEWAY_WARN, "%s: the answer to its last C-STORE never came "
                            "and the destination cannot be asked (%s): sending again, it may "
                            "arrive twice", e.name.c_str(), why.c_str());
                    }
                    why.clear();
                }
            }
            if (!e.unknown && !settled)
                out = send_one(gw, link, e.name, why, cls, &status);
            if (out == Outcome::delivered) {
                link.backoff = 0;
                mark_sent(gw, e.name);
                gw->n_forwarded++;
                if (status != STATUS_Success)
                    gw->n_fwd_warn++;
                if (!settled)
                    count(gw, cls, "", &Tally::forwarded);
                {
                    std::lock_guard<std::mutex> s(gw->stats_mu);
                    gw->forwarded_by[(size_t)index]++;
                }
                std::lock_guard<std::mutex> l(gw->q_mu);
                gw->queued.erase(e.name);
                auto it = gw->arrived.find(e.name);
                if (it != gw->arrived.end()) {
                    std::lock_guard<std::mutex> s(gw->stats_mu);
                    if (gw->latency.size() < 1000000)
                        gw->latency.push_back(seconds_since(it->second));
                    gw->arrived.erase(it);
                }
                if (status != STATUS_Success)
                    say(gw, KK_GATEWAY_INFO, "%s forwarded with warning 0x%04X (stored)",
                        e.name.c_str(), status);
                continue;
            }
            if (out == Outcome::no_link) {
                /* the destination is down: back off the destination, the
                 * object keeps its place and its attempts */
                link.backoff = link.backoff > 0 ? std::min(link.backoff * 2, dmax) : d0;
                link.retry_at = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                   std::chrono::duration<double>(link.backoff));
                say(gw, KK_GATEWAY_WARN, "%s; next try in %.1f s", why.c_str(), link.backoff);
                std::lock_guard<std::mutex> l(gw->q_mu);
                gw->queue.push_front(e);
                continue;
            }
            if (out == Outcome::cannot_read && access(spool_path(gw, "queue", e.name).c_str(), F_OK) != 0) {
                /* gone from the queue (removed by hand): nothing to send */
                std::lock_guard<std::mutex> l(gw->q_mu);
                gw->queued.erase(e.name);
                continue;
            }
            e.attempts++;
            e.last = why;
            if (out == Outcome::failed) {
                link.backoff = 0; /* the link works; this object failed on it */
                e.unknown = true; /* it may have been stored before the link broke */
            }
            if (e.attempts >= max_attempts || out == Outcome::cannot_read) {
                dead_letter(gw, e, cls.empty() ? "unknown" : cls);
                std::lock_guard<std::mutex> l(gw->q_mu);
                gw->queued.erase(e.name);
                continue;
            }
            double delay = std::min(d0 * (double)(1u << std::min(e.attempts - 1, 20)), dmax);
            gw->n_retries++;
            say(gw, KK_GATEWAY_WARN, "%s: attempt %d of %d failed: %s; next in %.1f s",
                e.name.c_str(), e.attempts, max_attempts, why.c_str(), delay);
            std::lock_guard<std::mutex> l(gw->q_mu);
            gw->later.emplace(Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::duration<double>(delay)),
                              e);
        } catch (const std::exception &ex) {
            /* the loop survives anything: the object stays in the queue
             * folder and is picked up after a restart at the latest */
            say(gw, KK_GATEWAY_ERROR, "sender: %s; going on", ex.what());
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        } catch (...) {
            say(gw, KK_GATEWAY_ERROR, "sender: unexpected error; going on");
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
    link.close(false);
    std::lock_guard<std::mutex> l(gw->q_mu);
    size_t left = gw->queue.size() + gw->later.size();
    if (left && index == 0)
        say(gw, KK_GATEWAY_WARN, "%zu objects stay queued in the spool for the next start", left);
}

/* ---- set-up ------------------------------------------------------------ */

static kk_status make_dirs(kk_gateway *gw, kk_ctx *ctx)
{
    if (mkdir(gw->spool.c_str(), 0700) != 0 && errno != EEXIST)
        return kk__fail(ctx, KK_EIO, "cannot create the spool folder '%s': %s", gw->spool.c_str(),
                        strerror(errno));
    for (const char *sub : { "tmp", "queue", "sent", "dead" }) {
        std::string p = spool_path(gw, sub);
        if (mkdir(p.c_str(), 0700) != 0 && errno != EEXIST)
            return kk__fail(ctx, KK_EIO, "cannot create '%s': %s", p.c_str(), strerror(errno));
    }
    return KK_OK;
}

/* What a killed gateway left: half-written objects go, queued ones are
 * sent (unless delivered already, when the kill came between sent/ and
 * the removal), and the one spool/sending names, if not marked sent, has
 * an unknown outcome: the sender asks the destination first. */
static void resume(kk_gateway *gw)
{
    /* every sending file an earlier run may have left, however many
     * senders it had */
    std::unordered_set<std::string> inflight;
    for (int i = 0; i < KK_MAX_FORWARD_ASSOCIATIONS; i++) {
        char buf[512];
        int fd = open(spool_path(gw, sending_name(i).c_str()).c_str(), O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
        if (fd >= 0)
            close(fd);
        if (n > 0) {
            buf[n] = 0;
            buf[strcspn(buf, "\n")] = 0;
            inflight.insert(buf);
        }
    }
    std::vector<std::string> names;
    for (const char *sub : { "tmp", "queue" }) {
        std::string dir = spool_path(gw, sub);
        DIR *d = opendir(dir.c_str());
        if (!d)
            continue;
        while (struct dirent *de = readdir(d)) {
            if (de->d_name[0] == '.')
                continue;
            if (strcmp(sub, "tmp") == 0)
                unlink((dir + "/" + de->d_name).c_str());
            else
                names.push_back(de->d_name);
        }
        closedir(d);
    }
    std::sort(names.begin(), names.end());
    for (const auto &n : names) {
        if (n.size() < 5 || n.compare(n.size() - 4, 4, ".dcm") != 0)
            continue;
        struct stat sb;
        if (stat(spool_path(gw, "sent", n.substr(0, n.size() - 4)).c_str(), &sb) == 0) {
            unlink(spool_path(gw, "queue", n).c_str());
            continue;
        }
        enqueue(gw, n, inflight.count(n) > 0);
        gw->n_resumed++;
    }
    if (gw->n_resumed)
        say(gw, KK_GATEWAY_INFO, "%lu objects left queued by an earlier run will be forwarded",
            gw->n_resumed.load());
}

static kk_status listen_on(kk_gateway *gw, kk_ctx *ctx)
{
    /* DCMTK's acceptor listens on every interface: replace its socket by
     * one bound to the address asked for, under the same descriptor */
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)gw->o.port);
    if (inet_pton(AF_INET, gw->bind_addr.c_str(), &sa.sin_addr) != 1)
        return kk__fail(ctx, KK_EINVAL, "--bind '%s' is not an IPv4 address", gw->bind_addr.c_str());
    OFCondition c = ASC_initializeNetwork(NET_ACCEPTOR, gw->o.port, 30, &gw->net);
    if (c.bad())
        return kk__fail(ctx, KK_EIO, "cannot listen on port %d: %s", gw->o.port, c.text());
    PRIVATE_NETWORKKEY *key = reinterpret_cast<PRIVATE_NETWORKKEY *>(gw->net->network);
    int old = key->networkSpecific.TCP.listenSocket;
    close(old);
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(s, reinterpret_cast<struct sockaddr *>(&sa), sizeof sa) != 0 || listen(s, 64) != 0 ||
        (s != old && dup2(s, old) < 0)) {
        int e = errno;
        if (s >= 0 && s != old)
            close(s);
        /* DCMTK closes `old` when the network is dropped: keep it valid */
        int fill = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fill >= 0 && fill != old) {
            dup2(fill, old);
            close(fill);
        }
        return kk__fail(ctx, KK_EIO, "cannot listen on %s:%d: %s", gw->bind_addr.c_str(),
                        gw->o.port, strerror(e));
    }
    if (s != old) /* socket() may give the number just closed */
        close(s);
    return KK_OK;
}

/* A TLS context for one side: our key and certificate (optional for the
 * requestor), the CA the peer must chain to (none: the peer is not
 * checked, acceptor only), the BCP 195 profile storescp/storescu default
 * to. */
static kk_status make_tls(kk_ctx *ctx, T_ASC_NetworkRole role, const char *key, const char *cert,
                          const char *ca, DcmTLSTransportLayer **out)
{
    const char *side = role == NET_ACCEPTOR ? "listening" : "forwarding";
    DcmTLSTransportLayer *t = new (std::nothrow) DcmTLSTransportLayer(role, nullptr, OFTrue);
    if (!t)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    OFCondition c = EC_Normal;
    const char *what = "";
    if (key) {
        what = "private key";
        c = t->setPrivateKeyFile(key, DCF_Filetype_PEM);
        if (c.good()) {
            what = "certificate";
            c = t->setCertificateFile(cert, DCF_Filetype_PEM);
        }
        if (c.good() && !t->checkPrivateKeyMatchesCertificate()) {
            delete t;
            return kk__fail(ctx, KK_EIO, "TLS (%s side): the private key '%s' does not match "
                            "the certificate '%s'", side, key, cert);
        }
    }
    if (c.good() && ca) {
        what = "CA certificate";
        c = t->addTrustedCertificateFile(ca, DCF_Filetype_PEM);
    }
    if (c.good()) {
        what = "profile";
        c = t->setTLSProfile(TSP_Profile_BCP195);
    }
    if (c.good())
        c = t->activateCipherSuites();
    if (c.bad()) {
        delete t;
        return kk__fail(ctx, KK_EIO, "TLS (%s side): cannot use the %s: %s", side, what, c.text());
    }
    t->setCertificateVerification(ca ? DCV_requireCertificate : DCV_ignoreCertificate);
    *out = t;
    return KK_OK;
}

/* ---- the public API ---------------------------------------------------- */

kk_status kk_gateway_new(kk_gateway **out, kk_ctx *ctx, const kk_gateway_options *opts)
{
    *out = nullptr;
    if (!opts || !opts->deid || !opts->spool_dir || !*opts->spool_dir || !opts->forward_ae ||
        !opts->forward_host)
        return kk__fail(ctx, KK_EINVAL, "kk_gateway_new: missing option (run, spool or "
                        "destination)");
    if (opts->port < 1 || opts->port > 65535 || opts->forward_port < 1 ||
        opts->forward_port > 65535)
        return kk__fail(ctx, KK_EINVAL, "port out of range (1-65535)");
    const char *ae = opts->ae_title ? opts->ae_title : "KAKOU";
    if (!*ae || strlen(ae) > 16 || !*opts->forward_ae || strlen(opts->forward_ae) > 16)
        return kk__fail(ctx, KK_EINVAL, "an AE title has 1 to 16 characters");
    kk_gateway_options o = KK_GATEWAY_OPTIONS_INIT;
    /* a version-1 caller's struct ends before the TLS fields */
    memcpy(&o, opts, opts->version >= 3   ? sizeof o
                     : opts->version >= 2 ? offsetof(kk_gateway_options, forward_associations)
                                          : offsetof(kk_gateway_options, tls_key));
    if (o.forward_associations < 0 || o.forward_associations > KK_MAX_FORWARD_ASSOCIATIONS)
        return kk__fail(ctx, KK_EINVAL, "forwarding associations: 1 to %d",
                        KK_MAX_FORWARD_ASSOCIATIONS);
    if (!o.tls_key != !o.tls_cert || (o.tls_ca && !o.tls_key))
        return kk__fail(ctx, KK_EINVAL, "TLS: give the listening side's key and certificate "
                        "together (and a CA only with them)");
    if ((o.forward_tls && !o.forward_ca) || (!o.forward_tls && (o.forward_ca || o.forward_key)) ||
        !o.forward_key != !o.forward_cert)
        return kk__fail(ctx, KK_EINVAL, "TLS: forwarding over TLS needs the CA the destination's "
                        "certificate chains to (and a key only with its certificate)");
    kk_gateway *gw = new (std::nothrow) kk_gateway;
    if (!gw)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    gw->o = o;
    gw->ae = ae;
    gw->bind_addr = opts->bind_address ? opts->bind_address : "127.0.0.1";
    gw->fwd_ae = opts->forward_ae;
    gw->fwd_host = opts->forward_host;
    gw->spool = opts->spool_dir;
    gw->deid = opts->deid;
    gw->store = kk_deid__store(opts->deid);
    for (const char *const *a = opts->allow; a && *a; a++)
        gw->allow.push_back(*a);
    gw->o.ae_title = gw->o.bind_address = gw->o.forward_ae = gw->o.forward_host = nullptr;
    gw->o.spool_dir = nullptr;
    gw->o.allow = nullptr;
    gw->o.tls_key = gw->o.tls_cert = gw->o.tls_ca = nullptr; /* read below, not kept */
    gw->o.forward_ca = gw->o.forward_key = gw->o.forward_cert = nullptr;
    kk_preload();
    /* every transfer syntax DCMTK knows, uncompressed first */
    for (int i = EXS_LittleEndianImplicit; i <= EXS_HEVCMain10ProfileLevel5_1; i++) {
        E_TransferSyntax x = static_cast<E_TransferSyntax>(i);
        if (x == EXS_BigEndianImplicit)
            continue;
        DcmXfer dx(x);
        if (dx.getXfer() == EXS_Unknown)
            continue;
        if (x == EXS_LittleEndianExplicit)
            gw->xfers.insert(gw->xfers.begin(), dx.getXferID());
        else
            gw->xfers.push_back(dx.getXferID());
    }
    /* a dead destination must not hold the sender for long */
    dcmConnectionTimeout.set(10);
    kk_status st = make_dirs(gw, ctx);
    if (st == KK_OK)
        st = listen_on(gw, ctx);
    int nsend = o.forward_associations > 0 ? o.forward_associations : 1;
    for (int i = 0; st == KK_OK && i < nsend; i++) {
        /* a requestor network per sender: DCMTK's are not shared across
         * threads by its own tools */
        T_ASC_Network *net = nullptr;
        OFCondition c = ASC_initializeNetwork(NET_REQUESTOR, 0, 30, &net);
        if (c.bad())
            st = kk__fail(ctx, KK_EIO, "cannot start the network: %s", c.text());
        else
            gw->out_nets.push_back(net);
    }
    if (st == KK_OK && o.tls_key) {
        st = make_tls(ctx, NET_ACCEPTOR, o.tls_key, o.tls_cert, o.tls_ca, &gw->tls_in);
        if (st == KK_OK && ASC_setTransportLayer(gw->net, gw->tls_in, 0).bad())
            st = kk__fail(ctx, KK_EIO, "TLS (listening side): cannot be set up");
    }
    if (st == KK_OK && o.forward_tls) {
        st = make_tls(ctx, NET_REQUESTOR, o.forward_key, o.forward_cert, o.forward_ca,
                      &gw->tls_out);
        for (T_ASC_Network *net : gw->out_nets)
            if (st == KK_OK && ASC_setTransportLayer(net, gw->tls_out, 0).bad())
                st = kk__fail(ctx, KK_EIO, "TLS (forwarding side): cannot be set up");
    }
    if (st != KK_OK) {
        kk_gateway_free(gw);
        return st;
    }
    resume(gw);
    for (int i = 0; i < nsend; i++) {
        gw->sending_fds.push_back(open(spool_path(gw, sending_name(i).c_str()).c_str(),
                                       O_RDWR | O_CREAT | O_CLOEXEC, 0600));
        gw->forwarded_by.push_back(0);
    }
    *out = gw;
    return KK_OK;
}

kk_status kk_gateway_run(kk_gateway *gw, kk_ctx *ctx)
{
    if (!gw)
        return kk__fail(ctx, KK_EINVAL, "kk_gateway_run: no gateway");
    say(gw, KK_GATEWAY_INFO, "%s listening on %s:%d%s, forwarding to %s@%s:%d%s", gw->ae.c_str(),
        gw->bind_addr.c_str(), gw->o.port, gw->tls_in ? " (TLS)" : "", gw->fwd_ae.c_str(),
        gw->fwd_host.c_str(), gw->o.forward_port, gw->tls_out ? " (TLS)" : "");
    std::vector<std::thread> fwd;
    try {
        for (size_t i = 0; i < gw->out_nets.size(); i++)
            fwd.emplace_back(sender, gw, (int)i);
    } catch (const std::exception &) {
        /* the ones started end once told the receivers are done */
        {
            std::lock_guard<std::mutex> l(gw->q_mu);
            gw->receivers_done = true;
            gw->q_cv.notify_all();
        }
        for (auto &t : fwd)
            t.join();
        return kk__fail(ctx, KK_ENOMEM, "cannot start the sender threads");
    }
    while (!gw->stop) {
        if (ASC_associationWaiting(gw->net, 1))
            accept_one(gw);
    }
    say(gw, KK_GATEWAY_INFO, "stopping: no new associations; %d open", gw->active.load());
    while (gw->active > 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    {
        std::lock_guard<std::mutex> l(gw->q_mu);
        gw->receivers_done = true;
        gw->q_cv.notify_all();
    }
    for (auto &t : fwd)
        t.join();
    if (gw->store && kk_store_flush(gw->store, ctx) != KK_OK)
        return kk__fail(ctx, KK_ESTORE, "cannot commit the store: %s", kk_error_message(ctx));
    say(gw, KK_GATEWAY_INFO, "stopped: %lu received, %lu stored, %lu forwarded, %lu dead letters",
        gw->n_received.load(), gw->n_stored.load(), gw->n_forwarded.load(), gw->n_dead.load());
    return KK_OK;
}

void kk_gateway_stop(kk_gateway *gw)
{
    if (gw)
        gw->stop.store(true);
}

static void json_str(FILE *fp, const std::string &s)
{
    fputc('"', fp);
    for (unsigned char ch : s) {
        if (ch == '"' || ch == '\\')
            fprintf(fp, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(fp, "\\u%04x", ch);
        else
            fputc(ch, fp);
    }
    fputc('"', fp);
}

static void json_tallies(FILE *fp, const std::map<std::string, Tally> &m)
{
    fputc('{', fp);
    bool first = true;
    for (const auto &kv : m) {
        fputs(first ? "" : ", ", fp);
        first = false;
        json_str(fp, kv.first);
        const Tally &t = kv.second;
        fprintf(fp, ": {\"received\": %lu, \"stored\": %lu, \"refused\": %lu, \"forwarded\": %lu, "
                "\"dead\": %lu}", t.received, t.stored, t.refused, t.forwarded, t.dead);
    }
    fputc('}', fp);
}

kk_status kk_gateway_report(kk_gateway *gw, kk_ctx *ctx, FILE *fp)
{
    if (!gw || !fp)
        return kk__fail(ctx, KK_EINVAL, "kk_gateway_report: missing argument");
    std::lock_guard<std::mutex> l(gw->stats_mu);
    fprintf(fp, "{\"ae_title\": ");
    json_str(fp, gw->ae);
    fprintf(fp, ", \"destination\": ");
    json_str(fp, gw->fwd_ae + "@" + gw->fwd_host + ":" + std::to_string(gw->o.forward_port));
    fprintf(fp, ", \"associations\": %lu, \"associations_refused\": %lu, \"echoes\": %lu, "
            "\"received\": %lu, \"stored\": %lu, \"duplicates\": %lu, \"refused_resources\": %lu, "
            "\"refused_deid\": %lu, \"resumed\": %lu, \"forwarded\": %lu, "
            "\"forwarded_with_warning\": %lu, \"retries\": %lu, \"dead_letters\": %lu, "
            "\"unknown_outcomes\": %lu, \"unknown_found\": %lu, \"unknown_resent\": %lu",
            gw->n_assoc.load(), gw->n_rejected.load(), gw->n_echo.load(), gw->n_received.load(),
            gw->n_stored.load(), gw->n_dup.load(), gw->n_refused_spool.load(),
            gw->n_refused_deid.load(), gw->n_resumed.load(), gw->n_forwarded.load(),
            gw->n_fwd_warn.load(), gw->n_retries.load(), gw->n_dead.load(), gw->n_unknown.load(),
            gw->n_unknown_found.load(), gw->n_unknown_resent.load());
    fprintf(fp, ", \"destination_statuses\": {");
    bool first = true;
    for (const auto &kv : gw->dest_status) {
        fprintf(fp, "%s\"0x%04X\": %lu", first ? "" : ", ", kv.first, kv.second);
        first = false;
    }
    fprintf(fp, "}, \"forwarded_by_association\": [");
    for (size_t i = 0; i < gw->forwarded_by.size(); i++)
        fprintf(fp, "%s%lu", i ? ", " : "", gw->forwarded_by[i]);
    fprintf(fp, "], \"sop_classes\": ");
    json_tallies(fp, gw->by_class);
    fprintf(fp, ", \"calling_ae_titles\": ");
    json_tallies(fp, gw->by_ae);
    if (!gw->latency.empty()) {
        std::vector<double> v = gw->latency;
        std::sort(v.begin(), v.end());
        fprintf(fp, ", \"latency_seconds\": {\"median\": %.4f, \"p95\": %.4f, \"max\": %.4f}",
                v[v.size() / 2], v[(size_t)((double)(v.size() - 1) * 0.95)], v.back());
    }
    fprintf(fp, "}\n");
    if (ferror(fp))
        return kk__fail(ctx, KK_EIO, "cannot write the report: %s", strerror(errno));
    return KK_OK;
}

void kk_gateway_free(kk_gateway *gw)
{
    if (!gw)
        return;
    if (gw->net)
        ASC_dropNetwork(&gw->net);
    for (T_ASC_Network *&net : gw->out_nets)
        if (net)
            ASC_dropNetwork(&net);
    for (int fd : gw->sending_fds)
        if (fd >= 0)
            close(fd);
    delete gw->tls_in;
    delete gw->tls_out;
    delete gw;
}
