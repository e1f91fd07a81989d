/*
 * uring_recv.c - the receive path: one multishot recv with provided
 * buffers per connection, so completions arrive in stream order.
 *
 * Pausing cancels the recv; bytes already received by then are copied to
 * a per-connection stash (their buffers go back at once) and delivered on
 * resume, from poll, before anything newer. A recv that ends without
 * IORING_CQE_F_MORE (ENOBUFS, cancel, overflow) is re-armed while the
 * connection still wants input; closing connections keep reading only to
 * find the peer's FIN.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "uring_internal.h"

#define UR_STASH_DELIVERY 65536 /* bytes per on_recv when emptying the stash */

void ur_conn_push_ready(fp_tconn *c)
{
    if (!fpt_linked(&c->ready_link)) fpt_list_push_back(&c->w->ready, &c->ready_link);
}

static bool wants_recv(const fp_tconn *c)
{
    if (c->eof_seen) return false;
    switch (c->state) {
    case UR_CONN_OPEN: return !c->paused;
    case UR_CONN_DRAINING:
    case UR_CONN_LINGER: return true;
    default: return false;
    }
}

void ur_recv_arm(fp_tconn *c)
{
    if (c->recv_armed || !wants_recv(c)) return;
    fp_tworker *w = c->w;
    struct io_uring_sqe *sqe = ur_sqe(w);
    if (!sqe) {
        ur_conn_push_ready(c); /* retried from poll */
        return;
    }
    if (w->recv_oneshot)
        io_uring_prep_recv(sqe, c->fd, NULL, 0, 0);
    else
        io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = w->br.bgid;
    io_uring_sqe_set_data64(sqe, ur_ud(UR_OP_RECV, c->slot, c->gen));
    c->recv_armed = true;
    c->ops++;
    w->stats.recv_arms++;
}

static void cancel_recv(fp_tconn *c)
{
    if (!c->recv_armed || c->recv_cancelling) return;
    struct io_uring_sqe *sqe = ur_sqe(c->w);
    if (!sqe) return; /* the recv keeps running; its bytes go to the stash */
    io_uring_prep_cancel64(sqe, ur_ud(UR_OP_RECV, c->slot, c->gen), 0);
    io_uring_sqe_set_data64(sqe, ur_ud(UR_OP_CANCEL, c->slot, c->gen));
    c->recv_cancelling = true;
    c->ops++;
}

void ur_stash_drop(fp_tconn *c)
{
    c->stash.off = c->stash.len = 0;
}

static bool stash_empty(const fp_tconn *c) { return c->stash.off == c->stash.len; }

static bool stash_append(fp_tconn *c, const uint8_t *data, size_t len)
{
    ur_stash *s = &c->stash;
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
    return true;
}

/* ---- receive ---- */

void ur_recv_pause(fp_tconn *c)
{
    if (c->state != UR_CONN_OPEN || c->paused) return;
    c->paused = true;
    fpt_list_remove(&c->ready_link);
    cancel_recv(c);
}

void ur_recv_resume(fp_tconn *c)
{
    if (!c->paused) return;
    c->paused = false;
    if (c->state != UR_CONN_OPEN) return;
    /* the stash and the re-arm are handled from poll: callbacks only there */
    ur_conn_push_ready(c);
}

/* Stash first, then the deferred on_eof, then keep receiving. */
int ur_conn_run_ready(fp_tconn *c)
{
    fp_tworker *w = c->w;
    int handled = 0;
    if (c->state != UR_CONN_OPEN) {
        if (wants_recv(c)) ur_recv_arm(c);
        return 0;
    }
    while (!c->paused && !stash_empty(c) && c->state == UR_CONN_OPEN) {
        ur_stash *s = &c->stash;
        size_t n = s->len - s->off;
        if (n > UR_STASH_DELIVERY) n = UR_STASH_DELIVERY;
        const uint8_t *p = s->data + s->off;
        s->off += n;
        w->ev->on_recv(c->user, p, n);
        handled++;
    }
    if (c->state != UR_CONN_OPEN || c->paused) return handled;
    if (c->eof_seen && !c->eof_delivered) {
        c->eof_delivered = true;
        w->ev->on_eof(c->user);
        return handled + 1;
    }
    ur_recv_arm(c);
    return handled;
}

/* Bytes of one completion: delivered, stashed or (closing) dropped. */
static int recv_bytes(fp_tconn *c, const uint8_t *data, size_t len)
{
    fp_tworker *w = c->w;
    w->stats.recvs++;
    w->stats.recv_bytes += len;
    if (c->state != UR_CONN_OPEN) return 0;
    if (c->paused || !stash_empty(c)) {
        if (!stash_append(c, data, len)) {
            ur_conn_fail(c, FP_ENOMEM);
            return 0;
        }
        if (!c->paused) ur_conn_push_ready(c);
        return 0;
    }
    w->ev->on_recv(c->user, data, len);
    return 1;
}

int ur_recv_complete(fp_tconn *c, int res, unsigned flags)
{
    fp_tworker *w = c->w;
    int handled = 0;
    bool more = flags & IORING_CQE_F_MORE;
    if (flags & IORING_CQE_F_BUFFER) {
        uint16_t bid = (uint16_t)(flags >> IORING_CQE_BUFFER_SHIFT);
        if (res > 0) {
            const uint8_t *data = ur_bufring_addr(&w->br, bid);
            w->rx_lo = data; /* what tx_lend may take from */
            w->rx_hi = data + res;
            w->rx_bid = bid;
            handled = recv_bytes(c, data, (size_t)res);
            w->rx_lo = w->rx_hi = NULL;
        }
        ur_bufring_recycle(&w->br, bid, res > 0 ? (size_t)res : 0);
    }
    if (!more) c->recv_armed = false;
    if (res == 0 && !more) {
        c->eof_seen = true;
        switch (c->state) {
        case UR_CONN_OPEN:
            if (!c->paused && stash_empty(c)) {
                c->eof_delivered = true;
                w->ev->on_eof(c->user);
                handled++;
            }
            break;
        case UR_CONN_LINGER: ur_conn_terminate(c, FP_OK, false); break;
        default: break; /* DRAINING: finished once the queue is out */
        }
    } else if (res < 0) {
        switch (-res) {
        case ENOBUFS: /* buffers are back (and more exposed): re-arm below */
            w->stats.enobufs++;
            ur_bufring_grow(&w->br);
            break;
        case ECANCELED:
        case EINTR:
        case EAGAIN: break;
        case EINVAL:
            if (!w->recv_oneshot) { /* no multishot recv here: one recv per completion */
                w->recv_oneshot = true;
                ur_log(w->t, FP_LOG_INFO,
                       "uring: worker %u: the kernel refused multishot recv; using one-shot recv",
                       w->index);
                break;
            }
            if (c->state != UR_CONN_CLOSING) ur_conn_fail(c, fpt_errno_status(-res));
            break;
        default:
            if (c->state != UR_CONN_CLOSING) ur_conn_fail(c, fpt_errno_status(-res));
            break;
        }
    }
    if (!more) {
        if (c->state != UR_CONN_CLOSING && c->state != UR_CONN_DEAD) ur_recv_arm(c);
        ur_conn_op_done(c);
    }
    return handled;
}
