/*
 * iocp_chunk.c - send memory: malloc'd chunks in three sizes, as epoll.so
 * has them. A connection with little queued gets small ones, a busy one
 * 64 KiB ones (fewer WSABUFs per send), and any reservation up to 65535
 * bytes fits the largest. The worker caps the bytes connections hold
 * (send_pool_max); over it tx_reserve says FP_EAGAIN and on_writable
 * follows once sends complete. Freed chunks are cached up to a bound, so
 * steady traffic allocates nothing.
 */
#include <stdlib.h>

#include "iocp_internal.h"

#define IC_CHUNK_CACHE_MAX ((size_t)8 << 20)

static const uint32_t chunk_caps[IC_CHUNK_CLASSES] = {4096, 16384, IC_CHUNK_MAX};

static unsigned class_for(size_t bytes)
{
    unsigned cls = 0;
    while (cls + 1 < IC_CHUNK_CLASSES && chunk_caps[cls] < bytes) cls++;
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

fp_status ic_chunk_take(fpt_worker *cw, size_t need, size_t want, fpt_chunk **out)
{
    fp_tworker *w = ic_worker(cw);
    int first = (int)class_for(want);
    int last = (int)class_for(need);
    fp_status st = FP_EAGAIN;
    /* near the cap a smaller chunk that still fits beats waiting */
    for (int cls = first; cls >= last && st == FP_EAGAIN; cls--) st = take_class(w, (unsigned)cls, out);
    return st;
}

void ic_chunk_give_back(fpt_worker *cw, fpt_chunk *ch)
{
    fp_tworker *w = ic_worker(cw);
    w->pool_used -= ch->cap;
    if (w->cached_bytes + ch->cap <= IC_CHUNK_CACHE_MAX) {
        ch->next = w->free_chunks[ch->region];
        w->free_chunks[ch->region] = ch;
        w->cached_bytes += ch->cap;
    } else {
        free(ch);
    }
}

bool ic_chunk_room(const fpt_worker *cw)
{
    const fp_tworker *w = (const fp_tworker *)(const void *)cw;
    return w->pool_used < w->pool_max;
}

void ic_chunks_free_cache(fp_tworker *w)
{
    for (unsigned cls = 0; cls < IC_CHUNK_CLASSES; cls++) {
        while (w->free_chunks[cls]) {
            fpt_chunk *ch = w->free_chunks[cls];
            w->free_chunks[cls] = ch->next;
            free(ch);
        }
    }
    w->cached_bytes = 0;
}
