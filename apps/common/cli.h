/*
 * cli.h - the command line of FastPort's programs: a typed option table and
 * its parser.
 *
 * A program describes each option once, in a table of fp_cli_option naming
 * a field of its options struct; fp_cli_parse fills the fields from argv,
 * applies the table's defaults, and refuses anything else with one line that
 * names the program, the option and what was expected; --help is generated
 * from the same table (fp_cli_print_options). Every option is --NAME=VALUE
 * or, for a flag, a bare --NAME.
 *
 * Portable C11 with no FastPort header, so fp-echo-load (which does not
 * link libfastport) shares it with the engine's programs.
 */
#ifndef FP_APPS_COMMON_CLI_H
#define FP_APPS_COMMON_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* printf-style checking; mingw-w64 calls the C99 formats gnu_printf. */
#if defined(__MINGW32__)
#define FP_CLI_PRINTF(fmt, first) __attribute__((format(gnu_printf, fmt, first)))
#elif defined(__GNUC__)
#define FP_CLI_PRINTF(fmt, first) __attribute__((format(printf, fmt, first)))
#else
#define FP_CLI_PRINTF(fmt, first)
#endif

typedef enum fp_cli_type {
    FP_CLI_FLAG, /* bare --NAME; sets the (integer or bool) field to 1 */
    FP_CLI_STRING, /* non-empty text; the field (const char *) points into argv */
    FP_CLI_CHOICE, /* one word of `choices`; the integer field gets its index */
    FP_CLI_UNSIGNED, /* decimal digits (0x hex with FP_CLI_HEX) in min..max */
    FP_CLI_SECONDS, /* SEC or SEC.FFF (up to ms); the field gets ms, in min..max (ms) */
    FP_CLI_RANGE, /* N or MIN-MAX, both in min..max, MIN <= MAX: MIN in the field, MAX in field2 */
    FP_CLI_ADDRESS /* HOST:PORT or [V6]:PORT, port in min..max; stored like FP_CLI_STRING */
} fp_cli_type;

enum fp_cli_flags {
    FP_CLI_REQUIRED = 1u << 0, /* must be given (unless an FP_CLI_ACTION option is) */
    FP_CLI_REPEATABLE = 1u << 1, /* may be given more than once (an FP_CLI_LIST field) */
    FP_CLI_LIST = 1u << 2, /* STRING/ADDRESS: the field is an fp_cli_list of every value */
    FP_CLI_COMMAS = 1u << 3, /* with FP_CLI_LIST: each value is split at commas */
    FP_CLI_UNIQUE = 1u << 4, /* with FP_CLI_LIST: an item may not be given twice */
    FP_CLI_HEX = 1u << 5, /* UNSIGNED: 0x hex is accepted as well */
    FP_CLI_ACTION = 1u << 6, /* --help, --version: required options are not asked for */
    FP_CLI_PAIRS = 1u << 7   /* with FP_CLI_LIST: each value is KEY=VALUE, stored as two items */
};

/* Checks one value beyond its type's syntax (each item of a list; with
 * FP_CLI_PAIRS the whole KEY=VALUE), and may store what it derives into
 * `target`, the program's options struct. Returns NULL when the value is
 * fine, else what was expected ("a loopback address"). */
typedef const char *(*fp_cli_check_fn)(const char *value, void *target);

typedef struct fp_cli_option {
    const char *name; /* without the leading "--" */
    fp_cli_type type;
    const char *value; /* placeholder in help and messages ("N", "HOST:PORT"); NULL for flags */
    const char *help; /* one line; the range, choices and default are appended */
    unsigned flags; /* enum fp_cli_flags */
    uint64_t min, max; /* UNSIGNED, RANGE: inclusive bounds; SECONDS: in ms; ADDRESS: the port */
    const char *def; /* applied, as if given, when the option is not; NULL: the field is kept */
    const char *def_note; /* in help after the default ("one per core"), or alone */
    const char *(*def_fn)(void); /* in help after def_note: a default known only at run time */
    const char *const *choices; /* CHOICE: the words, NULL-terminated */
    fp_cli_check_fn check; /* STRING, ADDRESS: a further check, or NULL */
    size_t offset, size; /* the field in the target struct: FP_CLI_FIELD */
    size_t offset2; /* RANGE: the MAX field (same type): FP_CLI_FIELD2 */
} fp_cli_option;

#define FP_CLI_FIELD(type, member) .offset = offsetof(type, member), .size = sizeof(((type *)0)->member)
#define FP_CLI_FIELD2(type, member) .offset2 = offsetof(type, member)

/* An FP_CLI_LIST field: every value given, in order; with FP_CLI_PAIRS
 * items[2i] is the i-th KEY and items[2i + 1] its VALUE. */
typedef struct fp_cli_list {
    const char **items;
    size_t n;
    char **copies; /* copies of values split at ',' or '=', which items point into */
    size_t n_copies;
} fp_cli_list;

/* The most options one table may have. */
#define FP_CLI_MAX_OPTIONS 48

typedef struct fp_cli {
    const char *program; /* prefixes every message */
    const fp_cli_option *options;
    size_t n_options;
    void *target;
    char *err; /* the caller's buffer for the one-line refusal */
    size_t err_len;
    unsigned given[FP_CLI_MAX_OPTIONS];
} fp_cli;

/* Prepares a parse of `options` into `target`; messages go to `err`. */
void fp_cli_init(fp_cli *cli, const char *program, const fp_cli_option *options, size_t n_options,
                 void *target, char *err, size_t err_len);

/* Fills the target's fields from argv[1..argc), then applies the defaults of
 * the options not given and asks for the required ones. Returns 0, or -1
 * with the refusal in the error buffer. Free the lists with fp_cli_free,
 * also after a failure. */
int fp_cli_parse(fp_cli *cli, int argc, char **argv);

/* How many times option `index` was given. */
unsigned fp_cli_given(const fp_cli *cli, size_t index);

/* True when an FP_CLI_ACTION option (--help, --version) was given. */
int fp_cli_action_given(const fp_cli *cli);

/* Frees the FP_CLI_LIST fields of `target`. */
void fp_cli_free(const fp_cli_option *options, size_t n_options, void *target);

/* Writes one help line per option: "  --NAME=VALUE   help, range (default)". */
void fp_cli_print_options(FILE *out, const fp_cli_option *options, size_t n_options);

/*
 * Refusals for a program's own checks across options, worded like the
 * parser's. Each writes one line into the error buffer and returns -1.
 */
/* "--NAME=VALUE: WHY" */
int fp_cli_bad_value(fp_cli *cli, size_t index, const char *value, const char *fmt, ...) FP_CLI_PRINTF(4, 5);
/* "--A and --B exclude each other: WHY" */
int fp_cli_conflict(fp_cli *cli, size_t a, size_t b, const char *why);
/* "--A needs --B (WHY)" */
int fp_cli_needs(fp_cli *cli, size_t a, size_t b, const char *why);
/* "--A=VALUE or --B=VALUE is required" */
int fp_cli_one_required(fp_cli *cli, size_t a, size_t b);

/*
 * The value parsers behind the types, for checks that combine them.
 * Each returns FP_CLI_OK, FP_CLI_MALFORMED or FP_CLI_OUT_OF_RANGE.
 */
enum { FP_CLI_OK = 0, FP_CLI_MALFORMED = -1, FP_CLI_OUT_OF_RANGE = -2 };

/* Decimal digits only (no sign, space or suffix); with `hex`, 0x hex too. */
int fp_cli_parse_unsigned(const char *text, int hex, uint64_t min, uint64_t max, uint64_t *out);
/* "SEC" or "SEC.F" .. "SEC.FFF" into ms, in min_ms..max_ms. */
int fp_cli_parse_seconds(const char *text, uint64_t min_ms, uint64_t max_ms, uint64_t *out_ms);
/* "N" (lo = hi = N) or "MIN-MAX", both in min..max; MIN > MAX is malformed. */
int fp_cli_parse_range(const char *text, uint64_t min, uint64_t max, uint64_t *lo, uint64_t *hi);
/* "HOST:PORT" or "[V6]:PORT" (no brackets in `host`), port in min..max. */
int fp_cli_parse_host_port(const char *text, char *host, size_t host_len, uint64_t min, uint64_t max,
                           uint16_t *port);

#endif
