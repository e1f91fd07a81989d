/*
 * bench_options.h - fastport-bench's command line: its option table
 * (bench_options.c) read by the shared parser (apps/common/cli.h), so it is
 * strict and worded like every FastPort program's; the checks across
 * options (--connect or --compare, --duration or --iterations) stay here.
 */
#ifndef FASTPORT_BENCH_OPTIONS_H
#define FASTPORT_BENCH_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <fastport/engine.h>

#include "cli.h"

/* Room left in a frame for the BenchmarkResponse fields around the payload
 * (header, result, three timestamps, sequence, tags and lengths). */
#define BENCH_PAYLOAD_MAX (FP_PAYLOAD_MAX_SIZE - 128u)
/* FastPort C++'s payload pool size and seed ("FPSPERFU"). */
#define BENCH_DEFAULT_POOL 1024u
#define BENCH_DEFAULT_SEED UINT64_C(0x4650535045524655)

typedef struct bench_options {
    int help;
    int version;

    const char *transport;     /* client transport; NULL: --compare's name, or the default */
    const char *transport_dir; /* NULL: the engine's default */
    const char *connect;       /* HOST:PORT; set exactly when compare is empty */

    uint32_t sessions;
    uint32_t depth;            /* requests in flight per session */
    uint32_t payload_min, payload_max;
    uint32_t threads;          /* client engine workers */

    /* Exactly one of the two is non-zero. */
    uint64_t iterations;       /* measured replies in total */
    uint32_t duration_ms;

    /* At most one of the two is non-zero; both zero: no warm-up. */
    const char *warmup;          /* as given: N or SECs */
    uint32_t warmup_per_session; /* replies per session */
    uint32_t warmup_ms;

    uint32_t runs;
    uint64_t seed;

    const char *csv_path;  /* NULL: no CSV */
    const char *plot_path; /* NULL: no SVG */

    fp_cli_list compare;     /* transport names, in order (may repeat) */
    const char *server_bin;  /* NULL: fastport-server next to this program */
    uint32_t server_workers;

    int server_cpu; /* -1: not pinned */
    int client_cpu; /* -1: not pinned */

    fp_log_level log_level;
} bench_options;

/* Parses argv into `opts`; free with bench_options_free, also after a
 * failure. Returns 0, or -1 with the one-line refusal in `err`, the
 * program's name first. */
int bench_options_parse(bench_options *opts, int argc, char **argv, char *err, size_t err_len);

void bench_options_free(bench_options *opts);

void bench_options_print_help(FILE *out);

#endif
