/*
 * uring_bufring.c - the worker's provided-buffer ring for multishot recv.
 *
 * liburing 2.3 has no io_uring_setup_buf_ring, so the ring entries are our
 * own page-aligned mapping registered with io_uring_register_buf_ring. The
 * kernel picks a buffer only when data arrives, so an idle connection pins
 * none; each buffer goes back as soon as its bytes were handed to the
 * engine.
 *
 * Cache: the kernel takes ring entries in FIFO order, so a ring holding
 * every buffer cycles all of them (count x size bytes) through the cache,
 * which makes large frames slower than epoll's single read buffer. Only
 * `target` buffers sit in the ring; the others wait on a LIFO stack and a
 * returned buffer goes on top, so the ring is refilled with the most
 * recently used (hot) buffers. The target starts small, doubles on ENOBUFS
 * (up to the configured count, and to what fits UR_BUFRING_FOOTPRINT at the
 * mean bytes per fill: small messages may use many buffers, large frames
 * few) and halves again after a calm stretch. ENOBUFS only costs a re-arm,
 * but ENOBUFS in quick succession mean many connections receive at once
 * (1000 sessions of 4-16 KiB frames hit it six times per frame): then the
 * target grows past the footprint cap, up to the configured count.
 * Measured on loopback echo, 50 sessions x 2 x 16 KiB: ~11.5 us of server
 * CPU per frame this way, ~16.5 us with 256 x 16 KiB buffers cycled FIFO.
 *
 * Lending (tx_lend): bytes of a buffer queued for sending keep it out of
 * the ring, counted per buffer, until the last of them is sent; at most
 * half the buffers are lent at once, so receiving never stops for it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "uring_internal.h"

#define UR_BUFRING_MIN_TARGET 4u
/* recycles without ENOBUFS before the target halves again */
#define UR_BUFRING_CALM 1024u
/* bytes the ring's buffers may be written with per cycle: more buffers
 * than this allows (at the current mean fill) fall out of the cache */
#define UR_BUFRING_FOOTPRINT (256u * 1024u)
/* ENOBUFS pressure is judged per window of this many recycles: at least
 * UR_BUFRING_STARVED_MIN of them, and one per UR_BUFRING_STARVED_RATIO
 * recycles or more, mean more connections receive at once than the ring
 * holds, and the cache cap yields */
#define UR_BUFRING_WINDOW 1024u
#define UR_BUFRING_STARVED_MIN 64u
#define UR_BUFRING_STARVED_RATIO 4u

static size_t page_round(size_t n)
{
    const size_t page = 4096;
    return (n + page - 1) & ~(page - 1);
}

static void top_up(ur_bufring *br)
{
    int added = 0;
    while (br->in_ring < br->target && br->stack_len > 0) {
        uint16_t bid = br->stack[--br->stack_len];
        br->released[bid] = 0;
        io_uring_buf_ring_add(br->ring, ur_bufring_addr(br, bid), br->buf_size, bid, br->mask,
                              added);
        added++;
        br->in_ring++;
    }
    if (added) io_uring_buf_ring_advance(br->ring, added);
}

static void release_memory(ur_bufring *br)
{
    if (br->bufs) munmap(br->bufs, br->bufs_bytes);
    if (br->ring) munmap(br->ring, br->ring_bytes);
    free(br->stack);
    free(br->lends);
    free(br->parked_fill);
    free(br->released);
    br->released = NULL;
    br->bufs = NULL;
    br->ring = NULL;
    br->stack = NULL;
    br->lends = NULL;
    br->parked_fill = NULL;
}

int ur_bufring_init(ur_bufring *br, struct io_uring *ring, uint32_t buf_size, uint32_t count,
                    uint16_t bgid)
{
    memset(br, 0, sizeof(*br));
    br->buf_size = buf_size;
    br->count = count;
    br->bgid = bgid;
    br->mask = io_uring_buf_ring_mask(count);
    br->ring_bytes = page_round((size_t)count * sizeof(struct io_uring_buf));
    br->bufs_bytes = page_round((size_t)count * buf_size);
    br->target = count < UR_BUFRING_MIN_TARGET ? count : UR_BUFRING_MIN_TARGET;

    void *r = mmap(NULL, br->ring_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    void *b = mmap(NULL, br->bufs_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    br->ring = r == MAP_FAILED ? NULL : r;
    br->bufs = b == MAP_FAILED ? NULL : b;
    br->stack = malloc(count * sizeof(*br->stack));
    br->lends = calloc(count, sizeof(*br->lends));
    br->parked_fill = calloc(count, sizeof(*br->parked_fill));
    br->released = calloc(count, sizeof(*br->released));
    /* lending never takes more than half: the rest keeps receiving */
    br->lent_max = count / 2;
    if (!br->ring || !br->bufs || !br->stack || !br->lends || !br->parked_fill || !br->released) {
        release_memory(br);
        return -ENOMEM;
    }

    io_uring_buf_ring_init(br->ring);
    struct io_uring_buf_reg reg;
    memset(&reg, 0, sizeof(reg));
    reg.ring_addr = (uint64_t)(uintptr_t)br->ring;
    reg.ring_entries = count;
    reg.bgid = bgid;
    int ret = io_uring_register_buf_ring(ring, &reg, 0);
    if (ret < 0) {
        release_memory(br);
        return ret;
    }
    br->registered = true;
    /* lowest ids on top: they are used first and stay hot */
    for (uint32_t i = 0; i < count; i++) br->stack[i] = (uint16_t)(count - 1 - i);
    br->stack_len = count;
    top_up(br);
    return 0;
}

void ur_bufring_free(ur_bufring *br, struct io_uring *ring)
{
    if (br->registered && ring) (void)io_uring_unregister_buf_ring(ring, br->bgid);
    br->registered = false;
    release_memory(br);
}

uint8_t *ur_bufring_addr(const ur_bufring *br, uint16_t bid)
{
    return br->bufs + (size_t)bid * br->buf_size;
}

/* The most buffers worth exposing: what the cache holds at the mean fill
 * (small messages touch a line or two of each buffer, large frames all). */
static uint32_t target_cap(const ur_bufring *br)
{
    uint32_t fill = br->avg_fill ? br->avg_fill : 1;
    uint32_t cap = UR_BUFRING_FOOTPRINT / fill;
    if (cap < UR_BUFRING_MIN_TARGET) cap = UR_BUFRING_MIN_TARGET;
    return cap < br->count ? cap : br->count;
}

static void give_back(ur_bufring *br, uint16_t bid, size_t used)
{
    br->stack[br->stack_len++] = bid;
    /* mean over roughly the last 16 fills */
    int64_t delta = (int64_t)used - (int64_t)br->avg_fill;
    br->avg_fill = (uint32_t)((int64_t)br->avg_fill + delta / 16);
    if (++br->window_recycles >= UR_BUFRING_WINDOW)
        br->window_recycles = br->window_enobufs = 0;
    if (++br->calm >= UR_BUFRING_CALM) {
        br->calm = 0;
        if (br->target / 2 >= UR_BUFRING_MIN_TARGET) br->target /= 2;
    }
    top_up(br);
}

void ur_bufring_recycle(ur_bufring *br, uint16_t bid, size_t used)
{
    br->in_ring--;
    if (br->lends[bid]) {
        br->parked_fill[bid] = (uint32_t)used + 1; /* back at the last unlend */
        return;
    }
    give_back(br, bid, used);
}

bool ur_bufring_lend(ur_bufring *br, uint16_t bid)
{
    if (br->lends[bid] == UINT16_MAX) return false;
    if (br->lends[bid] == 0) {
        if (br->lent_buffers >= br->lent_max) return false;
        br->lent_buffers++;
    }
    br->lends[bid]++;
    return true;
}

void ur_bufring_unlend(ur_bufring *br, uint16_t bid)
{
    if (--br->lends[bid]) return;
    br->lent_buffers--;
    uint32_t parked = br->parked_fill[bid];
    if (!parked) return; /* still being delivered: recycle() gives it back */
    br->parked_fill[bid] = 0;
    give_back(br, bid, parked - 1);
}

void ur_bufring_grow(ur_bufring *br)
{
    br->window_enobufs++;
    br->enobufs_since_trim++;
    int starved = br->window_enobufs >= UR_BUFRING_STARVED_MIN &&
                  br->window_enobufs * UR_BUFRING_STARVED_RATIO >= br->window_recycles;
    uint32_t cap = starved ? br->count : target_cap(br);
    br->calm = 0;
    if (br->target < cap) {
        br->target *= 2;
        if (br->target > cap) br->target = cap;
        if (br->target > br->target_max) br->target_max = br->target;
    }
    top_up(br);
}

bool ur_bufring_trim(ur_bufring *br)
{
    if (!br->enobufs_since_trim && br->target / 2 >= UR_BUFRING_MIN_TARGET) br->target /= 2;
    br->enobufs_since_trim = 0;
    /* the stack's top `target` refill the ring; below them, buffers wait
     * cold and may as well hold no pages until reused */
    uint32_t keep = br->target < br->stack_len ? br->target : br->stack_len;
    for (uint32_t i = 0; i + keep < br->stack_len; i++) {
        uint16_t bid = br->stack[i];
        if (br->released[bid]) continue;
        (void)madvise(ur_bufring_addr(br, bid), br->buf_size, MADV_DONTNEED);
        br->released[bid] = 1;
    }
    return br->target > UR_BUFRING_MIN_TARGET;
}
