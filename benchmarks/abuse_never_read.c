/* Never-read: every connection keeps its send buffer full of valid echo
 * frames and never reads, so the replies pile up in the server. The server
 * closing it is seen as a refused send (EPIPE, ECONNRESET) or as the
 * socket's hang-up or error events; reading is never needed for either. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "abuse.h"

#define MS 1000000u
#define FRAMES_BYTES 65536u

typedef struct frames {
    uint8_t *bytes;
    size_t len; /* whole frames only, so any position wraps to a frame start */
} frames;

static int build_frames(frames *f, uint32_t payload)
{
    size_t frame = LOAD_HEADER_SIZE + payload;
    size_t count = FRAMES_BYTES / frame ? FRAMES_BYTES / frame : 1;
    f->len = count * frame;
    f->bytes = malloc(f->len);
    if (!f->bytes) return -1;
    for (size_t k = 0; k < count; k++) {
        uint8_t *p = f->bytes + k * frame;
        p[0] = (uint8_t)(frame >> 8);
        p[1] = (uint8_t)frame;
        p[2] = (uint8_t)(ABUSE_ECHO_ID >> 8);
        p[3] = (uint8_t)ABUSE_ECHO_ID;
        for (size_t i = 0; i < payload; i++) p[4 + i] = (uint8_t)(k + i);
    }
    return 0;
}

/* Writes until the kernel refuses; returns 1 if the server closed it. */
static int fill(abuse_run *r, uint32_t i, const frames *f)
{
    abuse_conn *c = &r->conns[i];
    for (;;) {
        ssize_t n = send(r->sessions[i].fd, f->bytes + c->off, f->len - c->off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c->sent += (uint64_t)n;
            c->off = (c->off + (size_t)n) % f->len;
            c->progress_ns = load_now_ns();
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        return 1;
    }
}

static void handle(abuse_run *r, uint32_t i, uint32_t events, const frames *f)
{
    if (events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
        abuse_conn_closed(r, i);
        return;
    }
    if ((events & EPOLLOUT) && fill(r, i, f)) abuse_conn_closed(r, i);
}

/* Notes the first stall of each connection: --stall without progress,
 * dated from its last progress. True when every connection still open
 * has stalled once. */
static int note_stalls(abuse_run *r, uint64_t now)
{
    int all = 1;
    for (uint32_t i = 0; i < r->n; i++) {
        abuse_conn *c = &r->conns[i];
        if (r->sessions[i].state != LOAD_OPEN || c->stall_ns) continue;
        if (now - c->progress_ns >= r->o->quiet_ms * MS)
            c->stall_ns = c->progress_ns;
        else
            all = 0;
    }
    return all;
}

int abuse_never_read(abuse_run *r)
{
    const abuse_options *o = r->o;
    frames f;
    if (build_frames(&f, o->payload) < 0) {
        fprintf(stderr, "fp-abuse: out of memory\n");
        return -1;
    }
    uint64_t start = r->start_ns = load_now_ns();
    for (uint32_t i = 0; i < r->n; i++) {
        r->conns[i].start_ns = r->conns[i].progress_ns = start;
        /* No EPOLLIN: the replies are never read, and would report forever. */
        struct epoll_event ev = {.events = EPOLLOUT | EPOLLRDHUP, .data.ptr = &r->sessions[i]};
        if (epoll_ctl(r->epfd, EPOLL_CTL_MOD, r->sessions[i].fd, &ev) < 0) {
            fprintf(stderr, "fp-abuse: epoll_ctl: %s\n", strerror(errno));
            free(f.bytes);
            return -1;
        }
    }
    uint64_t deadline = start + o->duration_ms * MS;
    printf("connected %u\n", r->n);
    fflush(stdout);

    struct epoll_event events[256];
    while (r->closed < r->n && !abuse_stop_requested) {
        uint64_t now = load_now_ns();
        if (now >= deadline) break;
        uint64_t left_ms = (deadline - now) / MS + 1;
        int n = epoll_wait(r->epfd, events, 256, left_ms > 100 ? 100 : (int)left_ms);
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "fp-abuse: epoll_wait: %s\n", strerror(errno));
            free(f.bytes);
            return -1;
        }
        /* Before the events: a close among them may end a stall. */
        now = load_now_ns();
        if (note_stalls(r, now) && !r->stalled_ns) {
            r->stalled_ns = now;
            printf("stalled %u after %.2f s\n", r->n - r->closed, (double)(now - start) / 1e9);
            fflush(stdout);
        }
        for (int k = 0; k < n; k++) {
            load_session *s = events[k].data.ptr;
            if (s->state == LOAD_OPEN) handle(r, s->index, events[k].events, &f);
        }
    }
    free(f.bytes);
    return 0;
}
