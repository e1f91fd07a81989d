/* Samples, summaries and throughput by FastPort C++'s formulas. */
#include "bench_stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fp_bench_samples_init(fp_bench_samples *s)
{
    s->v = NULL;
    s->n = 0;
    s->cap = 0;
}

void fp_bench_samples_free(fp_bench_samples *s)
{
    free(s->v);
    fp_bench_samples_init(s);
}

void fp_bench_samples_clear(fp_bench_samples *s)
{
    s->n = 0;
}

int fp_bench_samples_reserve(fp_bench_samples *s, size_t cap)
{
    if (cap <= s->cap)
        return 0;
    if (cap > SIZE_MAX / sizeof(*s->v))
        return -1;
    uint64_t *v = realloc(s->v, cap * sizeof(*v));
    if (!v)
        return -1;
    s->v = v;
    s->cap = cap;
    return 0;
}

static int samples_grow_for(fp_bench_samples *s, size_t extra)
{
    if (extra > SIZE_MAX - s->n)
        return -1;
    size_t need = s->n + extra;
    if (need <= s->cap)
        return 0;
    size_t cap = s->cap ? s->cap : 1024;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    return fp_bench_samples_reserve(s, cap);
}

int fp_bench_samples_push(fp_bench_samples *s, uint64_t ns)
{
    if (s->n == s->cap && samples_grow_for(s, 1) != 0)
        return -1;
    s->v[s->n++] = ns;
    return 0;
}

int fp_bench_samples_append(fp_bench_samples *dst, const fp_bench_samples *src)
{
    if (src->n == 0)
        return 0;
    if (samples_grow_for(dst, src->n) != 0)
        return -1;
    memcpy(dst->v + dst->n, src->v, src->n * sizeof(*src->v));
    dst->n += src->n;
    return 0;
}

int fp_bench_samples_merge(fp_bench_samples *dst, const fp_bench_samples *srcs, size_t count)
{
    size_t extra = 0;
    for (size_t i = 0; i < count; i++) {
        if (srcs[i].n > SIZE_MAX - extra)
            return -1;
        extra += srcs[i].n;
    }
    if (samples_grow_for(dst, extra) != 0)
        return -1;
    for (size_t i = 0; i < count; i++) {
        if (srcs[i].n == 0)
            continue;
        memcpy(dst->v + dst->n, srcs[i].v, srcs[i].n * sizeof(*srcs[i].v));
        dst->n += srcs[i].n;
    }
    fp_bench_samples_sort(dst);
    return 0;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* LSD radix sort, one byte per pass, skipping bytes all samples share
 * (the high bytes of nanosecond latencies): runs take millions of samples
 * and qsort's comparisons would dominate the time after a run. */
static int radix_sort_u64(uint64_t *v, size_t n)
{
    uint64_t *tmp = malloc(n * sizeof(*tmp));
    if (!tmp)
        return -1;
    uint64_t *src = v, *dst = tmp;
    for (unsigned shift = 0; shift < 64; shift += 8) {
        size_t count[256] = {0};
        for (size_t i = 0; i < n; i++)
            count[(src[i] >> shift) & 0xff]++;
        if (count[(src[0] >> shift) & 0xff] == n)
            continue;
        size_t pos = 0;
        for (size_t d = 0; d < 256; d++) {
            size_t c = count[d];
            count[d] = pos;
            pos += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[count[(src[i] >> shift) & 0xff]++] = src[i];
        uint64_t *swap = src;
        src = dst;
        dst = swap;
    }
    if (src != v)
        memcpy(v, src, n * sizeof(*v));
    free(tmp);
    return 0;
}

void fp_bench_samples_sort(fp_bench_samples *s)
{
    if (s->n < 2)
        return;
    if (s->n < 256 || radix_sort_u64(s->v, s->n) != 0)
        qsort(s->v, s->n, sizeof(*s->v), compare_u64);
}

double fp_bench_percentile_sorted(const uint64_t *sorted, size_t n, double p)
{
    if (n == 0)
        return 0.0;
    if (!(p > 0.0))
        p = 0.0;
    if (p > 100.0)
        p = 100.0;
    double index = p / 100.0 * (double)(n - 1);
    size_t lo = (size_t)index;
    if (lo >= n - 1)
        return (double)sorted[n - 1];
    double frac = index - (double)lo;
    double a = (double)sorted[lo], b = (double)sorted[lo + 1];
    return a + (b - a) * frac;
}

void fp_bench_summarize_sorted(const uint64_t *sorted, size_t n, fp_bench_summary *out)
{
    memset(out, 0, sizeof(*out));
    if (n == 0)
        return;
    long double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (long double)sorted[i];
    long double avg = sum / (long double)n;
    long double squares = 0;
    for (size_t i = 0; i < n; i++) {
        long double d = (long double)sorted[i] - avg;
        squares += d * d;
    }
    out->n = n;
    out->avg = (double)avg;
    out->min = (double)sorted[0];
    out->max = (double)sorted[n - 1];
    out->p50 = fp_bench_percentile_sorted(sorted, n, 50.0);
    out->p90 = fp_bench_percentile_sorted(sorted, n, 90.0);
    out->p95 = fp_bench_percentile_sorted(sorted, n, 95.0);
    out->p99 = fp_bench_percentile_sorted(sorted, n, 99.0);
    out->p999 = fp_bench_percentile_sorted(sorted, n, 99.9);
    out->stddev = (double)sqrtl(squares / (long double)n);
}

void fp_bench_summarize(fp_bench_samples *s, fp_bench_summary *out)
{
    fp_bench_samples_sort(s);
    fp_bench_summarize_sorted(s->v, s->n, out);
}

double fp_bench_msgs_per_sec(uint64_t responses, uint64_t wall_ns)
{
    if (wall_ns == 0)
        return 0.0;
    return (double)responses / ((double)wall_ns / 1e9);
}

double fp_bench_mb_per_sec(uint64_t payload_bytes, uint64_t wall_ns)
{
    if (wall_ns == 0)
        return 0.0;
    return (double)payload_bytes / (1024.0 * 1024.0) / ((double)wall_ns / 1e9);
}

static void copy_cut(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

void fp_bench_run_init(fp_bench_run *r)
{
    memset(r, 0, sizeof(*r));
    r->run = 1;
    fp_bench_run_set_io_mode(r, NULL, NULL);
}

void fp_bench_run_set_io_mode(fp_bench_run *r, const char *client, const char *server)
{
    if (!client || !*client)
        client = "unknown";
    if (!server || !*server)
        server = "unknown";
    /* Each name gets at most half the room so both always show. */
    int half = (int)(sizeof(r->io_mode) - sizeof("client=;server=")) / 2;
    snprintf(r->io_mode, sizeof(r->io_mode), "client=%.*s;server=%.*s", half, client, half, server);
}

void fp_bench_run_set_test_name(fp_bench_run *r, const char *name)
{
    copy_cut(r->test_name, sizeof(r->test_name), name);
}

void fp_bench_run_compute_throughput(fp_bench_run *r)
{
    r->packets_per_sec = fp_bench_msgs_per_sec(r->measured_responses, r->measured_elapsed_ns);
    r->mb_per_sec = fp_bench_mb_per_sec(r->measured_payload_bytes, r->measured_elapsed_ns);
}
