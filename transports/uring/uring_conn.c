/*
 * uring_conn.c - connections in the ring: creation (accept, connect,
 * adopt), completion dispatch, and what closing means for io_uring.
 *
 * The core counts every operation in flight (`ops`). When a connection
 * closes with operations out, ur_conn_cancel cancels them all by fd; only
 * when the last completion is in does the core call ur_conn_finish, which
 * closes the fd. Every SQE carries the connection's slot and generation,
 * so a late completion for a recycled slot is recognised and dropped.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sockaddr.h"
#include "uring_internal.h"

_Static_assert(offsetof(struct fp_tconn, fd) == offsetof(fpt_fd_conn, fd),
               "a uring connection starts as fpt_fd_conn");

void ur_conn_cancel(fpt_conn *c)
{
    fp_tconn *uc = ur_conn(c);
    fp_tworker *w = ur_worker(c->w);
    struct io_uring_sqe *sqe = ur_sqe(w);
    if (sqe) {
        io_uring_prep_cancel_fd(sqe, uc->fd, IORING_ASYNC_CANCEL_ALL);
        io_uring_sqe_set_data64(sqe, ur_ud(UR_OP_CANCEL, c->slot, c->gen));
        c->ops++;
    } else {
        /* no SQE: make the kernel end the operations itself */
        (void)shutdown(uc->fd, SHUT_RDWR);
    }
}

void ur_conn_finish(fpt_conn *c)
{
    fp_tconn *uc = ur_conn(c);
    if (uc->fd >= 0) {
        close(uc->fd);
        uc->fd = -1;
    }
}

/* Worker teardown, after the ring is gone: nothing is in flight. */
void ur_conn_discard(fpt_conn *c)
{
    fp_tconn *uc = ur_conn(c);
    if (uc->fd >= 0) close(uc->fd);
    free(uc->tx);
    free(uc->connect_addr);
}

static fp_tconn *conn_new(fp_tworker *w, int fd, fpt_state state)
{
    fpt_conn *c = fpt_conn_new(&w->core, state);
    if (!c) return NULL;
    fp_tconn *uc = ur_conn(c);
    uc->fd = fd;
    return uc;
}

void ur_conn_accepted(fp_tworker *w, int fd)
{
    fp_tconn *c = conn_new(w, fd, FPT_OPEN);
    if (!c) {
        close(fd);
        w->core.counters.accept_errors++;
        return;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
        fpt_addr_from_sockaddr((struct sockaddr *)&ss, &c->base.peer);
    fpt_set_nodelay(fd, w->t->set.sock.nodelay);
    if (fpt_conn_announce_accepted(&c->base)) ur_recv_arm(&c->base);
}

fp_status ur_connect(fp_tworker *w, const fp_addr *addr, void *conn_user, fp_tconn **out)
{
    *out = NULL;
    struct sockaddr_storage ss;
    socklen_t len;
    if (!fpt_addr_to_sockaddr(addr, &ss, &len)) return FP_EINVAL;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return fpt_errno_status(errno);
    fpt_set_socket_buffers(fd, w->t->set.sock.sndbuf, w->t->set.sock.rcvbuf);
    fpt_set_nodelay(fd, w->t->set.sock.nodelay);
    fp_tconn *c = conn_new(w, fd, FPT_CONNECTING);
    struct io_uring_sqe *sqe = c ? ur_sqe(w) : NULL;
    if (!sqe) {
        if (c) fpt_conn_discard_new(&c->base);
        close(fd);
        return FP_ENOMEM;
    }
    c->base.user = conn_user;
    c->base.peer = *addr;
    c->base.ops++;
    *out = c;
    c->connect_addr = malloc(sizeof(*c->connect_addr));
    if (!c->connect_addr) {
        /* the SQE is already taken: make it a no-op that completes */
        io_uring_prep_nop(sqe);
        io_uring_sqe_set_data64(sqe, ur_ud(UR_OP_CONNECT, c->base.slot, c->base.gen));
        fpt_conn_terminate(&c->base, FP_ENOMEM, false);
        return FP_OK;
    }
    *c->connect_addr = ss;
    io_uring_prep_connect(sqe, fd, (struct sockaddr *)c->connect_addr, len);
    io_uring_sqe_set_data64(sqe, ur_ud(UR_OP_CONNECT, c->base.slot, c->base.gen));
    w->core.counters.connects++;
    return FP_OK;
}

static void complete_connect(fp_tconn *c, int res)
{
    free(c->connect_addr);
    c->connect_addr = NULL;
    if (c->base.state != FPT_CONNECTING) return; /* closed meanwhile */
    if (res < 0) {
        fpt_conn_connect_failed(&c->base, fpt_connect_status(-res));
        return;
    }
    if (fpt_conn_connected(&c->base)) ur_recv_arm(&c->base);
}

fp_status ur_adopt(fp_tworker *w, fp_socket_handle handle, void *conn_user, fp_tconn **out)
{
    *out = NULL;
    fpt_conn *c;
    /* blocking: the ring waits, and never hands EAGAIN back for it */
    fp_status st = fpt_fd_conn_adopt(&w->core, handle, false, &w->t->set.sock, conn_user, &c);
    if (st != FP_OK) return st;
    ur_recv_arm(c);
    *out = ur_conn(c);
    return FP_OK;
}

int ur_conn_complete(fp_tconn *c, uint64_t ud, int res, unsigned flags)
{
    switch (ur_ud_op(ud)) {
    case UR_OP_RECV: return ur_recv_complete(c, res, flags);
    case UR_OP_SEND:
        ur_send_complete(c, res);
        fpt_conn_op_done(&c->base);
        return 1;
    case UR_OP_CONNECT:
        complete_connect(c, res);
        fpt_conn_op_done(&c->base);
        return 1;
    case UR_OP_CANCEL:
        c->recv_cancelling = false;
        fpt_conn_op_done(&c->base);
        return 0;
    default: return 0;
    }
}
