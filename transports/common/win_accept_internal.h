/*
 * win_accept_internal.h - between win_port.c, win_listen.c and
 * win_accept.c: the accepting workers (targets), the worker hosting a
 * listening socket (host) with its AcceptEx slots, and the hand-off of an
 * accepted socket to another worker's port.
 */
#ifndef FP_TRANSPORT_COMMON_WIN_ACCEPT_INTERNAL_H
#define FP_TRANSPORT_COMMON_WIN_ACCEPT_INTERNAL_H

#include "win_port.h"

/* A worker accepting on a listener: accepted sockets are dealt out over
 * these in turn. Owned by its worker; listed in its listener under the
 * listener's lock. */
struct fpt_port_target {
    fpt_port_target *next; /* the worker's list */
    fpt_port *p;
    fp_tlistener *l; /* referenced */
    uint32_t id;     /* names this target in a hand-off */
};

/* A socket accepted for another worker, posted to that worker's port. */
typedef struct fpt_handoff {
    SOCKET s;
    fp_addr peer;
    uint32_t target_id;
} fpt_handoff;

typedef struct fpt_accept_slot {
    fpt_port_op op; /* the AcceptEx */
    SOCKET s;       /* the socket it accepts into */
    fpt_port_host *host;
    uint8_t addrs[2 * FPT_ACCEPT_ADDR_LEN];
} fpt_accept_slot;

/* A worker hosting a listening socket: its port receives the AcceptEx
 * completions. It outlives the hosting itself until every slot is back. */
struct fpt_port_host {
    fpt_acceptor base; /* back-off: the core's view; first */
    fpt_port_host *next; /* the worker's list */
    fpt_port *p;
    fp_tlistener *l; /* referenced */
    int family;
    bool retired;     /* no longer the listener's host */
    unsigned pending; /* AcceptEx in flight */
    unsigned n_slots;
    fpt_accept_slot slots[];
};

/* ---- win_listen.c ---- */
void fpt_listener_unref(fp_tlistener *l);
/* Under l->lock: the next target in turn, or NULL. */
fpt_port_target *fpt_listener_pick(fp_tlistener *l);
/* Under l->lock: closes the listening socket; its host's AcceptEx come
 * back aborted and retire it. */
void fpt_listener_stop_hosting(fp_tlistener *l);
/* A hand-off arrived on p: the accepted connection, unless p stopped
 * accepting meanwhile. */
int fpt_handoff_arrived(fpt_port *p, fpt_handoff *h);
void fpt_handoff_release(fpt_port *p, fpt_handoff *h);
void fpt_port_targets_stop_all(fpt_port *p);

/* ---- win_accept.c ---- */
/* Under l->lock: p hosts l (binds l->s to p's port, posts the AcceptEx). */
fp_status fpt_host_start(fpt_port *p, fp_tlistener *l);
int fpt_accept_complete(fpt_port *p, fpt_accept_slot *slot);
/* A completed AcceptEx while closing: its socket closed. */
void fpt_accept_release(fpt_port *p, fpt_accept_slot *slot);
void fpt_port_hosts_stop_all(fpt_port *p);

#endif
