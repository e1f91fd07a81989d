/*
 * fastport/plugin.h - the protocol-plugin ABI.
 *
 * A plugin is a shared library that handles packets. It exports one symbol,
 * FP_PLUGIN_ENTRY_SYMBOL, returning a constant fp_plugin_desc, and links
 * against nothing but libc: everything it needs from the engine comes
 * through the fp_engine_api table handed to init() (SQLite's
 * sqlite3_api_routines model), so it can be built out of tree from the
 * installed SDK alone.
 *
 * Threads. A session belongs to one worker for its whole life; every
 * callback for a session (session_open, handlers, session_writable, timers,
 * session_close) runs on that worker's thread, so per-session state needs
 * no locks. init/shutdown run on the control thread; worker_start/stop on
 * the worker being started or stopped. Plugin-wide state touched from
 * handlers must be per worker or thread-safe.
 *
 * Versioning as transport.h: fields are only appended; a plugin declares
 * the ABI it was built with and the engine refuses a different major, a
 * newer minor than it provides, or a descriptor smaller than ABI 1.0's.
 */
#ifndef FASTPORT_PLUGIN_H
#define FASTPORT_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "fastport/status.h"
#include "fastport/types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FP_PLUGIN_ABI_MAJOR 1
#define FP_PLUGIN_ABI_MINOR 1
#define FP_PLUGIN_ENTRY_SYMBOL "fp_plugin_entry"

/* Wire-format limits (docs/PROTOCOL.md). */
#define FP_FRAME_HEADER_SIZE 4u
#define FP_FRAME_MAX_SIZE 65535u
#define FP_PAYLOAD_MAX_SIZE (FP_FRAME_MAX_SIZE - FP_FRAME_HEADER_SIZE)
/* Bit of the on-wire packet id that marks a zlib-compressed payload. The
 * engine strips it before dispatch, so handlers see logical ids, which
 * never have this bit set. */
#define FP_PACKET_COMPRESSED_BIT 0x4000u

typedef struct fp_session fp_session; /* engine-owned; valid during callbacks */

/* Stable 64-bit session id: worker, slot and generation. An id whose
 * session has closed is detected as stale (FP_ENOTFOUND), never aliased. */
typedef uint64_t fp_session_id;

typedef uint64_t fp_timer_id; /* 0 is never a valid timer */

/* Flags for send(). */
enum {
    FP_SEND_COMPRESS = 1u << 0,    /* deflate when it shrinks the payload */
    FP_SEND_NO_COMPRESS = 1u << 1  /* never deflate, whatever the threshold */
};

/* Counters of one session. */
typedef struct fp_session_counters {
    uint64_t rx_bytes, tx_bytes;
    uint64_t rx_packets, tx_packets;
    uint64_t queued_bytes; /* committed to the transport, not yet sent */
    uint64_t opened_ns;    /* monotonic */
    uint64_t last_recv_ns; /* monotonic; 0 = never */
} fp_session_counters;

typedef void (*fp_timer_fn)(fp_session *s, void *arg);

/* One row of session_list(). */
typedef struct fp_session_info {
    fp_session_id id;
    uint64_t last_recv_ns; /* monotonic; 0 = never */
    uint64_t rx_bytes, tx_bytes;
    uint64_t rx_packets, tx_packets;
} fp_session_info;

/*
 * Engine functions a plugin may call. Unless marked "any thread", call them
 * only from a callback running on the session's worker.
 */
typedef struct fp_engine_api {
    uint16_t abi_major;   /* FP_PLUGIN_ABI_MAJOR of the engine */
    uint16_t abi_minor;   /* FP_PLUGIN_ABI_MINOR of the engine */
    uint32_t struct_size; /* sizeof(fp_engine_api) of the engine */

    /* Frame `payload` under `packet_id` and queue it. The payload is copied
     * once, into transport memory. FP_EAGAIN: the session's send queue is
     * at its cap; session_writable follows when it drains. FP_EINVAL:
     * payload over the frame limit or id with FP_PACKET_COMPRESSED_BIT. */
    fp_status (*send)(fp_session *s, uint16_t packet_id, const void *payload, size_t len,
                      uint32_t flags);

    /* Serialise in place: reserve_payload returns a pointer to at least
     * `max_len` writable payload bytes in transport memory, and
     * commit_payload frames and queues the first `used`. Nothing else may
     * be called on the session in between. No compression on this path. */
    fp_status (*send_reserve)(fp_session *s, uint16_t packet_id, size_t max_len, uint8_t **payload);
    fp_status (*send_commit)(fp_session *s, size_t used);

    /* Any thread: send to a session by id. The payload is copied and
     * delivered through the owning worker's mailbox; FP_ENOTFOUND if the
     * id is stale when checked (stale ids found at delivery are counted). */
    fp_status (*send_to)(fp_session_id id, uint16_t packet_id, const void *payload, size_t len,
                         uint32_t flags);

    /* Close the session: graceful sends what is queued first. Idempotent;
     * no handler runs for it afterwards, session_close follows. */
    void (*close)(fp_session *s, int abort);

    fp_session_id (*session_id)(const fp_session *s);
    unsigned (*session_worker)(const fp_session *s);
    void *(*user_get)(const fp_session *s);
    void (*user_set)(fp_session *s, void *user);
    void (*peer)(const fp_session *s, fp_addr *out);
    void (*counters)(const fp_session *s, fp_session_counters *out);

    /* One-shot timer on the session's worker; cancelled automatically when
     * the session closes. Returns 0 on failure. */
    fp_timer_id (*timer_start)(fp_session *s, uint32_t delay_ms, fp_timer_fn fn, void *arg);
    void (*timer_cancel)(fp_session *s, fp_timer_id id);

    /* Any thread. */
    void (*log)(fp_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 2, 3)))
#endif
        ;
    uint64_t (*now_ns)(void); /* monotonic clock, any thread */

    /* ---- ABI 1.1 ---- */

    /* Any thread: one engine counter summed over workers (the names
     * fp_engine_stats reports, "transport.*" included); 0 when unknown. */
    uint64_t (*engine_stat)(const char *name);
    /* Any thread: the loaded transport's name ("epoll"). */
    const char *(*transport_name)(void);
    unsigned (*worker_count)(void);
    /* Any thread: up to `limit` open sessions from position `offset` of
     * the engine-wide list, ordered by id; *total gets the number of open
     * sessions. The caller's own worker is read live; other workers from
     * snapshots they refresh when asked (at most one request old).
     * Returns the rows written. */
    size_t (*session_list)(size_t offset, size_t limit, fp_session_info *out, size_t *total);
    /* Add to a plugin-defined counter on the session's worker; reported by
     * fp_engine_stats as "plugin.<name>". `name` must stay valid for the
     * engine's life (a string literal); at most 64 names per worker. */
    void (*stat_add)(fp_session *s, const char *name, uint64_t delta);

    /* ---- append new functions below, bump FP_PLUGIN_ABI_MINOR ---- */
} fp_engine_api;

/* A packet handler. `payload` is valid only during the call (already
 * inflated when it arrived compressed). Return FP_OK, or an error to have
 * the engine count it and close this one session. */
typedef fp_status (*fp_packet_handler)(void *plugin_ctx, fp_session *s, uint16_t packet_id,
                                       const uint8_t *payload, size_t len);

typedef struct fp_handler_entry {
    uint16_t packet_id;
    fp_packet_handler fn;
} fp_handler_entry;

typedef struct fp_plugin_desc {
    /* ---- header: never moves ---- */
    uint16_t abi_major;   /* FP_PLUGIN_ABI_MAJOR the plugin was built with */
    uint16_t abi_minor;   /* FP_PLUGIN_ABI_MINOR the plugin was built with */
    uint32_t struct_size; /* sizeof(fp_plugin_desc) the plugin was built with */
    const char *name;     /* equals the file stem and --plugin=NAME */
    const char *version;
    const char *description;

    /* ---- ABI 1.0 ---- */

    /* Set up; `api` outlives the plugin. `opts` are this plugin's
     * --plugin-opt=NAME.KEY=VALUE pairs (KEY only). An unknown key should
     * fail with FP_EINVAL and a message in `err`. May be NULL. */
    fp_status (*init)(const fp_engine_api *api, const fp_kv *opts, size_t n_opts, void **plugin_ctx,
                      char *err, size_t err_len);
    void (*shutdown)(void *plugin_ctx); /* may be NULL */

    void (*worker_start)(void *plugin_ctx, unsigned worker); /* may be NULL */
    void (*worker_stop)(void *plugin_ctx, unsigned worker);  /* may be NULL */

    /* A session opened (accepted or connected), offered to the plugins in
     * load order. An error refuses it: the plugins after this one never
     * see it, and only those before it get session_close. */
    fp_status (*session_open)(void *plugin_ctx, fp_session *s); /* may be NULL */
    /* Last plugin callback for a session this plugin accepted (its
     * session_open returned FP_OK, or it has none); never for one it
     * refused or never saw. Plugins get it in reverse load order. */
    void (*session_close)(void *plugin_ctx, fp_session *s, fp_status why); /* may be NULL */
    /* A send refused with FP_EAGAIN may now be retried. */
    void (*session_writable)(void *plugin_ctx, fp_session *s); /* may be NULL */

    /* Handlers by logical packet id; two plugins may not claim one id. */
    const fp_handler_entry *handlers;
    size_t n_handlers;
    /* Called for ids no plugin claimed; NULL to leave them to others. An
     * id nobody handles is counted and dropped. */
    fp_packet_handler catch_all;

    /* ---- ABI 1.1 ---- */

    /* An outbound session (fp_engine_connect) failed to connect; `user` is
     * the pointer given to fp_engine_connect. No other callback is made for
     * it. Runs on the worker that tried. May be NULL. */
    void (*connect_failed)(void *plugin_ctx, void *user, fp_status why);

    /* ---- append new fields below, bump FP_PLUGIN_ABI_MINOR ---- */
} fp_plugin_desc;

#define FP_PLUGIN_DESC_MIN_SIZE (offsetof(fp_plugin_desc, catch_all) + sizeof(fp_packet_handler))

typedef const fp_plugin_desc *(*fp_plugin_entry_fn)(void);

/* Emits the plugin's entry symbol returning `desc_var`. */
#define FP_PLUGIN_DEFINE(desc_var)                                                                 \
    FP_EXPORT const fp_plugin_desc *fp_plugin_entry(void);                                         \
    FP_EXPORT const fp_plugin_desc *fp_plugin_entry(void) { return &(desc_var); }

/* Fills the header of an fp_plugin_desc initialiser. */
#define FP_PLUGIN_HEADER(name, version, description)                                               \
    FP_PLUGIN_ABI_MAJOR, FP_PLUGIN_ABI_MINOR, (uint32_t)sizeof(fp_plugin_desc), (name), (version), \
        (description)

#ifdef __cplusplus
}
#endif
#endif
