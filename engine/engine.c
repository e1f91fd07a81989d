/* libfastport's public API (fastport/engine.h): build an engine from a
 * config, run its workers, stop it gracefully. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "log.h"
#include "paths.h"

#define SLOT_NONE UINT32_MAX
#define DEFAULT_SEND_QUEUE_LIMIT (256u << 10)
#define DEFAULT_DRAIN_TIMEOUT_MS 5000u
#define MAILBOX_CAPACITY 65536u
#define STATS_WAIT_NS 1000000000ull

static fp_engine *_Atomic active_engine;

fp_engine *fp_engine_active(void) { return atomic_load(&active_engine); }

const char *fp_version(void) { return FP_VERSION_STRING; }

void fp_engine_config_init(fp_engine_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_packet = FP_FRAME_MAX_SIZE;
    cfg->send_queue_limit = DEFAULT_SEND_QUEUE_LIMIT;
    cfg->drain_timeout_ms = DEFAULT_DRAIN_TIMEOUT_MS;
    cfg->frame_timeout_ms = FP_ENGINE_DEFAULT_FRAME_TIMEOUT_MS;
    cfg->send_timeout_ms = FP_ENGINE_DEFAULT_SEND_TIMEOUT_MS;
    cfg->worker_memory_limit = FP_ENGINE_DEFAULT_WORKER_MEMORY_LIMIT;
    cfg->log_level = FP_LOG_INFO;
}

/* One per online core, but never more than session ids can address. */
static unsigned default_workers(void)
{
    unsigned cpus = fp_cpu_count();
    if (cpus <= FP_ENGINE_MAX_WORKERS)
        return cpus;
    fp_log(FP_LOG_INFO, "%u cores online; running %u workers, the most an engine has", cpus,
           FP_ENGINE_MAX_WORKERS);
    return FP_ENGINE_MAX_WORKERS;
}

static fp_status check_config(const fp_engine_config *cfg, char *err, size_t err_len)
{
    if (cfg->max_packet < FP_FRAME_HEADER_SIZE || cfg->max_packet > FP_FRAME_MAX_SIZE) {
        snprintf(err, err_len, "max_packet %u out of range: must be %u..%u", cfg->max_packet,
                 FP_FRAME_HEADER_SIZE, FP_FRAME_MAX_SIZE);
        return FP_EINVAL;
    }
    if (cfg->send_queue_limit < cfg->max_packet) {
        snprintf(err, err_len, "send_queue_limit %u is below max_packet %u: one frame must fit",
                 cfg->send_queue_limit, cfg->max_packet);
        return FP_EINVAL;
    }
    if (cfg->workers > FP_ENGINE_MAX_WORKERS) {
        snprintf(err, err_len, "workers %u out of range: must be 1..%u (0: one per core, at most %u)",
                 cfg->workers, FP_ENGINE_MAX_WORKERS, FP_ENGINE_MAX_WORKERS);
        return FP_EINVAL;
    }
    if (cfg->n_plugins + cfg->n_builtin_plugins == 0) {
        snprintf(err, err_len, "no plugin given: at least one protocol plugin is needed (available in %s)",
                 cfg->plugin_dir ? cfg->plugin_dir : fp_default_plugin_dir());
        return FP_EINVAL;
    }
    return FP_OK;
}

/* Plugin options arrive as "plugin.key"; each plugin sees only its keys. */
static fp_status init_plugin(fp_engine *e, fp_loaded_plugin *p, char *err, size_t err_len)
{
    const fp_plugin_desc *d = p->desc;
    size_t name_len = strlen(d->name);
    fp_kv *mine = calloc(e->cfg.n_plugin_opts + 1, sizeof *mine);
    if (!mine)
        return FP_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < e->cfg.n_plugin_opts; i++) {
        const fp_kv *kv = &e->cfg.plugin_opts[i];
        if (strncmp(kv->key, d->name, name_len) == 0 && kv->key[name_len] == '.') {
            mine[n].key = kv->key + name_len + 1;
            mine[n].value = kv->value;
            n++;
        }
    }
    fp_status st = FP_OK;
    if (d->init) {
        char why[256] = "";
        st = d->init(&fp_engine_api_table, mine, n, &p->ctx, why, sizeof why);
        if (st != FP_OK)
            snprintf(err, err_len, "plugin %s (%s): init failed: %s%s%s", d->name, p->path,
                     fp_strerror(st), why[0] ? ": " : "", why);
    }
    free(mine);
    if (st == FP_OK)
        p->initialised = 1;
    return st;
}

static fp_status check_plugin_options(const fp_engine *e, char *err, size_t err_len)
{
    for (size_t i = 0; i < e->cfg.n_plugin_opts; i++) {
        const char *key = e->cfg.plugin_opts[i].key;
        const char *dot = strchr(key, '.');
        int known = 0;
        for (size_t j = 0; dot && j < e->n_plugins; j++) {
            const char *name = e->plugins[j].desc->name;
            if (strlen(name) == (size_t)(dot - key) && strncmp(name, key, (size_t)(dot - key)) == 0)
                known = 1;
        }
        if (!known) {
            snprintf(err, err_len, "plugin option '%s' names no loaded plugin (use PLUGIN.KEY=VALUE)", key);
            return FP_EINVAL;
        }
    }
    return FP_OK;
}

static fp_status register_routes(fp_engine *e, size_t index, char *err, size_t err_len)
{
    fp_loaded_plugin *p = &e->plugins[index];
    const fp_plugin_desc *d = p->desc;
    for (size_t i = 0; i < d->n_handlers; i++) {
        uint16_t id = d->handlers[i].packet_id;
        if (e->routes[id].fn) {
            const char *owner = "?";
            for (size_t j = 0; j <= index; j++)
                for (size_t k = 0; k < e->plugins[j].desc->n_handlers; k++)
                    if (e->plugins[j].desc->handlers[k].packet_id == id && (j != index || k < i)) {
                        owner = e->plugins[j].desc->name;
                        goto found;
                    }
        found:
            snprintf(err, err_len, "plugin %s (%s) claims packet id 0x%04x, already handled by plugin %s; refused",
                     d->name, p->path, id, owner);
            return FP_EEXIST;
        }
        e->routes[id].fn = d->handlers[i].fn;
        e->routes[id].ctx = p->ctx;
    }
    if (d->catch_all) {
        if (e->catch_all.fn) {
            snprintf(err, err_len, "plugin %s (%s) declares a catch-all handler, but an earlier plugin already has one; refused",
                     d->name, p->path);
            return FP_EEXIST;
        }
        e->catch_all.fn = d->catch_all;
        e->catch_all.ctx = p->ctx;
    }
    return FP_OK;
}

static fp_status add_builtin(fp_engine *e, const fp_plugin_desc *d, char *err, size_t err_len)
{
    fp_loaded_plugin *p = &e->plugins[e->n_plugins];
    memset(p, 0, sizeof *p);
    snprintf(p->path, sizeof p->path, "(built in)");
    if (!d) {
        snprintf(err, err_len, "built-in plugin %zu is NULL", e->n_plugins);
        return FP_EINVAL;
    }
    char origin[96];
    snprintf(origin, sizeof origin, "built-in plugin %.60s", d->name ? d->name : "?");
    fp_status st = fp_plugin_desc_check(d, origin, NULL, err, err_len);
    if (st != FP_OK)
        return st;
    p->desc = d;
    e->n_plugins++;
    return FP_OK;
}

static fp_status load_plugins(fp_engine *e, char *err, size_t err_len)
{
    e->plugins = calloc(e->cfg.n_plugins + e->cfg.n_builtin_plugins, sizeof *e->plugins);
    e->routes = calloc(65536, sizeof *e->routes);
    if (!e->plugins || !e->routes)
        return FP_ENOMEM;
    for (size_t i = 0; i < e->cfg.n_plugins; i++) {
        const char *name = e->cfg.plugins[i];
        for (size_t j = 0; j < i; j++)
            if (strcmp(e->cfg.plugins[j], name) == 0) {
                snprintf(err, err_len, "plugin '%s' given twice", name);
                return FP_EEXIST;
            }
        fp_status st = fp_plugin_load(e->plugin_dir, name, &e->plugins[i], err, err_len);
        if (st != FP_OK)
            return st;
        e->n_plugins = i + 1;
    }
    for (size_t i = 0; i < e->cfg.n_builtin_plugins; i++) {
        fp_status st = add_builtin(e, e->cfg.builtin_plugins[i], err, err_len);
        if (st != FP_OK)
            return st;
    }
    fp_status st = check_plugin_options(e, err, err_len);
    for (size_t i = 0; st == FP_OK && i < e->n_plugins; i++) {
        st = init_plugin(e, &e->plugins[i], err, err_len);
        if (st == FP_OK)
            st = register_routes(e, i, err, err_len);
    }
    return st;
}

static void unload_plugins(fp_engine *e)
{
    for (size_t i = e->n_plugins; i-- > 0;) {
        fp_loaded_plugin *p = &e->plugins[i];
        if (p->initialised && p->desc->shutdown)
            p->desc->shutdown(p->ctx);
        fp_plugin_unload(p);
    }
    free(e->plugins);
    free(e->routes);
    e->plugins = NULL;
    e->routes = NULL;
    e->n_plugins = 0;
}

static fp_status init_workers(fp_engine *e)
{
    e->workers = calloc(e->n_workers, sizeof *e->workers);
    if (!e->workers)
        return FP_ENOMEM;
    size_t inflate_cap = e->cfg.max_packet - FP_FRAME_HEADER_SIZE;
    for (unsigned i = 0; i < e->n_workers; i++) {
        fp_worker *w = &e->workers[i];
        w->engine = e;
        w->index = i;
        w->free_head = SLOT_NONE;
        fp_mutex_init(&w->wake_lock);
        fp_mutex_init(&w->stats_lock);
        fp_cond_init(&w->stats_cond);
        w->mailbox = fp_mailbox_create(MAILBOX_CAPACITY);
        w->timers = fp_timer_heap_create();
        w->codec = fp_codec_create(inflate_cap, 6);
        if (!w->mailbox || !w->timers || !w->codec)
            return FP_ENOMEM;
    }
    return FP_OK;
}

static void free_workers(fp_engine *e)
{
    for (unsigned i = 0; e->workers && i < e->n_workers; i++) {
        fp_worker *w = &e->workers[i];
        fp_session_table_free(w);
        if (w->mailbox)
            fp_mailbox_destroy(w->mailbox);
        if (w->timers)
            fp_timer_heap_destroy(w->timers);
        if (w->codec)
            fp_codec_destroy(w->codec);
        free(w->tstats);
        free(w->snapshot);
        fp_mutex_destroy(&w->wake_lock);
        fp_mutex_destroy(&w->stats_lock);
        fp_cond_destroy(&w->stats_cond);
    }
    free(e->workers);
    e->workers = NULL;
}

static fp_status open_transport(void *ctx, const fp_loaded_transport *t, char *why, size_t why_len)
{
    fp_engine *e = ctx;
    fp_status st = t->vt->open(&e->host, e->cfg.transport_opts, e->cfg.n_transport_opts, &e->t, why, why_len);
    if (st != FP_OK)
        e->t = NULL;
    return st;
}

fp_engine *fp_engine_create(const fp_engine_config *cfg, char *err, size_t err_len)
{
    if (err_len)
        err[0] = '\0';
    if (check_config(cfg, err, err_len) != FP_OK)
        return NULL;
    fp_engine *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    e->cfg = *cfg;
    int event_err = fp_event_open(&e->stop_event);
    fp_mutex_init(&e->start_lock);
    fp_cond_init(&e->start_cond);
    fp_log_configure(cfg->log_level, cfg->log_sink, cfg->log_ctx);
    e->transport_dir = strdup(cfg->transport_dir ? cfg->transport_dir : fp_default_transport_dir());
    e->plugin_dir = strdup(cfg->plugin_dir ? cfg->plugin_dir : fp_default_plugin_dir());
    e->n_workers = cfg->workers ? cfg->workers : default_workers();
    if (event_err != 0) {
        char text[128];
        snprintf(err, err_len, "engine set-up failed: stop event: %s",
                 fp_sys_error_text(event_err, text, sizeof text));
        goto fail;
    }
    if (!e->transport_dir || !e->plugin_dir) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    e->host.struct_size = sizeof e->host;
    e->host.events = &fp_engine_events;
    e->host.log = fp_log_sink_for_transport;
    if (fp_transport_select(e->transport_dir, cfg->transport, open_transport, e, &e->transport, err,
                            err_len) != FP_OK)
        goto fail;
    if (load_plugins(e, err, err_len) != FP_OK)
        goto fail;
    if (init_workers(e) != FP_OK) {
        snprintf(err, err_len, "out of memory creating %u workers", e->n_workers);
        goto fail;
    }
    return e;
fail:
    fp_engine_destroy(e);
    return NULL;
}

fp_status fp_engine_listen(fp_engine *e, const char *host_port, char *err, size_t err_len)
{
    if (e->started) {
        snprintf(err, err_len, "listen after start is not supported");
        return FP_EINVAL;
    }
    fp_addr addr;
    if (fp_addr_parse(host_port, &addr) != FP_OK) {
        snprintf(err, err_len, "bad listen address '%s': expected HOST:PORT or [V6]:PORT with a numeric host",
                 host_port);
        return FP_EINVAL;
    }
    fp_tlistener **grown = realloc(e->listeners, (e->n_listeners + 1) * sizeof *grown);
    if (!grown)
        return FP_ENOMEM;
    e->listeners = grown;
    fp_listen_opts opts = {.struct_size = sizeof opts, .backlog = 0};
    char why[256] = "";
    fp_tlistener *l = NULL;
    fp_status st = e->transport.vt->listen(e->t, &addr, &opts, &l, why, sizeof why);
    if (st != FP_OK) {
        snprintf(err, err_len, "cannot listen on %s: %s", host_port, why[0] ? why : fp_strerror(st));
        return st;
    }
    e->listeners[e->n_listeners++] = l;
    return FP_OK;
}

fp_status fp_engine_listen_addr(const fp_engine *e, size_t index, fp_addr *out)
{
    if (index >= e->n_listeners)
        return FP_ENOTFOUND;
    e->transport.vt->listener_addr(e->listeners[index], out);
    return FP_OK;
}

static void join_workers(fp_engine *e)
{
    for (unsigned i = 0; i < e->n_workers; i++) {
        if (e->workers[i].thread_started) {
            fp_thread_join(e->workers[i].thread);
            e->workers[i].thread_started = 0;
        }
    }
}

static void post_to_all(fp_engine *e, uint32_t kind)
{
    for (unsigned i = 0; i < e->n_workers; i++) {
        fp_mail *m = calloc(1, sizeof *m);
        if (!m)
            continue;
        m->kind = kind;
        if (fp_worker_post(&e->workers[i], m) != FP_OK)
            free(m);
    }
}

fp_status fp_engine_start(fp_engine *e, char *err, size_t err_len)
{
    if (e->started) {
        snprintf(err, err_len, "engine already started");
        return FP_EINVAL;
    }
    e->started = 1;
    unsigned launched = 0;
    for (unsigned i = 0; i < e->n_workers; i++) {
        fp_worker *w = &e->workers[i];
        int rc = fp_thread_start(&w->thread, fp_worker_main, w);
        if (rc != 0) {
            char text[128];
            snprintf(err, err_len, "cannot start worker thread %u: %s", i,
                     fp_sys_error_text(rc, text, sizeof text));
            break;
        }
        w->thread_started = 1;
        launched++;
    }
    fp_mutex_lock(&e->start_lock);
    while (e->workers_ready < launched)
        fp_cond_wait(&e->start_cond, &e->start_lock);
    fp_mutex_unlock(&e->start_lock);

    fp_status st = launched == e->n_workers ? FP_OK : FP_ENOMEM;
    for (unsigned i = 0; st == FP_OK && i < launched; i++) {
        if (e->workers[i].start_status != FP_OK) {
            st = e->workers[i].start_status;
            snprintf(err, err_len, "%s", e->workers[i].start_err);
        }
    }
    if (st != FP_OK) {
        post_to_all(e, FP_MAIL_DRAIN);
        join_workers(e);
        e->shut_down = 1;
        return st;
    }
    atomic_store(&active_engine, e);
    char addr[80];
    for (size_t i = 0; i < e->n_listeners; i++) {
        fp_addr a;
        e->transport.vt->listener_addr(e->listeners[i], &a);
        fp_log(FP_LOG_INFO, "listening on %s with %u worker(s), transport %s", fp_addr_format(&a, addr, sizeof addr),
               e->n_workers, e->transport.vt->name);
    }
    return FP_OK;
}

fp_status fp_engine_connect(fp_engine *e, const char *host_port, void *user, char *err, size_t err_len)
{
    if (!e->started || e->shut_down) {
        snprintf(err, err_len, "connect needs a running engine");
        return FP_ESHUTDOWN;
    }
    fp_mail_connect *m = calloc(1, sizeof *m);
    if (!m)
        return FP_ENOMEM;
    if (fp_addr_parse(host_port, &m->addr) != FP_OK) {
        snprintf(err, err_len, "bad address '%s': expected HOST:PORT or [V6]:PORT with a numeric host",
                 host_port);
        free(m);
        return FP_EINVAL;
    }
    m->mail.kind = FP_MAIL_CONNECT;
    m->user = user;
    unsigned w = atomic_fetch_add(&e->next_connect_worker, 1) % e->n_workers;
    fp_status st = fp_worker_post(&e->workers[w], &m->mail);
    if (st != FP_OK) {
        snprintf(err, err_len, "worker %u mailbox full", w);
        free(m);
    }
    return st;
}

void fp_engine_request_stop(fp_engine *e) { fp_event_set(&e->stop_event); }

int fp_engine_wait(fp_engine *e, int timeout_ms) { return fp_event_wait(&e->stop_event, timeout_ms); }

fp_status fp_engine_shutdown(fp_engine *e)
{
    if (!e->started || e->shut_down)
        return e->shutdown_status;
    e->shut_down = 1;
    post_to_all(e, FP_MAIL_DRAIN);
    join_workers(e);
    if (atomic_load(&active_engine) == e)
        atomic_store(&active_engine, NULL);
    uint64_t aborted = 0;
    for (unsigned i = 0; i < e->n_workers; i++)
        aborted += fp_count_get(&e->workers[i].counters, FP_C_drain_aborts);
    e->shutdown_status = aborted ? FP_ETIMEDOUT : FP_OK;
    if (aborted)
        fp_log(FP_LOG_WARN, "shutdown: %llu session(s) aborted after the %u ms drain timeout",
               (unsigned long long)aborted, e->cfg.drain_timeout_ms);
    return e->shutdown_status;
}

void fp_engine_destroy(fp_engine *e)
{
    if (!e)
        return;
    if (e->started && !e->shut_down)
        fp_engine_shutdown(e);
    for (size_t i = 0; i < e->n_listeners; i++)
        e->transport.vt->listener_close(e->listeners[i]);
    free(e->listeners);
    unload_plugins(e);
    free_workers(e);
    if (e->t)
        e->transport.vt->close(e->t);
    if (e->transport.dl)
        fp_transport_unload(&e->transport);
    fp_event_close(&e->stop_event);
    fp_mutex_destroy(&e->start_lock);
    fp_cond_destroy(&e->start_cond);
    free(e->transport_dir);
    free(e->plugin_dir);
    free(e);
}

const char *fp_engine_transport_name(const fp_engine *e) { return e->transport.vt->name; }

/* ---- stats ---- */

void fp_engine_refresh_transport_stats(fp_engine *e)
{
    fp_worker *cur = fp_worker_current();
    if (cur) {
        /* a worker must not wait for another: two could wait on each other */
        for (unsigned i = 0; i < e->n_workers; i++) {
            if (&e->workers[i] == cur) {
                fp_worker_refresh_transport_stats(cur);
            } else {
                /* e->shut_down is the control thread's; a stopped worker
                 * just leaves this mail for destroy to free */
                fp_mail *m = calloc(1, sizeof *m);
                if (!m)
                    continue;
                m->kind = FP_MAIL_STATS;
                if (fp_worker_post(&e->workers[i], m) != FP_OK)
                    free(m);
            }
        }
        return;
    }
    uint64_t seen[FP_ENGINE_MAX_WORKERS];
    for (unsigned i = 0; i < e->n_workers; i++) {
        fp_mutex_lock(&e->workers[i].stats_lock);
        seen[i] = e->workers[i].stats_seq;
        fp_mutex_unlock(&e->workers[i].stats_lock);
    }
    if (e->started && !e->shut_down)
        post_to_all(e, FP_MAIL_STATS);
    else
        return;
    for (unsigned i = 0; i < e->n_workers; i++) {
        fp_worker *w = &e->workers[i];
        uint64_t deadline = fp_mono_ns() + STATS_WAIT_NS;
        fp_mutex_lock(&w->stats_lock);
        while (w->stats_seq == seen[i] && w->tw) {
            uint64_t now = fp_mono_ns();
            if (now >= deadline ||
                fp_cond_timed_wait(&w->stats_cond, &w->stats_lock, (unsigned)((deadline - now) / 1000000u) + 1))
                break;
        }
        fp_mutex_unlock(&w->stats_lock);
    }
}

typedef struct stat_sum {
    fp_stat_entry *entries;
    size_t n, cap;
} stat_sum;

static void sum_add(stat_sum *sum, const char *name, uint64_t value)
{
    for (size_t i = 0; i < sum->n; i++)
        if (strcmp(sum->entries[i].name, name) == 0) {
            sum->entries[i].value += value;
            return;
        }
    if (sum->n == sum->cap) {
        size_t cap = sum->cap ? sum->cap * 2 : 32;
        fp_stat_entry *grown = realloc(sum->entries, cap * sizeof *grown);
        if (!grown)
            return;
        sum->entries = grown;
        sum->cap = cap;
    }
    snprintf(sum->entries[sum->n].name, sizeof sum->entries[sum->n].name, "%s", name);
    sum->entries[sum->n++].value = value;
}

void fp_engine_stats(fp_engine *e, fp_stat_fn emit, void *ctx)
{
    fp_counters *sets[FP_ENGINE_MAX_WORKERS];
    for (unsigned i = 0; i < e->n_workers; i++)
        sets[i] = &e->workers[i].counters;
    fp_counters_emit(sets, e->n_workers, emit, ctx);

    fp_engine_refresh_transport_stats(e);
    stat_sum sum = {0};
    for (unsigned i = 0; i < e->n_workers; i++) {
        fp_worker *w = &e->workers[i];
        fp_mutex_lock(&w->stats_lock);
        for (size_t j = 0; j < w->n_tstats; j++) {
            char name[96];
            snprintf(name, sizeof name, "transport.%.80s", w->tstats[j].name);
            sum_add(&sum, name, w->tstats[j].value);
        }
        fp_mutex_unlock(&w->stats_lock);
    }
    for (unsigned i = 0; i < e->n_workers; i++) {
        fp_plugin_stats *ps = &e->workers[i].plugin_stats;
        uint32_t n = atomic_load_explicit(&ps->count, memory_order_acquire);
        for (uint32_t j = 0; j < n; j++) {
            char name[96];
            snprintf(name, sizeof name, "plugin.%.80s", ps->name[j]);
            sum_add(&sum, name, atomic_load_explicit(&ps->value[j], memory_order_relaxed));
        }
    }
    for (size_t i = 0; i < sum.n; i++)
        emit(ctx, sum.entries[i].name, sum.entries[i].value);
    free(sum.entries);
}

typedef struct stat_lookup {
    const char *name;
    uint64_t value;
} stat_lookup;

static void find_stat(void *ctx, const char *name, uint64_t value)
{
    stat_lookup *l = ctx;
    if (strcmp(l->name, name) == 0)
        l->value = value;
}

uint64_t fp_engine_stat(fp_engine *e, const char *name)
{
    stat_lookup l = {name, 0};
    if (strncmp(name, "transport.", 10) == 0 || strncmp(name, "plugin.", 7) == 0) {
        fp_engine_stats(e, find_stat, &l);
    } else {
        fp_counters *sets[FP_ENGINE_MAX_WORKERS];
        for (unsigned i = 0; i < e->n_workers; i++)
            sets[i] = &e->workers[i].counters;
        fp_counters_emit(sets, e->n_workers, find_stat, &l);
    }
    return l.value;
}
