/*
 * provider_entry.c - rio_provider.dll's entry points: the RIO function
 * table, the counters, strict mode and violations, fault injection (also
 * from the environment at load time) and the pause hook for tests.
 */
#include "provider_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static SRWLOCK prov_big_lock = SRWLOCK_INIT;
HMODULE prov_module;

void prov_lock(void) { AcquireSRWLockExclusive(&prov_big_lock); }
void prov_unlock(void) { ReleaseSRWLockExclusive(&prov_big_lock); }

prov_stats prov_counters;

/* ---- violations ---- */

static _Atomic int prov_strict = 1;
static SRWLOCK prov_violation_lock = SRWLOCK_INIT;
static char prov_last_violation[512];

void prov_violation(const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    PROV_COUNT(violations);
    AcquireSRWLockExclusive(&prov_violation_lock);
    snprintf(prov_last_violation, sizeof(prov_last_violation), "%s", what);
    ReleaseSRWLockExclusive(&prov_violation_lock);
    fprintf(stderr, "rio provider: VIOLATION: %s\n", what);
    fflush(stderr);
    if (atomic_load(&prov_strict)) abort();
    WSASetLastError(WSAEINVAL);
}

FP_RIO_PROVIDER_API void fp_rio_provider_set_strict(int strict) { atomic_store(&prov_strict, strict != 0); }

FP_RIO_PROVIDER_API const char *fp_rio_provider_last_violation(void) { return prov_last_violation; }

/* ---- counters ---- */

FP_RIO_PROVIDER_API void fp_rio_provider_get_counters(fp_rio_provider_counters *out)
{
    if (!out) return;
#define PROV_X(name) out->name = atomic_load(&prov_counters.name);
    PROV_COUNTERS(PROV_X)
#undef PROV_X
}

FP_RIO_PROVIDER_API void fp_rio_provider_reset_counters(void)
{
#define PROV_X(name) atomic_store(&prov_counters.name, 0);
    PROV_COUNTERS(PROV_X)
#undef PROV_X
    AcquireSRWLockExclusive(&prov_violation_lock);
    prov_last_violation[0] = '\0';
    ReleaseSRWLockExclusive(&prov_violation_lock);
}

/* ---- faults ---- */

static fp_rio_fault prov_fault;
static unsigned prov_fault_after;

FP_RIO_PROVIDER_API void fp_rio_provider_inject(fp_rio_fault fault, unsigned after)
{
    prov_lock();
    prov_fault = fault;
    prov_fault_after = after;
    prov_unlock();
}

bool prov_fault_fires(fp_rio_fault fault)
{
    if (prov_fault != fault) return false;
    if (prov_fault_after > 0) {
        prov_fault_after--;
        return false;
    }
    prov_fault = FP_RIO_FAULT_NONE;
    PROV_COUNT(faults_injected);
    return true;
}

/* FP_RIO_PROVIDER_FAULT=corrupt_cq@N | rq_full@N; anything else is a
 * mistake in the test set-up, and said so at once. */
static void prov_read_environment(void)
{
    char value[64];
    DWORD n = GetEnvironmentVariableA("FP_RIO_PROVIDER_STRICT", value, sizeof(value));
    if (n > 0 && n < sizeof(value) && strcmp(value, "0") == 0) atomic_store(&prov_strict, 0);

    n = GetEnvironmentVariableA("FP_RIO_PROVIDER_FAULT", value, sizeof(value));
    if (n == 0 || value[0] == '\0') return;
    static const struct {
        const char *name;
        fp_rio_fault fault;
    } names[] = {{"corrupt_cq@", FP_RIO_FAULT_CORRUPT_CQ}, {"rq_full@", FP_RIO_FAULT_RQ_FULL}};
    for (size_t i = 0; n < sizeof(value) && i < sizeof(names) / sizeof(names[0]); i++) {
        size_t len = strlen(names[i].name);
        if (strncmp(value, names[i].name, len) != 0) continue;
        char *end;
        unsigned long after = strtoul(value + len, &end, 10);
        if (end == value + len || *end != '\0' || after > UINT32_MAX) break;
        prov_fault = names[i].fault;
        prov_fault_after = (unsigned)after;
        return;
    }
    fprintf(stderr, "rio provider: FP_RIO_PROVIDER_FAULT=%s is not corrupt_cq@N or rq_full@N\n", value);
    fflush(stderr);
    abort();
}

/* ---- the pause hook ---- */

static fp_rio_pause_point prov_pause_at;
static HANDLE prov_pause_entered, prov_pause_release;

FP_RIO_PROVIDER_API void fp_rio_provider_pause_once(fp_rio_pause_point point, HANDLE entered, HANDLE release)
{
    prov_lock();
    prov_pause_at = point;
    prov_pause_entered = entered;
    prov_pause_release = release;
    prov_unlock();
}

void prov_pause_point(fp_rio_pause_point point)
{
    HANDLE entered = NULL, release = NULL;
    prov_lock();
    if (prov_pause_at == point) {
        entered = prov_pause_entered;
        release = prov_pause_release;
        prov_pause_at = FP_RIO_PAUSE_NONE;
    }
    prov_unlock();
    if (!entered) return;
    SetEvent(entered);
    WaitForSingleObject(release, 10000);
}

/* ---- the table ---- */

FP_RIO_PROVIDER_API int fp_rio_provider_table(RIO_EXTENSION_FUNCTION_TABLE *table, DWORD table_size)
{
    if (!table || table_size < sizeof(*table)) return WSAEFAULT;
    memset(table, 0, sizeof(*table));
    table->cbSize = sizeof(*table);
    table->RIOReceive = prov_RIOReceive;
    table->RIOReceiveEx = prov_RIOReceiveEx;
    table->RIOSend = prov_RIOSend;
    table->RIOSendEx = prov_RIOSendEx;
    table->RIOCloseCompletionQueue = prov_RIOCloseCompletionQueue;
    table->RIOCreateCompletionQueue = prov_RIOCreateCompletionQueue;
    table->RIOCreateRequestQueue = prov_RIOCreateRequestQueue;
    table->RIODequeueCompletion = prov_RIODequeueCompletion;
    table->RIODeregisterBuffer = prov_RIODeregisterBuffer;
    table->RIONotify = prov_RIONotify;
    table->RIORegisterBuffer = prov_RIORegisterBuffer;
    table->RIOResizeCompletionQueue = prov_RIOResizeCompletionQueue;
    table->RIOResizeRequestQueue = prov_RIOResizeRequestQueue;
    return 0;
}

/* ---- load and unload ---- */

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved);

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    if (reason == DLL_PROCESS_ATTACH) {
        prov_module = instance;
        DisableThreadLibraryCalls(instance);
        prov_read_environment();
    } else if (reason == DLL_PROCESS_DETACH && reserved == NULL) {
        /* FreeLibrary: no request is in flight (each holds a reference on
         * this module), so everything can go. At process exit nothing is
         * freed: other threads were stopped anywhere. */
        prov_io_free_all();
        prov_rqs_free_all();
        prov_cqs_free_all();
        prov_buffers_free_all();
    }
    return TRUE;
}
