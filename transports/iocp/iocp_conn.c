/*
 * iocp_conn.c - connections on a completion port: creation (accepted,
 * connect with ConnectEx, adopt), completion dispatch, and what closing
 * means for overlapped I/O.
 *
 * The core counts every operation posted for a connection (`ops`): when
 * it closes with some in flight, ic_conn_cancel cancels them all
 * (CancelIoEx), and only once the last completion is dequeued does the
 * core call ic_conn_finish, which closes the socket. The connection's
 * memory, OVERLAPPEDs included, is recycled only after that, so the
 * kernel never writes into a freed or reused slot.
 */
#include <stdlib.h>

#include "iocp_internal.h"
#include "sockaddr.h"

static fp_tconn *conn_new(fp_tworker *w, SOCKET s, fpt_state state)
{
    fpt_conn *c = fpt_conn_new(&w->core, state);
    if (!c) return NULL;
    fp_tconn *ic = ic_conn(c);
    ic->s = s;
    ic->rx.kind = IC_OP_RECV;
    return ic;
}

/* The socket joins w's port, non-blocking (reads after a zero-byte
 * receive must not wait) with TCP_NODELAY as configured. */
static int conn_socket_prepare(fp_tworker *w, SOCKET s)
{
    int err = fpt_win_set_nonblocking(s);
    if (!err) err = fpt_port_associate(&w->port, s);
    if (!err) fpt_win_set_nodelay(s, w->t->set.sock.nodelay != 0);
    return err;
}

void ic_conn_accepted(fpt_port *p, SOCKET s, const fp_addr *peer)
{
    fp_tworker *w = ic_port_worker(p);
    fp_tconn *c = conn_socket_prepare(w, s) ? NULL : conn_new(w, s, FPT_OPEN);
    if (!c) {
        closesocket(s);
        w->core.counters.accept_errors++;
        return;
    }
    w->core.counters.accepts++;
    c->base.peer = *peer;
    if (fpt_conn_announce_accepted(&c->base)) ic_recv_post(c);
}

fp_status ic_connect(fp_tworker *w, const fp_addr *addr, void *conn_user, fp_tconn **out)
{
    *out = NULL;
    struct sockaddr_storage ss;
    fpt_socklen len;
    if (!fpt_addr_to_sockaddr(addr, &ss, &len)) return FP_EINVAL; /* before any socket is made */
    SOCKET s = INVALID_SOCKET;
    int err = fpt_port_connect_socket(&w->port, addr, 0, &w->t->set.sock, &s);
    /* reads after a zero-byte receive must not wait */
    if (!err && (err = fpt_win_set_nonblocking(s)) != 0) closesocket(s);
    if (err) return fpt_wsa_status_logged(w->core.host, "iocp", "preparing a connect", err);
    fp_tconn *c = conn_new(w, s, FPT_CONNECTING);
    if (!c) {
        closesocket(s);
        return FP_ENOMEM;
    }
    c->base.user = conn_user;
    c->base.peer = *addr;
    *out = c;
    w->core.counters.connects++;
    fpt_port_connect_post(&w->port, &c->base, s, &c->tx, IC_OP_CONNECT);
    return FP_OK;
}

static void connect_complete(fp_tconn *c)
{
    if (c->base.state != FPT_CONNECTING) return; /* closed meanwhile */
    int err = fpt_port_connect_result(c->s, &c->tx);
    if (err) {
        fpt_conn_connect_failed(&c->base, fpt_wsa_connect_status(err));
        return;
    }
    if (fpt_conn_connected(&c->base)) ic_recv_post(c);
}

fp_status ic_adopt(fp_tworker *w, fp_socket_handle handle, void *conn_user, fp_tconn **out)
{
    *out = NULL;
    SOCKET s;
    fp_addr peer;
    fp_status st = fpt_win_adopt_prepare(handle, &w->t->set.sock, &s, &peer);
    if (st != FP_OK) return st;
    int err = fpt_port_associate(&w->port, s);
    if (err) {
        /* already bound to another port (a handle joins one port, once),
         * or a layered provider's handle that no port takes */
        closesocket(s);
        return err == ERROR_INVALID_PARAMETER ? FP_EINVAL : fpt_wsa_status(err);
    }
    fp_tconn *c = conn_new(w, s, FPT_OPEN);
    if (!c) {
        closesocket(s);
        return FP_ENOMEM;
    }
    c->base.user = conn_user;
    c->base.peer = peer;
    ic_recv_post(c);
    *out = c;
    return FP_OK;
}

static fp_tconn *owner_of(ic_op *op)
{
    if (op->kind == IC_OP_RECV) return fpt_container_of(op, fp_tconn, rx);
    return fpt_container_of(op, fp_tconn, tx);
}

int ic_conn_complete(fpt_port *p, const OVERLAPPED_ENTRY *e)
{
    fp_tworker *w = ic_port_worker(p);
    if (e->lpCompletionKey != FPT_PORT_KEY_IO) {
        w->core.counters.stale_completions++;
        return 0;
    }
    ic_op *op = fpt_port_op_of(e->lpOverlapped);
    DWORD bytes = e->dwNumberOfBytesTransferred;
    fp_tconn *c = owner_of(op);
    if (c->base.state == FPT_FREE) { /* cannot happen while `ops` holds the slot */
        w->core.counters.stale_completions++;
        return 0;
    }
    switch (op->kind) {
    case IC_OP_RECV: return ic_recv_complete(c);
    case IC_OP_SEND: return ic_send_complete(c, bytes);
    case IC_OP_CONNECT:
        connect_complete(c);
        fpt_conn_op_done(&c->base);
        return 1;
    default: w->core.counters.stale_completions++; return 0;
    }
}

void ic_conn_complete_discarded(fpt_port *p, const OVERLAPPED_ENTRY *e)
{
    if (e->lpCompletionKey != FPT_PORT_KEY_IO) return;
    fp_tworker *w = ic_port_worker(p);
    ic_op *op = fpt_port_op_of(e->lpOverlapped);
    fp_tconn *c = owner_of(op);
    if (op->kind == IC_OP_SEND) ic_txbufs_give_back(w, c);
    if (c->base.ops) c->base.ops--;
}

void ic_conn_abort_socket(fpt_conn *c) { fpt_win_abort_socket(ic_conn(c)->s); }

void ic_conn_shutdown_send(fpt_conn *c) { fpt_win_shutdown_send(ic_conn(c)->s); }

void ic_conn_cancel(fpt_conn *c)
{
    fp_tconn *ic = ic_conn(c);
    if (ic->s == INVALID_SOCKET) return;
    /* every operation on the socket, from any thread; ERROR_NOT_FOUND: all
     * of them completed already and wait in the port */
    if (CancelIoEx((HANDLE)ic->s, NULL) || GetLastError() == ERROR_NOT_FOUND) return;
    fpt_win_close(&ic->s); /* closing completes them too */
}

void ic_conn_finish(fpt_conn *c) { fpt_win_close(&ic_conn(c)->s); }

/* Worker teardown, after the drain: nothing is in flight. */
void ic_conn_discard(fpt_conn *c)
{
    fp_tconn *ic = ic_conn(c);
    fpt_win_close(&ic->s);
    ic_txbufs_give_back(ic_worker(c->w), ic);
}
