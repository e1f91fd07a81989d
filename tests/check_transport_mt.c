/*
 * check_transport_mt.c - the transport contract with several workers, each
 * driven by its own thread (transport_mt.h): accepts spread over workers,
 * wake() racing closes, a close from inside on_recv while another worker
 * is busy. This is where a transport with one acceptor handing sockets to
 * workers (IOCP, RIO) differs from one socket per worker, so every case
 * checks that each callback runs on the owning worker's thread.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "th_os.h"
#include "transport_harness.h"
#include "transport_mt.h"

#define WAIT_MS 10000

/* Each connection's bytes come from its own stretch of the pattern, so
 * bytes delivered to the wrong connection do not compare equal. */
static uint64_t stream_base(size_t i)
{
    return (uint64_t)(i + 1) << 32;
}

static void fill_pattern(uint8_t *p, size_t len, uint64_t offset)
{
    for (size_t i = 0; i < len; i++) p[i] = th_pattern(offset + i);
}

/* Reads `len` bytes from fd and counts those that differ from the pattern
 * at `offset`; false when the stream ended or stalled first. */
static bool peer_read_pattern(int fd, uint64_t offset, uint64_t len, uint64_t *bad)
{
    uint8_t buf[16384];
    while (len > 0) {
        size_t n = len < sizeof(buf) ? (size_t)len : sizeof(buf);
        if (!tm_peer_recv_exact(fd, buf, n, WAIT_MS)) return false;
        for (size_t i = 0; i < n; i++)
            if (buf[i] != th_pattern(offset + i)) (*bad)++;
        offset += n;
        len -= n;
    }
    return true;
}

static void do_nothing(tm_worker *k, void *arg)
{
    (void)k;
    (void)arg;
}

/* A few more loop iterations on every worker, each one a full poll, so a
 * callback the transport still owes (or should not deliver) has its turn
 * before the records are checked. */
static void settle(tm_env *e)
{
    for (int round = 0; round < 10; round++)
        for (unsigned i = 0; i < e->n_workers; i++) tm_call(&e->workers[i], do_nothing, NULL);
}

static const tm_conn *record_for_port(const tm_conn *recs, size_t n, uint16_t port)
{
    const tm_conn *found = NULL;
    for (size_t i = 0; i < n; i++) {
        if (recs[i].peer_port != port) continue;
        ck_assert_msg(found == NULL, "two records for peer port %u", port);
        found = &recs[i];
    }
    return found;
}

/* The connection from peer `port` on worker k, or NULL (a fault). */
static tm_conn *conn_from_port(tm_worker *k, uint16_t port)
{
    tm_conn *c = tm_find_by_peer_port(k, port);
    if (!c) tm_fault(k->env, "worker %u has no connection from port %u", k->index, port);
    return c;
}

typedef struct {
    uint16_t port;
    fp_close_mode mode;
} close_cmd;

static void close_by_port(tm_worker *k, void *arg)
{
    close_cmd *cmd = arg;
    tm_conn *c = conn_from_port(k, cmd->port);
    if (!c) return;
    tm_close(c, cmd->mode);
    fp_span span;
    fp_status st = k->env->vt->tx_reserve(c->conn, 10, &span);
    if (st != FP_ECLOSED)
        tm_fault(k->env, "tx_reserve right after close_conn: %s, not FP_ECLOSED", fp_strerror(st));
}

typedef struct {
    uint16_t port;
    uint64_t len;
} queue_cmd;

static void queue_pattern_by_port(tm_worker *k, void *arg)
{
    queue_cmd *cmd = arg;
    tm_conn *c = conn_from_port(k, cmd->port);
    if (!c) return;
    c->echo = false;
    tm_queue_pattern(c, cmd->len);
}

/* ---- accepts spread over workers ---- */

enum {
    SPREAD_BATCH = 8,
    SPREAD_MIN_PEERS = 16,
    SPREAD_MAX_PEERS = 64,
    SPREAD_ECHO_BYTES = 16384,
    SPREAD_BLAST_BYTES = 1 << 20,
};

/* How the spread test ends each connection. */
typedef enum {
    END_PEER_FIN_FIRST, /* peer shuts down; on_eof closes gracefully */
    END_GRACEFUL,       /* the engine closes gracefully; the peer answers the FIN */
    END_ABORT,          /* the engine aborts */
} end_kind;

static end_kind end_kind_of(size_t i)
{
    return (end_kind)(i % 3);
}

START_TEST(test_accepts_spread_over_two_workers_and_every_callback_runs_on_the_owner)
{
    /* A small send pool makes the blast below hit FP_EAGAIN, so
     * on_writable is exercised too. */
    const fp_kv opts[] = {{"send_pool_max", "256K"}, {"sndbuf", "16K"}};
    const tm_config cfg = {.workers = 2,
                           .opts = opts,
                           .n_opts = 2,
                           .echo_accepted = true,
                           .close_on_eof_accepted = true};
    tm_env e;
    tm_start(&e, &cfg);
    tm_listen(&e, FP_AF_INET);

    /* The transport decides the spread (the kernel hashes SO_REUSEPORT
     * sockets, an acceptor may hand out round-robin): connect in batches
     * until both workers own some, within a bound. */
    int fds[SPREAD_MAX_PEERS];
    size_t n = 0, on_worker[2] = {0, 0};
    int64_t end = th_now_ms() + 4 * WAIT_MS;
    while (n < SPREAD_MAX_PEERS) {
        for (int j = 0; j < SPREAD_BATCH; j++) fds[n++] = th_peer_connect(&e.listen_addr, 0);
        ck_assert_msg(tm_wait_accepted(&e, n, WAIT_MS), "not all %zu peers were accepted", n);
        for (unsigned w = 0; w < 2; w++) on_worker[w] = tm_snapshot(&e.workers[w], NULL, 0);
        bool spread = on_worker[0] > 0 && on_worker[1] > 0;
        if ((spread && n >= SPREAD_MIN_PEERS) || th_now_ms() > end) break;
    }
    ck_assert_msg(on_worker[0] > 0 && on_worker[1] > 0,
                  "%zu connections: worker 0 accepted %zu, worker 1 accepted %zu", n,
                  on_worker[0], on_worker[1]);
    ck_assert_uint_eq(on_worker[0] + on_worker[1], n);

    /* every peer has exactly one record, on one worker */
    static tm_conn recs[2][TM_MAX_CONNS];
    size_t n_recs[2];
    for (unsigned w = 0; w < 2; w++) n_recs[w] = tm_snapshot(&e.workers[w], recs[w], TM_MAX_CONNS);
    unsigned owner[SPREAD_MAX_PEERS];
    uint16_t port[SPREAD_MAX_PEERS];
    for (size_t i = 0; i < n; i++) {
        port[i] = th_local_port(fds[i]);
        const tm_conn *r0 = record_for_port(recs[0], n_recs[0], port[i]);
        const tm_conn *r1 = record_for_port(recs[1], n_recs[1], port[i]);
        ck_assert_msg((r0 != NULL) != (r1 != NULL), "peer %zu is owned by %s worker", i,
                      r0 ? "more than one" : "no");
        owner[i] = r0 ? 0 : 1;
    }

    /* echo through every connection, each with its own bytes */
    static uint8_t out[SPREAD_ECHO_BYTES], back[SPREAD_ECHO_BYTES];
    for (size_t i = 0; i < n; i++) {
        fill_pattern(out, sizeof(out), stream_base(i));
        ck_assert(tm_peer_send_all(fds[i], out, sizeof(out), WAIT_MS));
        ck_assert_msg(tm_peer_recv_exact(fds[i], back, sizeof(back), WAIT_MS), "no echo on %zu", i);
        ck_assert_mem_eq(out, back, sizeof(out));
    }

    /* one connection per worker sends more than the send pool holds: the
     * rest goes out from on_writable, on that worker's thread */
    size_t blasted[2];
    for (unsigned w = 0; w < 2; w++) {
        size_t i = 0;
        while (owner[i] != w) i++;
        blasted[w] = i;
        queue_cmd q = {port[i], SPREAD_BLAST_BYTES};
        tm_call(&e.workers[w], queue_pattern_by_port, &q);
    }
    for (unsigned w = 0; w < 2; w++) {
        uint64_t bad = 0;
        ck_assert_msg(peer_read_pattern(fds[blasted[w]], 0, SPREAD_BLAST_BYTES, &bad),
                      "worker %u's blast stalled", w);
        ck_assert_uint_eq(bad, 0);
    }

    /* close every connection, three ways */
    for (size_t i = 0; i < n; i++)
        if (end_kind_of(i) == END_PEER_FIN_FIRST) ck_assert_int_eq(shutdown(fds[i], TH_SHUT_WR), 0);
    for (size_t i = 0; i < n; i++) {
        if (end_kind_of(i) == END_PEER_FIN_FIRST) continue;
        close_cmd c = {port[i], end_kind_of(i) == END_ABORT ? FP_CLOSE_ABORT : FP_CLOSE_GRACEFUL};
        tm_call(&e.workers[owner[i]], close_by_port, &c);
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t extra = 0;
        tm_peer_end how = tm_peer_wait_end(fds[i], &extra, NULL, NULL, WAIT_MS);
        if (end_kind_of(i) == END_ABORT) {
            ck_assert_msg(how == TM_PEER_RESET, "aborted connection %zu ended with %s", i,
                          tm_peer_end_name(how));
        } else {
            ck_assert_msg(how == TM_PEER_FIN, "connection %zu ended with %s, not a FIN", i,
                          tm_peer_end_name(how));
            ck_assert_uint_eq(extra, 0);
        }
        th_socket_close(fds[i]);
    }
    ck_assert_msg(tm_wait_all_closed(&e, WAIT_MS), "an on_closed is missing");
    settle(&e);

    for (unsigned w = 0; w < 2; w++) n_recs[w] = tm_snapshot(&e.workers[w], recs[w], TM_MAX_CONNS);
    for (size_t i = 0; i < n; i++) {
        const tm_conn *c = record_for_port(recs[owner[i]], n_recs[owner[i]], port[i]);
        ck_assert_ptr_nonnull(c);
        ck_assert_int_eq(c->closed_count, 1);
        ck_assert_int_eq(c->calls_after_close, 0);
        ck_assert_int_eq(c->input_after_close_request, 0);
        ck_assert_int_eq(c->closed_why, FP_OK);
        bool was_blasted = i == blasted[0] || i == blasted[1];
        ck_assert_uint_eq(c->rx_bytes, SPREAD_ECHO_BYTES);
        ck_assert_uint_eq(c->committed, SPREAD_ECHO_BYTES + (was_blasted ? SPREAD_BLAST_BYTES : 0));
        if (end_kind_of(i) != END_ABORT) ck_assert_uint_eq(c->sent, c->committed);
        if (end_kind_of(i) == END_PEER_FIN_FIRST) ck_assert_int_eq(c->eof_count, 1);
        if (was_blasted) {
            ck_assert_int_ge(c->eagain_count, 1);
            ck_assert_int_ge(c->writable_count, 1);
        }
    }
    tm_assert_contract(&e);
    /* the thread checks above covered every callback an accepted connection gets */
    const tm_callback exercised[] = {TM_ON_ACCEPTED, TM_ON_RECV,     TM_ON_EOF,
                                     TM_ON_SENT,     TM_ON_WRITABLE, TM_ON_CLOSED};
    for (size_t i = 0; i < sizeof(exercised) / sizeof(exercised[0]); i++)
        ck_assert_uint_gt(atomic_load(&e.seen[exercised[i]]), 0);
    tm_stop(&e);
}
END_TEST

/* ---- wake() from another thread during closes ---- */

enum {
    HAMMER_BURST = 32,
    HAMMER_MAX_WAKES = 4000000,
    CLOSING_CONNS = 16,
    CLOSING_QUEUED = 256 << 10,
};

typedef struct {
    tm_worker *k;
    atomic_bool stop;
    atomic_uint answered;   /* a wake after which the worker completed an iteration */
    atomic_uint unanswered; /* a wake after which it did not, within the bound */
    unsigned wakes;         /* the hammer thread's own */
} wake_hammer;

/* Bursts of wake(), then one more whose effect it waits for: with the
 * worker in poll(-1) and nothing else to do, only that wake can end it. */
static void *hammer_wakes(void *arg)
{
    wake_hammer *h = arg;
    const fp_transport_vtbl *vt = h->k->env->vt;
    while (!atomic_load(&h->stop) && h->wakes < HAMMER_MAX_WAKES) {
        for (int i = 0; i < HAMMER_BURST; i++) vt->wake(h->k->w);
        uint64_t seen = tm_iterations(h->k);
        vt->wake(h->k->w);
        h->wakes += HAMMER_BURST + 1;
        if (tm_wait_iteration_after(h->k, seen, WAIT_MS))
            atomic_fetch_add(&h->answered, 1);
        else
            atomic_fetch_add(&h->unanswered, 1);
    }
    return NULL;
}

static bool hammer_answered_at_least(wake_hammer *h, unsigned n, int max_ms)
{
    int64_t end = th_now_ms() + max_ms;
    while (atomic_load(&h->answered) < n) {
        if (th_now_ms() > end || atomic_load(&h->unanswered) > 0) return false;
        struct timespec ts = {0, 1000 * 1000}; /* pacing of a bounded loop */
        nanosleep(&ts, NULL);
    }
    return true;
}

static fp_close_mode closing_mode(size_t i)
{
    return i % 2 ? FP_CLOSE_ABORT : FP_CLOSE_GRACEFUL;
}

START_TEST(test_wake_from_another_thread_while_connections_close_with_data_queued)
{
    /* small kernel buffers both sides: most of what is queued stays in
     * the transport when the close comes */
    const fp_kv opts[] = {{"sndbuf", "16K"}};
    const tm_config cfg = {.workers = 1, .opts = opts, .n_opts = 1};
    tm_env e;
    tm_start(&e, &cfg);
    tm_listen(&e, FP_AF_INET);
    tm_worker *k = &e.workers[0];

    int fds[CLOSING_CONNS];
    uint16_t port[CLOSING_CONNS];
    for (size_t i = 0; i < CLOSING_CONNS; i++) {
        fds[i] = th_peer_connect(&e.listen_addr, 4096);
        port[i] = th_local_port(fds[i]);
    }
    ck_assert(tm_wait_accepted(&e, CLOSING_CONNS, WAIT_MS));
    for (size_t i = 0; i < CLOSING_CONNS; i++) {
        queue_cmd q = {port[i], CLOSING_QUEUED};
        tm_call(k, queue_pattern_by_port, &q);
    }

    wake_hammer h = {.k = k};
    atomic_init(&h.stop, false);
    atomic_init(&h.answered, 0);
    atomic_init(&h.unanswered, 0);
    pthread_t hammer;
    ck_assert_int_eq(pthread_create(&hammer, NULL, hammer_wakes, &h), 0);
    ck_assert_msg(hammer_answered_at_least(&h, 5, WAIT_MS), "the worker stopped answering wakes");

    for (size_t i = 0; i < CLOSING_CONNS; i++) {
        close_cmd c = {port[i], closing_mode(i)};
        tm_call(k, close_by_port, &c);
    }
    for (size_t i = 0; i < CLOSING_CONNS; i++) {
        uint64_t got = 0, offset = 0, bad = 0;
        tm_peer_end how = tm_peer_wait_end(fds[i], &got, &offset, &bad, WAIT_MS);
        ck_assert_uint_eq(bad, 0); /* what arrived is the stream's start, in order */
        if (closing_mode(i) == FP_CLOSE_GRACEFUL) {
            ck_assert_msg(how == TM_PEER_FIN, "graceful close %zu ended with %s", i,
                          tm_peer_end_name(how));
            ck_assert_uint_eq(got, CLOSING_QUEUED);
        } else {
            ck_assert_msg(how == TM_PEER_RESET, "abort %zu ended with %s", i,
                          tm_peer_end_name(how));
            ck_assert_uint_lt(got, CLOSING_QUEUED); /* the queue was dropped */
        }
        th_socket_close(fds[i]);
    }
    ck_assert_msg(tm_wait_all_closed(&e, WAIT_MS), "an on_closed is missing");

    /* nothing but wakes moves the worker now: each must still end its poll */
    unsigned answered = atomic_load(&h.answered);
    ck_assert_msg(hammer_answered_at_least(&h, answered + 20, WAIT_MS),
                  "after the closes, wake() stopped ending the worker's poll");
    atomic_store(&h.stop, true);
    pthread_join(hammer, NULL);
    ck_assert_uint_eq(atomic_load(&h.unanswered), 0);
    settle(&e);

    static tm_conn recs[TM_MAX_CONNS];
    size_t n = tm_snapshot(k, recs, TM_MAX_CONNS);
    ck_assert_uint_eq(n, CLOSING_CONNS);
    for (size_t i = 0; i < CLOSING_CONNS; i++) {
        const tm_conn *c = record_for_port(recs, n, port[i]);
        ck_assert_ptr_nonnull(c);
        ck_assert_int_eq(c->closed_count, 1);
        ck_assert_int_eq(c->calls_after_close, 0);
        ck_assert_int_eq(c->input_after_close_request, 0);
        ck_assert_int_eq(c->closed_why, FP_OK);
        ck_assert_uint_eq(c->committed, CLOSING_QUEUED);
        if (closing_mode(i) == FP_CLOSE_GRACEFUL) ck_assert_uint_eq(c->sent, CLOSING_QUEUED);
    }
    tm_assert_contract(&e);
    tm_stop(&e);
}
END_TEST

/* ---- a close from inside on_recv while another worker is busy ---- */

enum {
    CLOSER_CONNS = 4, /* on worker A, graceful and abort alternating */
    BUSY_CONNS = 2,   /* on worker B, echoing all along */
    BUSY_CHUNK = 8192,
    BUSY_MAX_BYTES = 256 << 20,
    TRIGGER_BYTES = 1000,
};

typedef struct {
    int fds[BUSY_CONNS];
    atomic_bool closes_done;
    atomic_uint_fast64_t echoed; /* bytes sent, echoed and checked */
    uint64_t bad, failures;      /* the busy thread's own until joined */
    unsigned rounds_after_closes;
} busy_peers;

/* The peers of worker B: a pattern stream through each connection, every
 * echoed chunk checked, until A's closes are done and a few rounds later. */
static void *keep_echoing(void *arg)
{
    busy_peers *b = arg;
    uint8_t out[BUSY_CHUNK], in[BUSY_CHUNK];
    uint64_t offset[BUSY_CONNS] = {0};
    int64_t end = th_now_ms() + 6 * WAIT_MS;
    while (b->rounds_after_closes < 8 && th_now_ms() < end &&
           atomic_load(&b->echoed) < BUSY_MAX_BYTES) {
        bool closes_done = atomic_load(&b->closes_done);
        for (size_t j = 0; j < BUSY_CONNS; j++) {
            uint64_t at = stream_base(100 + j) + offset[j];
            fill_pattern(out, sizeof(out), at);
            if (!tm_peer_send_all(b->fds[j], out, sizeof(out), WAIT_MS) ||
                !tm_peer_recv_exact(b->fds[j], in, sizeof(in), WAIT_MS)) {
                b->failures++;
                return NULL;
            }
            if (memcmp(out, in, sizeof(in)) != 0) b->bad++;
            offset[j] += sizeof(out);
            atomic_fetch_add(&b->echoed, sizeof(out));
        }
        if (closes_done) b->rounds_after_closes++;
    }
    return NULL;
}

static fp_close_mode closer_mode(size_t i)
{
    return i % 2 ? FP_CLOSE_ABORT : FP_CLOSE_GRACEFUL;
}

START_TEST(test_close_from_inside_on_recv_on_one_worker_while_another_echoes)
{
    const tm_config cfg = {.workers = 2};
    tm_env e;
    tm_start(&e, &cfg);
    tm_worker *closer = &e.workers[0], *busy = &e.workers[1];

    /* adopt places each connection on the worker the test chooses */
    fp_addr a;
    int lfd = th_peer_listen(FP_AF_INET, &a);
    int closer_fds[CLOSER_CONNS];
    size_t closer_rec[CLOSER_CONNS];
    for (size_t i = 0; i < CLOSER_CONNS; i++) {
        closer_fds[i] = th_peer_connect(&a, 0);
        tm_conn like = {.peer_port = th_local_port(closer_fds[i]),
                        .echo = true,
                        .close_in_recv = true,
                        .close_in_recv_mode = closer_mode(i)};
        closer_rec[i] = tm_adopt(closer, th_peer_accept(lfd), &like);
    }
    busy_peers b = {.bad = 0};
    atomic_init(&b.closes_done, false);
    atomic_init(&b.echoed, 0);
    for (size_t j = 0; j < BUSY_CONNS; j++) {
        b.fds[j] = th_peer_connect(&a, 0);
        tm_conn like = {.peer_port = th_local_port(b.fds[j]), .echo = true};
        tm_adopt(busy, th_peer_accept(lfd), &like);
    }
    th_socket_close(lfd);

    pthread_t busy_thread;
    ck_assert_int_eq(pthread_create(&busy_thread, NULL, keep_echoing, &b), 0);
    int64_t end = th_now_ms() + WAIT_MS;
    while (atomic_load(&b.echoed) < 16 * BUSY_CHUNK && th_now_ms() < end) {
        struct timespec ts = {0, 1000 * 1000}; /* pacing of a bounded loop */
        nanosleep(&ts, NULL);
    }
    ck_assert_msg(atomic_load(&b.echoed) >= 16 * BUSY_CHUNK, "worker B never got busy");

    /* each of A's connections echoes what its first on_recv got, then
     * closes from inside that on_recv */
    uint64_t peer_got[CLOSER_CONNS] = {0};
    static uint8_t trigger[TRIGGER_BYTES];
    for (size_t i = 0; i < CLOSER_CONNS; i++) {
        fill_pattern(trigger, sizeof(trigger), stream_base(i));
        ck_assert(tm_peer_send_all(closer_fds[i], trigger, sizeof(trigger), WAIT_MS));
        uint64_t offset = stream_base(i), bad = 0;
        tm_peer_end how = tm_peer_wait_end(closer_fds[i], &peer_got[i], &offset, &bad, WAIT_MS);
        ck_assert_uint_eq(bad, 0);
        if (closer_mode(i) == FP_CLOSE_GRACEFUL) {
            ck_assert_msg(how == TM_PEER_FIN, "graceful close %zu ended with %s", i,
                          tm_peer_end_name(how));
            /* input after the close is discarded, never delivered */
            ck_assert(tm_peer_send_all(closer_fds[i], "late", 4, WAIT_MS));
        } else {
            ck_assert_msg(how == TM_PEER_RESET, "abort %zu ended with %s", i,
                          tm_peer_end_name(how));
        }
        th_socket_close(closer_fds[i]);
    }
    ck_assert_msg(tm_wait(closer, tm_all_closed, NULL, WAIT_MS), "an on_closed is missing on A");
    atomic_store(&b.closes_done, true);
    pthread_join(busy_thread, NULL);
    ck_assert_uint_eq(b.failures, 0);
    ck_assert_uint_eq(b.bad, 0);
    ck_assert_msg(b.rounds_after_closes >= 8, "worker B stopped echoing (%llu bytes)",
                  (unsigned long long)atomic_load(&b.echoed));
    settle(&e);

    static tm_conn recs[TM_MAX_CONNS];
    size_t n = tm_snapshot(closer, recs, TM_MAX_CONNS);
    ck_assert_uint_eq(n, CLOSER_CONNS);
    for (size_t i = 0; i < CLOSER_CONNS; i++) {
        const tm_conn *c = &recs[closer_rec[i]];
        ck_assert_int_eq(c->closed_count, 1);
        ck_assert_int_eq(c->calls_after_close, 0);
        ck_assert_int_eq(c->input_after_close_request, 0);
        ck_assert_int_eq(c->closed_why, FP_OK);
        ck_assert_uint_gt(c->rx_at_close_request, 0);
        if (closer_mode(i) == FP_CLOSE_GRACEFUL) {
            /* what on_recv queued before closing went out before the FIN */
            ck_assert_uint_eq(peer_got[i], c->rx_at_close_request);
            ck_assert_uint_eq(c->sent, c->committed);
        }
    }
    n = tm_snapshot(busy, recs, TM_MAX_CONNS);
    ck_assert_uint_eq(n, BUSY_CONNS);
    uint64_t busy_rx = 0;
    for (size_t j = 0; j < BUSY_CONNS; j++) {
        ck_assert_int_eq(recs[j].closed_count, 0);
        busy_rx += recs[j].rx_bytes;
    }
    ck_assert_uint_eq(busy_rx, atomic_load(&b.echoed));
    tm_assert_contract(&e);
    for (size_t j = 0; j < BUSY_CONNS; j++) th_socket_close(b.fds[j]);
    tm_stop(&e);
}
END_TEST

TCase *contract_multiworker_tcase(void)
{
    TCase *tc = tcase_create("multiworker");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_accepts_spread_over_two_workers_and_every_callback_runs_on_the_owner);
    tcase_add_test(tc, test_wake_from_another_thread_while_connections_close_with_data_queued);
    tcase_add_test(tc, test_close_from_inside_on_recv_on_one_worker_while_another_echoes);
    return tc;
}
