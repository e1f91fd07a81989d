/* Deterministic frames for the end-to-end tests and the echo probe.
 *
 * Every frame of every session is derived from a seed, so a reply can be
 * checked byte for byte against a regenerated copy instead of a stored one.
 * Payload bytes are a counter-based hash of their position, so any slice of
 * a payload can be regenerated on its own (a partly written or partly
 * received frame needs no buffer). */
#ifndef FP_TEST_E2E_PAYLOAD_H
#define FP_TEST_E2E_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

typedef struct e2e_frame {
    uint64_t seed;  /* payload seed */
    uint32_t len;   /* payload bytes */
    uint16_t id;    /* packet id; never has the compressed bit */
} e2e_frame;

/* splitmix64's finaliser: a well-mixed 64-bit hash. */
uint64_t e2e_mix64(uint64_t x);

/* Frame `index` of the session seeded `session_seed`: payload length
 * uniform in 0..max_payload, id uniform over ids without the compressed bit. */
void e2e_frame_describe(uint64_t session_seed, uint64_t index, uint32_t max_payload,
                        e2e_frame *out);

/* Bytes [offset, offset+len) of the payload seeded `seed`. */
void e2e_payload_fill(uint64_t seed, size_t offset, uint8_t *out, size_t len);

/* Bytes [offset, offset+len) of the whole frame (4-byte header, payload). */
void e2e_frame_fill(const e2e_frame *f, size_t offset, uint8_t *out, size_t len);

/* Big-endian frame header; `frame_size` includes the header. */
void e2e_header_write(uint8_t *out, uint16_t frame_size, uint16_t id);

#endif
