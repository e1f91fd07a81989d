/* Input: [u16 cap BE][bytes]. fp_codec_inflate with that output cap must
 * agree with zlib's own one-shot uncompress2 (a whole zlib stream, nothing
 * after it, at most cap bytes out) and never write past the cap; whatever
 * fp_codec_deflate makes of the bytes must inflate back to them. Then the
 * bytes go to an engine session as the payload of a compressed frame:
 * either the handler gets the inflated payload, or the session is aborted
 * and compress_errors counts it, with no handler call. */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "compress.h"
#include "fastport/plugin.h"
#include "fastport/transport.h"
#include "fuzz_session.h"

static uint8_t expected[FP_FRAME_MAX_SIZE];

/* zlib's answer: 1 and *out_len when `in` is one whole stream of at most
 * `cap` bytes of output. */
static int zlib_inflate(const uint8_t *in, size_t len, size_t cap, size_t *out_len)
{
    uLongf plain_len = cap;
    uLong used = len;
    if (len == 0 || uncompress2(expected, &plain_len, in, &used) != Z_OK || used != len) return 0;
    *out_len = plain_len;
    return 1;
}

static void codec_alone(const uint8_t *in, size_t len, size_t cap)
{
    fp_codec *c = fp_codec_create(cap, 6);
    if (!c) abort();
    const uint8_t *out;
    size_t out_len;
    size_t want_len = 0;
    int ok = zlib_inflate(in, len, cap, &want_len);
    fp_status st = fp_codec_inflate(c, in, len, &out, &out_len);
    if (st == FP_OK) {
        if (!ok || out_len > cap || out_len != want_len || (out_len && memcmp(out, expected, out_len) != 0))
            abort();
    } else if (st != FP_ECOMPRESS || ok || out || out_len) {
        abort();
    }

    /* deflate, then inflate what it made */
    static uint8_t packed[FP_PAYLOAD_MAX_SIZE];
    size_t plain = len < cap ? len : cap;
    size_t packed_len = fp_codec_deflate(c, in, plain, packed, sizeof packed);
    if (packed_len) {
        if (packed_len >= plain || fp_codec_inflate(c, packed, packed_len, &out, &out_len) != FP_OK ||
            out_len != plain || memcmp(out, in, plain) != 0)
            abort();
    }
    fp_codec_destroy(c);
}

static void through_dispatch(const uint8_t *in, size_t len, size_t cap)
{
    if (len > FP_PAYLOAD_MAX_SIZE) return;
    size_t frame_len = FP_FRAME_HEADER_SIZE + len;
    size_t max_packet = cap + FP_FRAME_HEADER_SIZE;
    if (max_packet < frame_len) max_packet = frame_len;
    if (max_packet > FP_FRAME_MAX_SIZE) max_packet = FP_FRAME_MAX_SIZE;
    size_t want_len = 0;
    int ok = zlib_inflate(in, len, max_packet - FP_FRAME_HEADER_SIZE, &want_len);

    uint8_t *frame = malloc(frame_len);
    if (!frame) abort();
    uint16_t id = 0x0100;
    frame[0] = (uint8_t)(frame_len >> 8);
    frame[1] = (uint8_t)frame_len;
    frame[2] = (uint8_t)((id | FP_PACKET_COMPRESSED_BIT) >> 8);
    frame[3] = (uint8_t)(id | FP_PACKET_COMPRESSED_BIT);
    if (len) memcpy(frame + FP_FRAME_HEADER_SIZE, in, len);
    fz_trace got;
    fz_session_begin((uint32_t)max_packet);
    fz_session_recv(frame, frame_len);
    fz_session_end(&got);
    free(frame);

    if (ok) {
        if (got.n_calls != 1 || got.closed || got.compress_errors || got.calls[0].id != id ||
            got.calls[0].len != want_len || got.calls[0].hash != fz_hash(expected, want_len, 0))
            abort();
    } else if (got.n_calls != 0 || !got.closed || got.close_mode != FP_CLOSE_ABORT ||
               got.compress_errors != 1) {
        abort();
    }
    fz_trace_free(&got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    size_t cap = (size_t)data[0] << 8 | data[1];
    codec_alone(data + 2, size - 2, cap);
    through_dispatch(data + 2, size - 2, cap);
    return 0;
}
