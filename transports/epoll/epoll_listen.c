/*
 * epoll_listen.c - listeners: one SO_REUSEPORT socket per accepting worker.
 *
 * listen() binds the first socket (resolving port 0) on the control thread.
 * The first accept_start adopts it; later ones bind more sockets to the
 * resolved port, so the transport needs no worker count up front and the
 * kernel spreads connections over the workers.
 *
 * Listening sockets are level-triggered: pending connections left after the
 * per-event budget are reported again, and a listener paused after EMFILE
 * is simply removed from the epoll set until its deadline.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "epoll_internal.h"
#include "sockaddr.h"

#define EP_ACCEPT_BUDGET 64    /* accepts per readiness event */
#define EP_ACCEPT_PAUSE_MS 100 /* back-off after running out of descriptors */

fp_status ep_listen(fp_transport *t, const fp_addr *addr, const fp_listen_opts *opts,
                    fp_tlistener **out, char *err, size_t err_len)
{
    *out = NULL;
    int fd, backlog;
    fp_addr bound;
    fp_status st = fpt_listen_bound("epoll", addr, opts, (int)t->set.backlog, SOCK_NONBLOCK, t->set.sndbuf,
                                    t->set.rcvbuf, &fd, &bound, &backlog, err, err_len);
    if (st != FP_OK) return st;
    fp_tlistener *l = calloc(1, sizeof(*l));
    if (!l) {
        close(fd);
        if (err_len) snprintf(err, err_len, "epoll: out of memory for a listener");
        return FP_ENOMEM;
    }
    l->t = t;
    l->addr = bound;
    l->backlog = backlog;
    atomic_init(&l->spare_fd, fd);
    *out = l;
    return FP_OK;
}

void ep_listener_addr(const fp_tlistener *l, fp_addr *out) { *out = l->addr; }

static ep_acceptor *find_acceptor(fp_tworker *w, const fp_tlistener *l, ep_acceptor ***link_out)
{
    ep_acceptor **link = &w->acceptors;
    for (; *link; link = &(*link)->next) {
        if ((*link)->l == l) {
            if (link_out) *link_out = link;
            return *link;
        }
    }
    return NULL;
}

fp_status ep_accept_start(fp_tworker *w, fp_tlistener *l)
{
    if (find_acceptor(w, l, NULL)) return FP_OK;
    ep_acceptor *a = calloc(1, sizeof(*a));
    if (!a) return FP_ENOMEM;
    int fd = atomic_exchange(&l->spare_fd, -1);
    if (fd < 0) fd = fpt_listen_socket(&l->addr, l->backlog, SOCK_NONBLOCK, w->t->set.sndbuf, w->t->set.rcvbuf);
    if (fd < 0) {
        char where[64];
        fpt_addr_format(&l->addr, where, sizeof(where));
        ep_log(w->t, FP_LOG_ERROR, "epoll: worker %u cannot listen on %s: %s", w->index, where,
               strerror(-fd));
        free(a);
        return fpt_errno_status(-fd);
    }
    a->h.kind = EP_KIND_ACCEPTOR;
    a->fd = fd;
    a->l = l;
    a->w = w;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &a->h};
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int e = errno;
        close(fd);
        free(a);
        return fpt_errno_status(e);
    }
    a->next = w->acceptors;
    w->acceptors = a;
    return FP_OK;
}

static void acceptor_destroy(fp_tworker *w, ep_acceptor *a)
{
    if (a->paused)
        w->paused_acceptors--;
    else
        (void)epoll_ctl(w->epfd, EPOLL_CTL_DEL, a->fd, NULL);
    close(a->fd);
    free(a);
}

void ep_accept_stop(fp_tworker *w, fp_tlistener *l)
{
    ep_acceptor **link;
    ep_acceptor *a = find_acceptor(w, l, &link);
    if (!a) return;
    *link = a->next;
    acceptor_destroy(w, a);
}

void ep_acceptors_close_all(fp_tworker *w)
{
    while (w->acceptors) {
        ep_acceptor *a = w->acceptors;
        w->acceptors = a->next;
        acceptor_destroy(w, a);
    }
}

void ep_listener_close(fp_tlistener *l)
{
    if (!l) return;
    int fd = atomic_exchange(&l->spare_fd, -1);
    if (fd >= 0) close(fd);
    free(l);
}

/* Out of descriptors or memory: the pending connections stay in the kernel
 * backlog; stop asking for them until the deadline instead of spinning. */
static void acceptor_pause(ep_acceptor *a, int err)
{
    fp_tworker *w = a->w;
    (void)epoll_ctl(w->epfd, EPOLL_CTL_DEL, a->fd, NULL);
    a->paused = true;
    a->resume_at_ms = fpt_now_ms() + EP_ACCEPT_PAUSE_MS;
    w->paused_acceptors++;
    if (err == EMFILE || err == ENFILE) w->stats.accept_emfile++;
    char where[64];
    fpt_addr_format(&a->l->addr, where, sizeof(where));
    ep_log(w->t, FP_LOG_WARN,
           "epoll: worker %u: accept on %s failed: %s; accepting paused for %d ms "
           "(raise the descriptor limit, ulimit -n)",
           w->index, where, strerror(err), EP_ACCEPT_PAUSE_MS);
}

int ep_accept_timeout(fp_tworker *w, int timeout_ms)
{
    if (!w->paused_acceptors) return timeout_ms;
    int64_t now = fpt_now_ms();
    for (ep_acceptor *a = w->acceptors; a; a = a->next) {
        if (!a->paused) continue;
        int64_t left = a->resume_at_ms - now;
        if (left < 0) left = 0;
        if (timeout_ms < 0 || left < timeout_ms) timeout_ms = (int)left;
    }
    return timeout_ms;
}

int ep_accept_resume_due(fp_tworker *w)
{
    if (!w->paused_acceptors) return 0;
    int resumed = 0;
    int64_t now = fpt_now_ms();
    for (ep_acceptor *a = w->acceptors; a; a = a->next) {
        if (!a->paused || a->resume_at_ms > now) continue;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &a->h};
        if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, a->fd, &ev) < 0) {
            a->resume_at_ms = now + EP_ACCEPT_PAUSE_MS;
            continue;
        }
        a->paused = false;
        w->paused_acceptors--;
        resumed++;
    }
    return resumed;
}

void ep_acceptor_on_event(ep_acceptor *a)
{
    fp_tworker *w = a->w;
    fp_tlistener *l = a->l;
    for (int i = 0; i < EP_ACCEPT_BUDGET && !a->paused; i++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int fd = accept4(a->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            switch (errno) {
            case EAGAIN:
#if EWOULDBLOCK != EAGAIN
            case EWOULDBLOCK:
#endif
                return;
            case EINTR: continue;
            case EMFILE:
            case ENFILE:
            case ENOBUFS:
            case ENOMEM: acceptor_pause(a, errno); return;
            default:
                /* ECONNABORTED, EPROTO, EPERM...: that one connection failed */
                w->stats.accept_errors++;
                continue;
            }
        }
        w->stats.accepts++;
        fp_addr peer;
        fpt_addr_from_sockaddr((struct sockaddr *)&ss, &peer);
        ep_conn_accepted(w, fd, &peer);
        /* on_accepted may have stopped (freed) this acceptor */
        a = find_acceptor(w, l, NULL);
        if (!a) return;
    }
}
