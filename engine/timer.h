/* Worker-local one-shot timers: a binary min-heap keyed on the monotonic
 * deadline, with ids that detect cancelled or fired timers. */
#ifndef FP_ENGINE_TIMER_H
#define FP_ENGINE_TIMER_H

#include <stddef.h>
#include <stdint.h>

#include "fastport/status.h"

typedef void (*fp_timer_cb)(void *a, void *b);

typedef struct fp_timer_heap fp_timer_heap;

fp_timer_heap *fp_timer_heap_create(void);
void fp_timer_heap_destroy(fp_timer_heap *h);

/* Schedule cb(a, b) at `deadline_ns` (monotonic). Returns an id > 0, or 0
 * when out of memory. Ids are never reused. */
uint64_t fp_timer_add(fp_timer_heap *h, uint64_t deadline_ns, fp_timer_cb cb, void *a, void *b);

/* Cancel; returns 1 if it was pending. Safe from inside a timer callback,
 * also for the timer that is running. */
int fp_timer_cancel(fp_timer_heap *h, uint64_t id);

/* Run every timer due at `now_ns`, in deadline order; callbacks may add or
 * cancel timers. Returns how many ran. */
size_t fp_timer_run(fp_timer_heap *h, uint64_t now_ns);

/* Milliseconds until the next deadline, rounded up, clamped to `cap_ms`;
 * -1 when nothing is scheduled (and cap_ms < 0). */
int fp_timer_next_timeout(const fp_timer_heap *h, uint64_t now_ns, int cap_ms);

size_t fp_timer_count(const fp_timer_heap *h);

#endif
