/*
 * iocp_worker.c - a worker: its completion port (the core's fpt_port),
 * poll, wake, stats, and a teardown that frees no OVERLAPPED the kernel
 * may still write.
 */
#include <stdlib.h>

#include "iocp_internal.h"

#define IC_CLOSE_WAIT_MS 5000 /* worker_close waits this long for cancelled operations */

static const fpt_port_backend ic_port_backend = {
    .name = "iocp",
    .accept_socket_flags = 0,
    .conn_accepted = ic_conn_accepted,
    .complete = ic_conn_complete,
    .release = ic_conn_complete_discarded,
};

fp_status ic_worker_open(fp_transport *t, unsigned index, void *worker_user, fp_tworker **out)
{
    *out = NULL;
    fp_tworker *w = calloc(1, sizeof(*w));
    if (!w) return FP_ENOMEM;
    fpt_worker_init(&w->core, &ic_backend, t->host, index, worker_user);
    w->t = t;
    w->read_size = (size_t)t->set.read_size;
    w->read_budget = t->set.read_budget;
    fpt_chunk_pool_init(&w->pool, (size_t)t->set.send_pool_max);
    w->rbuf = malloc(w->read_size);
    fp_status st = w->rbuf ? fpt_port_open(&w->port, &w->core, &ic_port_backend, &t->ext,
                                           (unsigned)t->set.accepts_posted, (unsigned)t->set.completion_batch)
                           : FP_ENOMEM;
    if (st != FP_OK) {
        free(w->rbuf);
        free(w);
        return st;
    }
    *out = w;
    return FP_OK;
}

void ic_wake(fp_tworker *w) { fpt_port_wake(&w->port); }

int ic_poll(fp_tworker *w, int timeout_ms)
{
    w->round++;
    int timeout = fpt_has_deferred(&w->core) ? 0 : timeout_ms;
    timeout = fpt_accept_timeout(&w->core, timeout);
    int handled = fpt_port_dispatch(&w->port, timeout);
    if (handled < 0) return FP_EIO;
    fpt_port_accept_resume_due(&w->port);
    handled += fpt_run_deferred(&w->core);
    return handled;
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

void ic_worker_close(fp_tworker *w)
{
    if (!w) return;
    fpt_port_stop_accepting(&w->port);
    close_live_sockets(w);
    if (!fpt_port_drain(&w->port, IC_CLOSE_WAIT_MS)) {
        /* The kernel may still write into connection and accept slots:
         * keep them (and the worker holding them) rather than free them. */
        fpt_log(w->core.host, FP_LOG_ERROR,
                "iocp: worker %u: %u operations did not complete within %d ms of closing; their "
                "memory is left allocated",
                w->core.index, w->port.ops_in_flight, IC_CLOSE_WAIT_MS);
        CloseHandle(w->port.port);
        return;
    }
    fpt_worker_teardown(&w->core);
    fpt_port_hosts_free_all(&w->port);
    ic_txbufs_free(w);
    fpt_chunk_pool_free_cache(&w->pool);
    fpt_port_close(&w->port);
    free(w->rbuf);
    free(w);
}

#define IC_DESC(name) FPT_COUNTER_DESC(ic_counters, name)
static const fpt_counter_desc ic_counter_desc[] = {IC_COUNTERS(IC_DESC)};

void ic_stats_emit(fp_tworker *w, fp_stat_fn emit, void *ctx)
{
    fpt_core_counters_emit(&w->core, emit, ctx);
    fpt_port_counters_emit(&w->port, emit, ctx);
    fpt_counters_emit(ic_counter_desc, sizeof(ic_counter_desc) / sizeof(ic_counter_desc[0]), &w->stats, emit,
                      ctx);
    fpt_chunk_pool_stats_emit(&w->pool, emit, ctx);
}
