/*
 * win_port.c - a worker's completion port: dequeue in batches and
 * dispatch, wake, and a bounded drain at close.
 */
#include <stdlib.h>

#include "sockaddr.h"
#include "win_accept_internal.h"

#define FPT_PORT_DEQUEUE_ROUNDS 4 /* full batches taken in one poll */

int fpt_port_op_error(SOCKET s, fpt_port_op *op)
{
    if (s == INVALID_SOCKET) return WSA_OPERATION_ABORTED;
    DWORD bytes = 0, flags = 0;
    if (WSAGetOverlappedResult(s, &op->ov, &bytes, FALSE, &flags)) return 0;
    return WSAGetLastError();
}

fp_status fpt_port_open(fpt_port *p, fpt_worker *core, const fpt_port_backend *be, const fpt_win_ext *ext,
                        unsigned accepts_per_listener, unsigned batch)
{
    memset(p, 0, sizeof(*p));
    p->core = core;
    p->be = be;
    p->ext = ext;
    p->accepts_per_listener = accepts_per_listener;
    atomic_init(&p->wake_queued, false);
    p->max_entries = batch;
    p->entries = calloc(batch, sizeof(*p->entries));
    if (!p->entries) return FP_ENOMEM;
    /* one thread dequeues this port: concurrency 1 */
    p->port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
    if (p->port) return FP_OK;
    char text[160];
    fpt_wsa_describe((int)GetLastError(), text, sizeof(text));
    fpt_log(core->host, FP_LOG_ERROR, "%s: worker %u: CreateIoCompletionPort: %s", be->name, core->index,
            text);
    free(p->entries);
    p->entries = NULL;
    return FP_EIO;
}

void fpt_port_close(fpt_port *p)
{
    if (p->port) CloseHandle(p->port);
    p->port = NULL;
    free(p->entries);
    p->entries = NULL;
}

int fpt_port_associate(fpt_port *p, SOCKET s)
{
    if (CreateIoCompletionPort((HANDLE)s, p->port, FPT_PORT_KEY_IO, 0) == NULL) return (int)GetLastError();
    return 0;
}

void fpt_port_wake(fpt_port *p)
{
    /* One packet is enough: the poll that dequeues it clears the flag
     * before returning, so a wake that found it set is answered by that
     * poll's return. Without it a wake storm would fill the port. */
    if (atomic_exchange(&p->wake_queued, true)) return;
    if (!PostQueuedCompletionStatus(p->port, 0, FPT_PORT_KEY_WAKE, NULL))
        atomic_store(&p->wake_queued, false);
}

bool fpt_port_post(fpt_port *p, ULONG_PTR key, OVERLAPPED *ov)
{
    return PostQueuedCompletionStatus(p->port, 0, key, ov) != 0;
}

static int dispatch_one(fpt_port *p, const OVERLAPPED_ENTRY *e)
{
    switch (e->lpCompletionKey) {
    case FPT_PORT_KEY_WAKE: atomic_store(&p->wake_queued, false); return 1;
    case FPT_PORT_KEY_HANDOFF: return fpt_handoff_arrived(p, (fpt_handoff *)(void *)e->lpOverlapped);
    case FPT_PORT_KEY_IO: {
        fpt_port_op *op = fpt_port_op_of(e->lpOverlapped);
        op->pending = false;
        p->ops_in_flight--;
        if (op->kind == FPT_PORT_OP_ACCEPT)
            return fpt_accept_complete(p, fpt_container_of(op, fpt_accept_slot, op));
        return p->be->complete(p, e);
    }
    default: return p->be->complete(p, e);
    }
}

static void release_one(fpt_port *p, const OVERLAPPED_ENTRY *e)
{
    switch (e->lpCompletionKey) {
    case FPT_PORT_KEY_WAKE: atomic_store(&p->wake_queued, false); return;
    case FPT_PORT_KEY_HANDOFF: fpt_handoff_release(p, (fpt_handoff *)(void *)e->lpOverlapped); return;
    case FPT_PORT_KEY_IO: {
        fpt_port_op *op = fpt_port_op_of(e->lpOverlapped);
        op->pending = false;
        p->ops_in_flight--;
        if (op->kind == FPT_PORT_OP_ACCEPT) {
            fpt_accept_release(p, fpt_container_of(op, fpt_accept_slot, op));
            return;
        }
        p->be->release(p, e);
        return;
    }
    default: p->be->release(p, e); return;
    }
}

/* Waits up to `wait_ms` and handles one batch with `dispatch` (or
 * releases it); returns how many were dequeued, or -1 when the port
 * failed. */
static long dequeue(fpt_port *p, DWORD wait_ms, bool releasing, int *handled)
{
    ULONG n = 0;
    p->stats.port_waits++;
    if (!GetQueuedCompletionStatusEx(p->port, p->entries, p->max_entries, &n, wait_ms, FALSE)) {
        DWORD err = GetLastError();
        return err == WAIT_TIMEOUT ? 0 : -1;
    }
    p->stats.completions += n;
    p->stats.completion_batches++;
    if (n > p->stats.completion_batch_max) p->stats.completion_batch_max = n;
    for (ULONG i = 0; i < n; i++) {
        if (releasing)
            release_one(p, &p->entries[i]);
        else
            *handled += dispatch_one(p, &p->entries[i]);
    }
    return (long)n;
}

int fpt_port_dispatch(fpt_port *p, int timeout_ms)
{
    int handled = 0;
    DWORD wait = timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms;
    for (int round = 0; round < FPT_PORT_DEQUEUE_ROUNDS; round++) {
        long n = dequeue(p, wait, false, &handled);
        if (n < 0) {
            char text[160];
            fpt_wsa_describe((int)GetLastError(), text, sizeof(text));
            fpt_log(p->core->host, FP_LOG_ERROR, "%s: worker %u: GetQueuedCompletionStatusEx: %s",
                    p->be->name, p->core->index, text);
            return -1;
        }
        if ((ULONG)n < p->max_entries) break;
        wait = 0; /* a full batch: take what else is there without waiting */
    }
    return handled;
}

void fpt_port_stop_accepting(fpt_port *p)
{
    fpt_port_targets_stop_all(p); /* no hand-off is posted here any more */
    fpt_port_hosts_stop_all(p);
}

long fpt_port_release_some(fpt_port *p, int wait_ms)
{
    int handled = 0;
    return dequeue(p, (DWORD)wait_ms, true, &handled);
}

bool fpt_port_drain(fpt_port *p, int wait_ms)
{
    int handled = 0;
    int64_t end = fpt_now_ms() + wait_ms;
    while (p->ops_in_flight > 0) {
        int64_t left = end - fpt_now_ms();
        if (left <= 0 || dequeue(p, (DWORD)left, true, &handled) < 0) return false;
    }
    while (dequeue(p, 0, true, &handled) > 0) {
    }
    return true;
}

#define FPT_PORT_DESC(name) FPT_COUNTER_DESC(fpt_port_counters, name)
static const fpt_counter_desc port_counter_desc[] = {FPT_PORT_COUNTERS(FPT_PORT_DESC)};

void fpt_port_counters_emit(fpt_port *p, fp_stat_fn emit, void *ctx)
{
    p->stats.ops_in_flight = p->ops_in_flight;
    fpt_counters_emit(port_counter_desc, sizeof(port_counter_desc) / sizeof(port_counter_desc[0]), &p->stats,
                      emit, ctx);
}

int fpt_port_connect_socket(fpt_port *p, const fp_addr *addr, DWORD flags, const fpt_sock_settings *sock,
                            SOCKET *out)
{
    struct sockaddr_storage any;
    fpt_socklen len;
    if (!fpt_addr_wildcard(addr, &any, &len)) return WSAEAFNOSUPPORT;
    SOCKET s = fpt_win_socket_flags(any.ss_family, flags);
    if (s == INVALID_SOCKET) return WSAGetLastError();
    fpt_win_set_socket_buffers(s, sock->sndbuf, sock->rcvbuf);
    int err = bind(s, (struct sockaddr *)&any, len) == 0 ? 0 : WSAGetLastError();
    if (!err) err = fpt_port_associate(p, s);
    if (err) {
        closesocket(s);
        return err;
    }
    fpt_win_set_nodelay(s, sock->nodelay != 0);
    *out = s;
    return 0;
}

static int connect_ex(fpt_port *p, SOCKET s, const fp_addr *addr, fpt_port_op *op, uint8_t kind)
{
    struct sockaddr_storage ss;
    fpt_socklen len;
    if (!fpt_addr_to_sockaddr(addr, &ss, &len)) return WSAEAFNOSUPPORT;
    fpt_port_op_prepare(op, kind);
    if (!p->ext->connect_ex(s, (struct sockaddr *)&ss, len, NULL, 0, NULL, &op->ov)) {
        int err = WSAGetLastError();
        if (err != ERROR_IO_PENDING) return err;
    }
    fpt_port_op_posted(p, op);
    return 0;
}

void fpt_port_connect_post(fpt_port *p, fpt_conn *c, SOCKET s, fpt_port_op *op, uint8_t kind)
{
    int err = connect_ex(p, s, &c->peer, op, kind);
    if (err) {
        /* refused or unreachable at once: reported like a late failure */
        fpt_conn_connect_failed(c, fpt_wsa_connect_status(err));
        return;
    }
    c->ops++;
}

int fpt_port_connect_result(SOCKET s, fpt_port_op *op)
{
    int err = fpt_port_op_failed(op) ? fpt_port_op_error(s, op) : 0;
    /* the socket learns it is connected: getpeername, shutdown work */
    if (!err && setsockopt(s, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, NULL, 0) != 0) err = WSAGetLastError();
    return err;
}
