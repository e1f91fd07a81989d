/* The engine's own limits and pairings: the default worker count is
 * clamped to what session ids can address, a plugin gets session_close only
 * for a session its session_open accepted (both found in review), and a
 * frame must arrive whole within the frame timeout (slow senders). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <poll.h>
#include <sys/socket.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "blocking_client.h"
#include "fastport/engine.h"
#include "fastport/plugin.h"

/* ---- a machine with more cores than the engine can run workers ---- */

#include "fake_cpu_count.h"

/* ---- built-in plugins that record what they were told ---- */

enum { N_RECORDERS = 3 };

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int opened[N_RECORDERS];
    int closed[N_RECORDERS];
    int refuse[N_RECORDERS]; /* session_open answers FP_EINVAL */
    int workers_started;
    unsigned highest_worker;
} seen = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, {0}, {0}, 0, 0};

static const fp_engine_api *api;

static fp_status recorder_init(const fp_engine_api *engine_api, const fp_kv *opts, size_t n_opts,
                               void **ctx, char *err, size_t err_len)
{
    (void)opts; (void)n_opts; (void)ctx; (void)err; (void)err_len;
    api = engine_api;
    return FP_OK;
}

static fp_status record_open(int which)
{
    pthread_mutex_lock(&seen.lock);
    seen.opened[which]++;
    int refuse = seen.refuse[which];
    pthread_mutex_unlock(&seen.lock);
    return refuse ? FP_EINVAL : FP_OK;
}

static void record_close(int which)
{
    pthread_mutex_lock(&seen.lock);
    seen.closed[which]++;
    pthread_cond_broadcast(&seen.cond);
    pthread_mutex_unlock(&seen.lock);
}

static void first_worker_start(void *ctx, unsigned worker)
{
    (void)ctx;
    pthread_mutex_lock(&seen.lock);
    seen.workers_started++;
    if (worker > seen.highest_worker) seen.highest_worker = worker;
    pthread_mutex_unlock(&seen.lock);
}

static fp_status first_echo(void *ctx, fp_session *s, uint16_t id, const uint8_t *payload, size_t len)
{
    (void)ctx;
    return api->send(s, id, payload, len, 0);
}

#define RECORDER_CALLBACKS(index)                                                                  \
    static fp_status open_##index(void *ctx, fp_session *s)                                        \
    {                                                                                              \
        (void)ctx; (void)s;                                                                        \
        return record_open(index);                                                                 \
    }                                                                                              \
    static void close_##index(void *ctx, fp_session *s, fp_status why)                             \
    {                                                                                              \
        (void)ctx; (void)s; (void)why;                                                             \
        record_close(index);                                                                       \
    }
RECORDER_CALLBACKS(0)
RECORDER_CALLBACKS(1)
RECORDER_CALLBACKS(2)

static const fp_plugin_desc recorders[N_RECORDERS] = {
    {FP_PLUGIN_HEADER("first", "1", "records, echoes, counts workers"), .init = recorder_init,
     .worker_start = first_worker_start, .session_open = open_0, .session_close = close_0,
     .catch_all = first_echo},
    {FP_PLUGIN_HEADER("second", "1", "records"), .session_open = open_1, .session_close = close_1},
    {FP_PLUGIN_HEADER("third", "1", "records"), .session_open = open_2, .session_close = close_2},
};

static fp_engine *engine;
static fp_addr server;

static uint32_t frame_timeout_ms = FP_ENGINE_DEFAULT_FRAME_TIMEOUT_MS;
static uint32_t send_timeout_ms = FP_ENGINE_DEFAULT_SEND_TIMEOUT_MS;
static uint32_t idle_timeout_ms = 0;
static uint64_t worker_memory_limit = FP_ENGINE_DEFAULT_WORKER_MEMORY_LIMIT;
static const char *transport_name = "epoll";
static int small_socket_buffers = 1;

static fp_engine *create(unsigned workers, size_t n_plugins, char *err, size_t err_len)
{
    static const fp_plugin_desc *const builtins[N_RECORDERS] = {&recorders[0], &recorders[1], &recorders[2]};
    fp_engine_config cfg;
    fp_engine_config_init(&cfg);
    cfg.transport = transport_name;
    cfg.transport_dir = getenv("FP_TEST_TRANSPORT_DIR");
    cfg.plugin_dir = getenv("FP_TEST_PLUGIN_DIR");
    cfg.builtin_plugins = builtins;
    cfg.n_builtin_plugins = n_plugins;
    cfg.workers = workers;
    cfg.frame_timeout_ms = frame_timeout_ms;
    cfg.send_timeout_ms = send_timeout_ms;
    cfg.idle_timeout_ms = idle_timeout_ms;
    cfg.worker_memory_limit = worker_memory_limit;
    /* small kernel buffers: a stalled reader backs replies up into the
     * engine's queue after little data, and a reader's progress reaches
     * the engine soon after it reads */
    static const fp_kv small_buffers[] = {{"sndbuf", "65536"}, {"rcvbuf", "65536"}};
    cfg.transport_opts = small_buffers;
    cfg.n_transport_opts = small_socket_buffers ? 2 : 0;
    cfg.log_level = FP_LOG_WARN;
    return fp_engine_create(&cfg, err, err_len);
}

static void start(unsigned workers, size_t n_plugins)
{
    char err[512];
    engine = create(workers, n_plugins, err, sizeof err);
    ck_assert_msg(engine != NULL, "create: %s", err);
    ck_assert_int_eq(fp_engine_listen(engine, "127.0.0.1:0", err, sizeof err), FP_OK);
    ck_assert_int_eq(fp_engine_listen_addr(engine, 0, &server), FP_OK);
    ck_assert_msg(fp_engine_start(engine, err, sizeof err) == FP_OK, "start: %s", err);
}

/* Like start(1, 1) on `transport_name`, but a transport that cannot run
 * here (uring on an old kernel) is a skip, reported, not a failure. */
static int start_if_it_runs(void)
{
    char err[512];
    engine = create(1, 1, err, sizeof err);
    if (!engine) {
        fprintf(stderr, "skipped: %s\n", err);
        return 0;
    }
    ck_assert_int_eq(fp_engine_listen(engine, "127.0.0.1:0", err, sizeof err), FP_OK);
    ck_assert_int_eq(fp_engine_listen_addr(engine, 0, &server), FP_OK);
    ck_assert_msg(fp_engine_start(engine, err, sizeof err) == FP_OK, "start: %s", err);
    return 1;
}

static int client(void)
{
    int fd = bc_connect(&server, 5000);
    ck_assert_int_ge(fd, 0);
    return fd;
}

static void finish(int fd)
{
    close(fd);
    fp_engine_destroy(engine);
}

static int wait_closed(int which, int want)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&seen.lock);
    while (seen.closed[which] < want && pthread_cond_timedwait(&seen.cond, &seen.lock, &deadline) == 0)
        ;
    int got = seen.closed[which];
    pthread_mutex_unlock(&seen.lock);
    return got;
}

/* Counters are bumped after the callbacks that tell the test about them. */
static uint64_t wait_stat(const char *name, uint64_t want)
{
    uint64_t got = 0;
    for (int i = 0; i < 1000 && (got = fp_engine_stat(engine, name)) < want; i++) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return got;
}

static void echo_once(int fd, const char *text)
{
    uint8_t buf[65536];
    uint16_t id = 0;
    ck_assert_int_eq(bc_send(fd, 0x0042, text, strlen(text)), 0);
    int n = bc_recv(fd, &id, buf);
    ck_assert_int_eq(n, (int)strlen(text));
    ck_assert_uint_eq(id, 0x0042);
    ck_assert_mem_eq(buf, text, strlen(text));
}

/* ---- workers ---- */

START_TEST(default_workers_stop_at_what_session_ids_address)
{
    fake_cpu_count_set(1000);
    start(0, 1);
    pthread_mutex_lock(&seen.lock);
    int started = seen.workers_started;
    unsigned highest = seen.highest_worker;
    pthread_mutex_unlock(&seen.lock);
    ck_assert_int_eq(started, (int)FP_ENGINE_MAX_WORKERS);
    ck_assert_uint_eq(highest, FP_ENGINE_MAX_WORKERS - 1);
    enum { CLIENTS = 8 };
    int fds[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        fds[i] = bc_connect(&server, 5000);
        ck_assert_int_ge(fds[i], 0);
        echo_once(fds[i], "served by one of 256 workers");
    }
    ck_assert_uint_eq(fp_engine_stat(engine, "sessions_open"), CLIENTS);
    for (int i = 0; i < CLIENTS; i++) close(fds[i]);
    ck_assert_int_eq(wait_closed(0, CLIENTS), CLIENTS);
    fp_engine_destroy(engine);
}
END_TEST

START_TEST(a_core_count_within_the_limit_is_used_as_is)
{
    fake_cpu_count_set(3);
    start(0, 1);
    pthread_mutex_lock(&seen.lock);
    ck_assert_int_eq(seen.workers_started, 3);
    pthread_mutex_unlock(&seen.lock);
    fp_engine_destroy(engine);
}
END_TEST

START_TEST(explicit_workers_over_the_limit_are_refused)
{
    char err[512] = "";
    ck_assert_ptr_null(create(FP_ENGINE_MAX_WORKERS + 1, 1, err, sizeof err));
    ck_assert_msg(strstr(err, "workers 257 out of range: must be 1..256") != NULL, "%s", err);
    fp_engine *e = create(FP_ENGINE_MAX_WORKERS, 1, err, sizeof err);
    ck_assert_msg(e != NULL, "the limit itself is allowed: %s", err);
    fp_engine_destroy(e);
}
END_TEST

/* ---- session_open / session_close pairing ---- */

START_TEST(a_refused_session_is_closed_only_for_plugins_that_accepted_it)
{
    seen.refuse[1] = 1;
    start(1, 3);
    int fd = client();
    /* Closes run last plugin first, so once the first one has its close,
     * every close the engine was going to deliver has been delivered. */
    ck_assert_int_eq(wait_closed(0, 1), 1);
    pthread_mutex_lock(&seen.lock);
    ck_assert_int_eq(seen.opened[0], 1);
    ck_assert_int_eq(seen.opened[1], 1);
    ck_assert_int_eq(seen.opened[2], 0);
    ck_assert_int_eq(seen.closed[1], 0);
    ck_assert_int_eq(seen.closed[2], 0);
    pthread_mutex_unlock(&seen.lock);
    ck_assert_uint_eq(wait_stat("sessions_refused", 1), 1);
    finish(fd);
}
END_TEST

START_TEST(an_accepted_session_is_closed_once_for_every_plugin)
{
    start(1, 3);
    int fd = client();
    echo_once(fd, "all three accepted");
    close(fd);
    ck_assert_int_eq(wait_closed(0, 1), 1);
    pthread_mutex_lock(&seen.lock);
    for (int i = 0; i < N_RECORDERS; i++) {
        ck_assert_int_eq(seen.opened[i], 1);
        ck_assert_int_eq(seen.closed[i], 1);
    }
    pthread_mutex_unlock(&seen.lock);
    fp_engine_destroy(engine);
}
END_TEST

/* ---- frame timeout ---- */

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void send_raw(int fd, const void *bytes, size_t len)
{
    ck_assert_int_eq(send(fd, bytes, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* 1: the server closed the connection within `ms`; 0: nothing came; -1: data came. */
static int closed_within(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, ms) <= 0)
        return 0;
    char byte;
    ssize_t n = recv(fd, &byte, 1, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno == ECONNRESET) ? 1 : -1;
}

/* A 104-byte frame trickled a byte per 100 ms: the session lives while
 * bytes keep coming (each resets the idle clock), so only the frame
 * timeout closes it, before the frame could ever complete. */
START_TEST(a_trickled_frame_closes_its_session)
{
    frame_timeout_ms = 300;
    start(1, 1);
    int fd = client();
    static const uint8_t header[4] = {0x00, 104, 0x00, 0x42};
    size_t sent = 0;
    int closed = 0;
    while (!closed && sent < 104) {
        send_raw(fd, &header[sent < 4 ? sent : 0], 1);
        sent++;
        closed = closed_within(fd, 100);
        ck_assert_int_ne(closed, -1);
    }
    ck_assert_msg(closed, "a frame trickled over 10 s was never cut off");
    ck_assert_uint_lt(sent, 104);
    ck_assert_uint_eq(wait_stat("frame_timeouts", 1), 1);
    finish(fd);
}
END_TEST

/* After a graceful close the worker reads only to find the peer's FIN; a
 * peer that keeps sending instead is reset after a bounded amount, not
 * read for until the close deadline. */
START_TEST(a_peer_that_keeps_sending_after_our_close_is_reset)
{
    frame_timeout_ms = 200;
    start(1, 1);
    int fd = client();
    static const uint8_t header_start[2] = {0x00, 0x40};
    send_raw(fd, header_start, sizeof header_start);
    ck_assert_int_eq(closed_within(fd, 5000), 1); /* our FIN */
    static uint8_t junk[65536];
    size_t sent = 0;
    int refused = 0;
    while (sent < (16u << 20) && !refused) {
        ssize_t n = send(fd, junk, sizeof junk, MSG_NOSIGNAL);
        if (n > 0) sent += (size_t)n;
        else refused = 1;
    }
    ck_assert_msg(refused, "16 MiB sent after the server's close were all read");
    ck_assert_uint_eq(wait_stat("transport.discard_aborts", 1), 1);
    finish(fd);
}
END_TEST

START_TEST(whole_frames_far_apart_are_not_a_slow_frame)
{
    frame_timeout_ms = 200;
    start(1, 1);
    int fd = client();
    echo_once(fd, "first");
    sleep_ms(600);
    echo_once(fd, "second, long after");
    ck_assert_uint_eq(fp_engine_stat(engine, "frame_timeouts"), 0);
    finish(fd);
}
END_TEST

/* The first frame's clock fires while the second is pending: the second
 * gets its own full timeout, counted from its first byte. */
START_TEST(each_frame_gets_its_own_timeout)
{
    frame_timeout_ms = 1000;
    start(1, 1);
    int fd = client();
    static const uint8_t first[] = {0x00, 0x06, 0x00, 0x42, 'a', 'b'};
    static const uint8_t second[] = {0x00, 0x06, 0x00, 0x42, 'c', 'd'};
    uint8_t glued[sizeof first];
    send_raw(fd, first, 3);
    sleep_ms(600);
    memcpy(glued, first + 3, 3);
    memcpy(glued + 3, second, 3);
    send_raw(fd, glued, 6);
    sleep_ms(600); /* past the first frame's deadline, within the second's */
    send_raw(fd, second + 3, 3);
    uint8_t buf[65536];
    uint16_t id = 0;
    ck_assert_int_eq(bc_recv(fd, &id, buf), 2);
    ck_assert_mem_eq(buf, "ab", 2);
    ck_assert_int_eq(bc_recv(fd, &id, buf), 2);
    ck_assert_mem_eq(buf, "cd", 2);
    ck_assert_uint_eq(fp_engine_stat(engine, "frame_timeouts"), 0);
    finish(fd);
}
END_TEST

START_TEST(a_zero_frame_timeout_never_closes)
{
    frame_timeout_ms = 0;
    start(1, 1);
    int fd = client();
    static const uint8_t frame[] = {0x00, 0x05, 0x00, 0x42, 'z'};
    for (size_t i = 0; i < sizeof frame; i++) {
        send_raw(fd, &frame[i], 1);
        sleep_ms(150);
    }
    uint8_t buf[65536];
    uint16_t id = 0;
    ck_assert_int_eq(bc_recv(fd, &id, buf), 1);
    ck_assert_uint_eq(fp_engine_stat(engine, "frame_timeouts"), 0);
    finish(fd);
}
END_TEST

/* ---- send timeout ---- */


/* Writes echo frames without reading until the server stops taking them
 * (its queue passed the high watermark and it paused reading: nothing
 * goes out for 100 ms) or closes the connection. Returns the whole frames
 * written; a frame cut short ends the writing. */
static size_t write_until_refused(int fd)
{
    static uint8_t frame[1004];
    frame[0] = (uint8_t)(sizeof frame >> 8);
    frame[1] = (uint8_t)(sizeof frame & 0xff);
    frame[3] = 0x42;
    size_t written = 0;
    for (;;) {
        ssize_t n = send(fd, frame, sizeof frame, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n == (ssize_t)sizeof frame) {
            written++;
            continue;
        }
        if (n > 0) { /* finish the frame so the stream stays whole */
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            size_t off = (size_t)n;
            while (off < sizeof frame && poll(&p, 1, 100) == 1) {
                n = send(fd, frame + off, sizeof frame - off, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) break;
                if (n > 0) off += (size_t)n;
            }
            if (off < sizeof frame) return written;
            written++;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            if (poll(&p, 1, 100) == 1 && !(p.revents & (POLLERR | POLLHUP))) continue;
        }
        return written;
    }
}

/* Reads and checks up to `max` echo frames, until none comes for 2 s. */
static size_t read_frames(int fd, size_t max)
{
    uint8_t buf[65536];
    uint16_t id = 0;
    size_t frames = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (frames < max && poll(&p, 1, 2000) == 1) {
        ck_assert_int_eq(bc_recv(fd, &id, buf), 1000);
        ck_assert_uint_eq(id, 0x42);
        frames++;
    }
    return frames;
}

START_TEST(a_peer_that_never_reads_is_aborted_at_the_send_timeout)
{
    send_timeout_ms = 300;
    start(1, 1);
    int fd = client();
    ck_assert_uint_gt(write_until_refused(fd), 0);
    ck_assert_uint_eq(wait_stat("send_timeouts", 1), 1);
    ck_assert_int_eq(wait_closed(0, 1), 1);
    finish(fd);
}
END_TEST

/* Progress, however slow, is not a stall: a reader taking 64 frames every
 * 100 ms keeps its session past several send timeouts of 400 ms while the
 * backlog (over a MiB) drains. */
START_TEST(a_slow_reader_that_keeps_reading_is_not_timed_out)
{
    send_timeout_ms = 400;
    start(1, 1);
    int fd = client();
    size_t frames = write_until_refused(fd);
    ck_assert_uint_gt(frames, 1000);
    size_t read = 0;
    for (int i = 0; i < 12; i++) {
        read += read_frames(fd, 64);
        sleep_ms(100);
    }
    ck_assert_uint_eq(fp_engine_stat(engine, "send_timeouts"), 0);
    read += read_frames(fd, frames - read);
    ck_assert_uint_eq(read, frames);
    pthread_mutex_lock(&seen.lock);
    int closed = seen.closed[0];
    pthread_mutex_unlock(&seen.lock);
    ck_assert_int_eq(closed, 0);
    finish(fd);
}
END_TEST

/* Reading paused by the engine's own backpressure holds back the frame
 * the framer had begun: its clock restarts on resume instead of closing a
 * session whose peer did nothing wrong. */
START_TEST(a_frame_held_back_by_a_pause_is_not_a_slow_frame)
{
    frame_timeout_ms = 300;
    send_timeout_ms = 0;
    start(1, 1);
    int fd = client();
    size_t frames = write_until_refused(fd);
    sleep_ms(800);
    ck_assert_uint_eq(read_frames(fd, frames), frames);
    ck_assert_uint_eq(fp_engine_stat(engine, "frame_timeouts"), 0);
    finish(fd);
}
END_TEST

/* Likewise the idle timeout: while the engine does not read, the peer's
 * silence is not known, and the send timeout judges the session. */
START_TEST(a_session_paused_by_backpressure_is_not_idle)
{
    idle_timeout_ms = 300;
    send_timeout_ms = 0;
    start(1, 1);
    int fd = client();
    size_t frames = write_until_refused(fd);
    sleep_ms(900);
    ck_assert_uint_eq(fp_engine_stat(engine, "idle_timeouts"), 0);
    ck_assert_uint_eq(read_frames(fd, frames), frames);
    finish(fd);
}
END_TEST

START_TEST(a_zero_send_timeout_never_aborts)
{
    send_timeout_ms = 0;
    start(1, 1);
    int fd = client();
    size_t frames = write_until_refused(fd);
    sleep_ms(1000);
    ck_assert_uint_eq(fp_engine_stat(engine, "send_timeouts"), 0);
    ck_assert_uint_eq(read_frames(fd, frames), frames);
    finish(fd);
}
END_TEST

/* ---- the worker's memory budget ---- */

/* Four peers that never read each hold 64-128 KiB (reading pauses above a
 * quarter of the 256 KiB queue cap, after one receive's replies at most)
 * and together pass a 160 KiB budget: the largest holders are aborted
 * until the sum fits, never all of them, and a peer that reads keeps
 * echoing throughout. */
START_TEST(over_the_worker_budget_the_largest_holders_are_aborted)
{
    worker_memory_limit = 160 << 10;
    send_timeout_ms = 0;
    start(1, 1);
    int healthy = client();
    echo_once(healthy, "before");
    int stalled[4];
    for (int i = 0; i < 4; i++) {
        stalled[i] = client();
        ck_assert_uint_gt(write_until_refused(stalled[i]), 0);
    }
    uint64_t evicted = wait_stat("memory_evictions", 1);
    ck_assert_uint_ge(evicted, 1);
    ck_assert_uint_le(evicted, 3);
    ck_assert_uint_le(fp_engine_stat(engine, "memory_held"), worker_memory_limit);
    echo_once(healthy, "after the evictions");
    int aborted = 0;
    for (int i = 0; i < 4; i++) {
        aborted += closed_within(stalled[i], 0) == 1 || send(stalled[i], "x", 1, MSG_NOSIGNAL) < 0;
        close(stalled[i]);
    }
    ck_assert_int_ge(aborted, 1);
    ck_assert_int_eq(wait_closed(0, 4), 4);
    finish(healthy);
}
END_TEST

/* Everything a session held is given back when it closes. */
START_TEST(memory_held_returns_to_zero_when_sessions_close)
{
    send_timeout_ms = 0;
    start(1, 1);
    int fd = client();
    ck_assert_uint_gt(write_until_refused(fd), 0);
    ck_assert_uint_gt(fp_engine_stat(engine, "memory_held"), 0);
    close(fd);
    ck_assert_int_eq(wait_closed(0, 1), 1);
    ck_assert_uint_eq(fp_engine_stat(engine, "memory_held"), 0);
    ck_assert_uint_eq(fp_engine_stat(engine, "memory_evictions"), 0);
    fp_engine_destroy(engine);
}
END_TEST

/* ---- what a paused connection holds in the transport ---- */

/* A completion transport keeps what a receive in flight brings after the
 * engine paused the connection (the stash). uring's multishot recv used
 * to fill every free buffer of its ring for a flooding peer before the
 * pause's cancel landed: megabytes per connection. Capped per arm, the
 * stash stays within a couple of receive buffers. */
START_TEST(a_paused_connection_stashes_at_most_a_receive_burst)
{
    transport_name = "uring";
    small_socket_buffers = 0; /* the kernel may hold megabytes for the peer */
    send_timeout_ms = 0;
    if (!start_if_it_runs())
        return;
    int fd[4];
    for (int i = 0; i < 4; i++) fd[i] = client();
    for (int i = 0; i < 4; i++) ck_assert_uint_gt(write_until_refused(fd[i]), 0);
    ck_assert_uint_gt(fp_engine_stat(engine, "recv_paused"), 0);
    uint64_t stash_peak = fp_engine_stat(engine, "transport.stash_peak");
    ck_assert_msg(stash_peak <= 2 * 65536, "a paused connection stashed %llu bytes",
                  (unsigned long long)stash_peak);
    for (int i = 1; i < 4; i++) close(fd[i]);
    finish(fd[0]);
}
END_TEST

/* ---- pools shrink back after a burst ---- */

/* Polls a transport counter (not cached by the engine) until `done` says
 * it reached its value, for at most 10 s. */
static uint64_t wait_transport_stat(const char *name, int (*done)(uint64_t))
{
    uint64_t got = 0;
    for (int i = 0; i < 100 && !done(got = fp_engine_stat(engine, name)); i++) sleep_ms(100);
    return got;
}

static int is_zero(uint64_t v) { return v == 0; }
static int at_most_one(uint64_t v) { return v <= 1; }

/* Eight peers back replies up, then leave. Returns 0 (a skip) when the
 * transport cannot run here. */
static int backlog_then_leave(void)
{
    send_timeout_ms = 0;
    small_socket_buffers = 0;
    if (!start_if_it_runs())
        return 0;
    int fd[8];
    for (int i = 0; i < 8; i++) {
        fd[i] = client();
        ck_assert_uint_gt(write_until_refused(fd[i]), 0);
    }
    for (int i = 0; i < 8; i++) close(fd[i]);
    ck_assert_int_eq(wait_closed(0, 8), 8);
    return 1;
}

START_TEST(epoll_frees_the_send_chunks_a_burst_left_cached)
{
    transport_name = "epoll";
    ck_assert(backlog_then_leave());
    ck_assert_uint_eq(wait_transport_stat("transport.send_pool_cached", is_zero), 0);
    ck_assert_uint_gt(fp_engine_stat(engine, "transport.send_pool_max_used"), 0);
    ck_assert_uint_ge(fp_engine_stat(engine, "transport.trims"), 2);
    fp_engine_destroy(engine);
}
END_TEST

START_TEST(uring_unmaps_the_send_regions_a_burst_added)
{
    transport_name = "uring";
    if (!backlog_then_leave())
        return;
    ck_assert_uint_le(wait_transport_stat("transport.pool_regions", at_most_one), 1);
    ck_assert_uint_gt(fp_engine_stat(engine, "transport.pool_high_water"), 256 * 1024);
    ck_assert_uint_ge(fp_engine_stat(engine, "transport.trims"), 1);
    fp_engine_destroy(engine);
}
END_TEST

static Suite *engine_limits_suite(void)
{
    Suite *s = suite_create("engine_limits");
    TCase *t = tcase_create("limits");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, default_workers_stop_at_what_session_ids_address);
    tcase_add_test(t, a_core_count_within_the_limit_is_used_as_is);
    tcase_add_test(t, explicit_workers_over_the_limit_are_refused);
    tcase_add_test(t, a_refused_session_is_closed_only_for_plugins_that_accepted_it);
    tcase_add_test(t, an_accepted_session_is_closed_once_for_every_plugin);
    tcase_add_test(t, a_trickled_frame_closes_its_session);
    tcase_add_test(t, a_peer_that_keeps_sending_after_our_close_is_reset);
    tcase_add_test(t, whole_frames_far_apart_are_not_a_slow_frame);
    tcase_add_test(t, each_frame_gets_its_own_timeout);
    tcase_add_test(t, a_zero_frame_timeout_never_closes);
    tcase_add_test(t, a_peer_that_never_reads_is_aborted_at_the_send_timeout);
    tcase_add_test(t, a_slow_reader_that_keeps_reading_is_not_timed_out);
    tcase_add_test(t, a_zero_send_timeout_never_aborts);
    tcase_add_test(t, a_frame_held_back_by_a_pause_is_not_a_slow_frame);
    tcase_add_test(t, a_session_paused_by_backpressure_is_not_idle);
    tcase_add_test(t, over_the_worker_budget_the_largest_holders_are_aborted);
    tcase_add_test(t, memory_held_returns_to_zero_when_sessions_close);
    tcase_add_test(t, a_paused_connection_stashes_at_most_a_receive_burst);
    tcase_add_test(t, epoll_frees_the_send_chunks_a_burst_left_cached);
    tcase_add_test(t, uring_unmaps_the_send_regions_a_burst_added);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(engine_limits_suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
