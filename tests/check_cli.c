/* The programs' command-line parser (apps/common/cli.h) on a table with
 * every type it knows: what it accepts, the defaults it applies, each
 * refusal word for word, and the help it writes from the table. */
#include <check.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct demo {
    int verbose;
    const char *name;
    uint32_t workers;
    uint64_t seed;
    uint32_t timeout_ms;
    uint32_t size_min, size_max;
    unsigned level;
    const char *connect;
    fp_cli_list listen;
    fp_cli_list plugins;
    fp_cli_list compare;
    fp_cli_list opts;
    const char *plot;
    uint8_t small;
    bool help;
} demo;

enum {
    OPT_VERBOSE,
    OPT_NAME,
    OPT_WORKERS,
    OPT_SEED,
    OPT_TIMEOUT,
    OPT_SIZE,
    OPT_LEVEL,
    OPT_CONNECT,
    OPT_LISTEN,
    OPT_PLUGIN,
    OPT_COMPARE,
    OPT_OPT,
    OPT_PLOT,
    OPT_SMALL,
    OPT_HELP,
    OPT_COUNT
};

static const char *const levels[] = {"error", "warn", "info", "debug", "trace", NULL};

static const char *svg_file(const char *value, void *target)
{
    (void)target;
    size_t len = strlen(value);
    return len > 4 && strcmp(value + len - 4, ".svg") == 0 ? NULL : "a file name ending in .svg";
}

static const char *run_time_default(void) { return "known at run time"; }

static const fp_cli_option demo_options[OPT_COUNT] = {
    [OPT_VERBOSE] = {.name = "verbose", .type = FP_CLI_FLAG, .help = "say more", FP_CLI_FIELD(demo, verbose)},
    [OPT_NAME] = {.name = "name", .type = FP_CLI_STRING, .value = "NAME", .help = "a name",
                  .def_note = "first usable of", .def_fn = run_time_default, FP_CLI_FIELD(demo, name)},
    [OPT_WORKERS] = {.name = "workers", .type = FP_CLI_UNSIGNED, .value = "N", .help = "worker threads",
                     .min = 1, .max = 256, .def = "4", .def_note = "a few", FP_CLI_FIELD(demo, workers)},
    [OPT_SEED] = {.name = "seed", .type = FP_CLI_UNSIGNED, .value = "N", .help = "seed", .flags = FP_CLI_HEX,
                  .max = UINT64_MAX, .def = "0x10", FP_CLI_FIELD(demo, seed)},
    [OPT_TIMEOUT] = {.name = "timeout", .type = FP_CLI_SECONDS, .value = "SEC", .help = "longest wait",
                     .min = 1, .max = 86400000, .def = "2.5", FP_CLI_FIELD(demo, timeout_ms)},
    [OPT_SIZE] = {.name = "size", .type = FP_CLI_RANGE, .value = "BYTES|MIN-MAX", .help = "payload sizes",
                  .max = 1000, .def = "64", FP_CLI_FIELD(demo, size_min), FP_CLI_FIELD2(demo, size_max)},
    [OPT_LEVEL] = {.name = "level", .type = FP_CLI_CHOICE, .value = "LEVEL", .help = "log level",
                   .choices = levels, .def = "info", FP_CLI_FIELD(demo, level)},
    [OPT_CONNECT] = {.name = "connect", .type = FP_CLI_ADDRESS, .value = "HOST:PORT", .help = "server",
                     .flags = FP_CLI_REQUIRED, .min = 1, .max = 65535, FP_CLI_FIELD(demo, connect)},
    [OPT_LISTEN] = {.name = "listen", .type = FP_CLI_ADDRESS, .value = "HOST:PORT", .help = "listen address",
                    .flags = FP_CLI_LIST | FP_CLI_REPEATABLE, .max = 65535, .def = "0.0.0.0:6628",
                    FP_CLI_FIELD(demo, listen)},
    [OPT_PLUGIN] = {.name = "plugin", .type = FP_CLI_STRING, .value = "NAME[,NAME]", .help = "plugins",
                    .flags = FP_CLI_LIST | FP_CLI_COMMAS | FP_CLI_UNIQUE | FP_CLI_REPEATABLE,
                    FP_CLI_FIELD(demo, plugins)},
    [OPT_COMPARE] = {.name = "compare", .type = FP_CLI_STRING, .value = "T1,T2,...", .help = "compare",
                     .flags = FP_CLI_LIST | FP_CLI_COMMAS, FP_CLI_FIELD(demo, compare)},
    [OPT_OPT] = {.name = "opt", .type = FP_CLI_STRING, .value = "KEY=VALUE", .help = "an option",
                 .flags = FP_CLI_LIST | FP_CLI_PAIRS | FP_CLI_REPEATABLE, FP_CLI_FIELD(demo, opts)},
    [OPT_PLOT] = {.name = "plot", .type = FP_CLI_STRING, .value = "FILE.svg", .help = "plot",
                  .check = svg_file, FP_CLI_FIELD(demo, plot)},
    [OPT_SMALL] = {.name = "small", .type = FP_CLI_UNSIGNED, .value = "N", .help = "a byte", .max = 300,
                   FP_CLI_FIELD(demo, small)},
    [OPT_HELP] = {.name = "help", .type = FP_CLI_FLAG, .help = "print this help", .flags = FP_CLI_ACTION,
                  FP_CLI_FIELD(demo, help)},
};

/* One parse: the result, the message, and what the fields hold. */
typedef struct outcome {
    int rc;
    char err[512];
    demo d;
    fp_cli cli;
} outcome;

static outcome last;

static void teardown(void) { fp_cli_free(demo_options, OPT_COUNT, &last.d); }

/* Parses the NULL-terminated arguments (after a program name). */
static int parse_args(const char *first, ...)
{
    char *argv[32] = {"demo"};
    int argc = 1;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *)) {
        ck_assert_int_lt(argc, 32);
        argv[argc++] = (char *)a;
    }
    va_end(ap);
    teardown();
    memset(&last, 0, sizeof last);
    fp_cli_init(&last.cli, "demo", demo_options, OPT_COUNT, &last.d, last.err, sizeof last.err);
    last.rc = fp_cli_parse(&last.cli, argc, argv);
    return last.rc;
}

#define PARSE(...) parse_args(__VA_ARGS__, (const char *)NULL)
#define CONNECT "--connect=127.0.0.1:6628"

static void accepted(int rc) { ck_assert_msg(rc == 0, "refused: %s", last.err); }

#define ACCEPT(...) accepted(PARSE(__VA_ARGS__))

static void refused_with(const char *message)
{
    ck_assert_str_eq(last.err, message);
    ck_assert_int_eq(last.rc, -1);
}

/* --- accepted values and defaults --- */

START_TEST(defaults_apply_when_an_option_is_not_given)
{
    ACCEPT(CONNECT);
    ck_assert_str_eq(last.err, "");
    ck_assert_int_eq(last.d.verbose, 0);
    ck_assert_ptr_null(last.d.name);
    ck_assert_uint_eq(last.d.workers, 4);
    ck_assert_uint_eq(last.d.seed, 16);
    ck_assert_uint_eq(last.d.timeout_ms, 2500);
    ck_assert_uint_eq(last.d.size_min, 64);
    ck_assert_uint_eq(last.d.size_max, 64);
    ck_assert_uint_eq(last.d.level, 2);
    ck_assert_uint_eq(last.d.listen.n, 1);
    ck_assert_str_eq(last.d.listen.items[0], "0.0.0.0:6628");
    ck_assert_uint_eq(last.d.plugins.n, 0);
    ck_assert_uint_eq(fp_cli_given(&last.cli, OPT_WORKERS), 0);
    ck_assert_uint_eq(fp_cli_given(&last.cli, OPT_CONNECT), 1);
}
END_TEST

START_TEST(given_values_replace_the_defaults)
{
    ACCEPT(CONNECT, "--verbose", "--name=x", "--workers=256", "--seed=0x4650535045524655", "--timeout=0.001",
           "--size=64-512", "--level=trace", "--listen=[::1]:0", "--plot=a.svg", "--small=255");
    ck_assert_int_eq(last.d.verbose, 1);
    ck_assert_str_eq(last.d.name, "x");
    ck_assert_uint_eq(last.d.workers, 256);
    ck_assert_uint_eq(last.d.seed, UINT64_C(0x4650535045524655));
    ck_assert_uint_eq(last.d.timeout_ms, 1);
    ck_assert_uint_eq(last.d.size_min, 64);
    ck_assert_uint_eq(last.d.size_max, 512);
    ck_assert_uint_eq(last.d.level, 4);
    ck_assert_str_eq(last.d.connect, "127.0.0.1:6628");
    ck_assert_uint_eq(last.d.listen.n, 1);
    ck_assert_str_eq(last.d.listen.items[0], "[::1]:0");
    ck_assert_str_eq(last.d.plot, "a.svg");
    ck_assert_uint_eq(last.d.small, 255);
}
END_TEST

/* What one argument stores in one field of `demo`. */
typedef struct stored {
    const char *arg;
    size_t offset, size;
    uint64_t want;
} stored;

#define AT(member) offsetof(demo, member), sizeof(((demo *)0)->member)

static uint64_t field_value(const demo *d, size_t offset, size_t size)
{
    const char *field = (const char *)d + offset;
    uint8_t u8;
    uint32_t u32;
    uint64_t u64;
    switch (size) {
    case 1: memcpy(&u8, field, 1); return u8;
    case 4: memcpy(&u32, field, 4); return u32;
    default: memcpy(&u64, field, 8); return u64;
    }
}

START_TEST(values_are_stored_at_the_bounds_too)
{
    static const stored cases[] = {
        {"--workers=1", AT(workers), 1},
        {"--workers=0256", AT(workers), 256},
        {"--seed=18446744073709551615", AT(seed), UINT64_MAX},
        {"--seed=0XfFfFfFfFfFfFfFfF", AT(seed), UINT64_MAX},
        {"--seed=0x0", AT(seed), 0},
        {"--timeout=2", AT(timeout_ms), 2000},
        {"--timeout=1.5", AT(timeout_ms), 1500},
        {"--timeout=0.25", AT(timeout_ms), 250},
        {"--timeout=86400.000", AT(timeout_ms), 86400000},
        {"--size=1000", AT(size_min), 1000},
        {"--size=1000", AT(size_max), 1000},
        {"--size=0-0", AT(size_max), 0},
        {"--size=7-1000", AT(size_min), 7},
        {"--level=error", AT(level), 0},
        {"--small=0", AT(small), 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ACCEPT(CONNECT, cases[i].arg);
        uint64_t got = field_value(&last.d, cases[i].offset, cases[i].size);
        ck_assert_msg(got == cases[i].want, "%s stored %llu, not %llu", cases[i].arg, (unsigned long long)got,
                      (unsigned long long)cases[i].want);
    }
}
END_TEST

START_TEST(repeatable_options_collect_every_value_in_order)
{
    ACCEPT(CONNECT, "--listen=127.0.0.1:1", "--listen=[::1]:2", "--plugin=a,b", "--plugin=c");
    ck_assert_uint_eq(fp_cli_given(&last.cli, OPT_LISTEN), 2);
    ck_assert_uint_eq(last.d.listen.n, 2);
    ck_assert_str_eq(last.d.listen.items[0], "127.0.0.1:1");
    ck_assert_str_eq(last.d.listen.items[1], "[::1]:2");
    ck_assert_uint_eq(last.d.plugins.n, 3);
    ck_assert_str_eq(last.d.plugins.items[0], "a");
    ck_assert_str_eq(last.d.plugins.items[1], "b");
    ck_assert_str_eq(last.d.plugins.items[2], "c");
}
END_TEST

START_TEST(a_list_not_unique_keeps_repeated_items)
{
    ACCEPT(CONNECT, "--compare=x,y,x");
    ck_assert_uint_eq(last.d.compare.n, 3);
    ck_assert_str_eq(last.d.compare.items[2], "x");
}
END_TEST

START_TEST(key_value_pairs_are_split_at_the_first_equals)
{
    ACCEPT(CONNECT, "--opt=a=1", "--opt=b=", "--opt=c=x=y");
    ck_assert_uint_eq(last.d.opts.n, 6);
    ck_assert_str_eq(last.d.opts.items[0], "a");
    ck_assert_str_eq(last.d.opts.items[1], "1");
    ck_assert_str_eq(last.d.opts.items[2], "b");
    ck_assert_str_eq(last.d.opts.items[3], "");
    ck_assert_str_eq(last.d.opts.items[4], "c");
    ck_assert_str_eq(last.d.opts.items[5], "x=y");
}
END_TEST

START_TEST(an_action_waives_the_required_options)
{
    ACCEPT("--help");
    ck_assert(last.d.help);
    ck_assert(fp_cli_action_given(&last.cli));
}
END_TEST

/* --- refusals, word for word --- */

START_TEST(unknown_option)
{
    PARSE(CONNECT, "--bogus=1");
    refused_with("demo: unknown option '--bogus'; try --help");
    PARSE("--frobnicate");
    refused_with("demo: unknown option '--frobnicate'; try --help");
}
END_TEST

START_TEST(argument_that_is_not_an_option)
{
    PARSE(CONNECT, "stray");
    refused_with("demo: unexpected argument 'stray': options are --NAME=VALUE; try --help");
    PARSE("-v");
    refused_with("demo: unexpected argument '-v': options are --NAME=VALUE; try --help");
    PARSE("--");
    refused_with("demo: unexpected argument '--': options are --NAME=VALUE; try --help");
    PARSE("--=1");
    refused_with("demo: unexpected argument '--=1': options are --NAME=VALUE; try --help");
}
END_TEST

START_TEST(missing_value)
{
    PARSE(CONNECT, "--workers");
    refused_with("demo: option '--workers' needs a value: --workers=N; try --help");
}
END_TEST

START_TEST(flag_given_a_value)
{
    PARSE(CONNECT, "--verbose=1");
    refused_with("demo: option '--verbose' takes no value; try --help");
    PARSE("--help=");
    refused_with("demo: option '--help' takes no value; try --help");
}
END_TEST

START_TEST(empty_values)
{
    PARSE(CONNECT, "--name=");
    refused_with("demo: --name=: expected a non-empty NAME; try --help");
    PARSE(CONNECT, "--workers=");
    refused_with("demo: --workers=: expected a whole number in 1..256; try --help");
}
END_TEST

START_TEST(out_of_range_at_both_ends)
{
    PARSE(CONNECT, "--workers=0");
    refused_with("demo: --workers=0: out of range (1..256); try --help");
    PARSE(CONNECT, "--workers=257");
    refused_with("demo: --workers=257: out of range (1..256); try --help");
    PARSE(CONNECT, "--timeout=0");
    refused_with("demo: --timeout=0: out of range (0.001..86400); try --help");
    PARSE(CONNECT, "--timeout=86400.001");
    refused_with("demo: --timeout=86400.001: out of range (0.001..86400); try --help");
    PARSE(CONNECT, "--size=1001");
    refused_with("demo: --size=1001: out of range (0..1000); try --help");
    PARSE(CONNECT, "--size=10-1001");
    refused_with("demo: --size=10-1001: out of range (0..1000); try --help");
    PARSE("--connect=127.0.0.1:0");
    refused_with("demo: --connect=127.0.0.1:0: port out of range (1..65535); try --help");
    PARSE("--connect=127.0.0.1:65536");
    refused_with("demo: --connect=127.0.0.1:65536: port out of range (1..65535); try --help");
}
END_TEST

START_TEST(overflow_is_out_of_range_not_wrapped)
{
    PARSE(CONNECT, "--workers=18446744073709551616");
    refused_with("demo: --workers=18446744073709551616: out of range (1..256); try --help");
    PARSE(CONNECT, "--workers=4294967297");
    refused_with("demo: --workers=4294967297: out of range (1..256); try --help");
    PARSE(CONNECT, "--seed=18446744073709551616");
    refused_with("demo: --seed=18446744073709551616: out of range (0..18446744073709551615); try --help");
    PARSE(CONNECT, "--seed=0x10000000000000000");
    refused_with("demo: --seed=0x10000000000000000: out of range (0..18446744073709551615); try --help");
    PARSE(CONNECT, "--timeout=99999999999999999999");
    refused_with("demo: --timeout=99999999999999999999: out of range (0.001..86400); try --help");
    PARSE(CONNECT, "--timeout=18446744073709551.615");
    refused_with("demo: --timeout=18446744073709551.615: out of range (0.001..86400); try --help");
}
END_TEST

/* Each of `bad` as --OPTION=BAD (after a valid --connect, unless OPTION is
 * connect) is refused with "--OPTION=BAD: expected EXPECTED". */
static void each_refused(const char *option, const char *const *bad, size_t n, const char *expected)
{
    for (size_t i = 0; i < n; i++) {
        char arg[64], want[256];
        snprintf(arg, sizeof arg, "--%s=%s", option, bad[i]);
        snprintf(want, sizeof want, "demo: %s: expected %s; try --help", arg, expected);
        if (strcmp(option, "connect") == 0)
            PARSE(arg);
        else
            PARSE(CONNECT, arg);
        refused_with(want);
    }
}

#define EACH_REFUSED(option, expected, ...)                                                                  \
    do {                                                                                                     \
        static const char *const bad[] = {__VA_ARGS__};                                                      \
        each_refused(option, bad, sizeof bad / sizeof bad[0], expected);                                     \
    } while (0)

START_TEST(malformed_numbers)
{
    EACH_REFUSED("workers", "a whole number in 1..256", "-1", "+1", " 1", "1 ", "1x", "0x10", "1e3", "1.0",
                 "abc", "\xd9\xa1", "");
    EACH_REFUSED("seed", "a whole number (decimal or 0x hex) in 0..18446744073709551615", "0x", "-0x1", "0xg",
                 "0x 1", "x10");
}
END_TEST

START_TEST(malformed_seconds)
{
    EACH_REFUSED("timeout", "seconds in 0.001..86400, up to 3 decimals (e.g. 30 or 0.5)", "1.2345", ".5",
                 "1.", "-1", "1s", "1.5.5", " 1", "1,5", "soon", "1x.5");
}
END_TEST

START_TEST(malformed_ranges)
{
    EACH_REFUSED("size", "N or MIN-MAX, whole numbers in 0..1000 with MIN <= MAX (e.g. 64 or 64-1024)",
                 "1024-64", "64-", "-64", "a-b", "1-2-3", "64 - 128", "+1-2", "");
}
END_TEST

START_TEST(malformed_addresses)
{
    EACH_REFUSED("connect", "HOST:PORT or [IPV6]:PORT with a port in 1..65535", "nohost", ":80", "[::1]",
                 "[::1]80", "::1:80", "host:", "host:x", "[]:1");
}
END_TEST

START_TEST(choice_not_in_the_list)
{
    PARSE(CONNECT, "--level=loud");
    refused_with("demo: --level=loud: expected one of error, warn, info, debug, trace; try --help");
    PARSE(CONNECT, "--level=INFO");
    ck_assert_int_eq(last.rc, -1);
}
END_TEST

START_TEST(check_function_refusal)
{
    PARSE(CONNECT, "--plot=out.png");
    refused_with("demo: --plot=out.png: expected a file name ending in .svg; try --help");
}
END_TEST

START_TEST(given_twice_where_not_repeatable)
{
    PARSE(CONNECT, "--workers=1", "--workers=2");
    refused_with("demo: option '--workers' given more than once; try --help");
    PARSE(CONNECT, "--verbose", "--verbose");
    refused_with("demo: option '--verbose' given more than once; try --help");
    PARSE(CONNECT, "--compare=a", "--compare=b");
    refused_with("demo: option '--compare' given more than once; try --help");
    PARSE(CONNECT, CONNECT);
    refused_with("demo: option '--connect' given more than once; try --help");
}
END_TEST

START_TEST(item_named_twice_in_a_unique_list)
{
    PARSE(CONNECT, "--plugin=a,a");
    refused_with("demo: --plugin=a,a: 'a' named twice; try --help");
    PARSE(CONNECT, "--plugin=a", "--plugin=b,a");
    refused_with("demo: --plugin=b,a: 'a' named twice; try --help");
}
END_TEST

START_TEST(empty_item_in_a_list)
{
    PARSE(CONNECT, "--plugin=a,");
    refused_with("demo: --plugin=a,: an empty item in the comma-separated list; try --help");
    PARSE(CONNECT, "--compare=a,,b");
    refused_with("demo: --compare=a,,b: an empty item in the comma-separated list; try --help");
    PARSE(CONNECT, "--plugin=");
    ck_assert_int_eq(last.rc, -1);
}
END_TEST

START_TEST(pair_without_a_key)
{
    PARSE(CONNECT, "--opt=batch");
    refused_with("demo: --opt=batch: expected KEY=VALUE; try --help");
    PARSE(CONNECT, "--opt==1");
    refused_with("demo: --opt==1: expected KEY=VALUE; try --help");
}
END_TEST

START_TEST(required_option_missing)
{
    PARSE("--workers=2");
    refused_with("demo: --connect=HOST:PORT is required; try --help");
}
END_TEST

START_TEST(value_too_large_for_its_field_is_an_internal_error)
{
    PARSE(CONNECT, "--small=256");
    refused_with("demo: internal error: --small's field of 1 bytes cannot hold 256; try --help");
}
END_TEST

START_TEST(a_short_error_buffer_is_cut_not_overrun)
{
    demo d;
    memset(&d, 0, sizeof d);
    char err[12];
    char *argv[] = {"demo", "--bogus-option-with-a-long-name"};
    fp_cli cli;
    fp_cli_init(&cli, "demo", demo_options, OPT_COUNT, &d, err, sizeof err);
    ck_assert_int_eq(fp_cli_parse(&cli, 2, argv), -1);
    ck_assert_str_eq(err, "demo: unkno");
    fp_cli_free(demo_options, OPT_COUNT, &d);
}
END_TEST

START_TEST(a_table_too_large_is_an_internal_error)
{
    fp_cli_option many[FP_CLI_MAX_OPTIONS + 1];
    for (size_t i = 0; i < FP_CLI_MAX_OPTIONS + 1; i++) many[i] = demo_options[OPT_VERBOSE];
    demo d;
    memset(&d, 0, sizeof d);
    char err[128];
    char *argv[] = {"demo", "--verbose"};
    fp_cli cli;
    fp_cli_init(&cli, "demo", many, FP_CLI_MAX_OPTIONS + 1, &d, err, sizeof err);
    ck_assert_int_eq(fp_cli_parse(&cli, 2, argv), -1);
    ck_assert_str_eq(err, "demo: internal error: 49 options, more than the 48 a table may have; try --help");
    ck_assert_uint_eq(fp_cli_given(&cli, FP_CLI_MAX_OPTIONS), 0);
    ck_assert_int_eq(fp_cli_action_given(&cli), 0);
}
END_TEST

/* --- the programs' own checks, worded alike --- */

START_TEST(wording_of_the_cross_option_helpers)
{
    ACCEPT(CONNECT);
    ck_assert_int_eq(fp_cli_conflict(&last.cli, OPT_CONNECT, OPT_COMPARE, "pick one"), -1);
    ck_assert_str_eq(last.err, "demo: --connect and --compare exclude each other: pick one; try --help");
    ck_assert_int_eq(fp_cli_needs(&last.cli, OPT_PLOT, OPT_COMPARE, "it draws the comparison"), -1);
    ck_assert_str_eq(last.err, "demo: --plot needs --compare (it draws the comparison); try --help");
    ck_assert_int_eq(fp_cli_one_required(&last.cli, OPT_CONNECT, OPT_COMPARE), -1);
    ck_assert_str_eq(last.err, "demo: --connect=HOST:PORT or --compare=T1,T2,... is required; try --help");
    ck_assert_int_eq(fp_cli_bad_value(&last.cli, OPT_WORKERS, "3", "more than --size=%u", 2u), -1);
    ck_assert_str_eq(last.err, "demo: --workers=3: more than --size=2; try --help");
}
END_TEST

/* --- the value parsers on their own --- */

START_TEST(host_port_is_split_without_brackets)
{
    char host[64];
    uint16_t port = 0;
    ck_assert_int_eq(fp_cli_parse_host_port("[fe80::1%3]:9", host, sizeof host, 0, 65535, &port), FP_CLI_OK);
    ck_assert_str_eq(host, "fe80::1%3");
    ck_assert_uint_eq(port, 9);
    ck_assert_int_eq(fp_cli_parse_host_port("localhost:6628", host, sizeof host, 0, 65535, &port), FP_CLI_OK);
    ck_assert_str_eq(host, "localhost");
    ck_assert_uint_eq(port, 6628);
    ck_assert_int_eq(fp_cli_parse_host_port("a-very-long-host:1", host, 8, 0, 65535, &port),
                     FP_CLI_MALFORMED);
}
END_TEST

/* --- help --- */

static char *help_text(void)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    fp_cli_print_options(f, demo_options, OPT_COUNT);
    long len = ftell(f);
    ck_assert_int_gt(len, 0);
    char *text = calloc(1, (size_t)len + 1);
    ck_assert_ptr_nonnull(text);
    rewind(f);
    ck_assert_uint_eq(fread(text, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    return text;
}

/* The help line of option `name`, from "  --name" to its newline. */
static const char *help_line(const char *text, const char *name, char *line, size_t line_len)
{
    char start[64];
    snprintf(start, sizeof start, "\n  --%s", name);
    const char *p = strncmp(text, start + 1, strlen(start + 1)) == 0 ? text : strstr(text, start);
    if (!p) return NULL;
    if (*p == '\n') p++;
    size_t n = strcspn(p, "\n");
    snprintf(line, line_len, "%.*s", (int)n, p);
    return line;
}

START_TEST(help_has_a_line_for_every_option)
{
    char *text = help_text();
    char line[256];
    for (size_t i = 0; i < OPT_COUNT; i++) {
        ck_assert_msg(help_line(text, demo_options[i].name, line, sizeof line), "no line for --%s",
                      demo_options[i].name);
        ck_assert_ptr_nonnull(strstr(line, demo_options[i].help));
    }
    free(text);
}
END_TEST

START_TEST(help_shows_ranges_choices_and_defaults)
{
    static const char *const lines[] = {
        "  --verbose             say more",
        "  --name=NAME           a name (default first usable of known at run time)",
        "  --workers=N           worker threads, 1..256 (default 4: a few)",
        "  --seed=N              seed (default 0x10)",
        "  --timeout=SEC         longest wait, 0.001..86400 (default 2.5)",
        "  --size=BYTES|MIN-MAX  payload sizes, 0..1000 (default 64)",
        "  --level=LEVEL         log level, one of: error, warn, info, debug, trace (default info)",
        "  --connect=HOST:PORT   server (required)",
        "  --listen=HOST:PORT    listen address (repeatable; default 0.0.0.0:6628)",
    };
    char *text = help_text();
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        char whole[256];
        snprintf(whole, sizeof whole, "%s\n", lines[i]);
        const char *at = strstr(text, whole);
        ck_assert_msg(at && (at == text || at[-1] == '\n'), "no line '%s' in:\n%s", lines[i], text);
    }
    free(text);
}
END_TEST

/* A test case of `tests`, each starting from a clean parse. */
static void add_case(Suite *s, const char *name, const TTest *const *tests, size_t n)
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, NULL, teardown);
    for (size_t i = 0; i < n; i++) tcase_add_test(tc, tests[i]);
    suite_add_tcase(s, tc);
}

#define ADD_CASE(suite, name, ...)                                                                           \
    do {                                                                                                     \
        const TTest *const tests[] = {__VA_ARGS__};                                                          \
        add_case(suite, name, tests, sizeof tests / sizeof tests[0]);                                        \
    } while (0)

static Suite *cli_suite(void)
{
    Suite *s = suite_create("cli");
    ADD_CASE(s, "accepted", defaults_apply_when_an_option_is_not_given, given_values_replace_the_defaults,
             values_are_stored_at_the_bounds_too, repeatable_options_collect_every_value_in_order,
             a_list_not_unique_keeps_repeated_items, key_value_pairs_are_split_at_the_first_equals,
             an_action_waives_the_required_options, host_port_is_split_without_brackets);
    ADD_CASE(s, "refused", unknown_option, argument_that_is_not_an_option, missing_value, flag_given_a_value,
             empty_values, out_of_range_at_both_ends, overflow_is_out_of_range_not_wrapped, malformed_numbers,
             malformed_seconds, malformed_ranges, malformed_addresses, choice_not_in_the_list,
             check_function_refusal, given_twice_where_not_repeatable, item_named_twice_in_a_unique_list,
             empty_item_in_a_list, pair_without_a_key, required_option_missing,
             value_too_large_for_its_field_is_an_internal_error, a_table_too_large_is_an_internal_error,
             a_short_error_buffer_is_cut_not_overrun,
             wording_of_the_cross_option_helpers);
    ADD_CASE(s, "help", help_has_a_line_for_every_option, help_shows_ranges_choices_and_defaults);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cli_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    teardown();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
