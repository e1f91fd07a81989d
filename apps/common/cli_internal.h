/*
 * cli_internal.h - what the files of the command-line parser share and
 * nothing else uses. Names start with cli_, not fp_, so no one mistakes
 * them for the interface in cli.h.
 */
#ifndef FP_APPS_COMMON_CLI_INTERNAL_H
#define FP_APPS_COMMON_CLI_INTERNAL_H

#include "cli.h"

/* Writes "PROGRAM: MESSAGE; try --help" into the error buffer; returns -1. */
int cli_fail(fp_cli *cli, const char *fmt, ...) FP_CLI_PRINTF(2, 3);

/* Refuses `value` of option `o` for the FP_CLI_MALFORMED or
 * FP_CLI_OUT_OF_RANGE `why`, naming what is accepted; returns -1. */
int cli_refuse(fp_cli *cli, const fp_cli_option *o, const char *value, int why);

/* "0..256", "0.001..86400" (seconds), "1..65535" (a port). */
void cli_format_bounds(const fp_cli_option *o, char *out, size_t out_len);

/* True when o's bounds are all its field holds, so help need not say them. */
int cli_bounds_are_the_field(const fp_cli_option *o);

/* Adds one value of an FP_CLI_LIST option to its field (split at commas
 * where the option says so), checking each item with `check_item`. */
int cli_list_add(fp_cli *cli, const fp_cli_option *o, const char *value,
                 int (*check_item)(fp_cli *cli, const fp_cli_option *o, const char *value, const char *item));

#endif
