/*
 * check_rio.c - rio.dll's own behaviour (the analogue of check_uring_pool
 * for uring.so): its registered pools, lending, options and the refusal
 * without RIO here; check_rio_queues.c has the request and completion
 * queues (batching, faults, growth).
 *
 * rio.dll is driven in-process through the transport harness. Under Wine,
 * which has no RIO, it runs on the software provider that
 * FP_RIO_TEST_PROVIDER names (tests/rio_provider, strict: a broken RIO
 * rule aborts the run), and every test ends by checking the provider saw
 * no violation. On Windows with real RIO and no provider the tests run
 * without the provider's counters; the fault tests need the provider.
 */
#include "rio_test.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "th_os.h"
#include "transport_check.h"

TCase *rio_queues_tcase(void);

/* ---- pools ---- */

/* At pool_max, tx_reserve says FP_EAGAIN (to every connection of the
 * worker); once the peer reads and sends complete, the waiting connection
 * gets on_writable and its bytes go out intact. */
START_TEST(test_send_pool_exhaustion_then_recovery)
{
    const fp_kv opts[] = {{"pool_size", "64K"}, {"pool_max", "128K"}, {"sndbuf", "8K"}};
    th_env e;
    th_start(&e, opts, 3);
    th_listen(&e, FP_AF_INET);
    int fa = th_peer_connect(&e.listen_addr, 4096);
    th_conn *a = th_wait_accepted(&e, 1, RT_WAIT_MS);
    int fb = th_peer_connect(&e.listen_addr, 4096);
    th_conn *b = th_wait_accepted(&e, 2, RT_WAIT_MS);

    uint64_t produced = 0;
    fp_status st = FP_OK;
    for (int i = 0; i < 10000 && st == FP_OK; i++) {
        st = rt_send_pattern(&e, a, 16000, produced);
        if (st == FP_OK) produced += 16000;
        th_step(&e, 0);
    }
    ck_assert_int_eq(st, FP_EAGAIN);
    ck_assert_uint_le(th_stat(&e, "pool_allocated"), 128 * 1024);
    ck_assert_int_eq(rt_send_pattern(&e, b, 16000, 0), FP_EAGAIN);
    ck_assert_uint_ge(th_stat(&e, "pool_exhausted"), 1);
    ck_assert_msg(strstr(e.last_log, "exhausted") != NULL, "no warning logged: %s", e.last_log);

    uint8_t buf[65536];
    uint64_t consumed = 0;
    int64_t end = th_now_ms() + 30000;
    while (b->writable_count == 0) {
        ck_assert_msg(th_now_ms() < end, "the starved connection never got on_writable");
        long r = th_peer_read(fa, buf, sizeof(buf));
        ck_assert_int_ge(r, 0);
        for (long i = 0; i < r; i++) ck_assert_uint_eq(buf[i], th_pattern(consumed + (uint64_t)i));
        consumed += (uint64_t)r;
        th_step(&e, r > 0 ? 0 : 2);
    }
    ck_assert_int_eq(rt_send_pattern(&e, b, 16000, 0), FP_OK);
    uint8_t got[16000];
    ck_assert(th_peer_read_exact(&e, fb, got, sizeof(got), RT_WAIT_MS));
    for (size_t i = 0; i < sizeof(got); i++) ck_assert_uint_eq(got[i], th_pattern(i));
    /* and a's stream finishes intact too */
    while (consumed < produced) {
        size_t want = produced - consumed < sizeof(buf) ? (size_t)(produced - consumed) : sizeof(buf);
        ck_assert(th_peer_read_exact(&e, fa, buf, want, RT_WAIT_MS));
        for (size_t i = 0; i < want; i++) ck_assert_uint_eq(buf[i], th_pattern(consumed + i));
        consumed += want;
    }
    ck_assert_int_eq(a->closed_count + b->closed_count, 0);
    th_socket_close(fa);
    th_socket_close(fb);
    th_stop(&e);
    rt_assert_clean();
}
END_TEST

/* A second send region is mapped and registered under its own buffer id
 * when the first is full, and what is sent from it arrives intact: the
 * RIO_BUF names the second id at offsets inside it (the provider checks
 * every RIO_BUF against its registration). */
START_TEST(test_send_pool_grows_under_a_second_buffer_id)
{
    const fp_kv opts[] = {{"pool_size", "64K"}, {"pool_max", "256K"}};
    th_env e;
    th_start(&e, opts, 2);
    th_listen(&e, FP_AF_INET);
    int fd = th_peer_connect(&e.listen_addr, 0);
    th_conn *c = th_wait_accepted(&e, 1, RT_WAIT_MS);
    fp_rio_provider_counters before = {0};
    if (rt_have_provider()) before = rt_pc();
    ck_assert_uint_eq(th_stat(&e, "pool_regions"), 0); /* nothing before the first send */

    /* two 60000-byte frames, both held before any flush: the second does
     * not fit the first 64K region */
    ck_assert_int_eq(rt_send_pattern(&e, c, 60000, 0), FP_OK);
    ck_assert_uint_eq(th_stat(&e, "pool_regions"), 1);
    ck_assert_int_eq(rt_send_pattern(&e, c, 60000, 60000), FP_OK);
    ck_assert_uint_eq(th_stat(&e, "pool_regions"), 2);
    ck_assert_uint_eq(th_stat(&e, "pool_registered"), 2);
    if (rt_have_provider()) ck_assert_uint_eq(rt_pc().registers, before.registers + 2);

    static uint8_t got[120000];
    ck_assert(th_peer_read_exact(&e, fd, got, sizeof(got), RT_WAIT_MS));
    for (size_t i = 0; i < sizeof(got); i++)
        ck_assert_msg(got[i] == th_pattern(i), "byte %zu differs (region %d)", i, i < 60000 ? 1 : 2);
    ck_assert(rt_wait_stat(&e, "pool_allocated", 0, RT_WAIT_MS));
    ck_assert_int_eq(c->closed_count, 0);
    th_socket_close(fd);
    th_stop(&e);
    if (rt_have_provider()) { /* the receive region and both send regions */
        fp_rio_provider_counters after = rt_pc();
        ck_assert_uint_eq(after.deregisters - before.deregisters, after.registers - before.registers + 1);
    }
    rt_assert_clean();
}
END_TEST

/* Every receive slice and send chunk is back in its pool once every
 * connection closed, and nothing is left in the queues. */
START_TEST(test_slices_come_back_after_every_connection_closed)
{
    enum { N = 6 };
    th_env e;
    th_start(&e, NULL, 0);
    e.echo_accepted = true;
    th_listen(&e, FP_AF_INET);
    rt_peer p[N];
    rt_peers_connect(&e, p, N);
    ck_assert(rt_pump(&e, p, N, 96 * 1024, RT_WAIT_MS));
    ck_assert_int_eq(rt_dead(p, N), 0);
    /* one slice each: 2 KiB while quiet, up to recv_max (64 KiB) after full receives */
    uint64_t held = th_stat(&e, "recv_pool_allocated");
    ck_assert_uint_ge(held, N * 2048);
    ck_assert_uint_le(held, N * 64 * 1024);
    rt_peers_close(p, N);
    for (int i = 0; i < N; i++) ck_assert(th_wait_rx(&e, p[i].c, p[i].got, RT_WAIT_MS));
    for (int i = 0; i < N; i++) e.vt->close_conn(p[i].c->conn, FP_CLOSE_GRACEFUL);
    ck_assert(rt_wait_all_closed(&e, p, N, RT_WAIT_MS));
    for (int i = 0; i < N; i++) ck_assert_int_eq(p[i].c->closed_count, 1);
    ck_assert_uint_eq(th_stat(&e, "recv_pool_allocated"), 0);
    ck_assert_uint_eq(th_stat(&e, "pool_allocated"), 0);
    ck_assert_uint_eq(th_stat(&e, "requests_in_flight"), 0);
    ck_assert_uint_eq(th_stat(&e, "cq_reserved"), 0);
    th_stop(&e);
    rt_assert_clean();
}
END_TEST

/* ---- lending ---- */

static void lend_echo(th_env *e, rt_peer *p, int n, size_t bytes)
{
    e->lend_accepted = true;
    th_listen(e, FP_AF_INET);
    rt_peers_connect(e, p, n);
    ck_assert(rt_pump(e, p, n, bytes, 3 * RT_WAIT_MS));
    ck_assert_int_eq(rt_dead(p, n), 0);
}

static void close_all(th_env *e, rt_peer *p, int n)
{
    rt_peers_close(p, n);
    for (int i = 0; i < n; i++) ck_assert(th_wait_rx(e, p[i].c, p[i].got, RT_WAIT_MS));
    for (int i = 0; i < n; i++) e->vt->close_conn(p[i].c->conn, FP_CLOSE_GRACEFUL);
    ck_assert(rt_wait_all_closed(e, p, n, RT_WAIT_MS));
}

/* Echo by tx_lend sends straight from the receive slices; a lent slice
 * stays out of the pool until its send is done, and every one is back
 * once all is closed. */
START_TEST(test_lent_receive_slices_are_sent_and_come_back)
{
    enum { N = 8 };
    th_env e;
    th_start(&e, NULL, 0);
    rt_peer p[N];
    lend_echo(&e, p, N, 256 * 1024);
    printf("lending: %llu lends, %llu refused, %llu slices lent\n",
           (unsigned long long)th_stat(&e, "lends"), (unsigned long long)th_stat(&e, "lend_refused"),
           (unsigned long long)th_stat(&e, "recv_slices_lent"));
    ck_assert_uint_gt(th_stat(&e, "lends"), 0);
    ck_assert_uint_gt(th_stat(&e, "recv_slices_lent"), 0);
    close_all(&e, p, N);
    ck_assert_uint_eq(th_stat(&e, "recv_pool_allocated"), 0);
    ck_assert_uint_eq(th_stat(&e, "pool_allocated"), 0);
    th_stop(&e);
    rt_assert_clean();
}
END_TEST

/* A receive pool of 32 slices, 20 connections and up to 16 slices held
 * by lent sends: a connection whose slice went out with a send finds the
 * pool empty, waits, and receives again once a lent send is back; no byte
 * is lost and nothing stalls. */
START_TEST(test_receive_pool_exhausted_by_lending_stalls_nothing)
{
    enum { N = 20 };
    const fp_kv opts[] = {{"recv_pool_max", "64K"}, {"recv_pool_size", "64K"}, {"recv_size", "2K"}};
    th_env e;
    th_start(&e, opts, 3);
    rt_peer p[N];
    lend_echo(&e, p, N, 96 * 1024);
    printf("receive pool: %llu exhaustions, %llu lends, %llu refused\n",
           (unsigned long long)th_stat(&e, "recv_pool_exhausted"), (unsigned long long)th_stat(&e, "lends"),
           (unsigned long long)th_stat(&e, "lend_refused"));
    ck_assert_uint_ge(th_stat(&e, "recv_pool_exhausted"), 1);
    ck_assert_uint_le(th_stat(&e, "recv_pool_allocated"), 64 * 1024);
    close_all(&e, p, N);
    ck_assert_uint_eq(th_stat(&e, "recv_pool_allocated"), 0);
    th_stop(&e);
    rt_assert_clean();
}
END_TEST

START_TEST(test_lend_off_copies_every_byte)
{
    enum { N = 4 };
    const fp_kv opts[] = {{"lend", "0"}};
    th_env e;
    th_start(&e, opts, 1);
    rt_peer p[N];
    lend_echo(&e, p, N, 256 * 1024);
    ck_assert_uint_eq(th_stat(&e, "lends"), 0);
    ck_assert_uint_gt(th_stat(&e, "lend_refused"), 0);
    ck_assert_uint_eq(th_stat(&e, "recv_slices_lent"), 0);
    close_all(&e, p, N);
    ck_assert_uint_eq(th_stat(&e, "recv_pool_allocated"), 0);
    th_stop(&e);
    rt_assert_clean();
}
END_TEST

/* ---- options ---- */

START_TEST(test_bad_options_are_refused_at_open_with_a_clear_message)
{
    static const struct {
        fp_kv kv[2];
        size_t n;
        const char *key, *why;
    } cases[] = {
        {{{"slot_size", "3000"}}, 1, "slot_size", "power of two"},
        {{{"pool_size", "96K"}, {"slot_size", "64K"}}, 2, "pool_size", "multiple of slot_size"},
        {{{"recv_size", "100"}}, 1, "recv_size", "100"},
        {{{"recv_size", "3000"}}, 1, "recv_size", "power of two"},
        {{{"rq_sends", "0"}}, 1, "rq_sends", "from 1 to 64"},
        {{{"rq_sends", "65"}}, 1, "rq_sends", "from 1 to 64"},
        {{{"recv_pool_size", "100K"}, {"recv_size", "64K"}}, 2, "recv_pool_size", "multiple of recv_size"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        th_env e;
        char err[512] = "";
        ck_assert_int_eq(th_try_open(&e, cases[i].kv, cases[i].n, err, sizeof(err)), FP_EINVAL);
        ck_assert_ptr_null(e.t);
        ck_assert_msg(strncmp(err, "rio: ", 5) == 0, "case %zu: not rio's message: %s", i, err);
        ck_assert_msg(strstr(err, cases[i].key) != NULL, "case %zu: %s", i, err);
        ck_assert_msg(strstr(err, cases[i].why) != NULL, "case %zu: %s", i, err);
        th_stop(&e);
    }
    const fp_kv ok[] = {{"pool_size", "128K"}, {"slot_size", "2K"}, {"rq_sends", "64"}, {"recv_size", "512"}};
    th_env e;
    char err[512] = "";
    ck_assert_msg(th_try_open(&e, ok, 4, err, sizeof(err)) == FP_OK, "%s", err);
    th_stop(&e);
    rt_assert_clean();
}
END_TEST

/* ---- without the provider ---- */

/* Wine has no RIO: without the provider rio is refused with a line that
 * says why and what to use instead (never a silent fallback). Where
 * Winsock has RIO it opens. */
START_TEST(test_without_the_provider_rio_is_refused_under_wine)
{
    rt_env_provider_off();
    th_env e;
    char err[512] = "";
    fp_status st = th_try_open(&e, NULL, 0, err, sizeof(err));
    char why[512] = "";
    fp_status probed = e.vt->probe(why, sizeof(why));
    th_stop(&e);
    rt_env_provider_restore();
    if (!rt_under_wine()) {
        printf("not under Wine: open without the provider says %s (%s)\n", fp_strerror(st), err);
        return;
    }
    ck_assert_int_eq(st, FP_ENOTSUP);
    ck_assert_msg(strstr(err, "Registered I/O is not available") != NULL, "message: %s", err);
    ck_assert_msg(strstr(err, "--transport=iocp") != NULL, "message: %s", err);
    ck_assert_int_eq(probed, FP_ENOTSUP);
    ck_assert_msg(strstr(why, "Registered I/O is not available") != NULL, "probe: %s", why);
    rt_assert_clean();
}
END_TEST

int main(void)
{
    th_transport_name = "rio";
    th_os_init();
    bool provider = rt_provider_load();
    const char *dir = getenv("FP_TEST_TRANSPORT_DIR");
    char why[512] = "";
    int usable = e2e_transport_probe(dir ? dir : ".", "rio", why, sizeof(why));
    if (usable < 0) {
        fprintf(stderr, "%s\n", why);
        return 1;
    }
    if (usable == 0) {
        printf("rio: skipped: no test provider and no RIO here: %s\n", why);
        return 77; /* ctest SKIP_RETURN_CODE */
    }
    printf("rio: on %s\n", provider ? "the test provider" : "Winsock's RIO");

    Suite *s = suite_create("rio");
    TCase *tc = tcase_create("pools");
    tcase_add_test(tc, test_send_pool_exhaustion_then_recovery);
    tcase_add_test(tc, test_send_pool_grows_under_a_second_buffer_id);
    tcase_add_test(tc, test_slices_come_back_after_every_connection_closed);
    tcase_add_test(tc, test_lent_receive_slices_are_sent_and_come_back);
    tcase_add_test(tc, test_receive_pool_exhausted_by_lending_stalls_nothing);
    tcase_add_test(tc, test_lend_off_copies_every_byte);
    tcase_add_test(tc, test_bad_options_are_refused_at_open_with_a_clear_message);
    tcase_add_test(tc, test_without_the_provider_rio_is_refused_under_wine);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, rio_queues_tcase());
    SRunner *sr = srunner_create(s);
    /* Windows has no fork: the tests run one after another in this
     * process (the provider's counters are read as differences) */
    srunner_set_fork_status(sr, CK_NOFORK);
    /* ... so a strict provider's abort() ends the run: each result is
     * printed as its test ends, unbuffered, not only in the summary */
    setvbuf(stdout, NULL, _IONBF, 0);
    if (!getenv("CK_LOG_FILE_NAME")) srunner_set_log(sr, "-");
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
