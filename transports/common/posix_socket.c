#include "posix_socket.h"

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "sockaddr.h"

fp_status fpt_errno_status(int err)
{
    switch (err) {
    case ECONNRESET:
    case EPIPE:
    case ECONNABORTED: return FP_ERESET;
    case ECONNREFUSED: return FP_ECONNREFUSED;
    case ETIMEDOUT: return FP_ETIMEDOUT;
    case EADDRINUSE: return FP_EADDRINUSE;
    case EMFILE:
    case ENFILE: return FP_ELIMIT;
    case ENOMEM:
    case ENOBUFS: return FP_ENOMEM;
    case EINVAL:
    case EAFNOSUPPORT: return FP_EINVAL;
    default: return FP_EIO;
    }
}

/* The core gathers into fpt_iov; sendmsg takes the array as it is. */
_Static_assert(sizeof(fpt_iov) == sizeof(struct iovec) &&
                   offsetof(fpt_iov, base) == offsetof(struct iovec, iov_base) &&
                   offsetof(fpt_iov, len) == offsetof(struct iovec, iov_len),
               "fpt_iov must match struct iovec");

fp_status fpt_connect_status(int err)
{
    switch (err) {
    case ECONNREFUSED: return FP_ECONNREFUSED;
    case ETIMEDOUT: return FP_ETIMEDOUT;
    default: return FP_EIO;
    }
}

void fpt_set_nodelay(int fd, bool on)
{
    if (!on) return;
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

void fpt_fd_abort_socket(fpt_conn *c)
{
    int fd = fpt_conn_fd(c);
    if (fd < 0) return;
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

void fpt_fd_shutdown_send(fpt_conn *c) { (void)shutdown(fpt_conn_fd(c), SHUT_WR); }

void fpt_wakefd_signal(int fd)
{
    uint64_t one = 1;
    /* EAGAIN means the counter is already non-zero: the wake is pending. */
    ssize_t r = write(fd, &one, sizeof(one));
    (void)r;
}

fp_status fpt_fd_conn_adopt(fpt_worker *w, fp_socket_handle handle, bool nonblocking,
                            const fpt_sock_settings *set, void *conn_user, fpt_conn **out)
{
    *out = NULL;
    int fd;
    fp_addr peer;
    fp_status st = fpt_adopt_prepare(handle, nonblocking, set->sndbuf, set->rcvbuf, set->nodelay != 0,
                                     &fd, &peer);
    if (st != FP_OK) return st;
    fpt_conn *c = fpt_conn_new(w, FPT_OPEN);
    if (!c) {
        close(fd);
        return FP_ENOMEM;
    }
    ((fpt_fd_conn *)(void *)c)->fd = fd;
    c->user = conn_user;
    c->peer = peer;
    *out = c;
    return FP_OK;
}

fp_status fpt_adopt_prepare(fp_socket_handle handle, bool nonblocking, uint64_t sndbuf,
                            uint64_t rcvbuf, bool nodelay, int *fd_out, fp_addr *peer)
{
    int fd = (int)handle;
    if (fd < 0 || (intptr_t)fd != handle) return FP_EINVAL;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int flags = fcntl(fd, F_GETFL);
    int want = nonblocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
    if (flags < 0 || fcntl(fd, F_SETFL, want) < 0 || getpeername(fd, (struct sockaddr *)&ss, &len) < 0) {
        fp_status st = fpt_errno_status(errno);
        close(fd);
        return st;
    }
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    fpt_set_socket_buffers(fd, sndbuf, rcvbuf);
    fpt_set_nodelay(fd, nodelay);
    fpt_addr_from_sockaddr((struct sockaddr *)&ss, peer);
    *fd_out = fd;
    return FP_OK;
}

void fpt_heap_release(void)
{
#ifdef __GLIBC__
    /* freed chunks sit in the worker's malloc arena until trimmed */
    malloc_trim(0);
#endif
}

int64_t fpt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void fpt_set_socket_buffers(int fd, uint64_t sndbuf, uint64_t rcvbuf)
{
    if (sndbuf) {
        int v = (int)sndbuf;
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
    }
    if (rcvbuf) {
        int v = (int)rcvbuf;
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
    }
}

int fpt_listen_socket(const fp_addr *addr, int backlog, int sock_flags, uint64_t sndbuf,
                      uint64_t rcvbuf)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (!fpt_addr_to_sockaddr(addr, &ss, &len)) return -EAFNOSUPPORT;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | sock_flags, 0);
    if (fd < 0) return -errno;
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) goto fail;
    /* A v6 listener takes v6 only: dual-stack is the user's choice of a
     * second listener on 0.0.0.0, never a surprise. */
    if (ss.ss_family == AF_INET6) (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    fpt_set_socket_buffers(fd, sndbuf, rcvbuf);
    if (bind(fd, (struct sockaddr *)&ss, len) < 0) goto fail;
    if (listen(fd, backlog) < 0) goto fail;
    return fd;
fail:;
    int err = errno;
    close(fd);
    return -err;
}

/* The backlog from `opts` (else `default_backlog`), fpt_listen_socket,
 * and the address it really bound (port 0 resolved). */
static fp_status listen_bound(const char *who, const fp_addr *addr, const fp_listen_opts *opts,
                           int default_backlog, int sock_flags, uint64_t sndbuf, uint64_t rcvbuf,
                           int *fd, fp_addr *bound, int *backlog_out, char *err, size_t err_len)
{
    char where[64];
    fpt_addr_format(addr, where, sizeof(where));
    int backlog = default_backlog;
    if (opts && opts->struct_size >= offsetof(fp_listen_opts, backlog) + sizeof(int) &&
        opts->backlog > 0)
        backlog = opts->backlog;
    int s = fpt_listen_socket(addr, backlog, sock_flags, sndbuf, rcvbuf);
    if (s < 0) {
        if (err_len) snprintf(err, err_len, "%s: cannot listen on %s: %s", who, where, strerror(-s));
        return fpt_errno_status(-s);
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(s, (struct sockaddr *)&ss, &len) < 0) {
        int e = errno;
        close(s);
        if (err_len) snprintf(err, err_len, "%s: getsockname on %s: %s", who, where, strerror(e));
        return fpt_errno_status(e);
    }
    fpt_addr_from_sockaddr((struct sockaddr *)&ss, bound);
    *fd = s;
    *backlog_out = backlog;
    return FP_OK;
}

fp_status fpt_listener_open(const char *who, const fp_addr *addr, const fp_listen_opts *opts,
                            int default_backlog, int sock_flags, uint64_t sndbuf, uint64_t rcvbuf,
                            fp_tlistener **out, char *err, size_t err_len)
{
    *out = NULL;
    int fd = -1, backlog = 0;
    fp_addr bound = {0};
    fp_status st = listen_bound(who, addr, opts, default_backlog, sock_flags, sndbuf, rcvbuf, &fd,
                                    &bound, &backlog, err, err_len);
    if (st != FP_OK) return st;
    fp_tlistener *l = calloc(1, sizeof(*l));
    if (!l) {
        close(fd);
        if (err_len) snprintf(err, err_len, "%s: out of memory for a listener", who);
        return FP_ENOMEM;
    }
    l->addr = bound;
    l->backlog = backlog;
    l->sock_flags = sock_flags;
    l->sndbuf = sndbuf;
    l->rcvbuf = rcvbuf;
    atomic_init(&l->spare_fd, fd);
    *out = l;
    return FP_OK;
}

void fpt_listener_addr(const fp_tlistener *l, fp_addr *out) { *out = l->addr; }

void fpt_listener_close(fp_tlistener *l)
{
    if (!l) return;
    int fd = atomic_exchange(&l->spare_fd, -1);
    if (fd >= 0) close(fd);
    free(l);
}

int fpt_listener_take_fd(fp_tlistener *l, const fpt_worker *w)
{
    int fd = atomic_exchange(&l->spare_fd, -1);
    if (fd < 0) fd = fpt_listen_socket(&l->addr, l->backlog, l->sock_flags, l->sndbuf, l->rcvbuf);
    if (fd < 0) {
        char where[64];
        fpt_addr_format(&l->addr, where, sizeof(where));
        fpt_log(w->host, FP_LOG_ERROR, "%s: worker %u cannot listen on %s: %s", w->be->name, w->index,
                where, strerror(-fd));
    }
    return fd;
}
