/*
 * process_usage.h - this process's resident memory and CPU share, for the
 * admin status summary.
 */
#ifndef FASTPORT_PROCESS_USAGE_H
#define FASTPORT_PROCESS_USAGE_H

#include <pthread.h>
#include <stdint.h>

/* CPU share between successive samples; shared by all workers. */
typedef struct process_cpu_sampler {
    pthread_mutex_t lock;
    uint64_t last_cpu_ns;  /* process CPU time at the last sample */
    uint64_t last_wall_ns; /* monotonic time at the last sample */
} process_cpu_sampler;

int process_cpu_sampler_init(process_cpu_sampler *sampler);
void process_cpu_sampler_destroy(process_cpu_sampler *sampler);

/* Process CPU time over wall time since the previous call (since init for
 * the first), in percent: 100 = one core fully busy, N cores up to N*100. */
double process_cpu_percent(process_cpu_sampler *sampler);

/* Resident set size in bytes (/proc/self/statm; the working set on
 * Windows); 0 when unreadable. */
uint64_t process_resident_bytes(void);

/* Unix time in milliseconds. */
uint64_t process_unix_time_ms(void);

#endif
