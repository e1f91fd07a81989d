/* echo: sends every frame back unchanged, same packet id, same payload.
 * The plugin the transport benchmarks and end-to-end tests run against. */
#include <fastport/plugin.h>

static const fp_engine_api *engine;

static fp_status echo_init(const fp_engine_api *api, const fp_kv *opts, size_t n_opts, void **ctx,
                           char *err, size_t err_len)
{
    (void)opts;
    (void)ctx;
    if (n_opts > 0) {
        /* echo has no options: name the first one we were given */
        int n = 0;
        const char *key = opts[0].key;
        while (key[n] && n < 200) n++;
        const char prefix[] = "echo takes no options, got '";
        size_t i = 0, j = 0;
        while (prefix[j] && i + 1 < err_len) err[i++] = prefix[j++];
        for (j = 0; key[j] && i + 1 < err_len; j++) err[i++] = key[j];
        if (i + 1 < err_len) err[i++] = '\'';
        if (err_len) err[i] = '\0';
        return FP_EINVAL;
    }
    engine = api;
    return FP_OK;
}

static fp_status echo_packet(void *ctx, fp_session *s, uint16_t packet_id, const uint8_t *payload,
                             size_t len)
{
    (void)ctx;
    fp_status st = engine->send(s, packet_id, payload, len, 0);
    /* A peer that stops reading fills its queue; echo has nowhere to keep
     * the frame, so that one session is closed instead of losing data. */
    return st == FP_EAGAIN ? FP_ELIMIT : st;
}

static const fp_plugin_desc echo_desc = {
    FP_PLUGIN_HEADER("echo", "1.0.0", "sends every frame back unchanged"),
    .init = echo_init,
    .catch_all = echo_packet,
};

FP_PLUGIN_DEFINE(echo_desc)
