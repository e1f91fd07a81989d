#include "plugin_ctx.h"

fp_status fastport_reply(const fastport_ctx *ctx, fp_session *s, uint16_t packet_id,
                         const ProtobufCMessage *msg)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    if (len > FP_PAYLOAD_MAX_SIZE) return FP_EINVAL;
    uint8_t *out = NULL;
    fp_status st = ctx->api->send_reserve(s, packet_id, len, &out);
    if (st != FP_OK) return st == FP_EAGAIN ? FP_ELIMIT : st;
    size_t used = protobuf_c_message_pack(msg, out);
    return ctx->api->send_commit(s, used);
}
