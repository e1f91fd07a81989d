/* What happens to a session between the transport and the plugins: the
 * transport callbacks (accept, receive, sent, close), frame dispatch, the
 * send path into transport memory, backpressure and close. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "log.h"

#define NS_PER_MS 1000000ull

/* Reading stops above a quarter of the send queue's cap and resumes at an
 * eighth: what one receive turns into (a burst of replies) still fits
 * under the cap, and a peer that stops reading holds little more than a
 * quarter of it. */
#define RECV_PAUSE_ABOVE(e) ((e)->cfg.send_queue_limit / 4)
#define RECV_RESUME_AT(e) ((e)->cfg.send_queue_limit / 8)

static const fp_transport_vtbl *vt_of(const fp_session *s)
{
    return s->worker->engine->transport.vt;
}

static fp_counters *counters_of(fp_session *s) { return &s->worker->counters; }

/* ---- plugin fan-out ---- */

static void plugins_session_close(fp_session *s, fp_status why)
{
    fp_engine *e = s->worker->engine;
    size_t opened = s->plugins_opened;
    s->plugins_opened = 0;
    for (size_t i = opened; i-- > 0;) {
        const fp_plugin_desc *d = e->plugins[i].desc;
        if (d->session_close)
            d->session_close(e->plugins[i].ctx, s, why);
    }
}

/* Stops at the first refusal: that plugin and the ones after it never saw
 * the session open, so they get no session_close for it either. */
static fp_status plugins_session_open(fp_session *s)
{
    fp_engine *e = s->worker->engine;
    for (size_t i = 0; i < e->n_plugins; i++) {
        const fp_plugin_desc *d = e->plugins[i].desc;
        if (d->session_open) {
            fp_status st = d->session_open(e->plugins[i].ctx, s);
            if (st != FP_OK)
                return st;
        }
        s->plugins_opened = (uint32_t)(i + 1);
    }
    return FP_OK;
}

static void plugins_session_writable(fp_session *s)
{
    fp_engine *e = s->worker->engine;
    s->want_writable = 0;
    for (size_t i = 0; i < e->n_plugins && s->state == FP_SESSION_OPEN; i++) {
        const fp_plugin_desc *d = e->plugins[i].desc;
        if (d->session_writable)
            d->session_writable(e->plugins[i].ctx, s);
    }
}

static void plugins_connect_failed(fp_worker *w, void *user, fp_status why)
{
    fp_engine *e = w->engine;
    fp_count_add(&w->counters, FP_C_connect_failures, 1);
    for (size_t i = 0; i < e->n_plugins; i++) {
        const fp_plugin_desc *d = e->plugins[i].desc;
        if (d->struct_size >= offsetof(fp_plugin_desc, connect_failed) + sizeof d->connect_failed &&
            d->connect_failed)
            d->connect_failed(e->plugins[i].ctx, user, why);
    }
}

/* ---- timers ---- */

static void idle_fired(void *a, void *b)
{
    (void)b;
    fp_session *s = a;
    fp_engine *e = s->worker->engine;
    s->idle_timer = 0;
    if (s->state != FP_SESSION_OPEN)
        return;
    uint64_t timeout_ns = (uint64_t)e->cfg.idle_timeout_ms * NS_PER_MS;
    uint64_t last = s->last_recv_ns ? s->last_recv_ns : s->opened_ns;
    if (s->resumed_ns > last)
        last = s->resumed_ns;
    uint64_t now = fp_mono_ns();
    if (s->recv_paused) {
        /* the engine stopped reading, not the peer sending: the send
         * timeout judges this session; idleness counts from the resume */
        s->idle_timer = fp_timer_add(s->worker->timers, now + timeout_ns, idle_fired, s, NULL);
        return;
    }
    if (now - last < timeout_ns) {
        /* activity since arming: sleep for the remainder instead of
         * re-arming on every packet */
        s->idle_timer = fp_timer_add(s->worker->timers, last + timeout_ns, idle_fired, s, NULL);
        return;
    }
    fp_count_add(counters_of(s), FP_C_idle_timeouts, 1);
    fp_log(FP_LOG_DEBUG, "session %016llx idle for %u ms, closing", (unsigned long long)s->id,
           e->cfg.idle_timeout_ms);
    fp_session_close(s, 0);
}

void fp_session_idle_arm(fp_session *s)
{
    fp_engine *e = s->worker->engine;
    if (!e->cfg.idle_timeout_ms)
        return;
    s->idle_timer = fp_timer_add(s->worker->timers,
                                 s->opened_ns + (uint64_t)e->cfg.idle_timeout_ms * NS_PER_MS,
                                 idle_fired, s, NULL);
}

/* A session clock (the frame's, the send queue's): one timer, armed at
 * `since + timeout_ms` only when none is, so the events that move the
 * clock cost no timer work; a firing before the clock's current deadline
 * sleeps for the remainder. */
static void clock_arm(fp_session *s, uint64_t *timer, uint64_t since_ns, uint32_t timeout_ms, fp_timer_cb fired)
{
    if (!*timer)
        *timer = fp_timer_add(s->worker->timers, since_ns + (uint64_t)timeout_ms * NS_PER_MS, fired, s, NULL);
}

static void clock_cancel(fp_session *s, uint64_t *timer)
{
    if (*timer)
        fp_timer_cancel(s->worker->timers, *timer);
    *timer = 0;
}

/* From the clock's firing: 1 when its deadline has passed, else 0 with
 * the timer armed again for the remainder. */
static int clock_expired(fp_session *s, uint64_t *timer, uint64_t since_ns, uint32_t timeout_ms, fp_timer_cb fired)
{
    *timer = 0;
    if (fp_mono_ns() >= since_ns + (uint64_t)timeout_ms * NS_PER_MS)
        return 1;
    clock_arm(s, timer, since_ns, timeout_ms, fired);
    return 0;
}

static void frame_timeout_fired(void *a, void *b)
{
    (void)b;
    fp_session *s = a;
    fp_engine *e = s->worker->engine;
    s->frame_timer = 0;
    /* paused by the engine's own backpressure, the frame cannot complete:
     * its clock restarts on resume */
    if (s->state != FP_SESSION_OPEN || !s->frame_started_ns || s->recv_paused)
        return;
    /* not yet when the frame it was armed for completed and a later one
     * is pending */
    if (!clock_expired(s, &s->frame_timer, s->frame_started_ns, e->cfg.frame_timeout_ms, frame_timeout_fired))
        return;
    fp_count_add(counters_of(s), FP_C_frame_timeouts, 1);
    fp_log(FP_LOG_DEBUG, "session %016llx: frame not complete after %u ms, closing", (unsigned long long)s->id,
           e->cfg.frame_timeout_ms);
    fp_session_close(s, 0);
}

static void frame_timer_arm(fp_session *s)
{
    clock_arm(s, &s->frame_timer, s->frame_started_ns, s->worker->engine->cfg.frame_timeout_ms,
              frame_timeout_fired);
}

/* After a feed: a partial frame that began in it starts its clock. One
 * timer per session, armed only while a frame is pending and re-armed
 * from the firing, so whole frames cost no timer work. */
static void frame_clock_update(fp_session *s, int pending_before, uint64_t frames_before)
{
    fp_engine *e = s->worker->engine;
    if (!e->cfg.frame_timeout_ms)
        return;
    if (!fp_framer_pending(&s->framer)) {
        s->frame_started_ns = 0;
        return;
    }
    if (!pending_before || s->rx_packets != frames_before)
        s->frame_started_ns = s->last_recv_ns;
    frame_timer_arm(s);
}

static void send_timeout_fired(void *a, void *b)
{
    (void)b;
    fp_session *s = a;
    fp_engine *e = s->worker->engine;
    s->send_timer = 0;
    if (s->state != FP_SESSION_OPEN || !s->queued_bytes)
        return;
    /* not yet when the queue moved since arming */
    if (!clock_expired(s, &s->send_timer, s->send_progress_ns, e->cfg.send_timeout_ms, send_timeout_fired))
        return;
    fp_count_add(counters_of(s), FP_C_send_timeouts, 1);
    fp_log(FP_LOG_DEBUG, "session %016llx: %llu bytes queued, none taken for %u ms, aborting",
           (unsigned long long)s->id, (unsigned long long)s->queued_bytes, e->cfg.send_timeout_ms);
    /* aborted, not closed gracefully: a graceful close would wait on the
     * very bytes the peer does not take */
    fp_session_close(s, 1);
}

/* The queue went from empty to not: its clock starts. Like the frame
 * timer, armed once and re-armed from the firing, so sends and on_sent
 * cost no timer work. */
static void send_clock_start(fp_session *s)
{
    fp_engine *e = s->worker->engine;
    s->send_progress_ns = fp_mono_ns();
    if (e->cfg.send_timeout_ms)
        clock_arm(s, &s->send_timer, s->send_progress_ns, e->cfg.send_timeout_ms, send_timeout_fired);
}

/* Reading resumes after a backpressure pause at `now`: idleness counts
 * from here, and a pending frame gets a whole timeout again, since the
 * pause, not the peer, held them back. */
static void clocks_resume(fp_session *s, uint64_t now)
{
    fp_engine *e = s->worker->engine;
    s->resumed_ns = now;
    if (!e->cfg.frame_timeout_ms || !fp_framer_pending(&s->framer))
        return;
    s->frame_started_ns = now;
    frame_timer_arm(s);
}

static void close_deadline_fired(void *a, void *b)
{
    (void)b;
    fp_session *s = a;
    s->idle_timer = 0;
    if (s->state != FP_SESSION_CLOSING)
        return;
    fp_count_add(counters_of(s), FP_C_close_timeouts, 1);
    vt_of(s)->close_conn(s->conn, FP_CLOSE_ABORT);
}

/* ---- close ---- */

void fp_session_close(fp_session *s, int abort)
{
    if (s->state == FP_SESSION_FREE)
        return;
    if (s->state == FP_SESSION_CLOSING) {
        if (abort)
            vt_of(s)->close_conn(s->conn, FP_CLOSE_ABORT);
        return;
    }
    fp_engine *e = s->worker->engine;
    s->state = FP_SESSION_CLOSING;
    if (s->in_send) {
        vt_of(s)->tx_cancel(s->conn, &s->reserve_span);
        s->in_send = 0;
    }
    if (s->idle_timer)
        fp_timer_cancel(s->worker->timers, s->idle_timer);
    s->idle_timer = 0;
    clock_cancel(s, &s->frame_timer);
    clock_cancel(s, &s->send_timer);
    if (!abort) {
        /* a graceful close waits for the peer's FIN; never forever */
        s->idle_timer = fp_timer_add(s->worker->timers,
                                     fp_mono_ns() + (uint64_t)e->cfg.drain_timeout_ms * NS_PER_MS,
                                     close_deadline_fired, s, NULL);
    }
    vt_of(s)->close_conn(s->conn, abort ? FP_CLOSE_ABORT : FP_CLOSE_GRACEFUL);
}

/* ---- transport callbacks ---- */

static fp_session *session_open_common(fp_worker *w, fp_tconn *conn, fp_session_state state)
{
    fp_session *s = fp_session_alloc(w);
    if (!s)
        return NULL;
    s->conn = conn;
    s->state = (uint8_t)state;
    s->opened_ns = fp_mono_ns();
    return s;
}

static void *on_accepted(void *worker_user, fp_tconn *conn, const fp_addr *peer)
{
    (void)peer;
    fp_worker *w = worker_user;
    fp_engine *e = w->engine;
    if (!w->accepting) {
        fp_count_add(&w->counters, FP_C_sessions_refused, 1);
        return NULL;
    }
    uint32_t live = atomic_fetch_add(&e->live_sessions, 1) + 1;
    if (e->cfg.max_sessions && live > e->cfg.max_sessions) {
        atomic_fetch_sub(&e->live_sessions, 1);
        fp_count_add(&w->counters, FP_C_sessions_refused, 1);
        return NULL;
    }
    fp_session *s = session_open_common(w, conn, FP_SESSION_OPEN);
    if (!s) {
        atomic_fetch_sub(&e->live_sessions, 1);
        fp_count_add(&w->counters, FP_C_sessions_refused, 1);
        fp_log(FP_LOG_WARN, "out of memory for a new session; connection refused");
        return NULL;
    }
    if (plugins_session_open(s) != FP_OK) {
        plugins_session_close(s, FP_ECLOSED);
        fp_session_release(s);
        atomic_fetch_sub(&e->live_sessions, 1);
        fp_count_add(&w->counters, FP_C_sessions_refused, 1);
        return NULL;
    }
    fp_count_add(&w->counters, FP_C_sessions_accepted, 1);
    fp_count_add(&w->counters, FP_C_sessions_open, 1);
    s->counted_open = 1;
    fp_session_idle_arm(s);
    return s;
}

static void on_connected(void *conn_user)
{
    fp_session *s = conn_user;
    if (s->state != FP_SESSION_CONNECTING)
        return;
    s->state = FP_SESSION_OPEN;
    fp_count_add(counters_of(s), FP_C_sessions_connected, 1);
    fp_count_add(counters_of(s), FP_C_sessions_open, 1);
    s->counted_open = 1;
    if (plugins_session_open(s) != FP_OK) {
        fp_session_close(s, 1);
        return;
    }
    fp_session_idle_arm(s);
}

void fp_session_connect(fp_worker *w, const fp_addr *addr, void *user)
{
    fp_engine *e = w->engine;
    if (w->draining) {
        plugins_connect_failed(w, user, FP_ESHUTDOWN);
        return;
    }
    atomic_fetch_add(&e->live_sessions, 1);
    fp_session *s = session_open_common(w, NULL, FP_SESSION_CONNECTING);
    if (!s) {
        atomic_fetch_sub(&e->live_sessions, 1);
        plugins_connect_failed(w, user, FP_ENOMEM);
        return;
    }
    s->user = user;
    fp_tconn *conn = NULL;
    fp_status st = e->transport.vt->connect(w->tw, addr, s, &conn);
    if (st != FP_OK) {
        fp_session_release(s);
        atomic_fetch_sub(&e->live_sessions, 1);
        plugins_connect_failed(w, user, st);
        return;
    }
    s->conn = conn;
}

static void pause_if_backlogged(fp_session *s)
{
    fp_engine *e = s->worker->engine;
    if (!s->recv_paused && s->state == FP_SESSION_OPEN && s->queued_bytes > RECV_PAUSE_ABOVE(e)) {
        s->recv_paused = 1;
        fp_count_add(counters_of(s), FP_C_recv_paused, 1);
        vt_of(s)->recv_pause(s->conn);
    }
}

static fp_status dispatch_frame(void *ctx, uint16_t wire_id, const uint8_t *payload, size_t len)
{
    fp_session *s = ctx;
    if (s->state != FP_SESSION_OPEN)
        return FP_ECLOSED; /* closed by a handler: nothing more is dispatched */
    fp_worker *w = s->worker;
    fp_engine *e = w->engine;
    s->rx_packets++;
    fp_count_add(&w->counters, FP_C_rx_packets, 1);
    uint16_t id = wire_id;
    if (wire_id & FP_PACKET_COMPRESSED_BIT) {
        id = (uint16_t)(wire_id & ~FP_PACKET_COMPRESSED_BIT);
        fp_status st = fp_codec_inflate(w->codec, payload, len, &payload, &len);
        if (st != FP_OK) {
            fp_count_add(&w->counters, FP_C_compress_errors, 1);
            fp_log(FP_LOG_DEBUG, "session %016llx: bad compressed payload for id 0x%04x, closing",
                   (unsigned long long)s->id, id);
            return FP_ECOMPRESS;
        }
    }
    const fp_plugin_route *r = &e->routes[id];
    if (!r->fn)
        r = &e->catch_all;
    if (!r->fn) {
        fp_count_add(&w->counters, FP_C_unhandled_packets, 1);
        return FP_OK;
    }
    fp_status st = r->fn(r->ctx, s, id, payload, len);
    if (st != FP_OK && s->state == FP_SESSION_OPEN) {
        fp_count_add(&w->counters, FP_C_handler_errors, 1);
        fp_log(FP_LOG_DEBUG, "session %016llx: handler for id 0x%04x failed (%s), closing",
               (unsigned long long)s->id, id, fp_strerror(st));
        return st;
    }
    return s->state == FP_SESSION_OPEN ? FP_OK : FP_ECLOSED;
}

/* What the framer holds for a split frame counts toward the budget. */
static void rx_held_update(fp_session *s)
{
    uint32_t held = fp_framer_held(&s->framer);
    if (held > s->rx_held)
        fp_budget_add(s->worker, held - s->rx_held);
    else
        fp_budget_sub(s->worker, s->rx_held - held);
    s->rx_held = held;
}

static void on_recv(void *conn_user, const uint8_t *data, size_t len)
{
    fp_session *s = conn_user;
    if (s->state != FP_SESSION_OPEN)
        return;
    fp_worker *w = s->worker;
    s->rx_bytes += len;
    s->last_recv_ns = fp_mono_ns();
    fp_count_add(&w->counters, FP_C_rx_bytes, len);
    w->rx_data = data;
    w->rx_end = data + len;
    int pending_before = fp_framer_pending(&s->framer);
    uint64_t frames_before = s->rx_packets;
    fp_status st = fp_framer_feed(&s->framer, data, len, w->engine->cfg.max_packet, dispatch_frame, s);
    w->rx_data = w->rx_end = NULL;
    rx_held_update(s);
    if (st == FP_OK) {
        if (s->state == FP_SESSION_OPEN)
            frame_clock_update(s, pending_before, frames_before);
        pause_if_backlogged(s);
        return;
    }
    if (st == FP_EPROTO) {
        fp_count_add(&w->counters, FP_C_protocol_errors, 1);
        fp_log(FP_LOG_DEBUG, "session %016llx: malformed frame header, closing",
               (unsigned long long)s->id);
    }
    if (st != FP_ECLOSED)
        fp_session_close(s, 1);
}

static void on_eof(void *conn_user)
{
    fp_session *s = conn_user;
    /* The peer is done sending: answer what it sent, then close. A frame
     * cut short by the FIN is dropped with the framer. */
    if (s->state == FP_SESSION_OPEN)
        fp_session_close(s, 0);
}

static void on_sent(void *conn_user, size_t bytes)
{
    fp_session *s = conn_user;
    fp_engine *e = s->worker->engine;
    size_t taken = bytes > s->queued_bytes ? s->queued_bytes : bytes;
    s->queued_bytes -= taken;
    fp_budget_sub(s->worker, taken);
    if (bytes)
        s->send_progress_ns = fp_mono_ns();
    if (s->state != FP_SESSION_OPEN)
        return;
    if (s->recv_paused && s->queued_bytes <= RECV_RESUME_AT(e)) {
        s->recv_paused = 0;
        clocks_resume(s, s->send_progress_ns);
        vt_of(s)->recv_resume(s->conn);
    }
    if (s->want_writable && s->queued_bytes <= e->cfg.send_queue_limit / 2)
        plugins_session_writable(s);
}

static void on_writable(void *conn_user)
{
    fp_session *s = conn_user;
    if (s->state == FP_SESSION_OPEN && s->want_writable)
        plugins_session_writable(s);
}

static void on_closed(void *conn_user, fp_status why)
{
    fp_session *s = conn_user;
    fp_worker *w = s->worker;
    fp_engine *e = w->engine;
    if (s->idle_timer)
        fp_timer_cancel(w->timers, s->idle_timer);
    s->idle_timer = 0;
    clock_cancel(s, &s->frame_timer);
    clock_cancel(s, &s->send_timer);
    s->state = FP_SESSION_CLOSING; /* plugins may look, not send */
    fp_plugin_timers_cancel_all(s);
    if (!s->counted_open) /* an outbound session that never connected */
        plugins_connect_failed(w, s->user, why == FP_OK ? FP_ECLOSED : why);
    plugins_session_close(s, why);
    fp_plugin_timers_cancel_all(s); /* any armed from session_close */
    if (s->counted_open) {
        fp_count_sub(&w->counters, FP_C_sessions_open, 1);
        fp_count_add(&w->counters, FP_C_sessions_closed, 1);
    }
    fp_session_release(s);
    atomic_fetch_sub(&e->live_sessions, 1);
}

const fp_transport_events fp_engine_events = {
    .struct_size = sizeof(fp_transport_events),
    .on_accepted = on_accepted,
    .on_connected = on_connected,
    .on_recv = on_recv,
    .on_eof = on_eof,
    .on_sent = on_sent,
    .on_writable = on_writable,
    .on_closed = on_closed,
};

/* ---- send ---- */

static fp_status admit(fp_session *s, size_t frame_len)
{
    fp_engine *e = s->worker->engine;
    if (s->state != FP_SESSION_OPEN || s->in_send)
        return s->in_send ? FP_EINVAL : FP_ECLOSED;
    if (s->queued_bytes + frame_len > e->cfg.send_queue_limit) {
        s->want_writable = 1;
        fp_count_add(counters_of(s), FP_C_send_queue_full, 1);
        return FP_EAGAIN;
    }
    return FP_OK;
}

static fp_status reserve(fp_session *s, size_t frame_len, fp_span *span)
{
    fp_status st = vt_of(s)->tx_reserve(s->conn, frame_len, span);
    if (st == FP_EAGAIN) {
        s->want_writable = 1;
        fp_count_add(counters_of(s), FP_C_transport_full, 1);
    }
    return st;
}

static void count_queued(fp_session *s, size_t frame_len)
{
    if (!s->queued_bytes)
        send_clock_start(s);
    s->queued_bytes += frame_len;
    fp_budget_add(s->worker, frame_len);
    s->tx_bytes += frame_len;
    s->tx_packets++;
    fp_counters *c = counters_of(s);
    fp_count_add(c, FP_C_tx_bytes, frame_len);
    fp_count_add(c, FP_C_tx_packets, 1);
    fp_count_max(c, FP_C_queued_bytes_max, s->queued_bytes);
}

static void commit(fp_session *s, fp_span *span, size_t frame_len)
{
    vt_of(s)->tx_commit(s->conn, span, frame_len);
    count_queued(s, frame_len);
}

static int should_compress(const fp_engine *e, size_t len, uint32_t flags)
{
    if ((flags & FP_SEND_NO_COMPRESS) || len < 2)
        return 0;
    if (flags & FP_SEND_COMPRESS)
        return 1;
    return e->cfg.compress_threshold && len >= e->cfg.compress_threshold;
}

/* A frame sent exactly as it arrived (echo, relay, broadcast) still sits,
 * header and all, in the receive memory being delivered: a transport that
 * can keep that memory alive sends it from there instead of a copy. */
static int lend_received(fp_session *s, uint16_t packet_id, const void *payload, size_t len)
{
    const fp_worker *w = s->worker;
    fp_status (*lend)(fp_tconn *, const void *, size_t) = w->engine->transport.tx_lend;
    if (!lend || !w->rx_data || !len)
        return 0;
    uintptr_t at = (uintptr_t)payload;
    if (at < (uintptr_t)w->rx_data + FP_FRAME_HEADER_SIZE || at + len > (uintptr_t)w->rx_end)
        return 0;
    const uint8_t *frame = (const uint8_t *)payload - FP_FRAME_HEADER_SIZE;
    size_t frame_len = FP_FRAME_HEADER_SIZE + len;
    uint8_t header[FP_FRAME_HEADER_SIZE];
    fp_frame_header_write(header, (uint16_t)frame_len, packet_id);
    if (memcmp(frame, header, sizeof header) != 0 || lend(s->conn, frame, frame_len) != FP_OK)
        return 0;
    count_queued(s, frame_len);
    fp_count_add(counters_of(s), FP_C_tx_lent, 1);
    return 1;
}

fp_status fp_session_send(fp_session *s, uint16_t packet_id, const void *payload, size_t len,
                          uint32_t flags)
{
    fp_engine *e = s->worker->engine;
    if ((packet_id & FP_PACKET_COMPRESSED_BIT) || len > (size_t)e->cfg.max_packet - FP_FRAME_HEADER_SIZE ||
        (len && !payload))
        return FP_EINVAL;
    size_t frame_len = FP_FRAME_HEADER_SIZE + len;
    fp_status st = admit(s, frame_len);
    if (st != FP_OK)
        return st;
    if (!should_compress(e, len, flags) && lend_received(s, packet_id, payload, len))
        return FP_OK;
    fp_span span;
    st = reserve(s, frame_len, &span);
    if (st != FP_OK)
        return st;
    uint16_t wire_id = packet_id;
    size_t body = 0;
    if (should_compress(e, len, flags)) {
        /* only worth it if strictly smaller, so it always fits the plain
         * frame's reservation */
        body = fp_codec_deflate(s->worker->codec, payload, len, span.data + FP_FRAME_HEADER_SIZE, len - 1);
        if (body) {
            wire_id |= FP_PACKET_COMPRESSED_BIT;
            fp_count_add(counters_of(s), FP_C_tx_compressed, 1);
        }
    }
    if (!body) {
        body = len;
        if (len)
            memcpy(span.data + FP_FRAME_HEADER_SIZE, payload, len);
    }
    frame_len = FP_FRAME_HEADER_SIZE + body;
    fp_frame_header_write(span.data, (uint16_t)frame_len, wire_id);
    commit(s, &span, frame_len);
    return FP_OK;
}

fp_status fp_session_send_reserve(fp_session *s, uint16_t packet_id, size_t max_len, uint8_t **payload)
{
    fp_engine *e = s->worker->engine;
    if ((packet_id & FP_PACKET_COMPRESSED_BIT) || max_len > (size_t)e->cfg.max_packet - FP_FRAME_HEADER_SIZE ||
        !payload)
        return FP_EINVAL;
    size_t frame_len = FP_FRAME_HEADER_SIZE + max_len;
    fp_status st = admit(s, frame_len);
    if (st != FP_OK)
        return st;
    st = reserve(s, frame_len, &s->reserve_span);
    if (st != FP_OK)
        return st;
    s->in_send = 1;
    s->reserve_id = packet_id;
    *payload = s->reserve_span.data + FP_FRAME_HEADER_SIZE;
    return FP_OK;
}

fp_status fp_session_send_commit(fp_session *s, size_t used)
{
    if (!s->in_send)
        return FP_EINVAL;
    s->in_send = 0;
    if (FP_FRAME_HEADER_SIZE + used > s->reserve_span.len) {
        vt_of(s)->tx_cancel(s->conn, &s->reserve_span);
        return FP_EINVAL;
    }
    size_t frame_len = FP_FRAME_HEADER_SIZE + used;
    fp_frame_header_write(s->reserve_span.data, (uint16_t)frame_len, s->reserve_id);
    commit(s, &s->reserve_span, frame_len);
    return FP_OK;
}
