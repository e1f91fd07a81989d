/*
 * fastport_wire.h - FastPort C++'s packet ids and short names for the
 * protobuf-c messages generated from plugins/fastport/proto (docs/PROTOCOL.md,
 * "FastPort protocol plugin"). For the plugin, fastport-client and
 * fastport-bench: link fastport_proto.
 */
#ifndef FASTPORT_WIRE_H
#define FASTPORT_WIRE_H

#include "admin.pb-c.h"
#include "benchmark.pb-c.h"
#include "commons.pb-c.h"
#include "tests.pb-c.h"

/* Packet ids: one frame carries one message. */
#define FASTPORT_ID_ECHO 0x0001u /* EchoRequest C->S, EchoResponse S->C */
#define FASTPORT_ID_BENCHMARK_REQUEST 0x1001u
#define FASTPORT_ID_BENCHMARK_RESPONSE 0x1002u
#define FASTPORT_ID_ADMIN_STATUS_REQUEST 0x8001u
#define FASTPORT_ID_ADMIN_STATUS_RESPONSE 0x8002u
#define FASTPORT_ID_ADMIN_SESSIONS_REQUEST 0x8003u
#define FASTPORT_ID_ADMIN_SESSIONS_RESPONSE 0x8004u

/* Ids with (id & FASTPORT_ADMIN_BAND_MASK) == FASTPORT_ADMIN_BAND are admin. */
#define FASTPORT_ADMIN_BAND 0x8000u
#define FASTPORT_ADMIN_BAND_MASK 0xF000u

/* The session list returns at most this many rows per request. */
#define FASTPORT_SESSION_LIST_MAX 1000u

typedef Fastport__Protocols__Commons__Header fpm_header;
typedef Fastport__Protocols__Tests__EchoRequest fpm_echo_request;
typedef Fastport__Protocols__Tests__EchoResponse fpm_echo_response;
typedef Fastport__Protocols__Benchmark__BenchmarkRequest fpm_benchmark_request;
typedef Fastport__Protocols__Benchmark__BenchmarkResponse fpm_benchmark_response;
typedef Fastport__Protocols__Admin__AdminStatusSummaryRequest fpm_status_request;
typedef Fastport__Protocols__Admin__AdminStatusSummaryResponse fpm_status_response;
typedef Fastport__Protocols__Admin__AdminSessionListRequest fpm_sessions_request;
typedef Fastport__Protocols__Admin__AdminSessionListResponse fpm_sessions_response;
typedef Fastport__Protocols__Admin__AdminSessionInfo fpm_session_info;

#define FPM_HEADER_INIT FASTPORT__PROTOCOLS__COMMONS__HEADER__INIT
#define FPM_ECHO_REQUEST_INIT FASTPORT__PROTOCOLS__TESTS__ECHO_REQUEST__INIT
#define FPM_ECHO_RESPONSE_INIT FASTPORT__PROTOCOLS__TESTS__ECHO_RESPONSE__INIT
#define FPM_BENCHMARK_REQUEST_INIT FASTPORT__PROTOCOLS__BENCHMARK__BENCHMARK_REQUEST__INIT
#define FPM_BENCHMARK_RESPONSE_INIT FASTPORT__PROTOCOLS__BENCHMARK__BENCHMARK_RESPONSE__INIT
#define FPM_STATUS_REQUEST_INIT FASTPORT__PROTOCOLS__ADMIN__ADMIN_STATUS_SUMMARY_REQUEST__INIT
#define FPM_STATUS_RESPONSE_INIT FASTPORT__PROTOCOLS__ADMIN__ADMIN_STATUS_SUMMARY_RESPONSE__INIT
#define FPM_SESSIONS_REQUEST_INIT FASTPORT__PROTOCOLS__ADMIN__ADMIN_SESSION_LIST_REQUEST__INIT
#define FPM_SESSIONS_RESPONSE_INIT FASTPORT__PROTOCOLS__ADMIN__ADMIN_SESSION_LIST_RESPONSE__INIT
#define FPM_SESSION_INFO_INIT FASTPORT__PROTOCOLS__ADMIN__ADMIN_SESSION_INFO__INIT

#define FPM_RESULT_OK FASTPORT__PROTOCOLS__COMMONS__RESULT_CODE__RESULT_CODE_OK
#define FPM_RESULT_ERROR FASTPORT__PROTOCOLS__COMMONS__RESULT_CODE__RESULT_CODE_ERROR
#define FPM_SERVER_MODE_UNKNOWN FASTPORT__PROTOCOLS__ADMIN__SERVER_MODE__UNKNOWN

#endif
