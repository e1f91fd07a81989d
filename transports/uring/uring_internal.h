/*
 * uring_internal.h - state shared by the files of the io_uring transport.
 *
 * One worker = one ring, touched only by its thread (wake() only writes an
 * eventfd whose read is kept armed in the ring). Every SQE carries
 * (op kind, slot, generation) in its user_data, so a completion is matched
 * to the object that issued it without a pointer, and one for a freed or
 * reused object is counted and dropped.
 *
 * Callbacks are delivered only from poll(): completions are reaped there,
 * and work found elsewhere (a close from close_conn, memory freed for
 * waiting writers, bytes held while paused) is parked on a worker list
 * that the next poll() delivers without blocking.
 */
#ifndef FP_URING_INTERNAL_H
#define FP_URING_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "fastport/transport.h"
#include "posix_socket.h"
#include "list.h"
#include "uring_compat.h"

/* ---- settings (filled from --transport-opt) ---- */

typedef struct ur_settings {
    uint64_t backlog;
    uint64_t sq_entries;
    uint64_t cq_entries;     /* 0: four times sq_entries */
    uint64_t recv_buf_size;  /* bytes per provided receive buffer */
    uint64_t recv_buf_count; /* provided buffers per worker (power of two) */
    uint64_t pool_size;      /* bytes per registered send region (0: derived) */
    uint64_t slot_size;      /* bytes per send slice (power of two) */
    uint64_t pool_max;       /* send memory per worker */
    uint64_t send_pool_max;  /* the epoll name for pool_max (0: not given) */
    uint64_t recv_multishot; /* 0: one recv per completion (older kernels) */
    uint64_t lend;           /* 0: tx_lend refuses, the engine copies */
    uint64_t nodelay;
    uint64_t sndbuf; /* 0: kernel default */
    uint64_t rcvbuf;
} ur_settings;

struct fp_transport {
    const fp_transport_host *host;
    ur_settings set;
};

/* ---- user_data: kind (8 bits) | slot (24 bits) | generation (32 bits) ---- */

typedef enum ur_op {
    UR_OP_WAKE = 1,
    UR_OP_ACCEPT,
    UR_OP_ACCEPT_CANCEL,
    UR_OP_RECV,
    UR_OP_SEND,
    UR_OP_CONNECT,
    UR_OP_CANCEL /* a connection's cancel request: its own CQE counts as an op */
} ur_op;

static inline uint64_t ur_ud(ur_op op, uint32_t slot, uint32_t gen)
{
    return ((uint64_t)op << 56) | ((uint64_t)(slot & 0xffffffu) << 32) | gen;
}
static inline ur_op ur_ud_op(uint64_t ud) { return (ur_op)(ud >> 56); }
static inline uint32_t ur_ud_slot(uint64_t ud) { return (uint32_t)(ud >> 32) & 0xffffffu; }
static inline uint32_t ur_ud_gen(uint64_t ud) { return (uint32_t)ud; }

#define UR_SLOT_MAX 0xffffffu

/* ---- send memory: registered regions carved into slices ---- */

#define UR_RESERVE_MAX 65536u /* any reservation <= 65535 fits one chunk */

/* A run of contiguous slices of one region, or (region UR_CHUNK_LENT)
 * bytes lent from receive buffer `first_slot`: the unit a connection
 * queues. */
#define UR_CHUNK_LENT UINT32_MAX

typedef struct ur_chunk {
    struct ur_chunk *next;
    uint8_t *data;
    uint32_t start; /* first unsent byte */
    uint32_t end;   /* end of committed bytes */
    uint32_t cap;
    uint32_t region;
    uint32_t first_slot;
    uint32_t n_slots;
} ur_chunk;

typedef struct ur_region {
    uint8_t *base;
    size_t bytes;
    uint32_t n_slots;
    uint32_t free_slots;
    uint64_t *free_bits; /* bit set: slot free */
    ur_chunk *chunks;    /* descriptor of the run starting at slot i */
    int buf_index;       /* fixed-buffer table index, -1 when unregistered */
} ur_region;

typedef struct ur_pool {
    size_t slot_size;
    size_t region_bytes;
    size_t max_bytes;
    uint32_t max_regions;
    ur_region *regions;
    uint32_t n_regions;
    uint32_t hint; /* region tried first */
    bool registered_table; /* a sparse fixed-buffer table exists */
    bool exhausted;        /* warned; cleared when slices come back */
    uint64_t allocated, high_water; /* bytes in chunks owned by connections */
    uint64_t exhaustions, registrations, register_failures;
} ur_pool;

/* ---- provided receive buffers ---- */

typedef struct ur_bufring {
    struct io_uring_buf_ring *ring;
    size_t ring_bytes;
    uint8_t *bufs;
    size_t bufs_bytes;
    uint32_t buf_size;
    uint32_t count;
    int mask;
    uint16_t bgid;
    bool registered;
    /* Buffers not in the ring wait on a LIFO stack, and the ring holds only
     * `target` of them: the kernel consumes the ring in FIFO order, so a
     * short ring refilled from the top of the stack keeps reusing the same
     * few (cache-hot) buffers. ENOBUFS doubles the target. */
    uint16_t *stack;
    uint32_t stack_len;
    uint32_t in_ring;
    uint32_t target;
    uint32_t target_max; /* high-water of target */
    uint32_t calm;      /* recycles since the last ENOBUFS */
    uint32_t avg_fill;  /* running mean of bytes written per buffer */
    uint32_t window_recycles, window_enobufs; /* ENOBUFS pressure, per window */
    /* Lending (tx_lend): a buffer with bytes queued for sending stays out
     * of the ring until the last of them is sent; `parked_fill` keeps the
     * fill it was returned with (+1; 0: not parked). */
    uint16_t *lends;
    uint32_t *parked_fill;
    uint32_t lent_buffers, lent_max;
} ur_bufring;

/* ---- connections ---- */

typedef enum ur_conn_state {
    UR_CONN_FREE = 0,
    UR_CONN_CONNECTING,
    UR_CONN_OPEN,
    UR_CONN_DRAINING, /* graceful close: sending what was committed */
    UR_CONN_LINGER,   /* FIN sent: discarding input until the peer's FIN */
    UR_CONN_CLOSING,  /* waiting for every operation's completion */
    UR_CONN_DEAD      /* fd closed; on_closed waits on the notify list */
} ur_conn_state;

#define UR_IOV_MAX 64

/* The sendmsg of a send in flight: taken from the worker when a send is
 * submitted and given back at its completion, so idle connections carry
 * no iovec array. */
typedef struct ur_txmsg {
    struct ur_txmsg *next;
    struct msghdr msg;
    struct iovec iov[UR_IOV_MAX];
} ur_txmsg;

/* Bytes received while paused, delivered on resume before anything newer. */
typedef struct ur_stash {
    uint8_t *data;
    size_t off, len, cap;
} ur_stash;

struct fp_tconn {
    int fd;
    ur_conn_state state;
    uint32_t slot;
    uint32_t gen;
    unsigned ops; /* operations whose final completion is still due */
    fp_tworker *w;
    void *user;

    bool paused;
    bool recv_armed;       /* a multishot recv is outstanding */
    bool recv_cancelling;  /* a cancel for it is outstanding */
    bool eof_seen;         /* recv returned 0 */
    bool eof_delivered;
    bool send_inflight;
    bool reserving;
    bool silent; /* refused by on_accepted: no callbacks at all */
    fp_status close_why;

    ur_chunk *head, *tail; /* send chain, commit order */
    size_t queued;         /* committed, not yet completed by the kernel */
    ur_txmsg *tx; /* while a send is in flight */
    ur_stash stash;

    fpt_link ready_link;  /* worker->ready: stash / eof / re-arm to do */
    fpt_link dirty_link;  /* worker->dirty: committed data for flush */
    fpt_link wait_link;   /* worker->waiters: tx_reserve said FP_EAGAIN */
    fpt_link notify_link; /* worker->notify: on_closed to deliver */
    fp_tconn *free_next;

    struct sockaddr_storage *connect_addr; /* while connecting */
    fp_addr peer;
};

/* ---- listeners ---- */

struct fp_tlistener {
    fp_transport *t;
    fp_addr addr; /* resolved: port 0 replaced by the real port */
    int backlog;
    /* The socket listen() made, for the first accept_start to take. */
    atomic_int spare_fd;
};

#define UR_MAX_ACCEPTORS 32

typedef struct ur_acceptor {
    bool in_use;
    bool armed;
    bool paused;
    int fd;
    uint32_t gen;
    fp_tlistener *l;
    int64_t resume_at_ms;
} ur_acceptor;

/* ---- workers ---- */

typedef struct ur_stats {
    uint64_t ring_enters, enters_skipped, completions, batches, batch_max;
    uint64_t sends, send_submits, send_bytes, short_sends;
    uint64_t recvs, recv_bytes, recv_arms, enobufs;
    uint64_t lends, lend_refused;
    uint64_t cq_overflow, submit_busy, stale_completions;
    uint64_t accepts, accept_errors, accept_emfile, accept_refused;
    uint64_t connects, connect_failures;
    uint64_t conns_open, peer_errors, eagain_reserve;
} ur_stats;

typedef struct ur_conn_block {
    struct ur_conn_block *next;
    size_t count;
    fp_tconn conns[];
} ur_conn_block;

struct fp_tworker {
    fp_transport *t;
    unsigned index;
    void *user;
    const fp_transport_events *ev;
    struct io_uring ring;
    bool ring_ready;
    bool ring_fd_registered;
    unsigned setup_flags;
    int wakefd;
    uint64_t wake_value;
    uint32_t wake_gen;
    bool wake_armed;
    unsigned pending_sends; /* SENDs queued since the last submit */
    bool recv_oneshot;      /* the kernel refused multishot recv (pre-6.0) */

    ur_bufring br;
    ur_pool pool;
    /* the receive buffer an on_recv is delivering right now (tx_lend) */
    const uint8_t *rx_lo, *rx_hi;
    uint16_t rx_bid;
    ur_chunk *free_lent; /* descriptors for lent chunks */

    fpt_link ready, dirty, waiters, notify;
    bool writable_due;

    ur_conn_block *blocks;
    fp_tconn *free_conns;
    ur_txmsg *free_txmsgs;
    fp_tconn **slots;
    uint32_t n_slots, cap_slots;

    ur_acceptor acceptors[UR_MAX_ACCEPTORS];
    unsigned paused_acceptors;

    ur_stats stats;
};

/* ---- uring.c ---- */
void ur_log(const fp_transport *t, fp_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Why io_uring set-up failed with -err, and what to do about it. */
void ur_explain_setup_error(int err, const char *what, char *why, size_t why_len);

/* ---- uring_worker.c ---- */
fp_status ur_worker_open(fp_transport *t, unsigned index, void *worker_user, fp_tworker **out);
void ur_worker_close(fp_tworker *w);
int ur_poll(fp_tworker *w, int timeout_ms);
void ur_wake(fp_tworker *w);
void ur_flush(fp_tworker *w);
void ur_stats_emit(fp_tworker *w, fp_stat_fn emit, void *ctx);
/* A free SQE, submitting what is queued when the ring is full; NULL only
 * when the kernel refuses submissions. */
struct io_uring_sqe *ur_sqe(fp_tworker *w);
/* Submits what is queued (no callbacks); counted. */
void ur_submit(fp_tworker *w);
/* Ring set-up with the best flags the kernel accepts; -errno on failure. */
int ur_ring_init(struct io_uring *ring, unsigned sq_entries, unsigned cq_entries, unsigned *flags_out);

/* ---- uring_bufring.c ---- */
int ur_bufring_init(ur_bufring *br, struct io_uring *ring, uint32_t buf_size, uint32_t count,
                    uint16_t bgid);
void ur_bufring_free(ur_bufring *br, struct io_uring *ring);
uint8_t *ur_bufring_addr(const ur_bufring *br, uint16_t bid);
/* The kernel filled `used` bytes of buffer `bid` and we are done with it. */
void ur_bufring_recycle(ur_bufring *br, uint16_t bid, size_t used);
/* The ring ran dry (ENOBUFS): expose more buffers from now on. */
void ur_bufring_grow(ur_bufring *br);
/* Keeps buffer `bid` out of the ring until as many unlends; false when
 * lending it would leave too few buffers to receive into. */
bool ur_bufring_lend(ur_bufring *br, uint16_t bid);
void ur_bufring_unlend(ur_bufring *br, uint16_t bid);

/* ---- uring_pool.c ---- */
void ur_pool_init(ur_pool *p, size_t slot_size, size_t region_bytes, size_t max_bytes);
/* Creates the sparse fixed-buffer table regions are registered into. */
void ur_pool_attach(ur_pool *p, struct io_uring *ring);
void ur_pool_free(ur_pool *p);
/* A chunk of at least `bytes` (<= region size); FP_EAGAIN when exhausted. */
fp_status ur_pool_take(ur_pool *p, struct io_uring *ring, size_t bytes, ur_chunk **out);
void ur_pool_release(ur_pool *p, ur_chunk *ch);
uint64_t ur_pool_capacity(const ur_pool *p);

/* ---- uring_listen.c ---- */
fp_status ur_listen(fp_transport *t, const fp_addr *addr, const fp_listen_opts *opts,
                    fp_tlistener **out, char *err, size_t err_len);
void ur_listener_addr(const fp_tlistener *l, fp_addr *out);
fp_status ur_accept_start(fp_tworker *w, fp_tlistener *l);
void ur_accept_stop(fp_tworker *w, fp_tlistener *l);
void ur_listener_close(fp_tlistener *l);
int ur_accept_complete(fp_tworker *w, uint64_t ud, int res, unsigned flags);
int ur_accept_timeout(fp_tworker *w, int timeout_ms);
int ur_accept_resume_due(fp_tworker *w);
void ur_acceptors_close_all(fp_tworker *w);

/* ---- uring_conn.c ---- */
fp_status ur_connect(fp_tworker *w, const fp_addr *addr, void *conn_user, fp_tconn **out);
fp_status ur_adopt(fp_tworker *w, fp_socket_handle handle, void *conn_user, fp_tconn **out);
void ur_close_conn(fp_tconn *c, fp_close_mode mode);
void ur_conn_peer(const fp_tconn *c, fp_addr *out);
void ur_conn_accepted(fp_tworker *w, int fd);
fp_tconn *ur_conn_lookup(fp_tworker *w, uint64_t ud);
int ur_conn_complete(fp_tconn *c, uint64_t ud, int res, unsigned flags);
void ur_conn_fail(fp_tconn *c, fp_status why);
void ur_conn_op_done(fp_tconn *c);
void ur_conn_shutdown_write(fp_tconn *c);
void ur_conn_release(fp_tconn *c);
void ur_conns_release_all(fp_tworker *w);
/* Starts closing: cancels every operation, on_closed once all completed. */
void ur_conn_terminate(fp_tconn *c, fp_status why, bool abortive);

/* ---- uring_recv.c ---- */
void ur_conn_push_ready(fp_tconn *c);
void ur_recv_arm(fp_tconn *c);
void ur_stash_drop(fp_tconn *c);
int ur_recv_complete(fp_tconn *c, int res, unsigned flags);
void ur_recv_pause(fp_tconn *c);
void ur_recv_resume(fp_tconn *c);
/* Stash, deferred on_eof and re-arm for a connection on the ready list. */
int ur_conn_run_ready(fp_tconn *c);

/* ---- uring_send.c ---- */
fp_status ur_tx_reserve(fp_tconn *c, size_t len, fp_span *out);
void ur_tx_commit(fp_tconn *c, fp_span *span, size_t used);
void ur_tx_cancel(fp_tconn *c, fp_span *span);
fp_status ur_tx_lend(fp_tconn *c, const void *data, size_t len);
/* Gives a queued chunk back: slices to the pool, lent bytes to their buffer. */
void ur_chunk_release(fp_tworker *w, ur_chunk *ch);
void ur_lent_chunks_free(fp_tworker *w);
void ur_conn_send(fp_tconn *c);
void ur_send_complete(fp_tconn *c, int res);
void ur_chain_release(fp_tconn *c);
void ur_txmsgs_free(fp_tworker *w);

#endif
