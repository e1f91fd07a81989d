#include "transport_harness.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "th_os.h"

const char *th_transport_name = "epoll";

int64_t th_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- callbacks ---- */

static th_conn *record_new(th_env *e)
{
    ck_assert_msg(e->n_conns < TH_MAX_CONNS, "harness: too many connections");
    th_conn *c = calloc(1, sizeof(*c));
    ck_assert_ptr_nonnull(c);
    c->env = e;
    e->conns[e->n_conns++] = c;
    return c;
}

static void note_call(th_conn *c)
{
    if (c->closed_count) c->calls_after_close++;
}

static void *cb_accepted(void *worker_user, fp_tconn *conn, const fp_addr *peer)
{
    th_env *e = worker_user;
    e->accepts_seen++;
    ck_assert_int_ne(peer->family, FP_AF_UNSPEC);
    if (e->refuse_accept_nth > 0 && (size_t)e->refuse_accept_nth == e->accepts_seen) return NULL;
    th_conn *c = record_new(e);
    c->conn = conn;
    c->echo = e->echo_accepted;
    c->echo_lend = e->lend_accepted;
    return c;
}

static void cb_connected(void *user)
{
    th_conn *c = user;
    note_call(c);
    c->connected_count++;
}

fp_status (*th_tx_lend(const th_env *e))(fp_tconn *, const void *, size_t)
{
    const fp_transport_vtbl *vt = e->vt;
    if (vt->struct_size < offsetof(fp_transport_vtbl, tx_lend) + sizeof vt->tx_lend) return NULL;
    return vt->tx_lend;
}

static void lend_or_copy(th_conn *c, const uint8_t *data, size_t len)
{
    fp_status (*lend)(fp_tconn *, const void *, size_t) = th_tx_lend(c->env);
    fp_status st = lend ? lend(c->conn, data, len) : FP_ENOTSUP;
    if (st == FP_OK) {
        c->lent += len;
        return;
    }
    ck_assert_int_eq(st, FP_ENOTSUP);
    c->lend_refused += len;
    th_send(c->env, c, data, len);
}

/* Echo that mixes lent and copied bytes on one connection: the first
 * third lent, the middle copied, the rest lent, so order across both
 * kinds is tested. */
static void lend_echo(th_conn *c, const uint8_t *data, size_t len)
{
    size_t a = len / 3, b = len - len / 3;
    if (a) lend_or_copy(c, data, a);
    if (b > a) th_send(c->env, c, data + a, b - a);
    if (len > b) lend_or_copy(c, data + b, len - b);
}

static void cb_recv(void *user, const uint8_t *data, size_t len)
{
    th_conn *c = user;
    note_call(c);
    if (c->eof_count) c->recv_after_eof++;
    c->recv_calls++;
    ck_assert_uint_gt(len, 0);
    if (c->rx_len + len > c->rx_cap) {
        size_t cap = c->rx_cap ? c->rx_cap : 4096;
        while (cap < c->rx_len + len) cap *= 2;
        c->rx = realloc(c->rx, cap);
        ck_assert_ptr_nonnull(c->rx);
        c->rx_cap = cap;
    }
    memcpy(c->rx + c->rx_len, data, len);
    c->rx_len += len;
    if (c->echo_lend)
        lend_echo(c, data, len);
    else if (c->echo)
        th_send(c->env, c, data, len);
    if (c->pause_on_recv) c->env->vt->recv_pause(c->conn);
}

static void cb_eof(void *user)
{
    th_conn *c = user;
    note_call(c);
    c->eof_count++;
}

static void cb_sent(void *user, size_t bytes)
{
    th_conn *c = user;
    note_call(c);
    c->sent += bytes;
}

static void cb_writable(void *user)
{
    th_conn *c = user;
    note_call(c);
    c->writable_count++;
}

static void cb_closed(void *user, fp_status why)
{
    th_conn *c = user;
    note_call(c);
    c->closed_count++;
    c->closed_why = why;
}

static void cb_log(void *ctx, fp_log_level level, const char *msg)
{
    th_env *e = ctx;
    (void)level;
    e->log_lines++;
    snprintf(e->last_log, sizeof(e->last_log), "%s", msg);
}

/* ---- set-up ---- */

const fp_transport_vtbl *th_load_library(const char *name, void **dl)
{
    const char *dir = getenv("FP_TEST_TRANSPORT_DIR");
    ck_assert_msg(dir != NULL, "FP_TEST_TRANSPORT_DIR is not set");
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s" TH_MODULE_SUFFIX, dir, name);
    *dl = th_module_open(path);
    ck_assert_msg(*dl != NULL, "cannot load %s: %s", path, th_module_error());
    fp_transport_entry_fn entry;
    void *sym = th_module_symbol(*dl, FP_TRANSPORT_ENTRY_SYMBOL);
    ck_assert_msg(sym != NULL, "%s has no %s", path, FP_TRANSPORT_ENTRY_SYMBOL);
    memcpy(&entry, &sym, sizeof(entry));
    const fp_transport_vtbl *vt = entry();
    ck_assert_ptr_nonnull(vt);
    ck_assert_int_eq(vt->abi_major, FP_TRANSPORT_ABI_MAJOR);
    return vt;
}

void th_load(th_env *e, const char *name)
{
    memset(e, 0, sizeof(*e));
    e->name = name;
    e->vt = th_load_library(name, &e->dl);

    th_host_wire(&e->host, &e->events, cb_accepted, cb_connected, cb_recv, cb_eof, cb_sent, cb_writable,
                 cb_closed, cb_log, e);
}

void th_host_wire(fp_transport_host *host, fp_transport_events *events,
                  void *(*on_accepted)(void *, fp_tconn *, const fp_addr *),
                  void (*on_connected)(void *), void (*on_recv)(void *, const uint8_t *, size_t),
                  void (*on_eof)(void *), void (*on_sent)(void *, size_t), void (*on_writable)(void *),
                  void (*on_closed)(void *, fp_status),
                  void (*log)(void *, fp_log_level, const char *), void *log_ctx)
{
    *events = (fp_transport_events){
        .struct_size = sizeof(*events),
        .on_accepted = on_accepted,
        .on_connected = on_connected,
        .on_recv = on_recv,
        .on_eof = on_eof,
        .on_sent = on_sent,
        .on_writable = on_writable,
        .on_closed = on_closed,
    };
    *host = (fp_transport_host){.struct_size = sizeof(*host), .events = events, .log = log, .log_ctx = log_ctx};
}

fp_status th_try_open(th_env *e, const fp_kv *opts, size_t n_opts, char *err, size_t err_len)
{
    th_load(e, th_transport_name);
    return e->vt->open(&e->host, opts, n_opts, &e->t, err, err_len);
}

void th_start(th_env *e, const fp_kv *opts, size_t n_opts)
{
    char err[512] = "";
    fp_status st = th_try_open(e, opts, n_opts, err, sizeof(err));
    ck_assert_msg(st == FP_OK, "open failed: %s (%s)", fp_strerror(st), err);
    st = e->vt->worker_open(e->t, 0, e, &e->w);
    ck_assert_msg(st == FP_OK, "worker_open failed: %s", fp_strerror(st));
}

void th_loopback(fp_addr *a, int family, uint16_t port)
{
    memset(a, 0, sizeof(*a));
    a->family = (uint8_t)family;
    a->port = port;
    if (family == FP_AF_INET) {
        a->bytes[0] = 127;
        a->bytes[3] = 1;
    } else {
        a->bytes[15] = 1;
    }
}

void th_listen_loopback(const fp_transport_vtbl *vt, fp_transport *t, int family, fp_tlistener **l,
                        fp_addr *bound)
{
    fp_addr any;
    char err[512] = "";
    th_loopback(&any, family, 0);
    fp_listen_opts lo = {.struct_size = sizeof(lo), .backlog = 0};
    fp_status st = vt->listen(t, &any, &lo, l, err, sizeof(err));
    ck_assert_msg(st == FP_OK, "listen failed: %s (%s)", fp_strerror(st), err);
    vt->listener_addr(*l, bound);
}

void th_listen(th_env *e, int family)
{
    th_listen_loopback(e->vt, e->t, family, &e->l, &e->listen_addr);
    fp_status st = e->vt->accept_start(e->w, e->l);
    ck_assert_msg(st == FP_OK, "accept_start failed: %s", fp_strerror(st));
}

void th_stop(th_env *e)
{
    if (e->l) {
        if (e->w) e->vt->accept_stop(e->w, e->l);
        e->vt->listener_close(e->l);
    }
    if (e->w) e->vt->worker_close(e->w);
    if (e->t) e->vt->close(e->t);
    for (size_t i = 0; i < e->n_conns; i++) {
        free(e->conns[i]->rx);
        free(e->conns[i]);
    }
    if (e->dl) th_module_close(e->dl);
    memset(e, 0, sizeof(*e));
}

/* ---- driving ---- */

int th_step(th_env *e, int timeout_ms)
{
    int n = e->vt->poll(e->w, timeout_ms);
    ck_assert_msg(n >= 0, "poll failed: %s", fp_strerror((fp_status)n));
    e->vt->flush(e->w);
    return n;
}

bool th_run_until(th_env *e, bool (*done)(th_env *, void *), void *ctx, int max_ms)
{
    int64_t end = th_now_ms() + max_ms;
    while (!done(e, ctx)) {
        if (th_now_ms() > end) return done(e, ctx);
        th_step(e, 5);
    }
    return true;
}

typedef struct {
    size_t n;
} count_ctx;

static bool enough_accepted(th_env *e, void *ctx)
{
    return e->n_conns >= ((count_ctx *)ctx)->n;
}

th_conn *th_wait_accepted(th_env *e, size_t n, int max_ms)
{
    count_ctx ctx = {n};
    ck_assert_msg(th_run_until(e, enough_accepted, &ctx, max_ms), "only %zu of %zu accepted",
                  e->n_conns, n);
    return e->conns[n - 1];
}

static bool conn_closed(th_env *e, void *ctx)
{
    (void)e;
    return ((th_conn *)ctx)->closed_count > 0;
}

bool th_wait_closed(th_env *e, th_conn *c, int max_ms)
{
    return th_run_until(e, conn_closed, c, max_ms);
}

typedef struct {
    th_conn *c;
    size_t n;
} rx_ctx;

static bool rx_reached(th_env *e, void *ctx)
{
    (void)e;
    rx_ctx *r = ctx;
    return r->c->rx_len >= r->n;
}

bool th_wait_rx(th_env *e, th_conn *c, size_t n, int max_ms)
{
    rx_ctx ctx = {c, n};
    return th_run_until(e, rx_reached, &ctx, max_ms);
}

void th_send(th_env *e, th_conn *c, const uint8_t *data, size_t len)
{
    while (len > 0) {
        fp_span span;
        size_t want = len < 65535 ? len : 65535;
        fp_status st = e->vt->tx_reserve(c->conn, want, &span);
        ck_assert_msg(st == FP_OK, "tx_reserve(%zu): %s", want, fp_strerror(st));
        ck_assert_uint_ge(span.len, want);
        memcpy(span.data, data, want);
        e->vt->tx_commit(c->conn, &span, want);
        data += want;
        len -= want;
    }
}

th_conn *th_new_conn(th_env *e)
{
    th_conn *c = record_new(e);
    c->outbound = true;
    return c;
}

typedef struct {
    const char *name;
    uint64_t value;
} stat_ctx;

static void stat_pick(void *ctx, const char *name, uint64_t value)
{
    stat_ctx *s = ctx;
    if (strcmp(s->name, name) == 0) s->value = value;
}

uint64_t th_stat(th_env *e, const char *name)
{
    stat_ctx s = {name, UINT64_MAX};
    e->vt->stats(e->w, stat_pick, &s);
    return s.value;
}

/* ---- peer ---- */

static socklen_t to_sockaddr(const fp_addr *a, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (a->family == FP_AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(a->port);
        memcpy(&sin->sin_addr, a->bytes, 4);
        return sizeof(*sin);
    }
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(a->port);
    memcpy(&sin6->sin6_addr, a->bytes, 16);
    return sizeof(*sin6);
}

int th_peer_connect(const fp_addr *a, int rcvbuf)
{
    struct sockaddr_storage ss;
    socklen_t len = to_sockaddr(a, &ss);
    int fd = th_socket(ss.ss_family);
    ck_assert_msg(fd >= 0, "peer socket: %s", th_socket_strerror(th_socket_errno()));
    if (rcvbuf > 0) ck_assert_int_eq(th_setsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf), 0);
    ck_assert_msg(connect(fd, (struct sockaddr *)&ss, len) == 0, "peer connect: %s",
                  th_socket_strerror(th_socket_errno()));
    ck_assert_int_eq(th_set_nonblocking(fd), 0);
    return fd;
}

long th_peer_read(int fd, uint8_t *buf, size_t max)
{
    long n = th_sock_recv(fd, buf, max);
    if (n > 0) return n;
    if (n == 0) return -1;
    if (th_socket_retry(th_socket_errno())) return 0;
    return -2;
}

bool th_peer_read_exact(th_env *e, int fd, uint8_t *buf, size_t n, int max_ms)
{
    size_t got = 0;
    int64_t end = th_now_ms() + max_ms;
    while (got < n) {
        long r = th_peer_read(fd, buf + got, n - got);
        if (r < 0) return false;
        got += (size_t)r;
        if (got == n) break;
        if (th_now_ms() > end) return false;
        th_step(e, r > 0 ? 0 : 2);
    }
    return true;
}

bool th_peer_wait_eof(th_env *e, int fd, size_t *extra, int max_ms)
{
    uint8_t buf[4096];
    int64_t end = th_now_ms() + max_ms;
    for (;;) {
        long r = th_peer_read(fd, buf, sizeof(buf));
        if (r == -1) return true;
        if (r == -2) return false;
        if (r > 0 && extra) *extra += (size_t)r;
        if (th_now_ms() > end) return false;
        if (r == 0) th_step(e, 2);
    }
}

void th_peer_write(th_env *e, int fd, const void *data, size_t len)
{
    const uint8_t *p = data;
    int64_t end = th_now_ms() + 10000;
    while (len > 0) {
        long n = th_sock_send(fd, p, len);
        if (n < 0 && th_socket_retry(th_socket_errno())) {
            ck_assert_msg(th_now_ms() < end, "peer write: the transport stopped reading");
            th_step(e, 2);
            continue;
        }
        ck_assert_msg(n > 0, "peer write: %s", th_socket_strerror(th_socket_errno()));
        p += n;
        len -= (size_t)n;
    }
}

void th_peer_reset(int fd)
{
    ck_assert_int_eq(th_set_linger_reset(fd), 0);
    th_socket_close(fd);
}

/* The port of fd's own (getsockname) address; 0 when it has none. */
uint16_t th_local_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) return 0;
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

int th_transport_socket(const fp_addr *local, uint16_t peer_port)
{
    return th_find_own_socket(local->port, peer_port);
}

bool th_socket_ended(int fd) { return th_socket_reset(fd); }

int th_peer_listen(int family, fp_addr *a)
{
    fp_addr any;
    th_loopback(&any, family, 0);
    struct sockaddr_storage ss;
    socklen_t len = to_sockaddr(&any, &ss);
    int fd = th_socket(ss.ss_family);
    ck_assert_int_ge(fd, 0);
    ck_assert_msg(bind(fd, (struct sockaddr *)&ss, len) == 0, "peer bind: %s",
                  th_socket_strerror(th_socket_errno()));
    ck_assert_int_eq(listen(fd, 16), 0);
    th_loopback(a, family, th_local_port(fd));
    return fd;
}

int th_peer_accept(int lfd)
{
    int fd = th_accept_nonblocking(lfd);
    ck_assert_msg(fd >= 0, "peer accept: %s", th_socket_strerror(th_socket_errno()));
    return fd;
}
