/* Splits a byte stream into FastPort frames ([u16 size BE][u16 id BE][payload]).
 *
 * Frames are parsed in place in the caller's buffer; only a frame split
 * across two feeds is copied, into a buffer that exists only while that
 * partial frame is pending, so an idle session holds no receive memory. */
#ifndef FP_ENGINE_FRAMER_H
#define FP_ENGINE_FRAMER_H

#include <stddef.h>
#include <stdint.h>

#include "fastport/status.h"

/* Called once per complete frame, with the on-wire id (compressed bit
 * included). Return FP_OK to go on; anything else stops the feed and is
 * returned by fp_framer_feed. `payload` is valid only during the call. */
typedef fp_status (*fp_frame_fn)(void *ctx, uint16_t wire_id, const uint8_t *payload, size_t len);

typedef struct fp_framer {
    uint8_t header[4];   /* header bytes of a pending frame */
    uint32_t have;       /* bytes of the pending frame held (header included) */
    uint32_t frame_size; /* size of the pending frame once its header is whole, else 0 */
    uint8_t *partial;    /* frame_size bytes, allocated only while a frame is split */
} fp_framer;

void fp_framer_init(fp_framer *f);

/* Feed received bytes. Returns FP_OK, FP_EPROTO for a size below 4 or above
 * `max_frame` (the stream is then unusable), FP_ENOMEM, or the first
 * non-FP_OK status returned by `fn` (the remaining bytes are not parsed). */
fp_status fp_framer_feed(fp_framer *f, const uint8_t *data, size_t len, uint32_t max_frame,
                         fp_frame_fn fn, void *ctx);

/* True while part of a frame is held. */
int fp_framer_pending(const fp_framer *f);

/* Bytes of memory held for a split frame (0 when none). */
static inline uint32_t fp_framer_held(const fp_framer *f) { return f->partial ? f->frame_size : 0; }

/* Drop any pending bytes and free the partial buffer. */
void fp_framer_reset(fp_framer *f);

/* Write a frame header; `size` includes the 4 header bytes. */
static inline void fp_frame_header_write(uint8_t *out, uint16_t size, uint16_t wire_id)
{
    out[0] = (uint8_t)(size >> 8);
    out[1] = (uint8_t)size;
    out[2] = (uint8_t)(wire_id >> 8);
    out[3] = (uint8_t)wire_id;
}

#endif
