/*
 * fp-abuse: slowloris and never-reading connections against an echo
 * server, reporting when the server closed each one. See abuse.h and
 * --help.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "abuse.h"
#include "loopback.h"

volatile sig_atomic_t abuse_stop_requested;

static void request_stop(int sig)
{
    (void)sig;
    abuse_stop_requested = 1;
}

/* load_connect_all's view of the same target. */
static load_options connect_options(const abuse_options *o, uint32_t n)
{
    load_options c = {.program = "fp-abuse",
                      .connect_text = o->connect_text,
                      .addr = o->addr,
                      .addr_len = o->addr_len,
                      .sessions = n,
                      .connect_timeout_ms = o->connect_timeout_ms,
                      .connect_batch = 256,
                      .rcvbuf = o->never_read ? o->rcvbuf : 0};
    return c;
}

static int run(const abuse_options *o)
{
    uint32_t n = o->slowloris ? o->slowloris : o->never_read;
    load_options c = connect_options(o, n);
    abuse_run r = {.o = o, .n = n, .epfd = epoll_create1(EPOLL_CLOEXEC)};
    r.sessions = calloc(n, sizeof *r.sessions);
    r.conns = calloc(n, sizeof *r.conns);
    int rc = 1;
    if (r.epfd < 0 || !r.sessions || !r.conns) {
        fprintf(stderr, "fp-abuse: %s\n", r.epfd < 0 ? strerror(errno) : "out of memory");
    } else if (load_connect_all(&c, r.epfd, r.sessions) == 0) {
        int ok = (o->slowloris ? abuse_slowloris(&r) : abuse_never_read(&r)) == 0;
        abuse_report(&r, load_now_ns());
        rc = ok ? 0 : 1;
    }
    if (r.sessions) load_close_all(r.sessions, n);
    free(r.sessions);
    free(r.conns);
    if (r.epfd >= 0) close(r.epfd);
    return rc;
}

int main(int argc, char **argv)
{
    abuse_options o;
    char err[512];
    if (abuse_options_parse(&o, argc, argv, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    if (o.help) {
        abuse_options_print_help(stdout);
        return 0;
    }
    if (loopback_descriptors("fp-abuse", o.slowloris + o.never_read) < 0) return 2;
    signal(SIGPIPE, SIG_IGN);
    struct sigaction stop = {.sa_handler = request_stop};
    sigaction(SIGINT, &stop, NULL);
    sigaction(SIGTERM, &stop, NULL);
    return run(&o);
}
