/* Socket helpers shared by the POSIX transports. Compiled into each
 * transport DSO (hidden), never exported. */
#ifndef FP_TRANSPORT_COMMON_POSIX_SOCKET_H
#define FP_TRANSPORT_COMMON_POSIX_SOCKET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fastport/status.h"
#include "fastport/transport.h"
#include "fastport/types.h"
#include "core.h"
#include "sock_settings.h" /* fpt_sock_settings and its option rows */

/* The vtable methods posix_socket.c implements for every POSIX backend. */
#define FPT_POSIX_VTBL_METHODS .listener_addr = fpt_listener_addr, .listener_close = fpt_listener_close

/* The fpt_backend hooks posix_socket.c implements on the fd. */
#define FPT_FD_SOCKET_HOOKS .shutdown_send = fpt_fd_shutdown_send, .abort_socket = fpt_fd_abort_socket

/* Makes a worker's wake eventfd readable (any thread, async-signal-safe). */
void fpt_wakefd_signal(int fd);

/* The fp_status for an errno value. */
fp_status fpt_errno_status(int err);

/* The fp_status a failed connect reports for an errno value. */
fp_status fpt_connect_status(int err);

/* TCP_NODELAY when `on`. */
void fpt_set_nodelay(int fd, bool on);

/* SO_SNDBUF / SO_RCVBUF when non-zero (0 keeps the kernel's default). */
void fpt_set_socket_buffers(int fd, uint64_t sndbuf, uint64_t rcvbuf);

/* A bound, listening SO_REUSEPORT socket with SO_REUSEADDR, IPv6 listeners
 * v6-only, and the buffer sizes set before listen so accepted sockets
 * inherit them with matching window scaling. `sock_flags` is OR-ed into the
 * socket type (SOCK_NONBLOCK or 0). Returns the fd or -errno. */
int fpt_listen_socket(const fp_addr *addr, int backlog, int sock_flags, uint64_t sndbuf,
                      uint64_t rcvbuf);

/* ---- connections: every POSIX backend's starts with these two ---- */

typedef struct fpt_fd_conn {
    fpt_conn base;
    int fd;
} fpt_fd_conn;

static inline int fpt_conn_fd(const fpt_conn *c) { return ((const fpt_fd_conn *)(const void *)c)->fd; }

/* fpt_backend.abort_socket: the close sends a reset (SO_LINGER {1, 0}). */
void fpt_fd_abort_socket(fpt_conn *c);
/* fpt_backend.shutdown_send: the FIN. */
void fpt_fd_shutdown_send(fpt_conn *c);

/* adopt(): fpt_adopt_prepare, then a new OPEN connection owning the
 * socket, for the backend to start receiving on. */
fp_status fpt_fd_conn_adopt(fpt_worker *w, fp_socket_handle handle, bool nonblocking,
                            const fpt_sock_settings *set, void *conn_user, fpt_conn **out);

/* Checks an adopted socket (a connected stream socket) and prepares it:
 * blocking mode as asked, close-on-exec, buffers and TCP_NODELAY; fills
 * its peer. On failure closes it. */
fp_status fpt_adopt_prepare(fp_socket_handle handle, bool nonblocking, uint64_t sndbuf,
                            uint64_t rcvbuf, bool nodelay, int *fd_out, fp_addr *peer);

/* ---- listeners: one SO_REUSEPORT socket per accepting worker ---- */

/* listen() binds the first socket (resolving port 0) on the control
 * thread; the first worker to start accepting takes it, and later ones
 * bind more sockets to the resolved port, so the transport needs no worker
 * count up front and the kernel spreads connections over the workers. */
struct fp_tlistener {
    fp_addr addr; /* resolved: port 0 replaced by the real port */
    int backlog;
    int sock_flags;
    uint64_t sndbuf, rcvbuf;
    /* the socket listen() made, for the first accept_start; -1 once taken */
    atomic_int spare_fd;
};

fp_status fpt_listener_open(const char *who, const fp_addr *addr, const fp_listen_opts *opts,
                            int default_backlog, int sock_flags, uint64_t sndbuf, uint64_t rcvbuf,
                            fp_tlistener **out, char *err, size_t err_len);
void fpt_listener_addr(const fp_tlistener *l, fp_addr *out);
void fpt_listener_close(fp_tlistener *l);
/* The listening socket for worker `w` (logged on failure): the fd or
 * -errno. */
int fpt_listener_take_fd(fp_tlistener *l, const fpt_worker *w);

#endif
