/*
 * epoll_listen.c - accepting: one SO_REUSEPORT socket per accepting worker
 * (posix_socket.c's listener), level-triggered in the worker's epoll set,
 * so pending connections left after the per-event budget are reported
 * again, and a listener paused by the core's back-off simply leaves the
 * set until its deadline.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "epoll_internal.h"
#include "sockaddr.h"

#define EP_ACCEPT_BUDGET 64 /* accepts per readiness event */

fp_status ep_listen(fp_transport *t, const fp_addr *addr, const fp_listen_opts *opts,
                    fp_tlistener **out, char *err, size_t err_len)
{
    return fpt_listener_open("epoll", addr, opts, (int)t->set.sock.backlog, SOCK_NONBLOCK, t->set.sock.sndbuf,
                             t->set.sock.rcvbuf, out, err, err_len);
}

static ep_acceptor *find_acceptor(fp_tworker *w, const fp_tlistener *l)
{
    fpt_acceptor *a = fpt_acceptor_find(&w->core, l);
    return a ? (ep_acceptor *)(void *)a : NULL;
}

static bool watch(fp_tworker *w, ep_acceptor *a)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &a->h};
    return epoll_ctl(w->epfd, EPOLL_CTL_ADD, a->fd, &ev) == 0;
}

fp_status ep_accept_start(fp_tworker *w, fp_tlistener *l)
{
    if (find_acceptor(w, l)) return FP_OK;
    ep_acceptor *a = calloc(1, sizeof(*a));
    if (!a) return FP_ENOMEM;
    int fd = fpt_listener_take_fd(l, &w->core);
    if (fd < 0) {
        free(a);
        return fpt_errno_status(-fd);
    }
    a->h.kind = EP_KIND_ACCEPTOR;
    a->fd = fd;
    a->l = l;
    if (!watch(w, a)) {
        int e = errno;
        close(fd);
        free(a);
        return fpt_errno_status(e);
    }
    fpt_acceptor_add(&w->core, &a->base, l);
    return FP_OK;
}

static void acceptor_destroy(fp_tworker *w, ep_acceptor *a)
{
    if (!a->base.paused) (void)epoll_ctl(w->epfd, EPOLL_CTL_DEL, a->fd, NULL);
    fpt_acceptor_remove(&w->core, &a->base);
    close(a->fd);
    free(a);
}

void ep_accept_stop(fp_tworker *w, fp_tlistener *l)
{
    ep_acceptor *a = find_acceptor(w, l);
    if (a) acceptor_destroy(w, a);
}

void ep_acceptors_close_all(fp_tworker *w)
{
    while (w->core.acceptors) acceptor_destroy(w, (ep_acceptor *)(void *)w->core.acceptors);
}

static void acceptor_pause(fp_tworker *w, ep_acceptor *a, int err)
{
    (void)epoll_ctl(w->epfd, EPOLL_CTL_DEL, a->fd, NULL);
    char where[64];
    fpt_addr_format(&a->l->addr, where, sizeof(where));
    fpt_acceptor_pause(&w->core, &a->base, where, strerror(err), err == EMFILE || err == ENFILE);
}

static bool resume_acceptor(fpt_worker *w, fpt_acceptor *a)
{
    return watch(ep_worker(w), (ep_acceptor *)(void *)a);
}

int ep_accept_resume_due(fp_tworker *w)
{
    return fpt_accept_resume_due(&w->core, resume_acceptor, FPT_ACCEPT_PAUSE_MS);
}

void ep_acceptor_on_event(ep_acceptor *a, fp_tworker *w)
{
    fp_tlistener *l = a->l;
    for (int i = 0; i < EP_ACCEPT_BUDGET && !a->base.paused; i++) {
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
            case ENOMEM: acceptor_pause(w, a, errno); return;
            default:
                /* ECONNABORTED, EPROTO, EPERM...: that one connection failed */
                w->core.counters.accept_errors++;
                continue;
            }
        }
        w->core.counters.accepts++;
        fp_addr peer;
        fpt_addr_from_sockaddr((struct sockaddr *)&ss, &peer);
        ep_conn_accepted(w, fd, &peer);
        /* on_accepted may have stopped (freed) this acceptor */
        a = find_acceptor(w, l);
        if (!a) return;
    }
}
