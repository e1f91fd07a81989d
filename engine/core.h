/* The engine's internal objects: engine, worker, session. Everything a
 * worker owns (its sessions, timers, codec, transport queue) is touched only
 * by that worker's thread; other threads reach it through its mailbox. */
#ifndef FP_ENGINE_CORE_H
#define FP_ENGINE_CORE_H

#include <stdatomic.h>
#include <stdint.h>

#include "compress.h"
#include "counters.h"
#include "fastport/engine.h"
#include "fastport/plugin.h"
#include "fastport/transport.h"
#include "framer.h"
#include "loader.h"
#include "mailbox.h"
#include "platform.h"
#include "timer.h"

typedef struct fp_worker fp_worker;
typedef struct fp_plugin_timer fp_plugin_timer;

typedef enum fp_session_state {
    FP_SESSION_FREE = 0,
    FP_SESSION_CONNECTING,
    FP_SESSION_OPEN,
    FP_SESSION_CLOSING /* close requested; waiting for on_closed */
} fp_session_state;

struct fp_session {
    fp_worker *worker;
    fp_tconn *conn;
    fp_session_id id;
    uint32_t slot;
    /* Plugins [0, plugins_opened) accepted the session (session_open
     * returned FP_OK, or they have none): only they get session_close. */
    uint32_t plugins_opened;
    uint8_t state;        /* fp_session_state */
    uint8_t recv_paused;  /* reading paused for backpressure */
    uint8_t want_writable;/* a send was refused; tell the plugins when it drains */
    uint8_t in_send;      /* between send_reserve and send_commit */
    uint8_t counted_open; /* counted in sessions_open */
    uint16_t reserve_id;
    fp_span reserve_span;
    fp_framer framer;
    void *user;
    uint64_t queued_bytes;
    uint32_t rx_held;     /* bytes of a partial frame the framer holds (counted in memory_held) */
    uint64_t rx_bytes, tx_bytes, rx_packets, tx_packets;
    uint64_t opened_ns, last_recv_ns;
    uint64_t resumed_ns;  /* reading last resumed after a backpressure pause (idleness counts from it) */
    uint64_t idle_timer;  /* also the close-deadline timer once closing */
    uint64_t frame_started_ns; /* first byte of the pending partial frame; 0: none */
    uint64_t frame_timer;
    uint64_t send_progress_ns; /* the kernel last took queued bytes (or the queue began); 0: empty */
    uint64_t send_timer;
    fp_plugin_timer *timers;
};

typedef struct fp_plugin_route {
    fp_packet_handler fn;
    void *ctx;
} fp_plugin_route;

/* Cross-thread messages (fp_mail.kind). */
enum {
    FP_MAIL_SEND_TO = 1, /* fp_mail_send */
    FP_MAIL_DRAIN,       /* stop accepting, close every session, exit when none is left */
    FP_MAIL_STATS,       /* refresh the transport stats snapshot */
    FP_MAIL_CONNECT,     /* fp_mail_connect: open an outbound session */
    FP_MAIL_SNAPSHOT     /* refresh the published session list */
};

typedef struct fp_mail_connect {
    fp_mail mail;
    fp_addr addr;
    void *user;
} fp_mail_connect;

#define FP_MAX_PLUGIN_STATS 64

/* Plugin-defined counters of one worker: names published with release
 * order through `count`, values single-writer relaxed like fp_counters. */
typedef struct fp_plugin_stats {
    const char *name[FP_MAX_PLUGIN_STATS];
    _Atomic uint64_t value[FP_MAX_PLUGIN_STATS];
    _Atomic uint32_t count;
} fp_plugin_stats;

typedef struct fp_mail_send {
    fp_mail mail;
    fp_session_id target;
    uint16_t packet_id;
    uint32_t flags;
    size_t len;
    uint8_t payload[];
} fp_mail_send;

typedef struct fp_stat_entry {
    char name[96];
    uint64_t value;
} fp_stat_entry;

struct fp_worker {
    fp_engine *engine;
    unsigned index;
    fp_thread thread;
    int thread_started;
    fp_tworker *tw;
    fp_mailbox *mailbox;
    fp_timer_heap *timers;
    fp_codec *codec;
    /* what the transport's current on_recv delivers (NULL outside one):
     * frames sent back unchanged from here may be lent, not copied */
    const uint8_t *rx_data, *rx_end;
    fp_counters counters;

    /* session table: slots[] of stable pointers, free list through next_free */
    fp_session **slots;
    uint32_t *next_free;
    uint32_t *generation;
    uint32_t n_slots, cap_slots, free_head;
    uint32_t live_sessions;

    int accepting;
    int draining;
    int exit_loop;
    uint64_t drain_timer;
    uint64_t close_grace_timer; /* after the drain timeout: stop waiting for on_closed */

    /* tw is written under both locks (wake_lock first) and read under
     * either: posters take only wake_lock, so waking a worker never waits
     * behind a stats refresh or a session listing. */
    fp_mutex wake_lock;

    /* transport counters snapshot, refreshed on FP_MAIL_STATS and at exit */
    fp_mutex stats_lock;
    fp_cond stats_cond;
    uint64_t stats_seq;
    fp_stat_entry *tstats;
    size_t n_tstats, cap_tstats;

    fp_plugin_stats plugin_stats;

    /* open sessions as last published for other threads (under stats_lock) */
    fp_session_info *snapshot;
    size_t n_snapshot, cap_snapshot;

    /* start-up handshake with the control thread */
    fp_status start_status;
    char start_err[256];
};

struct fp_engine {
    fp_engine_config cfg;
    char *transport_dir;
    char *plugin_dir;

    fp_loaded_transport transport;
    fp_transport *t;
    fp_transport_host host;

    fp_loaded_plugin *plugins;
    size_t n_plugins;
    fp_plugin_route *routes;  /* 65536 entries, indexed by logical packet id */
    fp_plugin_route catch_all;

    fp_worker *workers;
    unsigned n_workers;

    fp_tlistener **listeners;
    size_t n_listeners;

    _Atomic uint32_t live_sessions; /* all workers, for max_sessions */
    _Atomic unsigned next_connect_worker;

    fp_mutex start_lock;
    fp_cond start_cond;
    unsigned workers_ready;

    fp_event stop_event;
    int started, shut_down;
    fp_status shutdown_status;
};

/* session.c */
fp_session *fp_session_alloc(fp_worker *w);
void fp_session_release(fp_session *s);
fp_session *fp_session_lookup(fp_worker *w, fp_session_id id);
void fp_session_table_free(fp_worker *w);

/* dispatch.c: transport callbacks and the send path */
extern const fp_transport_events fp_engine_events;
fp_status fp_session_send(fp_session *s, uint16_t packet_id, const void *payload, size_t len,
                          uint32_t flags);
fp_status fp_session_send_reserve(fp_session *s, uint16_t packet_id, size_t max_len,
                                  uint8_t **payload);
fp_status fp_session_send_commit(fp_session *s, size_t used);
void fp_session_close(fp_session *s, int abort);
void fp_session_connect(fp_worker *w, const fp_addr *addr, void *user);
void fp_session_idle_arm(fp_session *s);

/* budget.c: memory_held, and aborting the largest holders over the
 * worker's budget (worker_memory_limit) */
void fp_budget_add(fp_worker *w, uint64_t bytes);
void fp_budget_sub(fp_worker *w, uint64_t bytes);
void fp_budget_enforce(fp_worker *w);

/* worker.c */
void fp_worker_main(void *arg);
fp_status fp_worker_post(fp_worker *w, fp_mail *mail);
fp_worker *fp_worker_current(void);
void fp_worker_publish_sessions(fp_worker *w);
void fp_worker_refresh_transport_stats(fp_worker *w);

/* engine.c */
fp_engine *fp_engine_active(void);
/* Refresh transport stats: the caller's own worker at once, the others by
 * mail; a non-worker caller waits (bounded) for their answers. */
void fp_engine_refresh_transport_stats(fp_engine *e);

/* api.c */
extern const fp_engine_api fp_engine_api_table;
void fp_plugin_timers_cancel_all(fp_session *s);

#endif
