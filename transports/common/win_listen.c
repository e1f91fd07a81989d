/*
 * win_listen.c - the listener and the workers accepting on it.
 *
 * Windows has no SO_REUSEPORT to spread connections, and a socket belongs
 * to one completion port: so a listener has one listening socket, bound
 * to the port of the first worker that starts accepting on it (its host,
 * win_accept.c), and every worker that called accept_start is a target.
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

#include "win_accept_internal.h"
#include "sockaddr.h"

fp_status fpt_port_listen(const char *who, const fpt_sock_settings *sock, const fp_addr *addr,
                          const fp_listen_opts *opts, fp_tlistener **out, char *err, size_t err_len)
{
    *out = NULL;
    fp_tlistener *l = calloc(1, sizeof(*l));
    if (!l) {
        if (err_len) snprintf(err, err_len, "%s: out of memory for a listener", who);
        return FP_ENOMEM;
    }
    fp_status st =
        fpt_win_listen(who, addr, opts, (int)sock->backlog, sock, &l->s, &l->addr, &l->backlog, err, err_len);
    if (st != FP_OK) {
        free(l);
        return st;
    }
    l->who = who;
    l->sock = *sock;
    atomic_init(&l->refs, 1);
    InitializeSRWLock(&l->lock);
    *out = l;
    return FP_OK;
}

void fpt_port_listener_addr(const fp_tlistener *l, fp_addr *out) { *out = l->addr; }

void fpt_listener_unref(fp_tlistener *l)
{
    if (atomic_fetch_sub(&l->refs, 1) != 1) return;
    free(l->targets);
    free(l); /* an SRWLOCK needs no destruction */
}

void fpt_listener_stop_hosting(fp_tlistener *l)
{
    fpt_win_close(&l->s);
    l->host = NULL;
}

void fpt_port_listener_close(fp_tlistener *l)
{
    if (!l) return;
    AcquireSRWLockExclusive(&l->lock);
    fpt_listener_stop_hosting(l);
    ReleaseSRWLockExclusive(&l->lock);
    fpt_listener_unref(l);
}

fpt_port_target *fpt_listener_pick(fp_tlistener *l)
{
    if (!l->n_targets) return NULL;
    if (l->next_target >= l->n_targets) l->next_target = 0;
    return l->targets[l->next_target++];
}

static bool targets_add(fp_tlistener *l, fpt_port_target *t)
{
    if (l->n_targets == l->cap_targets) {
        unsigned cap = l->cap_targets ? l->cap_targets * 2 : 8;
        fpt_port_target **grown = realloc(l->targets, cap * sizeof(*grown));
        if (!grown) return false;
        l->targets = grown;
        l->cap_targets = cap;
    }
    l->targets[l->n_targets++] = t;
    return true;
}

static void targets_remove(fp_tlistener *l, fpt_port_target *t)
{
    for (unsigned i = 0; i < l->n_targets; i++) {
        if (l->targets[i] != t) continue;
        l->targets[i] = l->targets[--l->n_targets];
        return;
    }
}

/* The socket listen() made, or a new one on the same address when the
 * last target closed it. Under l->lock. */
static fp_status ensure_listening(fpt_port *p, fp_tlistener *l)
{
    if (l->s != INVALID_SOCKET) return FP_OK;
    int err = fpt_win_listen_socket(&l->addr, l->backlog, l->sock.sndbuf, l->sock.rcvbuf, &l->s);
    if (!err) return FP_OK;
    char where[64];
    fpt_addr_format(&l->addr, where, sizeof(where));
    char what[96];
    snprintf(what, sizeof(what), "worker %u: listening again on %s", p->core->index, where);
    return fpt_wsa_status_logged(p->core->host, l->who, what, err);
}

static fpt_port_target *find_target(fpt_port *p, const fp_tlistener *l)
{
    for (fpt_port_target *t = p->targets; t; t = t->next)
        if (t->l == l) return t;
    return NULL;
}

fp_status fpt_port_accept_start(fpt_port *p, fp_tlistener *l)
{
    if (find_target(p, l)) return FP_OK;
    fpt_port_target *t = calloc(1, sizeof(*t));
    if (!t) return FP_ENOMEM;
    t->p = p;
    t->l = l;
    t->id = ++p->next_target_id;
    AcquireSRWLockExclusive(&l->lock);
    fp_status st = targets_add(l, t) ? FP_OK : FP_ENOMEM;
    if (st == FP_OK) st = ensure_listening(p, l);
    if (st == FP_OK && !l->host) st = fpt_host_start(p, l);
    if (st == FP_OK) {
        atomic_fetch_add(&l->refs, 1);
    } else {
        targets_remove(l, t);
        if (l->n_targets == 0) fpt_listener_stop_hosting(l);
    }
    ReleaseSRWLockExclusive(&l->lock);
    if (st != FP_OK) {
        free(t);
        return st;
    }
    t->next = p->targets;
    p->targets = t;
    return FP_OK;
}

static void target_stop(fpt_port *p, fpt_port_target *t)
{
    fp_tlistener *l = t->l;
    AcquireSRWLockExclusive(&l->lock);
    targets_remove(l, t);
    if (l->n_targets == 0) fpt_listener_stop_hosting(l);
    ReleaseSRWLockExclusive(&l->lock);
    for (fpt_port_target **link = &p->targets; *link; link = &(*link)->next) {
        if (*link != t) continue;
        *link = t->next;
        break;
    }
    free(t);
    fpt_listener_unref(l);
}

void fpt_port_accept_stop(fpt_port *p, fp_tlistener *l)
{
    fpt_port_target *t = find_target(p, l);
    if (t) target_stop(p, t);
}

void fpt_port_targets_stop_all(fpt_port *p)
{
    while (p->targets) target_stop(p, p->targets);
}

void fpt_handoff_release(fpt_port *p, fpt_handoff *h)
{
    closesocket(h->s);
    free(h);
    p->stats.handoffs_dropped++;
}

int fpt_handoff_arrived(fpt_port *p, fpt_handoff *h)
{
    SOCKET s = h->s;
    fp_addr peer = h->peer;
    uint32_t id = h->target_id;
    free(h);
    bool still_accepting = false;
    for (fpt_port_target *t = p->targets; t && !still_accepting; t = t->next) still_accepting = t->id == id;
    if (!still_accepting) {
        /* accept_stop ran after the host dealt it: nobody announces it */
        closesocket(s);
        p->stats.handoffs_dropped++;
        return 0;
    }
    p->stats.handoffs_in++;
    p->be->conn_accepted(p, s, &peer);
    return 1;
}
