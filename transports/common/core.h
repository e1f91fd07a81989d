/*
 * core.h - the transport core: what every backend does the same way.
 *
 * A backend (epoll.so, uring.so, later iocp.dll and rio.dll) embeds an
 * fpt_conn as the first member of its struct fp_tconn and an fpt_worker as
 * the first member of its struct fp_tworker. The core then owns:
 *
 *   - the connection states, the count of operations in flight and the
 *     rule that on_closed comes exactly once, last, after that count is 0;
 *   - delivery: every engine callback leaves from inside poll(), through
 *     the worker's ready / waiters / notify lists (fpt_run_deferred);
 *   - receive delivery, with the bytes that arrive while paused stashed
 *     and delivered on resume, and the deferred on_eof;
 *   - the send chain over the backend's chunk memory (reserve, commit,
 *     cancel, lend, gather, consume after a partial send) and flush;
 *   - the connection slab with slot + generation ids;
 *   - accept back-off, counters and the log helper.
 *
 * A backend writes only how its kernel API submits operations and reports
 * completions or readiness: the fpt_backend table below, plus poll().
 *
 * Portable C11: no POSIX or Windows header here or in the core's .c files.
 * The one platform function the core uses, fpt_now_ms, comes from the
 * backend's socket file (posix_socket.c, or its Windows twin).
 *
 * Threads: a worker and its connections are touched only by the worker's
 * thread; nothing here locks.
 */
#ifndef FP_TRANSPORT_COMMON_CORE_H
#define FP_TRANSPORT_COMMON_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fastport/transport.h"
#include "list.h"

/* Any reservation (a frame is at most 65535 bytes) fits one chunk. */
#define FPT_RESERVE_MAX 65536u

typedef struct fpt_worker fpt_worker;
typedef struct fpt_conn fpt_conn;

/* ---- send memory ---- */

/* `region` value of bytes lent from receive memory (tx_lend). */
#define FPT_CHUNK_LENT UINT32_MAX

/* A piece of send memory a connection queues: malloc'd, a run of
 * registered slices, or lent receive bytes. `region`, `first_slot` and
 * `n_slots` belong to the allocator that made it (size class, region and
 * slices; for lent bytes, the receive buffer's token in first_slot). */
typedef struct fpt_chunk {
    struct fpt_chunk *next;
    uint8_t *data;
    uint32_t start; /* first unsent byte */
    uint32_t end;   /* end of committed bytes */
    uint32_t cap;
    uint32_t region;
    uint32_t first_slot;
    uint32_t n_slots;
} fpt_chunk;

/* One gathered piece of a send, laid out as POSIX's struct iovec (which
 * posix_socket.c checks); a Windows backend copies it into its WSABUF. */
typedef struct fpt_iov {
    void *base;
    size_t len;
} fpt_iov;

/* ---- connections ---- */

typedef enum fpt_state {
    FPT_FREE = 0,
    FPT_CONNECTING, /* outbound connect in flight */
    FPT_OPEN,
    FPT_DRAINING, /* graceful close: sending what was committed */
    FPT_LINGER,   /* FIN sent: discarding input until the peer's FIN */
    FPT_CLOSING,  /* waiting for the operations in flight to finish */
    FPT_DEAD      /* socket closed; on_closed waits on the notify list */
} fpt_state;

/* Bytes received while paused, delivered on resume before anything newer;
 * allocated the first time a connection needs one, so most never do. */
typedef struct fpt_stash {
    uint8_t *data;
    size_t off, len, cap;
} fpt_stash;

struct fpt_conn {
    /* read by fpt_conn_lookup even while the slot is free: keep first */
    uint32_t slot;
    uint32_t gen;
    fpt_state state;
    unsigned ops; /* operations whose final completion is still due */
    fpt_worker *w;
    void *user;

    bool paused;
    bool eof_seen; /* the peer's FIN arrived */
    bool eof_delivered;
    bool tx_busy;   /* the backend has a send out (or waits for room): not dirty */
    bool reserving; /* a tx_reserve span is outstanding */
    bool silent;    /* refused by on_accepted: no callbacks at all */
    fp_status close_why;

    fpt_chunk *head, *tail; /* send chain, commit order */
    size_t queued;          /* committed, not yet taken by the kernel */
    size_t sent_unreported; /* taken, on_sent not yet delivered */
    size_t discarded;       /* bytes read and dropped since a graceful close began */
    fpt_stash *stash; /* NULL until input arrives while paused */

    fpt_link ready_link;  /* w->ready: input to deliver, read or re-arm */
    fpt_link dirty_link;  /* w->dirty: committed bytes for flush */
    fpt_link wait_link;   /* w->waiters: tx_reserve said FP_EAGAIN */
    fpt_link notify_link; /* w->notify: on_sent / on_closed to deliver */
    fpt_conn *free_next;

    fp_addr peer;
};

/* ---- what a backend writes ---- */

typedef struct fpt_backend {
    const char *name; /* "epoll": prefixes log lines */
    size_t conn_size; /* sizeof(struct fp_tconn) of the backend */

    /* The core wants input on `c` read, re-armed or discarded (from the
     * ready list inside poll; the core already delivered its stash). */
    int (*input)(fpt_conn *c); /* returns the work done (0: none) */
    /* recv_pause: stop receiving (cancel a posted receive). May be NULL. */
    void (*input_pause)(fpt_conn *c);
    /* flush: hand `c`'s chain to the kernel (c is OPEN or DRAINING, not
     * tx_busy, and has bytes queued). */
    void (*send)(fpt_conn *c);
    /* Graceful close, everything sent: send the FIN. */
    void (*shutdown_send)(fpt_conn *c);
    /* Abortive close: make the socket's close a reset. */
    void (*abort_socket)(fpt_conn *c);
    /* Closing with operations in flight: make each of them complete
     * (cancel); the core finishes when `ops` reaches 0. May be NULL. */
    void (*cancel)(fpt_conn *c);
    /* No operation is in flight any more: close the socket. */
    void (*finish)(fpt_conn *c);
    /* Worker teardown: free what the backend holds for a live `c` (its
     * socket included); the core then frees the chain and stash. */
    void (*discard)(fpt_conn *c);

    /* Send memory. take: a chunk with room for `need` bytes, `want`
     * preferred; FP_EAGAIN over the budget (on_writable follows). */
    fp_status (*chunk_take)(fpt_worker *w, size_t need, size_t want, fpt_chunk **out);
    void (*chunk_give_back)(fpt_worker *w, fpt_chunk *ch);
    /* Whether writers waiting for memory should be told to retry now. */
    bool (*chunk_room)(const fpt_worker *w);

    /* Give back pool memory that went unused since the last call (see
     * trim.c); true while more than the floor is still held, to be asked
     * again. May be NULL. */
    bool (*trim)(fpt_worker *w);

    /* Lending (tx_lend); NULL when the backend does not lend. hold keeps
     * receive buffer `token` alive (false: too much is lent already). */
    bool (*lend_hold)(fpt_worker *w, uint32_t token);
    void (*lend_drop)(fpt_worker *w, uint32_t token);
} fpt_backend;

/* ---- counters ---- */

/* A counter list is an X-macro: X(name) per uint64_t field, emitted under
 * that name. */
#define FPT_COUNTER_FIELD(name) uint64_t name;

typedef struct fpt_counter_desc {
    const char *name;
    size_t offset;
} fpt_counter_desc;

#define FPT_COUNTER_DESC(type, name) {#name, offsetof(type, name)},

/* Emits every counter of `values` (a struct of uint64_t) as described. */
void fpt_counters_emit(const fpt_counter_desc *desc, size_t n, const void *values, fp_stat_fn emit,
                       void *ctx);

/* The counters every backend keeps, and emits first. */
#define FPT_CORE_COUNTERS(X) \
    X(accepts)               \
    X(accept_errors)         \
    X(accept_emfile)         \
    X(accept_refused)        \
    X(connects)              \
    X(connect_failures)      \
    X(sends)                 \
    X(send_bytes)            \
    X(read_bytes)            \
    X(lends)                 \
    X(lend_refused)          \
    X(stale_completions)     \
    X(stash_peak)            \
    X(trims)                 \
    X(discard_aborts)        \
    X(peer_errors)           \
    X(eagain_reserve)        \
    X(conns_open)

typedef struct fpt_core_counters {
    FPT_CORE_COUNTERS(FPT_COUNTER_FIELD)
} fpt_core_counters;

/* ---- accept back-off ---- */

/* The part of a backend's acceptor the core sees: out of descriptors or
 * memory, an acceptor pauses (connections wait in the kernel backlog) and
 * is retried at a deadline that poll folds into its wait: no spin. */
typedef struct fpt_acceptor {
    struct fpt_acceptor *next;
    const void *listener;
    bool paused;
    int64_t resume_at_ms;
} fpt_acceptor;

#define FPT_ACCEPT_PAUSE_MS 100
/* Out of descriptors, every resume fails again: one log line a second per
 * worker, the failures in between counted into the next one. */
#define FPT_ACCEPT_LOG_INTERVAL_MS 1000

/* ---- the worker ---- */

typedef struct fpt_conn_block fpt_conn_block;

struct fpt_worker {
    const fpt_backend *be;
    const fp_transport_host *host;
    const fp_transport_events *ev;
    void *user;
    unsigned index;

    fpt_link ready, dirty, waiters, notify;
    bool writable_due; /* send memory came back while writers wait */

    /* the slab: blocks of conn_size entries, a slot table, a free list */
    fpt_conn_block *blocks;
    fpt_conn *free_conns;
    fpt_conn **slots;
    uint32_t n_slots, cap_slots;

    /* lending: the receive memory an on_recv is delivering right now */
    bool lend_enabled;
    const uint8_t *rx_lo, *rx_hi;
    uint32_t rx_token;
    fpt_chunk *free_lent;

    fpt_acceptor *acceptors;
    unsigned paused_acceptors;
    /* accept failures are logged at most once a second (accept.c) */
    int64_t accept_log_quiet_until_ms;
    uint64_t accept_log_suppressed;

    int64_t trim_at_ms; /* when the backend's trim runs next; 0: not due */

    fpt_core_counters counters;
};

/* ---- platform (posix_socket.c or its Windows twin) ---- */

/* A monotonic clock in milliseconds. */
int64_t fpt_now_ms(void);

/* ---- log.c ---- */

/* Formats one line to the host's log sink (nothing when it has none). */
void fpt_log(const fp_transport_host *host, fp_log_level level, const char *fmt, ...) FP_PRINTF_LIKE(3, 4);

/* ---- worker.c ---- */

void fpt_worker_init(fpt_worker *w, const fpt_backend *be, const fp_transport_host *host,
                     unsigned index, void *worker_user);
/* Frees every connection still in the slab (backend discard, chain and
 * stash), the slab and the lent descriptors; no callbacks. */
void fpt_worker_teardown(fpt_worker *w);
/* Whether poll must not block: deferred callbacks are waiting. */
bool fpt_has_deferred(const fpt_worker *w);
/* Delivers the deferred work: ready input, on_writable, on_sent and
 * on_closed (after which a connection's slot is recycled). Returns the
 * number of callbacks and read turns. Called from poll only. */
int fpt_run_deferred(fpt_worker *w);
/* vtable flush: each dirty connection's chain to the backend's send. */
void fpt_flush(fp_tworker *w);
/* Emits the core counters. */
void fpt_core_counters_emit(const fpt_worker *w, fp_stat_fn emit, void *ctx);

/* The vtable methods the core implements for every backend. */
#define FPT_CORE_VTBL_METHODS                                                                 \
    .recv_pause = fpt_recv_pause, .recv_resume = fpt_recv_resume, .tx_reserve = fpt_tx_reserve, \
    .tx_commit = fpt_tx_commit, .tx_cancel = fpt_tx_cancel, .close_conn = fpt_close_conn,       \
    .conn_peer = fpt_conn_peer, .flush = fpt_flush

/* ---- conn.c: life cycle ---- */

/* A fresh connection in `state` (counted open), or NULL out of memory. */
fpt_conn *fpt_conn_new(fpt_worker *w, fpt_state state);
/* Undoes fpt_conn_new for a connection the engine never saw. */
void fpt_conn_discard_new(fpt_conn *c);
/* The connection `slot` + `gen` name, or NULL for a stale id. */
fpt_conn *fpt_conn_lookup(fpt_worker *w, uint32_t slot, uint32_t gen);

/* on_accepted: true when the engine keeps `c` (input may start); on
 * refusal the connection is reset and recycled silently. */
bool fpt_conn_announce_accepted(fpt_conn *c);
/* The connect completed: on_connected; true when `c` is still open then
 * (input may start). */
bool fpt_conn_connected(fpt_conn *c);
void fpt_conn_connect_failed(fpt_conn *c, fp_status why);

/* Starts closing: drops queued data, cancels what is in flight, and
 * on_closed(why) follows once `ops` is 0. */
void fpt_conn_terminate(fpt_conn *c, fp_status why, bool abortive);
/* An error on the connection (a clean ending after our FIN). */
void fpt_conn_fail(fpt_conn *c, fp_status why);
/* One operation of `c` completed for the last time. */
void fpt_conn_op_done(fpt_conn *c);
/* Everything is sent in DRAINING: the FIN, then LINGER. */
void fpt_conn_shutdown_write(fpt_conn *c);

/* vtable methods the core implements for every backend. */
void fpt_close_conn(fp_tconn *c, fp_close_mode mode);
void fpt_conn_peer(const fp_tconn *c, fp_addr *out);
void fpt_recv_pause(fp_tconn *c);
void fpt_recv_resume(fp_tconn *c);

/* ---- recv.c: input ---- */

/* Bytes arrived: delivered (on_recv), stashed while paused, or dropped
 * while closing. Returns 1 when on_recv ran. */
int fpt_conn_received(fpt_conn *c, const uint8_t *data, size_t len);
/* The peer's FIN arrived (on_eof now, or after the stash). Returns 1
 * when on_eof ran. */
int fpt_conn_eof(fpt_conn *c);
/* Puts `c` on the ready list (input for the next poll). */
void fpt_conn_push_ready(fpt_conn *c);
/* Whether the connection wants input: open and not paused, or closing
 * gracefully and still waiting for the peer's FIN. */
bool fpt_conn_wants_input(const fpt_conn *c);
void fpt_stash_drop(fpt_conn *c);
void fpt_stash_free(fpt_conn *c);

/* Receive memory being delivered, for tx_lend to take from. */
static inline void fpt_rx_window_open(fpt_worker *w, const uint8_t *data, size_t len, uint32_t token)
{
    w->rx_lo = data;
    w->rx_hi = data + len;
    w->rx_token = token;
}
static inline void fpt_rx_window_close(fpt_worker *w) { w->rx_lo = w->rx_hi = NULL; }

/* ---- chain.c: sending ---- */

fp_status fpt_tx_reserve(fp_tconn *c, size_t len, fp_span *out);
void fpt_tx_commit(fp_tconn *c, fp_span *span, size_t used);
void fpt_tx_cancel(fp_tconn *c, fp_span *span);
fp_status fpt_tx_lend(fp_tconn *c, const void *data, size_t len);

/* Queues `c` for the next flush unless the backend has a send out. */
void fpt_conn_mark_dirty(fpt_conn *c);
/* Up to `max` pieces of unsent bytes in commit order; returns the count
 * and the bytes in *total. */
int fpt_chain_gather(const fpt_conn *c, fpt_iov *iov, int max, size_t *total);
/* The one chunk holding every unsent byte, or NULL when there are more. */
const fpt_chunk *fpt_chain_lone(const fpt_conn *c);
/* The kernel took `n` bytes: release them (on_sent follows from poll's
 * deferred delivery). For sends made outside poll (a readiness backend's
 * flush). */
void fpt_conn_sent(fpt_conn *c, size_t n);
/* The same from a completion handled inside poll: on_sent now, as the
 * completion's own callback. */
void fpt_conn_sent_in_poll(fpt_conn *c, size_t n);
/* A send attempt ended: more to send goes back to flush; an empty chain
 * is trimmed and a draining connection gets its FIN. */
void fpt_conn_tx_settle(fpt_conn *c);
/* Releases every chunk (closing or teardown). */
void fpt_chain_release(fpt_conn *c);

/* ---- accept.c: back-off ---- */

void fpt_acceptor_add(fpt_worker *w, fpt_acceptor *a, const void *listener);
void fpt_acceptor_remove(fpt_worker *w, fpt_acceptor *a);
fpt_acceptor *fpt_acceptor_find(const fpt_worker *w, const void *listener);
/* Pauses `a` for FPT_ACCEPT_PAUSE_MS and logs why (at most once per
 * FPT_ACCEPT_LOG_INTERVAL_MS per worker);
 * `fd_limit` counts it as running out of descriptors. */
void fpt_acceptor_pause(fpt_worker *w, fpt_acceptor *a, const char *where, const char *reason,
                        bool fd_limit);
/* `timeout_ms` shortened to the nearest resume deadline. */
int fpt_accept_timeout(const fpt_worker *w, int timeout_ms);
/* Calls `resume` for every paused acceptor whose deadline passed; one
 * that cannot resume yet (false) is retried after `retry_ms`. Returns the
 * number resumed. */
int fpt_accept_resume_due(fpt_worker *w, bool (*resume)(fpt_worker *w, fpt_acceptor *a), int retry_ms);

/* Input a connection closing gracefully may still bring (and have
 * dropped) before it is reset instead. */
#define FPT_DISCARD_MAX ((size_t)1 << 20)

/* ---- trim.c: memory back after a burst ---- */

#define FPT_TRIM_DELAY_MS 1000

/* Memory was released (a connection, a chunk, a stash): the backend's trim
 * runs a second from now unless it is already due. */
void fpt_trim_soon(fpt_worker *w);
/* `timeout_ms` shortened to the trim deadline. */
int fpt_trim_timeout(const fpt_worker *w, int timeout_ms);
/* From poll: the backend's trim when due, again a second later while it
 * says more can go. */
void fpt_trim_run_due(fpt_worker *w);

/* The process heap's free pages back to the system (malloc_trim on glibc;
 * nothing elsewhere). From a backend's trim. */
void fpt_heap_release(void);

/* ---- between the core's own files ---- */

/* Back to the slab's free list; the slot's generation moves on. */
void fpt_conn_recycle(fpt_conn *c);
/* A connection on the ready list gets its turn: stash, held-back on_eof,
 * then the backend's input. */
int fpt_conn_run_ready(fpt_conn *c);
/* Worker teardown: every live connection discarded, the slab freed. */
void fpt_slab_free_all(fpt_worker *w);

#endif
