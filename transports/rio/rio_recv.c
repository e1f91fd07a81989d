/*
 * rio_recv.c - the receive path: one RIOReceive per open connection into
 * its registered slice, posted again as soon as the engine's on_recv
 * returns (into a fresh slice when an echo lent bytes of this one to a
 * send: the old slice returns to the pool after that send).
 *
 * A quiet connection posts a small slice (recv_size): it is what an idle
 * session costs. One whose receives come back full gets a slice four
 * times larger for the next, up to recv_max, so a stream of large frames
 * is not cut into many small completions, while the pool is less than
 * half used; a receive that fills less than an eighth of its slice brings
 * it back to recv_size.
 *
 * RIO cannot cancel a receive. Bytes that arrive while the connection is
 * paused go to the core's stash, and no receive is posted until
 * recv_resume; a paused connection gives its slice back meanwhile, so it
 * holds no receive memory. Closing connections keep receiving only to
 * find the peer's FIN.
 */
#include "rio_internal.h"

bool rio_recv_post(fp_tconn *c)
{
    fpt_conn *base = &c->base;
    if (c->rx_posted || c->rq == RIO_INVALID_RQ || c->s == INVALID_SOCKET || !fpt_conn_wants_input(base))
        return true;
    fp_tworker *w = rio_worker(base->w);
    if (c->rx && c->rx->cap != c->rx_want && !rio_slice_lent(w, c->rx)) {
        rio_slice_give_back(w, c->rx); /* resized below */
        c->rx = NULL;
    }
    if (!c->rx && !(c->rx = rio_slice_take(w, c->rx_want))) {
        fpt_conn_push_ready(base); /* retried from the next poll */
        return true;
    }
    const fpt_slice_region *r = &w->recv_pool.regions[c->rx->region];
    RIO_BUF buf = {.BufferId = (RIO_BUFFERID)r->reg,
                   .Offset = (ULONG)(c->rx->data - r->base),
                   .Length = (ULONG)c->rx->cap};
    if (!w->rio->RIOReceive(c->rq, &buf, 1, 0, (PVOID)(uintptr_t)RIO_REQ_RECV)) {
        int err = WSAGetLastError();
        if (err == WSAENOBUFS) w->stats.rq_full++;
        fpt_conn_fail(base, fpt_wsa_status_logged(w->core.host, "rio", "RIOReceive", err));
        return false;
    }
    c->rx_posted = true;
    base->ops++;
    w->requests_in_flight++;
    w->stats.rio_receives++;
    return true;
}

/* fpt_backend.input: a receive is posted while input is wanted. */
int rio_conn_input(fpt_conn *base)
{
    rio_recv_post(rio_conn(base));
    return 0;
}

/* The slice size the next receive asks for, from how full this one came. */
static void resize_next(const fp_tworker *w, fp_tconn *c, ULONG got)
{
    uint32_t cap = c->rx->cap;
    if (got == cap && cap < w->t->set.recv_max) {
        uint64_t grown = (uint64_t)cap * 4;
        if (grown > w->t->set.recv_max) grown = w->t->set.recv_max;
        /* RIO cannot take back a posted slice: large ones may fill only
         * half the pool, or a few quiet connections could hold it all
         * while others wait for a slice to receive into */
        if (w->recv_pool.allocated + grown - cap <= w->recv_pool.max_bytes / 2) c->rx_want = (uint32_t)grown;
    } else if (got < cap / 8) {
        c->rx_want = (uint32_t)w->t->set.recv_size;
    }
}

int rio_recv_result(fp_tconn *c, const RIORESULT *r)
{
    fpt_conn *base = &c->base;
    fp_tworker *w = rio_worker(base->w);
    c->rx_posted = false;
    int handled = 0;
    if (r->Status != 0) {
        /* our close (the socket went) or the peer's reset */
        if (base->state != FPT_CLOSING)
            fpt_conn_fail(base, fpt_wsa_status_logged(w->core.host, "rio", "RIOReceive", (int)r->Status));
    } else if (r->BytesTransferred == 0) {
        handled = fpt_conn_eof(base);
    } else {
        fpt_chunk *slice = c->rx;
        resize_next(w, c, r->BytesTransferred);
        fpt_rx_window_open(&w->core, slice->data, r->BytesTransferred, rio_slice_token(slice));
        handled = fpt_conn_received(base, slice->data, r->BytesTransferred);
        fpt_rx_window_close(&w->core);
        if (rio_slice_lent(w, slice)) {
            w->stats.recv_slices_lent++;
            rio_slice_give_back(w, slice); /* freed by the last lent send */
            c->rx = NULL;
        }
    }
    if (c->rx && !fpt_conn_wants_input(base) && base->state != FPT_CLOSING) {
        rio_slice_give_back(w, c->rx); /* paused or finished reading: hold nothing */
        c->rx = NULL;
    }
    if (base->state != FPT_CLOSING && base->state != FPT_DEAD) rio_recv_post(c);
    fpt_conn_op_done(base); /* last: a close from on_recv finishes here */
    return handled;
}
