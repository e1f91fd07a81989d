/* Every fp_engine_api function, driven through the apitest fixture plugin
 * over real loopback connections to an in-process engine. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "blocking_client.h"
#include "fastport/engine.h"

static fp_engine *engine;
static fp_addr server;
static uint8_t buf[65536];

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t get_u64(const uint8_t *p) { return (uint64_t)get_u32(p) << 32 | get_u32(p + 4); }
static void put_u64(uint8_t *p, uint64_t v) { put_u32(p, (uint32_t)(v >> 32)); put_u32(p + 4, (uint32_t)v); }

static void setup(void)
{
    const char *plugins[] = {"apitest"};
    fp_engine_config cfg;
    fp_engine_config_init(&cfg);
    cfg.transport = "epoll";
    cfg.transport_dir = getenv("FP_TEST_TRANSPORT_DIR");
    cfg.plugin_dir = FP_FIXTURE_DIR "/plugins";
    cfg.plugins = plugins;
    cfg.n_plugins = 1;
    cfg.workers = 2;
    cfg.log_level = FP_LOG_WARN;
    char err[512];
    engine = fp_engine_create(&cfg, err, sizeof err);
    ck_assert_msg(engine != NULL, "create: %s", err);
    ck_assert_int_eq(fp_engine_listen(engine, "127.0.0.1:0", err, sizeof err), FP_OK);
    ck_assert_int_eq(fp_engine_listen_addr(engine, 0, &server), FP_OK);
    ck_assert_int_eq(fp_engine_start(engine, err, sizeof err), FP_OK);
}

static void teardown(void)
{
    fp_engine_destroy(engine);
    engine = NULL;
}

static int client(void)
{
    int fd = bc_connect(&server, 5000);
    ck_assert_int_ge(fd, 0);
    return fd;
}

static int expect(int fd, uint16_t want_id)
{
    uint16_t id = 0;
    int n = bc_recv(fd, &id, buf);
    ck_assert_msg(n >= 0, "no reply (%d) while waiting for 0x%04x", n, want_id);
    ck_assert_msg(id == want_id, "got id 0x%04x, wanted 0x%04x", id, want_id);
    return n;
}

/* Bounded wait for an engine counter to reach `want`. */
static uint64_t wait_stat(const char *name, uint64_t want)
{
    uint64_t v = 0;
    for (int i = 0; i < 500 && (v = fp_engine_stat(engine, name)) < want; i++)
        usleep(10000);
    return v;
}

START_TEST(timer_fires_on_the_sessions_worker)
{
    int fd = client();
    uint8_t p[4];
    put_u32(p, 30);
    ck_assert_int_eq(bc_send(fd, 0x0010, p, 4), 0);
    ck_assert_int_eq(expect(fd, 0x0011), 4);
    ck_assert_uint_eq(get_u32(buf), 30);
    close(fd);
}
END_TEST

START_TEST(cancelled_timer_never_fires)
{
    int fd = client();
    uint8_t p[4];
    put_u32(p, 20);
    ck_assert_int_eq(bc_send(fd, 0x0012, p, 4), 0);
    expect(fd, 0x0013);
    usleep(150000); /* well past the cancelled deadline */
    ck_assert_int_eq(bc_send(fd, 0x0030, NULL, 0), 0);
    expect(fd, 0x0031); /* 0x00EE would have come first */
    close(fd);
}
END_TEST

START_TEST(send_reserve_and_commit_frame_in_place)
{
    int fd = client();
    ck_assert_int_eq(bc_send(fd, 0x0020, "hello", 5), 0);
    ck_assert_int_eq(expect(fd, 0x0021), 5);
    ck_assert_int_eq(memcmp(buf, "olleh", 5), 0);
    static uint8_t big[60000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7);
    ck_assert_int_eq(bc_send(fd, 0x0020, big, sizeof big), 0);
    ck_assert_int_eq(expect(fd, 0x0021), (int)sizeof big);
    for (size_t i = 0; i < sizeof big; i++)
        ck_assert_uint_eq(buf[i], big[sizeof big - 1 - i]);
    close(fd);
}
END_TEST

typedef struct peer {
    int fd;
    uint64_t id;
    uint32_t worker;
} peer;

static peer open_peer(void)
{
    peer p = {client(), 0, 0};
    ck_assert_int_eq(bc_send(p.fd, 0x0030, NULL, 0), 0);
    ck_assert_int_eq(expect(p.fd, 0x0031), 12);
    p.id = get_u64(buf);
    p.worker = get_u32(buf + 8);
    ck_assert_uint_eq(p.id >> 56, p.worker);
    return p;
}

/* Open peers until two sit on different workers (SO_REUSEPORT spreads
 * them by hash; 32 tries all landing on one worker is 2^-31). */
static void peers_on_two_workers(peer *a, peer *b, peer *extra, int *n_extra)
{
    *a = open_peer();
    *n_extra = 0;
    for (int i = 0; i < 32; i++) {
        peer p = open_peer();
        if (p.worker != a->worker) {
            *b = p;
            return;
        }
        extra[(*n_extra)++] = p;
    }
    ck_abort_msg("all 33 sessions landed on worker %u", a->worker);
}

static int32_t relay(peer *from, uint64_t to, const char *text)
{
    uint8_t p[64];
    put_u64(p, to);
    size_t n = strlen(text);
    memcpy(p + 8, text, n);
    ck_assert_int_eq(bc_send(from->fd, 0x0040, p, 8 + n), 0);
    ck_assert_int_eq(expect(from->fd, 0x0042), 4);
    return (int32_t)get_u32(buf);
}

START_TEST(send_to_reaches_a_session_on_another_worker)
{
    peer a, b, extra[32];
    int n_extra;
    peers_on_two_workers(&a, &b, extra, &n_extra);
    ck_assert_int_eq(relay(&a, b.id, "across"), FP_OK);
    ck_assert_int_eq(expect(b.fd, 0x0041), 6);
    ck_assert_int_eq(memcmp(buf, "across", 6), 0);
    ck_assert_int_eq(relay(&b, a.id, "back"), FP_OK);
    ck_assert_int_eq(expect(a.fd, 0x0041), 4);
    ck_assert_int_eq(memcmp(buf, "back", 4), 0);
    ck_assert_uint_ge(fp_engine_stat(engine, "mailbox_posts"), 2);
    close(a.fd);
    close(b.fd);
    for (int i = 0; i < n_extra; i++)
        close(extra[i].fd);
}
END_TEST

START_TEST(send_to_a_closed_session_is_detected_as_stale)
{
    peer a, b, extra[32];
    int n_extra;
    peers_on_two_workers(&a, &b, extra, &n_extra);
    uint64_t open_before = fp_engine_stat(engine, "sessions_closed");
    close(b.fd);
    ck_assert_uint_ge(wait_stat("sessions_closed", open_before + 1), open_before + 1);
    /* another worker's session: queued, then found stale by its owner */
    ck_assert_int_eq(relay(&a, b.id, "late"), FP_OK);
    ck_assert_uint_eq(wait_stat("stale_session_sends", 1), 1);
    if (n_extra > 0) {
        /* same worker: checked on the spot */
        uint64_t gone = extra[0].id;
        close(extra[0].fd);
        ck_assert_uint_ge(wait_stat("sessions_closed", open_before + 2), open_before + 2);
        ck_assert_int_eq(relay(&a, gone, "late"), FP_ENOTFOUND);
    }
    close(a.fd);
    for (int i = n_extra > 0 ? 1 : 0; i < n_extra; i++)
        close(extra[i].fd);
}
END_TEST

START_TEST(compressed_send_sets_the_flag_and_inflates_back)
{
    int fd = client();
    static uint8_t text[10000];
    memset(text, 'a', sizeof text);
    ck_assert_int_eq(bc_send(fd, 0x0050, text, sizeof text), 0);
    uint16_t id = 0;
    int n = bc_recv(fd, &id, buf);
    ck_assert_int_gt(n, 0);
    ck_assert_uint_eq(id, 0x0051 | 0x4000);
    ck_assert_int_lt(n, (int)sizeof text);
    static uint8_t out[20000];
    uLongf out_len = sizeof out;
    ck_assert_int_eq(uncompress(out, &out_len, buf, (uLong)n), Z_OK);
    ck_assert_uint_eq(out_len, sizeof text);
    ck_assert_int_eq(memcmp(out, text, sizeof text), 0);
    close(fd);
}
END_TEST

START_TEST(plugin_close_sends_queued_reply_then_fin)
{
    int fd = client();
    ck_assert_int_eq(bc_send(fd, 0x0060, NULL, 0), 0);
    expect(fd, 0x0061);
    uint16_t id;
    ck_assert_int_eq(bc_recv(fd, &id, buf), -2);
    close(fd);
}
END_TEST

START_TEST(session_open_and_close_reach_the_plugin)
{
    int fds[3];
    for (int i = 0; i < 3; i++)
        fds[i] = client();
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(bc_send(fds[i], 0x0030, NULL, 0), 0);
        expect(fds[i], 0x0031);
    }
    ck_assert_uint_eq(fp_engine_stat(engine, "sessions_open"), 3);
    close(fds[0]);
    close(fds[1]);
    ck_assert_uint_eq(wait_stat("sessions_closed", 2), 2);
    ck_assert_int_eq(bc_send(fds[2], 0x0070, NULL, 0), 0);
    expect(fds[2], 0x0071);
    uint32_t opened = get_u32(buf), closed = get_u32(buf + 4);
    ck_assert_uint_eq(opened - closed, 1);
    ck_assert_uint_ge(opened, 3);
    close(fds[2]);
}
END_TEST

START_TEST(engine_stat_worker_count_and_transport_name)
{
    int fd = client();
    ck_assert_int_eq(bc_send(fd, 0x0080, NULL, 0), 0);
    int n = expect(fd, 0x0081);
    ck_assert_int_ge(n, 12);
    ck_assert_uint_eq(get_u64(buf), 1);
    ck_assert_uint_eq(get_u32(buf + 8), 2);
    ck_assert_int_eq(n - 12, (int)strlen(fp_engine_transport_name(engine)));
    ck_assert_int_eq(memcmp(buf + 12, fp_engine_transport_name(engine), (size_t)(n - 12)), 0);
    close(fd);
}
END_TEST

START_TEST(plugin_counters_are_reported_by_engine_stats)
{
    int fd = client();
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(bc_send(fd, 0x0090, NULL, 0), 0);
        expect(fd, 0x0091);
    }
    ck_assert_uint_eq(fp_engine_stat(engine, "plugin.apitest_hits"), 3);
    close(fd);
}
END_TEST

static void list_sessions(int fd, uint32_t offset, uint32_t limit, uint32_t *total, uint32_t *rows,
                          uint64_t *ids)
{
    uint8_t p[8];
    put_u32(p, offset);
    put_u32(p + 4, limit);
    ck_assert_int_eq(bc_send(fd, 0x00A0, p, 8), 0);
    expect(fd, 0x00A1);
    *total = get_u32(buf);
    *rows = get_u32(buf + 4);
    for (uint32_t i = 0; i < *rows; i++)
        ids[i] = get_u64(buf + 8 + 8 * i);
}

START_TEST(session_list_pages_every_open_session_by_id)
{
    enum { N = 6 };
    peer peers[N];
    for (int i = 0; i < N; i++)
        peers[i] = open_peer();
    uint32_t total = 0, rows = 0;
    uint64_t ids[64];
    /* other workers answer from snapshots refreshed on request */
    for (int tries = 0; tries < 100 && total != N; tries++) {
        list_sessions(peers[0].fd, 0, 64, &total, &rows, ids);
        if (total != N)
            usleep(10000);
    }
    ck_assert_uint_eq(total, N);
    ck_assert_uint_eq(rows, N);
    for (uint32_t i = 1; i < rows; i++)
        ck_assert_uint_lt(ids[i - 1], ids[i]);
    for (int i = 0; i < N; i++) {
        int found = 0;
        for (uint32_t j = 0; j < rows; j++)
            found |= ids[j] == peers[i].id;
        ck_assert_msg(found, "session %llx missing from the list", (unsigned long long)peers[i].id);
    }
    uint64_t page[64];
    list_sessions(peers[0].fd, 2, 3, &total, &rows, page);
    ck_assert_uint_eq(rows, 3);
    ck_assert_uint_eq(page[0], ids[2]);
    ck_assert_uint_eq(page[2], ids[4]);
    list_sessions(peers[0].fd, N, 10, &total, &rows, page);
    ck_assert_uint_eq(rows, 0);
    for (int i = 0; i < N; i++)
        close(peers[i].fd);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plugin_api");
    TCase *t = tcase_create("api");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, timer_fires_on_the_sessions_worker);
    tcase_add_test(t, cancelled_timer_never_fires);
    tcase_add_test(t, send_reserve_and_commit_frame_in_place);
    tcase_add_test(t, send_to_reaches_a_session_on_another_worker);
    tcase_add_test(t, send_to_a_closed_session_is_detected_as_stale);
    tcase_add_test(t, compressed_send_sets_the_flag_and_inflates_back);
    tcase_add_test(t, plugin_close_sends_queued_reply_then_fin);
    tcase_add_test(t, session_open_and_close_reach_the_plugin);
    tcase_add_test(t, engine_stat_worker_count_and_transport_name);
    tcase_add_test(t, plugin_counters_are_reported_by_engine_stats);
    tcase_add_test(t, session_list_pages_every_open_session_by_id);
    suite_add_tcase(s, t);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
