/*
 * transport_harness.h - drives one transport worker on the test thread and
 * records every callback, for the transport contract suite.
 *
 * The test thread is both the engine (poll + flush in a loop) and the peer
 * (plain non-blocking sockets), so every wait is a bounded loop of
 * th_step() calls that also services the peer.
 */
#ifndef FP_TESTS_TRANSPORT_HARNESS_H
#define FP_TESTS_TRANSPORT_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fastport/transport.h"

#define TH_MAX_CONNS 64

typedef struct th_env th_env;

/* What the harness saw for one connection (the conn_user). Records outlive
 * the connection so callbacks after on_closed can be detected. */
typedef struct th_conn {
    th_env *env;
    fp_tconn *conn;
    bool outbound;
    int connected_count;
    int eof_count;
    int closed_count;
    int writable_count;
    int recv_calls;
    int calls_after_close; /* any callback once on_closed was delivered */
    int recv_after_eof;
    fp_status closed_why;
    size_t sent; /* sum of on_sent */
    uint8_t *rx;
    size_t rx_len, rx_cap;
    bool echo;          /* send every received byte back */
    bool echo_lend;     /* echo by tx_lend where the transport lends (th_lend_echo) */
    size_t lent, lend_refused; /* bytes lent / refused by tx_lend */
    bool pause_on_recv; /* recv_pause from inside on_recv */
} th_conn;

struct th_env {
    const char *name;
    void *dl;
    const fp_transport_vtbl *vt;
    fp_transport_events events;
    fp_transport_host host;
    fp_transport *t;
    fp_tworker *w;
    fp_tlistener *l;
    fp_addr listen_addr;

    th_conn *conns[TH_MAX_CONNS];
    size_t n_conns;
    size_t accepts_seen;   /* on_accepted calls, refused ones included */
    bool echo_accepted;    /* new accepted connections echo */
    bool lend_accepted;    /* ... and echo by lending (see th_lend_echo) */
    int refuse_accept_nth; /* 1-based on_accepted call to refuse; 0: none */
    unsigned log_lines;
    char last_log[512];
};

/* The transport named on the command line (set by main). */
extern const char *th_transport_name;

/* The transport's tx_lend, or NULL when its table has none. */
fp_status (*th_tx_lend(const th_env *e))(fp_tconn *, const void *, size_t);

/* Loads $FP_TEST_TRANSPORT_DIR/<name>.so (.dll on Windows) and its entry
 * table. */
void th_load(th_env *e, const char *name);

/* The library part of th_load: loads the module (handle in *dl) and
 * returns its checked entry table. */
const fp_transport_vtbl *th_load_library(const char *name, void **dl);

/* CLOCK_MONOTONIC in milliseconds, for bounded waits (never asserted on). */
int64_t th_now_ms(void);

/* Points `host` at `events`, filled with these callbacks, and at `log`. */
void th_host_wire(fp_transport_host *host, fp_transport_events *events,
                  void *(*on_accepted)(void *, fp_tconn *, const fp_addr *),
                  void (*on_connected)(void *), void (*on_recv)(void *, const uint8_t *, size_t),
                  void (*on_eof)(void *), void (*on_sent)(void *, size_t), void (*on_writable)(void *),
                  void (*on_closed)(void *, fp_status),
                  void (*log)(void *, fp_log_level, const char *), void *log_ctx);

/* Loads and opens with `opts`, returns open's status (err filled). */
fp_status th_try_open(th_env *e, const fp_kv *opts, size_t n_opts, char *err, size_t err_len);

/* Loads, opens (asserting success) and opens worker 0. */
void th_start(th_env *e, const fp_kv *opts, size_t n_opts);

/* Listens on the loopback of `family` (FP_AF_INET / FP_AF_INET6), port 0,
 * and starts accepting on the worker. */
void th_listen(th_env *e, int family);

/* listen() on the loopback of `family`, port 0 (asserting success); the
 * real address in *bound. */
void th_listen_loopback(const fp_transport_vtbl *vt, fp_transport *t, int family, fp_tlistener **l,
                        fp_addr *bound);

/* Undoes everything th_start/th_listen did. */
void th_stop(th_env *e);

/* One engine iteration: poll(timeout) then flush. Returns poll's result. */
int th_step(th_env *e, int timeout_ms);

/* Steps until `done(ctx)` or `max_ms` passed; returns done(ctx). */
bool th_run_until(th_env *e, bool (*done)(th_env *, void *), void *ctx, int max_ms);

/* Steps until `n` connections were accepted (and kept) in total. */
th_conn *th_wait_accepted(th_env *e, size_t n, int max_ms);

/* Steps until `c` got on_closed. */
bool th_wait_closed(th_env *e, th_conn *c, int max_ms);

/* Steps until `c` received at least `n` bytes. */
bool th_wait_rx(th_env *e, th_conn *c, size_t n, int max_ms);

/* Reserves, fills and commits `len` bytes in pieces (asserting success). */
void th_send(th_env *e, th_conn *c, const uint8_t *data, size_t len);

/* A new record for an outbound connection. */
th_conn *th_new_conn(th_env *e);

/* Counter from the worker's stats(), or UINT64_MAX when not reported. */
uint64_t th_stat(th_env *e, const char *name);

/* ---- the peer side: plain sockets ---- */

void th_loopback(fp_addr *a, int family, uint16_t port);

/* Blocking connect to `a` (the kernel completes it from the backlog), then
 * non-blocking. `rcvbuf` > 0 sets SO_RCVBUF first. Returns the fd. */
int th_peer_connect(const fp_addr *a, int rcvbuf);

/* Non-blocking read of what is there; 0 if nothing, -1 on EOF, -2 on error. */
long th_peer_read(int fd, uint8_t *buf, size_t max);

/* Steps the worker while reading exactly `n` bytes from `fd`. */
bool th_peer_read_exact(th_env *e, int fd, uint8_t *buf, size_t n, int max_ms);

/* Steps the worker until `fd` reads EOF (after discarding data into *extra). */
bool th_peer_wait_eof(th_env *e, int fd, size_t *extra, int max_ms);

/* Writes all of `data`, stepping the worker whenever the socket is full. */
void th_peer_write(th_env *e, int fd, const void *data, size_t len);

/* Closes with SO_LINGER{1,0}: the kernel sends RST. */
void th_peer_reset(int fd);

/* The local port of socket `fd` (0 if it has none). */
uint16_t th_local_port(int fd);

/* The transport's own socket for the connection to `local` from the peer
 * socket whose local port was `peer_port`, found among this process's
 * descriptors (-1: none). Lets a test watch what the kernel reports on it
 * (th_socket_ended) without taking anything from the transport. */
int th_transport_socket(const fp_addr *local, uint16_t peer_port);

/* The kernel reports fd reset (th_socket_reset), or fd is closed
 * already. Does not wait, and leaves the pending error for the transport
 * to find. */
bool th_socket_ended(int fd);

/* A listening socket on loopback for outbound tests; port in *a. */
int th_peer_listen(int family, fp_addr *a);

/* Accepts one connection on `lfd` and makes it non-blocking. */
int th_peer_accept(int lfd);

/* The byte at stream offset `off` of the ordered-stream pattern. */
static inline uint8_t th_pattern(uint64_t off)
{
    uint64_t x = off * 0x9E3779B97F4A7C15ull;
    return (uint8_t)(x >> 56) ^ (uint8_t)(off >> 16);
}

#endif
