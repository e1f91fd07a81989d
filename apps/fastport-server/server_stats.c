#include "server_stats.h"

#include <inttypes.h>
#include <string.h>

static const char *const main_counters[] = {
    "sessions_open",   "sessions_accepted", "sessions_refused",  "sessions_closed",
    "rx_packets",      "tx_packets",        "rx_bytes",          "tx_bytes",
    "protocol_errors", "compress_errors",   "handler_errors",    "unhandled_packets",
    "send_queue_full", "recv_paused",       "queued_bytes_max",  "idle_timeouts",
    "drain_aborts",    "stale_session_sends",
};

static void print_transport_counter(void *ctx, const char *name, uint64_t value)
{
    if (strncmp(name, "transport.", 10) == 0) fprintf(ctx, " %s=%" PRIu64, name, value);
}

void server_stats_print(FILE *out, fp_engine *e, int with_transport)
{
    fputs("stats:", out);
    for (size_t i = 0; i < sizeof main_counters / sizeof main_counters[0]; i++)
        fprintf(out, " %s=%" PRIu64, main_counters[i], fp_engine_stat(e, main_counters[i]));
    if (with_transport) fp_engine_stats(e, print_transport_counter, out);
    fputc('\n', out);
    fflush(out);
}
