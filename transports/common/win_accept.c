/*
 * win_accept.c - hosting a listening socket: its AcceptEx calls, kept
 * `accepts_per_listener` deep in the host worker's port, and what becomes of a
 * socket they accept: SO_UPDATE_ACCEPT_CONTEXT, then dealt to the next
 * target (win_listen.c), announced here when that is the host itself,
 * else handed off to the target's port.
 *
 * Out of sockets or memory the slot stays idle and the core's back-off
 * posts it again at a deadline; the backlog keeps the connections
 * meanwhile, and no completion spins.
 *
 * A host outlives its hosting: once the listening socket is closed (the
 * last target left, the listener closed, or the host's worker closes) its
 * AcceptEx come back aborted and their sockets are closed; the host is
 * freed when the last one is back.
 */
#include <stdlib.h>

#include "win_accept_internal.h"
#include "sockaddr.h"

static bool resource_error(int err)
{
    fp_status st = fpt_wsa_status(err);
    return st == FP_ENOMEM || st == FP_ELIMIT;
}

/* Posts slot's AcceptEx; 0 or the Winsock error. Under l->lock, l->s open. */
static int post_accept(fpt_port *p, fpt_port_host *h, fpt_accept_slot *slot)
{
    slot->s = fpt_win_socket_flags(h->family, p->be->accept_socket_flags);
    if (slot->s == INVALID_SOCKET) return WSAGetLastError();
    fpt_port_op_prepare(&slot->op, FPT_PORT_OP_ACCEPT);
    DWORD bytes = 0;
    /* no receive buffer: a peer that connects and stays silent must not
     * hold an AcceptEx */
    if (!p->ext->accept_ex(h->l->s, slot->s, slot->addrs, 0, FPT_ACCEPT_ADDR_LEN, FPT_ACCEPT_ADDR_LEN, &bytes,
                           &slot->op.ov)) {
        int err = WSAGetLastError();
        if (err != ERROR_IO_PENDING) {
            fpt_win_close(&slot->s);
            return err;
        }
    }
    fpt_port_op_posted(p, &slot->op);
    h->pending++;
    p->stats.accepts_posted++;
    return 0;
}

/* Posts every idle slot; the first failure stops it. Under l->lock. */
static int post_idle(fpt_port *p, fpt_port_host *h)
{
    for (unsigned i = 0; i < h->n_slots; i++) {
        if (h->slots[i].op.pending) continue;
        int err = post_accept(p, h, &h->slots[i]);
        if (err) return err;
    }
    return 0;
}

static void pause_host(fpt_port *p, fpt_port_host *h, int err)
{
    char where[64], text[160];
    fpt_addr_format(&h->l->addr, where, sizeof(where)); /* fixed since listen() */
    fpt_wsa_describe(err, text, sizeof(text));
    fpt_acceptor_pause(p->core, &h->base, where, text, fpt_wsa_status(err) == FP_ELIMIT);
}

static void host_free(fpt_port *p, fpt_port_host *h)
{
    for (fpt_port_host **link = &p->hosts; *link; link = &(*link)->next) {
        if (*link != h) continue;
        *link = h->next;
        break;
    }
    fpt_acceptor_remove(p->core, &h->base);
    fpt_listener_unref(h->l);
    free(h);
}

fp_status fpt_host_start(fpt_port *p, fp_tlistener *l)
{
    unsigned n = p->accepts_per_listener;
    fpt_port_host *h = calloc(1, sizeof(*h) + n * sizeof(h->slots[0]));
    if (!h) return FP_ENOMEM;
    int err = fpt_port_associate(p, l->s);
    if (err) {
        free(h);
        return fpt_wsa_status_logged(p->core->host, l->who, "binding the listening socket to a port", err);
    }
    h->p = p;
    h->l = l;
    h->family = l->addr.family == FP_AF_INET6 ? AF_INET6 : AF_INET;
    h->n_slots = n;
    for (unsigned i = 0; i < n; i++) {
        h->slots[i].s = INVALID_SOCKET;
        h->slots[i].host = h;
    }
    atomic_fetch_add(&l->refs, 1);
    l->host = h;
    fpt_acceptor_add(p->core, &h->base, l);
    h->next = p->hosts;
    p->hosts = h;
    err = post_idle(p, h);
    if (!err) return FP_OK;
    if (h->pending || resource_error(err)) {
        pause_host(p, h, err); /* some are posted, or more may be later */
        return FP_OK;
    }
    /* AcceptEx itself is refused: the socket is bound to this port for
     * good, so it goes too, and a later accept_start starts afresh */
    fpt_listener_stop_hosting(l);
    host_free(p, h);
    return fpt_wsa_status_logged(p->core->host, l->who, "AcceptEx", err);
}

static void peer_of(fpt_port *p, fpt_accept_slot *slot, fp_addr *peer)
{
    struct sockaddr *local = NULL, *remote = NULL;
    int local_len = 0, remote_len = 0;
    p->ext->accept_addrs(slot->addrs, 0, FPT_ACCEPT_ADDR_LEN, FPT_ACCEPT_ADDR_LEN, &local, &local_len,
                         &remote, &remote_len);
    if (remote)
        fpt_addr_from_sockaddr(remote, peer);
    else
        memset(peer, 0, sizeof(*peer));
}

/* Gives accepted `s` to the next target. True when that is w itself: the
 * caller announces it once the lock is released. Otherwise `s` was handed
 * off (or closed when that failed). Under l->lock. */
static bool deal(fpt_port *p, fp_tlistener *l, SOCKET s, const fp_addr *peer)
{
    fpt_port_target *t = fpt_listener_pick(l);
    if (t && t->p == p) return true;
    fpt_handoff *ho = t ? malloc(sizeof(*ho)) : NULL;
    if (ho) {
        ho->s = s;
        ho->peer = *peer;
        ho->target_id = t->id;
        /* the target's port outlives its place in the list, which the lock holds */
        if (PostQueuedCompletionStatus(t->p->port, 0, FPT_PORT_KEY_HANDOFF, (OVERLAPPED *)(void *)ho)) {
            p->stats.handoffs_out++;
            return false;
        }
        free(ho);
    }
    closesocket(s);
    p->core->counters.accept_errors++;
    return false;
}

int fpt_accept_complete(fpt_port *p, fpt_accept_slot *slot)
{
    fpt_port_host *h = slot->host;
    fp_tlistener *l = h->l;
    SOCKET s = slot->s;
    slot->s = INVALID_SOCKET;
    h->pending--;
    AcquireSRWLockExclusive(&l->lock);
    if (l->host != h) { /* no longer hosting: the slot retires */
        ReleaseSRWLockExclusive(&l->lock);
        closesocket(s);
        h->retired = true;
        if (h->pending == 0) host_free(p, h);
        return 0;
    }
    int err = fpt_port_op_failed(&slot->op) ? fpt_port_op_error(l->s, &slot->op) : 0;
    if (!err && setsockopt(s, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, (const char *)&l->s, sizeof(l->s)) != 0)
        err = WSAGetLastError();
    fp_addr peer;
    bool mine = false;
    if (!err) {
        peer_of(p, slot, &peer);
        mine = deal(p, l, s, &peer);
    } else {
        closesocket(s);
    }
    /* A peer that reset before we took it costs that one connection;
     * anything else (resources, a broken listener) pauses: an AcceptEx
     * failing again at once must not spin. */
    bool one_peer = err && fpt_wsa_status(err) == FP_ERESET;
    bool again = (!err || one_peer) && !h->base.paused;
    int post_err = again ? post_accept(p, h, slot) : 0;
    ReleaseSRWLockExclusive(&l->lock);
    if (one_peer) p->core->counters.accept_errors++;
    if (err && !one_peer) pause_host(p, h, err);
    if (post_err) pause_host(p, h, post_err);
    if (!mine) return err ? 0 : 1;
    p->be->conn_accepted(p, s, &peer); /* may stop accepting: h is not touched after it */
    return 1;
}

static bool resume_host(fpt_worker *cw, fpt_acceptor *a)
{
    (void)cw;
    fpt_port_host *h = (fpt_port_host *)(void *)a;
    fp_tlistener *l = h->l;
    AcquireSRWLockExclusive(&l->lock);
    int err = 0;
    if (l->host == h)
        err = post_idle(h->p, h);
    else
        h->retired = true;
    ReleaseSRWLockExclusive(&l->lock);
    return err == 0; /* else retried at the next deadline, logged once per pause */
}

void fpt_port_accept_resume_due(fpt_port *p)
{
    (void)fpt_accept_resume_due(p->core, resume_host, FPT_ACCEPT_PAUSE_MS);
    /* a host paused when its hosting ended has no slot left to retire it */
    for (fpt_port_host *h = p->hosts, *next; h; h = next) {
        next = h->next;
        if (h->retired && h->pending == 0) host_free(p, h);
    }
}

void fpt_port_hosts_stop_all(fpt_port *p)
{
    for (fpt_port_host *h = p->hosts; h; h = h->next) {
        fp_tlistener *l = h->l;
        AcquireSRWLockExclusive(&l->lock);
        if (l->host == h) fpt_listener_stop_hosting(l);
        ReleaseSRWLockExclusive(&l->lock);
        h->retired = true;
    }
}

void fpt_port_hosts_free_all(fpt_port *p)
{
    while (p->hosts) host_free(p, p->hosts);
}

void fpt_accept_release(fpt_port *p, fpt_accept_slot *slot)
{
    (void)p;
    fpt_win_close(&slot->s);
    slot->host->pending--;
}
