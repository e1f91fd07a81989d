/*
 * uring_worker.c - a worker's ring: set-up, the wake eventfd, submission,
 * poll (wait + reap + deferred work), flush and stats.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "uring_internal.h"

#define UR_REAP_BATCH 256
#define UR_OVERFLOW_ROUNDS 8

int ur_ring_init(struct io_uring *ring, unsigned sq_entries, unsigned cq_entries, unsigned *flags_out)
{
    /* best first; each fallback drops what an older kernel refuses */
    static const unsigned tries[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
            IORING_SETUP_SUBMIT_ALL,
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL,
        IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL,
        0,
    };
    int r = -EINVAL;
    for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
        struct io_uring_params p;
        memset(&p, 0, sizeof(p));
        p.flags = tries[i] | IORING_SETUP_CQSIZE;
        p.cq_entries = cq_entries;
        r = io_uring_queue_init_params(sq_entries, ring, &p);
        if (r == 0) {
            *flags_out = p.flags;
            return 0;
        }
        if (r != -EINVAL) return r;
    }
    return r;
}

static void arm_wake(fp_tworker *w)
{
    if (w->wake_armed) return;
    struct io_uring_sqe *sqe = ur_sqe(w);
    if (!sqe) return; /* retried by the next poll */
    io_uring_prep_read(sqe, w->wakefd, &w->wake_value, sizeof(w->wake_value), 0);
    io_uring_sqe_set_data64(sqe, ur_ud(UR_OP_WAKE, 0, w->wake_gen));
    w->wake_armed = true;
}

fp_status ur_worker_open(fp_transport *t, unsigned index, void *worker_user, fp_tworker **out)
{
    *out = NULL;
    fp_tworker *w = calloc(1, sizeof(*w));
    if (!w) return FP_ENOMEM;
    fpt_worker_init(&w->core, &ur_backend, t->host, index, worker_user);
    w->core.lend_enabled = t->set.lend != 0;
    w->t = t;
    w->wakefd = -1;
    w->recv_oneshot = !t->set.recv_multishot;
    w->recv_burst = (uint32_t)t->set.recv_burst;
    const ur_settings *s = &t->set;
    ur_pool_init(&w->pool, &w->ring, (size_t)s->slot_size, (size_t)s->pool_size, (size_t)s->pool_max);

    unsigned sq = (unsigned)s->sq_entries;
    unsigned cq = s->cq_entries ? (unsigned)s->cq_entries : 4 * sq;
    if (cq < sq) cq = sq;
    char why[256];
    int r = ur_ring_init(&w->ring, sq, cq, &w->setup_flags);
    if (r < 0) {
        ur_explain_setup_error(-r, "io_uring_setup", why, sizeof(why));
        fpt_log(t->host, FP_LOG_ERROR, "uring: worker %u: %s", index, why);
        free(w);
        return FP_ENOTSUP;
    }
    w->ring_ready = true;
    /* io_uring_enter by a registered index skips the fd lookup and its
     * reference count on every call; the ring works the same without. */
    w->ring_fd_registered = io_uring_register_ring_fd(&w->ring) == 1;
    r = ur_bufring_init(&w->br, &w->ring, (uint32_t)s->recv_buf_size, (uint32_t)s->recv_buf_count, 0);
    if (r < 0) {
        ur_explain_setup_error(-r, "registering the receive buffer ring", why, sizeof(why));
        fpt_log(t->host, FP_LOG_ERROR, "uring: worker %u: %s", index, why);
        io_uring_queue_exit(&w->ring);
        free(w);
        return r == -ENOMEM ? FP_ENOMEM : FP_ENOTSUP;
    }
    ur_pool_attach(&w->pool);
    w->wakefd = eventfd(0, EFD_CLOEXEC);
    if (w->wakefd < 0) {
        int e = errno;
        fpt_log(t->host, FP_LOG_ERROR, "uring: worker %u: eventfd: %s", index, strerror(e));
        ur_bufring_free(&w->br, &w->ring);
        io_uring_queue_exit(&w->ring);
        free(w);
        return fpt_errno_status(e);
    }
    arm_wake(w);
    ur_submit(w);
    *out = w;
    return FP_OK;
}

/* Sockets a multishot accept took after the last poll sit in CQEs (or in
 * task work that only an enter runs): nobody reaps those once the ring is
 * gone, so their descriptors would leak. Runs the task work and closes
 * them; every other completion is dropped, the engine having closed every
 * connection already. */
static bool cq_overflowed(const fp_tworker *w);

static void close_unreaped_accepts(fp_tworker *w)
{
    for (int round = 0; round < UR_OVERFLOW_ROUNDS; round++) {
        (void)io_uring_get_events(&w->ring);
        unsigned head, seen = 0;
        struct io_uring_cqe *cqe;
        io_uring_for_each_cqe(&w->ring, head, cqe)
        {
            if (ur_ud_op(cqe->user_data) == UR_OP_ACCEPT && cqe->res >= 0) close(cqe->res);
            seen++;
        }
        io_uring_cq_advance(&w->ring, seen);
        if (!seen && !cq_overflowed(w)) return;
    }
}

void ur_worker_close(fp_tworker *w)
{
    if (!w) return;
    ur_acceptors_close_all(w);
    close_unreaped_accepts(w);
    /* Ring teardown cancels what is still in flight; only then may the
     * memory those operations point at go. */
    io_uring_queue_exit(&w->ring);
    w->ring_ready = false;
    fpt_worker_teardown(&w->core);
    ur_txmsgs_free(w);
    ur_bufring_free(&w->br, NULL);
    fpt_slice_pool_free(&w->pool);
    close(w->wakefd);
    free(w);
}

void ur_wake(fp_tworker *w) { fpt_wakefd_signal(w->wakefd); }

void ur_submit(fp_tworker *w)
{
    if (!io_uring_sq_ready(&w->ring)) return;
    int r = io_uring_submit(&w->ring);
    w->stats.ring_enters++;
    if (w->pending_sends) {
        w->stats.send_submits++;
        w->pending_sends = 0;
    }
    if (r == -EBUSY) w->stats.submit_busy++; /* completions first: poll reaps and retries */
}

struct io_uring_sqe *ur_sqe(fp_tworker *w)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);
    if (sqe) return sqe;
    ur_submit(w);
    return io_uring_get_sqe(&w->ring);
}

static int dispatch(fp_tworker *w, uint64_t ud, int res, unsigned flags)
{
    switch (ur_ud_op(ud)) {
    case UR_OP_WAKE:
        w->wake_armed = false;
        arm_wake(w);
        return 1;
    case UR_OP_ACCEPT: return ur_accept_complete(w, ud, res, flags);
    case UR_OP_ACCEPT_CANCEL: return 0;
    case UR_OP_RECV:
    case UR_OP_SEND:
    case UR_OP_CONNECT:
    case UR_OP_CANCEL: {
        fpt_conn *c = fpt_conn_lookup(&w->core, ur_ud_slot(ud), ur_ud_gen(ud));
        if (!c) {
            w->core.counters.stale_completions++;
            /* a buffer the kernel picked for a dead connection goes back */
            if (ur_ud_op(ud) == UR_OP_RECV && (flags & IORING_CQE_F_BUFFER))
                ur_bufring_recycle(&w->br, (uint16_t)(flags >> IORING_CQE_BUFFER_SHIFT), 0);
            return 0;
        }
        return ur_conn_complete(ur_conn(c), ud, res, flags);
    }
    }
    w->core.counters.stale_completions++;
    return 0;
}

/* Copies a batch out of the CQ (freeing its space at once), then
 * dispatches it: callbacks may submit, and the CQ keeps room for that. */
static int reap(fp_tworker *w)
{
    struct io_uring_cqe *cqes[UR_REAP_BATCH];
    struct {
        uint64_t ud;
        int res;
        unsigned flags;
    } batch[UR_REAP_BATCH];
    int handled = 0;
    for (;;) {
        unsigned n = io_uring_peek_batch_cqe(&w->ring, cqes, UR_REAP_BATCH);
        if (!n) break;
        for (unsigned i = 0; i < n; i++) {
            batch[i].ud = cqes[i]->user_data;
            batch[i].res = cqes[i]->res;
            batch[i].flags = cqes[i]->flags;
        }
        io_uring_cq_advance(&w->ring, n);
        w->stats.completions += n;
        w->stats.completion_batches++;
        if (n > w->stats.completion_batch_max) w->stats.completion_batch_max = n;
        for (unsigned i = 0; i < n; i++) handled += dispatch(w, batch[i].ud, batch[i].res, batch[i].flags);
        if (n < UR_REAP_BATCH) break;
    }
    return handled;
}

static bool cq_overflowed(const fp_tworker *w)
{
    return IO_URING_READ_ONCE(*w->ring.sq.kflags) & IORING_SQ_CQ_OVERFLOW;
}

/* With DEFER_TASKRUN completions are produced only inside io_uring_enter;
 * TASKRUN_FLAG tells us whether any are waiting there. When nothing is
 * (and nothing waits to be submitted), a poll that already has work can
 * skip the kernel: one io_uring_enter per busy loop iteration (flush's). */
static bool kernel_has_nothing_for_us(const fp_tworker *w)
{
    const unsigned need = IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
    if ((w->setup_flags & need) != need) return false;
    if (io_uring_sq_ready(&w->ring)) return false;
    unsigned flags = IO_URING_READ_ONCE(*w->ring.sq.kflags);
    return !(flags & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW));
}

static void wait_for_completions(fp_tworker *w, int timeout_ms)
{
    struct io_uring_cqe *cqe;
    int r;
    if (timeout_ms == 0) {
        r = io_uring_submit_and_get_events(&w->ring);
    } else if (timeout_ms < 0) {
        r = io_uring_submit_and_wait_timeout(&w->ring, &cqe, 1, NULL, NULL);
    } else {
        struct __kernel_timespec ts = {.tv_sec = timeout_ms / 1000,
                                       .tv_nsec = (long long)(timeout_ms % 1000) * 1000000};
        r = io_uring_submit_and_wait_timeout(&w->ring, &cqe, 1, &ts, NULL);
    }
    w->stats.ring_enters++;
    if (w->pending_sends) {
        w->stats.send_submits++;
        w->pending_sends = 0;
    }
    if (r == -EBUSY) w->stats.submit_busy++;
}

int ur_poll(fp_tworker *w, int timeout_ms)
{
    int handled = reap(w); /* left over from a submit outside poll */
    if (!w->wake_armed) arm_wake(w);
    int timeout = (handled || fpt_has_deferred(&w->core)) ? 0 : timeout_ms;
    timeout = fpt_accept_timeout(&w->core, timeout);
    timeout = fpt_trim_timeout(&w->core, timeout);
    if (timeout != 0 || !kernel_has_nothing_for_us(w)) {
        wait_for_completions(w, timeout);
        handled += reap(w);
    } else {
        w->stats.ring_enters_skipped++;
    }
    /* Completions the CQ had no room for wait in the kernel's backlog:
     * flush them in (bounded rounds) instead of failing. */
    for (int i = 0; i < UR_OVERFLOW_ROUNDS && cq_overflowed(w); i++) {
        w->stats.cq_overflow++;
        (void)io_uring_get_events(&w->ring);
        w->stats.ring_enters++;
        handled += reap(w);
    }
    handled += ur_accept_resume_due(w);
    fpt_trim_run_due(&w->core);
    handled += fpt_run_deferred(&w->core);
    return handled;
}

#define UR_DESC(name) FPT_COUNTER_DESC(ur_counters, name)
static const fpt_counter_desc ur_counter_desc[] = {UR_COUNTERS(UR_DESC)};

void ur_stats_emit(fp_tworker *w, fp_stat_fn emit, void *ctx)
{
    ur_counters *s = &w->stats;
    const ur_pool *p = &w->pool;
    s->recv_bufs_lent = w->br.lent_buffers;
    s->recv_buf_target = w->br.target;
    s->recv_buf_target_max = w->br.target_max;
    s->pool_allocated = p->allocated;
    s->pool_free = fpt_slice_pool_capacity(p) - p->allocated;
    s->pool_high_water = p->high_water;
    s->pool_regions = p->n_regions;
    s->pool_registered = p->registrations;
    s->pool_register_failures = p->register_failures;
    s->pool_exhausted = p->exhaustions;
    s->defer_taskrun = (w->setup_flags & IORING_SETUP_DEFER_TASKRUN) ? 1 : 0;
    s->ring_fd_registered = w->ring_fd_registered ? 1 : 0;
    fpt_core_counters_emit(&w->core, emit, ctx);
    fpt_counters_emit(ur_counter_desc, sizeof(ur_counter_desc) / sizeof(ur_counter_desc[0]), s, emit,
                      ctx);
}
