/*
 * provider_cq.c - completion queues: create, resize, close, dequeue and
 * RIONotify, and the queueing of each finished request's RIORESULT.
 *
 * A CQ holds at most `size` results. The RQs using it reserve slots
 * (provider_rq.c), so a CQ whose reservations are respected never
 * overflows; a result that finds it full makes it corrupt for good
 * (RIO_CORRUPT_CQ from every dequeue), as in real RIO, and is a violation.
 */
#include "provider_internal.h"

#include <stdlib.h>
#include <string.h>

#define PROV_MAX_CQS 1024

static prov_table prov_cqs = {.cap = PROV_MAX_CQS, .kind = PROV_KIND_CQ};

prov_cq *prov_cq_get(RIO_CQ cq) { return prov_table_get(&prov_cqs, prov_handle_of(cq)); }

static void prov_cq_free(prov_cq *cq)
{
    free(cq->ring);
    free(cq);
}

/* The ring as one run from index 0, in a buffer of cap >= count entries. */
static bool prov_cq_reshape(prov_cq *cq, DWORD cap)
{
    prov_entry *ring = malloc((size_t)cap * sizeof(*ring));
    if (!ring) return false;
    for (DWORD i = 0; i < cq->count; i++) ring[i] = cq->ring[(cq->head + i) % cq->ring_cap];
    free(cq->ring);
    cq->ring = ring;
    cq->ring_cap = cap;
    cq->head = 0;
    return true;
}

static void prov_cq_fire(prov_cq *cq)
{
    cq->armed = false;
    BOOL ok;
    if (cq->notify.Type == RIO_IOCP_COMPLETION)
        ok = PostQueuedCompletionStatus(cq->notify.Iocp.IocpHandle, 0, (ULONG_PTR)cq->notify.Iocp.CompletionKey,
                                        (LPOVERLAPPED)cq->notify.Iocp.Overlapped);
    else
        ok = SetEvent(cq->notify.Event.EventHandle);
    if (!ok) {
        prov_violation("completion queue %p: its notification could not be delivered (error %lu): was its %s closed "
                       "before the CQ?",
                       (void *)(uintptr_t)cq->handle, GetLastError(),
                       cq->notify.Type == RIO_IOCP_COMPLETION ? "completion port" : "event");
        return;
    }
    PROV_COUNT(notifications_posted);
}

RIO_CQ PASCAL prov_RIOCreateCompletionQueue(DWORD size, PRIO_NOTIFICATION_COMPLETION nc)
{
    if (size < 1 || size > RIO_MAX_CQ_SIZE) {
        prov_violation("RIOCreateCompletionQueue(%lu): the size must be 1..RIO_MAX_CQ_SIZE", (unsigned long)size);
        return RIO_INVALID_CQ;
    }
    if (nc) {
        if (nc->Type == RIO_IOCP_COMPLETION) {
            if (!nc->Iocp.IocpHandle || !nc->Iocp.Overlapped) {
                prov_violation("RIOCreateCompletionQueue: RIO_IOCP_COMPLETION needs an IocpHandle and an Overlapped");
                return RIO_INVALID_CQ;
            }
        } else if (nc->Type == RIO_EVENT_COMPLETION) {
            if (!nc->Event.EventHandle) {
                prov_violation("RIOCreateCompletionQueue: RIO_EVENT_COMPLETION needs an EventHandle");
                return RIO_INVALID_CQ;
            }
        } else {
            prov_violation("RIOCreateCompletionQueue: notification Type %d is neither RIO_EVENT_COMPLETION nor "
                           "RIO_IOCP_COMPLETION",
                           (int)nc->Type);
            return RIO_INVALID_CQ;
        }
    }
    prov_cq *cq = calloc(1, sizeof(*cq));
    if (!cq) {
        WSASetLastError(WSAENOBUFS);
        return RIO_INVALID_CQ;
    }
    cq->size = size;
    if (nc) {
        cq->has_notify = true;
        cq->notify = *nc;
    }
    prov_lock();
    cq->handle = prov_table_add(&prov_cqs, cq);
    prov_unlock();
    if (!cq->handle) {
        free(cq);
        WSASetLastError(WSAENOBUFS);
        return RIO_INVALID_CQ;
    }
    PROV_COUNT(cq_creates);
    return (RIO_CQ)(uintptr_t)cq->handle;
}

BOOL PASCAL prov_RIOResizeCompletionQueue(RIO_CQ handle, DWORD size)
{
    if (size < 1 || size > RIO_MAX_CQ_SIZE) {
        prov_violation("RIOResizeCompletionQueue(%p, %lu): the size must be 1..RIO_MAX_CQ_SIZE", (void *)handle,
                       (unsigned long)size);
        return FALSE;
    }
    prov_lock();
    prov_cq *cq = prov_cq_get(handle);
    if (!cq) {
        prov_unlock();
        prov_violation("RIOResizeCompletionQueue(%p): not a completion queue", (void *)handle);
        return FALSE;
    }
    if (atomic_load(&cq->dequeuing)) {
        prov_unlock();
        prov_violation("RIOResizeCompletionQueue(%p) while another thread is inside RIODequeueCompletion on it: "
                       "access to one CQ must be serialized",
                       (void *)handle);
        return FALSE;
    }
    if (size < cq->reserved) prov_rqs_sweep(); /* closed sockets give their slots back */
    if (size < cq->reserved || size < cq->count) {
        /* documented: "too many operations that still reference the I/O
         * completion queue" to make it that small */
        prov_unlock();
        WSASetLastError(WSAETOOMANYREFS);
        return FALSE;
    }
    if (cq->ring_cap > size && !prov_cq_reshape(cq, size)) {
        prov_unlock();
        WSASetLastError(WSAENOBUFS);
        return FALSE;
    }
    cq->size = size;
    prov_unlock();
    PROV_COUNT(cq_resizes);
    return TRUE;
}

/* Gives back what a result that will never be dequeued held. */
static void prov_entry_drop(const prov_entry *e) { prov_rq_release(e->rq, e->is_send, e->buffer); }

VOID PASCAL prov_RIOCloseCompletionQueue(RIO_CQ handle)
{
    prov_lock();
    prov_cq *cq = prov_cq_get(handle);
    if (!cq) {
        prov_unlock();
        prov_violation("RIOCloseCompletionQueue(%p): not a completion queue (never created, or closed already)",
                       (void *)handle);
        return;
    }
    if (atomic_load(&cq->dequeuing)) {
        prov_unlock();
        prov_violation("RIOCloseCompletionQueue(%p) while another thread is inside RIODequeueCompletion on it",
                       (void *)handle);
        return;
    }
    if (cq->pending > 0 && !cq->corrupt) {
        uint32_t pending = cq->pending;
        prov_unlock();
        prov_violation("RIOCloseCompletionQueue(%p): %u request(s) bound for it are still held or in flight: drain "
                       "first (close their sockets and dequeue their results)",
                       (void *)handle, (unsigned)pending);
        return;
    }
    prov_table_remove(&prov_cqs, cq->handle);
    cq->handle = 0;
    while (cq->count > 0) {
        prov_entry e = cq->ring[cq->head];
        cq->head = (cq->head + 1) % cq->ring_cap;
        cq->count--;
        prov_entry_drop(&e);
    }
    prov_rqs_forget_cq(cq);
    /* a corrupt CQ cannot be drained: requests still in flight finish into
     * the closed CQ, which goes when the last one has */
    if (cq->pending == 0) prov_cq_free(cq);
    prov_unlock();
    PROV_COUNT(cq_closes);
}

void prov_cq_complete(prov_cq *cq, const prov_entry *entry)
{
    cq->pending--;
    if (!cq->handle) { /* closed */
        prov_entry_drop(entry);
        if (cq->pending == 0) prov_cq_free(cq);
        return;
    }
    if (cq->corrupt) {
        prov_entry_drop(entry);
        return;
    }
    if (cq->count == cq->size) {
        cq->corrupt = true;
        prov_entry_drop(entry);
        prov_violation("completion queue %p overflowed: a result arrived with all %lu entries full (its RQs reserve "
                       "%llu): it is corrupt now, as real RIO's would be",
                       (void *)(uintptr_t)cq->handle, (unsigned long)cq->size, (unsigned long long)cq->reserved);
        return;
    }
    if (cq->count == cq->ring_cap) {
        DWORD cap = cq->ring_cap < 16 ? 16 : cq->ring_cap * 2;
        if (cap > cq->size) cap = cq->size;
        if (!prov_cq_reshape(cq, cap)) {
            cq->corrupt = true; /* out of memory: nowhere to put it */
            prov_entry_drop(entry);
            return;
        }
    }
    cq->ring[(cq->head + cq->count) % cq->ring_cap] = *entry;
    cq->count++;
    PROV_COUNT(results_queued);
    if (entry->notify) {
        cq->notify_ready++;
        if (cq->armed) prov_cq_fire(cq);
    }
}

ULONG PASCAL prov_RIODequeueCompletion(RIO_CQ handle, PRIORESULT array, ULONG array_size)
{
    PROV_COUNT(dequeue_calls);
    prov_lock();
    prov_cq *cq = prov_cq_get(handle);
    if (!cq) {
        prov_unlock();
        prov_violation("RIODequeueCompletion(%p): not a completion queue", (void *)handle);
        return RIO_CORRUPT_CQ;
    }
    if (atomic_exchange(&cq->dequeuing, 1)) {
        prov_unlock();
        prov_violation("RIODequeueCompletion(%p): another thread is inside RIODequeueCompletion on the same CQ: "
                       "access to one CQ must be serialized",
                       (void *)handle);
        return RIO_CORRUPT_CQ;
    }
    prov_unlock();
    prov_pause_point(FP_RIO_PAUSE_DEQUEUE);
    prov_lock();
    ULONG got = 0;
    if (array_size > 0 && !array) {
        atomic_store(&cq->dequeuing, 0);
        prov_unlock();
        prov_violation("RIODequeueCompletion(%p): Array is NULL", (void *)handle);
        return RIO_CORRUPT_CQ;
    }
    if (prov_fault_fires(FP_RIO_FAULT_CORRUPT_CQ)) cq->corrupt = true;
    if (cq->corrupt) {
        got = RIO_CORRUPT_CQ;
    } else {
        while (got < array_size && cq->count > 0) {
            prov_entry e = cq->ring[cq->head];
            cq->head = (cq->head + 1) % cq->ring_cap;
            cq->count--;
            if (e.notify) cq->notify_ready--;
            array[got++] = e.result;
            prov_rq_release(e.rq, e.is_send, e.buffer);
        }
        if (got == 0 && cq->held > 0) prov_rqs_sweep_held(cq); /* held for a closed socket? */
    }
    atomic_store(&cq->dequeuing, 0);
    prov_unlock();
    if (got != RIO_CORRUPT_CQ) PROV_ADD(results_dequeued, got);
    return got;
}

INT PASCAL prov_RIONotify(RIO_CQ handle)
{
    PROV_COUNT(notify_calls);
    prov_lock();
    prov_cq *cq = prov_cq_get(handle);
    if (!cq) {
        prov_unlock();
        prov_violation("RIONotify(%p): not a completion queue", (void *)handle);
        return WSAEINVAL;
    }
    if (!cq->has_notify) {
        prov_unlock();
        prov_violation("RIONotify(%p): the CQ was created without a notification (polled)", (void *)handle);
        return WSAEINVAL;
    }
    if (cq->corrupt) {
        prov_unlock();
        return WSAEINVAL;
    }
    if (cq->armed) {
        prov_unlock();
        return WSAEALREADY; /* documented: the previous RIONotify has not fired yet */
    }
    if (cq->notify.Type == RIO_EVENT_COMPLETION && cq->notify.Event.NotifyReset) ResetEvent(cq->notify.Event.EventHandle);
    cq->armed = true;
    if (cq->notify_ready > 0) prov_cq_fire(cq);
    prov_unlock();
    return 0;
}

void prov_cqs_free_all(void)
{
    prov_lock();
    for (uint32_t i = 0; prov_cqs.slots && i < prov_cqs.cap; i++)
        if (prov_cqs.slots[i]) prov_cq_free(prov_cqs.slots[i]);
    prov_table_free(&prov_cqs);
    prov_unlock();
}
