/*
 * uring_conn.c - connection life cycle: slots, creation (accept, connect,
 * adopt) and closing. The receive path is in uring_recv.c.
 *
 * Closing: every operation in flight is counted (`ops`). A close cancels
 * them all by fd and waits; only when the last completion is in does the
 * fd close, the send slices go back and on_closed get queued. The slot's
 * generation moves on after on_closed, so a late completion can never
 * reach a reused connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sockaddr.h"
#include "uring_internal.h"

#define UR_CONN_BLOCK 64

/* ---- slots ---- */

static fp_tconn *conn_alloc(fp_tworker *w)
{
    if (!w->free_conns) {
        if (w->n_slots + UR_CONN_BLOCK > UR_SLOT_MAX) return NULL;
        if (w->n_slots + UR_CONN_BLOCK > w->cap_slots) {
            uint32_t cap = w->cap_slots ? w->cap_slots * 2 : 256;
            fp_tconn **slots = realloc(w->slots, cap * sizeof(*slots));
            if (!slots) return NULL;
            w->slots = slots;
            w->cap_slots = cap;
        }
        ur_conn_block *b = malloc(sizeof(*b) + UR_CONN_BLOCK * sizeof(fp_tconn));
        if (!b) return NULL;
        b->count = UR_CONN_BLOCK;
        b->next = w->blocks;
        w->blocks = b;
        for (size_t i = b->count; i-- > 0;) {
            fp_tconn *c = &b->conns[i];
            memset(c, 0, sizeof(*c));
            c->slot = w->n_slots + (uint32_t)i;
            c->state = UR_CONN_FREE;
            c->fd = -1;
            w->slots[c->slot] = c;
            c->free_next = w->free_conns;
            w->free_conns = c;
        }
        w->n_slots += UR_CONN_BLOCK;
    }
    fp_tconn *c = w->free_conns;
    w->free_conns = c->free_next;
    uint32_t slot = c->slot, gen = c->gen;
    memset(c, 0, sizeof(*c));
    c->slot = slot;
    c->gen = gen;
    c->fd = -1;
    c->w = w;
    fpt_list_init(&c->ready_link);
    fpt_list_init(&c->dirty_link);
    fpt_list_init(&c->wait_link);
    fpt_list_init(&c->notify_link);
    w->stats.conns_open++;
    return c;
}

void ur_conn_release(fp_tconn *c)
{
    fp_tworker *w = c->w;
    free(c->stash.data);
    c->stash.data = NULL;
    c->state = UR_CONN_FREE;
    c->gen++;
    c->free_next = w->free_conns;
    w->free_conns = c;
}

fp_tconn *ur_conn_lookup(fp_tworker *w, uint64_t ud)
{
    uint32_t slot = ur_ud_slot(ud);
    if (slot >= w->n_slots) return NULL;
    fp_tconn *c = w->slots[slot];
    if (c->gen != ur_ud_gen(ud) || c->state == UR_CONN_FREE) return NULL;
    return c;
}

void ur_conns_release_all(fp_tworker *w)
{
    while (w->blocks) {
        ur_conn_block *b = w->blocks;
        w->blocks = b->next;
        for (size_t i = 0; i < b->count; i++) {
            fp_tconn *c = &b->conns[i];
            if (c->state == UR_CONN_FREE) continue;
            if (c->fd >= 0) close(c->fd);
            ur_chain_release(c);
            free(c->stash.data);
            free(c->tx);
            free(c->connect_addr);
        }
        free(b);
    }
    w->free_conns = NULL;
}

/* ---- helpers ---- */

static void set_nodelay(const fp_transport *t, int fd)
{
    if (!t->set.nodelay) return;
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* ---- closing ---- */

/* The last completion is in: close the fd, give back the slices, queue
 * on_closed (or recycle at once for a refused connection). */
static void conn_finish(fp_tconn *c)
{
    fp_tworker *w = c->w;
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    ur_chain_release(c);
    ur_stash_drop(c);
    c->state = UR_CONN_DEAD;
    if (c->silent)
        ur_conn_release(c);
    else if (!fpt_linked(&c->notify_link))
        fpt_list_push_back(&w->notify, &c->notify_link);
}

void ur_conn_terminate(fp_tconn *c, fp_status why, bool abortive)
{
    fp_tworker *w = c->w;
    if (c->state == UR_CONN_CLOSING || c->state == UR_CONN_DEAD || c->state == UR_CONN_FREE) return;
    if (abortive && c->fd >= 0) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        (void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    fpt_list_remove(&c->ready_link);
    fpt_list_remove(&c->dirty_link);
    fpt_list_remove(&c->wait_link);
    ur_stash_drop(c);
    c->state = UR_CONN_CLOSING;
    c->close_why = why;
    w->stats.conns_open--;
    if (c->ops == 0) {
        conn_finish(c);
        return;
    }
    struct io_uring_sqe *sqe = ur_sqe(w);
    if (sqe) {
        io_uring_prep_cancel_fd(sqe, c->fd, IORING_ASYNC_CANCEL_ALL);
        io_uring_sqe_set_data64(sqe, ur_ud(UR_OP_CANCEL, c->slot, c->gen));
        c->ops++;
    } else {
        /* no SQE: make the kernel end the operations itself */
        (void)shutdown(c->fd, SHUT_RDWR);
    }
}

void ur_conn_op_done(fp_tconn *c)
{
    c->ops--;
    if (c->ops == 0 && c->state == UR_CONN_CLOSING) conn_finish(c);
}

void ur_conn_fail(fp_tconn *c, fp_status why)
{
    /* after our FIN everything was delivered: any ending is a clean one */
    if (c->state == UR_CONN_LINGER)
        why = FP_OK;
    else
        c->w->stats.peer_errors++;
    ur_conn_terminate(c, why, false);
}

void ur_close_conn(fp_tconn *c, fp_close_mode mode)
{
    switch (c->state) {
    case UR_CONN_FREE:
    case UR_CONN_CLOSING:
    case UR_CONN_DEAD: return;
    case UR_CONN_CONNECTING: ur_conn_terminate(c, FP_OK, true); return;
    default: break;
    }
    if (mode == FP_CLOSE_ABORT) {
        ur_conn_terminate(c, FP_OK, true);
        return;
    }
    if (c->state != UR_CONN_OPEN) return; /* already closing gracefully */
    c->state = UR_CONN_DRAINING;
    c->paused = false;
    ur_stash_drop(c); /* input is discarded from now on */
    fpt_list_remove(&c->wait_link);
    ur_recv_arm(c);
    if (!c->send_inflight && c->queued == 0)
        ur_conn_shutdown_write(c);
    else if (!c->send_inflight && !fpt_linked(&c->dirty_link))
        fpt_list_push_back(&c->w->dirty, &c->dirty_link);
}

void ur_conn_shutdown_write(fp_tconn *c)
{
    (void)shutdown(c->fd, SHUT_WR);
    c->state = UR_CONN_LINGER;
    if (c->eof_seen) ur_conn_terminate(c, FP_OK, false);
}

/* ---- creation ---- */

void ur_conn_accepted(fp_tworker *w, int fd)
{
    fp_tconn *c = conn_alloc(w);
    if (!c) {
        close(fd);
        w->stats.accept_errors++;
        return;
    }
    c->fd = fd;
    c->state = UR_CONN_OPEN;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
        fpt_addr_from_sockaddr((struct sockaddr *)&ss, &c->peer);
    set_nodelay(w->t, fd);
    void *user = w->ev->on_accepted(w->user, c, &c->peer);
    if (user) {
        c->user = user;
        ur_recv_arm(c);
        return;
    }
    /* Refused: reset it and recycle. The callback may already have closed
     * it; either way nothing more is delivered. */
    w->stats.accept_refused++;
    c->silent = true;
    if (c->state == UR_CONN_DEAD) {
        fpt_list_remove(&c->notify_link);
        ur_conn_release(c);
        return;
    }
    ur_conn_terminate(c, FP_OK, true);
}

static fp_status connect_status(int err)
{
    switch (err) {
    case ECONNREFUSED: return FP_ECONNREFUSED;
    case ETIMEDOUT: return FP_ETIMEDOUT;
    default: return FP_EIO;
    }
}

fp_status ur_connect(fp_tworker *w, const fp_addr *addr, void *conn_user, fp_tconn **out)
{
    *out = NULL;
    struct sockaddr_storage ss;
    socklen_t len;
    if (!fpt_addr_to_sockaddr(addr, &ss, &len)) return FP_EINVAL;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return fpt_errno_status(errno);
    fpt_set_socket_buffers(fd, w->t->set.sndbuf, w->t->set.rcvbuf);
    set_nodelay(w->t, fd);
    fp_tconn *c = conn_alloc(w);
    struct io_uring_sqe *sqe = c ? ur_sqe(w) : NULL;
    if (!sqe) {
        if (c) {
            w->stats.conns_open--;
            ur_conn_release(c);
        }
        close(fd);
        return FP_ENOMEM;
    }
    c->fd = fd;
    c->user = conn_user;
    c->peer = *addr;
    c->state = UR_CONN_CONNECTING;
    c->connect_addr = malloc(sizeof(*c->connect_addr));
    if (!c->connect_addr) {
        /* the SQE is already taken: make it a no-op that completes */
        io_uring_prep_nop(sqe);
        io_uring_sqe_set_data64(sqe, ur_ud(UR_OP_CONNECT, c->slot, c->gen));
        c->ops++;
        ur_conn_terminate(c, FP_ENOMEM, false);
        *out = c;
        return FP_OK;
    }
    *c->connect_addr = ss;
    io_uring_prep_connect(sqe, fd, (struct sockaddr *)c->connect_addr, len);
    io_uring_sqe_set_data64(sqe, ur_ud(UR_OP_CONNECT, c->slot, c->gen));
    c->ops++;
    w->stats.connects++;
    *out = c;
    return FP_OK;
}

static void complete_connect(fp_tconn *c, int res)
{
    fp_tworker *w = c->w;
    free(c->connect_addr);
    c->connect_addr = NULL;
    if (c->state != UR_CONN_CONNECTING) return; /* closed meanwhile */
    if (res < 0) {
        w->stats.connect_failures++;
        ur_conn_terminate(c, connect_status(-res), false);
        return;
    }
    c->state = UR_CONN_OPEN;
    w->ev->on_connected(c->user);
    if (c->state != UR_CONN_OPEN) return;
    ur_recv_arm(c);
    if (c->queued && !c->send_inflight && !fpt_linked(&c->dirty_link))
        fpt_list_push_back(&w->dirty, &c->dirty_link);
}

fp_status ur_adopt(fp_tworker *w, fp_socket_handle handle, void *conn_user, fp_tconn **out)
{
    *out = NULL;
    int fd = (int)handle;
    if (fd < 0 || (intptr_t)fd != handle) return FP_EINVAL;
    fp_status st = FP_EINVAL;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    /* blocking: the ring waits, and never hands EAGAIN back for it */
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) goto fail_errno;
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0) goto fail_errno;
    fpt_set_socket_buffers(fd, w->t->set.sndbuf, w->t->set.rcvbuf);
    set_nodelay(w->t, fd);
    fp_tconn *c = conn_alloc(w);
    if (!c) {
        st = FP_ENOMEM;
        goto fail;
    }
    c->fd = fd;
    c->user = conn_user;
    c->state = UR_CONN_OPEN;
    fpt_addr_from_sockaddr((struct sockaddr *)&ss, &c->peer);
    ur_recv_arm(c);
    *out = c;
    return FP_OK;

fail_errno:
    st = fpt_errno_status(errno);
fail:
    close(fd);
    return st;
}

void ur_conn_peer(const fp_tconn *c, fp_addr *out) { *out = c->peer; }

int ur_conn_complete(fp_tconn *c, uint64_t ud, int res, unsigned flags)
{
    switch (ur_ud_op(ud)) {
    case UR_OP_RECV: return ur_recv_complete(c, res, flags);
    case UR_OP_SEND:
        ur_send_complete(c, res);
        ur_conn_op_done(c);
        return 1;
    case UR_OP_CONNECT:
        complete_connect(c, res);
        ur_conn_op_done(c);
        return 1;
    case UR_OP_CANCEL:
        c->recv_cancelling = false;
        ur_conn_op_done(c);
        return 0;
    default: return 0;
    }
}
