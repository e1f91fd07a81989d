/*
 * rio_pool.c - registered memory: two slice pools per worker over
 * VirtualAlloc'd regions, each region registered once with
 * RIORegisterBuffer (its RIO_BUFFERID is the region's registration).
 *
 *   - receive slices, one per open connection (RIO cannot receive
 *     without a registered buffer posted): recv_size while the
 *     connection is quiet, up to recv_max while its receives come back
 *     full, in runs of recv_size slices, up to recv_pool_max;
 *   - send chunks (runs of slot_size slices, as uring.so's pool), which
 *     tx_reserve hands out so frames are written straight into registered
 *     memory, up to pool_max.
 *
 * A receive slice whose bytes an echo lent to a send (tx_lend) stays out
 * of the pool until the last lent chunk pointing into it is sent; its
 * connection posts its next receive into a fresh slice meanwhile.
 */
#include <stdlib.h>

#include "rio_internal.h"

static void *region_map(void *ctx, size_t bytes)
{
    (void)ctx;
    return VirtualAlloc(NULL, bytes, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
}

static void region_unmap(void *ctx, void *base, size_t bytes)
{
    (void)ctx;
    (void)bytes;
    VirtualFree(base, 0, MEM_RELEASE);
}

static bool region_register(void *ctx, uint32_t index, void *base, size_t bytes, intptr_t *reg)
{
    (void)index;
    const RIO_EXTENSION_FUNCTION_TABLE *rio = ctx;
    RIO_BUFFERID id = rio->RIORegisterBuffer((PCHAR)base, (DWORD)bytes);
    if (id == RIO_INVALID_BUFFERID) return false;
    *reg = (intptr_t)id;
    return true;
}

static void region_unregister(void *ctx, intptr_t reg)
{
    const RIO_EXTENSION_FUNCTION_TABLE *rio = ctx;
    rio->RIODeregisterBuffer((RIO_BUFFERID)reg);
}

static const fpt_slice_ops rio_region_ops = {
    .map = region_map,
    .unmap = region_unmap,
    .register_region = region_register,
    .unregister_region = region_unregister,
};

static void pool_open(fp_tworker *w, fpt_slice_pool *p, uint64_t slot, uint64_t region, uint64_t max)
{
    fpt_slice_pool_init(p, &rio_region_ops, (void *)w->rio, (size_t)slot, (size_t)region, (size_t)max);
    p->registering = true;
    p->require_registered = true; /* RIO cannot use memory it does not know */
}

fp_status rio_pools_open(fp_tworker *w)
{
    const rio_settings *s = &w->t->set;
    pool_open(w, &w->recv_pool, s->recv_size, s->recv_pool_size, s->recv_pool_max);
    pool_open(w, &w->send_pool, s->slot_size, s->pool_size, s->pool_max);
    w->slice_state = calloc(w->recv_pool.max_regions, sizeof(*w->slice_state));
    if (!w->slice_state) return FP_ENOMEM;
    /* half the receive memory may wait in lent sends; past that echoes copy */
    w->lend_cap = s->recv_pool_max / 2;
    return FP_OK;
}

void rio_pools_close(fp_tworker *w)
{
    fpt_slice_pool_free(&w->recv_pool);
    fpt_slice_pool_free(&w->send_pool);
    if (w->slice_state)
        for (uint32_t i = 0; i < w->recv_pool.max_regions; i++) free(w->slice_state[i]);
    free(w->slice_state);
    w->slice_state = NULL;
}

void rio_buf_of(fp_tworker *w, const fpt_chunk *ch, const uint8_t *data, uint32_t len, RIO_BUF *out)
{
    const fpt_slice_pool *p = &w->send_pool;
    uint32_t region = ch->region;
    if (region == FPT_CHUNK_LENT) {
        p = &w->recv_pool;
        region = ch->first_slot >> 16;
    }
    const fpt_slice_region *r = &p->regions[region];
    out->BufferId = (RIO_BUFFERID)r->reg;
    out->Offset = (ULONG)(data - r->base);
    out->Length = len;
}

uint32_t rio_slice_token(const fpt_chunk *slice) { return slice->region << 16 | slice->first_slot; }

static rio_slice_state *state_of(fp_tworker *w, uint32_t token)
{
    return &w->slice_state[token >> 16][token & 0xffff];
}

static fpt_chunk *slice_of(fp_tworker *w, uint32_t token)
{
    return &w->recv_pool.regions[token >> 16].chunks[token & 0xffff];
}

fpt_chunk *rio_slice_take(fp_tworker *w, uint32_t bytes)
{
    fpt_chunk *slice = NULL;
    uint32_t regions = w->recv_pool.n_regions;
    if (fpt_slice_take(&w->recv_pool, bytes, &slice) != FP_OK &&
        (bytes == w->recv_pool.slot_size ||
         fpt_slice_take(&w->recv_pool, w->recv_pool.slot_size, &slice) != FP_OK)) {
        if (!w->recv_pool.exhausted) {
            w->recv_pool.exhausted = true;
            w->stats.recv_pool_exhausted++;
            fpt_log(w->core.host, FP_LOG_WARN,
                    "rio: worker %u: receive pool exhausted (%llu bytes of registered receive slices, "
                    "recv_pool_max %llu): connections wait for a slice",
                    w->core.index, (unsigned long long)w->recv_pool.allocated,
                    (unsigned long long)w->recv_pool.max_bytes);
        }
        return NULL;
    }
    if (w->recv_pool.n_regions != regions) { /* a new region: its slices' states */
        uint32_t ri = w->recv_pool.n_regions - 1;
        w->slice_state[ri] = calloc(w->recv_pool.regions[ri].n_slots, sizeof(rio_slice_state));
        if (!w->slice_state[ri]) {
            fpt_slice_release(&w->recv_pool, slice);
            return NULL;
        }
    }
    rio_slice_state *st = state_of(w, rio_slice_token(slice));
    st->owned = true;
    st->holds = 0;
    return slice;
}

void rio_slice_give_back(fp_tworker *w, fpt_chunk *slice)
{
    rio_slice_state *st = state_of(w, rio_slice_token(slice));
    st->owned = false;
    if (st->holds == 0) fpt_slice_release(&w->recv_pool, slice);
}

bool rio_slice_lent(fp_tworker *w, const fpt_chunk *slice)
{
    return state_of(w, rio_slice_token(slice))->holds > 0;
}

bool rio_lend_hold(fpt_worker *cw, uint32_t token)
{
    fp_tworker *w = rio_worker(cw);
    rio_slice_state *st = state_of(w, token);
    if (st->holds == UINT16_MAX) return false;
    if (st->holds == 0) {
        uint32_t cap = slice_of(w, token)->cap;
        if (w->lent_bytes + cap > w->lend_cap) return false;
        w->lent_bytes += cap;
    }
    st->holds++;
    return true;
}

void rio_lend_drop(fpt_worker *cw, uint32_t token)
{
    fp_tworker *w = rio_worker(cw);
    rio_slice_state *st = state_of(w, token);
    if (--st->holds) return;
    fpt_chunk *slice = slice_of(w, token);
    w->lent_bytes -= slice->cap;
    if (!st->owned) fpt_slice_release(&w->recv_pool, slice);
}

/* ---- send memory: the fpt_backend chunk hooks ---- */

fp_status rio_chunk_take(fpt_worker *cw, size_t need, size_t want, fpt_chunk **out)
{
    fp_tworker *w = rio_worker(cw);
    fp_status st = fpt_slice_take(&w->send_pool, want, out);
    if (st == FP_EAGAIN && want > need) st = fpt_slice_take(&w->send_pool, need, out);
    if (st == FP_EAGAIN && !w->send_pool.exhausted) {
        w->send_pool.exhausted = true;
        fpt_log(cw->host, FP_LOG_WARN,
                "rio: worker %u: send pool exhausted (%llu bytes in use, pool_max %llu bytes): "
                "writers wait for sends to complete",
                cw->index, (unsigned long long)w->send_pool.allocated,
                (unsigned long long)w->send_pool.max_bytes);
    }
    return st;
}

void rio_chunk_give_back(fpt_worker *w, fpt_chunk *ch) { fpt_slice_release(&rio_worker(w)->send_pool, ch); }

bool rio_chunk_room(const fpt_worker *w)
{
    return !((const fp_tworker *)(const void *)w)->send_pool.exhausted;
}
