/*
 * rio_send.c - the write path: frames are written by the engine straight
 * into registered send chunks (tx_reserve), or lent from a receive slice
 * (tx_lend); flush() posts each dirty connection's chain as RIOSend
 * requests, one per chunk and up to rq_sends of them, every one with
 * RIO_MSG_DEFER, and then commits each request queue that got some once
 * (RIO_MSG_COMMIT_ONLY): one commit per dirty request queue per flush,
 * however many frames it carries.
 *
 * A connection has one batch in flight at a time; what is committed
 * meanwhile, or did not fit the queue's depth, stays in the chain for the
 * next flush (the engine's byte-based backpressure sees it as queued).
 * The batch's bytes are released when its last result is in, whatever
 * the order the results came back in.
 */
#include "rio_internal.h"

static void post_failed(fp_tconn *c, int err)
{
    fp_tworker *w = rio_worker(c->base.w);
    if (err == WSAENOBUFS) {
        /* never past our own depth: RIO and we disagree about the queue */
        w->stats.rq_full++;
        fpt_log(w->core.host, FP_LOG_ERROR,
                "rio: worker %u: RIOSend: the request queue is full with %u sends out of %llu "
                "allowed: closing the connection",
                w->core.index, c->tx_requests, (unsigned long long)w->t->set.rq_sends);
        fpt_conn_fail(&c->base, FP_EIO);
        return;
    }
    fpt_conn_fail(&c->base, fpt_wsa_status_logged(w->core.host, "rio", "RIOSend", err));
}

/* fpt_backend.send: c is OPEN or DRAINING, has bytes queued and no batch
 * out. */
void rio_conn_send(fpt_conn *base)
{
    fp_tconn *c = rio_conn(base);
    fp_tworker *w = rio_worker(base->w);
    if (c->rq == RIO_INVALID_RQ) return;
    unsigned max = (unsigned)w->t->set.rq_sends;
    unsigned n = 0;
    uint32_t total = 0;
    int err = 0;
    for (fpt_chunk *ch = base->head; ch && n < max; ch = ch->next) {
        uint32_t len = ch->end - ch->start;
        if (len == 0) continue;
        RIO_BUF buf;
        rio_buf_of(w, ch, ch->data + ch->start, len, &buf);
        if (!w->rio->RIOSend(c->rq, &buf, 1, RIO_MSG_DEFER, (PVOID)(uintptr_t)RIO_REQ_SEND)) {
            err = WSAGetLastError();
            break;
        }
        n++;
        total += len;
        w->stats.rio_sends++;
        w->stats.rio_sends_deferred++;
    }
    if (n) {
        c->tx_requests = (uint8_t)n;
        c->tx_bytes = total;
        c->tx_done = 0;
        c->tx_failed = false;
        base->tx_busy = true;
        base->ops += n;
        w->requests_in_flight += n;
        w->core.counters.sends++;
        if (!fpt_linked(&c->commit_link)) fpt_list_push_back(&w->commits, &c->commit_link);
    }
    if (err) post_failed(c, err);
}

void rio_commit_all(fp_tworker *w)
{
    unsigned commits = 0;
    while (!fpt_list_empty(&w->commits)) {
        fp_tconn *c = fpt_container_of(w->commits.next, fp_tconn, commit_link);
        fpt_list_remove(&c->commit_link);
        if (c->rq == RIO_INVALID_RQ) continue;
        commits++;
        if (!w->rio->RIOSend(c->rq, NULL, 0, RIO_MSG_COMMIT_ONLY, NULL))
            post_failed(c, WSAGetLastError()); /* the held sends come back with errors */
    }
    if (!commits) return;
    w->stats.rio_commits += commits;
    w->stats.commit_flushes++;
    if (commits > w->stats.rio_commits_max_per_flush) w->stats.rio_commits_max_per_flush = commits;
}

int rio_send_result(fp_tconn *c, const RIORESULT *r)
{
    fpt_conn *base = &c->base;
    fp_tworker *w = rio_worker(base->w);
    c->tx_requests--;
    c->tx_done += r->BytesTransferred;
    if (r->Status != 0 && !c->tx_failed) {
        c->tx_failed = true;
        c->tx_error = (int)r->Status;
    }
    if (c->tx_requests == 0) {
        base->tx_busy = false;
        if (base->state == FPT_OPEN || base->state == FPT_DRAINING) {
            if (c->tx_failed) {
                fpt_conn_fail(base, fpt_wsa_status_logged(w->core.host, "rio", "RIOSend", c->tx_error));
            } else if (c->tx_done != c->tx_bytes) {
                fpt_log(w->core.host, FP_LOG_ERROR,
                        "rio: worker %u: RIOSend reported %u of %u bytes sent: closing the connection",
                        w->core.index, c->tx_done, c->tx_bytes);
                fpt_conn_fail(base, FP_EIO);
            } else {
                fpt_conn_sent_in_poll(base, c->tx_bytes);
                fpt_conn_tx_settle(base);
            }
        }
        c->tx_failed = false;
    }
    fpt_conn_op_done(base); /* last: may end a close, on_closed follows */
    return 1;
}
