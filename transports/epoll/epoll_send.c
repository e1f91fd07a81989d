/*
 * epoll_send.c - the write path, over send memory from the worker's chunk
 * pool (chunk_pool.h: malloc'd chunks, capped by send_pool_max).
 *
 * flush() gathers each dirty connection's chain into one sendmsg. A
 * connection the kernel stops taking (EAGAIN or a short write) arms
 * EPOLLOUT and stays out of flush() until that edge.
 */
#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "epoll_internal.h"

#define EP_IOV_MAX 64

/* The fpt_backend chunk hooks: the worker's pool. */
fp_status ep_chunk_take(fpt_worker *w, size_t need, size_t want, fpt_chunk **out)
{
    return fpt_chunk_pool_take(&ep_worker(w)->pool, need, want, out);
}

void ep_chunk_give_back(fpt_worker *w, fpt_chunk *ch) { fpt_chunk_pool_give_back(&ep_worker(w)->pool, ch); }

/* fpt_backend.trim: cached chunks a burst left behind, then the heap. */
bool ep_trim(fpt_worker *w)
{
    fpt_chunk_pool *pool = &ep_worker(w)->pool;
    size_t cached = pool->cached;
    bool more = fpt_chunk_pool_trim(pool);
    if (pool->cached < cached || !more) fpt_heap_release();
    return more;
}

bool ep_chunk_room(const fpt_worker *w)
{
    return fpt_chunk_pool_room(&((const fp_tworker *)(const void *)w)->pool);
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
