/*
 * epoll_internal.h - state shared by the files of the epoll transport.
 *
 * One worker = one epoll fd + one eventfd, touched only by its thread
 * (except the eventfd write in wake()). Connections are edge-triggered for
 * input and ask for EPOLLOUT only while sends are blocked; listeners are
 * level-triggered so a paused listener simply leaves the epoll set.
 *
 * Callbacks are delivered only from poll(). Work found elsewhere (bytes
 * sent by flush(), a close from close_conn(), memory freed for waiting
 * writers) is parked on a worker list and delivered by the next poll(),
 * which then does not block.
 */
#ifndef FP_EPOLL_INTERNAL_H
#define FP_EPOLL_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "fastport/transport.h"
#include "list.h"
#include "posix_socket.h"

/* Under ASan, released connections and cached chunks are poisoned so a
 * touch after on_closed (by us or by the engine) is reported. */
#if defined(__SANITIZE_ADDRESS__)
#define EP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EP_ASAN 1
#endif
#endif
#ifdef EP_ASAN
#include <sanitizer/asan_interface.h>
#define EP_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define EP_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define EP_POISON(p, n) ((void)(p), (void)(n))
#define EP_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* ---- settings (filled from --transport-opt) ---- */

typedef struct ep_settings {
    uint64_t backlog;
    uint64_t read_size;     /* bytes per read() into the worker buffer */
    uint64_t read_budget;   /* bytes read per connection per poll (fairness) */
    uint64_t send_pool_max; /* send memory per worker */
    uint64_t nodelay;
    uint64_t sndbuf; /* 0: kernel default */
    uint64_t rcvbuf;
} ep_settings;

struct fp_transport {
    const fp_transport_host *host;
    ep_settings set;
};

/* ---- objects registered in epoll start with their kind ---- */

typedef enum ep_kind { EP_KIND_WAKE = 1, EP_KIND_ACCEPTOR, EP_KIND_CONN } ep_kind;

typedef struct ep_handle {
    ep_kind kind;
} ep_handle;

/* ---- send memory ---- */

#define EP_CHUNK_CLASSES 3
#define EP_CHUNK_MAX 65536u /* the largest class: any reservation <= 65535 fits */

typedef struct ep_chunk {
    struct ep_chunk *next;
    uint32_t start; /* first unsent byte */
    uint32_t end;   /* end of committed bytes */
    uint32_t cap;
    uint32_t cls;
    uint8_t data[];
} ep_chunk;

/* ---- connections ---- */

typedef enum ep_conn_state {
    EP_CONN_FREE = 0,
    EP_CONN_CONNECTING, /* non-blocking connect in flight, EPOLLOUT armed */
    EP_CONN_OPEN,
    EP_CONN_DRAINING, /* graceful close: sending what was committed */
    EP_CONN_LINGER,   /* FIN sent: discarding input until the peer's FIN */
    EP_CONN_DEAD      /* fd closed; on_closed waits on the notify list */
} ep_conn_state;

struct fp_tconn {
    ep_handle h;
    int fd;
    ep_conn_state state;
    fp_tworker *w;
    void *user;

    bool paused;      /* recv_pause */
    bool readable;    /* input may be waiting (an edge we have not drained) */
    bool eof_pending; /* the last event carried RDHUP/HUP: read until 0 */
    bool eof_seen;    /* read() returned 0 */
    bool blocked;     /* a send hit EAGAIN: EPOLLOUT armed */
    bool reserving;   /* a tx_reserve span is outstanding */
    bool silent;      /* refused by on_accepted: no callbacks at all */
    uint32_t events;  /* what epoll currently has registered */

    uint64_t budget_round; /* poll round the read budget belongs to */
    uint64_t budget_left;

    ep_chunk *head, *tail; /* send chain, commit order */
    size_t queued;         /* committed, not yet accepted by the kernel */
    size_t sent_unreported;
    fp_status close_why;

    fpt_link ready_link;  /* worker->ready: must be (re)read */
    fpt_link dirty_link;  /* worker->dirty: committed data for flush */
    fpt_link wait_link;   /* worker->waiters: tx_reserve said FP_EAGAIN */
    fpt_link notify_link; /* worker->notify: on_sent / on_closed to deliver */
    fp_tconn *free_next;

    fp_addr peer;
};

/* ---- listeners ---- */

struct fp_tlistener {
    fp_transport *t;
    fp_addr addr; /* resolved: port 0 replaced by the real port */
    int backlog;
    /* The socket listen() made, waiting for the first worker to adopt it;
     * -1 once taken. Several workers may race for it in accept_start. */
    atomic_int spare_fd;
};

typedef struct ep_acceptor {
    ep_handle h;
    int fd;
    fp_tlistener *l;
    fp_tworker *w;
    bool paused;         /* out of the epoll set after EMFILE and friends */
    int64_t resume_at_ms; /* CLOCK_MONOTONIC */
    struct ep_acceptor *next;
} ep_acceptor;

/* ---- workers ---- */

typedef struct ep_stats {
    uint64_t accepts, accept_errors, accept_emfile, accept_refused;
    uint64_t connects, connect_failures;
    uint64_t epoll_waits, events;
    uint64_t reads, read_bytes;
    uint64_t sends, send_bytes, send_eagain;
    uint64_t conns_open;
    uint64_t peer_errors;
    uint64_t eagain_reserve;
} ep_stats;

typedef struct ep_conn_block {
    struct ep_conn_block *next;
    size_t count;
    fp_tconn conns[];
} ep_conn_block;

struct fp_tworker {
    ep_handle wake_handle;
    fp_transport *t;
    unsigned index;
    void *user;
    const fp_transport_events *ev;
    int epfd;
    int wakefd;

    uint8_t *rbuf;
    size_t read_size;
    uint64_t read_budget;
    uint64_t round;
    struct epoll_event *events;
    int max_events;

    fpt_link ready, dirty, waiters, notify;
    bool writable_due; /* send memory was freed while writers wait */

    ep_conn_block *blocks;
    fp_tconn *free_conns;

    ep_chunk *free_chunks[EP_CHUNK_CLASSES];
    size_t cached_bytes; /* bytes sitting in free_chunks */
    size_t pool_used;    /* bytes of chunks owned by connections */
    size_t pool_max;
    size_t pool_peak;

    ep_acceptor *acceptors;
    unsigned paused_acceptors;

    ep_stats stats;
};

/* ---- epoll.c ---- */
void ep_log(const fp_transport *t, fp_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- epoll_worker.c ---- */
fp_status ep_worker_open(fp_transport *t, unsigned index, void *worker_user, fp_tworker **out);
void ep_worker_close(fp_tworker *w);
int ep_poll(fp_tworker *w, int timeout_ms);
void ep_wake(fp_tworker *w);
void ep_flush(fp_tworker *w);
void ep_stats_emit(fp_tworker *w, fp_stat_fn emit, void *ctx);

/* ---- epoll_listen.c ---- */
fp_status ep_listen(fp_transport *t, const fp_addr *addr, const fp_listen_opts *opts,
                    fp_tlistener **out, char *err, size_t err_len);
void ep_listener_addr(const fp_tlistener *l, fp_addr *out);
fp_status ep_accept_start(fp_tworker *w, fp_tlistener *l);
void ep_accept_stop(fp_tworker *w, fp_tlistener *l);
void ep_listener_close(fp_tlistener *l);
void ep_acceptor_on_event(ep_acceptor *a);
int ep_accept_timeout(fp_tworker *w, int timeout_ms);
int ep_accept_resume_due(fp_tworker *w);
void ep_acceptors_close_all(fp_tworker *w);

/* ---- epoll_conn.c ---- */
fp_status ep_connect(fp_tworker *w, const fp_addr *addr, void *conn_user, fp_tconn **out);
fp_status ep_adopt(fp_tworker *w, fp_socket_handle handle, void *conn_user, fp_tconn **out);
void ep_recv_pause(fp_tconn *c);
void ep_recv_resume(fp_tconn *c);
void ep_close_conn(fp_tconn *c, fp_close_mode mode);
void ep_conn_peer(const fp_tconn *c, fp_addr *out);
void ep_conn_accepted(fp_tworker *w, int fd, const fp_addr *peer);
void ep_conn_on_event(fp_tconn *c, uint32_t events);
void ep_conn_read(fp_tconn *c);
void ep_conn_fail(fp_tconn *c, fp_status why);
void ep_conn_shutdown_write(fp_tconn *c);
void ep_conn_update_events(fp_tconn *c);
void ep_conn_release(fp_tconn *c);
void ep_conns_release_all(fp_tworker *w);

/* ---- epoll_send.c ---- */
fp_status ep_tx_reserve(fp_tconn *c, size_t len, fp_span *out);
void ep_tx_commit(fp_tconn *c, fp_span *span, size_t used);
void ep_tx_cancel(fp_tconn *c, fp_span *span);
void ep_conn_send(fp_tconn *c);
void ep_chain_release(fp_tconn *c);
void ep_chunks_free_cache(fp_tworker *w);

#endif
