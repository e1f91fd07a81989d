/*
 * server_stats.h - the one-line counter report fastport-server prints.
 */
#ifndef FASTPORT_SERVER_STATS_H
#define FASTPORT_SERVER_STATS_H

#include <stdio.h>

#include <fastport/engine.h>

/* Writes "stats: name=value ..." and a newline: the engine's main counters
 * in a fixed order, plus every transport.* counter when `with_transport`. */
void server_stats_print(FILE *out, fp_engine *e, int with_transport);

#endif
