/*
 * bench_csv.h - fastport-bench's CSV: a header line, then one row per run.
 *
 * Columns, in order:
 *   1-26  FastPort C++'s: test_name, iterations, payload_size,
 *         avg_latency_ns, min_latency_ns, max_latency_ns, p50_latency_ns,
 *         p90_latency_ns, p95_latency_ns, p99_latency_ns, stddev_ns,
 *         packets_per_sec, mb_per_sec, requested_sessions,
 *         connected_sessions, connection_losses, warmup_requests,
 *         warmup_responses, measured_requests, measured_responses,
 *         payload_min_bytes, payload_max_bytes, payload_pool_size,
 *         connect_elapsed_ns, warmup_elapsed_ns, measured_elapsed_ns
 *   27-29 io_mode ("client=NAME;server=NAME"), run (1-based),
 *         server_cpu_ns_per_msg (empty when the server's CPU is unknown)
 *   30-    ours: p999_latency_ns, server_avg_ns, lost_replies, late_replies,
 *         sequence_errors, measured_payload_bytes, payload_avg_bytes
 * so a reader of FastPort's files can read ours by column position.
 *
 * Floating-point cells have 6 decimals, as FastPort writes them; counts
 * are integers. A field holding a comma, a double quote, CR or LF is quoted
 * (RFC 4180: inner quotes doubled). Lines end with "\n".
 */
#ifndef FASTPORT_BENCH_CSV_H
#define FASTPORT_BENCH_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "bench_stats.h"

/* Number of FastPort's own columns (the first ones). */
#define FP_BENCH_CSV_FASTPORT_COLUMNS 26

/* Number of columns in every line. */
size_t fp_bench_csv_column_count(void);
/* Name of column `i` (0-based), NULL past the end. */
const char *fp_bench_csv_column_name(size_t i);

/* Write the header line / one row. Return 0, or -1 on a write error. */
int fp_bench_csv_write_header(FILE *out);
int fp_bench_csv_write_row(FILE *out, const fp_bench_run *r);

/* Creates (truncates) `path` and writes the header and `n` rows. Returns
 * 0, or -1 with errno set. */
int fp_bench_csv_write_file(const char *path, const fp_bench_run *runs, size_t n);

#endif
