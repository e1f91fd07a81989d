/*
 * client_link.h - fastport-client's built-in plugin and the hand-off
 * between the engine's worker, where its callbacks run, and the main
 * thread, which sends requests and waits for their replies.
 *
 * One outbound session per link; replies are queued in arrival order.
 */
#ifndef FASTPORT_CLIENT_LINK_H
#define FASTPORT_CLIENT_LINK_H

#include <pthread.h>
#include <stdint.h>

#include <fastport/plugin.h>

#include "fastport_wire.h"

typedef enum link_state { LINK_CONNECTING, LINK_OPEN, LINK_FAILED, LINK_CLOSED } link_state;

typedef struct link_reply {
    struct link_reply *next;
    fpm_echo_response *echo; /* NULL: the body did not decode */
    uint64_t received_ns;    /* engine monotonic clock */
} link_reply;

typedef struct client_link {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    link_state state;
    fp_status why;           /* for LINK_FAILED / LINK_CLOSED */
    fp_session_id session;   /* valid once LINK_OPEN */
    link_reply *head, *tail; /* replies not yet taken */
} client_link;

/* The descriptor to put in fp_engine_config.builtin_plugins. */
extern const fp_plugin_desc client_link_plugin;

int client_link_init(client_link *link);
/* After the engine is destroyed: drops unread replies. */
void client_link_destroy(client_link *link);

/* Waits up to `timeout_ms` for the connection to open or fail. */
link_state client_link_wait_open(client_link *link, uint32_t timeout_ms);

/* Any thread: packs `req` and queues it to the session. Returns the send
 * time on the engine's clock in *sent_ns. */
fp_status client_link_send_echo(client_link *link, const fpm_echo_request *req, uint64_t *sent_ns);

/* Waits up to `timeout_ms` for the next reply. Returns it (the caller
 * frees it with client_link_reply_free), or NULL on timeout or when the
 * session closed first (see link->state). */
link_reply *client_link_next_reply(client_link *link, uint32_t timeout_ms);
void client_link_reply_free(link_reply *reply);

#endif
