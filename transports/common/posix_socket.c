#include "posix_socket.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
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

fp_status fpt_listen_bound(const char *who, const fp_addr *addr, const fp_listen_opts *opts,
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
