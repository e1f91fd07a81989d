/*
 * bench_load.h - one benchmark run on libfastport.
 *
 * An engine with --threads workers and no listener opens the sessions
 * through the chosen transport (fp_engine_connect); a built-in plugin keeps
 * `depth` BenchmarkRequests (0x1001) in flight per session and checks every
 * BenchmarkResponse (0x1002): result OK, the sequence in order, the
 * payload, client timestamp and header echoed intact. Each worker records
 * RTT (now - client_timestamp_ns) and the server's share (server_send -
 * server_recv) into its own sample arrays; they are merged after the run.
 *
 * Phases: connect all sessions (bounded wait), warm-up (replies per session
 * or seconds), the measured window (--iterations replies in total, or
 * --duration seconds), then no new requests and a bounded wait for the
 * replies still owed. A reply to a measured request that arrives after the
 * window closed is late; one that never arrives is lost.
 */
#ifndef FASTPORT_BENCH_LOAD_H
#define FASTPORT_BENCH_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <fastport/engine.h>

#include "bench_payload.h"
#include "bench_progress.h"
#include "bench_stats.h"

typedef struct bench_load_config {
    const char *address;       /* HOST:PORT of the server */
    const char *transport;     /* NULL: the engine's default */
    const char *transport_dir; /* NULL: the engine's default */
    unsigned threads;
    fp_log_level log_level;

    uint32_t sessions;
    uint32_t depth;
    uint64_t iterations;  /* measured replies in total; 0: duration_ms */
    uint32_t duration_ms;
    uint32_t warmup_per_session; /* 0 and warmup_ms 0: no warm-up */
    uint32_t warmup_ms;
    const bench_payload_pool *pool;

    /* Reads the server's CPU time (ns) at both edges of the measured
     * window; NULL when the server's CPU is not known. */
    int (*server_cpu_ns)(void *ctx, uint64_t *out);
    void *server_cpu_ctx;

    bench_progress *progress; /* may be NULL */
    const char *label;        /* progress line prefix, e.g. "run 1/3 NAME" */
} bench_load_config;

typedef struct bench_load_result {
    /* Every figure of the run; the caller sets test_name, io_mode, run. */
    fp_bench_run run;
    fp_bench_samples rtt;      /* the measured RTTs, sorted ascending */
    char transport[64];        /* client transport the engine loaded */
    uint64_t bad_replies;      /* result not OK, payload/timestamp/header not
                                  echoed, undecodable or unexpected packets */
    uint64_t connect_failures;
    uint64_t send_failures;    /* sends refused for another reason than a full queue */
    uint64_t sample_drops;     /* samples not kept for want of memory */
    bool stalled;              /* a phase ended because replies stopped coming */
} bench_load_result;

/* Runs the load once. Returns 0 with `out` filled (judge it with
 * bench_load_failed), or -1 with a reason in `err` when the engine could
 * not be set up (nothing measured). Free `out` with bench_load_result_free
 * either way. */
int bench_load_run(const bench_load_config *cfg, bench_load_result *out, char *err,
                   size_t err_len);

void bench_load_result_free(bench_load_result *r);

/* True when a session did not connect or was lost, or any reply was lost,
 * out of sequence or wrong. */
bool bench_load_failed(const bench_load_result *r);

#endif
