/*
 * win_port.h - what every completion-port transport on Windows shares:
 * a worker's I/O completion port (batched dequeue, wake, the count of
 * operations the kernel holds, a bounded drain at close), and listening
 * with AcceptEx on one socket whose accepted connections are dealt out to
 * the accepting workers in turn (win_listen.c, win_accept.c).
 *
 * iocp.dll and rio.dll embed an fpt_port in their worker. A port belongs
 * to one worker and is dequeued only by its thread; other threads only
 * post to it: wake(), and a socket accepted for this worker by the worker
 * hosting the listening socket (a handle joins one port, so one worker
 * runs a listener's AcceptEx calls and deals the sockets out).
 *
 * Every overlapped operation is an fpt_port_op, OVERLAPPED first, inside
 * the connection or accept slot that issued it, so a completion leads
 * back to its owner without a lookup. That memory stays put until the
 * completion is dequeued: the core's `ops` count holds a connection's
 * slot, a host's `pending` count its accept slots, and the backend's
 * worker_close waits (fpt_port_drain) for `ops_in_flight` to reach zero
 * before freeing either.
 */
#ifndef FP_TRANSPORT_COMMON_WIN_PORT_H
#define FP_TRANSPORT_COMMON_WIN_PORT_H

#include "win_socket.h" /* first: Winsock before windows.h */

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core.h"

/* ---- completions ---- */

/* What a completion's key says it is. Keys from FPT_PORT_KEY_BACKEND up
 * are the backend's (rio.dll's completion-queue notification). */
typedef enum fpt_port_key {
    FPT_PORT_KEY_WAKE = 1, /* wake(): no OVERLAPPED */
    FPT_PORT_KEY_HANDOFF,  /* an accepted socket for this worker: an fpt_handoff */
    FPT_PORT_KEY_IO,       /* an overlapped operation on a socket: an fpt_port_op */
    FPT_PORT_KEY_BACKEND
} fpt_port_key;

/* fpt_port_op.kind of an AcceptEx; a backend numbers its own from 1. */
#define FPT_PORT_OP_ACCEPT 0xff

typedef struct fpt_port_op {
    OVERLAPPED ov; /* first: the completion hands back its address */
    uint8_t kind;
    bool pending; /* posted, completion not yet dequeued */
} fpt_port_op;

static inline fpt_port_op *fpt_port_op_of(OVERLAPPED *ov) { return (fpt_port_op *)(void *)ov; }

/* The completion status the kernel left in the OVERLAPPED (an NTSTATUS:
 * negative is a failure), read without a system call. */
static inline bool fpt_port_op_failed(const fpt_port_op *op) { return (LONG)op->ov.Internal < 0; }

/* Readies `op` for posting: the kernel wants a zeroed OVERLAPPED. */
static inline void fpt_port_op_prepare(fpt_port_op *op, uint8_t kind)
{
    memset(&op->ov, 0, sizeof(op->ov));
    op->kind = kind;
}

/* The Winsock error of a failed operation on `s` (INVALID_SOCKET once
 * the socket is gone: then it was cancelled). */
int fpt_port_op_error(SOCKET s, fpt_port_op *op);

/* ---- the port ---- */

/* The port's counters, emitted after the core's. ops_in_flight is a
 * gauge, filled when the stats are read. */
#define FPT_PORT_COUNTERS(X) \
    X(port_waits)            \
    X(completions)           \
    X(completion_batches)    \
    X(completion_batch_max)  \
    X(handoffs_out)          \
    X(handoffs_in)           \
    X(handoffs_dropped)      \
    X(accepts_posted)        \
    X(ops_in_flight)

typedef struct fpt_port_counters {
    FPT_PORT_COUNTERS(FPT_COUNTER_FIELD)
} fpt_port_counters;

typedef struct fpt_port fpt_port;
typedef struct fpt_port_target fpt_port_target;
typedef struct fpt_port_host fpt_port_host;

/* What a backend tells the shared port code. */
typedef struct fpt_port_backend {
    const char *name; /* "iocp": prefixes log lines */
    /* WSASocket flags of the sockets AcceptEx accepts into, beyond
     * WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT (rio.dll:
     * WSA_FLAG_REGISTERED_IO). */
    DWORD accept_socket_flags;
    /* A socket accepted for this worker (by it or handed over): the
     * backend makes it a connection and announces it, or closes it. */
    void (*conn_accepted)(fpt_port *p, SOCKET s, const fp_addr *peer);
    /* Any other completion (FPT_PORT_KEY_IO of the backend's own kinds,
     * after the in-flight count was taken down, or a backend key).
     * Returns the work done. */
    int (*complete)(fpt_port *p, const OVERLAPPED_ENTRY *e);
    /* The same while closing: release what it holds, deliver nothing. */
    void (*release)(fpt_port *p, const OVERLAPPED_ENTRY *e);
} fpt_port_backend;

struct fpt_port {
    fpt_worker *core;
    const fpt_port_backend *be;
    const fpt_win_ext *ext;
    unsigned accepts_per_listener; /* AcceptEx kept posted by a host */
    HANDLE port;
    atomic_bool wake_queued; /* a wake packet sits in the port: later wakes add none */
    unsigned ops_in_flight;  /* overlapped operations not yet dequeued */
    OVERLAPPED_ENTRY *entries;
    ULONG max_entries;

    fpt_port_target *targets;
    fpt_port_host *hosts;
    uint32_t next_target_id;

    fpt_port_counters stats;
};

/* A completion port dequeued `batch` entries at a time. */
fp_status fpt_port_open(fpt_port *p, fpt_worker *core, const fpt_port_backend *be,
                        const fpt_win_ext *ext, unsigned accepts_per_listener, unsigned batch);
/* Closes the port (after fpt_port_drain, or when abandoning it). */
void fpt_port_close(fpt_port *p);
/* Associates `s` with the port (key FPT_PORT_KEY_IO); 0 or the Win32 error. */
int fpt_port_associate(fpt_port *p, SOCKET s);
/* Any thread: makes the port's poll return (one packet at most queued). */
void fpt_port_wake(fpt_port *p);

/* Counts an operation the kernel now holds (posted or completed at once:
 * either way its completion will be dequeued). */
static inline void fpt_port_op_posted(fpt_port *p, fpt_port_op *op)
{
    op->pending = true;
    p->ops_in_flight++;
}

/* Waits up to `timeout_ms` (-1: no limit) for completions, then takes
 * full batches without waiting, a few at most, dispatching each. Returns
 * the work done, or -1 when the port failed (logged). */
int fpt_port_dispatch(fpt_port *p, int timeout_ms);
/* Posts a completion with a backend key to the port; false on failure. */
bool fpt_port_post(fpt_port *p, ULONG_PTR key, OVERLAPPED *ov);

/* worker_close: stops accepting (no hand-off reaches the port after it)
 * and hosting (AcceptEx come back aborted). */
void fpt_port_stop_accepting(fpt_port *p);
/* Waits up to `wait_ms` until every operation the kernel holds is back,
 * releasing what arrives, then empties the port. False when the bound
 * passed first: that memory must then never be freed. */
bool fpt_port_drain(fpt_port *p, int wait_ms);
/* One batch, waiting up to `wait_ms`, released (not dispatched): for a
 * backend's own drain. Returns how many, or -1 when the port failed. */
long fpt_port_release_some(fpt_port *p, int wait_ms);
/* After a drain: frees every host. */
void fpt_port_hosts_free_all(fpt_port *p);

void fpt_port_counters_emit(fpt_port *p, fp_stat_fn emit, void *ctx);

/* ---- outbound connections (ConnectEx) ---- */

/* A socket for a connect to `addr`: created with `flags` beyond the
 * usual (WSA_FLAG_REGISTERED_IO), its buffers and TCP_NODELAY set as
 * `sock` says, bound to the wildcard of the family and joined to the
 * port, as ConnectEx wants. Returns 0 or the Winsock error. */
int fpt_port_connect_socket(fpt_port *p, const fp_addr *addr, DWORD flags, const fpt_sock_settings *sock,
                            SOCKET *out);
/* Posts ConnectEx on `s` to `c`'s peer with `op` (counted in flight when
 * posted), and `c` then holds one more op. A connect refused at once is
 * reported to `c` like a late failure. */
void fpt_port_connect_post(fpt_port *p, fpt_conn *c, SOCKET s, fpt_port_op *op, uint8_t kind);
/* The connect `op` completed: 0 once the socket knows it is connected
 * (SO_UPDATE_CONNECT_CONTEXT), else the Winsock error. */
int fpt_port_connect_result(SOCKET s, fpt_port_op *op);

/* ---- listening (win_listen.c, win_accept.c) ---- */

/* Room AcceptEx needs for each address: 16 bytes over the largest. */
#define FPT_ACCEPT_ADDR_LEN (sizeof(struct sockaddr_storage) + 16)

/* A listener's listening socket is bound to the port of the first worker
 * that starts accepting on it (its host); every worker that called
 * accept_start is a target, and the host deals accepted sockets out over
 * the targets in turn. Everything under `lock` is touched by the control
 * thread, the hosting worker and every target. */
struct fp_tlistener {
    const char *who;
    fp_addr addr; /* resolved: port 0 replaced by the real port */
    int backlog;
    fpt_sock_settings sock;
    atomic_uint refs; /* listen(), each host and each target */

    SRWLOCK lock;
    SOCKET s;              /* the listening socket; INVALID_SOCKET once closed */
    fpt_port_host *host;   /* whose port `s` is bound to; NULL once closed */
    fpt_port_target **targets;
    unsigned n_targets, cap_targets, next_target;
};

/* vtable listen/listener_addr/listener_close, for backend `who`. */
fp_status fpt_port_listen(const char *who, const fpt_sock_settings *sock, const fp_addr *addr,
                          const fp_listen_opts *opts, fp_tlistener **out, char *err, size_t err_len);
void fpt_port_listener_addr(const fp_tlistener *l, fp_addr *out);
void fpt_port_listener_close(fp_tlistener *l);
/* vtable accept_start/accept_stop for the worker owning `p`. */
fp_status fpt_port_accept_start(fpt_port *p, fp_tlistener *l);
void fpt_port_accept_stop(fpt_port *p, fp_tlistener *l);
/* From poll: posts AcceptEx again where the back-off deadline passed and
 * frees retired hosts. */
void fpt_port_accept_resume_due(fpt_port *p);

#endif
