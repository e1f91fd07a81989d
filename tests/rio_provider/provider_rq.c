/*
 * provider_rq.c - request queues: create and resize (with the CQ room
 * they reserve), RIOSend/RIOReceive with RIO_MSG_DEFER, RIO_MSG_COMMIT_ONLY
 * and RIO_MSG_DONT_NOTIFY, the per-RQ limits, and the lazy reaping of RQs
 * whose socket was closed.
 *
 * Reservations: an RQ reserves MaxOutstandingReceive slots of its receive
 * CQ and MaxOutstandingSend of its send CQ for as long as it lives; a CQ
 * never has more reserved than its size (RIOCreateRequestQueue and
 * RIOResizeRequestQueue fail with WSAENOBUFS, RIOResizeCompletionQueue with
 * WSAETOOMANYREFS). A request holds its slot ("charge") from the call until
 * its result is dequeued - real RIO releases a request's quota only then -
 * so a CQ whose RQs respect their limits cannot overflow.
 *
 * Reaping: RIO has no RQ close; an RQ lives until its socket is closed.
 * The provider cannot hook closesocket, so it looks lazily: on
 * RIOCreateRequestQueue and on resizes that lack room, on a request that
 * finishes with an error, on an empty dequeue of a CQ some request is held
 * for, and on RIOCloseCompletionQueue for the RQs that used it, an RQ whose
 * socket answers getsockopt(SO_TYPE) with WSAENOTSOCK is dead: its held
 * (deferred) requests complete with WSA_OPERATION_ABORTED, and once nothing
 * of it is outstanding (no request held, in flight or waiting to be
 * dequeued) it is freed and its reservation given back. A new RQ for the
 * SOCKET value of a live RQ also marks the old one dead: that socket must
 * have been closed and its handle value reused. (A second
 * RIOCreateRequestQueue on the very same open socket - an error with real
 * RIO - looks the same and is not caught.)
 */
#include "provider_internal.h"

#include <stdlib.h>

#define PROV_MAX_RQS 16384

static prov_table prov_rqs = {.cap = PROV_MAX_RQS, .kind = PROV_KIND_RQ};

static bool prov_socket_gone(SOCKET s)
{
    int saved = WSAGetLastError();
    int type = 0, len = sizeof(type);
    bool gone = getsockopt(s, SOL_SOCKET, SO_TYPE, (char *)&type, &len) != 0 && WSAGetLastError() == WSAENOTSOCK;
    WSASetLastError(saved);
    return gone;
}

static void prov_rq_reap(prov_rq *rq)
{
    if (rq->rcq) rq->rcq->reserved -= rq->max_recv;
    if (rq->scq) rq->scq->reserved -= rq->max_send;
    prov_table_remove(&prov_rqs, rq->handle);
    free(rq);
    PROV_COUNT(rq_reaps);
}

static bool prov_rq_idle(const prov_rq *rq)
{
    return rq->charged_recv == 0 && rq->charged_send == 0 && !atomic_load(&rq->busy);
}

void prov_rq_release(prov_rq *rq, bool is_send, prov_buffer *buffer)
{
    if (is_send)
        rq->charged_send--;
    else
        rq->charged_recv--;
    buffer->refs--;
    if (rq->dead && prov_rq_idle(rq)) prov_rq_reap(rq);
}

/* A request that will not be started: its result goes to its CQ now
 * (the charge stays until it is dequeued). May reap the RQ. */
static void prov_req_complete(prov_req *req, LONG status, ULONG bytes)
{
    prov_entry e = {
        .result = {.Status = status,
                   .BytesTransferred = bytes,
                   .SocketContext = (ULONGLONG)(uintptr_t)req->rq->socket_context,
                   .RequestContext = (ULONGLONG)(uintptr_t)req->request_context},
        .rq = req->rq,
        .buffer = req->buffer,
        .is_send = req->is_send,
        .notify = !(req->flags & RIO_MSG_DONT_NOTIFY),
    };
    if (status == 0) {
        if (req->is_send)
            PROV_ADD(bytes_sent, bytes);
        else
            PROV_ADD(bytes_received, bytes);
    }
    prov_cq *cq = req->cq;
    prov_req_free(req);
    prov_cq_complete(cq, &e);
}

/* Its socket is closed: held requests complete aborted; reaped once idle.
 * rq may be gone on return. */
static void prov_rq_mark_dead(prov_rq *rq)
{
    rq->dead = true;
    prov_req *held[2] = {rq->held_recv, rq->held_send};
    rq->held_recv = rq->held_recv_tail = rq->held_send = rq->held_send_tail = NULL;
    if (!held[0] && !held[1]) {
        if (prov_rq_idle(rq)) prov_rq_reap(rq);
        return;
    }
    for (int i = 0; i < 2; i++) {
        for (prov_req *req = held[i], *next; req; req = next) {
            next = req->next;
            req->cq->held--;
            prov_req_complete(req, WSA_OPERATION_ABORTED, 0); /* the last may reap rq */
        }
    }
}

void prov_rqs_sweep(void)
{
    for (uint32_t i = 0; prov_rqs.slots && i < prov_rqs.cap; i++) {
        prov_rq *rq = prov_rqs.slots[i];
        if (!rq) continue;
        if (!rq->dead && prov_socket_gone(rq->socket))
            prov_rq_mark_dead(rq);
        else if (rq->dead && prov_rq_idle(rq))
            prov_rq_reap(rq);
    }
}

void prov_rqs_sweep_held(prov_cq *cq)
{
    for (uint32_t i = 0; prov_rqs.slots && i < prov_rqs.cap; i++) {
        prov_rq *rq = prov_rqs.slots[i];
        if (!rq || rq->dead) continue;
        bool holds = (rq->held_recv && rq->held_recv->cq == cq) || (rq->held_send && rq->held_send->cq == cq);
        if (holds && prov_socket_gone(rq->socket)) prov_rq_mark_dead(rq);
    }
}

void prov_rqs_forget_cq(prov_cq *cq)
{
    for (uint32_t i = 0; prov_rqs.slots && i < prov_rqs.cap; i++) {
        prov_rq *rq = prov_rqs.slots[i];
        if (!rq) continue;
        for (int send = 0; send < 2; send++) {
            prov_cq **side = send ? &rq->scq : &rq->rcq;
            if (*side != cq) continue;
            *side = NULL;
            /* only a corrupt CQ closes with requests held for it: drop them */
            prov_req **head = send ? &rq->held_send : &rq->held_recv;
            prov_req **tail = send ? &rq->held_send_tail : &rq->held_recv_tail;
            for (prov_req *req = *head, *next; req; req = next) {
                next = req->next;
                cq->held--;
                cq->pending--;
                prov_buffer *buffer = req->buffer;
                prov_req_free(req);
                if (send)
                    rq->charged_send--;
                else
                    rq->charged_recv--;
                buffer->refs--;
            }
            *head = *tail = NULL;
        }
        /* a good moment to look whether its socket is still there */
        if (!rq->dead && prov_socket_gone(rq->socket))
            prov_rq_mark_dead(rq);
        else if (rq->dead && prov_rq_idle(rq))
            prov_rq_reap(rq);
    }
}

static bool prov_cq_room(const prov_cq *rcq, const prov_cq *scq, uint64_t recv, uint64_t send)
{
    if (rcq == scq) return rcq->reserved + recv + send <= rcq->size;
    return rcq->reserved + recv <= rcq->size && scq->reserved + send <= scq->size;
}

RIO_RQ PASCAL prov_RIOCreateRequestQueue(SOCKET s, ULONG max_recv, ULONG recv_buffers, ULONG max_send,
                                         ULONG send_buffers, RIO_CQ rcq_handle, RIO_CQ scq_handle, PVOID context)
{
    if (max_recv == 0 && max_send == 0) {
        prov_violation("RIOCreateRequestQueue: MaxOutstandingReceive and MaxOutstandingSend are both 0");
        return RIO_INVALID_RQ;
    }
    if (recv_buffers != 1 || send_buffers != 1) {
        prov_violation("RIOCreateRequestQueue: MaxReceiveDataBuffers %lu, MaxSendDataBuffers %lu: both must be 1 "
                       "(Windows 8 / Server 2012)",
                       (unsigned long)recv_buffers, (unsigned long)send_buffers);
        return RIO_INVALID_RQ;
    }
    int type = 0, len = sizeof(type);
    if (getsockopt(s, SOL_SOCKET, SO_TYPE, (char *)&type, &len) != 0) {
        int err = WSAGetLastError();
        prov_violation("RIOCreateRequestQueue: socket %llu is not a socket (error %d)", (unsigned long long)s, err);
        WSASetLastError(err);
        return RIO_INVALID_RQ;
    }
    if (type != SOCK_STREAM) {
        prov_violation("RIOCreateRequestQueue: socket %llu is not a TCP socket: the test provider does TCP only",
                       (unsigned long long)s);
        return RIO_INVALID_RQ;
    }
    prov_rq *rq = calloc(1, sizeof(*rq));
    if (!rq) {
        WSASetLastError(WSAENOBUFS);
        return RIO_INVALID_RQ;
    }
    prov_lock();
    prov_cq *rcq = prov_cq_get(rcq_handle), *scq = prov_cq_get(scq_handle);
    if (!rcq || !scq) {
        prov_unlock();
        free(rq);
        prov_violation("RIOCreateRequestQueue: %s CQ %p is not a completion queue", rcq ? "send" : "receive",
                       rcq ? (void *)scq_handle : (void *)rcq_handle);
        return RIO_INVALID_RQ;
    }
    for (uint32_t i = 0; prov_rqs.slots && i < prov_rqs.cap; i++) {
        prov_rq *old = prov_rqs.slots[i];
        if (old && !old->dead && old->socket == s) prov_rq_mark_dead(old); /* a closed socket's reused value */
    }
    if (!prov_cq_room(rcq, scq, max_recv, max_send)) prov_rqs_sweep();
    if (!prov_cq_room(rcq, scq, max_recv, max_send)) {
        prov_unlock();
        free(rq);
        WSASetLastError(WSAENOBUFS); /* documented: the CQs lack the capacity */
        return RIO_INVALID_RQ;
    }
    rq->socket = s;
    rq->max_recv = max_recv;
    rq->max_send = max_send;
    rq->rcq = rcq;
    rq->scq = scq;
    rq->socket_context = context;
    rq->handle = prov_table_add(&prov_rqs, rq);
    if (!rq->handle) {
        prov_unlock();
        free(rq);
        WSASetLastError(WSAENOBUFS);
        return RIO_INVALID_RQ;
    }
    rcq->reserved += max_recv;
    scq->reserved += max_send;
    prov_unlock();
    PROV_COUNT(rq_creates);
    return (RIO_RQ)(uintptr_t)rq->handle;
}

/* Claims rq for a call that RIO requires be serialized per RQ (lock held):
 * NULL after a violation. */
static prov_rq *prov_rq_claim(RIO_RQ handle, const char *call)
{
    prov_rq *rq = prov_table_get(&prov_rqs, prov_handle_of(handle));
    if (!rq) {
        prov_violation("%s(%p): not a request queue (never created, or its socket was closed and it was reaped)", call,
                       (void *)handle);
        return NULL;
    }
    if (atomic_exchange(&rq->busy, 1)) {
        prov_violation("%s(%p): another thread is inside RIOSend/RIOReceive/RIOResizeRequestQueue on the same RQ: "
                       "calls on one RQ must be serialized",
                       call, (void *)handle);
        return NULL;
    }
    return rq;
}

/* Ends a claim (lock held); reaps the RQ if it died idle meanwhile. */
static void prov_rq_unclaim(prov_rq *rq)
{
    atomic_store(&rq->busy, 0);
    if (rq->dead && prov_rq_idle(rq)) prov_rq_reap(rq);
}

BOOL PASCAL prov_RIOResizeRequestQueue(RIO_RQ handle, DWORD max_recv, DWORD max_send)
{
    if (max_recv == 0 && max_send == 0) {
        prov_violation("RIOResizeRequestQueue(%p): MaxOutstandingReceive and MaxOutstandingSend are both 0",
                       (void *)handle);
        return FALSE;
    }
    prov_lock();
    prov_rq *rq = prov_rq_claim(handle, "RIOResizeRequestQueue");
    if (!rq) {
        prov_unlock();
        return FALSE;
    }
    BOOL ok = FALSE;
    int err = 0;
    if (rq->dead) {
        prov_violation("RIOResizeRequestQueue(%p): its socket was closed", (void *)handle);
        err = WSAEINVAL;
    } else if (!rq->rcq || !rq->scq) {
        prov_violation("RIOResizeRequestQueue(%p): its completion queue was closed", (void *)handle);
        err = WSAEINVAL;
    } else if (max_recv < rq->charged_recv || max_send < rq->charged_send) {
        err = WSAETOOMANYREFS; /* documented: smaller than what is outstanding */
    } else {
        /* the room it needs beyond its current reservation */
        rq->rcq->reserved -= rq->max_recv;
        rq->scq->reserved -= rq->max_send;
        if (!prov_cq_room(rq->rcq, rq->scq, max_recv, max_send)) prov_rqs_sweep();
        if (prov_cq_room(rq->rcq, rq->scq, max_recv, max_send)) {
            rq->max_recv = max_recv;
            rq->max_send = max_send;
            ok = TRUE;
        } else {
            err = WSAENOBUFS;
        }
        rq->rcq->reserved += rq->max_recv;
        rq->scq->reserved += rq->max_send;
    }
    prov_rq_unclaim(rq);
    prov_unlock();
    if (ok)
        PROV_COUNT(rq_resizes);
    else
        WSASetLastError(err);
    return ok;
}

/* Starts rq's held requests of one direction, in order (lock held); how
 * many. A request Winsock fails at once completes with that error. */
static unsigned prov_rq_commit(prov_rq *rq, bool is_send)
{
    prov_req **head = is_send ? &rq->held_send : &rq->held_recv;
    prov_req **tail = is_send ? &rq->held_send_tail : &rq->held_recv_tail;
    prov_req *req = *head;
    *head = *tail = NULL;
    unsigned n = 0;
    for (prov_req *next; req; req = next, n++) {
        next = req->next;
        req->next = NULL;
        req->cq->held--;
        int err = prov_req_start(req);
        if (err) prov_req_complete(req, err, 0);
    }
    if (n > 0) {
        if (is_send)
            PROV_COUNT(commits);
        else
            PROV_COUNT(receive_commits);
    }
    return n;
}

/* The part of RIOSend/RIOReceive after the claim (lock held). */
static BOOL prov_submit(prov_rq *rq, PRIO_BUF data, DWORD flags, PVOID context, bool is_send, const char *call)
{
    if (rq->dead) {
        prov_violation("%s(%p): its socket was closed", call, (void *)(uintptr_t)rq->handle);
        return FALSE;
    }
    prov_cq *cq = is_send ? rq->scq : rq->rcq;
    if (!cq) {
        prov_violation("%s(%p): its %s completion queue was closed", call, (void *)(uintptr_t)rq->handle,
                       is_send ? "send" : "receive");
        return FALSE;
    }
    if (flags & RIO_MSG_COMMIT_ONLY) {
        if (is_send) PROV_COUNT(commit_calls);
        prov_rq_commit(rq, is_send);
        return TRUE;
    }
    prov_buffer *buffer = prov_buffer_check(data, call);
    if (!buffer) return FALSE;
    if (prov_fault_fires(FP_RIO_FAULT_RQ_FULL)) {
        WSASetLastError(WSAENOBUFS);
        return FALSE;
    }
    ULONG *charged = is_send ? &rq->charged_send : &rq->charged_recv;
    if (*charged >= (is_send ? rq->max_send : rq->max_recv)) {
        WSASetLastError(WSAENOBUFS); /* real RIO's answer for a full request queue */
        return FALSE;
    }
    prov_req *req = prov_req_alloc();
    if (!req) {
        WSASetLastError(WSAENOBUFS);
        return FALSE;
    }
    req->rq = rq;
    req->cq = cq;
    req->buffer = buffer;
    req->is_send = is_send;
    req->flags = flags;
    req->request_context = context;
    req->wsabuf.buf = buffer->base + data->Offset;
    req->wsabuf.len = data->Length;
    req->next = NULL;
    (*charged)++;
    buffer->refs++;
    cq->pending++;
    if (flags & RIO_MSG_DEFER) {
        prov_req **head = is_send ? &rq->held_send : &rq->held_recv;
        prov_req **tail = is_send ? &rq->held_send_tail : &rq->held_recv_tail;
        if (*tail)
            (*tail)->next = req;
        else
            *head = req;
        *tail = req;
        cq->held++;
        if (is_send)
            PROV_COUNT(sends_deferred);
        else
            PROV_COUNT(receives_deferred);
    } else {
        if (is_send) PROV_COUNT(commit_calls);
        prov_rq_commit(rq, is_send); /* what was held goes first */
        int err = prov_req_start(req);
        if (err == WSAENOTSOCK) {
            (*charged)--;
            buffer->refs--;
            cq->pending--;
            prov_req_free(req);
            prov_violation("%s(%p): its socket %llu was closed", call, (void *)(uintptr_t)rq->handle,
                           (unsigned long long)rq->socket);
            return FALSE;
        }
        if (err) prov_req_complete(req, err, 0);
    }
    if (is_send)
        PROV_COUNT(sends);
    else
        PROV_COUNT(receives);
    return TRUE;
}

static BOOL prov_call(RIO_RQ handle, PRIO_BUF data, ULONG count, DWORD flags, PVOID context, bool is_send)
{
    const char *call = is_send ? "RIOSend" : "RIOReceive";
    const DWORD known = RIO_MSG_DONT_NOTIFY | RIO_MSG_DEFER | RIO_MSG_WAITALL | RIO_MSG_COMMIT_ONLY;
    if (flags & ~known) {
        prov_violation("%s(%p): unknown flags 0x%lx", call, (void *)handle, (unsigned long)(flags & ~known));
        return FALSE;
    }
    if (flags & RIO_MSG_COMMIT_ONLY) {
        if (flags != RIO_MSG_COMMIT_ONLY || data || count != 0 || context) {
            prov_violation("%s(%p): RIO_MSG_COMMIT_ONLY takes no other flag, a NULL pData and RequestContext and "
                           "DataBufferCount 0",
                           call, (void *)handle);
            return FALSE;
        }
        /* documented: a commit need not be serialized with the RQ's other calls */
        prov_lock();
        prov_rq *rq = prov_table_get(&prov_rqs, prov_handle_of(handle));
        BOOL ok = FALSE;
        if (!rq)
            prov_violation("%s(%p): not a request queue", call, (void *)handle);
        else
            ok = prov_submit(rq, NULL, flags, NULL, is_send, call);
        prov_unlock();
        return ok;
    }
    if (flags & RIO_MSG_WAITALL) {
        prov_violation("%s(%p): RIO_MSG_WAITALL %s", call, (void *)handle,
                       is_send ? "is for receives" : "is not supported by the test provider");
        return FALSE;
    }
    if (count != 1 || !data) {
        prov_violation("%s(%p): DataBufferCount %lu with pData %p: must be 1 buffer (MaxDataBuffers is 1)", call,
                       (void *)handle, (unsigned long)count, (void *)data);
        return FALSE;
    }
    prov_lock();
    prov_rq *rq = prov_rq_claim(handle, call);
    prov_unlock();
    if (!rq) return FALSE;
    prov_pause_point(FP_RIO_PAUSE_RQ_CALL);
    prov_lock();
    int err = WSAGetLastError();
    BOOL ok = prov_submit(rq, data, flags, context, is_send, call);
    if (!ok) err = WSAGetLastError();
    prov_rq_unclaim(rq);
    prov_unlock();
    WSASetLastError(ok ? 0 : err);
    return ok;
}

BOOL PASCAL prov_RIOReceive(RIO_RQ rq, PRIO_BUF data, ULONG count, DWORD flags, PVOID context)
{
    return prov_call(rq, data, count, flags, context, false);
}

BOOL PASCAL prov_RIOSend(RIO_RQ rq, PRIO_BUF data, ULONG count, DWORD flags, PVOID context)
{
    return prov_call(rq, data, count, flags, context, true);
}

/* The Ex forms only as far as they are the plain ones: no address,
 * control or flags buffer. */
int PASCAL prov_RIOReceiveEx(RIO_RQ rq, PRIO_BUF data, ULONG count, PRIO_BUF local, PRIO_BUF remote, PRIO_BUF control,
                             PRIO_BUF msg_flags, DWORD flags, PVOID context)
{
    if (local || remote || control || msg_flags) {
        prov_violation("RIOReceiveEx(%p) with an address, control or flags buffer: not supported by the test provider",
                       (void *)rq);
        return FALSE;
    }
    return prov_call(rq, data, count, flags, context, false);
}

BOOL PASCAL prov_RIOSendEx(RIO_RQ rq, PRIO_BUF data, ULONG count, PRIO_BUF local, PRIO_BUF remote, PRIO_BUF control,
                           PRIO_BUF msg_flags, DWORD flags, PVOID context)
{
    if (local || remote || control || msg_flags) {
        prov_violation("RIOSendEx(%p) with an address, control or flags buffer: not supported by the test provider",
                       (void *)rq);
        return FALSE;
    }
    return prov_call(rq, data, count, flags, context, true);
}

void prov_rq_finished(prov_req *req, LONG status, ULONG bytes)
{
    prov_rq *rq = req->rq;
    /* an error may mean the socket was closed: its held requests go first,
     * while this request's charge keeps rq alive */
    if (status != 0 && !rq->dead && prov_socket_gone(rq->socket)) prov_rq_mark_dead(rq);
    prov_req_complete(req, status, bytes); /* may reap rq */
}

void prov_rqs_free_all(void)
{
    prov_lock();
    for (uint32_t i = 0; prov_rqs.slots && i < prov_rqs.cap; i++) free(prov_rqs.slots[i]);
    prov_table_free(&prov_rqs);
    prov_unlock();
}
