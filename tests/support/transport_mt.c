#include "transport_mt.h"

#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "th_os.h"
#include "transport_harness.h"

/* How long a worker may take to run a command: it only has to leave a
 * poll that wake() interrupted. A bound, never a measurement. */
#define TM_CALL_MAX_MS 10000

static const char *const callback_names[TM_CALLBACKS] = {
    "on_accepted", "on_connected", "on_recv", "on_eof", "on_sent", "on_writable", "on_closed",
};

static void pause_briefly(void)
{
    struct timespec ts = {0, 200 * 1000}; /* pacing of a bounded loop */
    nanosleep(&ts, NULL);
}

void tm_fault(tm_env *e, const char *fmt, ...)
{
    pthread_mutex_lock(&e->fault_lock);
    if (atomic_fetch_add(&e->faults, 1) == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->first_fault, sizeof(e->first_fault), fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&e->fault_lock);
}

/* ---- callbacks ---- */

/* Counts the callback and checks where it runs. Only on the owner's
 * thread is the record safe to touch; elsewhere it is a counted violation
 * (and TSan reports the race it causes). */
static void check_owner(tm_worker *k, tm_callback cb)
{
    tm_env *e = k->env;
    atomic_fetch_add(&e->seen[cb], 1);
    if (!pthread_equal(pthread_self(), k->self))
        atomic_fetch_add(&e->wrong_thread[cb], 1);
    else if (!k->in_poll)
        atomic_fetch_add(&e->outside_poll[cb], 1);
    else if (k->in_method)
        atomic_fetch_add(&e->in_method[cb], 1);
}

static tm_conn *enter(void *user, tm_callback cb)
{
    tm_conn *c = user;
    check_owner(c->owner, cb);
    if (c->closed_count) c->calls_after_close++;
    if (c->close_requested && (cb == TM_ON_RECV || cb == TM_ON_WRITABLE))
        c->input_after_close_request++;
    return c;
}

/* Queues what waits (echo first, then pattern) until the transport's send
 * memory runs out; on_writable calls it again. */
static void pump(tm_conn *c)
{
    tm_env *e = c->owner->env;
    while (!c->close_requested) {
        bool echo = c->backlog_off < c->backlog_len;
        size_t want;
        if (echo)
            want = c->backlog_len - c->backlog_off;
        else if (c->pattern_left)
            want = c->pattern_left < 16384 ? (size_t)c->pattern_left : 16384;
        else
            break;
        if (want > 65535) want = 65535;
        fp_span span;
        c->owner->in_method++;
        fp_status st = e->vt->tx_reserve(c->conn, want, &span);
        c->owner->in_method--;
        if (st == FP_EAGAIN) {
            c->eagain_count++;
            return;
        }
        if (st == FP_ECLOSED) return; /* the transport is closing it: on_closed tells why */
        if (st != FP_OK || span.len < want) {
            tm_fault(e, "worker %u: tx_reserve(%zu): %s (span %zu)", c->owner->index, want,
                     fp_strerror(st), st == FP_OK ? span.len : 0);
            return;
        }
        if (echo) {
            memcpy(span.data, c->echo_backlog + c->backlog_off, want);
            c->backlog_off += want;
        } else {
            for (size_t i = 0; i < want; i++) span.data[i] = th_pattern(c->pattern_off + i);
            c->pattern_off += want;
            c->pattern_left -= want;
        }
        c->owner->in_method++;
        e->vt->tx_commit(c->conn, &span, want);
        c->owner->in_method--;
        c->committed += want;
    }
    if (c->backlog_off == c->backlog_len) c->backlog_off = c->backlog_len = 0;
}

static tm_conn *record_new(tm_worker *k, fp_tconn *conn)
{
    if (k->n_conns >= TM_MAX_CONNS) {
        tm_fault(k->env, "worker %u: more than %d connections", k->index, TM_MAX_CONNS);
        return NULL;
    }
    tm_conn *c = calloc(1, sizeof(*c));
    if (!c) {
        tm_fault(k->env, "worker %u: out of memory for a record", k->index);
        return NULL;
    }
    c->owner = k;
    c->conn = conn;
    k->conns[k->n_conns++] = c;
    return c;
}

static void *cb_accepted(void *worker_user, fp_tconn *conn, const fp_addr *peer)
{
    tm_worker *k = worker_user;
    check_owner(k, TM_ON_ACCEPTED);
    tm_conn *c = record_new(k, conn);
    if (!c) return NULL;
    c->peer_port = peer->port;
    c->echo = k->env->cfg.echo_accepted;
    c->close_on_eof = k->env->cfg.close_on_eof_accepted;
    return c;
}

static void cb_connected(void *user)
{
    enter(user, TM_ON_CONNECTED);
}

static void cb_recv(void *user, const uint8_t *data, size_t len)
{
    tm_conn *c = enter(user, TM_ON_RECV);
    c->recv_calls++;
    c->rx_bytes += len;
    if (c->close_requested) return;
    if (c->echo) {
        if (c->backlog_len + len > c->backlog_cap) {
            size_t cap = c->backlog_cap ? c->backlog_cap : 65536;
            while (cap < c->backlog_len + len) cap *= 2;
            uint8_t *grown = realloc(c->echo_backlog, cap);
            if (!grown) {
                tm_fault(c->owner->env, "worker %u: out of memory for the echo", c->owner->index);
                return;
            }
            c->echo_backlog = grown;
            c->backlog_cap = cap;
        }
        memcpy(c->echo_backlog + c->backlog_len, data, len);
        c->backlog_len += len;
        pump(c);
    }
    if (c->close_in_recv) tm_close(c, c->close_in_recv_mode);
}

static void cb_eof(void *user)
{
    tm_conn *c = enter(user, TM_ON_EOF);
    c->eof_count++;
    if (c->close_on_eof && !c->close_requested) tm_close(c, FP_CLOSE_GRACEFUL);
}

static void cb_sent(void *user, size_t bytes)
{
    tm_conn *c = enter(user, TM_ON_SENT);
    c->sent += bytes;
}

static void cb_writable(void *user)
{
    tm_conn *c = enter(user, TM_ON_WRITABLE);
    c->writable_count++;
    pump(c);
}

static void cb_closed(void *user, fp_status why)
{
    tm_conn *c = enter(user, TM_ON_CLOSED);
    c->closed_count++;
    c->closed_why = why;
}

static void cb_log(void *ctx, fp_log_level level, const char *msg)
{
    tm_env *e = ctx;
    (void)level;
    (void)msg;
    atomic_fetch_add(&e->log_lines, 1);
}

/* ---- on a worker's thread ---- */

tm_conn *tm_find_by_peer_port(tm_worker *k, uint16_t port)
{
    for (size_t i = 0; i < k->n_conns; i++)
        if (k->conns[i]->peer_port == port) return k->conns[i];
    return NULL;
}

void tm_queue_pattern(tm_conn *c, uint64_t len)
{
    c->pattern_left += len;
    pump(c);
}

void tm_close(tm_conn *c, fp_close_mode mode)
{
    if (!c->close_requested) c->rx_at_close_request = c->rx_bytes;
    c->close_requested = true;
    c->owner->in_method++;
    c->owner->env->vt->close_conn(c->conn, mode);
    c->owner->in_method--;
}

static void run_command(tm_worker *k)
{
    pthread_mutex_lock(&k->lock);
    if (k->cmd_pending) {
        k->cmd(k, k->cmd_arg);
        k->cmd_pending = false;
        pthread_cond_broadcast(&k->cond);
    }
    pthread_mutex_unlock(&k->lock);
}

/* The engine loop, as engine/worker.c runs it: poll, mailbox, flush. */
static void *worker_main(void *arg)
{
    tm_worker *k = arg;
    tm_env *e = k->env;
    k->self = pthread_self();
    fp_status st = e->vt->worker_open(e->t, k->index, k, &k->w);
    pthread_mutex_lock(&k->lock);
    k->open_status = st;
    k->started = true;
    pthread_cond_broadcast(&k->cond);
    pthread_mutex_unlock(&k->lock);
    if (st != FP_OK) return NULL;

    while (!atomic_load(&k->stop)) {
        k->in_poll = true;
        int n = e->vt->poll(k->w, -1);
        k->in_poll = false;
        if (n < 0) tm_fault(e, "worker %u: poll failed: %s", k->index, fp_strerror((fp_status)n));
        run_command(k);
        e->vt->flush(k->w);
        atomic_fetch_add(&k->iterations, 1);
    }
    /* wake() may be called from any thread, but not on a closed worker:
     * the thread that asked for the stop says when its wake is over */
    pthread_mutex_lock(&k->lock);
    while (!k->may_close) pthread_cond_wait(&k->cond, &k->lock);
    pthread_mutex_unlock(&k->lock);
    e->vt->worker_close(k->w);
    return NULL;
}

/* ---- the test thread ---- */

static void deadline_in(struct timespec *ts, int ms)
{
    clock_gettime(TH_COND_CLOCK, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

void tm_start(tm_env *e, const tm_config *cfg)
{
    memset(e, 0, sizeof(*e));
    ck_assert_uint_ge(cfg->workers, 1);
    ck_assert_uint_le(cfg->workers, TM_MAX_WORKERS);
    e->cfg = *cfg;
    pthread_mutex_init(&e->fault_lock, NULL);
    e->vt = th_load_library(th_transport_name, &e->dl);
    th_host_wire(&e->host, &e->events, cb_accepted, cb_connected, cb_recv, cb_eof, cb_sent, cb_writable,
                 cb_closed, cb_log, e);
    char err[512] = "";
    fp_status st = e->vt->open(&e->host, cfg->opts, cfg->n_opts, &e->t, err, sizeof(err));
    ck_assert_msg(st == FP_OK, "open failed: %s (%s)", fp_strerror(st), err);

    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    if (TH_COND_CLOCK != CLOCK_REALTIME) pthread_condattr_setclock(&ca, TH_COND_CLOCK);
    /* one at a time: each worker's `self` is written before the next
     * thread exists, so a callback on a foreign thread reads it race-free */
    for (unsigned i = 0; i < cfg->workers; i++) {
        tm_worker *k = &e->workers[i];
        k->env = e;
        k->index = i;
        atomic_init(&k->stop, false);
        atomic_init(&k->iterations, 0);
        pthread_mutex_init(&k->lock, NULL);
        pthread_cond_init(&k->cond, &ca);
        ck_assert_int_eq(pthread_create(&k->thread, NULL, worker_main, k), 0);
        e->n_workers = i + 1;
        struct timespec until;
        deadline_in(&until, TM_CALL_MAX_MS);
        pthread_mutex_lock(&k->lock);
        while (!k->started && pthread_cond_timedwait(&k->cond, &k->lock, &until) != ETIMEDOUT) {
        }
        bool started = k->started;
        st = k->open_status;
        pthread_mutex_unlock(&k->lock);
        ck_assert_msg(started, "worker %u did not start", i);
        ck_assert_msg(st == FP_OK, "worker_open(%u) failed: %s", i, fp_strerror(st));
    }
    pthread_condattr_destroy(&ca);
}

void tm_call(tm_worker *k, void (*fn)(tm_worker *, void *), void *arg)
{
    struct timespec until;
    deadline_in(&until, TM_CALL_MAX_MS);
    pthread_mutex_lock(&k->lock);
    while (k->cmd_pending && pthread_cond_timedwait(&k->cond, &k->lock, &until) != ETIMEDOUT) {
    }
    ck_assert_msg(!k->cmd_pending, "worker %u is stuck in an earlier command", k->index);
    k->cmd = fn;
    k->cmd_arg = arg;
    k->cmd_pending = true;
    pthread_mutex_unlock(&k->lock);
    k->env->vt->wake(k->w);
    pthread_mutex_lock(&k->lock);
    while (k->cmd_pending && pthread_cond_timedwait(&k->cond, &k->lock, &until) != ETIMEDOUT) {
    }
    bool ran = !k->cmd_pending;
    pthread_mutex_unlock(&k->lock);
    ck_assert_msg(ran, "worker %u ran no command after wake(): its poll did not return", k->index);
}

typedef struct {
    bool (*done)(tm_worker *, void *);
    void *ctx;
    bool result;
} wait_cmd;

static void run_predicate(tm_worker *k, void *arg)
{
    wait_cmd *w = arg;
    w->result = w->done(k, w->ctx);
}

bool tm_wait(tm_worker *k, bool (*done)(tm_worker *, void *), void *ctx, int max_ms)
{
    int64_t end = th_now_ms() + max_ms;
    wait_cmd w = {done, ctx, false};
    for (;;) {
        tm_call(k, run_predicate, &w);
        if (w.result || th_now_ms() > end) return w.result;
        pause_briefly();
    }
}

static void count_conns(tm_worker *k, void *arg)
{
    *(size_t *)arg = k->n_conns;
}

bool tm_wait_accepted(tm_env *e, size_t n, int max_ms)
{
    int64_t end = th_now_ms() + max_ms;
    for (;;) {
        size_t total = 0;
        for (unsigned i = 0; i < e->n_workers; i++) {
            size_t here = 0;
            tm_call(&e->workers[i], count_conns, &here);
            total += here;
        }
        if (total >= n) return true;
        if (th_now_ms() > end) return false;
        pause_briefly();
    }
}

bool tm_all_closed(tm_worker *k, void *ctx)
{
    (void)ctx;
    for (size_t i = 0; i < k->n_conns; i++)
        if (!k->conns[i]->closed_count) return false;
    return true;
}

bool tm_wait_all_closed(tm_env *e, int max_ms)
{
    int64_t end = th_now_ms() + max_ms;
    for (unsigned i = 0; i < e->n_workers; i++) {
        int left = (int)(end - th_now_ms());
        if (!tm_wait(&e->workers[i], tm_all_closed, NULL, left > 0 ? left : 0)) return false;
    }
    return true;
}

typedef struct {
    tm_conn *out;
    size_t max, n;
} snapshot_cmd;

static void copy_records(tm_worker *k, void *arg)
{
    snapshot_cmd *s = arg;
    s->n = k->n_conns;
    for (size_t i = 0; i < k->n_conns && i < s->max; i++) s->out[i] = *k->conns[i];
}

size_t tm_snapshot(tm_worker *k, tm_conn *out, size_t max)
{
    snapshot_cmd s = {out, max, 0};
    tm_call(k, copy_records, &s);
    return s.n;
}

uint64_t tm_iterations(tm_worker *k)
{
    return atomic_load(&k->iterations);
}

bool tm_wait_iteration_after(tm_worker *k, uint64_t seen, int max_ms)
{
    int64_t end = th_now_ms() + max_ms;
    while (atomic_load(&k->iterations) <= seen) {
        if (th_now_ms() > end) return atomic_load(&k->iterations) > seen;
        pause_briefly();
    }
    return true;
}

typedef struct {
    int fd;
    const tm_conn *like;
    fp_status st;
    size_t index;
} adopt_cmd;

static void adopt_on_worker(tm_worker *k, void *arg)
{
    adopt_cmd *a = arg;
    tm_conn *c = record_new(k, NULL);
    if (!c) {
        a->st = FP_ENOMEM;
        th_socket_close(a->fd);
        return;
    }
    c->peer_port = a->like->peer_port;
    c->echo = a->like->echo;
    c->close_on_eof = a->like->close_on_eof;
    c->close_in_recv = a->like->close_in_recv;
    c->close_in_recv_mode = a->like->close_in_recv_mode;
    a->index = k->n_conns - 1;
    k->in_method++;
    a->st = k->env->vt->adopt(k->w, a->fd, c, &c->conn);
    k->in_method--;
    /* a failed adopt delivers nothing: its record stays as "never closed" */
}

size_t tm_adopt(tm_worker *k, int fd, const tm_conn *like)
{
    adopt_cmd a = {fd, like, FP_OK, 0};
    tm_call(k, adopt_on_worker, &a);
    ck_assert_msg(a.st == FP_OK, "adopt on worker %u: %s", k->index, fp_strerror(a.st));
    return a.index;
}

static void accept_start_here(tm_worker *k, void *arg)
{
    fp_status *st = arg;
    k->in_method++;
    *st = k->env->vt->accept_start(k->w, k->env->l);
    k->in_method--;
    k->listening = *st == FP_OK;
}

static void accept_stop_here(tm_worker *k, void *arg)
{
    (void)arg;
    if (!k->listening) return;
    k->in_method++;
    k->env->vt->accept_stop(k->w, k->env->l);
    k->in_method--;
    k->listening = false;
}

void tm_listen(tm_env *e, int family)
{
    th_listen_loopback(e->vt, e->t, family, &e->l, &e->listen_addr);
    fp_status st;
    for (unsigned i = 0; i < e->n_workers; i++) {
        tm_call(&e->workers[i], accept_start_here, &st);
        ck_assert_msg(st == FP_OK, "accept_start on worker %u: %s", i, fp_strerror(st));
    }
}

void tm_stop(tm_env *e)
{
    if (e->l)
        for (unsigned i = 0; i < e->n_workers; i++) tm_call(&e->workers[i], accept_stop_here, NULL);
    for (unsigned i = 0; i < e->n_workers; i++) {
        tm_worker *k = &e->workers[i];
        atomic_store(&k->stop, true);
        e->vt->wake(k->w);
        pthread_mutex_lock(&k->lock);
        k->may_close = true;
        pthread_cond_broadcast(&k->cond);
        pthread_mutex_unlock(&k->lock);
        pthread_join(k->thread, NULL);
    }
    if (e->l) e->vt->listener_close(e->l);
    if (e->t) e->vt->close(e->t);
    for (unsigned i = 0; i < e->n_workers; i++) {
        tm_worker *k = &e->workers[i];
        for (size_t j = 0; j < k->n_conns; j++) {
            free(k->conns[j]->echo_backlog);
            free(k->conns[j]);
        }
        pthread_mutex_destroy(&k->lock);
        pthread_cond_destroy(&k->cond);
    }
    if (e->dl) th_module_close(e->dl);
    pthread_mutex_destroy(&e->fault_lock);
}

void tm_assert_contract(tm_env *e)
{
    for (int cb = 0; cb < TM_CALLBACKS; cb++) {
        ck_assert_msg(atomic_load(&e->wrong_thread[cb]) == 0,
                      "%u %s callbacks ran on a thread other than their worker's",
                      atomic_load(&e->wrong_thread[cb]), callback_names[cb]);
        ck_assert_msg(atomic_load(&e->outside_poll[cb]) == 0,
                      "%u %s callbacks ran outside their worker's poll()",
                      atomic_load(&e->outside_poll[cb]), callback_names[cb]);
        ck_assert_msg(atomic_load(&e->in_method[cb]) == 0,
                      "%u %s callbacks ran inside another transport method",
                      atomic_load(&e->in_method[cb]), callback_names[cb]);
    }
    pthread_mutex_lock(&e->fault_lock);
    unsigned faults = atomic_load(&e->faults);
    char first[sizeof(e->first_fault)];
    memcpy(first, e->first_fault, sizeof(first));
    pthread_mutex_unlock(&e->fault_lock);
    ck_assert_msg(faults == 0, "%u worker-side failures, the first: %s", faults, first);
}

/* ---- peer ---- */

const char *tm_peer_end_name(tm_peer_end end)
{
    switch (end) {
    case TM_PEER_FIN: return "a FIN";
    case TM_PEER_RESET: return "a reset";
    case TM_PEER_TIMEOUT: return "nothing (timed out)";
    }
    return "?";
}

/* Waits up to the deadline for fd to become readable (or writable);
 * false once it passed. */
static bool wait_fd(int fd, bool writable, int64_t end)
{
    int64_t left = end - th_now_ms();
    if (left < 0) return false;
    th_wait_socket(fd, writable, left > 50 ? 50 : (int)left);
    return true;
}

bool tm_peer_send_all(int fd, const void *data, size_t len, int max_ms)
{
    const uint8_t *p = data;
    int64_t end = th_now_ms() + max_ms;
    while (len > 0) {
        long n = th_sock_send(fd, p, len);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && !th_socket_retry(th_socket_errno())) return false;
        if (!wait_fd(fd, true, end)) return false;
    }
    return true;
}

bool tm_peer_recv_exact(int fd, void *buf, size_t n, int max_ms)
{
    uint8_t *p = buf;
    int64_t end = th_now_ms() + max_ms;
    while (n > 0) {
        long r = th_sock_recv(fd, p, n);
        if (r > 0) {
            p += r;
            n -= (size_t)r;
            continue;
        }
        if (r == 0) return false;
        if (!th_socket_retry(th_socket_errno())) return false;
        if (!wait_fd(fd, false, end)) return false;
    }
    return true;
}

tm_peer_end tm_peer_wait_end(int fd, uint64_t *extra, uint64_t *pattern_off, uint64_t *bad,
                             int max_ms)
{
    uint8_t buf[16384];
    int64_t end = th_now_ms() + max_ms;
    for (;;) {
        long r = th_sock_recv(fd, buf, sizeof(buf));
        if (r > 0) {
            if (extra) *extra += (uint64_t)r;
            if (pattern_off) {
                for (long i = 0; i < r; i++)
                    if (buf[i] != th_pattern(*pattern_off + (uint64_t)i)) (*bad)++;
                *pattern_off += (uint64_t)r;
            }
            continue;
        }
        if (r == 0) return TM_PEER_FIN;
        if (!th_socket_retry(th_socket_errno())) return TM_PEER_RESET;
        if (!wait_fd(fd, false, end)) return TM_PEER_TIMEOUT;
    }
}
