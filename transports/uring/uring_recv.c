/*
 * uring_recv.c - the receive path: one multishot recv with provided
 * buffers per connection, so completions arrive in stream order.
 *
 * Each multishot recv is capped at recv_burst bytes and re-armed when it
 * ends: without the cap, the kernel fills every free buffer of the ring for
 * a flooding peer within one io_uring_enter, before a pause's cancel can
 * land, and those bytes would all wait in the stash. With it, a paused
 * connection holds at most recv_burst bytes of stash.
 *
 * Pausing cancels the recv; bytes it still brings go to the core's stash
 * (their buffers go back at once) and reach the engine on resume. A recv
 * that ends without IORING_CQE_F_MORE (ENOBUFS, cancel, overflow) is
 * re-armed while the connection still wants input; closing connections
 * keep reading only to find the peer's FIN.
 */
#include <errno.h>

#include "uring_internal.h"

/* fpt_backend.input: make sure a recv is posted while input is wanted. */
int ur_recv_arm(fpt_conn *c)
{
    fp_tconn *uc = ur_conn(c);
    if (uc->recv_armed || !fpt_conn_wants_input(c)) return 0;
    fp_tworker *w = ur_worker(c->w);
    struct io_uring_sqe *sqe = ur_sqe(w);
    if (!sqe) {
        fpt_conn_push_ready(c); /* retried from poll */
        return 0;
    }
    if (w->recv_oneshot) {
        io_uring_prep_recv(sqe, uc->fd, NULL, 0, 0);
    } else {
        io_uring_prep_recv_multishot(sqe, uc->fd, NULL, 0, 0);
        /* the kernel's multishot byte cap (sqe->optlen, which shares
         * file_index's place in liburing 2.3's sqe) */
        sqe->file_index = w->recv_burst;
    }
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = w->br.bgid;
    io_uring_sqe_set_data64(sqe, ur_ud(UR_OP_RECV, c->slot, c->gen));
    uc->recv_armed = true;
    c->ops++;
    w->stats.recv_arms++;
    return 0;
}

/* fpt_backend.input_pause */
void ur_recv_cancel(fpt_conn *c)
{
    fp_tconn *uc = ur_conn(c);
    if (!uc->recv_armed || uc->recv_cancelling) return;
    struct io_uring_sqe *sqe = ur_sqe(ur_worker(c->w));
    if (!sqe) return; /* the recv keeps running; its bytes go to the stash */
    io_uring_prep_cancel64(sqe, ur_ud(UR_OP_RECV, c->slot, c->gen), 0);
    io_uring_sqe_set_data64(sqe, ur_ud(UR_OP_CANCEL, c->slot, c->gen));
    uc->recv_cancelling = true;
    c->ops++;
}

static void recv_failed(fp_tconn *c, int err)
{
    fp_tworker *w = ur_worker(c->base.w);
    switch (err) {
    case ENOBUFS: /* buffers are back (and more exposed): re-arm */
        w->stats.enobufs++;
        ur_bufring_grow(&w->br);
        fpt_trim_soon(&w->core);
        return;
    case ECANCELED:
    case EINTR:
    case EAGAIN: return;
    case EINVAL:
        if (!w->recv_oneshot) {
            /* no multishot recv here, or none with a byte cap: one recv per
             * completion keeps what a paused connection takes to a buffer */
            w->recv_oneshot = true;
            fpt_log(w->t->host, FP_LOG_INFO,
                    "uring: worker %u: the kernel refused multishot recv%s; using one-shot recv",
                    w->core.index, w->recv_burst ? " with a byte cap (recv_burst)" : "");
            return;
        }
        break;
    default: break;
    }
    if (c->base.state != FPT_CLOSING) fpt_conn_fail(&c->base, fpt_errno_status(err));
}

int ur_recv_complete(fp_tconn *c, int res, unsigned flags)
{
    fp_tworker *w = ur_worker(c->base.w);
    int handled = 0;
    bool more = flags & IORING_CQE_F_MORE;
    if (flags & IORING_CQE_F_BUFFER) {
        uint16_t bid = (uint16_t)(flags >> IORING_CQE_BUFFER_SHIFT);
        if (res > 0) {
            const uint8_t *data = ur_bufring_addr(&w->br, bid);
            w->stats.recvs++;
            fpt_rx_window_open(&w->core, data, (size_t)res, bid);
            handled = fpt_conn_received(&c->base, data, (size_t)res);
            fpt_rx_window_close(&w->core);
        }
        ur_bufring_recycle(&w->br, bid, res > 0 ? (size_t)res : 0);
    }
    if (!more) c->recv_armed = false;
    if (res == 0 && !more) {
        handled += fpt_conn_eof(&c->base);
    } else if (res < 0) {
        recv_failed(c, -res);
    }
    if (!more) {
        if (c->base.state != FPT_CLOSING && c->base.state != FPT_DEAD) ur_recv_arm(&c->base);
        fpt_conn_op_done(&c->base);
    }
    return handled;
}
