#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"

typedef struct option_def {
    const char *name;
    const char *value; /* NULL: a flag */
    const char *help;
} option_def;

static const option_def option_defs[] = {
    {"connect", "HOST:PORT", "echo server to load: 127.0.0.0/8 or [::1] only (required)"},
    {"sessions", "N", "connections, 1..100000 (default 100)"},
    {"depth", "N", "frames in flight per session, 1..1024 (default 16)"},
    {"payload", "BYTES", "payload bytes per frame, 0..65531 (default 64)"},
    {"duration", "SEC", "measured window (default 10)"},
    {"warmup", "SEC", "load before the measured window, not counted (default 1)"},
    {"server-pid", "PID", "report the server's CPU time per message, from /proc/PID/stat"},
    {"csv", NULL, "also print one CSV line (fields listed below)"},
    {"idle", NULL, "connect the sessions, send nothing, hold them (no load)"},
    {"hold", "SEC", "with --idle: hold for SEC, 0 = until SIGINT/SIGTERM/SIGUSR1 (default 0)"},
    {"connect-timeout", "SEC", "give up when the sessions are not all open by then (default 30)"},
    {"connect-batch", "N", "connects in progress at once, 1..65536 (default 256)"},
    {"help", NULL, "print this help and exit"},
};

static int fail(char *err, size_t err_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return -1;
}

static int parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!*text) return -1;
    uint64_t v = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        unsigned digit = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - digit) / 10) return -1;
        v = v * 10 + digit;
    }
    if (v < min || v > max) return -1;
    *out = v;
    return 0;
}

/* "SEC" or "SEC.FFF", at most a day. */
static int parse_seconds_ms(const char *text, uint64_t *out_ms)
{
    char whole[16];
    const char *dot = strchr(text, '.');
    size_t n = dot ? (size_t)(dot - text) : strlen(text);
    if (n == 0 || n >= sizeof whole) return -1;
    memcpy(whole, text, n);
    whole[n] = '\0';
    uint64_t secs, frac = 0;
    if (parse_uint(whole, 0, 86400, &secs) < 0) return -1;
    if (dot) {
        size_t digits = strlen(dot + 1);
        if (digits == 0 || digits > 3 || parse_uint(dot + 1, 0, 999, &frac) < 0) return -1;
        for (size_t i = digits; i < 3; i++) frac *= 10;
    }
    *out_ms = secs * 1000 + frac;
    return 0;
}

static int parse_target(load_options *o, const char *text, char *err, size_t err_len)
{
    char host[64];
    const char *port_text;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':' || (size_t)(close - text - 1) >= sizeof host) goto bad;
        memcpy(host, text + 1, (size_t)(close - text - 1));
        host[close - text - 1] = '\0';
        port_text = close + 2;
    } else {
        const char *colon = strrchr(text, ':');
        if (!colon || (size_t)(colon - text) >= sizeof host) goto bad;
        memcpy(host, text, (size_t)(colon - text));
        host[colon - text] = '\0';
        port_text = colon + 1;
    }
    uint64_t port;
    if (parse_uint(port_text, 1, 65535, &port) < 0) goto bad;
    if (strcmp(host, "localhost") == 0) strcpy(host, "127.0.0.1");

    memset(&o->addr, 0, sizeof o->addr);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&o->addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&o->addr;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        if ((ntohl(v4->sin_addr.s_addr) >> 24) != 127)
            return fail(err, err_len, "--connect=%s: only loopback targets (127.0.0.0/8, [::1])", text);
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        o->addr_len = sizeof *v4;
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        if (!IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr))
            return fail(err, err_len, "--connect=%s: only loopback targets (127.0.0.0/8, [::1])", text);
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        o->addr_len = sizeof *v6;
    } else {
        goto bad;
    }
    o->connect_text = text;
    return 0;
bad:
    return fail(err, err_len, "--connect=%s: expected HOST:PORT, e.g. 127.0.0.1:6628 or [::1]:6628", text);
}

static int apply(load_options *o, const option_def *d, const char *v, char *err, size_t err_len)
{
    uint64_t n = 0;
    const char *name = d->name;
    if (strcmp(name, "connect") == 0) return parse_target(o, v, err, err_len);
    if (!d->value) {
        if (strcmp(name, "csv") == 0) o->csv = 1;
        else if (strcmp(name, "idle") == 0) o->idle = 1;
        else o->help = 1;
        return 0;
    }

    int seconds = strcmp(d->value, "SEC") == 0;
    if (seconds) {
        if (parse_seconds_ms(v, &n) < 0)
            return fail(err, err_len, "--%s=%s: expected seconds (0..86400, e.g. 10 or 0.5)", name, v);
        if (strcmp(name, "duration") == 0) {
            if (n == 0) return fail(err, err_len, "--duration=%s: must be more than 0", v);
            o->duration_ms = n;
        } else if (strcmp(name, "warmup") == 0) {
            o->warmup_ms = n;
        } else if (strcmp(name, "hold") == 0) {
            o->hold_ms = n;
        } else {
            if (n == 0) return fail(err, err_len, "--connect-timeout=%s: must be more than 0", v);
            o->connect_timeout_ms = n;
        }
        return 0;
    }

    static const struct {
        const char *name;
        uint64_t min, max;
    } ranges[] = {{"sessions", 1, 100000}, {"depth", 1, 1024}, {"payload", 0, LOAD_PAYLOAD_MAX},
                  {"server-pid", 1, 4194304}, {"connect-batch", 1, 65536}};
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        if (strcmp(name, ranges[i].name) != 0) continue;
        if (parse_uint(v, ranges[i].min, ranges[i].max, &n) < 0)
            return fail(err, err_len, "--%s=%s: expected a number in %llu..%llu", name, v,
                        (unsigned long long)ranges[i].min, (unsigned long long)ranges[i].max);
        if (i == 0) o->sessions = (uint32_t)n;
        else if (i == 1) o->depth = (uint32_t)n;
        else if (i == 2) o->payload = (uint32_t)n;
        else if (i == 3) o->server_pid = (long)n;
        else o->connect_batch = (uint32_t)n;
        return 0;
    }
    return fail(err, err_len, "internal error: unhandled option --%s", name);
}

int load_options_parse(load_options *o, int argc, char **argv, char *err, size_t err_len)
{
    memset(o, 0, sizeof *o);
    o->sessions = 100;
    o->depth = 16;
    o->payload = 64;
    o->duration_ms = 10000;
    o->warmup_ms = 1000;
    o->connect_timeout_ms = 30000;
    o->connect_batch = 256;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0)
            return fail(err, err_len, "unexpected argument '%s' (options are --NAME=VALUE)", arg);
        const char *eq = strchr(arg + 2, '=');
        size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        const option_def *d = NULL;
        for (size_t k = 0; k < sizeof option_defs / sizeof option_defs[0]; k++)
            if (strlen(option_defs[k].name) == len && strncmp(option_defs[k].name, arg + 2, len) == 0)
                d = &option_defs[k];
        if (!d) return fail(err, err_len, "unknown option '--%.*s'", (int)len, arg + 2);
        if (d->value && !eq)
            return fail(err, err_len, "option '--%s' needs a value: --%s=%s", d->name, d->name, d->value);
        if (!d->value && eq) return fail(err, err_len, "option '--%s' takes no value", d->name);
        if (apply(o, d, eq ? eq + 1 : "", err, err_len) < 0) return -1;
    }
    if (o->help) return 0;
    if (!o->connect_text) return fail(err, err_len, "--connect=HOST:PORT is required");
    if (!o->idle && o->hold_ms) return fail(err, err_len, "--hold only applies with --idle");
    return 0;
}

void load_options_print_help(FILE *out)
{
    fputs("Usage: fp-echo-load --connect=HOST:PORT [OPTION]...\n"
          "Closed-loop load for FastPort's echo plugin: every session keeps --depth frames\n"
          "in flight, checks each reply byte for byte (id, size, payload, order) and sends\n"
          "the next. One thread. Exit status 0 only when every reply matched.\n\n",
          out);
    for (size_t i = 0; i < sizeof option_defs / sizeof option_defs[0]; i++) {
        char left[48];
        const option_def *d = &option_defs[i];
        if (d->value) snprintf(left, sizeof left, "--%s=%s", d->name, d->value);
        else snprintf(left, sizeof left, "--%s", d->name);
        fprintf(out, "  %-24s %s\n", left, d->help);
    }
    fputs("\nCSV fields: sessions,depth,payload_bytes,window_s,replies,msgs_per_s,mb_per_s,\n"
          "errors,server_cpu_us_per_msg (empty without --server-pid),client_cpu_us_per_msg\n"
          "(this client's own user+system time). MB/s counts echoed\n"
          "frames, header included, in one direction (10^6 bytes).\n"
          "With --idle, \"connected N\" is printed on stdout once all N sessions are open.\n",
          out);
}
