/* The fastport plugin in an in-process engine on the transport named in
 * argv[1], driven by blocking loopback clients: echo, benchmark, the admin
 * token, session-list paging, malformed bodies and unknown ids. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "blocking_client.h"
#include "fastport/engine.h"
#include "fastport_wire.h"
#include "transport_check.h"

#define ADMIN_TOKEN "s3cret"

static const char *transport_name;
static fp_engine *engine;
static fp_addr server;
static uint8_t buf[65536];

static const fp_kv token_opts[] = {{"fastport.admin_token", ADMIN_TOKEN}};

static fp_engine *create_engine_with(const char *const *plugins, size_t n_plugins, const fp_kv *opts,
                                     size_t n_opts, char *err, size_t err_len)
{
    fp_engine_config cfg;
    fp_engine_config_init(&cfg);
    cfg.transport = transport_name;
    cfg.transport_dir = getenv("FP_TEST_TRANSPORT_DIR");
    cfg.plugin_dir = getenv("FP_TEST_PLUGIN_DIR");
    cfg.plugins = plugins;
    cfg.n_plugins = n_plugins;
    cfg.plugin_opts = opts;
    cfg.n_plugin_opts = n_opts;
    cfg.workers = 2;
    cfg.log_level = FP_LOG_WARN;
    return fp_engine_create(&cfg, err, err_len);
}

static fp_engine *create_engine(const fp_kv *opts, size_t n_opts, char *err, size_t err_len)
{
    static const char *const fastport_only[] = {"fastport"};
    return create_engine_with(fastport_only, 1, opts, n_opts, err, err_len);
}

static void start_engine_with(const char *const *plugins, size_t n_plugins, const fp_kv *opts, size_t n_opts)
{
    char err[512];
    engine = create_engine_with(plugins, n_plugins, opts, n_opts, err, sizeof err);
    ck_assert_msg(engine != NULL, "create: %s", err);
    ck_assert_int_eq(fp_engine_listen(engine, "127.0.0.1:0", err, sizeof err), FP_OK);
    ck_assert_int_eq(fp_engine_listen_addr(engine, 0, &server), FP_OK);
    ck_assert_msg(fp_engine_start(engine, err, sizeof err) == FP_OK, "start: %s", err);
}

static void start_engine(const fp_kv *opts, size_t n_opts)
{
    static const char *const fastport_only[] = {"fastport"};
    start_engine_with(fastport_only, 1, opts, n_opts);
}

static void start_with_token(void) { start_engine(token_opts, 1); }

static void stop_engine(void)
{
    if (engine) fp_engine_destroy(engine);
    engine = NULL;
}

static int client(void)
{
    int fd = bc_connect(&server, 5000);
    ck_assert_int_ge(fd, 0);
    return fd;
}

static void send_msg(int fd, uint16_t id, const ProtobufCMessage *msg)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    ck_assert_uint_le(len, sizeof buf);
    ck_assert_uint_eq(protobuf_c_message_pack(msg, buf), len);
    ck_assert_int_eq(bc_send(fd, id, buf, len), 0);
}

/* Receives one frame, which must carry `want_id`; returns its length. */
static size_t expect(int fd, uint16_t want_id)
{
    uint16_t id = 0;
    int n = bc_recv(fd, &id, buf);
    ck_assert_msg(n >= 0, "no reply (%d) while waiting for 0x%04x", n, want_id);
    ck_assert_msg(id == want_id, "got id 0x%04x, wanted 0x%04x", id, want_id);
    return (size_t)n;
}

static uint64_t wait_stat(const char *name, uint64_t want)
{
    uint64_t v = 0;
    for (int i = 0; i < 500 && (v = fp_engine_stat(engine, name)) < want; i++) usleep(10000);
    return v;
}

/* Sends an EchoRequest and checks the answer is intact. */
static void echo_round_trip(int fd, uint64_t request_id, const char *text)
{
    fpm_header h = FPM_HEADER_INIT;
    h.request_id = request_id;
    fpm_echo_request req = FPM_ECHO_REQUEST_INIT;
    req.header = &h;
    req.data_str = (char *)text;
    send_msg(fd, FASTPORT_ID_ECHO, &req.base);
    size_t n = expect(fd, FASTPORT_ID_ECHO);
    fpm_echo_response *resp = fastport__protocols__tests__echo_response__unpack(NULL, n, buf);
    ck_assert_ptr_nonnull(resp);
    ck_assert_int_eq(resp->result, FPM_RESULT_OK);
    ck_assert_ptr_nonnull(resp->header);
    ck_assert_uint_eq(resp->header->request_id, request_id + 1);
    ck_assert_str_eq(resp->data_str, text);
    fastport__protocols__tests__echo_response__free_unpacked(resp, NULL);
}

START_TEST(echo_reply_fields)
{
    start_with_token();
    int fd = client();
    uint8_t data[3000];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 7 + 3);
    fpm_header h = FPM_HEADER_INIT;
    h.request_id = 41;
    h.timestamp_ms = 5;
    fpm_echo_request req = FPM_ECHO_REQUEST_INIT;
    req.header = &h;
    req.data.data = data;
    req.data.len = sizeof data;
    req.data_str = (char *)"hello, fastport";
    uint64_t before_s = (uint64_t)time(NULL);
    send_msg(fd, FASTPORT_ID_ECHO, &req.base);
    size_t n = expect(fd, FASTPORT_ID_ECHO);
    uint64_t after_s = (uint64_t)time(NULL);

    fpm_echo_response *resp = fastport__protocols__tests__echo_response__unpack(NULL, n, buf);
    ck_assert_ptr_nonnull(resp);
    ck_assert_int_eq(resp->result, FPM_RESULT_OK);
    ck_assert_ptr_nonnull(resp->header);
    ck_assert_uint_eq(resp->header->request_id, 42);
    /* FastPort's quirk: Unix seconds in a field named _ms */
    ck_assert_uint_ge(resp->header->timestamp_ms, before_s);
    ck_assert_uint_le(resp->header->timestamp_ms, after_s);
    ck_assert_uint_eq(resp->data.len, sizeof data);
    ck_assert_mem_eq(resp->data.data, data, sizeof data);
    ck_assert_str_eq(resp->data_str, "hello, fastport");
    fastport__protocols__tests__echo_response__free_unpacked(resp, NULL);

    /* no header at all: request_id counts as 0 */
    fpm_echo_request bare = FPM_ECHO_REQUEST_INIT;
    send_msg(fd, FASTPORT_ID_ECHO, &bare.base);
    n = expect(fd, FASTPORT_ID_ECHO);
    resp = fastport__protocols__tests__echo_response__unpack(NULL, n, buf);
    ck_assert_ptr_nonnull(resp);
    ck_assert_int_eq(resp->result, FPM_RESULT_OK);
    ck_assert_uint_eq(resp->header->request_id, 1);
    ck_assert_uint_eq(resp->data.len, 0);
    ck_assert_str_eq(resp->data_str, "");
    fastport__protocols__tests__echo_response__free_unpacked(resp, NULL);
    close(fd);
    stop_engine();
}
END_TEST

START_TEST(benchmark_reply_fields)
{
    start_with_token();
    int fd = client();
    uint8_t payload[16384];
    for (size_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)(i ^ (i >> 8));
    uint64_t last_send_ns = 0;
    for (uint32_t seq = 1; seq <= 3; seq++) {
        fpm_header h = FPM_HEADER_INIT;
        h.request_id = 1000 + seq;
        h.timestamp_ms = 777;
        fpm_benchmark_request req = FPM_BENCHMARK_REQUEST_INIT;
        req.header = &h;
        req.client_timestamp_ns = 123456789012u + seq;
        req.sequence = seq;
        req.payload.data = payload;
        req.payload.len = sizeof payload / seq;
        send_msg(fd, FASTPORT_ID_BENCHMARK_REQUEST, &req.base);
        size_t n = expect(fd, FASTPORT_ID_BENCHMARK_RESPONSE);

        fpm_benchmark_response *resp =
            fastport__protocols__benchmark__benchmark_response__unpack(NULL, n, buf);
        ck_assert_ptr_nonnull(resp);
        ck_assert_int_eq(resp->result, FPM_RESULT_OK);
        ck_assert_ptr_nonnull(resp->header);
        ck_assert_uint_eq(resp->header->request_id, 1000 + seq);
        ck_assert_uint_eq(resp->header->timestamp_ms, 777);
        ck_assert_uint_eq(resp->client_timestamp_ns, 123456789012u + seq);
        ck_assert_uint_eq(resp->sequence, seq);
        ck_assert_uint_eq(resp->payload.len, sizeof payload / seq);
        ck_assert_mem_eq(resp->payload.data, payload, sizeof payload / seq);
        ck_assert_uint_gt(resp->server_recv_timestamp_ns, 0);
        ck_assert_uint_le(resp->server_recv_timestamp_ns, resp->server_send_timestamp_ns);
        /* one monotonic clock across requests */
        ck_assert_uint_ge(resp->server_recv_timestamp_ns, last_send_ns);
        last_send_ns = resp->server_send_timestamp_ns;
        fastport__protocols__benchmark__benchmark_response__free_unpacked(resp, NULL);
    }
    close(fd);
    stop_engine();
}
END_TEST

/* Sends a status request with `token` (NULL: none); returns the answer. */
static fpm_status_response *ask_status(int fd, const char *token)
{
    fpm_header h = FPM_HEADER_INIT;
    h.request_id = 9;
    h.timestamp_ms = 10;
    fpm_status_request req = FPM_STATUS_REQUEST_INIT;
    req.header = &h;
    if (token) req.auth_token = (char *)token;
    send_msg(fd, FASTPORT_ID_ADMIN_STATUS_REQUEST, &req.base);
    size_t n = expect(fd, FASTPORT_ID_ADMIN_STATUS_RESPONSE);
    fpm_status_response *resp =
        fastport__protocols__admin__admin_status_summary_response__unpack(NULL, n, buf);
    ck_assert_ptr_nonnull(resp);
    return resp;
}

static void assert_status_refused(fpm_status_response *resp)
{
    ck_assert_int_eq(resp->result, FPM_RESULT_ERROR);
    ck_assert_ptr_null(resp->header);
    ck_assert_uint_eq(resp->server_uptime_ms, 0);
    ck_assert_uint_eq(resp->active_session_count, 0);
    ck_assert_uint_eq(resp->total_rx_bytes, 0);
    ck_assert_uint_eq(resp->process_memory_bytes, 0);
    ck_assert_str_eq(resp->transport_name, "");
    fastport__protocols__admin__admin_status_summary_response__free_unpacked(resp, NULL);
}

START_TEST(status_refused_without_the_token)
{
    start_with_token();
    int fd = client();
    assert_status_refused(ask_status(fd, NULL));
    assert_status_refused(ask_status(fd, ""));
    assert_status_refused(ask_status(fd, "s3cre"));
    assert_status_refused(ask_status(fd, "s3cret!"));
    assert_status_refused(ask_status(fd, "S3CRET"));
    ck_assert_uint_eq(wait_stat("plugin.fastport_admin_refused", 5), 5);
    /* refusal is an answer, not a disconnect */
    echo_round_trip(fd, 1, "still here");
    close(fd);
    stop_engine();
}
END_TEST

START_TEST(status_accepted_with_the_token)
{
    start_with_token();
    int fd = client();
    echo_round_trip(fd, 1, "some traffic first");
    uint64_t before_ms = (uint64_t)time(NULL) * 1000u;
    fpm_status_response *resp = ask_status(fd, ADMIN_TOKEN);
    ck_assert_int_eq(resp->result, FPM_RESULT_OK);
    ck_assert_ptr_nonnull(resp->header);
    ck_assert_uint_eq(resp->header->request_id, 9);
    ck_assert_uint_eq(resp->header->timestamp_ms, 10);
    ck_assert_uint_ge(resp->active_session_count, 1);
    ck_assert_uint_gt(resp->total_rx_bytes, 0);
    ck_assert_uint_gt(resp->total_tx_bytes, 0);
    ck_assert_uint_eq(resp->idle_disconnect_count, 0);
    ck_assert_int_eq(resp->server_mode, FPM_SERVER_MODE_UNKNOWN);
    ck_assert_uint_gt(resp->process_memory_bytes, 0);
    ck_assert(resp->process_cpu_percent >= 0.0);
    ck_assert_uint_ge(resp->server_timestamp_ms, before_ms);
    ck_assert_str_eq(resp->transport_name, fp_engine_transport_name(engine));
    uint64_t first_uptime = resp->server_uptime_ms;
    fastport__protocols__admin__admin_status_summary_response__free_unpacked(resp, NULL);

    usleep(20000);
    resp = ask_status(fd, ADMIN_TOKEN);
    ck_assert_int_eq(resp->result, FPM_RESULT_OK);
    ck_assert_uint_gt(resp->server_uptime_ms, first_uptime);
    fastport__protocols__admin__admin_status_summary_response__free_unpacked(resp, NULL);
    ck_assert_uint_eq(fp_engine_stat(engine, "plugin.fastport_admin_refused"), 0);
    close(fd);
    stop_engine();
}
END_TEST

START_TEST(admin_refused_when_no_token_is_configured)
{
    start_engine(NULL, 0);
    int fd = client();
    assert_status_refused(ask_status(fd, NULL));
    assert_status_refused(ask_status(fd, ADMIN_TOKEN));

    fpm_sessions_request req = FPM_SESSIONS_REQUEST_INIT;
    req.auth_token = (char *)"";
    send_msg(fd, FASTPORT_ID_ADMIN_SESSIONS_REQUEST, &req.base);
    size_t n = expect(fd, FASTPORT_ID_ADMIN_SESSIONS_RESPONSE);
    fpm_sessions_response *resp =
        fastport__protocols__admin__admin_session_list_response__unpack(NULL, n, buf);
    ck_assert_ptr_nonnull(resp);
    ck_assert_int_eq(resp->result, FPM_RESULT_ERROR);
    ck_assert_uint_eq(resp->total, 0);
    ck_assert_uint_eq(resp->n_sessions, 0);
    fastport__protocols__admin__admin_session_list_response__free_unpacked(resp, NULL);
    ck_assert_uint_eq(wait_stat("plugin.fastport_admin_refused", 3), 3);
    close(fd);
    stop_engine();
}
END_TEST

static fpm_sessions_response *ask_sessions(int fd, const char *token, uint32_t offset, uint32_t limit)
{
    fpm_header h = FPM_HEADER_INIT;
    h.request_id = 31;
    fpm_sessions_request req = FPM_SESSIONS_REQUEST_INIT;
    req.header = &h;
    req.offset = offset;
    req.limit = limit;
    req.auth_token = (char *)token;
    send_msg(fd, FASTPORT_ID_ADMIN_SESSIONS_REQUEST, &req.base);
    size_t n = expect(fd, FASTPORT_ID_ADMIN_SESSIONS_RESPONSE);
    fpm_sessions_response *resp =
        fastport__protocols__admin__admin_session_list_response__unpack(NULL, n, buf);
    ck_assert_ptr_nonnull(resp);
    return resp;
}

/* Other workers answer from snapshots refreshed on request, so the list
 * catches up within a request or two: ask until it shows `want` sessions
 * with traffic both ways (the asking session has sent nothing back until
 * its first list reply, so a list settled on the first ask would show it
 * with tx_bytes 0). */
static fpm_sessions_response *ask_until_settled(int fd, size_t want, uint32_t limit)
{
    for (int i = 0; i < 200; i++) {
        fpm_sessions_response *resp = ask_sessions(fd, ADMIN_TOKEN, 0, limit);
        ck_assert_int_eq(resp->result, FPM_RESULT_OK);
        int settled = resp->total == want;
        for (size_t r = 0; settled && r < resp->n_sessions; r++)
            settled = resp->sessions[r]->rx_bytes > 0 && resp->sessions[r]->tx_bytes > 0;
        if (settled) return resp;
        fastport__protocols__admin__admin_session_list_response__free_unpacked(resp, NULL);
        usleep(10000);
    }
    ck_abort_msg("the session list never showed %zu sessions", want);
    return NULL;
}

START_TEST(session_list_pages)
{
    enum { OTHERS = 6 };
    start_with_token();
    int admin = client();
    int others[OTHERS];
    for (int i = 0; i < OTHERS; i++) {
        others[i] = client();
        echo_round_trip(others[i], (uint64_t)i, "hello");
    }
    const size_t total = OTHERS + 1;

    /* limit 0 means the maximum page */
    fpm_sessions_response *all = ask_until_settled(admin, total, 0);
    ck_assert_uint_eq(all->n_sessions, total);
    ck_assert_uint_eq(all->offset, 0);
    ck_assert_uint_eq(all->header->request_id, 31);
    for (size_t r = 0; r < all->n_sessions; r++) {
        const fpm_session_info *row = all->sessions[r];
        if (r > 0) ck_assert_uint_gt(row->session_id, all->sessions[r - 1]->session_id);
        ck_assert_int_gt(row->last_recv_ms, 0);
        ck_assert_uint_gt(row->tx_bytes, 0);
    }

    fpm_sessions_response *page = ask_sessions(admin, ADMIN_TOKEN, 2, 3);
    ck_assert_int_eq(page->result, FPM_RESULT_OK);
    ck_assert_uint_eq(page->total, total);
    ck_assert_uint_eq(page->offset, 2);
    ck_assert_uint_eq(page->n_sessions, 3);
    for (size_t r = 0; r < 3; r++)
        ck_assert_uint_eq(page->sessions[r]->session_id, all->sessions[r + 2]->session_id);
    fastport__protocols__admin__admin_session_list_response__free_unpacked(page, NULL);

    page = ask_sessions(admin, ADMIN_TOKEN, (uint32_t)total - 1, 5000);
    ck_assert_uint_eq(page->n_sessions, 1);
    ck_assert_uint_eq(page->sessions[0]->session_id, all->sessions[total - 1]->session_id);
    fastport__protocols__admin__admin_session_list_response__free_unpacked(page, NULL);

    page = ask_sessions(admin, ADMIN_TOKEN, (uint32_t)total, 10);
    ck_assert_int_eq(page->result, FPM_RESULT_OK);
    ck_assert_uint_eq(page->total, total);
    ck_assert_uint_eq(page->offset, total);
    ck_assert_uint_eq(page->n_sessions, 0);
    fastport__protocols__admin__admin_session_list_response__free_unpacked(page, NULL);

    page = ask_sessions(admin, ADMIN_TOKEN, 4000000000u, 10);
    ck_assert_uint_eq(page->offset, 4000000000u);
    ck_assert_uint_eq(page->n_sessions, 0);
    fastport__protocols__admin__admin_session_list_response__free_unpacked(page, NULL);

    page = ask_sessions(admin, "wrong", 0, 10);
    ck_assert_int_eq(page->result, FPM_RESULT_ERROR);
    ck_assert_uint_eq(page->n_sessions, 0);
    fastport__protocols__admin__admin_session_list_response__free_unpacked(page, NULL);

    fastport__protocols__admin__admin_session_list_response__free_unpacked(all, NULL);
    for (int i = 0; i < OTHERS; i++) close(others[i]);
    close(admin);
    stop_engine();
}
END_TEST

/* Over 1000 sessions: a page never holds more than 1000 rows. */
START_TEST(session_list_limit_is_clamped)
{
    enum { OTHERS = 1005 };
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 2 * OTHERS + 100) {
        printf("session_list_limit_is_clamped: skipped, only %llu descriptors\n",
               (unsigned long long)rl.rlim_cur);
        return;
    }
    start_with_token();
    int admin = client();
    echo_round_trip(admin, 1, "first");
    static int others[OTHERS];
    for (int i = 0; i < OTHERS; i++) others[i] = client();
    ck_assert_uint_ge(wait_stat("sessions_open", OTHERS + 1), OTHERS + 1);

    fpm_sessions_response *resp = NULL;
    for (int i = 0; i < 200; i++) {
        resp = ask_sessions(admin, ADMIN_TOKEN, 0, 5000);
        if (resp->total == OTHERS + 1) break;
        fastport__protocols__admin__admin_session_list_response__free_unpacked(resp, NULL);
        resp = NULL;
        usleep(10000);
    }
    ck_assert_msg(resp != NULL, "the session list never showed every session");
    ck_assert_uint_eq(resp->n_sessions, FASTPORT_SESSION_LIST_MAX);
    fastport__protocols__admin__admin_session_list_response__free_unpacked(resp, NULL);

    resp = ask_sessions(admin, ADMIN_TOKEN, 0, 0);
    ck_assert_uint_eq(resp->n_sessions, FASTPORT_SESSION_LIST_MAX);
    fastport__protocols__admin__admin_session_list_response__free_unpacked(resp, NULL);

    resp = ask_sessions(admin, ADMIN_TOKEN, FASTPORT_SESSION_LIST_MAX, 0);
    ck_assert_uint_eq(resp->n_sessions, OTHERS + 1 - FASTPORT_SESSION_LIST_MAX);
    fastport__protocols__admin__admin_session_list_response__free_unpacked(resp, NULL);

    for (int i = 0; i < OTHERS; i++) close(others[i]);
    close(admin);
    stop_engine();
}
END_TEST

static const uint8_t malformed[] = {0x0A, 0x05, 0x08}; /* header claims 5 bytes, has 1 */

START_TEST(malformed_echo_gets_an_error_and_the_session_lives)
{
    start_with_token();
    int fd = client();
    ck_assert_int_eq(bc_send(fd, FASTPORT_ID_ECHO, malformed, sizeof malformed), 0);
    size_t n = expect(fd, FASTPORT_ID_ECHO);
    fpm_echo_response *resp = fastport__protocols__tests__echo_response__unpack(NULL, n, buf);
    ck_assert_ptr_nonnull(resp);
    ck_assert_int_eq(resp->result, FPM_RESULT_ERROR);
    ck_assert_ptr_null(resp->header);
    ck_assert_uint_eq(resp->data.len, 0);
    fastport__protocols__tests__echo_response__free_unpacked(resp, NULL);

    echo_round_trip(fd, 5, "after the bad one");
    ck_assert_uint_eq(fp_engine_stat(engine, "plugin.fastport_malformed"), 1);
    ck_assert_uint_eq(fp_engine_stat(engine, "sessions_closed"), 0);
    ck_assert_uint_eq(fp_engine_stat(engine, "handler_errors"), 0);
    close(fd);
    stop_engine();
}
END_TEST

START_TEST(malformed_benchmark_and_admin_get_errors)
{
    start_with_token();
    int fd = client();
    ck_assert_int_eq(bc_send(fd, FASTPORT_ID_BENCHMARK_REQUEST, malformed, sizeof malformed), 0);
    size_t n = expect(fd, FASTPORT_ID_BENCHMARK_RESPONSE);
    fpm_benchmark_response *bench =
        fastport__protocols__benchmark__benchmark_response__unpack(NULL, n, buf);
    ck_assert_ptr_nonnull(bench);
    ck_assert_int_eq(bench->result, FPM_RESULT_ERROR);
    ck_assert_uint_eq(bench->server_recv_timestamp_ns, 0);
    fastport__protocols__benchmark__benchmark_response__free_unpacked(bench, NULL);

    ck_assert_int_eq(bc_send(fd, FASTPORT_ID_ADMIN_STATUS_REQUEST, malformed, sizeof malformed), 0);
    n = expect(fd, FASTPORT_ID_ADMIN_STATUS_RESPONSE);
    fpm_status_response *status =
        fastport__protocols__admin__admin_status_summary_response__unpack(NULL, n, buf);
    ck_assert_ptr_nonnull(status);
    ck_assert_int_eq(status->result, FPM_RESULT_ERROR);
    fastport__protocols__admin__admin_status_summary_response__free_unpacked(status, NULL);

    ck_assert_int_eq(bc_send(fd, FASTPORT_ID_ADMIN_SESSIONS_REQUEST, malformed, sizeof malformed), 0);
    n = expect(fd, FASTPORT_ID_ADMIN_SESSIONS_RESPONSE);
    fpm_sessions_response *sessions =
        fastport__protocols__admin__admin_session_list_response__unpack(NULL, n, buf);
    ck_assert_ptr_nonnull(sessions);
    ck_assert_int_eq(sessions->result, FPM_RESULT_ERROR);
    fastport__protocols__admin__admin_session_list_response__free_unpacked(sessions, NULL);

    echo_round_trip(fd, 8, "still usable");
    ck_assert_uint_eq(fp_engine_stat(engine, "plugin.fastport_malformed"), 3);
    ck_assert_uint_eq(fp_engine_stat(engine, "plugin.fastport_admin_refused"), 0);
    close(fd);
    stop_engine();
}
END_TEST

/* A reply that would not fit one frame is answered with ERROR instead. */
START_TEST(oversized_echo_reply_gets_an_error)
{
    start_with_token();
    int fd = client();
    static uint8_t data[65520]; /* request 65524 bytes; its reply would be over 65531 */
    memset(data, 0x5A, sizeof data);
    fpm_echo_request req = FPM_ECHO_REQUEST_INIT;
    req.data.data = data;
    req.data.len = sizeof data;
    send_msg(fd, FASTPORT_ID_ECHO, &req.base);
    size_t n = expect(fd, FASTPORT_ID_ECHO);
    fpm_echo_response *resp = fastport__protocols__tests__echo_response__unpack(NULL, n, buf);
    ck_assert_ptr_nonnull(resp);
    ck_assert_int_eq(resp->result, FPM_RESULT_ERROR);
    ck_assert_uint_eq(resp->data.len, 0);
    fastport__protocols__tests__echo_response__free_unpacked(resp, NULL);
    echo_round_trip(fd, 2, "smaller");
    ck_assert_uint_eq(fp_engine_stat(engine, "plugin.fastport_reply_too_large"), 1);
    ck_assert_uint_eq(fp_engine_stat(engine, "sessions_closed"), 0);
    close(fd);
    stop_engine();
}
END_TEST

/* fastport claims only its own ids: the rest get no answer from it and are
 * the engine's unhandled packets; the next frame back is the echo sent after them. */
START_TEST(unknown_ids_are_left_to_the_engine)
{
    start_with_token();
    int fd = client();
    ck_assert_int_eq(bc_send(fd, 0x8005, "x", 1), 0);
    ck_assert_int_eq(bc_send(fd, 0x8FFF, NULL, 0), 0);
    ck_assert_int_eq(bc_send(fd, FASTPORT_ID_ADMIN_STATUS_RESPONSE, NULL, 0), 0);
    ck_assert_int_eq(bc_send(fd, 0x2222, "y", 1), 0);
    ck_assert_int_eq(bc_send(fd, FASTPORT_ID_BENCHMARK_RESPONSE, NULL, 0), 0);
    echo_round_trip(fd, 3, "after the unknown ones");
    ck_assert_uint_eq(fp_engine_stat(engine, "unhandled_packets"), 5);
    ck_assert_uint_eq(fp_engine_stat(engine, "sessions_closed"), 0);
    close(fd);
    stop_engine();
}
END_TEST

/* --plugin=fastport,echo: fastport answers its ids, echo's catch-all the rest. */
START_TEST(composes_with_echo_after_it)
{
    static const char *const plugins[] = {"fastport", "echo"};
    start_engine_with(plugins, 2, token_opts, 1);
    int fd = client();
    ck_assert_int_eq(bc_send(fd, 0x2222, "raw", 3), 0);
    ck_assert_uint_eq(expect(fd, 0x2222), 3);
    ck_assert_mem_eq(buf, "raw", 3);
    echo_round_trip(fd, 7, "answered by fastport");
    ck_assert_int_eq(bc_send(fd, 0x8005, "admin band", 10), 0);
    ck_assert_uint_eq(expect(fd, 0x8005), 10);
    ck_assert_uint_eq(fp_engine_stat(engine, "unhandled_packets"), 0);
    close(fd);
    stop_engine();
}
END_TEST

START_TEST(unknown_option_fails_init)
{
    static const fp_kv bad[] = {{"fastport.admin_token", "x"}, {"fastport.admin_tokn", "y"}};
    char err[512] = "";
    fp_engine *e = create_engine(bad, 2, err, sizeof err);
    ck_assert_ptr_null(e);
    ck_assert_msg(strstr(err, "admin_tokn") != NULL, "error does not name the key: %s", err);

    static const fp_kv empty[] = {{"fastport.admin_token", ""}};
    e = create_engine(empty, 1, err, sizeof err);
    ck_assert_ptr_null(e);
    ck_assert_msg(strstr(err, "admin_token") != NULL, "error does not name the key: %s", err);
}
END_TEST

static Suite *plugin_suite(void)
{
    Suite *s = suite_create("fastport_plugin");
    TCase *tc = tcase_create("plugin");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, echo_reply_fields);
    tcase_add_test(tc, benchmark_reply_fields);
    tcase_add_test(tc, status_refused_without_the_token);
    tcase_add_test(tc, status_accepted_with_the_token);
    tcase_add_test(tc, admin_refused_when_no_token_is_configured);
    tcase_add_test(tc, session_list_pages);
    tcase_add_test(tc, session_list_limit_is_clamped);
    tcase_add_test(tc, malformed_echo_gets_an_error_and_the_session_lives);
    tcase_add_test(tc, malformed_benchmark_and_admin_get_errors);
    tcase_add_test(tc, oversized_echo_reply_gets_an_error);
    tcase_add_test(tc, unknown_ids_are_left_to_the_engine);
    tcase_add_test(tc, composes_with_echo_after_it);
    tcase_add_test(tc, unknown_option_fails_init);
    suite_add_tcase(s, tc);
    return s;
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max > 8192 ? 8192 : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s TRANSPORT\n", argv[0]);
        return 2;
    }
    transport_name = argv[1];
    const char *dir = getenv("FP_TEST_TRANSPORT_DIR");
    if (dir) {
        char why[512] = "";
        int usable = e2e_transport_probe(dir, transport_name, why, sizeof why);
        if (usable == 0) {
            printf("fastport_plugin: skipping transport %s: %s\n", transport_name, why);
            return 77; /* ctest SKIP_RETURN_CODE */
        }
        if (usable < 0) {
            fprintf(stderr, "fastport_plugin: %s\n", why);
            return 1;
        }
    }
    raise_fd_limit();
    SRunner *sr = srunner_create(plugin_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
