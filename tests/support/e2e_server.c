/* e2e_server.h: picks the implementation from the environment and forwards
 * to it. */
#include "e2e_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
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

static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

int e2e_server_external(void) { return env_nonempty("FP_E2E_SERVER") != NULL; }

const char *e2e_server_mode(void)
{
    static char text[1024];
    const char *server = env_nonempty("FP_E2E_SERVER");
    if (!server) return "in-process engine";
    const char *launcher = env_nonempty("FP_E2E_SERVER_LAUNCHER");
    snprintf(text, sizeof(text), "%s%s%s", launcher ? launcher : "", launcher ? " " : "", server);
    return text;
}

e2e_server *e2e_server_start(const e2e_server_config *cfg, e2e_endpoint *ep, char *err,
                             size_t err_len)
{
    const char *server = env_nonempty("FP_E2E_SERVER");
    if (!server) return e2e_server_engine_start(cfg, ep, err, err_len);
    return e2e_server_process_start(cfg, server, env_nonempty("FP_E2E_SERVER_LAUNCHER"), ep, err,
                                    err_len);
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

int e2e_endpoint_parse(const char *text, e2e_endpoint *ep)
{
    char host[64];
    const char *port;
    int v6 = text[0] == '[';
    if (v6) {
        const char *end = strchr(text, ']');
        if (!end || end[1] != ':' || (size_t)(end - text - 1) >= sizeof(host)) return -1;
        memcpy(host, text + 1, (size_t)(end - text - 1));
        host[end - text - 1] = '\0';
        port = end + 2;
    } else {
        const char *colon = strrchr(text, ':');
        if (!colon || (size_t)(colon - text) >= sizeof(host)) return -1;
        memcpy(host, text, (size_t)(colon - text));
        host[colon - text] = '\0';
        port = colon + 1;
    }
    char *end;
    unsigned long p = strtoul(port, &end, 10);
    if (!*port || *end || p == 0 || p > 65535) return -1;
    memset(ep, 0, sizeof(*ep));
    if (v6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ep->ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)p);
        if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) return -1;
        ep->len = sizeof(*sin6);
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ep->ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)p);
        if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) return -1;
        ep->len = sizeof(*sin);
    }
    return 0;
}
