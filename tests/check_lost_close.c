/* Shutdown when the transport never reports a close (a lost completion):
 * after the drain timeout and CLOSE_GRACE_MS more, a worker stops waiting
 * for on_closed, counts the session in closes_abandoned and leaves the rest
 * to the transport's worker_close. Driven through the fixture transport
 * lostclose.so (tests/fixtures/lost_close_transport.c), whose outbound
 * connections never connect and whose closes are answered only after its
 * lose_closes option's count of requests ("all": never).
 *
 * Without the grace logic the first case hangs: Check's timeout, then
 * ctest's, turn that into a failure. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fastport/engine.h"

#define TRANSPORTS FP_FIXTURE_DIR "/transports"
#define RELEASED_MARK "worker_close released "

/* What the engine and the fixture logged. The sink runs on worker threads;
 * the test reads after fp_engine_shutdown has joined them. */
static struct {
    pthread_mutex_t lock;
    int warnings_naming_transport; /* the grace warning names the transport */
    long released;                 /* summed from the fixture's worker_close lines */
    int worker_close_lines;
} logged = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};

static void capture_log(void *ctx, fp_log_level level, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "log[%d] %s\n", (int)level, msg); /* shown by ctest on failure */
    pthread_mutex_lock(&logged.lock);
    const char *mark = strstr(msg, RELEASED_MARK);
    if (strncmp(msg, "lostclose:", 10) == 0 && mark) {
        logged.worker_close_lines++;
        logged.released += strtol(mark + strlen(RELEASED_MARK), NULL, 10);
    } else if (level == FP_LOG_WARN && strstr(msg, "lostclose")) {
        logged.warnings_naming_transport++;
    }
    pthread_mutex_unlock(&logged.lock);
}

/* One worker, a short drain, echo as the (unused) protocol plugin. */
static fp_engine *make_engine(const char *lose_closes)
{
    static const char *const plugins[] = {"echo"};
    const fp_kv opts[] = {{"lose_closes", lose_closes}};
    pthread_mutex_lock(&logged.lock); /* fresh even when Check does not fork */
    logged.warnings_naming_transport = 0;
    logged.released = 0;
    logged.worker_close_lines = 0;
    pthread_mutex_unlock(&logged.lock);
    fp_engine_config cfg;
    fp_engine_config_init(&cfg);
    cfg.transport = "lostclose";
    cfg.transport_dir = TRANSPORTS;
    cfg.transport_opts = opts;
    cfg.n_transport_opts = lose_closes ? 1 : 0;
    cfg.plugin_dir = getenv("FP_TEST_PLUGIN_DIR");
    cfg.plugins = plugins;
    cfg.n_plugins = 1;
    cfg.workers = 1;
    cfg.drain_timeout_ms = 50;
    cfg.log_level = FP_LOG_INFO;
    cfg.log_sink = capture_log;
    char err[512];
    fp_engine *e = fp_engine_create(&cfg, err, sizeof err);
    ck_assert_msg(e != NULL, "create: %s", err);
    return e;
}

/* Start, open one outbound session the fixture holds (the port is never
 * dialled), and wait until the worker has handed it to the transport. */
static fp_engine *start_with_one_connection(const char *lose_closes)
{
    fp_engine *e = make_engine(lose_closes);
    char err[256];
    ck_assert_int_eq(fp_engine_start(e, err, sizeof err), FP_OK);
    ck_assert_int_eq(fp_engine_connect(e, "127.0.0.1:9", NULL, err, sizeof err), FP_OK);
    const struct timespec pause = {0, 10 * 1000 * 1000};
    for (int i = 0; i < 500 && fp_engine_stat(e, "transport.connects") == 0; i++)
        nanosleep(&pause, NULL);
    ck_assert_uint_eq(fp_engine_stat(e, "transport.connects"), 1);
    return e;
}

START_TEST(lost_close_is_abandoned_and_released_by_worker_close)
{
    fp_engine *e = start_with_one_connection(NULL); /* default: every close is lost */
    ck_assert_int_eq(fp_engine_shutdown(e), FP_ETIMEDOUT);
    ck_assert_uint_eq(fp_engine_stat(e, "drain_aborts"), 1);
    ck_assert_uint_eq(fp_engine_stat(e, "closes_abandoned"), 1);
    /* the workers' last transport snapshot, taken just before worker_close */
    ck_assert_uint_ge(fp_engine_stat(e, "transport.close_requests"), 1);
    ck_assert_uint_eq(fp_engine_stat(e, "transport.closes_reported"), 0);
    ck_assert_uint_eq(fp_engine_stat(e, "transport.conns_held"), 1);
    ck_assert_int_eq(logged.worker_close_lines, 1);
    ck_assert_int_eq(logged.released, 1);
    ck_assert_int_eq(logged.warnings_naming_transport, 1);
    fp_engine_destroy(e);
}
END_TEST

START_TEST(prompt_close_abandons_nothing)
{
    fp_engine *e = start_with_one_connection("0"); /* every close reported at once */
    /* the close asked for at drain start arrives before the drain timeout */
    ck_assert_int_eq(fp_engine_shutdown(e), FP_OK);
    ck_assert_uint_eq(fp_engine_stat(e, "drain_aborts"), 0);
    ck_assert_uint_eq(fp_engine_stat(e, "closes_abandoned"), 0);
    ck_assert_uint_eq(fp_engine_stat(e, "transport.closes_reported"), 1);
    ck_assert_uint_eq(fp_engine_stat(e, "transport.conns_held"), 0);
    ck_assert_int_eq(logged.released, 0);
    ck_assert_int_eq(logged.warnings_naming_transport, 0);
    fp_engine_destroy(e);
}
END_TEST

START_TEST(close_answered_within_grace_abandons_nothing)
{
    /* the drain-start close is lost, the drain deadline's abort is answered:
     * the grace timer is armed, then the worker exits before it fires */
    fp_engine *e = start_with_one_connection("1");
    ck_assert_int_eq(fp_engine_shutdown(e), FP_ETIMEDOUT);
    ck_assert_uint_eq(fp_engine_stat(e, "drain_aborts"), 1);
    ck_assert_uint_eq(fp_engine_stat(e, "closes_abandoned"), 0);
    ck_assert_uint_eq(fp_engine_stat(e, "transport.close_requests"), 2);
    ck_assert_uint_eq(fp_engine_stat(e, "transport.closes_reported"), 1);
    ck_assert_uint_eq(fp_engine_stat(e, "transport.conns_held"), 0);
    ck_assert_int_eq(logged.released, 0);
    ck_assert_int_eq(logged.warnings_naming_transport, 0);
    fp_engine_destroy(e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lost_close");
    TCase *t = tcase_create("shutdown");
    /* the abandoned case waits the 2 s grace; a hang must still fail here
     * before ctest's own timeout */
    tcase_set_timeout(t, 30);
    tcase_add_test(t, lost_close_is_abandoned_and_released_by_worker_close);
    tcase_add_test(t, prompt_close_abandons_nothing);
    tcase_add_test(t, close_answered_within_grace_abandons_nothing);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
