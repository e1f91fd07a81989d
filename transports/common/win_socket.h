/*
 * win_socket.h - what Windows transports share on top of the core: Winsock
 * start-up and its extension functions, socket options, listening
 * sockets, adopt, the Winsock error -> fp_status mapping and the clock.
 * The twin of posix_socket.h, with the same names where a thing means the
 * same; both take the socket settings and their option rows from
 * sock_settings.h, so --transport-opt keys mean the same on every
 * platform.
 *
 * Compiled into each transport DLL (fastport_transport_win), never
 * exported: only symbols marked FP_EXPORT leave a DLL.
 */
#ifndef FP_TRANSPORT_COMMON_WIN_SOCKET_H
#define FP_TRANSPORT_COMMON_WIN_SOCKET_H

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <windows.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "fastport/status.h"
#include "fastport/transport.h"
#include "fastport/types.h"
#include "sock_settings.h" /* fpt_sock_settings and its option rows */

/* ---- Winsock ---- */

/* WSAStartup for version 2.2; Winsock counts start-ups, so every
 * successful call is undone by one fpt_win_cleanup. On failure writes why
 * into `why`. */
fp_status fpt_win_startup(const char *who, char *why, size_t why_len);
void fpt_win_cleanup(void);

/* The Microsoft extensions a completion-based transport needs, looked up
 * through WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER) rather than
 * imported from mswsock.dll, so the DLL works with any TCP provider. */
typedef struct fpt_win_ext {
    LPFN_ACCEPTEX accept_ex;
    LPFN_CONNECTEX connect_ex;
    LPFN_GETACCEPTEXSOCKADDRS accept_addrs;
} fpt_win_ext;

/* Loads them through a throwaway TCP socket (Winsock started). */
fp_status fpt_win_load_ext(const char *who, fpt_win_ext *ext, char *why, size_t why_len);

/* ---- errors ---- */

/* The fp_status for a Winsock (WSAE*) or Win32 (ERROR_*) error code, the
 * latter being what a failed overlapped operation may report. */
fp_status fpt_wsa_status(int err);

/* The fp_status a failed connect reports. */
fp_status fpt_wsa_connect_status(int err);

/* "10054 (An existing connection was forcibly closed...)" for messages. */
void fpt_wsa_describe(int err, char *out, size_t out_len);

/* fpt_wsa_status, and a log line naming `what` and the original code:
 * DEBUG for the ordinary ends of a connection (reset, abort, cancel),
 * WARN for anything else, which fp_status alone would hide. */
fp_status fpt_wsa_status_logged(const fp_transport_host *host, const char *who, const char *what,
                                int err);

/* ---- sockets ---- */

/* An overlapped TCP socket of `family`, not inherited by child
 * processes; INVALID_SOCKET with WSAGetLastError() set on failure. */
SOCKET fpt_win_socket(int family);
/* The same with more WSASocket flags (WSA_FLAG_REGISTERED_IO). */
SOCKET fpt_win_socket_flags(int family, DWORD extra_flags);

/* Non-blocking mode: reads after a zero-byte receive return
 * WSAEWOULDBLOCK instead of waiting. Overlapped operations still pend.
 * Returns 0 or the Winsock error. */
int fpt_win_set_nonblocking(SOCKET s);

/* TCP_NODELAY when `on`. */
void fpt_win_set_nodelay(SOCKET s, bool on);

/* SO_SNDBUF / SO_RCVBUF when non-zero (0 keeps the system's default). */
void fpt_win_set_socket_buffers(SOCKET s, uint64_t sndbuf, uint64_t rcvbuf);

/* The close sends a reset (SO_LINGER {1, 0}). */
void fpt_win_abort_socket(SOCKET s);

/* The FIN. */
void fpt_win_shutdown_send(SOCKET s);

/* closesocket, and *s becomes INVALID_SOCKET. */
void fpt_win_close(SOCKET *s);

/* ---- listening ---- */

/* A bound, listening overlapped socket for `addr` (IPv6 v6-only), buffer
 * sizes set before listen so accepted sockets inherit them. Returns 0 or
 * the Winsock error. */
int fpt_win_listen_socket(const fp_addr *addr, int backlog, uint64_t sndbuf, uint64_t rcvbuf,
                          SOCKET *out);

/* The backlog from `opts` (else `default_backlog`), fpt_win_listen_socket
 * and the address it really bound (port 0 resolved); on failure a message
 * naming the address and the Winsock error in `err`. */
fp_status fpt_win_listen(const char *who, const fp_addr *addr, const fp_listen_opts *opts,
                         int default_backlog, const fpt_sock_settings *set, SOCKET *out,
                         fp_addr *bound, int *backlog_out, char *err, size_t err_len);

/* ---- adopt ---- */

/* Checks an adopted handle (a connected stream socket) and prepares it:
 * non-blocking, not inherited, buffers and TCP_NODELAY; fills its peer.
 * On failure closes it. The socket must allow overlapped I/O, as those
 * socket() and accept() make do (WSASocket only with WSA_FLAG_OVERLAPPED):
 * Winsock cannot tell, and on any other an overlapped call runs as a
 * plain one. */
fp_status fpt_win_adopt_prepare(fp_socket_handle handle, const fpt_sock_settings *set, SOCKET *out,
                                fp_addr *peer);

#endif
