/*
 * epoll_send.c - send memory and the write path.
 *
 * Send memory is malloc'd chunks in three sizes; a connection with little
 * queued gets small ones, a busy one 64 KiB ones, and any reservation up to
 * 65535 bytes fits the largest. The worker caps the bytes connections hold
 * (send_pool_max); over it tx_reserve says FP_EAGAIN and the connection
 * waits for on_writable. Freed chunks are cached up to a bound, so steady
 * traffic allocates nothing.
 *
 * flush() gathers each dirty connection's chain into one sendmsg. A
 * connection the kernel stops taking (EAGAIN or a short write) arms
 * EPOLLOUT and stays out of flush() until that edge.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "asan.h"
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

static fp_status take_class(fp_tworker *w, unsigned cls, fpt_chunk **out)
{
    uint32_t cap = chunk_caps[cls];
    if (w->pool_used + cap > w->pool_max) return FP_EAGAIN;
    fpt_chunk *ch = w->free_chunks[cls];
    if (ch) {
        w->free_chunks[cls] = ch->next;
        w->cached_bytes -= cap;
        FPT_UNPOISON(ch->data, cap);
    } else {
        ch = malloc(sizeof(*ch) + cap);
        if (!ch) return FP_ENOMEM;
        ch->data = (uint8_t *)(ch + 1);
        ch->cap = cap;
        ch->region = cls;
    }
    w->pool_used += cap;
    if (w->pool_used > w->pool_peak) w->pool_peak = w->pool_used;
    *out = ch;
    return FP_OK;
}

fp_status ep_chunk_take(fpt_worker *cw, size_t need, size_t want, fpt_chunk **out)
{
    fp_tworker *w = ep_worker(cw);
    int first = (int)class_for(want);
    int last = (int)class_for(need);
    fp_status st = FP_EAGAIN;
    /* near the cap a smaller chunk that still fits beats waiting */
    for (int cls = first; cls >= last && st == FP_EAGAIN; cls--) st = take_class(w, (unsigned)cls, out);
    return st;
}

void ep_chunk_give_back(fpt_worker *cw, fpt_chunk *ch)
{
    fp_tworker *w = ep_worker(cw);
    w->pool_used -= ch->cap;
    if (w->cached_bytes + ch->cap <= EP_CHUNK_CACHE_MAX) {
        ch->next = w->free_chunks[ch->region];
        w->free_chunks[ch->region] = ch;
        w->cached_bytes += ch->cap;
        FPT_POISON(ch->data, ch->cap);
    } else {
        free(ch);
    }
}

bool ep_chunk_room(const fpt_worker *cw)
{
    const fp_tworker *w = (const fp_tworker *)(const void *)cw;
    return w->pool_used < w->pool_max;
}

void ep_chunks_free_cache(fp_tworker *w)
{
    for (unsigned cls = 0; cls < EP_CHUNK_CLASSES; cls++) {
        while (w->free_chunks[cls]) {
            fpt_chunk *ch = w->free_chunks[cls];
            w->free_chunks[cls] = ch->next;
            FPT_UNPOISON(ch->data, ch->cap);
            free(ch);
        }
    }
    w->cached_bytes = 0;
}

/* fpt_backend.send, and EPOLLOUT after a blocked send. */
void ep_conn_send(fpt_conn *c)
{
    fp_tconn *ec = ep_conn(c);
    fp_tworker *w = ep_worker(c->w);
    if (c->state != FPT_OPEN && c->state != FPT_DRAINING) return;
    while (c->queued > 0) {
        fpt_iov iov[EP_IOV_MAX];
        size_t total;
        int n_iov = fpt_chain_gather(c, iov, EP_IOV_MAX, &total);
        struct msghdr msg = {.msg_iov = (struct iovec *)(void *)iov, .msg_iovlen = (size_t)n_iov};
        ssize_t n = sendmsg(ec->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                w->stats.send_eagain++;
                c->tx_busy = true;
                break;
            }
            fpt_conn_fail(c, fpt_errno_status(errno));
            return;
        }
        w->core.counters.sends++;
        fpt_conn_sent(c, (size_t)n);
        if ((size_t)n < total) {
            /* the socket buffer is full: wait for EPOLLOUT */
            c->tx_busy = true;
            break;
        }
    }
    if (c->queued == 0) c->tx_busy = false;
    ep_conn_update_events(ec);
    fpt_conn_tx_settle(c);
}
