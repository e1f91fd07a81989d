/* A worker's session table. Sessions live at stable addresses; ids carry
 * worker, slot and generation so a stale id never reaches a reused slot. */
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define SLOT_NONE UINT32_MAX
#define ID_WORKER_SHIFT 56
#define ID_SLOT_SHIFT 32
#define ID_SLOT_MASK 0xFFFFFFu

_Static_assert(FP_ENGINE_MAX_WORKERS - 1 <= (UINT64_MAX >> ID_WORKER_SHIFT),
               "a session id must hold every worker index");

static fp_session_id make_id(unsigned worker, uint32_t slot, uint32_t generation)
{
    return ((uint64_t)worker << ID_WORKER_SHIFT) | ((uint64_t)slot << ID_SLOT_SHIFT) | generation;
}

static int grow(fp_worker *w)
{
    uint32_t cap = w->cap_slots ? w->cap_slots * 2 : 256;
    if (cap > ID_SLOT_MASK + 1u)
        return -1;
    fp_session **slots = realloc(w->slots, cap * sizeof *slots);
    if (!slots)
        return -1;
    w->slots = slots;
    uint32_t *next = realloc(w->next_free, cap * sizeof *next);
    if (!next)
        return -1;
    w->next_free = next;
    uint32_t *gen = realloc(w->generation, cap * sizeof *gen);
    if (!gen)
        return -1;
    w->generation = gen;
    for (uint32_t i = w->cap_slots; i < cap; i++) {
        w->slots[i] = NULL;
        w->generation[i] = 1;
    }
    w->cap_slots = cap;
    return 0;
}

fp_session *fp_session_alloc(fp_worker *w)
{
    uint32_t slot;
    if (w->free_head != SLOT_NONE && w->n_slots) {
        slot = w->free_head;
        w->free_head = w->next_free[slot];
    } else {
        if (w->n_slots == w->cap_slots && grow(w) != 0)
            return NULL;
        slot = w->n_slots++;
        w->slots[slot] = NULL;
    }
    fp_session *s = w->slots[slot];
    if (!s) {
        s = malloc(sizeof *s);
        if (!s) {
            w->next_free[slot] = w->free_head;
            w->free_head = slot;
            return NULL;
        }
        w->slots[slot] = s;
    }
    memset(s, 0, sizeof *s);
    s->worker = w;
    s->slot = slot;
    s->id = make_id(w->index, slot, w->generation[slot]);
    fp_framer_init(&s->framer);
    w->live_sessions++;
    return s;
}

/* The slot's memory is kept for reuse; its generation moves on so the old
 * id is dead. Idle memory stays bounded by the high-water of sessions. */
void fp_session_release(fp_session *s)
{
    fp_worker *w = s->worker;
    fp_budget_sub(w, s->queued_bytes + s->rx_held);
    s->queued_bytes = 0;
    s->rx_held = 0;
    fp_framer_reset(&s->framer);
    s->state = FP_SESSION_FREE;
    s->conn = NULL;
    uint32_t gen = w->generation[s->slot] + 1;
    w->generation[s->slot] = gen ? gen : 1;
    w->next_free[s->slot] = w->free_head;
    w->free_head = s->slot;
    w->live_sessions--;
}

fp_session *fp_session_lookup(fp_worker *w, fp_session_id id)
{
    uint32_t slot = (uint32_t)(id >> ID_SLOT_SHIFT) & ID_SLOT_MASK;
    if ((id >> ID_WORKER_SHIFT) != w->index || slot >= w->n_slots)
        return NULL;
    fp_session *s = w->slots[slot];
    if (!s || s->state == FP_SESSION_FREE || s->id != id)
        return NULL;
    return s;
}

void fp_session_table_free(fp_worker *w)
{
    for (uint32_t i = 0; i < w->n_slots; i++) {
        if (w->slots[i])
            fp_framer_reset(&w->slots[i]->framer);
        free(w->slots[i]);
    }
    free(w->slots);
    free(w->next_free);
    free(w->generation);
    w->slots = NULL;
    w->next_free = NULL;
    w->generation = NULL;
    w->n_slots = w->cap_slots = 0;
    w->free_head = SLOT_NONE;
}
