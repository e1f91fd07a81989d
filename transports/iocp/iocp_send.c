/*
 * iocp_send.c - the write path: one overlapped WSASend in flight per
 * connection, gathering its queued chunks, which come from the worker's
 * chunk pool (chunk_pool.h: malloc'd chunks, capped by send_pool_max).
 *
 * flush() hands every dirty connection to ic_conn_send, which points
 * WSABUFs at the chain (no copy) and posts the send. The chunks stay in
 * the chain, untouched, until the completion reports what the kernel
 * took: the core releases those bytes and delivers on_sent at once
 * (fpt_conn_sent_in_poll), and whatever was committed meanwhile, or left
 * over, goes out at the next flush.
 */
#include <stdlib.h>

#include "iocp_internal.h"

/* The fpt_backend chunk hooks: the worker's pool. */
fp_status ic_chunk_take(fpt_worker *w, size_t need, size_t want, fpt_chunk **out)
{
    return fpt_chunk_pool_take(&ic_worker(w)->pool, need, want, out);
}

void ic_chunk_give_back(fpt_worker *w, fpt_chunk *ch) { fpt_chunk_pool_give_back(&ic_worker(w)->pool, ch); }

bool ic_chunk_room(const fpt_worker *w)
{
    return fpt_chunk_pool_room(&((const fp_tworker *)(const void *)w)->pool);
}

static ic_txbufs *take_txbufs(fp_tworker *w)
{
    ic_txbufs *tx = w->free_txbufs;
    if (tx)
        w->free_txbufs = tx->next;
    else
        tx = malloc(sizeof(*tx));
    return tx;
}

void ic_txbufs_give_back(fp_tworker *w, fp_tconn *c)
{
    ic_txbufs *tx = c->txbufs;
    if (!tx) return;
    c->txbufs = NULL;
    tx->next = w->free_txbufs;
    w->free_txbufs = tx;
}

void ic_txbufs_free(fp_tworker *w)
{
    while (w->free_txbufs) {
        ic_txbufs *tx = w->free_txbufs;
        w->free_txbufs = tx->next;
        free(tx);
    }
}

/* fpt_backend.send: c is OPEN or DRAINING, has bytes queued and no send
 * out. */
void ic_conn_send(fpt_conn *base)
{
    fp_tconn *c = ic_conn(base);
    fp_tworker *w = ic_worker(base->w);
    ic_txbufs *tx = take_txbufs(w);
    if (!tx) {
        fpt_conn_fail(base, FP_ENOMEM);
        return;
    }
    fpt_iov iov[IC_WSABUF_MAX];
    size_t total;
    int n = fpt_chain_gather(base, iov, IC_WSABUF_MAX, &total);
    for (int i = 0; i < n; i++) {
        tx->bufs[i].buf = iov[i].base;
        tx->bufs[i].len = (ULONG)iov[i].len; /* a chunk holds at most 64 KiB */
    }
    c->txbufs = tx;
    fpt_port_op_prepare(&c->tx, IC_OP_SEND);
    if (WSASend(c->s, tx->bufs, (DWORD)n, NULL, 0, &c->tx.ov, NULL) != 0) {
        int err = WSAGetLastError();
        if (err != WSA_IO_PENDING) {
            ic_txbufs_give_back(w, c);
            fpt_conn_fail(base, fpt_wsa_status_logged(w->core.host, "iocp", "WSASend", err));
            return;
        }
    }
    fpt_port_op_posted(&w->port, &c->tx);
    c->tx_bytes = total;
    base->tx_busy = true;
    base->ops++;
    w->core.counters.sends++;
}

int ic_send_complete(fp_tconn *c, DWORD bytes)
{
    fpt_conn *base = &c->base;
    fp_tworker *w = ic_worker(base->w);
    ic_txbufs_give_back(w, c);
    base->tx_busy = false;
    if (base->state == FPT_OPEN || base->state == FPT_DRAINING) {
        int err = fpt_port_op_failed(&c->tx) ? fpt_port_op_error(c->s, &c->tx) : 0;
        if (err) {
            fpt_conn_fail(base, fpt_wsa_status_logged(w->core.host, "iocp", "WSASend", err));
        } else {
            if (bytes < c->tx_bytes) w->stats.short_sends++;
            fpt_conn_sent_in_poll(base, bytes);
            fpt_conn_tx_settle(base);
        }
    }
    fpt_conn_op_done(base); /* last: may end a close, on_closed follows */
    return 1;
}
