/* Mailbox: a mutex-protected intrusive FIFO.
 *
 * Posts are short critical sections (two pointer writes) and the owner takes
 * the whole list in one, so contention stays low without lock-free tricks.
 * `count` is atomic only so fp_mailbox_nonempty can peek without the lock;
 * every decision that matters (capacity, was_empty) is made under it. */
#include "mailbox.h"
#include "platform.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

struct fp_mailbox {
    fp_mutex lock;
    fp_mail *head;
    fp_mail *tail;
    _Atomic size_t count;
    size_t capacity;
};

fp_mailbox *fp_mailbox_create(size_t capacity)
{
    fp_mailbox *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    if (fp_mutex_init(&m->lock) != 0) {
        free(m);
        return NULL;
    }
    atomic_init(&m->count, 0);
    /* 0 means unbounded: a box that refuses every post has no use. */
    m->capacity = capacity ? capacity : SIZE_MAX;
    return m;
}

void fp_mailbox_destroy(fp_mailbox *m)
{
    if (!m)
        return;
    fp_mail *mail = m->head;
    while (mail) {
        fp_mail *next = mail->next;
        free(mail);
        mail = next;
    }
    fp_mutex_destroy(&m->lock);
    free(m);
}

fp_status fp_mailbox_post(fp_mailbox *m, fp_mail *mail, int *was_empty)
{
    if (was_empty)
        *was_empty = 0;
    if (!m || !mail)
        return FP_EINVAL;
    mail->next = NULL;

    fp_mutex_lock(&m->lock);
    size_t count = atomic_load_explicit(&m->count, memory_order_relaxed);
    if (count >= m->capacity) {
        fp_mutex_unlock(&m->lock);
        return FP_EAGAIN;
    }
    if (m->tail)
        m->tail->next = mail;
    else
        m->head = mail;
    m->tail = mail;
    atomic_store_explicit(&m->count, count + 1, memory_order_relaxed);
    fp_mutex_unlock(&m->lock);

    if (was_empty)
        *was_empty = count == 0;
    return FP_OK;
}

fp_mail *fp_mailbox_take_all(fp_mailbox *m)
{
    if (!m)
        return NULL;
    fp_mutex_lock(&m->lock);
    fp_mail *list = m->head;
    m->head = NULL;
    m->tail = NULL;
    atomic_store_explicit(&m->count, 0, memory_order_relaxed);
    fp_mutex_unlock(&m->lock);
    return list;
}

int fp_mailbox_nonempty(const fp_mailbox *m)
{
    return m && atomic_load_explicit(&m->count, memory_order_relaxed) != 0;
}
