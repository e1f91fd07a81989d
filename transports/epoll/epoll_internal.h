/*
 * epoll_internal.h - state shared by the files of the epoll transport.
 *
 * One worker = one epoll fd + one eventfd, touched only by its thread
 * (except the eventfd write in wake()). Connections are edge-triggered for
 * input and ask for EPOLLOUT only while sends are blocked; listeners are
 * level-triggered so a paused listener simply leaves the epoll set.
 *
 * The connection life cycle, deferred delivery, the send chain, the slab
 * and accept back-off are the transport core's (transports/common/core.h);
 * these files hold what epoll does differently: readiness, reading into a
 * worker buffer and sending the chain with sendmsg. Send memory is the
 * core's malloc'd chunk pool (chunk_pool.h), one per worker.
 */
#ifndef FP_EPOLL_INTERNAL_H
#define FP_EPOLL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "chunk_pool.h"
#include "core.h"
#include "fastport/transport.h"
#include "posix_socket.h"

/* ---- settings (filled from --transport-opt) ---- */

typedef struct ep_settings {
    fpt_sock_settings sock; /* backlog, nodelay, sndbuf, rcvbuf */
    uint64_t read_size;     /* bytes per read() into the worker buffer */
    uint64_t read_budget;   /* bytes read per connection per poll (fairness) */
    uint64_t send_pool_max; /* send memory per worker */
} ep_settings;

struct fp_transport {
    const fp_transport_host *host;
    ep_settings set;
};

extern const fpt_backend ep_backend;

/* ---- objects registered in epoll start with their kind ---- */

typedef enum ep_kind { EP_KIND_WAKE = 1, EP_KIND_ACCEPTOR, EP_KIND_CONN } ep_kind;

typedef struct ep_handle {
    ep_kind kind;
} ep_handle;

/* ---- connections ---- */

struct fp_tconn {
    fpt_conn base; /* first: the core's view */
    int fd;        /* second: fpt_fd_conn's */
    ep_handle h;
    bool readable;    /* input may be waiting (an edge we have not drained) */
    bool eof_pending; /* the last event carried RDHUP/HUP: read until 0 */
    uint32_t events;  /* what epoll currently has registered */
    uint64_t budget_round; /* poll round the read budget belongs to */
    uint64_t budget_left;
};

static inline fp_tconn *ep_conn(fpt_conn *c) { return (fp_tconn *)(void *)c; }

/* ---- listeners: fp_tlistener is posix_socket.h's ---- */

typedef struct ep_acceptor {
    fpt_acceptor base; /* listener, pause and deadline */
    ep_handle h;
    int fd;
    fp_tlistener *l;
} ep_acceptor;

/* ---- workers ---- */

/* The backend's counters (the core's come first, the send pool's gauges
 * last). */
#define EP_COUNTERS(X) \
    X(epoll_waits)     \
    X(events)          \
    X(reads)           \
    X(send_eagain)

typedef struct ep_counters {
    EP_COUNTERS(FPT_COUNTER_FIELD)
} ep_counters;

struct fp_tworker {
    fpt_worker core; /* first: the core's view */
    ep_handle wake_handle;
    fp_transport *t;
    int epfd;
    int wakefd;

    uint8_t *rbuf;
    size_t read_size;
    uint64_t read_budget;
    uint64_t round;
    struct epoll_event *events;
    int max_events;

    fpt_chunk_pool pool; /* send memory, up to send_pool_max */

    ep_counters stats;
};

static inline fp_tworker *ep_worker(fpt_worker *w) { return (fp_tworker *)(void *)w; }

/* ---- epoll_worker.c ---- */
fp_status ep_worker_open(fp_transport *t, unsigned index, void *worker_user, fp_tworker **out);
void ep_worker_close(fp_tworker *w);
int ep_poll(fp_tworker *w, int timeout_ms);
void ep_wake(fp_tworker *w);
void ep_stats_emit(fp_tworker *w, fp_stat_fn emit, void *ctx);

/* ---- epoll_listen.c ---- */
fp_status ep_listen(fp_transport *t, const fp_addr *addr, const fp_listen_opts *opts,
                    fp_tlistener **out, char *err, size_t err_len);
fp_status ep_accept_start(fp_tworker *w, fp_tlistener *l);
void ep_accept_stop(fp_tworker *w, fp_tlistener *l);
void ep_acceptor_on_event(ep_acceptor *a, fp_tworker *w);
int ep_accept_resume_due(fp_tworker *w);
void ep_acceptors_close_all(fp_tworker *w);

/* ---- epoll_conn.c ---- */
fp_status ep_connect(fp_tworker *w, const fp_addr *addr, void *conn_user, fp_tconn **out);
fp_status ep_adopt(fp_tworker *w, fp_socket_handle handle, void *conn_user, fp_tconn **out);
void ep_conn_accepted(fp_tworker *w, int fd, const fp_addr *peer);
void ep_conn_on_event(fp_tconn *c, uint32_t events);
void ep_conn_update_events(fp_tconn *c);
/* fpt_backend hooks */
int ep_conn_read(fpt_conn *c);
void ep_conn_finish(fpt_conn *c);
void ep_conn_discard(fpt_conn *c);

/* ---- epoll_send.c ---- */
void ep_conn_send(fpt_conn *c);
fp_status ep_chunk_take(fpt_worker *w, size_t need, size_t want, fpt_chunk **out);
void ep_chunk_give_back(fpt_worker *w, fpt_chunk *ch);
bool ep_chunk_room(const fpt_worker *w);
bool ep_trim(fpt_worker *w);

#endif
