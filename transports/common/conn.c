/*
 * conn.c - a connection's life cycle: announcing it to the engine, the
 * graceful and abortive close, and the rule that on_closed comes exactly
 * once, last, after every operation in flight has completed.
 *
 *   CONNECTING -> OPEN -> DRAINING -> LINGER -+-> CLOSING -> DEAD -> FREE
 *        |          |                         |      (ops > 0)  (on_closed)
 *        +----------+--------- abort, error --+
 *
 * CLOSING waits for `ops` to reach 0; the backend's cancel makes that
 * happen. Then the socket is closed, the chain released and on_closed
 * queued for poll; the slot is recycled only after on_closed returned.
 */
#include "core.h"

static fpt_conn *base_of(fp_tconn *c) { return (fpt_conn *)(void *)c; }

static void finish(fpt_conn *c)
{
    fpt_worker *w = c->w;
    w->be->finish(c);
    fpt_chain_release(c);
    fpt_stash_drop(c);
    c->state = FPT_DEAD;
    if (c->silent) {
        fpt_list_remove(&c->notify_link);
        fpt_conn_recycle(c);
    } else if (!fpt_linked(&c->notify_link)) {
        fpt_list_push_back(&w->notify, &c->notify_link);
    }
}

void fpt_conn_terminate(fpt_conn *c, fp_status why, bool abortive)
{
    if (c->state == FPT_CLOSING || c->state == FPT_DEAD || c->state == FPT_FREE) return;
    fpt_worker *w = c->w;
    if (abortive) w->be->abort_socket(c);
    fpt_list_remove(&c->ready_link);
    fpt_list_remove(&c->dirty_link);
    fpt_list_remove(&c->wait_link);
    fpt_stash_drop(c);
    c->state = FPT_CLOSING;
    c->close_why = why;
    w->counters.conns_open--;
    if (c->ops == 0) {
        finish(c);
        return;
    }
    if (w->be->cancel) w->be->cancel(c);
}

void fpt_conn_op_done(fpt_conn *c)
{
    c->ops--;
    if (c->ops == 0 && c->state == FPT_CLOSING) finish(c);
}

void fpt_conn_fail(fpt_conn *c, fp_status why)
{
    /* after our FIN everything was delivered: any ending is a clean one */
    if (c->state == FPT_LINGER)
        why = FP_OK;
    else
        c->w->counters.peer_errors++;
    fpt_conn_terminate(c, why, false);
}

void fpt_conn_shutdown_write(fpt_conn *c)
{
    c->w->be->shutdown_send(c);
    c->state = FPT_LINGER;
    if (c->eof_seen) {
        fpt_conn_terminate(c, FP_OK, false);
        return;
    }
    fpt_conn_push_ready(c); /* read on, to find the peer's FIN */
}

void fpt_close_conn(fp_tconn *tc, fp_close_mode mode)
{
    fpt_conn *c = base_of(tc);
    switch (c->state) {
    case FPT_FREE:
    case FPT_CLOSING:
    case FPT_DEAD: return;
    case FPT_CONNECTING: fpt_conn_terminate(c, FP_OK, true); return;
    default: break;
    }
    if (mode == FP_CLOSE_ABORT) {
        fpt_conn_terminate(c, FP_OK, true);
        return;
    }
    if (c->state != FPT_OPEN) return; /* already closing gracefully */
    c->state = FPT_DRAINING;
    c->paused = false;
    fpt_stash_drop(c); /* input is discarded from now on */
    fpt_list_remove(&c->wait_link);
    fpt_conn_push_ready(c);
    if (!c->tx_busy && c->queued == 0)
        fpt_conn_shutdown_write(c);
    else
        fpt_conn_mark_dirty(c);
}

void fpt_conn_peer(const fp_tconn *tc, fp_addr *out) { *out = ((const fpt_conn *)(const void *)tc)->peer; }

bool fpt_conn_announce_accepted(fpt_conn *c)
{
    fpt_worker *w = c->w;
    void *user = w->ev->on_accepted(w->user, (fp_tconn *)(void *)c, &c->peer);
    if (user) {
        c->user = user;
        return true;
    }
    /* Refused: reset it and recycle. The callback may already have closed
     * it; either way nothing more is delivered. */
    w->counters.accept_refused++;
    c->silent = true;
    if (c->state == FPT_DEAD) {
        fpt_list_remove(&c->notify_link);
        fpt_conn_recycle(c);
        return false;
    }
    fpt_conn_terminate(c, FP_OK, true);
    return false;
}

bool fpt_conn_connected(fpt_conn *c)
{
    c->state = FPT_OPEN;
    c->w->ev->on_connected(c->user);
    if (c->state != FPT_OPEN) return false;
    if (c->queued) fpt_conn_mark_dirty(c);
    return true;
}

void fpt_conn_connect_failed(fpt_conn *c, fp_status why)
{
    c->w->counters.connect_failures++;
    fpt_conn_terminate(c, why, false);
}

void fpt_recv_pause(fp_tconn *tc)
{
    fpt_conn *c = base_of(tc);
    if (c->state != FPT_OPEN || c->paused) return;
    c->paused = true;
    fpt_list_remove(&c->ready_link);
    if (c->w->be->input_pause) c->w->be->input_pause(c);
}

void fpt_recv_resume(fp_tconn *tc)
{
    fpt_conn *c = base_of(tc);
    if (!c->paused) return;
    c->paused = false;
    /* the stash, a held-back on_eof and the re-arm all wait for poll */
    if (c->state == FPT_OPEN) fpt_conn_push_ready(c);
}
