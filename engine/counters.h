/* The engine's own counters, one set per worker, summed (or maxed) when
 * reported. Written only by the owning worker, read by any thread: relaxed
 * atomics, no read-modify-write on the hot path. */
#ifndef FP_ENGINE_COUNTERS_H
#define FP_ENGINE_COUNTERS_H

#include <stdatomic.h>
#include <stdint.h>

#include "fastport/types.h"

/* X(name, how): how is SUM or MAX across workers. */
#define FP_ENGINE_COUNTERS(X)      \
    X(sessions_open, SUM)          \
    X(sessions_accepted, SUM)      \
    X(sessions_connected, SUM)     \
    X(connect_failures, SUM)       \
    X(sessions_refused, SUM)       \
    X(sessions_closed, SUM)        \
    X(protocol_errors, SUM)        \
    X(compress_errors, SUM)        \
    X(handler_errors, SUM)         \
    X(unhandled_packets, SUM)      \
    X(rx_bytes, SUM)               \
    X(tx_bytes, SUM)               \
    X(rx_packets, SUM)             \
    X(tx_packets, SUM)             \
    X(tx_compressed, SUM)          \
    X(tx_lent, SUM)                \
    X(send_queue_full, SUM)        \
    X(transport_full, SUM)         \
    X(recv_paused, SUM)            \
    X(queued_bytes_max, MAX)       \
    X(memory_held, SUM)            \
    X(memory_evictions, SUM)       \
    X(idle_timeouts, SUM)          \
    X(frame_timeouts, SUM)         \
    X(send_timeouts, SUM)          \
    X(close_timeouts, SUM)         \
    X(drain_aborts, SUM)           \
    X(closes_abandoned, SUM)       \
    X(mailbox_posts, SUM)          \
    X(mailbox_full, SUM)           \
    X(stale_session_sends, SUM)    \
    X(loop_iterations, SUM)

typedef enum fp_counter_id {
#define FP_COUNTER_ENUM(name, how) FP_C_##name,
    FP_ENGINE_COUNTERS(FP_COUNTER_ENUM)
#undef FP_COUNTER_ENUM
    FP_C__COUNT
} fp_counter_id;

typedef struct fp_counters {
    _Atomic uint64_t v[FP_C__COUNT];
} fp_counters;

static inline void fp_count_add(fp_counters *c, fp_counter_id id, uint64_t n)
{
    uint64_t cur = atomic_load_explicit(&c->v[id], memory_order_relaxed);
    atomic_store_explicit(&c->v[id], cur + n, memory_order_relaxed);
}

static inline void fp_count_sub(fp_counters *c, fp_counter_id id, uint64_t n)
{
    uint64_t cur = atomic_load_explicit(&c->v[id], memory_order_relaxed);
    atomic_store_explicit(&c->v[id], cur - n, memory_order_relaxed);
}

static inline void fp_count_max(fp_counters *c, fp_counter_id id, uint64_t n)
{
    if (n > atomic_load_explicit(&c->v[id], memory_order_relaxed))
        atomic_store_explicit(&c->v[id], n, memory_order_relaxed);
}

static inline uint64_t fp_count_get(const fp_counters *c, fp_counter_id id)
{
    return atomic_load_explicit(&c->v[id], memory_order_relaxed);
}

/* Emit the engine counters of `n` workers' sets, combined. */
void fp_counters_emit(fp_counters *const *sets, unsigned n, fp_stat_fn emit, void *ctx);

#endif
