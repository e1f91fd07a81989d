/* The fp_engine_api table handed to plugins: thin wrappers over the
 * session functions, plus per-session plugin timers. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "log.h"

struct fp_plugin_timer {
    uint64_t id;
    fp_timer_fn fn;
    void *arg;
    fp_session *session;
    fp_plugin_timer *prev, *next;
};

static void timer_unlink(fp_plugin_timer *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        t->session->timers = t->next;
    if (t->next)
        t->next->prev = t->prev;
}

static void plugin_timer_fired(void *a, void *b)
{
    (void)a;
    fp_plugin_timer *t = b;
    fp_session *s = t->session;
    fp_timer_fn fn = t->fn;
    void *arg = t->arg;
    timer_unlink(t);
    free(t);
    if (s->state == FP_SESSION_OPEN)
        fn(s, arg);
}

static fp_timer_id api_timer_start(fp_session *s, uint32_t delay_ms, fp_timer_fn fn, void *arg)
{
    if (!fn || s->state == FP_SESSION_FREE)
        return 0;
    fp_plugin_timer *t = calloc(1, sizeof *t);
    if (!t)
        return 0;
    t->fn = fn;
    t->arg = arg;
    t->session = s;
    t->id = fp_timer_add(s->worker->timers, fp_mono_ns() + (uint64_t)delay_ms * 1000000ull,
                         plugin_timer_fired, s, t);
    if (!t->id) {
        free(t);
        return 0;
    }
    t->next = s->timers;
    if (t->next)
        t->next->prev = t;
    s->timers = t;
    return t->id;
}

static void api_timer_cancel(fp_session *s, fp_timer_id id)
{
    for (fp_plugin_timer *t = s->timers; t; t = t->next) {
        if (t->id == id) {
            fp_timer_cancel(s->worker->timers, id);
            timer_unlink(t);
            free(t);
            return;
        }
    }
}

void fp_plugin_timers_cancel_all(fp_session *s)
{
    while (s->timers) {
        fp_plugin_timer *t = s->timers;
        fp_timer_cancel(s->worker->timers, t->id);
        timer_unlink(t);
        free(t);
    }
}

static fp_status api_send_to(fp_session_id id, uint16_t packet_id, const void *payload, size_t len,
                             uint32_t flags)
{
    fp_worker *cur = fp_worker_current();
    fp_engine *e = cur ? cur->engine : fp_engine_active();
    if (!e)
        return FP_ENOTFOUND;
    unsigned owner = (unsigned)(id >> 56);
    if (owner >= e->n_workers)
        return FP_ENOTFOUND;
    fp_worker *w = &e->workers[owner];
    if (w == cur) {
        fp_session *s = fp_session_lookup(w, id);
        return s ? fp_session_send(s, packet_id, payload, len, flags) : FP_ENOTFOUND;
    }
    if ((packet_id & FP_PACKET_COMPRESSED_BIT) || len > FP_PAYLOAD_MAX_SIZE)
        return FP_EINVAL;
    fp_mail_send *m = malloc(sizeof *m + len);
    if (!m)
        return FP_ENOMEM;
    m->mail.kind = FP_MAIL_SEND_TO;
    m->target = id;
    m->packet_id = packet_id;
    m->flags = flags;
    m->len = len;
    if (len)
        memcpy(m->payload, payload, len);
    fp_status st = fp_worker_post(w, &m->mail);
    if (st != FP_OK) {
        free(m);
        /* several posters may race here: a real read-modify-write */
        atomic_fetch_add_explicit(&w->counters.v[FP_C_mailbox_full], 1, memory_order_relaxed);
    }
    return st;
}

static void api_close(fp_session *s, int abort) { fp_session_close(s, abort); }
static fp_session_id api_session_id(const fp_session *s) { return s->id; }
static unsigned api_session_worker(const fp_session *s) { return s->worker->index; }
static void *api_user_get(const fp_session *s) { return s->user; }
static void api_user_set(fp_session *s, void *user) { s->user = user; }

static void api_peer(const fp_session *s, fp_addr *out)
{
    memset(out, 0, sizeof *out);
    if (s->conn && s->state != FP_SESSION_FREE)
        s->worker->engine->transport.vt->conn_peer(s->conn, out);
}

static void api_counters(const fp_session *s, fp_session_counters *out)
{
    out->rx_bytes = s->rx_bytes;
    out->tx_bytes = s->tx_bytes;
    out->rx_packets = s->rx_packets;
    out->tx_packets = s->tx_packets;
    out->queued_bytes = s->queued_bytes;
    out->opened_ns = s->opened_ns;
    out->last_recv_ns = s->last_recv_ns;
}

static FP_PRINTF_LIKE(2, 3) void api_log(fp_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fp_logv(level, fmt, ap);
    va_end(ap);
}

/* ---- ABI 1.1 ---- */

static fp_engine *engine_of_caller(void)
{
    fp_worker *cur = fp_worker_current();
    return cur ? cur->engine : fp_engine_active();
}

static uint64_t api_engine_stat(const char *name)
{
    fp_engine *e = engine_of_caller();
    return e && name ? fp_engine_stat(e, name) : 0;
}

static const char *api_transport_name(void)
{
    fp_engine *e = engine_of_caller();
    return e ? fp_engine_transport_name(e) : "";
}

static unsigned api_worker_count(void)
{
    fp_engine *e = engine_of_caller();
    return e ? e->n_workers : 0;
}

static void api_stat_add(fp_session *s, const char *name, uint64_t delta)
{
    fp_plugin_stats *ps = &s->worker->plugin_stats;
    uint32_t n = atomic_load_explicit(&ps->count, memory_order_relaxed);
    uint32_t i = 0;
    while (i < n && ps->name[i] != name && strcmp(ps->name[i], name) != 0)
        i++;
    if (i == n) {
        if (n == FP_MAX_PLUGIN_STATS)
            return;
        ps->name[n] = name;
        atomic_store_explicit(&ps->value[n], 0, memory_order_relaxed);
        atomic_store_explicit(&ps->count, n + 1, memory_order_release);
    }
    uint64_t v = atomic_load_explicit(&ps->value[i], memory_order_relaxed);
    atomic_store_explicit(&ps->value[i], v + delta, memory_order_relaxed);
}

static int by_id(const void *a, const void *b)
{
    fp_session_id x = ((const fp_session_info *)a)->id, y = ((const fp_session_info *)b)->id;
    return x < y ? -1 : x > y;
}

static void ask_for_snapshot(fp_worker *w)
{
    fp_mail *m = calloc(1, sizeof *m);
    if (!m)
        return;
    m->kind = FP_MAIL_SNAPSHOT;
    if (fp_worker_post(w, m) != FP_OK)
        free(m);
}

static size_t api_session_list(size_t offset, size_t limit, fp_session_info *out, size_t *total)
{
    fp_engine *e = engine_of_caller();
    fp_worker *cur = fp_worker_current();
    if (total)
        *total = 0;
    if (!e)
        return 0;
    if (cur)
        fp_worker_publish_sessions(cur); /* our own rows, live */
    size_t n = 0, cap = 0;
    fp_session_info *all = NULL;
    for (unsigned i = 0; i < e->n_workers; i++) {
        fp_worker *w = &e->workers[i];
        fp_mutex_lock(&w->stats_lock);
        if (n + w->n_snapshot > cap) {
            size_t want = (n + w->n_snapshot) * 2;
            fp_session_info *grown = realloc(all, want * sizeof *grown);
            if (grown) {
                all = grown;
                cap = want;
            }
        }
        if (w->n_snapshot && n + w->n_snapshot <= cap) {
            memcpy(all + n, w->snapshot, w->n_snapshot * sizeof *all);
            n += w->n_snapshot;
        }
        fp_mutex_unlock(&w->stats_lock);
        /* a worker that has stopped simply leaves the mail for destroy */
        if (w != cur)
            ask_for_snapshot(w);
    }
    if (n)
        qsort(all, n, sizeof *all, by_id);
    if (total)
        *total = n;
    size_t rows = 0;
    for (size_t i = offset; i < n && rows < limit; i++)
        out[rows++] = all[i];
    free(all);
    return rows;
}

const fp_engine_api fp_engine_api_table = {
    .abi_major = FP_PLUGIN_ABI_MAJOR,
    .abi_minor = FP_PLUGIN_ABI_MINOR,
    .struct_size = sizeof(fp_engine_api),
    .send = fp_session_send,
    .send_reserve = fp_session_send_reserve,
    .send_commit = fp_session_send_commit,
    .send_to = api_send_to,
    .close = api_close,
    .session_id = api_session_id,
    .session_worker = api_session_worker,
    .user_get = api_user_get,
    .user_set = api_user_set,
    .peer = api_peer,
    .counters = api_counters,
    .timer_start = api_timer_start,
    .timer_cancel = api_timer_cancel,
    .log = api_log,
    .now_ns = fp_mono_ns,
    .engine_stat = api_engine_stat,
    .transport_name = api_transport_name,
    .worker_count = api_worker_count,
    .session_list = api_session_list,
    .stat_add = api_stat_add,
};
