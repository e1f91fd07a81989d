/*
 * cli_messages.c - every refusal of the command line, worded once: one line,
 * "PROGRAM: what was wrong, with which option and value, and what is
 * accepted; try --help". The parser and the programs' own checks across
 * options both write through here, so all four programs say it alike.
 */
#include <stdarg.h>
#include <string.h>

#include "cli_internal.h"

static int fail_v(fp_cli *cli, const char *fmt, va_list ap) FP_CLI_PRINTF(2, 0);

static int fail_v(fp_cli *cli, const char *fmt, va_list ap)
{
    if (cli->err_len == 0) return -1;
    int n = snprintf(cli->err, cli->err_len, "%s: ", cli->program);
    size_t used = n < 0 ? 0 : (size_t)n;
    if (used < cli->err_len) {
        vsnprintf(cli->err + used, cli->err_len - used, fmt, ap);
        used = strlen(cli->err);
    }
    if (used < cli->err_len) snprintf(cli->err + used, cli->err_len - used, "; try --help");
    return -1;
}

int cli_fail(fp_cli *cli, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_v(cli, fmt, ap);
    va_end(ap);
    return -1;
}

/* A bound for messages and help: ms as seconds ("0.5", "86400"). */
static void format_bound(const fp_cli_option *o, uint64_t v, char *out, size_t out_len)
{
    if (o->type != FP_CLI_SECONDS) {
        snprintf(out, out_len, "%llu", (unsigned long long)v);
        return;
    }
    unsigned ms = (unsigned)(v % 1000u);
    int n = snprintf(out, out_len, "%llu.%03u", (unsigned long long)(v / 1000u), ms);
    /* Drop the trailing zeros of the decimals, and the dot if none remain. */
    while (n > 0 && (size_t)n < out_len && (out[n - 1] == '0' || out[n - 1] == '.')) {
        char last = out[--n];
        out[n] = '\0';
        if (last == '.') break;
    }
}

void cli_format_bounds(const fp_cli_option *o, char *out, size_t out_len)
{
    char lo[32], hi[32];
    format_bound(o, o->min, lo, sizeof lo);
    format_bound(o, o->max, hi, sizeof hi);
    snprintf(out, out_len, "%s..%s", lo, hi);
}

int cli_bounds_are_the_field(const fp_cli_option *o)
{
    uint64_t field_max = o->size >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * o->size)) - 1;
    return o->min == 0 && o->max == field_max;
}

static void describe_choices(const fp_cli_option *o, char *out, size_t out_len)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; o->choices[i] && used < out_len; i++) {
        int n = snprintf(out + used, out_len - used, "%s%s", i ? ", " : "", o->choices[i]);
        if (n < 0) break;
        used += (size_t)n;
    }
}

/* What a well-formed value of `o` looks like, for a malformed one. */
static void describe(const fp_cli_option *o, char *out, size_t out_len)
{
    char bounds[64], choices[256];
    cli_format_bounds(o, bounds, sizeof bounds);
    switch (o->type) {
    case FP_CLI_UNSIGNED:
        snprintf(out, out_len, "a whole number%s in %s", o->flags & FP_CLI_HEX ? " (decimal or 0x hex)" : "",
                 bounds);
        return;
    case FP_CLI_SECONDS:
        snprintf(out, out_len, "seconds in %s, up to 3 decimals (e.g. 30 or 0.5)", bounds);
        return;
    case FP_CLI_RANGE:
        snprintf(out, out_len, "N or MIN-MAX, whole numbers in %s with MIN <= MAX (e.g. 64 or 64-1024)",
                 bounds);
        return;
    case FP_CLI_CHOICE:
        describe_choices(o, choices, sizeof choices);
        snprintf(out, out_len, "one of %s", choices);
        return;
    case FP_CLI_ADDRESS: snprintf(out, out_len, "HOST:PORT or [IPV6]:PORT with a port in %s", bounds); return;
    case FP_CLI_FLAG:
    case FP_CLI_STRING: break;
    }
    if (o->flags & FP_CLI_PAIRS)
        snprintf(out, out_len, "%s", o->value);
    else
        snprintf(out, out_len, "a non-empty %s", o->value ? o->value : "value");
}

int cli_refuse(fp_cli *cli, const fp_cli_option *o, const char *value, int why)
{
    char text[320];
    if (why == FP_CLI_OUT_OF_RANGE) {
        cli_format_bounds(o, text, sizeof text);
        return cli_fail(cli, "--%s=%s: %sout of range (%s)", o->name, value,
                        o->type == FP_CLI_ADDRESS ? "port " : "", text);
    }
    describe(o, text, sizeof text);
    return cli_fail(cli, "--%s=%s: expected %s", o->name, value, text);
}

int fp_cli_bad_value(fp_cli *cli, size_t index, const char *value, const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return cli_fail(cli, "--%s=%s: %s", cli->options[index].name, value, why);
}

int fp_cli_conflict(fp_cli *cli, size_t a, size_t b, const char *why)
{
    return cli_fail(cli, "--%s and --%s exclude each other: %s", cli->options[a].name, cli->options[b].name,
                    why);
}

int fp_cli_needs(fp_cli *cli, size_t a, size_t b, const char *why)
{
    return cli_fail(cli, "--%s needs --%s (%s)", cli->options[a].name, cli->options[b].name, why);
}

int fp_cli_one_required(fp_cli *cli, size_t a, size_t b)
{
    const fp_cli_option *x = &cli->options[a], *y = &cli->options[b];
    return cli_fail(cli, "--%s=%s or --%s=%s is required", x->name, x->value, y->name, y->value);
}
