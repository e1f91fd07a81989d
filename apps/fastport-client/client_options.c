#include "client_options.h"

#include <string.h>

#include <fastport/engine.h>

#include "cli_engine.h"

#define PROGRAM "fastport-client"

enum {
    OPT_CONNECT,
    OPT_TRANSPORT,
    OPT_TRANSPORT_DIR,
    OPT_COUNT_ECHOES,
    OPT_SIZE,
    OPT_TIMEOUT,
    OPT_LOG_LEVEL,
    OPT_HELP,
    OPT_VERSION,
    OPT_COUNT
};

#define FIELD(member) FP_CLI_FIELD(client_options, member)

static const fp_cli_option options[OPT_COUNT] = {
    [OPT_CONNECT] = {.name = "connect", .type = FP_CLI_ADDRESS, .value = "HOST:PORT",
                     .help = "server address, [V6]:PORT for IPv6", .flags = FP_CLI_REQUIRED, .min = 1,
                     .max = 65535, .check = fp_cli_engine_address, FIELD(connect)},
    [OPT_TRANSPORT] = {.name = "transport", .type = FP_CLI_STRING, .value = "NAME",
                       .help = "transport to use", .def_note = "the first that works of",
                       .def_fn = fp_default_transport_order, FIELD(transport)},
    [OPT_TRANSPORT_DIR] = {.name = "transport-dir", .type = FP_CLI_STRING, .value = "DIR",
                           .help = "where transports are found",
                           .def_note = "<exe>/../lib/fastport/transports", FIELD(transport_dir)},
    [OPT_COUNT_ECHOES] = {.name = "count", .type = FP_CLI_UNSIGNED, .value = "N",
                          .help = "scripted mode: send N echoes", .min = 1, .max = 100000000,
                          .def_note = "interactive", FIELD(count)},
    [OPT_SIZE] = {.name = "size", .type = FP_CLI_UNSIGNED, .value = "BYTES",
                  .help = "data bytes per scripted echo", .max = CLIENT_MAX_SIZE, .def = "64", FIELD(size)},
    [OPT_TIMEOUT] = {.name = "timeout", .type = FP_CLI_SECONDS, .value = "SEC",
                     .help = "fail when a reply takes longer", .min = 1000, .max = 3600000, .def = "10",
                     FIELD(timeout_ms)},
    [OPT_LOG_LEVEL] = FP_CLI_LOG_LEVEL_OPTION(client_options, log_level, "warn"),
    [OPT_HELP] = {.name = "help", .type = FP_CLI_FLAG, .help = "print this help and exit",
                  .flags = FP_CLI_ACTION, FIELD(help)},
    [OPT_VERSION] = {.name = "version", .type = FP_CLI_FLAG, .help = "print the version and exit",
                     .flags = FP_CLI_ACTION, FIELD(version)},
};

int client_options_parse(client_options *o, int argc, char **argv, char *err, size_t err_len)
{
    memset(o, 0, sizeof *o);
    fp_cli cli;
    fp_cli_init(&cli, PROGRAM, options, OPT_COUNT, o, err, err_len);
    if (fp_cli_parse(&cli, argc, argv) < 0) return -1;
    if (fp_cli_action_given(&cli)) return 0;
    if (fp_cli_given(&cli, OPT_SIZE) && !fp_cli_given(&cli, OPT_COUNT_ECHOES))
        return fp_cli_needs(&cli, OPT_SIZE, OPT_COUNT_ECHOES, "it sizes the scripted echoes");
    return 0;
}

void client_options_print_help(FILE *out)
{
    fputs("Usage: " PROGRAM " --connect=HOST:PORT [OPTION]...\n"
          "\n"
          "Talks FastPort's echo protocol (packet 0x0001) to a server running the\n"
          "fastport plugin, through the transport named by --transport.\n"
          "\n"
          "Interactive (default): each line read from stdin is sent as an EchoRequest\n"
          "and the reply printed as \"reply #N: TEXT (rtt X us)\"; end of input ends.\n"
          "Scripted (--count): N echoes of --size random bytes, each checked; exit\n"
          "status 0 only if every echo came back intact.\n"
          "\n"
          "Options:\n",
          out);
    fp_cli_print_options(out, options, OPT_COUNT);
    fputs("\n"
          "Exit status: 0 success, 1 a failed, lost or damaged echo or no connection,\n"
          "2 bad options.\n",
          out);
}
