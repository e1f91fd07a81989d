/* Input: [u16 max_packet BE][u8 n][n x u16 cut BE][stream]. The stream is
 * delivered to one engine session in one receive, then to a fresh one in
 * the pieces the cuts make (each cut taken modulo the stream length + 1,
 * in order, empty pieces included), then one byte at a time: the stub
 * plugin's calls (id, length, payload), the close, the counters and every
 * frame sent back must be the same each time. */
#include <stdlib.h>

#include "fuzz_session.h"

enum { MAX_CUTS = 32 };

static uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

static void deliver_cut(const uint8_t *stream, size_t len, const size_t *cuts, size_t n_cuts, fz_trace *out)
{
    size_t from = 0;
    for (size_t i = 0; i < n_cuts; i++) {
        fz_session_recv(stream + from, cuts[i] - from);
        from = cuts[i];
    }
    fz_session_recv(stream + from, len - from);
    fz_session_end(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    uint32_t max_packet = be16(data);
    if (max_packet < 4) max_packet = 4;
    size_t n_cuts = data[2] % (MAX_CUTS + 1);
    size_t at = 3;
    if (size - at < 2 * n_cuts) return 0;
    const uint8_t *cut_bytes = data + at;
    at += 2 * n_cuts;
    const uint8_t *stream = data + at;
    size_t len = size - at;
    size_t cuts[MAX_CUTS];
    for (size_t i = 0; i < n_cuts; i++) cuts[i] = be16(cut_bytes + 2 * i) % (len + 1);
    qsort(cuts, n_cuts, sizeof cuts[0], cmp_size);

    fz_trace whole, pieces;
    fz_session_begin(max_packet);
    fz_session_recv(stream, len);
    fz_session_end(&whole);

    fz_session_begin(max_packet);
    deliver_cut(stream, len, cuts, n_cuts, &pieces);
    if (!fz_trace_equal(&pieces, &whole))
        fz_trace_mismatch("delivered in pieces, the stream did something else", &pieces, &whole);
    fz_trace_free(&pieces);

    fz_session_begin(max_packet);
    for (size_t i = 0; i < len; i++) fz_session_recv(stream + i, 1);
    fz_session_end(&pieces);
    if (!fz_trace_equal(&pieces, &whole))
        fz_trace_mismatch("delivered a byte at a time, the stream did something else", &pieces, &whole);
    fz_trace_free(&pieces);
    fz_trace_free(&whole);
    return 0;
}
