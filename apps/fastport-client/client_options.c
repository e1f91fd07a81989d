#include "client_options.h"

#include <stdarg.h>
#include <string.h>

#include <fastport/engine.h>

#define DEFAULT_SIZE 64u
#define DEFAULT_TIMEOUT_MS 10000u
#define MAX_COUNT 100000000u
#define MAX_TIMEOUT_S 3600u

static int fail(char *err, size_t err_len, const char *fmt, ...) FP_PRINTF_LIKE(3, 4);

static int fail(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return -1;
}

/* Decimal digits only, within [min, max]. */
static int parse_number(const char *name, const char *text, uint32_t min, uint32_t max,
                        uint32_t *out, char *err, size_t err_len)
{
    uint64_t v = 0;
    if (!*text) return fail(err, err_len, "--%s: needs a number", name);
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return fail(err, err_len, "--%s=%s: not a non-negative decimal number", name, text);
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > max) break;
    }
    if (v < min || v > max)
        return fail(err, err_len, "--%s=%s: out of range (%u..%u)", name, text, min, max);
    *out = (uint32_t)v;
    return 0;
}

static int parse_log_level(const char *text, fp_log_level *out, char *err, size_t err_len)
{
    static const char *const names[] = {"error", "warn", "info", "debug", "trace"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(text, names[i]) == 0) {
            *out = (fp_log_level)i;
            return 0;
        }
    }
    return fail(err, err_len, "--log-level=%s: expected error, warn, info, debug or trace", text);
}

static int set_option(client_options *o, const char *name, const char *value, int *size_given,
                      char *err, size_t err_len)
{
    if (strcmp(name, "help") == 0 || strcmp(name, "version") == 0) {
        if (value) return fail(err, err_len, "--%s takes no value", name);
        o->action = name[0] == 'h' ? CLIENT_HELP : CLIENT_VERSION;
        return 0;
    }
    if (!value) return fail(err, err_len, "--%s needs a value (--%s=...)", name, name);
    if (strcmp(name, "transport") == 0) {
        if (!*value) return fail(err, err_len, "--transport: needs a name");
        o->transport = value;
        return 0;
    }
    if (strcmp(name, "transport-dir") == 0) {
        o->transport_dir = value;
        return 0;
    }
    if (strcmp(name, "connect") == 0) {
        fp_addr addr;
        if (fp_addr_parse(value, &addr) != FP_OK || addr.port == 0)
            return fail(err, err_len,
                        "--connect=%s: expected HOST:PORT or [V6]:PORT with a numeric host "
                        "(or localhost) and a port above 0", value);
        o->connect = value;
        return 0;
    }
    if (strcmp(name, "log-level") == 0) return parse_log_level(value, &o->log_level, err, err_len);
    if (strcmp(name, "count") == 0) return parse_number(name, value, 1, MAX_COUNT, &o->count, err, err_len);
    if (strcmp(name, "size") == 0) {
        *size_given = 1;
        return parse_number(name, value, 0, CLIENT_MAX_SIZE, &o->size, err, err_len);
    }
    if (strcmp(name, "timeout") == 0) {
        uint32_t seconds;
        if (parse_number(name, value, 1, MAX_TIMEOUT_S, &seconds, err, err_len) != 0) return -1;
        o->timeout_ms = seconds * 1000u;
        return 0;
    }
    return fail(err, err_len, "unknown option '--%s' (--help lists them)", name);
}

int client_options_parse(client_options *o, int argc, char **argv, char *err, size_t err_len)
{
    memset(o, 0, sizeof *o);
    o->log_level = FP_LOG_WARN;
    o->size = DEFAULT_SIZE;
    o->timeout_ms = DEFAULT_TIMEOUT_MS;
    int size_given = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0 || !arg[2])
            return fail(err, err_len, "unexpected argument '%s' (options are --name=VALUE)", arg);
        char name[32];
        const char *eq = strchr(arg + 2, '=');
        size_t name_len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        if (name_len >= sizeof name)
            return fail(err, err_len, "unknown option '%.40s' (--help lists them)", arg);
        memcpy(name, arg + 2, name_len);
        name[name_len] = '\0';
        if (set_option(o, name, eq ? eq + 1 : NULL, &size_given, err, err_len) != 0) return -1;
    }
    if (o->action != CLIENT_RUN) return 0;
    if (!o->connect) return fail(err, err_len, "--connect=HOST:PORT is required");
    if (size_given && !o->count)
        return fail(err, err_len, "--size applies to scripted mode: give --count=N too");
    return 0;
}

void client_options_print_help(FILE *out)
{
    fprintf(out,
            "Usage: fastport-client --connect=HOST:PORT [options]\n"
            "\n"
            "Talks FastPort's echo protocol (packet 0x0001) to a server running the\n"
            "fastport plugin, through the transport named by --transport.\n"
            "\n"
            "Interactive (default): each line read from stdin is sent as an EchoRequest\n"
            "and the reply printed as \"reply #N: TEXT (rtt X us)\"; end of input ends.\n"
            "Scripted (--count): N echoes of --size random bytes, each checked; exit\n"
            "status 0 only if every echo came back intact.\n"
            "\n"
            "Options:\n"
            "  --connect=HOST:PORT    server address, [V6]:PORT for IPv6 (required)\n"
            "  --transport=NAME       transport to use (default: first usable of %s)\n"
            "  --transport-dir=DIR    where transports are found\n"
            "                         (default <exe>/../lib/fastport/transports)\n"
            "  --count=N              scripted mode: send N echoes, 1..%u\n"
            "  --size=BYTES           data bytes per scripted echo, 0..%u (default %u)\n"
            "  --timeout=SEC          fail when a reply takes longer, 1..%u (default %u)\n"
            "  --log-level=LEVEL      error, warn, info, debug or trace (default warn)\n"
            "  --help                 print this help and exit\n"
            "  --version              print the version and exit\n"
            "\n"
            "Exit status: 0 success, 1 a failed, lost or damaged echo or no connection,\n"
            "2 bad options.\n",
            fp_default_transport_order(), MAX_COUNT, CLIENT_MAX_SIZE, DEFAULT_SIZE, MAX_TIMEOUT_S,
            DEFAULT_TIMEOUT_MS / 1000u);
}
