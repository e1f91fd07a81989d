/*
 * provider_io.c - the overlapped Winsock I/O under the provider's requests.
 *
 * The sockets rio.dll hands over are associated with rio.dll's own I/O
 * completion port (for AcceptEx/ConnectEx), so the provider's WSASend and
 * WSARecv must not complete into that port. Each request's OVERLAPPED
 * names an event with the low-order bit of hEvent set, which (documented
 * for GetQueuedCompletionStatus) keeps the completion packet out of the
 * port; a thread-pool wait on that event reports the end of the request.
 *
 * Requests are pooled (an event and a thread-pool wait each), at most
 * PROV_MAX_REQUESTS at once. While any request is in flight, the provider
 * holds a reference on its own module, dropped by the last callback with
 * FreeLibraryWhenCallbackReturns, so FreeLibrary never unmaps code a
 * pending callback will run.
 *
 * A request's status is Winsock's (WSAGetOverlappedResult); when the
 * socket is gone already (a closesocket cancelled it), the NTSTATUS left in
 * the OVERLAPPED is mapped: STATUS_CANCELLED -> WSA_OPERATION_ABORTED,
 * local/remote disconnects and resets -> WSAECONNABORTED / WSAECONNRESET.
 */
#include "provider_internal.h"

#include <stdlib.h>
#include <string.h>

#define PROV_MAX_REQUESTS 65536

static prov_req *prov_free_reqs, *prov_all_reqs;
static uint32_t prov_req_total;
static _Atomic long prov_inflight;

static VOID CALLBACK prov_io_done(PTP_CALLBACK_INSTANCE instance, PVOID context, PTP_WAIT wait, TP_WAIT_RESULT result);

prov_req *prov_req_alloc(void)
{
    prov_req *req = prov_free_reqs;
    if (req) {
        prov_free_reqs = req->next;
        req->next = NULL;
        return req;
    }
    if (prov_req_total == PROV_MAX_REQUESTS) return NULL;
    req = calloc(1, sizeof(*req));
    if (!req) return NULL;
    req->event = CreateEventW(NULL, TRUE, FALSE, NULL);
    req->wait = req->event ? CreateThreadpoolWait(prov_io_done, req, NULL) : NULL;
    if (!req->wait) {
        if (req->event) CloseHandle(req->event);
        free(req);
        return NULL;
    }
    req->all_next = prov_all_reqs;
    prov_all_reqs = req;
    prov_req_total++;
    return req;
}

void prov_req_free(prov_req *req)
{
    req->rq = NULL;
    req->cq = NULL;
    req->buffer = NULL;
    req->next = prov_free_reqs;
    prov_free_reqs = req;
}

int prov_req_start(prov_req *req)
{
    memset(&req->ov, 0, sizeof(req->ov));
    ResetEvent(req->event);
    req->ov.hEvent = (HANDLE)((uintptr_t)req->event | 1); /* no packet to the socket's port */
    int r;
    if (req->is_send) {
        r = WSASend(req->rq->socket, &req->wsabuf, 1, NULL, 0, &req->ov, NULL);
    } else {
        req->recv_flags = 0;
        r = WSARecv(req->rq->socket, &req->wsabuf, 1, NULL, &req->recv_flags, &req->ov, NULL);
    }
    if (r != 0) {
        int err = WSAGetLastError();
        if (err != WSA_IO_PENDING) return err;
    }
    /* done or pending: either way the event is (or will be) set */
    if (atomic_fetch_add(&prov_inflight, 1) == 0) {
        HMODULE self;
        GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS, (LPCWSTR)prov_module, &self);
    }
    SetThreadpoolWait(req->wait, req->event, NULL);
    return 0;
}

static LONG prov_status_of(ULONG_PTR ntstatus)
{
    switch ((ULONG)ntstatus) {
    case 0xC0000120: /* STATUS_CANCELLED */
        return WSA_OPERATION_ABORTED;
    case 0xC000013B: /* STATUS_LOCAL_DISCONNECT */
    case 0xC0000241: /* STATUS_CONNECTION_ABORTED */
        return WSAECONNABORTED;
    case 0xC000013C: /* STATUS_REMOTE_DISCONNECT */
    case 0xC000020D: /* STATUS_CONNECTION_RESET */
        return WSAECONNRESET;
    case 0xC0000008: /* STATUS_INVALID_HANDLE */
        return WSAENOTSOCK;
    default:
        return WSAECONNABORTED;
    }
}

static VOID CALLBACK prov_io_done(PTP_CALLBACK_INSTANCE instance, PVOID context, PTP_WAIT wait, TP_WAIT_RESULT result)
{
    prov_req *req = context;
    DWORD bytes = 0, flags = 0;
    LONG status = 0;
    /* the request's charge keeps req->rq alive until prov_rq_finished */
    if (!WSAGetOverlappedResult(req->rq->socket, &req->ov, &bytes, FALSE, &flags)) {
        status = WSAGetLastError();
        if (status == WSAENOTSOCK || status == WSA_IO_INCOMPLETE) status = prov_status_of(req->ov.Internal);
        bytes = 0;
    }
    prov_lock();
    prov_rq_finished(req, status, bytes);
    prov_unlock();
    if (atomic_fetch_sub(&prov_inflight, 1) == 1) FreeLibraryWhenCallbackReturns(instance, prov_module);
}

void prov_io_free_all(void)
{
    prov_lock();
    for (prov_req *req = prov_all_reqs, *next; req; req = next) {
        next = req->all_next;
        CloseThreadpoolWait(req->wait);
        CloseHandle(req->event);
        free(req);
    }
    prov_all_reqs = prov_free_reqs = NULL;
    prov_req_total = 0;
    prov_unlock();
}
