/* The server under test of the end-to-end suite: the echo plugin served
 * by an engine inside the test process, with transports and plugins from
 * FP_TEST_TRANSPORT_DIR and FP_TEST_PLUGIN_DIR. The cases are written
 * against this interface, not against the engine: start with a
 * configuration, read counters, stop, and see how the stop went. Every wait
 * is bounded. Calls on one server come from one thread. */
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

/* Starts the server and returns once it listens; its address goes to
 * `ep`. NULL on failure, with the reason in `err`. */
e2e_server *e2e_server_start(const e2e_server_config *cfg, e2e_endpoint *ep, char *err,
                             size_t err_len);

/* Counter `name`, summed over workers: while running, a value read after
 * this call; after a stop, the final value. -1 with `err` when the server
 * has no such counter. */
int e2e_server_stat(e2e_server *s, const char *name, uint64_t *value, char *err, size_t err_len);

/* Asks for a graceful shutdown (fp_engine_shutdown on a thread of its own)
 * and returns at once. */
void e2e_server_stop_request(e2e_server *s);

/* Waits up to `timeout_ms` for the shutdown requested: 0 when it ended
 * cleanly (FP_OK), else -1 with what happened in `why`. */
int e2e_server_stop_wait(e2e_server *s, int timeout_ms, char *why, size_t why_len);

/* Frees the server (shutting it down first if still running). */
void e2e_server_destroy(e2e_server *s);

#endif
