#include "e2e_payload.h"

#include <string.h>

#include "fastport/plugin.h"

uint64_t e2e_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

void e2e_frame_describe(uint64_t session_seed, uint64_t index, uint32_t max_payload,
                        e2e_frame *out)
{
    uint64_t seed = e2e_mix64(e2e_mix64(session_seed) ^ index);
    uint64_t shape = e2e_mix64(seed ^ 0x5a5a5a5a5a5a5a5aull);
    out->seed = seed;
    out->len = (uint32_t)(shape % ((uint64_t)max_payload + 1));
    out->id = (uint16_t)((shape >> 40) & ~(uint64_t)FP_PACKET_COMPRESSED_BIT);
}

void e2e_payload_fill(uint64_t seed, size_t offset, uint8_t *out, size_t len)
{
    size_t word = offset / 8;
    size_t skip = offset % 8;
    while (len > 0) {
        uint64_t v = e2e_mix64(seed + word);
        uint8_t bytes[8];
        for (int i = 0; i < 8; i++) bytes[i] = (uint8_t)(v >> (8 * i));
        size_t n = 8 - skip;
        if (n > len) n = len;
        memcpy(out, bytes + skip, n);
        out += n;
        len -= n;
        skip = 0;
        word++;
    }
}

void e2e_header_write(uint8_t *out, uint16_t frame_size, uint16_t id)
{
    out[0] = (uint8_t)(frame_size >> 8);
    out[1] = (uint8_t)frame_size;
    out[2] = (uint8_t)(id >> 8);
    out[3] = (uint8_t)id;
}

void e2e_frame_fill(const e2e_frame *f, size_t offset, uint8_t *out, size_t len)
{
    if (offset < FP_FRAME_HEADER_SIZE) {
        uint8_t header[FP_FRAME_HEADER_SIZE];
        e2e_header_write(header, (uint16_t)(f->len + FP_FRAME_HEADER_SIZE), f->id);
        size_t n = FP_FRAME_HEADER_SIZE - offset;
        if (n > len) n = len;
        memcpy(out, header + offset, n);
        out += n;
        len -= n;
        offset += n;
    }
    if (len > 0) e2e_payload_fill(f->seed, offset - FP_FRAME_HEADER_SIZE, out, len);
}
