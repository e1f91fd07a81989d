#include "fuzz_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "core.h"

static fp_engine *engine;
static fp_worker worker;
static fp_session session;
static fz_trace trace;

/* What the handler being run asked to send, to compare the frame with. */
static const uint8_t *sending;
static size_t sending_len;
static int reserved;

uint64_t fz_hash(const uint8_t *data, size_t len, uint64_t seed)
{
    uint64_t h = seed ^ 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) h = (h ^ data[i]) * 0x100000001b3ull;
    return h;
}

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_session: %s\n", what);
    abort();
}

/* ---- the stand-in transport ---- */

static void check_sent_frame(const uint8_t *frame, size_t len)
{
    if (len < FP_FRAME_HEADER_SIZE || ((size_t)frame[0] << 8 | frame[1]) != len)
        fail("sent frame's header size differs from its length");
    if (len > engine->cfg.max_packet) fail("sent frame larger than max_packet");
    uint16_t wire_id = (uint16_t)(frame[2] << 8 | frame[3]);
    const uint8_t *body = frame + FP_FRAME_HEADER_SIZE;
    size_t body_len = len - FP_FRAME_HEADER_SIZE;
    if (wire_id & FP_PACKET_COMPRESSED_BIT) {
        static uint8_t plain[FP_PAYLOAD_MAX_SIZE + 1];
        uLongf plain_len = sizeof plain;
        uLong used = body_len;
        if (uncompress2(plain, &plain_len, body, &used) != Z_OK || used != body_len)
            fail("sent compressed payload does not inflate");
        if (body_len >= sending_len) fail("sent compressed payload is not smaller than the plain one");
        body = plain;
        body_len = plain_len;
        trace.tx_compressed++;
    }
    if (body_len != sending_len || (body_len && memcmp(body, sending, body_len) != 0))
        fail("sent payload differs from what the handler sent");
    trace.tx_frames++;
    trace.tx_hash = fz_hash(frame, len, trace.tx_hash);
}

static fp_status stub_tx_reserve(fp_tconn *c, size_t len, fp_span *out)
{
    static uint8_t tx_memory[FP_FRAME_MAX_SIZE];
    (void)c;
    if (len > sizeof tx_memory || reserved)
        fail("tx_reserve over 65535 bytes or while a reservation is open");
    reserved = 1;
    out->data = tx_memory;
    out->len = len;
    out->token = NULL;
    return FP_OK;
}

static void stub_tx_commit(fp_tconn *c, fp_span *span, size_t used)
{
    (void)c;
    if (!reserved || used > span->len) fail("tx_commit without a reservation or beyond it");
    reserved = 0;
    check_sent_frame(span->data, used);
}

static void stub_tx_cancel(fp_tconn *c, fp_span *span)
{
    (void)c;
    (void)span;
    reserved = 0;
}

static fp_status stub_tx_lend(fp_tconn *c, const void *data, size_t len)
{
    (void)c;
    check_sent_frame(data, len);
    return FP_OK;
}

static void stub_close_conn(fp_tconn *c, fp_close_mode mode)
{
    (void)c;
    if (!trace.closed) {
        trace.closed = 1;
        trace.close_mode = (int)mode;
    }
}

static void stub_recv_flow(fp_tconn *c) { (void)c; }

static const fp_transport_vtbl stub_transport = {
    .abi_major = FP_TRANSPORT_ABI_MAJOR,
    .struct_size = sizeof(fp_transport_vtbl),
    .name = "fuzz",
    .recv_pause = stub_recv_flow,
    .recv_resume = stub_recv_flow,
    .tx_reserve = stub_tx_reserve,
    .tx_commit = stub_tx_commit,
    .tx_cancel = stub_tx_cancel,
    .close_conn = stub_close_conn,
};

/* ---- the stub plugin ---- */

static fp_status send_back(fp_session *s, uint16_t id, const uint8_t *payload, size_t len, uint32_t flags)
{
    sending = payload;
    sending_len = len;
    fp_status st = fp_session_send(s, id, payload, len, flags);
    sending = NULL;
    /* a full queue is the engine's backpressure, not this handler's failure */
    return st == FP_EAGAIN ? FP_OK : st;
}

static fp_status record(void *ctx, fp_session *s, uint16_t id, const uint8_t *payload, size_t len)
{
    (void)ctx;
    if (s != &session || s->state != FP_SESSION_OPEN) fail("handler called for a session that is not open");
    if (len > engine->cfg.max_packet - FP_FRAME_HEADER_SIZE || (len && !payload))
        fail("handler got a payload over max_packet - 4 bytes");
    if (trace.n_calls == trace.cap_calls) {
        size_t cap = trace.cap_calls ? trace.cap_calls * 2 : 64;
        fz_call *calls = realloc(trace.calls, cap * sizeof *calls);
        if (!calls) fail("out of memory");
        trace.calls = calls;
        trace.cap_calls = cap;
    }
    trace.calls[trace.n_calls++] = (fz_call){id, (uint32_t)len, fz_hash(payload, len, 0)};
    switch (id) {
    case FZ_ID_ECHO: return send_back(s, id, payload, len, 0);
    case FZ_ID_ECHO_DEFLATE: return send_back(s, id, payload, len, FP_SEND_COMPRESS);
    case FZ_ID_FAIL: return FP_EINVAL;
    case FZ_ID_ABORT: fp_session_close(s, 1); return FP_OK;
    case FZ_ID_CLOSE: fp_session_close(s, 0); return FP_OK;
    default: return FP_OK;
    }
}

/* ---- the session ---- */

static void engine_create(void)
{
    engine = calloc(1, sizeof *engine);
    if (!engine || !(engine->routes = calloc(65536, sizeof *engine->routes))) fail("out of memory");
    fp_engine_config_init(&engine->cfg);
    engine->cfg.idle_timeout_ms = 0;
    engine->cfg.frame_timeout_ms = 0;
    engine->cfg.compress_threshold = 0;
    engine->transport.vt = &stub_transport;
    engine->transport.tx_lend = stub_tx_lend;
    for (unsigned id = 0; id < FZ_ROUTED_IDS; id++) engine->routes[id].fn = record;
    worker.engine = engine;
    worker.timers = fp_timer_heap_create();
    if (!worker.timers) fail("out of memory");
}

void fz_session_begin(uint32_t max_packet)
{
    if (!engine) engine_create();
    if (max_packet < FP_FRAME_HEADER_SIZE || max_packet > FP_FRAME_MAX_SIZE) fail("max_packet out of range");
    engine->cfg.max_packet = max_packet;
    engine->cfg.send_queue_limit = 4u * FP_FRAME_MAX_SIZE;
    worker.codec = fp_codec_create(max_packet - FP_FRAME_HEADER_SIZE, 6);
    if (!worker.codec) fail("out of memory");
    memset(&worker.counters, 0, sizeof worker.counters);
    memset(&session, 0, sizeof session);
    session.worker = &worker;
    session.conn = (fp_tconn *)&session; /* opaque to the engine; never dereferenced */
    session.state = FP_SESSION_OPEN;
    fp_framer_init(&session.framer);
    memset(&trace, 0, sizeof trace);
}

void fz_session_recv(const uint8_t *data, size_t len)
{
    fp_engine_events.on_recv(&session, data, len);
    if (reserved) fail("a reservation left open after on_recv");
}

void fz_session_end(fz_trace *out)
{
    if (session.idle_timer) fp_timer_cancel(worker.timers, session.idle_timer);
    fp_framer_reset(&session.framer);
    fp_codec_destroy(worker.codec);
    worker.codec = NULL;
    const fp_counters *c = &worker.counters;
    trace.rx_packets = fp_count_get(c, FP_C_rx_packets);
    trace.protocol_errors = fp_count_get(c, FP_C_protocol_errors);
    trace.compress_errors = fp_count_get(c, FP_C_compress_errors);
    trace.handler_errors = fp_count_get(c, FP_C_handler_errors);
    trace.unhandled = fp_count_get(c, FP_C_unhandled_packets);
    if (fp_count_get(c, FP_C_tx_packets) != trace.tx_frames ||
        fp_count_get(c, FP_C_tx_compressed) != trace.tx_compressed)
        fail("engine's tx counters differ from the frames the transport got");
    *out = trace;
    memset(&trace, 0, sizeof trace);
}

int fz_trace_equal(const fz_trace *a, const fz_trace *b)
{
    if (a->n_calls != b->n_calls || a->closed != b->closed || a->rx_packets != b->rx_packets ||
        a->protocol_errors != b->protocol_errors || a->compress_errors != b->compress_errors ||
        a->handler_errors != b->handler_errors || a->unhandled != b->unhandled ||
        a->tx_frames != b->tx_frames || a->tx_compressed != b->tx_compressed || a->tx_hash != b->tx_hash)
        return 0;
    if (a->closed && a->close_mode != b->close_mode) return 0;
    for (size_t i = 0; i < a->n_calls; i++) {
        const fz_call *x = &a->calls[i], *y = &b->calls[i];
        if (x->id != y->id || x->len != y->len || x->hash != y->hash) return 0;
    }
    return 1;
}

void fz_trace_free(fz_trace *t)
{
    free(t->calls);
    memset(t, 0, sizeof *t);
}

static void trace_print(const char *name, const fz_trace *t)
{
    fprintf(stderr,
            "%s: %zu calls, closed %d (mode %d), rx_packets %llu, protocol_errors %llu, "
            "compress_errors %llu, handler_errors %llu, unhandled %llu, tx %llu (%llu compressed)\n",
            name, t->n_calls, t->closed, t->close_mode, (unsigned long long)t->rx_packets,
            (unsigned long long)t->protocol_errors, (unsigned long long)t->compress_errors,
            (unsigned long long)t->handler_errors, (unsigned long long)t->unhandled,
            (unsigned long long)t->tx_frames, (unsigned long long)t->tx_compressed);
    for (size_t i = 0; i < t->n_calls && i < 32; i++)
        fprintf(stderr, "  call %zu: id 0x%04x len %u hash %016llx\n", i, t->calls[i].id, t->calls[i].len,
                (unsigned long long)t->calls[i].hash);
}

void fz_trace_mismatch(const char *what, const fz_trace *got, const fz_trace *want)
{
    fprintf(stderr, "fuzz_session: %s\n", what);
    trace_print("got", got);
    trace_print("want", want);
    abort();
}
