/*
 * slab.c - the connection slab: blocks of backend-sized connections, a
 * slot table and a free list. A slot's generation moves on when it is
 * freed, so an id (slot, generation) carried by a late completion never
 * reaches the connection that reuses the slot.
 *
 * Under ASan a free connection is poisoned past its id fields, so a touch
 * after on_closed (by a backend or by the engine) is reported.
 */
#include <stdlib.h>
#include <string.h>

#include "asan.h"
#include "core.h"

#define FPT_CONN_BLOCK 64
#define FPT_SLOT_MAX 0xffffffu /* ids carry 24 bits of slot */
/* slot, gen and state stay readable in a free connection (lookup) */
#define FPT_ID_BYTES offsetof(fpt_conn, ops)

struct fpt_conn_block {
    fpt_conn_block *next;
    size_t count;
    _Alignas(max_align_t) unsigned char conns[];
};

static fpt_conn *block_conn(fpt_conn_block *b, size_t conn_size, size_t i)
{
    return (fpt_conn *)(void *)(b->conns + i * conn_size);
}

static void poison_free(fpt_conn *c, size_t conn_size)
{
    FPT_POISON((unsigned char *)c + FPT_ID_BYTES, conn_size - FPT_ID_BYTES);
}

static bool grow(fpt_worker *w)
{
    size_t size = w->be->conn_size;
    if (w->n_slots + FPT_CONN_BLOCK > FPT_SLOT_MAX) return false;
    if (w->n_slots + FPT_CONN_BLOCK > w->cap_slots) {
        uint32_t cap = w->cap_slots ? w->cap_slots * 2 : 256;
        fpt_conn **slots = realloc(w->slots, cap * sizeof(*slots));
        if (!slots) return false;
        w->slots = slots;
        w->cap_slots = cap;
    }
    fpt_conn_block *b = malloc(sizeof(*b) + FPT_CONN_BLOCK * size);
    if (!b) return false;
    b->count = FPT_CONN_BLOCK;
    b->next = w->blocks;
    w->blocks = b;
    memset(b->conns, 0, FPT_CONN_BLOCK * size);
    for (size_t i = b->count; i-- > 0;) {
        fpt_conn *c = block_conn(b, size, i);
        c->slot = w->n_slots + (uint32_t)i;
        c->state = FPT_FREE;
        w->slots[c->slot] = c;
        c->free_next = w->free_conns;
        w->free_conns = c;
        poison_free(c, size);
    }
    w->n_slots += FPT_CONN_BLOCK;
    return true;
}

fpt_conn *fpt_conn_new(fpt_worker *w, fpt_state state)
{
    if (!w->free_conns && !grow(w)) return NULL;
    fpt_conn *c = w->free_conns;
    size_t size = w->be->conn_size;
    FPT_UNPOISON((unsigned char *)c + FPT_ID_BYTES, size - FPT_ID_BYTES);
    w->free_conns = c->free_next;
    uint32_t slot = c->slot, gen = c->gen;
    memset(c, 0, size);
    c->slot = slot;
    c->gen = gen;
    c->state = state;
    c->w = w;
    fpt_list_init(&c->ready_link);
    fpt_list_init(&c->dirty_link);
    fpt_list_init(&c->wait_link);
    fpt_list_init(&c->notify_link);
    w->counters.conns_open++;
    return c;
}

void fpt_conn_recycle(fpt_conn *c)
{
    fpt_worker *w = c->w;
    fpt_stash_free(c);
    fpt_trim_soon(w);
    c->state = FPT_FREE;
    c->gen++;
    c->free_next = w->free_conns;
    w->free_conns = c;
    poison_free(c, w->be->conn_size);
}

void fpt_conn_discard_new(fpt_conn *c)
{
    c->w->counters.conns_open--;
    fpt_conn_recycle(c);
}

fpt_conn *fpt_conn_lookup(fpt_worker *w, uint32_t slot, uint32_t gen)
{
    if (slot >= w->n_slots) return NULL;
    fpt_conn *c = w->slots[slot];
    if (c->gen != gen || c->state == FPT_FREE) return NULL;
    return c;
}

void fpt_slab_free_all(fpt_worker *w)
{
    size_t size = w->be->conn_size;
    while (w->blocks) {
        fpt_conn_block *b = w->blocks;
        w->blocks = b->next;
        FPT_UNPOISON(b->conns, b->count * size);
        for (size_t i = 0; i < b->count; i++) {
            fpt_conn *c = block_conn(b, size, i);
            if (c->state == FPT_FREE) continue;
            w->be->discard(c);
            fpt_chain_release(c);
            fpt_stash_free(c);
        }
        free(b);
    }
    free(w->slots);
    w->slots = NULL;
    w->n_slots = w->cap_slots = 0;
    w->free_conns = NULL;
}
