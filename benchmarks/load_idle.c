#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "load.h"

/* An idle session must stay silent and open; anything else is an error. */
static int check_session(load_session *s)
{
    char byte;
    ssize_t n = recv(s->fd, &byte, 1, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return 0;
    if (n == 0) fprintf(stderr, "fp-echo-load: idle session %u closed by the server\n", s->index);
    else if (n > 0) fprintf(stderr, "fp-echo-load: idle session %u received unexpected data\n", s->index);
    else fprintf(stderr, "fp-echo-load: idle session %u: %s\n", s->index, strerror(errno));
    close(s->fd);
    s->fd = -1;
    s->state = LOAD_CLOSED;
    return -1;
}

int load_run_idle(const load_options *o, int epfd, load_session *sessions)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    struct epoll_event sev = {.events = EPOLLIN, .data.ptr = NULL};
    if (sfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &sev) < 0) {
        fprintf(stderr, "fp-echo-load: signalfd: %s\n", strerror(errno));
        if (sfd >= 0) close(sfd);
        return -1;
    }

    printf("connected %u\n", o->sessions);
    fflush(stdout);

    uint64_t errors = 0;
    uint64_t deadline = o->hold_ms ? load_now_ns() + o->hold_ms * 1000000u : 0;
    int stop = 0;
    while (!stop) {
        int timeout = -1;
        if (deadline) {
            uint64_t now = load_now_ns();
            if (now >= deadline) break;
            uint64_t left = (deadline - now) / 1000000u + 1;
            timeout = left > 1000 ? 1000 : (int)left;
        }
        struct epoll_event events[256];
        int n = epoll_wait(epfd, events, 256, timeout);
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "fp-echo-load: epoll_wait: %s\n", strerror(errno));
            errors++;
            break;
        }
        for (int k = 0; k < n; k++) {
            load_session *s = events[k].data.ptr;
            if (!s) stop = 1;
            else if (s->state == LOAD_OPEN && check_session(s) < 0) errors++;
        }
    }
    close(sfd);
    return errors ? -1 : 0;
}
