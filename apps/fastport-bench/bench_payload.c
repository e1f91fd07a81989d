#include "bench_payload.h"

#include <stdlib.h>
#include <string.h>

typedef struct xoshiro256 {
    uint64_t s[4];
} xoshiro256;

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t xoshiro_next(xoshiro256 *r)
{
    uint64_t result = rotl(r->s[1] * 5, 7) * 9;
    uint64_t t = r->s[1] << 17;
    r->s[2] ^= r->s[0];
    r->s[3] ^= r->s[1];
    r->s[1] ^= r->s[2];
    r->s[0] ^= r->s[3];
    r->s[2] ^= t;
    r->s[3] = rotl(r->s[3], 45);
    return result;
}

/* Uniform in 0..span-1 without modulo bias: reject the top partial block. */
static uint64_t uniform_below(xoshiro256 *r, uint64_t span)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % span;
    uint64_t x;
    do {
        x = xoshiro_next(r);
    } while (x >= limit);
    return x % span;
}

int bench_payload_pool_init(bench_payload_pool *pool, uint32_t min, uint32_t max, size_t count,
                            uint64_t seed)
{
    memset(pool, 0, sizeof *pool);
    pool->sizes = malloc(count * sizeof *pool->sizes);
    pool->letters = malloc((size_t)max + 26u);
    if (!pool->sizes || !pool->letters) {
        bench_payload_pool_free(pool);
        return -1;
    }
    for (size_t j = 0; j < (size_t)max + 26u; j++) pool->letters[j] = (uint8_t)('A' + j % 26u);

    xoshiro256 rng;
    uint64_t sm = seed;
    for (int i = 0; i < 4; i++) rng.s[i] = splitmix64(&sm);
    uint64_t span = (uint64_t)max - min + 1u;
    double total = 0;
    for (size_t i = 0; i < count; i++) {
        pool->sizes[i] = min + (uint32_t)uniform_below(&rng, span);
        total += pool->sizes[i];
    }
    pool->count = count;
    pool->min = min;
    pool->max = max;
    pool->avg_size = count ? total / (double)count : 0;
    return 0;
}

void bench_payload_pool_free(bench_payload_pool *pool)
{
    free(pool->sizes);
    free(pool->letters);
    memset(pool, 0, sizeof *pool);
}
