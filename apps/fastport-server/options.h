/*
 * options.h - fastport-server's command line: its option table (options.c)
 * read by the shared parser (apps/common/cli.h), which refuses an unknown
 * option, a missing or malformed value or a number out of range in one line
 * naming the option; the checks across options stay here.
 */
#ifndef FASTPORT_SERVER_OPTIONS_H
#define FASTPORT_SERVER_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <fastport/engine.h>

#include "cli.h"

typedef struct server_options {
    int help;
    int version;

    /* Engine configuration; its strings and arrays point into the fields
     * below or into argv, so it lives as long as this struct. */
    fp_engine_config engine;

    fp_cli_list listen;         /* HOST:PORT, at least one after parsing */
    fp_cli_list plugins;        /* split from --plugin=NAME[,NAME] */
    fp_cli_list transport_opt;  /* KEY, VALUE, KEY, VALUE, ... */
    fp_cli_list plugin_opt;     /* PLUGIN.KEY, VALUE, ... */
    fp_kv *transport_opts;      /* the pairs above, as the engine takes them */
    fp_kv *plugin_opts;

    uint32_t stats_interval_ms; /* 0: never */
    uint32_t worker_memory_mib; /* the engine's worker_memory_limit, in MiB */
} server_options;

/* Parse argv into `opts` (which the caller then frees with
 * server_options_free, also after a failure). Returns 0, or -1 with the
 * one-line refusal in `err`, the program's name first. */
int server_options_parse(server_options *opts, int argc, char **argv, char *err, size_t err_len);

void server_options_free(server_options *opts);

/* Writes the --help text, including what `transport_dir` and `plugin_dir`
 * (NULL: the defaults) hold. */
void server_options_print_help(FILE *out, const char *transport_dir, const char *plugin_dir);

#endif
