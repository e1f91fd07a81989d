/*
 * uring_pool.c - send memory: regions registered with the ring once and
 * carved into fixed-size slices.
 *
 * A region is one mapping of pool_size bytes, registered as one entry of
 * the ring's fixed-buffer table (its index is the region's id). A chunk is
 * a run of contiguous free slices of one region, so any reservation up to
 * 64 KiB fits; a bitmap per region is the free list. When no region has a
 * run free, another region is mapped and registered, up to pool_max; past
 * that the pool is exhausted (logged once per episode) and tx_reserve says
 * FP_EAGAIN until slices come back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "uring_internal.h"

void ur_pool_init(ur_pool *p, size_t slot_size, size_t region_bytes, size_t max_bytes)
{
    memset(p, 0, sizeof(*p));
    p->slot_size = slot_size;
    p->region_bytes = region_bytes;
    p->max_bytes = max_bytes;
    p->max_regions = (uint32_t)(max_bytes / region_bytes);
    if (p->max_regions == 0) p->max_regions = 1;
}

void ur_pool_attach(ur_pool *p, struct io_uring *ring)
{
    /* A sparse table: regions are registered into it one by one as they
     * are created. Without it the pool still works, unregistered. */
    p->registered_table = io_uring_register_buffers_sparse(ring, p->max_regions) == 0;
}

void ur_pool_free(ur_pool *p)
{
    for (uint32_t i = 0; i < p->n_regions; i++) {
        ur_region *r = &p->regions[i];
        munmap(r->base, r->bytes);
        free(r->free_bits);
        free(r->chunks);
    }
    free(p->regions);
    p->regions = NULL;
    p->n_regions = 0;
}

uint64_t ur_pool_capacity(const ur_pool *p) { return (uint64_t)p->n_regions * p->region_bytes; }

static void mark(ur_region *r, uint32_t first, uint32_t n, bool free_now)
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
static uint32_t find_run(const ur_region *r, uint32_t n)
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

static bool region_add(ur_pool *p, struct io_uring *ring)
{
    if (p->n_regions >= p->max_regions) return false;
    ur_region *grown = realloc(p->regions, (p->n_regions + 1) * sizeof(*grown));
    if (!grown) return false;
    p->regions = grown;
    ur_region *r = &p->regions[p->n_regions];
    memset(r, 0, sizeof(*r));
    r->bytes = p->region_bytes;
    r->n_slots = (uint32_t)(p->region_bytes / p->slot_size);
    void *base = mmap(NULL, r->bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return false;
    r->base = base;
    size_t words = (r->n_slots + 63) / 64;
    r->free_bits = calloc(words, sizeof(uint64_t));
    r->chunks = calloc(r->n_slots, sizeof(ur_chunk));
    if (!r->free_bits || !r->chunks) {
        free(r->free_bits);
        free(r->chunks);
        munmap(base, r->bytes);
        return false;
    }
    mark(r, 0, r->n_slots, true);
    r->free_slots = r->n_slots;
    r->buf_index = -1;
    if (p->registered_table && ring) {
        struct iovec iov = {.iov_base = r->base, .iov_len = r->bytes};
        int ret = io_uring_register_buffers_update_tag(ring, p->n_regions, &iov, NULL, 1);
        if (ret >= 0) {
            r->buf_index = (int)p->n_regions;
            p->registrations++;
        } else {
            p->register_failures++;
        }
    }
    p->n_regions++;
    return true;
}

static bool take_from(ur_pool *p, uint32_t ri, uint32_t n, ur_chunk **out)
{
    ur_region *r = &p->regions[ri];
    if (r->free_slots < n) return false;
    uint32_t first = find_run(r, n);
    if (first == UINT32_MAX) return false;
    mark(r, first, n, false);
    r->free_slots -= n;
    ur_chunk *ch = &r->chunks[first];
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

fp_status ur_pool_take(ur_pool *p, struct io_uring *ring, size_t bytes, ur_chunk **out)
{
    if (bytes == 0) bytes = 1;
    if (bytes > p->region_bytes) return FP_EINVAL;
    uint32_t n = (uint32_t)((bytes + p->slot_size - 1) / p->slot_size);
    for (uint32_t k = 0; k < p->n_regions; k++) {
        uint32_t ri = (p->hint + k) % p->n_regions;
        if (take_from(p, ri, n, out)) return FP_OK;
    }
    if (region_add(p, ring) && take_from(p, p->n_regions - 1, n, out)) return FP_OK;
    p->exhaustions++;
    return FP_EAGAIN;
}

void ur_pool_release(ur_pool *p, ur_chunk *ch)
{
    ur_region *r = &p->regions[ch->region];
    mark(r, ch->first_slot, ch->n_slots, true);
    r->free_slots += ch->n_slots;
    p->allocated -= ch->cap;
    p->exhausted = false;
    ch->data = NULL;
    ch->next = NULL;
}
