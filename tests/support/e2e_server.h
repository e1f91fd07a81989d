/* The server under test of the end-to-end suite: the echo plugin served
 * either by an engine inside the test process or by a fastport-server
 * process the suite starts (any build of it, e.g. the Windows one under
 * Wine). The cases are written once against this interface.
 *
 * The mode comes from the environment:
 *   FP_E2E_SERVER=/path/fastport-server[.exe]   external process; unset:
 *                                               in-process engine
 *   FP_E2E_SERVER_LAUNCHER="/path/wine-run"     prefix command for it
 *                                               (split at spaces)
 * In-process, transports and plugins come from FP_TEST_TRANSPORT_DIR and
 * FP_TEST_PLUGIN_DIR; a process finds its own next to its executable.
 *
 * Counters: in-process they are read from the engine; a process runs with
 * --stats-interval and --log-level=debug, so a read mid-run comes from a
 * "stats:" line it makes after the call, and a read after the stop from
 * its final line. Every wait is bounded. Calls on one server come from one
 * thread. */
#ifndef FP_TEST_E2E_SERVER_H
#define FP_TEST_E2E_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct e2e_server_config {
    const char *transport;       /* by name; required */
    const char *listen;          /* "127.0.0.1:0" or "[::1]:0" */
    unsigned workers;
    uint32_t idle_timeout_ms;    /* 0: never */
    uint32_t max_sessions;       /* 0: unlimited */
    uint32_t max_packet;
    uint32_t compress_threshold; /* 0: only when a plugin asks */
    uint32_t send_queue_limit;
    uint32_t drain_timeout_ms;
} e2e_server_config;

typedef struct e2e_endpoint {
    struct sockaddr_storage ss;
    socklen_t len;
} e2e_endpoint;

typedef struct e2e_server e2e_server;

/* The engine's defaults, two workers, 127.0.0.1 on port 0. */
void e2e_server_config_init(e2e_server_config *cfg, const char *transport);

/* Nonzero when FP_E2E_SERVER selects an external process. */
int e2e_server_external(void);
/* "in-process engine" or "LAUNCHER SERVER", for the suite's first line. */
const char *e2e_server_mode(void);

/* Starts the server and returns once it listens; its address goes to
 * `ep`. NULL on failure, with the reason (and a process's stderr) in `err`. */
e2e_server *e2e_server_start(const e2e_server_config *cfg, e2e_endpoint *ep, char *err,
                             size_t err_len);

/* Counter `name`, summed over workers: while running, a value read after
 * this call; after a stop, the final value. -1 with `err` when the server
 * has no such counter or did not report it in time. */
int e2e_server_stat(e2e_server *s, const char *name, uint64_t *value, char *err, size_t err_len);

/* Asks for a graceful shutdown (fp_engine_shutdown on a thread of its own,
 * or SIGINT) and returns at once. */
void e2e_server_stop_request(e2e_server *s);

/* Waits up to `timeout_ms` for the shutdown requested: 0 when it ended
 * cleanly (FP_OK, or exit status 0), else -1 with what happened in `why`.
 * A process that does not exit in time is killed. */
int e2e_server_stop_wait(e2e_server *s, int timeout_ms, char *why, size_t why_len);

/* Frees the server; one still running is shut down first (a process is
 * killed: SIGKILL to its PID). */
void e2e_server_destroy(e2e_server *s);

#endif
