/*
 * rio.c - the Registered I/O transport's entry table, options, probe,
 * open and close.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"
#include "rio_internal.h"

#define KIB ((uint64_t)1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)

/* The declarations are Microsoft's layout (rio_compat.h). */
_Static_assert(sizeof(RIORESULT) == 24, "RIORESULT layout");
_Static_assert(sizeof(RIO_BUF) == 8 + 2 * sizeof(ULONG), "RIO_BUF layout");
_Static_assert(offsetof(RIO_EXTENSION_FUNCTION_TABLE, RIOResizeRequestQueue) ==
                   sizeof(void *) + 12 * sizeof(void *),
               "RIO_EXTENSION_FUNCTION_TABLE order");

static const fpt_opt_spec rio_option_specs[] = {
    FPT_SOCK_OPTION_SPECS(rio_settings, sock),
    {"recv_size", FPT_OPT_SIZE, 512, 64 * KIB, offsetof(rio_settings, recv_size)},
    {"recv_max", FPT_OPT_SIZE, 512, 1 * MIB, offsetof(rio_settings, recv_max)},
    {"recv_pool_size", FPT_OPT_SIZE, 64 * KIB, 1 * GIB, offsetof(rio_settings, recv_pool_size)},
    {"recv_pool_max", FPT_OPT_SIZE, 64 * KIB, 64 * GIB, offsetof(rio_settings, recv_pool_max)},
    {"pool_size", FPT_OPT_SIZE, FPT_RESERVE_MAX, 1 * GIB, offsetof(rio_settings, pool_size)},
    {"slot_size", FPT_OPT_SIZE, 512, 64 * KIB, offsetof(rio_settings, slot_size)},
    /* at least two of the largest chunks, so a waiting writer always fits
     * once the others drain */
    {"pool_max", FPT_OPT_SIZE, 2 * FPT_RESERVE_MAX, 64 * GIB, offsetof(rio_settings, pool_max)},
    /* the name every transport takes for the send memory cap */
    {"send_pool_max", FPT_OPT_SIZE, 2 * FPT_RESERVE_MAX, 64 * GIB, offsetof(rio_settings, send_pool_max)},
    {"rq_sends", FPT_OPT_INT, 1, RIO_SENDS_MAX, offsetof(rio_settings, rq_sends)},
    {"cq_size", FPT_OPT_INT, 64, RIO_MAX_CQ_SIZE, offsetof(rio_settings, cq_size)},
    {"completion_batch", FPT_OPT_INT, 1, 4096, offsetof(rio_settings, completion_batch)},
    {"accepts_posted", FPT_OPT_INT, 1, 1024, offsetof(rio_settings, accepts_posted)},
    {"lend", FPT_OPT_BOOL, 0, 1, offsetof(rio_settings, lend)},
};

static const rio_settings rio_defaults = {
    .sock = FPT_SOCK_DEFAULTS,
    .recv_size = 2 * KIB,
    .recv_max = 64 * KIB,
    .recv_pool_size = 256 * KIB,
    .recv_pool_max = 64 * MIB,
    .pool_size = 256 * KIB,
    .slot_size = 4 * KIB,
    .pool_max = 64 * MIB,
    .rq_sends = 8,
    .cq_size = 1024,
    .completion_batch = 256,
    .accepts_posted = 16,
    .lend = 1,
};

static bool is_pow2(uint64_t v) { return v && !(v & (v - 1)); }

/* A refused setting: the message, and FP_EINVAL. */
#define REFUSE(...) (snprintf(err, err_len, __VA_ARGS__), FP_EINVAL)
#define ULL(v) ((unsigned long long)(v))

/* Relations between options that the per-key ranges cannot express. */
static fp_status resolve_settings(rio_settings *s, char *err, size_t err_len)
{
    if (s->send_pool_max) s->pool_max = s->send_pool_max;
    if (!is_pow2(s->slot_size))
        return REFUSE("rio: option 'slot_size' has bad value %llu; expected a power of two from 512 to 64K",
                      ULL(s->slot_size));
    if (!is_pow2(s->recv_size))
        return REFUSE("rio: option 'recv_size' has bad value %llu; expected a power of two from 512 to 64K",
                      ULL(s->recv_size));
    if (!is_pow2(s->recv_max) || s->recv_max < s->recv_size)
        return REFUSE("rio: option 'recv_max' has bad value %llu; expected a power of two from recv_size (%llu) up",
                      ULL(s->recv_max), ULL(s->recv_size));
    if (s->recv_max > s->recv_pool_size)
        return REFUSE("rio: option 'recv_max' (%llu bytes) is larger than recv_pool_size (%llu bytes)",
                      ULL(s->recv_max), ULL(s->recv_pool_size));
    if (s->pool_size % s->slot_size)
        return REFUSE("rio: option 'pool_size' (%llu bytes) must be a multiple of slot_size (%llu bytes)",
                      ULL(s->pool_size), ULL(s->slot_size));
    if (s->pool_size > s->pool_max)
        return REFUSE("rio: option 'pool_size' (%llu bytes) is larger than pool_max (%llu bytes)",
                      ULL(s->pool_size), ULL(s->pool_max));
    if (s->recv_pool_size % s->recv_size)
        return REFUSE(
            "rio: option 'recv_pool_size' (%llu bytes) must be a multiple of recv_size (%llu bytes)",
            ULL(s->recv_pool_size), ULL(s->recv_size));
    if (s->recv_pool_size > s->recv_pool_max)
        return REFUSE("rio: option 'recv_pool_size' (%llu bytes) is larger than recv_pool_max (%llu bytes)",
                      ULL(s->recv_pool_size), ULL(s->recv_pool_max));
    if (s->recv_pool_size / s->recv_size > 0xffff)
        return REFUSE("rio: recv_pool_size / recv_size is %llu slices; at most %llu are allowed per region",
                      ULL(s->recv_pool_size / s->recv_size), ULL(0xffff));
    if (s->recv_pool_max / s->recv_pool_size > 0xffff)
        return REFUSE("rio: recv_pool_max / recv_pool_size is %llu regions; at most %llu are allowed",
                      ULL(s->recv_pool_max / s->recv_pool_size), ULL(0xffff));
    return FP_OK;
}

static fp_status rio_probe(char *why, size_t why_len)
{
    fp_status st = fpt_win_startup("rio", why, why_len);
    if (st != FP_OK) return st;
    fpt_win_ext ext;
    st = fpt_win_load_ext("rio", &ext, why, why_len);
    if (st == FP_OK) {
        RIO_EXTENSION_FUNCTION_TABLE table;
        HMODULE provider = NULL;
        st = rio_table_load(&table, &provider, why, why_len);
        if (provider) FreeLibrary(provider);
    }
    fpt_win_cleanup();
    return st;
}

static fp_status rio_open(const fp_transport_host *host, const fp_kv *opts, size_t n_opts, fp_transport **out,
                          char *err, size_t err_len)
{
    *out = NULL;
    rio_settings set = rio_defaults;
    fp_status st = fpt_open_settings("rio", host, rio_option_specs,
                                     sizeof(rio_option_specs) / sizeof(rio_option_specs[0]), opts, n_opts,
                                     &set, err, err_len);
    if (st == FP_OK) st = resolve_settings(&set, err, err_len);
    if (st != FP_OK) return st;
    fp_transport *t = calloc(1, sizeof(*t));
    if (!t) return FP_ENOMEM;
    /* Winsock counts start-ups: this one is undone by close() */
    st = fpt_win_startup("rio", err, err_len);
    if (st == FP_OK) {
        st = fpt_win_load_ext("rio", &t->ext, err, err_len);
        if (st == FP_OK) st = rio_table_load(&t->rio, &t->provider, err, err_len);
        if (st != FP_OK) fpt_win_cleanup();
    }
    if (st != FP_OK) {
        if (t->provider) FreeLibrary(t->provider);
        free(t);
        return st;
    }
    if (t->provider)
        fpt_log(host, FP_LOG_WARN,
                "rio: %s names a test provider: Registered I/O is emulated on overlapped I/O "
                "(tests only, not for production)",
                RIO_TEST_PROVIDER_ENV);
    t->host = host;
    t->set = set;
    *out = t;
    return FP_OK;
}

static void rio_close(fp_transport *t)
{
    if (!t) return;
    fpt_win_cleanup();
    if (t->provider) FreeLibrary(t->provider);
    free(t);
}

fp_status rio_listen(fp_transport *t, const fp_addr *addr, const fp_listen_opts *opts, fp_tlistener **out,
                     char *err, size_t err_len)
{
    return fpt_port_listen("rio", &t->set.sock, addr, opts, out, err, err_len);
}

fp_status rio_accept_start(fp_tworker *w, fp_tlistener *l) { return fpt_port_accept_start(&w->port, l); }

void rio_accept_stop(fp_tworker *w, fp_tlistener *l) { fpt_port_accept_stop(&w->port, l); }

static const fp_transport_vtbl rio_vtbl = {
    .abi_major = FP_TRANSPORT_ABI_MAJOR,
    .abi_minor = FP_TRANSPORT_ABI_MINOR,
    .struct_size = sizeof(fp_transport_vtbl),
    .name = "rio",
    .description = "Windows Registered I/O: a completion queue per worker notified through its "
                   "completion port, registered receive slices and send pools, deferred sends "
                   "committed once per request queue per loop, AcceptEx dealing connections out "
                   "to the accepting workers",
    .probe = rio_probe,
    .open = rio_open,
    .close = rio_close,
    .worker_open = rio_worker_open,
    .worker_close = rio_worker_close,
    .listen = rio_listen,
    .listener_addr = fpt_port_listener_addr,
    .accept_start = rio_accept_start,
    .accept_stop = rio_accept_stop,
    .listener_close = fpt_port_listener_close,
    .connect = rio_connect,
    .adopt = rio_adopt,
    .poll = rio_poll,
    .wake = rio_wake,
    .recv_pause = fpt_recv_pause,
    .recv_resume = fpt_recv_resume,
    .tx_reserve = fpt_tx_reserve,
    .tx_commit = fpt_tx_commit,
    .tx_cancel = fpt_tx_cancel,
    .close_conn = fpt_close_conn,
    .conn_peer = fpt_conn_peer,
    .flush = rio_flush,
    .stats = rio_stats_emit,
    .tx_lend = fpt_tx_lend,
};

const fpt_backend rio_backend = {
    .name = "rio",
    .conn_size = sizeof(struct fp_tconn),
    .input = rio_conn_input,
    /* no input_pause: RIO cannot cancel a posted receive; what it brings
     * while paused goes to the core's stash, and no new one is posted */
    .send = rio_conn_send,
    .shutdown_send = rio_conn_shutdown_send,
    .abort_socket = rio_conn_abort_socket,
    .cancel = rio_conn_cancel,
    .finish = rio_conn_finish,
    .discard = rio_conn_discard,
    .chunk_take = rio_chunk_take,
    .chunk_give_back = rio_chunk_give_back,
    .chunk_room = rio_chunk_room,
    .lend_hold = rio_lend_hold,
    .lend_drop = rio_lend_drop,
};

FP_EXPORT const fp_transport_vtbl *fp_transport_entry(void);

FP_EXPORT const fp_transport_vtbl *fp_transport_entry(void) { return &rio_vtbl; }
