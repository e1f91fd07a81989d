#include "bench_options.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SESSIONS 100000u
#define MAX_DEPTH 4096u
#define MAX_THREADS 256u
#define MAX_RUNS 1000u
#define MAX_SECONDS 86400u
#define MAX_CPU 4095u
#define DEFAULT_ITERATIONS 10000u
#define DEFAULT_WARMUP_PER_SESSION 10u

typedef enum option_id {
    OPT_TRANSPORT,
    OPT_CONNECT,
    OPT_SESSIONS,
    OPT_DEPTH,
    OPT_PAYLOAD,
    OPT_DURATION,
    OPT_ITERATIONS,
    OPT_WARMUP,
    OPT_THREADS,
    OPT_CSV,
    OPT_PLOT,
    OPT_RUNS,
    OPT_SEED,
    OPT_COMPARE,
    OPT_SERVER_BIN,
    OPT_SERVER_WORKERS,
    OPT_SERVER_CPU,
    OPT_CLIENT_CPU,
    OPT_TRANSPORT_DIR,
    OPT_LOG_LEVEL,
    OPT_HELP,
    OPT_VERSION,
    OPT_COUNT
} option_id;

typedef struct option_def {
    option_id id;
    const char *name;  /* without the leading "--" */
    const char *value; /* placeholder in help; NULL: takes no value */
    const char *help;
} option_def;

static const option_def option_defs[] = {
    {OPT_CONNECT, "connect", "HOST:PORT", "server to load (a fastport-server with --plugin=fastport)"},
    {OPT_COMPARE, "compare", "T1,T2,...",
     "instead of --connect: start a server per transport and compare them (a name may repeat)"},
    {OPT_TRANSPORT, "transport", "NAME",
     "client transport (default: with --compare the server's, else the engine's default)"},
    {OPT_SESSIONS, "sessions", "N", "sessions, 1..100000 (default 1)"},
    {OPT_DEPTH, "depth", "N", "requests in flight per session, 1..4096 (default 1)"},
    {OPT_PAYLOAD, "payload", "BYTES|MIN-MAX",
     "payload size, or sizes drawn uniformly from a seeded pool of 1024 (default 64)"},
    {OPT_ITERATIONS, "iterations", "N", "measure N replies in total (default 10000)"},
    {OPT_DURATION, "duration", "SEC", "measure for SEC seconds instead of --iterations"},
    {OPT_WARMUP, "warmup", "N|SECs",
     "warm-up: N replies per session, or SEC seconds with an 's' (default 10; 0: none)"},
    {OPT_THREADS, "threads", "N", "client worker threads, 1..256 (default 1)"},
    {OPT_RUNS, "runs", "N", "repetitions (interleaved across --compare's transports), 1..1000 (default 1)"},
    {OPT_SEED, "seed", "N", "payload pool seed, decimal or 0x hex (default 0x4650535045524655)"},
    {OPT_CSV, "csv", "FILE", "write one CSV row per run (FastPort's columns, io_mode, run, server CPU)"},
    {OPT_PLOT, "plot", "FILE.svg", "draw the RTT CDF and throughput per transport as SVG"},
    {OPT_SERVER_BIN, "server-bin", "PATH", "--compare's server (default: fastport-server next to this program)"},
    {OPT_SERVER_WORKERS, "server-workers", "N", "--compare's server worker threads, 1..256 (default 1)"},
    {OPT_SERVER_CPU, "server-cpu", "N", "pin --compare's servers to CPU N (default: not pinned)"},
    {OPT_CLIENT_CPU, "client-cpu", "N", "pin this program to CPU N (default: not pinned)"},
    {OPT_TRANSPORT_DIR, "transport-dir", "DIR",
     "where transports are found, for client and servers (default <exe>/../lib/fastport/transports)"},
    {OPT_LOG_LEVEL, "log-level", "LEVEL", "engine log: error, warn, info, debug or trace (default warn)"},
    {OPT_HELP, "help", NULL, "print this help and exit"},
    {OPT_VERSION, "version", NULL, "print the version and exit"},
};

static int fail(char *err, size_t err_len, const char *fmt, ...)
    FP_PRINTF_LIKE(3, 4);

static int fail(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return -1;
}

/* Decimal digits only: no sign, no spaces. -1 malformed, -2 over `max`. */
static int parse_uint(const char *text, uint64_t max, uint64_t *out)
{
    if (!*text) return -1;
    uint64_t v = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        unsigned digit = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - digit) / 10) return -2;
        v = v * 10 + digit;
    }
    if (v > max) return -2;
    *out = v;
    return 0;
}

static int parse_hex(const char *text, uint64_t *out)
{
    if (!*text || strlen(text) > 16) return -1;
    uint64_t v = 0;
    for (const char *p = text; *p; p++) {
        unsigned digit;
        if (*p >= '0' && *p <= '9') digit = (unsigned)(*p - '0');
        else if (*p >= 'a' && *p <= 'f') digit = (unsigned)(*p - 'a' + 10);
        else if (*p >= 'A' && *p <= 'F') digit = (unsigned)(*p - 'A' + 10);
        else return -1;
        v = v << 4 | digit;
    }
    *out = v;
    return 0;
}

/* "SEC" or "SEC.FFF" into ms. -1 malformed, -2 out of range. */
static int parse_seconds_ms(const char *text, uint32_t *out_ms)
{
    char whole[16];
    const char *dot = strchr(text, '.');
    size_t whole_len = dot ? (size_t)(dot - text) : strlen(text);
    if (whole_len == 0) return -1;
    if (whole_len >= sizeof whole) return -2;
    memcpy(whole, text, whole_len);
    whole[whole_len] = '\0';
    uint64_t secs;
    int rc = parse_uint(whole, MAX_SECONDS, &secs);
    if (rc < 0) return rc;
    uint64_t frac_ms = 0;
    if (dot) {
        const char *frac = dot + 1;
        size_t n = strlen(frac);
        if (n == 0 || n > 3 || parse_uint(frac, 999, &frac_ms) < 0) return -1;
        for (size_t i = n; i < 3; i++) frac_ms *= 10;
    }
    uint64_t ms = secs * 1000u + frac_ms;
    if (ms > (uint64_t)MAX_SECONDS * 1000u) return -2;
    *out_ms = (uint32_t)ms;
    return 0;
}

static int number_option(const option_def *def, const char *value, uint64_t min, uint64_t max,
                         uint64_t *out, char *err, size_t err_len)
{
    int rc = parse_uint(value, max, out);
    if (rc == -1)
        return fail(err, err_len, "--%s=%s: not a non-negative decimal number", def->name, value);
    if (rc == -2 || *out < min)
        return fail(err, err_len, "--%s=%s: out of range (%llu..%llu)", def->name, value,
                    (unsigned long long)min, (unsigned long long)max);
    return 0;
}

static int u32_option(const option_def *def, const char *value, uint32_t min, uint32_t max,
                      uint32_t *out, char *err, size_t err_len)
{
    uint64_t v;
    if (number_option(def, value, min, max, &v, err, err_len) < 0) return -1;
    *out = (uint32_t)v;
    return 0;
}

static int cpu_option(const option_def *def, const char *value, int *out, char *err,
                      size_t err_len)
{
    uint32_t cpu;
    if (u32_option(def, value, 0, MAX_CPU, &cpu, err, err_len) < 0) return -1;
    *out = (int)cpu;
    return 0;
}

static int payload_option(bench_options *o, const char *value, char *err, size_t err_len)
{
    char low[16], *high = NULL;
    const char *dash = strchr(value, '-');
    size_t low_len = dash ? (size_t)(dash - value) : strlen(value);
    uint64_t lo = 0, hi = 0;
    int rc = -1;
    if (low_len > 0 && low_len < sizeof low) {
        memcpy(low, value, low_len);
        low[low_len] = '\0';
        rc = parse_uint(low, BENCH_PAYLOAD_MAX, &lo);
        hi = lo;
        if (rc == 0 && dash) {
            high = (char *)dash + 1;
            rc = parse_uint(high, BENCH_PAYLOAD_MAX, &hi);
        }
    }
    if (rc == -1)
        return fail(err, err_len, "--payload=%s: expected BYTES or MIN-MAX, e.g. 64 or 4096-16384",
                    value);
    if (rc == -2)
        return fail(err, err_len, "--payload=%s: sizes go up to %u bytes (one frame)", value,
                    (unsigned)BENCH_PAYLOAD_MAX);
    if (lo > hi)
        return fail(err, err_len, "--payload=%s: MIN is larger than MAX", value);
    o->payload_min = (uint32_t)lo;
    o->payload_max = (uint32_t)hi;
    return 0;
}

/* N (replies per session) or SECs / SEC.FFF[s] (seconds). */
static int warmup_option(bench_options *o, const char *value, char *err, size_t err_len)
{
    size_t len = strlen(value);
    int timed = len > 0 && value[len - 1] == 's';
    if (timed || strchr(value, '.')) {
        char secs[32];
        size_t n = timed ? len - 1 : len;
        int rc = -1;
        if (n < sizeof secs) {
            memcpy(secs, value, n);
            secs[n] = '\0';
            rc = parse_seconds_ms(secs, &o->warmup_ms);
        }
        if (rc < 0)
            return fail(err, err_len, "--warmup=%s: expected seconds like 2s or 0.5s (0..%us)",
                        value, MAX_SECONDS);
        o->warmup_per_session = 0;
        return 0;
    }
    uint64_t n;
    int rc = parse_uint(value, UINT32_MAX, &n);
    if (rc < 0)
        return fail(err, err_len,
                    "--warmup=%s: expected replies per session (e.g. 10) or seconds (e.g. 2s)",
                    value);
    o->warmup_per_session = (uint32_t)n;
    o->warmup_ms = 0;
    return 0;
}

static int compare_option(bench_options *o, const char *value, char *err, size_t err_len)
{
    o->compare_storage = strdup(value);
    if (!o->compare_storage) return fail(err, err_len, "out of memory");
    for (char *cursor = o->compare_storage;;) {
        char *comma = strchr(cursor, ',');
        if (comma) *comma = '\0';
        if (!*cursor) return fail(err, err_len, "--compare=%s: empty transport name", value);
        char **grown = realloc(o->compare, (o->n_compare + 1) * sizeof *grown);
        if (!grown) return fail(err, err_len, "out of memory");
        o->compare = grown;
        o->compare[o->n_compare++] = cursor;
        if (!comma) return 0;
        cursor = comma + 1;
    }
}

static int log_level_option(const char *value, fp_log_level *out, char *err, size_t err_len)
{
    static const char *const names[] = {"error", "warn", "info", "debug", "trace"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(value, names[i]) == 0) {
            *out = (fp_log_level)i;
            return 0;
        }
    }
    return fail(err, err_len, "--log-level=%s: expected error, warn, info, debug or trace", value);
}

static int apply_option(bench_options *o, const option_def *def, const char *value, char *err,
                        size_t err_len)
{
    uint64_t v;
    switch (def->id) {
    case OPT_TRANSPORT:
    case OPT_TRANSPORT_DIR:
    case OPT_CSV:
    case OPT_PLOT:
    case OPT_SERVER_BIN:
        if (!*value) return fail(err, err_len, "--%s=: empty value", def->name);
        if (def->id == OPT_TRANSPORT) o->transport = value;
        else if (def->id == OPT_TRANSPORT_DIR) o->transport_dir = value;
        else if (def->id == OPT_CSV) o->csv_path = value;
        else if (def->id == OPT_PLOT) o->plot_path = value;
        else o->server_bin = value;
        return 0;
    case OPT_CONNECT: {
        fp_addr addr;
        if (fp_addr_parse(value, &addr) != FP_OK || addr.port == 0)
            return fail(err, err_len,
                        "--connect=%s: expected HOST:PORT with a numeric host or localhost and a "
                        "non-zero port, e.g. 127.0.0.1:6628",
                        value);
        o->connect = value;
        return 0;
    }
    case OPT_SESSIONS: return u32_option(def, value, 1, MAX_SESSIONS, &o->sessions, err, err_len);
    case OPT_DEPTH: return u32_option(def, value, 1, MAX_DEPTH, &o->depth, err, err_len);
    case OPT_PAYLOAD: return payload_option(o, value, err, err_len);
    case OPT_DURATION: {
        int rc = parse_seconds_ms(value, &o->duration_ms);
        if (rc < 0 || o->duration_ms == 0)
            return fail(err, err_len, "--duration=%s: expected seconds, e.g. 10 or 0.5 (0.001..%u)",
                        value, MAX_SECONDS);
        return 0;
    }
    case OPT_ITERATIONS:
        if (number_option(def, value, 1, UINT32_MAX, &v, err, err_len) < 0) return -1;
        o->iterations = v;
        return 0;
    case OPT_WARMUP: return warmup_option(o, value, err, err_len);
    case OPT_THREADS: return u32_option(def, value, 1, MAX_THREADS, &o->threads, err, err_len);
    case OPT_RUNS: return u32_option(def, value, 1, MAX_RUNS, &o->runs, err, err_len);
    case OPT_SEED: {
        int rc = strncmp(value, "0x", 2) == 0 || strncmp(value, "0X", 2) == 0
                     ? parse_hex(value + 2, &o->seed)
                     : parse_uint(value, UINT64_MAX, &o->seed);
        if (rc < 0)
            return fail(err, err_len, "--seed=%s: expected a 64-bit number, decimal or 0x hex",
                        value);
        return 0;
    }
    case OPT_COMPARE: return compare_option(o, value, err, err_len);
    case OPT_SERVER_WORKERS:
        return u32_option(def, value, 1, MAX_THREADS, &o->server_workers, err, err_len);
    case OPT_SERVER_CPU: return cpu_option(def, value, &o->server_cpu, err, err_len);
    case OPT_CLIENT_CPU: return cpu_option(def, value, &o->client_cpu, err, err_len);
    case OPT_LOG_LEVEL: return log_level_option(value, &o->log_level, err, err_len);
    case OPT_HELP:
        o->action = BENCH_HELP;
        return 0;
    case OPT_VERSION:
        if (o->action != BENCH_HELP) o->action = BENCH_VERSION;
        return 0;
    case OPT_COUNT:
        break;
    }
    return fail(err, err_len, "internal error: unhandled option --%s", def->name);
}

static const option_def *find_option(const char *name, size_t name_len)
{
    for (size_t i = 0; i < sizeof option_defs / sizeof option_defs[0]; i++)
        if (strlen(option_defs[i].name) == name_len &&
            strncmp(option_defs[i].name, name, name_len) == 0)
            return &option_defs[i];
    return NULL;
}

static int parse_one(bench_options *o, const char *arg, unsigned char *seen, char *err,
                     size_t err_len)
{
    if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
        return fail(err, err_len, "unexpected argument '%s' (options are --NAME=VALUE)", arg);
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
    const option_def *def = find_option(name, name_len);
    if (!def) return fail(err, err_len, "unknown option '--%.*s'", (int)name_len, name);
    if (def->value && !eq)
        return fail(err, err_len, "option '--%s' needs a value: --%s=%s", def->name, def->name,
                    def->value);
    if (!def->value && eq) return fail(err, err_len, "option '--%s' takes no value", def->name);
    if (seen[def->id]) return fail(err, err_len, "option '--%s' given more than once", def->name);
    seen[def->id] = 1;
    return apply_option(o, def, eq ? eq + 1 : "", err, err_len);
}

static const char *option_name(option_id id)
{
    for (size_t i = 0; i < sizeof option_defs / sizeof option_defs[0]; i++)
        if (option_defs[i].id == id) return option_defs[i].name;
    return "?";
}

static int check_combinations(bench_options *o, const unsigned char *seen, char *err,
                              size_t err_len)
{
    if (seen[OPT_CONNECT] && seen[OPT_COMPARE])
        return fail(err, err_len, "--connect and --compare exclude each other: --compare starts "
                                  "its own servers");
    if (!seen[OPT_CONNECT] && !seen[OPT_COMPARE])
        return fail(err, err_len,
                    "nothing to load: give --connect=HOST:PORT or --compare=T1,T2,...");
    if (!seen[OPT_COMPARE]) {
        static const option_id server_only[] = {OPT_SERVER_BIN, OPT_SERVER_WORKERS, OPT_SERVER_CPU};
        for (size_t i = 0; i < sizeof server_only / sizeof server_only[0]; i++)
            if (seen[server_only[i]])
                return fail(err, err_len,
                            "--%s needs --compare (it configures the servers --compare starts)",
                            option_name(server_only[i]));
    }
    if (seen[OPT_DURATION] && seen[OPT_ITERATIONS])
        return fail(err, err_len, "--duration and --iterations exclude each other: pick one");
    if (!seen[OPT_DURATION] && !seen[OPT_ITERATIONS]) o->iterations = DEFAULT_ITERATIONS;
    if (seen[OPT_PLOT]) {
        size_t len = strlen(o->plot_path);
        if (len < 4 || strcmp(o->plot_path + len - 4, ".svg") != 0)
            return fail(err, err_len, "--plot=%s: the file name must end in .svg", o->plot_path);
    }
    return 0;
}

int bench_options_parse(bench_options *o, int argc, char **argv, char *err, size_t err_len)
{
    memset(o, 0, sizeof *o);
    o->sessions = 1;
    o->depth = 1;
    o->payload_min = o->payload_max = 64;
    o->threads = 1;
    o->warmup_per_session = DEFAULT_WARMUP_PER_SESSION;
    o->runs = 1;
    o->seed = BENCH_DEFAULT_SEED;
    o->server_workers = 1;
    o->server_cpu = -1;
    o->client_cpu = -1;
    o->log_level = FP_LOG_WARN;

    unsigned char seen[OPT_COUNT] = {0};
    for (int i = 1; i < argc; i++)
        if (parse_one(o, argv[i], seen, err, err_len) < 0) return -1;
    if (o->action != BENCH_RUN) return 0;
    return check_combinations(o, seen, err, err_len);
}

void bench_options_free(bench_options *o)
{
    free(o->compare);
    free(o->compare_storage);
    memset(o, 0, sizeof *o);
}

void bench_options_print_help(FILE *out)
{
    fputs("Usage: fastport-bench --connect=HOST:PORT [OPTION]...\n"
          "       fastport-bench --compare=T1,T2,... [OPTION]...\n"
          "Measures a FastPort server with BenchmarkRequests (packet 0x1001): RTT, the\n"
          "server's share of it, msgs/s and MB/s, lost and late replies. --compare starts\n"
          "fastport-server --plugin=fastport once per transport and runs the same workload\n"
          "on each, interleaved. Exit status: 0 when every reply came back intact, 1 when\n"
          "any was lost, out of order or wrong, 2 for a bad command line.\n\n",
          out);
    for (size_t i = 0; i < sizeof option_defs / sizeof option_defs[0]; i++) {
        const option_def *d = &option_defs[i];
        char left[64];
        if (d->value) snprintf(left, sizeof left, "--%s=%s", d->name, d->value);
        else snprintf(left, sizeof left, "--%s", d->name);
        fprintf(out, "  %-26s %s\n", left, d->help);
    }
    char names[512];
    size_t n = fp_transports_available(NULL, names, sizeof names);
    fprintf(out, "\nTransports in %s: %s\n", fp_default_transport_dir(), n ? names : "(none)");
}
