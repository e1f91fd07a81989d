/*
 * slice_pool.c - regions carved into slices; see slice_pool.h.
 */
#include "slice_pool.h"

#include <stdlib.h>
#include <string.h>

void fpt_slice_pool_init(fpt_slice_pool *p, const fpt_slice_ops *ops, void *ctx, size_t slot_size,
                         size_t region_bytes, size_t max_bytes)
{
    memset(p, 0, sizeof(*p));
    p->ops = ops;
    p->ctx = ctx;
    p->slot_size = slot_size;
    p->region_bytes = region_bytes;
    p->max_bytes = max_bytes;
    p->max_regions = (uint32_t)(max_bytes / region_bytes);
    if (p->max_regions == 0) p->max_regions = 1;
}

void fpt_slice_pool_free(fpt_slice_pool *p)
{
    for (uint32_t i = 0; i < p->n_regions; i++) {
        fpt_slice_region *r = &p->regions[i];
        if (r->reg != FPT_SLICE_UNREGISTERED && p->ops->unregister_region)
            p->ops->unregister_region(p->ctx, r->reg);
        p->ops->unmap(p->ctx, r->base, r->bytes);
        free(r->free_bits);
        free(r->chunks);
    }
    free(p->regions);
    p->regions = NULL;
    p->n_regions = 0;
}

static bool retire(fpt_slice_pool *p, uint32_t index)
{
    fpt_slice_region *r = &p->regions[index];
    if (r->reg != FPT_SLICE_UNREGISTERED) {
        if (p->ops->retire_region) {
            if (!p->ops->retire_region(p->ctx, index, r->reg)) return false;
        } else if (p->ops->unregister_region) {
            p->ops->unregister_region(p->ctx, r->reg);
        } else {
            return false;
        }
    }
    p->ops->unmap(p->ctx, r->base, r->bytes);
    free(r->free_bits);
    free(r->chunks);
    return true;
}

bool fpt_slice_pool_trim(fpt_slice_pool *p)
{
    while (p->n_regions > 1) {
        uint32_t last = p->n_regions - 1;
        const fpt_slice_region *r = &p->regions[last];
        if (r->free_slots != r->n_slots || !retire(p, last)) break;
        p->n_regions = last;
        if (p->hint >= p->n_regions) p->hint = 0;
    }
    return p->n_regions > 1;
}

uint64_t fpt_slice_pool_capacity(const fpt_slice_pool *p) { return (uint64_t)p->n_regions * p->region_bytes; }

static void mark(fpt_slice_region *r, uint32_t first, uint32_t n, bool free_now)
{
    for (uint32_t i = first; i < first + n; i++) {
        uint64_t bit = (uint64_t)1 << (i % 64);
        if (free_now)
            r->free_bits[i / 64] |= bit;
        else
            r->free_bits[i / 64] &= ~bit;
    }
}

/* First run of `n` free slots, or UINT32_MAX; steps over whole runs of
 * free or used slots at a time. */
static uint32_t find_run(const fpt_slice_region *r, uint32_t n)
{
    uint32_t run = 0, start = 0;
    for (uint32_t i = 0; i < r->n_slots;) {
        uint32_t bit = i % 64;
        uint64_t rest = r->free_bits[i / 64] >> bit;
        uint32_t left = 64 - bit;
        if (left > r->n_slots - i) left = r->n_slots - i;
        uint32_t len;
        if (rest & 1u) {
            len = ~rest ? (uint32_t)__builtin_ctzll(~rest) : 64;
            if (len > left) len = left;
            if (run == 0) start = i;
            run += len;
            if (run >= n) return start;
        } else {
            len = rest ? (uint32_t)__builtin_ctzll(rest) : left;
            if (len > left) len = left;
            run = 0;
        }
        i += len;
    }
    return UINT32_MAX;
}

static bool region_add(fpt_slice_pool *p)
{
    if (p->n_regions >= p->max_regions) return false;
    fpt_slice_region *grown = realloc(p->regions, (p->n_regions + 1) * sizeof(*grown));
    if (!grown) return false;
    p->regions = grown;
    fpt_slice_region *r = &p->regions[p->n_regions];
    memset(r, 0, sizeof(*r));
    r->bytes = p->region_bytes;
    r->n_slots = (uint32_t)(p->region_bytes / p->slot_size);
    void *base = p->ops->map(p->ctx, r->bytes);
    if (!base) return false;
    r->base = base;
    size_t words = (r->n_slots + 63) / 64;
    r->free_bits = calloc(words, sizeof(uint64_t));
    r->chunks = calloc(r->n_slots, sizeof(fpt_chunk));
    if (!r->free_bits || !r->chunks) {
        free(r->free_bits);
        free(r->chunks);
        p->ops->unmap(p->ctx, base, r->bytes);
        return false;
    }
    mark(r, 0, r->n_slots, true);
    r->free_slots = r->n_slots;
    r->reg = FPT_SLICE_UNREGISTERED;
    if (p->registering) {
        if (p->ops->register_region(p->ctx, p->n_regions, r->base, r->bytes, &r->reg)) {
            p->registrations++;
        } else {
            r->reg = FPT_SLICE_UNREGISTERED;
            p->register_failures++;
        }
    }
    if (r->reg == FPT_SLICE_UNREGISTERED && p->require_registered) {
        free(r->free_bits);
        free(r->chunks);
        p->ops->unmap(p->ctx, base, r->bytes);
        return false;
    }
    p->n_regions++;
    return true;
}

static bool take_from(fpt_slice_pool *p, uint32_t ri, uint32_t n, fpt_chunk **out)
{
    fpt_slice_region *r = &p->regions[ri];
    if (r->free_slots < n) return false;
    uint32_t first = find_run(r, n);
    if (first == UINT32_MAX) return false;
    mark(r, first, n, false);
    r->free_slots -= n;
    fpt_chunk *ch = &r->chunks[first];
    memset(ch, 0, sizeof(*ch));
    ch->data = r->base + (size_t)first * p->slot_size;
    ch->cap = (uint32_t)(n * p->slot_size);
    ch->region = ri;
    ch->first_slot = first;
    ch->n_slots = n;
    p->allocated += ch->cap;
    if (p->allocated > p->high_water) p->high_water = p->allocated;
    p->hint = ri;
    *out = ch;
    return true;
}

fp_status fpt_slice_take(fpt_slice_pool *p, size_t bytes, fpt_chunk **out)
{
    if (bytes == 0) bytes = 1;
    if (bytes > p->region_bytes) return FP_EINVAL;
    uint32_t n = (uint32_t)((bytes + p->slot_size - 1) / p->slot_size);
    for (uint32_t k = 0; k < p->n_regions; k++) {
        uint32_t ri = (p->hint + k) % p->n_regions;
        if (take_from(p, ri, n, out)) return FP_OK;
    }
    if (region_add(p) && take_from(p, p->n_regions - 1, n, out)) return FP_OK;
    p->exhaustions++;
    return FP_EAGAIN;
}

void fpt_slice_release(fpt_slice_pool *p, fpt_chunk *ch)
{
    fpt_slice_region *r = &p->regions[ch->region];
    mark(r, ch->first_slot, ch->n_slots, true);
    r->free_slots += ch->n_slots;
    p->allocated -= ch->cap;
    p->exhausted = false;
    ch->data = NULL;
    ch->next = NULL;
}
