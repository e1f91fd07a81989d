/* A worker's inbox: any thread posts, only the owning worker drains.
 *
 * Posting reports whether the box went from empty to non-empty, so the
 * poster wakes the worker only once per batch. Bounded: a post beyond
 * `capacity` messages fails with FP_EAGAIN. */
#ifndef FP_ENGINE_MAILBOX_H
#define FP_ENGINE_MAILBOX_H

#include <stddef.h>
#include <stdint.h>

#include "fastport/status.h"

typedef struct fp_mail {
    struct fp_mail *next; /* owned by the mailbox while queued */
    uint32_t kind;
    /* The sender allocates the message with its payload after it. */
} fp_mail;

typedef struct fp_mailbox fp_mailbox;

fp_mailbox *fp_mailbox_create(size_t capacity);
/* Frees queued messages with free(). */
void fp_mailbox_destroy(fp_mailbox *m);

/* Any thread. On FP_OK the mailbox owns `mail`; *was_empty tells the caller
 * to wake the worker. */
fp_status fp_mailbox_post(fp_mailbox *m, fp_mail *mail, int *was_empty);

/* Owner thread: detach every queued message, oldest first, as a list linked
 * through `next`; NULL when empty. The caller frees each with free(). */
fp_mail *fp_mailbox_take_all(fp_mailbox *m);

/* Any thread: a racy hint used to decide whether poll may block. */
int fp_mailbox_nonempty(const fp_mailbox *m);

#endif
