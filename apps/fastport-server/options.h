/*
 * options.h - fastport-server's command line.
 *
 * Parsing is strict: every option is --name=VALUE (or a bare --help /
 * --version), an unknown option, a missing or malformed value, or a number
 * out of range is an error that names the option, and nothing is guessed.
 */
#ifndef FASTPORT_SERVER_OPTIONS_H
#define FASTPORT_SERVER_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <fastport/engine.h>

#define SERVER_DEFAULT_LISTEN "0.0.0.0:6628"

typedef enum server_action {
    SERVER_RUN = 0,
    SERVER_HELP,
    SERVER_VERSION
} server_action;

typedef struct server_options {
    server_action action;

    /* Engine configuration; its strings and arrays point into the fields
     * below or into argv, so it lives as long as this struct. */
    fp_engine_config engine;

    const char **listen;  /* HOST:PORT, at least one after parsing */
    size_t n_listen;

    const char **plugins; /* split from --plugin=NAME[,NAME] */
    size_t n_plugins;
    char **plugin_lists;  /* copies of the --plugin values that were split */
    size_t n_plugin_lists;

    fp_kv *transport_opts;
    size_t n_transport_opts;
    fp_kv *plugin_opts;
    size_t n_plugin_opts;
    char **kv_storage;    /* copies of KEY=VALUE values, split in place */
    size_t n_kv_storage;

    uint32_t stats_interval_ms; /* 0: never */
} server_options;

/* Parse argv into `opts` (which the caller then frees with
 * server_options_free, also after a failure). Returns 0, or -1 with a
 * one-line reason in `err` (no program name, no newline). */
int server_options_parse(server_options *opts, int argc, char **argv, char *err, size_t err_len);

void server_options_free(server_options *opts);

/* Writes the --help text, including what `transport_dir` and `plugin_dir`
 * (NULL: the defaults) hold. */
void server_options_print_help(FILE *out, const char *transport_dir, const char *plugin_dir);

#endif
