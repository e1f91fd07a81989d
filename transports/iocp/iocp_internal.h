/*
 * iocp_internal.h - state shared by the files of the IOCP transport.
 *
 * One worker = one I/O completion port, dequeued only by the worker's own
 * thread. Other threads only post to it: wake(), and the hand-off of a
 * socket accepted for this worker by the worker that hosts the listening
 * socket (a handle belongs to one port, so one worker runs a listener's
 * AcceptEx calls and deals the sockets out).
 *
 * Every overlapped operation is an ic_op, OVERLAPPED first, embedded in
 * the connection or accept slot that issued it, so a completion leads back
 * to its owner without a lookup. That memory stays put until the
 * completion is dequeued: the core's `ops` count holds a connection's
 * slot, a host's `pending` count holds its accept slots, and worker_close
 * waits for `ops_in_flight` to reach zero before freeing either.
 *
 * The connection life cycle, deferred delivery, the send chain, the slab
 * and accept back-off are the transport core's (transports/common/core.h);
 * these files hold what IOCP does differently: posting operations, their
 * completions and the accept hand-off. Send memory is the core's malloc'd
 * chunk pool (chunk_pool.h), one per worker.
 */
#ifndef FP_IOCP_INTERNAL_H
#define FP_IOCP_INTERNAL_H

#include "win_socket.h" /* first: Winsock before windows.h */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "chunk_pool.h"
#include "core.h"
#include "fastport/transport.h"

/* ---- settings (filled from --transport-opt) ---- */

typedef struct ic_settings {
    fpt_sock_settings sock;    /* backlog, nodelay, sndbuf, rcvbuf */
    uint64_t read_size;        /* bytes per recv() into the worker buffer */
    uint64_t read_budget;      /* bytes read per connection per poll (fairness) */
    uint64_t send_pool_max;    /* send memory per worker */
    uint64_t accepts_posted;   /* AcceptEx kept posted per listener */
    uint64_t completion_batch; /* completions dequeued per call */
} ic_settings;

struct fp_transport {
    const fp_transport_host *host;
    ic_settings set;
    fpt_win_ext ext;
};

extern const fpt_backend ic_backend;

/* ---- completions ---- */

/* What a completion's key says it is. */
typedef enum ic_key {
    IC_KEY_WAKE = 1, /* wake(): no OVERLAPPED */
    IC_KEY_HANDOFF,  /* an accepted socket for this worker: an ic_handoff */
    IC_KEY_IO        /* an overlapped operation on a socket: an ic_op */
} ic_key;

typedef enum ic_op_kind { IC_OP_RECV = 1, IC_OP_SEND, IC_OP_CONNECT, IC_OP_ACCEPT } ic_op_kind;

typedef struct ic_op {
    OVERLAPPED ov; /* first: the completion hands back its address */
    uint8_t kind;  /* ic_op_kind */
    bool pending;  /* posted, completion not yet dequeued */
} ic_op;

static inline ic_op *ic_op_of(OVERLAPPED *ov) { return (ic_op *)(void *)ov; }

/* The completion status the kernel left in the OVERLAPPED (an NTSTATUS:
 * negative is a failure), read without a system call. */
static inline bool ic_op_failed(const ic_op *op) { return (LONG)op->ov.Internal < 0; }

/* Readies `op` for posting: the kernel wants a zeroed OVERLAPPED. */
static inline void ic_op_prepare(ic_op *op, ic_op_kind kind)
{
    memset(&op->ov, 0, sizeof(op->ov));
    op->kind = (uint8_t)kind;
}

/* The Winsock error of a failed operation on `s` (INVALID_SOCKET once
 * the socket is gone: then it was cancelled). */
int ic_op_error(SOCKET s, ic_op *op);

/* ---- connections ---- */

#define IC_WSABUF_MAX 64

/* The WSABUFs of a send in flight: Winsock reads them until the send
 * completes, so they are taken from the worker for that time and idle
 * connections carry none. */
typedef struct ic_txbufs {
    struct ic_txbufs *next;
    WSABUF bufs[IC_WSABUF_MAX];
} ic_txbufs;

struct fp_tconn {
    fpt_conn base; /* first: the core's view */
    SOCKET s;
    ic_op rx;           /* the zero-byte WSARecv that waits for input */
    ic_op tx;           /* ConnectEx while connecting, then the one WSASend */
    ic_txbufs *txbufs;  /* while a send is in flight */
    size_t tx_bytes;    /* bytes the send in flight asked for */
    uint64_t budget_round; /* poll round the read budget belongs to */
    uint64_t budget_left;
};

static inline fp_tconn *ic_conn(fpt_conn *c) { return (fp_tconn *)(void *)c; }

/* ---- listeners and the accept hand-off ---- */

typedef struct ic_host ic_host;

/* A worker accepting on a listener: accepted sockets are dealt out over
 * these in turn. Owned by its worker; listed in its listener under the
 * listener's lock. */
typedef struct ic_target {
    struct ic_target *next; /* the worker's list */
    fp_tworker *w;
    fp_tlistener *l; /* referenced */
    uint32_t id;     /* names this target in a hand-off */
} ic_target;

/* The listening endpoint. Everything under `lock` is touched by the
 * control thread, the hosting worker and every target. */
struct fp_tlistener {
    fp_addr addr; /* resolved: port 0 replaced by the real port */
    int backlog;
    fpt_sock_settings sock;
    atomic_uint refs; /* listen(), each host and each target */

    SRWLOCK lock;
    SOCKET s;      /* the listening socket; INVALID_SOCKET once closed */
    ic_host *host; /* whose port `s` is bound to; NULL once closed */
    ic_target **targets;
    unsigned n_targets, cap_targets, next_target;
};

/* A socket accepted for another worker, posted to that worker's port. */
typedef struct ic_handoff {
    SOCKET s;
    fp_addr peer;
    uint32_t target_id;
} ic_handoff;

/* Room AcceptEx needs for each address: 16 bytes over the largest. */
#define IC_ACCEPT_ADDR_LEN (sizeof(struct sockaddr_storage) + 16)

typedef struct ic_accept_slot {
    ic_op op; /* the AcceptEx */
    SOCKET s; /* the socket it accepts into */
    ic_host *host;
    uint8_t addrs[2 * IC_ACCEPT_ADDR_LEN];
} ic_accept_slot;

/* A worker hosting a listening socket: its port receives the AcceptEx
 * completions. It outlives the hosting itself until every slot is back. */
struct ic_host {
    fpt_acceptor base; /* back-off: the core's view; first */
    ic_host *next;     /* the worker's list */
    fp_tworker *w;
    fp_tlistener *l;   /* referenced */
    int family;
    bool retired;      /* no longer the listener's host */
    unsigned pending;  /* AcceptEx in flight */
    unsigned n_slots;
    ic_accept_slot slots[];
};

/* ---- workers ---- */

/* The backend's counters (the core's come first, the send pool's gauges
 * last); ops_in_flight is a gauge, filled when the stats are read. */
#define IC_COUNTERS(X)      \
    X(port_waits)           \
    X(completions)          \
    X(completion_batches)   \
    X(completion_batch_max) \
    X(reads)                \
    X(recv_arms)            \
    X(short_sends)          \
    X(handoffs_out)         \
    X(handoffs_in)          \
    X(handoffs_dropped)     \
    X(accepts_posted)       \
    X(ops_in_flight)

typedef struct ic_counters {
    IC_COUNTERS(FPT_COUNTER_FIELD)
} ic_counters;

struct fp_tworker {
    fpt_worker core; /* first: the core's view */
    fp_transport *t;
    HANDLE port;
    atomic_bool wake_queued; /* a wake packet sits in the port: later wakes add none */
    unsigned ops_in_flight;  /* overlapped operations not yet dequeued */

    uint8_t *rbuf;
    size_t read_size;
    uint64_t read_budget;
    uint64_t round;
    OVERLAPPED_ENTRY *entries;
    ULONG max_entries;

    ic_target *targets;
    ic_host *hosts;
    uint32_t next_target_id;

    ic_txbufs *free_txbufs;
    fpt_chunk_pool pool; /* send memory, up to send_pool_max */

    ic_counters stats;
};

static inline fp_tworker *ic_worker(fpt_worker *w) { return (fp_tworker *)(void *)w; }

/* Counts an operation the kernel now holds (posted or completed at once:
 * either way its completion will be dequeued). */
static inline void ic_op_posted(fp_tworker *w, ic_op *op)
{
    op->pending = true;
    w->ops_in_flight++;
}

/* ---- iocp_worker.c ---- */
fp_status ic_worker_open(fp_transport *t, unsigned index, void *worker_user, fp_tworker **out);
void ic_worker_close(fp_tworker *w);
int ic_poll(fp_tworker *w, int timeout_ms);
void ic_wake(fp_tworker *w);
void ic_stats_emit(fp_tworker *w, fp_stat_fn emit, void *ctx);
/* Associates `s` with w's port; 0 or the Win32 error. */
int ic_associate(fp_tworker *w, SOCKET s);

/* ---- iocp_listen.c: the listener and its targets ---- */
fp_status ic_listen(fp_transport *t, const fp_addr *addr, const fp_listen_opts *opts,
                    fp_tlistener **out, char *err, size_t err_len);
void ic_listener_addr(const fp_tlistener *l, fp_addr *out);
void ic_listener_close(fp_tlistener *l);
fp_status ic_accept_start(fp_tworker *w, fp_tlistener *l);
void ic_accept_stop(fp_tworker *w, fp_tlistener *l);
void ic_targets_stop_all(fp_tworker *w);
void ic_listener_unref(fp_tlistener *l);
/* Under l->lock: the next target in turn, or NULL. */
ic_target *ic_listener_pick(fp_tlistener *l);
/* Under l->lock: closes the listening socket; its host's AcceptEx come
 * back aborted and retire it. */
void ic_listener_stop_hosting(fp_tlistener *l);
/* A hand-off arrived on w: the accepted connection, unless w stopped
 * accepting meanwhile. */
int ic_handoff_arrived(fp_tworker *w, ic_handoff *h);

/* ---- iocp_accept.c: hosting a listening socket ---- */
/* Under l->lock: w hosts l (binds l->s to w's port, posts the AcceptEx). */
fp_status ic_host_start(fp_tworker *w, fp_tlistener *l);
int ic_accept_complete(fp_tworker *w, ic_accept_slot *slot);
int ic_accept_resume_due(fp_tworker *w);
/* worker_close: stops hosting; the slots come back through the drain. */
void ic_hosts_stop_all(fp_tworker *w);
/* worker_close, after the drain: frees every host. */
void ic_hosts_free_all(fp_tworker *w);

/* ---- iocp_conn.c ---- */
fp_status ic_connect(fp_tworker *w, const fp_addr *addr, void *conn_user, fp_tconn **out);
fp_status ic_adopt(fp_tworker *w, fp_socket_handle handle, void *conn_user, fp_tconn **out);
/* A socket accepted for w (by w or handed over): a new announced connection. */
void ic_conn_accepted(fp_tworker *w, SOCKET s, const fp_addr *peer);
int ic_conn_complete(fp_tworker *w, ic_op *op, DWORD bytes);
/* worker_close: a completion to release without delivering anything. */
void ic_conn_complete_discarded(fp_tworker *w, ic_op *op);
/* fpt_backend hooks */
void ic_conn_cancel(fpt_conn *c);
void ic_conn_finish(fpt_conn *c);
void ic_conn_discard(fpt_conn *c);
void ic_conn_abort_socket(fpt_conn *c);
void ic_conn_shutdown_send(fpt_conn *c);

/* ---- iocp_recv.c ---- */
int ic_conn_input(fpt_conn *c);
void ic_recv_post(fp_tconn *c);
int ic_recv_complete(fp_tconn *c);

/* ---- iocp_send.c ---- */
void ic_conn_send(fpt_conn *c);
int ic_send_complete(fp_tconn *c, DWORD bytes);
void ic_txbufs_give_back(fp_tworker *w, fp_tconn *c);
void ic_txbufs_free(fp_tworker *w);
fp_status ic_chunk_take(fpt_worker *w, size_t need, size_t want, fpt_chunk **out);
void ic_chunk_give_back(fpt_worker *w, fpt_chunk *ch);
bool ic_chunk_room(const fpt_worker *w);

#endif
