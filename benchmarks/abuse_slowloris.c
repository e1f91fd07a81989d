/* Slowloris: every connection sends one byte of the same valid echo frame
 * per --interval and stops one byte short of its end, so the frame never
 * completes and only the server's frame timeout can end it. */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>

#include "abuse.h"

#define MS 1000000u

static void build_frame(uint8_t *frame, uint32_t size)
{
    frame[0] = (uint8_t)(size >> 8);
    frame[1] = (uint8_t)size;
    frame[2] = (uint8_t)(ABUSE_ECHO_ID >> 8);
    frame[3] = (uint8_t)ABUSE_ECHO_ID;
    for (uint32_t i = 4; i < size; i++) frame[i] = (uint8_t)('a' + i % 26);
}

/* Sends the next byte of connection i, if one is left to send short of
 * the last; a refused send is the server's close. */
static void trickle(abuse_run *r, uint32_t i, const uint8_t *frame)
{
    abuse_conn *c = &r->conns[i];
    if (c->sent + 1 >= r->o->frame) return;
    ssize_t n = send(r->sessions[i].fd, frame + c->sent, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n == 1) {
        if (!c->sent) c->start_ns = load_now_ns();
        c->sent++;
    } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        abuse_conn_closed(r, i);
    }
}

/* Readable: EOF or an error is the server's close; bytes are unexpected
 * (the echo has no whole frame to answer) and are drained. */
static void readable(abuse_run *r, uint32_t i)
{
    uint8_t scratch[4096];
    for (;;) {
        ssize_t n = recv(r->sessions[i].fd, scratch, sizeof scratch, MSG_DONTWAIT);
        if (n > 0) {
            r->conns[i].unexpected = 1;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
        abuse_conn_closed(r, i);
        return;
    }
}

int abuse_slowloris(abuse_run *r)
{
    const abuse_options *o = r->o;
    uint8_t frame[LOAD_FRAME_MAX];
    build_frame(frame, o->frame);
    r->start_ns = load_now_ns();
    for (uint32_t i = 0; i < r->n; i++) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = &r->sessions[i]};
        if (epoll_ctl(r->epfd, EPOLL_CTL_MOD, r->sessions[i].fd, &ev) < 0) {
            fprintf(stderr, "fp-abuse: epoll_ctl: %s\n", strerror(errno));
            return -1;
        }
        trickle(r, i, frame);
    }
    uint64_t deadline = r->start_ns + o->duration_ms * MS;
    uint64_t next_tick = r->start_ns + o->interval_ms * MS;
    printf("connected %u\n", r->n);
    fflush(stdout);

    struct epoll_event events[256];
    while (r->closed < r->n && !abuse_stop_requested) {
        uint64_t now = load_now_ns();
        if (now >= deadline) break;
        if (now >= next_tick) {
            for (uint32_t i = 0; i < r->n; i++)
                if (r->sessions[i].state == LOAD_OPEN) trickle(r, i, frame);
            next_tick += o->interval_ms * MS;
            continue;
        }
        uint64_t wake = next_tick < deadline ? next_tick : deadline;
        int n = epoll_wait(r->epfd, events, 256, (int)((wake - now) / MS + 1));
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "fp-abuse: epoll_wait: %s\n", strerror(errno));
            return -1;
        }
        for (int k = 0; k < n; k++) {
            load_session *s = events[k].data.ptr;
            if (s->state == LOAD_OPEN) readable(r, s->index);
        }
    }
    return 0;
}
