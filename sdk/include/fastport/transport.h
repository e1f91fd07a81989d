/*
 * fastport/transport.h - the transport ABI.
 *
 * A transport is a shared library (epoll.so, uring.so, iocp.dll, rio.dll)
 * that owns sockets, I/O buffers and kernel queues. It exports one symbol,
 * FP_TRANSPORT_ENTRY_SYMBOL, returning a constant fp_transport_vtbl. The
 * engine drives it; the transport calls back into the engine through the
 * fp_transport_events table it receives at open.
 *
 * The table is completion-shaped so readiness (epoll) and completion
 * (io_uring, IOCP, RIO) backends fit the same engine: the engine never sees
 * interest sets, only "bytes arrived", "bytes left", "closed".
 *
 * Versioning follows SQLite's sqlite3_vfs: methods are only ever appended.
 * A new method bumps FP_TRANSPORT_ABI_MINOR and the engine checks
 * struct_size before calling it. A layout change bumps the major, and the
 * engine refuses a table whose major differs from its own.
 *
 * Threads. The transport is process-wide (fp_transport); each engine worker
 * owns one fp_tworker (one kernel queue). Every method taking an fp_tworker,
 * or an fp_tconn belonging to it, is called only on that worker's thread,
 * except wake(), which any thread may call. probe/open/close/listen/
 * listener_close are called on the engine's control thread while no worker
 * is inside the transport for the objects concerned.
 *
 * Callbacks. Every fp_transport_events callback for a worker's objects is
 * delivered on that worker's thread from inside poll(), never from inside
 * any other method, so the engine may call any method from a callback.
 *
 * Connection lifetime. on_closed is the last callback for a connection and
 * is delivered exactly once, after every operation on it has completed or
 * been cancelled. After on_closed returns the fp_tconn pointer is dead.
 */
#ifndef FASTPORT_TRANSPORT_H
#define FASTPORT_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "fastport/status.h"
#include "fastport/types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FP_TRANSPORT_ABI_MAJOR 1
#define FP_TRANSPORT_ABI_MINOR 1
#define FP_TRANSPORT_ENTRY_SYMBOL "fp_transport_entry"

typedef struct fp_transport fp_transport; /* process-wide transport state */
typedef struct fp_tworker fp_tworker;     /* one worker's kernel queue */
typedef struct fp_tconn fp_tconn;         /* one connection */
typedef struct fp_tlistener fp_tlistener; /* one listening endpoint */

/* A platform socket handle for adopt(): an fd on POSIX, a SOCKET on Windows. */
typedef intptr_t fp_socket_handle;

typedef enum fp_close_mode {
    /* Send everything committed, then FIN; the transport then discards
     * input until the peer's FIN and releases the connection. */
    FP_CLOSE_GRACEFUL = 0,
    /* Drop queued data, cancel every operation, reset the connection. */
    FP_CLOSE_ABORT = 1
} fp_close_mode;

/*
 * Engine callbacks. `worker_user` is the pointer given to worker_open;
 * `conn_user` is the pointer the engine attached to the connection.
 */
typedef struct fp_transport_events {
    uint32_t struct_size; /* sizeof(fp_transport_events) of the engine */

    /* A connection was accepted on this worker, which now owns it. Return
     * the engine's pointer for it, or NULL to refuse: the transport then
     * aborts the connection and delivers nothing more for it. Receiving
     * starts when this returns non-NULL. */
    void *(*on_accepted)(void *worker_user, fp_tconn *conn, const fp_addr *peer);

    /* An outbound connect() succeeded; receiving starts now. A connect that
     * fails gets on_closed (with the reason) and no on_connected. */
    void (*on_connected)(void *conn_user);

    /* Bytes arrived. `data` is transport memory valid only during the call:
     * the engine copies what it keeps. */
    void (*on_recv)(void *conn_user, const uint8_t *data, size_t len);

    /* The peer finished sending (FIN). Sending still works until the engine
     * closes; no on_recv follows. */
    void (*on_eof)(void *conn_user);

    /* `bytes` committed bytes were handed to the kernel and their transport
     * memory released (several commits may be reported at once). */
    void (*on_sent)(void *conn_user, size_t bytes);

    /* tx_reserve() returned FP_EAGAIN earlier and may now succeed. */
    void (*on_writable)(void *conn_user);

    /* Last callback, exactly once. `why` is FP_OK for a close the engine
     * asked for or a clean peer close, an error otherwise. */
    void (*on_closed)(void *conn_user, fp_status why);
} fp_transport_events;

/* What the engine hands the transport at open. */
typedef struct fp_transport_host {
    uint32_t struct_size; /* sizeof(fp_transport_host) of the engine */
    const fp_transport_events *events;
    /* Thread-safe log sink; `msg` has no trailing newline. */
    void (*log)(void *log_ctx, fp_log_level level, const char *msg);
    void *log_ctx;
} fp_transport_host;

/* Listener settings. */
typedef struct fp_listen_opts {
    uint32_t struct_size;
    int backlog; /* <= 0 means the transport's default */
} fp_listen_opts;

typedef struct fp_transport_vtbl {
    /* ---- header: never moves ---- */
    uint16_t abi_major;   /* FP_TRANSPORT_ABI_MAJOR the transport was built with */
    uint16_t abi_minor;   /* FP_TRANSPORT_ABI_MINOR the transport was built with */
    uint32_t struct_size; /* sizeof(fp_transport_vtbl) the transport was built with */
    const char *name;     /* "epoll": equals the file stem and --transport=NAME */
    const char *description;

    /* ---- ABI 1.0 ---- */

    /* Side-effect-free check that this transport can run on this machine.
     * On failure writes a one-line reason (and what to use instead) into
     * `why` and returns FP_ENOTSUP. */
    fp_status (*probe)(char *why, size_t why_len);

    /* Process-wide set-up. `opts` are the user's --transport-opt pairs; an
     * unknown key or bad value fails with FP_EINVAL and a message in `err`
     * naming the key and the accepted keys or values. `host` outlives the
     * transport. */
    fp_status (*open)(const fp_transport_host *host, const fp_kv *opts, size_t n_opts,
                      fp_transport **out, char *err, size_t err_len);

    /* Undo open, after every worker and listener is closed. */
    void (*close)(fp_transport *t);

    /* Create worker `index`'s kernel queue. Called on that worker's thread. */
    fp_status (*worker_open)(fp_transport *t, unsigned index, void *worker_user,
                             fp_tworker **out);

    /* Destroy a worker's queue on its thread. The engine first closes every
     * connection and waits for their on_closed; anything still open is
     * released without callbacks. */
    void (*worker_close)(fp_tworker *w);

    /* Bind a listening endpoint (control thread, before workers accept).
     * Port 0 picks a free port, reported by listener_addr. The transport
     * decides how accepts are spread over workers (a SO_REUSEPORT socket per
     * worker, or one acceptor that hands sockets to workers). */
    fp_status (*listen)(fp_transport *t, const fp_addr *addr, const fp_listen_opts *opts,
                        fp_tlistener **out, char *err, size_t err_len);

    /* The bound address (resolves port 0). */
    void (*listener_addr)(const fp_tlistener *l, fp_addr *out);

    /* Start (or stop) accepting `l` on worker `w`, on w's thread. Accepted
     * connections are announced with on_accepted on the owning worker. */
    fp_status (*accept_start)(fp_tworker *w, fp_tlistener *l);
    void (*accept_stop)(fp_tworker *w, fp_tlistener *l);

    /* Free a listener after accept_stop ran on every worker (control thread,
     * workers idle or closed). */
    void (*listener_close)(fp_tlistener *l);

    /* Start an outbound connection owned by `w`. The result arrives as
     * on_connected or on_closed. */
    fp_status (*connect)(fp_tworker *w, const fp_addr *addr, void *conn_user, fp_tconn **out);

    /* Take ownership of an already connected socket; receiving starts at
     * once and no on_connected is delivered. On failure the socket is
     * closed. */
    fp_status (*adopt)(fp_tworker *w, fp_socket_handle handle, void *conn_user, fp_tconn **out);

    /* Stop / restart delivering on_recv (engine backpressure). */
    void (*recv_pause)(fp_tconn *c);
    void (*recv_resume)(fp_tconn *c);

    /* Reserve at least `len` bytes (len <= 65535) of send memory in the
     * transport's own, possibly registered, buffers. The engine writes a
     * frame straight into out->data and then commits or cancels before its
     * next call on this connection. FP_EAGAIN: transport memory is
     * exhausted; on_writable follows. FP_ECLOSED: the connection is closing. */
    fp_status (*tx_reserve)(fp_tconn *c, size_t len, fp_span *out);

    /* Queue the first `used` bytes of a reservation for sending, in commit
     * order. No system call: the data goes out at the next flush. */
    void (*tx_commit)(fp_tconn *c, fp_span *span, size_t used);

    /* Release an unused reservation. */
    void (*tx_cancel)(fp_tconn *c, fp_span *span);

    /* Close a connection; on_closed follows from a later poll(). Idempotent
     * (an abort may upgrade a pending graceful close). */
    void (*close_conn)(fp_tconn *c, fp_close_mode mode);

    /* The peer's address. */
    void (*conn_peer)(const fp_tconn *c, fp_addr *out);

    /* Submit every send committed since the last flush in as few kernel
     * calls as the backend allows (one io_uring_enter, one RIO commit, one
     * writev per dirty connection). Called once per loop iteration, and the
     * engine calls poll() right after it: a backend whose wait can carry
     * submissions (io_uring) may leave them to that poll's kernel call.
     * A send to a peer that has gone must fail, never raise SIGPIPE
     * (MSG_NOSIGNAL): a program need not ignore the signal, and the
     * contract suite runs with its default action. */
    void (*flush)(fp_tworker *w);

    /* Wait up to `timeout_ms` (-1: no limit, 0: do not block) for I/O and
     * deliver the callbacks. Returns the number of events handled or a
     * negative status. A wake() makes a blocked poll return. */
    int (*poll)(fp_tworker *w, int timeout_ms);

    /* Make w's current or next poll() return. Any thread; async-signal-safe
     * on POSIX. */
    void (*wake)(fp_tworker *w);

    /* Report this worker's counters as name/value pairs (worker thread). */
    void (*stats)(fp_tworker *w, fp_stat_fn emit, void *ctx);

    /* ---- ABI 1.1 ---- */

    /* Optional (NULL: never). Queue `len` bytes at `data` on `c` for
     * sending without copying them, in commit order with tx_commit. `data`
     * must lie inside what an on_recv call of the same worker is delivering
     * right now (for any of its connections); the transport keeps that
     * memory alive until the bytes are sent or the connection is gone. For
     * relays, echoes and broadcasts of a frame exactly as it arrived.
     * FP_ENOTSUP: not lendable now (not receive memory, or too much is
     * lent already): the engine copies instead. FP_ECLOSED as tx_reserve. */
    fp_status (*tx_lend)(fp_tconn *c, const void *data, size_t len);

    /* ---- append new methods below, bump FP_TRANSPORT_ABI_MINOR ---- */
} fp_transport_vtbl;

/* The size of the ABI 1.0 table: the smallest table the engine accepts. */
#define FP_TRANSPORT_VTBL_MIN_SIZE (offsetof(fp_transport_vtbl, stats) + sizeof(void (*)(void)))

/* The one symbol a transport exports. */
typedef const fp_transport_vtbl *(*fp_transport_entry_fn)(void);

#ifdef __cplusplus
}
#endif
#endif
