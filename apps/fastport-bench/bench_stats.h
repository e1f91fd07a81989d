/*
 * bench_stats.h - latency samples, their summary, throughput figures and
 * the per-run result record fastport-bench writes to CSV and tables.
 *
 * The formulas are FastPort C++'s (FastPortBenchmark), so figures compare:
 * - percentiles: sort the samples, then interpolate linearly at index
 *   p/100 * (n - 1);
 * - stddev: population standard deviation (divide by n, not n - 1);
 * - msgs/s: measured responses / measured wall-clock seconds;
 * - MB/s: request payload bytes (one direction, frame headers excluded)
 *   / 2^20 / measured wall-clock seconds.
 *
 * All times are nanoseconds. Nothing here is thread-safe: each thread keeps
 * its own fp_bench_samples and the owner merges them after the run.
 */
#ifndef FASTPORT_BENCH_STATS_H
#define FASTPORT_BENCH_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growable array of samples (ns). Zero-initialised is a valid empty set,
 * as is fp_bench_samples_init(). */
typedef struct fp_bench_samples {
    uint64_t *v;
    size_t n;
    size_t cap;
} fp_bench_samples;

void fp_bench_samples_init(fp_bench_samples *s);
/* Frees the storage and leaves an empty set. */
void fp_bench_samples_free(fp_bench_samples *s);
/* Forgets the samples, keeps the storage. */
void fp_bench_samples_clear(fp_bench_samples *s);
/* Makes room for at least `cap` samples in total, so pushes during the
 * measured phase do not allocate. Returns 0, or -1 when out of memory. */
int fp_bench_samples_reserve(fp_bench_samples *s, size_t cap);
/* Appends one sample. Returns 0, or -1 when out of memory (the set is
 * unchanged then). */
int fp_bench_samples_push(fp_bench_samples *s, uint64_t ns);
/* Appends every sample of `src` to `dst` (src is unchanged). Returns 0, or
 * -1 when out of memory (dst unchanged). */
int fp_bench_samples_append(fp_bench_samples *dst, const fp_bench_samples *src);
/* Merges `count` per-thread sets into `dst` (appended after what dst holds)
 * and sorts the result ascending. `dst` must not be one of `srcs`. Returns
 * 0, or -1 when out of memory (dst unchanged). */
int fp_bench_samples_merge(fp_bench_samples *dst, const fp_bench_samples *srcs, size_t count);
/* Sorts ascending in place. */
void fp_bench_samples_sort(fp_bench_samples *s);

/* The p-th percentile (0 <= p <= 100, clamped) of `n` samples sorted
 * ascending, by linear interpolation at index p/100 * (n - 1). 0 when n is 0. */
double fp_bench_percentile_sorted(const uint64_t *sorted, size_t n, double p);

/* Summary of one sample set; every figure in ns. All zero when n is 0. */
typedef struct fp_bench_summary {
    size_t n;
    double avg;
    double min;
    double max;
    double p50;
    double p90;
    double p95;
    double p99;
    double p999;   /* 99.9th percentile */
    double stddev; /* population */
} fp_bench_summary;

/* Summarises `s`, sorting it in place first (so a caller may reuse the
 * sorted samples, e.g. for the CDF plot). */
void fp_bench_summarize(fp_bench_samples *s, fp_bench_summary *out);
/* Same, for samples already sorted ascending (not modified). */
void fp_bench_summarize_sorted(const uint64_t *sorted, size_t n, fp_bench_summary *out);

/* responses / (wall_ns / 1e9); 0 when wall_ns is 0. */
double fp_bench_msgs_per_sec(uint64_t responses, uint64_t wall_ns);
/* payload_bytes / 2^20 / (wall_ns / 1e9); 0 when wall_ns is 0. */
double fp_bench_mb_per_sec(uint64_t payload_bytes, uint64_t wall_ns);

#define FP_BENCH_NAME_MAX 128

/*
 * Everything one CSV row and one table cell need about one run (one
 * transport, one repetition). The first group is FastPort's 26 CSV columns
 * in their order; the rest are ours.
 */
typedef struct fp_bench_run {
    /* FastPort's columns */
    char test_name[FP_BENCH_NAME_MAX];
    uint64_t iterations;   /* measured responses asked for (or received, in
                              --duration mode) */
    uint64_t payload_size; /* max payload bytes (FastPort's multi-session
                              meaning) */
    fp_bench_summary rtt;  /* avg/min/max/p50/p90/p95/p99/stddev columns;
                              p999 is an extra column */
    double packets_per_sec;
    double mb_per_sec;
    uint64_t requested_sessions;
    uint64_t connected_sessions;
    uint64_t connection_losses;
    uint64_t warmup_requests;
    uint64_t warmup_responses;
    uint64_t measured_requests;
    uint64_t measured_responses;
    uint64_t payload_min_bytes;
    uint64_t payload_max_bytes;
    uint64_t payload_pool_size;
    uint64_t connect_elapsed_ns;
    uint64_t warmup_elapsed_ns;
    uint64_t measured_elapsed_ns;

    /* ours, CSV columns 27..29 */
    /* "client=NAME;server=NAME" (see fp_bench_run_set_io_mode). */
    char io_mode[FP_BENCH_NAME_MAX];
    int run;                      /* 1-based repetition number */
    bool server_cpu_known;        /* false: the cell is empty */
    double server_cpu_ns_per_msg; /* server user+system CPU ns / measured
                                     response */

    /* ours, extra CSV columns after those (see bench_csv.h) */
    double server_avg_ns;     /* avg of (server_send - server_recv) */
    uint64_t lost_replies;    /* requests never answered */
    uint64_t late_replies;    /* answers that came after the deadline */
    uint64_t sequence_errors; /* answers out of order or with an unknown /
                                 duplicate sequence number */
    uint64_t measured_payload_bytes; /* request payload bytes, measured
                                        phase (the MB/s numerator) */
    double payload_avg_bytes; /* mean size of the payload pool */
} fp_bench_run;

/* Zeroes `r`, sets run = 1 and io_mode to "client=unknown;server=unknown". */
void fp_bench_run_init(fp_bench_run *r);
/* Sets io_mode to "client=CLIENT;server=SERVER". A NULL or empty name is
 * written as "unknown"; names are cut to fit. */
void fp_bench_run_set_io_mode(fp_bench_run *r, const char *client, const char *server);
/* Copies `name` into test_name (cut to fit; NULL gives ""). */
void fp_bench_run_set_test_name(fp_bench_run *r, const char *name);
/* Fills packets_per_sec and mb_per_sec from measured_responses,
 * measured_payload_bytes and measured_elapsed_ns. */
void fp_bench_run_compute_throughput(fp_bench_run *r);

#endif
