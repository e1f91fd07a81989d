/* CSV in FastPort C++'s column order, then ours. */
#include "bench_csv.h"

#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <string.h>

static const char *const column_names[] = {
    /* FastPort C++'s 26 */
    "test_name",
    "iterations",
    "payload_size",
    "avg_latency_ns",
    "min_latency_ns",
    "max_latency_ns",
    "p50_latency_ns",
    "p90_latency_ns",
    "p95_latency_ns",
    "p99_latency_ns",
    "stddev_ns",
    "packets_per_sec",
    "mb_per_sec",
    "requested_sessions",
    "connected_sessions",
    "connection_losses",
    "warmup_requests",
    "warmup_responses",
    "measured_requests",
    "measured_responses",
    "payload_min_bytes",
    "payload_max_bytes",
    "payload_pool_size",
    "connect_elapsed_ns",
    "warmup_elapsed_ns",
    "measured_elapsed_ns",
    /* the three */
    "io_mode",
    "run",
    "server_cpu_ns_per_msg",
    /* ours */
    "p999_latency_ns",
    "server_avg_ns",
    "lost_replies",
    "late_replies",
    "sequence_errors",
    "measured_payload_bytes",
    "payload_avg_bytes",
};

#define COLUMN_COUNT (sizeof(column_names) / sizeof(column_names[0]))

size_t fp_bench_csv_column_count(void)
{
    return COLUMN_COUNT;
}

const char *fp_bench_csv_column_name(size_t i)
{
    return i < COLUMN_COUNT ? column_names[i] : NULL;
}

/* Cells of one line, comma-separated. */
typedef struct row_writer {
    FILE *out;
    size_t cells;
} row_writer;

static void cell_begin(row_writer *w)
{
    if (w->cells++)
        fputc(',', w->out);
}

static void cell_text(row_writer *w, const char *s)
{
    cell_begin(w);
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, w->out);
        return;
    }
    fputc('"', w->out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', w->out);
        fputc(*s, w->out);
    }
    fputc('"', w->out);
}

static void cell_u64(row_writer *w, uint64_t v)
{
    cell_begin(w);
    fprintf(w->out, "%" PRIu64, v);
}

static void cell_double(row_writer *w, double v)
{
    cell_begin(w);
    fprintf(w->out, "%.6f", v);
}

static void cell_empty(row_writer *w)
{
    cell_begin(w);
}

static int line_end(row_writer *w)
{
    fputc('\n', w->out);
    return ferror(w->out) ? -1 : 0;
}

int fp_bench_csv_write_header(FILE *out)
{
    row_writer w = {out, 0};
    for (size_t i = 0; i < COLUMN_COUNT; i++)
        cell_text(&w, column_names[i]);
    return line_end(&w);
}

static void write_row_cells(row_writer *w, const fp_bench_run *r)
{
    cell_text(w, r->test_name);
    cell_u64(w, r->iterations);
    cell_u64(w, r->payload_size);
    cell_double(w, r->rtt.avg);
    cell_double(w, r->rtt.min);
    cell_double(w, r->rtt.max);
    cell_double(w, r->rtt.p50);
    cell_double(w, r->rtt.p90);
    cell_double(w, r->rtt.p95);
    cell_double(w, r->rtt.p99);
    cell_double(w, r->rtt.stddev);
    cell_double(w, r->packets_per_sec);
    cell_double(w, r->mb_per_sec);
    cell_u64(w, r->requested_sessions);
    cell_u64(w, r->connected_sessions);
    cell_u64(w, r->connection_losses);
    cell_u64(w, r->warmup_requests);
    cell_u64(w, r->warmup_responses);
    cell_u64(w, r->measured_requests);
    cell_u64(w, r->measured_responses);
    cell_u64(w, r->payload_min_bytes);
    cell_u64(w, r->payload_max_bytes);
    cell_u64(w, r->payload_pool_size);
    cell_u64(w, r->connect_elapsed_ns);
    cell_u64(w, r->warmup_elapsed_ns);
    cell_u64(w, r->measured_elapsed_ns);

    cell_text(w, r->io_mode);
    cell_u64(w, (uint64_t)(r->run < 0 ? 0 : r->run));
    if (r->server_cpu_known)
        cell_double(w, r->server_cpu_ns_per_msg);
    else
        cell_empty(w);

    cell_double(w, r->rtt.p999);
    cell_double(w, r->server_avg_ns);
    cell_u64(w, r->lost_replies);
    cell_u64(w, r->late_replies);
    cell_u64(w, r->sequence_errors);
    cell_u64(w, r->measured_payload_bytes);
    cell_double(w, r->payload_avg_bytes);
}

int fp_bench_csv_write_row(FILE *out, const fp_bench_run *r)
{
    /* "%.6f" must write '.' even if the program set a ',' locale. */
    locale_t c_numeric = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    locale_t previous = c_numeric ? uselocale(c_numeric) : (locale_t)0;
    row_writer w = {out, 0};
    write_row_cells(&w, r);
    int rc = line_end(&w);
    if (c_numeric) {
        uselocale(previous);
        freelocale(c_numeric);
    }
    return rc;
}

int fp_bench_csv_write_file(const char *path, const fp_bench_run *runs, size_t n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int rc = fp_bench_csv_write_header(f);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = fp_bench_csv_write_row(f, &runs[i]);
    int saved = errno;
    if (fclose(f) != 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    if (rc != 0 && saved == 0)
        saved = EIO;
    errno = saved;
    return rc;
}
