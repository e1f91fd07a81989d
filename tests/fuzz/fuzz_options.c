/* Input: [u8 mode][text]. mode % 3:
 *   0  the text, split at NULs, is fastport-server's argv, parsed with its
 *      own option table (apps/fastport-server/options.c, on apps/common's
 *      parser): a refusal is one line naming the program; an acceptance
 *      holds only values the table allows (every listen address one the
 *      engine parses, a send queue that holds a frame, ...).
 *   1  the text is an address: fp_addr_parse, fp_addr_format and parse
 *      again give the same address; the host parsers agree with the C
 *      library's inet_pton, and what they format parses back.
 *   2  the text is a value for each of fp_cli's value parsers: what they
 *      accept is in range and, written back out, parses to the same. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "inet_text.h"
#include "options.h"

enum { MAX_ARGS = 64 };

static void fail(const char *what, const char *text)
{
    fprintf(stderr, "fuzz_options: %s: '%s'\n", what, text);
    abort();
}

/* ---- mode 0: fastport-server's command line ---- */

static void check_accepted(const server_options *o, const char *line)
{
    const fp_engine_config *e = &o->engine;
    if (e->max_packet < 4 || e->max_packet > 65535 || e->send_queue_limit < e->max_packet ||
        e->workers > FP_ENGINE_MAX_WORKERS || (unsigned)e->log_level > FP_LOG_TRACE)
        fail("accepted a value out of its range", line);
    if (o->plugins.n == 0 || e->n_plugins != o->plugins.n || o->listen.n == 0)
        fail("accepted without a plugin or a listen address", line);
    for (size_t i = 0; i < o->plugins.n; i++) {
        if (!*o->plugins.items[i] || strchr(o->plugins.items[i], ','))
            fail("accepted an empty or unsplit plugin name", line);
        for (size_t j = 0; j < i; j++)
            if (strcmp(o->plugins.items[i], o->plugins.items[j]) == 0) fail("accepted a plugin twice", line);
    }
    for (size_t i = 0; i < o->listen.n; i++) {
        fp_addr addr;
        if (fp_addr_parse(o->listen.items[i], &addr) != FP_OK)
            fail("accepted a listen address the engine refuses", line);
    }
    for (size_t i = 0; i < e->n_plugin_opts; i++)
        if (!strchr(e->plugin_opts[i].key, '.')) fail("accepted a plugin option without PLUGIN.", line);
}

static void server_command_line(char *text, size_t len)
{
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    argv[argc++] = "fastport-server";
    for (char *p = text; p < text + len && argc < MAX_ARGS; p += strlen(p) + 1) argv[argc++] = p;
    argv[argc] = NULL;

    server_options o;
    char err[512] = "";
    int rc = server_options_parse(&o, argc, argv, err, sizeof err);
    if (rc < 0) {
        /* a refusal quotes what it refuses, which may hold a newline */
        if (strncmp(err, "fastport-server: ", 17) != 0 || (strchr(err, '\n') && !memchr(text, '\n', len)))
            fail("a refusal that is not one line naming the program", err);
    } else if (rc != 0) {
        fail("server_options_parse returned neither 0 nor -1", text);
    } else if (!o.help && !o.version) {
        check_accepted(&o, text);
    }
    server_options_free(&o);
}

/* ---- mode 1: addresses ---- */

static void address_round_trip(const char *text)
{
    fp_addr a, b;
    if (fp_addr_parse(text, &a) == FP_OK) {
        char out[128];
        fp_addr_format(&a, out, sizeof out);
        if (fp_addr_parse(out, &b) != FP_OK || memcmp(&a, &b, sizeof a) != 0)
            fail("a parsed address does not survive format and parse", text);
    }

    uint8_t mine[16], libc[16];
    if (fp_ipv4_parse(text, mine) != (inet_pton(AF_INET, text, libc) == 1) ||
        (fp_ipv4_parse(text, mine) && memcmp(mine, libc, 4) != 0))
        fail("fp_ipv4_parse and inet_pton disagree", text);
    if (fp_ipv6_parse(text, mine) != (inet_pton(AF_INET6, text, libc) == 1) ||
        (fp_ipv6_parse(text, mine) && memcmp(mine, libc, 16) != 0))
        fail("fp_ipv6_parse and inet_pton disagree", text);

    /* the text's first bytes as an address: formatted, it parses back */
    uint8_t raw[16] = {0};
    memcpy(raw, text, strnlen(text, sizeof raw));
    char v6[FP_IPV6_TEXT_MAX], v4[FP_IPV4_TEXT_MAX];
    fp_ipv6_format(raw, v6);
    if (!fp_ipv6_parse(v6, mine) || memcmp(mine, raw, 16) != 0)
        fail("a formatted IPv6 address does not parse back", v6);
    fp_ipv4_format(raw, v4);
    if (!fp_ipv4_parse(v4, mine) || memcmp(mine, raw, 4) != 0)
        fail("a formatted IPv4 address does not parse back", v4);
}

/* ---- mode 2: fp_cli's value parsers ---- */

static void values_round_trip(const char *text)
{
    static const uint64_t bounds[][2] = {{0, UINT64_MAX}, {4, 65535}, {1, 1000}};
    char out[96];
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
        uint64_t min = bounds[i][0], max = bounds[i][1], v, w, lo, hi;
        for (int hex = 0; hex <= 1; hex++) {
            if (fp_cli_parse_unsigned(text, hex, min, max, &v) == FP_CLI_OK) {
                snprintf(out, sizeof out, hex ? "0x%llx" : "%llu", (unsigned long long)v);
                if (v < min || v > max || fp_cli_parse_unsigned(out, hex, min, max, &w) != FP_CLI_OK ||
                    w != v)
                    fail("an unsigned value does not survive printing", text);
            }
        }
        if (fp_cli_parse_seconds(text, min, max, &v) == FP_CLI_OK) {
            snprintf(out, sizeof out, "%llu.%03llu", (unsigned long long)(v / 1000),
                     (unsigned long long)(v % 1000));
            if (v < min || v > max || fp_cli_parse_seconds(out, min, max, &w) != FP_CLI_OK || w != v)
                fail("a seconds value does not survive printing", text);
        }
        if (fp_cli_parse_range(text, min, max, &lo, &hi) == FP_CLI_OK) {
            snprintf(out, sizeof out, "%llu-%llu", (unsigned long long)lo, (unsigned long long)hi);
            if (lo < min || hi > max || lo > hi || fp_cli_parse_range(out, min, max, &v, &w) != FP_CLI_OK ||
                v != lo || w != hi)
                fail("a range does not survive printing", text);
        }
        char host[64], host2[64];
        uint16_t port, port2;
        if (fp_cli_parse_host_port(text, host, sizeof host, min, max, &port) == FP_CLI_OK) {
            /* brackets when the host holds a ':' or starts with '[' itself */
            int bracket = strchr(host, ':') || host[0] == '[';
            snprintf(out, sizeof out, bracket ? "[%s]:%u" : "%s:%u", host, (unsigned)port);
            if (port < min || port > max || !*host ||
                fp_cli_parse_host_port(out, host2, sizeof host2, min, max, &port2) != FP_CLI_OK ||
                strcmp(host, host2) != 0 || port != port2)
                fail("a HOST:PORT does not survive printing", text);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096) return 0;
    size_t len = size - 1;
    char *text = malloc(len + 1);
    if (!text) abort();
    memcpy(text, data + 1, len);
    text[len] = '\0';
    switch (data[0] % 3) {
    case 0: server_command_line(text, len); break;
    case 1: address_round_trip(text); break;
    default: values_round_trip(text); break;
    }
    free(text);
    return 0;
}
