/*
 * list.h - an intrusive doubly-linked list for transports (header-only,
 * so each DSO keeps a private copy). An unlinked node points at itself, so
 * "is it queued?" needs no flag and removing twice is harmless.
 */
#ifndef FP_TRANSPORT_COMMON_LIST_H
#define FP_TRANSPORT_COMMON_LIST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct fpt_link {
    struct fpt_link *prev, *next;
} fpt_link;

#define fpt_container_of(ptr, type, member) \
    ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

static inline void fpt_list_init(fpt_link *n) { n->prev = n->next = n; }
static inline bool fpt_list_empty(const fpt_link *head) { return head->next == head; }
static inline bool fpt_linked(const fpt_link *n) { return n->next != n; }

static inline void fpt_list_push_back(fpt_link *head, fpt_link *n)
{
    n->prev = head->prev;
    n->next = head;
    head->prev->next = n;
    head->prev = n;
}

static inline void fpt_list_remove(fpt_link *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    fpt_list_init(n);
}

/* Moves every node of `from` to `to` (which is overwritten). */
static inline void fpt_list_take_all(fpt_link *to, fpt_link *from)
{
    fpt_list_init(to);
    if (fpt_list_empty(from)) return;
    to->next = from->next;
    to->prev = from->prev;
    to->next->prev = to;
    to->prev->next = to;
    fpt_list_init(from);
}

#endif
