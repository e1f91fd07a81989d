/*
 * provider_table.c - the handle tables behind RIO_BUFFERID, RIO_CQ and
 * RIO_RQ (see provider_internal.h for the handle layout). Lock held.
 */
#include "provider_internal.h"

#include <stdlib.h>

#define PROV_INDEX_BITS 20
#define PROV_GEN_BITS 10
#define PROV_INDEX_MASK ((1u << PROV_INDEX_BITS) - 1)
#define PROV_GEN_MASK ((1u << PROV_GEN_BITS) - 1)

uint32_t prov_table_add(prov_table *t, void *obj)
{
    if (!t->slots) {
        t->slots = calloc(t->cap, sizeof(*t->slots));
        t->gens = calloc(t->cap, sizeof(*t->gens));
        if (!t->slots || !t->gens) {
            free(t->slots);
            free(t->gens);
            t->slots = NULL;
            t->gens = NULL;
            return 0;
        }
    }
    if (t->used == t->cap) return 0;
    for (uint32_t i = 0; i < t->cap; i++) {
        if (t->slots[i]) continue;
        t->slots[i] = obj;
        t->used++;
        /* a new generation per use of the slot: a stale handle stays stale */
        t->gens[i] = (uint16_t)((t->gens[i] + 1) & PROV_GEN_MASK);
        return t->kind << (PROV_INDEX_BITS + PROV_GEN_BITS) | (uint32_t)t->gens[i] << PROV_INDEX_BITS | (i + 1);
    }
    return 0;
}

static bool prov_table_slot(const prov_table *t, uint32_t handle, uint32_t *index)
{
    if (!t->slots || handle >> (PROV_INDEX_BITS + PROV_GEN_BITS) != t->kind) return false;
    uint32_t i = handle & PROV_INDEX_MASK;
    if (i == 0 || i > t->cap || !t->slots[i - 1]) return false;
    if (((handle >> PROV_INDEX_BITS) & PROV_GEN_MASK) != t->gens[i - 1]) return false;
    *index = i - 1;
    return true;
}

void *prov_table_get(const prov_table *t, uint32_t handle)
{
    uint32_t i;
    return prov_table_slot(t, handle, &i) ? t->slots[i] : NULL;
}

void prov_table_remove(prov_table *t, uint32_t handle)
{
    uint32_t i;
    if (!prov_table_slot(t, handle, &i)) return;
    t->slots[i] = NULL;
    t->used--;
}

void prov_table_free(prov_table *t)
{
    free(t->slots);
    free(t->gens);
    t->slots = NULL;
    t->gens = NULL;
    t->used = 0;
}
