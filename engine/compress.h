/* zlib payload compression for the wire protocol (docs/PROTOCOL.md).
 *
 * One fp_codec per worker: it keeps one deflate and one inflate z_stream
 * that are reset, never re-created, per payload, and a scratch buffer for
 * inflated output, so no session ever holds zlib state. */
#ifndef FP_ENGINE_COMPRESS_H
#define FP_ENGINE_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "fastport/status.h"

typedef struct fp_codec fp_codec;

/* `inflate_cap`: the most bytes one payload may inflate to. */
fp_codec *fp_codec_create(size_t inflate_cap, int level);
void fp_codec_destroy(fp_codec *c);

/* Inflate a zlib stream into the codec's scratch buffer. On FP_OK *out/
 * *out_len point into the codec (valid until the next call on it).
 * FP_ECOMPRESS: corrupt, truncated, trailing garbage, or output over the
 * cap (a bomb): the caller closes the session and counts it. */
fp_status fp_codec_inflate(fp_codec *c, const uint8_t *in, size_t in_len, const uint8_t **out,
                           size_t *out_len);

/* Deflate `in` into `out` (capacity `out_cap`). Returns the compressed
 * length, or 0 if it would not be strictly smaller than `in_len` or does
 * not fit: the caller then sends the payload uncompressed. */
size_t fp_codec_deflate(fp_codec *c, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap);

/* Upper bound of fp_codec_deflate's output for `in_len` bytes. */
size_t fp_codec_deflate_bound(size_t in_len);

#endif
