/*
 * chunk_pool.h - send memory from malloc, for the backends whose kernel
 * API sends from any user memory (epoll.so, iocp.dll).
 *
 * Chunks come in three sizes; a connection with little queued gets small
 * ones, a busy one 64 KiB ones (fewer pieces per send), and any
 * reservation up to 65535 bytes fits the largest. The pool caps the bytes
 * connections hold (a worker's send_pool_max); over it take says
 * FP_EAGAIN and the core has the connection wait for on_writable. Freed
 * chunks are cached up to a bound, so steady traffic allocates nothing;
 * cached chunks are poisoned under ASan, so a touch after give_back is
 * reported.
 *
 * A backend keeps one pool per worker and wraps these functions in its
 * fpt_backend chunk hooks. Portable C11, like the rest of the core.
 */
#ifndef FP_TRANSPORT_COMMON_CHUNK_POOL_H
#define FP_TRANSPORT_COMMON_CHUNK_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include "core.h"

#define FPT_CHUNK_CLASSES 3

/* A chunk's `region` is its size class (index into the free lists). The
 * counters are read for a backend's stats; only these functions change
 * them. */
typedef struct fpt_chunk_pool {
    fpt_chunk *free[FPT_CHUNK_CLASSES]; /* cached chunks, by class */
    size_t cached; /* bytes sitting in the free lists */
    size_t used;   /* bytes of chunks owned by connections */
    size_t max;    /* the cap on used */
    size_t peak;   /* the highest used so far */
    size_t cached_low; /* the least `cached` since the last trim: what sat unused */
} fpt_chunk_pool;

/* An empty pool whose connections may hold up to `max` bytes. */
void fpt_chunk_pool_init(fpt_chunk_pool *p, size_t max);

/* A chunk with room for `need` bytes, `want` preferred: near the cap a
 * smaller chunk that still holds `need` is taken rather than waiting.
 * FP_EAGAIN over the cap, FP_ENOMEM when malloc fails. */
fp_status fpt_chunk_pool_take(fpt_chunk_pool *p, size_t need, size_t want, fpt_chunk **out);

/* Returns a chunk of this pool: cached, or freed past the cache bound. */
void fpt_chunk_pool_give_back(fpt_chunk_pool *p, fpt_chunk *ch);

/* Whether connections hold less than the cap (writers waiting for memory
 * may retry). */
bool fpt_chunk_pool_room(const fpt_chunk_pool *p);

/* Frees the cached chunks that sat unused since the last call (a burst's
 * leftovers; steady traffic keeps what it cycles through). Returns whether
 * any are still cached. */
bool fpt_chunk_pool_trim(fpt_chunk_pool *p);

/* Frees the cached chunks (worker teardown, after every connection gave
 * its chunks back). */
void fpt_chunk_pool_free_cache(fpt_chunk_pool *p);

/* Emits the pool's gauges: send_pool_bytes (used), send_pool_max_used
 * (peak) and send_pool_cached. */
void fpt_chunk_pool_stats_emit(const fpt_chunk_pool *p, fp_stat_fn emit, void *ctx);

#endif
