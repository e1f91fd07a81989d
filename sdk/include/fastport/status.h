/*
 * fastport/status.h - the one error vocabulary shared by the engine,
 * transports and plugins.
 *
 * Every fallible SDK function returns an fp_status. FP_OK is zero and every
 * error is negative, so "if (st < 0)" tests for failure. fp_strerror() is
 * header-only so that plugins and transports, which link against nothing,
 * can use it too.
 */
#ifndef FASTPORT_STATUS_H
#define FASTPORT_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fp_status {
    FP_OK = 0,
    FP_EINVAL = -1,       /* bad argument or option value */
    FP_ENOMEM = -2,       /* out of memory */
    FP_EAGAIN = -3,       /* queue full: retry after the writable notification */
    FP_ECLOSED = -4,      /* the session or connection is closing or closed */
    FP_ENOTFOUND = -5,    /* no such session, file, symbol or name */
    FP_ENOTSUP = -6,      /* not supported here (platform, kernel, option) */
    FP_EPROTO = -7,       /* peer broke the wire protocol */
    FP_EABI = -8,         /* library built for an incompatible ABI */
    FP_EIO = -9,          /* operating-system I/O error */
    FP_ERESET = -10,      /* peer reset the connection */
    FP_ETIMEDOUT = -11,   /* an idle or drain deadline passed */
    FP_EADDRINUSE = -12,  /* listen address already taken */
    FP_ECONNREFUSED = -13,/* outbound connect refused */
    FP_ELIMIT = -14,      /* a configured limit was reached (sessions, fds, sizes) */
    FP_ECOMPRESS = -15,   /* compressed payload corrupt or over the inflate cap */
    FP_ESHUTDOWN = -16,   /* the engine is shutting down */
    FP_EEXIST = -17       /* already registered (packet id, name) */
} fp_status;

/* Static text for a status; never NULL. */
static inline const char *fp_strerror(fp_status st)
{
    switch (st) {
    case FP_OK: return "success";
    case FP_EINVAL: return "invalid argument";
    case FP_ENOMEM: return "out of memory";
    case FP_EAGAIN: return "send queue full, wait until writable";
    case FP_ECLOSED: return "session closed";
    case FP_ENOTFOUND: return "not found";
    case FP_ENOTSUP: return "not supported";
    case FP_EPROTO: return "protocol error";
    case FP_EABI: return "incompatible ABI";
    case FP_EIO: return "I/O error";
    case FP_ERESET: return "connection reset by peer";
    case FP_ETIMEDOUT: return "timed out";
    case FP_EADDRINUSE: return "address already in use";
    case FP_ECONNREFUSED: return "connection refused";
    case FP_ELIMIT: return "limit reached";
    case FP_ECOMPRESS: return "bad compressed payload";
    case FP_ESHUTDOWN: return "engine shutting down";
    case FP_EEXIST: return "already registered";
    }
    return "unknown status";
}

#ifdef __cplusplus
}
#endif
#endif
