/*
 * rio_internal.h - state shared by the files of the Registered I/O
 * transport.
 *
 * One worker = one I/O completion port (the core's fpt_port: wake,
 * AcceptEx listening and the hand-off, ConnectEx completions) and one RIO
 * completion queue bound to that port (RIO_IOCP_COMPLETION): RIONotify
 * arms it, the port delivers one packet with RIO_KEY_CQ, the worker
 * dequeues results in batches and arms it again. Only the worker's thread
 * touches its CQ, its request queues and its buffer pools.
 *
 * Every RIO request posted for a connection counts in the core's `ops`,
 * so a connection's memory (and the receive slice its request names)
 * stays put until its result is dequeued. A result names its connection
 * by SocketContext (the fp_tconn) and its request by RequestContext.
 *
 * Memory the kernel reads or writes is registered (RIORegisterBuffer):
 * receive slices and send chunks both come from the core's slice pool
 * (slice_pool.h) over VirtualAlloc'd regions, one RIO_BUFFERID each.
 */
#ifndef FP_RIO_INTERNAL_H
#define FP_RIO_INTERNAL_H

#include "win_port.h" /* first: Winsock before windows.h */

#include "rio_compat.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "fastport/transport.h"
#include "slice_pool.h"

/* ---- settings (filled from --transport-opt) ---- */

typedef struct rio_settings {
    fpt_sock_settings sock;    /* backlog, nodelay, sndbuf, rcvbuf */
    uint64_t recv_size;        /* bytes of the receive slice an idle connection posts */
    uint64_t recv_max;         /* ... and a busy one, filling what it posts, grows to */
    uint64_t recv_pool_size;   /* bytes per registered receive region */
    uint64_t recv_pool_max;    /* receive memory per worker */
    uint64_t pool_size;        /* bytes per registered send region */
    uint64_t slot_size;        /* send slice size */
    uint64_t pool_max;         /* send memory per worker */
    uint64_t send_pool_max;    /* alias of pool_max (0: unset) */
    uint64_t rq_sends;         /* sends outstanding per connection (request queue depth) */
    uint64_t cq_size;          /* first completion queue size; it grows */
    uint64_t completion_batch; /* results (and port entries) dequeued per call */
    uint64_t accepts_posted;   /* AcceptEx kept posted per listener */
    uint64_t lend;             /* tx_lend sends from receive slices */
} rio_settings;

struct fp_transport {
    const fp_transport_host *host;
    rio_settings set;
    fpt_win_ext ext;
    RIO_EXTENSION_FUNCTION_TABLE rio;
    HMODULE provider; /* the test provider, when FP_RIO_TEST_PROVIDER named one */
};

extern const fpt_backend rio_backend;

/* ---- rio_table.c: the function table ---- */

/* The environment variable that points rio.dll at a test provider
 * instead of Winsock's table (tests/rio_provider). */
#define RIO_TEST_PROVIDER_ENV "FP_RIO_TEST_PROVIDER"

/* Fills `table` from Winsock (or the test provider, loading it into
 * *provider), every pointer checked. On failure one line in `why` that
 * says RIO is unavailable and to use iocp. Winsock must be started. */
fp_status rio_table_load(RIO_EXTENSION_FUNCTION_TABLE *table, HMODULE *provider, char *why,
                         size_t why_len);

/* ---- completion keys and request contexts ---- */

#define RIO_KEY_CQ FPT_PORT_KEY_BACKEND /* the CQ's notification */

/* fpt_port_op.kind of a connection's port operation. */
#define RIO_OP_CONNECT 1

/* RequestContext: the receive, or a send (only their count matters: a
 * batch is released when all of it is back). */
#define RIO_REQ_RECV 1u
#define RIO_REQ_SEND 2u

#define RIO_SENDS_MAX 64

/* ---- connections ---- */

struct fp_tconn {
    fpt_conn base; /* first: the core's view */
    SOCKET s;
    RIO_RQ rq;           /* RIO_INVALID_RQ until connected */
    fpt_port_op connect; /* ConnectEx */
    fpt_chunk *rx;       /* the receive slice (posted or idle), or NULL */
    uint32_t rx_want;    /* slice size the next receive asks for */
    bool rx_posted;
    bool cq_reserved;    /* holds rq_sends + 1 entries of the CQ */
    bool commit_due;     /* deferred sends wait for this flush's commit */
    uint8_t tx_requests; /* sends of the batch in flight not yet back */
    uint32_t tx_bytes;   /* bytes of that batch */
    uint32_t tx_done;    /* bytes its results reported */
    bool tx_failed;      /* a send of the batch failed */
    int tx_error;        /* the first failure's Winsock error */
    fpt_link commit_link;
};

static inline fp_tconn *rio_conn(fpt_conn *c) { return (fp_tconn *)(void *)c; }

/* ---- workers ---- */

#define RIO_COUNTERS(X)           \
    X(rio_receives)               \
    X(rio_sends)                  \
    X(rio_sends_deferred)         \
    X(rio_commits)                \
    X(commit_flushes)             \
    X(rio_commits_max_per_flush)  \
    X(cq_notifies)                \
    X(cq_notifications)           \
    X(cq_dequeues)                \
    X(cq_results)                 \
    X(cq_results_max_per_dequeue) \
    X(cq_size)                    \
    X(cq_reserved)                \
    X(cq_resizes)                 \
    X(cq_corrupt)                 \
    X(cq_rebuilds)                \
    X(cq_full_refusals)           \
    X(rq_full)                    \
    X(rq_create_failures)         \
    X(requests_in_flight)         \
    X(recv_slices_lent)           \
    X(recv_pool_exhausted)

typedef struct rio_counters {
    RIO_COUNTERS(FPT_COUNTER_FIELD)
} rio_counters;

/* Per receive slice: how many lent chunks still point into it, and
 * whether a connection still owns it (else the last drop frees it). */
typedef struct rio_slice_state {
    uint16_t holds;
    bool owned;
} rio_slice_state;

struct fp_tworker {
    fpt_worker core; /* first: the core's view */
    fp_transport *t;
    const RIO_EXTENSION_FUNCTION_TABLE *rio;
    fpt_port port;

    RIO_CQ cq;
    uint32_t cq_entries;  /* its size */
    uint32_t cq_reserved; /* entries the live request queues may fill */
    bool cq_armed;        /* RIONotify is pending */
    OVERLAPPED notify_ov; /* what the notification's packet carries */
    RIORESULT *results;
    ULONG max_results;
    unsigned requests_in_flight; /* RIO requests whose result is still due */

    fpt_link commits; /* connections with deferred sends to commit */
    unsigned commits_this_flush;

    fpt_slice_pool recv_pool;
    rio_slice_state **slice_state; /* per receive region, per slot */
    uint64_t lent_bytes; /* receive slices held by lent chunks */
    uint64_t lend_cap;
    fpt_slice_pool send_pool;

    rio_counters stats;
};

static inline fp_tworker *rio_worker(fpt_worker *w) { return (fp_tworker *)(void *)w; }
static inline fp_tworker *rio_port_worker(fpt_port *p) { return fpt_container_of(p, fp_tworker, port); }

/* ---- rio.c ---- */
fp_status rio_listen(fp_transport *t, const fp_addr *addr, const fp_listen_opts *opts,
                     fp_tlistener **out, char *err, size_t err_len);
fp_status rio_accept_start(fp_tworker *w, fp_tlistener *l);
void rio_accept_stop(fp_tworker *w, fp_tlistener *l);

/* ---- rio_worker.c ---- */
fp_status rio_worker_open(fp_transport *t, unsigned index, void *worker_user, fp_tworker **out);
void rio_worker_close(fp_tworker *w);
int rio_poll(fp_tworker *w, int timeout_ms);
void rio_wake(fp_tworker *w);
void rio_stats_emit(fp_tworker *w, fp_stat_fn emit, void *ctx);
void rio_flush(fp_tworker *w);

/* ---- rio_cq.c: the completion queue ---- */
fp_status rio_cq_open(fp_tworker *w);
void rio_cq_close(fp_tworker *w);
/* Room in the CQ for one more request queue (growing it); false when it
 * cannot grow. */
bool rio_cq_reserve(fp_tworker *w);
void rio_cq_unreserve(fp_tworker *w);
/* Dequeues and handles every result there is; returns the work done. */
int rio_cq_drain(fp_tworker *w);
/* Arms the notification unless it is armed. */
void rio_cq_arm(fp_tworker *w);
/* Teardown: dequeues results without delivering anything. */
void rio_cq_release_all(fp_tworker *w);

/* ---- rio_pool.c: registered memory ---- */
fp_status rio_pools_open(fp_tworker *w);
void rio_pools_close(fp_tworker *w);
/* The RIO_BUF naming `len` bytes at `data` of chunk `ch` (a send chunk,
 * or lent receive bytes). */
void rio_buf_of(fp_tworker *w, const fpt_chunk *ch, const uint8_t *data, uint32_t len, RIO_BUF *out);
/* A receive slice of `bytes` (a multiple of recv_size) for a
 * connection, or NULL when the pool is exhausted. */
fpt_chunk *rio_slice_take(fp_tworker *w, uint32_t bytes);
/* The connection lets go of its slice: back to the pool unless lent. */
void rio_slice_give_back(fp_tworker *w, fpt_chunk *slice);
/* The lending token of a slice. */
uint32_t rio_slice_token(const fpt_chunk *slice);
bool rio_lend_hold(fpt_worker *w, uint32_t token);
void rio_lend_drop(fpt_worker *w, uint32_t token);
bool rio_slice_lent(fp_tworker *w, const fpt_chunk *slice);
fp_status rio_chunk_take(fpt_worker *w, size_t need, size_t want, fpt_chunk **out);
void rio_chunk_give_back(fpt_worker *w, fpt_chunk *ch);
bool rio_chunk_room(const fpt_worker *w);

/* ---- rio_conn.c ---- */
fp_status rio_connect(fp_tworker *w, const fp_addr *addr, void *conn_user, fp_tconn **out);
fp_status rio_adopt(fp_tworker *w, fp_socket_handle handle, void *conn_user, fp_tconn **out);
void rio_conn_accepted(fpt_port *p, SOCKET s, const fp_addr *peer);
int rio_port_complete(fpt_port *p, const OVERLAPPED_ENTRY *e);
void rio_port_release(fpt_port *p, const OVERLAPPED_ENTRY *e);
/* One result of the CQ. */
int rio_conn_result(fp_tworker *w, const RIORESULT *r);
/* The CQ broke: every connection with a request queue closes (why). */
void rio_conns_fail_all(fp_tworker *w, fp_status why);
/* fpt_backend hooks */
void rio_conn_cancel(fpt_conn *c);
void rio_conn_finish(fpt_conn *c);
void rio_conn_discard(fpt_conn *c);
void rio_conn_abort_socket(fpt_conn *c);
void rio_conn_shutdown_send(fpt_conn *c);

/* ---- rio_recv.c ---- */
int rio_conn_input(fpt_conn *c);
/* Posts the receive when the connection wants input; false when it
 * could not (the connection is then closing). */
bool rio_recv_post(fp_tconn *c);
int rio_recv_result(fp_tconn *c, const RIORESULT *r);

/* ---- rio_send.c ---- */
void rio_conn_send(fpt_conn *c);
int rio_send_result(fp_tconn *c, const RIORESULT *r);
/* End of flush: one commit per request queue with deferred sends. */
void rio_commit_all(fp_tworker *w);

#endif
