/*
 * accept.c - accept back-off. Out of descriptors or memory, accepting
 * more would fail again at once: the acceptor pauses (the connections
 * wait in the kernel's backlog) and poll folds its deadline into its wait,
 * so the worker neither spins nor loses a connection. Each failed resume
 * would log again: a worker logs one such line a second at most.
 */
#include <stdio.h>

#include "core.h"

void fpt_acceptor_add(fpt_worker *w, fpt_acceptor *a, const void *listener)
{
    a->listener = listener;
    a->paused = false;
    a->resume_at_ms = 0;
    a->next = w->acceptors;
    w->acceptors = a;
}

void fpt_acceptor_remove(fpt_worker *w, fpt_acceptor *a)
{
    for (fpt_acceptor **link = &w->acceptors; *link; link = &(*link)->next) {
        if (*link != a) continue;
        *link = a->next;
        if (a->paused) w->paused_acceptors--;
        a->paused = false;
        a->next = NULL;
        return;
    }
}

fpt_acceptor *fpt_acceptor_find(const fpt_worker *w, const void *listener)
{
    for (fpt_acceptor *a = w->acceptors; a; a = a->next)
        if (a->listener == listener) return a;
    return NULL;
}

/* Logs the pause unless the worker logged one less than
 * FPT_ACCEPT_LOG_INTERVAL_MS ago; a skipped one is counted into the next. */
static void log_pause(fpt_worker *w, const char *where, const char *reason)
{
    int64_t now = fpt_now_ms();
    if (now < w->accept_log_quiet_until_ms) {
        w->accept_log_suppressed++;
        return;
    }
    w->accept_log_quiet_until_ms = now + FPT_ACCEPT_LOG_INTERVAL_MS;
    char skipped[64] = "";
    if (w->accept_log_suppressed)
        snprintf(skipped, sizeof skipped, " (%llu more since the last report)",
                 (unsigned long long)w->accept_log_suppressed);
    w->accept_log_suppressed = 0;
    fpt_log(w->host, FP_LOG_WARN,
            "%s: worker %u: accept on %s failed: %s; accepting paused for %d ms "
            "(raise the descriptor limit, ulimit -n)%s",
            w->be->name, w->index, where, reason, FPT_ACCEPT_PAUSE_MS, skipped);
}

void fpt_acceptor_pause(fpt_worker *w, fpt_acceptor *a, const char *where, const char *reason,
                        bool fd_limit)
{
    if (fd_limit) w->counters.accept_emfile++;
    if (a->paused) return;
    a->paused = true;
    a->resume_at_ms = fpt_now_ms() + FPT_ACCEPT_PAUSE_MS;
    w->paused_acceptors++;
    if (reason) log_pause(w, where, reason);
}

int fpt_accept_timeout(const fpt_worker *w, int timeout_ms)
{
    if (!w->paused_acceptors) return timeout_ms;
    int64_t now = fpt_now_ms();
    for (const fpt_acceptor *a = w->acceptors; a; a = a->next) {
        if (!a->paused) continue;
        int64_t left = a->resume_at_ms - now;
        if (left < 0) left = 0;
        if (timeout_ms < 0 || left < timeout_ms) timeout_ms = (int)left;
    }
    return timeout_ms;
}

int fpt_accept_resume_due(fpt_worker *w, bool (*resume)(fpt_worker *w, fpt_acceptor *a), int retry_ms)
{
    if (!w->paused_acceptors) return 0;
    int resumed = 0;
    int64_t now = fpt_now_ms();
    for (fpt_acceptor *a = w->acceptors; a; a = a->next) {
        if (!a->paused || a->resume_at_ms > now) continue;
        if (!resume(w, a)) {
            a->resume_at_ms = now + retry_ms;
            continue;
        }
        a->paused = false;
        w->paused_acceptors--;
        resumed++;
    }
    return resumed;
}
