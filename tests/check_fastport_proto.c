/* The FastPort messages against bytes written by hand: tags and varints
 * are computed here, not by protobuf-c, so a changed field number, type or
 * order fails. Each message is packed and compared, then the same bytes
 * are unpacked and every field checked. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastport_wire.h"

/* Header {request_id = 150, timestamp_ms = 1700000000123} */
#define HEADER_BYTES 0x08, 0x96, 0x01, 0x10, 0xFB, 0xD0, 0x95, 0xFF, 0xBC, 0x31
#define HEADER_LEN 10
#define REQUEST_ID 150u
#define TIMESTAMP_MS 1700000000123u

static const uint8_t three_bytes[] = {0x00, 0xFF, 0x10};

static void hex(const uint8_t *p, size_t n, char *out, size_t out_len)
{
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && at + 4 < out_len; i++)
        at += (size_t)snprintf(out + at, out_len - at, "%02X ", p[i]);
}

static void assert_packs_to(const ProtobufCMessage *msg, const uint8_t *want, size_t want_len)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *got = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(got);
    ck_assert_uint_eq(protobuf_c_message_pack(msg, got), len);
    char got_hex[512], want_hex[512];
    hex(got, len, got_hex, sizeof got_hex);
    hex(want, want_len, want_hex, sizeof want_hex);
    ck_assert_msg(len == want_len && memcmp(got, want, len) == 0, "%s packed to\n  %s\nwanted\n  %s",
                  msg->descriptor->name, got_hex, want_hex);
    free(got);
}

static void fill_header(fpm_header *h)
{
    h->request_id = REQUEST_ID;
    h->timestamp_ms = TIMESTAMP_MS;
}

static void assert_header(const fpm_header *h)
{
    ck_assert_ptr_nonnull(h);
    ck_assert_uint_eq(h->request_id, REQUEST_ID);
    ck_assert_uint_eq(h->timestamp_ms, TIMESTAMP_MS);
}

static void assert_bytes(ProtobufCBinaryData got, const void *want, size_t len)
{
    ck_assert_uint_eq(got.len, len);
    ck_assert_mem_eq(got.data, want, len);
}

START_TEST(header)
{
    static const uint8_t bytes[] = {HEADER_BYTES};
    fpm_header h = FPM_HEADER_INIT;
    fill_header(&h);
    assert_packs_to(&h.base, bytes, sizeof bytes);

    fpm_header *back = fastport__protocols__commons__header__unpack(NULL, sizeof bytes, bytes);
    assert_header(back);
    fastport__protocols__commons__header__free_unpacked(back, NULL);
}
END_TEST

static const uint8_t echo_request_bytes[] = {
    0x0A, HEADER_LEN, HEADER_BYTES,
    0x12, 0x03, 0x00, 0xFF, 0x10, /* 2: data */
    0x1A, 0x02, 'h', 'i',         /* 3: data_str */
};

START_TEST(echo_request)
{
    fpm_header h = FPM_HEADER_INIT;
    fill_header(&h);
    fpm_echo_request m = FPM_ECHO_REQUEST_INIT;
    m.header = &h;
    m.data.data = (uint8_t *)three_bytes;
    m.data.len = sizeof three_bytes;
    m.data_str = (char *)"hi";
    assert_packs_to(&m.base, echo_request_bytes, sizeof echo_request_bytes);

    fpm_echo_request *back = fastport__protocols__tests__echo_request__unpack(
        NULL, sizeof echo_request_bytes, echo_request_bytes);
    ck_assert_ptr_nonnull(back);
    assert_header(back->header);
    assert_bytes(back->data, three_bytes, sizeof three_bytes);
    ck_assert_str_eq(back->data_str, "hi");
    fastport__protocols__tests__echo_request__free_unpacked(back, NULL);
}
END_TEST

START_TEST(echo_response)
{
    static const uint8_t bytes[] = {
        0x0A, HEADER_LEN, HEADER_BYTES,
        0x10, 0x01,                   /* 2: result OK */
        0x1A, 0x03, 0x00, 0xFF, 0x10, /* 3: data */
        0x22, 0x02, 'h', 'i',         /* 4: data_str */
    };
    fpm_header h = FPM_HEADER_INIT;
    fill_header(&h);
    fpm_echo_response m = FPM_ECHO_RESPONSE_INIT;
    m.header = &h;
    m.result = FPM_RESULT_OK;
    m.data.data = (uint8_t *)three_bytes;
    m.data.len = sizeof three_bytes;
    m.data_str = (char *)"hi";
    assert_packs_to(&m.base, bytes, sizeof bytes);

    fpm_echo_response *back =
        fastport__protocols__tests__echo_response__unpack(NULL, sizeof bytes, bytes);
    ck_assert_ptr_nonnull(back);
    assert_header(back->header);
    ck_assert_int_eq(back->result, FPM_RESULT_OK);
    assert_bytes(back->data, three_bytes, sizeof three_bytes);
    ck_assert_str_eq(back->data_str, "hi");
    fastport__protocols__tests__echo_response__free_unpacked(back, NULL);
}
END_TEST

/* What the plugin sends for a malformed or refused request. */
START_TEST(error_result_alone)
{
    static const uint8_t bytes[] = {0x10, 0x02};
    fpm_echo_response echo = FPM_ECHO_RESPONSE_INIT;
    echo.result = FPM_RESULT_ERROR;
    assert_packs_to(&echo.base, bytes, sizeof bytes);
    fpm_status_response status = FPM_STATUS_RESPONSE_INIT;
    status.result = FPM_RESULT_ERROR;
    assert_packs_to(&status.base, bytes, sizeof bytes);
}
END_TEST

START_TEST(benchmark_request)
{
    static const uint8_t bytes[] = {
        0x0A, HEADER_LEN, HEADER_BYTES,
        0x10, 0x94, 0xB4, 0xE4, 0xF4, 0xCB, 0x03, /* 2: client_timestamp_ns 123456789012 */
        0x18, 0x92, 0x21,                         /* 3: sequence 4242 */
        0x22, 0x03, 'a', 'b', 'c',                /* 4: payload */
    };
    fpm_header h = FPM_HEADER_INIT;
    fill_header(&h);
    fpm_benchmark_request m = FPM_BENCHMARK_REQUEST_INIT;
    m.header = &h;
    m.client_timestamp_ns = 123456789012u;
    m.sequence = 4242;
    m.payload.data = (uint8_t *)"abc";
    m.payload.len = 3;
    assert_packs_to(&m.base, bytes, sizeof bytes);

    fpm_benchmark_request *back =
        fastport__protocols__benchmark__benchmark_request__unpack(NULL, sizeof bytes, bytes);
    ck_assert_ptr_nonnull(back);
    assert_header(back->header);
    ck_assert_uint_eq(back->client_timestamp_ns, 123456789012u);
    ck_assert_uint_eq(back->sequence, 4242);
    assert_bytes(back->payload, "abc", 3);
    fastport__protocols__benchmark__benchmark_request__free_unpacked(back, NULL);
}
END_TEST

START_TEST(benchmark_response)
{
    static const uint8_t bytes[] = {
        0x0A, HEADER_LEN, HEADER_BYTES,
        0x10, 0x01,                               /* 2: result OK */
        0x18, 0x94, 0xB4, 0xE4, 0xF4, 0xCB, 0x03, /* 3: client_timestamp_ns */
        0x20, 0xB1, 0xD1, 0xF9, 0xD6, 0x03,       /* 4: server_recv 987654321 */
        0x28, 0x87, 0xAD, 0x4B,                   /* 5: server_send 1234567 */
        0x30, 0x92, 0x21,                         /* 6: sequence 4242 */
        0x3A, 0x03, 'a', 'b', 'c',                /* 7: payload */
    };
    fpm_header h = FPM_HEADER_INIT;
    fill_header(&h);
    fpm_benchmark_response m = FPM_BENCHMARK_RESPONSE_INIT;
    m.header = &h;
    m.result = FPM_RESULT_OK;
    m.client_timestamp_ns = 123456789012u;
    m.server_recv_timestamp_ns = 987654321u;
    m.server_send_timestamp_ns = 1234567u;
    m.sequence = 4242;
    m.payload.data = (uint8_t *)"abc";
    m.payload.len = 3;
    assert_packs_to(&m.base, bytes, sizeof bytes);

    fpm_benchmark_response *back =
        fastport__protocols__benchmark__benchmark_response__unpack(NULL, sizeof bytes, bytes);
    ck_assert_ptr_nonnull(back);
    assert_header(back->header);
    ck_assert_int_eq(back->result, FPM_RESULT_OK);
    ck_assert_uint_eq(back->client_timestamp_ns, 123456789012u);
    ck_assert_uint_eq(back->server_recv_timestamp_ns, 987654321u);
    ck_assert_uint_eq(back->server_send_timestamp_ns, 1234567u);
    ck_assert_uint_eq(back->sequence, 4242);
    assert_bytes(back->payload, "abc", 3);
    fastport__protocols__benchmark__benchmark_response__free_unpacked(back, NULL);
}
END_TEST

START_TEST(admin_status_request)
{
    static const uint8_t bytes[] = {
        0x0A, HEADER_LEN, HEADER_BYTES,
        0x12, 0x02, 's', '3', /* 2: auth_token */
    };
    fpm_header h = FPM_HEADER_INIT;
    fill_header(&h);
    fpm_status_request m = FPM_STATUS_REQUEST_INIT;
    m.header = &h;
    m.auth_token = (char *)"s3";
    assert_packs_to(&m.base, bytes, sizeof bytes);

    fpm_status_request *back =
        fastport__protocols__admin__admin_status_summary_request__unpack(NULL, sizeof bytes, bytes);
    ck_assert_ptr_nonnull(back);
    assert_header(back->header);
    ck_assert_str_eq(back->auth_token, "s3");
    fastport__protocols__admin__admin_status_summary_request__free_unpacked(back, NULL);
}
END_TEST

START_TEST(admin_status_response)
{
    static const uint8_t bytes[] = {
        0x0A, HEADER_LEN, HEADER_BYTES,
        0x10, 0x01,                         /* 2: result OK */
        0x18, 0x80, 0xDD, 0xDB, 0x01,       /* 3: server_uptime_ms 3600000 */
        0x20, 0x4D,                         /* 4: active_session_count 77 */
        0x28, 0x80, 0x80, 0x40,             /* 5: total_rx_bytes 1048576 */
        0x30, 0x80, 0x80, 0x80, 0x01,       /* 6: total_tx_bytes 2097152 */
        0x38, 0x05,                         /* 7: idle_disconnect_count 5 */
        0x40, 0x02,                         /* 8: server_mode 2 */
        0x48, 0x80, 0x20,                   /* 9: process_memory_bytes 4096 */
        0x51, 0, 0, 0, 0, 0, 0, 0x29, 0x40, /* 10: process_cpu_percent 12.5, fixed64 LE */
        0x58, 0x80, 0x90, 0xC8, 0xCC, 0xF8, 0x31, /* 11: server_timestamp_ms 1716000000000 */
        0x62, 0x03, 't', 'c', 'p',          /* 12: transport_name */
    };
    fpm_header h = FPM_HEADER_INIT;
    fill_header(&h);
    fpm_status_response m = FPM_STATUS_RESPONSE_INIT;
    m.header = &h;
    m.result = FPM_RESULT_OK;
    m.server_uptime_ms = 3600000u;
    m.active_session_count = 77;
    m.total_rx_bytes = 1048576u;
    m.total_tx_bytes = 2097152u;
    m.idle_disconnect_count = 5;
    m.server_mode = (Fastport__Protocols__Admin__ServerMode)2;
    m.process_memory_bytes = 4096;
    m.process_cpu_percent = 12.5;
    m.server_timestamp_ms = 1716000000000u;
    m.transport_name = (char *)"tcp";
    assert_packs_to(&m.base, bytes, sizeof bytes);

    fpm_status_response *back =
        fastport__protocols__admin__admin_status_summary_response__unpack(NULL, sizeof bytes, bytes);
    ck_assert_ptr_nonnull(back);
    assert_header(back->header);
    ck_assert_int_eq(back->result, FPM_RESULT_OK);
    ck_assert_uint_eq(back->server_uptime_ms, 3600000u);
    ck_assert_uint_eq(back->active_session_count, 77);
    ck_assert_uint_eq(back->total_rx_bytes, 1048576u);
    ck_assert_uint_eq(back->total_tx_bytes, 2097152u);
    ck_assert_uint_eq(back->idle_disconnect_count, 5);
    ck_assert_int_eq(back->server_mode, 2);
    ck_assert_uint_eq(back->process_memory_bytes, 4096);
    ck_assert_double_eq(back->process_cpu_percent, 12.5);
    ck_assert_uint_eq(back->server_timestamp_ms, 1716000000000u);
    ck_assert_str_eq(back->transport_name, "tcp");
    fastport__protocols__admin__admin_status_summary_response__free_unpacked(back, NULL);
}
END_TEST

START_TEST(admin_sessions_request)
{
    static const uint8_t bytes[] = {
        0x0A, HEADER_LEN, HEADER_BYTES,
        0x10, 0x05,           /* 2: offset 5 */
        0x18, 0xE8, 0x07,     /* 3: limit 1000 */
        0x22, 0x02, 's', '3', /* 4: auth_token */
    };
    fpm_header h = FPM_HEADER_INIT;
    fill_header(&h);
    fpm_sessions_request m = FPM_SESSIONS_REQUEST_INIT;
    m.header = &h;
    m.offset = 5;
    m.limit = 1000;
    m.auth_token = (char *)"s3";
    assert_packs_to(&m.base, bytes, sizeof bytes);

    fpm_sessions_request *back =
        fastport__protocols__admin__admin_session_list_request__unpack(NULL, sizeof bytes, bytes);
    ck_assert_ptr_nonnull(back);
    assert_header(back->header);
    ck_assert_uint_eq(back->offset, 5);
    ck_assert_uint_eq(back->limit, 1000);
    ck_assert_str_eq(back->auth_token, "s3");
    fastport__protocols__admin__admin_session_list_request__free_unpacked(back, NULL);
}
END_TEST

/* AdminSessionInfo {session_id 2^44 + 5, last_recv_ms 300, rx 65535, tx 150} */
#define SESSION_ID (((uint64_t)1 << 44) + 5)
#define SESSION_INFO_BYTES                                                                         \
    0x08, 0x85, 0x80, 0x80, 0x80, 0x80, 0x80, 0x04, /* 1: session_id */                         \
        0x10, 0xAC, 0x02,                           /* 2: last_recv_ms 300 */                    \
        0x18, 0xFF, 0xFF, 0x03,                     /* 3: rx_bytes 65535 */                      \
        0x20, 0x96, 0x01                            /* 4: tx_bytes 150 */
#define SESSION_INFO_LEN 18

static void fill_session_info(fpm_session_info *info)
{
    info->session_id = SESSION_ID;
    info->last_recv_ms = 300;
    info->rx_bytes = 65535;
    info->tx_bytes = 150;
}

static void assert_session_info(const fpm_session_info *info)
{
    ck_assert_uint_eq(info->session_id, SESSION_ID);
    ck_assert_int_eq(info->last_recv_ms, 300);
    ck_assert_uint_eq(info->rx_bytes, 65535);
    ck_assert_uint_eq(info->tx_bytes, 150);
}

START_TEST(admin_session_info)
{
    static const uint8_t bytes[] = {SESSION_INFO_BYTES};
    ck_assert_uint_eq(sizeof bytes, SESSION_INFO_LEN);
    fpm_session_info m = FPM_SESSION_INFO_INIT;
    fill_session_info(&m);
    assert_packs_to(&m.base, bytes, sizeof bytes);

    fpm_session_info *back =
        fastport__protocols__admin__admin_session_info__unpack(NULL, sizeof bytes, bytes);
    ck_assert_ptr_nonnull(back);
    assert_session_info(back);
    fastport__protocols__admin__admin_session_info__free_unpacked(back, NULL);
}
END_TEST

START_TEST(admin_sessions_response)
{
    static const uint8_t bytes[] = {
        0x0A, HEADER_LEN, HEADER_BYTES,
        0x10, 0x01,                                      /* 2: result OK */
        0x18, 0xE8, 0x07,                                /* 3: total 1000 */
        0x20, 0x05,                                      /* 4: offset 5 */
        0x2A, SESSION_INFO_LEN, SESSION_INFO_BYTES,      /* 5: sessions[0] */
        0x2A, 0x02, 0x08, 0x01,                          /* 5: sessions[1] {session_id 1} */
    };
    fpm_header h = FPM_HEADER_INIT;
    fill_header(&h);
    fpm_session_info first = FPM_SESSION_INFO_INIT, second = FPM_SESSION_INFO_INIT;
    fill_session_info(&first);
    second.session_id = 1;
    fpm_session_info *rows[] = {&first, &second};
    fpm_sessions_response m = FPM_SESSIONS_RESPONSE_INIT;
    m.header = &h;
    m.result = FPM_RESULT_OK;
    m.total = 1000;
    m.offset = 5;
    m.n_sessions = 2;
    m.sessions = rows;
    assert_packs_to(&m.base, bytes, sizeof bytes);

    fpm_sessions_response *back =
        fastport__protocols__admin__admin_session_list_response__unpack(NULL, sizeof bytes, bytes);
    ck_assert_ptr_nonnull(back);
    assert_header(back->header);
    ck_assert_int_eq(back->result, FPM_RESULT_OK);
    ck_assert_uint_eq(back->total, 1000);
    ck_assert_uint_eq(back->offset, 5);
    ck_assert_uint_eq(back->n_sessions, 2);
    assert_session_info(back->sessions[0]);
    ck_assert_uint_eq(back->sessions[1]->session_id, 1);
    ck_assert_int_eq(back->sessions[1]->last_recv_ms, 0);
    ck_assert_uint_eq(back->sessions[1]->rx_bytes, 0);
    ck_assert_uint_eq(back->sessions[1]->tx_bytes, 0);
    fastport__protocols__admin__admin_session_list_response__free_unpacked(back, NULL);
}
END_TEST

/* A newer peer's fields (any wire type) are skipped, the known ones kept. */
START_TEST(unknown_fields_are_skipped)
{
    static const uint8_t bytes[] = {
        0x78, 0x05,                         /* 15: varint */
        0x0A, HEADER_LEN, HEADER_BYTES,
        0x4D, 0x01, 0x02, 0x03, 0x04,       /* 9: fixed32 */
        0x12, 0x03, 0x00, 0xFF, 0x10,
        0xA2, 0x01, 0x02, 'z', 'z',         /* 20: length-delimited */
        0x1A, 0x02, 'h', 'i',
        0x59, 1, 2, 3, 4, 5, 6, 7, 8,       /* 11: fixed64 */
    };
    fpm_echo_request *back =
        fastport__protocols__tests__echo_request__unpack(NULL, sizeof bytes, bytes);
    ck_assert_ptr_nonnull(back);
    assert_header(back->header);
    assert_bytes(back->data, three_bytes, sizeof three_bytes);
    ck_assert_str_eq(back->data_str, "hi");
    fastport__protocols__tests__echo_request__free_unpacked(back, NULL);
}
END_TEST

/* Bodies the plugin must answer with ERROR: unpack refuses them. */
START_TEST(malformed_bodies_are_refused)
{
    static const uint8_t truncated_length[] = {0x0A, 0x05, 0x08};
    static const uint8_t truncated_string[] = {0x12, 0x01, 0x00, 0x1A, 0x02, 'h'};
    static const uint8_t truncated_varint[] = {0x78, 0x80};
    static const uint8_t endless_varint[] = {0x78, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                             0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    static const uint8_t field_zero[] = {0x00, 0x01};
    const struct {
        const uint8_t *p;
        size_t n;
    } bodies[] = {
        {truncated_length, sizeof truncated_length},
        {truncated_string, sizeof truncated_string},
        {truncated_varint, sizeof truncated_varint},
        {endless_varint, sizeof endless_varint},
        {field_zero, sizeof field_zero},
        {echo_request_bytes, sizeof echo_request_bytes - 1},
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        fpm_echo_request *m =
            fastport__protocols__tests__echo_request__unpack(NULL, bodies[i].n, bodies[i].p);
        ck_assert_msg(m == NULL, "body %zu was accepted", i);
    }
}
END_TEST

static Suite *proto_suite(void)
{
    Suite *s = suite_create("fastport_proto");
    TCase *tc = tcase_create("messages");
    tcase_add_test(tc, header);
    tcase_add_test(tc, echo_request);
    tcase_add_test(tc, echo_response);
    tcase_add_test(tc, error_result_alone);
    tcase_add_test(tc, benchmark_request);
    tcase_add_test(tc, benchmark_response);
    tcase_add_test(tc, admin_status_request);
    tcase_add_test(tc, admin_status_response);
    tcase_add_test(tc, admin_sessions_request);
    tcase_add_test(tc, admin_session_info);
    tcase_add_test(tc, admin_sessions_response);
    tcase_add_test(tc, unknown_fields_are_skipped);
    tcase_add_test(tc, malformed_bodies_are_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(proto_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
