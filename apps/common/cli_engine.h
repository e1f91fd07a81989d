/*
 * cli_engine.h - what the command lines of the programs on libfastport
 * (fastport-server, fastport-client, fastport-bench) share beyond cli.h:
 * the check that the engine takes an address, and the log levels. Kept out
 * of the library so that fp-echo-load, which does not link libfastport,
 * links fp_cli alone.
 */
#ifndef FP_APPS_COMMON_CLI_ENGINE_H
#define FP_APPS_COMMON_CLI_ENGINE_H

#include <stddef.h>

#include <fastport/engine.h>

#include "cli.h"

/* An FP_CLI_ADDRESS check: the host is one the engine parses (numeric or
 * localhost), so a typo is a usage error, not a failed listen or connect. */
static inline const char *fp_cli_engine_address(const char *value, void *target)
{
    fp_addr addr;
    (void)target;
    if (fp_addr_parse(value, &addr) == FP_OK) return NULL;
    return "a numeric host or localhost, e.g. 127.0.0.1:6628 or [::1]:6628";
}

/* The words of --log-level, in fp_log_level's order: the index parsed is
 * the level. */
static const char *const fp_cli_log_levels[] = {"error", "warn", "info", "debug", "trace", NULL};
_Static_assert(FP_LOG_ERROR == 0 && FP_LOG_TRACE == 4, "fp_cli_log_levels follows fp_log_level");

/* The --log-level row of an option table, writing the fp_log_level
 * `member` of `struct_type`; `def_word` is the default. */
#define FP_CLI_LOG_LEVEL_OPTION(struct_type, member, def_word)                                               \
    {.name = "log-level", .type = FP_CLI_CHOICE, .value = "LEVEL", .help = "engine log level",               \
     .choices = fp_cli_log_levels, .def = def_word, FP_CLI_FIELD(struct_type, member)}

#endif
