/*
 * worker.c - a worker's deferred delivery and flush.
 *
 * Callbacks leave only from poll. Work found elsewhere (bytes taken by a
 * send in flush, a close from close_conn, memory freed for waiting
 * writers, input held back while paused) waits on one of the worker's
 * lists, and poll delivers it with fpt_run_deferred, after the backend's
 * own completions or readiness events, without blocking first.
 */
#include <stdlib.h>

#include "core.h"

void fpt_worker_init(fpt_worker *w, const fpt_backend *be, const fp_transport_host *host,
                     unsigned index, void *worker_user)
{
    w->be = be;
    w->host = host;
    w->ev = host->events;
    w->user = worker_user;
    w->index = index;
    fpt_list_init(&w->ready);
    fpt_list_init(&w->dirty);
    fpt_list_init(&w->waiters);
    fpt_list_init(&w->notify);
}

void fpt_worker_teardown(fpt_worker *w)
{
    fpt_slab_free_all(w);
    while (w->free_lent) {
        fpt_chunk *ch = w->free_lent;
        w->free_lent = ch->next;
        free(ch);
    }
}

bool fpt_has_deferred(const fpt_worker *w)
{
    return !fpt_list_empty(&w->ready) || !fpt_list_empty(&w->notify) || !fpt_list_empty(&w->dirty) ||
           (w->writable_due && !fpt_list_empty(&w->waiters));
}

/* Each connection found ready gets one turn; one that is still ready
 * afterwards (a read budget spent) waits for the next poll. */
static int run_ready(fpt_worker *w)
{
    fpt_link batch;
    int handled = 0;
    fpt_list_take_all(&batch, &w->ready);
    while (!fpt_list_empty(&batch)) {
        fpt_conn *c = fpt_container_of(batch.next, fpt_conn, ready_link);
        fpt_list_remove(&c->ready_link);
        handled += fpt_conn_run_ready(c);
    }
    return handled;
}

static int run_writable(fpt_worker *w)
{
    if (!w->writable_due || !w->be->chunk_room(w)) return 0;
    w->writable_due = false;
    fpt_link batch;
    int handled = 0;
    fpt_list_take_all(&batch, &w->waiters);
    while (!fpt_list_empty(&batch)) {
        fpt_conn *c = fpt_container_of(batch.next, fpt_conn, wait_link);
        fpt_list_remove(&c->wait_link);
        if (c->state == FPT_OPEN || c->state == FPT_CONNECTING) {
            w->ev->on_writable(c->user);
            handled++;
        }
    }
    return handled;
}

/* on_sent, then on_closed; the slot is recycled only after on_closed
 * returned. */
static int run_notify(fpt_worker *w)
{
    fpt_link batch;
    int handled = 0;
    fpt_list_take_all(&batch, &w->notify);
    while (!fpt_list_empty(&batch)) {
        fpt_conn *c = fpt_container_of(batch.next, fpt_conn, notify_link);
        fpt_list_remove(&c->notify_link);
        if (c->sent_unreported) {
            size_t sent = c->sent_unreported;
            c->sent_unreported = 0;
            w->ev->on_sent(c->user, sent);
            handled++;
        }
        if (c->state == FPT_DEAD && !fpt_linked(&c->notify_link)) {
            /* on_sent may have queued more sent bytes: they go first */
            w->ev->on_closed(c->user, c->close_why);
            fpt_conn_recycle(c);
            handled++;
        }
    }
    return handled;
}

int fpt_run_deferred(fpt_worker *w)
{
    int handled = run_ready(w);
    handled += run_writable(w);
    handled += run_notify(w);
    return handled;
}

void fpt_flush(fp_tworker *tw)
{
    fpt_worker *w = (fpt_worker *)(void *)tw;
    fpt_link batch;
    fpt_list_take_all(&batch, &w->dirty);
    while (!fpt_list_empty(&batch)) {
        fpt_conn *c = fpt_container_of(batch.next, fpt_conn, dirty_link);
        fpt_list_remove(&c->dirty_link);
        if ((c->state == FPT_OPEN || c->state == FPT_DRAINING) && !c->tx_busy && c->queued)
            w->be->send(c);
        else if (c->state == FPT_DRAINING && !c->tx_busy)
            fpt_conn_shutdown_write(c);
    }
}

#define FPT_CORE_DESC(name) FPT_COUNTER_DESC(fpt_core_counters, name)
static const fpt_counter_desc core_counters[] = {FPT_CORE_COUNTERS(FPT_CORE_DESC)};

void fpt_core_counters_emit(const fpt_worker *w, fp_stat_fn emit, void *ctx)
{
    fpt_counters_emit(core_counters, sizeof(core_counters) / sizeof(core_counters[0]), &w->counters,
                      emit, ctx);
}
