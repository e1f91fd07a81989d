/* fastport: FastPort C++'s protocol (echo, benchmark, admin queries), byte
 * compatible with its clients. docs/PROTOCOL.md lists the packets. It
 * claims only its own ids, so a later plugin (echo's catch-all, say) can
 * answer the rest; ids nobody claims are the engine's unhandled_packets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_ctx.h"

static fp_status set_option(fastport_ctx *ctx, const fp_kv *kv, char *err, size_t err_len)
{
    if (strcmp(kv->key, "admin_token") == 0) {
        if (!kv->value || !*kv->value) {
            snprintf(err, err_len, "fastport: admin_token must not be empty");
            return FP_EINVAL;
        }
        free(ctx->admin_token);
        ctx->admin_token = strdup(kv->value);
        if (!ctx->admin_token) return FP_ENOMEM;
        ctx->admin_token_len = strlen(ctx->admin_token);
        return FP_OK;
    }
    snprintf(err, err_len, "fastport: unknown option '%s' (known: admin_token)", kv->key);
    return FP_EINVAL;
}

static void fastport_free(fastport_ctx *ctx)
{
    process_cpu_sampler_destroy(&ctx->cpu);
    free(ctx->admin_token);
    free(ctx);
}

static fp_status fastport_init(const fp_engine_api *api, const fp_kv *opts, size_t n_opts,
                               void **plugin_ctx, char *err, size_t err_len)
{
    fastport_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return FP_ENOMEM;
    if (process_cpu_sampler_init(&ctx->cpu) != 0) {
        free(ctx);
        return FP_ENOMEM;
    }
    ctx->api = api;
    ctx->started_ns = api->now_ns();
    for (size_t i = 0; i < n_opts; i++) {
        fp_status st = set_option(ctx, &opts[i], err, err_len);
        if (st != FP_OK) {
            fastport_free(ctx);
            return st;
        }
    }
    if (!ctx->admin_token)
        api->log(FP_LOG_INFO, "fastport: no admin_token given, admin queries are refused");
    *plugin_ctx = ctx;
    return FP_OK;
}

static void fastport_shutdown(void *plugin_ctx)
{
    if (plugin_ctx) fastport_free(plugin_ctx);
}

static const fp_handler_entry fastport_handlers[] = {
    {FASTPORT_ID_ECHO, fastport_on_echo},
    {FASTPORT_ID_BENCHMARK_REQUEST, fastport_on_benchmark},
    {FASTPORT_ID_ADMIN_STATUS_REQUEST, fastport_on_admin_status},
    {FASTPORT_ID_ADMIN_SESSIONS_REQUEST, fastport_on_admin_sessions},
};

static const fp_plugin_desc fastport_desc = {
    FP_PLUGIN_HEADER("fastport", "1.0.0",
                     "FastPort C++ protocol: echo, benchmark, token-guarded admin queries"),
    .init = fastport_init,
    .shutdown = fastport_shutdown,
    .handlers = fastport_handlers,
    .n_handlers = sizeof fastport_handlers / sizeof fastport_handlers[0],
};

FP_PLUGIN_DEFINE(fastport_desc)
