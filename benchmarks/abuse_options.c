/* fp-abuse's command line: its option table, read by the parser the
 * programs share (apps/common/cli.h), and the loopback-only target. */
#include <stddef.h>
#include <string.h>

#include "abuse.h"
#include "cli.h"
#include "loopback.h"

#define PROGRAM "fp-abuse"
#define MAX_SECONDS_MS 86400000u

enum {
    OPT_CONNECT,
    OPT_SLOWLORIS,
    OPT_NEVER_READ,
    OPT_INTERVAL,
    OPT_FRAME,
    OPT_PAYLOAD,
    OPT_RCVBUF,
    OPT_QUIET,
    OPT_DURATION,
    OPT_CONNECT_TIMEOUT,
    OPT_CSV,
    OPT_HELP,
    OPT_COUNT
};

static const char *loopback_target(const char *value, void *target)
{
    abuse_options *o = target;
    o->addr_len = loopback_address(value, &o->addr);
    return o->addr_len ? NULL : LOOPBACK_EXPECTED;
}

#define FIELD(member) FP_CLI_FIELD(abuse_options, member)

static const fp_cli_option options[OPT_COUNT] = {
    [OPT_CONNECT] = {.name = "connect", .type = FP_CLI_ADDRESS, .value = "HOST:PORT",
                     .help = "echo server to attack: 127.0.0.0/8 or [::1] only", .flags = FP_CLI_REQUIRED,
                     .min = 1, .max = 65535, .check = loopback_target, FIELD(connect_text)},
    [OPT_SLOWLORIS] = {.name = "slowloris", .type = FP_CLI_UNSIGNED, .value = "N",
                       .help = "N connections trickling a frame a byte per --interval, never ending it",
                       .min = 1, .max = 100000, FIELD(slowloris)},
    [OPT_NEVER_READ] = {.name = "never-read", .type = FP_CLI_UNSIGNED, .value = "N",
                        .help = "N connections writing echo frames as fast as accepted, never reading",
                        .min = 1, .max = 100000, FIELD(never_read)},
    [OPT_INTERVAL] = {.name = "interval", .type = FP_CLI_SECONDS, .value = "SEC",
                      .help = "slowloris: time between two bytes of a connection", .min = 1,
                      .max = MAX_SECONDS_MS, .def = "2", FIELD(interval_ms)},
    [OPT_FRAME] = {.name = "frame", .type = FP_CLI_UNSIGNED, .value = "BYTES",
                   .help = "slowloris: the frame size its header declares (all but its last byte are sent)",
                   .min = 5, .max = LOAD_FRAME_MAX, .def = "1000", FIELD(frame)},
    [OPT_PAYLOAD] = {.name = "payload", .type = FP_CLI_UNSIGNED, .value = "BYTES",
                     .help = "never-read: payload bytes per frame", .min = 1, .max = LOAD_PAYLOAD_MAX,
                     .def = "1000", FIELD(payload)},
    [OPT_RCVBUF] = {.name = "rcvbuf", .type = FP_CLI_UNSIGNED, .value = "BYTES",
                    .help = "never-read: SO_RCVBUF of each connection (the kernel may round it)", .min = 1024,
                    .max = 1u << 30, .def = "4096", FIELD(rcvbuf)},
    [OPT_QUIET] = {.name = "stall", .type = FP_CLI_SECONDS, .value = "SEC",
                   .help = "never-read: a connection whose writes made no progress for SEC has stalled",
                   .min = 1, .max = MAX_SECONDS_MS, .def = "1", FIELD(quiet_ms)},
    [OPT_DURATION] = {.name = "duration", .type = FP_CLI_SECONDS, .value = "SEC",
                      .help = "stop after SEC even if connections are still open", .min = 1,
                      .max = MAX_SECONDS_MS, .def = "60", FIELD(duration_ms)},
    [OPT_CONNECT_TIMEOUT] = {.name = "connect-timeout", .type = FP_CLI_SECONDS, .value = "SEC",
                             .help = "give up when the connections are not all open by then", .min = 1,
                             .max = MAX_SECONDS_MS, .def = "30", FIELD(connect_timeout_ms)},
    [OPT_CSV] = {.name = "csv", .type = FP_CLI_FLAG, .help = "also print one CSV line (fields listed below)",
                 FIELD(csv)},
    [OPT_HELP] = {.name = "help", .type = FP_CLI_FLAG, .help = "print this help and exit",
                  .flags = FP_CLI_ACTION, FIELD(help)},
};

int abuse_options_parse(abuse_options *o, int argc, char **argv, char *err, size_t err_len)
{
    memset(o, 0, sizeof *o);
    fp_cli cli;
    fp_cli_init(&cli, PROGRAM, options, OPT_COUNT, o, err, err_len);
    if (fp_cli_parse(&cli, argc, argv) < 0) return -1;
    if (fp_cli_action_given(&cli)) return 0;
    if (o->slowloris && o->never_read)
        return fp_cli_conflict(&cli, OPT_SLOWLORIS, OPT_NEVER_READ, "one attack per run");
    if (!o->slowloris && !o->never_read) return fp_cli_one_required(&cli, OPT_SLOWLORIS, OPT_NEVER_READ);
    static const struct {
        int option, mode;
    } belongs[] = {{OPT_INTERVAL, OPT_SLOWLORIS},
                   {OPT_FRAME, OPT_SLOWLORIS},
                   {OPT_PAYLOAD, OPT_NEVER_READ},
                   {OPT_RCVBUF, OPT_NEVER_READ},
                   {OPT_QUIET, OPT_NEVER_READ}};
    for (size_t i = 0; i < sizeof belongs / sizeof belongs[0]; i++) {
        int mode_given = belongs[i].mode == OPT_SLOWLORIS ? o->slowloris != 0 : o->never_read != 0;
        if (fp_cli_given(&cli, (size_t)belongs[i].option) && !mode_given)
            return fp_cli_needs(&cli, (size_t)belongs[i].option, (size_t)belongs[i].mode,
                                "it shapes that attack only");
    }
    return 0;
}

void abuse_options_print_help(FILE *out)
{
    fputs("Usage: " PROGRAM " --connect=HOST:PORT --slowloris=N|--never-read=N [OPTION]...\n"
          "Attacks a fastport-server running the echo plugin, over loopback only, and reports\n"
          "when the server closed each connection. One attack per run:\n"
          "  --slowloris: each connection sends one byte of a valid echo frame every\n"
          "    --interval and never completes it; the delay reported is from its first\n"
          "    byte to the server's close.\n"
          "  --never-read: each connection writes echo frames as long as the kernel takes\n"
          "    them and never reads the replies; the delay reported is from its first stall\n"
          "    (its last progress before --stall without any) to the server's close.\n"
          "Runs until the server has closed every connection, --duration passes, or SIGINT\n"
          "or SIGTERM; then prints the report. Exit status 0 when the attack ran (however\n"
          "many the server closed), 1 on a local failure, 2 for a bad command line.\n\n",
          out);
    fp_cli_print_options(out, options, OPT_COUNT);
    fputs("\nOn stdout while running: \"connected N\" once every connection is open (slowloris:\n"
          "and has sent its first byte); never-read: \"stalled N after SEC s\" once every\n"
          "connection still open has made no progress for --stall.\n"
          "CSV fields: mode,connections,closed,open,bytes_sent,min_s,median_s,max_s\n"
          "(the delays of the closed connections; empty when none closed).\n",
          out);
}
