#include "process_clock.h"
#include "process_usage.h"

#include <windows.h>
#include <psapi.h>

/* FILETIME counts 100 ns ticks since 1601-01-01. */
#define TICKS_PER_MS 10000u
#define UNIX_EPOCH_TICKS 116444736000000000ull

static uint64_t ticks(FILETIME t) { return (uint64_t)t.dwHighDateTime << 32 | t.dwLowDateTime; }

uint64_t process_cpu_ns(void)
{
    FILETIME created, exited, kernel, user;
    if (!GetProcessTimes(GetCurrentProcess(), &created, &exited, &kernel, &user)) return 0;
    return (ticks(kernel) + ticks(user)) * 100u;
}

uint64_t process_mono_ns(void)
{
    LARGE_INTEGER frequency, now;
    QueryPerformanceFrequency(&frequency);
    QueryPerformanceCounter(&now);
    uint64_t f = (uint64_t)frequency.QuadPart, c = (uint64_t)now.QuadPart;
    return c / f * 1000000000u + c % f * 1000000000u / f;
}

uint64_t process_resident_bytes(void)
{
    PROCESS_MEMORY_COUNTERS counters;
    if (!K32GetProcessMemoryInfo(GetCurrentProcess(), &counters, sizeof counters)) return 0;
    return counters.WorkingSetSize;
}

uint64_t process_unix_time_ms(void)
{
    FILETIME now;
    GetSystemTimeAsFileTime(&now);
    return (ticks(now) - UNIX_EPOCH_TICKS) / TICKS_PER_MS;
}
