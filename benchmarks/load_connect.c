#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "load.h"

uint64_t load_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int start_connect(const load_options *o, int epfd, load_session *s)
{
    s->fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        fprintf(stderr, "%s: session %u: socket: %s\n", o->program, s->index, strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* Before connect: the window it advertises is set by then. */
    if (o->rcvbuf) setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &o->rcvbuf, sizeof o->rcvbuf);
    if (connect(s->fd, (const struct sockaddr *)&o->addr, o->addr_len) < 0 && errno != EINPROGRESS) {
        fprintf(stderr, "%s: session %u: connect to %s: %s\n", o->program, s->index, o->connect_text,
                strerror(errno));
        return -1;
    }
    /* Writability reports the end of the handshake, either way. */
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = s};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0) {
        fprintf(stderr, "%s: epoll_ctl: %s\n", o->program, strerror(errno));
        return -1;
    }
    s->state = LOAD_CONNECTING;
    return 0;
}

static int finish_connect(const load_options *o, int epfd, load_session *s)
{
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0) soerr = errno;
    if (soerr) {
        fprintf(stderr, "%s: session %u: connect to %s: %s\n", o->program, s->index, o->connect_text,
                strerror(soerr));
        return -1;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, s->fd, &ev) < 0) {
        fprintf(stderr, "%s: epoll_ctl: %s\n", o->program, strerror(errno));
        return -1;
    }
    s->state = LOAD_OPEN;
    return 0;
}

int load_connect_all(const load_options *o, int epfd, load_session *sessions)
{
    uint32_t started = 0, open = 0;
    uint64_t deadline = load_now_ns() + o->connect_timeout_ms * 1000000u;
    struct epoll_event events[256];

    for (uint32_t i = 0; i < o->sessions; i++) {
        sessions[i].fd = -1;
        sessions[i].index = i;
        sessions[i].state = LOAD_CLOSED;
    }
    while (open < o->sessions) {
        while (started < o->sessions && started - open < o->connect_batch) {
            if (start_connect(o, epfd, &sessions[started]) < 0) return -1;
            started++;
        }
        uint64_t now = load_now_ns();
        if (now >= deadline) {
            fprintf(stderr, "%s: only %u of %u sessions open after %.1f s\n", o->program, open, o->sessions,
                    (double)o->connect_timeout_ms / 1000.0);
            return -1;
        }
        uint64_t left_ms = (deadline - now) / 1000000u + 1;
        int n = epoll_wait(epfd, events, 256, left_ms > 100 ? 100 : (int)left_ms);
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "%s: epoll_wait: %s\n", o->program, strerror(errno));
            return -1;
        }
        for (int k = 0; k < n; k++) {
            load_session *s = events[k].data.ptr;
            if (s->state != LOAD_CONNECTING) continue;
            if (finish_connect(o, epfd, s) < 0) return -1;
            open++;
        }
    }
    return 0;
}

void load_close_all(load_session *sessions, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (sessions[i].fd >= 0) close(sessions[i].fd);
        sessions[i].fd = -1;
        sessions[i].state = LOAD_CLOSED;
        free(sessions[i].tx);
        free(sessions[i].rx);
        sessions[i].tx = sessions[i].rx = NULL;
    }
}
