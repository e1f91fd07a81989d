/*
 * fastport/engine.h - libfastport's API for programs that host the engine
 * (fastport-server, fastport-client, fastport-bench, tests).
 *
 * Plugins do not use this header: they get fp_engine_api (plugin.h).
 *
 * Life cycle, all on one control thread:
 *   fp_engine_config_init -> set fields -> fp_engine_create -> fp_engine_listen*
 *   -> fp_engine_start -> ... -> fp_engine_shutdown -> fp_engine_destroy.
 * fp_engine_request_stop may be called from any thread or a signal handler.
 */
#ifndef FASTPORT_ENGINE_H
#define FASTPORT_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "fastport/plugin.h"
#include "fastport/status.h"
#include "fastport/types.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(FP_BUILDING_LIBFASTPORT)
#define FP_API FP_EXPORT
#else
#define FP_API
#endif

#define FP_VERSION_STRING "0.1.0"

typedef struct fp_engine fp_engine;

typedef void (*fp_log_sink)(void *ctx, fp_log_level level, const char *msg);

/* The most worker threads an engine runs: a session id keeps its worker's
 * index in its top 8 bits. */
#define FP_ENGINE_MAX_WORKERS 256u

typedef struct fp_engine_config {
    /* Transport by name ("epoll"); NULL picks the first that probes OK in
     * the default order (FP_TRANSPORT in the environment overrides). */
    const char *transport;
    const char *transport_dir; /* NULL: <exe dir>/../lib/fastport/transports */
    const fp_kv *transport_opts;
    size_t n_transport_opts;

    const char *const *plugins; /* names, loaded in order */
    size_t n_plugins;
    const char *plugin_dir;     /* NULL: <exe dir>/../lib/fastport/plugins */
    /* Options as "plugin.key" = value; each plugin gets its own keys. */
    const fp_kv *plugin_opts;
    size_t n_plugin_opts;

    unsigned workers;             /* 1..FP_ENGINE_MAX_WORKERS; 0: one per online core, at most that */
    uint32_t idle_timeout_ms;     /* 0: never */
    uint32_t max_sessions;        /* 0: unlimited; over it accepts are refused and counted */
    uint32_t max_packet;          /* largest frame accepted, 4..65535 (default 65535) */
    uint32_t compress_threshold;  /* 0: never compress unasked; else deflate payloads >= this */
    uint32_t send_queue_limit;    /* per-session queued-bytes cap (default 256 KiB) */
    uint32_t drain_timeout_ms;    /* graceful shutdown budget (default 5000) */
    fp_log_level log_level;       /* default FP_LOG_INFO */
    fp_log_sink log_sink;         /* NULL: stderr */
    void *log_ctx;

    /* Plugins compiled into the program (a client's or benchmark's own
     * protocol logic), registered after the loaded ones, under the same
     * rules. The descriptors must outlive the engine. */
    const fp_plugin_desc *const *builtin_plugins;
    size_t n_builtin_plugins;

    /* A frame whose first byte has arrived must be whole within this, or
     * its session is closed (counted as frame_timeouts): a peer cannot hold
     * a session and its partial-frame buffer by trickling bytes, which the
     * idle timeout (nothing at all arrived) does not catch. 0: never;
     * default FP_ENGINE_DEFAULT_FRAME_TIMEOUT_MS. */
    uint32_t frame_timeout_ms;

    /* A session with bytes queued that the kernel has taken none of for
     * this long is aborted (counted as send_timeouts): a peer that stops
     * reading cannot hold its queue, its paused receive and its descriptor
     * for ever. 0: never; default FP_ENGINE_DEFAULT_SEND_TIMEOUT_MS. */
    uint32_t send_timeout_ms;

    /* Per worker: the most bytes its sessions may hold in queued sends and
     * partial frames together. Over it, the sessions holding the most are
     * aborted until the sum is back under (counted as memory_evictions;
     * memory_held is the current sum). 0: no limit; default
     * FP_ENGINE_DEFAULT_WORKER_MEMORY_LIMIT. */
    uint64_t worker_memory_limit;
} fp_engine_config;

#define FP_ENGINE_DEFAULT_FRAME_TIMEOUT_MS 10000u
#define FP_ENGINE_DEFAULT_SEND_TIMEOUT_MS 30000u
#define FP_ENGINE_DEFAULT_WORKER_MEMORY_LIMIT ((uint64_t)128 << 20)

FP_API void fp_engine_config_init(fp_engine_config *cfg);

/* Load the transport and plugins and open the transport. On failure returns
 * NULL and writes a one-line reason (naming the file, symbol, option or
 * version, and what is available) into `err`. */
FP_API fp_engine *fp_engine_create(const fp_engine_config *cfg, char *err, size_t err_len);

/* Bind "HOST:PORT" ("[::1]:PORT" for IPv6; port 0 picks one). Before start. */
FP_API fp_status fp_engine_listen(fp_engine *e, const char *host_port, char *err, size_t err_len);

/* The bound address of listener `index` (resolves port 0). */
FP_API fp_status fp_engine_listen_addr(const fp_engine *e, size_t index, fp_addr *out);

/* Start the workers; they begin accepting. */
FP_API fp_status fp_engine_start(fp_engine *e, char *err, size_t err_len);

/* After start, any thread: open an outbound session to "HOST:PORT" on the
 * next worker in turn. `user` becomes the session's user pointer before the
 * plugins' session_open runs (on connect); a failed connect is reported to
 * the plugins' connect_failed with the same `user`, and counted
 * (connect_failures). Returns once the request is queued. */
FP_API fp_status fp_engine_connect(fp_engine *e, const char *host_port, void *user, char *err,
                                   size_t err_len);

/* Any thread, async-signal-safe: ask fp_engine_wait to return. */
FP_API void fp_engine_request_stop(fp_engine *e);

/* Block until fp_engine_request_stop, or until `timeout_ms` passes (-1: no
 * limit). Returns 1 if a stop was requested. */
FP_API int fp_engine_wait(fp_engine *e, int timeout_ms);

/* Graceful shutdown: stop accepting, stop dispatching, deliver queued
 * sends, close every session; sessions still open after the drain timeout
 * are aborted. Joins the workers. Returns FP_ETIMEDOUT if any was aborted. */
FP_API fp_status fp_engine_shutdown(fp_engine *e);

/* Unload everything. Shuts down first if still running. */
FP_API void fp_engine_destroy(fp_engine *e);

/* Name of the loaded transport. */
FP_API const char *fp_engine_transport_name(const fp_engine *e);

/* Sum of every worker's engine and transport counters, one call of `emit`
 * per counter. Safe while running (counters are read without stopping). */
FP_API void fp_engine_stats(fp_engine *e, fp_stat_fn emit, void *ctx);

/* Look one summed counter up by name; 0 when unknown. */
FP_API uint64_t fp_engine_stat(fp_engine *e, const char *name);

/* Names of the transports (or plugins) found in `dir`, comma separated,
 * written into `out`. Returns the number found. */
FP_API size_t fp_transports_available(const char *dir, char *out, size_t out_len);
FP_API size_t fp_plugins_available(const char *dir, char *out, size_t out_len);

/* The transports tried, in order, when none is named: "uring, epoll". */
FP_API const char *fp_default_transport_order(void);

/* The default directories, derived from the running program's location. */
FP_API const char *fp_default_transport_dir(void);
FP_API const char *fp_default_plugin_dir(void);

/* Parse "HOST:PORT" / "[V6]:PORT" with a numeric host or "localhost". */
FP_API fp_status fp_addr_parse(const char *host_port, fp_addr *out);
/* Format as "HOST:PORT"; returns `buf`. */
FP_API const char *fp_addr_format(const fp_addr *a, char *buf, size_t len);

FP_API const char *fp_version(void);

#ifdef __cplusplus
}
#endif
#endif
