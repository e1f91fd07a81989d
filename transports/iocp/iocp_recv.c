/*
 * iocp_recv.c - the receive path: a zero-byte WSARecv waits while the
 * connection is idle, so an idle session pins no receive buffer; when it
 * completes the socket has input, which is read non-blocking into the
 * worker's one buffer and delivered through the core, then the zero-byte
 * receive is posted again.
 *
 * Reading stops when the socket would block, the connection stops
 * wanting input (paused, closing, the peer's FIN), or its read budget for
 * this poll is spent: the rest waits on the core's ready list, which calls
 * ic_conn_input again from the next poll. Pausing needs no cancel: the
 * zero-byte receive holds no bytes, and after it completes a paused
 * connection simply does not read until recv_resume.
 */
#include "iocp_internal.h"

void ic_recv_post(fp_tconn *c)
{
    if (c->rx.pending || c->s == INVALID_SOCKET || !fpt_conn_wants_input(&c->base)) return;
    fp_tworker *w = ic_worker(c->base.w);
    WSABUF none = {.len = 0, .buf = NULL};
    DWORD flags = 0;
    fpt_port_op_prepare(&c->rx, IC_OP_RECV);
    if (WSARecv(c->s, &none, 1, NULL, &flags, &c->rx.ov, NULL) != 0) {
        int err = WSAGetLastError();
        if (err != WSA_IO_PENDING) {
            fpt_conn_fail(&c->base, fpt_wsa_status_logged(w->core.host, "iocp", "WSARecv", err));
            return;
        }
    }
    fpt_port_op_posted(&w->port, &c->rx);
    c->base.ops++;
    w->stats.recv_arms++;
}

/* Reads what the socket has, within this poll's budget. Returns the work
 * done (1: it read or learnt something). */
static int read_available(fp_tconn *c)
{
    fpt_conn *base = &c->base;
    fp_tworker *w = ic_worker(base->w);
    if (c->budget_round != w->round) {
        c->budget_round = w->round;
        c->budget_left = w->read_budget;
    }
    int chunk = w->read_size > INT32_MAX ? INT32_MAX : (int)w->read_size;
    for (;;) {
        if (c->budget_left == 0) {
            fpt_conn_push_ready(base); /* fairness: the rest waits for the next poll */
            return 1;
        }
        int n = recv(c->s, (char *)w->rbuf, chunk, 0);
        if (n > 0) {
            w->stats.reads++;
            c->budget_left = (uint64_t)n >= c->budget_left ? 0 : c->budget_left - (uint64_t)n;
            /* closing: input is read only to find the FIN, and dropped */
            fpt_conn_received(base, w->rbuf, (size_t)n);
            if (!fpt_conn_wants_input(base)) return 1;
            if (n < chunk) break; /* emptied: the zero-byte receive says when more comes */
            continue;
        }
        if (n == 0) {
            fpt_conn_eof(base);
            return 1;
        }
        int err = WSAGetLastError();
        if (err == WSAEWOULDBLOCK) break;
        if (err == WSAEINTR) continue;
        fpt_conn_fail(base, fpt_wsa_status_logged(w->core.host, "iocp", "recv", err));
        return 1;
    }
    ic_recv_post(c);
    return 1;
}

/* fpt_backend.input: read, unless a zero-byte receive is still waiting
 * (its completion will say when). */
int ic_conn_input(fpt_conn *base)
{
    fp_tconn *c = ic_conn(base);
    if (c->rx.pending || c->s == INVALID_SOCKET || !fpt_conn_wants_input(base)) return 0;
    return read_available(c);
}

int ic_recv_complete(fp_tconn *c)
{
    fpt_conn *base = &c->base;
    int handled = 0;
    int err = fpt_port_op_failed(&c->rx) ? fpt_port_op_error(c->s, &c->rx) : 0;
    if (err == WSA_OPERATION_ABORTED) {
        /* our cancel (closing); were it anything else, wait again */
        ic_recv_post(c);
    } else if (err) {
        fpt_worker *w = base->w;
        if (base->state != FPT_CLOSING)
            fpt_conn_fail(base, fpt_wsa_status_logged(w->host, "iocp", "zero-byte WSARecv", err));
    } else if (fpt_conn_wants_input(base)) {
        handled = read_available(c);
    }
    fpt_conn_op_done(base); /* last: a close from on_recv finishes here */
    return handled;
}
