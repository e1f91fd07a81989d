/*
 * bench_payload.h - the pool of request payloads, generated once before
 * the load starts so the hot path only picks one.
 *
 * As in FastPort C++'s benchmark: `count` sizes drawn uniformly from
 * MIN..MAX by a PRNG seeded with --seed, and contents of letters, byte j of
 * entry i being 'A' + (i + j) % 26. The PRNG is ours (xoshiro256**), so the
 * sizes are reproducible from the seed on any platform, though not the same
 * as FastPort's (theirs depended on the MSVC standard library).
 */
#ifndef FASTPORT_BENCH_PAYLOAD_H
#define FASTPORT_BENCH_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

typedef struct bench_payload_pool {
    uint32_t *sizes;
    size_t count;
    uint32_t min, max;
    double avg_size;
    /* 26 + max bytes of repeating letters: entry i starts at i % 26. */
    uint8_t *letters;
} bench_payload_pool;

/* Returns 0, or -1 when out of memory. */
int bench_payload_pool_init(bench_payload_pool *pool, uint32_t min, uint32_t max, size_t count,
                            uint64_t seed);
void bench_payload_pool_free(bench_payload_pool *pool);

static inline uint32_t bench_payload_size(const bench_payload_pool *pool, size_t i)
{
    return pool->sizes[i];
}

static inline const uint8_t *bench_payload_data(const bench_payload_pool *pool, size_t i)
{
    return pool->letters + i % 26u;
}

#endif
