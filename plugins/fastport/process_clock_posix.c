#include "process_clock.h"
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

uint64_t process_cpu_ns(void) { return clock_ns(CLOCK_PROCESS_CPUTIME_ID); }

uint64_t process_mono_ns(void) { return clock_ns(CLOCK_MONOTONIC); }

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
