#include "client_link.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include <fastport/engine.h>

/* Set by init on the control thread before the workers start. */
static const fp_engine_api *engine_api;

static fp_status link_init(const fp_engine_api *api, const fp_kv *opts, size_t n_opts,
                           void **plugin_ctx, char *err, size_t err_len)
{
    engine_api = api;
    return FP_OK;
}

static void set_state(client_link *link, link_state state, fp_status why)
{
    pthread_mutex_lock(&link->lock);
    link->state = state;
    link->why = why;
    pthread_cond_broadcast(&link->changed);
    pthread_mutex_unlock(&link->lock);
}

static fp_status link_session_open(void *plugin_ctx, fp_session *s)
{
    client_link *link = engine_api->user_get(s);
    if (!link) return FP_OK;
    pthread_mutex_lock(&link->lock);
    link->session = engine_api->session_id(s);
    link->state = LINK_OPEN;
    pthread_cond_broadcast(&link->changed);
    pthread_mutex_unlock(&link->lock);
    return FP_OK;
}

static void link_session_close(void *plugin_ctx, fp_session *s, fp_status why)
{
    client_link *link = engine_api->user_get(s);
    if (link) set_state(link, LINK_CLOSED, why);
}

static void link_connect_failed(void *plugin_ctx, void *user, fp_status why)
{
    if (user) set_state(user, LINK_FAILED, why);
}

static fp_status link_on_echo(void *plugin_ctx, fp_session *s, uint16_t packet_id,
                              const uint8_t *payload, size_t len)
{
    client_link *link = engine_api->user_get(s);
    if (!link) return FP_OK;
    link_reply *reply = calloc(1, sizeof *reply);
    if (!reply) return FP_ENOMEM;
    reply->received_ns = engine_api->now_ns();
    reply->echo = fastport__protocols__tests__echo_response__unpack(NULL, len, payload);
    pthread_mutex_lock(&link->lock);
    if (link->tail)
        link->tail->next = reply;
    else
        link->head = reply;
    link->tail = reply;
    pthread_cond_broadcast(&link->changed);
    pthread_mutex_unlock(&link->lock);
    return FP_OK;
}

static const fp_handler_entry link_handlers[] = {{FASTPORT_ID_ECHO, link_on_echo}};

const fp_plugin_desc client_link_plugin = {
    FP_PLUGIN_HEADER("fastport-client", FP_VERSION_STRING, "echo replies to the main thread"),
    .init = link_init,
    .session_open = link_session_open,
    .session_close = link_session_close,
    .handlers = link_handlers,
    .n_handlers = 1,
    .connect_failed = link_connect_failed,
};

int client_link_init(client_link *link)
{
    link->state = LINK_CONNECTING;
    link->why = FP_OK;
    link->session = 0;
    link->head = link->tail = NULL;
    if (pthread_mutex_init(&link->lock, NULL) != 0) return -1;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&link->changed, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0) {
        pthread_mutex_destroy(&link->lock);
        return -1;
    }
    return 0;
}

void client_link_reply_free(link_reply *reply)
{
    if (!reply) return;
    if (reply->echo) fastport__protocols__tests__echo_response__free_unpacked(reply->echo, NULL);
    free(reply);
}

void client_link_destroy(client_link *link)
{
    while (link->head) {
        link_reply *next = link->head->next;
        client_link_reply_free(link->head);
        link->head = next;
    }
    link->tail = NULL;
    pthread_cond_destroy(&link->changed);
    pthread_mutex_destroy(&link->lock);
}

static struct timespec deadline_after(uint32_t timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += timeout_ms / 1000u;
    ts.tv_nsec += (long)(timeout_ms % 1000u) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

link_state client_link_wait_open(client_link *link, uint32_t timeout_ms)
{
    struct timespec deadline = deadline_after(timeout_ms);
    pthread_mutex_lock(&link->lock);
    while (link->state == LINK_CONNECTING &&
           pthread_cond_timedwait(&link->changed, &link->lock, &deadline) != ETIMEDOUT) {
    }
    link_state state = link->state;
    pthread_mutex_unlock(&link->lock);
    return state;
}

fp_status client_link_send_echo(client_link *link, const fpm_echo_request *req, uint64_t *sent_ns)
{
    size_t len = fastport__protocols__tests__echo_request__get_packed_size(req);
    if (len > FP_PAYLOAD_MAX_SIZE) return FP_EINVAL;
    uint8_t *frame = malloc(len ? len : 1);
    if (!frame) return FP_ENOMEM;
    fastport__protocols__tests__echo_request__pack(req, frame);
    pthread_mutex_lock(&link->lock);
    fp_session_id session = link->session;
    link_state state = link->state;
    pthread_mutex_unlock(&link->lock);
    fp_status st = FP_ECLOSED;
    if (state == LINK_OPEN) {
        *sent_ns = engine_api->now_ns();
        st = engine_api->send_to(session, FASTPORT_ID_ECHO, frame, len, 0);
    }
    free(frame);
    return st;
}

link_reply *client_link_next_reply(client_link *link, uint32_t timeout_ms)
{
    struct timespec deadline = deadline_after(timeout_ms);
    pthread_mutex_lock(&link->lock);
    while (!link->head && link->state == LINK_OPEN &&
           pthread_cond_timedwait(&link->changed, &link->lock, &deadline) != ETIMEDOUT) {
    }
    link_reply *reply = link->head;
    if (reply) {
        link->head = reply->next;
        if (!link->head) link->tail = NULL;
        reply->next = NULL;
    }
    pthread_mutex_unlock(&link->lock);
    return reply;
}
