/*
 * uring.c - the io_uring transport's entry table, options, probe and small
 * helpers.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "opts.h"
#include "posix_socket.h"
#include "uring_internal.h"

#define KIB ((uint64_t)1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)
#define UR_MAX_FIXED_BUFFERS 16384u /* the kernel's fixed-buffer table limit */

static const fpt_opt_spec ur_option_specs[] = {
    FPT_SOCK_OPTION_SPECS(ur_settings, sock),
    {"sq_entries", FPT_OPT_INT, 8, 32768, offsetof(ur_settings, sq_entries)},
    {"cq_entries", FPT_OPT_INT, 0, 1u << 20, offsetof(ur_settings, cq_entries)},
    {"recv_buf_size", FPT_OPT_SIZE, 512, 1 * MIB, offsetof(ur_settings, recv_buf_size)},
    {"recv_buf_count", FPT_OPT_INT, 1, 32768, offsetof(ur_settings, recv_buf_count)},
    {"pool_size", FPT_OPT_SIZE, UR_RESERVE_MAX, 1 * GIB, offsetof(ur_settings, pool_size)},
    {"slot_size", FPT_OPT_SIZE, 512, UR_RESERVE_MAX, offsetof(ur_settings, slot_size)},
    /* at least two of the largest reservations, so a waiting writer always
     * fits once the others drain */
    {"pool_max", FPT_OPT_SIZE, 2 * UR_RESERVE_MAX, 64 * GIB, offsetof(ur_settings, pool_max)},
    {"send_pool_max", FPT_OPT_SIZE, 2 * UR_RESERVE_MAX, 64 * GIB,
     offsetof(ur_settings, send_pool_max)},
    {"recv_multishot", FPT_OPT_BOOL, 0, 1, offsetof(ur_settings, recv_multishot)},
    {"recv_burst", FPT_OPT_SIZE, 0, 1 * GIB, offsetof(ur_settings, recv_burst)},
    {"lend", FPT_OPT_BOOL, 0, 1, offsetof(ur_settings, lend)},
};

static const ur_settings ur_defaults = {
    .sock = FPT_SOCK_DEFAULTS,
    .sq_entries = 512,
    .cq_entries = 0,
    .recv_buf_size = 16 * KIB,
    .recv_buf_count = 256,
    .pool_size = 0,
    .slot_size = 4 * KIB,
    .pool_max = 64 * MIB,
    .send_pool_max = 0,
    .recv_multishot = 1,
    .recv_burst = 64 * KIB,
    .lend = 1,
};

#define UR_DEFAULT_POOL_SIZE (256 * KIB)

static int read_io_uring_disabled(void)
{
    FILE *f = fopen("/proc/sys/kernel/io_uring_disabled", "r");
    if (!f) return 0;
    int v = 0;
    if (fscanf(f, "%d", &v) != 1) v = 0;
    fclose(f);
    return v;
}

void ur_explain_setup_error(int err, const char *what, char *why, size_t why_len)
{
    if (!why_len) return;
    int disabled = read_io_uring_disabled();
    const char *cause;
    switch (err) {
    case ENOSYS: cause = "this kernel has no io_uring (built without it, or older than 5.1)"; break;
    case EPERM:
        cause = disabled ? "io_uring is disabled by sysctl kernel.io_uring_disabled"
                         : "io_uring is denied to this process (seccomp, container policy "
                           "or kernel.io_uring_disabled with a group restriction)";
        break;
    case ENOMEM:
        cause = "not enough lockable memory for the rings (raise RLIMIT_MEMLOCK, ulimit -l)";
        break;
    case EINVAL: cause = "the kernel refused the ring parameters (too old for this transport)"; break;
    default: cause = strerror(err); break;
    }
    snprintf(why, why_len, "uring: %s failed: %s (%s); use --transport=epoll instead", what,
             strerror(err), cause);
}

typedef struct probe_job {
    char *why;
    size_t why_len;
    fp_status st;
} probe_job;

static void *probe_thread(void *arg)
{
    probe_job *job = arg;
    struct io_uring ring;
    unsigned flags;
    int r = ur_ring_init(&ring, 8, 32, &flags);
    if (r < 0) {
        ur_explain_setup_error(-r, "io_uring_setup", job->why, job->why_len);
        job->st = FP_ENOTSUP;
        return NULL;
    }
    ur_bufring br;
    r = ur_bufring_init(&br, &ring, 4096, 2, 0);
    if (r < 0) {
        ur_explain_setup_error(-r, "registering a provided-buffer ring (kernel 5.19+)", job->why,
                               job->why_len);
        job->st = FP_ENOTSUP;
    } else {
        ur_bufring_free(&br, &ring);
        job->st = FP_OK;
    }
    io_uring_queue_exit(&ring);
    return NULL;
}

/* A throwaway ring and buffer ring: proves every feature open() needs.
 * It runs on a short-lived thread: tearing a ring down later notifies the
 * thread that created it (TWA_SIGNAL task work), which interrupts that
 * thread's blocking calls with EINTR; the caller's thread must not be it. */
static fp_status ur_probe(char *why, size_t why_len)
{
    probe_job job = {.why = why, .why_len = why_len, .st = FP_ENOTSUP};
    pthread_t tid;
    if (pthread_create(&tid, NULL, probe_thread, &job) != 0) {
        if (why_len) snprintf(why, why_len, "uring: cannot start the probe thread");
        return FP_ENOTSUP;
    }
    pthread_join(tid, NULL);
    return job.st;
}

static bool is_pow2(uint64_t v) { return v && !(v & (v - 1)); }

/* Relations between options that the per-key ranges cannot express. */
static fp_status resolve_settings(ur_settings *s, char *err, size_t err_len)
{
    if (s->send_pool_max) s->pool_max = s->send_pool_max;
    if (!is_pow2(s->slot_size)) {
        if (err_len)
            snprintf(err, err_len,
                     "uring: option 'slot_size' has bad value %llu; expected a power of two "
                     "from 512 to 64K",
                     (unsigned long long)s->slot_size);
        return FP_EINVAL;
    }
    if (!is_pow2(s->recv_buf_count)) {
        if (err_len)
            snprintf(err, err_len,
                     "uring: option 'recv_buf_count' has bad value %llu; expected a power of "
                     "two from 1 to 32768",
                     (unsigned long long)s->recv_buf_count);
        return FP_EINVAL;
    }
    if (!s->pool_size) {
        uint64_t size = UR_DEFAULT_POOL_SIZE < s->pool_max ? UR_DEFAULT_POOL_SIZE : s->pool_max;
        size -= size % s->slot_size;
        s->pool_size = size < UR_RESERVE_MAX ? UR_RESERVE_MAX : size;
    }
    if (s->pool_size % s->slot_size) {
        if (err_len)
            snprintf(err, err_len,
                     "uring: option 'pool_size' (%llu bytes) must be a multiple of slot_size "
                     "(%llu bytes)",
                     (unsigned long long)s->pool_size, (unsigned long long)s->slot_size);
        return FP_EINVAL;
    }
    if (s->pool_size > s->pool_max) {
        if (err_len)
            snprintf(err, err_len,
                     "uring: option 'pool_size' (%llu bytes) is larger than pool_max (%llu bytes)",
                     (unsigned long long)s->pool_size, (unsigned long long)s->pool_max);
        return FP_EINVAL;
    }
    if (s->pool_max / s->pool_size > UR_MAX_FIXED_BUFFERS) {
        if (err_len)
            snprintf(err, err_len,
                     "uring: pool_max / pool_size is %llu regions; at most %u are allowed "
                     "(raise pool_size)",
                     (unsigned long long)(s->pool_max / s->pool_size), UR_MAX_FIXED_BUFFERS);
        return FP_EINVAL;
    }
    return FP_OK;
}

static fp_status ur_open(const fp_transport_host *host, const fp_kv *opts, size_t n_opts,
                         fp_transport **out, char *err, size_t err_len)
{
    *out = NULL;
    ur_settings set = ur_defaults;
    fp_status st = fpt_open_settings("uring", host, ur_option_specs,
                                     sizeof(ur_option_specs) / sizeof(ur_option_specs[0]), opts,
                                     n_opts, &set, err, err_len);
    if (st != FP_OK) return st;
    st = resolve_settings(&set, err, err_len);
    if (st != FP_OK) return st;
    if (ur_probe(err, err_len) != FP_OK) return FP_ENOTSUP;
    fp_transport *t = calloc(1, sizeof(*t));
    if (!t) return FP_ENOMEM;
    t->host = host;
    t->set = set;
    *out = t;
    return FP_OK;
}

static void ur_close(fp_transport *t) { free(t); }

static const fp_transport_vtbl ur_vtbl = {
    .abi_major = FP_TRANSPORT_ABI_MAJOR,
    .abi_minor = FP_TRANSPORT_ABI_MINOR,
    .struct_size = sizeof(fp_transport_vtbl),
    .name = "uring",
    .description = "Linux io_uring: a ring per worker, multishot accept and recv with provided "
                   "buffers (lent to sends of frames echoed as received), registered send slices, one "
                   "submit per loop iteration",
    .probe = ur_probe,
    .open = ur_open,
    .close = ur_close,
    .worker_open = ur_worker_open,
    .worker_close = ur_worker_close,
    .listen = ur_listen,
    .accept_start = ur_accept_start,
    .accept_stop = ur_accept_stop,
    .connect = ur_connect,
    .adopt = ur_adopt,
    .poll = ur_poll,
    .wake = ur_wake,
    FPT_CORE_VTBL_METHODS,
    FPT_POSIX_VTBL_METHODS,
    .stats = ur_stats_emit,
    .tx_lend = fpt_tx_lend,
};

const fpt_backend ur_backend = {
    .name = "uring",
    .conn_size = sizeof(struct fp_tconn),
    .input = ur_recv_arm,
    .input_pause = ur_recv_cancel,
    .send = ur_conn_send,
    FPT_FD_SOCKET_HOOKS,
    .cancel = ur_conn_cancel,
    .finish = ur_conn_finish,
    .discard = ur_conn_discard,
    .chunk_take = ur_chunk_take,
    .chunk_give_back = ur_chunk_give_back,
    .chunk_room = ur_chunk_room,
    .trim = ur_trim,
    .lend_hold = ur_lend_hold,
    .lend_drop = ur_lend_drop,
};

FP_EXPORT const fp_transport_vtbl *fp_transport_entry(void);

FP_EXPORT const fp_transport_vtbl *fp_transport_entry(void) { return &ur_vtbl; }
