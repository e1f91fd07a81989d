/*
 * iocp.c - the IOCP transport's entry table, options, probe, open and
 * close.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iocp_internal.h"
#include "opts.h"

#define KIB ((uint64_t)1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)

static const fpt_opt_spec ic_option_specs[] = {
    FPT_SOCK_OPTION_SPECS(ic_settings, sock),
    {"read_size", FPT_OPT_SIZE, 1 * KIB, 16 * MIB, offsetof(ic_settings, read_size)},
    {"read_budget", FPT_OPT_SIZE, 1 * KIB, 1 * GIB, offsetof(ic_settings, read_budget)},
    /* at least two of the largest chunks, so a waiting writer always fits
     * once the others drain */
    {"send_pool_max", FPT_OPT_SIZE, 2 * FPT_RESERVE_MAX, 64 * GIB, offsetof(ic_settings, send_pool_max)},
    {"accepts_posted", FPT_OPT_INT, 1, 1024, offsetof(ic_settings, accepts_posted)},
    {"completion_batch", FPT_OPT_INT, 1, 4096, offsetof(ic_settings, completion_batch)},
};

static const ic_settings ic_defaults = {
    .sock = FPT_SOCK_DEFAULTS,
    .read_size = 64 * KIB,
    .read_budget = 256 * KIB,
    .send_pool_max = 64 * MIB,
    .accepts_posted = 16,
    .completion_batch = 256,
};

static fp_status ic_probe(char *why, size_t why_len)
{
    fp_status st = fpt_win_startup("iocp", why, why_len);
    if (st != FP_OK) return st;
    fpt_win_ext ext;
    st = fpt_win_load_ext("iocp", &ext, why, why_len);
    fpt_win_cleanup();
    return st;
}

static fp_status ic_open(const fp_transport_host *host, const fp_kv *opts, size_t n_opts, fp_transport **out,
                         char *err, size_t err_len)
{
    *out = NULL;
    ic_settings set = ic_defaults;
    fp_status st =
        fpt_open_settings("iocp", host, ic_option_specs, sizeof(ic_option_specs) / sizeof(ic_option_specs[0]),
                          opts, n_opts, &set, err, err_len);
    if (st != FP_OK) return st;
    fp_transport *t = calloc(1, sizeof(*t));
    if (!t) return FP_ENOMEM;
    /* Winsock counts start-ups: this one is undone by close(), so
     * transports opened side by side never pull Winsock from each other */
    st = fpt_win_startup("iocp", err, err_len);
    if (st == FP_OK) {
        st = fpt_win_load_ext("iocp", &t->ext, err, err_len);
        if (st != FP_OK) fpt_win_cleanup();
    }
    if (st != FP_OK) {
        free(t);
        return st;
    }
    t->host = host;
    t->set = set;
    *out = t;
    return FP_OK;
}

static void ic_close(fp_transport *t)
{
    if (!t) return;
    fpt_win_cleanup();
    free(t);
}

fp_status ic_listen(fp_transport *t, const fp_addr *addr, const fp_listen_opts *opts, fp_tlistener **out,
                    char *err, size_t err_len)
{
    return fpt_port_listen("iocp", &t->set.sock, addr, opts, out, err, err_len);
}

fp_status ic_accept_start(fp_tworker *w, fp_tlistener *l) { return fpt_port_accept_start(&w->port, l); }

void ic_accept_stop(fp_tworker *w, fp_tlistener *l) { fpt_port_accept_stop(&w->port, l); }

static const fp_transport_vtbl ic_vtbl = {
    .abi_major = FP_TRANSPORT_ABI_MAJOR,
    .abi_minor = FP_TRANSPORT_ABI_MINOR,
    .struct_size = sizeof(fp_transport_vtbl),
    .name = "iocp",
    .description = "Windows I/O completion ports: a port per worker, AcceptEx on one listening "
                   "socket dealing connections out to the accepting workers in turn, zero-byte "
                   "receives while idle, gathered WSASend",
    .probe = ic_probe,
    .open = ic_open,
    .close = ic_close,
    .worker_open = ic_worker_open,
    .worker_close = ic_worker_close,
    .listen = ic_listen,
    .listener_addr = fpt_port_listener_addr,
    .accept_start = ic_accept_start,
    .accept_stop = ic_accept_stop,
    .listener_close = fpt_port_listener_close,
    .connect = ic_connect,
    .adopt = ic_adopt,
    .poll = ic_poll,
    .wake = ic_wake,
    FPT_CORE_VTBL_METHODS,
    .stats = ic_stats_emit,
};

const fpt_backend ic_backend = {
    .name = "iocp",
    .conn_size = sizeof(struct fp_tconn),
    .input = ic_conn_input,
    /* no input_pause: a zero-byte receive holds no bytes, so a paused
     * connection just does not read after it completes */
    .send = ic_conn_send,
    .shutdown_send = ic_conn_shutdown_send,
    .abort_socket = ic_conn_abort_socket,
    .cancel = ic_conn_cancel,
    .finish = ic_conn_finish,
    .discard = ic_conn_discard,
    .chunk_take = ic_chunk_take,
    .chunk_give_back = ic_chunk_give_back,
    .chunk_room = ic_chunk_room,
};

FP_EXPORT const fp_transport_vtbl *fp_transport_entry(void);

FP_EXPORT const fp_transport_vtbl *fp_transport_entry(void) { return &ic_vtbl; }
