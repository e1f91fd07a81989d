/*
 * emfile: the server runs under a low `ulimit -n`; `conns` connections
 * exhaust its descriptors. While it cannot accept, it must stay alive, not
 * spin (CPU time over the window), log at most one accept failure a
 * second, and keep echoing on the sessions it has. Once `close` of them
 * are closed it must accept again: `fresh` new connections echo (target
 * within 1 s), and so does every original still open.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "fault_client.h"

#define PAUSE_LINE "accepting paused"
#define IO_TIMEOUT_MS 5000
#define PAYLOAD 512
/* The 1 s target with room for a loaded CI machine; the measured value is
 * printed either way. */
#define RESUME_BOUND_MS 2000
/* Not a speed claim: an acceptor waiting out its pause costs about no CPU
 * (0.00 s measured); with the pause set to 0 ms it cost 0.3 to 0.4 s a
 * second here, and this bound failed the test. */
#define CPU_SHARE_BOUND 0.1

static unsigned long count_pause_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[1024];
    unsigned long n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, PAUSE_LINE)) n++;
    fclose(f);
    return n;
}

/* utime + stime of `pid` in clock ticks, or -1. */
static long long cpu_ticks(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    unsigned long long utime, stime;
    /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return -1;
    return (long long)(utime + stime);
}

static bool alive(pid_t pid) { return cpu_ticks(pid) >= 0; }

/* Opens `n` connections at once; each completes from the kernel's backlog
 * whether or not the server accepted it. */
static int open_all(const fc_opts *o, int *fds, unsigned long n)
{
    for (unsigned long i = 0; i < n; i++) {
        fds[i] = fc_connect_start(&o->server, NULL);
        if (fds[i] < 0) {
            fprintf(stderr, "fp-fault-client: emfile: connection %lu: %s\n", i, strerror(errno));
            return -1;
        }
    }
    int64_t deadline = fc_now_ms() + 10000;
    for (unsigned long i = 0; i < n; i++) {
        struct pollfd p = {.fd = fds[i], .events = POLLOUT};
        int left = (int)(deadline - fc_now_ms());
        int err = 0;
        socklen_t len = sizeof err;
        if (left <= 0 || poll(&p, 1, left) != 1 ||
            getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
            fprintf(stderr, "fp-fault-client: emfile: connection %lu did not complete: %s\n", i,
                    err ? strerror(err) : "timed out");
            return -1;
        }
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) & ~O_NONBLOCK);
        struct timeval tv = {IO_TIMEOUT_MS / 1000, 0};
        setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fds[i], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    return 0;
}

static bool wait_for_pause_line(const char *log, pid_t pid, int max_ms)
{
    int64_t deadline = fc_now_ms() + max_ms;
    while (fc_now_ms() < deadline && alive(pid)) {
        if (count_pause_lines(log) > 0) return true;
        usleep(20000);
    }
    return false;
}

static int echo_range(const fc_opts *o, const int *fds, unsigned long from, unsigned long to,
                      const char *what)
{
    for (unsigned long i = from; i < to; i++) {
        char label[96];
        snprintf(label, sizeof label, "%s %lu", what, i);
        if (fc_echo_once(fds[i], o->seed << 32 | i, PAYLOAD, label) != 0) return -1;
    }
    return 0;
}

static int watch_exhaustion(const fc_opts *o)
{
    long long cpu0 = cpu_ticks(o->server_pid);
    unsigned long lines0 = count_pause_lines(o->server_log);
    int64_t t0 = fc_now_ms();
    usleep((useconds_t)o->window_ms * 1000);
    long long cpu1 = cpu_ticks(o->server_pid);
    unsigned long lines = count_pause_lines(o->server_log) - lines0;
    double seconds = (double)(fc_now_ms() - t0) / 1000.0;
    if (cpu0 < 0 || cpu1 < 0) {
        fprintf(stderr, "fp-fault-client: emfile: the server died while out of descriptors\n");
        return -1;
    }
    double cpu = (double)(cpu1 - cpu0) / (double)sysconf(_SC_CLK_TCK);
    /* one line a second: a window of S seconds holds at most floor(S) + 1 */
    unsigned long max_lines = (unsigned long)seconds + 1;
    printf("emfile: out of descriptors for %.2f s: server CPU %.2f s, %lu '" PAUSE_LINE
           "' lines (at most %lu)\n",
           seconds, cpu, lines, max_lines);
    int rc = 0;
    if (cpu > CPU_SHARE_BOUND * seconds) {
        fprintf(stderr, "fp-fault-client: emfile: the server used %.2f s of CPU in %.2f s: it spins\n", cpu,
                seconds);
        rc = -1;
    }
    if (lines > max_lines) {
        fprintf(stderr,
                "fp-fault-client: emfile: %lu accept-failure lines in %.2f s: more than one a second\n",
                lines, seconds);
        rc = -1;
    }
    return rc;
}

/* Closes the first `close`, then times how long `fresh` new connections
 * take to echo: they queue behind the originals the server could not
 * accept, so their echo means it accepts again. */
static int recover(const fc_opts *o, int *fds)
{
    for (unsigned long i = 0; i < o->close; i++) {
        close(fds[i]);
        fds[i] = -1;
    }
    int64_t t0 = fc_now_ms();
    for (unsigned long i = o->conns; i < o->conns + o->fresh; i++) {
        fds[i] = fc_connect(&o->server, IO_TIMEOUT_MS);
        if (fds[i] < 0) return -1;
    }
    if (echo_range(o, fds, o->conns, o->conns + o->fresh, "new connection") != 0) return -1;
    int64_t took = fc_now_ms() - t0;
    printf("emfile: after %lu closed, %lu new connections echoed in %lld ms (target 1000 ms, bound %d ms)\n",
           o->close, o->fresh, (long long)took, RESUME_BOUND_MS);
    if (took > RESUME_BOUND_MS) {
        fprintf(stderr, "fp-fault-client: emfile: accepting again took %lld ms\n", (long long)took);
        return -1;
    }
    return 0;
}

int fc_emfile(const fc_opts *o)
{
    unsigned long total = o->conns + o->fresh;
    int *fds = malloc(total * sizeof *fds);
    if (!fds) return 1;
    for (unsigned long i = 0; i < total; i++) fds[i] = -1;
    int rc = 1;
    if (open_all(o, fds, o->conns) != 0) goto out;
    if (!wait_for_pause_line(o->server_log, o->server_pid, 5000)) {
        fprintf(stderr,
                "fp-fault-client: emfile: no '" PAUSE_LINE "' line within 5 s of %lu connections (%s)\n",
                o->conns, alive(o->server_pid) ? "is the server's ulimit -n low?" : "the server died");
        goto out;
    }
    /* the backlog is first in, first out: the first connections are sessions */
    if (echo_range(o, fds, 0, 5, "session while out of descriptors") != 0) goto out;
    if (watch_exhaustion(o) != 0) goto out;
    if (recover(o, fds) != 0) goto out;
    if (echo_range(o, fds, o->close, o->conns, "original connection") != 0) goto out;
    printf("emfile: the %lu originals left open echo\n", o->conns - o->close);
    rc = 0;
out:
    for (unsigned long i = 0; i < total; i++)
        if (fds[i] >= 0) close(fds[i]);
    free(fds);
    return rc;
}
