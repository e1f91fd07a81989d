/*
 * win_socket.c - Winsock for the Windows transports: start-up, extension
 * functions, error mapping, socket settings, listening sockets, adopt and
 * the clock (the twin of posix_socket.c).
 */
#include "win_socket.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "sockaddr.h"

/* ---- Winsock ---- */

fp_status fpt_win_startup(const char *who, char *why, size_t why_len)
{
    WSADATA data;
    int err = WSAStartup(MAKEWORD(2, 2), &data);
    if (err != 0) {
        char text[160];
        fpt_wsa_describe(err, text, sizeof(text));
        if (why_len) snprintf(why, why_len, "%s: WSAStartup(2.2) failed: %s", who, text);
        return FP_ENOTSUP;
    }
    if (LOBYTE(data.wVersion) != 2 || HIBYTE(data.wVersion) != 2) {
        WSACleanup();
        if (why_len)
            snprintf(why, why_len, "%s: Winsock 2.2 is not available (the system offers %u.%u)", who,
                     LOBYTE(data.wVersion), HIBYTE(data.wVersion));
        return FP_ENOTSUP;
    }
    return FP_OK;
}

void fpt_win_cleanup(void) { (void)WSACleanup(); }

static bool load_one(SOCKET s, GUID id, void *fn, size_t fn_size)
{
    DWORD bytes = 0;
    return WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &id, sizeof(id), fn, (DWORD)fn_size, &bytes,
                    NULL, NULL) == 0;
}

fp_status fpt_win_load_ext(const char *who, fpt_win_ext *ext, char *why, size_t why_len)
{
    memset(ext, 0, sizeof(*ext));
    SOCKET s = fpt_win_socket(AF_INET);
    if (s == INVALID_SOCKET) {
        char text[160];
        fpt_wsa_describe(WSAGetLastError(), text, sizeof(text));
        if (why_len) snprintf(why, why_len, "%s: cannot create a TCP socket: %s", who, text);
        return FP_ENOTSUP;
    }
    const char *missing = NULL;
    if (!load_one(s, (GUID)WSAID_ACCEPTEX, &ext->accept_ex, sizeof(ext->accept_ex)))
        missing = "AcceptEx";
    else if (!load_one(s, (GUID)WSAID_CONNECTEX, &ext->connect_ex, sizeof(ext->connect_ex)))
        missing = "ConnectEx";
    else if (!load_one(s, (GUID)WSAID_GETACCEPTEXSOCKADDRS, &ext->accept_addrs, sizeof(ext->accept_addrs)))
        missing = "GetAcceptExSockaddrs";
    int err = missing ? WSAGetLastError() : 0;
    closesocket(s);
    if (!missing) return FP_OK;
    char text[160];
    fpt_wsa_describe(err, text, sizeof(text));
    if (why_len)
        snprintf(why, why_len, "%s: the TCP provider has no %s (%s); a layered provider may hide it", who,
                 missing, text);
    return FP_ENOTSUP;
}

/* ---- errors ---- */

fp_status fpt_wsa_status(int err)
{
    switch (err) {
    case WSAECONNRESET:
    case WSAECONNABORTED:
    case WSAENETRESET:
    case WSAESHUTDOWN:
    case WSAEDISCON:
    case ERROR_NETNAME_DELETED:
    case ERROR_CONNECTION_ABORTED: return FP_ERESET;
    case WSAECONNREFUSED:
    case ERROR_CONNECTION_REFUSED: return FP_ECONNREFUSED;
    case WSAETIMEDOUT:
    case ERROR_SEM_TIMEOUT: return FP_ETIMEDOUT;
    case WSAEADDRINUSE: return FP_EADDRINUSE;
    case WSAEMFILE:
    case ERROR_TOO_MANY_OPEN_FILES: return FP_ELIMIT;
    case WSAENOBUFS:
    case WSA_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
    case ERROR_NO_SYSTEM_RESOURCES: return FP_ENOMEM;
    case WSAEINVAL:
    case WSAEAFNOSUPPORT:
    case WSAEFAULT: return FP_EINVAL;
    case WSA_OPERATION_ABORTED: return FP_ECLOSED; /* our own cancel: the connection is closing */
    default: return FP_EIO;
    }
}

fp_status fpt_wsa_connect_status(int err)
{
    switch (fpt_wsa_status(err)) {
    case FP_ECONNREFUSED: return FP_ECONNREFUSED;
    case FP_ETIMEDOUT: return FP_ETIMEDOUT;
    default: return FP_EIO;
    }
}

void fpt_wsa_describe(int err, char *out, size_t out_len)
{
    char text[256] = "";
    DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, (DWORD)err,
                             MAKELANGID(LANG_NEUTRAL, SUBLANG_DEFAULT), text, sizeof(text), NULL);
    while (n > 0 && (text[n - 1] == '\r' || text[n - 1] == '\n' || text[n - 1] == '.' || text[n - 1] == ' '))
        text[--n] = '\0';
    if (n > 0)
        snprintf(out, out_len, "error %d (%s)", err, text);
    else
        snprintf(out, out_len, "error %d", err);
}

fp_status fpt_wsa_status_logged(const fp_transport_host *host, const char *who, const char *what, int err)
{
    fp_status st = fpt_wsa_status(err);
    bool ordinary = st == FP_ERESET || st == FP_ECLOSED || st == FP_ECONNREFUSED || st == FP_ETIMEDOUT;
    char text[320];
    fpt_wsa_describe(err, text, sizeof(text));
    fpt_log(host, ordinary ? FP_LOG_DEBUG : FP_LOG_WARN, "%s: %s failed: %s, reported as %s", who, what,
            text, fp_strerror(st));
    return st;
}

/* ---- sockets ---- */

SOCKET fpt_win_socket_flags(int family, DWORD extra_flags)
{
    return WSASocketW(family, SOCK_STREAM, IPPROTO_TCP, NULL, 0,
                      WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT | extra_flags);
}

SOCKET fpt_win_socket(int family) { return fpt_win_socket_flags(family, 0); }

int fpt_win_set_nonblocking(SOCKET s)
{
    u_long on = 1;
    return ioctlsocket(s, FIONBIO, &on) == 0 ? 0 : WSAGetLastError();
}

void fpt_win_set_nodelay(SOCKET s, bool on)
{
    if (!on) return;
    BOOL one = TRUE;
    (void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof(one));
}

void fpt_win_set_socket_buffers(SOCKET s, uint64_t sndbuf, uint64_t rcvbuf)
{
    if (sndbuf) {
        int v = (int)sndbuf;
        (void)setsockopt(s, SOL_SOCKET, SO_SNDBUF, (const char *)&v, sizeof(v));
    }
    if (rcvbuf) {
        int v = (int)rcvbuf;
        (void)setsockopt(s, SOL_SOCKET, SO_RCVBUF, (const char *)&v, sizeof(v));
    }
}

void fpt_win_abort_socket(SOCKET s)
{
    if (s == INVALID_SOCKET) return;
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    (void)setsockopt(s, SOL_SOCKET, SO_LINGER, (const char *)&lg, sizeof(lg));
}

void fpt_win_shutdown_send(SOCKET s)
{
    if (s != INVALID_SOCKET) (void)shutdown(s, SD_SEND);
}

void fpt_win_close(SOCKET *s)
{
    if (*s == INVALID_SOCKET) return;
    closesocket(*s);
    *s = INVALID_SOCKET;
}

/* ---- listening ---- */

int fpt_win_listen_socket(const fp_addr *addr, int backlog, uint64_t sndbuf, uint64_t rcvbuf,
                          SOCKET *out)
{
    *out = INVALID_SOCKET;
    struct sockaddr_storage ss;
    fpt_socklen len;
    if (!fpt_addr_to_sockaddr(addr, &ss, &len)) return WSAEAFNOSUPPORT;
    SOCKET s = fpt_win_socket(ss.ss_family);
    if (s == INVALID_SOCKET) return WSAGetLastError();
    /* No SO_REUSEADDR: on Windows it lets another socket take over a bound
     * port. A plain bind already succeeds past TIME_WAIT, which is all
     * POSIX's SO_REUSEADDR is for. A v6 listener takes v6 only, as on
     * POSIX: dual-stack is a second listener on 0.0.0.0. */
    DWORD one = 1;
    if (ss.ss_family == AF_INET6)
        (void)setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, (const char *)&one, sizeof(one));
    fpt_win_set_socket_buffers(s, sndbuf, rcvbuf);
    int err = 0;
    if (bind(s, (struct sockaddr *)&ss, len) != 0 || listen(s, backlog) != 0) err = WSAGetLastError();
    if (err) {
        closesocket(s);
        return err;
    }
    *out = s;
    return 0;
}

fp_status fpt_win_listen(const char *who, const fp_addr *addr, const fp_listen_opts *opts,
                         int default_backlog, const fpt_sock_settings *set, SOCKET *out,
                         fp_addr *bound, int *backlog_out, char *err, size_t err_len)
{
    char where[64], text[320];
    fpt_addr_format(addr, where, sizeof(where));
    int backlog = default_backlog;
    if (opts && opts->struct_size >= offsetof(fp_listen_opts, backlog) + sizeof(int) && opts->backlog > 0)
        backlog = opts->backlog;
    SOCKET s;
    int e = fpt_win_listen_socket(addr, backlog, set->sndbuf, set->rcvbuf, &s);
    if (e) {
        fpt_wsa_describe(e, text, sizeof(text));
        if (err_len) snprintf(err, err_len, "%s: cannot listen on %s: %s", who, where, text);
        return fpt_wsa_status(e);
    }
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    if (getsockname(s, (struct sockaddr *)&ss, &len) != 0) {
        e = WSAGetLastError();
        closesocket(s);
        fpt_wsa_describe(e, text, sizeof(text));
        if (err_len) snprintf(err, err_len, "%s: getsockname on %s: %s", who, where, text);
        return fpt_wsa_status(e);
    }
    fpt_addr_from_sockaddr((struct sockaddr *)&ss, bound);
    *out = s;
    *backlog_out = backlog;
    return FP_OK;
}

/* ---- adopt ---- */

fp_status fpt_win_adopt_prepare(fp_socket_handle handle, const fpt_sock_settings *set, SOCKET *out,
                                fp_addr *peer)
{
    *out = INVALID_SOCKET;
    SOCKET s = (SOCKET)handle;
    if (handle == (fp_socket_handle)INVALID_SOCKET || handle == 0) return FP_EINVAL;
    int type = 0, type_len = sizeof(type);
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    int err = 0;
    if (getsockopt(s, SOL_SOCKET, SO_TYPE, (char *)&type, &type_len) != 0 ||
        getpeername(s, (struct sockaddr *)&ss, &len) != 0)
        err = WSAGetLastError();
    else if (type != SOCK_STREAM)
        err = WSAESOCKTNOSUPPORT;
    else
        err = fpt_win_set_nonblocking(s);
    if (err) {
        closesocket(s);
        return err == WSAENOTSOCK ? FP_EINVAL : fpt_wsa_status(err);
    }
    (void)SetHandleInformation((HANDLE)s, HANDLE_FLAG_INHERIT, 0);
    fpt_win_set_socket_buffers(s, set->sndbuf, set->rcvbuf);
    fpt_win_set_nodelay(s, set->nodelay != 0);
    fpt_addr_from_sockaddr((struct sockaddr *)&ss, peer);
    *out = s;
    return FP_OK;
}

/* ---- the clock ---- */

/* The CRT heap returns large blocks by itself. */
void fpt_heap_release(void) {}

int64_t fpt_now_ms(void)
{
    /* QueryPerformanceCounter: monotonic, and finer than GetTickCount64's
     * 10-16 ms, which would make accept back-off deadlines jitter. The
     * frequency is fixed at boot: threads racing to fetch it store the
     * same value. */
    static _Atomic int64_t freq;
    int64_t f = atomic_load_explicit(&freq, memory_order_relaxed);
    if (f == 0) {
        LARGE_INTEGER q;
        QueryPerformanceFrequency(&q);
        f = q.QuadPart;
        atomic_store_explicit(&freq, f, memory_order_relaxed);
    }
    LARGE_INTEGER now;
    QueryPerformanceCounter(&now);
    return (int64_t)(now.QuadPart / f * 1000 + now.QuadPart % f * 1000 / f);
}
