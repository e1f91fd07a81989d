/* What the two implementations of e2e_server.h provide: a table of the
 * calls that differ, behind a common header. Private to e2e_server*.c. */
#ifndef FP_TEST_E2E_SERVER_IMPL_H
#define FP_TEST_E2E_SERVER_IMPL_H

#include "e2e_server.h"

typedef struct e2e_server_ops {
    int (*stat)(e2e_server *s, const char *name, uint64_t *value, char *err, size_t err_len);
    void (*stop_request)(e2e_server *s);
    int (*stop_wait)(e2e_server *s, int timeout_ms, char *why, size_t why_len);
    void (*destroy)(e2e_server *s);
} e2e_server_ops;

/* The first member of each implementation's server. */
struct e2e_server {
    const e2e_server_ops *ops;
};

/* An engine in this process (e2e_server_engine.c). */
e2e_server *e2e_server_engine_start(const e2e_server_config *cfg, e2e_endpoint *ep, char *err,
                                    size_t err_len);

/* A fastport-server process (e2e_server_process.c); `launcher` may be NULL. */
e2e_server *e2e_server_process_start(const e2e_server_config *cfg, const char *server,
                                     const char *launcher, e2e_endpoint *ep, char *err,
                                     size_t err_len);

/* "HOST:PORT" or "[V6]:PORT" (numeric) into `ep`; -1 if malformed. */
int e2e_endpoint_parse(const char *text, e2e_endpoint *ep);

#endif
