/*
 * check_rio_provider.c - rio_provider.dll, the software RIO provider for
 * tests (rio_provider/README.md), keeps RIO's rules: each test below fails
 * without the rule it names. Loopback TCP pairs only, every wait bounded.
 *
 * The DLL is loaded from this program's folder with LoadLibrary and its
 * table taken with fp_rio_provider_table, as rio.dll does. The suite runs
 * the provider in non-strict mode (violations are counted, the call fails);
 * the strict default (abort) and the load-time environment switches are
 * checked in child processes of this same program (--child ...).
 */
#include <winsock2.h>
#include <mswsock.h>
#include <ws2tcpip.h>
#include <windows.h>

#include "rio_compat.h"
#include "rio_provider.h"
#include "th_os.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAIT_MS 5000

static HMODULE dll;
static RIO_EXTENSION_FUNCTION_TABLE rio;
static fp_rio_provider_table_fn p_table;
static fp_rio_provider_get_counters_fn p_counters;
static fp_rio_provider_reset_counters_fn p_reset;
static fp_rio_provider_inject_fn p_inject;
static fp_rio_provider_set_strict_fn p_strict;
static fp_rio_provider_last_violation_fn p_last_violation;
static fp_rio_provider_pause_once_fn p_pause;

static void *sym(const char *name)
{
    FARPROC fn = GetProcAddress(dll, name);
    if (!fn) {
        fprintf(stderr, "rio_provider.dll lacks %s\n", name);
        exit(1);
    }
    void *p;
    memcpy(&p, &fn, sizeof(p));
    return p;
}

static void load_provider(void)
{
    wchar_t path[MAX_PATH];
    DWORD n = GetModuleFileNameW(NULL, path, MAX_PATH);
    while (n > 0 && path[n - 1] != L'\\' && path[n - 1] != L'/') n--;
    if (n == 0 || n + 20 >= MAX_PATH) exit(1);
    wcscpy(path + n, L"rio_provider.dll");
    dll = LoadLibraryW(path);
    if (!dll) {
        fprintf(stderr, "cannot load rio_provider.dll beside this program: error %lu\n", GetLastError());
        exit(1);
    }
    void *p;
    p = sym("fp_rio_provider_table"), memcpy(&p_table, &p, sizeof(p));
    p = sym("fp_rio_provider_get_counters"), memcpy(&p_counters, &p, sizeof(p));
    p = sym("fp_rio_provider_reset_counters"), memcpy(&p_reset, &p, sizeof(p));
    p = sym("fp_rio_provider_inject"), memcpy(&p_inject, &p, sizeof(p));
    p = sym("fp_rio_provider_set_strict"), memcpy(&p_strict, &p, sizeof(p));
    p = sym("fp_rio_provider_last_violation"), memcpy(&p_last_violation, &p, sizeof(p));
    p = sym("fp_rio_provider_pause_once"), memcpy(&p_pause, &p, sizeof(p));
    if (p_table(&rio, sizeof(rio)) != 0) {
        fprintf(stderr, "fp_rio_provider_table failed\n");
        exit(1);
    }
}

static fp_rio_provider_counters counters(void)
{
    fp_rio_provider_counters c;
    p_counters(&c);
    return c;
}

/* A failing RIO call and its error, taken before Check's own calls (which
 * reset the thread's last error) run. */
#define FAILS_WITH(call, code)                                                 \
    do {                                                                       \
        BOOL ok_ = (call);                                                     \
        int err_ = WSAGetLastError();                                          \
        ck_assert_msg(!ok_, "%s succeeded", #call);                            \
        ck_assert_int_eq(err_, code);                                          \
    } while (0)

/* ---- sockets ---- */

/* A connected loopback pair: *rio_side for the provider (overlapped, as
 * rio.dll makes them), *peer a plain socket. */
static void tcp_pair(SOCKET *rio_side, SOCKET *peer)
{
    SOCKET l = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    ck_assert(l != INVALID_SOCKET);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int len = sizeof(a);
    ck_assert_int_eq(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(l, 4), 0);
    ck_assert_int_eq(getsockname(l, (struct sockaddr *)&a, &len), 0);
    SOCKET c = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_OVERLAPPED);
    ck_assert(c != INVALID_SOCKET);
    ck_assert_int_eq(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
    SOCKET s = accept(l, NULL, NULL);
    ck_assert(s != INVALID_SOCKET);
    closesocket(l);
    *rio_side = c;
    *peer = s;
}

/* Up to len bytes within ms: the count, 0 at the FIN, -1 when nothing came. */
static int peer_recv(SOCKET s, char *buf, int len, int ms)
{
    WSAPOLLFD p = {.fd = s, .events = POLLRDNORM};
    if (WSAPoll(&p, 1, ms) != 1) return -1;
    return recv(s, buf, len, 0);
}

/* Exactly len bytes within ms. */
static void peer_recv_all(SOCKET s, char *buf, int len, int ms)
{
    int got = 0;
    ULONGLONG end = GetTickCount64() + (ULONGLONG)ms;
    while (got < len) {
        ULONGLONG now = GetTickCount64();
        ck_assert_msg(now < end, "the peer got %d of %d bytes", got, len);
        int r = peer_recv(s, buf + got, len - got, (int)(end - now));
        ck_assert_msg(r > 0, "the peer's recv: %d (error %d)", r, WSAGetLastError());
        got += r;
    }
}

/* ---- RIO helpers ---- */

static char *area;
static RIO_BUFFERID area_id;
#define AREA_SIZE 8192

static RIO_BUF buf_at(ULONG offset, ULONG length) { return (RIO_BUF){area_id, offset, length}; }

static HANDLE port;
static OVERLAPPED notify_ov;
#define NOTIFY_KEY 0x5eed

static RIO_CQ cq_iocp(DWORD size)
{
    RIO_NOTIFICATION_COMPLETION nc = {.Type = RIO_IOCP_COMPLETION};
    nc.Iocp.IocpHandle = port;
    nc.Iocp.CompletionKey = (PVOID)(uintptr_t)NOTIFY_KEY;
    nc.Iocp.Overlapped = &notify_ov;
    RIO_CQ cq = rio.RIOCreateCompletionQueue(size, &nc);
    ck_assert_msg(cq != RIO_INVALID_CQ, "RIOCreateCompletionQueue: %d", WSAGetLastError());
    return cq;
}

static RIO_CQ cq_polled(DWORD size)
{
    RIO_CQ cq = rio.RIOCreateCompletionQueue(size, NULL);
    ck_assert_msg(cq != RIO_INVALID_CQ, "RIOCreateCompletionQueue: %d", WSAGetLastError());
    return cq;
}

static RIO_RQ rq_make(SOCKET s, ULONG recvs, ULONG sends, RIO_CQ cq, void *context)
{
    RIO_RQ rq = rio.RIOCreateRequestQueue(s, recvs, 1, sends, 1, cq, cq, context);
    ck_assert_msg(rq != RIO_INVALID_RQ, "RIOCreateRequestQueue: %d", WSAGetLastError());
    return rq;
}

/* One notification packet within ms: true, and it is the CQ's. */
static bool port_packet(int ms)
{
    DWORD bytes;
    ULONG_PTR key;
    OVERLAPPED *ov;
    if (!GetQueuedCompletionStatus(port, &bytes, &key, &ov, (DWORD)ms)) {
        ck_assert_msg(ov == NULL, "a failed packet on the port");
        return false;
    }
    ck_assert_int_eq(key, NOTIFY_KEY);
    ck_assert_ptr_eq(ov, &notify_ov);
    return true;
}

/* Waits until n results have reached CQs in all (results_queued). */
static void wait_queued(uint64_t n)
{
    ULONGLONG end = GetTickCount64() + WAIT_MS;
    while (counters().results_queued < n) {
        ck_assert_msg(GetTickCount64() < end, "%llu of %llu results queued", (unsigned long long)counters().results_queued,
                      (unsigned long long)n);
        Sleep(5);
    }
}

/* Dequeues exactly n results within WAIT_MS. */
static void dequeue_n(RIO_CQ cq, RIORESULT *out, ULONG n)
{
    ULONG got = 0;
    ULONGLONG end = GetTickCount64() + WAIT_MS;
    while (got < n) {
        ULONG r = rio.RIODequeueCompletion(cq, out + got, n - got);
        ck_assert_msg(r != RIO_CORRUPT_CQ, "RIO_CORRUPT_CQ");
        got += r;
        if (got < n) {
            ck_assert_msg(GetTickCount64() < end, "%lu of %lu results", (unsigned long)got, (unsigned long)n);
            Sleep(5);
        }
    }
}

static void setup(void)
{
    p_strict(0);
    p_inject(FP_RIO_FAULT_NONE, 0);
    p_reset();
    port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 0);
    ck_assert_ptr_nonnull(port);
    area = VirtualAlloc(NULL, AREA_SIZE, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    ck_assert_ptr_nonnull(area);
    area_id = rio.RIORegisterBuffer(area, AREA_SIZE);
    ck_assert(area_id != RIO_INVALID_BUFFERID);
}

static void teardown(void)
{
    CloseHandle(port);
    /* the buffer stays registered when a test failed with requests out */
    rio.RIODeregisterBuffer(area_id);
}

/* ---- the table ---- */

START_TEST(table_contract)
{
    RIO_EXTENSION_FUNCTION_TABLE t;
    ck_assert_int_eq(p_table(&t, sizeof(t) - 1), WSAEFAULT);
    ck_assert_int_eq(p_table(NULL, sizeof(t)), WSAEFAULT);
    memset(&t, 0, sizeof(t));
    ck_assert_int_eq(p_table(&t, sizeof(t)), 0);
    ck_assert_int_eq(t.cbSize, sizeof(t));
    ck_assert(t.RIOReceive && t.RIOReceiveEx && t.RIOSend && t.RIOSendEx && t.RIOCloseCompletionQueue &&
              t.RIOCreateCompletionQueue && t.RIOCreateRequestQueue && t.RIODequeueCompletion &&
              t.RIODeregisterBuffer && t.RIONotify && t.RIORegisterBuffer && t.RIOResizeCompletionQueue &&
              t.RIOResizeRequestQueue);
}
END_TEST

/* ---- data both ways, notification ---- */

START_TEST(echo_with_iocp_notification)
{
    SOCKET s, peer;
    tcp_pair(&s, &peer);
    RIO_CQ cq = cq_iocp(8);
    RIO_RQ rq = rq_make(s, 2, 2, cq, (void *)0x50c);

    RIO_BUF in = buf_at(0, 100);
    ck_assert(rio.RIOReceive(rq, &in, 1, 0, (void *)0x1));
    ck_assert_int_eq(rio.RIONotify(cq), 0);
    ck_assert(!port_packet(50)); /* nothing finished yet */
    ck_assert_int_eq(send(peer, "hello", 5, 0), 5);
    ck_assert(port_packet(WAIT_MS));
    RIORESULT r[2];
    dequeue_n(cq, r, 1);
    ck_assert_int_eq(r[0].Status, 0);
    ck_assert_uint_eq(r[0].BytesTransferred, 5);
    ck_assert_uint_eq(r[0].SocketContext, 0x50c);
    ck_assert_uint_eq(r[0].RequestContext, 0x1);
    ck_assert_mem_eq(area, "hello", 5);

    memcpy(area + 1000, "world!", 6);
    RIO_BUF out = buf_at(1000, 6);
    ck_assert(rio.RIOSend(rq, &out, 1, 0, (void *)0x2));
    char got[6];
    peer_recv_all(peer, got, 6, WAIT_MS);
    ck_assert_mem_eq(got, "world!", 6);
    ck_assert_int_eq(rio.RIONotify(cq), 0);
    ck_assert(port_packet(WAIT_MS));
    dequeue_n(cq, r, 1);
    ck_assert_int_eq(r[0].Status, 0);
    ck_assert_uint_eq(r[0].BytesTransferred, 6);
    ck_assert_uint_eq(r[0].RequestContext, 0x2);
    ck_assert(!port_packet(100)); /* exactly one packet per RIONotify */
    ck_assert_uint_eq(rio.RIODequeueCompletion(cq, r, 2), 0);

    fp_rio_provider_counters c = counters();
    ck_assert_uint_eq(c.sends, 1);
    ck_assert_uint_eq(c.receives, 1);
    ck_assert_uint_eq(c.notify_calls, 2);
    ck_assert_uint_eq(c.notifications_posted, 2);
    ck_assert_uint_eq(c.bytes_sent, 6);
    ck_assert_uint_eq(c.bytes_received, 5);
    ck_assert_uint_eq(c.results_dequeued, 2);
    ck_assert_uint_eq(c.violations, 0);
    closesocket(s);
    closesocket(peer);
    rio.RIOCloseCompletionQueue(cq);
    ck_assert_uint_eq(counters().violations, 0);
}
END_TEST

START_TEST(notify_twice_is_already)
{
    RIO_CQ cq = cq_iocp(4);
    ck_assert_int_eq(rio.RIONotify(cq), 0);
    ck_assert_int_eq(rio.RIONotify(cq), WSAEALREADY);
    ck_assert(!port_packet(50));
    rio.RIOCloseCompletionQueue(cq);
    ck_assert_uint_eq(counters().violations, 0);
}
END_TEST

START_TEST(notify_fires_at_once_when_results_wait)
{
    SOCKET s, peer;
    tcp_pair(&s, &peer);
    RIO_CQ cq = cq_iocp(4);
    RIO_RQ rq = rq_make(s, 1, 1, cq, NULL);
    memcpy(area, "x", 1);
    RIO_BUF out = buf_at(0, 1);
    ck_assert(rio.RIOSend(rq, &out, 1, 0, NULL));
    wait_queued(1);
    ck_assert(!port_packet(0)); /* not armed: no packet */
    ck_assert_int_eq(rio.RIONotify(cq), 0);
    ck_assert(port_packet(0)); /* already there when RIONotify returned */
    ck_assert_int_eq(rio.RIONotify(cq), 0); /* fired, so armed again: fires again, the result still waits */
    ck_assert(port_packet(0));
    RIORESULT r;
    dequeue_n(cq, &r, 1);
    ck_assert_int_eq(r.Status, 0);
    closesocket(s);
    closesocket(peer);
    rio.RIOCloseCompletionQueue(cq);
}
END_TEST

START_TEST(dont_notify_results_do_not_notify)
{
    SOCKET s, peer;
    tcp_pair(&s, &peer);
    RIO_CQ cq = cq_iocp(4);
    RIO_RQ rq = rq_make(s, 1, 2, cq, NULL);
    memcpy(area, "ab", 2);
    RIO_BUF out = buf_at(0, 1);
    ck_assert(rio.RIOSend(rq, &out, 1, RIO_MSG_DONT_NOTIFY, (void *)0x1));
    wait_queued(1);
    ck_assert_int_eq(rio.RIONotify(cq), 0);
    ck_assert(!port_packet(100)); /* only a DONT_NOTIFY result queued */
    RIO_BUF out2 = buf_at(1, 1);
    ck_assert(rio.RIOSend(rq, &out2, 1, 0, (void *)0x2));
    ck_assert(port_packet(WAIT_MS));
    RIORESULT r[2];
    dequeue_n(cq, r, 2); /* both are dequeued, in order */
    ck_assert_uint_eq(r[0].RequestContext, 0x1);
    ck_assert_uint_eq(r[1].RequestContext, 0x2);
    char got[2];
    peer_recv_all(peer, got, 2, WAIT_MS);
    ck_assert_mem_eq(got, "ab", 2);
    closesocket(s);
    closesocket(peer);
    rio.RIOCloseCompletionQueue(cq);
    ck_assert_uint_eq(counters().violations, 0);
}
END_TEST

START_TEST(event_notification)
{
    SOCKET s, peer;
    tcp_pair(&s, &peer);
    HANDLE ev = CreateEventW(NULL, TRUE, FALSE, NULL);
    RIO_NOTIFICATION_COMPLETION nc = {.Type = RIO_EVENT_COMPLETION};
    nc.Event.EventHandle = ev;
    nc.Event.NotifyReset = TRUE;
    RIO_CQ cq = rio.RIOCreateCompletionQueue(4, &nc);
    ck_assert(cq != RIO_INVALID_CQ);
    RIO_RQ rq = rq_make(s, 1, 1, cq, NULL);
    RIO_BUF in = buf_at(0, 16);
    ck_assert(rio.RIOReceive(rq, &in, 1, 0, NULL));
    ck_assert_int_eq(rio.RIONotify(cq), 0);
    ck_assert_uint_eq(WaitForSingleObject(ev, 50), WAIT_TIMEOUT);
    send(peer, "e", 1, 0);
    ck_assert_uint_eq(WaitForSingleObject(ev, WAIT_MS), WAIT_OBJECT_0);
    RIORESULT r;
    dequeue_n(cq, &r, 1);
    ck_assert_uint_eq(r.BytesTransferred, 1);
    ck_assert_int_eq(rio.RIONotify(cq), 0); /* NotifyReset: the event is reset by RIONotify */
    ck_assert_uint_eq(WaitForSingleObject(ev, 50), WAIT_TIMEOUT);
    closesocket(s);
    closesocket(peer);
    dequeue_n(cq, &r, 0);
    rio.RIOCloseCompletionQueue(cq);
    CloseHandle(ev);
}
END_TEST

START_TEST(polled_cq_cannot_notify)
{
    RIO_CQ cq = cq_polled(4);
    ck_assert_int_eq(rio.RIONotify(cq), WSAEINVAL);
    ck_assert_uint_eq(counters().violations, 1);
    ck_assert_int_eq(rio.RIONotify(RIO_INVALID_CQ), WSAEINVAL);
    ck_assert_uint_eq(counters().violations, 2);
    rio.RIOCloseCompletionQueue(cq);
}
END_TEST

START_TEST(contexts_follow_out_of_order_completions)
{
    SOCKET s1, p1, s2, p2;
    tcp_pair(&s1, &p1);
    tcp_pair(&s2, &p2);
    RIO_CQ cq = cq_polled(8);
    RIO_RQ rq1 = rq_make(s1, 1, 1, cq, (void *)0xa1);
    RIO_RQ rq2 = rq_make(s2, 1, 1, cq, (void *)0xa2);
    RIO_BUF in1 = buf_at(0, 10), in2 = buf_at(100, 10);
    ck_assert(rio.RIOReceive(rq1, &in1, 1, 0, (void *)0x11));
    ck_assert(rio.RIOReceive(rq2, &in2, 1, 0, (void *)0x22));
    send(p2, "two", 3, 0); /* the later request finishes first */
    RIORESULT r[2];
    dequeue_n(cq, r, 1);
    ck_assert_uint_eq(r[0].SocketContext, 0xa2);
    ck_assert_uint_eq(r[0].RequestContext, 0x22);
    ck_assert_uint_eq(r[0].BytesTransferred, 3);
    send(p1, "one!", 4, 0);
    dequeue_n(cq, r, 1);
    ck_assert_uint_eq(r[0].SocketContext, 0xa1);
    ck_assert_uint_eq(r[0].RequestContext, 0x11);
    ck_assert_uint_eq(r[0].BytesTransferred, 4);
    ck_assert_mem_eq(area, "one!", 4);
    ck_assert_mem_eq(area + 100, "two", 3);
    closesocket(s1);
    closesocket(s2);
    closesocket(p1);
    closesocket(p2);
    rio.RIOCloseCompletionQueue(cq);
    ck_assert_uint_eq(counters().violations, 0);
}
END_TEST

/* ---- RIO_MSG_DEFER and commits ---- */

START_TEST(deferred_sends_wait_for_commit)
{
    SOCKET s, peer;
    tcp_pair(&s, &peer);
    RIO_CQ cq = cq_polled(8);
    RIO_RQ rq = rq_make(s, 1, 4, cq, NULL);
    memcpy(area, "abcdefxy", 8);
    RIO_BUF b1 = buf_at(0, 3), b2 = buf_at(3, 3);
    ck_assert(rio.RIOSend(rq, &b1, 1, RIO_MSG_DEFER, (void *)0x1));
    ck_assert(rio.RIOSend(rq, &b2, 1, RIO_MSG_DEFER, (void *)0x2));
    char got[8];
    ck_assert_int_eq(peer_recv(peer, got, sizeof(got), 300), -1); /* nothing sent yet */
    fp_rio_provider_counters c = counters();
    ck_assert_uint_eq(c.sends_deferred, 2);
    ck_assert_uint_eq(c.commits, 0);
    ck_assert_uint_eq(c.commit_calls, 0);
    ck_assert(rio.RIOSend(rq, NULL, 0, RIO_MSG_COMMIT_ONLY, NULL));
    peer_recv_all(peer, got, 6, WAIT_MS);
    ck_assert_mem_eq(got, "abcdef", 6); /* in order */
    c = counters();
    ck_assert_uint_eq(c.commits, 1);
    ck_assert_uint_eq(c.commit_calls, 1);
    RIORESULT r[2];
    dequeue_n(cq, r, 2);
    ck_assert_uint_eq(r[0].RequestContext + r[1].RequestContext, 0x3);

    /* a send without RIO_MSG_DEFER commits what was held before it */
    RIO_BUF b3 = buf_at(6, 1), b4 = buf_at(7, 1);
    ck_assert(rio.RIOSend(rq, &b3, 1, RIO_MSG_DEFER, NULL));
    ck_assert_int_eq(peer_recv(peer, got, sizeof(got), 100), -1);
    ck_assert(rio.RIOSend(rq, &b4, 1, 0, NULL));
    peer_recv_all(peer, got, 2, WAIT_MS);
    ck_assert_mem_eq(got, "xy", 2);
    c = counters();
    ck_assert_uint_eq(c.commits, 2);
    ck_assert_uint_eq(c.commit_calls, 2);
    ck_assert_uint_eq(c.sends, 4);
    dequeue_n(cq, r, 2);
    /* a commit with nothing held is a commit call, not a commit */
    ck_assert(rio.RIOSend(rq, NULL, 0, RIO_MSG_COMMIT_ONLY, NULL));
    c = counters();
    ck_assert_uint_eq(c.commits, 2);
    ck_assert_uint_eq(c.commit_calls, 3);
    closesocket(s);
    closesocket(peer);
    rio.RIOCloseCompletionQueue(cq);
    ck_assert_uint_eq(counters().violations, 0);
}
END_TEST

START_TEST(deferred_receive_waits_for_commit)
{
    SOCKET s, peer;
    tcp_pair(&s, &peer);
    RIO_CQ cq = cq_polled(4);
    RIO_RQ rq = rq_make(s, 2, 1, cq, NULL);
    RIO_BUF in = buf_at(0, 16);
    ck_assert(rio.RIOReceive(rq, &in, 1, RIO_MSG_DEFER, (void *)0x7));
    send(peer, "data", 4, 0);
    Sleep(200);
    ck_assert_uint_eq(counters().results_queued, 0); /* not started */
    /* a send does not commit receives */
    memcpy(area + 100, "s", 1);
    RIO_BUF out = buf_at(100, 1);
    ck_assert(rio.RIOSend(rq, &out, 1, 0, NULL));
    wait_queued(1);
    Sleep(100);
    ck_assert_uint_eq(counters().results_queued, 1);
    ck_assert(rio.RIOReceive(rq, NULL, 0, RIO_MSG_COMMIT_ONLY, NULL));
    wait_queued(2);
    RIORESULT r[2];
    dequeue_n(cq, r, 2);
    ck_assert_uint_eq(r[1].RequestContext, 0x7);
    ck_assert_uint_eq(r[1].BytesTransferred, 4);
    ck_assert_mem_eq(area, "data", 4);
    ck_assert_uint_eq(counters().receive_commits, 1);
    ck_assert_uint_eq(counters().receives_deferred, 1);
    closesocket(s);
    closesocket(peer);
    rio.RIOCloseCompletionQueue(cq);
    ck_assert_uint_eq(counters().violations, 0);
}
END_TEST

START_TEST(commit_only_takes_nothing_else)
{
    SOCKET s, peer;
    tcp_pair(&s, &peer);
    RIO_CQ cq = cq_polled(4);
    RIO_RQ rq = rq_make(s, 1, 1, cq, NULL);
    RIO_BUF b = buf_at(0, 1);
    FAILS_WITH(rio.RIOSend(rq, &b, 1, RIO_MSG_COMMIT_ONLY, NULL), WSAEINVAL);
    ck_assert(!rio.RIOSend(rq, NULL, 0, RIO_MSG_COMMIT_ONLY | RIO_MSG_DEFER, NULL));
    ck_assert(!rio.RIOSend(rq, NULL, 0, RIO_MSG_COMMIT_ONLY, (void *)1));
    ck_assert(!rio.RIOSend(rq, &b, 1, RIO_MSG_WAITALL, NULL));
    ck_assert(!rio.RIOSend(rq, &b, 1, 0x100, NULL));
    ck_assert_uint_eq(counters().violations, 5);
    closesocket(s);
    closesocket(peer);
    rio.RIOCloseCompletionQueue(cq);
}
END_TEST

/* ---- buffers ---- */

START_TEST(rio_buf_must_lie_in_a_registration)
{
    SOCKET s, peer;
    tcp_pair(&s, &peer);
    RIO_CQ cq = cq_polled(4);
    RIO_RQ rq = rq_make(s, 2, 2, cq, NULL);
    RIO_BUF outside = buf_at(AREA_SIZE - 10, 11);
    FAILS_WITH(rio.RIOReceive(rq, &outside, 1, 0, NULL), WSAEINVAL);
    ck_assert_ptr_nonnull(strstr(p_last_violation(), "outside"));
    RIO_BUF beyond = buf_at(AREA_SIZE + 1, 1);
    ck_assert(!rio.RIOSend(rq, &beyond, 1, 0, NULL));
    RIO_BUF empty = buf_at(0, 0);
    ck_assert(!rio.RIOSend(rq, &empty, 1, 0, NULL));
    RIO_BUF unknown = {(RIO_BUFFERID)(uintptr_t)0x1234, 0, 1};
    ck_assert(!rio.RIOSend(rq, &unknown, 1, 0, NULL));
    ck_assert_ptr_nonnull(strstr(p_last_violation(), "not registered"));
    RIO_BUF two[2] = {buf_at(0, 1), buf_at(1, 1)};
    ck_assert(!rio.RIOSend(rq, two, 2, 0, NULL));
    ck_assert_uint_eq(counters().violations, 5);
    ck_assert_uint_eq(counters().sends + counters().receives, 0);
    RIO_BUF last = buf_at(AREA_SIZE - 10, 10); /* the very end is fine */
    ck_assert(rio.RIOReceive(rq, &last, 1, 0, NULL));
    closesocket(s);
    closesocket(peer);
    RIORESULT r;
    dequeue_n(cq, &r, 1);
    rio.RIOCloseCompletionQueue(cq);
    ck_assert_uint_eq(counters().violations, 5);
}
END_TEST

START_TEST(deregistering_a_buffer_in_use)
{
    SOCKET s, peer;
    tcp_pair(&s, &peer);
    RIO_CQ cq = cq_polled(4);
    RIO_RQ rq = rq_make(s, 1, 1, cq, NULL);
    char *mine = malloc(64);
    RIO_BUFFERID id = rio.RIORegisterBuffer(mine, 64);
    ck_assert(id != RIO_INVALID_BUFFERID);
    RIO_BUF in = {id, 0, 64};
    ck_assert(rio.RIOReceive(rq, &in, 1, 0, NULL));
    rio.RIODeregisterBuffer(id);
    ck_assert_uint_eq(counters().violations, 1);
    ck_assert_ptr_nonnull(strstr(p_last_violation(), "outstanding"));
    send(peer, "z", 1, 0);
    wait_queued(1);
    rio.RIODeregisterBuffer(id); /* finished, but not yet dequeued: still in use */
    ck_assert_uint_eq(counters().violations, 2);
    RIORESULT r;
    dequeue_n(cq, &r, 1);
    rio.RIODeregisterBuffer(id);
    ck_assert_uint_eq(counters().violations, 2);
    ck_assert_uint_eq(counters().deregisters, 1);
    rio.RIODeregisterBuffer(id); /* twice */
    ck_assert_uint_eq(counters().violations, 3);
    free(mine);
    closesocket(s);
    closesocket(peer);
    rio.RIOCloseCompletionQueue(cq);
}
END_TEST

/* ---- limits and reservations ---- */

START_TEST(receives_beyond_max_outstanding)
{
    SOCKET s, peer;
    tcp_pair(&s, &peer);
    RIO_CQ cq = cq_polled(8);
    RIO_RQ rq = rq_make(s, 2, 1, cq, NULL);
    RIO_BUF a = buf_at(0, 8), b = buf_at(8, 8), c = buf_at(16, 8);
    ck_assert(rio.RIOReceive(rq, &a, 1, 0, NULL));
    ck_assert(rio.RIOReceive(rq, &b, 1, RIO_MSG_DEFER, NULL)); /* held ones count too */
    FAILS_WITH(rio.RIOReceive(rq, &c, 1, 0, NULL), WSAENOBUFS);
    ck_assert_uint_eq(counters().violations, 0);
    /* a finished receive keeps its slot until it is dequeued */
    ck_assert(rio.RIOReceive(rq, NULL, 0, RIO_MSG_COMMIT_ONLY, NULL));
    send(peer, "12345678", 8, 0);
    wait_queued(1);
    FAILS_WITH(rio.RIOReceive(rq, &c, 1, 0, NULL), WSAENOBUFS);
    RIORESULT r;
    dequeue_n(cq, &r, 1);
    ck_assert(rio.RIOReceive(rq, &c, 1, 0, NULL));
    /* sends: max 1 */
    RIO_BUF o = buf_at(100, 1);
    ck_assert(rio.RIOSend(rq, &o, 1, RIO_MSG_DEFER, NULL));
    FAILS_WITH(rio.RIOSend(rq, &o, 1, 0, NULL), WSAENOBUFS);
    ck_assert(rio.RIOSend(rq, NULL, 0, RIO_MSG_COMMIT_ONLY, NULL));
    closesocket(s);
    closesocket(peer);
    RIORESULT rs[3];
    dequeue_n(cq, rs, 3);
    rio.RIOCloseCompletionQueue(cq);
    ck_assert_uint_eq(counters().violations, 0);
}
END_TEST

START_TEST(request_queues_need_room_in_the_cq)
{
    SOCKET s1, p1, s2, p2;
    tcp_pair(&s1, &p1);
    tcp_pair(&s2, &p2);
    RIO_CQ cq = cq_polled(4);
    rq_make(s1, 2, 2, cq, NULL); /* reserves all 4 */
    RIO_RQ rq2 = rio.RIOCreateRequestQueue(s2, 1, 1, 1, 1, cq, cq, NULL);
    FAILS_WITH(rq2 != RIO_INVALID_RQ, WSAENOBUFS);
    ck_assert(rio.RIOResizeCompletionQueue(cq, 6));
    rq2 = rq_make(s2, 1, 1, cq, NULL);
    FAILS_WITH(rio.RIOResizeCompletionQueue(cq, 5), WSAETOOMANYREFS); /* below the 6 reserved */
    /* an RQ that grows needs room too */
    FAILS_WITH(rio.RIOResizeRequestQueue(rq2, 2, 1), WSAENOBUFS);
    ck_assert(rio.RIOResizeCompletionQueue(cq, 7));
    ck_assert(rio.RIOResizeRequestQueue(rq2, 2, 1));
    ck_assert(!rio.RIOResizeCompletionQueue(cq, 6));
    /* separate CQs: each needs its side's room */
    RIO_CQ rcq = cq_polled(1), scq = cq_polled(1);
    SOCKET s3, p3;
    tcp_pair(&s3, &p3);
    ck_assert(rio.RIOCreateRequestQueue(s3, 1, 1, 2, 1, rcq, scq, NULL) == RIO_INVALID_RQ);
    ck_assert(rio.RIOCreateRequestQueue(s3, 1, 1, 1, 1, rcq, scq, NULL) != RIO_INVALID_RQ);
    fp_rio_provider_counters c = counters();
    ck_assert_uint_eq(c.cq_resizes, 2);
    ck_assert_uint_eq(c.rq_resizes, 1);
    ck_assert_uint_eq(c.violations, 0);
    closesocket(s1);
    closesocket(s2);
    closesocket(s3);
    closesocket(p1);
    closesocket(p2);
    closesocket(p3);
    rio.RIOCloseCompletionQueue(cq);
    rio.RIOCloseCompletionQueue(rcq);
    rio.RIOCloseCompletionQueue(scq);
}
END_TEST

START_TEST(closed_socket_gives_its_reservation_back)
{
    SOCKET s1, p1, s2, p2;
    tcp_pair(&s1, &p1);
    tcp_pair(&s2, &p2);
    RIO_CQ cq = cq_polled(4);
    rq_make(s1, 2, 2, cq, NULL);
    ck_assert(rio.RIOCreateRequestQueue(s2, 2, 1, 2, 1, cq, cq, NULL) == RIO_INVALID_RQ);
    closesocket(s1);
    rq_make(s2, 2, 2, cq, NULL); /* s1's RQ was reaped */
    ck_assert_uint_eq(counters().rq_reaps, 1);
    ck_assert(!rio.RIOResizeCompletionQueue(cq, 3));
    closesocket(s2);
    ck_assert(rio.RIOResizeCompletionQueue(cq, 1)); /* the resize reaps s2's */
    ck_assert_uint_eq(counters().rq_reaps, 2);
    closesocket(p1);
    closesocket(p2);
    rio.RIOCloseCompletionQueue(cq);
    ck_assert_uint_eq(counters().violations, 0);
}
END_TEST

START_TEST(closing_a_socket_ends_its_receive_with_an_error)
{
    SOCKET s, peer;
    tcp_pair(&s, &peer);
    RIO_CQ cq = cq_polled(2);
    RIO_RQ rq = rq_make(s, 1, 1, cq, (void *)0xc1);
    RIO_BUF in = buf_at(0, 16);
    ck_assert(rio.RIOReceive(rq, &in, 1, 0, (void *)0x99));
    RIO_BUF held = buf_at(100, 1);
    ck_assert(rio.RIOSend(rq, &held, 1, RIO_MSG_DEFER, (void *)0x98));
    closesocket(s);
    RIORESULT r[2];
    dequeue_n(cq, r, 2);
    for (int i = 0; i < 2; i++) {
        ck_assert_msg(r[i].Status != 0, "a request of a closed socket ended with status 0");
        ck_assert_uint_eq(r[i].BytesTransferred, 0);
        ck_assert_uint_eq(r[i].SocketContext, 0xc1);
        fprintf(stderr, "closed socket: request 0x%llx ended with status %ld\n",
                (unsigned long long)r[i].RequestContext, (long)r[i].Status);
    }
    ck_assert_uint_eq(r[0].RequestContext + r[1].RequestContext, 0x99 + 0x98);
    ck_assert_uint_eq(counters().rq_reaps, 1); /* reaped at the dequeue */
    /* and its handle is no RQ any more */
    ck_assert(!rio.RIOReceive(rq, &in, 1, 0, NULL));
    ck_assert_uint_eq(counters().violations, 1);
    closesocket(peer);
    rio.RIOCloseCompletionQueue(cq);
}
END_TEST

START_TEST(fin_is_a_zero_byte_result)
{
    SOCKET s, peer;
    tcp_pair(&s, &peer);
    RIO_CQ cq = cq_polled(2);
    RIO_RQ rq = rq_make(s, 1, 1, cq, NULL);
    RIO_BUF in = buf_at(0, 16);
    ck_assert(rio.RIOReceive(rq, &in, 1, 0, NULL));
    shutdown(peer, SD_SEND);
    RIORESULT r;
    dequeue_n(cq, &r, 1);
    ck_assert_int_eq(r.Status, 0);
    ck_assert_uint_eq(r.BytesTransferred, 0);
    closesocket(s);
    closesocket(peer);
    rio.RIOCloseCompletionQueue(cq);
    ck_assert_uint_eq(counters().violations, 0);
}
END_TEST

START_TEST(closing_a_cq_with_requests_out)
{
    SOCKET s, peer;
    tcp_pair(&s, &peer);
    RIO_CQ cq = cq_polled(2);
    RIO_RQ rq = rq_make(s, 1, 1, cq, NULL);
    RIO_BUF in = buf_at(0, 16);
    ck_assert(rio.RIOReceive(rq, &in, 1, 0, NULL));
    rio.RIOCloseCompletionQueue(cq);
    ck_assert_uint_eq(counters().violations, 1);
    ck_assert_uint_eq(counters().cq_closes, 0);
    closesocket(s);
    RIORESULT r;
    dequeue_n(cq, &r, 1);
    rio.RIOCloseCompletionQueue(cq);
    ck_assert_uint_eq(counters().cq_closes, 1);
    rio.RIOCloseCompletionQueue(cq); /* twice */
    ck_assert_uint_eq(counters().violations, 2);
    closesocket(peer);
}
END_TEST

/* ---- faults ---- */

START_TEST(fault_corrupt_cq)
{
    SOCKET s, peer;
    tcp_pair(&s, &peer);
    RIO_CQ cq = cq_iocp(2);
    RIO_RQ rq = rq_make(s, 1, 1, cq, NULL);
    RIO_BUF in = buf_at(0, 16);
    ck_assert(rio.RIOReceive(rq, &in, 1, 0, NULL));
    p_inject(FP_RIO_FAULT_CORRUPT_CQ, 1);
    RIORESULT r;
    ck_assert_uint_eq(rio.RIODequeueCompletion(cq, &r, 1), 0);
    ck_assert_uint_eq(rio.RIODequeueCompletion(cq, &r, 1), RIO_CORRUPT_CQ);
    ck_assert_uint_eq(rio.RIODequeueCompletion(cq, &r, 1), RIO_CORRUPT_CQ); /* for good */
    ck_assert_int_eq(rio.RIONotify(cq), WSAEINVAL);
    send(peer, "late", 4, 0); /* a result into a corrupt CQ is dropped */
    Sleep(100);
    ck_assert_uint_eq(rio.RIODequeueCompletion(cq, &r, 1), RIO_CORRUPT_CQ);
    fp_rio_provider_counters c = counters();
    ck_assert_uint_eq(c.faults_injected, 1);
    ck_assert_uint_eq(c.violations, 0);
    closesocket(s);
    rio.RIOCloseCompletionQueue(cq); /* a corrupt CQ may close with requests out */
    ck_assert_uint_eq(counters().cq_closes, 1);
    ck_assert_uint_eq(counters().violations, 0);
    closesocket(peer);
}
END_TEST

START_TEST(fault_rq_full)
{
    SOCKET s, peer;
    tcp_pair(&s, &peer);
    RIO_CQ cq = cq_polled(8);
    RIO_RQ rq = rq_make(s, 4, 1, cq, NULL);
    RIO_BUF in = buf_at(0, 16);
    p_inject(FP_RIO_FAULT_RQ_FULL, 1);
    ck_assert(rio.RIOReceive(rq, &in, 1, 0, NULL));
    FAILS_WITH(rio.RIOReceive(rq, &in, 1, 0, NULL), WSAENOBUFS);
    ck_assert(rio.RIOReceive(rq, &in, 1, 0, NULL)); /* once */
    ck_assert_uint_eq(counters().faults_injected, 1);
    ck_assert_uint_eq(counters().receives, 2);
    closesocket(s);
    RIORESULT r[2];
    dequeue_n(cq, r, 2);
    rio.RIOCloseCompletionQueue(cq);
    ck_assert_uint_eq(counters().violations, 0);
    closesocket(peer);
}
END_TEST

/* ---- serialization ---- */

typedef struct racer {
    RIO_CQ cq;
    RIO_RQ rq;
    ULONG result;
} racer;

static DWORD WINAPI dequeue_thread(void *arg)
{
    racer *r = arg;
    RIORESULT res;
    r->result = rio.RIODequeueCompletion(r->cq, &res, 1);
    return 0;
}

START_TEST(two_threads_dequeuing_at_once)
{
    RIO_CQ cq = cq_polled(2);
    HANDLE entered = CreateEventW(NULL, TRUE, FALSE, NULL), release = CreateEventW(NULL, TRUE, FALSE, NULL);
    p_pause(FP_RIO_PAUSE_DEQUEUE, entered, release);
    racer r = {.cq = cq, .result = 77};
    HANDLE t = CreateThread(NULL, 0, dequeue_thread, &r, 0, NULL);
    ck_assert_uint_eq(WaitForSingleObject(entered, WAIT_MS), WAIT_OBJECT_0);
    RIORESULT res;
    ck_assert_uint_eq(rio.RIODequeueCompletion(cq, &res, 1), RIO_CORRUPT_CQ);
    ck_assert_uint_eq(counters().violations, 1);
    ck_assert_ptr_nonnull(strstr(p_last_violation(), "another thread"));
    SetEvent(release);
    ck_assert_uint_eq(WaitForSingleObject(t, WAIT_MS), WAIT_OBJECT_0);
    ck_assert_uint_eq(r.result, 0); /* the first one went on */
    ck_assert_uint_eq(rio.RIODequeueCompletion(cq, &res, 1), 0);
    ck_assert_uint_eq(counters().violations, 1);
    CloseHandle(t);
    CloseHandle(entered);
    CloseHandle(release);
    rio.RIOCloseCompletionQueue(cq);
}
END_TEST

static DWORD WINAPI receive_thread(void *arg)
{
    racer *r = arg;
    RIO_BUF in = buf_at(0, 16);
    r->result = (ULONG)rio.RIOReceive(r->rq, &in, 1, 0, NULL);
    return 0;
}

START_TEST(two_threads_on_one_rq)
{
    SOCKET s, peer;
    tcp_pair(&s, &peer);
    RIO_CQ cq = cq_polled(4);
    RIO_RQ rq = rq_make(s, 1, 2, cq, NULL);
    HANDLE entered = CreateEventW(NULL, TRUE, FALSE, NULL), release = CreateEventW(NULL, TRUE, FALSE, NULL);
    p_pause(FP_RIO_PAUSE_RQ_CALL, entered, release);
    racer r = {.rq = rq, .result = 77};
    HANDLE t = CreateThread(NULL, 0, receive_thread, &r, 0, NULL);
    ck_assert_uint_eq(WaitForSingleObject(entered, WAIT_MS), WAIT_OBJECT_0);
    RIO_BUF out = buf_at(100, 1);
    ck_assert(!rio.RIOSend(rq, &out, 1, 0, NULL)); /* a send while the receive is inside */
    ck_assert_uint_eq(counters().violations, 1);
    ck_assert_ptr_nonnull(strstr(p_last_violation(), "serialized"));
    ck_assert(rio.RIOSend(rq, NULL, 0, RIO_MSG_COMMIT_ONLY, NULL)); /* a commit need not be serialized */
    ck_assert_uint_eq(counters().violations, 1);
    SetEvent(release);
    ck_assert_uint_eq(WaitForSingleObject(t, WAIT_MS), WAIT_OBJECT_0);
    ck_assert_uint_eq(r.result, TRUE);
    ck_assert(rio.RIOSend(rq, &out, 1, 0, NULL));
    closesocket(s);
    RIORESULT res[2];
    dequeue_n(cq, res, 2);
    CloseHandle(t);
    CloseHandle(entered);
    CloseHandle(release);
    rio.RIOCloseCompletionQueue(cq);
    closesocket(peer);
    ck_assert_uint_eq(counters().violations, 1);
}
END_TEST

/* ---- the I/O underneath ---- */

START_TEST(no_packet_reaches_the_sockets_own_port)
{
    SOCKET s, peer;
    tcp_pair(&s, &peer);
    /* the socket's own port, as rio.dll's AcceptEx/ConnectEx port */
    HANDLE own = CreateIoCompletionPort((HANDLE)s, NULL, 0x0b, 0);
    ck_assert_ptr_nonnull(own);
    RIO_CQ cq = cq_polled(4);
    RIO_RQ rq = rq_make(s, 1, 1, cq, NULL);
    RIO_BUF in = buf_at(0, 16), out = buf_at(100, 4);
    memcpy(area + 100, "ping", 4);
    ck_assert(rio.RIOReceive(rq, &in, 1, 0, NULL));
    ck_assert(rio.RIOSend(rq, &out, 1, 0, NULL));
    send(peer, "pong", 4, 0);
    RIORESULT r[2];
    dequeue_n(cq, r, 2);
    DWORD bytes;
    ULONG_PTR key;
    OVERLAPPED *ov;
    ck_assert_msg(!GetQueuedCompletionStatus(own, &bytes, &key, &ov, 200) && ov == NULL,
                  "the provider's I/O completed into the socket's port");
    /* the control: a plain overlapped send does reach that port */
    OVERLAPPED plain = {0};
    WSABUF wb = {4, area + 100};
    int rc = WSASend(s, &wb, 1, NULL, 0, &plain, NULL);
    ck_assert(rc == 0 || WSAGetLastError() == WSA_IO_PENDING);
    ck_assert(GetQueuedCompletionStatus(own, &bytes, &key, &ov, WAIT_MS));
    ck_assert_ptr_eq(ov, &plain);
    ck_assert_uint_eq(key, 0x0b);
    char got[8];
    peer_recv_all(peer, got, 8, WAIT_MS);
    closesocket(s);
    closesocket(peer);
    CloseHandle(own);
    rio.RIOCloseCompletionQueue(cq);
    ck_assert_uint_eq(counters().violations, 0);
}
END_TEST

/* ---- strict mode and the environment, in child processes ---- */

/* Runs this program with `args` and extra environment `env` (NAME=VALUE or
 * NULL); its exit code, its stderr in err. */
static DWORD run_child(const char *args, const char *env, char *err, size_t err_size)
{
    char exe[MAX_PATH], cmd[MAX_PATH + 64], tmp_dir[MAX_PATH], tmp[MAX_PATH];
    ck_assert(GetModuleFileNameA(NULL, exe, sizeof(exe)) > 0);
    snprintf(cmd, sizeof(cmd), "\"%s\" %s", exe, args);
    ck_assert(GetTempPathA(sizeof(tmp_dir), tmp_dir) > 0);
    ck_assert(GetTempFileNameA(tmp_dir, "rio", 0, tmp) != 0);
    SECURITY_ATTRIBUTES sa = {sizeof(sa), NULL, TRUE};
    HANDLE out = CreateFileA(tmp, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa,
                             CREATE_ALWAYS, FILE_ATTRIBUTE_TEMPORARY, NULL);
    ck_assert(out != INVALID_HANDLE_VALUE);
    STARTUPINFOA si = {.cb = sizeof(si), .dwFlags = STARTF_USESTDHANDLES};
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = out;
    si.hStdError = out;
    char name[64] = "";
    if (env) {
        const char *eq = strchr(env, '=');
        snprintf(name, sizeof(name), "%.*s", (int)(eq - env), env);
        SetEnvironmentVariableA(name, eq + 1);
    }
    PROCESS_INFORMATION pi;
    BOOL ok = CreateProcessA(exe, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi);
    if (env) SetEnvironmentVariableA(name, NULL);
    ck_assert_msg(ok, "CreateProcess: %lu", GetLastError());
    DWORD waited = WaitForSingleObject(pi.hProcess, 60000);
    if (waited != WAIT_OBJECT_0) TerminateProcess(pi.hProcess, 99);
    ck_assert_uint_eq(waited, WAIT_OBJECT_0);
    DWORD code = 0;
    GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hProcess);
    CloseHandle(pi.hThread);
    DWORD n = 0;
    SetFilePointer(out, 0, NULL, FILE_BEGIN);
    ReadFile(out, err, (DWORD)err_size - 1, &n, NULL);
    err[n] = '\0';
    CloseHandle(out);
    DeleteFileA(tmp);
    return code;
}

START_TEST(strict_mode_aborts)
{
    char err[4096];
    DWORD code = run_child("--child violate", NULL, err, sizeof(err));
    ck_assert_msg(code != 0 && code != 42, "the child went on after a violation (exit %lu): %s", code, err);
    ck_assert_msg(strstr(err, "rio provider: VIOLATION: RIODeregisterBuffer") != NULL, "its stderr: %s", err);
}
END_TEST

START_TEST(environment_turns_strict_off)
{
    char err[4096];
    DWORD code = run_child("--child violate", "FP_RIO_PROVIDER_STRICT=0", err, sizeof(err));
    ck_assert_msg(code == 42, "exit %lu: %s", code, err);
    ck_assert_ptr_nonnull(strstr(err, "rio provider: VIOLATION:"));
}
END_TEST

START_TEST(environment_injects_a_fault)
{
    char err[4096];
    DWORD code = run_child("--child rq_full@2", "FP_RIO_PROVIDER_FAULT=rq_full@2", err, sizeof(err));
    ck_assert_msg(code == 0, "exit %lu: %s", code, err);
    code = run_child("--child corrupt_cq@1", "FP_RIO_PROVIDER_FAULT=corrupt_cq@1", err, sizeof(err));
    ck_assert_msg(code == 0, "exit %lu: %s", code, err);
    code = run_child("--child violate", "FP_RIO_PROVIDER_FAULT=bogus", err, sizeof(err));
    ck_assert_msg(code != 0 && strstr(err, "FP_RIO_PROVIDER_FAULT") != NULL, "exit %lu: %s", code, err);
}
END_TEST

#define CHILD_CHECK(cond)                                                                  \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "child: %s failed (error %d)\n", #cond, WSAGetLastError());   \
            return 1;                                                                      \
        }                                                                                  \
    } while (0)

static int child_main(const char *what)
{
    load_provider();
    if (strcmp(what, "violate") == 0) {
        rio.RIODeregisterBuffer((RIO_BUFFERID)(uintptr_t)0x4242);
        return 42; /* reached only when not strict */
    }
    SOCKET s, peer;
    /* no Check here: a small pair by hand */
    SOCKET l = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int len = sizeof(a);
    CHILD_CHECK(bind(l, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(l, 1) == 0);
    CHILD_CHECK(getsockname(l, (struct sockaddr *)&a, &len) == 0);
    s = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_OVERLAPPED);
    CHILD_CHECK(connect(s, (struct sockaddr *)&a, sizeof(a)) == 0);
    peer = accept(l, NULL, NULL);
    CHILD_CHECK(peer != INVALID_SOCKET);
    static char mem[64];
    RIO_BUFFERID id = rio.RIORegisterBuffer(mem, sizeof(mem));
    RIO_CQ cq = rio.RIOCreateCompletionQueue(8, NULL);
    RIO_RQ rq = rio.RIOCreateRequestQueue(s, 4, 1, 1, 1, cq, cq, NULL);
    CHILD_CHECK(rq != RIO_INVALID_RQ);
    RIO_BUF in = {id, 0, 8};
    RIORESULT r;
    if (strcmp(what, "rq_full@2") == 0) {
        CHILD_CHECK(rio.RIOReceive(rq, &in, 1, 0, NULL));
        CHILD_CHECK(rio.RIOReceive(rq, &in, 1, 0, NULL));
        CHILD_CHECK(!rio.RIOReceive(rq, &in, 1, 0, NULL) && WSAGetLastError() == WSAENOBUFS);
        CHILD_CHECK(rio.RIOReceive(rq, &in, 1, 0, NULL));
    } else if (strcmp(what, "corrupt_cq@1") == 0) {
        CHILD_CHECK(rio.RIODequeueCompletion(cq, &r, 1) == 0);
        CHILD_CHECK(rio.RIODequeueCompletion(cq, &r, 1) == RIO_CORRUPT_CQ);
    } else {
        return 2;
    }
    return 0; /* exits with requests out: nothing is freed at exit */
}

static Suite *rio_provider_suite(void)
{
    Suite *s = suite_create("rio_provider");
    TCase *tc = tcase_create("rules");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, table_contract);
    tcase_add_test(tc, echo_with_iocp_notification);
    tcase_add_test(tc, notify_twice_is_already);
    tcase_add_test(tc, notify_fires_at_once_when_results_wait);
    tcase_add_test(tc, dont_notify_results_do_not_notify);
    tcase_add_test(tc, event_notification);
    tcase_add_test(tc, polled_cq_cannot_notify);
    tcase_add_test(tc, contexts_follow_out_of_order_completions);
    tcase_add_test(tc, deferred_sends_wait_for_commit);
    tcase_add_test(tc, deferred_receive_waits_for_commit);
    tcase_add_test(tc, commit_only_takes_nothing_else);
    tcase_add_test(tc, rio_buf_must_lie_in_a_registration);
    tcase_add_test(tc, deregistering_a_buffer_in_use);
    tcase_add_test(tc, receives_beyond_max_outstanding);
    tcase_add_test(tc, request_queues_need_room_in_the_cq);
    tcase_add_test(tc, closed_socket_gives_its_reservation_back);
    tcase_add_test(tc, closing_a_socket_ends_its_receive_with_an_error);
    tcase_add_test(tc, fin_is_a_zero_byte_result);
    tcase_add_test(tc, closing_a_cq_with_requests_out);
    tcase_add_test(tc, fault_corrupt_cq);
    tcase_add_test(tc, fault_rq_full);
    tcase_add_test(tc, two_threads_dequeuing_at_once);
    tcase_add_test(tc, two_threads_on_one_rq);
    tcase_add_test(tc, no_packet_reaches_the_sockets_own_port);
    tcase_add_test(tc, strict_mode_aborts);
    tcase_add_test(tc, environment_turns_strict_off);
    tcase_add_test(tc, environment_injects_a_fault);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    th_os_init();
    if (argc == 3 && strcmp(argv[1], "--child") == 0) return child_main(argv[2]);
    load_provider();
    SRunner *runner = srunner_create(rio_provider_suite());
    srunner_set_fork_status(runner, CK_NOFORK);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    /* the DLL goes with nothing in flight: its unload frees everything */
    FreeLibrary(dll);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
