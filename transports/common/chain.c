/*
 * chain.c - the send chain: a connection's committed bytes in commit
 * order, over chunks of the backend's send memory or of lent receive
 * memory.
 *
 * The engine reserves, writes a frame straight into the chunk and commits
 * or cancels before its next call; reservations append to the last chunk
 * while it has room, and a busy connection is given larger chunks (fewer
 * pieces per send). flush hands each dirty connection to the backend,
 * which gathers the chain, sends it, and reports what the kernel took:
 * fpt_conn_sent releases those bytes (a partial send keeps the rest in
 * place) and on_sent follows from poll. An idle connection holds no send
 * memory.
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"

static fpt_conn *base_of(fp_tconn *c) { return (fpt_conn *)(void *)c; }

static bool writable_state(const fpt_conn *c)
{
    return c->state == FPT_OPEN || c->state == FPT_CONNECTING;
}

static void chunk_release(fpt_worker *w, fpt_chunk *ch)
{
    if (ch->region == FPT_CHUNK_LENT) {
        w->be->lend_drop(w, ch->first_slot);
        ch->next = w->free_lent;
        w->free_lent = ch;
    } else {
        w->be->chunk_give_back(w, ch);
    }
    fpt_trim_soon(w);
    if (!fpt_list_empty(&w->waiters)) w->writable_due = true;
}

void fpt_chain_release(fpt_conn *c)
{
    while (c->head) {
        fpt_chunk *ch = c->head;
        c->head = ch->next;
        chunk_release(c->w, ch);
    }
    c->tail = NULL;
    c->queued = 0;
    c->reserving = false;
}

/* An idle connection holds no send memory: drop a lone empty chunk. */
static void trim_empty_tail(fpt_conn *c)
{
    fpt_chunk *ch = c->tail;
    if (ch && ch == c->head && ch->start == ch->end && !c->reserving && !c->tx_busy) {
        c->head = c->tail = NULL;
        chunk_release(c->w, ch);
    }
}

static void chain_append(fpt_conn *c, fpt_chunk *ch)
{
    ch->next = NULL;
    if (c->tail)
        c->tail->next = ch;
    else
        c->head = ch;
    c->tail = ch;
}

void fpt_conn_mark_dirty(fpt_conn *c)
{
    if (!c->tx_busy && !fpt_linked(&c->dirty_link)) fpt_list_push_back(&c->w->dirty, &c->dirty_link);
}

fp_status fpt_tx_reserve(fp_tconn *tc, size_t len, fp_span *out)
{
    fpt_conn *c = base_of(tc);
    if (!writable_state(c)) return FP_ECLOSED;
    if (len > FPT_RESERVE_MAX) return FP_EINVAL;
    fpt_worker *w = c->w;
    size_t need = len ? len : 1;
    fpt_chunk *tail = c->tail;
    if (!tail || tail->cap - tail->end < need) {
        size_t want = c->queued < FPT_RESERVE_MAX ? c->queued : FPT_RESERVE_MAX;
        if (want < need) want = need;
        fpt_chunk *ch = NULL;
        fp_status st = w->be->chunk_take(w, need, want, &ch);
        if (st != FP_OK) {
            if (st == FP_EAGAIN) {
                w->counters.eagain_reserve++;
                if (!fpt_linked(&c->wait_link)) fpt_list_push_back(&w->waiters, &c->wait_link);
            }
            return st;
        }
        ch->start = ch->end = 0;
        chain_append(c, ch);
        tail = ch;
    }
    out->data = tail->data + tail->end;
    out->len = tail->cap - tail->end;
    out->token = tail;
    c->reserving = true;
    return FP_OK;
}

void fpt_tx_commit(fp_tconn *tc, fp_span *span, size_t used)
{
    fpt_conn *c = base_of(tc);
    fpt_chunk *ch = span->token;
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
    fpt_conn_mark_dirty(c);
}

void fpt_tx_cancel(fp_tconn *tc, fp_span *span)
{
    fpt_conn *c = base_of(tc);
    if (!c->reserving || span->token != c->tail) return;
    c->reserving = false;
    span->token = NULL;
    trim_empty_tail(c);
}

fp_status fpt_tx_lend(fp_tconn *tc, const void *data, size_t len)
{
    fpt_conn *c = base_of(tc);
    if (!writable_state(c)) return FP_ECLOSED;
    fpt_worker *w = c->w;
    uintptr_t at = (uintptr_t)data;
    bool inside = w->rx_lo && at >= (uintptr_t)w->rx_lo && len <= (uintptr_t)w->rx_hi - at;
    if (!w->lend_enabled || !w->be->lend_hold || !inside || len == 0 || len > UINT32_MAX ||
        c->reserving) {
        w->counters.lend_refused++;
        return FP_ENOTSUP;
    }
    /* Frames echoed one after another sit one after another in the same
     * buffer: one chunk (one piece, a plain send) covers them all. */
    fpt_chunk *tail = c->tail;
    if (tail && tail->region == FPT_CHUNK_LENT && tail->first_slot == w->rx_token &&
        (uintptr_t)(tail->data + tail->end) == at && tail->end + len <= UINT32_MAX) {
        tail->end += (uint32_t)len;
        tail->cap = tail->end;
        c->queued += len;
        w->counters.lends++;
        fpt_conn_mark_dirty(c);
        return FP_OK;
    }
    /* A new receive buffer is held only for a connection with nothing
     * queued: lending pays off when replies leave at once, while a peer
     * that stops reading would otherwise pin a whole buffer for each few
     * bytes it sends. Its frames are copied, and it holds what it queued. */
    if (c->queued) {
        w->counters.lend_refused++;
        return FP_ENOTSUP;
    }
    fpt_chunk *ch = w->free_lent;
    if (ch)
        w->free_lent = ch->next;
    else if (!(ch = malloc(sizeof(*ch))))
        return FP_ENOTSUP;
    if (!w->be->lend_hold(w, w->rx_token)) {
        ch->next = w->free_lent;
        w->free_lent = ch;
        w->counters.lend_refused++;
        return FP_ENOTSUP;
    }
    memset(ch, 0, sizeof(*ch));
    ch->data = (uint8_t *)(uintptr_t)data; /* only ever read: it is sent */
    ch->end = ch->cap = (uint32_t)len;
    ch->region = FPT_CHUNK_LENT;
    ch->first_slot = w->rx_token;
    chain_append(c, ch);
    c->queued += len;
    w->counters.lends++;
    fpt_conn_mark_dirty(c);
    return FP_OK;
}

int fpt_chain_gather(const fpt_conn *c, fpt_iov *iov, int max, size_t *total)
{
    int n = 0;
    size_t bytes = 0;
    for (fpt_chunk *ch = c->head; ch && n < max; ch = ch->next) {
        if (ch->end == ch->start) continue;
        iov[n].base = ch->data + ch->start;
        iov[n].len = ch->end - ch->start;
        bytes += iov[n].len;
        n++;
    }
    if (total) *total = bytes;
    return n;
}

const fpt_chunk *fpt_chain_lone(const fpt_conn *c)
{
    const fpt_chunk *found = NULL;
    for (const fpt_chunk *ch = c->head; ch; ch = ch->next) {
        if (ch->end == ch->start) continue;
        if (found) return NULL;
        found = ch;
    }
    return found;
}

static void release_sent(fpt_conn *c, size_t n)
{
    fpt_worker *w = c->w;
    w->counters.send_bytes += n;
    while (c->head) {
        fpt_chunk *ch = c->head;
        size_t avail = ch->end - ch->start;
        size_t take = n < avail ? n : avail;
        ch->start += (uint32_t)take;
        c->queued -= take;
        n -= take;
        if (ch->start != ch->end) break;
        if (ch == c->tail && c->reserving) break;
        c->head = ch->next;
        if (!c->head) c->tail = NULL;
        chunk_release(w, ch);
    }
}

void fpt_conn_sent(fpt_conn *c, size_t n)
{
    release_sent(c, n);
    c->sent_unreported += n;
    if (!fpt_linked(&c->notify_link)) fpt_list_push_back(&c->w->notify, &c->notify_link);
}

void fpt_conn_sent_in_poll(fpt_conn *c, size_t n)
{
    release_sent(c, n);
    size_t sent = c->sent_unreported + n;
    c->sent_unreported = 0; /* bytes reported late ride along, in order */
    if (sent) c->w->ev->on_sent(c->user, sent);
}

void fpt_conn_tx_settle(fpt_conn *c)
{
    if (c->state != FPT_OPEN && c->state != FPT_DRAINING) return;
    if (c->queued > 0) {
        fpt_conn_mark_dirty(c);
        return;
    }
    trim_empty_tail(c);
    if (c->state == FPT_DRAINING && !c->tx_busy) fpt_conn_shutdown_write(c);
}
