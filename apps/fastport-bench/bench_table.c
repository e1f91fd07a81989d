/* The --compare table and FastPort-style console report. */
#include "bench_table.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define RULE "======================================"

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

fp_bench_range fp_bench_range_of(const double *values, size_t n)
{
    fp_bench_range r = {0, 0.0, 0.0, 0.0};
    if (n == 0)
        return r;
    double *sorted = malloc(n * sizeof(*sorted));
    if (!sorted) {
        /* Without room to sort, min and max still hold; so does the median
         * of one or two values. */
        r.n = n;
        r.min = r.max = values[0];
        for (size_t i = 1; i < n; i++) {
            if (values[i] < r.min)
                r.min = values[i];
            if (values[i] > r.max)
                r.max = values[i];
        }
        r.median = (r.min + r.max) / 2;
        return r;
    }
    memcpy(sorted, values, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), compare_double);
    r.n = n;
    r.min = sorted[0];
    r.max = sorted[n - 1];
    r.median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    free(sorted);
    return r;
}

static const char *const figure_labels[FP_BENCH_FIG_COUNT] = {
    [FP_BENCH_FIG_MSGS_PER_SEC] = "msgs/s",
    [FP_BENCH_FIG_MB_PER_SEC] = "MB/s",
    [FP_BENCH_FIG_RTT_AVG] = "RTT avg (us)",
    [FP_BENCH_FIG_RTT_P50] = "RTT p50 (us)",
    [FP_BENCH_FIG_RTT_P90] = "RTT p90 (us)",
    [FP_BENCH_FIG_RTT_P99] = "RTT p99 (us)",
    [FP_BENCH_FIG_RTT_P999] = "RTT p99.9 (us)",
    [FP_BENCH_FIG_RTT_MAX] = "RTT max (us)",
    [FP_BENCH_FIG_SERVER_AVG] = "server avg (us)",
    [FP_BENCH_FIG_SERVER_SHARE] = "server share (%)",
    [FP_BENCH_FIG_SERVER_CPU] = "server CPU (us/msg)",
    [FP_BENCH_FIG_LOST] = "lost replies",
};

const char *fp_bench_figure_label(fp_bench_figure f)
{
    return (unsigned)f < FP_BENCH_FIG_COUNT ? figure_labels[f] : NULL;
}

bool fp_bench_figure_value(const fp_bench_run *r, fp_bench_figure f, double *out)
{
    switch (f) {
    case FP_BENCH_FIG_MSGS_PER_SEC: *out = r->packets_per_sec; return true;
    case FP_BENCH_FIG_MB_PER_SEC: *out = r->mb_per_sec; return true;
    case FP_BENCH_FIG_RTT_AVG: *out = r->rtt.avg / 1e3; return true;
    case FP_BENCH_FIG_RTT_P50: *out = r->rtt.p50 / 1e3; return true;
    case FP_BENCH_FIG_RTT_P90: *out = r->rtt.p90 / 1e3; return true;
    case FP_BENCH_FIG_RTT_P99: *out = r->rtt.p99 / 1e3; return true;
    case FP_BENCH_FIG_RTT_P999: *out = r->rtt.p999 / 1e3; return true;
    case FP_BENCH_FIG_RTT_MAX: *out = r->rtt.max / 1e3; return true;
    case FP_BENCH_FIG_SERVER_AVG: *out = r->server_avg_ns / 1e3; return true;
    case FP_BENCH_FIG_SERVER_SHARE:
        if (!(r->rtt.avg > 0.0))
            return false;
        *out = r->server_avg_ns / r->rtt.avg * 100.0;
        return true;
    case FP_BENCH_FIG_SERVER_CPU:
        if (!r->server_cpu_known)
            return false;
        *out = r->server_cpu_ns_per_msg / 1e3;
        return true;
    case FP_BENCH_FIG_LOST: *out = (double)r->lost_replies; return true;
    case FP_BENCH_FIG_COUNT: break;
    }
    return false;
}

fp_bench_range fp_bench_figure_range(const fp_bench_run *runs, size_t n, fp_bench_figure f)
{
    fp_bench_range empty = {0, 0.0, 0.0, 0.0};
    if (n == 0)
        return empty;
    double *values = malloc(n * sizeof(*values));
    if (!values)
        return empty;
    size_t known = 0;
    for (size_t i = 0; i < n; i++)
        if (fp_bench_figure_value(&runs[i], f, &values[known]))
            known++;
    fp_bench_range r = fp_bench_range_of(values, known);
    free(values);
    return r;
}

bool fp_bench_ratio(const fp_bench_range *value, const fp_bench_range *base, double *out)
{
    if (value->n == 0 || base->n == 0 || base->median == 0.0)
        return false;
    *out = value->median / base->median;
    return true;
}

/* Enough digits to tell transports apart, not more. */
static void format_value(char *buf, size_t size, fp_bench_figure f, double v)
{
    int decimals;
    switch (f) {
    case FP_BENCH_FIG_MSGS_PER_SEC:
    case FP_BENCH_FIG_LOST:
        decimals = 0;
        break;
    case FP_BENCH_FIG_MB_PER_SEC:
        decimals = 2;
        break;
    case FP_BENCH_FIG_SERVER_SHARE:
        decimals = 1;
        break;
    default:
        decimals = v < 10.0 ? 2 : v < 1000.0 ? 1 : 0;
        break;
    }
    snprintf(buf, size, "%.*f", decimals, v);
}

#define CELL_SIZE 112

static void format_cell(char *cell, fp_bench_figure f, const fp_bench_range *r)
{
    if (r->n == 0) {
        snprintf(cell, CELL_SIZE, "-");
        return;
    }
    char median[32], lo[32], hi[32];
    format_value(median, sizeof(median), f, r->median);
    if (r->n == 1 || r->min == r->max) {
        snprintf(cell, CELL_SIZE, "%s", median);
        return;
    }
    format_value(lo, sizeof(lo), f, r->min);
    format_value(hi, sizeof(hi), f, r->max);
    snprintf(cell, CELL_SIZE, "%s (%s-%s)", median, lo, hi);
}

static void format_ratio(char *cell, const fp_bench_range *value, const fp_bench_range *base)
{
    double ratio;
    if (fp_bench_ratio(value, base, &ratio))
        snprintf(cell, CELL_SIZE, "%.2fx", ratio);
    else
        snprintf(cell, CELL_SIZE, "-");
}

/* One block of rows: label, then one cell per column, each padded to the
 * column's width. */
static void print_row(FILE *out, int label_width, const char *label, char (*cells)[CELL_SIZE],
                      const int *widths, size_t n)
{
    fprintf(out, "%-*s", label_width, label);
    for (size_t c = 0; c < n; c++)
        fprintf(out, "  %-*s", c + 1 < n ? widths[c] : 0, cells[c]);
    fputc('\n', out);
}

int fp_bench_table_print(FILE *out, const fp_bench_column *cols, size_t n)
{
    if (n == 0)
        return ferror(out) ? -1 : 0;
    char (*cells)[CELL_SIZE] = calloc((size_t)(2 * FP_BENCH_FIG_COUNT + 2) * n, CELL_SIZE);
    int *widths = calloc(n, sizeof(*widths));
    if (!cells || !widths) {
        free(cells);
        free(widths);
        return -1;
    }
    /* rows: 0 = heading, 1 = runs, then figures, then ratios */
    char (*heading)[CELL_SIZE] = cells;
    char (*runs_row)[CELL_SIZE] = cells + n;
    char (*figure_rows)[CELL_SIZE] = cells + 2 * n;
    char (*ratio_rows)[CELL_SIZE] = cells + (2 + FP_BENCH_FIG_COUNT) * n;

    for (size_t c = 0; c < n; c++) {
        snprintf(heading[c], CELL_SIZE, "%s", cols[c].name ? cols[c].name : "?");
        snprintf(runs_row[c], CELL_SIZE, "%zu", cols[c].n_runs);
    }
    for (int f = 0; f < FP_BENCH_FIG_COUNT; f++) {
        fp_bench_range base = fp_bench_figure_range(cols[0].runs, cols[0].n_runs, (fp_bench_figure)f);
        for (size_t c = 0; c < n; c++) {
            fp_bench_range r = fp_bench_figure_range(cols[c].runs, cols[c].n_runs, (fp_bench_figure)f);
            format_cell(figure_rows[(size_t)f * n + c], (fp_bench_figure)f, &r);
            format_ratio(ratio_rows[(size_t)f * n + c], &r, &base);
        }
    }
    for (size_t row = 0; row < (size_t)(2 * FP_BENCH_FIG_COUNT + 2); row++)
        for (size_t c = 0; c < n; c++) {
            int len = (int)strlen(cells[row * n + c]);
            if (len > widths[c])
                widths[c] = len;
        }

    int label_width = (int)strlen("runs");
    for (int f = 0; f < FP_BENCH_FIG_COUNT; f++) {
        int len = (int)strlen(figure_labels[f]);
        if (len > label_width)
            label_width = len;
    }

    fprintf(out, "cells: median (min-max) over runs\n");
    print_row(out, label_width, "", heading, widths, n);
    print_row(out, label_width, "runs", runs_row, widths, n);
    for (int f = 0; f < FP_BENCH_FIG_COUNT; f++)
        print_row(out, label_width, figure_labels[f], figure_rows + (size_t)f * n, widths, n);
    fprintf(out, "\nratio of medians to %s (msgs/s, MB/s: higher is better; times: lower is better)\n",
            heading[0]);
    print_row(out, label_width, "", heading, widths, n);
    for (int f = 0; f < FP_BENCH_FIG_COUNT; f++)
        print_row(out, label_width, figure_labels[f], ratio_rows + (size_t)f * n, widths, n);

    free(cells);
    free(widths);
    return ferror(out) ? -1 : 0;
}

int fp_bench_banner_print(FILE *out, const fp_bench_banner *b)
{
    fprintf(out, "%s\nFastPort Benchmark\n%s\n", RULE, RULE);
    if (b->server)
        fprintf(out, "Server: %s\n", b->server);
    if (b->transport)
        fprintf(out, "Transport: %s\n", b->transport);
    if (b->iterations)
        fprintf(out, "Iterations: %" PRIu64 "\n", b->iterations);
    else
        fprintf(out, "Duration: %.3f s\n", b->duration_s);
    if (b->warmup_requests)
        fprintf(out, "Warmup: %" PRIu64 "\n", b->warmup_requests);
    else if (b->warmup_s > 0.0)
        fprintf(out, "Warmup: %.3f s\n", b->warmup_s);
    else
        fprintf(out, "Warmup: none\n");
    fprintf(out, "Sessions: %" PRIu64 "\n", b->sessions);
    fprintf(out, "Depth: %" PRIu64 "\n", b->depth);
    fprintf(out, "IO Threads: %" PRIu64 "\n", b->threads);
    if (b->payload_min == b->payload_max)
        fprintf(out, "Payload: %" PRIu64 " bytes\n", b->payload_min);
    else
        fprintf(out, "Payload: %" PRIu64 "-%" PRIu64 " bytes, pool %" PRIu64 "\n",
                b->payload_min, b->payload_max, b->payload_pool);
    if (b->runs)
        fprintf(out, "Runs: %" PRIu64 "\n", b->runs);
    fprintf(out, "%s\n", RULE);
    return ferror(out) ? -1 : 0;
}

static void print_us(FILE *out, const char *label, double ns)
{
    fprintf(out, "  %-9s %.3f us\n", label, ns / 1e3);
}

int fp_bench_report_print(FILE *out, const fp_bench_run *r)
{
    fprintf(out, "\n%s\nBenchmark Results\n%s\n", RULE, RULE);
    fprintf(out, "Benchmark: %s\n", r->test_name);
    fprintf(out, "IO Mode: %s\n", r->io_mode);
    fprintf(out, "Run: %d\n", r->run);
    fprintf(out, "Iterations: %" PRIu64 "\n", r->iterations);
    /* The sizes used, not FastPort's single payload_size (the largest, which
     * the CSV keeps in its column for compatibility). */
    if (r->payload_min_bytes == r->payload_max_bytes)
        fprintf(out, "Payload Size: %" PRIu64 " bytes\n", r->payload_max_bytes);
    else
        fprintf(out, "Payload Size: %" PRIu64 "-%" PRIu64 " bytes\n", r->payload_min_bytes,
                r->payload_max_bytes);

    fprintf(out, "\nLatency (RTT):\n");
    print_us(out, "Average:", r->rtt.avg);
    print_us(out, "Min:", r->rtt.min);
    print_us(out, "Max:", r->rtt.max);
    print_us(out, "Median:", r->rtt.p50);
    print_us(out, "P50:", r->rtt.p50);
    print_us(out, "P90:", r->rtt.p90);
    print_us(out, "P95:", r->rtt.p95);
    print_us(out, "P99:", r->rtt.p99);
    print_us(out, "P99.9:", r->rtt.p999);
    print_us(out, "Std Dev:", r->rtt.stddev);

    fprintf(out, "\nServer side (receive to send):\n");
    fprintf(out, "  Average:  %.3f us", r->server_avg_ns / 1e3);
    if (r->rtt.avg > 0.0)
        fprintf(out, " (%.1f%% of RTT)", r->server_avg_ns / r->rtt.avg * 100.0);
    fputc('\n', out);
    if (r->server_cpu_known)
        fprintf(out, "  CPU/msg:  %.3f us\n", r->server_cpu_ns_per_msg / 1e3);
    else
        fprintf(out, "  CPU/msg:  unknown\n");

    fprintf(out, "\nThroughput:\n");
    fprintf(out, "  Packets/sec: %.2f\n", r->packets_per_sec);
    fprintf(out, "  MB/sec:      %.2f\n", r->mb_per_sec);
    fprintf(out, "  Total Bytes: %" PRIu64 "\n", r->measured_payload_bytes);
    fprintf(out, "  Elapsed:     %.2f ms\n", (double)r->measured_elapsed_ns / 1e6);

    fprintf(out, "\nReplies:\n");
    fprintf(out, "  Lost:            %" PRIu64 "\n", r->lost_replies);
    fprintf(out, "  Late:            %" PRIu64 "\n", r->late_replies);
    fprintf(out, "  Sequence errors: %" PRIu64 "\n", r->sequence_errors);

    fprintf(out, "\nDebug Profile:\n");
    fprintf(out, "  Sessions: %" PRIu64 "/%" PRIu64 " connected", r->connected_sessions,
            r->requested_sessions);
    if (r->connection_losses)
        fprintf(out, ", %" PRIu64 " lost", r->connection_losses);
    fputc('\n', out);
    fprintf(out, "  Connect:  %.2f ms\n", (double)r->connect_elapsed_ns / 1e6);
    fprintf(out, "  Warmup:   %" PRIu64 "/%" PRIu64 " responses, %.2f ms\n", r->warmup_responses,
            r->warmup_requests, (double)r->warmup_elapsed_ns / 1e6);
    fprintf(out, "  Measured: %" PRIu64 "/%" PRIu64 " responses, %.2f ms\n", r->measured_responses,
            r->measured_requests, (double)r->measured_elapsed_ns / 1e6);
    fprintf(out, "  Payload:  %" PRIu64 "-%" PRIu64 " bytes, avg %.2f, pool %" PRIu64 "\n",
            r->payload_min_bytes, r->payload_max_bytes, r->payload_avg_bytes, r->payload_pool_size);
    fprintf(out, "%s\n", RULE);
    return ferror(out) ? -1 : 0;
}
