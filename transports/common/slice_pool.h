/*
 * slice_pool.h - send (or receive) memory carved from large regions the
 * kernel knows about: io_uring's fixed buffers, RIO's registered buffers.
 *
 * A region is one mapping of `region_bytes`, registered once when it is
 * made (the backend's `register_region`, which names it by an id the
 * kernel API understands). A chunk is a run of contiguous free slices of
 * one region, so any reservation up to a region fits; a bitmap per region
 * is the free list. When no region has a run free another is mapped and
 * registered, up to `max_bytes`; past that the pool says FP_EAGAIN until
 * slices come back (the backend warns once per episode: `exhausted`).
 *
 * Portable C11: mapping and registration are the backend's callbacks.
 * One thread (the worker's) uses a pool.
 */
#ifndef FP_TRANSPORT_COMMON_SLICE_POOL_H
#define FP_TRANSPORT_COMMON_SLICE_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"

/* `reg` of a region no kernel registration names. */
#define FPT_SLICE_UNREGISTERED ((intptr_t)-1)

typedef struct fpt_slice_region {
    uint8_t *base;
    size_t bytes;
    uint32_t n_slots;
    uint32_t free_slots;
    uint64_t *free_bits; /* bit set: slot free */
    fpt_chunk *chunks;   /* descriptor of the run starting at slot i */
    intptr_t reg;        /* the backend's registration id, or FPT_SLICE_UNREGISTERED */
} fpt_slice_region;

typedef struct fpt_slice_ops {
    /* Zeroed, page-aligned memory of `bytes`, or NULL. */
    void *(*map)(void *ctx, size_t bytes);
    void (*unmap)(void *ctx, void *base, size_t bytes);
    /* Registers region number `index`; false when the kernel refuses. */
    bool (*register_region)(void *ctx, uint32_t index, void *base, size_t bytes, intptr_t *reg);
    /* Undoes a registration (may be NULL: it ends with the ring). */
    void (*unregister_region)(void *ctx, intptr_t reg);
    /* Region number `index` is unmapped while the pool lives on (a trim):
     * the kernel must let go of it first. NULL: unregister_region does. */
    bool (*retire_region)(void *ctx, uint32_t index, intptr_t reg);
} fpt_slice_ops;

typedef struct fpt_slice_pool {
    const fpt_slice_ops *ops;
    void *ctx;
    size_t slot_size;
    size_t region_bytes;
    size_t max_bytes;
    uint32_t max_regions;
    fpt_slice_region *regions;
    uint32_t n_regions;
    uint32_t hint;          /* region tried first */
    bool registering;       /* regions are registered as they are made */
    bool require_registered; /* a region the kernel refuses is not used */
    bool exhausted;         /* warned; cleared when slices come back */
    uint64_t allocated, high_water; /* bytes in chunks handed out */
    uint64_t exhaustions, registrations, register_failures;
} fpt_slice_pool;

/* An empty pool: nothing is mapped before the first take. */
void fpt_slice_pool_init(fpt_slice_pool *p, const fpt_slice_ops *ops, void *ctx, size_t slot_size,
                         size_t region_bytes, size_t max_bytes);
/* Unregisters and unmaps every region (no chunk may be in use by the kernel). */
void fpt_slice_pool_free(fpt_slice_pool *p);
/* A run of slices holding at least `bytes` (<= region_bytes), FP_EAGAIN at
 * the cap, FP_EINVAL above a region. */
fp_status fpt_slice_take(fpt_slice_pool *p, size_t bytes, fpt_chunk **out);
void fpt_slice_release(fpt_slice_pool *p, fpt_chunk *ch);
/* Unmaps the regions at the end of the table that have no slice in use,
 * keeping the first. Returns whether more than one region is still mapped. */
bool fpt_slice_pool_trim(fpt_slice_pool *p);
/* Bytes mapped. */
uint64_t fpt_slice_pool_capacity(const fpt_slice_pool *p);
/* The region chunk `ch` lies in. */
static inline const fpt_slice_region *fpt_slice_region_of(const fpt_slice_pool *p, const fpt_chunk *ch)
{
    return &p->regions[ch->region];
}

#endif
