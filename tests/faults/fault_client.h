/*
 * fp-fault-client: the client side of the fault tests (tests/faults.cmake,
 * driven by tests/scripts/faults.sh against a fastport-server running the
 * echo plugin). One mode per fault; each prints what it measured and exits
 * 0 when the server behaved, 1 when it did not, 2 on bad usage.
 */
#ifndef FP_TEST_FAULT_CLIENT_H
#define FP_TEST_FAULT_CLIENT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct fc_opts {
    struct sockaddr_in server;
    pid_t server_pid; /* emfile: the process whose CPU time is read */
    const char *server_log; /* emfile: the server's stderr */
    unsigned long conns; /* connections opened (emfile, halfclose) */
    unsigned long close; /* emfile: how many of them are closed */
    unsigned long fresh; /* emfile: new connections after the close */
    unsigned long frames; /* frames per connection */
    unsigned long rounds; /* sigpipe: reset connections */
    unsigned long cycles; /* storm: open/send/close cycles */
    unsigned long parallel; /* storm: cycles in flight at once */
    unsigned long window_ms; /* emfile: how long exhaustion is watched */
    unsigned long long seed;
} fc_opts;

int fc_emfile(const fc_opts *o);
int fc_halfclose(const fc_opts *o);
int fc_sigpipe(const fc_opts *o);
int fc_storm(const fc_opts *o);

/* ---- fault_net.c ---- */

/* CLOCK_MONOTONIC in milliseconds. */
int64_t fc_now_ms(void);

/* Blocking connect with every later send and recv bounded by
 * `timeout_ms`; -1 (reason on stderr) on failure. */
int fc_connect(const struct sockaddr_in *to, int timeout_ms);
/* A non-blocking socket whose connect is under way (or done); -1 on error. */
int fc_connect_start(const struct sockaddr_in *to, const struct sockaddr_in *from);
/* Closes with SO_LINGER {1, 0}: the kernel sends RST, not FIN. */
void fc_reset(int fd);

/* splitmix64's finaliser: bytes that differ for every input. */
uint64_t fc_mix(uint64_t x);
/* A frame of `len` payload bytes under `id` (its compressed bit cleared)
 * whose bytes are derived from `tag`, so a reply carrying another
 * connection's payload is told apart. */
size_t fc_frame_build(uint8_t *frame, uint16_t id, uint64_t tag, size_t len);
/* Whether `reply` is exactly the echo of `frame`. */
bool fc_frame_is_echo(const uint8_t *frame, const uint8_t *reply, size_t size);
/* Sends all of `p` (blocking socket); 0 or -1. */
int fc_write_all(int fd, const void *p, size_t len);
/* Reads exactly `len` bytes (blocking socket); 0, -1 on error or
 * timeout, -2 on EOF. */
int fc_read_all(int fd, void *p, size_t len);
/* Sends one frame built from `tag` and checks its echo; 0 or -1 (why on
 * stderr, prefixed with `what`). */
int fc_echo_once(int fd, uint64_t tag, size_t len, const char *what);

#endif
