/*
 * iocp_accept.c - hosting a listening socket: its AcceptEx calls, kept
 * `accepts_posted` deep in the host worker's port, and what becomes of a
 * socket they accept: SO_UPDATE_ACCEPT_CONTEXT, then dealt to the next
 * target (iocp_listen.c), announced here when that is the host itself,
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

#include "iocp_internal.h"
#include "sockaddr.h"

static bool resource_error(int err)
{
    fp_status st = fpt_wsa_status(err);
    return st == FP_ENOMEM || st == FP_ELIMIT;
}

/* Posts slot's AcceptEx; 0 or the Winsock error. Under l->lock, l->s open. */
static int post_accept(fp_tworker *w, ic_host *h, ic_accept_slot *slot)
{
    slot->s = fpt_win_socket(h->family);
    if (slot->s == INVALID_SOCKET) return WSAGetLastError();
    ic_op_prepare(&slot->op, IC_OP_ACCEPT);
    DWORD bytes = 0;
    /* no receive buffer: a peer that connects and stays silent must not
     * hold an AcceptEx */
    if (!w->t->ext.accept_ex(h->l->s, slot->s, slot->addrs, 0, IC_ACCEPT_ADDR_LEN, IC_ACCEPT_ADDR_LEN,
                             &bytes, &slot->op.ov)) {
        int err = WSAGetLastError();
        if (err != ERROR_IO_PENDING) {
            fpt_win_close(&slot->s);
            return err;
        }
    }
    ic_op_posted(w, &slot->op);
    h->pending++;
    w->stats.accepts_posted++;
    return 0;
}

/* Posts every idle slot; the first failure stops it. Under l->lock. */
static int post_idle(fp_tworker *w, ic_host *h)
{
    for (unsigned i = 0; i < h->n_slots; i++) {
        if (h->slots[i].op.pending) continue;
        int err = post_accept(w, h, &h->slots[i]);
        if (err) return err;
    }
    return 0;
}

static void pause_host(fp_tworker *w, ic_host *h, int err)
{
    char where[64], text[160];
    fpt_addr_format(&h->l->addr, where, sizeof(where)); /* fixed since listen() */
    fpt_wsa_describe(err, text, sizeof(text));
    fpt_acceptor_pause(&w->core, &h->base, where, text, fpt_wsa_status(err) == FP_ELIMIT);
}

static void host_free(fp_tworker *w, ic_host *h)
{
    for (ic_host **link = &w->hosts; *link; link = &(*link)->next) {
        if (*link != h) continue;
        *link = h->next;
        break;
    }
    fpt_acceptor_remove(&w->core, &h->base);
    ic_listener_unref(h->l);
    free(h);
}

fp_status ic_host_start(fp_tworker *w, fp_tlistener *l)
{
    unsigned n = (unsigned)w->t->set.accepts_posted;
    ic_host *h = calloc(1, sizeof(*h) + n * sizeof(h->slots[0]));
    if (!h) return FP_ENOMEM;
    int err = ic_associate(w, l->s);
    if (err) {
        free(h);
        return fpt_wsa_status_logged(w->core.host, "iocp", "binding the listening socket to a port", err);
    }
    h->w = w;
    h->l = l;
    h->family = l->addr.family == FP_AF_INET6 ? AF_INET6 : AF_INET;
    h->n_slots = n;
    for (unsigned i = 0; i < n; i++) {
        h->slots[i].s = INVALID_SOCKET;
        h->slots[i].host = h;
    }
    atomic_fetch_add(&l->refs, 1);
    l->host = h;
    fpt_acceptor_add(&w->core, &h->base, l);
    h->next = w->hosts;
    w->hosts = h;
    err = post_idle(w, h);
    if (!err) return FP_OK;
    if (h->pending || resource_error(err)) {
        pause_host(w, h, err); /* some are posted, or more may be later */
        return FP_OK;
    }
    /* AcceptEx itself is refused: the socket is bound to this port for
     * good, so it goes too, and a later accept_start starts afresh */
    ic_listener_stop_hosting(l);
    host_free(w, h);
    return fpt_wsa_status_logged(w->core.host, "iocp", "AcceptEx", err);
}

static void peer_of(fp_tworker *w, ic_accept_slot *slot, fp_addr *peer)
{
    struct sockaddr *local = NULL, *remote = NULL;
    int local_len = 0, remote_len = 0;
    w->t->ext.accept_addrs(slot->addrs, 0, IC_ACCEPT_ADDR_LEN, IC_ACCEPT_ADDR_LEN, &local, &local_len,
                           &remote, &remote_len);
    if (remote)
        fpt_addr_from_sockaddr(remote, peer);
    else
        memset(peer, 0, sizeof(*peer));
}

/* Gives accepted `s` to the next target. True when that is w itself: the
 * caller announces it once the lock is released. Otherwise `s` was handed
 * off (or closed when that failed). Under l->lock. */
static bool deal(fp_tworker *w, fp_tlistener *l, SOCKET s, const fp_addr *peer)
{
    ic_target *t = ic_listener_pick(l);
    if (t && t->w == w) return true;
    ic_handoff *ho = t ? malloc(sizeof(*ho)) : NULL;
    if (ho) {
        ho->s = s;
        ho->peer = *peer;
        ho->target_id = t->id;
        /* the target's port outlives its place in the list, which the lock holds */
        if (PostQueuedCompletionStatus(t->w->port, 0, IC_KEY_HANDOFF, (OVERLAPPED *)(void *)ho)) {
            w->stats.handoffs_out++;
            return false;
        }
        free(ho);
    }
    closesocket(s);
    w->core.counters.accept_errors++;
    return false;
}

int ic_accept_complete(fp_tworker *w, ic_accept_slot *slot)
{
    ic_host *h = slot->host;
    fp_tlistener *l = h->l;
    SOCKET s = slot->s;
    slot->s = INVALID_SOCKET;
    h->pending--;
    AcquireSRWLockExclusive(&l->lock);
    if (l->host != h) { /* no longer hosting: the slot retires */
        ReleaseSRWLockExclusive(&l->lock);
        closesocket(s);
        h->retired = true;
        if (h->pending == 0) host_free(w, h);
        return 0;
    }
    int err = ic_op_failed(&slot->op) ? ic_op_error(l->s, &slot->op) : 0;
    if (!err && setsockopt(s, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, (const char *)&l->s, sizeof(l->s)) != 0)
        err = WSAGetLastError();
    fp_addr peer;
    bool mine = false;
    if (!err) {
        peer_of(w, slot, &peer);
        mine = deal(w, l, s, &peer);
    } else {
        closesocket(s);
    }
    /* A peer that reset before we took it costs that one connection;
     * anything else (resources, a broken listener) pauses: an AcceptEx
     * failing again at once must not spin. */
    bool one_peer = err && fpt_wsa_status(err) == FP_ERESET;
    bool again = (!err || one_peer) && !h->base.paused;
    int post_err = again ? post_accept(w, h, slot) : 0;
    ReleaseSRWLockExclusive(&l->lock);
    if (one_peer) w->core.counters.accept_errors++;
    if (err && !one_peer) pause_host(w, h, err);
    if (post_err) pause_host(w, h, post_err);
    if (!mine) return err ? 0 : 1;
    ic_conn_accepted(w, s, &peer); /* may stop accepting: h is not touched after it */
    return 1;
}

static bool resume_host(fpt_worker *cw, fpt_acceptor *a)
{
    fp_tworker *w = ic_worker(cw);
    ic_host *h = (ic_host *)(void *)a;
    fp_tlistener *l = h->l;
    AcquireSRWLockExclusive(&l->lock);
    int err = 0;
    if (l->host == h)
        err = post_idle(w, h);
    else
        h->retired = true;
    ReleaseSRWLockExclusive(&l->lock);
    return err == 0; /* else retried at the next deadline, logged once per pause */
}

int ic_accept_resume_due(fp_tworker *w)
{
    (void)fpt_accept_resume_due(&w->core, resume_host, FPT_ACCEPT_PAUSE_MS);
    /* a host paused when its hosting ended has no slot left to retire it */
    for (ic_host *h = w->hosts, *next; h; h = next) {
        next = h->next;
        if (h->retired && h->pending == 0) host_free(w, h);
    }
    return 0; /* posting accepts again is not work the engine sees */
}

void ic_hosts_stop_all(fp_tworker *w)
{
    for (ic_host *h = w->hosts; h; h = h->next) {
        fp_tlistener *l = h->l;
        AcquireSRWLockExclusive(&l->lock);
        if (l->host == h) ic_listener_stop_hosting(l);
        ReleaseSRWLockExclusive(&l->lock);
        h->retired = true;
    }
}

void ic_hosts_free_all(fp_tworker *w)
{
    while (w->hosts) host_free(w, w->hosts);
}
