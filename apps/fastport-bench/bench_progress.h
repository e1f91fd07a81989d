/*
 * bench_progress.h - the live progress line: rewritten in place on a
 * terminal, absent when stderr is a pipe or a file (logs stay clean).
 */
#ifndef FASTPORT_BENCH_PROGRESS_H
#define FASTPORT_BENCH_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>

#include <fastport/types.h>

typedef struct bench_progress {
    FILE *out;
    bool enabled;
    bool shown; /* a line is on screen */
} bench_progress;

/* Enabled only when `out` is a terminal. */
void bench_progress_init(bench_progress *p, FILE *out);

/* Replaces the line on screen with the formatted text. */
void bench_progress_show(bench_progress *p, const char *fmt, ...)
    FP_PRINTF_LIKE(2, 3);

/* Erases the line, so what follows starts on a clean line. */
void bench_progress_clear(bench_progress *p);

#endif
