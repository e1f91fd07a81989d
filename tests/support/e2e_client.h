/* A load client for the end-to-end tests: many non-blocking TCP sessions on
 * one epoll loop of its own (independent of every FastPort transport).
 *
 * Each session sends the deterministic frames of e2e_payload.h, keeps up to
 * `depth` of them in flight, and checks every reply against the frame it
 * answers: same id, same payload, same order. Replies are verified as they
 * stream in, so no session holds a buffer. Single-threaded: every call on a
 * client must come from one thread. */
#ifndef FP_TEST_E2E_CLIENT_H
#define FP_TEST_E2E_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "e2e_payload.h"

typedef enum e2e_state {
    E2E_CONNECTING, /* connect() in progress */
    E2E_RUNNING,    /* frames still to send or replies still to check */
    E2E_DONE,       /* every reply checked; still connected if kept open */
    E2E_EOF,        /* the server closed (FIN) */
    E2E_RESET,      /* the server reset the connection */
    E2E_FAILED      /* a wrong reply or an unexpected error: see `error` */
} e2e_state;

/* What a session does after its last reply. */
typedef enum e2e_finish {
    E2E_FINISH_KEEP_OPEN, /* stay connected, still watching for a close */
    E2E_FINISH_CLOSE,     /* close the socket */
    E2E_FINISH_PARTIAL    /* send a header and half its payload, then close */
} e2e_finish;

typedef struct e2e_session_opts {
    uint64_t seed;
    uint64_t frames;      /* frames to send (e2e_session_add_frames adds more) */
    uint32_t max_payload; /* payload sizes are uniform in 0..max_payload */
    uint32_t depth;       /* most frames in flight; 0: no limit */
    int paused_reading;   /* start without reading (a slow reader) */
    e2e_finish finish;
} e2e_session_opts;

typedef struct e2e_session {
    /* Read-only for tests. */
    size_t index;
    int fd; /* -1 once closed */
    e2e_state state;
    e2e_session_opts opts;
    uint64_t tx_frames;        /* frames written whole */
    uint64_t tx_bytes;
    uint64_t rx_frames;        /* replies checked */
    int tx_blocked;            /* the last write would have blocked */
    uint64_t last_tx_ns;       /* monotonic time of the last write progress */
    char error[200];

    /* Internal. */
    uint64_t tx_frame;         /* frame being written ... */
    size_t tx_offset;          /* ... and bytes of it already written */
    int tx_dead;               /* the server no longer takes bytes */
    uint8_t rx_header[4];
    size_t rx_header_have;
    e2e_frame rx_expect;
    size_t rx_payload_have;
    uint32_t events;           /* epoll interest currently registered */
} e2e_session;

typedef struct e2e_client e2e_client;

e2e_client *e2e_client_create(void);
/* Closes every session. */
void e2e_client_destroy(e2e_client *c);

/* Start a non-blocking connect; NULL (with a message on stderr) if the
 * socket cannot even be created. */
e2e_session *e2e_client_connect(e2e_client *c, const struct sockaddr *addr, socklen_t addr_len,
                                const e2e_session_opts *opts);

/* Turn reading a session's replies on or off. */
void e2e_session_set_reading(e2e_client *c, e2e_session *s, int on);

/* Let a session that is done (or running) send `more` frames. */
void e2e_session_add_frames(e2e_client *c, e2e_session *s, uint64_t more);

/* Send no frame after the one being written (if any); the session is done
 * once those sent are answered. */
void e2e_session_stop_sending(e2e_client *c, e2e_session *s);

/* Close a session's socket (state unchanged). */
void e2e_session_close(e2e_client *c, e2e_session *s);

/* Returns nonzero when the loop may stop. */
typedef int (*e2e_until_fn)(e2e_client *c, void *ctx);

/* Drive the sessions until `until` says so (NULL: until no session is
 * connecting or running). Returns 0, or -1 after `timeout_ms`. */
int e2e_client_run(e2e_client *c, e2e_until_fn until, void *ctx, int timeout_ms);

size_t e2e_client_size(const e2e_client *c);
e2e_session *e2e_client_session(e2e_client *c, size_t index);
/* Sessions in `state`. */
size_t e2e_client_count(const e2e_client *c, e2e_state state);
/* Replies checked, over every session. */
uint64_t e2e_client_rx_frames(const e2e_client *c);
/* "n connecting, n running, ..., first error: ..." for failure messages. */
const char *e2e_client_summary(e2e_client *c);

const char *e2e_state_name(e2e_state s);
uint64_t e2e_now_ns(void);

#endif
