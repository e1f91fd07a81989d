/*
 * bench_svg.h - fastport-bench's --plot: one self-contained SVG file (no
 * script, no external reference) a browser shows as is.
 *
 * Two charts, one above the other:
 * 1. latency CDF: x = RTT in microseconds (log10 scale by default), y = 0..1,
 *    one polyline per transport (at most FP_BENCH_SVG_MAX_POINTS points,
 *    taken evenly from the sorted samples, always including min and max),
 *    ticks, axis labels and a legend;
 * 2. throughput: per transport a bar at the median msgs/s over runs, with a
 *    whisker from the minimum to the maximum run.
 *
 * Output depends only on the input (no clock, no locale: numbers are
 * written with a '.' decimal point whatever LC_NUMERIC says).
 */
#ifndef FASTPORT_BENCH_SVG_H
#define FASTPORT_BENCH_SVG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FP_BENCH_SVG_MAX_POINTS 2000

/* One transport's data; nothing is copied or kept. */
typedef struct fp_bench_series {
    const char *name;               /* legend text (XML-escaped on output) */
    const uint64_t *rtt_sorted_ns;  /* all runs' RTT samples, sorted
                                       ascending */
    size_t n_rtt;                   /* 0: no CDF line, legend still shown */
    const double *msgs_per_sec;     /* one figure per run */
    size_t n_runs;                  /* 0: no bar */
} fp_bench_series;

typedef struct fp_bench_svg_options {
    const char *title; /* NULL: "fastport-bench" */
    bool linear_x;     /* CDF x axis linear instead of log10 */
} fp_bench_svg_options;

/* Writes the SVG document for `n` series (n may be 0: empty charts).
 * `opt` may be NULL for the defaults. Returns 0, or -1 on a write error. */
int fp_bench_svg_write(FILE *out, const fp_bench_series *series, size_t n,
                       const fp_bench_svg_options *opt);
/* Creates (truncates) `path` and writes the document. Returns 0, or -1
 * with errno set. */
int fp_bench_svg_write_file(const char *path, const fp_bench_series *series, size_t n,
                            const fp_bench_svg_options *opt);

#endif
