/* The session table: ids are unique, carry their worker, and a closed
 * session's id is detected as stale even after its slot is reused. */
#include <check.h>
#include <stdlib.h>

#include "core.h"

static fp_worker *new_worker(unsigned index)
{
    fp_worker *w = calloc(1, sizeof *w);
    w->index = index;
    w->free_head = UINT32_MAX;
    return w;
}

static void free_worker(fp_worker *w)
{
    fp_session_table_free(w);
    free(w);
}

START_TEST(ids_are_unique_and_found)
{
    fp_worker *w = new_worker(3);
    enum { N = 1000 };
    fp_session *s[N];
    for (int i = 0; i < N; i++) {
        s[i] = fp_session_alloc(w);
        ck_assert_ptr_nonnull(s[i]);
        s[i]->state = FP_SESSION_OPEN;
    }
    for (int i = 0; i < N; i++) {
        ck_assert_ptr_eq(fp_session_lookup(w, s[i]->id), s[i]);
        ck_assert_uint_eq(s[i]->id >> 56, 3);
        for (int j = 0; j < i; j++)
            ck_assert_uint_ne(s[i]->id, s[j]->id);
    }
    ck_assert_uint_eq(w->live_sessions, N);
    free_worker(w);
}
END_TEST

START_TEST(released_id_is_stale_even_after_slot_reuse)
{
    fp_worker *w = new_worker(0);
    fp_session *a = fp_session_alloc(w);
    a->state = FP_SESSION_OPEN;
    fp_session_id old = a->id;
    uint32_t slot = a->slot;
    fp_session_release(a);
    ck_assert_ptr_null(fp_session_lookup(w, old));
    fp_session *b = fp_session_alloc(w);
    b->state = FP_SESSION_OPEN;
    ck_assert_uint_eq(b->slot, slot);
    ck_assert_uint_ne(b->id, old);
    ck_assert_ptr_null(fp_session_lookup(w, old));
    ck_assert_ptr_eq(fp_session_lookup(w, b->id), b);
    ck_assert_uint_eq(w->live_sessions, 1);
    free_worker(w);
}
END_TEST

START_TEST(id_of_another_worker_is_not_found)
{
    fp_worker *w0 = new_worker(0), *w1 = new_worker(1);
    fp_session *a = fp_session_alloc(w0);
    a->state = FP_SESSION_OPEN;
    fp_session *b = fp_session_alloc(w1);
    b->state = FP_SESSION_OPEN;
    ck_assert_ptr_null(fp_session_lookup(w1, a->id));
    ck_assert_ptr_null(fp_session_lookup(w0, b->id));
    free_worker(w0);
    free_worker(w1);
}
END_TEST

START_TEST(garbage_ids_are_not_found)
{
    fp_worker *w = new_worker(0);
    fp_session *a = fp_session_alloc(w);
    a->state = FP_SESSION_OPEN;
    ck_assert_ptr_null(fp_session_lookup(w, 0));
    ck_assert_ptr_null(fp_session_lookup(w, a->id + 1));
    ck_assert_ptr_null(fp_session_lookup(w, a->id | (0xFFFFFFull << 32)));
    free_worker(w);
}
END_TEST

START_TEST(churn_keeps_table_at_high_water)
{
    fp_worker *w = new_worker(0);
    fp_session *live[64] = {0};
    for (int round = 0; round < 10000; round++) {
        int k = round % 64;
        if (live[k])
            fp_session_release(live[k]);
        live[k] = fp_session_alloc(w);
        live[k]->state = FP_SESSION_OPEN;
    }
    ck_assert_uint_eq(w->n_slots, 64);
    ck_assert_uint_eq(w->live_sessions, 64);
    free_worker(w);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("session");
    TCase *t = tcase_create("table");
    tcase_add_test(t, ids_are_unique_and_found);
    tcase_add_test(t, released_id_is_stale_even_after_slot_reuse);
    tcase_add_test(t, id_of_another_worker_is_not_found);
    tcase_add_test(t, garbage_ids_are_not_found);
    tcase_add_test(t, churn_keeps_table_at_high_water);
    suite_add_tcase(s, t);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
