/*
 * iocp_listen.c - the listener and the workers accepting on it.
 *
 * Windows has no SO_REUSEPORT to spread connections, and a socket belongs
 * to one completion port: so a listener has one listening socket, bound
 * to the port of the first worker that starts accepting on it (its host,
 * iocp_accept.c), and every worker that called accept_start is a target.
 * The host deals accepted sockets out over the targets in turn, the way
 * the kernel spreads a SO_REUSEPORT group over the epoll and uring
 * workers that accept, and each connection is announced by its owner's
 * poll. A socket for another worker travels as a hand-off posted to that
 * worker's port.
 *
 * The listener's lock orders the host's dealing against a target leaving
 * (accept_stop, worker_close): once a target is out of the list nothing
 * more is posted to its port, and what was posted before is dropped when
 * it arrives. When the last target leaves, the listening socket closes
 * (as the POSIX backends close theirs at accept_stop); a later
 * accept_start binds it again.
 */
#include <stdlib.h>

#include "iocp_internal.h"
#include "sockaddr.h"

fp_status ic_listen(fp_transport *t, const fp_addr *addr, const fp_listen_opts *opts,
                    fp_tlistener **out, char *err, size_t err_len)
{
    *out = NULL;
    fp_tlistener *l = calloc(1, sizeof(*l));
    if (!l) {
        if (err_len) snprintf(err, err_len, "iocp: out of memory for a listener");
        return FP_ENOMEM;
    }
    fp_status st = fpt_win_listen("iocp", addr, opts, (int)t->set.sock.backlog, &t->set.sock, &l->s,
                                  &l->addr, &l->backlog, err, err_len);
    if (st != FP_OK) {
        free(l);
        return st;
    }
    l->sock = t->set.sock;
    atomic_init(&l->refs, 1);
    InitializeSRWLock(&l->lock);
    *out = l;
    return FP_OK;
}

void ic_listener_addr(const fp_tlistener *l, fp_addr *out) { *out = l->addr; }

void ic_listener_unref(fp_tlistener *l)
{
    if (atomic_fetch_sub(&l->refs, 1) != 1) return;
    free(l->targets);
    free(l); /* an SRWLOCK needs no destruction */
}

void ic_listener_stop_hosting(fp_tlistener *l)
{
    fpt_win_close(&l->s);
    l->host = NULL;
}

void ic_listener_close(fp_tlistener *l)
{
    if (!l) return;
    AcquireSRWLockExclusive(&l->lock);
    ic_listener_stop_hosting(l);
    ReleaseSRWLockExclusive(&l->lock);
    ic_listener_unref(l);
}

ic_target *ic_listener_pick(fp_tlistener *l)
{
    if (!l->n_targets) return NULL;
    if (l->next_target >= l->n_targets) l->next_target = 0;
    return l->targets[l->next_target++];
}

static bool targets_add(fp_tlistener *l, ic_target *t)
{
    if (l->n_targets == l->cap_targets) {
        unsigned cap = l->cap_targets ? l->cap_targets * 2 : 8;
        ic_target **grown = realloc(l->targets, cap * sizeof(*grown));
        if (!grown) return false;
        l->targets = grown;
        l->cap_targets = cap;
    }
    l->targets[l->n_targets++] = t;
    return true;
}

static void targets_remove(fp_tlistener *l, ic_target *t)
{
    for (unsigned i = 0; i < l->n_targets; i++) {
        if (l->targets[i] != t) continue;
        l->targets[i] = l->targets[--l->n_targets];
        return;
    }
}

/* The socket listen() made, or a new one on the same address when the
 * last target closed it. Under l->lock. */
static fp_status ensure_listening(fp_tworker *w, fp_tlistener *l)
{
    if (l->s != INVALID_SOCKET) return FP_OK;
    int err = fpt_win_listen_socket(&l->addr, l->backlog, l->sock.sndbuf, l->sock.rcvbuf, &l->s);
    if (!err) return FP_OK;
    char where[64];
    fpt_addr_format(&l->addr, where, sizeof(where));
    char what[96];
    snprintf(what, sizeof(what), "worker %u: listening again on %s", w->core.index, where);
    return fpt_wsa_status_logged(w->core.host, "iocp", what, err);
}

static ic_target *find_target(fp_tworker *w, const fp_tlistener *l)
{
    for (ic_target *t = w->targets; t; t = t->next)
        if (t->l == l) return t;
    return NULL;
}

fp_status ic_accept_start(fp_tworker *w, fp_tlistener *l)
{
    if (find_target(w, l)) return FP_OK;
    ic_target *t = calloc(1, sizeof(*t));
    if (!t) return FP_ENOMEM;
    t->w = w;
    t->l = l;
    t->id = ++w->next_target_id;
    AcquireSRWLockExclusive(&l->lock);
    fp_status st = targets_add(l, t) ? FP_OK : FP_ENOMEM;
    if (st == FP_OK) st = ensure_listening(w, l);
    if (st == FP_OK && !l->host) st = ic_host_start(w, l);
    if (st == FP_OK) {
        atomic_fetch_add(&l->refs, 1);
    } else {
        targets_remove(l, t);
        if (l->n_targets == 0) ic_listener_stop_hosting(l);
    }
    ReleaseSRWLockExclusive(&l->lock);
    if (st != FP_OK) {
        free(t);
        return st;
    }
    t->next = w->targets;
    w->targets = t;
    return FP_OK;
}

static void target_stop(fp_tworker *w, ic_target *t)
{
    fp_tlistener *l = t->l;
    AcquireSRWLockExclusive(&l->lock);
    targets_remove(l, t);
    if (l->n_targets == 0) ic_listener_stop_hosting(l);
    ReleaseSRWLockExclusive(&l->lock);
    for (ic_target **link = &w->targets; *link; link = &(*link)->next) {
        if (*link != t) continue;
        *link = t->next;
        break;
    }
    free(t);
    ic_listener_unref(l);
}

void ic_accept_stop(fp_tworker *w, fp_tlistener *l)
{
    ic_target *t = find_target(w, l);
    if (t) target_stop(w, t);
}

void ic_targets_stop_all(fp_tworker *w)
{
    while (w->targets) target_stop(w, w->targets);
}

int ic_handoff_arrived(fp_tworker *w, ic_handoff *h)
{
    SOCKET s = h->s;
    fp_addr peer = h->peer;
    uint32_t id = h->target_id;
    free(h);
    bool still_accepting = false;
    for (ic_target *t = w->targets; t && !still_accepting; t = t->next) still_accepting = t->id == id;
    if (!still_accepting) {
        /* accept_stop ran after the host dealt it: nobody announces it */
        closesocket(s);
        w->stats.handoffs_dropped++;
        return 0;
    }
    w->stats.handoffs_in++;
    ic_conn_accepted(w, s, &peer);
    return 1;
}
