/* fp-echo-load's command line: its option table, read by the parser the
 * four programs share (apps/common/cli.h), and the loopback-only target. */
#include <stddef.h>
#include <string.h>

#include "cli.h"
#include "load.h"
#include "loopback.h"

#define PROGRAM "fp-echo-load"
#define MAX_SECONDS_MS 86400000u

enum {
    OPT_CONNECT,
    OPT_SESSIONS,
    OPT_DEPTH,
    OPT_PAYLOAD,
    OPT_DURATION,
    OPT_WARMUP,
    OPT_SERVER_PID,
    OPT_CSV,
    OPT_IDLE,
    OPT_HOLD,
    OPT_CONNECT_TIMEOUT,
    OPT_CONNECT_BATCH,
    OPT_HELP,
    OPT_COUNT
};

/* The load is for this machine's server only: --connect resolves into
 * o->addr when it is a loopback address. */
static const char *loopback_target(const char *value, void *target)
{
    load_options *o = target;
    o->addr_len = loopback_address(value, &o->addr);
    return o->addr_len ? NULL : LOOPBACK_EXPECTED;
}

#define FIELD(member) FP_CLI_FIELD(load_options, member)

static const fp_cli_option options[OPT_COUNT] = {
    [OPT_CONNECT] = {.name = "connect", .type = FP_CLI_ADDRESS, .value = "HOST:PORT",
                     .help = "echo server to load: 127.0.0.0/8 or [::1] only", .flags = FP_CLI_REQUIRED,
                     .min = 1, .max = 65535, .check = loopback_target, FIELD(connect_text)},
    [OPT_SESSIONS] = {.name = "sessions", .type = FP_CLI_UNSIGNED, .value = "N", .help = "connections",
                      .min = 1, .max = 100000, .def = "100", FIELD(sessions)},
    [OPT_DEPTH] = {.name = "depth", .type = FP_CLI_UNSIGNED, .value = "N",
                   .help = "frames in flight per session", .min = 1, .max = 1024, .def = "16", FIELD(depth)},
    [OPT_PAYLOAD] = {.name = "payload", .type = FP_CLI_UNSIGNED, .value = "BYTES",
                     .help = "payload bytes per frame", .max = LOAD_PAYLOAD_MAX, .def = "64", FIELD(payload)},
    [OPT_DURATION] = {.name = "duration", .type = FP_CLI_SECONDS, .value = "SEC", .help = "measured window",
                      .min = 1, .max = MAX_SECONDS_MS, .def = "10", FIELD(duration_ms)},
    [OPT_WARMUP] = {.name = "warmup", .type = FP_CLI_SECONDS, .value = "SEC",
                    .help = "load before the measured window, not counted", .max = MAX_SECONDS_MS, .def = "1",
                    FIELD(warmup_ms)},
    [OPT_SERVER_PID] = {.name = "server-pid", .type = FP_CLI_UNSIGNED, .value = "PID",
                        .help = "report the server's CPU time per message, from /proc/PID/stat", .min = 1,
                        .max = 4194304, FIELD(server_pid)},
    [OPT_CSV] = {.name = "csv", .type = FP_CLI_FLAG, .help = "also print one CSV line (fields listed below)",
                 FIELD(csv)},
    [OPT_IDLE] = {.name = "idle", .type = FP_CLI_FLAG,
                  .help = "connect the sessions, send nothing, hold them (no load)", FIELD(idle)},
    [OPT_HOLD] = {.name = "hold", .type = FP_CLI_SECONDS, .value = "SEC", .help = "with --idle: hold for SEC",
                  .max = MAX_SECONDS_MS, .def = "0", .def_note = "until SIGINT, SIGTERM or SIGUSR1",
                  FIELD(hold_ms)},
    [OPT_CONNECT_TIMEOUT] = {.name = "connect-timeout", .type = FP_CLI_SECONDS, .value = "SEC",
                             .help = "give up when the sessions are not all open by then", .min = 1,
                             .max = MAX_SECONDS_MS, .def = "30", FIELD(connect_timeout_ms)},
    [OPT_CONNECT_BATCH] = {.name = "connect-batch", .type = FP_CLI_UNSIGNED, .value = "N",
                           .help = "connects in progress at once", .min = 1, .max = 65536, .def = "256",
                           FIELD(connect_batch)},
    [OPT_HELP] = {.name = "help", .type = FP_CLI_FLAG, .help = "print this help and exit",
                  .flags = FP_CLI_ACTION, FIELD(help)},
};

int load_options_parse(load_options *o, int argc, char **argv, char *err, size_t err_len)
{
    memset(o, 0, sizeof *o);
    o->program = PROGRAM;
    fp_cli cli;
    fp_cli_init(&cli, PROGRAM, options, OPT_COUNT, o, err, err_len);
    if (fp_cli_parse(&cli, argc, argv) < 0) return -1;
    if (fp_cli_action_given(&cli)) return 0;
    if (fp_cli_given(&cli, OPT_HOLD) && !o->idle)
        return fp_cli_needs(&cli, OPT_HOLD, OPT_IDLE, "it is how long idle sessions are held");
    return 0;
}

void load_options_print_help(FILE *out)
{
    fputs("Usage: " PROGRAM " --connect=HOST:PORT [OPTION]...\n"
          "Closed-loop load for FastPort's echo plugin: every session keeps --depth frames\n"
          "in flight, checks each reply byte for byte (id, size, payload, order) and sends\n"
          "the next. One thread. Exit status 0 only when every reply matched, 2 for a bad\n"
          "command line.\n\n",
          out);
    fp_cli_print_options(out, options, OPT_COUNT);
    fputs("\nCSV fields: sessions,depth,payload_bytes,window_s,replies,msgs_per_s,mb_per_s,\n"
          "errors,server_cpu_us_per_msg (empty without --server-pid),client_cpu_us_per_msg\n"
          "(this client's own user+system time). MB/s counts echoed\n"
          "frames, header included, in one direction (10^6 bytes).\n"
          "With --idle, \"connected N\" is printed on stdout once all N sessions are open.\n",
          out);
}
