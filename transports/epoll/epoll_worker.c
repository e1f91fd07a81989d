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
    fpt_worker_init(&w->core, &ep_backend, t->host, index, worker_user);
    w->wake_handle.kind = EP_KIND_WAKE;
    w->t = t;
    w->epfd = -1;
    w->wakefd = -1;
    w->read_size = (size_t)t->set.read_size;
    w->read_budget = t->set.read_budget;
    fpt_chunk_pool_init(&w->pool, (size_t)t->set.send_pool_max);
    w->max_events = EP_MAX_EVENTS;

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
    fpt_log(t->host, FP_LOG_ERROR, "epoll: worker %u: cannot create its queue: %s", index,
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
    fpt_worker_teardown(&w->core);
    fpt_chunk_pool_free_cache(&w->pool);
    close(w->wakefd);
    close(w->epfd);
    free(w->events);
    free(w->rbuf);
    free(w);
}

void ep_wake(fp_tworker *w) { fpt_wakefd_signal(w->wakefd); }

static void drain_wakefd(fp_tworker *w)
{
    uint64_t value;
    ssize_t r = read(w->wakefd, &value, sizeof(value));
    (void)r;
}

static void dispatch(fp_tworker *w, const struct epoll_event *e)
{
    ep_handle *h = e->data.ptr;
    switch (h->kind) {
    case EP_KIND_WAKE: drain_wakefd(w); break;
    case EP_KIND_ACCEPTOR: ep_acceptor_on_event(fpt_container_of(h, ep_acceptor, h), w); break;
    case EP_KIND_CONN: ep_conn_on_event(fpt_container_of(h, fp_tconn, h), e->events); break;
    }
}

int ep_poll(fp_tworker *w, int timeout_ms)
{
    w->round++;
    int timeout = fpt_has_deferred(&w->core) ? 0 : timeout_ms;
    timeout = fpt_accept_timeout(&w->core, timeout);
    timeout = fpt_trim_timeout(&w->core, timeout);

    int n = epoll_wait(w->epfd, w->events, w->max_events, timeout);
    w->stats.epoll_waits++;
    if (n < 0) {
        if (errno != EINTR) return fpt_errno_status(errno);
        n = 0;
    }
    w->stats.events += (uint64_t)n;
    for (int i = 0; i < n; i++) dispatch(w, &w->events[i]);

    int handled = n;
    handled += ep_accept_resume_due(w);
    fpt_trim_run_due(&w->core);
    handled += fpt_run_deferred(&w->core);
    return handled;
}

#define EP_DESC(name) FPT_COUNTER_DESC(ep_counters, name)
static const fpt_counter_desc ep_counter_desc[] = {EP_COUNTERS(EP_DESC)};

void ep_stats_emit(fp_tworker *w, fp_stat_fn emit, void *ctx)
{
    fpt_core_counters_emit(&w->core, emit, ctx);
    fpt_counters_emit(ep_counter_desc, sizeof(ep_counter_desc) / sizeof(ep_counter_desc[0]), &w->stats,
                      emit, ctx);
    fpt_chunk_pool_stats_emit(&w->pool, emit, ctx);
}
