/*
 * check_fault_storm.c - the fd-reuse storm against a transport itself:
 * `check_fault_storm NAME` loads NAME's library and drives one worker on
 * the test thread, while up to IN_FLIGHT peer sockets run short
 * connections one after another, so descriptor numbers are reused while
 * completions for their previous owners may still be due.
 *
 * Each connection carries one message of its own (an 8-byte tag, then
 * bytes derived from it), which the worker echoes, and ends one of four
 * ways, chosen at random: the peer's FIN after the echo, the peer's reset
 * right after sending, a graceful close by the worker once the message is
 * in, or an abort by the worker. Checked: on_recv gives a connection only
 * bytes of its own message, a peer reads only a prefix of its own echo
 * (all of it unless aborted), and every accepted connection gets
 * on_closed exactly once and no callback after it. stale_completions is
 * printed: completions for connections already gone are counted and
 * dropped, never delivered.
 *
 * FP_FAULT_STORM_CYCLES sets the number of connections (default 100000).
 * Exit 77: the transport's probe says it cannot run here.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fault_client.h"
#include "th_os.h"
#include "transport_check.h"
#include "transport_harness.h"

#define IN_FLIGHT 32
#define MAX_BODY 200
#define MAX_MESSAGE (8 + MAX_BODY)
#define SLOT_TIMEOUT_MS 10000
#define SOURCE_ADDRESSES 8 /* 127.0.0.1..8: ephemeral ports per source address */

enum ending { PEER_FIN, PEER_RESET, WORKER_GRACEFUL, WORKER_ABORT, ENDINGS };
static const char *const ending_names[ENDINGS] = {"peer-fin", "peer-reset", "worker-graceful",
                                                  "worker-abort"};

/* ---- the message of one connection ---- */

/* The tag names the cycle and its ending, so the worker side knows both. */
static uint64_t tag_of(uint64_t cycle, enum ending ending) { return cycle << 2 | (uint64_t)ending; }
static uint64_t tag_cycle(uint64_t tag) { return tag >> 2; }
static enum ending tag_ending(uint64_t tag) { return (enum ending)(tag & 3); }
static size_t message_len(uint64_t tag) { return 8 + 1 + (size_t)(fc_mix(tag) % MAX_BODY); }

static uint8_t message_byte(uint64_t tag, size_t offset)
{
    uint64_t word = offset < 8 ? tag : fc_mix(tag ^ (uint64_t)(offset / 8) << 48);
    return (uint8_t)(word >> (8 * (offset % 8)));
}

/* ---- the worker side: one record per accepted connection, kept to the end ---- */

typedef struct accepted {
    fp_tconn *conn;
    uint64_t tag;
    size_t got; /* message bytes received */
    int closed; /* on_closed calls */
    int calls_after_close;
    bool foreign; /* a byte that is not this connection's message */
    bool closing; /* close_conn was called */
} accepted;

typedef struct storm_env {
    const fp_transport_vtbl *vt;
    void *dl;
    fp_transport_host host;
    fp_transport_events events;
    fp_transport *t;
    fp_tworker *w;
    fp_tlistener *l;
    fp_addr addr;
    accepted **acc;
    size_t n_acc, cap_acc, open;
    unsigned long echo_refused; /* tx_reserve said no: the connection was closing */
} storm_env;

static void note_call(accepted *a)
{
    if (a->closed) a->calls_after_close++;
}

static void *on_accepted(void *worker_user, fp_tconn *conn, const fp_addr *peer)
{
    (void)peer;
    storm_env *e = worker_user;
    if (e->n_acc == e->cap_acc) {
        e->cap_acc = e->cap_acc ? e->cap_acc * 2 : 1024;
        e->acc = realloc(e->acc, e->cap_acc * sizeof *e->acc);
        ck_assert_ptr_nonnull(e->acc);
    }
    accepted *a = calloc(1, sizeof *a);
    ck_assert_ptr_nonnull(a);
    a->conn = conn;
    e->acc[e->n_acc++] = a;
    e->open++;
    return a;
}

static storm_env *current; /* the callbacks' environment: one storm at a time */

static void close_conn(accepted *a, fp_close_mode mode)
{
    a->closing = true;
    current->vt->close_conn(a->conn, mode);
}

static void echo(accepted *a, const uint8_t *data, size_t len)
{
    fp_span span;
    if (current->vt->tx_reserve(a->conn, len, &span) != FP_OK) {
        current->echo_refused++;
        return;
    }
    memcpy(span.data, data, len);
    current->vt->tx_commit(a->conn, &span, len);
}

static void on_recv(void *user, const uint8_t *data, size_t len)
{
    accepted *a = user;
    note_call(a);
    for (size_t i = 0; i < len; i++, a->got++) {
        if (a->got < 8) {
            a->tag |= (uint64_t)data[i] << (8 * a->got);
        } else if (a->got >= message_len(a->tag) || data[i] != message_byte(a->tag, a->got)) {
            a->foreign = true;
        }
    }
    if (a->closing) return;
    echo(a, data, len);
    if (a->got < 8 || a->got != message_len(a->tag)) return;
    if (tag_ending(a->tag) == WORKER_GRACEFUL) close_conn(a, FP_CLOSE_GRACEFUL);
    if (tag_ending(a->tag) == WORKER_ABORT) close_conn(a, FP_CLOSE_ABORT);
}

static void on_eof(void *user)
{
    accepted *a = user;
    note_call(a);
    if (!a->closing) close_conn(a, FP_CLOSE_GRACEFUL);
}

static void on_sent(void *user, size_t bytes)
{
    (void)bytes;
    note_call(user);
}

static void on_writable(void *user) { note_call(user); }
static void on_connected(void *user) { note_call(user); }

static void on_closed(void *user, fp_status why)
{
    (void)why;
    accepted *a = user;
    note_call(a);
    a->closed++;
    current->open--;
}

static void on_log(void *ctx, fp_log_level level, const char *msg)
{
    (void)ctx;
    (void)level;
    printf("%s: log: %s\n", th_transport_name, msg);
}

static void storm_start(storm_env *e)
{
    memset(e, 0, sizeof *e);
    current = e;
    e->vt = th_load_library(th_transport_name, &e->dl);
    th_host_wire(&e->host, &e->events, on_accepted, on_connected, on_recv, on_eof, on_sent, on_writable,
                 on_closed, on_log, e);
    char err[512] = "";
    fp_status st = e->vt->open(&e->host, NULL, 0, &e->t, err, sizeof err);
    ck_assert_msg(st == FP_OK, "open: %s (%s)", fp_strerror(st), err);
    ck_assert_int_eq(e->vt->worker_open(e->t, 0, e, &e->w), FP_OK);
    th_listen_loopback(e->vt, e->t, FP_AF_INET, &e->l, &e->addr);
    ck_assert_int_eq(e->vt->accept_start(e->w, e->l), FP_OK);
}

static void storm_stop(storm_env *e)
{
    e->vt->accept_stop(e->w, e->l);
    e->vt->listener_close(e->l);
    e->vt->worker_close(e->w);
    e->vt->close(e->t);
    th_module_close(e->dl);
    for (size_t i = 0; i < e->n_acc; i++) free(e->acc[i]);
    free(e->acc);
    current = NULL;
}

/* Runs the worker once; whether it reported work. */
static bool step(storm_env *e, int timeout_ms)
{
    int n = e->vt->poll(e->w, timeout_ms);
    ck_assert_msg(n >= 0, "poll: %s", fp_strerror((fp_status)n));
    e->vt->flush(e->w);
    return n > 0;
}

/* ---- the peer side ---- */

enum phase { IDLE, CONNECTING, SENDING, READING };

typedef struct peer {
    int fd;
    enum phase phase;
    uint64_t tag;
    size_t len, done; /* message length; bytes sent, then bytes read back */
    int64_t deadline;
} peer;

typedef struct peers {
    peer p[IN_FLIGHT];
    struct sockaddr_in server;
    uint64_t rng, started, finished, cycles;
    unsigned long endings[ENDINGS];
} peers;

static void peer_fail(const peer *p, const char *why)
{
    ck_abort_msg("cycle %llu (%s): %s", (unsigned long long)tag_cycle(p->tag),
                 ending_names[tag_ending(p->tag)], why);
}

static void peer_finish(peers *ps, peer *p, bool reset)
{
    if (reset)
        fc_reset(p->fd);
    else
        close(p->fd);
    p->fd = -1;
    p->phase = IDLE;
    ps->endings[tag_ending(p->tag)]++;
    ps->finished++;
}

static void peer_start(peers *ps, peer *p)
{
    uint64_t cycle = ps->started++;
    ps->rng ^= ps->rng << 13;
    ps->rng ^= ps->rng >> 7;
    ps->rng ^= ps->rng << 17;
    p->tag = tag_of(cycle, (enum ending)(ps->rng % ENDINGS));
    p->len = message_len(p->tag);
    p->done = 0;
    struct sockaddr_in from = {.sin_family = AF_INET};
    from.sin_addr.s_addr = htonl(0x7f000001u + (uint32_t)(cycle % SOURCE_ADDRESSES));
    p->fd = fc_connect_start(&ps->server, &from);
    if (p->fd < 0) p->fd = fc_connect_start(&ps->server, NULL);
    if (p->fd < 0) peer_fail(p, strerror(errno));
    p->phase = CONNECTING;
    p->deadline = fc_now_ms() + SLOT_TIMEOUT_MS;
}

static void peer_send(peers *ps, peer *p)
{
    uint8_t msg[MAX_MESSAGE];
    for (size_t i = 0; i < p->len; i++) msg[i] = message_byte(p->tag, i);
    ssize_t n = send(p->fd, msg + p->done, p->len - p->done, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n < 0) peer_fail(p, strerror(errno));
    p->done += (size_t)n;
    if (p->done < p->len) return;
    if (tag_ending(p->tag) == PEER_RESET) {
        peer_finish(ps, p, true);
        return;
    }
    p->phase = READING;
    p->done = 0;
}

/* Reads what came back: a prefix of this peer's own message, then (but
 * for PEER_FIN, which closes once the echo is in) the worker's close. */
static void peer_read(peers *ps, peer *p)
{
    uint8_t buf[MAX_MESSAGE + 16];
    ssize_t n = recv(p->fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    enum ending ending = tag_ending(p->tag);
    if (n > 0) {
        for (ssize_t i = 0; i < n; i++, p->done++)
            if (p->done >= p->len || buf[i] != message_byte(p->tag, p->done))
                peer_fail(p, "read a byte that is not its own echo");
        if (ending == PEER_FIN && p->done == p->len) peer_finish(ps, p, false);
        return;
    }
    if (ending == WORKER_ABORT && (n == 0 || errno == ECONNRESET)) {
        peer_finish(ps, p, false);
        return;
    }
    if (ending == WORKER_GRACEFUL && n == 0 && p->done == p->len) {
        peer_finish(ps, p, false);
        return;
    }
    peer_fail(p, n == 0 ? "EOF before the whole echo" : strerror(errno));
}

/* Services every peer once without waiting; whether any made progress. */
static bool peers_step(peers *ps)
{
    struct pollfd pfd[IN_FLIGHT];
    for (size_t i = 0; i < IN_FLIGHT; i++) {
        peer *p = &ps->p[i];
        if (p->phase == IDLE && ps->started < ps->cycles) peer_start(ps, p);
        short events = p->phase == READING ? POLLIN : POLLOUT;
        pfd[i] = (struct pollfd){.fd = p->phase == IDLE ? -1 : p->fd, .events = events};
    }
    if (poll(pfd, IN_FLIGHT, 0) <= 0) {
        int64_t now = fc_now_ms();
        for (size_t i = 0; i < IN_FLIGHT; i++)
            if (ps->p[i].phase != IDLE && now > ps->p[i].deadline)
                peer_fail(&ps->p[i], "no progress in 10 s");
        return false;
    }
    for (size_t i = 0; i < IN_FLIGHT; i++) {
        peer *p = &ps->p[i];
        if (p->phase == IDLE || !pfd[i].revents) continue;
        if (p->phase == CONNECTING) {
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err) peer_fail(p, strerror(err));
            p->phase = SENDING;
        } else if (p->phase == SENDING) {
            peer_send(ps, p);
        } else {
            peer_read(ps, p);
        }
    }
    return true;
}

/* ---- the test ---- */

static unsigned long storm_cycles(void)
{
    const char *s = getenv("FP_FAULT_STORM_CYCLES");
    unsigned long n = s ? strtoul(s, NULL, 10) : 0;
    return n ? n : 100000;
}

static uint64_t stat_value;
static const char *stat_wanted;
static void pick_stat(void *ctx, const char *name, uint64_t value)
{
    (void)ctx;
    if (strcmp(name, stat_wanted) == 0) stat_value = value;
}

START_TEST(test_fd_reuse_storm_delivers_to_the_right_connection_and_closes_each_once)
{
    storm_env e;
    storm_start(&e);
    static peers ps;
    memset(&ps, 0, sizeof ps);
    ps.cycles = storm_cycles();
    ps.rng = 0x2545F4914F6CDD1Dull;
    ps.server = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(e.addr.port)};
    memcpy(&ps.server.sin_addr, e.addr.bytes, 4);
    for (size_t i = 0; i < IN_FLIGHT; i++) ps.p[i].fd = -1;

    int64_t t0 = fc_now_ms();
    bool busy = true;
    while (ps.finished < ps.cycles) {
        bool worked = step(&e, busy ? 0 : 1);
        busy = peers_step(&ps) || worked;
    }
    /* every connection accepted and closed; bounded, not a speed */
    int64_t end = fc_now_ms() + 10000;
    while ((e.open > 0 || e.n_acc < ps.cycles) && fc_now_ms() < end) step(&e, 5);
    int64_t took = fc_now_ms() - t0;

    stat_wanted = "stale_completions";
    stat_value = UINT64_MAX;
    e.vt->stats(e.w, pick_stat, NULL);
    printf("%s: %llu connections in %lld ms, %d in flight: peer-fin=%lu peer-reset=%lu worker-graceful=%lu "
           "worker-abort=%lu; %zu accepted, %zu still open, %lu echoes refused while closing, "
           "stale_completions=%llu\n",
           th_transport_name, (unsigned long long)ps.finished, (long long)took, IN_FLIGHT,
           ps.endings[PEER_FIN], ps.endings[PEER_RESET], ps.endings[WORKER_GRACEFUL],
           ps.endings[WORKER_ABORT], e.n_acc, e.open, e.echo_refused, (unsigned long long)stat_value);

    ck_assert_uint_eq(e.n_acc, ps.cycles);
    uint8_t *seen = calloc(ps.cycles, 1);
    ck_assert_ptr_nonnull(seen);
    for (size_t i = 0; i < e.n_acc; i++) {
        const accepted *a = e.acc[i];
        ck_assert_msg(a->closed == 1, "connection %zu: on_closed %d times", i, a->closed);
        ck_assert_msg(a->calls_after_close == 0, "connection %zu: %d callbacks after on_closed", i,
                      a->calls_after_close);
        ck_assert_msg(!a->foreign, "connection %zu (cycle %llu): received bytes of another connection", i,
                      (unsigned long long)tag_cycle(a->tag));
        if (a->got < 8) continue; /* reset before its tag arrived */
        uint64_t cycle = tag_cycle(a->tag);
        ck_assert_msg(cycle < ps.cycles && !seen[cycle], "cycle %llu's message reached two connections",
                      (unsigned long long)cycle);
        seen[cycle] = 1;
    }
    free(seen);
    ck_assert_uint_ne(stat_value, UINT64_MAX);
    storm_stop(&e);
}
END_TEST

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s TRANSPORT  (loads $FP_TEST_TRANSPORT_DIR/TRANSPORT" TH_MODULE_SUFFIX ")\n",
                argv[0]);
        return 2;
    }
    th_transport_name = argv[1];
    const char *dir = getenv("FP_TEST_TRANSPORT_DIR");
    char why[512] = "";
    int usable = e2e_transport_probe(dir ? dir : ".", th_transport_name, why, sizeof why);
    if (usable == 0) {
        printf("%s: skipped: its probe says: %s\n", th_transport_name, why);
        return 77;
    }
    if (usable < 0) {
        fprintf(stderr, "%s\n", why);
        return 1;
    }
    Suite *s = suite_create(th_transport_name);
    TCase *tc = tcase_create("fd_reuse_storm");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, test_fd_reuse_storm_delivers_to_the_right_connection_and_closes_each_once);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
