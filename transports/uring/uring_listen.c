/*
 * uring_listen.c - accepting: a SO_REUSEPORT socket per accepting worker
 * (posix_socket.c's listener), each with one multishot accept in the
 * worker's ring. Out of descriptors (EMFILE and friends) the accept is
 * cancelled and the core's back-off re-arms it at a deadline.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "sockaddr.h"
#include "uring_internal.h"

fp_status ur_listen(fp_transport *t, const fp_addr *addr, const fp_listen_opts *opts,
                    fp_tlistener **out, char *err, size_t err_len)
{
    return fpt_listener_open("uring", addr, opts, (int)t->set.sock.backlog, 0, t->set.sock.sndbuf, t->set.sock.rcvbuf,
                             out, err, err_len);
}

static ur_acceptor *find_acceptor(fp_tworker *w, const fp_tlistener *l)
{
    fpt_acceptor *a = fpt_acceptor_find(&w->core, l);
    return a ? (ur_acceptor *)(void *)a : NULL;
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

static void pause_acceptor(fp_tworker *w, ur_acceptor *a, int err)
{
    char where[64];
    fpt_addr_format(&a->l->addr, where, sizeof(where));
    fpt_acceptor_pause(&w->core, &a->base, where, err ? strerror(err) : NULL,
                       err == EMFILE || err == ENFILE);
}

fp_status ur_accept_start(fp_tworker *w, fp_tlistener *l)
{
    if (find_acceptor(w, l)) return FP_OK;
    ur_acceptor *a = NULL;
    for (unsigned i = 0; i < UR_MAX_ACCEPTORS && !a; i++)
        if (!w->acceptors[i].in_use) a = &w->acceptors[i];
    if (!a) return FP_ELIMIT;
    int fd = fpt_listener_take_fd(l, &w->core);
    if (fd < 0) return fpt_errno_status(-fd);
    uint32_t gen = a->gen + 1;
    memset(a, 0, sizeof(*a));
    a->in_use = true;
    a->gen = gen;
    a->fd = fd;
    a->l = l;
    fpt_acceptor_add(&w->core, &a->base, l);
    if (!arm_accept(w, a)) pause_acceptor(w, a, 0);
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
    fpt_acceptor_remove(&w->core, &a->base);
    /* the ring holds its own reference until the cancel completes; the
     * late completion finds a newer generation and is dropped */
    close(a->fd);
    a->in_use = false;
    a->armed = false;
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
        w->core.counters.stale_completions++;
        if (res >= 0) close(res); /* accepted after the stop: nobody wants it */
        return 0;
    }
    bool more = flags & IORING_CQE_F_MORE;
    if (!more) a->armed = false;
    if (res >= 0) {
        w->core.counters.accepts++;
        fp_tlistener *l = a->l;
        ur_conn_accepted(w, res);
        /* on_accepted may have stopped this acceptor */
        a = find_acceptor(w, l);
        if (a && !a->armed && !a->base.paused && !arm_accept(w, a)) pause_acceptor(w, a, 0);
        return 1;
    }
    switch (-res) {
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM:
        if (a->armed) { /* still multishot: stop it, re-arm at the deadline */
            struct io_uring_sqe *sqe = ur_sqe(w);
            if (sqe) {
                io_uring_prep_cancel64(sqe, ud, 0);
                io_uring_sqe_set_data64(sqe, ur_ud(UR_OP_ACCEPT_CANCEL, idx, a->gen));
            }
        }
        pause_acceptor(w, a, -res);
        return 0;
    case ECANCELED: return 0;
    default:
        /* ECONNABORTED, EPERM...: that one connection failed */
        w->core.counters.accept_errors++;
        if (!a->armed && !a->base.paused && !arm_accept(w, a)) pause_acceptor(w, a, 0);
        return 0;
    }
}

/* A paused acceptor re-arms once the cancel of its multishot accept is
 * back (retried every millisecond until then). */
static bool resume_acceptor(fpt_worker *cw, fpt_acceptor *base)
{
    fp_tworker *w = ur_worker(cw);
    ur_acceptor *a = (ur_acceptor *)(void *)base;
    return !a->armed && arm_accept(w, a);
}

int ur_accept_resume_due(fp_tworker *w)
{
    (void)fpt_accept_resume_due(&w->core, resume_acceptor, 1);
    return 0; /* re-arming is not work the engine sees */
}
