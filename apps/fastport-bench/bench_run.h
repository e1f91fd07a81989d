/*
 * bench_run.h - what one fastport-bench invocation does: the runs against
 * --connect's server, or --compare's servers started one per transport and
 * loaded in turn (run 1 of every transport, then run 2, ...), so drift
 * over time hits every transport alike. Prints each run's report, the
 * side-by-side table, and writes the CSV and SVG asked for.
 */
#ifndef FASTPORT_BENCH_RUN_H
#define FASTPORT_BENCH_RUN_H

#include "bench_options.h"

/* Returns the exit status: 0 when every run got every reply back intact,
 * 1 otherwise (including a server or file that could not be set up). */
int bench_run(const bench_options *opts);

#endif
