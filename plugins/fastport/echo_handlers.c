/* Echo (0x0001) and the three-timestamp benchmark (0x1001 -> 0x1002). */
#include <time.h>

#include "plugin_ctx.h"

static fp_status echo_error(const fastport_ctx *ctx, fp_session *s)
{
    fpm_echo_response resp = FPM_ECHO_RESPONSE_INIT;
    resp.result = FPM_RESULT_ERROR;
    return fastport_reply(ctx, s, FASTPORT_ID_ECHO, &resp.base);
}

fp_status fastport_on_echo(void *plugin_ctx, fp_session *s, uint16_t packet_id,
                           const uint8_t *payload, size_t len)
{
    const fastport_ctx *ctx = plugin_ctx;
    fpm_echo_request *req = fastport__protocols__tests__echo_request__unpack(NULL, len, payload);
    if (!req) {
        ctx->api->stat_add(s, "fastport_malformed", 1);
        return echo_error(ctx, s);
    }
    fpm_header header = FPM_HEADER_INIT;
    header.request_id = (req->header ? req->header->request_id : 0) + 1;
    /* FastPort C++ puts time(NULL), Unix SECONDS, in timestamp_ms; its
     * clients expect that, so the quirk is kept (docs/PROTOCOL.md). */
    header.timestamp_ms = (uint64_t)time(NULL);

    fpm_echo_response resp = FPM_ECHO_RESPONSE_INIT;
    resp.header = &header;
    resp.result = FPM_RESULT_OK;
    resp.data = req->data;
    resp.data_str = req->data_str;
    fp_status st = fastport_reply(ctx, s, FASTPORT_ID_ECHO, &resp.base);
    fastport__protocols__tests__echo_request__free_unpacked(req, NULL);
    if (st == FP_EINVAL) {
        ctx->api->stat_add(s, "fastport_reply_too_large", 1);
        return echo_error(ctx, s);
    }
    return st;
}

static fp_status benchmark_error(const fastport_ctx *ctx, fp_session *s)
{
    fpm_benchmark_response resp = FPM_BENCHMARK_RESPONSE_INIT;
    resp.result = FPM_RESULT_ERROR;
    return fastport_reply(ctx, s, FASTPORT_ID_BENCHMARK_RESPONSE, &resp.base);
}

fp_status fastport_on_benchmark(void *plugin_ctx, fp_session *s, uint16_t packet_id,
                                const uint8_t *payload, size_t len)
{
    const fastport_ctx *ctx = plugin_ctx;
    /* Taken before decoding, as FastPort C++ does, so the server's share
     * of the round trip includes parsing. */
    uint64_t recv_ns = ctx->api->now_ns();
    fpm_benchmark_request *req =
        fastport__protocols__benchmark__benchmark_request__unpack(NULL, len, payload);
    if (!req) {
        ctx->api->stat_add(s, "fastport_malformed", 1);
        return benchmark_error(ctx, s);
    }
    fpm_header header = FPM_HEADER_INIT;
    fpm_benchmark_response resp = FPM_BENCHMARK_RESPONSE_INIT;
    if (req->header) {
        header.request_id = req->header->request_id;
        header.timestamp_ms = req->header->timestamp_ms;
        resp.header = &header;
    }
    resp.result = FPM_RESULT_OK;
    resp.client_timestamp_ns = req->client_timestamp_ns;
    resp.sequence = req->sequence;
    resp.payload = req->payload;
    resp.server_recv_timestamp_ns = recv_ns;
    resp.server_send_timestamp_ns = ctx->api->now_ns();
    fp_status st = fastport_reply(ctx, s, FASTPORT_ID_BENCHMARK_RESPONSE, &resp.base);
    fastport__protocols__benchmark__benchmark_request__free_unpacked(req, NULL);
    if (st == FP_EINVAL) {
        ctx->api->stat_add(s, "fastport_reply_too_large", 1);
        return benchmark_error(ctx, s);
    }
    return st;
}
