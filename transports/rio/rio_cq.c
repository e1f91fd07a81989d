/*
 * rio_cq.c - a worker's RIO completion queue: bound to the worker's
 * completion port (RIO_IOCP_COMPLETION), armed with RIONotify, dequeued
 * in batches only by the worker's thread.
 *
 * Sizing: every request queue may fill rq_sends + 1 entries, and RIO
 * refuses a request queue the CQ has no room for, so the CQ grows
 * (RIOResizeCompletionQueue, doubling) before a connection that would
 * not fit is given one; it never overflows. Should RIO still report the
 * queue corrupt (RIO_CORRUPT_CQ), every connection whose requests were
 * in it is closed with FP_EIO (their results are lost), the queue is
 * closed and a new one made, and both are counted and logged.
 */
#include <stdlib.h>

#include "rio_internal.h"

static uint32_t per_rq(const fp_tworker *w) { return (uint32_t)w->t->set.rq_sends + 1; }

static RIO_CQ create(fp_tworker *w, uint32_t entries)
{
    RIO_NOTIFICATION_COMPLETION how;
    memset(&how, 0, sizeof(how));
    how.Type = RIO_IOCP_COMPLETION;
    how.Iocp.IocpHandle = w->port.port;
    how.Iocp.CompletionKey = (PVOID)(ULONG_PTR)RIO_KEY_CQ;
    how.Iocp.Overlapped = &w->notify_ov;
    return w->rio->RIOCreateCompletionQueue(entries, &how);
}

fp_status rio_cq_open(fp_tworker *w)
{
    uint32_t entries = (uint32_t)w->t->set.cq_size;
    w->max_results = (ULONG)w->t->set.completion_batch;
    w->results = calloc(w->max_results, sizeof(*w->results));
    if (!w->results) return FP_ENOMEM;
    w->cq = create(w, entries);
    if (w->cq == RIO_INVALID_CQ) {
        fpt_wsa_status_logged(w->core.host, "rio", "RIOCreateCompletionQueue", WSAGetLastError());
        free(w->results);
        w->results = NULL;
        return FP_EIO;
    }
    w->cq_entries = entries;
    w->cq_armed = false;
    rio_cq_arm(w);
    return FP_OK;
}

void rio_cq_close(fp_tworker *w)
{
    if (w->cq != RIO_INVALID_CQ) w->rio->RIOCloseCompletionQueue(w->cq);
    w->cq = RIO_INVALID_CQ;
    free(w->results);
    w->results = NULL;
}

void rio_cq_arm(fp_tworker *w)
{
    if (w->cq_armed || w->cq == RIO_INVALID_CQ) return;
    int err = w->rio->RIONotify(w->cq);
    w->stats.cq_notifies++;
    if (err == 0 || err == WSAEALREADY) {
        w->cq_armed = true;
        return;
    }
    /* unarmed, poll would sleep through results: dequeue on every turn */
    fpt_wsa_status_logged(w->core.host, "rio", "RIONotify", err);
}

bool rio_cq_reserve(fp_tworker *w)
{
    uint32_t need = w->cq_reserved + per_rq(w);
    if (need > w->cq_entries) {
        uint64_t grown = (uint64_t)w->cq_entries * 2;
        if (grown < need) grown = need;
        if (grown > RIO_MAX_CQ_SIZE) grown = RIO_MAX_CQ_SIZE;
        if (grown < need || !w->rio->RIOResizeCompletionQueue(w->cq, (DWORD)grown)) {
            w->stats.cq_full_refusals++;
            fpt_log(w->core.host, FP_LOG_WARN,
                    "rio: worker %u: the completion queue cannot grow past %u entries (%u in use by "
                    "request queues): connection refused",
                    w->core.index, w->cq_entries, w->cq_reserved);
            return false;
        }
        w->cq_entries = (uint32_t)grown;
        w->stats.cq_resizes++;
    }
    w->cq_reserved = need;
    return true;
}

void rio_cq_unreserve(fp_tworker *w) { w->cq_reserved -= per_rq(w); }

/* The queue broke: its results are lost, so nothing can wait for them. */
static void rebuild(fp_tworker *w)
{
    w->stats.cq_corrupt++;
    fpt_log(w->core.host, FP_LOG_ERROR,
            "rio: worker %u: the completion queue is corrupt (RIO_CORRUPT_CQ); closing its %u "
            "request queues' connections and making a new queue",
            w->core.index, w->cq_reserved / per_rq(w));
    rio_conns_fail_all(w, FP_EIO);
    w->rio->RIOCloseCompletionQueue(w->cq);
    w->cq = create(w, w->cq_entries);
    w->cq_armed = false;
    w->requests_in_flight = 0;
    if (w->cq == RIO_INVALID_CQ) {
        fpt_wsa_status_logged(w->core.host, "rio", "RIOCreateCompletionQueue (rebuild)", WSAGetLastError());
        return;
    }
    w->stats.cq_rebuilds++;
}

int rio_cq_drain(fp_tworker *w)
{
    int handled = 0;
    if (w->cq == RIO_INVALID_CQ) return 0;
    for (;;) {
        ULONG n = w->rio->RIODequeueCompletion(w->cq, w->results, w->max_results);
        w->stats.cq_dequeues++;
        if (n == RIO_CORRUPT_CQ) {
            rebuild(w);
            return handled + 1;
        }
        w->stats.cq_results += n;
        if (n > w->stats.cq_results_max_per_dequeue) w->stats.cq_results_max_per_dequeue = n;
        for (ULONG i = 0; i < n; i++) {
            w->requests_in_flight--;
            handled += rio_conn_result(w, &w->results[i]);
        }
        if (n < w->max_results) return handled;
    }
}

void rio_cq_release_all(fp_tworker *w)
{
    if (w->cq == RIO_INVALID_CQ) return;
    for (;;) {
        ULONG n = w->rio->RIODequeueCompletion(w->cq, w->results, w->max_results);
        if (n == RIO_CORRUPT_CQ) {
            w->requests_in_flight = 0; /* nothing more will come from it */
            return;
        }
        w->requests_in_flight -= n;
        if (n < w->max_results) return;
    }
}
