/*
 * cli_values.c - the value syntaxes of the command line: whole numbers,
 * seconds with up to ms decimals, MIN-MAX ranges and HOST:PORT. Strict: no
 * sign, space, suffix or base prefix unless asked for, and a number too
 * large for 64 bits is out of range rather than wrapped.
 */
#include <string.h>

#include "cli.h"

static int digit_value(char c, int hex)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (!hex) return -1;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The digits of text[0..len) in `base`; FP_CLI_OUT_OF_RANGE past 64 bits. */
static int parse_digits(const char *text, size_t len, unsigned base, uint64_t *out)
{
    if (len == 0) return FP_CLI_MALFORMED;
    uint64_t v = 0;
    int too_large = 0;
    for (size_t i = 0; i < len; i++) {
        int d = digit_value(text[i], base == 16);
        if (d < 0) return FP_CLI_MALFORMED;
        if (v > (UINT64_MAX - (unsigned)d) / base)
            too_large = 1;
        else
            v = v * base + (unsigned)d;
    }
    if (too_large) return FP_CLI_OUT_OF_RANGE;
    *out = v;
    return FP_CLI_OK;
}

static int within(uint64_t v, uint64_t min, uint64_t max, uint64_t *out)
{
    if (v < min || v > max) return FP_CLI_OUT_OF_RANGE;
    *out = v;
    return FP_CLI_OK;
}

int fp_cli_parse_unsigned(const char *text, int hex, uint64_t min, uint64_t max, uint64_t *out)
{
    unsigned base = 10;
    if (hex && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        text += 2;
    }
    uint64_t v;
    int rc = parse_digits(text, strlen(text), base, &v);
    return rc == FP_CLI_OK ? within(v, min, max, out) : rc;
}

int fp_cli_parse_seconds(const char *text, uint64_t min_ms, uint64_t max_ms, uint64_t *out_ms)
{
    const char *dot = strchr(text, '.');
    size_t whole_len = dot ? (size_t)(dot - text) : strlen(text);
    uint64_t secs, frac = 0;
    int rc = parse_digits(text, whole_len, 10, &secs);
    if (dot) {
        size_t n = strlen(dot + 1);
        /* The whole part's verdict waits: "1x.5" is malformed, not too large. */
        if (n == 0 || n > 3 || parse_digits(dot + 1, n, 10, &frac) != FP_CLI_OK) return FP_CLI_MALFORMED;
        for (size_t i = n; i < 3; i++) frac *= 10;
    }
    if (rc != FP_CLI_OK) return rc;
    if (secs > (UINT64_MAX - frac) / 1000u) return FP_CLI_OUT_OF_RANGE;
    return within(secs * 1000u + frac, min_ms, max_ms, out_ms);
}

int fp_cli_parse_range(const char *text, uint64_t min, uint64_t max, uint64_t *lo, uint64_t *hi)
{
    const char *dash = strchr(text, '-');
    size_t low_len = dash ? (size_t)(dash - text) : strlen(text);
    uint64_t a = 0, b = 0;
    int rc_a = parse_digits(text, low_len, 10, &a);
    int rc_b = dash ? parse_digits(dash + 1, strlen(dash + 1), 10, &b) : rc_a;
    if (rc_a == FP_CLI_MALFORMED || rc_b == FP_CLI_MALFORMED) return FP_CLI_MALFORMED;
    if (rc_a != FP_CLI_OK || rc_b != FP_CLI_OK) return FP_CLI_OUT_OF_RANGE;
    if (!dash) b = a;
    if (a > b) return FP_CLI_MALFORMED;
    if (a < min || b > max) return FP_CLI_OUT_OF_RANGE;
    *lo = a;
    *hi = b;
    return FP_CLI_OK;
}

int fp_cli_parse_host_port(const char *text, char *host, size_t host_len, uint64_t min, uint64_t max,
                           uint16_t *port)
{
    const char *host_start = text, *host_end, *colon;
    if (text[0] == '[') {
        host_start = text + 1;
        host_end = strchr(host_start, ']');
        if (!host_end || host_end[1] != ':') return FP_CLI_MALFORMED;
        colon = host_end + 1;
    } else {
        colon = strrchr(text, ':');
        /* A bare IPv6 address is ambiguous: it needs its brackets. */
        if (!colon || memchr(text, ':', (size_t)(colon - text))) return FP_CLI_MALFORMED;
        host_end = colon;
    }
    size_t n = (size_t)(host_end - host_start);
    if (n == 0 || n >= host_len) return FP_CLI_MALFORMED;
    uint64_t v;
    int rc = parse_digits(colon + 1, strlen(colon + 1), 10, &v);
    if (rc == FP_CLI_OK) rc = within(v, min, max > 65535 ? 65535 : max, &v);
    if (rc != FP_CLI_OK) return rc;
    memcpy(host, host_start, n);
    host[n] = '\0';
    *port = (uint16_t)v;
    return FP_CLI_OK;
}
