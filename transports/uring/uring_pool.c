/*
 * uring_pool.c - the send pool's memory for io_uring: anonymous mappings,
 * each registered as one entry of the ring's sparse fixed-buffer table
 * (its index is the region's number). The carving into slices is the
 * core's slice pool (slice_pool.c).
 */
#include <sys/mman.h>

#include "uring_internal.h"

static void *region_map(void *ctx, size_t bytes)
{
    (void)ctx;
    void *base = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return base == MAP_FAILED ? NULL : base;
}

static void region_unmap(void *ctx, void *base, size_t bytes)
{
    (void)ctx;
    munmap(base, bytes);
}

static bool region_register(void *ctx, uint32_t index, void *base, size_t bytes, intptr_t *reg)
{
    struct iovec iov = {.iov_base = base, .iov_len = bytes};
    if (io_uring_register_buffers_update_tag(ctx, index, &iov, NULL, 1) < 0) return false;
    *reg = (intptr_t)index;
    return true;
}

/* A trimmed region's slot of the table is emptied; no unregister at
 * teardown: the table goes with the ring. */
static bool region_retire(void *ctx, uint32_t index, intptr_t reg)
{
    (void)reg;
    struct iovec empty = {.iov_base = NULL, .iov_len = 0};
    return io_uring_register_buffers_update_tag(ctx, index, &empty, NULL, 1) >= 0;
}

static const fpt_slice_ops ur_pool_ops = {
    .map = region_map,
    .unmap = region_unmap,
    .register_region = region_register,
    .retire_region = region_retire,
};

void ur_pool_init(ur_pool *p, struct io_uring *ring, size_t slot_size, size_t region_bytes, size_t max_bytes)
{
    fpt_slice_pool_init(p, &ur_pool_ops, ring, slot_size, region_bytes, max_bytes);
}

void ur_pool_attach(ur_pool *p)
{
    p->registering = io_uring_register_buffers_sparse(p->ctx, p->max_regions) == 0;
}
