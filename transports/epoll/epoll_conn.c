/*
 * epoll_conn.c - connections under epoll: creation (accept, connect,
 * adopt), readiness events, the read loop and closing the fd.
 *
 * Input is edge-triggered. `readable` remembers an edge we have not
 * drained, so a connection whose read budget ran out, or that was paused,
 * is read again from the core's ready list without waiting for a new edge.
 * Nothing is ever in flight in the kernel, so a close finishes at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "epoll_internal.h"
#include "sockaddr.h"

#define EP_INPUT_EVENTS (EPOLLIN | EPOLLRDHUP | EPOLLET)

_Static_assert(offsetof(struct fp_tconn, fd) == offsetof(fpt_fd_conn, fd),
               "an epoll connection starts as fpt_fd_conn");

static int sock_error(int fd)
{
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return errno;
    return err;
}

static fp_tconn *conn_new(fp_tworker *w, int fd, fpt_state state)
{
    fpt_conn *c = fpt_conn_new(&w->core, state);
    if (!c) return NULL;
    fp_tconn *ec = ep_conn(c);
    ec->fd = fd;
    ec->h.kind = EP_KIND_CONN;
    return ec;
}

static fp_status conn_register(fp_tconn *c, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = &c->h};
    if (epoll_ctl(ep_worker(c->base.w)->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
        return fpt_errno_status(errno);
    c->events = events;
    return FP_OK;
}

/* For a connection epoll never took: undo conn_new and close the fd. */
static void conn_unregistered(fp_tconn *c)
{
    close(c->fd);
    c->fd = -1;
    fpt_conn_discard_new(&c->base);
}

void ep_conn_update_events(fp_tconn *c)
{
    if (c->fd < 0 || c->base.state == FPT_DEAD || c->base.state == FPT_CLOSING) return;
    uint32_t want = EP_INPUT_EVENTS;
    if (c->base.tx_busy || c->base.state == FPT_CONNECTING) want |= EPOLLOUT;
    if (want == c->events) return;
    struct epoll_event ev = {.events = want, .data.ptr = &c->h};
    if (epoll_ctl(ep_worker(c->base.w)->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
        fpt_conn_fail(&c->base, fpt_errno_status(errno));
        return;
    }
    c->events = want;
}

/* fpt_backend.finish: nothing is in flight; the fd goes at once. */
void ep_conn_finish(fpt_conn *c)
{
    fp_tconn *ec = ep_conn(c);
    if (ec->fd >= 0) {
        /* explicit: a forked child sharing the fd would keep it in our set */
        if (ec->events) (void)epoll_ctl(ep_worker(c->w)->epfd, EPOLL_CTL_DEL, ec->fd, NULL);
        close(ec->fd);
        ec->fd = -1;
    }
    ec->events = 0;
}

void ep_conn_discard(fpt_conn *c)
{
    fp_tconn *ec = ep_conn(c);
    if (ec->fd >= 0) close(ec->fd);
}

void ep_conn_accepted(fp_tworker *w, int fd, const fp_addr *peer)
{
    fp_tconn *c = conn_new(w, fd, FPT_OPEN);
    if (!c) {
        close(fd);
        w->core.counters.accept_errors++;
        return;
    }
    c->base.peer = *peer;
    fpt_set_nodelay(fd, w->t->set.sock.nodelay);
    /* ADD reports input that is already there: no read needed up front */
    if (conn_register(c, EP_INPUT_EVENTS) != FP_OK) {
        w->core.counters.accept_errors++;
        conn_unregistered(c);
        return;
    }
    (void)fpt_conn_announce_accepted(&c->base);
}

fp_status ep_connect(fp_tworker *w, const fp_addr *addr, void *conn_user, fp_tconn **out)
{
    *out = NULL;
    struct sockaddr_storage ss;
    socklen_t len;
    if (!fpt_addr_to_sockaddr(addr, &ss, &len)) return FP_EINVAL;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return fpt_errno_status(errno);
    fpt_set_socket_buffers(fd, w->t->set.sock.sndbuf, w->t->set.sock.rcvbuf);
    fpt_set_nodelay(fd, w->t->set.sock.nodelay);
    fp_tconn *c = conn_new(w, fd, FPT_CONNECTING);
    if (!c) {
        close(fd);
        return FP_ENOMEM;
    }
    c->base.user = conn_user;
    c->base.peer = *addr;
    w->core.counters.connects++;
    if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
        /* refused or unreachable at once: reported like a late failure */
        fpt_conn_connect_failed(&c->base, fpt_connect_status(errno));
        *out = c;
        return FP_OK;
    }
    fp_status st = conn_register(c, EP_INPUT_EVENTS | EPOLLOUT);
    if (st != FP_OK) {
        conn_unregistered(c);
        return st;
    }
    *out = c;
    return FP_OK;
}

static void complete_connect(fp_tconn *c)
{
    int err = sock_error(c->fd);
    if (err) {
        fpt_conn_connect_failed(&c->base, fpt_connect_status(err));
        return;
    }
    c->base.state = FPT_OPEN;
    ep_conn_update_events(c);
    if (c->base.state != FPT_OPEN || !fpt_conn_connected(&c->base)) return;
    c->readable = true;
    ep_conn_read(&c->base);
}

fp_status ep_adopt(fp_tworker *w, fp_socket_handle handle, void *conn_user, fp_tconn **out)
{
    *out = NULL;
    fpt_conn *base;
    fp_status st = fpt_fd_conn_adopt(&w->core, handle, true, &w->t->set.sock, conn_user, &base);
    if (st != FP_OK) return st;
    fp_tconn *c = ep_conn(base);
    c->h.kind = EP_KIND_CONN;
    st = conn_register(c, EP_INPUT_EVENTS);
    if (st != FP_OK) {
        conn_unregistered(c);
        return st;
    }
    *out = c;
    return FP_OK;
}

/* fpt_backend.input: read what the socket has, within this poll's budget
 * (the rest waits on the ready list). Returns 1 when it read. */
int ep_conn_read(fpt_conn *c)
{
    fp_tconn *ec = ep_conn(c);
    fp_tworker *w = ep_worker(c->w);
    if (!ec->readable || !fpt_conn_wants_input(c)) return 0;
    if (ec->budget_round != w->round) {
        ec->budget_round = w->round;
        ec->budget_left = w->read_budget;
    }
    for (;;) {
        if (ec->budget_left == 0) {
            fpt_conn_push_ready(c); /* fairness: the rest waits for the next poll */
            return 1;
        }
        ssize_t n = read(ec->fd, w->rbuf, w->read_size);
        if (n > 0) {
            w->stats.reads++;
            ec->budget_left = (uint64_t)n >= ec->budget_left ? 0 : ec->budget_left - (uint64_t)n;
            /* closing: input is read only to find the FIN, and dropped */
            fpt_conn_received(c, w->rbuf, (size_t)n);
            if (!fpt_conn_wants_input(c)) return 1; /* closed or paused: `readable` stays */
            /* A short read emptied the socket; new data brings a new edge.
             * After RDHUP keep reading to collect the 0 that marks the FIN. */
            if ((size_t)n < w->read_size && !ec->eof_pending) {
                ec->readable = false;
                return 1;
            }
            continue;
        }
        if (n == 0) {
            ec->readable = false;
            ec->eof_pending = false;
            fpt_conn_eof(c);
            return 1;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            ec->readable = false;
            ec->eof_pending = false;
            return 1;
        }
        fpt_conn_fail(c, fpt_errno_status(errno));
        return 1;
    }
}

void ep_conn_on_event(fp_tconn *c, uint32_t events)
{
    switch (c->base.state) {
    case FPT_FREE:
    case FPT_CLOSING:
    case FPT_DEAD: return;
    case FPT_CONNECTING:
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) complete_connect(c);
        return;
    default: break;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c->readable = true;
    if (events & (EPOLLRDHUP | EPOLLHUP)) c->eof_pending = true;
    if (events & EPOLLERR) {
        int err = sock_error(c->fd);
        if (err) {
            fpt_conn_fail(&c->base, fpt_errno_status(err));
            return;
        }
    }
    if ((events & (EPOLLOUT | EPOLLHUP)) && c->base.tx_busy) {
        c->base.tx_busy = false;
        ep_conn_send(&c->base);
        if (c->base.state == FPT_DEAD || c->base.state == FPT_CLOSING) return;
    }
    if (c->readable) ep_conn_read(&c->base);
}
