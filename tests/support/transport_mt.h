/*
 * transport_mt.h - drives several transport workers, each on its own thread
 * running the engine loop (poll, commands, flush), for the multi-worker
 * cases of the transport contract suite.
 *
 * The test thread is the control thread (open, listen, close) and the peer
 * (plain loopback sockets). It never touches a worker's connection records
 * while that worker runs: it hands the worker a function to run on its own
 * thread between two polls (tm_call), the way the engine's mailbox does, so
 * every record is read and written on one thread and the hand-off orders
 * what the test sees. A race TSan reports is then the transport's.
 *
 * Every callback checks that it runs on the thread of the worker owning
 * the connection, from inside that worker's poll(), and not from inside
 * another method the harness called (close_conn, tx_reserve...).
 * Violations are counted, never asserted inside the callback, and
 * tm_assert_contract() reports them on the test thread.
 */
#ifndef FP_TESTS_TRANSPORT_MT_H
#define FP_TESTS_TRANSPORT_MT_H

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fastport/transport.h"

#define TM_MAX_WORKERS 4
#define TM_MAX_CONNS 128 /* per worker */

typedef struct tm_env tm_env;
typedef struct tm_worker tm_worker;

typedef enum tm_callback {
    TM_ON_ACCEPTED,
    TM_ON_CONNECTED,
    TM_ON_RECV,
    TM_ON_EOF,
    TM_ON_SENT,
    TM_ON_WRITABLE,
    TM_ON_CLOSED,
    TM_CALLBACKS
} tm_callback;

/* One connection as its worker saw it (the conn_user). Read and written
 * only on the owning worker's thread; records outlive the connection so a
 * callback after on_closed is counted, not a use-after-free. */
typedef struct tm_conn {
    tm_worker *owner;
    fp_tconn *conn;
    uint16_t peer_port; /* the peer socket's own port: pairs the record with its fd */

    int eof_count;
    int closed_count;
    int writable_count;
    int recv_calls;
    int calls_after_close;         /* any callback once on_closed was delivered */
    int input_after_close_request; /* on_recv or on_writable after close_conn */
    fp_status closed_why;
    uint64_t rx_bytes;
    uint64_t rx_at_close_request; /* rx_bytes when the harness called close_conn */
    uint64_t committed;           /* bytes handed to tx_commit */
    uint64_t sent;                /* sum of on_sent */
    int eagain_count;             /* tx_reserve answered FP_EAGAIN */
    bool close_requested;

    /* behaviour */
    bool echo;                  /* send every received byte back */
    bool close_on_eof;          /* close_conn(GRACEFUL) from inside on_eof */
    bool close_in_recv;         /* close_conn(close_in_recv_mode) from inside on_recv */
    fp_close_mode close_in_recv_mode;

    /* what still waits for send memory (tx_reserve gave FP_EAGAIN) */
    uint8_t *echo_backlog;
    size_t backlog_off, backlog_len, backlog_cap;
    uint64_t pattern_left; /* th_pattern bytes still to queue */
    uint64_t pattern_off;  /* stream offset of the next one */
} tm_conn;

struct tm_worker {
    tm_env *env;
    unsigned index;
    pthread_t thread; /* the test thread's handle, for join */
    pthread_t self;   /* set by the worker thread itself before it reports started */
    fp_tworker *w;
    atomic_bool stop;
    atomic_uint_fast64_t iterations; /* loop iterations: poll, commands, flush */

    pthread_mutex_t lock; /* the command hand-off and start-up report */
    pthread_cond_t cond;
    void (*cmd)(tm_worker *, void *);
    void *cmd_arg;
    bool cmd_pending;
    bool started;
    fp_status open_status;
    bool may_close; /* no wake() of the test thread's is still running */

    /* the worker thread's own */
    bool in_poll;
    int in_method; /* > 0 while the harness is inside another transport method */
    tm_conn *conns[TM_MAX_CONNS];
    size_t n_conns;
    bool listening;
};

typedef struct tm_config {
    unsigned workers;
    const fp_kv *opts;
    size_t n_opts;
    bool echo_accepted;         /* accepted connections echo */
    bool close_on_eof_accepted; /* ... and close gracefully on the peer's FIN */
} tm_config;

struct tm_env {
    void *dl;
    const fp_transport_vtbl *vt;
    fp_transport_events events;
    fp_transport_host host;
    fp_transport *t;
    fp_tlistener *l;
    fp_addr listen_addr;
    tm_config cfg; /* fixed before any worker thread starts */

    unsigned n_workers;
    tm_worker workers[TM_MAX_WORKERS];

    atomic_uint seen[TM_CALLBACKS];         /* how often each callback ran */
    atomic_uint wrong_thread[TM_CALLBACKS]; /* ... on a thread that is not the owner's */
    atomic_uint outside_poll[TM_CALLBACKS]; /* ... on the owner's thread, outside its poll() */
    atomic_uint in_method[TM_CALLBACKS];    /* ... from inside a method a callback called */
    atomic_uint faults;                     /* harness failures on a worker thread */
    atomic_uint log_lines;
    pthread_mutex_t fault_lock;
    char first_fault[256];
};

/* Loads the transport named by th_transport_name, opens it with cfg->opts
 * and starts cfg->workers worker threads, each opening its worker on its
 * own thread; they loop poll(-1), so only I/O and wake() move them. */
void tm_start(tm_env *e, const tm_config *cfg);

/* Listens on the loopback of `family`, port 0 (control thread), then
 * starts accepting on every worker, each on its own thread. */
void tm_listen(tm_env *e, int family);

/* Stops accepting, stops and joins every worker (worker_close runs on its
 * thread), closes the listener and the transport, frees the records. */
void tm_stop(tm_env *e);

/* Runs fn(k, arg) on k's thread between two polls and returns once it has
 * run (asserting it did within a bound): wake() is what gets it there. */
void tm_call(tm_worker *k, void (*fn)(tm_worker *, void *), void *arg);

/* Calls done(k, ctx) on k's thread until it is true or max_ms passed. */
bool tm_wait(tm_worker *k, bool (*done)(tm_worker *, void *), void *ctx, int max_ms);

/* Waits until the workers have accepted `n` connections between them. */
bool tm_wait_accepted(tm_env *e, size_t n, int max_ms);

/* A tm_wait predicate: every record of k got on_closed. */
bool tm_all_closed(tm_worker *k, void *ctx);

/* Waits until every record of every worker got on_closed. */
bool tm_wait_all_closed(tm_env *e, int max_ms);

/* Copies k's records on its thread (at most `max`, 0 to only count);
 * returns how many k has. */
size_t tm_snapshot(tm_worker *k, tm_conn *out, size_t max);

/* Loop iterations k has completed (any thread). */
uint64_t tm_iterations(tm_worker *k);

/* Waits, from any thread, until k completes an iteration after `seen`. */
bool tm_wait_iteration_after(tm_worker *k, uint64_t seen, int max_ms);

/* Adopts the connected socket `fd` on k (on k's thread) with a record
 * whose peer_port and behaviour fields are copied from `like`; returns
 * the record's index in k. */
size_t tm_adopt(tm_worker *k, int fd, const tm_conn *like);

/* ---- on a worker's thread (inside tm_call or a callback) ---- */

/* The record of k whose peer socket has local port `port`, or NULL. */
tm_conn *tm_find_by_peer_port(tm_worker *k, uint16_t port);

/* Queues `len` more pattern bytes; what tx_reserve refuses with FP_EAGAIN
 * is queued from on_writable. */
void tm_queue_pattern(tm_conn *c, uint64_t len);

/* close_conn, noting the request in the record. */
void tm_close(tm_conn *c, fp_close_mode mode);

/* Reports a harness failure seen on a worker thread. */
void tm_fault(tm_env *e, const char *fmt, ...);

/* ---- on the test thread ---- */

/* Asserts no callback ran on a foreign thread, outside poll() or inside
 * another method, and no worker-side fault. */
void tm_assert_contract(tm_env *e);

/* ---- the peer side (any thread; they assert nothing) ---- */

typedef enum tm_peer_end {
    TM_PEER_FIN,     /* read returned 0 */
    TM_PEER_RESET,   /* read failed (ECONNRESET and the like) */
    TM_PEER_TIMEOUT, /* neither within the bound */
} tm_peer_end;

const char *tm_peer_end_name(tm_peer_end end);

/* Writes all of `data` to the non-blocking `fd`; false on error or bound. */
bool tm_peer_send_all(int fd, const void *data, size_t len, int max_ms);

/* Reads exactly `n` bytes; false on EOF, error or bound. */
bool tm_peer_recv_exact(int fd, void *buf, size_t n, int max_ms);

/* Reads until the stream ends, counting what arrived in *extra and, when
 * `pattern_off` is not NULL, checking it continues th_pattern from
 * *pattern_off (advanced; mismatches counted in *bad). */
tm_peer_end tm_peer_wait_end(int fd, uint64_t *extra, uint64_t *pattern_off, uint64_t *bad,
                             int max_ms);

/* The multi-worker cases of the contract suite (check_transport_mt.c). */
TCase *contract_multiworker_tcase(void);

#endif
