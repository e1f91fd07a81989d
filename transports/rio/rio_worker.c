/*
 * rio_worker.c - a worker: its completion port (the core's fpt_port) and
 * the RIO completion queue bound to it, poll, flush (with the commits),
 * wake, stats, and a teardown that drains both before the queue is
 * closed and the buffers deregistered.
 */
#include <stdio.h>
#include <stdlib.h>

#include "rio_internal.h"

#define RIO_CLOSE_WAIT_MS 5000 /* worker_close waits this long for outstanding requests */

static const fpt_port_backend rio_port_backend = {
    .name = "rio",
    .accept_socket_flags = WSA_FLAG_REGISTERED_IO,
    .conn_accepted = rio_conn_accepted,
    .complete = rio_port_complete,
    .release = rio_port_release,
};

fp_status rio_worker_open(fp_transport *t, unsigned index, void *worker_user, fp_tworker **out)
{
    *out = NULL;
    fp_tworker *w = calloc(1, sizeof(*w));
    if (!w) return FP_ENOMEM;
    fpt_worker_init(&w->core, &rio_backend, t->host, index, worker_user);
    w->core.lend_enabled = t->set.lend != 0;
    w->t = t;
    w->rio = &t->rio;
    w->cq = RIO_INVALID_CQ;
    fpt_list_init(&w->commits);
    fp_status st = fpt_port_open(&w->port, &w->core, &rio_port_backend, &t->ext,
                                 (unsigned)t->set.accepts_posted, (unsigned)t->set.completion_batch);
    if (st != FP_OK) {
        free(w);
        return st;
    }
    st = rio_pools_open(w);
    if (st == FP_OK) st = rio_cq_open(w);
    if (st != FP_OK) {
        rio_pools_close(w);
        fpt_port_close(&w->port);
        free(w);
        return st;
    }
    *out = w;
    return FP_OK;
}

void rio_wake(fp_tworker *w) { fpt_port_wake(&w->port); }

int rio_poll(fp_tworker *w, int timeout_ms)
{
    /* results already queued are taken without waiting for the packet
     * (the armed notification then finds the queue empty: harmless) */
    int handled = rio_cq_drain(w);
    rio_cq_arm(w);
    int timeout = handled || fpt_has_deferred(&w->core) ? 0 : timeout_ms;
    timeout = fpt_accept_timeout(&w->core, timeout);
    int got = fpt_port_dispatch(&w->port, timeout);
    if (got < 0) return FP_EIO;
    handled += got;
    fpt_port_accept_resume_due(&w->port);
    handled += fpt_run_deferred(&w->core);
    return handled;
}

void rio_flush(fp_tworker *w)
{
    fpt_flush(w);
    rio_commit_all(w);
}

/* Every connection's socket closed: their requests complete (aborted),
 * and nothing new is posted for them. */
static void close_live_sockets(fp_tworker *w)
{
    for (uint32_t i = 0; i < w->core.n_slots; i++) {
        fpt_conn *c = w->core.slots[i];
        if (c->state != FPT_FREE) fpt_win_close(&rio_conn(c)->s);
    }
}

/* Waits (bounded) for every request result and port operation; false
 * when the bound passed first. */
static bool drain(fp_tworker *w)
{
    int64_t end = fpt_now_ms() + RIO_CLOSE_WAIT_MS;
    for (;;) {
        rio_cq_release_all(w);
        if (w->requests_in_flight == 0 && w->port.ops_in_flight == 0) break;
        rio_cq_arm(w);
        int64_t left = end - fpt_now_ms();
        if (left <= 0) return false;
        if (fpt_port_release_some(&w->port, left < 50 ? (int)left : 50) < 0) return false;
    }
    while (fpt_port_release_some(&w->port, 0) > 0) {
    }
    return true;
}

void rio_worker_close(fp_tworker *w)
{
    if (!w) return;
    fpt_port_stop_accepting(&w->port);
    close_live_sockets(w);
    if (!drain(w)) {
        /* RIO may still write into registered slices and the kernel into
         * connection slots: keep them (and the worker) rather than free. */
        fpt_log(w->core.host, FP_LOG_ERROR,
                "rio: worker %u: %u requests and %u operations did not complete within %d ms of "
                "closing; their memory is left allocated",
                w->core.index, w->requests_in_flight, w->port.ops_in_flight, RIO_CLOSE_WAIT_MS);
        fpt_port_close(&w->port);
        return;
    }
    fpt_worker_teardown(&w->core);
    fpt_port_hosts_free_all(&w->port);
    rio_cq_close(w); /* drained: nothing refers to it */
    rio_pools_close(w);
    fpt_port_close(&w->port);
    free(w);
}

#define RIO_DESC(name) FPT_COUNTER_DESC(rio_counters, name)
static const fpt_counter_desc rio_counter_desc[] = {RIO_COUNTERS(RIO_DESC)};

static void pool_emit(const char *prefix, const fpt_slice_pool *p, fp_stat_fn emit, void *ctx)
{
    char name[64];
    const struct {
        const char *what;
        uint64_t value;
    } rows[] = {
        {"allocated", p->allocated},      {"free", fpt_slice_pool_capacity(p) - p->allocated},
        {"high_water", p->high_water},    {"regions", p->n_regions},
        {"registered", p->registrations}, {"register_failures", p->register_failures},
        {"exhausted", p->exhaustions},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        snprintf(name, sizeof(name), "%s_%s", prefix, rows[i].what);
        emit(ctx, name, rows[i].value);
    }
}

void rio_stats_emit(fp_tworker *w, fp_stat_fn emit, void *ctx)
{
    w->stats.cq_size = w->cq_entries;
    w->stats.cq_reserved = w->cq_reserved;
    w->stats.requests_in_flight = w->requests_in_flight;
    fpt_core_counters_emit(&w->core, emit, ctx);
    fpt_port_counters_emit(&w->port, emit, ctx);
    fpt_counters_emit(rio_counter_desc, sizeof(rio_counter_desc) / sizeof(rio_counter_desc[0]), &w->stats,
                      emit, ctx);
    pool_emit("pool", &w->send_pool, emit, ctx);
    pool_emit("recv_pool", &w->recv_pool, emit, ctx);
}
