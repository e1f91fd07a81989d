/*
 * plugin_ctx.h - state of the fastport plugin shared by its handlers.
 *
 * Handlers run on the session's worker. Everything here is written in init
 * and only read afterwards, except the CPU sampler, which has its own lock.
 */
#ifndef FASTPORT_PLUGIN_CTX_H
#define FASTPORT_PLUGIN_CTX_H

#include <stddef.h>
#include <stdint.h>

#include <fastport/plugin.h>
#include <protobuf-c/protobuf-c.h>

#include "fastport_wire.h"

#include "process_usage.h"

typedef struct fastport_ctx {
    const fp_engine_api *api;
    char *admin_token; /* NULL: admin requests are always refused */
    size_t admin_token_len;
    uint64_t started_ns; /* api->now_ns() at init */
    process_cpu_sampler cpu;
} fastport_ctx;

/* Pack `msg` straight into transport memory as one frame under `packet_id`.
 * A reply over the frame limit is not sent (FP_EINVAL). A full send queue
 * becomes FP_ELIMIT, which closes this session: the plugin has nowhere to
 * keep a reply. */
fp_status fastport_reply(const fastport_ctx *ctx, fp_session *s, uint16_t packet_id,
                         const ProtobufCMessage *msg);

fp_status fastport_on_echo(void *plugin_ctx, fp_session *s, uint16_t packet_id,
                           const uint8_t *payload, size_t len);
fp_status fastport_on_benchmark(void *plugin_ctx, fp_session *s, uint16_t packet_id,
                                const uint8_t *payload, size_t len);
fp_status fastport_on_admin_status(void *plugin_ctx, fp_session *s, uint16_t packet_id,
                                   const uint8_t *payload, size_t len);
fp_status fastport_on_admin_sessions(void *plugin_ctx, fp_session *s, uint16_t packet_id,
                                     const uint8_t *payload, size_t len);

/* Constant-time check of `token` against the configured admin token. */
int fastport_admin_token_ok(const fastport_ctx *ctx, const char *token);

#endif
