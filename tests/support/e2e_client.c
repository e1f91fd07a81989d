#include "e2e_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "fastport/plugin.h"

#define E2E_IO_CHUNK (128u * 1024u)
#define E2E_READS_PER_EVENT 4

struct e2e_client {
    int epfd;
    e2e_session **sessions;
    size_t n, cap;
    uint8_t *io;     /* bytes read, or bytes about to be written */
    uint8_t *expect; /* regenerated reply bytes to compare with */
    char summary[512];
};

uint64_t e2e_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *e2e_state_name(e2e_state s)
{
    switch (s) {
    case E2E_CONNECTING: return "connecting";
    case E2E_RUNNING: return "running";
    case E2E_DONE: return "done";
    case E2E_EOF: return "eof";
    case E2E_RESET: return "reset";
    case E2E_FAILED: return "failed";
    }
    return "?";
}

e2e_client *e2e_client_create(void)
{
    e2e_client *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    c->epfd = epoll_create1(EPOLL_CLOEXEC);
    c->io = malloc(E2E_IO_CHUNK);
    c->expect = malloc(E2E_IO_CHUNK);
    if (c->epfd < 0 || !c->io || !c->expect) {
        e2e_client_destroy(c);
        return NULL;
    }
    return c;
}

void e2e_client_destroy(e2e_client *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) {
        if (c->sessions[i]->fd >= 0) close(c->sessions[i]->fd);
        free(c->sessions[i]);
    }
    free(c->sessions);
    if (c->epfd >= 0) close(c->epfd);
    free(c->io);
    free(c->expect);
    free(c);
}

size_t e2e_client_size(const e2e_client *c) { return c->n; }

e2e_session *e2e_client_session(e2e_client *c, size_t index)
{
    return index < c->n ? c->sessions[index] : NULL;
}

size_t e2e_client_count(const e2e_client *c, e2e_state state)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++) n += c->sessions[i]->state == state;
    return n;
}

uint64_t e2e_client_rx_frames(const e2e_client *c)
{
    uint64_t n = 0;
    for (size_t i = 0; i < c->n; i++) n += c->sessions[i]->rx_frames;
    return n;
}

const char *e2e_client_summary(e2e_client *c)
{
    int len = snprintf(c->summary, sizeof(c->summary), "%zu sessions:", c->n);
    for (int st = E2E_CONNECTING; st <= E2E_FAILED && len > 0 && (size_t)len < sizeof(c->summary);
         st++) {
        size_t n = e2e_client_count(c, (e2e_state)st);
        if (n) len += snprintf(c->summary + len, sizeof(c->summary) - (size_t)len, " %zu %s", n,
                               e2e_state_name((e2e_state)st));
    }
    for (size_t i = 0; i < c->n && len > 0 && (size_t)len < sizeof(c->summary); i++) {
        const e2e_session *s = c->sessions[i];
        if (s->error[0]) {
            snprintf(c->summary + len, sizeof(c->summary) - (size_t)len, "; first error: %s",
                     s->error);
            break;
        }
    }
    return c->summary;
}

static void session_fail(e2e_session *s, const char *fmt, ...) FP_PRINTF_LIKE(2, 3);

static void session_release_fd(e2e_session *s)
{
    if (s->fd >= 0) close(s->fd); /* closing also leaves the epoll set */
    s->fd = -1;
    s->events = 0;
}

static void session_fail(e2e_session *s, const char *fmt, ...)
{
    if (s->state == E2E_FAILED) return;
    int n = snprintf(s->error, sizeof(s->error), "session %zu: ", s->index);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->error + n, sizeof(s->error) - (size_t)n, fmt, ap);
    va_end(ap);
    s->state = E2E_FAILED;
    session_release_fd(s);
}

static void session_update_events(e2e_client *c, e2e_session *s);

static int session_wants_write(const e2e_session *s)
{
    if (s->state != E2E_RUNNING || s->tx_dead) return 0;
    uint64_t limit = s->opts.frames;
    if (s->opts.depth && s->rx_frames + s->opts.depth < limit) limit = s->rx_frames + s->opts.depth;
    return s->tx_frame < limit;
}

static void session_update_events(e2e_client *c, e2e_session *s)
{
    if (s->fd < 0) return;
    uint32_t want = 0;
    if (s->state == E2E_CONNECTING) {
        want = EPOLLOUT;
    } else {
        if (!s->opts.paused_reading) want |= EPOLLIN | EPOLLRDHUP;
        if (s->tx_blocked && session_wants_write(s)) want |= EPOLLOUT;
    }
    if (want == s->events) return;
    struct epoll_event ev = {.events = want, .data.ptr = s};
    /* Registered once at connect; only the interest changes afterwards. */
    if (epoll_ctl(c->epfd, EPOLL_CTL_MOD, s->fd, &ev) < 0) {
        session_fail(s, "epoll_ctl: %s", strerror(errno));
        return;
    }
    s->events = want;
}

e2e_session *e2e_client_connect(e2e_client *c, const struct sockaddr *addr, socklen_t addr_len,
                                const e2e_session_opts *opts)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        e2e_session **grown = realloc(c->sessions, cap * sizeof(*grown));
        if (!grown) return NULL;
        c->sessions = grown;
        c->cap = cap;
    }
    e2e_session *s = calloc(1, sizeof(*s));
    if (!s) return NULL;
    s->index = c->n;
    s->opts = *opts;
    s->fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        fprintf(stderr, "e2e client: socket: %s\n", strerror(errno));
        free(s);
        return NULL;
    }
    c->sessions[c->n++] = s;
    int one = 1;
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    s->state = E2E_CONNECTING;
    s->last_tx_ns = e2e_now_ns();
    if (connect(s->fd, addr, addr_len) < 0 && errno != EINPROGRESS) {
        session_fail(s, "connect: %s", strerror(errno));
        return s;
    }
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = s};
    if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0) {
        session_fail(s, "epoll_ctl add: %s", strerror(errno));
        return s;
    }
    s->events = EPOLLOUT;
    return s;
}

static void session_finish(e2e_client *c, e2e_session *s)
{
    s->state = E2E_DONE;
    if (s->opts.finish == E2E_FINISH_CLOSE) {
        session_release_fd(s);
    } else if (s->opts.finish == E2E_FINISH_PARTIAL) {
        /* A header announcing 1000 payload bytes, and only 500 of them. */
        uint8_t partial[FP_FRAME_HEADER_SIZE + 500];
        e2e_frame f = {.seed = s->opts.seed ^ 0xdeadull, .len = 1000, .id = 0x0101};
        e2e_frame_fill(&f, 0, partial, sizeof(partial));
        ssize_t n = send(s->fd, partial, sizeof(partial), MSG_NOSIGNAL);
        if (n != (ssize_t)sizeof(partial)) {
            session_fail(s, "partial frame: wrote %zd of %zu bytes", n, sizeof(partial));
            return;
        }
        session_release_fd(s);
    } else {
        session_update_events(c, s);
    }
}

/* Write as much of the allowed frames as the socket takes. */
static void session_pump(e2e_client *c, e2e_session *s)
{
    while (session_wants_write(s)) {
        uint64_t limit = s->opts.frames;
        if (s->opts.depth && s->rx_frames + s->opts.depth < limit)
            limit = s->rx_frames + s->opts.depth;
        size_t built = 0;
        uint64_t frame = s->tx_frame;
        size_t offset = s->tx_offset;
        while (frame < limit && built < E2E_IO_CHUNK) {
            e2e_frame f;
            e2e_frame_describe(s->opts.seed, frame, s->opts.max_payload, &f);
            size_t size = f.len + FP_FRAME_HEADER_SIZE;
            size_t n = size - offset;
            if (n > E2E_IO_CHUNK - built) n = E2E_IO_CHUNK - built;
            e2e_frame_fill(&f, offset, c->io + built, n);
            built += n;
            offset += n;
            if (offset == size) {
                frame++;
                offset = 0;
            }
        }
        ssize_t sent = send(s->fd, c->io, built, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                s->tx_blocked = 1;
            } else if (errno == EPIPE || errno == ECONNRESET) {
                /* The server stopped taking bytes; its close shows on read. */
                s->tx_dead = 1;
                if (s->opts.paused_reading) s->state = errno == EPIPE ? E2E_EOF : E2E_RESET;
            } else if (errno != EINTR) {
                session_fail(s, "send: %s", strerror(errno));
                return;
            }
            break;
        }
        s->tx_bytes += (uint64_t)sent;
        s->last_tx_ns = e2e_now_ns();
        size_t left = (size_t)sent;
        while (left > 0) {
            e2e_frame f;
            e2e_frame_describe(s->opts.seed, s->tx_frame, s->opts.max_payload, &f);
            size_t rest = f.len + FP_FRAME_HEADER_SIZE - s->tx_offset;
            if (left < rest) {
                s->tx_offset += left;
                break;
            }
            left -= rest;
            s->tx_frame++;
            s->tx_frames++;
            s->tx_offset = 0;
        }
        s->tx_blocked = (size_t)sent < built;
        if (s->tx_blocked) break;
    }
    session_update_events(c, s);
}

/* Check received bytes against the replies they should be. */
static void session_consume(e2e_client *c, e2e_session *s, const uint8_t *data, size_t len)
{
    while (len > 0 && s->state == E2E_RUNNING) {
        if (s->rx_header_have < FP_FRAME_HEADER_SIZE) {
            size_t n = FP_FRAME_HEADER_SIZE - s->rx_header_have;
            if (n > len) n = len;
            memcpy(s->rx_header + s->rx_header_have, data, n);
            s->rx_header_have += n;
            data += n;
            len -= n;
            if (s->rx_header_have < FP_FRAME_HEADER_SIZE) return;
            unsigned size = (unsigned)s->rx_header[0] << 8 | s->rx_header[1];
            unsigned id = (unsigned)s->rx_header[2] << 8 | s->rx_header[3];
            if (s->rx_frames >= s->tx_frames) {
                session_fail(s, "reply %llu (size %u, id %#x) arrived before its request was sent",
                             (unsigned long long)s->rx_frames, size, id);
                return;
            }
            e2e_frame_describe(s->opts.seed, s->rx_frames, s->opts.max_payload, &s->rx_expect);
            if (size != s->rx_expect.len + FP_FRAME_HEADER_SIZE || id != s->rx_expect.id) {
                session_fail(s, "reply %llu: header size %u id %#x, expected size %u id %#x",
                             (unsigned long long)s->rx_frames, size, id,
                             s->rx_expect.len + FP_FRAME_HEADER_SIZE, s->rx_expect.id);
                return;
            }
            s->rx_payload_have = 0;
        }
        size_t n = s->rx_expect.len - s->rx_payload_have;
        if (n > len) n = len;
        if (n > 0) {
            e2e_payload_fill(s->rx_expect.seed, s->rx_payload_have, c->expect, n);
            if (memcmp(c->expect, data, n) != 0) {
                size_t at = 0;
                while (c->expect[at] == data[at]) at++;
                session_fail(s, "reply %llu: payload byte %zu of %u is %#x, expected %#x",
                             (unsigned long long)s->rx_frames, s->rx_payload_have + at,
                             s->rx_expect.len, data[at], c->expect[at]);
                return;
            }
            s->rx_payload_have += n;
            data += n;
            len -= n;
        }
        if (s->rx_payload_have == s->rx_expect.len) {
            s->rx_frames++;
            s->rx_header_have = 0;
            if (s->rx_frames == s->opts.frames) session_finish(c, s);
        }
    }
    if (len > 0 && s->state == E2E_DONE)
        session_fail(s, "%zu bytes arrived after the last reply", len);
}

static void session_closed_by_peer(e2e_session *s, e2e_state how)
{
    if (s->state == E2E_RUNNING && (s->rx_header_have > 0)) {
        session_fail(s, "%s inside reply %llu (%zu header bytes, %zu payload bytes)",
                     how == E2E_EOF ? "EOF" : "reset", (unsigned long long)s->rx_frames,
                     s->rx_header_have, s->rx_payload_have);
        return;
    }
    s->state = how;
    session_release_fd(s);
}

static void session_read(e2e_client *c, e2e_session *s)
{
    for (int i = 0; i < E2E_READS_PER_EVENT && s->fd >= 0; i++) {
        ssize_t n = recv(s->fd, c->io, E2E_IO_CHUNK, MSG_DONTWAIT);
        if (n > 0) {
            if (s->state == E2E_DONE) {
                session_fail(s, "%zd bytes arrived after the last reply", n);
                return;
            }
            session_consume(c, s, c->io, (size_t)n);
            if ((size_t)n < E2E_IO_CHUNK) return;
        } else if (n == 0) {
            session_closed_by_peer(s, E2E_EOF);
            return;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            return;
        } else if (errno == ECONNRESET || errno == EPIPE) {
            session_closed_by_peer(s, E2E_RESET);
            return;
        } else {
            session_fail(s, "recv: %s", strerror(errno));
            return;
        }
    }
}

static void session_connected(e2e_client *c, e2e_session *s)
{
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
    if (err == ECONNRESET) { /* accepted, then reset before we looked */
        s->state = E2E_RESET;
        session_release_fd(s);
        return;
    }
    if (err) {
        session_fail(s, "connect: %s", strerror(err));
        return;
    }
    s->state = E2E_RUNNING;
    s->last_tx_ns = e2e_now_ns();
    if (s->opts.frames == 0) {
        session_finish(c, s);
        return;
    }
    session_pump(c, s);
}

static void session_event(e2e_client *c, e2e_session *s, uint32_t events)
{
    if (s->fd < 0) return;
    if (s->state == E2E_CONNECTING) {
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) session_connected(c, s);
        return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        if (!s->opts.paused_reading) session_read(c, s);
        else if (events & (EPOLLHUP | EPOLLERR)) s->tx_dead = 1;
    }
    if (s->fd >= 0 && (s->state == E2E_RUNNING)) {
        if (events & EPOLLOUT) s->tx_blocked = 0;
        if (!s->tx_blocked) session_pump(c, s);
        else session_update_events(c, s);
    }
}

void e2e_session_set_reading(e2e_client *c, e2e_session *s, int on)
{
    s->opts.paused_reading = !on;
    session_update_events(c, s);
}

void e2e_session_add_frames(e2e_client *c, e2e_session *s, uint64_t more)
{
    s->opts.frames += more;
    if (s->state == E2E_DONE && s->fd >= 0 && more > 0) {
        s->state = E2E_RUNNING;
        session_pump(c, s);
    }
}

void e2e_session_stop_sending(e2e_client *c, e2e_session *s)
{
    s->opts.frames = s->tx_frame + (s->tx_offset > 0);
    if (s->state == E2E_RUNNING && s->rx_frames == s->opts.frames) session_finish(c, s);
    else session_update_events(c, s);
}

void e2e_session_close(e2e_client *c, e2e_session *s)
{
    (void)c;
    session_release_fd(s);
}

static int nothing_active(e2e_client *c)
{
    return e2e_client_count(c, E2E_CONNECTING) == 0 && e2e_client_count(c, E2E_RUNNING) == 0;
}

int e2e_client_run(e2e_client *c, e2e_until_fn until, void *ctx, int timeout_ms)
{
    uint64_t deadline = e2e_now_ns() + (uint64_t)timeout_ms * 1000000ull;
    struct epoll_event events[256];
    for (;;) {
        if (until ? until(c, ctx) : nothing_active(c)) return 0;
        uint64_t now = e2e_now_ns();
        if (now >= deadline) return -1;
        int wait_ms = (int)((deadline - now) / 1000000ull);
        if (wait_ms > 10) wait_ms = 10; /* `until` may watch something other than sockets */
        int n = epoll_wait(c->epfd, events, 256, wait_ms);
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "e2e client: epoll_wait: %s\n", strerror(errno));
            return -1;
        }
        for (int i = 0; i < n; i++) session_event(c, events[i].data.ptr, events[i].events);
    }
}
