#include "server_stats.h"

#include <inttypes.h>
#include <string.h>

static const char *const main_counters[] = {
    "sessions_open",   "sessions_accepted", "sessions_refused",  "sessions_closed",
    "rx_packets",      "tx_packets",        "tx_lent",           "rx_bytes",          "tx_bytes",
    "protocol_errors", "compress_errors",   "handler_errors",    "unhandled_packets",
    "send_queue_full", "recv_paused",       "queued_bytes_max",  "idle_timeouts",
    "frame_timeouts",  "close_timeouts",    "drain_aborts",      "stale_session_sends",
};

typedef struct extra_counters {
    FILE *out;
    int with_transport;
} extra_counters;

/* Plugin counters always (they are few and the plugin chose them);
 * transport counters only when asked, they are many. */
static void print_extra_counter(void *ctx, const char *name, uint64_t value)
{
    const extra_counters *x = ctx;
    if (strncmp(name, "plugin.", 7) == 0 || (x->with_transport && strncmp(name, "transport.", 10) == 0))
        fprintf(x->out, " %s=%" PRIu64, name, value);
}

void server_stats_print(FILE *out, fp_engine *e, int with_transport)
{
    fputs("stats:", out);
    for (size_t i = 0; i < sizeof main_counters / sizeof main_counters[0]; i++)
        fprintf(out, " %s=%" PRIu64, main_counters[i], fp_engine_stat(e, main_counters[i]));
    extra_counters x = {out, with_transport};
    fp_engine_stats(e, print_extra_counter, &x);
    fputc('\n', out);
    fflush(out);
}
