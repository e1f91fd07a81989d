/*
 * storm: `cycles` short connections, `parallel` in flight at once, so the
 * server reuses descriptor numbers while completions for the previous
 * owners may still be on their way. Each cycle sends one frame carrying
 * its own unique payload and ends, at random, one of three ways:
 *   client-fin    reads its echo, then closes (FIN, the client first);
 *   client-reset  resets right after sending, reading nothing;
 *   server-close  reads its echo, then sends a header declaring a frame
 *                 too small to exist, which makes the server abort the
 *                 session (the server first).
 * Every byte a client reads must be its own frame's echo: a completion
 * delivered to the wrong session shows up as another cycle's payload.
 * The counts per ending are printed for the script's counter checks.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fault_client.h"

#define MAX_PARALLEL 256
#define MAX_PAYLOAD 256
#define CYCLE_TIMEOUT_MS 10000
/* Source addresses 127.0.0.1..N spread the client's ephemeral ports,
 * which TIME_WAIT of the client-first endings would otherwise use up. */
#define SOURCE_ADDRESSES 8

enum ending { CLIENT_FIN, CLIENT_RESET, SERVER_CLOSE, ENDINGS };
static const char *const ending_names[ENDINGS] = {"client-fin", "client-reset", "server-close"};

enum phase { IDLE, CONNECTING, SENDING, READING, AWAIT_CLOSE };

typedef struct slot {
    int fd;
    enum phase phase;
    enum ending ending;
    uint64_t cycle;
    int64_t deadline;
    uint8_t frame[MAX_PAYLOAD + 4], reply[MAX_PAYLOAD + 4];
    size_t size, done; /* frame size; bytes sent or read in this phase */
} slot;

typedef struct storm {
    const fc_opts *o;
    uint64_t rng;
    uint64_t started, finished;
    unsigned long endings[ENDINGS];
    unsigned long foreign, replies;
    bool failed;
} storm;

static uint64_t next_random(storm *s)
{
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return s->rng;
}

static const char *const phase_names[] = {"idle", "connecting", "sending", "reading the echo",
                                          "waiting for the close"};

static void slot_fail(storm *s, slot *sl, const char *why)
{
    fprintf(stderr, "fp-fault-client: storm: cycle %llu (%s), %s: %s\n", (unsigned long long)sl->cycle,
            ending_names[sl->ending], phase_names[sl->phase], why);
    s->failed = true;
}

static void slot_finish(storm *s, slot *sl)
{
    if (sl->fd >= 0) close(sl->fd);
    sl->fd = -1;
    sl->phase = IDLE;
    s->endings[sl->ending]++;
    s->finished++;
}

static void slot_start(storm *s, slot *sl)
{
    const fc_opts *o = s->o;
    sl->cycle = s->started++;
    uint64_t r = next_random(s);
    sl->ending = (enum ending)(r % ENDINGS);
    size_t len = 8 + (size_t)(r >> 8) % (MAX_PAYLOAD - 8);
    sl->size = fc_frame_build(sl->frame, (uint16_t)sl->cycle, o->seed << 40 | sl->cycle, len);
    struct sockaddr_in from = {.sin_family = AF_INET};
    from.sin_addr.s_addr = htonl(0x7f000001u + (uint32_t)(sl->cycle % SOURCE_ADDRESSES));
    sl->fd = fc_connect_start(&o->server, &from);
    if (sl->fd < 0) sl->fd = fc_connect_start(&o->server, NULL);
    if (sl->fd < 0) {
        char why[128];
        snprintf(why, sizeof why, "connect: %s", strerror(errno));
        slot_fail(s, sl, why);
        return;
    }
    sl->phase = CONNECTING;
    sl->done = 0;
    sl->deadline = fc_now_ms() + CYCLE_TIMEOUT_MS;
}

static void on_connecting(storm *s, slot *sl)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(sl->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        char why[128];
        snprintf(why, sizeof why, "connect: %s", strerror(err ? err : errno));
        slot_fail(s, sl, why);
        return;
    }
    sl->phase = SENDING;
}

static void on_sending(storm *s, slot *sl)
{
    ssize_t n = send(sl->fd, sl->frame + sl->done, sl->size - sl->done, MSG_NOSIGNAL);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        slot_fail(s, sl, strerror(errno));
        return;
    }
    sl->done += (size_t)n;
    if (sl->done < sl->size) return;
    if (sl->ending == CLIENT_RESET) {
        fc_reset(sl->fd);
        sl->fd = -1;
        slot_finish(s, sl);
        return;
    }
    sl->phase = READING;
    sl->done = 0;
}

static void on_reading(storm *s, slot *sl)
{
    ssize_t n = recv(sl->fd, sl->reply + sl->done, sl->size - sl->done, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {
        slot_fail(s, sl, n == 0 ? "EOF before the echo" : strerror(errno));
        return;
    }
    sl->done += (size_t)n;
    if (sl->done < sl->size) return;
    s->replies++;
    if (!fc_frame_is_echo(sl->frame, sl->reply, sl->size)) {
        s->foreign++;
        slot_fail(s, sl, "the reply is not this cycle's frame (a completion for another session?)");
        return;
    }
    if (sl->ending == CLIENT_FIN) {
        slot_finish(s, sl);
        return;
    }
    static const uint8_t too_small[4] = {0, 0, 0, 0}; /* declares a 0-byte frame */
    if (send(sl->fd, too_small, sizeof too_small, MSG_NOSIGNAL) != (ssize_t)sizeof too_small) {
        slot_fail(s, sl, "cannot send the malformed header");
        return;
    }
    sl->phase = AWAIT_CLOSE;
}

static void on_await_close(storm *s, slot *sl)
{
    uint8_t extra[64];
    ssize_t n = recv(sl->fd, extra, sizeof extra, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n > 0) {
        s->foreign++;
        slot_fail(s, sl, "bytes after the echo, on a session the server was closing");
        return;
    }
    if (n < 0 && errno != ECONNRESET) {
        slot_fail(s, sl, strerror(errno));
        return;
    }
    slot_finish(s, sl);
}

static short wanted_events(const slot *sl)
{
    return sl->phase == CONNECTING || sl->phase == SENDING ? POLLOUT : POLLIN;
}

static void slot_step(storm *s, slot *sl)
{
    switch (sl->phase) {
    case CONNECTING: on_connecting(s, sl); break;
    case SENDING: on_sending(s, sl); break;
    case READING: on_reading(s, sl); break;
    case AWAIT_CLOSE: on_await_close(s, sl); break;
    case IDLE: break;
    }
}

static int run(storm *s, slot *slots, size_t n)
{
    struct pollfd pfd[MAX_PARALLEL];
    while (!s->failed && s->finished < s->o->cycles) {
        size_t active = 0;
        for (size_t i = 0; i < n; i++) {
            if (slots[i].phase == IDLE && s->started < s->o->cycles) slot_start(s, &slots[i]);
            if (s->failed) return -1;
            pfd[i] = (struct pollfd){.fd = slots[i].phase == IDLE ? -1 : slots[i].fd,
                                     .events = wanted_events(&slots[i])};
            if (slots[i].phase != IDLE) active++;
        }
        if (!active) break;
        if (poll(pfd, n, 100) < 0 && errno != EINTR) return -1;
        int64_t now = fc_now_ms();
        for (size_t i = 0; i < n && !s->failed; i++) {
            if (slots[i].phase == IDLE) continue;
            if (pfd[i].revents)
                slot_step(s, &slots[i]);
            else if (now > slots[i].deadline)
                slot_fail(s, &slots[i], "no progress within 10 s");
        }
    }
    return s->failed ? -1 : 0;
}

int fc_storm(const fc_opts *o)
{
    size_t n = o->parallel > MAX_PARALLEL ? MAX_PARALLEL : o->parallel;
    slot *slots = calloc(n, sizeof *slots);
    if (!slots) return 1;
    for (size_t i = 0; i < n; i++) slots[i].fd = -1;
    storm s = {.o = o, .rng = o->seed * 0x9E3779B97F4A7C15ull | 1};
    int64_t t0 = fc_now_ms();
    int rc = run(&s, slots, n);
    int64_t took = fc_now_ms() - t0;
    for (size_t i = 0; i < n; i++)
        if (slots[i].fd >= 0) close(slots[i].fd);
    free(slots);
    printf("storm: %llu cycles in %lld ms, %zu in flight: client-fin=%lu client-reset=%lu server-close=%lu, "
           "%lu echoes checked, %lu foreign\n",
           (unsigned long long)s.finished, (long long)took, n, s.endings[CLIENT_FIN], s.endings[CLIENT_RESET],
           s.endings[SERVER_CLOSE], s.replies, s.foreign);
    return rc == 0 && s.foreign == 0 ? 0 : 1;
}
