/*
 * rio_conn.c - connections on Registered I/O: creation (accepted,
 * ConnectEx, adopt), a request queue each, result dispatch, and what
 * closing means when requests cannot be cancelled.
 *
 * RIO has no cancel: closing the socket completes every outstanding
 * request with an error result, and the request queue goes with the
 * socket. So the backend's cancel closes the socket (after the core made
 * it a reset when the close is abortive); the core calls finish once the
 * last result is in, and only then is the connection's memory, and the
 * receive slice its request named, reused.
 */
#include <stdlib.h>

#include "rio_internal.h"
#include "sockaddr.h"

static fp_tconn *conn_new(fp_tworker *w, SOCKET s, fpt_state state)
{
    fpt_conn *c = fpt_conn_new(&w->core, state);
    if (!c) return NULL;
    fp_tconn *rc = rio_conn(c);
    rc->s = s;
    rc->rq = RIO_INVALID_RQ;
    rc->rx = NULL;
    rc->rx_want = (uint32_t)w->t->set.recv_size;
    rc->rx_posted = false;
    rc->cq_reserved = false;
    rc->commit_due = false;
    rc->tx_requests = 0;
    rc->tx_bytes = 0;
    rc->tx_failed = false;
    fpt_list_init(&rc->commit_link);
    return rc;
}

/* A request queue on the worker's CQ (grown first when full) and a
 * receive slice: 0, or the Winsock error (WSAENOBUFS: no room). */
static int conn_attach(fp_tworker *w, fp_tconn *c)
{
    if (!rio_cq_reserve(w)) return WSAENOBUFS;
    c->cq_reserved = true;
    ULONG sends = (ULONG)w->t->set.rq_sends;
    c->rq = w->rio->RIOCreateRequestQueue(c->s, 1, 1, sends, 1, w->cq, w->cq, c);
    if (c->rq == RIO_INVALID_RQ) {
        int err = WSAGetLastError();
        w->stats.rq_create_failures++;
        return err ? err : WSAEINVAL;
    }
    c->rx = rio_slice_take(w, c->rx_want);
    return c->rx ? 0 : WSAENOBUFS;
}

/* Undoes conn_new + conn_attach for a connection the engine never saw. */
static void conn_drop_new(fp_tworker *w, fp_tconn *c)
{
    fpt_win_close(&c->s);
    if (c->rx) rio_slice_give_back(w, c->rx);
    c->rx = NULL;
    if (c->cq_reserved) rio_cq_unreserve(w);
    c->cq_reserved = false;
    fpt_conn_discard_new(&c->base);
}

void rio_conn_accepted(fpt_port *p, SOCKET s, const fp_addr *peer)
{
    fp_tworker *w = rio_port_worker(p);
    fp_tconn *c = conn_new(w, s, FPT_OPEN);
    if (!c) {
        closesocket(s);
        w->core.counters.accept_errors++;
        return;
    }
    fpt_win_set_nodelay(s, w->t->set.sock.nodelay != 0);
    int err = conn_attach(w, c);
    if (err) {
        fpt_wsa_status_logged(w->core.host, "rio", "a request queue for an accepted connection", err);
        conn_drop_new(w, c);
        w->core.counters.accept_errors++;
        return;
    }
    w->core.counters.accepts++;
    c->base.peer = *peer;
    if (fpt_conn_announce_accepted(&c->base)) rio_recv_post(c);
}

fp_status rio_connect(fp_tworker *w, const fp_addr *addr, void *conn_user, fp_tconn **out)
{
    *out = NULL;
    struct sockaddr_storage ss;
    fpt_socklen len;
    if (!fpt_addr_to_sockaddr(addr, &ss, &len)) return FP_EINVAL; /* before any socket is made */
    SOCKET s = INVALID_SOCKET;
    int err = fpt_port_connect_socket(&w->port, addr, WSA_FLAG_REGISTERED_IO, &w->t->set.sock, &s);
    if (err) return fpt_wsa_status_logged(w->core.host, "rio", "preparing a connect", err);
    fp_tconn *c = conn_new(w, s, FPT_CONNECTING);
    if (!c) {
        closesocket(s);
        return FP_ENOMEM;
    }
    c->base.user = conn_user;
    c->base.peer = *addr;
    *out = c;
    w->core.counters.connects++;
    fpt_port_connect_post(&w->port, &c->base, s, &c->connect, RIO_OP_CONNECT);
    return FP_OK;
}

static void connect_complete(fp_tworker *w, fp_tconn *c)
{
    if (c->base.state != FPT_CONNECTING) return; /* closed meanwhile */
    int err = fpt_port_connect_result(c->s, &c->connect);
    if (err) {
        fpt_conn_connect_failed(&c->base, fpt_wsa_connect_status(err));
        return;
    }
    err = conn_attach(w, c);
    if (err) {
        fpt_conn_connect_failed(
            &c->base, fpt_wsa_status_logged(w->core.host, "rio", "a request queue for a connection", err));
        return;
    }
    if (fpt_conn_connected(&c->base)) rio_recv_post(c);
}

fp_status rio_adopt(fp_tworker *w, fp_socket_handle handle, void *conn_user, fp_tconn **out)
{
    *out = NULL;
    SOCKET s;
    fp_addr peer;
    fp_status st = fpt_win_adopt_prepare(handle, &w->t->set.sock, &s, &peer);
    if (st != FP_OK) return st;
    fp_tconn *c = conn_new(w, s, FPT_OPEN);
    if (!c) {
        closesocket(s);
        return FP_ENOMEM;
    }
    int err = conn_attach(w, c);
    if (err) {
        /* RIO takes only sockets created with WSA_FLAG_REGISTERED_IO */
        st = fpt_wsa_status_logged(w->core.host, "rio",
                                   "a request queue for an adopted socket (it must be created with "
                                   "WSA_FLAG_REGISTERED_IO)",
                                   err);
        conn_drop_new(w, c);
        return st == FP_EIO ? FP_EINVAL : st;
    }
    c->base.user = conn_user;
    c->base.peer = peer;
    rio_recv_post(c);
    *out = c;
    return FP_OK;
}

int rio_port_complete(fpt_port *p, const OVERLAPPED_ENTRY *e)
{
    fp_tworker *w = rio_port_worker(p);
    if (e->lpCompletionKey == RIO_KEY_CQ) {
        w->cq_armed = false;
        w->stats.cq_notifications++;
        int handled = rio_cq_drain(w);
        rio_cq_arm(w);
        return handled;
    }
    fpt_port_op *op = fpt_port_op_of(e->lpOverlapped);
    if (e->lpCompletionKey != FPT_PORT_KEY_IO || op->kind != RIO_OP_CONNECT) {
        w->core.counters.stale_completions++;
        return 0;
    }
    fp_tconn *c = fpt_container_of(op, fp_tconn, connect);
    connect_complete(w, c);
    fpt_conn_op_done(&c->base);
    return 1;
}

void rio_port_release(fpt_port *p, const OVERLAPPED_ENTRY *e)
{
    fp_tworker *w = rio_port_worker(p);
    if (e->lpCompletionKey == RIO_KEY_CQ) {
        w->cq_armed = false;
        return;
    }
    if (e->lpCompletionKey != FPT_PORT_KEY_IO) return;
    fp_tconn *c = fpt_container_of(fpt_port_op_of(e->lpOverlapped), fp_tconn, connect);
    if (c->base.ops) c->base.ops--;
}

int rio_conn_result(fp_tworker *w, const RIORESULT *r)
{
    fp_tconn *c = (fp_tconn *)(uintptr_t)r->SocketContext;
    if (!c || c->base.state == FPT_FREE) { /* cannot happen while `ops` holds the slot */
        w->core.counters.stale_completions++;
        return 0;
    }
    if (r->RequestContext == RIO_REQ_RECV) return rio_recv_result(c, r);
    if (r->RequestContext == RIO_REQ_SEND) return rio_send_result(c, r);
    w->core.counters.stale_completions++;
    return 0;
}

void rio_conns_fail_all(fp_tworker *w, fp_status why)
{
    for (uint32_t i = 0; i < w->core.n_slots; i++) {
        fpt_conn *base = w->core.slots[i];
        fp_tconn *c = rio_conn(base);
        if (base->state == FPT_FREE || !c->cq_reserved) continue; /* no request queue on this CQ */
        unsigned lost = (c->rx_posted ? 1u : 0u) + c->tx_requests;
        c->rx_posted = false;
        c->tx_requests = 0;
        base->tx_busy = false;
        fpt_list_remove(&c->commit_link);
        fpt_conn_terminate(base, why, true);
        /* their results went down with the queue: count them in */
        for (unsigned k = 0; k < lost; k++) fpt_conn_op_done(base);
    }
}

void rio_conn_abort_socket(fpt_conn *c) { fpt_win_abort_socket(rio_conn(c)->s); }

void rio_conn_shutdown_send(fpt_conn *c) { fpt_win_shutdown_send(rio_conn(c)->s); }

/* Closing the socket is RIO's only cancel: every request completes, and
 * its request queue is gone (nothing is committed on it any more). */
void rio_conn_cancel(fpt_conn *c)
{
    fp_tconn *rc = rio_conn(c);
    fpt_win_close(&rc->s);
    rc->rq = RIO_INVALID_RQ;
    fpt_list_remove(&rc->commit_link);
}

/* Everything is back: the socket (and its request queue) goes, and the
 * receive slice returns unless a lent send still reads it. */
void rio_conn_finish(fpt_conn *base)
{
    fp_tconn *c = rio_conn(base);
    fp_tworker *w = rio_worker(base->w);
    fpt_win_close(&c->s);
    c->rq = RIO_INVALID_RQ;
    fpt_list_remove(&c->commit_link);
    if (c->rx) rio_slice_give_back(w, c->rx);
    c->rx = NULL;
    if (c->cq_reserved) rio_cq_unreserve(w);
    c->cq_reserved = false;
}

/* Worker teardown, after the drain: nothing is in flight. */
void rio_conn_discard(fpt_conn *base) { rio_conn_finish(base); }
