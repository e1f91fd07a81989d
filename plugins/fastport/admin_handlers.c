/* Admin queries: status summary (0x8001 -> 0x8002) and the paged session
 * list (0x8003 -> 0x8004), answered only to a request carrying the admin
 * token. A refused or undecodable request gets its response message with
 * result ERROR and nothing else. */
#include <stdlib.h>
#include <string.h>

#include "plugin_ctx.h"

int fastport_admin_token_ok(const fastport_ctx *ctx, const char *token)
{
    if (!ctx->admin_token || !token) return 0;
    /* Time depends on the length of the guess only, never on how much of
     * the secret it matched. */
    size_t given_len = strlen(token);
    unsigned char diff = given_len != ctx->admin_token_len;
    for (size_t i = 0; i < given_len; i++)
        diff |= (unsigned char)token[i] ^ (unsigned char)ctx->admin_token[i % ctx->admin_token_len];
    return diff == 0;
}

static fp_status status_error(const fastport_ctx *ctx, fp_session *s)
{
    fpm_status_response resp = FPM_STATUS_RESPONSE_INIT;
    resp.result = FPM_RESULT_ERROR;
    return fastport_reply(ctx, s, FASTPORT_ID_ADMIN_STATUS_RESPONSE, &resp.base);
}

static uint32_t clamp_u32(uint64_t v) { return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v; }

fp_status fastport_on_admin_status(void *plugin_ctx, fp_session *s, uint16_t packet_id,
                                   const uint8_t *payload, size_t len)
{
    fastport_ctx *ctx = plugin_ctx;
    const fp_engine_api *api = ctx->api;
    fpm_status_request *req =
        fastport__protocols__admin__admin_status_summary_request__unpack(NULL, len, payload);
    if (!req) {
        api->stat_add(s, "fastport_malformed", 1);
        return status_error(ctx, s);
    }
    if (!fastport_admin_token_ok(ctx, req->auth_token)) {
        fastport__protocols__admin__admin_status_summary_request__free_unpacked(req, NULL);
        api->stat_add(s, "fastport_admin_refused", 1);
        return status_error(ctx, s);
    }
    fpm_header header = FPM_HEADER_INIT;
    fpm_status_response resp = FPM_STATUS_RESPONSE_INIT;
    if (req->header) {
        header.request_id = req->header->request_id;
        header.timestamp_ms = req->header->timestamp_ms;
        resp.header = &header;
    }
    resp.result = FPM_RESULT_OK;
    resp.server_uptime_ms = (api->now_ns() - ctx->started_ns) / 1000000u;
    resp.active_session_count = clamp_u32(api->engine_stat("sessions_open"));
    resp.total_rx_bytes = api->engine_stat("rx_bytes");
    resp.total_tx_bytes = api->engine_stat("tx_bytes");
    resp.idle_disconnect_count = api->engine_stat("idle_timeouts");
    /* Whatever transport is loaded: the name says which (field 12). */
    resp.server_mode = FPM_SERVER_MODE_UNKNOWN;
    resp.process_memory_bytes = process_resident_bytes();
    resp.process_cpu_percent = process_cpu_percent(&ctx->cpu);
    resp.server_timestamp_ms = process_unix_time_ms();
    resp.transport_name = (char *)api->transport_name();
    if (!resp.transport_name) resp.transport_name = (char *)"";
    fp_status st = fastport_reply(ctx, s, FASTPORT_ID_ADMIN_STATUS_RESPONSE, &resp.base);
    fastport__protocols__admin__admin_status_summary_request__free_unpacked(req, NULL);
    return st;
}

static fp_status sessions_error(const fastport_ctx *ctx, fp_session *s)
{
    fpm_sessions_response resp = FPM_SESSIONS_RESPONSE_INIT;
    resp.result = FPM_RESULT_ERROR;
    return fastport_reply(ctx, s, FASTPORT_ID_ADMIN_SESSIONS_RESPONSE, &resp.base);
}

/* One page of the engine's session list as the response's rows. */
typedef struct session_page {
    fp_session_info *rows;
    fpm_session_info *infos;
    fpm_session_info **info_ptrs;
    size_t n;
    size_t total;
} session_page;

static void session_page_free(session_page *page)
{
    free(page->rows);
    free(page->infos);
    free(page->info_ptrs);
}

static fp_status session_page_read(const fp_engine_api *api, uint32_t offset, uint32_t limit,
                                   session_page *page)
{
    memset(page, 0, sizeof *page);
    if (limit == 0 || limit > FASTPORT_SESSION_LIST_MAX) limit = FASTPORT_SESSION_LIST_MAX;
    page->rows = malloc(limit * sizeof *page->rows);
    page->infos = malloc(limit * sizeof *page->infos);
    page->info_ptrs = malloc(limit * sizeof *page->info_ptrs);
    if (!page->rows || !page->infos || !page->info_ptrs) {
        session_page_free(page);
        return FP_ENOMEM;
    }
    page->n = api->session_list(offset, limit, page->rows, &page->total);
    if (offset >= page->total || page->n > limit) page->n = 0;
    for (size_t i = 0; i < page->n; i++) {
        const fp_session_info *row = &page->rows[i];
        fpm_session_info info = FPM_SESSION_INFO_INIT;
        info.session_id = row->id;
        info.last_recv_ms = (int64_t)(row->last_recv_ns / 1000000u);
        info.rx_bytes = row->rx_bytes;
        info.tx_bytes = row->tx_bytes;
        page->infos[i] = info;
        page->info_ptrs[i] = &page->infos[i];
    }
    return FP_OK;
}

fp_status fastport_on_admin_sessions(void *plugin_ctx, fp_session *s, uint16_t packet_id,
                                     const uint8_t *payload, size_t len)
{
    const fastport_ctx *ctx = plugin_ctx;
    const fp_engine_api *api = ctx->api;
    fpm_sessions_request *req =
        fastport__protocols__admin__admin_session_list_request__unpack(NULL, len, payload);
    if (!req) {
        api->stat_add(s, "fastport_malformed", 1);
        return sessions_error(ctx, s);
    }
    if (!fastport_admin_token_ok(ctx, req->auth_token)) {
        fastport__protocols__admin__admin_session_list_request__free_unpacked(req, NULL);
        api->stat_add(s, "fastport_admin_refused", 1);
        return sessions_error(ctx, s);
    }
    session_page page;
    fp_status st = session_page_read(api, req->offset, req->limit, &page);
    if (st != FP_OK) {
        fastport__protocols__admin__admin_session_list_request__free_unpacked(req, NULL);
        return sessions_error(ctx, s);
    }
    fpm_header header = FPM_HEADER_INIT;
    fpm_sessions_response resp = FPM_SESSIONS_RESPONSE_INIT;
    if (req->header) {
        header.request_id = req->header->request_id;
        header.timestamp_ms = req->header->timestamp_ms;
        resp.header = &header;
    }
    resp.result = FPM_RESULT_OK;
    resp.total = clamp_u32(page.total);
    resp.offset = req->offset;
    resp.n_sessions = page.n;
    resp.sessions = page.info_ptrs;
    st = fastport_reply(ctx, s, FASTPORT_ID_ADMIN_SESSIONS_RESPONSE, &resp.base);
    session_page_free(&page);
    fastport__protocols__admin__admin_session_list_request__free_unpacked(req, NULL);
    return st;
}
