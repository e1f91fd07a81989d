#include "process_usage.h"

#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static uint64_t clock_ns(clockid_t clock)
{
    struct timespec ts;
    if (clock_gettime(clock, &ts) != 0) return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int process_cpu_sampler_init(process_cpu_sampler *sampler)
{
    if (pthread_mutex_init(&sampler->lock, NULL) != 0) return -1;
    sampler->last_cpu_ns = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    sampler->last_wall_ns = clock_ns(CLOCK_MONOTONIC);
    return 0;
}

void process_cpu_sampler_destroy(process_cpu_sampler *sampler)
{
    pthread_mutex_destroy(&sampler->lock);
}

double process_cpu_percent(process_cpu_sampler *sampler)
{
    pthread_mutex_lock(&sampler->lock);
    uint64_t cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    uint64_t wall = clock_ns(CLOCK_MONOTONIC);
    uint64_t cpu_delta = cpu > sampler->last_cpu_ns ? cpu - sampler->last_cpu_ns : 0;
    uint64_t wall_delta = wall > sampler->last_wall_ns ? wall - sampler->last_wall_ns : 0;
    sampler->last_cpu_ns = cpu;
    sampler->last_wall_ns = wall;
    pthread_mutex_unlock(&sampler->lock);
    return wall_delta ? 100.0 * (double)cpu_delta / (double)wall_delta : 0.0;
}

uint64_t process_resident_bytes(void)
{
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char text[128];
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0) return 0;
    text[n] = '\0';
    /* "size resident shared text lib data dt", in pages */
    char *end;
    strtoull(text, &end, 10);
    unsigned long long resident_pages = strtoull(end, NULL, 10);
    long page = sysconf(_SC_PAGESIZE);
    return page > 0 ? (uint64_t)resident_pages * (uint64_t)page : 0;
}

uint64_t process_unix_time_ms(void)
{
    return clock_ns(CLOCK_REALTIME) / 1000000u;
}
