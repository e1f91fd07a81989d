/*
 * iocp_internal.h - state shared by the files of the IOCP transport.
 *
 * One worker = one I/O completion port (the transport core's fpt_port,
 * win_port.h, which also runs listening with AcceptEx and the hand-off of
 * accepted sockets between workers). The connection life cycle, deferred
 * delivery, the send chain, the slab and accept back-off are the
 * transport core's (transports/common/core.h); these files hold what
 * IOCP does differently: the zero-byte receive and reads after it, one
 * gathered WSASend per connection, ConnectEx. Send memory is the core's
 * malloc'd chunk pool (chunk_pool.h), one per worker.
 */
#ifndef FP_IOCP_INTERNAL_H
#define FP_IOCP_INTERNAL_H

#include "win_port.h" /* first: Winsock before windows.h */

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

/* ---- operations ---- */

/* fpt_port_op.kind of a connection's operations. */
typedef enum ic_op_kind { IC_OP_RECV = 1, IC_OP_SEND, IC_OP_CONNECT } ic_op_kind;

typedef fpt_port_op ic_op;

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

/* ---- workers ---- */

/* The backend's counters (after the core's and the port's; the send
 * pool's gauges last). */
#define IC_COUNTERS(X) \
    X(reads)           \
    X(recv_arms)       \
    X(short_sends)

typedef struct ic_counters {
    IC_COUNTERS(FPT_COUNTER_FIELD)
} ic_counters;

struct fp_tworker {
    fpt_worker core; /* first: the core's view */
    fp_transport *t;
    fpt_port port;

    uint8_t *rbuf;
    size_t read_size;
    uint64_t read_budget;
    uint64_t round;

    ic_txbufs *free_txbufs;
    fpt_chunk_pool pool; /* send memory, up to send_pool_max */

    ic_counters stats;
};

static inline fp_tworker *ic_worker(fpt_worker *w) { return (fp_tworker *)(void *)w; }

static inline fp_tworker *ic_port_worker(fpt_port *p) { return fpt_container_of(p, fp_tworker, port); }

/* ---- iocp_worker.c ---- */
fp_status ic_worker_open(fp_transport *t, unsigned index, void *worker_user, fp_tworker **out);
void ic_worker_close(fp_tworker *w);
int ic_poll(fp_tworker *w, int timeout_ms);
void ic_wake(fp_tworker *w);
void ic_stats_emit(fp_tworker *w, fp_stat_fn emit, void *ctx);

/* ---- iocp.c: the vtable's listening methods, onto the port's ---- */
fp_status ic_listen(fp_transport *t, const fp_addr *addr, const fp_listen_opts *opts,
                    fp_tlistener **out, char *err, size_t err_len);
fp_status ic_accept_start(fp_tworker *w, fp_tlistener *l);
void ic_accept_stop(fp_tworker *w, fp_tlistener *l);

/* ---- iocp_conn.c ---- */
fp_status ic_connect(fp_tworker *w, const fp_addr *addr, void *conn_user, fp_tconn **out);
fp_status ic_adopt(fp_tworker *w, fp_socket_handle handle, void *conn_user, fp_tconn **out);
/* A socket accepted for w (by w or handed over): a new announced connection. */
void ic_conn_accepted(fpt_port *p, SOCKET s, const fp_addr *peer);
int ic_conn_complete(fpt_port *p, const OVERLAPPED_ENTRY *e);
/* worker_close: a completion to release without delivering anything. */
void ic_conn_complete_discarded(fpt_port *p, const OVERLAPPED_ENTRY *e);
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
