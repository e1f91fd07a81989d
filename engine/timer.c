/* Timer heap.
 *
 * Timers live in a slot table with stable indices; the heap holds
 * (deadline, seq, slot) and each slot remembers its heap position, so
 * cancel is a direct lookup plus one O(log n) sift. An id is
 * (generation << 32 | slot): freeing a slot bumps its generation, and a slot
 * whose generation would wrap is retired rather than reused, so no id is
 * ever handed out twice and stale ids are recognised.
 *
 * Ordering is by (deadline, seq) where seq counts adds, so equal deadlines
 * fire in insertion order.
 *
 * Rule for adds made while fp_timer_run is running: they are parked in a
 * side list and join the heap when the run ends, so a run executes only
 * timers that existed when it started. A callback that re-arms itself with
 * a deadline <= now therefore runs once per fp_timer_run call, never in an
 * endless loop. */
#include "timer.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>

enum slot_state { SLOT_FREE, SLOT_IN_HEAP, SLOT_PARKED };

typedef struct timer_slot {
    uint64_t deadline;
    uint64_t seq;
    fp_timer_cb cb;
    void *a;
    void *b;
    uint32_t gen;
    uint32_t pos; /* heap index, parked index, or next free slot */
    uint8_t state;
} timer_slot;

typedef struct heap_entry {
    uint64_t deadline;
    uint64_t seq;
    uint32_t slot;
} heap_entry;

#define NO_SLOT UINT32_MAX

struct fp_timer_heap {
    timer_slot *slots;
    heap_entry *heap;
    uint32_t *parked;
    uint32_t n_slots;   /* slots ever initialised */
    uint32_t cap;       /* capacity of all three arrays */
    uint32_t n_heap;
    uint32_t n_parked;
    uint32_t free_head;
    uint64_t next_seq;
    bool running;
};

fp_timer_heap *fp_timer_heap_create(void)
{
    fp_timer_heap *h = calloc(1, sizeof *h);
    if (h)
        h->free_head = NO_SLOT;
    return h;
}

void fp_timer_heap_destroy(fp_timer_heap *h)
{
    if (!h)
        return;
    free(h->slots);
    free(h->heap);
    free(h->parked);
    free(h);
}

static bool entry_before(const heap_entry *x, const heap_entry *y)
{
    return x->deadline < y->deadline || (x->deadline == y->deadline && x->seq < y->seq);
}

static void heap_place(fp_timer_heap *h, uint32_t i, heap_entry e)
{
    h->heap[i] = e;
    h->slots[e.slot].pos = i;
}

static void sift_up(fp_timer_heap *h, uint32_t i)
{
    heap_entry e = h->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!entry_before(&e, &h->heap[parent]))
            break;
        heap_place(h, i, h->heap[parent]);
        i = parent;
    }
    heap_place(h, i, e);
}

static void sift_down(fp_timer_heap *h, uint32_t i)
{
    heap_entry e = h->heap[i];
    for (;;) {
        uint32_t child = 2 * i + 1;
        if (child >= h->n_heap)
            break;
        if (child + 1 < h->n_heap && entry_before(&h->heap[child + 1], &h->heap[child]))
            child++;
        if (!entry_before(&h->heap[child], &e))
            break;
        heap_place(h, i, h->heap[child]);
        i = child;
    }
    heap_place(h, i, e);
}

static void heap_push(fp_timer_heap *h, uint32_t slot)
{
    const timer_slot *s = &h->slots[slot];
    uint32_t i = h->n_heap++;
    h->heap[i] = (heap_entry){ s->deadline, s->seq, slot };
    h->slots[slot].state = SLOT_IN_HEAP;
    sift_up(h, i);
}

static void heap_remove_at(fp_timer_heap *h, uint32_t i)
{
    uint32_t last = --h->n_heap;
    if (i == last)
        return;
    heap_place(h, i, h->heap[last]);
    if (i > 0 && entry_before(&h->heap[i], &h->heap[(i - 1) / 2]))
        sift_up(h, i);
    else
        sift_down(h, i);
}

static void parked_remove_at(fp_timer_heap *h, uint32_t i)
{
    uint32_t last = --h->n_parked;
    if (i != last) {
        h->parked[i] = h->parked[last];
        h->slots[h->parked[i]].pos = i;
    }
}

static void slot_free(fp_timer_heap *h, uint32_t slot)
{
    timer_slot *s = &h->slots[slot];
    s->state = SLOT_FREE;
    s->cb = NULL;
    if (++s->gen == 0)
        return; /* generations exhausted: retire the slot for good */
    s->pos = h->free_head;
    h->free_head = slot;
}

/* Grows all arrays together so that later pushes and the end-of-run merge
 * of parked timers can never fail. */
static bool grow(fp_timer_heap *h)
{
    if (h->cap >= NO_SLOT / 2)
        return false;
    uint32_t cap = h->cap ? h->cap * 2 : 16;
    timer_slot *slots = realloc(h->slots, (size_t)cap * sizeof *slots);
    if (!slots)
        return false;
    h->slots = slots;
    heap_entry *heap = realloc(h->heap, (size_t)cap * sizeof *heap);
    if (!heap)
        return false;
    h->heap = heap;
    uint32_t *parked = realloc(h->parked, (size_t)cap * sizeof *parked);
    if (!parked)
        return false;
    h->parked = parked;
    h->cap = cap;
    return true;
}

static uint32_t slot_alloc(fp_timer_heap *h)
{
    if (h->free_head != NO_SLOT) {
        uint32_t slot = h->free_head;
        h->free_head = h->slots[slot].pos;
        return slot;
    }
    if (h->n_slots == h->cap && !grow(h))
        return NO_SLOT;
    uint32_t slot = h->n_slots++;
    h->slots[slot] = (timer_slot){ .gen = 1, .state = SLOT_FREE };
    return slot;
}

uint64_t fp_timer_add(fp_timer_heap *h, uint64_t deadline_ns, fp_timer_cb cb, void *a, void *b)
{
    if (!h || !cb)
        return 0;
    uint32_t slot = slot_alloc(h);
    if (slot == NO_SLOT)
        return 0;
    timer_slot *s = &h->slots[slot];
    s->deadline = deadline_ns;
    s->seq = h->next_seq++;
    s->cb = cb;
    s->a = a;
    s->b = b;
    if (h->running) {
        s->state = SLOT_PARKED;
        s->pos = h->n_parked;
        h->parked[h->n_parked++] = slot;
    } else {
        heap_push(h, slot);
    }
    return ((uint64_t)s->gen << 32) | slot;
}

int fp_timer_cancel(fp_timer_heap *h, uint64_t id)
{
    if (!h)
        return 0;
    uint32_t slot = (uint32_t)id;
    uint32_t gen = (uint32_t)(id >> 32);
    if (slot >= h->n_slots || gen == 0 || h->slots[slot].gen != gen)
        return 0;
    timer_slot *s = &h->slots[slot];
    switch (s->state) {
    case SLOT_IN_HEAP:
        heap_remove_at(h, s->pos);
        break;
    case SLOT_PARKED:
        parked_remove_at(h, s->pos);
        break;
    default:
        return 0;
    }
    slot_free(h, slot);
    return 1;
}

size_t fp_timer_run(fp_timer_heap *h, uint64_t now_ns)
{
    /* A nested run from inside a callback would break the one-pass rule. */
    if (!h || h->running)
        return 0;
    h->running = true;
    size_t ran = 0;
    while (h->n_heap > 0 && h->heap[0].deadline <= now_ns) {
        uint32_t slot = h->heap[0].slot;
        timer_slot *s = &h->slots[slot];
        fp_timer_cb cb = s->cb;
        void *a = s->a;
        void *b = s->b;
        heap_remove_at(h, 0);
        /* Freed before the call: the running timer is no longer pending,
         * so cancelling itself is a harmless no-op. */
        slot_free(h, slot);
        cb(a, b);
        ran++;
    }
    h->running = false;
    for (uint32_t i = 0; i < h->n_parked; i++)
        heap_push(h, h->parked[i]);
    h->n_parked = 0;
    return ran;
}

int fp_timer_next_timeout(const fp_timer_heap *h, uint64_t now_ns, int cap_ms)
{
    bool any = false;
    uint64_t next = 0;
    if (h && h->n_heap > 0) {
        any = true;
        next = h->heap[0].deadline;
    }
    for (uint32_t i = 0; h && i < h->n_parked; i++) {
        uint64_t d = h->slots[h->parked[i]].deadline;
        if (!any || d < next)
            next = d;
        any = true;
    }
    if (!any)
        return cap_ms >= 0 ? cap_ms : -1;
    if (next <= now_ns)
        return 0;
    uint64_t delta = next - now_ns;
    uint64_t ms = delta / 1000000u + (delta % 1000000u != 0);
    if (ms > INT_MAX)
        ms = INT_MAX;
    if (cap_ms >= 0 && ms > (uint64_t)cap_ms)
        ms = (uint64_t)cap_ms;
    return (int)ms;
}

size_t fp_timer_count(const fp_timer_heap *h)
{
    return h ? (size_t)h->n_heap + h->n_parked : 0;
}
