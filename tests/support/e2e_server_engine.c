/* e2e_server.h with the engine inside the test process: fp_engine_create
 * with the transport named, the echo plugin, and counters read with
 * fp_engine_stats. The shutdown runs on a thread so a case can drive its
 * clients while the engine drains. */
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "e2e_server_impl.h"
#include "fastport/engine.h"

typedef struct engine_server {
    e2e_server base;
    fp_engine *e;
    pthread_t stopper;
    int stopping; /* the shutdown thread was started ... */
    int joined;   /* ... and has returned */
    fp_status result;
    char known[32][64]; /* counter names checked to exist */
    size_t n_known;
} engine_server;

static void endpoint_from_addr(const fp_addr *a, e2e_endpoint *out)
{
    memset(out, 0, sizeof(*out));
    if (a->family == FP_AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(a->port);
        sin6->sin6_scope_id = a->scope_id;
        memcpy(&sin6->sin6_addr, a->bytes, 16);
        out->len = sizeof(*sin6);
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(a->port);
        memcpy(&sin->sin_addr, a->bytes, 4);
        out->len = sizeof(*sin);
    }
}

typedef struct stat_find {
    const char *name;
    uint64_t value;
    int found;
} stat_find;

static void find_stat(void *ctx, const char *name, uint64_t value)
{
    stat_find *f = ctx;
    if (strcmp(f->name, name) == 0) {
        f->value = value;
        f->found = 1;
    }
}

/* fp_engine_stat reads an unknown name as 0, and a case naming a counter
 * the engine lacks is a mistake: the first read of each name checks it
 * among those fp_engine_stats reports (which also refreshes the transport
 * counters through the workers, so it is not what a poll should call). */
static int engine_stat(e2e_server *base, const char *name, uint64_t *value, char *err,
                       size_t err_len)
{
    engine_server *s = (engine_server *)base;
    size_t i = 0;
    while (i < s->n_known && strcmp(s->known[i], name) != 0) i++;
    if (i == s->n_known) {
        stat_find f = {.name = name};
        fp_engine_stats(s->e, find_stat, &f);
        if (!f.found) {
            snprintf(err, err_len, "the engine reports no counter '%s'", name);
            return -1;
        }
        if (s->n_known < sizeof(s->known) / sizeof(s->known[0])) {
            snprintf(s->known[s->n_known], sizeof(s->known[0]), "%s", name);
            s->n_known++;
        }
    }
    *value = fp_engine_stat(s->e, name);
    return 0;
}

static void *call_shutdown(void *arg)
{
    engine_server *s = arg;
    s->result = fp_engine_shutdown(s->e);
    return NULL;
}

static void engine_stop_request(e2e_server *base)
{
    engine_server *s = (engine_server *)base;
    if (s->stopping) return;
    if (pthread_create(&s->stopper, NULL, call_shutdown, s) != 0) {
        call_shutdown(s); /* no thread: shut down here */
        s->joined = 1;
    }
    s->stopping = 1;
}

static int engine_stop_wait(e2e_server *base, int timeout_ms, char *why, size_t why_len)
{
    engine_server *s = (engine_server *)base;
    if (!s->stopping) {
        snprintf(why, why_len, "no shutdown was requested");
        return -1;
    }
    if (!s->joined) {
        struct timespec limit;
        clock_gettime(CLOCK_REALTIME, &limit);
        limit.tv_sec += timeout_ms / 1000;
        limit.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (limit.tv_nsec >= 1000000000L) {
            limit.tv_sec++;
            limit.tv_nsec -= 1000000000L;
        }
        if (pthread_timedjoin_np(s->stopper, NULL, &limit) != 0) {
            snprintf(why, why_len, "fp_engine_shutdown did not return within %d ms", timeout_ms);
            return -1;
        }
        s->joined = 1;
    }
    if (s->result != FP_OK) {
        snprintf(why, why_len, "fp_engine_shutdown: %s", fp_strerror(s->result));
        return -1;
    }
    return 0;
}

static void engine_destroy(e2e_server *base)
{
    engine_server *s = (engine_server *)base;
    if (s->stopping && !s->joined) pthread_join(s->stopper, NULL);
    fp_engine_destroy(s->e);
    free(s);
}

static const e2e_server_ops engine_ops = {
    .stat = engine_stat,
    .stop_request = engine_stop_request,
    .stop_wait = engine_stop_wait,
    .destroy = engine_destroy,
};

static void engine_config(const e2e_server_config *cfg, fp_engine_config *out)
{
    static const char *const echo_only[] = {"echo"};
    fp_engine_config_init(out);
    out->transport = cfg->transport;
    out->transport_dir = getenv("FP_TEST_TRANSPORT_DIR");
    out->plugin_dir = getenv("FP_TEST_PLUGIN_DIR");
    out->plugins = echo_only;
    out->n_plugins = 1;
    out->workers = cfg->workers;
    out->idle_timeout_ms = cfg->idle_timeout_ms;
    out->max_sessions = cfg->max_sessions;
    out->max_packet = cfg->max_packet;
    out->compress_threshold = cfg->compress_threshold;
    out->send_queue_limit = cfg->send_queue_limit;
    out->drain_timeout_ms = cfg->drain_timeout_ms;
    out->log_level = FP_LOG_WARN;
}

/* listen + read back the bound address + start. */
static int engine_listen_start(fp_engine *e, const char *listen, e2e_endpoint *ep, char *err,
                               size_t err_len)
{
    char why[512] = "";
    fp_status st = fp_engine_listen(e, listen, why, sizeof(why));
    if (st != FP_OK) {
        snprintf(err, err_len, "fp_engine_listen(%s): %s: %s", listen, fp_strerror(st), why);
        return -1;
    }
    fp_addr bound;
    st = fp_engine_listen_addr(e, 0, &bound);
    if (st != FP_OK || bound.port == 0) {
        snprintf(err, err_len, "fp_engine_listen_addr: %s",
                 st != FP_OK ? fp_strerror(st) : "port 0 left unresolved");
        return -1;
    }
    endpoint_from_addr(&bound, ep);
    st = fp_engine_start(e, why, sizeof(why));
    if (st != FP_OK) {
        snprintf(err, err_len, "fp_engine_start: %s: %s", fp_strerror(st), why);
        return -1;
    }
    return 0;
}

e2e_server *e2e_server_engine_start(const e2e_server_config *cfg, e2e_endpoint *ep, char *err,
                                    size_t err_len)
{
    fp_engine_config ecfg;
    engine_config(cfg, &ecfg);
    char why[512] = "";
    fp_engine *e = fp_engine_create(&ecfg, why, sizeof(why));
    if (!e) {
        snprintf(err, err_len, "fp_engine_create(transport=%s): %s", cfg->transport, why);
        return NULL;
    }
    engine_server *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, err_len, "out of memory");
        fp_engine_destroy(e);
        return NULL;
    }
    s->base.ops = &engine_ops;
    s->e = e;
    if (engine_listen_start(e, cfg->listen, ep, err, err_len) < 0) {
        engine_destroy(&s->base);
        return NULL;
    }
    return &s->base;
}
