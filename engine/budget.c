/* The worker's memory budget: the bytes its sessions hold in queued sends
 * and partial frames, summed as they change, and enforced once per loop
 * turn by aborting the sessions that hold the most until the sum is back
 * under the budget. A session's own cap (send_queue_limit) bounds one
 * peer; this bounds the sum, so many peers that each stay under their cap
 * still cannot take the process's memory. */
#include "core.h"
#include "log.h"

void fp_budget_add(fp_worker *w, uint64_t bytes) { fp_count_add(&w->counters, FP_C_memory_held, bytes); }

void fp_budget_sub(fp_worker *w, uint64_t bytes) { fp_count_sub(&w->counters, FP_C_memory_held, bytes); }

static uint64_t held_by(const fp_session *s) { return s->queued_bytes + s->rx_held; }

static fp_session *largest_open_session(fp_worker *w)
{
    fp_session *largest = NULL;
    for (uint32_t i = 0; i < w->n_slots; i++) {
        fp_session *s = w->slots[i];
        if (!s || s->state != FP_SESSION_OPEN || !held_by(s))
            continue;
        if (!largest || held_by(s) > held_by(largest))
            largest = s;
    }
    return largest;
}

void fp_budget_enforce(fp_worker *w)
{
    uint64_t limit = w->engine->cfg.worker_memory_limit;
    if (!limit)
        return;
    while (fp_count_get(&w->counters, FP_C_memory_held) > limit) {
        fp_session *s = largest_open_session(w);
        if (!s)
            return; /* what is left belongs to sessions already closing */
        uint64_t held = held_by(s);
        fp_log(FP_LOG_DEBUG, "worker %u: %llu bytes held, budget %llu: aborting session %016llx (%llu bytes)",
               w->index, (unsigned long long)fp_count_get(&w->counters, FP_C_memory_held),
               (unsigned long long)limit, (unsigned long long)s->id, (unsigned long long)held);
        fp_count_add(&w->counters, FP_C_memory_evictions, 1);
        /* the abort drops its queue and partial frame: the bytes are free
         * now, whenever on_closed comes */
        fp_budget_sub(w, held);
        s->queued_bytes = 0;
        s->rx_held = 0;
        fp_framer_reset(&s->framer);
        fp_session_close(s, 1);
    }
}
