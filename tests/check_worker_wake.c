/* Posting mail to a worker wakes it without waiting behind the worker's
 * stats lock: a cross-worker send must not queue behind a session listing
 * or a transport stats refresh, which hold that lock. */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core.h"

static int wakes;
static void count_wake(fp_tworker *tw)
{
    (void)tw;
    __atomic_add_fetch(&wakes, 1, __ATOMIC_SEQ_CST);
}

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int posted;
    fp_status status;
} poster = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, FP_OK};

static void *post_one(void *arg)
{
    fp_worker *w = arg;
    fp_mail *mail = calloc(1, sizeof *mail);
    fp_status st = fp_worker_post(w, mail);
    pthread_mutex_lock(&poster.lock);
    poster.posted = 1;
    poster.status = st;
    pthread_cond_broadcast(&poster.cond);
    pthread_mutex_unlock(&poster.lock);
    return NULL;
}

START_TEST(posting_does_not_wait_for_the_stats_lock)
{
    static fp_transport_vtbl vt;
    vt.wake = count_wake;
    static fp_engine engine;
    engine.transport.vt = &vt;
    static int transport_worker;
    static fp_worker w;
    w.engine = &engine;
    w.tw = (fp_tworker *)&transport_worker;
    ck_assert_int_eq(fp_mutex_init(&w.wake_lock), 0);
    ck_assert_int_eq(fp_mutex_init(&w.stats_lock), 0);
    w.mailbox = fp_mailbox_create(16);
    ck_assert_ptr_nonnull(w.mailbox);

    fp_mutex_lock(&w.stats_lock); /* as a session listing holds it */
    pthread_t thread;
    ck_assert_int_eq(pthread_create(&thread, NULL, post_one, &w), 0);
    /* Only a bound on a failure: a poster blocked on the lock never posts. */
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&poster.lock);
    while (!poster.posted && pthread_cond_timedwait(&poster.cond, &poster.lock, &deadline) == 0)
        ;
    int posted = poster.posted;
    pthread_mutex_unlock(&poster.lock);
    fp_mutex_unlock(&w.stats_lock);
    pthread_join(thread, NULL);

    ck_assert_msg(posted, "the poster waited behind the stats lock");
    ck_assert_int_eq(poster.status, FP_OK);
    ck_assert_int_eq(__atomic_load_n(&wakes, __ATOMIC_SEQ_CST), 1);
    fp_mail *mail = fp_mailbox_take_all(w.mailbox);
    ck_assert_ptr_nonnull(mail);
    ck_assert_ptr_null(mail->next);
    free(mail);
    fp_mailbox_destroy(w.mailbox);
    fp_mutex_destroy(&w.stats_lock);
    fp_mutex_destroy(&w.wake_lock);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("worker_wake");
    TCase *t = tcase_create("wake");
    tcase_set_timeout(t, 30);
    tcase_add_test(t, posting_does_not_wait_for_the_stats_lock);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
