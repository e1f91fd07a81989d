/* One engine session driven in-process for the fuzz targets: the engine's
 * own receive path (fp_engine_events.on_recv -> framer -> dispatch ->
 * inflate -> route) with a stand-in transport and a recording stub plugin,
 * no socket and no worker thread.
 *
 * The stub plugin claims ids below FZ_ROUTED_IDS (others are the engine's
 * unhandled_packets) and records every call. A few ids do more, so the
 * send and close paths run too:
 *   FZ_ID_ECHO         sends the payload back as it came (lent or copied)
 *   FZ_ID_ECHO_DEFLATE sends it back with FP_SEND_COMPRESS
 *   FZ_ID_FAIL         returns FP_EINVAL (a handler error: the engine aborts)
 *   FZ_ID_ABORT        closes the session itself (abort)
 *   FZ_ID_CLOSE        closes the session itself (graceful)
 * What the transport is asked to send is checked as it is committed: a
 * whole frame, its size in its header, a compressed one inflating to what
 * the handler sent. */
#ifndef FP_FUZZ_SESSION_H
#define FP_FUZZ_SESSION_H

#include <stddef.h>
#include <stdint.h>

enum {
    FZ_ROUTED_IDS = 0x3000,
    FZ_ID_ECHO = 0x0001,
    FZ_ID_ECHO_DEFLATE = 0x0002,
    FZ_ID_FAIL = 0x0BAD,
    FZ_ID_ABORT = 0x0AB0,
    FZ_ID_CLOSE = 0x0C10
};

typedef struct fz_call {
    uint16_t id; /* logical id, compressed bit removed */
    uint32_t len;
    uint64_t hash; /* of the payload as the handler saw it */
} fz_call;

/* What one delivery of a stream did. Everything here must be the same
 * however the stream was split into receives. */
typedef struct fz_trace {
    fz_call *calls;
    size_t n_calls, cap_calls;
    int closed; /* the engine asked the transport to close */
    int close_mode; /* fp_close_mode of the first close_conn */
    uint64_t rx_packets, protocol_errors, compress_errors, handler_errors, unhandled;
    uint64_t tx_frames, tx_compressed;
    uint64_t tx_hash; /* of every frame committed or lent, in order */
} fz_trace;

/* Starts a fresh session whose engine takes frames of up to `max_packet`
 * bytes (4..65535; compressed payloads inflate to at most max_packet - 4). */
void fz_session_begin(uint32_t max_packet);

/* One receive, as the transport would deliver it. */
void fz_session_recv(const uint8_t *data, size_t len);

/* Ends the session (its framer's pending bytes are dropped) and moves what
 * it did into `out` (free with fz_trace_free). */
void fz_session_end(fz_trace *out);

int fz_trace_equal(const fz_trace *a, const fz_trace *b);
void fz_trace_free(fz_trace *t);

/* Prints both traces to stderr and aborts: a finding. */
void fz_trace_mismatch(const char *what, const fz_trace *got, const fz_trace *want);

uint64_t fz_hash(const uint8_t *data, size_t len, uint64_t seed);

#endif
