/* platform.h on Windows: Win32 threads, SRW locks, condition variables,
 * one-time initialisation and a manual-reset event. */
#include "platform.h"

#include <winsock2.h>
#include <windows.h>
#include <iphlpapi.h>
#include <netioapi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(SRWLOCK) == sizeof(void *), "fp_mutex holds an SRWLOCK");
_Static_assert(sizeof(CONDITION_VARIABLE) == sizeof(void *), "fp_cond holds a CONDITION_VARIABLE");
_Static_assert(sizeof(INIT_ONCE) == sizeof(void *), "fp_once holds an INIT_ONCE");

static SRWLOCK *srw(fp_mutex *m) { return (SRWLOCK *)&m->impl; }
static CONDITION_VARIABLE *cv(fp_cond *c) { return (CONDITION_VARIABLE *)&c->impl; }

int fp_mutex_init(fp_mutex *m)
{
    InitializeSRWLock(srw(m));
    return 0;
}

void fp_mutex_destroy(fp_mutex *m) { (void)m; /* an SRW lock owns nothing */ }
void fp_mutex_lock(fp_mutex *m) { AcquireSRWLockExclusive(srw(m)); }
void fp_mutex_unlock(fp_mutex *m) { ReleaseSRWLockExclusive(srw(m)); }

int fp_cond_init(fp_cond *c)
{
    InitializeConditionVariable(cv(c));
    return 0;
}

void fp_cond_destroy(fp_cond *c) { (void)c; }
void fp_cond_wait(fp_cond *c, fp_mutex *m) { SleepConditionVariableSRW(cv(c), srw(m), INFINITE, 0); }
void fp_cond_broadcast(fp_cond *c) { WakeAllConditionVariable(cv(c)); }

int fp_cond_timed_wait(fp_cond *c, fp_mutex *m, unsigned timeout_ms)
{
    if (SleepConditionVariableSRW(cv(c), srw(m), timeout_ms, 0))
        return 0;
    return GetLastError() == ERROR_TIMEOUT;
}

static BOOL CALLBACK once_trampoline(PINIT_ONCE once, PVOID fn, PVOID *ctx)
{
    (void)once;
    (void)ctx;
    void (*run)(void);
    memcpy(&run, &fn, sizeof run); /* data to function pointer, portably */
    run();
    return TRUE;
}

void fp_once_run(fp_once *once, void (*fn)(void))
{
    PVOID param;
    memcpy(&param, &fn, sizeof param);
    InitOnceExecuteOnce((PINIT_ONCE)&once->impl, once_trampoline, param, NULL);
}

typedef struct thread_start {
    void (*fn)(void *);
    void *arg;
} thread_start;

static DWORD WINAPI thread_trampoline(LPVOID p)
{
    thread_start start = *(thread_start *)p;
    free(p);
    start.fn(start.arg);
    return 0;
}

int fp_thread_start(fp_thread *t, void (*fn)(void *), void *arg)
{
    thread_start *start = malloc(sizeof *start);
    if (!start)
        return ERROR_NOT_ENOUGH_MEMORY;
    start->fn = fn;
    start->arg = arg;
    t->handle = CreateThread(NULL, 0, thread_trampoline, start, 0, NULL);
    if (!t->handle) {
        DWORD err = GetLastError();
        free(start);
        return (int)err;
    }
    return 0;
}

void fp_thread_join(fp_thread t)
{
    WaitForSingleObject(t.handle, INFINITE);
    CloseHandle(t.handle);
}

uint64_t fp_mono_ns(void)
{
    LARGE_INTEGER frequency, now; /* the frequency is a cheap read of a boot-time constant */
    QueryPerformanceFrequency(&frequency);
    QueryPerformanceCounter(&now);
    uint64_t f = (uint64_t)frequency.QuadPart, c = (uint64_t)now.QuadPart;
    return c / f * 1000000000u + c % f * 1000000000u / f;
}

void fp_utc_now(struct tm *out, unsigned *millis)
{
    SYSTEMTIME st;
    GetSystemTime(&st);
    memset(out, 0, sizeof *out);
    out->tm_year = st.wYear - 1900;
    out->tm_mon = st.wMonth - 1;
    out->tm_mday = st.wDay;
    out->tm_hour = st.wHour;
    out->tm_min = st.wMinute;
    out->tm_sec = st.wSecond;
    out->tm_wday = st.wDayOfWeek;
    *millis = st.wMilliseconds;
}

unsigned fp_cpu_count(void)
{
    DWORD n = GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);
    return n > 0 ? (unsigned)n : 1u;
}

int fp_event_open(fp_event *ev)
{
    ev->handle = CreateEventW(NULL, TRUE, FALSE, NULL);
    return ev->handle ? 0 : (int)GetLastError();
}

void fp_event_close(fp_event *ev)
{
    if (ev->handle)
        CloseHandle(ev->handle);
    ev->handle = NULL;
}

void fp_event_set(fp_event *ev) { SetEvent(ev->handle); }

int fp_event_wait(fp_event *ev, int timeout_ms)
{
    DWORD wait = timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms;
    return WaitForSingleObject(ev->handle, wait) == WAIT_OBJECT_0;
}

unsigned fp_interface_index(const char *name) { return if_nametoindex(name); }

const char *fp_sys_error_text(int code, char *buf, size_t len)
{
    DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL,
                             (DWORD)code, 0, buf, (DWORD)len, NULL);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == '.'))
        buf[--n] = '\0';
    if (n == 0)
        snprintf(buf, len, "Windows error %d", code);
    return buf;
}
