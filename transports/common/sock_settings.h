/*
 * sock_settings.h - the socket options every transport takes (backlog,
 * nodelay, sndbuf, rcvbuf): their settings struct, defaults and option
 * rows, defined once so --transport-opt keys mean the same on every
 * platform. posix_socket.h and win_socket.h include it; portable C11.
 */
#ifndef FP_TRANSPORT_COMMON_SOCK_SETTINGS_H
#define FP_TRANSPORT_COMMON_SOCK_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#include "opts.h"

typedef struct fpt_sock_settings {
    uint64_t backlog;
    uint64_t nodelay;
    uint64_t sndbuf; /* 0: the system's default */
    uint64_t rcvbuf;
} fpt_sock_settings;

#define FPT_SOCK_DEFAULTS {.backlog = 4096, .nodelay = 1, .sndbuf = 0, .rcvbuf = 0}

/* Their rows of an fpt_opt_spec table, for a settings struct `type`
 * whose fpt_sock_settings member is `member`. */
#define FPT_SOCK_OPTION_SPECS(type, member)                                              \
    {"backlog", FPT_OPT_INT, 1, 1u << 20, offsetof(type, member.backlog)},                \
        {"nodelay", FPT_OPT_BOOL, 0, 1, offsetof(type, member.nodelay)},                 \
        {"sndbuf", FPT_OPT_SIZE, 0, (uint64_t)1 << 30, offsetof(type, member.sndbuf)},   \
        {"rcvbuf", FPT_OPT_SIZE, 0, (uint64_t)1 << 30, offsetof(type, member.rcvbuf)}

#endif
