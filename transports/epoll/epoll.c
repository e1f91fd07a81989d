/*
 * epoll.c - the epoll transport's entry table, options and small helpers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "epoll_internal.h"
#include "opts.h"
#include "posix_socket.h"

#define KIB ((uint64_t)1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)

static const fpt_opt_spec ep_option_specs[] = {
    FPT_SOCK_OPTION_SPECS(ep_settings, sock),
    {"read_size", FPT_OPT_SIZE, 1 * KIB, 16 * MIB, offsetof(ep_settings, read_size)},
    {"read_budget", FPT_OPT_SIZE, 1 * KIB, 1 * GIB, offsetof(ep_settings, read_budget)},
    /* at least two of the largest chunks, so a waiting writer always fits
     * once the others drain */
    {"send_pool_max", FPT_OPT_SIZE, 2 * FPT_RESERVE_MAX, 64 * GIB, offsetof(ep_settings, send_pool_max)},
};

static const ep_settings ep_defaults = {
    .sock = FPT_SOCK_DEFAULTS,
    .read_size = 64 * KIB,
    .read_budget = 256 * KIB,
    .send_pool_max = 64 * MIB,
};

static fp_status ep_probe(char *why, size_t why_len)
{
    int fd = epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0) {
        if (why_len)
            snprintf(why, why_len, "epoll_create1 failed: %s; this kernel has no usable epoll",
                     strerror(errno));
        return FP_ENOTSUP;
    }
    close(fd);
    return FP_OK;
}

static fp_status ep_open(const fp_transport_host *host, const fp_kv *opts, size_t n_opts,
                         fp_transport **out, char *err, size_t err_len)
{
    *out = NULL;
    ep_settings set = ep_defaults;
    fp_status st = fpt_open_settings("epoll", host, ep_option_specs,
                                     sizeof(ep_option_specs) / sizeof(ep_option_specs[0]), opts,
                                     n_opts, &set, err, err_len);
    if (st != FP_OK) return st;
    fp_transport *t = calloc(1, sizeof(*t));
    if (!t) return FP_ENOMEM;
    t->host = host;
    t->set = set;
    *out = t;
    return FP_OK;
}

static void ep_close(fp_transport *t) { free(t); }

static const fp_transport_vtbl ep_vtbl = {
    .abi_major = FP_TRANSPORT_ABI_MAJOR,
    .abi_minor = FP_TRANSPORT_ABI_MINOR,
    .struct_size = sizeof(fp_transport_vtbl),
    .name = "epoll",
    .description = "Linux epoll: edge-triggered sockets, a SO_REUSEPORT listener per worker",
    .probe = ep_probe,
    .open = ep_open,
    .close = ep_close,
    .worker_open = ep_worker_open,
    .worker_close = ep_worker_close,
    .listen = ep_listen,
    .accept_start = ep_accept_start,
    .accept_stop = ep_accept_stop,
    .connect = ep_connect,
    .adopt = ep_adopt,
    .poll = ep_poll,
    .wake = ep_wake,
    FPT_CORE_VTBL_METHODS,
    FPT_POSIX_VTBL_METHODS,
    .stats = ep_stats_emit,
};

const fpt_backend ep_backend = {
    .name = "epoll",
    .conn_size = sizeof(struct fp_tconn),
    .input = ep_conn_read,
    .send = ep_conn_send,
    FPT_FD_SOCKET_HOOKS,
    .finish = ep_conn_finish,
    .discard = ep_conn_discard,
    .chunk_take = ep_chunk_take,
    .chunk_give_back = ep_chunk_give_back,
    .chunk_room = ep_chunk_room,
    .trim = ep_trim,
};

FP_EXPORT const fp_transport_vtbl *fp_transport_entry(void);

FP_EXPORT const fp_transport_vtbl *fp_transport_entry(void) { return &ep_vtbl; }
