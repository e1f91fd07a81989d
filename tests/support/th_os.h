/*
 * th_os.h - what the transport contract suite needs from the operating
 * system, for POSIX and Windows: plain sockets for the peer side, loading
 * a transport module, and two looks at the process (a thread's run state,
 * a socket the transport owns). Everything else the suite uses (pthreads,
 * C11 atomics, clock_gettime, nanosleep) exists on both, winpthreads
 * included.
 *
 * Header-only, so every suite that compiles the harness gets it without a
 * source file of its own. Sockets are `int` on both: Windows keeps SOCKET
 * values in 32 bits (for 32-bit interop) and INVALID_SOCKET is -1 once
 * truncated.
 *
 *   th_os_init             start the socket library (WSAStartup), once
 *   th_socket              a TCP socket of AF_INET / AF_INET6, -1 on failure
 *   th_socket_close        close it
 *   th_socket_errno        the last socket error (errno, WSAGetLastError)
 *   th_socket_strerror     its text
 *   th_socket_retry        the error means "would block" or "interrupted"
 *   th_set_nonblocking     0 or -1
 *   th_accept_nonblocking  accept, then non-blocking; -1 on failure
 *   th_sock_send / _recv   no SIGPIPE; recv: > 0 bytes, 0 at the FIN,
 *                          < 0 on failure, a reset included (see Wine)
 *   th_wait_socket         wait up to ms for readable (or writable)
 *   th_setsockopt_int      an int option
 *   th_set_linger_reset    SO_LINGER {1, 0}: the close sends a reset
 *   th_module_*            load a module (symbols resolved now), look up,
 *                          unload, and why loading failed
 *   th_thread_self         an id th_thread_blocked understands
 *   th_thread_blocked      that thread sleeps in a blocking call now
 *   th_find_own_socket     this process's socket with that local port and
 *                          that peer port (-1: none)
 *   th_socket_reset        the system reports the socket reset or closed;
 *                          does not wait, leaves the error to its owner
 */
#ifndef FP_TESTS_TH_OS_H
#define FP_TESTS_TH_OS_H

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#else
#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef _WIN32

#define TH_MODULE_SUFFIX ".dll"
#define TH_SHUT_WR SD_SEND
/* winpthreads times condition waits against CLOCK_REALTIME only
 * (pthread_condattr_setclock refuses CLOCK_MONOTONIC with EINVAL). */
#define TH_COND_CLOCK CLOCK_REALTIME

static inline void th_os_init(void)
{
    WSADATA data;
    if (WSAStartup(MAKEWORD(2, 2), &data) != 0) {
        fprintf(stderr, "WSAStartup failed: %d\n", WSAGetLastError());
        exit(1);
    }
}

static inline int th_socket(int af)
{
    SOCKET s = WSASocketW(af, SOCK_STREAM, IPPROTO_TCP, NULL, 0,
                          WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
    return s == INVALID_SOCKET ? -1 : (int)s;
}

static inline int th_socket_close(int fd) { return closesocket((SOCKET)fd); }

static inline int th_socket_errno(void) { return WSAGetLastError(); }

static inline const char *th_socket_strerror(int err)
{
    static _Thread_local char text[256];
    DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, (DWORD)err,
                             0, text, sizeof(text), NULL);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r')) text[--n] = '\0';
    if (n == 0) snprintf(text, sizeof(text), "Winsock error %d", err);
    return text;
}

static inline bool th_socket_retry(int err) { return err == WSAEWOULDBLOCK || err == WSAEINTR; }

static inline int th_set_nonblocking(int fd)
{
    u_long on = 1;
    return ioctlsocket((SOCKET)fd, FIONBIO, &on) == 0 ? 0 : -1;
}

static inline int th_accept_nonblocking(int lfd)
{
    SOCKET s = accept((SOCKET)lfd, NULL, NULL);
    if (s == INVALID_SOCKET) return -1;
    if (th_set_nonblocking((int)s) != 0) {
        closesocket(s);
        return -1;
    }
    return (int)s;
}

static inline long th_sock_send(int fd, const void *data, size_t len)
{
    return send((SOCKET)fd, data, len > INT32_MAX ? INT32_MAX : (int)len, 0); /* no SIGPIPE here */
}

/* Wine 8 reports a reset to a plain recv() as the end of the stream once
 * its server has polled the socket (it reads SO_ERROR, which clears the
 * error in the host kernel); WSAPoll still says POLLERR. Windows itself
 * fails the recv with WSAECONNRESET, which this leaves as it is. */
static inline bool th_os_reset_behind_eof(int fd)
{
    WSAPOLLFD p = {.fd = (SOCKET)fd, .events = POLLRDNORM};
    return WSAPoll(&p, 1, 0) == 1 && (p.revents & POLLERR);
}

static inline long th_sock_recv(int fd, void *buf, size_t len)
{
    int r = recv((SOCKET)fd, buf, len > INT32_MAX ? INT32_MAX : (int)len, 0);
    if (r == 0 && th_os_reset_behind_eof(fd)) {
        WSASetLastError(WSAECONNRESET);
        return -1;
    }
    return r;
}

static inline void th_wait_socket(int fd, bool writable, int ms)
{
    WSAPOLLFD p = {.fd = (SOCKET)fd, .events = writable ? POLLWRNORM : POLLRDNORM};
    (void)WSAPoll(&p, 1, ms);
}

static inline int th_setsockopt_int(int fd, int level, int name, int value)
{
    return setsockopt((SOCKET)fd, level, name, (const char *)&value, sizeof(value));
}

static inline int th_set_linger_reset(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    return setsockopt((SOCKET)fd, SOL_SOCKET, SO_LINGER, (const char *)&lg, sizeof(lg));
}

static _Thread_local char th_os_module_error[512];

static inline void *th_module_open(const char *path)
{
    wchar_t wide[4096];
    if (!MultiByteToWideChar(CP_UTF8, 0, path, -1, wide, (int)(sizeof(wide) / sizeof(wide[0])))) {
        snprintf(th_os_module_error, sizeof(th_os_module_error), "the path is not UTF-8 or too long");
        return NULL;
    }
    /* what the DLL imports is looked up in its own folder first */
    HMODULE m = LoadLibraryExW(wide, NULL, LOAD_WITH_ALTERED_SEARCH_PATH);
    if (!m)
        snprintf(th_os_module_error, sizeof(th_os_module_error), "%s",
                 th_socket_strerror((int)GetLastError()));
    return m;
}

static inline void *th_module_symbol(void *module, const char *name)
{
    FARPROC fn = GetProcAddress((HMODULE)module, name);
    void *sym;
    memcpy(&sym, &fn, sizeof(sym)); /* ISO C has no function-to-object cast */
    return sym;
}

static inline void th_module_close(void *module) { FreeLibrary((HMODULE)module); }

static inline const char *th_module_error(void) { return th_os_module_error; }

static inline long th_thread_self(void) { return (long)GetCurrentThreadId(); }

static inline uint64_t th_os_cpu_time(HANDLE thread)
{
    FILETIME created, exited, kernel, user;
    if (!GetThreadTimes(thread, &created, &exited, &kernel, &user)) return UINT64_MAX;
    return ((uint64_t)kernel.dwHighDateTime << 32 | kernel.dwLowDateTime) +
           ((uint64_t)user.dwHighDateTime << 32 | user.dwLowDateTime);
}

/* Windows shows no run state per thread: one that used no CPU time over
 * 30 ms (three ticks of its accounting) sleeps in a blocking call. */
static inline bool th_thread_blocked(long id)
{
    HANDLE thread = OpenThread(THREAD_QUERY_LIMITED_INFORMATION, FALSE, (DWORD)id);
    if (!thread) return false;
    uint64_t before = th_os_cpu_time(thread);
    Sleep(30);
    uint64_t after = th_os_cpu_time(thread);
    CloseHandle(thread);
    return before != UINT64_MAX && before == after;
}

static inline uint16_t th_os_port(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) return ntohs(((const struct sockaddr_in *)ss)->sin_port);
    if (ss->ss_family == AF_INET6) return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    return 0;
}

/* Socket handles are kernel handles: multiples of 4, small in a test
 * process. Asking each whether it is a socket with those ports finds the
 * transport's own without taking anything from it. */
static inline int th_find_own_socket(uint16_t local_port, uint16_t peer_port)
{
    for (uintptr_t h = 4; h < 0x10000; h += 4) {
        struct sockaddr_storage ss;
        int len = sizeof(ss);
        if (getsockname((SOCKET)h, (struct sockaddr *)&ss, &len) != 0 || th_os_port(&ss) != local_port)
            continue;
        len = sizeof(ss);
        if (getpeername((SOCKET)h, (struct sockaddr *)&ss, &len) == 0 && th_os_port(&ss) == peer_port)
            return (int)h;
    }
    return -1;
}

/* POLLHUP alone is the peer's FIN on Windows, not a reset: only POLLERR,
 * and a handle that is no socket any more, count. */
static inline bool th_socket_reset(int fd)
{
    WSAPOLLFD p = {.fd = (SOCKET)fd, .events = POLLRDNORM};
    int r = WSAPoll(&p, 1, 0);
    if (r < 0) return WSAGetLastError() == WSAENOTSOCK;
    return r == 1 && (p.revents & (POLLERR | POLLNVAL));
}

#else /* POSIX */

#define TH_MODULE_SUFFIX ".so"
#define TH_SHUT_WR SHUT_WR
#define TH_COND_CLOCK CLOCK_MONOTONIC

static inline void th_os_init(void) {}

static inline int th_socket(int af) { return socket(af, SOCK_STREAM | SOCK_CLOEXEC, 0); }

static inline int th_socket_close(int fd) { return close(fd); }

static inline int th_socket_errno(void) { return errno; }

static inline const char *th_socket_strerror(int err) { return strerror(err); }

static inline bool th_socket_retry(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

static inline int th_set_nonblocking(int fd) { return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

static inline int th_accept_nonblocking(int lfd)
{
    return accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

static inline long th_sock_send(int fd, const void *data, size_t len)
{
    return send(fd, data, len, MSG_NOSIGNAL);
}

static inline long th_sock_recv(int fd, void *buf, size_t len) { return recv(fd, buf, len, 0); }

static inline void th_wait_socket(int fd, bool writable, int ms)
{
    struct pollfd p = {.fd = fd, .events = writable ? POLLOUT : POLLIN};
    (void)poll(&p, 1, ms);
}

static inline int th_setsockopt_int(int fd, int level, int name, int value)
{
    return setsockopt(fd, level, name, &value, sizeof(value));
}

static inline int th_set_linger_reset(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    return setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

static inline void *th_module_open(const char *path) { return dlopen(path, RTLD_NOW | RTLD_LOCAL); }

static inline void *th_module_symbol(void *module, const char *name) { return dlsym(module, name); }

static inline void th_module_close(void *module) { dlclose(module); }

static inline const char *th_module_error(void)
{
    const char *e = dlerror();
    return e ? e : "unknown error";
}

static inline long th_thread_self(void) { return (long)gettid(); }

/* The kernel's view of the thread: 'S' while it sleeps in a system call. */
static inline bool th_thread_blocked(long id)
{
    char path[64], stat[512];
    snprintf(path, sizeof(path), "/proc/self/task/%ld/stat", id);
    FILE *f = fopen(path, "r");
    if (!f) return false;
    size_t n = fread(stat, 1, sizeof(stat) - 1, f);
    fclose(f);
    stat[n] = '\0';
    const char *paren = strrchr(stat, ')'); /* the name may hold spaces */
    return paren && paren[1] == ' ' && paren[2] == 'S';
}

/* The port of fd's own (getsockname) or peer's (getpeername) address; 0
 * when it has none. */
static inline uint16_t th_os_port(int fd, int (*name)(int, struct sockaddr *, socklen_t *))
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (name(fd, (struct sockaddr *)&ss, &len) < 0) return 0;
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

static inline int th_find_own_socket(uint16_t local_port, uint16_t peer_port)
{
    DIR *dir = opendir("/proc/self/fd");
    if (!dir) return -1;
    int found = -1;
    for (struct dirent *d; found < 0 && (d = readdir(dir)) != NULL;) {
        if (d->d_name[0] < '0' || d->d_name[0] > '9') continue;
        int fd = atoi(d->d_name);
        if (fd != dirfd(dir) && th_os_port(fd, getsockname) == local_port &&
            th_os_port(fd, getpeername) == peer_port)
            found = fd;
    }
    closedir(dir);
    return found;
}

/* Reset or hung up (POLLERR/POLLHUP), or closed already (POLLNVAL). */
static inline bool th_socket_reset(int fd)
{
    struct pollfd p = {.fd = fd, .events = 0};
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP | POLLNVAL));
}

#endif
#endif
