/* A worker thread: it owns one transport queue and every session on it,
 * and loops poll -> mailbox -> timers -> flush until drained. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core.h"
#include "log.h"

#define SLOT_NONE UINT32_MAX
#define NS_PER_MS 1000000ull
/* How long after the drain timeout a worker still waits for the transport
 * to report closes it was asked for (abort closes are quick: a lost
 * completion is the only reason to wait this long). */
#define CLOSE_GRACE_MS 2000u

static _Thread_local fp_worker *current_worker;

fp_worker *fp_worker_current(void) { return current_worker; }


fp_status fp_worker_post(fp_worker *w, fp_mail *mail)
{
    int was_empty = 0;
    fp_status st = fp_mailbox_post(w->mailbox, mail, &was_empty);
    if (st == FP_OK && was_empty) {
        /* the lock keeps the queue alive while a poster wakes it during
         * the worker's teardown */
        fp_mutex_lock(&w->wake_lock);
        if (w->tw)
            w->engine->transport.vt->wake(w->tw);
        fp_mutex_unlock(&w->wake_lock);
    }
    return st;
}

/* Returns the previous one. */
static fp_tworker *set_tworker(fp_worker *w, fp_tworker *tw)
{
    fp_mutex_lock(&w->wake_lock);
    fp_mutex_lock(&w->stats_lock);
    fp_tworker *old = w->tw;
    w->tw = tw;
    fp_mutex_unlock(&w->stats_lock);
    fp_mutex_unlock(&w->wake_lock);
    return old;
}

/* ---- transport stats snapshot ---- */

static void snapshot_stat(void *ctx, const char *name, uint64_t value)
{
    fp_worker *w = ctx;
    for (size_t i = 0; i < w->n_tstats; i++) {
        if (strcmp(w->tstats[i].name, name) == 0) {
            w->tstats[i].value = value;
            return;
        }
    }
    if (w->n_tstats == w->cap_tstats) {
        size_t cap = w->cap_tstats ? w->cap_tstats * 2 : 32;
        fp_stat_entry *grown = realloc(w->tstats, cap * sizeof *grown);
        if (!grown)
            return;
        w->tstats = grown;
        w->cap_tstats = cap;
    }
    fp_stat_entry *e = &w->tstats[w->n_tstats++];
    snprintf(e->name, sizeof e->name, "%s", name);
    e->value = value;
}

static void refresh_transport_stats(fp_worker *w)
{
    fp_mutex_lock(&w->stats_lock);
    if (w->tw)
        w->engine->transport.vt->stats(w->tw, snapshot_stat, w);
    w->stats_seq++;
    fp_cond_broadcast(&w->stats_cond);
    fp_mutex_unlock(&w->stats_lock);
}

void fp_worker_refresh_transport_stats(fp_worker *w) { refresh_transport_stats(w); }

/* ---- session list for other threads ---- */

void fp_worker_publish_sessions(fp_worker *w)
{
    fp_mutex_lock(&w->stats_lock);
    size_t need = w->live_sessions;
    if (need > w->cap_snapshot) {
        fp_session_info *grown = realloc(w->snapshot, need * sizeof *grown);
        if (grown) {
            w->snapshot = grown;
            w->cap_snapshot = need;
        }
    }
    size_t n = 0;
    for (uint32_t i = 0; i < w->n_slots && n < w->cap_snapshot; i++) {
        fp_session *s = w->slots[i];
        if (!s || s->state != FP_SESSION_OPEN)
            continue;
        fp_session_info *row = &w->snapshot[n++];
        row->id = s->id;
        row->last_recv_ns = s->last_recv_ns;
        row->rx_bytes = s->rx_bytes;
        row->tx_bytes = s->tx_bytes;
        row->rx_packets = s->rx_packets;
        row->tx_packets = s->tx_packets;
    }
    w->n_snapshot = n;
    fp_mutex_unlock(&w->stats_lock);
}

/* ---- drain ---- */

/* The transport never reported some closes: give up on them, so a lost
 * completion cannot hang shutdown. worker_close releases what is left
 * without callbacks, as the transport contract allows. */
static void close_grace_expired(void *a, void *b)
{
    (void)b;
    fp_worker *w = a;
    w->close_grace_timer = 0;
    if (w->live_sessions == 0)
        return;
    fp_count_add(&w->counters, FP_C_closes_abandoned, w->live_sessions);
    fp_log(FP_LOG_WARN,
           "worker %u: %u session(s) still not closed by transport %s %u ms after the drain timeout; "
           "releasing them with worker_close",
           w->index, (unsigned)w->live_sessions, w->engine->transport.vt->name, CLOSE_GRACE_MS);
    w->exit_loop = 1;
}

static void drain_deadline_fired(void *a, void *b)
{
    (void)b;
    fp_worker *w = a;
    w->drain_timer = 0;
    for (uint32_t i = 0; i < w->n_slots; i++) {
        fp_session *s = w->slots[i];
        if (s && s->state != FP_SESSION_FREE) {
            fp_count_add(&w->counters, FP_C_drain_aborts, 1);
            fp_session_close(s, 1);
        }
    }
    w->close_grace_timer = fp_timer_add(w->timers, fp_mono_ns() + (uint64_t)CLOSE_GRACE_MS * NS_PER_MS,
                                        close_grace_expired, w, NULL);
}

static void start_drain(fp_worker *w)
{
    fp_engine *e = w->engine;
    if (w->draining)
        return;
    w->draining = 1;
    if (w->accepting) {
        for (size_t i = 0; i < e->n_listeners; i++)
            e->transport.vt->accept_stop(w->tw, e->listeners[i]);
        w->accepting = 0;
    }
    for (uint32_t i = 0; i < w->n_slots; i++) {
        fp_session *s = w->slots[i];
        if (s && (s->state == FP_SESSION_OPEN || s->state == FP_SESSION_CONNECTING))
            fp_session_close(s, s->state == FP_SESSION_CONNECTING);
    }
    /* a little before the sessions' own close deadlines, so the worker
     * reports these as drain aborts */
    w->drain_timer = fp_timer_add(w->timers, fp_mono_ns() + (uint64_t)e->cfg.drain_timeout_ms * NS_PER_MS,
                                  drain_deadline_fired, w, NULL);
}

/* ---- mailbox ---- */

static void deliver_send_to(fp_worker *w, fp_mail_send *m)
{
    fp_session *s = fp_session_lookup(w, m->target);
    if (!s || fp_session_send(s, m->packet_id, m->payload, m->len, m->flags) == FP_ENOTFOUND)
        fp_count_add(&w->counters, FP_C_stale_session_sends, 1);
}

static void drain_mailbox(fp_worker *w)
{
    fp_mail *m = fp_mailbox_take_all(w->mailbox);
    while (m) {
        fp_mail *next = m->next;
        fp_count_add(&w->counters, FP_C_mailbox_posts, 1);
        switch (m->kind) {
        case FP_MAIL_SEND_TO: deliver_send_to(w, (fp_mail_send *)m); break;
        case FP_MAIL_DRAIN: start_drain(w); break;
        case FP_MAIL_STATS: refresh_transport_stats(w); break;
        case FP_MAIL_CONNECT: {
            fp_mail_connect *c = (fp_mail_connect *)m;
            fp_session_connect(w, &c->addr, c->user);
            break;
        }
        case FP_MAIL_SNAPSHOT: fp_worker_publish_sessions(w); break;
        default: break;
        }
        free(m);
        m = next;
    }
}

/* ---- thread ---- */

static void report_start(fp_worker *w, fp_status st)
{
    fp_engine *e = w->engine;
    fp_mutex_lock(&e->start_lock);
    w->start_status = st;
    e->workers_ready++;
    fp_cond_broadcast(&e->start_cond);
    fp_mutex_unlock(&e->start_lock);
}

static fp_status worker_setup(fp_worker *w)
{
    fp_engine *e = w->engine;
    const fp_transport_vtbl *vt = e->transport.vt;
    fp_tworker *tw = NULL;
    fp_status st = vt->worker_open(e->t, w->index, w, &tw);
    set_tworker(w, tw);
    if (st != FP_OK) {
        snprintf(w->start_err, sizeof w->start_err, "worker %u: transport %s worker_open failed: %s",
                 w->index, vt->name, fp_strerror(st));
        return st;
    }
    for (size_t i = 0; i < e->n_plugins; i++)
        if (e->plugins[i].desc->worker_start)
            e->plugins[i].desc->worker_start(e->plugins[i].ctx, w->index);
    for (size_t i = 0; i < e->n_listeners; i++) {
        st = vt->accept_start(w->tw, e->listeners[i]);
        if (st != FP_OK) {
            snprintf(w->start_err, sizeof w->start_err, "worker %u: cannot accept on listener %zu: %s",
                     w->index, i, fp_strerror(st));
            for (size_t j = 0; j < i; j++)
                vt->accept_stop(w->tw, e->listeners[j]);
            return st;
        }
    }
    w->accepting = 1;
    return FP_OK;
}

static void worker_teardown(fp_worker *w)
{
    fp_engine *e = w->engine;
    if (w->accepting) {
        for (size_t i = 0; i < e->n_listeners; i++)
            e->transport.vt->accept_stop(w->tw, e->listeners[i]);
        w->accepting = 0;
    }
    for (size_t i = e->n_plugins; i-- > 0;)
        if (e->plugins[i].desc->worker_stop)
            e->plugins[i].desc->worker_stop(e->plugins[i].ctx, w->index);
    refresh_transport_stats(w);
    e->transport.vt->worker_close(set_tworker(w, NULL));
}

void fp_worker_main(void *arg)
{
    fp_worker *w = arg;
    const fp_transport_vtbl *vt = w->engine->transport.vt;
    current_worker = w;

    fp_status st = worker_setup(w);
    report_start(w, st);
    if (st != FP_OK) {
        fp_tworker *tw = set_tworker(w, NULL);
        if (tw)
            vt->worker_close(tw);
        return;
    }

    while (!w->exit_loop) {
        uint64_t now = fp_mono_ns();
        int timeout = fp_timer_next_timeout(w->timers, now, -1);
        if (fp_mailbox_nonempty(w->mailbox))
            timeout = 0;
        int n = vt->poll(w->tw, timeout);
        if (n < 0 && n != FP_EAGAIN)
            fp_log(FP_LOG_ERROR, "worker %u: poll failed: %s", w->index, fp_strerror((fp_status)n));
        drain_mailbox(w);
        fp_timer_run(w->timers, fp_mono_ns());
        fp_budget_enforce(w);
        vt->flush(w->tw);
        fp_count_add(&w->counters, FP_C_loop_iterations, 1);
        if (w->draining && w->live_sessions == 0)
            w->exit_loop = 1;
    }
    if (w->drain_timer)
        fp_timer_cancel(w->timers, w->drain_timer);
    if (w->close_grace_timer)
        fp_timer_cancel(w->timers, w->close_grace_timer);
    worker_teardown(w);
    current_worker = NULL;
}
