/*
 * iocp_worker.c - a worker's completion port: set-up, poll (dequeue in
 * batches, dispatch, deferred work), wake, stats, and a teardown that
 * frees no OVERLAPPED the kernel may still write.
 */
#include <stdlib.h>

#include "iocp_internal.h"

#define IC_DEQUEUE_ROUNDS 4      /* full batches taken in one poll before deferred work */
#define IC_CLOSE_WAIT_MS 5000    /* worker_close waits this long for cancelled operations */

int ic_associate(fp_tworker *w, SOCKET s)
{
    if (CreateIoCompletionPort((HANDLE)s, w->port, IC_KEY_IO, 0) == NULL) return (int)GetLastError();
    return 0;
}

int ic_op_error(SOCKET s, ic_op *op)
{
    if (s == INVALID_SOCKET) return WSA_OPERATION_ABORTED;
    DWORD bytes = 0, flags = 0;
    if (WSAGetOverlappedResult(s, &op->ov, &bytes, FALSE, &flags)) return 0;
    return WSAGetLastError();
}

fp_status ic_worker_open(fp_transport *t, unsigned index, void *worker_user, fp_tworker **out)
{
    *out = NULL;
    fp_tworker *w = calloc(1, sizeof(*w));
    if (!w) return FP_ENOMEM;
    fpt_worker_init(&w->core, &ic_backend, t->host, index, worker_user);
    w->t = t;
    atomic_init(&w->wake_queued, false);
    w->read_size = (size_t)t->set.read_size;
    w->read_budget = t->set.read_budget;
    fpt_chunk_pool_init(&w->pool, (size_t)t->set.send_pool_max);
    w->max_entries = (ULONG)t->set.completion_batch;
    w->rbuf = malloc(w->read_size);
    w->entries = calloc(w->max_entries, sizeof(*w->entries));
    /* one thread dequeues this port: concurrency 1 */
    w->port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
    if (!w->rbuf || !w->entries || !w->port) {
        fp_status st = FP_ENOMEM;
        if (!w->port) {
            char text[160];
            fpt_wsa_describe((int)GetLastError(), text, sizeof(text));
            fpt_log(t->host, FP_LOG_ERROR, "iocp: worker %u: CreateIoCompletionPort: %s", index, text);
            st = FP_EIO;
        }
        free(w->entries);
        free(w->rbuf);
        free(w);
        return st;
    }
    *out = w;
    return FP_OK;
}

void ic_wake(fp_tworker *w)
{
    /* One packet is enough: the poll that dequeues it clears the flag
     * before returning, so a wake that found it set is answered by that
     * poll's return. Without it a wake storm would fill the port. */
    if (atomic_exchange(&w->wake_queued, true)) return;
    if (!PostQueuedCompletionStatus(w->port, 0, IC_KEY_WAKE, NULL)) atomic_store(&w->wake_queued, false);
}

static int dispatch(fp_tworker *w, const OVERLAPPED_ENTRY *e)
{
    switch ((ic_key)e->lpCompletionKey) {
    case IC_KEY_WAKE: atomic_store(&w->wake_queued, false); return 1;
    case IC_KEY_HANDOFF: return ic_handoff_arrived(w, (ic_handoff *)(void *)e->lpOverlapped);
    case IC_KEY_IO: {
        ic_op *op = ic_op_of(e->lpOverlapped);
        op->pending = false;
        w->ops_in_flight--;
        if (op->kind == IC_OP_ACCEPT)
            return ic_accept_complete(w, fpt_container_of(op, ic_accept_slot, op));
        return ic_conn_complete(w, op, e->dwNumberOfBytesTransferred);
    }
    }
    w->core.counters.stale_completions++;
    return 0;
}

/* Waits up to `wait_ms` for completions and dispatches one batch with
 * `handle`; returns how many were dequeued, or -1 when the port failed. */
static long dequeue(fp_tworker *w, DWORD wait_ms, int (*handle)(fp_tworker *, const OVERLAPPED_ENTRY *),
                    int *handled)
{
    ULONG n = 0;
    w->stats.port_waits++;
    if (!GetQueuedCompletionStatusEx(w->port, w->entries, w->max_entries, &n, wait_ms, FALSE)) {
        DWORD err = GetLastError();
        return err == WAIT_TIMEOUT ? 0 : -1;
    }
    w->stats.completions += n;
    w->stats.completion_batches++;
    if (n > w->stats.completion_batch_max) w->stats.completion_batch_max = n;
    for (ULONG i = 0; i < n; i++) *handled += handle(w, &w->entries[i]);
    return (long)n;
}

int ic_poll(fp_tworker *w, int timeout_ms)
{
    w->round++;
    int timeout = fpt_has_deferred(&w->core) ? 0 : timeout_ms;
    timeout = fpt_accept_timeout(&w->core, timeout);
    int handled = 0;
    DWORD wait = timeout < 0 ? INFINITE : (DWORD)timeout;
    for (int round = 0; round < IC_DEQUEUE_ROUNDS; round++) {
        long n = dequeue(w, wait, dispatch, &handled);
        if (n < 0) {
            char text[160];
            fpt_wsa_describe((int)GetLastError(), text, sizeof(text));
            fpt_log(w->core.host, FP_LOG_ERROR, "iocp: worker %u: GetQueuedCompletionStatusEx: %s",
                    w->core.index, text);
            return FP_EIO;
        }
        if ((ULONG)n < w->max_entries) break;
        wait = 0; /* a full batch: take what else is there without waiting */
    }
    handled += ic_accept_resume_due(w);
    handled += fpt_run_deferred(&w->core);
    return handled;
}

/* ---- teardown ---- */

/* A completion dequeued while closing: release what it holds, deliver
 * nothing (the engine has closed every connection it cares about). */
static int release(fp_tworker *w, const OVERLAPPED_ENTRY *e)
{
    switch ((ic_key)e->lpCompletionKey) {
    case IC_KEY_WAKE: atomic_store(&w->wake_queued, false); return 0;
    case IC_KEY_HANDOFF: {
        ic_handoff *h = (ic_handoff *)(void *)e->lpOverlapped;
        closesocket(h->s);
        free(h);
        w->stats.handoffs_dropped++;
        return 0;
    }
    case IC_KEY_IO: {
        ic_op *op = ic_op_of(e->lpOverlapped);
        op->pending = false;
        w->ops_in_flight--;
        if (op->kind == IC_OP_ACCEPT) {
            ic_accept_slot *slot = fpt_container_of(op, ic_accept_slot, op);
            fpt_win_close(&slot->s);
            slot->host->pending--;
        } else {
            ic_conn_complete_discarded(w, op);
        }
        return 0;
    }
    }
    return 0;
}

/* Every connection's socket closed: their operations complete (aborted),
 * and nothing new is posted for them. */
static void close_live_sockets(fp_tworker *w)
{
    for (uint32_t i = 0; i < w->core.n_slots; i++) {
        fpt_conn *c = w->core.slots[i];
        if (c->state != FPT_FREE) fpt_win_close(&ic_conn(c)->s);
    }
}

/* Waits (bounded) until every operation the kernel holds is back, then
 * takes what else sits in the port (hand-offs). False when the bound
 * passed first: that memory must then never be freed. */
static bool drain(fp_tworker *w)
{
    int handled = 0;
    int64_t end = fpt_now_ms() + IC_CLOSE_WAIT_MS;
    while (w->ops_in_flight > 0) {
        int64_t left = end - fpt_now_ms();
        if (left <= 0 || dequeue(w, (DWORD)left, release, &handled) < 0) return false;
    }
    while (dequeue(w, 0, release, &handled) > 0) {
    }
    return true;
}

void ic_worker_close(fp_tworker *w)
{
    if (!w) return;
    ic_targets_stop_all(w); /* no hand-off is posted here any more */
    ic_hosts_stop_all(w);
    close_live_sockets(w);
    if (!drain(w)) {
        /* The kernel may still write into connection and accept slots:
         * keep them (and the worker holding them) rather than free them. */
        fpt_log(w->core.host, FP_LOG_ERROR,
                "iocp: worker %u: %u operations did not complete within %d ms of closing; their "
                "memory is left allocated",
                w->core.index, w->ops_in_flight, IC_CLOSE_WAIT_MS);
        CloseHandle(w->port);
        return;
    }
    fpt_worker_teardown(&w->core);
    ic_hosts_free_all(w);
    ic_txbufs_free(w);
    fpt_chunk_pool_free_cache(&w->pool);
    CloseHandle(w->port);
    free(w->entries);
    free(w->rbuf);
    free(w);
}

#define IC_DESC(name) FPT_COUNTER_DESC(ic_counters, name)
static const fpt_counter_desc ic_counter_desc[] = {IC_COUNTERS(IC_DESC)};

void ic_stats_emit(fp_tworker *w, fp_stat_fn emit, void *ctx)
{
    w->stats.ops_in_flight = w->ops_in_flight;
    fpt_core_counters_emit(&w->core, emit, ctx);
    fpt_counters_emit(ic_counter_desc, sizeof(ic_counter_desc) / sizeof(ic_counter_desc[0]), &w->stats,
                      emit, ctx);
    fpt_chunk_pool_stats_emit(&w->pool, emit, ctx);
}
