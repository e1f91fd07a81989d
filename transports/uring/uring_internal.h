/*
 * uring_internal.h - state shared by the files of the io_uring transport.
 *
 * One worker = one ring, touched only by its thread (wake() only writes an
 * eventfd whose read is kept armed in the ring). Every SQE carries
 * (op kind, slot, generation) in its user_data, so a completion is matched
 * to the object that issued it without a pointer, and one for a freed or
 * reused object is counted and dropped.
 *
 * The connection life cycle, deferred delivery, the send chain, the slab
 * and accept back-off are the transport core's (transports/common/core.h);
 * these files hold what io_uring does differently: submission, completion
 * handling, provided receive buffers and the registered send pool.
 */
#ifndef FP_URING_INTERNAL_H
#define FP_URING_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "core.h"
#include "slice_pool.h"
#include "fastport/transport.h"
#include "posix_socket.h"
#include "uring_compat.h"

/* ---- settings (filled from --transport-opt) ---- */

typedef struct ur_settings {
    fpt_sock_settings sock; /* backlog, nodelay, sndbuf, rcvbuf */
    uint64_t sq_entries;
    uint64_t cq_entries;     /* 0: four times sq_entries */
    uint64_t recv_buf_size;  /* bytes per provided receive buffer */
    uint64_t recv_buf_count; /* provided buffers per worker (power of two) */
    uint64_t pool_size;      /* bytes per registered send region (0: derived) */
    uint64_t slot_size;      /* bytes per send slice (power of two) */
    uint64_t pool_max;       /* send memory per worker */
    uint64_t send_pool_max;  /* the epoll name for pool_max (0: not given) */
    uint64_t recv_multishot; /* 0: one recv per completion (older kernels) */
    uint64_t recv_burst;     /* bytes one multishot recv may bring before it must be re-armed; 0: no cap */
    uint64_t lend;           /* 0: tx_lend refuses, the engine copies */
} ur_settings;

struct fp_transport {
    const fp_transport_host *host;
    ur_settings set;
};

extern const fpt_backend ur_backend;

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

#define UR_RESERVE_MAX FPT_RESERVE_MAX

/* A run of contiguous slices of one region (region, first_slot, n_slots),
 * or bytes lent from receive buffer `first_slot` (FPT_CHUNK_LENT). */
typedef fpt_chunk ur_chunk;

/* The core's slice pool; a region's registration id is its index in the
 * ring's fixed-buffer table. */
typedef fpt_slice_pool ur_pool;
typedef fpt_slice_region ur_region;

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
    /* Trim: buffers whose pages were given back (MADV_DONTNEED) since they
     * last held bytes, and ENOBUFS seen since the last trim. */
    uint8_t *released;
    uint32_t enobufs_since_trim;
} ur_bufring;

/* ---- connections ---- */

#define UR_IOV_MAX 64

/* The sendmsg of a send in flight: taken from the worker when a send is
 * submitted and given back at its completion, so idle connections carry
 * no iovec array. */
typedef struct ur_txmsg {
    struct ur_txmsg *next;
    struct msghdr msg;
    struct iovec iov[UR_IOV_MAX];
} ur_txmsg;

struct fp_tconn {
    fpt_conn base; /* first: the core's view */
    int fd;        /* second: fpt_fd_conn's */
    bool recv_armed;      /* a multishot recv is outstanding */
    bool recv_cancelling; /* a cancel for it is outstanding */
    ur_txmsg *tx;         /* while a send is in flight */
    struct sockaddr_storage *connect_addr; /* while connecting */
};

static inline fp_tconn *ur_conn(fpt_conn *c) { return (fp_tconn *)(void *)c; }

/* ---- listeners: fp_tlistener is posix_socket.h's ---- */

#define UR_MAX_ACCEPTORS 32

typedef struct ur_acceptor {
    fpt_acceptor base; /* listener, pause and deadline */
    bool in_use;
    bool armed;
    int fd;
    uint32_t gen;
    fp_tlistener *l;
} ur_acceptor;

/* ---- workers ---- */

/* The backend's counters (the core's come first); the last rows are
 * gauges, filled when the stats are read. */
#define UR_COUNTERS(X)        \
    X(ring_enters)            \
    X(ring_enters_skipped)    \
    X(completions)            \
    X(completion_batches)     \
    X(completion_batch_max)   \
    X(send_submits)           \
    X(short_sends)            \
    X(recvs)                  \
    X(recv_arms)              \
    X(enobufs)                \
    X(cq_overflow)            \
    X(submit_busy)            \
    X(recv_bufs_lent)         \
    X(recv_buf_target)        \
    X(recv_buf_target_max)    \
    X(pool_allocated)         \
    X(pool_free)              \
    X(pool_high_water)        \
    X(pool_regions)           \
    X(pool_registered)        \
    X(pool_register_failures) \
    X(pool_exhausted)         \
    X(defer_taskrun)          \
    X(ring_fd_registered)

typedef struct ur_counters {
    UR_COUNTERS(FPT_COUNTER_FIELD)
} ur_counters;

struct fp_tworker {
    fpt_worker core; /* first: the core's view */
    fp_transport *t;
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
    uint32_t recv_burst;    /* the multishot byte cap in use (0: none) */

    ur_bufring br;
    ur_pool pool;
    ur_txmsg *free_txmsgs;

    ur_acceptor acceptors[UR_MAX_ACCEPTORS];

    ur_counters stats;
};

static inline fp_tworker *ur_worker(fpt_worker *w) { return (fp_tworker *)(void *)w; }

/* ---- uring.c ---- */
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
/* After a quiet second (no ENOBUFS) the target halves, and the pages of
 * buffers sitting cold at the bottom of the stack go back to the system.
 * Returns whether the target is still above its minimum. */
bool ur_bufring_trim(ur_bufring *br);
/* Keeps buffer `bid` out of the ring until as many unlends; false when
 * lending it would leave too few buffers to receive into. */
bool ur_bufring_lend(ur_bufring *br, uint16_t bid);
void ur_bufring_unlend(ur_bufring *br, uint16_t bid);

/* ---- uring_pool.c: the send pool's memory and registration ---- */
/* An empty pool of mmap'd regions for `ring`. */
void ur_pool_init(ur_pool *p, struct io_uring *ring, size_t slot_size, size_t region_bytes,
                  size_t max_bytes);
/* Creates the sparse fixed-buffer table regions are registered into;
 * without it the pool still works, unregistered. */
void ur_pool_attach(ur_pool *p);

/* ---- uring_listen.c ---- */
fp_status ur_listen(fp_transport *t, const fp_addr *addr, const fp_listen_opts *opts,
                    fp_tlistener **out, char *err, size_t err_len);
fp_status ur_accept_start(fp_tworker *w, fp_tlistener *l);
void ur_accept_stop(fp_tworker *w, fp_tlistener *l);
int ur_accept_complete(fp_tworker *w, uint64_t ud, int res, unsigned flags);
int ur_accept_resume_due(fp_tworker *w);
void ur_acceptors_close_all(fp_tworker *w);

/* ---- uring_conn.c ---- */
fp_status ur_connect(fp_tworker *w, const fp_addr *addr, void *conn_user, fp_tconn **out);
fp_status ur_adopt(fp_tworker *w, fp_socket_handle handle, void *conn_user, fp_tconn **out);
void ur_conn_accepted(fp_tworker *w, int fd);
int ur_conn_complete(fp_tconn *c, uint64_t ud, int res, unsigned flags);
/* fpt_backend hooks */
void ur_conn_cancel(fpt_conn *c);
void ur_conn_finish(fpt_conn *c);
void ur_conn_discard(fpt_conn *c);

/* ---- uring_recv.c ---- */
int ur_recv_arm(fpt_conn *c);
void ur_recv_cancel(fpt_conn *c);
int ur_recv_complete(fp_tconn *c, int res, unsigned flags);

/* ---- uring_send.c ---- */
void ur_conn_send(fpt_conn *c);
void ur_send_complete(fp_tconn *c, int res);
void ur_txmsgs_free(fp_tworker *w);
fp_status ur_chunk_take(fpt_worker *w, size_t need, size_t want, fpt_chunk **out);
void ur_chunk_give_back(fpt_worker *w, fpt_chunk *ch);
bool ur_chunk_room(const fpt_worker *w);
bool ur_trim(fpt_worker *core);
bool ur_lend_hold(fpt_worker *w, uint32_t bid);
void ur_lend_drop(fpt_worker *w, uint32_t bid);

#endif
