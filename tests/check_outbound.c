/* Outbound sessions: a program's built-in plugin drives connections opened
 * with fp_engine_connect through the loaded transport. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fastport/engine.h"

static const fp_engine_api *api;

/* What the built-in "dialer" plugin saw, handed to the test thread. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int opened, replies, failed, closed;
    void *open_user, *failed_user;
    fp_status failed_why;
    char reply[64];
} seen = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, NULL, NULL, FP_OK, ""};

static fp_status dialer_init(const fp_engine_api *a, const fp_kv *o, size_t n, void **ctx, char *err,
                             size_t len)
{
    (void)o; (void)n; (void)ctx; (void)err; (void)len;
    api = a;
    return FP_OK;
}

static fp_status dialer_open(void *ctx, fp_session *s)
{
    (void)ctx;
    pthread_mutex_lock(&seen.lock);
    seen.opened++;
    seen.open_user = api->user_get(s);
    pthread_mutex_unlock(&seen.lock);
    /* ask the echo server something as soon as we are connected */
    return api->send(s, 0x0123, "ping from dialer", 16, 0);
}

static fp_status dialer_reply(void *ctx, fp_session *s, uint16_t id, const uint8_t *p, size_t n)
{
    (void)ctx; (void)id;
    pthread_mutex_lock(&seen.lock);
    seen.replies++;
    memcpy(seen.reply, p, n < sizeof seen.reply - 1 ? n : sizeof seen.reply - 1);
    pthread_cond_broadcast(&seen.cond);
    pthread_mutex_unlock(&seen.lock);
    api->close(s, 0);
    return FP_OK;
}

static void dialer_close(void *ctx, fp_session *s, fp_status why)
{
    (void)ctx; (void)s; (void)why;
    pthread_mutex_lock(&seen.lock);
    seen.closed++;
    pthread_cond_broadcast(&seen.cond);
    pthread_mutex_unlock(&seen.lock);
}

static void dialer_failed(void *ctx, void *user, fp_status why)
{
    (void)ctx;
    pthread_mutex_lock(&seen.lock);
    seen.failed++;
    seen.failed_user = user;
    seen.failed_why = why;
    pthread_cond_broadcast(&seen.cond);
    pthread_mutex_unlock(&seen.lock);
}

static const fp_plugin_desc dialer = {
    FP_PLUGIN_HEADER("dialer", "1", "test client"),
    .init = dialer_init,
    .session_open = dialer_open,
    .session_close = dialer_close,
    .catch_all = dialer_reply,
    .connect_failed = dialer_failed,
};

static fp_engine *make_engine(const char *plugin, const fp_plugin_desc *builtin)
{
    const char *names[] = {plugin};
    const fp_plugin_desc *builtins[] = {builtin};
    fp_engine_config cfg;
    fp_engine_config_init(&cfg);
    cfg.transport = getenv("FP_OUTBOUND_TRANSPORT");
    cfg.transport_dir = getenv("FP_TEST_TRANSPORT_DIR");
    cfg.plugin_dir = getenv("FP_TEST_PLUGIN_DIR");
    cfg.plugins = names;
    cfg.n_plugins = plugin ? 1 : 0;
    cfg.builtin_plugins = builtins;
    cfg.n_builtin_plugins = builtin ? 1 : 0;
    cfg.workers = 2;
    cfg.log_level = FP_LOG_WARN;
    char err[512];
    fp_engine *e = fp_engine_create(&cfg, err, sizeof err);
    ck_assert_msg(e != NULL, "create: %s", err);
    return e;
}

static int wait_for(int *counter, int want)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&seen.lock);
    while (*counter < want && pthread_cond_timedwait(&seen.cond, &seen.lock, &deadline) == 0)
        ;
    int got = *counter;
    pthread_mutex_unlock(&seen.lock);
    return got;
}

START_TEST(connected_session_runs_the_builtin_plugin)
{
    fp_engine *server = make_engine("echo", NULL);
    char err[256], addr[64];
    ck_assert_int_eq(fp_engine_listen(server, "127.0.0.1:0", err, sizeof err), FP_OK);
    ck_assert_int_eq(fp_engine_start(server, err, sizeof err), FP_OK);
    fp_addr bound;
    fp_engine_listen_addr(server, 0, &bound);
    fp_addr_format(&bound, addr, sizeof addr);

    fp_engine *client = make_engine(NULL, &dialer);
    ck_assert_int_eq(fp_engine_start(client, err, sizeof err), FP_OK);
    static int tag;
    ck_assert_int_eq(fp_engine_connect(client, addr, &tag, err, sizeof err), FP_OK);
    ck_assert_int_eq(wait_for(&seen.replies, 1), 1);
    ck_assert_str_eq(seen.reply, "ping from dialer");
    ck_assert_ptr_eq(seen.open_user, &tag);
    ck_assert_int_eq(wait_for(&seen.closed, 1), 1);
    ck_assert_uint_eq(fp_engine_stat(client, "sessions_connected"), 1);
    ck_assert_uint_eq(fp_engine_stat(client, "connect_failures"), 0);
    ck_assert_int_eq(fp_engine_shutdown(client), FP_OK);
    fp_engine_destroy(client);
    fp_engine_destroy(server);
}
END_TEST

/* A loopback port nobody listens on: bound, then closed. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

START_TEST(refused_connect_reaches_connect_failed_only)
{
    fp_engine *client = make_engine(NULL, &dialer);
    char err[256], addr[64];
    ck_assert_int_eq(fp_engine_start(client, err, sizeof err), FP_OK);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", closed_port());
    static int tag;
    ck_assert_int_eq(fp_engine_connect(client, addr, &tag, err, sizeof err), FP_OK);
    ck_assert_int_eq(wait_for(&seen.failed, 1), 1);
    ck_assert_ptr_eq(seen.failed_user, &tag);
    ck_assert_int_eq(seen.failed_why, FP_ECONNREFUSED);
    ck_assert_int_eq(seen.opened, 0);
    ck_assert_int_eq(seen.closed, 0);
    ck_assert_uint_eq(fp_engine_stat(client, "connect_failures"), 1);
    ck_assert_uint_eq(fp_engine_stat(client, "sessions_open"), 0);
    fp_engine_destroy(client);
}
END_TEST

START_TEST(connect_with_bad_address_is_refused_at_once)
{
    fp_engine *client = make_engine(NULL, &dialer);
    char err[256];
    ck_assert_int_eq(fp_engine_start(client, err, sizeof err), FP_OK);
    ck_assert_int_eq(fp_engine_connect(client, "nowhere", NULL, err, sizeof err), FP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "nowhere"));
    fp_engine_destroy(client);
}
END_TEST

int main(int argc, char **argv)
{
    if (argc > 1)
        setenv("FP_OUTBOUND_TRANSPORT", argv[1], 1);
    Suite *s = suite_create("outbound");
    TCase *t = tcase_create("connect");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, connected_session_runs_the_builtin_plugin);
    tcase_add_test(t, refused_connect_reaches_connect_failed_only);
    tcase_add_test(t, connect_with_bad_address_is_refused_at_once);
    suite_add_tcase(s, t);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
