/*
 * epoll_send.c - send memory and the write path.
 *
 * Each connection queues committed bytes in a chain of chunks taken from
 * its worker's pool. Chunks come in three sizes; a connection with little
 * queued gets small ones, a busy one 64 KiB ones, and any reservation up to
 * 65535 bytes fits the largest. The pool caps the bytes connections hold
 * (send_pool_max); over it tx_reserve says FP_EAGAIN and the connection
 * waits for on_writable. Freed chunks are cached up to a bound, so steady
 * traffic allocates nothing.
 *
 * flush() gathers each dirty connection's chain into one sendmsg. A
 * connection the kernel stops taking (EAGAIN or a short write) arms
 * EPOLLOUT and leaves flush() alone until that edge.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "epoll_internal.h"

#define EP_IOV_MAX 64
#define EP_CHUNK_CACHE_MAX ((size_t)8 << 20)

static const uint32_t chunk_caps[EP_CHUNK_CLASSES] = {4096, 16384, EP_CHUNK_MAX};

static unsigned class_for(size_t bytes)
{
    unsigned cls = 0;
    while (cls + 1 < EP_CHUNK_CLASSES && chunk_caps[cls] < bytes) cls++;
    return cls;
}

static fp_status chunk_take(fp_tworker *w, unsigned cls, ep_chunk **out)
{
    uint32_t cap = chunk_caps[cls];
    if (w->pool_used + cap > w->pool_max) return FP_EAGAIN;
    ep_chunk *ch = w->free_chunks[cls];
    if (ch) {
        w->free_chunks[cls] = ch->next;
        w->cached_bytes -= cap;
        EP_UNPOISON(ch->data, cap);
    } else {
        ch = malloc(sizeof(*ch) + cap);
        if (!ch) return FP_ENOMEM;
        ch->cap = cap;
        ch->cls = cls;
    }
    ch->next = NULL;
    ch->start = ch->end = 0;
    w->pool_used += cap;
    if (w->pool_used > w->pool_peak) w->pool_peak = w->pool_used;
    *out = ch;
    return FP_OK;
}

static void chunk_release(fp_tworker *w, ep_chunk *ch)
{
    w->pool_used -= ch->cap;
    if (w->cached_bytes + ch->cap <= EP_CHUNK_CACHE_MAX) {
        ch->next = w->free_chunks[ch->cls];
        w->free_chunks[ch->cls] = ch;
        w->cached_bytes += ch->cap;
        EP_POISON(ch->data, ch->cap);
    } else {
        free(ch);
    }
    if (!fpt_list_empty(&w->waiters)) w->writable_due = true;
}

void ep_chunks_free_cache(fp_tworker *w)
{
    for (unsigned cls = 0; cls < EP_CHUNK_CLASSES; cls++) {
        while (w->free_chunks[cls]) {
            ep_chunk *ch = w->free_chunks[cls];
            w->free_chunks[cls] = ch->next;
            EP_UNPOISON(ch->data, ch->cap);
            free(ch);
        }
    }
    w->cached_bytes = 0;
}

void ep_chain_release(fp_tconn *c)
{
    while (c->head) {
        ep_chunk *ch = c->head;
        c->head = ch->next;
        chunk_release(c->w, ch);
    }
    c->tail = NULL;
    c->queued = 0;
    c->reserving = false;
}

/* An idle connection holds no send memory: drop a lone empty chunk. */
static void trim_empty_tail(fp_tconn *c)
{
    ep_chunk *ch = c->tail;
    if (ch && ch == c->head && ch->start == ch->end && !c->reserving) {
        c->head = c->tail = NULL;
        chunk_release(c->w, ch);
    }
}

fp_status ep_tx_reserve(fp_tconn *c, size_t len, fp_span *out)
{
    if (c->state != EP_CONN_OPEN && c->state != EP_CONN_CONNECTING) return FP_ECLOSED;
    if (len > EP_CHUNK_MAX) return FP_EINVAL;
    fp_tworker *w = c->w;
    size_t need = len ? len : 1;
    ep_chunk *tail = c->tail;
    if (!tail || tail->cap - tail->end < need) {
        size_t want = c->queued < EP_CHUNK_MAX ? c->queued : EP_CHUNK_MAX;
        int first = (int)class_for(want > need ? want : need);
        int last = (int)class_for(need);
        ep_chunk *ch = NULL;
        fp_status st = FP_EAGAIN;
        /* near the cap a smaller chunk that still fits beats waiting */
        for (int cls = first; cls >= last && st == FP_EAGAIN; cls--)
            st = chunk_take(w, (unsigned)cls, &ch);
        if (st != FP_OK) {
            if (st == FP_EAGAIN) {
                w->stats.eagain_reserve++;
                if (!fpt_linked(&c->wait_link)) fpt_list_push_back(&w->waiters, &c->wait_link);
            }
            return st;
        }
        if (tail)
            tail->next = ch;
        else
            c->head = ch;
        c->tail = tail = ch;
    }
    out->data = tail->data + tail->end;
    out->len = tail->cap - tail->end;
    out->token = tail;
    c->reserving = true;
    return FP_OK;
}

void ep_tx_commit(fp_tconn *c, fp_span *span, size_t used)
{
    ep_chunk *ch = span->token;
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
    if (!c->blocked && !fpt_linked(&c->dirty_link)) fpt_list_push_back(&c->w->dirty, &c->dirty_link);
}

void ep_tx_cancel(fp_tconn *c, fp_span *span)
{
    if (!c->reserving || span->token != c->tail) return;
    c->reserving = false;
    span->token = NULL;
    trim_empty_tail(c);
}

/* Releases the `n` bytes the kernel took, and every chunk left empty. */
static void chain_consume(fp_tconn *c, size_t n)
{
    while (c->head) {
        ep_chunk *ch = c->head;
        size_t avail = ch->end - ch->start;
        size_t take = n < avail ? n : avail;
        ch->start += (uint32_t)take;
        c->queued -= take;
        n -= take;
        if (ch->start != ch->end) break;
        if (ch == c->tail && c->reserving) break;
        c->head = ch->next;
        if (!c->head) c->tail = NULL;
        chunk_release(c->w, ch);
    }
}

void ep_conn_send(fp_tconn *c)
{
    fp_tworker *w = c->w;
    if (c->state != EP_CONN_OPEN && c->state != EP_CONN_DRAINING) return;
    while (c->queued > 0) {
        struct iovec iov[EP_IOV_MAX];
        int n_iov = 0;
        size_t total = 0;
        for (ep_chunk *ch = c->head; ch && n_iov < EP_IOV_MAX; ch = ch->next) {
            if (ch->end == ch->start) continue;
            iov[n_iov].iov_base = ch->data + ch->start;
            iov[n_iov].iov_len = ch->end - ch->start;
            total += iov[n_iov].iov_len;
            n_iov++;
        }
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n_iov};
        ssize_t n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                w->stats.send_eagain++;
                c->blocked = true;
                break;
            }
            ep_conn_fail(c, fpt_errno_status(errno));
            return;
        }
        w->stats.sends++;
        w->stats.send_bytes += (uint64_t)n;
        chain_consume(c, (size_t)n);
        c->sent_unreported += (size_t)n;
        if (!fpt_linked(&c->notify_link)) fpt_list_push_back(&w->notify, &c->notify_link);
        if ((size_t)n < total) {
            /* the socket buffer is full: wait for EPOLLOUT */
            c->blocked = true;
            break;
        }
    }
    if (c->queued == 0) {
        c->blocked = false;
        trim_empty_tail(c);
    }
    ep_conn_update_events(c);
    if (c->state == EP_CONN_DRAINING && c->queued == 0) ep_conn_shutdown_write(c);
}
