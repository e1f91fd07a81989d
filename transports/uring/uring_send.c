/*
 * uring_send.c - the write path: reservations in registered slices, and
 * one gathered sendmsg in flight per connection.
 *
 * Each connection queues committed bytes in a chain of chunks from the
 * worker's pool; reservations append to the last chunk while it has room.
 * flush() prepares one send per dirty connection that has none in
 * flight (a SEND for one run of bytes, else a SENDMSG with iovecs over the
 * whole chain) and submits them all with one io_uring_enter. A completion releases what the kernel took, reports
 * on_sent and queues the remainder (short send) for the next flush.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "uring_internal.h"

void ur_chunk_release(fp_tworker *w, ur_chunk *ch)
{
    if (ch->region != UR_CHUNK_LENT) {
        ur_pool_release(&w->pool, ch);
        return;
    }
    ur_bufring_unlend(&w->br, (uint16_t)ch->first_slot);
    ch->next = w->free_lent;
    w->free_lent = ch;
}

void ur_lent_chunks_free(fp_tworker *w)
{
    while (w->free_lent) {
        ur_chunk *ch = w->free_lent;
        w->free_lent = ch->next;
        free(ch);
    }
}

void ur_chain_release(fp_tconn *c)
{
    fp_tworker *w = c->w;
    bool any = c->head != NULL;
    while (c->head) {
        ur_chunk *ch = c->head;
        c->head = ch->next;
        ur_chunk_release(w, ch);
    }
    c->tail = NULL;
    c->queued = 0;
    c->reserving = false;
    if (any && !fpt_list_empty(&w->waiters)) w->writable_due = true;
}

/* An idle connection holds no send memory: drop a lone empty chunk. */
static void trim_empty_tail(fp_tconn *c)
{
    ur_chunk *ch = c->tail;
    if (ch && ch == c->head && ch->start == ch->end && !c->reserving && !c->send_inflight) {
        c->head = c->tail = NULL;
        ur_chunk_release(c->w, ch);
        if (!fpt_list_empty(&c->w->waiters)) c->w->writable_due = true;
    }
}

static void chain_append(fp_tconn *c, ur_chunk *ch)
{
    if (c->tail)
        c->tail->next = ch;
    else
        c->head = ch;
    c->tail = ch;
}

static void mark_dirty(fp_tconn *c)
{
    if (!c->send_inflight && !fpt_linked(&c->dirty_link))
        fpt_list_push_back(&c->w->dirty, &c->dirty_link);
}

fp_status ur_tx_reserve(fp_tconn *c, size_t len, fp_span *out)
{
    if (c->state != UR_CONN_OPEN && c->state != UR_CONN_CONNECTING) return FP_ECLOSED;
    if (len > UR_RESERVE_MAX) return FP_EINVAL;
    fp_tworker *w = c->w;
    size_t need = len ? len : 1;
    ur_chunk *tail = c->tail;
    if (!tail || tail->cap - tail->end < need) {
        /* a busy connection gets bigger chunks: fewer iovecs per send */
        size_t want = c->queued < UR_RESERVE_MAX ? c->queued : UR_RESERVE_MAX;
        if (want < need) want = need;
        ur_chunk *ch = NULL;
        uint64_t failures = w->pool.register_failures;
        fp_status st = ur_pool_take(&w->pool, &w->ring, want, &ch);
        if (st == FP_EAGAIN && want > need) st = ur_pool_take(&w->pool, &w->ring, need, &ch);
        if (failures == 0 && w->pool.register_failures)
            ur_log(w->t, FP_LOG_WARN,
                   "uring: worker %u: registering a send region failed (RLIMIT_MEMLOCK?); "
                   "such regions are used unregistered",
                   w->index);
        if (st != FP_OK) {
            if (st == FP_EAGAIN) {
                w->stats.eagain_reserve++;
                if (!w->pool.exhausted) {
                    w->pool.exhausted = true;
                    ur_log(w->t, FP_LOG_WARN,
                           "uring: worker %u: send pool exhausted (%llu bytes in use, pool_max "
                           "%llu); senders wait for slices to come back",
                           w->index, (unsigned long long)w->pool.allocated,
                           (unsigned long long)w->pool.max_bytes);
                }
                if (!fpt_linked(&c->wait_link)) fpt_list_push_back(&w->waiters, &c->wait_link);
            }
            return st;
        }
        chain_append(c, ch);
        tail = ch;
    }
    out->data = tail->data + tail->end;
    out->len = tail->cap - tail->end;
    out->token = tail;
    c->reserving = true;
    return FP_OK;
}

void ur_tx_commit(fp_tconn *c, fp_span *span, size_t used)
{
    ur_chunk *ch = span->token;
    if (!c->reserving || ch != c->tail) return; /* the connection closed meanwhile */
    if (used > span->len) used = span->len;
    c->reserving = false;
    ch->end += (uint32_t)used;
    c->queued += used;
    span->token = NULL;
    if (used == 0) {
        trim_empty_tail(c);
        return;
    }
    mark_dirty(c);
}

void ur_tx_cancel(fp_tconn *c, fp_span *span)
{
    if (!c->reserving || span->token != c->tail) return;
    c->reserving = false;
    span->token = NULL;
    trim_empty_tail(c);
}

fp_status ur_tx_lend(fp_tconn *c, const void *data, size_t len)
{
    if (c->state != UR_CONN_OPEN && c->state != UR_CONN_CONNECTING) return FP_ECLOSED;
    fp_tworker *w = c->w;
    uintptr_t at = (uintptr_t)data;
    bool inside = w->rx_lo && at >= (uintptr_t)w->rx_lo && len <= (uintptr_t)w->rx_hi - at;
    if (!w->t->set.lend || !inside || len == 0 || len > UINT32_MAX || c->reserving) {
        w->stats.lend_refused++;
        return FP_ENOTSUP;
    }
    /* Frames echoed one after another sit one after another in the same
     * buffer: one chunk (one iovec, a plain SEND) covers them all. */
    ur_chunk *tail = c->tail;
    if (tail && tail->region == UR_CHUNK_LENT && tail->first_slot == w->rx_bid &&
        (uintptr_t)(tail->data + tail->end) == at && tail->end + len <= UINT32_MAX) {
        tail->end += (uint32_t)len;
        tail->cap = tail->end;
        c->queued += len;
        w->stats.lends++;
        mark_dirty(c);
        return FP_OK;
    }
    ur_chunk *ch = w->free_lent;
    if (ch)
        w->free_lent = ch->next;
    else if (!(ch = malloc(sizeof(*ch))))
        return FP_ENOTSUP;
    if (!ur_bufring_lend(&w->br, w->rx_bid)) {
        ch->next = w->free_lent;
        w->free_lent = ch;
        w->stats.lend_refused++;
        return FP_ENOTSUP;
    }
    memset(ch, 0, sizeof(*ch));
    ch->data = (uint8_t *)(uintptr_t)data; /* only ever read: it is sent */
    ch->end = ch->cap = (uint32_t)len;
    ch->region = UR_CHUNK_LENT;
    ch->first_slot = w->rx_bid;
    chain_append(c, ch);
    c->queued += len;
    w->stats.lends++;
    mark_dirty(c);
    return FP_OK;
}

/* Releases the `n` bytes the kernel took, and every chunk left empty. */
static void chain_consume(fp_tconn *c, size_t n)
{
    fp_tworker *w = c->w;
    while (c->head) {
        ur_chunk *ch = c->head;
        size_t avail = ch->end - ch->start;
        size_t take = n < avail ? n : avail;
        ch->start += (uint32_t)take;
        c->queued -= take;
        n -= take;
        if (ch->start != ch->end) break;
        if (ch == c->tail && c->reserving) break;
        c->head = ch->next;
        if (!c->head) c->tail = NULL;
        ur_chunk_release(w, ch);
        if (!fpt_list_empty(&w->waiters)) w->writable_due = true;
    }
}

/* The common case, one run of queued bytes, is a plain SEND: no msghdr for
 * the kernel to copy in and no iovec to import. */
static const ur_chunk *lone_chunk(const fp_tconn *c)
{
    const ur_chunk *found = NULL;
    for (const ur_chunk *ch = c->head; ch; ch = ch->next) {
        if (ch->end == ch->start) continue;
        if (found) return NULL;
        found = ch;
    }
    return found;
}

/* The iovecs over the whole chain, in a message the worker lends the
 * connection until the send completes; NULL when out of memory. */
static ur_txmsg *build_txmsg(fp_tconn *c)
{
    fp_tworker *w = c->w;
    ur_txmsg *tx = w->free_txmsgs;
    if (tx)
        w->free_txmsgs = tx->next;
    else if (!(tx = malloc(sizeof(*tx))))
        return NULL;
    int n_iov = 0;
    for (ur_chunk *ch = c->head; ch && n_iov < UR_IOV_MAX; ch = ch->next) {
        if (ch->end == ch->start) continue;
        tx->iov[n_iov].iov_base = ch->data + ch->start;
        tx->iov[n_iov].iov_len = ch->end - ch->start;
        n_iov++;
    }
    memset(&tx->msg, 0, sizeof(tx->msg));
    tx->msg.msg_iov = tx->iov;
    tx->msg.msg_iovlen = (size_t)n_iov;
    return tx;
}

static void give_back_txmsg(fp_tworker *w, ur_txmsg *tx)
{
    tx->next = w->free_txmsgs;
    w->free_txmsgs = tx;
}

void ur_conn_send(fp_tconn *c)
{
    fp_tworker *w = c->w;
    if (c->state != UR_CONN_OPEN && c->state != UR_CONN_DRAINING) return;
    if (c->send_inflight || c->queued == 0) return;
    const ur_chunk *lone = lone_chunk(c);
    ur_txmsg *tx = lone ? NULL : build_txmsg(c);
    struct io_uring_sqe *sqe = (lone || tx) ? ur_sqe(w) : NULL;
    if (!sqe) {
        if (tx) give_back_txmsg(w, tx);
        fpt_list_push_back(&w->dirty, &c->dirty_link); /* next flush */
        return;
    }
    if (lone) {
        io_uring_prep_send(sqe, c->fd, lone->data + lone->start, lone->end - lone->start, MSG_NOSIGNAL);
    } else {
        c->tx = tx;
        io_uring_prep_sendmsg(sqe, c->fd, &tx->msg, MSG_NOSIGNAL);
    }
    io_uring_sqe_set_data64(sqe, ur_ud(UR_OP_SEND, c->slot, c->gen));
    c->send_inflight = true;
    c->ops++;
    w->stats.sends++;
    w->pending_sends++;
}

void ur_send_complete(fp_tconn *c, int res)
{
    fp_tworker *w = c->w;
    c->send_inflight = false;
    if (c->tx) {
        give_back_txmsg(w, c->tx);
        c->tx = NULL;
    }
    if (c->state != UR_CONN_OPEN && c->state != UR_CONN_DRAINING) return;
    if (res < 0) {
        if (res == -EINTR || res == -EAGAIN) {
            if (!fpt_linked(&c->dirty_link)) fpt_list_push_back(&w->dirty, &c->dirty_link);
            return;
        }
        ur_conn_fail(c, fpt_errno_status(-res));
        return;
    }
    size_t before = c->queued;
    chain_consume(c, (size_t)res);
    w->stats.send_bytes += (uint64_t)res;
    if (res > 0) w->ev->on_sent(c->user, (size_t)res);
    if (c->state != UR_CONN_OPEN && c->state != UR_CONN_DRAINING) return;
    if (c->queued > 0) {
        if ((size_t)res < before) w->stats.short_sends++;
        if (!fpt_linked(&c->dirty_link)) fpt_list_push_back(&w->dirty, &c->dirty_link);
        return;
    }
    trim_empty_tail(c);
    if (c->state == UR_CONN_DRAINING) ur_conn_shutdown_write(c);
}

void ur_txmsgs_free(fp_tworker *w)
{
    while (w->free_txmsgs) {
        ur_txmsg *tx = w->free_txmsgs;
        w->free_txmsgs = tx->next;
        free(tx);
    }
}
