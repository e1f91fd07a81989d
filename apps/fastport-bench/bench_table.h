/*
 * bench_table.h - fastport-bench's console output: the --compare table and
 * the single-run report in FastPort C++'s console block style.
 *
 * Output is plain ASCII: microseconds are written "us" (as FastPort does)
 * and ranges as "median (min-max)".
 */
#ifndef FASTPORT_BENCH_TABLE_H
#define FASTPORT_BENCH_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bench_stats.h"

/* Median, minimum and maximum of a set of per-run figures. The median of an
 * even count is the mean of the two middle values. All zero when n is 0. */
typedef struct fp_bench_range {
    size_t n;
    double median;
    double min;
    double max;
} fp_bench_range;

fp_bench_range fp_bench_range_of(const double *values, size_t n);

/* The rows of the comparison table, in print order. */
typedef enum fp_bench_figure {
    FP_BENCH_FIG_MSGS_PER_SEC = 0, /* msgs/s */
    FP_BENCH_FIG_MB_PER_SEC,       /* MB/s (2^20 bytes) */
    FP_BENCH_FIG_RTT_AVG,          /* us */
    FP_BENCH_FIG_RTT_P50,          /* us */
    FP_BENCH_FIG_RTT_P90,          /* us */
    FP_BENCH_FIG_RTT_P99,          /* us */
    FP_BENCH_FIG_RTT_P999,         /* us */
    FP_BENCH_FIG_RTT_MAX,          /* us */
    FP_BENCH_FIG_SERVER_AVG,       /* us: avg of server_send - server_recv */
    FP_BENCH_FIG_SERVER_SHARE,     /* %: server_avg / rtt avg * 100 */
    FP_BENCH_FIG_SERVER_CPU,       /* us of server CPU per message */
    FP_BENCH_FIG_LOST,             /* lost replies */
    FP_BENCH_FIG_COUNT
} fp_bench_figure;

/* Row label, e.g. "RTT p99 (us)"; NULL for an out-of-range figure. */
const char *fp_bench_figure_label(fp_bench_figure f);
/* Figure `f` of run `r` in the table's unit. Returns false when the run
 * does not know it (server CPU not measured, share with a zero RTT). */
bool fp_bench_figure_value(const fp_bench_run *r, fp_bench_figure f, double *out);
/* Range of figure `f` over `n` runs, skipping runs that do not know it
 * (result.n counts the runs used). */
fp_bench_range fp_bench_figure_range(const fp_bench_run *runs, size_t n, fp_bench_figure f);
/* median / base_median; false (no ratio) when either range is empty or
 * base_median is 0. */
bool fp_bench_ratio(const fp_bench_range *value, const fp_bench_range *base, double *out);

/* One column of the comparison table: a transport and its runs. */
typedef struct fp_bench_column {
    const char *name;          /* column heading, e.g. the transport name */
    const fp_bench_run *runs;  /* this transport's runs, any order */
    size_t n_runs;
} fp_bench_column;

/* Prints the side-by-side table: one column per transport, a "runs" row,
 * one row per figure with "median (min-max)" over runs (the bare value
 * when one run knows it or all runs agree, "-" when none knows it), then a
 * block of the same rows as ratios of each median to the FIRST column's
 * ("1.00x", "1.23x"; "-" when there is no ratio). Returns 0, or -1 on a
 * write error. */
int fp_bench_table_print(FILE *out, const fp_bench_column *cols, size_t n);

/* What the banner before a run shows (FastPort's "FastPort Benchmark"
 * block). Strings may be NULL (line left out). */
typedef struct fp_bench_banner {
    const char *server;        /* HOST:PORT */
    const char *transport;     /* client transport */
    uint64_t iterations;       /* 0: duration mode */
    double duration_s;         /* used when iterations is 0 */
    uint64_t warmup_requests;  /* 0 with warmup_s 0: no warm-up */
    double warmup_s;           /* used when warmup_requests is 0 */
    uint64_t sessions;
    uint64_t depth;            /* requests in flight per session */
    uint64_t threads;
    uint64_t payload_min;
    uint64_t payload_max;      /* == payload_min: fixed size */
    uint64_t payload_pool;
    uint64_t runs;
} fp_bench_banner;

/* Prints the banner between "======" lines. Returns 0 or -1. */
int fp_bench_banner_print(FILE *out, const fp_bench_banner *b);
/* Prints one run's result block: benchmark name, latency (RTT) lines in
 * us, throughput lines, the server-side share, lost/late/sequence errors,
 * and the "Debug Profile" (sessions, connect/warm-up/measured phases,
 * payload). Returns 0 or -1. */
int fp_bench_report_print(FILE *out, const fp_bench_run *r);

#endif
