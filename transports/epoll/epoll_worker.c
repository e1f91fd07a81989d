/*
 * epoll_worker.c - a worker's kernel queue: poll, wake, flush, stats.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "epoll_internal.h"

#define EP_MAX_EVENTS 256

fp_status ep_worker_open(fp_transport *t, unsigned index, void *worker_user, fp_tworker **out)
{
    *out = NULL;
    fp_tworker *w = calloc(1, sizeof(*w));
    if (!w) return FP_ENOMEM;
    w->wake_handle.kind = EP_KIND_WAKE;
    w->t = t;
    w->index = index;
    w->user = worker_user;
    w->ev = t->host->events;
    w->epfd = -1;
    w->wakefd = -1;
    w->read_size = (size_t)t->set.read_size;
    w->read_budget = t->set.read_budget;
    w->pool_max = (size_t)t->set.send_pool_max;
    w->max_events = EP_MAX_EVENTS;
    fpt_list_init(&w->ready);
    fpt_list_init(&w->dirty);
    fpt_list_init(&w->waiters);
    fpt_list_init(&w->notify);

    fp_status st = FP_ENOMEM;
    w->rbuf = malloc(w->read_size);
    w->events = calloc((size_t)w->max_events, sizeof(*w->events));
    if (!w->rbuf || !w->events) goto fail;
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (w->epfd < 0) goto fail_errno;
    w->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->wakefd < 0) goto fail_errno;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &w->wake_handle};
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wakefd, &ev) < 0) goto fail_errno;
    *out = w;
    return FP_OK;

fail_errno:
    st = fpt_errno_status(errno);
    ep_log(t, FP_LOG_ERROR, "epoll: worker %u: cannot create its queue: %s", index,
           strerror(errno));
fail:
    if (w->wakefd >= 0) close(w->wakefd);
    if (w->epfd >= 0) close(w->epfd);
    free(w->events);
    free(w->rbuf);
    free(w);
    return st;
}

void ep_worker_close(fp_tworker *w)
{
    if (!w) return;
    ep_acceptors_close_all(w);
    ep_conns_release_all(w);
    ep_chunks_free_cache(w);
    close(w->wakefd);
    close(w->epfd);
    free(w->events);
    free(w->rbuf);
    free(w);
}

void ep_wake(fp_tworker *w)
{
    uint64_t one = 1;
    /* EAGAIN means the counter is already non-zero: the wake is pending. */
    ssize_t r = write(w->wakefd, &one, sizeof(one));
    (void)r;
}

static void drain_wakefd(fp_tworker *w)
{
    uint64_t value;
    ssize_t r = read(w->wakefd, &value, sizeof(value));
    (void)r;
}

static bool has_deferred_work(const fp_tworker *w)
{
    return !fpt_list_empty(&w->ready) || !fpt_list_empty(&w->notify) ||
           !fpt_list_empty(&w->dirty) || (w->writable_due && !fpt_list_empty(&w->waiters));
}

/* Reads the connections left readable by an earlier poll (budget spent,
 * resumed, closing). Each gets one turn; those still readable requeue. */
static int run_ready(fp_tworker *w)
{
    fpt_link batch;
    int handled = 0;
    fpt_list_take_all(&batch, &w->ready);
    while (!fpt_list_empty(&batch)) {
        fp_tconn *c = fpt_container_of(batch.next, fp_tconn, ready_link);
        fpt_list_remove(&c->ready_link);
        ep_conn_read(c);
        handled++;
    }
    return handled;
}

static int run_writable(fp_tworker *w)
{
    if (!w->writable_due || w->pool_used >= w->pool_max) return 0;
    w->writable_due = false;
    fpt_link batch;
    int handled = 0;
    fpt_list_take_all(&batch, &w->waiters);
    while (!fpt_list_empty(&batch)) {
        fp_tconn *c = fpt_container_of(batch.next, fp_tconn, wait_link);
        fpt_list_remove(&c->wait_link);
        if (c->state == EP_CONN_OPEN || c->state == EP_CONN_CONNECTING) {
            w->ev->on_writable(c->user);
            handled++;
        }
    }
    return handled;
}

/* Delivers on_sent and on_closed; a connection is recycled only here,
 * after its on_closed returned. */
static int run_notify(fp_tworker *w)
{
    fpt_link batch;
    int handled = 0;
    fpt_list_take_all(&batch, &w->notify);
    while (!fpt_list_empty(&batch)) {
        fp_tconn *c = fpt_container_of(batch.next, fp_tconn, notify_link);
        fpt_list_remove(&c->notify_link);
        if (c->sent_unreported) {
            size_t sent = c->sent_unreported;
            c->sent_unreported = 0;
            w->ev->on_sent(c->user, sent);
            handled++;
        }
        if (c->state == EP_CONN_DEAD && !fpt_linked(&c->notify_link)) {
            /* on_sent may have queued more sent bytes: they go first */
            w->ev->on_closed(c->user, c->close_why);
            ep_conn_release(c);
            handled++;
        }
    }
    return handled;
}

static void dispatch(const struct epoll_event *e)
{
    ep_handle *h = e->data.ptr;
    switch (h->kind) {
    case EP_KIND_WAKE: drain_wakefd(fpt_container_of(h, fp_tworker, wake_handle)); break;
    case EP_KIND_ACCEPTOR: ep_acceptor_on_event((ep_acceptor *)h); break;
    case EP_KIND_CONN: ep_conn_on_event((fp_tconn *)h, e->events); break;
    }
}

int ep_poll(fp_tworker *w, int timeout_ms)
{
    w->round++;
    int timeout = has_deferred_work(w) ? 0 : timeout_ms;
    timeout = ep_accept_timeout(w, timeout);

    int n = epoll_wait(w->epfd, w->events, w->max_events, timeout);
    w->stats.epoll_waits++;
    if (n < 0) {
        if (errno != EINTR) return fpt_errno_status(errno);
        n = 0;
    }
    w->stats.events += (uint64_t)n;
    for (int i = 0; i < n; i++) dispatch(&w->events[i]);

    int handled = n;
    handled += ep_accept_resume_due(w);
    handled += run_ready(w);
    handled += run_writable(w);
    handled += run_notify(w);
    return handled;
}

void ep_flush(fp_tworker *w)
{
    fpt_link batch;
    fpt_list_take_all(&batch, &w->dirty);
    while (!fpt_list_empty(&batch)) {
        fp_tconn *c = fpt_container_of(batch.next, fp_tconn, dirty_link);
        fpt_list_remove(&c->dirty_link);
        ep_conn_send(c);
    }
}

void ep_stats_emit(fp_tworker *w, fp_stat_fn emit, void *ctx)
{
    const ep_stats *s = &w->stats;
    emit(ctx, "accepts", s->accepts);
    emit(ctx, "accept_errors", s->accept_errors);
    emit(ctx, "accept_emfile", s->accept_emfile);
    emit(ctx, "accept_refused", s->accept_refused);
    emit(ctx, "connects", s->connects);
    emit(ctx, "connect_failures", s->connect_failures);
    emit(ctx, "epoll_waits", s->epoll_waits);
    emit(ctx, "events", s->events);
    emit(ctx, "reads", s->reads);
    emit(ctx, "read_bytes", s->read_bytes);
    emit(ctx, "sends", s->sends);
    emit(ctx, "send_bytes", s->send_bytes);
    emit(ctx, "send_eagain", s->send_eagain);
    emit(ctx, "peer_errors", s->peer_errors);
    emit(ctx, "conns_open", s->conns_open);
    emit(ctx, "send_pool_bytes", w->pool_used);
    emit(ctx, "send_pool_max_used", w->pool_peak);
    emit(ctx, "send_pool_cached", w->cached_bytes);
    emit(ctx, "eagain_reserve", s->eagain_reserve);
}
