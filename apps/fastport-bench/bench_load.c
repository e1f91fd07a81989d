#include "bench_load.h"

#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <protobuf-c/protobuf-c.h>

#include "benchmark.pb-c.h"
#include "commons.pb-c.h"

#define PACKET_BENCHMARK_REQUEST 0x1001u
#define PACKET_BENCHMARK_RESPONSE 0x1002u

#define NS_PER_MS UINT64_C(1000000)
#define CONNECT_TIMEOUT_MS 15000u
/* A phase with no reply for this long is over: the run is reported as
 * stalled instead of hanging. */
#define STALL_TIMEOUT_MS 5000u
/* After the window: how long to wait for the replies still owed. */
#define DRAIN_TIMEOUT_MS 3000u
#define MONITOR_TICK_MS 1u
#define PROGRESS_EVERY_MS 250u
/* An idle session (nothing in flight, nothing it may send yet) looks again
 * after this long: how phase changes reach sessions without a reply to
 * react to. */
#define IDLE_POLL_MS 2u
#define ENGINE_DRAIN_MS 2000u
#define MAX_SEND_QUEUE (64u << 20)
#define MAX_RESERVED_SAMPLES ((size_t)1 << 22)
/* Room for one decoded BenchmarkResponse (payload copy included). */
#define ARENA_SIZE (2u * FP_FRAME_MAX_SIZE + 4096u)
/* Sessions start their payloads at different pool entries (FastPort's 131). */
#define SESSION_POOL_STRIDE 131u

typedef enum phase {
    PHASE_CONNECT = 0,
    PHASE_WARMUP,
    PHASE_MEASURED,
    PHASE_DRAIN,
    PHASE_DONE
} phase;

typedef enum request_tag {
    TAG_WARMUP = 0,
    TAG_MEASURED
} request_tag;

typedef struct inflight {
    uint64_t sent_ns;
    uint32_t seq;
    uint32_t pool_index;
    uint8_t tag;
} inflight;

typedef struct load load;

/* Touched only by its session's worker (and by the control thread once
 * the workers are joined). */
typedef struct bench_session {
    load *owner;
    inflight *ring; /* `depth` entries, oldest at head */
    uint32_t head, count;
    uint32_t next_seq;
    uint32_t index;
    uint32_t warmup_sent;
    unsigned worker;
    bool closed;
    bool blocked;     /* send queue full: wait for session_writable */
    bool held_ticket; /* took a measured ticket, its send was refused */
    bool timer_armed;
} bench_session;

/* A bump allocator for protobuf-c: decoding a reply allocates nothing. */
typedef struct arena {
    uint8_t *base;
    size_t cap, used;
} arena;

/* One per worker; written only by that worker. The counters are atomic so
 * the control thread may read them for the progress line. */
typedef struct worker_state {
    alignas(64) fp_bench_samples rtt;
    fp_bench_samples server;
    arena scratch;
    ProtobufCAllocator allocator;
    _Atomic uint64_t sent, popped, abandoned;
    _Atomic uint64_t warmup_sent, warmup_replies;
    _Atomic uint64_t measured_sent, measured_replies, measured_bytes;
    _Atomic uint64_t late, seq_errors, bad_replies, send_failures, sample_drops;
} worker_state;

struct load {
    const bench_load_config *cfg;
    const fp_engine_api *api;
    worker_state *workers;
    unsigned n_workers;
    bench_session *sessions;
    inflight *rings;

    _Atomic int phase;
    _Atomic uint64_t connected, connect_failures, closed_early;
    uint64_t warmup_target; /* set before PHASE_WARMUP is published */
    _Atomic uint64_t warmup_replies_total;
    _Atomic uint64_t measured_tickets, measured_replies_total;
    _Atomic uint64_t window_start_ns, window_end_ns;
};

/* The engine's init() has no user argument: the run being set up. Only
 * the control thread touches it, around fp_engine_create. */
static load *load_being_created;

static void *arena_alloc(void *data, size_t size)
{
    arena *a = data;
    size_t need = (size + 15u) & ~(size_t)15u;
    if (need >= size && a->cap - a->used >= need) {
        void *p = a->base + a->used;
        a->used += need;
        return p;
    }
    return malloc(size);
}

static void arena_free(void *data, void *ptr)
{
    arena *a = data;
    uintptr_t p = (uintptr_t)ptr, base = (uintptr_t)a->base;
    if (p >= base && p < base + a->cap) return;
    free(ptr);
}

static void count(_Atomic uint64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t read_count(_Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

static int current_phase(load *L)
{
    return atomic_load_explicit(&L->phase, memory_order_acquire);
}

/* Opens the measured window once, whoever gets there first: the start
 * time is claimed before the phase is published, so a reader that sees
 * PHASE_MEASURED also sees the start. */
static void begin_window(load *L, uint64_t now)
{
    uint64_t unset = 0;
    if (now == 0) now = 1;
    if (atomic_compare_exchange_strong(&L->window_start_ns, &unset, now))
        atomic_store_explicit(&L->phase, PHASE_MEASURED, memory_order_release);
}

static bool end_window(load *L, uint64_t now)
{
    int expected = PHASE_MEASURED;
    if (!atomic_compare_exchange_strong(&L->phase, &expected, PHASE_DRAIN)) return false;
    atomic_store_explicit(&L->window_end_ns, now, memory_order_release);
    return true;
}

/* ---- the client side of the protocol, on the workers ------------------ */

static fp_status send_request(load *L, bench_session *ss, fp_session *s, request_tag tag)
{
    const bench_payload_pool *pool = L->cfg->pool;
    uint32_t seq = ss->next_seq;
    uint32_t index = (uint32_t)((seq + (uint64_t)ss->index * SESSION_POOL_STRIDE) % pool->count);

    Fastport__Protocols__Commons__Header header = FASTPORT__PROTOCOLS__COMMONS__HEADER__INIT;
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME_COARSE, &wall);
    header.request_id = seq;
    header.timestamp_ms = (uint64_t)wall.tv_sec * 1000u + (uint64_t)wall.tv_nsec / NS_PER_MS;

    Fastport__Protocols__Benchmark__BenchmarkRequest req =
        FASTPORT__PROTOCOLS__BENCHMARK__BENCHMARK_REQUEST__INIT;
    req.header = &header;
    req.sequence = seq;
    req.payload.data = (uint8_t *)bench_payload_data(pool, index);
    req.payload.len = bench_payload_size(pool, index);
    uint64_t now = L->api->now_ns();
    req.client_timestamp_ns = now;

    size_t len = fastport__protocols__benchmark__benchmark_request__get_packed_size(&req);
    uint8_t *out;
    fp_status st = L->api->send_reserve(s, PACKET_BENCHMARK_REQUEST, len, &out);
    if (st != FP_OK) return st;
    size_t packed = fastport__protocols__benchmark__benchmark_request__pack(&req, out);
    st = L->api->send_commit(s, packed);
    if (st != FP_OK) return st;

    uint32_t depth = L->cfg->depth;
    inflight *slot = &ss->ring[(ss->head + ss->count) % depth];
    slot->sent_ns = now;
    slot->seq = seq;
    slot->pool_index = index;
    slot->tag = (uint8_t)tag;
    ss->count++;
    ss->next_seq++;
    return FP_OK;
}

static void on_idle_poll(fp_session *s, void *arg);

static void pump(load *L, bench_session *ss, fp_session *s)
{
    worker_state *w = &L->workers[ss->worker];
    const bench_load_config *cfg = L->cfg;
    int ph = current_phase(L);
    while (!ss->closed && !ss->blocked && ss->count < cfg->depth) {
        ph = current_phase(L);
        request_tag tag;
        if (ph == PHASE_WARMUP) {
            if (cfg->warmup_per_session && ss->warmup_sent >= cfg->warmup_per_session) break;
            tag = TAG_WARMUP;
        } else if (ph == PHASE_MEASURED) {
            if (cfg->iterations && !ss->held_ticket) {
                if (atomic_fetch_add_explicit(&L->measured_tickets, 1, memory_order_relaxed) >=
                    cfg->iterations)
                    break;
                ss->held_ticket = true;
            }
            tag = TAG_MEASURED;
        } else {
            break;
        }
        fp_status st = send_request(L, ss, s, tag);
        if (st == FP_EAGAIN) {
            ss->blocked = true;
            break;
        }
        if (st != FP_OK) {
            count(&w->send_failures, 1);
            L->api->close(s, 1);
            return;
        }
        count(&w->sent, 1);
        if (tag == TAG_WARMUP) {
            ss->warmup_sent++;
            count(&w->warmup_sent, 1);
        } else {
            ss->held_ticket = false;
            count(&w->measured_sent, 1);
        }
    }
    if (!ss->closed && !ss->blocked && ss->count == 0 && ph < PHASE_DRAIN && !ss->timer_armed)
        ss->timer_armed = L->api->timer_start(s, IDLE_POLL_MS, on_idle_poll, ss) != 0;
}

static void on_idle_poll(fp_session *s, void *arg)
{
    bench_session *ss = arg;
    ss->timer_armed = false;
    pump(ss->owner, ss, s);
}

/* Removes and returns the entry for `seq`: the oldest when replies come in
 * order; another one (sequence error) when they do not. */
static bool take_inflight(load *L, bench_session *ss, worker_state *w, uint32_t seq, inflight *out)
{
    uint32_t depth = L->cfg->depth;
    if (ss->count == 0) {
        count(&w->seq_errors, 1);
        return false;
    }
    if (ss->ring[ss->head].seq == seq) {
        *out = ss->ring[ss->head];
        ss->head = (ss->head + 1) % depth;
        ss->count--;
        count(&w->popped, 1);
        return true;
    }
    count(&w->seq_errors, 1);
    for (uint32_t i = 1; i < ss->count; i++) {
        uint32_t at = (ss->head + i) % depth;
        if (ss->ring[at].seq != seq) continue;
        *out = ss->ring[at];
        for (uint32_t j = i; j + 1 < ss->count; j++)
            ss->ring[(ss->head + j) % depth] = ss->ring[(ss->head + j + 1) % depth];
        ss->count--;
        count(&w->popped, 1);
        return true;
    }
    return false; /* unknown or duplicate sequence number */
}

static bool reply_intact(const bench_load_config *cfg,
                         const Fastport__Protocols__Benchmark__BenchmarkResponse *r,
                         const inflight *sent)
{
    uint32_t size = bench_payload_size(cfg->pool, sent->pool_index);
    return r->result == FASTPORT__PROTOCOLS__COMMONS__RESULT_CODE__RESULT_CODE_OK &&
           r->client_timestamp_ns == sent->sent_ns && r->header &&
           r->header->request_id == sent->seq && r->payload.len == size &&
           (size == 0 ||
            memcmp(r->payload.data, bench_payload_data(cfg->pool, sent->pool_index), size) == 0);
}

static void record_measured(load *L, worker_state *w,
                            const Fastport__Protocols__Benchmark__BenchmarkResponse *r,
                            const inflight *sent, uint64_t now)
{
    const bench_load_config *cfg = L->cfg;
    if (current_phase(L) != PHASE_MEASURED) {
        count(&w->late, 1);
        return;
    }
    uint64_t rtt = now > sent->sent_ns ? now - sent->sent_ns : 0;
    uint64_t server = r->server_send_timestamp_ns > r->server_recv_timestamp_ns
                          ? r->server_send_timestamp_ns - r->server_recv_timestamp_ns
                          : 0;
    if (fp_bench_samples_push(&w->rtt, rtt) < 0 || fp_bench_samples_push(&w->server, server) < 0)
        count(&w->sample_drops, 1);
    count(&w->measured_replies, 1);
    count(&w->measured_bytes, bench_payload_size(cfg->pool, sent->pool_index));
    if (cfg->iterations &&
        atomic_fetch_add_explicit(&L->measured_replies_total, 1, memory_order_relaxed) + 1 ==
            cfg->iterations)
        end_window(L, now);
}

static fp_status on_response(void *ctx, fp_session *s, uint16_t packet_id, const uint8_t *payload,
                             size_t len)
{
    load *L = ctx;
    bench_session *ss = L->api->user_get(s);
    worker_state *w = &L->workers[ss->worker];
    uint64_t now = L->api->now_ns();

    Fastport__Protocols__Benchmark__BenchmarkResponse *r =
        fastport__protocols__benchmark__benchmark_response__unpack(&w->allocator, len, payload);
    if (!r) {
        count(&w->bad_replies, 1);
        w->scratch.used = 0;
        return FP_OK;
    }
    inflight sent;
    if (take_inflight(L, ss, w, r->sequence, &sent)) {
        if (!reply_intact(L->cfg, r, &sent)) count(&w->bad_replies, 1);
        if (sent.tag == TAG_WARMUP) {
            count(&w->warmup_replies, 1);
            if (L->cfg->warmup_per_session &&
                atomic_fetch_add_explicit(&L->warmup_replies_total, 1, memory_order_relaxed) + 1 ==
                    L->warmup_target)
                begin_window(L, now);
        } else {
            record_measured(L, w, r, &sent, now);
        }
    }
    fastport__protocols__benchmark__benchmark_response__free_unpacked(r, &w->allocator);
    w->scratch.used = 0;
    pump(L, ss, s);
    return FP_OK;
}

static fp_status on_other_packet(void *ctx, fp_session *s, uint16_t packet_id,
                                 const uint8_t *payload, size_t len)
{
    load *L = ctx;
    bench_session *ss = L->api->user_get(s);
    count(&L->workers[ss->worker].bad_replies, 1);
    return FP_OK;
}

static fp_status plugin_init(const fp_engine_api *api, const fp_kv *opts, size_t n_opts,
                             void **plugin_ctx, char *err, size_t err_len)
{
    load *L = load_being_created;
    if (!L) {
        snprintf(err, err_len, "the benchmark plugin runs only inside fastport-bench");
        return FP_EINVAL;
    }
    L->api = api;
    *plugin_ctx = L;
    return FP_OK;
}

static fp_status on_session_open(void *ctx, fp_session *s)
{
    load *L = ctx;
    bench_session *ss = L->api->user_get(s);
    ss->worker = L->api->session_worker(s);
    if (ss->worker >= L->n_workers) return FP_EINVAL;
    atomic_fetch_add(&L->connected, 1);
    pump(L, ss, s);
    return FP_OK;
}

static void on_session_close(void *ctx, fp_session *s, fp_status why)
{
    load *L = ctx;
    bench_session *ss = L->api->user_get(s);
    ss->closed = true;
    if (ss->worker >= L->n_workers) return;
    count(&L->workers[ss->worker].abandoned, ss->count);
    if (current_phase(L) < PHASE_DONE) atomic_fetch_add(&L->closed_early, 1);
}

static void on_session_writable(void *ctx, fp_session *s)
{
    load *L = ctx;
    bench_session *ss = L->api->user_get(s);
    ss->blocked = false;
    pump(L, ss, s);
}

static void on_connect_failed(void *ctx, void *user, fp_status why)
{
    load *L = ctx;
    atomic_fetch_add(&L->connect_failures, 1);
}

static const fp_handler_entry bench_handlers[] = {
    {PACKET_BENCHMARK_RESPONSE, on_response},
};

static const fp_plugin_desc bench_plugin = {
    FP_PLUGIN_HEADER("fastport-bench", FP_VERSION_STRING,
                     "client side of FastPort's benchmark (0x1001 -> 0x1002)"),
    .init = plugin_init,
    .session_open = on_session_open,
    .session_close = on_session_close,
    .session_writable = on_session_writable,
    .handlers = bench_handlers,
    .n_handlers = sizeof bench_handlers / sizeof bench_handlers[0],
    .catch_all = on_other_packet,
    .connect_failed = on_connect_failed,
};

/* ---- the control thread ------------------------------------------------ */

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* The workers' clock (api->now_ns), so window edges set on either side
 * compare. */
static uint64_t clock_ns(const load *L) { return L->api->now_ns(); }

typedef struct totals {
    uint64_t sent, popped, abandoned, replies, warmup_replies, measured_replies;
} totals;

static totals sum_workers(load *L)
{
    totals t = {0};
    for (unsigned i = 0; i < L->n_workers; i++) {
        worker_state *w = &L->workers[i];
        t.sent += read_count(&w->sent);
        t.popped += read_count(&w->popped);
        t.abandoned += read_count(&w->abandoned);
        t.warmup_replies += read_count(&w->warmup_replies);
        t.measured_replies += read_count(&w->measured_replies);
    }
    t.replies = t.popped;
    return t;
}

static int load_alloc(load *L, const bench_load_config *cfg)
{
    memset(L, 0, sizeof *L);
    L->cfg = cfg;
    L->n_workers = cfg->threads;
    size_t wsize = (size_t)cfg->threads * sizeof *L->workers;
    L->workers = aligned_alloc(alignof(worker_state), wsize);
    L->sessions = calloc(cfg->sessions, sizeof *L->sessions);
    L->rings = calloc((size_t)cfg->sessions * cfg->depth, sizeof *L->rings);
    if (!L->workers || !L->sessions || !L->rings) return -1;
    memset(L->workers, 0, wsize);
    size_t reserve = cfg->iterations ? (size_t)cfg->iterations : (size_t)1 << 16;
    if (cfg->iterations && cfg->threads > 1) reserve = reserve / cfg->threads * 2 + 1024;
    if (reserve > MAX_RESERVED_SAMPLES) reserve = MAX_RESERVED_SAMPLES; /* pushes grow past it */
    for (unsigned i = 0; i < cfg->threads; i++) {
        worker_state *w = &L->workers[i];
        w->scratch.base = malloc(ARENA_SIZE);
        w->scratch.cap = ARENA_SIZE;
        w->allocator.alloc = arena_alloc;
        w->allocator.free = arena_free;
        w->allocator.allocator_data = &w->scratch;
        if (!w->scratch.base || fp_bench_samples_reserve(&w->rtt, reserve) < 0 ||
            fp_bench_samples_reserve(&w->server, reserve) < 0)
            return -1;
    }
    for (uint32_t i = 0; i < cfg->sessions; i++) {
        L->sessions[i].owner = L;
        L->sessions[i].index = i;
        L->sessions[i].ring = &L->rings[(size_t)i * cfg->depth];
    }
    return 0;
}

static void load_free(load *L)
{
    for (unsigned i = 0; L->workers && i < L->n_workers; i++) {
        fp_bench_samples_free(&L->workers[i].rtt);
        fp_bench_samples_free(&L->workers[i].server);
        free(L->workers[i].scratch.base);
    }
    free(L->workers);
    free(L->sessions);
    free(L->rings);
}

static fp_engine *create_engine(load *L, char *err, size_t err_len)
{
    const bench_load_config *cfg = L->cfg;
    static const fp_plugin_desc *const builtin[] = {&bench_plugin};
    fp_engine_config c;
    fp_engine_config_init(&c);
    c.transport = cfg->transport;
    c.transport_dir = cfg->transport_dir;
    c.workers = cfg->threads;
    c.log_level = cfg->log_level;
    c.drain_timeout_ms = ENGINE_DRAIN_MS;
    /* Room for every request in flight at the largest size, twice over, so
     * a full queue is the exception rather than the rule. */
    uint64_t queue = (uint64_t)cfg->depth * (cfg->pool->max + 256u) * 2u;
    if (queue > MAX_SEND_QUEUE) queue = MAX_SEND_QUEUE;
    if (queue > c.send_queue_limit) c.send_queue_limit = (uint32_t)queue;
    c.builtin_plugins = builtin;
    c.n_builtin_plugins = 1;

    load_being_created = L;
    fp_engine *e = fp_engine_create(&c, err, err_len);
    load_being_created = NULL;
    if (!e) return NULL;
    if (fp_engine_start(e, err, err_len) != FP_OK) {
        fp_engine_destroy(e);
        return NULL;
    }
    return e;
}

/* Queues every connect; a full worker mailbox is waited out briefly. */
static int connect_all(load *L, fp_engine *e, char *err, size_t err_len)
{
    const bench_load_config *cfg = L->cfg;
    for (uint32_t i = 0; i < cfg->sessions; i++) {
        unsigned tries = 0;
        fp_status st;
        while ((st = fp_engine_connect(e, cfg->address, &L->sessions[i], err, err_len)) != FP_OK) {
            if (st == FP_EINVAL || st == FP_ESHUTDOWN || ++tries > 2000) return -1;
            sleep_ms(1);
        }
    }
    return 0;
}

static void show_progress(load *L, int ph, uint64_t now, uint64_t *last_ns, uint64_t *last_replies)
{
    bench_progress *p = L->cfg->progress;
    if (!p || !p->enabled) return;
    if (now - *last_ns < PROGRESS_EVERY_MS * NS_PER_MS) return;
    totals t = sum_workers(L);
    double rate = (double)(t.replies - *last_replies) * 1e9 / (double)(now - *last_ns);
    *last_ns = now;
    *last_replies = t.replies;
    const char *label = L->cfg->label ? L->cfg->label : "";
    if (ph == PHASE_CONNECT) {
        bench_progress_show(p, "%s connecting: %llu/%u", label,
                            (unsigned long long)atomic_load(&L->connected), L->cfg->sessions);
    } else if (ph == PHASE_WARMUP) {
        bench_progress_show(p, "%s warming up: %llu replies, %.0f msgs/s", label,
                            (unsigned long long)t.warmup_replies, rate);
    } else if (ph == PHASE_MEASURED) {
        uint64_t start = atomic_load(&L->window_start_ns);
        double secs = (double)(now - start) / 1e9;
        if (L->cfg->iterations)
            bench_progress_show(p, "%s measuring: %llu/%llu replies, %.1f s, %.0f msgs/s", label,
                                (unsigned long long)t.measured_replies,
                                (unsigned long long)L->cfg->iterations, secs, rate);
        else
            bench_progress_show(p, "%s measuring: %.1f/%.1f s, %llu replies, %.0f msgs/s", label,
                                secs, L->cfg->duration_ms / 1000.0,
                                (unsigned long long)t.measured_replies, rate);
    } else {
        bench_progress_show(p, "%s waiting for %llu replies", label,
                            (unsigned long long)(t.sent - t.popped - t.abandoned));
    }
}

typedef struct timeline {
    uint64_t connect_ns, warmup_ns;
    uint64_t cpu_before, cpu_after;
    bool cpu_known;
    bool stalled;
} timeline;

static int read_server_cpu(const bench_load_config *cfg, uint64_t *out)
{
    return cfg->server_cpu_ns ? cfg->server_cpu_ns(cfg->server_cpu_ctx, out) : -1;
}

/* Drives the phases until every owed reply is in or the wait ran out. */
static void monitor(load *L, timeline *tl)
{
    const bench_load_config *cfg = L->cfg;
    uint64_t start = clock_ns(L);
    uint64_t last_ns = start, last_replies = 0;
    uint64_t progress_at = 0, progress_replies = 0;
    uint64_t warmup_start = start;
    int seen_phase = current_phase(L);
    bool have_before = false, have_after = false;

    for (;;) {
        sleep_ms(MONITOR_TICK_MS);
        uint64_t now = clock_ns(L);
        totals t = sum_workers(L);
        if (t.popped != last_replies) {
            last_replies = t.popped;
            last_ns = now;
        }
        int ph = current_phase(L);
        if (ph != seen_phase) {
            if (ph >= PHASE_MEASURED && !have_before) {
                tl->warmup_ns = atomic_load(&L->window_start_ns) - warmup_start;
                have_before = read_server_cpu(cfg, &tl->cpu_before) == 0;
            }
            if (ph >= PHASE_DRAIN && !have_after) {
                have_after = read_server_cpu(cfg, &tl->cpu_after) == 0;
                last_ns = now;
            }
            seen_phase = ph;
        }
        bool stalled = now - last_ns > (uint64_t)STALL_TIMEOUT_MS * NS_PER_MS;
        if (ph == PHASE_WARMUP) {
            bool over = cfg->warmup_ms && now - warmup_start >= cfg->warmup_ms * NS_PER_MS;
            if (over || stalled) {
                tl->stalled |= stalled && !over;
                begin_window(L, now);
                last_ns = now;
            }
        } else if (ph == PHASE_MEASURED) {
            uint64_t opened = atomic_load(&L->window_start_ns);
            bool over = cfg->duration_ms && now - opened >= cfg->duration_ms * NS_PER_MS;
            if (over || stalled) {
                tl->stalled |= stalled && !over;
                /* Duration mode: the window is exactly as long as asked. */
                end_window(L, over ? opened + cfg->duration_ms * NS_PER_MS : now);
            }
        } else if (ph >= PHASE_DRAIN) {
            bool settled = t.sent == t.popped + t.abandoned;
            if (settled || now - last_ns > (uint64_t)DRAIN_TIMEOUT_MS * NS_PER_MS) break;
        }
        show_progress(L, ph, now, &progress_at, &progress_replies);
    }
    tl->cpu_known = have_before && have_after;
}

static void fill_result(load *L, const timeline *tl, bench_load_result *out)
{
    const bench_load_config *cfg = L->cfg;
    fp_bench_run *r = &out->run;
    fp_bench_samples server = {0};
    fp_bench_samples *rtts = calloc(L->n_workers, sizeof *rtts);
    fp_bench_samples *servers = calloc(L->n_workers, sizeof *servers);
    uint64_t warmup_sent = 0, measured_sent = 0, measured_bytes = 0, seq_errors = 0;
    for (unsigned i = 0; i < L->n_workers; i++) {
        worker_state *w = &L->workers[i];
        if (rtts) rtts[i] = w->rtt;
        if (servers) servers[i] = w->server;
        warmup_sent += read_count(&w->warmup_sent);
        r->warmup_responses += read_count(&w->warmup_replies);
        measured_sent += read_count(&w->measured_sent);
        r->measured_responses += read_count(&w->measured_replies);
        measured_bytes += read_count(&w->measured_bytes);
        r->late_replies += read_count(&w->late);
        seq_errors += read_count(&w->seq_errors);
        out->bad_replies += read_count(&w->bad_replies);
        out->send_failures += read_count(&w->send_failures);
        out->sample_drops += read_count(&w->sample_drops);
    }
    if (!rtts || fp_bench_samples_merge(&out->rtt, rtts, L->n_workers) < 0)
        out->sample_drops += r->measured_responses;
    if (!servers || fp_bench_samples_merge(&server, servers, L->n_workers) < 0)
        out->sample_drops += r->measured_responses;
    free(rtts);
    free(servers);

    fp_bench_summarize(&out->rtt, &r->rtt);
    fp_bench_summary server_summary;
    fp_bench_summarize(&server, &server_summary);
    r->server_avg_ns = server_summary.avg;
    fp_bench_samples_free(&server);

    r->iterations = cfg->iterations ? cfg->iterations : r->measured_responses;
    r->payload_size = cfg->pool->max;
    r->requested_sessions = cfg->sessions;
    r->connected_sessions = atomic_load(&L->connected);
    r->connection_losses = atomic_load(&L->closed_early);
    r->warmup_requests = warmup_sent;
    r->measured_requests = measured_sent;
    r->payload_min_bytes = cfg->pool->min;
    r->payload_max_bytes = cfg->pool->max;
    r->payload_pool_size = cfg->pool->count;
    r->payload_avg_bytes = cfg->pool->avg_size;
    r->connect_elapsed_ns = tl->connect_ns;
    r->warmup_elapsed_ns = tl->warmup_ns;
    uint64_t start = atomic_load(&L->window_start_ns), end = atomic_load(&L->window_end_ns);
    r->measured_elapsed_ns = end > start ? end - start : 0;
    r->measured_payload_bytes = measured_bytes;
    r->sequence_errors = seq_errors;
    uint64_t lost = 0;
    for (uint32_t i = 0; i < cfg->sessions; i++) lost += L->sessions[i].count;
    r->lost_replies = lost;
    if (tl->cpu_known && r->measured_responses > 0 && tl->cpu_after >= tl->cpu_before) {
        r->server_cpu_known = true;
        r->server_cpu_ns_per_msg =
            (double)(tl->cpu_after - tl->cpu_before) / (double)r->measured_responses;
    }
    fp_bench_run_compute_throughput(r);
    out->connect_failures = atomic_load(&L->connect_failures);
    out->stalled = tl->stalled;
}

int bench_load_run(const bench_load_config *cfg, bench_load_result *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    fp_bench_run_init(&out->run);
    load *L = calloc(1, sizeof *L);
    if (!L || load_alloc(L, cfg) < 0) {
        if (L) load_free(L);
        free(L);
        snprintf(err, err_len, "out of memory setting up %u sessions", cfg->sessions);
        return -1;
    }
    fp_engine *e = create_engine(L, err, err_len);
    if (!e) {
        load_free(L);
        free(L);
        return -1;
    }
    snprintf(out->transport, sizeof out->transport, "%s", fp_engine_transport_name(e));

    timeline tl = {0};
    uint64_t t0 = clock_ns(L);
    int rc = connect_all(L, e, err, err_len);
    if (rc == 0) {
        uint64_t progress_at = 0, progress_replies = 0;
        while (atomic_load(&L->connected) + atomic_load(&L->connect_failures) < cfg->sessions &&
               clock_ns(L) - t0 < (uint64_t)CONNECT_TIMEOUT_MS * NS_PER_MS) {
            sleep_ms(MONITOR_TICK_MS);
            show_progress(L, PHASE_CONNECT, clock_ns(L), &progress_at, &progress_replies);
        }
        tl.connect_ns = clock_ns(L) - t0;
        if (atomic_load(&L->connected) > 0) {
            L->warmup_target = atomic_load(&L->connected) * cfg->warmup_per_session;
            uint64_t now = clock_ns(L);
            atomic_store_explicit(&L->phase, PHASE_WARMUP, memory_order_release);
            if (!cfg->warmup_per_session && !cfg->warmup_ms) begin_window(L, now);
            monitor(L, &tl);
        }
    }
    atomic_store_explicit(&L->phase, PHASE_DONE, memory_order_release);
    if (cfg->progress) bench_progress_clear(cfg->progress);
    fp_engine_shutdown(e);
    fill_result(L, &tl, out);
    fp_engine_destroy(e);
    load_free(L);
    free(L);
    return rc;
}

void bench_load_result_free(bench_load_result *r)
{
    fp_bench_samples_free(&r->rtt);
}

bool bench_load_failed(const bench_load_result *r)
{
    return r->run.connected_sessions < r->run.requested_sessions || r->run.connection_losses > 0 ||
           r->run.lost_replies > 0 || r->run.sequence_errors > 0 || r->bad_replies > 0 ||
           r->send_failures > 0 || r->run.measured_responses == 0;
}
