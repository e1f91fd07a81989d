/* Socket helpers shared by the POSIX transports. Compiled into each
 * transport DSO (hidden), never exported. */
#ifndef FP_TRANSPORT_COMMON_POSIX_SOCKET_H
#define FP_TRANSPORT_COMMON_POSIX_SOCKET_H

#include <stddef.h>
#include <stdint.h>

#include "fastport/status.h"
#include "fastport/transport.h"
#include "fastport/types.h"

/* The fp_status for an errno value. */
fp_status fpt_errno_status(int err);

/* CLOCK_MONOTONIC in milliseconds. */
int64_t fpt_now_ms(void);

/* SO_SNDBUF / SO_RCVBUF when non-zero (0 keeps the kernel's default). */
void fpt_set_socket_buffers(int fd, uint64_t sndbuf, uint64_t rcvbuf);

/* A bound, listening SO_REUSEPORT socket with SO_REUSEADDR, IPv6 listeners
 * v6-only, and the buffer sizes set before listen so accepted sockets
 * inherit them with matching window scaling. `sock_flags` is OR-ed into the
 * socket type (SOCK_NONBLOCK or 0). Returns the fd or -errno. */
int fpt_listen_socket(const fp_addr *addr, int backlog, int sock_flags, uint64_t sndbuf,
                      uint64_t rcvbuf);

/* A transport's listen(): the backlog from `opts` (else `default_backlog`),
 * fpt_listen_socket, and the address it really bound (port 0 resolved).
 * Fills *fd, *bound, *backlog_out; on failure writes "WHO: ..." into err. */
fp_status fpt_listen_bound(const char *who, const fp_addr *addr, const fp_listen_opts *opts,
                           int default_backlog, int sock_flags, uint64_t sndbuf, uint64_t rcvbuf,
                           int *fd, fp_addr *bound, int *backlog_out, char *err, size_t err_len);

#endif
