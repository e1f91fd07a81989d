/*
 * process_clock.h - the operating system's view of this process: CPU time,
 * a monotonic clock, resident memory and the wall clock.
 * process_clock_posix.c and process_clock_win32.c implement it.
 */
#ifndef FASTPORT_PROCESS_CLOCK_H
#define FASTPORT_PROCESS_CLOCK_H

#include <stdint.h>

/* CPU time of every thread of this process, in nanoseconds. */
uint64_t process_cpu_ns(void);

/* Monotonic time from an arbitrary start, in nanoseconds. */
uint64_t process_mono_ns(void);

#endif
