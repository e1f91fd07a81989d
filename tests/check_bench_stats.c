/* fastport-bench's figures against values worked out by hand: FastPort's
 * percentile and stddev rules, throughput formulas, the CSV layout, the
 * SVG structure and the comparison table's medians and ratios. */
#include <check.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_csv.h"
#include "bench_stats.h"
#include "bench_svg.h"
#include "bench_table.h"

#define TOL 1e-9

/* Text written to a memory stream, NUL-terminated; free() it. */
typedef struct captured {
    FILE *f;
    char *text;
    size_t len;
} captured;

static void capture_open(captured *c)
{
    c->text = NULL;
    c->len = 0;
    c->f = open_memstream(&c->text, &c->len);
    ck_assert_ptr_nonnull(c->f);
}

static char *capture_close(captured *c)
{
    ck_assert_int_eq(fclose(c->f), 0);
    return c->text;
}

static size_t count_occurrences(const char *haystack, const char *needle)
{
    size_t count = 0;
    for (const char *p = strstr(haystack, needle); p; p = strstr(p + 1, needle))
        count++;
    return count;
}

static void samples_from(fp_bench_samples *s, const uint64_t *values, size_t n)
{
    fp_bench_samples_init(s);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(fp_bench_samples_push(s, values[i]), 0);
}

/* --- percentiles and summary --- */

START_TEST(percentiles_of_1_to_100)
{
    fp_bench_samples s;
    fp_bench_samples_init(&s);
    for (uint64_t v = 100; v >= 1; v--) /* pushed descending on purpose */
        ck_assert_int_eq(fp_bench_samples_push(&s, v), 0);
    fp_bench_summary sum;
    fp_bench_summarize(&s, &sum);
    ck_assert_uint_eq(sum.n, 100);
    /* index = p/100 * 99 over 1..100 */
    ck_assert_double_eq_tol(sum.p50, 50.5, TOL);
    ck_assert_double_eq_tol(sum.p90, 90.1, TOL);
    ck_assert_double_eq_tol(sum.p95, 95.05, TOL);
    ck_assert_double_eq_tol(sum.p99, 99.01, TOL);
    ck_assert_double_eq_tol(sum.p999, 99.901, TOL);
    ck_assert_double_eq_tol(sum.avg, 50.5, TOL);
    ck_assert_double_eq_tol(sum.min, 1.0, TOL);
    ck_assert_double_eq_tol(sum.max, 100.0, TOL);
    /* population stddev of 1..n is sqrt((n^2 - 1) / 12) */
    ck_assert_double_eq_tol(sum.stddev, sqrt(9999.0 / 12.0), 1e-9);
    ck_assert_double_eq_tol(fp_bench_percentile_sorted(s.v, s.n, 0.0), 1.0, TOL);
    ck_assert_double_eq_tol(fp_bench_percentile_sorted(s.v, s.n, 100.0), 100.0, TOL);
    ck_assert_double_eq_tol(fp_bench_percentile_sorted(s.v, s.n, 250.0), 100.0, TOL);
    ck_assert_double_eq_tol(fp_bench_percentile_sorted(s.v, s.n, -5.0), 1.0, TOL);
    fp_bench_samples_free(&s);
}
END_TEST

START_TEST(percentiles_of_one_sample)
{
    fp_bench_samples s;
    samples_from(&s, (const uint64_t[]){7}, 1);
    fp_bench_summary sum;
    fp_bench_summarize(&s, &sum);
    ck_assert_uint_eq(sum.n, 1);
    ck_assert_double_eq_tol(sum.p50, 7.0, TOL);
    ck_assert_double_eq_tol(sum.p999, 7.0, TOL);
    ck_assert_double_eq_tol(sum.min, 7.0, TOL);
    ck_assert_double_eq_tol(sum.max, 7.0, TOL);
    ck_assert_double_eq_tol(sum.avg, 7.0, TOL);
    ck_assert_double_eq_tol(sum.stddev, 0.0, TOL);
    fp_bench_samples_free(&s);
}
END_TEST

START_TEST(percentiles_of_two_samples)
{
    fp_bench_samples s;
    samples_from(&s, (const uint64_t[]){20, 10}, 2);
    fp_bench_summary sum;
    fp_bench_summarize(&s, &sum);
    ck_assert_double_eq_tol(sum.p50, 15.0, TOL);
    ck_assert_double_eq_tol(sum.p90, 19.0, TOL);
    ck_assert_double_eq_tol(sum.p95, 19.5, TOL);
    ck_assert_double_eq_tol(sum.p99, 19.9, TOL);
    ck_assert_double_eq_tol(sum.p999, 19.99, TOL);
    ck_assert_double_eq_tol(sum.stddev, 5.0, TOL);
    fp_bench_samples_free(&s);
}
END_TEST

START_TEST(unsorted_input_is_sorted_before_percentiles)
{
    fp_bench_samples s;
    samples_from(&s, (const uint64_t[]){30, 10, 50, 20, 40}, 5);
    fp_bench_summary sum;
    fp_bench_summarize(&s, &sum);
    for (size_t i = 0; i < 5; i++)
        ck_assert_uint_eq(s.v[i], 10 * (i + 1));
    ck_assert_double_eq_tol(sum.p50, 30.0, TOL);
    ck_assert_double_eq_tol(sum.p90, 46.0, TOL); /* index 3.6: 40 + 0.6 * 10 */
    ck_assert_double_eq_tol(sum.p99, 49.6, TOL); /* index 3.96 */
    ck_assert_double_eq_tol(sum.min, 10.0, TOL);
    ck_assert_double_eq_tol(sum.max, 50.0, TOL);
    ck_assert_double_eq_tol(sum.avg, 30.0, TOL);
    fp_bench_samples_free(&s);
}
END_TEST

START_TEST(population_stddev_of_known_set)
{
    /* mean 5, squared deviations sum to 32 over 8 values: variance 4 */
    fp_bench_samples s;
    samples_from(&s, (const uint64_t[]){2, 4, 4, 4, 5, 5, 7, 9}, 8);
    fp_bench_summary sum;
    fp_bench_summarize(&s, &sum);
    ck_assert_double_eq_tol(sum.avg, 5.0, TOL);
    ck_assert_double_eq_tol(sum.stddev, 2.0, TOL);
    fp_bench_samples_free(&s);
}
END_TEST

START_TEST(empty_set_summarises_to_zero)
{
    fp_bench_samples s;
    fp_bench_samples_init(&s);
    fp_bench_summary sum;
    sum.avg = 1.0;
    fp_bench_summarize(&s, &sum);
    ck_assert_uint_eq(sum.n, 0);
    ck_assert_double_eq(sum.avg, 0.0);
    ck_assert_double_eq(sum.p99, 0.0);
    ck_assert_double_eq(fp_bench_percentile_sorted(NULL, 0, 50.0), 0.0);
}
END_TEST

START_TEST(large_values_keep_precision)
{
    /* 10 s RTTs: the sum of a few exceeds 2^53 ns only in long double */
    const uint64_t base = 10000000000ull;
    fp_bench_samples s;
    samples_from(&s, (const uint64_t[]){base + 1, base + 3}, 2);
    fp_bench_summary sum;
    fp_bench_summarize(&s, &sum);
    ck_assert_double_eq_tol(sum.avg, (double)(base + 2), 0.5);
    ck_assert_double_eq_tol(sum.stddev, 1.0, 1e-6);
    fp_bench_samples_free(&s);
}
END_TEST

/* --- sorting and merging --- */

static uint64_t xorshift_state = 0x4650535045524655ull;

static uint64_t xorshift(void)
{
    xorshift_state ^= xorshift_state << 13;
    xorshift_state ^= xorshift_state >> 7;
    xorshift_state ^= xorshift_state << 17;
    return xorshift_state;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

START_TEST(large_sets_sort_like_qsort)
{
    /* Sizes above the small-set cut-over, with latencies that differ only
     * in low bytes and values spread over all 64 bits. */
    const size_t n = 50000;
    for (int shape = 0; shape < 2; shape++) {
        fp_bench_samples s;
        fp_bench_samples_init(&s);
        ck_assert_int_eq(fp_bench_samples_reserve(&s, n), 0);
        uint64_t *expected = malloc(n * sizeof(*expected));
        ck_assert_ptr_nonnull(expected);
        for (size_t i = 0; i < n; i++) {
            uint64_t v = shape == 0 ? 20000 + xorshift() % 500000 : xorshift();
            expected[i] = v;
            ck_assert_int_eq(fp_bench_samples_push(&s, v), 0);
        }
        qsort(expected, n, sizeof(*expected), compare_u64);
        fp_bench_samples_sort(&s);
        ck_assert_uint_eq(s.n, n);
        ck_assert_int_eq(memcmp(s.v, expected, n * sizeof(*expected)), 0);
        free(expected);
        fp_bench_samples_free(&s);
    }
}
END_TEST

START_TEST(merge_appends_every_thread_and_sorts)
{
    fp_bench_samples dst, parts[3];
    samples_from(&dst, (const uint64_t[]){6}, 1);
    samples_from(&parts[0], (const uint64_t[]){5, 1}, 2);
    fp_bench_samples_init(&parts[1]);
    samples_from(&parts[2], (const uint64_t[]){3, 4, 2}, 3);
    ck_assert_int_eq(fp_bench_samples_merge(&dst, parts, 3), 0);
    ck_assert_uint_eq(dst.n, 6);
    for (size_t i = 0; i < 6; i++)
        ck_assert_uint_eq(dst.v[i], i + 1);
    /* sources are left alone */
    ck_assert_uint_eq(parts[0].n, 2);
    ck_assert_uint_eq(parts[0].v[0], 5);
    ck_assert_uint_eq(parts[2].n, 3);

    fp_bench_samples more;
    samples_from(&more, (const uint64_t[]){9, 8}, 2);
    ck_assert_int_eq(fp_bench_samples_append(&dst, &more), 0);
    ck_assert_uint_eq(dst.n, 8);
    ck_assert_uint_eq(dst.v[6], 9);
    ck_assert_uint_eq(dst.v[7], 8);

    fp_bench_samples_clear(&dst);
    ck_assert_uint_eq(dst.n, 0);
    ck_assert_uint_ge(dst.cap, 8);
    fp_bench_samples_free(&dst);
    ck_assert_ptr_null(dst.v);
    ck_assert_uint_eq(dst.cap, 0);
    fp_bench_samples_free(&more);
    for (int i = 0; i < 3; i++)
        fp_bench_samples_free(&parts[i]);
}
END_TEST

/* --- throughput --- */

START_TEST(throughput_formulas)
{
    ck_assert_double_eq_tol(fp_bench_msgs_per_sec(1000, 500000000ull), 2000.0, TOL);
    ck_assert_double_eq_tol(fp_bench_mb_per_sec(3ull << 20, 1500000000ull), 2.0, TOL);
    ck_assert_double_eq(fp_bench_msgs_per_sec(1000, 0), 0.0);
    ck_assert_double_eq(fp_bench_mb_per_sec(1000, 0), 0.0);

    /* FastPort's published 05 run: 100000 responses in 2297.46 ms */
    ck_assert_double_eq_tol(fp_bench_msgs_per_sec(100000, 2297460000ull), 43526.33, 0.01);

    fp_bench_run r;
    fp_bench_run_init(&r);
    r.measured_responses = 500;
    r.measured_payload_bytes = 1ull << 20;
    r.measured_elapsed_ns = 250000000ull;
    fp_bench_run_compute_throughput(&r);
    ck_assert_double_eq_tol(r.packets_per_sec, 2000.0, TOL);
    ck_assert_double_eq_tol(r.mb_per_sec, 4.0, TOL);
}
END_TEST

START_TEST(run_init_and_names)
{
    fp_bench_run r;
    memset(&r, 0xa5, sizeof(r));
    fp_bench_run_init(&r);
    ck_assert_int_eq(r.run, 1);
    ck_assert_str_eq(r.io_mode, "client=unknown;server=unknown");
    ck_assert(!r.server_cpu_known);
    ck_assert_uint_eq(r.lost_replies, 0);
    fp_bench_run_set_io_mode(&r, "tA", "tB");
    ck_assert_str_eq(r.io_mode, "client=tA;server=tB");
    fp_bench_run_set_io_mode(&r, "tA", "");
    ck_assert_str_eq(r.io_mode, "client=tA;server=unknown");

    char long_name[400];
    memset(long_name, 'x', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    fp_bench_run_set_io_mode(&r, long_name, "tB");
    ck_assert_uint_lt(strlen(r.io_mode), sizeof(r.io_mode));
    ck_assert_ptr_nonnull(strstr(r.io_mode, ";server=tB"));
    fp_bench_run_set_test_name(&r, long_name);
    ck_assert_uint_eq(strlen(r.test_name), sizeof(r.test_name) - 1);
    fp_bench_run_set_test_name(&r, NULL);
    ck_assert_str_eq(r.test_name, "");
}
END_TEST

/* --- CSV --- */

static const char expected_header[] =
    "test_name,iterations,payload_size,avg_latency_ns,min_latency_ns,max_latency_ns,"
    "p50_latency_ns,p90_latency_ns,p95_latency_ns,p99_latency_ns,stddev_ns,packets_per_sec,"
    "mb_per_sec,requested_sessions,connected_sessions,connection_losses,warmup_requests,"
    "warmup_responses,measured_requests,measured_responses,payload_min_bytes,"
    "payload_max_bytes,payload_pool_size,connect_elapsed_ns,warmup_elapsed_ns,"
    "measured_elapsed_ns,io_mode,run,server_cpu_ns_per_msg,p999_latency_ns,server_avg_ns,"
    "lost_replies,late_replies,sequence_errors,measured_payload_bytes,payload_avg_bytes\n";

START_TEST(csv_header_is_fastport_columns_then_ours)
{
    captured c;
    capture_open(&c);
    ck_assert_int_eq(fp_bench_csv_write_header(c.f), 0);
    char *text = capture_close(&c);
    ck_assert_str_eq(text, expected_header);
    free(text);

    ck_assert_uint_eq(fp_bench_csv_column_count(), 36);
    ck_assert_str_eq(fp_bench_csv_column_name(0), "test_name");
    ck_assert_str_eq(fp_bench_csv_column_name(FP_BENCH_CSV_FASTPORT_COLUMNS - 1), "measured_elapsed_ns");
    ck_assert_str_eq(fp_bench_csv_column_name(FP_BENCH_CSV_FASTPORT_COLUMNS), "io_mode");
    ck_assert_str_eq(fp_bench_csv_column_name(FP_BENCH_CSV_FASTPORT_COLUMNS + 1), "run");
    ck_assert_str_eq(fp_bench_csv_column_name(FP_BENCH_CSV_FASTPORT_COLUMNS + 2), "server_cpu_ns_per_msg");
    ck_assert_ptr_null(fp_bench_csv_column_name(36));
}
END_TEST

static void sample_run(fp_bench_run *r)
{
    fp_bench_run_init(r);
    fp_bench_run_set_test_name(r, "multi_session");
    fp_bench_run_set_io_mode(r, "tA", "tB");
    r->run = 3;
    r->iterations = 100000;
    r->payload_size = 16384;
    r->rtt = (fp_bench_summary){.n = 100000, .avg = 22559.6, .min = 100.4, .max = 64503.2,
                                .p50 = 22623.6, .p90 = 25608.01, .p95 = 28011.63,
                                .p99 = 33565.9, .p999 = 40000.25, .stddev = 4412.911};
    r->packets_per_sec = 43526.33;
    r->mb_per_sec = 429.48;
    r->requested_sessions = 1000;
    r->connected_sessions = 999;
    r->connection_losses = 1;
    r->warmup_requests = 10000;
    r->warmup_responses = 9999;
    r->measured_requests = 100001;
    r->measured_responses = 100000;
    r->payload_min_bytes = 4096;
    r->payload_max_bytes = 16384;
    r->payload_pool_size = 1024;
    r->connect_elapsed_ns = 639880000;
    r->warmup_elapsed_ns = 124530000;
    r->measured_elapsed_ns = 2297460000;
    r->server_avg_ns = 1500.5;
    r->lost_replies = 2;
    r->late_replies = 3;
    r->sequence_errors = 4;
    r->measured_payload_bytes = 1034637000;
    r->payload_avg_bytes = 10346.37;
}

/* Splits an unquoted CSV line in place; returns the number of cells. */
static size_t split_cells(char *line, char **cells, size_t max)
{
    size_t n = 0;
    char *p = line;
    for (;;) {
        ck_assert_uint_lt(n, max);
        cells[n++] = p;
        char *comma = strchr(p, ',');
        if (!comma)
            break;
        *comma = '\0';
        p = comma + 1;
    }
    return n;
}

START_TEST(csv_row_has_every_column_in_order)
{
    fp_bench_run r;
    sample_run(&r);
    captured c;
    capture_open(&c);
    ck_assert_int_eq(fp_bench_csv_write_row(c.f, &r), 0);
    char *text = capture_close(&c);
    size_t len = strlen(text);
    ck_assert_uint_gt(len, 0);
    ck_assert_int_eq(text[len - 1], '\n');
    ck_assert_ptr_eq(strchr(text, '\n'), text + len - 1); /* one line */
    text[len - 1] = '\0';

    char *cells[64];
    size_t n = split_cells(text, cells, 64);
    ck_assert_uint_eq(n, fp_bench_csv_column_count());
    const char *expected[] = {
        "multi_session", "100000", "16384", "22559.600000", "100.400000", "64503.200000",
        "22623.600000", "25608.010000", "28011.630000", "33565.900000", "4412.911000",
        "43526.330000", "429.480000", "1000", "999", "1", "10000", "9999", "100001", "100000",
        "4096", "16384", "1024", "639880000", "124530000", "2297460000",
        "client=tA;server=tB", "3", "",
        "40000.250000", "1500.500000", "2", "3", "4", "1034637000", "10346.370000",
    };
    ck_assert_uint_eq(sizeof(expected) / sizeof(expected[0]), n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(strcmp(cells[i], expected[i]) == 0, "column %zu (%s): got '%s', want '%s'", i,
                      fp_bench_csv_column_name(i), cells[i], expected[i]);
    free(text);

    r.server_cpu_known = true;
    r.server_cpu_ns_per_msg = 2500.125;
    capture_open(&c);
    ck_assert_int_eq(fp_bench_csv_write_row(c.f, &r), 0);
    text = capture_close(&c);
    n = split_cells(text, cells, 64);
    ck_assert_uint_eq(n, fp_bench_csv_column_count());
    ck_assert_str_eq(cells[28], "2500.125000");
    free(text);
}
END_TEST

START_TEST(csv_quotes_fields_with_commas_and_quotes)
{
    fp_bench_run r;
    fp_bench_run_init(&r);
    fp_bench_run_set_test_name(&r, "a,b\"c");
    captured c;
    capture_open(&c);
    ck_assert_int_eq(fp_bench_csv_write_row(c.f, &r), 0);
    char *text = capture_close(&c);
    const char *quoted = "\"a,b\"\"c\",0,";
    ck_assert_msg(strncmp(text, quoted, strlen(quoted)) == 0, "row starts: %.20s", text);
    free(text);
}
END_TEST

START_TEST(csv_file_has_header_and_one_row_per_run)
{
    fp_bench_run runs[3];
    for (int i = 0; i < 3; i++) {
        sample_run(&runs[i]);
        runs[i].run = i + 1;
    }
    char path[] = "/tmp/check_bench_csv_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(fp_bench_csv_write_file(path, runs, 3), 0);
    FILE *f = fdopen(fd, "r");
    ck_assert_ptr_nonnull(f);
    char line[2048];
    int lines = 0;
    while (fgets(line, sizeof(line), f)) {
        if (lines == 0)
            ck_assert_str_eq(line, expected_header);
        lines++;
    }
    fclose(f);
    unlink(path);
    ck_assert_int_eq(lines, 4);

    ck_assert_int_eq(fp_bench_csv_write_file("/nonexistent-dir/x.csv", runs, 1), -1);
}
END_TEST

/* --- SVG --- */

/* Tags balance: every opening tag is closed in order, the root is <svg>,
 * and nothing follows it. Comments and the XML declaration are skipped. */
static void assert_well_formed(const char *doc)
{
    char stack[64][32];
    int depth = 0;
    int roots = 0;
    for (const char *p = strchr(doc, '<'); p; p = strchr(p + 1, '<')) {
        if (p[1] == '?' || p[1] == '!')
            continue;
        const char *end = strchr(p, '>');
        ck_assert_ptr_nonnull(end);
        bool closing = p[1] == '/';
        const char *name = p + (closing ? 2 : 1);
        size_t name_len = strcspn(name, " \t\n/>");
        ck_assert_uint_gt(name_len, 0);
        ck_assert_uint_lt(name_len, 32);
        if (closing) {
            ck_assert_int_gt(depth, 0);
            depth--;
            ck_assert_msg(strlen(stack[depth]) == name_len && strncmp(stack[depth], name, name_len) == 0,
                          "</%.*s> closes <%s>", (int)name_len, name, stack[depth]);
        } else if (end[-1] != '/') {
            if (depth == 0) {
                roots++;
                ck_assert_int_eq(strncmp(name, "svg", name_len), 0);
            }
            ck_assert_int_lt(depth, 64);
            memcpy(stack[depth], name, name_len);
            stack[depth][name_len] = '\0';
            depth++;
        } else {
            ck_assert_int_gt(depth, 0); /* no empty element outside the root */
        }
        /* attribute values never hold a raw '<' */
        ck_assert_ptr_null(memchr(p + 1, '<', (size_t)(end - p - 1)));
    }
    ck_assert_int_eq(depth, 0);
    ck_assert_int_eq(roots, 1);
}

/* Number of "x,y" pairs in the n-th polyline's points. */
static size_t polyline_points(const char *doc, size_t nth)
{
    const char *p = doc;
    for (size_t i = 0; i <= nth; i++) {
        p = strstr(p, "<polyline");
        ck_assert_ptr_nonnull(p);
        p++;
    }
    const char *points = strstr(p, "points=\"");
    ck_assert_ptr_nonnull(points);
    points += strlen("points=\"");
    const char *end = strchr(points, '"');
    size_t pairs = 0;
    for (const char *q = points; q < end; q++)
        if (*q == ',')
            pairs++;
    return pairs;
}

static char *render_svg(const fp_bench_series *series, size_t n, const fp_bench_svg_options *opt)
{
    captured c;
    capture_open(&c);
    ck_assert_int_eq(fp_bench_svg_write(c.f, series, n, opt), 0);
    return capture_close(&c);
}

START_TEST(svg_has_one_polyline_per_transport_and_is_well_formed)
{
    const size_t big = 10000;
    uint64_t *many = malloc(big * sizeof(*many));
    ck_assert_ptr_nonnull(many);
    for (size_t i = 0; i < big; i++)
        many[i] = 20000 + i * 37;
    const uint64_t few[] = {15000, 18000, 90000};
    const uint64_t one[] = {30000};
    const double runs_a[] = {100000.0, 120000.0, 110000.0};
    const double runs_b[] = {90000.0};
    fp_bench_series series[] = {
        {"tA", many, big, runs_a, 3},
        {"t<B>&", few, 3, runs_b, 1},
        {"tC", one, 1, NULL, 0},
    };

    for (int linear = 0; linear < 2; linear++) {
        fp_bench_svg_options opt = {"compare \"run\"", linear != 0};
        char *doc = render_svg(series, 3, &opt);
        assert_well_formed(doc);
        ck_assert_uint_eq(count_occurrences(doc, "<polyline"), 3);
        ck_assert_uint_le(polyline_points(doc, 0), FP_BENCH_SVG_MAX_POINTS);
        ck_assert_uint_ge(polyline_points(doc, 0), FP_BENCH_SVG_MAX_POINTS - 1);
        ck_assert_uint_eq(polyline_points(doc, 1), 4); /* origin + 3 samples */
        ck_assert_uint_eq(polyline_points(doc, 2), 2);
        ck_assert_ptr_nonnull(strstr(doc, "t&lt;B&gt;&amp;"));
        ck_assert_ptr_nonnull(strstr(doc, "compare &quot;run&quot;"));
        ck_assert_ptr_null(strstr(doc, "t<B>"));
        ck_assert_ptr_null(strstr(doc, "<script"));
        ck_assert_ptr_null(strstr(doc, "href"));
        /* two bars (tC has no runs) plus the background and two frames */
        ck_assert_uint_eq(count_occurrences(doc, "<rect"), 5);
        /* the median of tA's runs is labelled on its bar */
        ck_assert_ptr_nonnull(strstr(doc, ">110000</text>"));

        char *again = render_svg(series, 3, &opt);
        ck_assert_str_eq(doc, again);
        free(again);
        free(doc);
    }
    free(many);
}
END_TEST

START_TEST(svg_without_series_is_still_a_document)
{
    char *doc = render_svg(NULL, 0, NULL);
    assert_well_formed(doc);
    ck_assert_uint_eq(count_occurrences(doc, "<polyline"), 0);
    ck_assert_ptr_nonnull(strstr(doc, "<title>fastport-bench</title>"));
    free(doc);
}
END_TEST

/* --- table --- */

START_TEST(range_median_min_max)
{
    fp_bench_range r = fp_bench_range_of((const double[]){3.0, 1.0, 2.0}, 3);
    ck_assert_uint_eq(r.n, 3);
    ck_assert_double_eq(r.median, 2.0);
    ck_assert_double_eq(r.min, 1.0);
    ck_assert_double_eq(r.max, 3.0);
    r = fp_bench_range_of((const double[]){4.0, 1.0, 3.0, 2.0}, 4);
    ck_assert_double_eq(r.median, 2.5);
    ck_assert_double_eq(r.min, 1.0);
    ck_assert_double_eq(r.max, 4.0);
    r = fp_bench_range_of(NULL, 0);
    ck_assert_uint_eq(r.n, 0);
    ck_assert_double_eq(r.median, 0.0);
}
END_TEST

static void table_runs(fp_bench_run *a, fp_bench_run *b)
{
    const double pps_a[] = {100.0, 300.0, 200.0};
    const double pps_b[] = {250.0, 200.0, 300.0};
    for (int i = 0; i < 3; i++) {
        fp_bench_run_init(&a[i]);
        fp_bench_run_init(&b[i]);
        a[i].run = b[i].run = i + 1;
        a[i].packets_per_sec = pps_a[i];
        b[i].packets_per_sec = pps_b[i];
        a[i].rtt.p99 = 10000.0 * (i + 1); /* 10, 20, 30 us */
        b[i].rtt.p99 = 5000.0 * (i + 1);  /* 5, 10, 15 us */
        a[i].rtt.avg = 4000.0;
        b[i].rtt.avg = 4000.0;
        a[i].server_avg_ns = 1000.0; /* 25 % of RTT */
        b[i].server_avg_ns = 2000.0; /* 50 % */
    }
    /* server CPU known in two of a's runs only, never in b's */
    a[0].server_cpu_known = true;
    a[0].server_cpu_ns_per_msg = 3000.0;
    a[2].server_cpu_known = true;
    a[2].server_cpu_ns_per_msg = 5000.0;
}

START_TEST(figures_over_runs_and_ratios)
{
    fp_bench_run a[3], b[3];
    table_runs(a, b);
    fp_bench_range ra = fp_bench_figure_range(a, 3, FP_BENCH_FIG_MSGS_PER_SEC);
    fp_bench_range rb = fp_bench_figure_range(b, 3, FP_BENCH_FIG_MSGS_PER_SEC);
    ck_assert_double_eq(ra.median, 200.0);
    ck_assert_double_eq(ra.min, 100.0);
    ck_assert_double_eq(ra.max, 300.0);
    ck_assert_double_eq(rb.median, 250.0);
    double ratio = 0.0;
    ck_assert(fp_bench_ratio(&rb, &ra, &ratio));
    ck_assert_double_eq_tol(ratio, 1.25, TOL);
    ck_assert(fp_bench_ratio(&ra, &ra, &ratio));
    ck_assert_double_eq_tol(ratio, 1.0, TOL);

    fp_bench_range p99 = fp_bench_figure_range(b, 3, FP_BENCH_FIG_RTT_P99);
    ck_assert_double_eq_tol(p99.median, 10.0, TOL); /* us */

    fp_bench_range share = fp_bench_figure_range(b, 3, FP_BENCH_FIG_SERVER_SHARE);
    ck_assert_double_eq_tol(share.median, 50.0, TOL);

    fp_bench_range cpu_a = fp_bench_figure_range(a, 3, FP_BENCH_FIG_SERVER_CPU);
    ck_assert_uint_eq(cpu_a.n, 2);
    ck_assert_double_eq_tol(cpu_a.median, 4.0, TOL);
    fp_bench_range cpu_b = fp_bench_figure_range(b, 3, FP_BENCH_FIG_SERVER_CPU);
    ck_assert_uint_eq(cpu_b.n, 0);
    ck_assert(!fp_bench_ratio(&cpu_b, &cpu_a, &ratio));

    fp_bench_range lost = fp_bench_figure_range(a, 3, FP_BENCH_FIG_LOST);
    ck_assert_uint_eq(lost.n, 3);
    ck_assert(!fp_bench_ratio(&lost, &lost, &ratio)); /* base median 0 */

    double v;
    fp_bench_run zero;
    fp_bench_run_init(&zero);
    ck_assert(!fp_bench_figure_value(&zero, FP_BENCH_FIG_SERVER_SHARE, &v));
    ck_assert(!fp_bench_figure_value(&zero, FP_BENCH_FIG_COUNT, &v));
    ck_assert_ptr_null(fp_bench_figure_label(FP_BENCH_FIG_COUNT));
    for (int f = 0; f < FP_BENCH_FIG_COUNT; f++)
        ck_assert_ptr_nonnull(fp_bench_figure_label((fp_bench_figure)f));
}
END_TEST

/* The line of `text` starting with `label` (followed by a space). */
static const char *line_starting(const char *text, const char *label, int nth)
{
    const char *p = text;
    size_t len = strlen(label);
    for (;;) {
        if (strncmp(p, label, len) == 0 && p[len] == ' ' && nth-- == 0)
            return p;
        p = strchr(p, '\n');
        if (!p)
            return NULL;
        p++;
    }
}

static bool line_has(const char *line, const char *what)
{
    const char *end = strchr(line, '\n');
    const char *hit = strstr(line, what);
    return hit && (!end || hit < end);
}

START_TEST(table_prints_medians_ranges_and_ratios)
{
    fp_bench_run a[3], b[3];
    table_runs(a, b);
    fp_bench_column cols[] = {{"tA", a, 3}, {"tB", b, 3}};
    captured c;
    capture_open(&c);
    ck_assert_int_eq(fp_bench_table_print(c.f, cols, 2), 0);
    char *text = capture_close(&c);

    const char *msgs = line_starting(text, "msgs/s", 0);
    ck_assert_ptr_nonnull(msgs);
    ck_assert(line_has(msgs, "200 (100-300)"));
    ck_assert(line_has(msgs, "250 (200-300)"));
    ck_assert(strstr(msgs, "200 (100-300)") < strstr(msgs, "250 (200-300)"));

    const char *p99 = line_starting(text, "RTT p99 (us)", 0);
    ck_assert_ptr_nonnull(p99);
    ck_assert(line_has(p99, "20.0 (10.0-30.0)"));
    ck_assert(line_has(p99, "10.0 (5.00-15.0)"));

    const char *cpu = line_starting(text, "server CPU (us/msg)", 0);
    ck_assert_ptr_nonnull(cpu);
    ck_assert(line_has(cpu, "4.00 (3.00-5.00)"));
    ck_assert(line_has(cpu, " -"));

    const char *msgs_ratio = line_starting(text, "msgs/s", 1);
    ck_assert_ptr_nonnull(msgs_ratio);
    ck_assert(line_has(msgs_ratio, "1.00x"));
    ck_assert(line_has(msgs_ratio, "1.25x"));
    const char *p99_ratio = line_starting(text, "RTT p99 (us)", 1);
    ck_assert_ptr_nonnull(p99_ratio);
    ck_assert(line_has(p99_ratio, "0.50x"));
    const char *lost_ratio = line_starting(text, "lost replies", 1);
    ck_assert_ptr_nonnull(lost_ratio);
    ck_assert(!line_has(lost_ratio, "x"));

    /* all runs agree: no range */
    const char *server = line_starting(text, "server avg (us)", 0);
    ck_assert_ptr_nonnull(server);
    ck_assert(line_has(server, "1.00"));
    ck_assert(line_has(server, "2.00"));
    ck_assert(!line_has(server + strlen("server avg (us)"), "("));

    const char *runs = line_starting(text, "runs", 0);
    ck_assert_ptr_nonnull(runs);
    ck_assert(line_has(runs, "3"));
    free(text);
}
END_TEST

START_TEST(single_run_cells_show_the_bare_value)
{
    fp_bench_run a[3], b[3];
    table_runs(a, b);
    fp_bench_column col = {"tA", a, 1};
    captured c;
    capture_open(&c);
    ck_assert_int_eq(fp_bench_table_print(c.f, &col, 1), 0);
    char *text = capture_close(&c);
    const char *msgs = line_starting(text, "msgs/s", 0);
    ck_assert_ptr_nonnull(msgs);
    ck_assert(line_has(msgs, "100"));
    ck_assert(!line_has(msgs, "("));
    free(text);
}
END_TEST

START_TEST(report_and_banner_blocks)
{
    fp_bench_run r;
    sample_run(&r);
    captured c;
    capture_open(&c);
    fp_bench_banner banner = {.server = "127.0.0.1:6628", .transport = "tA", .iterations = 100000,
                              .warmup_requests = 10, .sessions = 1000, .depth = 1, .threads = 8,
                              .payload_min = 4096, .payload_max = 16384, .payload_pool = 1024,
                              .runs = 1};
    ck_assert_int_eq(fp_bench_banner_print(c.f, &banner), 0);
    ck_assert_int_eq(fp_bench_report_print(c.f, &r), 0);
    char *text = capture_close(&c);
    ck_assert_ptr_nonnull(strstr(text, "FastPort Benchmark\n"));
    ck_assert_ptr_nonnull(strstr(text, "Payload: 4096-16384 bytes, pool 1024\n"));
    ck_assert_ptr_nonnull(strstr(text, "Payload Size: 4096-16384 bytes\n"));
    ck_assert_ptr_nonnull(strstr(text, "Sessions: 1000\n"));
    ck_assert_ptr_nonnull(strstr(text, "Average:  22.560 us\n"));
    ck_assert_ptr_nonnull(strstr(text, "P99:      33.566 us\n"));
    ck_assert_ptr_nonnull(strstr(text, "P99.9:    40.000 us\n"));
    ck_assert_ptr_nonnull(strstr(text, "Packets/sec: 43526.33\n"));
    ck_assert_ptr_nonnull(strstr(text, "Sessions: 999/1000 connected, 1 lost\n"));
    ck_assert_ptr_nonnull(strstr(text, "Measured: 100000/100001 responses, 2297.46 ms\n"));
    ck_assert_ptr_nonnull(strstr(text, "Lost:            2\n"));
    ck_assert_ptr_nonnull(strstr(text, "CPU/msg:  unknown\n"));
    free(text);
}
END_TEST

START_TEST(report_shows_one_payload_size_when_min_equals_max)
{
    fp_bench_run r;
    sample_run(&r);
    r.payload_size = r.payload_min_bytes = r.payload_max_bytes = 64;
    captured c;
    capture_open(&c);
    ck_assert_int_eq(fp_bench_report_print(c.f, &r), 0);
    char *text = capture_close(&c);
    ck_assert_ptr_nonnull(strstr(text, "Payload Size: 64 bytes\n"));
    free(text);
}
END_TEST

static Suite *bench_stats_suite(void)
{
    Suite *s = suite_create("bench_stats");

    TCase *stats = tcase_create("stats");
    tcase_add_test(stats, percentiles_of_1_to_100);
    tcase_add_test(stats, percentiles_of_one_sample);
    tcase_add_test(stats, percentiles_of_two_samples);
    tcase_add_test(stats, unsorted_input_is_sorted_before_percentiles);
    tcase_add_test(stats, population_stddev_of_known_set);
    tcase_add_test(stats, empty_set_summarises_to_zero);
    tcase_add_test(stats, large_values_keep_precision);
    tcase_add_test(stats, large_sets_sort_like_qsort);
    tcase_add_test(stats, merge_appends_every_thread_and_sorts);
    tcase_add_test(stats, throughput_formulas);
    tcase_add_test(stats, run_init_and_names);
    suite_add_tcase(s, stats);

    TCase *csv = tcase_create("csv");
    tcase_add_test(csv, csv_header_is_fastport_columns_then_ours);
    tcase_add_test(csv, csv_row_has_every_column_in_order);
    tcase_add_test(csv, csv_quotes_fields_with_commas_and_quotes);
    tcase_add_test(csv, csv_file_has_header_and_one_row_per_run);
    suite_add_tcase(s, csv);

    TCase *svg = tcase_create("svg");
    tcase_add_test(svg, svg_has_one_polyline_per_transport_and_is_well_formed);
    tcase_add_test(svg, svg_without_series_is_still_a_document);
    suite_add_tcase(s, svg);

    TCase *table = tcase_create("table");
    tcase_add_test(table, range_median_min_max);
    tcase_add_test(table, figures_over_runs_and_ratios);
    tcase_add_test(table, table_prints_medians_ranges_and_ratios);
    tcase_add_test(table, single_run_cells_show_the_bare_value);
    tcase_add_test(table, report_and_banner_blocks);
    tcase_add_test(table, report_shows_one_payload_size_when_min_equals_max);
    suite_add_tcase(s, table);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(bench_stats_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
