#include "options.h"

#include <stdlib.h>
#include <string.h>

#include "cli_engine.h"

#define PROGRAM "fastport-server"

/* Seconds are kept in ms; the bound keeps every ms value, as whole
 * seconds, inside the engine's uint32_t fields. */
#define MAX_SECONDS_MS (UINT32_MAX / 1000u * 1000u)

enum {
    OPT_TRANSPORT,
    OPT_PLUGIN,
    OPT_LISTEN,
    OPT_WORKERS,
    OPT_TRANSPORT_DIR,
    OPT_PLUGIN_DIR,
    OPT_TRANSPORT_OPT,
    OPT_PLUGIN_OPT,
    OPT_IDLE_TIMEOUT,
    OPT_FRAME_TIMEOUT,
    OPT_SEND_TIMEOUT,
    OPT_WORKER_MEMORY,
    OPT_MAX_SESSIONS,
    OPT_MAX_PACKET,
    OPT_COMPRESS_THRESHOLD,
    OPT_SEND_QUEUE_LIMIT,
    OPT_DRAIN_TIMEOUT,
    OPT_STATS_INTERVAL,
    OPT_LOG_LEVEL,
    OPT_HELP,
    OPT_VERSION,
    OPT_COUNT
};

/* "PLUGIN.KEY=VALUE": the key names its plugin before a dot. */
static const char *plugin_key(const char *value, void *target)
{
    (void)target;
    size_t key_len = strcspn(value, "=");
    const char *dot = memchr(value, '.', key_len);
    return dot && dot != value && dot + 1 < value + key_len ? NULL : "PLUGIN.KEY=VALUE";
}

#define FIELD(member) FP_CLI_FIELD(server_options, member)

static const fp_cli_option options[OPT_COUNT] = {
    [OPT_TRANSPORT] = {.name = "transport", .type = FP_CLI_STRING, .value = "NAME",
                       .help = "transport to use, else FP_TRANSPORT from the environment",
                       .def_note = "the first that works of", .def_fn = fp_default_transport_order,
                       FIELD(engine.transport)},
    [OPT_PLUGIN] = {.name = "plugin", .type = FP_CLI_STRING, .value = "NAME[,NAME]",
                    .help = "protocol plugins to load, in order",
                    .flags = FP_CLI_REQUIRED | FP_CLI_REPEATABLE | FP_CLI_LIST | FP_CLI_COMMAS |
                             FP_CLI_UNIQUE, FIELD(plugins)},
    [OPT_LISTEN] = {.name = "listen", .type = FP_CLI_ADDRESS, .value = "HOST:PORT",
                    .help = "address to accept on, [V6]:PORT for IPv6, port 0 picks one",
                    .flags = FP_CLI_REPEATABLE | FP_CLI_LIST, .max = 65535, .def = "0.0.0.0:6628",
                    .check = fp_cli_engine_address, FIELD(listen)},
    [OPT_WORKERS] = {.name = "workers", .type = FP_CLI_UNSIGNED, .value = "N", .help = "worker threads",
                     .max = FP_ENGINE_MAX_WORKERS, .def = "0", .def_note = "one per online core",
                     FIELD(engine.workers)},
    [OPT_TRANSPORT_DIR] = {.name = "transport-dir", .type = FP_CLI_STRING, .value = "DIR",
                           .help = "where transports are found",
                           .def_note = "<exe>/../lib/fastport/transports", FIELD(engine.transport_dir)},
    [OPT_PLUGIN_DIR] = {.name = "plugin-dir", .type = FP_CLI_STRING, .value = "DIR",
                        .help = "where plugins are found", .def_note = "<exe>/../lib/fastport/plugins",
                        FIELD(engine.plugin_dir)},
    [OPT_TRANSPORT_OPT] = {.name = "transport-opt", .type = FP_CLI_STRING, .value = "KEY=VALUE",
                           .help = "option for the transport",
                           .flags = FP_CLI_REPEATABLE | FP_CLI_LIST | FP_CLI_PAIRS, FIELD(transport_opt)},
    [OPT_PLUGIN_OPT] = {.name = "plugin-opt", .type = FP_CLI_STRING, .value = "PLUGIN.KEY=VALUE",
                        .help = "option for one loaded plugin",
                        .flags = FP_CLI_REPEATABLE | FP_CLI_LIST | FP_CLI_PAIRS, .check = plugin_key,
                        FIELD(plugin_opt)},
    [OPT_IDLE_TIMEOUT] = {.name = "idle-timeout", .type = FP_CLI_SECONDS, .value = "SEC",
                          .help = "close a session that sent nothing for SEC seconds", .max = MAX_SECONDS_MS,
                          .def = "0", .def_note = "never", FIELD(engine.idle_timeout_ms)},
    [OPT_FRAME_TIMEOUT] = {.name = "frame-timeout", .type = FP_CLI_SECONDS, .value = "SEC",
                           .help = "close a session whose frame is not whole SEC seconds after its first byte (0: never)",
                           .max = MAX_SECONDS_MS, .def = "10",
                           FIELD(engine.frame_timeout_ms)},
    [OPT_SEND_TIMEOUT] = {.name = "send-timeout", .type = FP_CLI_SECONDS, .value = "SEC",
                          .help = "abort a session whose queued replies made no progress for SEC seconds (0: never)",
                          .max = MAX_SECONDS_MS, .def = "30", FIELD(engine.send_timeout_ms)},
    [OPT_MAX_SESSIONS] = {.name = "max-sessions", .type = FP_CLI_UNSIGNED, .value = "N",
                          .help = "refuse connections beyond N open sessions", .max = UINT32_MAX, .def = "0",
                          .def_note = "unlimited", FIELD(engine.max_sessions)},
    [OPT_MAX_PACKET] = {.name = "max-packet", .type = FP_CLI_UNSIGNED, .value = "BYTES",
                        .help = "largest frame accepted, header included", .min = FP_FRAME_HEADER_SIZE,
                        .max = FP_FRAME_MAX_SIZE, .def = "65535", FIELD(engine.max_packet)},
    [OPT_COMPRESS_THRESHOLD] = {.name = "compress-threshold", .type = FP_CLI_UNSIGNED, .value = "BYTES",
                                .help = "deflate payloads of at least BYTES", .max = FP_PAYLOAD_MAX_SIZE,
                                .def = "0", .def_note = "only when a plugin asks",
                                FIELD(engine.compress_threshold)},
    [OPT_SEND_QUEUE_LIMIT] = {.name = "send-queue-limit", .type = FP_CLI_UNSIGNED, .value = "BYTES",
                              .help = "per-session cap on queued send bytes, at least --max-packet",
                              .min = FP_FRAME_HEADER_SIZE, .max = UINT32_MAX, .def = "262144",
                              FIELD(engine.send_queue_limit)},
    [OPT_WORKER_MEMORY] = {.name = "worker-memory", .type = FP_CLI_UNSIGNED, .value = "MIB",
                           .help = "per worker, queued sends and partial frames of all its sessions together; "
                                   "over it the largest holders are aborted (0: no limit)",
                           .max = 1u << 20, .def = "128", FIELD(worker_memory_mib)},
    [OPT_DRAIN_TIMEOUT] = {.name = "drain-timeout", .type = FP_CLI_SECONDS, .value = "SEC",
                           .help = "on a stop request, abort sessions still open after SEC seconds",
                           .max = MAX_SECONDS_MS, .def = "5", FIELD(engine.drain_timeout_ms)},
    [OPT_STATS_INTERVAL] = {.name = "stats-interval", .type = FP_CLI_SECONDS, .value = "SEC",
                            .help = "print counters to stderr every SEC seconds", .max = MAX_SECONDS_MS,
                            .def = "0", .def_note = "never", FIELD(stats_interval_ms)},
    [OPT_LOG_LEVEL] = FP_CLI_LOG_LEVEL_OPTION(server_options, engine.log_level, "info"),
    [OPT_HELP] = {.name = "help", .type = FP_CLI_FLAG, .help = "print this help and exit",
                  .flags = FP_CLI_ACTION, FIELD(help)},
    [OPT_VERSION] = {.name = "version", .type = FP_CLI_FLAG, .help = "print the version and exit",
                     .flags = FP_CLI_ACTION, FIELD(version)},
};

_Static_assert(FP_ENGINE_DEFAULT_WORKER_MEMORY_LIMIT == (uint64_t)128 << 20,
               "--worker-memory's default (128) is the engine's");

/* Every --plugin-opt names a plugin that --plugin loads. */
static int plugin_opt_checks(fp_cli *cli, const server_options *o)
{
    for (size_t i = 0; i + 1 < o->plugin_opt.n; i += 2) {
        const char *key = o->plugin_opt.items[i];
        size_t plugin_len = strcspn(key, ".");
        int loaded = 0;
        for (size_t p = 0; p < o->plugins.n && !loaded; p++)
            loaded = strlen(o->plugins.items[p]) == plugin_len &&
                     strncmp(o->plugins.items[p], key, plugin_len) == 0;
        if (loaded) continue;
        char given[256];
        snprintf(given, sizeof given, "%s=%s", key, o->plugin_opt.items[i + 1]);
        return fp_cli_bad_value(cli, OPT_PLUGIN_OPT, given, "plugin '%.*s' is not loaded by --plugin",
                                (int)plugin_len, key);
    }
    return 0;
}

/* The KEY, VALUE items of a --*-opt list as the engine's fp_kv pairs. */
static fp_kv *engine_pairs(const fp_cli_list *pairs)
{
    size_t n = pairs->n / 2;
    fp_kv *kv = calloc(n ? n : 1, sizeof *kv);
    for (size_t i = 0; kv && i < n; i++) kv[i] = (fp_kv){pairs->items[2 * i], pairs->items[2 * i + 1]};
    return kv;
}

int server_options_parse(server_options *o, int argc, char **argv, char *err, size_t err_len)
{
    memset(o, 0, sizeof *o);
    fp_engine_config_init(&o->engine);
    fp_cli cli;
    fp_cli_init(&cli, PROGRAM, options, OPT_COUNT, o, err, err_len);
    if (fp_cli_parse(&cli, argc, argv) < 0) return -1;
    if (fp_cli_action_given(&cli)) return 0;

    if (plugin_opt_checks(&cli, o) < 0) return -1;
    if (o->engine.send_queue_limit < o->engine.max_packet) {
        char given[16];
        snprintf(given, sizeof given, "%u", (unsigned)o->engine.send_queue_limit);
        return fp_cli_bad_value(&cli, OPT_SEND_QUEUE_LIMIT, given,
                                "smaller than the largest frame (--max-packet=%u)",
                                (unsigned)o->engine.max_packet);
    }
    o->engine.worker_memory_limit = (uint64_t)o->worker_memory_mib << 20;
    o->transport_opts = engine_pairs(&o->transport_opt);
    o->plugin_opts = engine_pairs(&o->plugin_opt);
    if (!o->transport_opts || !o->plugin_opts) {
        snprintf(err, err_len, PROGRAM ": out of memory");
        return -1;
    }
    o->engine.plugins = o->plugins.items;
    o->engine.n_plugins = o->plugins.n;
    o->engine.transport_opts = o->transport_opts;
    o->engine.n_transport_opts = o->transport_opt.n / 2;
    o->engine.plugin_opts = o->plugin_opts;
    o->engine.n_plugin_opts = o->plugin_opt.n / 2;
    return 0;
}

void server_options_free(server_options *o)
{
    fp_cli_free(options, OPT_COUNT, o);
    free(o->transport_opts);
    free(o->plugin_opts);
    memset(o, 0, sizeof *o);
}

static void print_available(FILE *out, const char *what, const char *dir,
                            size_t (*list)(const char *, char *, size_t))
{
    char names[1024];
    size_t n = list(dir, names, sizeof names);
    fprintf(out, "%s in %s: %s\n", what, dir ? dir : "(unknown directory)", n ? names : "(none)");
}

void server_options_print_help(FILE *out, const char *transport_dir, const char *plugin_dir)
{
    fputs("Usage: " PROGRAM " --plugin=NAME[,NAME] [OPTION]...\n"
          "Serves FastPort's wire protocol with the given protocol plugins until asked to\n"
          "stop (Ctrl-C, SIGINT or SIGTERM; on Windows also a console close), then shuts\n"
          "down gracefully. Every option is --NAME=VALUE.\n\n",
          out);
    fp_cli_print_options(out, options, OPT_COUNT);
    fputs("\n", out);
    print_available(out, "Transports", transport_dir ? transport_dir : fp_default_transport_dir(),
                    fp_transports_available);
    print_available(out, "Plugins", plugin_dir ? plugin_dir : fp_default_plugin_dir(), fp_plugins_available);
    fputs("\nExit status: 0 after a clean stop, 1 on a runtime failure, 2 on a usage or\n"
          "configuration error.\n",
          out);
}
