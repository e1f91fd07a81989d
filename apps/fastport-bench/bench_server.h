/*
 * bench_server.h - a fastport-server child process for --compare.
 *
 * The server is started with --plugin=fastport on a free loopback port;
 * its stdout start-up lines give its transport and address, its stderr
 * goes to an anonymous file shown when something goes wrong. The child
 * gets SIGTERM if this program dies first, so no server outlives it.
 */
#ifndef FASTPORT_BENCH_SERVER_H
#define FASTPORT_BENCH_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <fastport/types.h>

typedef struct bench_server {
    pid_t pid;           /* 0: not running */
    char address[80];    /* "127.0.0.1:PORT" */
    char transport[64];  /* from its "transport: NAME" line */
    FILE *log;           /* its stderr */
} bench_server;

typedef struct bench_server_config {
    const char *binary;        /* fastport-server */
    const char *transport;
    const char *transport_dir; /* NULL: the server's default */
    unsigned workers;
    int cpu;                   /* -1: not pinned */
    fp_log_level log_level;
} bench_server_config;

/* The fastport-server next to this program, written into `buf`. */
const char *bench_server_default_binary(char *buf, size_t len);

/* Starts the server and waits (bounded) for its listening line. Returns 0,
 * or -1 with a reason in `err` (the child, if any, is stopped). */
int bench_server_start(bench_server *srv, const bench_server_config *cfg, char *err,
                       size_t err_len);

/* The server's user + system CPU time so far, in ns. Returns 0 or -1. */
int bench_server_cpu_ns(const bench_server *srv, uint64_t *out_ns);

/* SIGTERM, then waits up to `timeout_ms` for it to exit (SIGKILL after).
 * Returns its exit status, or -1 when it had to be killed or died of a
 * signal (reason in `err`). */
int bench_server_stop(bench_server *srv, unsigned timeout_ms, char *err, size_t err_len);

/* Frees what a stopped server still holds (its stderr file). */
void bench_server_release(bench_server *srv);

/* Copies the last lines of the server's stderr to `out`, each prefixed. */
void bench_server_show_log(const bench_server *srv, FILE *out, size_t max_lines);

#endif
