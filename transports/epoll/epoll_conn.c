/*
 * epoll_conn.c - connection lifetime: creation (accept, connect, adopt),
 * the receive path, and closing.
 *
 * Input is edge-triggered. `readable` remembers an edge we have not drained,
 * so a connection whose read budget ran out, or that was paused, is read
 * again from the worker's ready list without waiting for a new edge.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "epoll_internal.h"
#include "sockaddr.h"

#define EP_CONN_BLOCK 64
#define EP_INPUT_EVENTS (EPOLLIN | EPOLLRDHUP | EPOLLET)

/* ---- pool ---- */

static fp_tconn *conn_alloc(fp_tworker *w)
{
    if (!w->free_conns) {
        ep_conn_block *b = malloc(sizeof(*b) + EP_CONN_BLOCK * sizeof(fp_tconn));
        if (!b) return NULL;
        b->count = EP_CONN_BLOCK;
        b->next = w->blocks;
        w->blocks = b;
        for (size_t i = b->count; i-- > 0;) {
            fp_tconn *c = &b->conns[i];
            memset(c, 0, sizeof(*c));
            c->state = EP_CONN_FREE;
            c->free_next = w->free_conns;
            w->free_conns = c;
            EP_POISON(c, sizeof(*c));
        }
    }
    fp_tconn *c = w->free_conns;
    EP_UNPOISON(c, sizeof(*c));
    w->free_conns = c->free_next;
    memset(c, 0, sizeof(*c));
    c->h.kind = EP_KIND_CONN;
    c->fd = -1;
    c->w = w;
    fpt_list_init(&c->ready_link);
    fpt_list_init(&c->dirty_link);
    fpt_list_init(&c->wait_link);
    fpt_list_init(&c->notify_link);
    w->stats.conns_open++;
    return c;
}

void ep_conn_release(fp_tconn *c)
{
    fp_tworker *w = c->w;
    c->state = EP_CONN_FREE;
    c->free_next = w->free_conns;
    w->free_conns = c;
    EP_POISON(c, sizeof(*c));
}

void ep_conns_release_all(fp_tworker *w)
{
    while (w->blocks) {
        ep_conn_block *b = w->blocks;
        w->blocks = b->next;
        EP_UNPOISON(b->conns, b->count * sizeof(fp_tconn));
        for (size_t i = 0; i < b->count; i++) {
            fp_tconn *c = &b->conns[i];
            if (c->state == EP_CONN_FREE) continue;
            if (c->fd >= 0) close(c->fd);
            ep_chain_release(c);
        }
        free(b);
    }
    w->free_conns = NULL;
}

/* ---- socket helpers ---- */

static int sock_error(int fd)
{
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return errno;
    return err;
}

static void set_nodelay(const fp_transport *t, int fd)
{
    if (!t->set.nodelay) return;
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static fp_status conn_register(fp_tconn *c, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = &c->h};
    if (epoll_ctl(c->w->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) return fpt_errno_status(errno);
    c->events = events;
    return FP_OK;
}

void ep_conn_update_events(fp_tconn *c)
{
    if (c->fd < 0 || c->state == EP_CONN_DEAD) return;
    uint32_t want = EP_INPUT_EVENTS;
    if (c->blocked || c->state == EP_CONN_CONNECTING) want |= EPOLLOUT;
    if (want == c->events) return;
    struct epoll_event ev = {.events = want, .data.ptr = &c->h};
    if (epoll_ctl(c->w->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
        ep_conn_fail(c, fpt_errno_status(errno));
        return;
    }
    c->events = want;
}

/* ---- closing ---- */

/* Closes the socket, drops queued data and parks the connection for its
 * on_closed; nothing but on_sent/on_closed is delivered afterwards. */
static void conn_terminate(fp_tconn *c, fp_status why, bool abortive)
{
    fp_tworker *w = c->w;
    if (c->state == EP_CONN_DEAD || c->state == EP_CONN_FREE) return;
    if (c->fd >= 0) {
        if (abortive) {
            struct linger lg = {.l_onoff = 1, .l_linger = 0};
            (void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        }
        /* explicit: a forked child sharing the fd would keep it in our set */
        if (c->events) (void)epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
    }
    c->events = 0;
    ep_chain_release(c);
    fpt_list_remove(&c->ready_link);
    fpt_list_remove(&c->dirty_link);
    fpt_list_remove(&c->wait_link);
    c->state = EP_CONN_DEAD;
    c->close_why = why;
    w->stats.conns_open--;
    if (!c->silent && !fpt_linked(&c->notify_link)) fpt_list_push_back(&w->notify, &c->notify_link);
}

void ep_conn_fail(fp_tconn *c, fp_status why)
{
    /* after our FIN everything was delivered: any ending is a clean one */
    if (c->state == EP_CONN_LINGER)
        why = FP_OK;
    else
        c->w->stats.peer_errors++;
    conn_terminate(c, why, false);
}

void ep_close_conn(fp_tconn *c, fp_close_mode mode)
{
    switch (c->state) {
    case EP_CONN_FREE:
    case EP_CONN_DEAD: return;
    case EP_CONN_CONNECTING: conn_terminate(c, FP_OK, true); return;
    default: break;
    }
    if (mode == FP_CLOSE_ABORT) {
        conn_terminate(c, FP_OK, true);
        return;
    }
    if (c->state != EP_CONN_OPEN) return; /* already closing gracefully */
    c->state = EP_CONN_DRAINING;
    c->paused = false;
    fpt_list_remove(&c->wait_link);
    fp_tworker *w = c->w;
    /* flush() sends the rest and then the FIN; a blocked connection gets
     * there from its EPOLLOUT instead */
    if (!c->blocked && !fpt_linked(&c->dirty_link)) fpt_list_push_back(&w->dirty, &c->dirty_link);
    if (c->readable && !c->eof_seen && !fpt_linked(&c->ready_link))
        fpt_list_push_back(&w->ready, &c->ready_link);
}

void ep_conn_shutdown_write(fp_tconn *c)
{
    (void)shutdown(c->fd, SHUT_WR);
    c->state = EP_CONN_LINGER;
    if (c->eof_seen) {
        conn_terminate(c, FP_OK, false);
        return;
    }
    if (c->readable && !fpt_linked(&c->ready_link)) fpt_list_push_back(&c->w->ready, &c->ready_link);
}

/* ---- creation ---- */

void ep_conn_accepted(fp_tworker *w, int fd, const fp_addr *peer)
{
    fp_tconn *c = conn_alloc(w);
    if (!c) {
        close(fd);
        w->stats.accept_errors++;
        return;
    }
    c->fd = fd;
    c->state = EP_CONN_OPEN;
    c->peer = *peer;
    set_nodelay(w->t, fd);
    /* ADD reports input that is already there: no read needed up front */
    if (conn_register(c, EP_INPUT_EVENTS) != FP_OK) {
        close(fd);
        c->fd = -1;
        w->stats.conns_open--;
        w->stats.accept_errors++;
        ep_conn_release(c);
        return;
    }
    void *user = w->ev->on_accepted(w->user, c, &c->peer);
    if (user) {
        c->user = user;
        return;
    }
    /* Refused: reset it and recycle at once. The callback may already have
     * closed it; either way nothing more is delivered. */
    w->stats.accept_refused++;
    c->silent = true;
    conn_terminate(c, FP_OK, true);
    fpt_list_remove(&c->notify_link);
    ep_conn_release(c);
}

static fp_status connect_status(int err)
{
    switch (err) {
    case ECONNREFUSED: return FP_ECONNREFUSED;
    case ETIMEDOUT: return FP_ETIMEDOUT;
    default: return FP_EIO;
    }
}

fp_status ep_connect(fp_tworker *w, const fp_addr *addr, void *conn_user, fp_tconn **out)
{
    *out = NULL;
    struct sockaddr_storage ss;
    socklen_t len;
    if (!fpt_addr_to_sockaddr(addr, &ss, &len)) return FP_EINVAL;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return fpt_errno_status(errno);
    fpt_set_socket_buffers(fd, w->t->set.sndbuf, w->t->set.rcvbuf);
    set_nodelay(w->t, fd);
    fp_tconn *c = conn_alloc(w);
    if (!c) {
        close(fd);
        return FP_ENOMEM;
    }
    c->fd = fd;
    c->user = conn_user;
    c->peer = *addr;
    c->state = EP_CONN_CONNECTING;
    w->stats.connects++;
    if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
        /* refused or unreachable at once: reported like a late failure */
        w->stats.connect_failures++;
        conn_terminate(c, connect_status(errno), false);
        *out = c;
        return FP_OK;
    }
    fp_status st = conn_register(c, EP_INPUT_EVENTS | EPOLLOUT);
    if (st != FP_OK) {
        close(fd);
        c->fd = -1;
        w->stats.conns_open--;
        ep_conn_release(c);
        return st;
    }
    *out = c;
    return FP_OK;
}

static void complete_connect(fp_tconn *c)
{
    fp_tworker *w = c->w;
    int err = sock_error(c->fd);
    if (err) {
        w->stats.connect_failures++;
        conn_terminate(c, connect_status(err), false);
        return;
    }
    c->state = EP_CONN_OPEN;
    ep_conn_update_events(c);
    if (c->state != EP_CONN_OPEN) return;
    w->ev->on_connected(c->user);
    if (c->state != EP_CONN_OPEN) return;
    if (c->queued && !c->blocked && !fpt_linked(&c->dirty_link))
        fpt_list_push_back(&w->dirty, &c->dirty_link);
    c->readable = true;
    ep_conn_read(c);
}

fp_status ep_adopt(fp_tworker *w, fp_socket_handle handle, void *conn_user, fp_tconn **out)
{
    *out = NULL;
    int fd = (int)handle;
    if (fd < 0 || (intptr_t)fd != handle) return FP_EINVAL;
    fp_status st = FP_EINVAL;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) goto fail_errno;
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
    c->state = EP_CONN_OPEN;
    fpt_addr_from_sockaddr((struct sockaddr *)&ss, &c->peer);
    st = conn_register(c, EP_INPUT_EVENTS);
    if (st != FP_OK) {
        c->fd = -1;
        w->stats.conns_open--;
        ep_conn_release(c);
        goto fail;
    }
    *out = c;
    return FP_OK;

fail_errno:
    st = fpt_errno_status(errno);
fail:
    close(fd);
    return st;
}

void ep_conn_peer(const fp_tconn *c, fp_addr *out) { *out = c->peer; }

/* ---- receive ---- */

void ep_recv_pause(fp_tconn *c)
{
    if (c->state != EP_CONN_OPEN) return;
    c->paused = true;
    fpt_list_remove(&c->ready_link);
}

void ep_recv_resume(fp_tconn *c)
{
    if (!c->paused) return;
    c->paused = false;
    /* no new edge will come for input that arrived while paused */
    if (c->state == EP_CONN_OPEN && c->readable && !c->eof_seen && !fpt_linked(&c->ready_link))
        fpt_list_push_back(&c->w->ready, &c->ready_link);
}

void ep_conn_read(fp_tconn *c)
{
    fp_tworker *w = c->w;
    bool discard;
    switch (c->state) {
    case EP_CONN_OPEN:
        if (c->paused || c->eof_seen) return;
        discard = false;
        break;
    case EP_CONN_DRAINING:
    case EP_CONN_LINGER:
        if (c->eof_seen) return;
        discard = true; /* closing: input is read only to find the FIN */
        break;
    default: return;
    }
    if (c->budget_round != w->round) {
        c->budget_round = w->round;
        c->budget_left = w->read_budget;
    }
    for (;;) {
        if (c->budget_left == 0) {
            /* fairness: the rest waits for the next poll */
            if (!fpt_linked(&c->ready_link)) fpt_list_push_back(&w->ready, &c->ready_link);
            return;
        }
        ssize_t n = read(c->fd, w->rbuf, w->read_size);
        if (n > 0) {
            w->stats.reads++;
            w->stats.read_bytes += (uint64_t)n;
            c->budget_left = (uint64_t)n >= c->budget_left ? 0 : c->budget_left - (uint64_t)n;
            if (!discard) {
                w->ev->on_recv(c->user, w->rbuf, (size_t)n);
                if (c->state == EP_CONN_DEAD) return;
                if (c->state != EP_CONN_OPEN)
                    discard = true;
                else if (c->paused)
                    return; /* `readable` stays set: resume reads on */
            }
            /* A short read emptied the socket; new data brings a new edge.
             * After RDHUP keep reading to collect the 0 that marks the FIN. */
            if ((size_t)n < w->read_size && !c->eof_pending) {
                c->readable = false;
                return;
            }
            continue;
        }
        if (n == 0) {
            c->readable = false;
            c->eof_pending = false;
            c->eof_seen = true;
            if (c->state == EP_CONN_OPEN)
                w->ev->on_eof(c->user);
            else if (c->state == EP_CONN_LINGER)
                conn_terminate(c, FP_OK, false);
            /* DRAINING: finished once the queue is out and the FIN sent */
            return;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            c->readable = false;
            c->eof_pending = false;
            return;
        }
        ep_conn_fail(c, fpt_errno_status(errno));
        return;
    }
}

void ep_conn_on_event(fp_tconn *c, uint32_t events)
{
    if (c->state == EP_CONN_DEAD || c->state == EP_CONN_FREE) return;
    if (c->state == EP_CONN_CONNECTING) {
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) complete_connect(c);
        return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c->readable = true;
    if (events & (EPOLLRDHUP | EPOLLHUP)) c->eof_pending = true;
    if (events & EPOLLERR) {
        int err = sock_error(c->fd);
        if (err) {
            ep_conn_fail(c, fpt_errno_status(err));
            return;
        }
    }
    if ((events & (EPOLLOUT | EPOLLHUP)) && c->blocked) {
        c->blocked = false;
        ep_conn_send(c);
        if (c->state == EP_CONN_DEAD) return;
    }
    if (c->readable) ep_conn_read(c);
}
