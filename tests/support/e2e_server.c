/* e2e_server.h: forwards to the implementation. */
#include "e2e_server.h"

#include <string.h>

#include "e2e_server_impl.h"
#include "fastport/engine.h"

void e2e_server_config_init(e2e_server_config *cfg, const char *transport)
{
    fp_engine_config defaults;
    fp_engine_config_init(&defaults);
    memset(cfg, 0, sizeof(*cfg));
    cfg->transport = transport;
    cfg->listen = "127.0.0.1:0";
    cfg->workers = 2;
    cfg->idle_timeout_ms = defaults.idle_timeout_ms;
    cfg->max_sessions = defaults.max_sessions;
    cfg->max_packet = defaults.max_packet;
    cfg->compress_threshold = defaults.compress_threshold;
    cfg->send_queue_limit = defaults.send_queue_limit;
    cfg->drain_timeout_ms = defaults.drain_timeout_ms;
}

e2e_server *e2e_server_start(const e2e_server_config *cfg, e2e_endpoint *ep, char *err,
                             size_t err_len)
{
    return e2e_server_engine_start(cfg, ep, err, err_len);
}

int e2e_server_stat(e2e_server *s, const char *name, uint64_t *value, char *err, size_t err_len)
{
    return s->ops->stat(s, name, value, err, err_len);
}

void e2e_server_stop_request(e2e_server *s) { s->ops->stop_request(s); }

int e2e_server_stop_wait(e2e_server *s, int timeout_ms, char *why, size_t why_len)
{
    return s->ops->stop_wait(s, timeout_ms, why, why_len);
}

void e2e_server_destroy(e2e_server *s)
{
    if (s) s->ops->destroy(s);
}
