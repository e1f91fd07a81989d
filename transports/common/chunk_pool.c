/*
 * chunk_pool.c - malloc'd send chunks in three size classes, a byte cap
 * and a bounded cache of freed chunks (see chunk_pool.h).
 */
#include <stdlib.h>
#include <string.h>

#include "asan.h"
#include "chunk_pool.h"

/* What the cache may keep: enough for steady traffic to allocate nothing,
 * little enough that a burst does not pin its memory for good. */
#define FPT_CHUNK_CACHE_MAX ((size_t)8 << 20)

static const uint32_t chunk_caps[FPT_CHUNK_CLASSES] = {4096, 16384, FPT_RESERVE_MAX};

/* The smallest class holding `bytes` (the largest holds any reservation). */
static unsigned class_for(size_t bytes)
{
    unsigned cls = 0;
    while (cls + 1 < FPT_CHUNK_CLASSES && chunk_caps[cls] < bytes) cls++;
    return cls;
}

static fp_status take_class(fpt_chunk_pool *p, unsigned cls, fpt_chunk **out)
{
    uint32_t cap = chunk_caps[cls];
    if (p->used + cap > p->max) return FP_EAGAIN;
    fpt_chunk *ch = p->free[cls];
    if (ch) {
        p->free[cls] = ch->next;
        p->cached -= cap;
        if (p->cached < p->cached_low) p->cached_low = p->cached;
        FPT_UNPOISON(ch->data, cap);
    } else {
        ch = malloc(sizeof(*ch) + cap);
        if (!ch) return FP_ENOMEM;
        ch->data = (uint8_t *)(ch + 1);
        ch->cap = cap;
        ch->region = cls;
    }
    p->used += cap;
    if (p->used > p->peak) p->peak = p->used;
    *out = ch;
    return FP_OK;
}

void fpt_chunk_pool_init(fpt_chunk_pool *p, size_t max)
{
    memset(p, 0, sizeof(*p));
    p->max = max;
}

fp_status fpt_chunk_pool_take(fpt_chunk_pool *p, size_t need, size_t want, fpt_chunk **out)
{
    int first = (int)class_for(want);
    int last = (int)class_for(need);
    fp_status st = FP_EAGAIN;
    /* near the cap a smaller chunk that still fits beats waiting */
    for (int cls = first; cls >= last && st == FP_EAGAIN; cls--) st = take_class(p, (unsigned)cls, out);
    return st;
}

void fpt_chunk_pool_give_back(fpt_chunk_pool *p, fpt_chunk *ch)
{
    p->used -= ch->cap;
    if (p->cached + ch->cap <= FPT_CHUNK_CACHE_MAX) {
        ch->next = p->free[ch->region];
        p->free[ch->region] = ch;
        p->cached += ch->cap;
        FPT_POISON(ch->data, ch->cap);
    } else {
        free(ch);
    }
}

bool fpt_chunk_pool_room(const fpt_chunk_pool *p) { return p->used < p->max; }

bool fpt_chunk_pool_trim(fpt_chunk_pool *p)
{
    size_t unused = p->cached_low;
    for (unsigned cls = FPT_CHUNK_CLASSES; cls-- > 0 && unused;) {
        while (p->free[cls] && unused) {
            fpt_chunk *ch = p->free[cls];
            p->free[cls] = ch->next;
            p->cached -= ch->cap;
            unused = ch->cap < unused ? unused - ch->cap : 0;
            FPT_UNPOISON(ch->data, ch->cap);
            free(ch);
        }
    }
    p->cached_low = p->cached;
    return p->cached > 0;
}

void fpt_chunk_pool_free_cache(fpt_chunk_pool *p)
{
    for (unsigned cls = 0; cls < FPT_CHUNK_CLASSES; cls++) {
        while (p->free[cls]) {
            fpt_chunk *ch = p->free[cls];
            p->free[cls] = ch->next;
            FPT_UNPOISON(ch->data, ch->cap);
            free(ch);
        }
    }
    p->cached = 0;
}

void fpt_chunk_pool_stats_emit(const fpt_chunk_pool *p, fp_stat_fn emit, void *ctx)
{
    emit(ctx, "send_pool_bytes", p->used);
    emit(ctx, "send_pool_max_used", p->peak);
    emit(ctx, "send_pool_cached", p->cached);
}
