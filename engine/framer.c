#include "framer.h"

#include <stdlib.h>
#include <string.h>

#include "fastport/plugin.h"

/* frame_size value that marks a stream broken by a protocol error: no valid
 * frame is that large, so it cannot be mistaken for a pending frame. */
#define FRAMER_BROKEN UINT32_MAX

static uint32_t read_be16(const uint8_t *p)
{
    return ((uint32_t)p[0] << 8) | p[1];
}

static int frame_size_valid(uint32_t size, uint32_t max_frame)
{
    return size >= FP_FRAME_HEADER_SIZE && size <= max_frame;
}

static void framer_clear(fp_framer *f)
{
    free(f->partial);
    f->partial = NULL;
    f->have = 0;
    f->frame_size = 0;
}

static fp_status framer_break(fp_framer *f, fp_status st)
{
    framer_clear(f);
    f->frame_size = FRAMER_BROKEN;
    return st;
}

void fp_framer_init(fp_framer *f)
{
    memset(f, 0, sizeof *f);
}

int fp_framer_pending(const fp_framer *f)
{
    return f->have != 0;
}

void fp_framer_reset(fp_framer *f)
{
    framer_clear(f);
}

/* Completes the header of a pending frame. When the rest of the frame is all
 * in `data` it is dispatched from there (the header bytes alone were split);
 * otherwise the partial buffer is allocated. */
static fp_status complete_header(fp_framer *f, const uint8_t *data, size_t len, size_t *pos,
                                 uint32_t max_frame, fp_frame_fn fn, void *ctx)
{
    size_t take = FP_FRAME_HEADER_SIZE - f->have;
    if (take > len)
        take = len;
    memcpy(f->header + f->have, data, take);
    f->have += (uint32_t)take;
    *pos = take;
    if (f->have < FP_FRAME_HEADER_SIZE)
        return FP_OK;

    uint32_t size = read_be16(f->header);
    if (!frame_size_valid(size, max_frame))
        return framer_break(f, FP_EPROTO);
    uint32_t payload_len = size - FP_FRAME_HEADER_SIZE;
    if (len - *pos >= payload_len) {
        uint16_t wire_id = (uint16_t)read_be16(f->header + 2);
        const uint8_t *payload = data + *pos;
        framer_clear(f);
        *pos += payload_len;
        return fn(ctx, wire_id, payload, payload_len);
    }

    f->partial = malloc(size);
    if (!f->partial)
        return framer_break(f, FP_ENOMEM);
    memcpy(f->partial, f->header, FP_FRAME_HEADER_SIZE);
    f->frame_size = size;
    return FP_OK;
}

/* Appends to the partial buffer and dispatches the frame once whole. The
 * buffer is detached before the call so the callback may reset the framer. */
static fp_status fill_partial(fp_framer *f, const uint8_t *data, size_t len, size_t *pos,
                              fp_frame_fn fn, void *ctx)
{
    size_t take = f->frame_size - f->have;
    if (take > len - *pos)
        take = len - *pos;
    memcpy(f->partial + f->have, data + *pos, take);
    f->have += (uint32_t)take;
    *pos += take;
    if (f->have < f->frame_size)
        return FP_OK;

    uint8_t *frame = f->partial;
    uint32_t size = f->frame_size;
    f->partial = NULL;
    framer_clear(f);
    fp_status st = fn(ctx, (uint16_t)read_be16(frame + 2), frame + FP_FRAME_HEADER_SIZE,
                      size - FP_FRAME_HEADER_SIZE);
    free(frame);
    return st;
}

static fp_status keep_tail(fp_framer *f, const uint8_t *tail, size_t len)
{
    if (len < FP_FRAME_HEADER_SIZE) {
        memcpy(f->header, tail, len);
        f->have = (uint32_t)len;
        return FP_OK;
    }
    /* The caller validated this header before deciding the frame is short. */
    uint32_t size = read_be16(tail);
    f->partial = malloc(size);
    if (!f->partial)
        return framer_break(f, FP_ENOMEM);
    memcpy(f->header, tail, FP_FRAME_HEADER_SIZE);
    memcpy(f->partial, tail, len);
    f->have = (uint32_t)len;
    f->frame_size = size;
    return FP_OK;
}

fp_status fp_framer_feed(fp_framer *f, const uint8_t *data, size_t len, uint32_t max_frame,
                         fp_frame_fn fn, void *ctx)
{
    if (f->frame_size == FRAMER_BROKEN)
        return FP_EPROTO;
    if (len == 0)
        return FP_OK;
    if (max_frame > FP_FRAME_MAX_SIZE)
        max_frame = FP_FRAME_MAX_SIZE;

    size_t pos = 0;
    fp_status st = FP_OK;
    if (f->have > 0 && f->frame_size == 0)
        st = complete_header(f, data, len, &pos, max_frame, fn, ctx);
    /* After a dispatch returning non-FP_OK the framer may be gone: touch nothing. */
    if (st != FP_OK)
        return st;
    if (f->partial) {
        st = fill_partial(f, data, len, &pos, fn, ctx);
        if (st != FP_OK)
            return st;
    }

    while (len - pos >= FP_FRAME_HEADER_SIZE) {
        uint32_t size = read_be16(data + pos);
        if (!frame_size_valid(size, max_frame))
            return framer_break(f, FP_EPROTO);
        if (len - pos < size)
            break;
        uint16_t wire_id = (uint16_t)read_be16(data + pos + 2);
        const uint8_t *payload = data + pos + FP_FRAME_HEADER_SIZE;
        pos += size;
        st = fn(ctx, wire_id, payload, size - FP_FRAME_HEADER_SIZE);
        if (st != FP_OK)
            return st;
    }
    if (pos == len)
        return FP_OK;
    return keep_tail(f, data + pos, len - pos);
}
