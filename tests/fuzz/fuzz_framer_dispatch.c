/* Input: [u16 max_packet BE][stream]. The stream goes, in one receive,
 * through the engine's receive path (framer, inflate, dispatch to a stub
 * plugin) and, alone, through fp_framer_feed; both must do what a plain
 * reading of the wire format says: every whole frame in order until the
 * first header with a size below 4 or above max_packet (FP_EPROTO, a
 * protocol error, an abort, nothing after it), a bad compressed payload a
 * close and a compress error, nothing dispatched after a close. */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "fastport/plugin.h"
#include "fastport/transport.h"
#include "framer.h"
#include "fuzz_session.h"

static uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }

static void append(fz_trace *t, uint16_t id, const uint8_t *payload, size_t len)
{
    if (t->n_calls == t->cap_calls) {
        t->cap_calls = t->cap_calls ? t->cap_calls * 2 : 64;
        t->calls = realloc(t->calls, t->cap_calls * sizeof *t->calls);
        if (!t->calls) abort();
    }
    t->calls[t->n_calls++] = (fz_call){id, (uint32_t)len, fz_hash(payload, len, 0)};
}

/* The wire format read plainly. Sends are not modelled (fuzz_session
 * checks each frame sent), so the tx fields are left to the caller. */
static void model(const uint8_t *data, size_t len, uint32_t max_packet, fz_trace *t, fz_trace *raw_frames)
{
    static uint8_t plain[FP_PAYLOAD_MAX_SIZE];
    for (size_t pos = 0; len - pos >= FP_FRAME_HEADER_SIZE;) {
        uint32_t size = be16(data + pos);
        if (size < FP_FRAME_HEADER_SIZE || size > max_packet) {
            raw_frames->closed = 1; /* the framer's FP_EPROTO */
            if (!t->closed) {
                t->protocol_errors = 1;
                t->closed = 1;
                t->close_mode = FP_CLOSE_ABORT;
            }
            break;
        }
        if (len - pos < size) break;
        uint16_t wire_id = (uint16_t)be16(data + pos + 2);
        const uint8_t *payload = data + pos + FP_FRAME_HEADER_SIZE;
        size_t payload_len = size - FP_FRAME_HEADER_SIZE;
        pos += size;
        append(raw_frames, wire_id, payload, payload_len);
        if (t->closed) continue; /* the framer goes on; the engine dispatches nothing more */
        t->rx_packets++;
        uint16_t id = wire_id & (uint16_t)~FP_PACKET_COMPRESSED_BIT;
        if (wire_id & FP_PACKET_COMPRESSED_BIT) {
            uLongf plain_len = max_packet - FP_FRAME_HEADER_SIZE;
            uLong used = payload_len;
            if (payload_len == 0 || uncompress2(plain, &plain_len, payload, &used) != Z_OK ||
                used != payload_len) {
                t->compress_errors++;
                t->closed = 1;
                t->close_mode = FP_CLOSE_ABORT;
                continue;
            }
            payload = plain;
            payload_len = plain_len;
        }
        if (id >= FZ_ROUTED_IDS) {
            t->unhandled++;
            continue;
        }
        append(t, id, payload, payload_len);
        if (id == FZ_ID_FAIL) {
            t->handler_errors++;
            t->closed = 1;
            t->close_mode = FP_CLOSE_ABORT;
        } else if (id == FZ_ID_ABORT || id == FZ_ID_CLOSE) {
            t->closed = 1;
            t->close_mode = id == FZ_ID_ABORT ? FP_CLOSE_ABORT : FP_CLOSE_GRACEFUL;
        }
    }
}

static fp_status record_raw(void *ctx, uint16_t wire_id, const uint8_t *payload, size_t len)
{
    fz_trace *t = ctx;
    if (t->closed) abort(); /* a frame after FP_EPROTO */
    append(t, wire_id, payload, len);
    return FP_OK;
}

/* fp_framer_feed alone: the frames up to the first bad header, then
 * FP_EPROTO for that feed and every later one. */
static void framer_alone(const uint8_t *data, size_t len, uint32_t max_packet, const fz_trace *want)
{
    fz_trace got = {0};
    fp_framer f;
    fp_framer_init(&f);
    fp_status st = fp_framer_feed(&f, data, len, max_packet, record_raw, &got);
    got.closed = st == FP_EPROTO;
    if (st != FP_OK && st != FP_EPROTO) abort();
    if (st == FP_EPROTO && fp_framer_feed(&f, data, len, max_packet, record_raw, &got) != FP_EPROTO) abort();
    if (!fz_trace_equal(&got, want))
        fz_trace_mismatch("fp_framer_feed differs from the wire format", &got, want);
    fp_framer_reset(&f);
    fz_trace_free(&got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    uint32_t max_packet = be16(data);
    if (max_packet < FP_FRAME_HEADER_SIZE) max_packet = FP_FRAME_HEADER_SIZE;
    const uint8_t *stream = data + 2;
    size_t len = size - 2;

    fz_trace want = {0}, raw = {0}, got;
    model(stream, len, max_packet, &want, &raw);
    framer_alone(stream, len, max_packet, &raw);

    fz_session_begin(max_packet);
    fz_session_recv(stream, len);
    fz_session_end(&got);
    want.tx_frames = got.tx_frames;
    want.tx_compressed = got.tx_compressed;
    want.tx_hash = got.tx_hash;
    if (!fz_trace_equal(&got, &want))
        fz_trace_mismatch("the engine's dispatch differs from the wire format", &got, &want);
    fz_trace_free(&got);
    fz_trace_free(&want);
    fz_trace_free(&raw);
    return 0;
}
