/*
 * check_transport.c - the transport contract (sdk/include/fastport/transport.h),
 * checked against one transport: `check_transport NAME` loads
 * $FP_TEST_TRANSPORT_DIR/NAME.so (NAME.dll on Windows, under Wine) and
 * drives one worker on the test thread,
 * with plain loopback sockets as peers; the "multiworker" cases
 * (check_transport_mt.c) drive several workers, each on its own thread.
 * When the transport's probe says it cannot run here, it prints why and
 * exits 77 (ctest: skipped).
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifndef _WIN32
#include <sys/resource.h>
#endif

#include "th_os.h"
#include "transport_check.h"
#include "transport_harness.h"
#include "transport_mt.h"

#define WAIT_MS 10000

static void fill_pattern(uint8_t *p, size_t len, uint64_t offset)
{
    for (size_t i = 0; i < len; i++) p[i] = th_pattern(offset + i);
}

/* Reserves and commits `len` pattern bytes continuing at `offset`. */
static fp_status send_pattern(th_env *e, th_conn *c, size_t len, uint64_t offset)
{
    fp_span span;
    fp_status st = e->vt->tx_reserve(c->conn, len, &span);
    if (st != FP_OK) return st;
    ck_assert_uint_ge(span.len, len);
    fill_pattern(span.data, len, offset);
    e->vt->tx_commit(c->conn, &span, len);
    return FP_OK;
}

/* Steps a while and returns how many poll() calls reported work. */
static int step_for(th_env *e, int steps, int timeout_ms)
{
    int busy = 0;
    for (int i = 0; i < steps; i++)
        if (th_step(e, timeout_ms) > 0) busy++;
    return busy;
}

static bool ipv6_loopback_available(void)
{
    int fd = th_socket(AF_INET6);
    if (fd < 0) return false;
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    bool ok = bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0;
    th_socket_close(fd);
    return ok;
}

/* ---- the entry table ---- */

START_TEST(test_entry_table_names_the_transport_and_fills_every_method)
{
    th_env e;
    th_load(&e, th_transport_name);
    const fp_transport_vtbl *vt = e.vt;
    ck_assert_str_eq(vt->name, th_transport_name);
    ck_assert_uint_ge(vt->struct_size, FP_TRANSPORT_VTBL_MIN_SIZE);
    ck_assert_ptr_nonnull(vt->description);
    void (*const methods[])(void) = {
        (void (*)(void))vt->probe,        (void (*)(void))vt->open,
        (void (*)(void))vt->close,        (void (*)(void))vt->worker_open,
        (void (*)(void))vt->worker_close, (void (*)(void))vt->listen,
        (void (*)(void))vt->listener_addr, (void (*)(void))vt->accept_start,
        (void (*)(void))vt->accept_stop,  (void (*)(void))vt->listener_close,
        (void (*)(void))vt->connect,      (void (*)(void))vt->adopt,
        (void (*)(void))vt->recv_pause,   (void (*)(void))vt->recv_resume,
        (void (*)(void))vt->tx_reserve,   (void (*)(void))vt->tx_commit,
        (void (*)(void))vt->tx_cancel,    (void (*)(void))vt->close_conn,
        (void (*)(void))vt->conn_peer,    (void (*)(void))vt->flush,
        (void (*)(void))vt->poll,         (void (*)(void))vt->wake,
        (void (*)(void))vt->stats,
    };
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        ck_assert_msg(methods[i] != NULL, "method %zu is NULL", i);
    th_stop(&e);
}
END_TEST

/* ---- data ---- */

START_TEST(test_accepted_connection_echoes_bytes_exactly)
{
    th_env e;
    th_start(&e, NULL, 0);
    e.echo_accepted = true;
    th_listen(&e, FP_AF_INET);
    int fd = th_peer_connect(&e.listen_addr, 0);
    th_conn *c = th_wait_accepted(&e, 1, WAIT_MS);

    static uint8_t out[200000], back[sizeof(out)];
    for (size_t i = 0; i < sizeof(out); i++) out[i] = (uint8_t)(i * 7 + (i >> 8));
    th_peer_write(&e, fd, out, sizeof(out));
    ck_assert(th_peer_read_exact(&e, fd, back, sizeof(back), WAIT_MS));
    ck_assert_mem_eq(out, back, sizeof(out));
    ck_assert_uint_eq(c->rx_len, sizeof(out));
    ck_assert_mem_eq(c->rx, out, sizeof(out));
    step_for(&e, 5, 1);
    ck_assert_uint_eq(c->sent, sizeof(out));
    ck_assert_int_eq(c->closed_count, 0);
    th_socket_close(fd);
    th_stop(&e);
}
END_TEST

/* ABI 1.1 tx_lend is optional: a transport without it is echoed by copy
 * and must lend nothing; one with it must lend, and lent and copied bytes
 * interleaved on one connection arrive in commit order. */
START_TEST(test_lent_and_copied_bytes_echo_in_commit_order)
{
    th_env e;
    th_start(&e, NULL, 0);
    e.echo_accepted = true;
    e.lend_accepted = true;
    th_listen(&e, FP_AF_INET);
    int fd = th_peer_connect(&e.listen_addr, 0);
    th_conn *c = th_wait_accepted(&e, 1, WAIT_MS);

    static uint8_t out[300000], back[sizeof(out)];
    for (size_t i = 0; i < sizeof(out); i++) out[i] = (uint8_t)(i * 13 + (i >> 9));
    th_peer_write(&e, fd, out, sizeof(out));
    ck_assert(th_peer_read_exact(&e, fd, back, sizeof(back), WAIT_MS));
    ck_assert_mem_eq(out, back, sizeof(out));
    step_for(&e, 5, 1);
    ck_assert_uint_eq(c->sent, sizeof(out));
    if (th_tx_lend(&e))
        ck_assert_uint_gt(c->lent, 0);
    else
        ck_assert_uint_eq(c->lent, 0);
    ck_assert_int_eq(c->closed_count, 0);
    th_socket_close(fd);
    th_stop(&e);
}
END_TEST

START_TEST(test_lending_memory_outside_a_delivery_is_refused)
{
    th_env e;
    th_start(&e, NULL, 0);
    fp_status (*lend)(fp_tconn *, const void *, size_t) = th_tx_lend(&e);
    if (!lend) {
        printf("%s: %s has no tx_lend: nothing to refuse\n", __func__, th_transport_name);
        th_stop(&e);
        return;
    }
    th_listen(&e, FP_AF_INET);
    int fd = th_peer_connect(&e.listen_addr, 0);
    th_conn *c = th_wait_accepted(&e, 1, WAIT_MS);
    static const uint8_t mine[] = "not receive memory";
    ck_assert_int_eq(lend(c->conn, mine, sizeof(mine)), FP_ENOTSUP);
    /* nothing was queued: a copied send is the first thing the peer sees */
    th_send(&e, c, (const uint8_t *)"ok", 2);
    uint8_t got[2];
    ck_assert(th_peer_read_exact(&e, fd, got, 2, WAIT_MS));
    ck_assert_mem_eq(got, "ok", 2);
    th_socket_close(fd);
    th_stop(&e);
}
END_TEST

START_TEST(test_many_commits_keep_order_through_partial_writes_to_a_slow_reader)
{
    const fp_kv opts[] = {{"sndbuf", "8K"}};
    th_env e;
    th_start(&e, opts, 1);
    th_listen(&e, FP_AF_INET);
    int fd = th_peer_connect(&e.listen_addr, 4096);
    th_conn *c = th_wait_accepted(&e, 1, WAIT_MS);

    static const size_t sizes[] = {1, 7, 300, 4000, 4097, 1000, 17000, 65535, 2, 16384, 9999};
    const uint64_t total = 12u << 20;
    uint64_t produced = 0, consumed = 0, commits = 0;
    uint8_t buf[2048];
    time_t deadline = time(NULL) + 120;
    while (consumed < total) {
        ck_assert_msg(time(NULL) < deadline, "stalled at %llu of %llu bytes",
                      (unsigned long long)consumed, (unsigned long long)total);
        while (produced < total && produced - consumed < (2u << 20)) {
            size_t len = sizes[commits % (sizeof(sizes) / sizeof(sizes[0]))];
            if (len > total - produced) len = (size_t)(total - produced);
            ck_assert_int_eq(send_pattern(&e, c, len, produced), FP_OK);
            produced += len;
            commits++;
        }
        th_step(&e, 0);
        /* a slow reader: small reads, one per engine iteration */
        long r = th_peer_read(fd, buf, sizeof(buf));
        ck_assert_int_ge(r, 0);
        for (long i = 0; i < r; i++)
            if (buf[i] != th_pattern(consumed + (uint64_t)i))
                ck_abort_msg("byte %llu differs", (unsigned long long)(consumed + (uint64_t)i));
        consumed += (uint64_t)r;
    }
    ck_assert_uint_gt(commits, 1000);
    step_for(&e, 5, 1);
    ck_assert_uint_eq(c->sent, total);
    ck_assert_int_eq(c->closed_count, 0);
    th_socket_close(fd);
    th_stop(&e);
}
END_TEST

/* ---- closing ---- */

START_TEST(test_graceful_close_sends_everything_then_fin_then_one_on_closed)
{
    th_env e;
    th_start(&e, NULL, 0);
    th_listen(&e, FP_AF_INET);
    int fd = th_peer_connect(&e.listen_addr, 8192);
    th_conn *c = th_wait_accepted(&e, 1, WAIT_MS);

    const size_t total = 1u << 20;
    for (size_t off = 0; off < total; off += 65535) {
        size_t len = total - off < 65535 ? total - off : 65535;
        ck_assert_int_eq(send_pattern(&e, c, len, off), FP_OK);
    }
    e.vt->close_conn(c->conn, FP_CLOSE_GRACEFUL);
    fp_span span;
    ck_assert_int_eq(e.vt->tx_reserve(c->conn, 10, &span), FP_ECLOSED);

    uint8_t *got = malloc(total);
    ck_assert(th_peer_read_exact(&e, fd, got, total, WAIT_MS));
    for (size_t i = 0; i < total; i++)
        if (got[i] != th_pattern(i)) ck_abort_msg("byte %zu differs", i);
    free(got);
    size_t extra = 0;
    ck_assert_msg(th_peer_wait_eof(&e, fd, &extra, WAIT_MS), "no FIN after the data");
    ck_assert_uint_eq(extra, 0);

    /* the transport waits for our FIN, discarding what we still send */
    th_peer_write(&e, fd, "ignored", 7);
    step_for(&e, 20, 2);
    ck_assert_int_eq(c->closed_count, 0);
    ck_assert_uint_eq(c->rx_len, 0);

    shutdown(fd, TH_SHUT_WR);
    ck_assert(th_wait_closed(&e, c, WAIT_MS));
    step_for(&e, 10, 2);
    ck_assert_int_eq(c->closed_count, 1);
    ck_assert_int_eq(c->closed_why, FP_OK);
    ck_assert_uint_eq(c->sent, total);
    ck_assert_int_eq(c->calls_after_close, 0);
    th_socket_close(fd);
    th_stop(&e);
}
END_TEST

START_TEST(test_abort_gives_one_on_closed_and_no_callback_after_it)
{
    th_env e;
    th_start(&e, NULL, 0);
    th_listen(&e, FP_AF_INET);
    int fd = th_peer_connect(&e.listen_addr, 4096);
    th_conn *c = th_wait_accepted(&e, 1, WAIT_MS);
    th_peer_write(&e, fd, "hello", 5);
    ck_assert(th_wait_rx(&e, c, 5, WAIT_MS));
    for (uint64_t off = 0; off < (512u << 10); off += 16384)
        ck_assert_int_eq(send_pattern(&e, c, 16384, off), FP_OK);
    th_step(&e, 0);

    e.vt->close_conn(c->conn, FP_CLOSE_ABORT);
    e.vt->close_conn(c->conn, FP_CLOSE_ABORT);
    e.vt->close_conn(c->conn, FP_CLOSE_GRACEFUL);
    ck_assert_int_eq(c->closed_count, 0); /* delivered from poll, not from close_conn */
    ck_assert(th_wait_closed(&e, c, WAIT_MS));

    /* the peer sees a reset, and its late bytes reach nobody */
    uint8_t buf[4096];
    long r = 0;
    for (int i = 0; i < 1000 && r >= 0; i++) {
        r = th_peer_read(fd, buf, sizeof(buf));
        if (r == 0) th_step(&e, 2);
    }
    ck_assert_int_eq(r, -2);
    (void)th_sock_send(fd, "late", 4);
    step_for(&e, 20, 2);
    ck_assert_int_eq(c->closed_count, 1);
    ck_assert_int_eq(c->calls_after_close, 0);
    th_socket_close(fd);
    th_stop(&e);
}
END_TEST

START_TEST(test_peer_reset_with_data_queued_closes_once_with_an_error)
{
    /* SIGPIPE keeps its default action: a send without MSG_NOSIGNAL kills us */
    th_env e;
    th_start(&e, NULL, 0);
    th_listen(&e, FP_AF_INET);
    int fd = th_peer_connect(&e.listen_addr, 4096);
    th_conn *c = th_wait_accepted(&e, 1, WAIT_MS);
    const uint64_t total = 8u << 20;
    for (uint64_t off = 0; off < total; off += 65535)
        ck_assert_int_eq(send_pattern(&e, c, 65535, off), FP_OK);
    step_for(&e, 10, 1);
    ck_assert_uint_lt(c->sent, total); /* still queued in the transport */

    th_peer_reset(fd);
    ck_assert(th_wait_closed(&e, c, WAIT_MS));
    step_for(&e, 10, 2);
    ck_assert_int_eq(c->closed_count, 1);
    ck_assert_int_lt(c->closed_why, 0);
    ck_assert_int_eq(c->calls_after_close, 0);
    th_stop(&e);
}
END_TEST

START_TEST(test_sending_to_a_peer_that_closed_closes_with_an_error_without_sigpipe)
{
    /* The first send after the peer closed draws its RST; the next send on
     * the reset socket raises SIGPIPE unless the transport suppresses it. */
    th_env e;
    th_start(&e, NULL, 0);
    th_listen(&e, FP_AF_INET);
    int fd = th_peer_connect(&e.listen_addr, 0);
    th_conn *c = th_wait_accepted(&e, 1, WAIT_MS);
    int transport_fd = th_transport_socket(&e.listen_addr, th_local_port(fd));
    ck_assert_msg(transport_fd >= 0, "the transport's socket for the connection is not found");
    th_socket_close(fd);
    for (int i = 0; i < 2000 && !c->eof_count; i++) th_step(&e, 5);
    ck_assert_int_eq(c->eof_count, 1);

    ck_assert_int_eq(send_pattern(&e, c, 1000, 0), FP_OK);
    e.vt->flush(e.w);
    /* Wait until the RST is back on the transport's socket. A backend may
     * submit sends only from poll, so the worker steps meanwhile; one that
     * notices the reset itself closes the connection from there. */
    int64_t end = th_now_ms() + WAIT_MS;
    while (!c->closed_count && !th_socket_ended(transport_fd)) {
        ck_assert_msg(th_now_ms() < end, "no RST came back for the send to a closed peer");
        th_step(&e, 1);
    }
    if (!c->closed_count && send_pattern(&e, c, 1000, 1000) == FP_OK) e.vt->flush(e.w);
    ck_assert(th_wait_closed(&e, c, WAIT_MS));
    ck_assert_int_lt(c->closed_why, 0);
    step_for(&e, 10, 2);
    ck_assert_int_eq(c->closed_count, 1);
    ck_assert_int_eq(c->calls_after_close, 0);
    th_stop(&e);
}
END_TEST

START_TEST(test_peer_fin_gives_on_eof_then_graceful_close_closes)
{
    th_env e;
    th_start(&e, NULL, 0);
    th_listen(&e, FP_AF_INET);
    int fd = th_peer_connect(&e.listen_addr, 0);
    th_conn *c = th_wait_accepted(&e, 1, WAIT_MS);
    th_peer_write(&e, fd, "last words", 10);
    shutdown(fd, TH_SHUT_WR);
    for (int i = 0; i < 2000 && !c->eof_count; i++) th_step(&e, 5);
    ck_assert_int_eq(c->eof_count, 1);
    ck_assert_uint_eq(c->rx_len, 10);
    ck_assert_mem_eq(c->rx, "last words", 10);
    ck_assert_int_eq(c->closed_count, 0);

    /* sending still works after the peer's FIN */
    ck_assert_int_eq(send_pattern(&e, c, 5000, 0), FP_OK);
    uint8_t got[5000];
    ck_assert(th_peer_read_exact(&e, fd, got, sizeof(got), WAIT_MS));
    for (size_t i = 0; i < sizeof(got); i++) ck_assert_uint_eq(got[i], th_pattern(i));

    e.vt->close_conn(c->conn, FP_CLOSE_GRACEFUL);
    ck_assert(th_wait_closed(&e, c, WAIT_MS));
    ck_assert_int_eq(c->closed_why, FP_OK);
    ck_assert(th_peer_wait_eof(&e, fd, NULL, WAIT_MS));
    step_for(&e, 10, 2);
    ck_assert_int_eq(c->closed_count, 1);
    ck_assert_int_eq(c->eof_count, 1);
    ck_assert_int_eq(c->recv_after_eof, 0);
    ck_assert_int_eq(c->calls_after_close, 0);
    th_socket_close(fd);
    th_stop(&e);
}
END_TEST

/* ---- outbound ---- */

START_TEST(test_connect_to_a_closed_port_is_refused_without_on_connected)
{
    th_env e;
    th_start(&e, NULL, 0);
    fp_addr a;
    th_socket_close(th_peer_listen(FP_AF_INET, &a)); /* a port nobody listens on now */
    th_conn *c = th_new_conn(&e);
    ck_assert_int_eq(e.vt->connect(e.w, &a, c, &c->conn), FP_OK);
    ck_assert(th_wait_closed(&e, c, WAIT_MS));
    ck_assert_int_eq(c->closed_why, FP_ECONNREFUSED);
    ck_assert_int_eq(c->connected_count, 0);
    step_for(&e, 10, 2);
    ck_assert_int_eq(c->closed_count, 1);
    ck_assert_int_eq(c->calls_after_close, 0);
    th_stop(&e);
}
END_TEST

static bool conn_connected(th_env *e, void *ctx)
{
    (void)e;
    return ((th_conn *)ctx)->connected_count > 0 || ((th_conn *)ctx)->closed_count > 0;
}

START_TEST(test_connect_success_gives_on_connected_then_data_flows)
{
    th_env e;
    th_start(&e, NULL, 0);
    fp_addr a;
    int lfd = th_peer_listen(FP_AF_INET, &a);
    th_conn *c = th_new_conn(&e);
    ck_assert_int_eq(e.vt->connect(e.w, &a, c, &c->conn), FP_OK);
    ck_assert(th_run_until(&e, conn_connected, c, WAIT_MS));
    ck_assert_int_eq(c->connected_count, 1);
    ck_assert_int_eq(c->closed_count, 0);
    fp_addr peer;
    e.vt->conn_peer(c->conn, &peer);
    ck_assert_uint_eq(peer.port, a.port);

    int fd = th_peer_accept(lfd);
    th_socket_close(lfd);
    ck_assert_int_eq(send_pattern(&e, c, 30000, 0), FP_OK);
    uint8_t got[30000];
    ck_assert(th_peer_read_exact(&e, fd, got, sizeof(got), WAIT_MS));
    for (size_t i = 0; i < sizeof(got); i++) ck_assert_uint_eq(got[i], th_pattern(i));
    th_peer_write(&e, fd, got, sizeof(got));
    ck_assert(th_wait_rx(&e, c, sizeof(got), WAIT_MS));
    ck_assert_mem_eq(c->rx, got, sizeof(got));
    ck_assert_int_eq(c->connected_count, 1);
    th_socket_close(fd);
    th_stop(&e);
}
END_TEST

START_TEST(test_adopted_socket_delivers_waiting_bytes_without_on_connected)
{
    th_env e;
    th_start(&e, NULL, 0);
    fp_addr a;
    int lfd = th_peer_listen(FP_AF_INET, &a);
    int peer = th_peer_connect(&a, 0);
    int fd = th_peer_accept(lfd);
    th_socket_close(lfd);
    /* bytes that arrived before the transport owned the socket */
    th_peer_write(&e, peer, "early", 5);

    th_conn *c = th_new_conn(&e);
    ck_assert_int_eq(e.vt->adopt(e.w, fd, c, &c->conn), FP_OK);
    ck_assert(th_wait_rx(&e, c, 5, WAIT_MS));
    ck_assert_mem_eq(c->rx, "early", 5);
    ck_assert_int_eq(send_pattern(&e, c, 100, 0), FP_OK);
    uint8_t got[100];
    ck_assert(th_peer_read_exact(&e, peer, got, sizeof(got), WAIT_MS));
    for (size_t i = 0; i < sizeof(got); i++) ck_assert_uint_eq(got[i], th_pattern(i));
    ck_assert_int_eq(c->connected_count, 0);
    th_socket_close(peer);
    th_stop(&e);
}
END_TEST

/* ---- wake ---- */

typedef struct {
    th_env *e;
    atomic_long poller_tid; /* the thread about to poll(-1), 0 before */
    bool saw_it_sleep;
} blocked_poll_waker;

/* Wakes once the poller sleeps. Should it never show as sleeping within
 * the bound, it wakes anyway: a wake before the poll must end it too. */
static void *wake_once_poll_blocks(void *arg)
{
    blocked_poll_waker *b = arg;
    int64_t end = th_now_ms() + WAIT_MS;
    while (th_now_ms() < end) {
        long tid = atomic_load(&b->poller_tid);
        if (tid && th_thread_blocked(tid)) {
            b->saw_it_sleep = true;
            break;
        }
        struct timespec ts = {0, 200 * 1000}; /* pacing of a bounded loop */
        nanosleep(&ts, NULL);
    }
    b->e->vt->wake(b->e->w);
    return NULL;
}

START_TEST(test_wake_from_another_thread_returns_a_blocking_poll)
{
    th_env e;
    th_start(&e, NULL, 0);
    blocked_poll_waker b = {.e = &e};
    atomic_init(&b.poller_tid, 0);
    pthread_t tid;
    ck_assert_int_eq(pthread_create(&tid, NULL, wake_once_poll_blocks, &b), 0);
    atomic_store(&b.poller_tid, th_thread_self());
    /* without the wake this blocks until the test times out */
    int n = e.vt->poll(e.w, -1);
    ck_assert_int_ge(n, 0);
    pthread_join(tid, NULL);
    if (!b.saw_it_sleep) printf("%s: the poll was never seen blocked: woken early\n", __func__);
    th_stop(&e);
}
END_TEST

START_TEST(test_wake_before_poll_makes_the_next_poll_return)
{
    th_env e;
    th_start(&e, NULL, 0);
    e.vt->wake(e.w);
    ck_assert_int_ge(e.vt->poll(e.w, -1), 0);
    th_stop(&e);
}
END_TEST

/* ---- options ---- */

START_TEST(test_unknown_option_is_refused_naming_the_key)
{
    const fp_kv opts[] = {{"no_such_option", "1"}};
    th_env e;
    char err[512] = "";
    ck_assert_int_eq(th_try_open(&e, opts, 1, err, sizeof(err)), FP_EINVAL);
    ck_assert_ptr_null(e.t);
    ck_assert_msg(strstr(err, "no_such_option") != NULL, "message: %s", err);
    ck_assert_msg(strstr(err, "send_pool_max") != NULL, "known keys not listed: %s", err);
    th_stop(&e);
}
END_TEST

START_TEST(test_bad_option_value_is_refused_naming_the_key)
{
    const fp_kv opts[] = {{"send_pool_max", "lots"}};
    th_env e;
    char err[512] = "";
    ck_assert_int_eq(th_try_open(&e, opts, 1, err, sizeof(err)), FP_EINVAL);
    ck_assert_ptr_null(e.t);
    ck_assert_msg(strstr(err, "send_pool_max") != NULL, "message: %s", err);
    ck_assert_msg(strstr(err, "lots") != NULL, "message: %s", err);
    th_stop(&e);
}
END_TEST

/* ---- receive backpressure ---- */

START_TEST(test_recv_pause_withholds_bytes_and_resume_delivers_them_all)
{
    th_env e;
    th_start(&e, NULL, 0);
    th_listen(&e, FP_AF_INET);
    int fd = th_peer_connect(&e.listen_addr, 0);
    th_conn *c = th_wait_accepted(&e, 1, WAIT_MS);
    static uint8_t data[600000];
    fill_pattern(data, sizeof(data), 0);

    /* paused before anything arrives: nothing is delivered */
    e.vt->recv_pause(c->conn);
    th_peer_write(&e, fd, data, 100000);
    step_for(&e, 30, 2);
    ck_assert_uint_eq(c->rx_len, 0);
    e.vt->recv_resume(c->conn);
    ck_assert(th_wait_rx(&e, c, 100000, WAIT_MS));

    /* paused from inside on_recv with more already queued in the kernel:
     * one delivery, then silence, then the rest without a new arrival */
    c->pause_on_recv = true;
    int calls = c->recv_calls;
    th_peer_write(&e, fd, data + 100000, sizeof(data) - 100000);
    step_for(&e, 30, 2);
    ck_assert_int_eq(c->recv_calls, calls + 1);
    size_t withheld_at = c->rx_len;
    ck_assert_uint_lt(withheld_at, sizeof(data));
    c->pause_on_recv = false;
    e.vt->recv_resume(c->conn);
    ck_assert(th_wait_rx(&e, c, sizeof(data), WAIT_MS));
    ck_assert_uint_eq(c->rx_len, sizeof(data));
    ck_assert_mem_eq(c->rx, data, sizeof(data));
    th_socket_close(fd);
    th_stop(&e);
}
END_TEST

/* ---- listening ---- */

START_TEST(test_listener_on_port_zero_reports_a_real_port)
{
    th_env e;
    th_start(&e, NULL, 0);
    th_listen(&e, FP_AF_INET);
    ck_assert_uint_ne(e.listen_addr.port, 0);
    ck_assert_int_eq(e.listen_addr.family, FP_AF_INET);
    int fd = th_peer_connect(&e.listen_addr, 0);
    th_wait_accepted(&e, 1, WAIT_MS);
    th_socket_close(fd);
    th_stop(&e);
}
END_TEST

START_TEST(test_ipv6_loopback_accepts_and_echoes)
{
    if (!ipv6_loopback_available()) {
        printf("%s: skipped: no IPv6 loopback (::1) on this machine\n", __func__);
        return;
    }
    th_env e;
    th_start(&e, NULL, 0);
    e.echo_accepted = true;
    th_listen(&e, FP_AF_INET6);
    ck_assert_int_eq(e.listen_addr.family, FP_AF_INET6);
    ck_assert_uint_ne(e.listen_addr.port, 0);
    int fd = th_peer_connect(&e.listen_addr, 0);
    th_conn *c = th_wait_accepted(&e, 1, WAIT_MS);
    fp_addr peer;
    e.vt->conn_peer(c->conn, &peer);
    ck_assert_int_eq(peer.family, FP_AF_INET6);
    th_peer_write(&e, fd, "six", 3);
    uint8_t got[3];
    ck_assert(th_peer_read_exact(&e, fd, got, 3, WAIT_MS));
    ck_assert_mem_eq(got, "six", 3);
    th_socket_close(fd);
    th_stop(&e);
}
END_TEST

START_TEST(test_on_accepted_null_refuses_only_that_connection)
{
    th_env e;
    th_start(&e, NULL, 0);
    e.echo_accepted = true;
    e.refuse_accept_nth = 2;
    th_listen(&e, FP_AF_INET);
    int first = th_peer_connect(&e.listen_addr, 0);
    th_wait_accepted(&e, 1, WAIT_MS);
    int refused = th_peer_connect(&e.listen_addr, 0);
    int third = th_peer_connect(&e.listen_addr, 0);
    th_wait_accepted(&e, 2, WAIT_MS);
    ck_assert_uint_eq(e.accepts_seen, 3);

    uint8_t buf[16];
    long r = 0;
    for (int i = 0; i < 1000 && r == 0; i++) {
        r = th_peer_read(refused, buf, sizeof(buf));
        if (r == 0) th_step(&e, 2);
    }
    ck_assert_msg(r < 0, "the refused connection stayed open (read %ld)", r);

    int keep[] = {first, third};
    for (size_t i = 0; i < 2; i++) {
        th_peer_write(&e, keep[i], "ok?", 3);
        ck_assert(th_peer_read_exact(&e, keep[i], buf, 3, WAIT_MS));
        ck_assert_mem_eq(buf, "ok?", 3);
        ck_assert_int_eq(e.conns[i]->closed_count, 0);
    }
    ck_assert_uint_eq(e.n_conns, 2);
    th_socket_close(first);
    th_socket_close(refused);
    th_socket_close(third);
    th_stop(&e);
}
END_TEST

START_TEST(test_emfile_pauses_accepting_without_busy_loop_and_resumes)
{
#ifdef _WIN32
    /* Windows has no per-process descriptor limit to lower (socket handles
     * are bounded by kernel memory only), so running out of them cannot be
     * staged from a test. iocp.dll pauses through the same core back-off
     * on WSAEMFILE / WSAENOBUFS. */
    printf("%s: skipped: Windows has no descriptor limit to lower\n", __func__);
#else
    th_env e;
    th_start(&e, NULL, 0);
    th_listen(&e, FP_AF_INET);
    enum { PEERS = 3 };
    int peers[PEERS];
    for (int i = 0; i < PEERS; i++) peers[i] = th_peer_connect(&e.listen_addr, 0);

    struct rlimit old, low;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = 64;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    int fillers[64];
    int n_fill = 0;
    for (int fd; n_fill < 64 && (fd = dup(0)) >= 0;) fillers[n_fill++] = fd;
    ck_assert_int_eq(dup(0), -1);
    ck_assert_int_eq(errno, EMFILE);

    /* Pending connections the transport cannot accept must not make every
     * poll report work: a bounded number of iterations, not a speed. */
    int busy = step_for(&e, 500, 0);
    busy += step_for(&e, 20, 20);
    ck_assert_msg(busy <= 20, "%d of 520 polls reported work while out of descriptors", busy);
    ck_assert_uint_eq(e.n_conns, 0);
    uint64_t emfile = th_stat(&e, "accept_emfile");
    if (emfile != UINT64_MAX) {
        ck_assert_uint_ge(emfile, 1);
        ck_assert_uint_le(e.log_lines, emfile);
    }

    for (int i = 0; i < n_fill; i++) close(fillers[i]);
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
    th_wait_accepted(&e, PEERS, WAIT_MS);
    for (int i = 0; i < PEERS; i++) th_socket_close(peers[i]);
    th_stop(&e);
#endif
}
END_TEST

/* ---- send memory ---- */

START_TEST(test_send_pool_cap_gives_eagain_then_on_writable_after_drain)
{
    const fp_kv opts[] = {{"send_pool_max", "256K"}, {"sndbuf", "16K"}};
    th_env e;
    th_start(&e, opts, 2);
    th_listen(&e, FP_AF_INET);
    int fd = th_peer_connect(&e.listen_addr, 4096);
    th_conn *c = th_wait_accepted(&e, 1, WAIT_MS);

    uint64_t produced = 0;
    fp_status st = FP_OK;
    for (int i = 0; i < 10000 && st == FP_OK; i++) {
        st = send_pattern(&e, c, 16000, produced);
        if (st == FP_OK) produced += 16000;
        th_step(&e, 0);
    }
    ck_assert_int_eq(st, FP_EAGAIN);
    ck_assert_int_eq(c->writable_count, 0);

    uint8_t buf[65536];
    uint64_t consumed = 0;
    time_t deadline = time(NULL) + 30;
    while (c->writable_count == 0) {
        ck_assert_msg(time(NULL) < deadline, "no on_writable after the peer drained");
        long r = th_peer_read(fd, buf, sizeof(buf));
        ck_assert_int_ge(r, 0);
        for (long i = 0; i < r; i++) ck_assert_uint_eq(buf[i], th_pattern(consumed + (uint64_t)i));
        consumed += (uint64_t)r;
        th_step(&e, r > 0 ? 0 : 2);
    }
    ck_assert_int_eq(send_pattern(&e, c, 16000, produced), FP_OK);
    uint64_t eagain = th_stat(&e, "eagain_reserve");
    if (eagain != UINT64_MAX) ck_assert_uint_ge(eagain, 1);
    th_socket_close(fd);
    th_stop(&e);
}
END_TEST

/* ---- runner ---- */

static Suite *contract_suite(const char *name)
{
    Suite *s = suite_create(name);
    TCase *tc = tcase_create("contract");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_entry_table_names_the_transport_and_fills_every_method);
    tcase_add_test(tc, test_accepted_connection_echoes_bytes_exactly);
    tcase_add_test(tc, test_lent_and_copied_bytes_echo_in_commit_order);
    tcase_add_test(tc, test_lending_memory_outside_a_delivery_is_refused);
    tcase_add_test(tc, test_many_commits_keep_order_through_partial_writes_to_a_slow_reader);
    tcase_add_test(tc, test_graceful_close_sends_everything_then_fin_then_one_on_closed);
    tcase_add_test(tc, test_abort_gives_one_on_closed_and_no_callback_after_it);
    tcase_add_test(tc, test_peer_reset_with_data_queued_closes_once_with_an_error);
    tcase_add_test(tc, test_sending_to_a_peer_that_closed_closes_with_an_error_without_sigpipe);
    tcase_add_test(tc, test_peer_fin_gives_on_eof_then_graceful_close_closes);
    tcase_add_test(tc, test_connect_to_a_closed_port_is_refused_without_on_connected);
    tcase_add_test(tc, test_connect_success_gives_on_connected_then_data_flows);
    tcase_add_test(tc, test_adopted_socket_delivers_waiting_bytes_without_on_connected);
    tcase_add_test(tc, test_wake_from_another_thread_returns_a_blocking_poll);
    tcase_add_test(tc, test_wake_before_poll_makes_the_next_poll_return);
    tcase_add_test(tc, test_unknown_option_is_refused_naming_the_key);
    tcase_add_test(tc, test_bad_option_value_is_refused_naming_the_key);
    tcase_add_test(tc, test_recv_pause_withholds_bytes_and_resume_delivers_them_all);
    tcase_add_test(tc, test_listener_on_port_zero_reports_a_real_port);
    tcase_add_test(tc, test_ipv6_loopback_accepts_and_echoes);
    tcase_add_test(tc, test_on_accepted_null_refuses_only_that_connection);
    tcase_add_test(tc, test_emfile_pauses_accepting_without_busy_loop_and_resumes);
    tcase_add_test(tc, test_send_pool_cap_gives_eagain_then_on_writable_after_drain);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, contract_multiworker_tcase());
    return s;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s TRANSPORT  (loads $FP_TEST_TRANSPORT_DIR/TRANSPORT" TH_MODULE_SUFFIX ")\n",
                argv[0]);
        return 2;
    }
    th_transport_name = argv[1];
    th_os_init();
    const char *dir = getenv("FP_TEST_TRANSPORT_DIR");
    char why[512] = "";
    int usable = e2e_transport_probe(dir ? dir : ".", th_transport_name, why, sizeof(why));
    if (usable == 0) {
        printf("%s: skipped: its probe says: %s\n", th_transport_name, why);
        return 77; /* ctest SKIP_RETURN_CODE */
    }
    if (usable < 0) {
        fprintf(stderr, "%s\n", why);
        return 1;
    }

    SRunner *sr = srunner_create(contract_suite(th_transport_name));
#ifdef _WIN32
    /* Windows has no fork: every test runs in this process, one after
     * another, and a failed one leaves what it opened behind */
    srunner_set_fork_status(sr, CK_NOFORK);
#endif
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
