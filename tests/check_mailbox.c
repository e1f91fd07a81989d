/* Mailbox: FIFO order, the was_empty wake protocol, capacity, ownership of
 * queued messages, and many producers against a concurrently draining
 * owner. */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>

#include "mailbox.h"

typedef struct test_mail {
    fp_mail base; /* first, so fp_mail * and test_mail * convert */
    uint32_t producer;
    uint32_t seq;
} test_mail;

static test_mail *new_mail(uint32_t kind, uint32_t producer, uint32_t seq)
{
    test_mail *m = malloc(sizeof *m);
    ck_assert_ptr_nonnull(m);
    m->base.next = NULL;
    m->base.kind = kind;
    m->producer = producer;
    m->seq = seq;
    return m;
}

static void free_list(fp_mail *list)
{
    while (list) {
        fp_mail *next = list->next;
        free(list);
        list = next;
    }
}

START_TEST(fifo_order)
{
    fp_mailbox *box = fp_mailbox_create(16);
    ck_assert_ptr_nonnull(box);
    for (uint32_t i = 0; i < 10; i++) {
        int was_empty;
        ck_assert_int_eq(fp_mailbox_post(box, &new_mail(i, 0, i)->base, &was_empty), FP_OK);
    }
    fp_mail *list = fp_mailbox_take_all(box);
    uint32_t expect = 0;
    for (fp_mail *m = list; m; m = m->next)
        ck_assert_uint_eq(m->kind, expect++);
    ck_assert_uint_eq(expect, 10);
    free_list(list);
    ck_assert_ptr_null(fp_mailbox_take_all(box));
    fp_mailbox_destroy(box);
}
END_TEST

START_TEST(was_empty_only_on_first_post_after_drain)
{
    fp_mailbox *box = fp_mailbox_create(16);
    int was_empty = -1;

    ck_assert_int_eq(fp_mailbox_post(box, &new_mail(1, 0, 0)->base, &was_empty), FP_OK);
    ck_assert_int_eq(was_empty, 1);
    ck_assert_int_eq(fp_mailbox_post(box, &new_mail(2, 0, 1)->base, &was_empty), FP_OK);
    ck_assert_int_eq(was_empty, 0);
    ck_assert_int_eq(fp_mailbox_post(box, &new_mail(3, 0, 2)->base, &was_empty), FP_OK);
    ck_assert_int_eq(was_empty, 0);

    free_list(fp_mailbox_take_all(box));
    ck_assert_int_eq(fp_mailbox_post(box, &new_mail(4, 0, 3)->base, &was_empty), FP_OK);
    ck_assert_int_eq(was_empty, 1);
    ck_assert_int_eq(fp_mailbox_post(box, &new_mail(5, 0, 4)->base, &was_empty), FP_OK);
    ck_assert_int_eq(was_empty, 0);

    /* Draining an empty box does not make the next post a second waker. */
    free_list(fp_mailbox_take_all(box));
    ck_assert_ptr_null(fp_mailbox_take_all(box));
    ck_assert_int_eq(fp_mailbox_post(box, &new_mail(6, 0, 5)->base, &was_empty), FP_OK);
    ck_assert_int_eq(was_empty, 1);

    /* was_empty may be omitted. */
    ck_assert_int_eq(fp_mailbox_post(box, &new_mail(7, 0, 6)->base, NULL), FP_OK);
    fp_mailbox_destroy(box);
}
END_TEST

START_TEST(capacity_refuses_then_recovers)
{
    fp_mailbox *box = fp_mailbox_create(3);
    int was_empty;
    for (uint32_t i = 0; i < 3; i++)
        ck_assert_int_eq(fp_mailbox_post(box, &new_mail(i, 0, i)->base, &was_empty), FP_OK);

    test_mail *refused = new_mail(99, 0, 99);
    was_empty = -1;
    ck_assert_int_eq(fp_mailbox_post(box, &refused->base, &was_empty), FP_EAGAIN);
    ck_assert_int_eq(was_empty, 0);

    fp_mail *list = fp_mailbox_take_all(box);
    size_t n = 0;
    for (fp_mail *m = list; m; m = m->next) {
        ck_assert_uint_ne(m->kind, 99);
        n++;
    }
    ck_assert_uint_eq(n, 3);
    free_list(list);

    /* The refused message still belongs to the caller and can be resent. */
    ck_assert_int_eq(fp_mailbox_post(box, &refused->base, &was_empty), FP_OK);
    ck_assert_int_eq(was_empty, 1);
    fp_mailbox_destroy(box);
}
END_TEST

START_TEST(zero_capacity_is_unbounded)
{
    fp_mailbox *box = fp_mailbox_create(0);
    for (uint32_t i = 0; i < 1000; i++)
        ck_assert_int_eq(fp_mailbox_post(box, &new_mail(i, 0, i)->base, NULL), FP_OK);
    fp_mailbox_destroy(box);
}
END_TEST

START_TEST(nonempty_hint)
{
    fp_mailbox *box = fp_mailbox_create(4);
    ck_assert_int_eq(fp_mailbox_nonempty(box), 0);
    ck_assert_int_eq(fp_mailbox_post(box, &new_mail(1, 0, 0)->base, NULL), FP_OK);
    ck_assert_int_ne(fp_mailbox_nonempty(box), 0);
    free_list(fp_mailbox_take_all(box));
    ck_assert_int_eq(fp_mailbox_nonempty(box), 0);
    fp_mailbox_destroy(box);
}
END_TEST

START_TEST(bad_arguments)
{
    fp_mailbox *box = fp_mailbox_create(4);
    int was_empty = -1;
    ck_assert_int_eq(fp_mailbox_post(box, NULL, &was_empty), FP_EINVAL);
    ck_assert_int_eq(was_empty, 0);
    test_mail *m = new_mail(1, 0, 0);
    ck_assert_int_eq(fp_mailbox_post(NULL, &m->base, &was_empty), FP_EINVAL);
    free(m);
    ck_assert_ptr_null(fp_mailbox_take_all(NULL));
    ck_assert_int_eq(fp_mailbox_nonempty(NULL), 0);
    fp_mailbox_destroy(NULL);
    fp_mailbox_destroy(box);
}
END_TEST

/* Left queued on purpose: the sanitizer build's leak checker fails the test
 * if destroy does not free them. */
START_TEST(destroy_frees_queued_mail)
{
    fp_mailbox *box = fp_mailbox_create(64);
    for (uint32_t i = 0; i < 50; i++)
        ck_assert_int_eq(fp_mailbox_post(box, &new_mail(i, 0, i)->base, NULL), FP_OK);
    fp_mailbox_destroy(box);
}
END_TEST

#define PRODUCERS 4
#define POSTS_PER_PRODUCER 100000u

typedef struct producer_ctx {
    fp_mailbox *box;
    uint32_t id;
    uint64_t wakes;   /* posts that reported was_empty */
    uint64_t refused; /* FP_EAGAIN retries */
} producer_ctx;

static void *producer_main(void *arg)
{
    producer_ctx *p = arg;
    for (uint32_t seq = 0; seq < POSTS_PER_PRODUCER; seq++) {
        test_mail *m = new_mail(7, p->id, seq);
        int was_empty;
        fp_status st;
        while ((st = fp_mailbox_post(p->box, &m->base, &was_empty)) == FP_EAGAIN) {
            p->refused++;
            sched_yield();
        }
        ck_assert_int_eq(st, FP_OK);
        p->wakes += (uint64_t)was_empty;
    }
    return NULL;
}

START_TEST(many_producers_one_draining_owner)
{
    /* Small enough that producers hit the bound while the owner drains. */
    fp_mailbox *box = fp_mailbox_create(512);
    producer_ctx producers[PRODUCERS];
    pthread_t threads[PRODUCERS];
    for (uint32_t i = 0; i < PRODUCERS; i++) {
        producers[i] = (producer_ctx){ .box = box, .id = i };
        ck_assert_int_eq(pthread_create(&threads[i], NULL, producer_main, &producers[i]), 0);
    }

    uint32_t next_seq[PRODUCERS] = { 0 };
    uint64_t received = 0;
    uint64_t nonempty_batches = 0;
    const uint64_t total = (uint64_t)PRODUCERS * POSTS_PER_PRODUCER;
    while (received < total) {
        fp_mail *list = fp_mailbox_take_all(box);
        if (!list) {
            sched_yield();
            continue;
        }
        nonempty_batches++;
        while (list) {
            test_mail *m = (test_mail *)list;
            list = list->next;
            ck_assert_uint_lt(m->producer, PRODUCERS);
            ck_assert_uint_eq(m->seq, next_seq[m->producer]);
            next_seq[m->producer]++;
            received++;
            free(m);
        }
    }

    uint64_t wakes = 0;
    for (uint32_t i = 0; i < PRODUCERS; i++) {
        ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
        ck_assert_uint_eq(next_seq[i], POSTS_PER_PRODUCER);
        wakes += producers[i].wakes;
    }
    ck_assert_ptr_null(fp_mailbox_take_all(box));
    ck_assert_int_eq(fp_mailbox_nonempty(box), 0);
    /* Exactly one waker per empty -> non-empty transition, and each such
     * transition is ended by exactly one non-empty drain. */
    ck_assert_uint_eq(wakes, nonempty_batches);
    fp_mailbox_destroy(box);
}
END_TEST

static Suite *mailbox_suite(void)
{
    Suite *s = suite_create("mailbox");
    TCase *basic = tcase_create("basic");
    tcase_add_test(basic, fifo_order);
    tcase_add_test(basic, was_empty_only_on_first_post_after_drain);
    tcase_add_test(basic, capacity_refuses_then_recovers);
    tcase_add_test(basic, zero_capacity_is_unbounded);
    tcase_add_test(basic, nonempty_hint);
    tcase_add_test(basic, bad_arguments);
    tcase_add_test(basic, destroy_frees_queued_mail);
    suite_add_tcase(s, basic);

    TCase *threads = tcase_create("threads");
    /* A liveness bound for slow sanitizer builds, not a speed assertion. */
    tcase_set_timeout(threads, 240);
    tcase_add_test(threads, many_producers_one_draining_owner);
    suite_add_tcase(s, threads);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(mailbox_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
