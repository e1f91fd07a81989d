/* reverse: answers every frame with its payload reversed, under the same
 * packet id. Built outside the FastPort tree from the installed SDK only;
 * the reply is written straight into transport memory (send_reserve). */
#include <fastport/plugin.h>

static const fp_engine_api *engine;

static fp_status reverse_init(const fp_engine_api *api, const fp_kv *opts, size_t n_opts,
                              void **ctx, char *err, size_t err_len)
{
    (void)opts;
    (void)ctx;
    if (n_opts > 0) {
        const char msg[] = "reverse takes no options";
        size_t i = 0;
        for (; msg[i] && i + 1 < err_len; i++) err[i] = msg[i];
        if (err_len) err[i] = '\0';
        return FP_EINVAL;
    }
    engine = api;
    return FP_OK;
}

static fp_status reverse_packet(void *ctx, fp_session *s, uint16_t packet_id,
                                const uint8_t *payload, size_t len)
{
    (void)ctx;
    uint8_t *out;
    fp_status st = engine->send_reserve(s, packet_id, len, &out);
    if (st != FP_OK) return st == FP_EAGAIN ? FP_ELIMIT : st;
    for (size_t i = 0; i < len; i++) out[i] = payload[len - 1 - i];
    return engine->send_commit(s, len);
}

static const fp_plugin_desc reverse_desc = {
    FP_PLUGIN_HEADER("reverse", "1.0.0", "answers every frame with its payload reversed"),
    .init = reverse_init,
    .catch_all = reverse_packet,
};

FP_PLUGIN_DEFINE(reverse_desc)
