/*
 * abuse.h - fp-abuse, the attacks of issue 11 ("Hardening") as a client
 * independent of libfastport: slow senders that never finish a frame
 * (slowloris) and peers that send echo frames but never read the replies.
 * It reports when the server closed each connection. One thread, epoll,
 * loopback targets only; the connections are opened by load_connect_all.
 */
#ifndef FASTPORT_BENCH_ABUSE_H
#define FASTPORT_BENCH_ABUSE_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "load.h"

#define ABUSE_ECHO_ID 0x2000u /* the echo plugin's range is 0x2000-0x3FFF */

typedef struct abuse_options {
    const char *connect_text;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    uint32_t slowloris; /* connections; 0: not this mode */
    uint32_t never_read; /* connections; 0: not this mode */
    uint64_t interval_ms; /* slowloris: between two bytes of a connection */
    uint32_t frame; /* slowloris: the size its header declares */
    uint32_t payload; /* never-read: payload bytes per frame */
    uint32_t rcvbuf; /* never-read: SO_RCVBUF */
    uint64_t quiet_ms; /* never-read: this long without progress is a stall */
    uint64_t duration_ms; /* at most this long, then the open ones are reported */
    uint64_t connect_timeout_ms;
    int csv;
    int help;
} abuse_options;

/* One attacking connection's record; times from load_now_ns, 0 = not yet. */
typedef struct abuse_conn {
    uint64_t start_ns; /* slowloris: first byte sent; never-read: connected */
    uint64_t progress_ns; /* never-read: the last send that took bytes */
    uint64_t stall_ns; /* never-read: its first stall began: the last progress before --stall without any */
    uint64_t closed_ns; /* the server's close seen (EOF, RST, EPIPE, HUP) */
    uint64_t sent; /* bytes */
    size_t off; /* never-read: where in the frame buffer the next send starts */
    int unexpected; /* slowloris: the server sent something */
} abuse_conn;

typedef struct abuse_run {
    const abuse_options *o;
    int epfd;
    uint32_t n;
    load_session *sessions; /* sockets, from load_connect_all */
    abuse_conn *conns; /* conns[i] goes with sessions[i] */
    uint32_t closed; /* by the server */
    uint64_t start_ns; /* the attack began (connections open) */
    uint64_t stalled_ns; /* never-read: when every connection had stalled once (0: not yet) */
} abuse_run;

extern volatile sig_atomic_t abuse_stop_requested;

/* abuse_options.c */
int abuse_options_parse(abuse_options *o, int argc, char **argv, char *err, size_t err_len);
void abuse_options_print_help(FILE *out);

/* abuse_slowloris.c, abuse_never_read.c: run the attack on connections
 * already open; 0 when it ran to its end (all closed, --duration or a
 * stop request), -1 on a local failure. */
int abuse_slowloris(abuse_run *r);
int abuse_never_read(abuse_run *r);

/* abuse_report.c: the server's closes, counted and as a distribution of
 * closed_ns minus the reference each mode names. */
void abuse_report(const abuse_run *r, uint64_t end_ns);
/* Marks connection i closed by the server now and releases its socket. */
void abuse_conn_closed(abuse_run *r, uint32_t i);

#endif
