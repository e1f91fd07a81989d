/* Timer heap: ordering, ties, cancellation (also from callbacks), adds from
 * callbacks, next_timeout rounding, and a seeded random run against a naive
 * model. */
#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

#include "timer.h"

#define MS 1000000ull

/* ---- a log of fired tags ---- */

typedef struct fire_log {
    int tags[64];
    size_t n;
} fire_log;

static void *tag(intptr_t t)
{
    return (void *)t;
}

static void record(void *a, void *b)
{
    fire_log *log = a;
    ck_assert_uint_lt(log->n, 64);
    log->tags[log->n++] = (int)(intptr_t)b;
}

static void assert_log(const fire_log *log, const int *expect, size_t n)
{
    ck_assert_uint_eq(log->n, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(log->tags[i] == expect[i], "fired[%zu] = %d, expected %d", i, log->tags[i],
                      expect[i]);
}

START_TEST(fires_in_deadline_order)
{
    fp_timer_heap *h = fp_timer_heap_create();
    fire_log log = { .n = 0 };
    const uint64_t deadlines[] = { 50, 10, 40, 20, 30, 5, 45 };
    for (int i = 0; i < 7; i++)
        ck_assert_uint_gt(fp_timer_add(h, deadlines[i] * MS, record, &log, tag(i)), 0);
    ck_assert_uint_eq(fp_timer_count(h), 7);

    ck_assert_uint_eq(fp_timer_run(h, 4 * MS), 0);
    ck_assert_uint_eq(fp_timer_run(h, 20 * MS), 3); /* 5, 10, 20: due is <= now */
    ck_assert_uint_eq(fp_timer_count(h), 4);
    ck_assert_uint_eq(fp_timer_run(h, 100 * MS), 4);
    const int expect[] = { 5, 1, 3, 4, 2, 6, 0 };
    assert_log(&log, expect, 7);
    ck_assert_uint_eq(fp_timer_count(h), 0);
    fp_timer_heap_destroy(h);
}
END_TEST

START_TEST(ties_fire_in_insertion_order)
{
    fp_timer_heap *h = fp_timer_heap_create();
    fire_log log = { .n = 0 };
    uint64_t ids[12];
    for (int i = 0; i < 12; i++)
        ids[i] = fp_timer_add(h, (i % 2 ? 7 : 3) * MS, record, &log, tag(i));
    /* Cancelling from the middle reshuffles the heap; order must hold. */
    ck_assert_int_eq(fp_timer_cancel(h, ids[4]), 1);
    ck_assert_int_eq(fp_timer_cancel(h, ids[5]), 1);
    ck_assert_uint_eq(fp_timer_run(h, 10 * MS), 10);
    const int expect[] = { 0, 2, 6, 8, 10, 1, 3, 7, 9, 11 };
    assert_log(&log, expect, 10);
    fp_timer_heap_destroy(h);
}
END_TEST

START_TEST(cancel_before_fire)
{
    fp_timer_heap *h = fp_timer_heap_create();
    fire_log log = { .n = 0 };
    uint64_t a = fp_timer_add(h, 10, record, &log, tag(1));
    uint64_t b = fp_timer_add(h, 20, record, &log, tag(2));
    ck_assert_uint_ne(a, b);
    ck_assert_int_eq(fp_timer_cancel(h, a), 1);
    ck_assert_int_eq(fp_timer_cancel(h, a), 0);
    ck_assert_uint_eq(fp_timer_count(h), 1);
    ck_assert_uint_eq(fp_timer_run(h, 100), 1);
    const int expect[] = { 2 };
    assert_log(&log, expect, 1);
    ck_assert_int_eq(fp_timer_cancel(h, b), 0); /* already fired */
    ck_assert_int_eq(fp_timer_cancel(h, 0), 0);
    ck_assert_int_eq(fp_timer_cancel(h, UINT64_MAX), 0);
    fp_timer_heap_destroy(h);
}
END_TEST

START_TEST(stale_id_does_not_cancel_a_reused_slot)
{
    fp_timer_heap *h = fp_timer_heap_create();
    fire_log log = { .n = 0 };
    uint64_t old = fp_timer_add(h, 10, record, &log, tag(1));
    ck_assert_int_eq(fp_timer_cancel(h, old), 1);
    uint64_t fresh = fp_timer_add(h, 10, record, &log, tag(2));
    ck_assert_uint_ne(fresh, old);
    ck_assert_int_eq(fp_timer_cancel(h, old), 0);
    ck_assert_uint_eq(fp_timer_run(h, 10), 1);
    const int expect[] = { 2 };
    assert_log(&log, expect, 1);
    fp_timer_heap_destroy(h);
}
END_TEST

static int compare_ids(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

START_TEST(ids_are_never_reused)
{
    fp_timer_heap *h = fp_timer_heap_create();
    fire_log log = { .n = 0 };
    enum { N = 2000 };
    static uint64_t seen[N];
    /* Add-cancel cycles reuse one slot over and over. */
    for (int i = 0; i < N; i++) {
        seen[i] = fp_timer_add(h, 1, record, &log, tag(0));
        ck_assert_uint_gt(seen[i], 0);
        ck_assert_int_eq(fp_timer_cancel(h, seen[i]), 1);
    }
    qsort(seen, N, sizeof seen[0], compare_ids);
    for (int i = 1; i < N; i++)
        ck_assert_uint_ne(seen[i - 1], seen[i]);
    fp_timer_heap_destroy(h);
}
END_TEST

/* ---- callbacks that act on the heap ---- */

typedef struct actor {
    fp_timer_heap *h;
    fire_log log;
    uint64_t self_id;
    uint64_t other_id;
    int cancel_result;
    int self_cancel_result;
    uint64_t add_deadline;
    uint64_t added_id;
    int rearms_left;
    int timeout_seen;
} actor;

static void cancel_self_and_other(void *a, void *b)
{
    actor *x = a;
    record(&x->log, b);
    x->self_cancel_result = fp_timer_cancel(x->h, x->self_id);
    x->cancel_result = fp_timer_cancel(x->h, x->other_id);
}

START_TEST(cancel_from_inside_a_callback)
{
    actor x = { .h = fp_timer_heap_create() };
    x.self_id = fp_timer_add(x.h, 10, cancel_self_and_other, &x, tag(1));
    x.other_id = fp_timer_add(x.h, 20, record, &x.log, tag(2));
    uint64_t third = fp_timer_add(x.h, 30, record, &x.log, tag(3));
    ck_assert_uint_eq(fp_timer_run(x.h, 100), 2);
    ck_assert_int_eq(x.self_cancel_result, 0); /* running, so no longer pending */
    ck_assert_int_eq(x.cancel_result, 1);
    const int expect[] = { 1, 3 };
    assert_log(&x.log, expect, 2);
    ck_assert_int_eq(fp_timer_cancel(x.h, third), 0);
    ck_assert_uint_eq(fp_timer_count(x.h), 0);
    fp_timer_heap_destroy(x.h);
}
END_TEST

static void add_one(void *a, void *b)
{
    actor *x = a;
    record(&x->log, b);
    x->added_id = fp_timer_add(x->h, x->add_deadline, record, &x->log, tag(100));
    ck_assert_uint_gt(x->added_id, 0);
    x->timeout_seen = fp_timer_next_timeout(x->h, 50 * MS, -1);
}

START_TEST(add_from_a_callback_in_the_future)
{
    actor x = { .h = fp_timer_heap_create(), .add_deadline = 55 * MS };
    fp_timer_add(x.h, 10 * MS, add_one, &x, tag(1));
    fp_timer_add(x.h, 60 * MS, record, &x.log, tag(2));
    ck_assert_uint_eq(fp_timer_run(x.h, 50 * MS), 1);
    ck_assert_int_eq(x.timeout_seen, 5); /* the new timer counts at once */
    ck_assert_uint_eq(fp_timer_count(x.h), 2);
    ck_assert_int_eq(fp_timer_next_timeout(x.h, 50 * MS, -1), 5);
    ck_assert_uint_eq(fp_timer_run(x.h, 100 * MS), 2);
    const int expect[] = { 1, 100, 2 };
    assert_log(&x.log, expect, 3);
    fp_timer_heap_destroy(x.h);
}
END_TEST

/* The rule: a run executes only timers that existed when it started; a
 * timer added during the run waits for the next call even if already due. */
START_TEST(add_already_due_from_a_callback_waits_for_next_run)
{
    actor x = { .h = fp_timer_heap_create(), .add_deadline = 1 * MS };
    fp_timer_add(x.h, 10 * MS, add_one, &x, tag(1));
    fp_timer_add(x.h, 20 * MS, record, &x.log, tag(2));
    /* The added timer (deadline 1ms) sorts before the pending 20ms one but
     * must not stop it from running in this call. */
    ck_assert_uint_eq(fp_timer_run(x.h, 50 * MS), 2);
    const int first[] = { 1, 2 };
    assert_log(&x.log, first, 2);
    ck_assert_uint_eq(fp_timer_count(x.h), 1);
    ck_assert_int_eq(fp_timer_next_timeout(x.h, 50 * MS, 100), 0);
    ck_assert_uint_eq(fp_timer_run(x.h, 50 * MS), 1);
    const int second[] = { 1, 2, 100 };
    assert_log(&x.log, second, 3);
    fp_timer_heap_destroy(x.h);
}
END_TEST

static void rearm_now(void *a, void *b)
{
    actor *x = a;
    record(&x->log, b);
    if (x->rearms_left-- > 0)
        fp_timer_add(x->h, 0, rearm_now, x, b);
}

START_TEST(rearming_callback_runs_once_per_call)
{
    actor x = { .h = fp_timer_heap_create(), .rearms_left = 3 };
    fp_timer_add(x.h, 0, rearm_now, &x, tag(7));
    for (size_t call = 1; call <= 4; call++) {
        ck_assert_uint_eq(fp_timer_run(x.h, 5), 1);
        ck_assert_uint_eq(x.log.n, call);
    }
    ck_assert_uint_eq(fp_timer_run(x.h, 5), 0);
    ck_assert_uint_eq(fp_timer_count(x.h), 0);
    fp_timer_heap_destroy(x.h);
}
END_TEST

static void add_then_cancel_it(void *a, void *b)
{
    actor *x = a;
    record(&x->log, b);
    uint64_t id = fp_timer_add(x->h, 0, record, &x->log, tag(200));
    x->cancel_result = fp_timer_cancel(x->h, id);
}

static void cancel_parked(void *a, void *b)
{
    actor *x = a;
    record(&x->log, b);
    x->self_cancel_result = fp_timer_cancel(x->h, x->added_id);
}

START_TEST(cancel_a_timer_added_in_the_same_run)
{
    actor x = { .h = fp_timer_heap_create(), .add_deadline = 0 };
    fp_timer_add(x.h, 1, add_then_cancel_it, &x, tag(1));
    fp_timer_add(x.h, 2, add_one, &x, tag(2));
    fp_timer_add(x.h, 3, cancel_parked, &x, tag(3));
    ck_assert_uint_eq(fp_timer_run(x.h, 10), 3);
    ck_assert_int_eq(x.cancel_result, 1);
    ck_assert_int_eq(x.self_cancel_result, 1);
    ck_assert_uint_eq(fp_timer_count(x.h), 0);
    ck_assert_uint_eq(fp_timer_run(x.h, 10), 0);
    const int expect[] = { 1, 2, 3 };
    assert_log(&x.log, expect, 3);
    fp_timer_heap_destroy(x.h);
}
END_TEST

static void run_nested(void *a, void *b)
{
    actor *x = a;
    record(&x->log, b);
    x->cancel_result = (int)fp_timer_run(x->h, UINT64_MAX);
}

START_TEST(nested_run_from_a_callback_does_nothing)
{
    actor x = { .h = fp_timer_heap_create(), .cancel_result = -1 };
    fp_timer_add(x.h, 1, run_nested, &x, tag(1));
    fp_timer_add(x.h, 50, record, &x.log, tag(2));
    ck_assert_uint_eq(fp_timer_run(x.h, 10), 1);
    ck_assert_int_eq(x.cancel_result, 0);
    ck_assert_uint_eq(fp_timer_count(x.h), 1);
    const int expect[] = { 1 };
    assert_log(&x.log, expect, 1);
    fp_timer_heap_destroy(x.h);
}
END_TEST

START_TEST(next_timeout_rounds_up_and_clamps)
{
    fp_timer_heap *h = fp_timer_heap_create();
    fire_log log = { .n = 0 };
    const uint64_t now = 1000 * MS;
    ck_assert_int_eq(fp_timer_next_timeout(h, now, -1), -1);
    ck_assert_int_eq(fp_timer_next_timeout(h, now, 250), 250);
    ck_assert_int_eq(fp_timer_next_timeout(h, now, 0), 0);

    uint64_t id = fp_timer_add(h, now + 1, record, &log, tag(0));
    ck_assert_int_eq(fp_timer_next_timeout(h, now, -1), 1);
    ck_assert_int_eq(fp_timer_next_timeout(h, now + 1, -1), 0);
    ck_assert_int_eq(fp_timer_next_timeout(h, now + 5 * MS, -1), 0); /* overdue */
    fp_timer_cancel(h, id);

    id = fp_timer_add(h, now + 3 * MS, record, &log, tag(0));
    ck_assert_int_eq(fp_timer_next_timeout(h, now, -1), 3);
    ck_assert_int_eq(fp_timer_next_timeout(h, now + 1, -1), 3);
    ck_assert_int_eq(fp_timer_next_timeout(h, now + MS - 1, -1), 3);
    ck_assert_int_eq(fp_timer_next_timeout(h, now + MS, -1), 2);
    ck_assert_int_eq(fp_timer_next_timeout(h, now, 2), 2);
    ck_assert_int_eq(fp_timer_next_timeout(h, now, 0), 0);
    ck_assert_int_eq(fp_timer_next_timeout(h, now, 1000), 3);
    fp_timer_cancel(h, id);

    fp_timer_add(h, UINT64_MAX, record, &log, tag(0));
    ck_assert_int_eq(fp_timer_next_timeout(h, 0, -1), INT_MAX);
    ck_assert_int_eq(fp_timer_next_timeout(h, 0, 60000), 60000);
    ck_assert_uint_eq(log.n, 0);
    fp_timer_heap_destroy(h);
}
END_TEST

/* ---- random operations against a naive model ---- */

typedef struct model_timer {
    uint64_t id;
    uint64_t deadline;
    int alive;
} model_timer;

typedef struct model_run {
    size_t fired[4096];
    size_t n_fired;
} model_run;

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    /* xorshift64*: deterministic for a given seed, no libc state. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

static void record_index(void *a, void *b)
{
    model_run *run = a;
    ck_assert_uint_lt(run->n_fired, 4096);
    run->fired[run->n_fired++] = (size_t)(uintptr_t)b;
}

START_TEST(random_operations_match_a_naive_model)
{
    enum { OPS = 100000 };
    rng_state = 0x9E3779B97F4A7C15ull;
    fp_timer_heap *h = fp_timer_heap_create();
    model_timer *model = calloc(OPS, sizeof *model);
    ck_assert_ptr_nonnull(model);
    static model_run run;
    size_t n_model = 0, alive = 0, oldest = 0;
    uint64_t now = 0;

    for (int op = 0; op < OPS; op++) {
        uint64_t r = rng_next() % 100;
        if (r < 50) {
            /* Coarse deadlines make ties common. */
            uint64_t deadline = now + (rng_next() % 64) * 16;
            uint64_t id = fp_timer_add(h, deadline, record_index, &run, (void *)(uintptr_t)n_model);
            ck_assert_uint_gt(id, 0);
            model[n_model++] = (model_timer){ id, deadline, 1 };
            alive++;
        } else if (r < 80 && n_model > 0) {
            size_t i = (size_t)(rng_next() % n_model);
            ck_assert_int_eq(fp_timer_cancel(h, model[i].id), model[i].alive);
            alive -= (size_t)model[i].alive;
            model[i].alive = 0;
        } else {
            now += rng_next() % 200;
            run.n_fired = 0;
            size_t ran = fp_timer_run(h, now);
            ck_assert_uint_eq(ran, run.n_fired);
            /* Model: due timers ordered by deadline, then by add order. */
            size_t expect = 0;
            uint64_t prev_deadline = 0;
            size_t prev_index = 0;
            for (size_t k = 0; k < run.n_fired; k++) {
                size_t i = run.fired[k];
                ck_assert(model[i].alive);
                ck_assert_uint_le(model[i].deadline, now);
                if (k > 0)
                    ck_assert(model[i].deadline > prev_deadline ||
                              (model[i].deadline == prev_deadline && i > prev_index));
                prev_deadline = model[i].deadline;
                prev_index = i;
                model[i].alive = 0;
            }
            /* Everything before `oldest` has fired or been cancelled. */
            while (oldest < n_model && !model[oldest].alive)
                oldest++;
            for (size_t i = oldest; i < n_model; i++)
                if (model[i].alive && model[i].deadline <= now)
                    expect++;
            ck_assert_msg(expect == 0, "%zu due timers did not fire at op %d", expect, op);
            alive -= run.n_fired;
        }
        ck_assert_uint_eq(fp_timer_count(h), alive);
    }

    /* And the next deadline agrees with the model. */
    uint64_t min = UINT64_MAX;
    for (size_t i = 0; i < n_model; i++)
        if (model[i].alive && model[i].deadline < min)
            min = model[i].deadline;
    int expect_timeout = min == UINT64_MAX ? -1 : (int)((min - now + MS - 1) / MS);
    ck_assert_int_eq(fp_timer_next_timeout(h, now, -1), expect_timeout);

    free(model);
    fp_timer_heap_destroy(h);
}
END_TEST

static Suite *timer_suite(void)
{
    Suite *s = suite_create("timer");
    TCase *order = tcase_create("order");
    tcase_add_test(order, fires_in_deadline_order);
    tcase_add_test(order, ties_fire_in_insertion_order);
    tcase_add_test(order, cancel_before_fire);
    tcase_add_test(order, stale_id_does_not_cancel_a_reused_slot);
    tcase_add_test(order, ids_are_never_reused);
    suite_add_tcase(s, order);

    TCase *callbacks = tcase_create("callbacks");
    tcase_add_test(callbacks, cancel_from_inside_a_callback);
    tcase_add_test(callbacks, add_from_a_callback_in_the_future);
    tcase_add_test(callbacks, add_already_due_from_a_callback_waits_for_next_run);
    tcase_add_test(callbacks, rearming_callback_runs_once_per_call);
    tcase_add_test(callbacks, cancel_a_timer_added_in_the_same_run);
    tcase_add_test(callbacks, nested_run_from_a_callback_does_nothing);
    suite_add_tcase(s, callbacks);

    TCase *timeout = tcase_create("timeout");
    tcase_add_test(timeout, next_timeout_rounds_up_and_clamps);
    suite_add_tcase(s, timeout);

    TCase *model = tcase_create("model");
    tcase_set_timeout(model, 120); /* liveness bound for sanitizer builds */
    tcase_add_test(model, random_operations_match_a_naive_model);
    suite_add_tcase(s, model);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(timer_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
