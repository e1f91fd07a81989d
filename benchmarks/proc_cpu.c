#include <stdlib.h>
#include <sys/resource.h>
#include <string.h>
#include <unistd.h>

#include "load.h"

int load_proc_cpu_us(long pid, uint64_t *out_us)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The command name may hold spaces and parentheses: fields are
     * counted from the last ')'. utime and stime are fields 14 and 15. */
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    p++;
    unsigned long long utime = 0, stime = 0;
    for (int field = 3; field <= 15; field++) {
        while (*p == ' ') p++;
        if (!*p) return -1;
        char *end;
        unsigned long long v = strtoull(p, &end, 10);
        if (field == 14) utime = v;
        if (field == 15) stime = v;
        p = end;
        while (*p && *p != ' ') p++;
    }
    long ticks = sysconf(_SC_CLK_TCK);
    if (ticks <= 0) return -1;
    *out_us = (utime + stime) * 1000000ull / (unsigned long long)ticks;
    return 0;
}

uint64_t load_self_cpu_us(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}
