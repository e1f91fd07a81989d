/*
 * uring_listen.c - listeners: a SO_REUSEPORT socket per accepting worker,
 * each with one multishot accept in the worker's ring.
 *
 * listen() binds the first socket (resolving port 0) on the control
 * thread; the first accept_start takes it and later ones bind more sockets
 * to the resolved port, so the kernel spreads connections over workers.
 * Out of descriptors (EMFILE and friends) the accept is not re-armed until
 * a deadline, which poll folds into its wait: no busy loop, nothing lost
 * (the connections wait in the kernel backlog).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sockaddr.h"
#include "uring_internal.h"

#define UR_ACCEPT_PAUSE_MS 100

fp_status ur_listen(fp_transport *t, const fp_addr *addr, const fp_listen_opts *opts,
                    fp_tlistener **out, char *err, size_t err_len)
{
    *out = NULL;
    int fd, backlog;
    fp_addr bound;
    fp_status st = fpt_listen_bound("uring", addr, opts, (int)t->set.backlog, 0, t->set.sndbuf,
                                    t->set.rcvbuf, &fd, &bound, &backlog, err, err_len);
    if (st != FP_OK) return st;
    fp_tlistener *l = calloc(1, sizeof(*l));
    if (!l) {
        close(fd);
        if (err_len) snprintf(err, err_len, "uring: out of memory for a listener");
        return FP_ENOMEM;
    }
    l->t = t;
    l->addr = bound;
    l->backlog = backlog;
    atomic_init(&l->spare_fd, fd);
    *out = l;
    return FP_OK;
}

void ur_listener_addr(const fp_tlistener *l, fp_addr *out) { *out = l->addr; }

void ur_listener_close(fp_tlistener *l)
{
    if (!l) return;
    int fd = atomic_exchange(&l->spare_fd, -1);
    if (fd >= 0) close(fd);
    free(l);
}

static ur_acceptor *find_acceptor(fp_tworker *w, const fp_tlistener *l)
{
    for (unsigned i = 0; i < UR_MAX_ACCEPTORS; i++)
        if (w->acceptors[i].in_use && w->acceptors[i].l == l) return &w->acceptors[i];
    return NULL;
}

static uint32_t acceptor_index(const fp_tworker *w, const ur_acceptor *a)
{
    return (uint32_t)(a - w->acceptors);
}

static bool arm_accept(fp_tworker *w, ur_acceptor *a)
{
    struct io_uring_sqe *sqe = ur_sqe(w);
    if (!sqe) return false;
    io_uring_prep_multishot_accept(sqe, a->fd, NULL, NULL, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, ur_ud(UR_OP_ACCEPT, acceptor_index(w, a), a->gen));
    a->armed = true;
    return true;
}

static void pause_acceptor(fp_tworker *w, ur_acceptor *a)
{
    if (a->paused) return;
    a->paused = true;
    a->resume_at_ms = fpt_now_ms() + UR_ACCEPT_PAUSE_MS;
    w->paused_acceptors++;
}

fp_status ur_accept_start(fp_tworker *w, fp_tlistener *l)
{
    if (find_acceptor(w, l)) return FP_OK;
    ur_acceptor *a = NULL;
    for (unsigned i = 0; i < UR_MAX_ACCEPTORS && !a; i++)
        if (!w->acceptors[i].in_use) a = &w->acceptors[i];
    if (!a) return FP_ELIMIT;
    int fd = atomic_exchange(&l->spare_fd, -1);
    if (fd < 0) fd = fpt_listen_socket(&l->addr, l->backlog, 0, w->t->set.sndbuf, w->t->set.rcvbuf);
    if (fd < 0) {
        char where[64];
        fpt_addr_format(&l->addr, where, sizeof(where));
        ur_log(w->t, FP_LOG_ERROR, "uring: worker %u cannot listen on %s: %s", w->index, where,
               strerror(-fd));
        return fpt_errno_status(-fd);
    }
    uint32_t gen = a->gen + 1;
    memset(a, 0, sizeof(*a));
    a->in_use = true;
    a->gen = gen;
    a->fd = fd;
    a->l = l;
    if (!arm_accept(w, a)) pause_acceptor(w, a);
    return FP_OK;
}

static void acceptor_destroy(fp_tworker *w, ur_acceptor *a)
{
    if (a->armed && w->ring_ready) {
        struct io_uring_sqe *sqe = ur_sqe(w);
        if (sqe) {
            io_uring_prep_cancel64(sqe, ur_ud(UR_OP_ACCEPT, acceptor_index(w, a), a->gen), 0);
            io_uring_sqe_set_data64(sqe, ur_ud(UR_OP_ACCEPT_CANCEL, acceptor_index(w, a), a->gen));
            ur_submit(w);
        }
    }
    if (a->paused) w->paused_acceptors--;
    /* the ring holds its own reference until the cancel completes; the
     * late completion finds a newer generation and is dropped */
    close(a->fd);
    a->in_use = false;
    a->armed = false;
    a->paused = false;
    a->gen++;
}

void ur_accept_stop(fp_tworker *w, fp_tlistener *l)
{
    ur_acceptor *a = find_acceptor(w, l);
    if (a) acceptor_destroy(w, a);
}

void ur_acceptors_close_all(fp_tworker *w)
{
    for (unsigned i = 0; i < UR_MAX_ACCEPTORS; i++)
        if (w->acceptors[i].in_use) acceptor_destroy(w, &w->acceptors[i]);
}

int ur_accept_complete(fp_tworker *w, uint64_t ud, int res, unsigned flags)
{
    uint32_t idx = ur_ud_slot(ud);
    ur_acceptor *a = idx < UR_MAX_ACCEPTORS ? &w->acceptors[idx] : NULL;
    if (!a || !a->in_use || a->gen != ur_ud_gen(ud)) {
        w->stats.stale_completions++;
        if (res >= 0) close(res); /* accepted after the stop: nobody wants it */
        return 0;
    }
    bool more = flags & IORING_CQE_F_MORE;
    if (!more) a->armed = false;
    if (res >= 0) {
        w->stats.accepts++;
        fp_tlistener *l = a->l;
        ur_conn_accepted(w, res);
        /* on_accepted may have stopped this acceptor */
        a = find_acceptor(w, l);
        if (a && !a->armed && !a->paused && !arm_accept(w, a)) pause_acceptor(w, a);
        return 1;
    }
    switch (-res) {
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM: {
        if (-res == EMFILE || -res == ENFILE) w->stats.accept_emfile++;
        if (a->armed) { /* still multishot: stop it, re-arm at the deadline */
            struct io_uring_sqe *sqe = ur_sqe(w);
            if (sqe) {
                io_uring_prep_cancel64(sqe, ud, 0);
                io_uring_sqe_set_data64(sqe, ur_ud(UR_OP_ACCEPT_CANCEL, idx, a->gen));
            }
        }
        if (!a->paused) {
            char where[64];
            fpt_addr_format(&a->l->addr, where, sizeof(where));
            ur_log(w->t, FP_LOG_WARN,
                   "uring: worker %u: accept on %s failed: %s; accepting paused for %d ms "
                   "(raise the descriptor limit, ulimit -n)",
                   w->index, where, strerror(-res), UR_ACCEPT_PAUSE_MS);
        }
        pause_acceptor(w, a);
        return 0;
    }
    case ECANCELED:
        return 0;
    default:
        /* ECONNABORTED, EPERM...: that one connection failed */
        w->stats.accept_errors++;
        if (!a->armed && !a->paused && !arm_accept(w, a)) pause_acceptor(w, a);
        return 0;
    }
}

int ur_accept_timeout(fp_tworker *w, int timeout_ms)
{
    if (!w->paused_acceptors) return timeout_ms;
    int64_t now = fpt_now_ms();
    for (unsigned i = 0; i < UR_MAX_ACCEPTORS; i++) {
        const ur_acceptor *a = &w->acceptors[i];
        if (!a->in_use || !a->paused) continue;
        int64_t left = a->resume_at_ms - now;
        if (left < 0) left = 0;
        if (timeout_ms < 0 || left < timeout_ms) timeout_ms = (int)left;
    }
    return timeout_ms;
}

int ur_accept_resume_due(fp_tworker *w)
{
    if (!w->paused_acceptors) return 0;
    int64_t now = fpt_now_ms();
    for (unsigned i = 0; i < UR_MAX_ACCEPTORS; i++) {
        ur_acceptor *a = &w->acceptors[i];
        if (!a->in_use || !a->paused || a->resume_at_ms > now) continue;
        if (a->armed) { /* the cancel has not come back yet */
            a->resume_at_ms = now + 1;
            continue;
        }
        if (!arm_accept(w, a)) {
            a->resume_at_ms = now + UR_ACCEPT_PAUSE_MS;
            continue;
        }
        a->paused = false;
        w->paused_acceptors--;
    }
    return 0; /* re-arming is not work the engine sees */
}
