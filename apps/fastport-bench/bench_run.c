#include "bench_run.h"

#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bench_csv.h"
#include "bench_load.h"
#include "bench_payload.h"
#include "bench_progress.h"
#include "bench_server.h"
#include "bench_stats.h"
#include "bench_svg.h"
#include "bench_table.h"

#define SERVER_STOP_TIMEOUT_MS 10000u
#define SERVER_LOG_LINES 20u
#define TEST_NAME "fastport-bench rtt"

/* One column of the comparison: a transport (with its server under
 * --compare) and the runs made on it. */
typedef struct target {
    char name[80];                /* column heading; a repeated name gets "#2" */
    const char *client_transport; /* NULL: engine default */
    const char *address;
    bench_server server;
    bool has_server;
    fp_bench_run *runs;
    size_t n_runs;
    fp_bench_samples rtt; /* every run's RTTs */
} target;

typedef struct session_state {
    const bench_options *opts;
    target *targets;
    size_t n_targets;
    fp_bench_run *all_runs; /* in the order they ran */
    size_t n_all;
    bench_payload_pool pool;
    bench_progress progress;
    bool failed;
} session_state;

static int server_cpu_reader(void *ctx, uint64_t *out)
{
    return bench_server_cpu_ns(ctx, out);
}

static void name_targets(session_state *st)
{
    const bench_options *o = st->opts;
    for (size_t i = 0; i < st->n_targets; i++) {
        target *t = &st->targets[i];
        if (o->compare.n == 0) {
            snprintf(t->name, sizeof t->name, "%s", o->transport ? o->transport : "default");
            t->client_transport = o->transport;
            t->address = o->connect;
            continue;
        }
        size_t seen = 1;
        for (size_t j = 0; j < i; j++) seen += strcmp(o->compare.items[j], o->compare.items[i]) == 0;
        if (seen > 1) snprintf(t->name, sizeof t->name, "%s#%zu", o->compare.items[i], seen);
        else snprintf(t->name, sizeof t->name, "%s", o->compare.items[i]);
        t->client_transport = o->transport ? o->transport : o->compare.items[i];
    }
}

static int start_servers(session_state *st)
{
    const bench_options *o = st->opts;
    char default_bin[4096];
    const char *bin = o->server_bin ? o->server_bin
                                    : bench_server_default_binary(default_bin, sizeof default_bin);
    for (size_t i = 0; i < o->compare.n; i++) {
        target *t = &st->targets[i];
        bench_server_config cfg = {
            .binary = bin,
            .transport = o->compare.items[i],
            .transport_dir = o->transport_dir,
            .workers = o->server_workers,
            .cpu = o->server_cpu,
            .log_level = o->log_level,
        };
        char err[512];
        if (bench_server_start(&t->server, &cfg, err, sizeof err) < 0) {
            fprintf(stderr, "fastport-bench: cannot start the server for '%s': %s\n", t->name, err);
            bench_server_show_log(&t->server, stderr, SERVER_LOG_LINES);
            bench_server_release(&t->server);
            return -1;
        }
        t->has_server = true;
        t->address = t->server.address;
        fprintf(stderr, "fastport-bench: server for %s: pid %ld, %s, listening on %s\n", t->name,
                (long)t->server.pid, t->server.transport, t->server.address);
    }
    return 0;
}

static void stop_servers(session_state *st)
{
    for (size_t i = 0; i < st->n_targets; i++) {
        target *t = &st->targets[i];
        if (!t->has_server) continue;
        char err[256] = "";
        int rc = bench_server_stop(&t->server, SERVER_STOP_TIMEOUT_MS, err, sizeof err);
        if (rc != 0) {
            fprintf(stderr, "fastport-bench: server for %s: %s\n", t->name, err);
            bench_server_show_log(&t->server, stderr, SERVER_LOG_LINES);
            st->failed = true;
        }
        bench_server_release(&t->server);
        t->has_server = false;
    }
}

static int pin_client(int cpu)
{
    if (cpu < 0) return 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
        fprintf(stderr, "fastport-bench: cannot pin to CPU %d: %s\n", cpu, strerror(errno));
        return -1;
    }
    return 0;
}

static void print_banner(const session_state *st)
{
    const bench_options *o = st->opts;
    char server[512];
    if (o->compare.n == 0) {
        snprintf(server, sizeof server, "%s", o->connect);
    } else {
        size_t used = (size_t)snprintf(server, sizeof server,
                                       "fastport-server --workers=%u per transport:",
                                       o->server_workers);
        for (size_t i = 0; i < st->n_targets && used < sizeof server; i++)
            used += (size_t)snprintf(server + used, sizeof server - used, "%s %s", i ? "," : "",
                                     st->targets[i].name);
    }
    fp_bench_banner b = {
        .server = server,
        .transport = o->transport ? o->transport : (o->compare.n ? "same as the server's" : NULL),
        .iterations = o->iterations,
        .duration_s = o->duration_ms / 1000.0,
        .warmup_requests = (uint64_t)o->warmup_per_session * o->sessions,
        .warmup_s = o->warmup_ms / 1000.0,
        .sessions = o->sessions,
        .depth = o->depth,
        .threads = o->threads,
        .payload_min = o->payload_min,
        .payload_max = o->payload_max,
        .payload_pool = st->pool.count,
        .runs = o->runs,
    };
    fp_bench_banner_print(stdout, &b);
}

static void note_problems(const target *t, const bench_load_result *res)
{
    const fp_bench_run *r = &res->run;
    if (r->connected_sessions < r->requested_sessions)
        fprintf(stderr, "fastport-bench: %s run %d: %llu of %llu sessions connected\n", t->name,
                r->run, (unsigned long long)r->connected_sessions,
                (unsigned long long)r->requested_sessions);
    if (r->connection_losses)
        fprintf(stderr, "fastport-bench: %s run %d: %llu sessions closed during the run\n",
                t->name, r->run, (unsigned long long)r->connection_losses);
    if (r->lost_replies)
        fprintf(stderr, "fastport-bench: %s run %d: %llu replies lost\n", t->name, r->run,
                (unsigned long long)r->lost_replies);
    if (r->sequence_errors)
        fprintf(stderr, "fastport-bench: %s run %d: %llu replies out of sequence\n", t->name,
                r->run, (unsigned long long)r->sequence_errors);
    if (res->bad_replies)
        fprintf(stderr,
                "fastport-bench: %s run %d: %llu replies not intact (result, payload, timestamp "
                "or header) or unexpected\n",
                t->name, r->run, (unsigned long long)res->bad_replies);
    if (res->send_failures)
        fprintf(stderr, "fastport-bench: %s run %d: %llu sends refused\n", t->name, r->run,
                (unsigned long long)res->send_failures);
    if (res->sample_drops)
        fprintf(stderr, "fastport-bench: %s run %d: %llu samples not kept (out of memory)\n",
                t->name, r->run, (unsigned long long)res->sample_drops);
    if (res->stalled)
        fprintf(stderr, "fastport-bench: %s run %d: no reply came for seconds; phase cut short\n",
                t->name, r->run);
    if (r->measured_responses == 0)
        fprintf(stderr, "fastport-bench: %s run %d: nothing was measured\n", t->name, r->run);
}

static int keep_run(session_state *st, target *t, bench_load_result *res)
{
    fp_bench_run *grown = realloc(t->runs, (t->n_runs + 1) * sizeof *grown);
    if (!grown) return -1;
    t->runs = grown;
    t->runs[t->n_runs++] = res->run;
    grown = realloc(st->all_runs, (st->n_all + 1) * sizeof *grown);
    if (!grown) return -1;
    st->all_runs = grown;
    st->all_runs[st->n_all++] = res->run;
    return fp_bench_samples_append(&t->rtt, &res->rtt);
}

static int run_once(session_state *st, target *t, int run)
{
    const bench_options *o = st->opts;
    char label[160];
    snprintf(label, sizeof label, "run %d/%u %s", run, o->runs, t->name);
    bench_load_config cfg = {
        .address = t->address,
        .transport = t->client_transport,
        .transport_dir = o->transport_dir,
        .threads = o->threads,
        .log_level = o->log_level,
        .sessions = o->sessions,
        .depth = o->depth,
        .iterations = o->iterations,
        .duration_ms = o->duration_ms,
        .warmup_per_session = o->warmup_per_session,
        .warmup_ms = o->warmup_ms,
        .pool = &st->pool,
        .server_cpu_ns = t->has_server ? server_cpu_reader : NULL,
        .server_cpu_ctx = &t->server,
        .progress = &st->progress,
        .label = label,
    };
    bench_load_result res;
    char err[1024] = "";
    if (bench_load_run(&cfg, &res, err, sizeof err) < 0) {
        fprintf(stderr, "fastport-bench: %s: %s\n", label, err[0] ? err : "cannot run");
        bench_load_result_free(&res);
        return -1;
    }
    fp_bench_run_set_test_name(&res.run, TEST_NAME);
    fp_bench_run_set_io_mode(&res.run, res.transport, t->has_server ? t->server.transport : NULL);
    res.run.run = run;
    fp_bench_report_print(stdout, &res.run);
    fflush(stdout);
    if (bench_load_failed(&res)) {
        st->failed = true;
        note_problems(t, &res);
    }
    int rc = keep_run(st, t, &res);
    bench_load_result_free(&res);
    if (rc < 0) fprintf(stderr, "fastport-bench: out of memory keeping the results\n");
    return rc;
}

static void write_outputs(session_state *st)
{
    const bench_options *o = st->opts;
    if (o->compare.n > 0 || o->runs > 1) {
        fp_bench_column *cols = calloc(st->n_targets, sizeof *cols);
        if (cols) {
            for (size_t i = 0; i < st->n_targets; i++)
                cols[i] = (fp_bench_column){st->targets[i].name, st->targets[i].runs,
                                            st->targets[i].n_runs};
            fputc('\n', stdout);
            fp_bench_table_print(stdout, cols, st->n_targets);
            free(cols);
        }
    }
    if (o->csv_path) {
        if (fp_bench_csv_write_file(o->csv_path, st->all_runs, st->n_all) < 0) {
            fprintf(stderr, "fastport-bench: cannot write %s: %s\n", o->csv_path, strerror(errno));
            st->failed = true;
        } else {
            printf("Results saved to: %s\n", o->csv_path);
        }
    }
    if (o->plot_path) {
        fp_bench_series *series = calloc(st->n_targets, sizeof *series);
        double *rates = calloc(st->n_all ? st->n_all : 1, sizeof *rates);
        int rc = -1;
        if (series && rates) {
            double *next = rates;
            for (size_t i = 0; i < st->n_targets; i++) {
                target *t = &st->targets[i];
                fp_bench_samples_sort(&t->rtt);
                for (size_t r = 0; r < t->n_runs; r++) next[r] = t->runs[r].packets_per_sec;
                series[i] = (fp_bench_series){t->name, t->rtt.v, t->rtt.n, next, t->n_runs};
                next += t->n_runs;
            }
            fp_bench_svg_options svg = {.title = "fastport-bench", .linear_x = false};
            rc = fp_bench_svg_write_file(o->plot_path, series, st->n_targets, &svg);
        }
        if (rc < 0) {
            fprintf(stderr, "fastport-bench: cannot write %s: %s\n", o->plot_path,
                    series && rates ? strerror(errno) : "out of memory");
            st->failed = true;
        } else {
            printf("Plot saved to: %s\n", o->plot_path);
        }
        free(series);
        free(rates);
    }
}

static void free_state(session_state *st)
{
    for (size_t i = 0; i < st->n_targets; i++) {
        free(st->targets[i].runs);
        fp_bench_samples_free(&st->targets[i].rtt);
    }
    free(st->targets);
    free(st->all_runs);
    bench_payload_pool_free(&st->pool);
}

int bench_run(const bench_options *o)
{
    session_state st = {.opts = o};
    st.n_targets = o->compare.n ? o->compare.n : 1;
    st.targets = calloc(st.n_targets, sizeof *st.targets);
    if (!st.targets ||
        bench_payload_pool_init(&st.pool, o->payload_min, o->payload_max, BENCH_DEFAULT_POOL,
                                o->seed) < 0) {
        fprintf(stderr, "fastport-bench: out of memory\n");
        free_state(&st);
        return 1;
    }
    bench_progress_init(&st.progress, stderr);
    name_targets(&st);

    /* Servers first: a child inherits the CPU mask, and only --server-cpu
     * should decide where a server runs. */
    bool ok = start_servers(&st) == 0 && pin_client(o->client_cpu) == 0;
    if (ok) {
        print_banner(&st);
        for (uint32_t run = 1; ok && run <= o->runs; run++)
            for (size_t i = 0; ok && i < st.n_targets; i++)
                ok = run_once(&st, &st.targets[i], (int)run) == 0;
    }
    stop_servers(&st);
    if (ok) write_outputs(&st);
    int status = ok && !st.failed ? 0 : 1;
    if (status != 0)
        fprintf(stderr, "fastport-bench: FAILED%s\n",
                ok ? ": some replies were lost or wrong (see above)" : "");
    free_state(&st);
    return status;
}
