#include "bench_options.h"

#include <stdlib.h>
#include <string.h>

#include "cli_engine.h"

#define PROGRAM "fastport-bench"

#define MAX_SECONDS_MS 86400000u
#define DEFAULT_ITERATIONS 10000u

enum {
    OPT_CONNECT,
    OPT_COMPARE,
    OPT_TRANSPORT,
    OPT_SESSIONS,
    OPT_DEPTH,
    OPT_PAYLOAD,
    OPT_ITERATIONS,
    OPT_DURATION,
    OPT_WARMUP,
    OPT_THREADS,
    OPT_RUNS,
    OPT_SEED,
    OPT_CSV,
    OPT_PLOT,
    OPT_SERVER_BIN,
    OPT_SERVER_WORKERS,
    OPT_SERVER_CPU,
    OPT_CLIENT_CPU,
    OPT_TRANSPORT_DIR,
    OPT_LOG_LEVEL,
    OPT_HELP,
    OPT_VERSION,
    OPT_COUNT
};

/* --warmup: N replies per session, or seconds with an 's' (2s, 0.5s). */
static const char *warmup_value(const char *value, void *target)
{
    static const char expected[] =
        "replies per session (e.g. 10) or seconds with an s (e.g. 2s, up to 86400s)";
    bench_options *o = target;
    char secs[32];
    size_t len = strlen(value);
    uint64_t v;
    if (len > 0 && len < sizeof secs && (value[len - 1] == 's' || strchr(value, '.'))) {
        memcpy(secs, value, len);
        secs[value[len - 1] == 's' ? len - 1 : len] = '\0';
        if (fp_cli_parse_seconds(secs, 0, MAX_SECONDS_MS, &v) != FP_CLI_OK) return expected;
        o->warmup_per_session = 0;
        o->warmup_ms = (uint32_t)v;
        return NULL;
    }
    if (fp_cli_parse_unsigned(value, 0, 0, UINT32_MAX, &v) != FP_CLI_OK) return expected;
    o->warmup_per_session = (uint32_t)v;
    o->warmup_ms = 0;
    return NULL;
}

static const char *svg_file(const char *value, void *target)
{
    (void)target;
    size_t len = strlen(value);
    return len > 4 && strcmp(value + len - 4, ".svg") == 0 ? NULL : "a file name ending in .svg";
}

#define FIELD(member) FP_CLI_FIELD(bench_options, member)

static const fp_cli_option options[OPT_COUNT] = {
    [OPT_CONNECT] = {.name = "connect", .type = FP_CLI_ADDRESS, .value = "HOST:PORT",
                     .help = "server to load (a fastport-server with --plugin=fastport)", .min = 1,
                     .max = 65535, .check = fp_cli_engine_address, FIELD(connect)},
    [OPT_COMPARE] = {.name = "compare", .type = FP_CLI_STRING, .value = "T1,T2,...",
                     .help = "a server per transport, the same load on each, compared (a name may repeat)",
                     .flags = FP_CLI_LIST | FP_CLI_COMMAS, FIELD(compare)},
    [OPT_TRANSPORT] = {.name = "transport", .type = FP_CLI_STRING, .value = "NAME",
                       .help = "client transport",
                       .def_note = "with --compare the server's, else the first that works of",
                       .def_fn = fp_default_transport_order, FIELD(transport)},
    [OPT_SESSIONS] = {.name = "sessions", .type = FP_CLI_UNSIGNED, .value = "N", .help = "sessions", .min = 1,
                      .max = 100000, .def = "1", FIELD(sessions)},
    [OPT_DEPTH] = {.name = "depth", .type = FP_CLI_UNSIGNED, .value = "N",
                   .help = "requests in flight per session", .min = 1, .max = 4096, .def = "1", FIELD(depth)},
    [OPT_PAYLOAD] = {.name = "payload", .type = FP_CLI_RANGE, .value = "BYTES|MIN-MAX",
                     .help = "payload size, or sizes drawn uniformly from a seeded pool of 1024",
                     .max = BENCH_PAYLOAD_MAX, .def = "64", FIELD(payload_min),
                     FP_CLI_FIELD2(bench_options, payload_max)},
    [OPT_ITERATIONS] = {.name = "iterations", .type = FP_CLI_UNSIGNED, .value = "N",
                        .help = "measure N replies in total", .min = 1, .max = UINT32_MAX,
                        .def_note = "10000 unless --duration", FIELD(iterations)},
    [OPT_DURATION] = {.name = "duration", .type = FP_CLI_SECONDS, .value = "SEC",
                      .help = "measure for SEC seconds instead of --iterations", .min = 1,
                      .max = MAX_SECONDS_MS, FIELD(duration_ms)},
    [OPT_WARMUP] = {.name = "warmup", .type = FP_CLI_STRING, .value = "N|SECs",
                    .help = "warm-up: N replies per session, SEC seconds with an 's', or 0 for none",
                    .def = "10", .check = warmup_value, FIELD(warmup)},
    [OPT_THREADS] = {.name = "threads", .type = FP_CLI_UNSIGNED, .value = "N",
                     .help = "client worker threads", .min = 1, .max = FP_ENGINE_MAX_WORKERS, .def = "1",
                     FIELD(threads)},
    [OPT_RUNS] = {.name = "runs", .type = FP_CLI_UNSIGNED, .value = "N",
                  .help = "repetitions (interleaved across --compare's transports)", .min = 1, .max = 1000,
                  .def = "1", FIELD(runs)},
    [OPT_SEED] = {.name = "seed", .type = FP_CLI_UNSIGNED, .value = "N",
                  .help = "payload pool seed, decimal or 0x hex", .flags = FP_CLI_HEX, .max = UINT64_MAX,
                  .def = "0x4650535045524655", FIELD(seed)},
    [OPT_CSV] = {.name = "csv", .type = FP_CLI_STRING, .value = "FILE",
                 .help = "write one CSV row per run (FastPort's columns, io_mode, run, server CPU)",
                 FIELD(csv_path)},
    [OPT_PLOT] = {.name = "plot", .type = FP_CLI_STRING, .value = "FILE.svg",
                  .help = "draw the RTT CDF and throughput per transport as SVG", .check = svg_file,
                  FIELD(plot_path)},
    [OPT_SERVER_BIN] = {.name = "server-bin", .type = FP_CLI_STRING, .value = "PATH",
                        .help = "--compare's server", .def_note = "fastport-server next to this program",
                        FIELD(server_bin)},
    [OPT_SERVER_WORKERS] = {.name = "server-workers", .type = FP_CLI_UNSIGNED, .value = "N",
                            .help = "--compare's server worker threads", .min = 1,
                            .max = FP_ENGINE_MAX_WORKERS, .def = "1", FIELD(server_workers)},
    [OPT_SERVER_CPU] = {.name = "server-cpu", .type = FP_CLI_UNSIGNED, .value = "N",
                        .help = "pin --compare's servers to CPU N", .max = 4095, .def_note = "not pinned",
                        FIELD(server_cpu)},
    [OPT_CLIENT_CPU] = {.name = "client-cpu", .type = FP_CLI_UNSIGNED, .value = "N",
                        .help = "pin this program to CPU N", .max = 4095, .def_note = "not pinned",
                        FIELD(client_cpu)},
    [OPT_TRANSPORT_DIR] = {.name = "transport-dir", .type = FP_CLI_STRING, .value = "DIR",
                           .help = "where transports are found, for client and servers",
                           .def_note = "<exe>/../lib/fastport/transports", FIELD(transport_dir)},
    [OPT_LOG_LEVEL] = FP_CLI_LOG_LEVEL_OPTION(bench_options, log_level, "warn"),
    [OPT_HELP] = {.name = "help", .type = FP_CLI_FLAG, .help = "print this help and exit",
                  .flags = FP_CLI_ACTION, FIELD(help)},
    [OPT_VERSION] = {.name = "version", .type = FP_CLI_FLAG, .help = "print the version and exit",
                     .flags = FP_CLI_ACTION, FIELD(version)},
};

static int check_combinations(fp_cli *cli, bench_options *o)
{
    int connect = fp_cli_given(cli, OPT_CONNECT) > 0, compare = fp_cli_given(cli, OPT_COMPARE) > 0;
    if (connect && compare)
        return fp_cli_conflict(cli, OPT_CONNECT, OPT_COMPARE, "--compare starts its own servers");
    if (!connect && !compare) return fp_cli_one_required(cli, OPT_CONNECT, OPT_COMPARE);
    static const int server_only[] = {OPT_SERVER_BIN, OPT_SERVER_WORKERS, OPT_SERVER_CPU};
    for (size_t i = 0; !compare && i < sizeof server_only / sizeof server_only[0]; i++)
        if (fp_cli_given(cli, (size_t)server_only[i]))
            return fp_cli_needs(cli, (size_t)server_only[i], OPT_COMPARE,
                                "it configures the servers --compare starts");
    int duration = fp_cli_given(cli, OPT_DURATION) > 0, iterations = fp_cli_given(cli, OPT_ITERATIONS) > 0;
    if (duration && iterations) return fp_cli_conflict(cli, OPT_DURATION, OPT_ITERATIONS, "pick one");
    if (!duration && !iterations) o->iterations = DEFAULT_ITERATIONS;
    return 0;
}

int bench_options_parse(bench_options *o, int argc, char **argv, char *err, size_t err_len)
{
    memset(o, 0, sizeof *o);
    o->server_cpu = -1;
    o->client_cpu = -1;
    fp_cli cli;
    fp_cli_init(&cli, PROGRAM, options, OPT_COUNT, o, err, err_len);
    if (fp_cli_parse(&cli, argc, argv) < 0) return -1;
    if (fp_cli_action_given(&cli)) return 0;
    return check_combinations(&cli, o);
}

void bench_options_free(bench_options *o)
{
    fp_cli_free(options, OPT_COUNT, o);
    memset(o, 0, sizeof *o);
}

void bench_options_print_help(FILE *out)
{
    fputs("Usage: " PROGRAM " --connect=HOST:PORT [OPTION]...\n"
          "       " PROGRAM " --compare=T1,T2,... [OPTION]...\n"
          "Measures a FastPort server with BenchmarkRequests (packet 0x1001): RTT, the\n"
          "server's share of it, msgs/s and MB/s, lost and late replies. --compare starts\n"
          "fastport-server --plugin=fastport once per transport and runs the same workload\n"
          "on each, interleaved. Exit status: 0 when every reply came back intact, 1 when\n"
          "any was lost, out of order or wrong, 2 for a bad command line.\n\n",
          out);
    fp_cli_print_options(out, options, OPT_COUNT);
    char names[512];
    size_t n = fp_transports_available(NULL, names, sizeof names);
    fprintf(out, "\nTransports in %s: %s\n", fp_default_transport_dir(), n ? names : "(none)");
}
