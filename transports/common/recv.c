/*
 * recv.c - input: bytes to on_recv, or to the stash while paused; the
 * peer's FIN to on_eof once everything before it was delivered.
 *
 * A completion-based backend (io_uring, IOCP, RIO) may have a receive in
 * flight when the engine pauses: the bytes it brings are copied to the
 * connection's stash and delivered, from poll, on resume before anything
 * newer. A readiness backend (epoll) simply stops reading.
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define FPT_STASH_DELIVERY 65536 /* bytes per on_recv when emptying the stash */

void fpt_conn_push_ready(fpt_conn *c)
{
    if (!fpt_linked(&c->ready_link)) fpt_list_push_back(&c->w->ready, &c->ready_link);
}

bool fpt_conn_wants_input(const fpt_conn *c)
{
    if (c->eof_seen) return false;
    switch (c->state) {
    case FPT_OPEN: return !c->paused;
    case FPT_DRAINING:
    case FPT_LINGER: return true;
    default: return false;
    }
}

void fpt_stash_drop(fpt_conn *c)
{
    if (c->stash) c->stash->off = c->stash->len = 0;
}

void fpt_stash_free(fpt_conn *c)
{
    if (!c->stash) return;
    free(c->stash->data);
    free(c->stash);
    c->stash = NULL;
}

static bool stash_empty(const fpt_conn *c) { return !c->stash || c->stash->off == c->stash->len; }

static bool stash_append(fpt_conn *c, const uint8_t *data, size_t len)
{
    if (!c->stash && !(c->stash = calloc(1, sizeof(*c->stash)))) return false;
    fpt_stash *s = c->stash;
    if (s->off == s->len) s->off = s->len = 0;
    if (s->len + len > s->cap) {
        if (s->off) {
            memmove(s->data, s->data + s->off, s->len - s->off);
            s->len -= s->off;
            s->off = 0;
        }
        if (s->len + len > s->cap) {
            size_t cap = s->cap ? s->cap : 16384;
            while (cap < s->len + len) cap *= 2;
            uint8_t *grown = realloc(s->data, cap);
            if (!grown) return false;
            s->data = grown;
            s->cap = cap;
        }
    }
    memcpy(s->data + s->len, data, len);
    s->len += len;
    if (s->len - s->off > c->w->counters.stash_peak) c->w->counters.stash_peak = s->len - s->off;
    return true;
}

int fpt_conn_received(fpt_conn *c, const uint8_t *data, size_t len)
{
    c->w->counters.read_bytes += len;
    if (c->state != FPT_OPEN) { /* closing: input is discarded */
        /* a peer that keeps sending after our close would keep the worker
         * reading for it until the close deadline: past a bound, reset */
        c->discarded += len;
        if (c->discarded > FPT_DISCARD_MAX && (c->state == FPT_DRAINING || c->state == FPT_LINGER)) {
            c->w->counters.discard_aborts++;
            fpt_conn_terminate(c, FP_OK, true);
        }
        return 0;
    }
    if (c->paused || !stash_empty(c)) {
        if (!stash_append(c, data, len)) {
            fpt_conn_fail(c, FP_ENOMEM);
            return 0;
        }
        if (!c->paused) fpt_conn_push_ready(c);
        return 0;
    }
    c->w->ev->on_recv(c->user, data, len);
    return 1;
}

int fpt_conn_eof(fpt_conn *c)
{
    c->eof_seen = true;
    switch (c->state) {
    case FPT_OPEN:
        if (c->paused || !stash_empty(c)) return 0; /* delivered from the ready list */
        c->eof_delivered = true;
        c->w->ev->on_eof(c->user);
        return 1;
    case FPT_LINGER: fpt_conn_terminate(c, FP_OK, false); return 0;
    default: return 0; /* DRAINING: finished once the queue is out */
    }
}

int fpt_conn_run_ready(fpt_conn *c)
{
    fpt_worker *w = c->w;
    int handled = 0;
    if (c->state == FPT_OPEN) {
        while (!c->paused && !stash_empty(c) && c->state == FPT_OPEN) {
            fpt_stash *s = c->stash;
            size_t n = s->len - s->off;
            if (n > FPT_STASH_DELIVERY) n = FPT_STASH_DELIVERY;
            const uint8_t *p = s->data + s->off;
            s->off += n;
            w->ev->on_recv(c->user, p, n);
            handled++;
        }
        /* delivered: a connection holds no receive memory between pauses */
        if (stash_empty(c)) fpt_stash_free(c);
        if (c->state != FPT_OPEN || c->paused) return handled;
        if (c->eof_seen && !c->eof_delivered) {
            c->eof_delivered = true;
            w->ev->on_eof(c->user);
            return handled + 1;
        }
    }
    if (c->state == FPT_CLOSING || c->state == FPT_DEAD || c->state == FPT_FREE) return handled;
    return handled + w->be->input(c);
}
