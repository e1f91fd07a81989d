/*
 * provider_internal.h - what the parts of rio_provider.dll share.
 *
 * One lock (prov_lock) guards every table and queue: the provider is for
 * tests, so simple beats fast. Nothing blocks while holding it: overlapped
 * WSASend/WSARecv are started under it, and the thread-pool callbacks that
 * see them finish take it to append their RIORESULT.
 *
 * Handles (RIO_BUFFERID, RIO_CQ, RIO_RQ) are not pointers but numbers
 * that name a slot of a table: kind (2 bits), generation (10 bits), slot
 * index + 1 (20 bits). A stale, foreign or made-up handle is found out
 * (a violation) instead of being dereferenced; none is ever 0 or
 * 0xFFFFFFFF (RIO_INVALID_*).
 */
#ifndef FP_RIO_PROVIDER_INTERNAL_H
#define FP_RIO_PROVIDER_INTERNAL_H

#include <winsock2.h>
#include <mswsock.h>
#include <windows.h>

#include "rio_compat.h"
#include "rio_provider.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define PROV_PRINTF(f, a) __attribute__((format(gnu_printf, f, a)))

/* ---- provider_entry.c: lock, counters, violations, faults, hooks ---- */

extern HMODULE prov_module;
void prov_lock(void);
void prov_unlock(void);

#define PROV_COUNTERS(X)                                                                         \
    X(registers) X(deregisters) X(cq_creates) X(cq_resizes) X(cq_closes) X(rq_creates)           \
    X(rq_resizes) X(rq_reaps) X(receives) X(receives_deferred) X(receive_commits) X(sends)       \
    X(sends_deferred) X(commits) X(commit_calls) X(results_queued) X(dequeue_calls) X(results_dequeued)            \
    X(notify_calls) X(notifications_posted) X(violations) X(faults_injected) X(bytes_sent)       \
    X(bytes_received)

typedef struct prov_stats {
#define PROV_X(name) _Atomic uint64_t name;
    PROV_COUNTERS(PROV_X)
#undef PROV_X
} prov_stats;

extern prov_stats prov_counters;
#define PROV_ADD(name, n) atomic_fetch_add_explicit(&prov_counters.name, (uint64_t)(n), memory_order_relaxed)
#define PROV_COUNT(name) PROV_ADD(name, 1)

/* A broken RIO rule: prints "rio provider: VIOLATION: ..." and counts it;
 * in strict mode aborts, otherwise returns and the caller fails the call
 * (WSAEINVAL is set as the last error). Safe with or without the lock. */
void prov_violation(const char *fmt, ...) PROV_PRINTF(1, 2);

/* Counts one call of the kind `fault` concerns; true when the injected
 * fault fires on this call (once). Call with the lock held. */
bool prov_fault_fires(fp_rio_fault fault);

/* The fp_rio_provider_pause_once hook; call without the lock. */
void prov_pause_point(fp_rio_pause_point point);

/* ---- the RIO functions, one file each group ---- */

BOOL PASCAL prov_RIOReceive(RIO_RQ, PRIO_BUF, ULONG, DWORD, PVOID);
int PASCAL prov_RIOReceiveEx(RIO_RQ, PRIO_BUF, ULONG, PRIO_BUF, PRIO_BUF, PRIO_BUF, PRIO_BUF, DWORD, PVOID);
BOOL PASCAL prov_RIOSend(RIO_RQ, PRIO_BUF, ULONG, DWORD, PVOID);
BOOL PASCAL prov_RIOSendEx(RIO_RQ, PRIO_BUF, ULONG, PRIO_BUF, PRIO_BUF, PRIO_BUF, PRIO_BUF, DWORD, PVOID);
VOID PASCAL prov_RIOCloseCompletionQueue(RIO_CQ);
RIO_CQ PASCAL prov_RIOCreateCompletionQueue(DWORD, PRIO_NOTIFICATION_COMPLETION);
RIO_RQ PASCAL prov_RIOCreateRequestQueue(SOCKET, ULONG, ULONG, ULONG, ULONG, RIO_CQ, RIO_CQ, PVOID);
ULONG PASCAL prov_RIODequeueCompletion(RIO_CQ, PRIORESULT, ULONG);
VOID PASCAL prov_RIODeregisterBuffer(RIO_BUFFERID);
INT PASCAL prov_RIONotify(RIO_CQ);
RIO_BUFFERID PASCAL prov_RIORegisterBuffer(PCHAR, DWORD);
BOOL PASCAL prov_RIOResizeCompletionQueue(RIO_CQ, DWORD);
BOOL PASCAL prov_RIOResizeRequestQueue(RIO_RQ, DWORD, DWORD);

/* ---- handle tables ---- */

enum { PROV_KIND_BUFFER = 1, PROV_KIND_CQ = 2, PROV_KIND_RQ = 3 };

typedef struct prov_table {
    void **slots;
    uint16_t *gens;
    uint32_t cap;
    uint32_t used;
    uint32_t kind;
} prov_table;

/* A free slot for obj: its handle, or 0 when the table is full. */
uint32_t prov_table_add(prov_table *t, void *obj);
void *prov_table_get(const prov_table *t, uint32_t handle);
void prov_table_remove(prov_table *t, uint32_t handle);
void prov_table_free(prov_table *t);

static inline uint32_t prov_handle_of(const void *h) { return (uint32_t)(uintptr_t)h; }

/* ---- provider_buffers.c ---- */

typedef struct prov_buffer {
    uint32_t handle;
    char *base;
    DWORD len;
    uint32_t refs; /* requests naming it, from RIOSend/RIOReceive until dequeued */
} prov_buffer;

/* The registration a RIO_BUF names, when the RIO_BUF lies inside it;
 * NULL after a violation (lock held). */
prov_buffer *prov_buffer_check(const RIO_BUF *buf, const char *call);
void prov_buffers_free_all(void);

/* ---- provider_cq.c ---- */

struct prov_rq;

typedef struct prov_entry {
    RIORESULT result;
    struct prov_rq *rq;
    prov_buffer *buffer;
    bool is_send;
    bool notify; /* the request did not ask RIO_MSG_DONT_NOTIFY */
} prov_entry;

typedef struct prov_cq {
    uint32_t handle; /* 0 once closed (a zombie waiting for its requests) */
    DWORD size;
    prov_entry *ring; /* grows up to size as results queue up */
    DWORD ring_cap, head, count;
    DWORD notify_ready; /* queued entries that may trigger a notification */
    bool has_notify;
    RIO_NOTIFICATION_COMPLETION notify;
    bool armed;
    bool corrupt;
    uint64_t reserved; /* sum over live RQs of the slots they may need here */
    uint32_t pending;  /* requests bound for it, held or in flight */
    uint32_t held;     /* ... of which held (RIO_MSG_DEFER, not yet committed) */
    _Atomic int dequeuing;
} prov_cq;

prov_cq *prov_cq_get(RIO_CQ cq);
/* A finished request's result for its CQ (lock held): queued, or dropped
 * (the CQ is corrupt or closed, or it overflows: a violation). Releases the
 * CQ's pending count. */
void prov_cq_complete(prov_cq *cq, const prov_entry *entry);
void prov_cqs_free_all(void);

/* ---- provider_rq.c ---- */

typedef struct prov_req prov_req;

typedef struct prov_rq {
    uint32_t handle;
    SOCKET socket;
    ULONG max_recv, max_send;
    prov_cq *rcq, *scq; /* NULL once that CQ was closed */
    PVOID socket_context;
    ULONG charged_recv, charged_send; /* outstanding: held, in flight or not yet dequeued */
    prov_req *held_recv, *held_recv_tail;
    prov_req *held_send, *held_send_tail;
    bool dead; /* its socket was found closed */
    _Atomic int busy;
} prov_rq;

/* A charge of rq's ends (its result was dequeued or dropped): gives the
 * slot and the buffer reference back, reaps a dead RQ left idle (lock held). */
void prov_rq_release(prov_rq *rq, bool is_send, prov_buffer *buffer);
/* A request finished (lock held); its result goes to its CQ. */
void prov_rq_finished(prov_req *req, LONG status, ULONG bytes);
/* A CQ closes: RQs naming it forget it, their requests held for it are
 * dropped (lock held). */
void prov_rqs_forget_cq(prov_cq *cq);
/* The lazy reaper (lock held): RQs whose socket is found closed are marked
 * dead (their held requests complete with WSA_OPERATION_ABORTED) and freed,
 * their CQ reservation given back, once nothing of theirs is outstanding. */
void prov_rqs_sweep(void);
/* The same for the RQs holding requests for cq only (lock held). */
void prov_rqs_sweep_held(prov_cq *cq);
void prov_rqs_free_all(void);

/* ---- provider_io.c: the overlapped I/O underneath ---- */

struct prov_req {
    OVERLAPPED ov;
    HANDLE event;
    PTP_WAIT wait;
    prov_rq *rq;
    prov_cq *cq;
    prov_buffer *buffer;
    bool is_send;
    DWORD flags; /* the RIO_MSG_* flags of the call */
    PVOID request_context;
    WSABUF wsabuf;
    DWORD recv_flags;
    prov_req *next;     /* free list, or an RQ's held list */
    prov_req *all_next; /* every request the pool made, for the unload */
};

/* A pooled request (lock held); NULL when the pool is exhausted. */
prov_req *prov_req_alloc(void);
void prov_req_free(prov_req *req);
/* Starts the overlapped WSASend/WSARecv of req (lock held). 0: started,
 * its end is reported through prov_rq_finished from a thread-pool thread.
 * Otherwise the Winsock error that failed it at once: nothing was queued,
 * the caller completes the request with it or takes it back. */
int prov_req_start(prov_req *req);
void prov_io_free_all(void);

#endif
