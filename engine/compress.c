#include "compress.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

/* zlib format (RFC 1950) with a 32 KiB window: what FastPort peers speak.
 * A gzip or raw stream is refused. */
#define CODEC_WINDOW_BITS 15
#define CODEC_MEM_LEVEL 8

struct fp_codec {
    z_stream deflater;
    z_stream inflater;
    int deflater_ready; /* deflate state is ~256 KiB: made on first use only */
    int level;
    size_t inflate_cap;
    uint8_t *scratch; /* inflate_cap bytes (at least 1) */
};

fp_codec *fp_codec_create(size_t inflate_cap, int level)
{
    if (level < Z_DEFAULT_COMPRESSION || level > Z_BEST_COMPRESSION || inflate_cap > UINT_MAX)
        return NULL;
    fp_codec *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->level = level;
    c->inflate_cap = inflate_cap;
    c->scratch = malloc(inflate_cap ? inflate_cap : 1);
    if (!c->scratch || inflateInit2(&c->inflater, CODEC_WINDOW_BITS) != Z_OK) {
        free(c->scratch);
        free(c);
        return NULL;
    }
    return c;
}

void fp_codec_destroy(fp_codec *c)
{
    if (!c)
        return;
    if (c->deflater_ready)
        deflateEnd(&c->deflater);
    inflateEnd(&c->inflater);
    free(c->scratch);
    free(c);
}

fp_status fp_codec_inflate(fp_codec *c, const uint8_t *in, size_t in_len, const uint8_t **out,
                           size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (in_len == 0 || in_len > UINT_MAX)
        return FP_ECOMPRESS;
    if (inflateReset(&c->inflater) != Z_OK)
        return FP_ECOMPRESS;

    /* One call into a fixed budget: a stream that does not end within
     * inflate_cap bytes of output is rejected, whatever it would grow to. */
    z_stream *z = &c->inflater;
    z->next_in = (Bytef *)(uintptr_t)in; /* zlib's API is not const-correct */
    z->avail_in = (uInt)in_len;
    z->next_out = c->scratch;
    z->avail_out = (uInt)c->inflate_cap;
    int zr = inflate(z, Z_FINISH);
    if (zr == Z_MEM_ERROR)
        return FP_ENOMEM;
    if (zr != Z_STREAM_END || z->avail_in != 0)
        return FP_ECOMPRESS;

    *out = c->scratch;
    *out_len = c->inflate_cap - z->avail_out;
    return FP_OK;
}

static int deflater_prepare(fp_codec *c)
{
    if (c->deflater_ready)
        return deflateReset(&c->deflater) == Z_OK;
    if (deflateInit2(&c->deflater, c->level, Z_DEFLATED, CODEC_WINDOW_BITS, CODEC_MEM_LEVEL,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return 0;
    c->deflater_ready = 1;
    return 1;
}

size_t fp_codec_deflate(fp_codec *c, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap)
{
    if (in_len < 2 || in_len > UINT_MAX || out_cap == 0 || !deflater_prepare(c))
        return 0;

    /* Output room is capped below in_len, so a stream that would not shrink
     * the payload stops early instead of being compressed in full. */
    size_t budget = in_len - 1;
    if (budget > out_cap)
        budget = out_cap;
    z_stream *z = &c->deflater;
    z->next_in = (Bytef *)(uintptr_t)in;
    z->avail_in = (uInt)in_len;
    z->next_out = out;
    z->avail_out = (uInt)budget;
    if (deflate(z, Z_FINISH) != Z_STREAM_END)
        return 0;
    return budget - z->avail_out;
}

size_t fp_codec_deflate_bound(size_t in_len)
{
    /* fp_codec_deflate never writes in_len bytes or more; a reservation of
     * in_len also holds the plain payload when it returns 0. */
    return in_len;
}
