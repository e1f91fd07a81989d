/*
 * rio_provider.h - the test-facing API of rio_provider.dll, a software
 * Registered I/O (RIO) provider for tests only.
 *
 * Wine does not implement RIO, so rio.dll cannot be exercised there on the
 * real thing. rio_provider.dll implements the RIO function table on
 * ordinary overlapped Winsock I/O and enforces RIO's documented rules:
 * where real RIO would fail, misbehave or corrupt a queue, the provider
 * reports a VIOLATION (see fp_rio_provider_set_strict). rio.dll takes its
 * table from this DLL when FP_RIO_TEST_PROVIDER names it; rio.dll resolves
 * only fp_rio_provider_table (GetProcAddress) and does not include this
 * header. The test suites include it and resolve the rest the same way
 * (the fp_rio_provider_*_fn typedefs below).
 *
 * Include after <winsock2.h>, <mswsock.h> and rio_compat.h.
 */
#ifndef FP_RIO_PROVIDER_H
#define FP_RIO_PROVIDER_H

#include <stdint.h>

#ifdef FP_RIO_PROVIDER_BUILD
#define FP_RIO_PROVIDER_API __declspec(dllexport)
#else
#define FP_RIO_PROVIDER_API
#endif

/* The same contract as WSAIoctl(SIO_GET_MULTIPLE_EXTENSION_FUNCTION_POINTER,
 * WSAID_MULTIPLE_RIO): fills every pointer of *table (table_size bytes, at
 * least sizeof(RIO_EXTENSION_FUNCTION_TABLE)) and sets cbSize. Returns 0,
 * or a WSA error: WSAEFAULT when table is NULL or too small. */
FP_RIO_PROVIDER_API int fp_rio_provider_table(RIO_EXTENSION_FUNCTION_TABLE *table, DWORD table_size);

/* Everything the provider counted since load or the last reset. */
typedef struct fp_rio_provider_counters {
    uint64_t registers;            /* RIORegisterBuffer that succeeded */
    uint64_t deregisters;          /* RIODeregisterBuffer that freed a registration */
    uint64_t cq_creates;           /* RIOCreateCompletionQueue that succeeded */
    uint64_t cq_resizes;           /* RIOResizeCompletionQueue that succeeded */
    uint64_t cq_closes;            /* RIOCloseCompletionQueue that closed one */
    uint64_t rq_creates;           /* RIOCreateRequestQueue that succeeded */
    uint64_t rq_resizes;           /* RIOResizeRequestQueue that succeeded */
    uint64_t rq_reaps;             /* RQs freed after their socket was found closed */
    uint64_t receives;             /* RIOReceive accepted (deferred ones included) */
    uint64_t receives_deferred;    /* ... of which with RIO_MSG_DEFER */
    uint64_t receive_commits;      /* RIOReceive calls that released held receives */
    uint64_t sends;                /* RIOSend accepted (deferred ones included) */
    uint64_t sends_deferred;       /* ... of which with RIO_MSG_DEFER */
    uint64_t commits;              /* RIOSend calls (without RIO_MSG_DEFER, or with
                                      RIO_MSG_COMMIT_ONLY) that released held sends */
    uint64_t commit_calls;         /* every commit-capable RIOSend: without
                                      RIO_MSG_DEFER or with RIO_MSG_COMMIT_ONLY */
    uint64_t results_queued;       /* RIORESULTs that reached their CQ (finished requests) */
    uint64_t dequeue_calls;        /* RIODequeueCompletion calls */
    uint64_t results_dequeued;     /* RIORESULTs handed out */
    uint64_t notify_calls;         /* RIONotify calls */
    uint64_t notifications_posted; /* notifications fired (IOCP packet or SetEvent) */
    uint64_t violations;           /* rule violations (see fp_rio_provider_set_strict) */
    uint64_t faults_injected;      /* injected faults that fired */
    uint64_t bytes_sent;           /* bytes of successful send completions */
    uint64_t bytes_received;       /* bytes of successful receive completions */
} fp_rio_provider_counters;

FP_RIO_PROVIDER_API void fp_rio_provider_get_counters(fp_rio_provider_counters *out);
FP_RIO_PROVIDER_API void fp_rio_provider_reset_counters(void);

typedef enum fp_rio_fault {
    FP_RIO_FAULT_NONE,
    FP_RIO_FAULT_CORRUPT_CQ,
    FP_RIO_FAULT_RQ_FULL,
} fp_rio_fault;

/* After `after` more calls of the kind the fault concerns, inject it once
 * (a later inject replaces a pending one; FP_RIO_FAULT_NONE cancels):
 *   CORRUPT_CQ  counts RIODequeueCompletion calls: the chosen call returns
 *               RIO_CORRUPT_CQ and its CQ stays corrupt (every later dequeue
 *               returns RIO_CORRUPT_CQ, RIONotify fails with WSAEINVAL, new
 *               results are dropped) until closed - as real RIO after an
 *               overflow.
 *   RQ_FULL     counts RIOSend/RIOReceive calls that carry a buffer (not
 *               RIO_MSG_COMMIT_ONLY): the chosen call fails with FALSE and
 *               WSAGetLastError() == WSAENOBUFS, once.
 * The same at load time from the environment (for a server process):
 * FP_RIO_PROVIDER_FAULT=corrupt_cq@N or rq_full@N. */
FP_RIO_PROVIDER_API void fp_rio_provider_inject(fp_rio_fault fault, unsigned after);

/* strict (the default): a rule violation prints
 * "rio provider: VIOLATION: <what>" to stderr and abort()s.
 * Not strict: it is printed and counted, and the call fails (FALSE or an
 * invalid handle with WSAEINVAL, RIO_CORRUPT_CQ from RIODequeueCompletion)
 * - for the provider's own tests. FP_RIO_PROVIDER_STRICT=0 in the
 * environment at load time turns strict mode off. */
FP_RIO_PROVIDER_API void fp_rio_provider_set_strict(int strict);

/* The text of the last violation ("" when none since load or the last
 * fp_rio_provider_reset_counters); valid until the next violation. */
FP_RIO_PROVIDER_API const char *fp_rio_provider_last_violation(void);

/* Test hook, to make races deterministic: the next call that reaches
 * `point` after claiming its queue (the CQ for RIODequeueCompletion, the RQ
 * for RIOSend/RIOReceive) signals `entered` (SetEvent) and waits up to 10 s
 * for `release`, then goes on. Once; the handles stay the caller's. */
typedef enum fp_rio_pause_point {
    FP_RIO_PAUSE_NONE,
    FP_RIO_PAUSE_DEQUEUE,
    FP_RIO_PAUSE_RQ_CALL,
} fp_rio_pause_point;
FP_RIO_PROVIDER_API void fp_rio_provider_pause_once(fp_rio_pause_point point, HANDLE entered, HANDLE release);

/* For GetProcAddress. */
typedef int (*fp_rio_provider_table_fn)(RIO_EXTENSION_FUNCTION_TABLE *, DWORD);
typedef void (*fp_rio_provider_get_counters_fn)(fp_rio_provider_counters *);
typedef void (*fp_rio_provider_reset_counters_fn)(void);
typedef void (*fp_rio_provider_inject_fn)(fp_rio_fault, unsigned);
typedef void (*fp_rio_provider_set_strict_fn)(int);
typedef const char *(*fp_rio_provider_last_violation_fn)(void);
typedef void (*fp_rio_provider_pause_once_fn)(fp_rio_pause_point, HANDLE, HANDLE);

#endif
