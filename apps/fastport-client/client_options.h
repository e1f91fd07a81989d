/*
 * client_options.h - fastport-client's command line: its option table
 * (client_options.c) read by the shared parser (apps/common/cli.h); every
 * option is --NAME=VALUE (or a bare --help / --version), and anything
 * unknown, missing or out of range is refused in one line naming it.
 */
#ifndef FASTPORT_CLIENT_OPTIONS_H
#define FASTPORT_CLIENT_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <fastport/types.h>

/* Largest --size: the echo reply (data plus a few header bytes) must fit
 * one frame. */
#define CLIENT_MAX_SIZE 65000u

typedef struct client_options {
    int help;
    int version;
    const char *transport;     /* NULL: the engine's default order */
    const char *transport_dir; /* NULL: <exe>/../lib/fastport/transports */
    const char *connect;       /* HOST:PORT, required */
    fp_log_level log_level;    /* default warn */
    uint32_t count;            /* 0: interactive; else scripted echoes */
    uint32_t size;             /* data bytes per scripted echo */
    uint32_t timeout_ms;       /* longest wait for any one reply */
} client_options;

/* Returns 0, or -1 with the one-line refusal in `err`, the program's name
 * first. */
int client_options_parse(client_options *opts, int argc, char **argv, char *err, size_t err_len);

void client_options_print_help(FILE *out);

#endif
