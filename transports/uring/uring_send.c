/*
 * uring_send.c - the write path: send memory in registered slices, lent
 * receive buffers, and one send in flight per connection.
 *
 * The core keeps each connection's chain; flush hands every dirty one to
 * ur_conn_send, which prepares a SEND for a single run of bytes or a
 * SENDMSG over the whole chain. poll's io_uring_enter submits them all at
 * once. A completion reports what the kernel took to the core, which
 * releases it and queues the rest (a short send) for the next flush.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "uring_internal.h"

/* Registered regions are pinned: every slice a chunk holds is resident,
 * filled or not. Chunks of at most this much keep a backlog's memory close
 * to what it queued (a SENDMSG gathers many). */
#define UR_CHUNK_WANT_MAX (16u * 1024u)

fp_status ur_chunk_take(fpt_worker *cw, size_t need, size_t want, fpt_chunk **out)
{
    fp_tworker *w = ur_worker(cw);
    if (want > UR_CHUNK_WANT_MAX) want = need > UR_CHUNK_WANT_MAX ? need : UR_CHUNK_WANT_MAX;
    uint64_t failures = w->pool.register_failures;
    fp_status st = fpt_slice_take(&w->pool, want, out);
    if (st == FP_EAGAIN && want > need) st = fpt_slice_take(&w->pool, need, out);
    if (failures == 0 && w->pool.register_failures)
        fpt_log(w->t->host, FP_LOG_WARN,
                "uring: worker %u: registering a send region failed (RLIMIT_MEMLOCK?); "
                "such regions are used unregistered",
                cw->index);
    if (st == FP_EAGAIN && !w->pool.exhausted) {
        w->pool.exhausted = true;
        fpt_log(w->t->host, FP_LOG_WARN,
                "uring: worker %u: send pool exhausted (%llu bytes in use, pool_max "
                "%llu); senders wait for slices to come back",
                cw->index, (unsigned long long)w->pool.allocated,
                (unsigned long long)w->pool.max_bytes);
    }
    return st;
}

void ur_chunk_give_back(fpt_worker *w, fpt_chunk *ch) { fpt_slice_release(&ur_worker(w)->pool, ch); }

/* fpt_backend.trim: receive buffers gone cold, send regions left empty by
 * a burst, then the heap (stashes, descriptors). */
bool ur_trim(fpt_worker *core)
{
    fp_tworker *w = ur_worker(core);
    bool more = ur_bufring_trim(&w->br);
    uint64_t mapped = fpt_slice_pool_capacity(&w->pool);
    more |= fpt_slice_pool_trim(&w->pool);
    if (fpt_slice_pool_capacity(&w->pool) < mapped || !more) fpt_heap_release();
    return more;
}

bool ur_chunk_room(const fpt_worker *w) { return !((const fp_tworker *)(const void *)w)->pool.exhausted; }

bool ur_lend_hold(fpt_worker *w, uint32_t bid) { return ur_bufring_lend(&ur_worker(w)->br, (uint16_t)bid); }

void ur_lend_drop(fpt_worker *w, uint32_t bid) { ur_bufring_unlend(&ur_worker(w)->br, (uint16_t)bid); }

/* The iovecs over the whole chain, in a message the worker lends the
 * connection until the send completes; NULL when out of memory. */
static ur_txmsg *build_txmsg(fp_tworker *w, const fpt_conn *c)
{
    ur_txmsg *tx = w->free_txmsgs;
    if (tx)
        w->free_txmsgs = tx->next;
    else if (!(tx = malloc(sizeof(*tx))))
        return NULL;
    int n_iov = fpt_chain_gather(c, (fpt_iov *)(void *)tx->iov, UR_IOV_MAX, NULL);
    tx->msg = (struct msghdr){.msg_iov = tx->iov, .msg_iovlen = (size_t)n_iov};
    return tx;
}

static void give_back_txmsg(fp_tworker *w, ur_txmsg *tx)
{
    tx->next = w->free_txmsgs;
    w->free_txmsgs = tx;
}

/* fpt_backend.send. The common case, one run of queued bytes, is a plain
 * SEND: no msghdr for the kernel to copy in and no iovec to import. */
void ur_conn_send(fpt_conn *c)
{
    fp_tconn *uc = ur_conn(c);
    fp_tworker *w = ur_worker(c->w);
    const fpt_chunk *lone = fpt_chain_lone(c);
    ur_txmsg *tx = lone ? NULL : build_txmsg(w, c);
    struct io_uring_sqe *sqe = (lone || tx) ? ur_sqe(w) : NULL;
    if (!sqe) {
        if (tx) give_back_txmsg(w, tx);
        fpt_conn_mark_dirty(c); /* next flush */
        return;
    }
    if (lone) {
        io_uring_prep_send(sqe, uc->fd, lone->data + lone->start, lone->end - lone->start, MSG_NOSIGNAL);
    } else {
        uc->tx = tx;
        io_uring_prep_sendmsg(sqe, uc->fd, &tx->msg, MSG_NOSIGNAL);
    }
    io_uring_sqe_set_data64(sqe, ur_ud(UR_OP_SEND, c->slot, c->gen));
    c->tx_busy = true;
    c->ops++;
    w->core.counters.sends++;
    w->pending_sends++;
}

void ur_send_complete(fp_tconn *uc, int res)
{
    fpt_conn *c = &uc->base;
    fp_tworker *w = ur_worker(c->w);
    c->tx_busy = false;
    if (uc->tx) {
        give_back_txmsg(w, uc->tx);
        uc->tx = NULL;
    }
    if (c->state != FPT_OPEN && c->state != FPT_DRAINING) return;
    if (res < 0) {
        if (res == -EINTR || res == -EAGAIN)
            fpt_conn_mark_dirty(c);
        else
            fpt_conn_fail(c, fpt_errno_status(-res));
        return;
    }
    if ((size_t)res < c->queued) w->stats.short_sends++;
    fpt_conn_sent_in_poll(c, (size_t)res);
    fpt_conn_tx_settle(c);
}

void ur_txmsgs_free(fp_tworker *w)
{
    while (w->free_txmsgs) {
        ur_txmsg *tx = w->free_txmsgs;
        w->free_txmsgs = tx->next;
        free(tx);
    }
}
