/*
 * fp-echo-load: closed-loop load for the echo plugin, or --idle sessions
 * for memory measurements. See load.h and --help.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "load.h"
#include "loopback.h"

#define MAX_BUFFER_BYTES (1ull << 30)

static void report(const load_options *o, const load_result *r)
{
    double secs = (double)r->window_ns / 1e9;
    double rate = secs > 0 ? (double)r->replies / secs : 0;
    double mbps = rate * (LOAD_HEADER_SIZE + o->payload) / 1e6;
    char cpu[64] = "";
    char cpu_csv[32] = "";
    if (r->has_server_cpu && r->replies) {
        double per_msg = (double)r->server_cpu_us / (double)r->replies;
        snprintf(cpu, sizeof cpu, ", server CPU %.3f us/msg", per_msg);
        snprintf(cpu_csv, sizeof cpu_csv, "%.4f", per_msg);
    }
    double client_per_msg = r->replies ? (double)r->client_cpu_us / (double)r->replies : 0;
    printf("echo %s: %u sessions x %u in flight x %u B over %.2f s: %.0f msgs/s, %.2f MB/s, "
           "replies=%llu, errors=%llu%s, client CPU %.3f us/msg\n",
           o->connect_text, o->sessions, o->depth, o->payload, secs, rate, mbps,
           (unsigned long long)r->replies, (unsigned long long)r->errors, cpu, client_per_msg);
    if (o->csv)
        printf("%u,%u,%u,%.3f,%llu,%.0f,%.3f,%llu,%s,%.4f\n", o->sessions, o->depth, o->payload, secs,
               (unsigned long long)r->replies, rate, mbps, (unsigned long long)r->errors, cpu_csv,
               client_per_msg);
    fflush(stdout);
}

static int run(const load_options *o)
{
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    load_session *sessions = calloc(o->sessions, sizeof *sessions);
    if (epfd < 0 || !sessions) {
        fprintf(stderr, "fp-echo-load: %s\n", epfd < 0 ? strerror(errno) : "out of memory");
        free(sessions);
        if (epfd >= 0) close(epfd);
        return 1;
    }
    int rc = 1;
    if (load_connect_all(o, epfd, sessions) == 0) {
        if (o->idle) {
            rc = load_run_idle(o, epfd, sessions) == 0 ? 0 : 1;
        } else {
            load_result result;
            int ok = load_run_echo(o, epfd, sessions, &result) == 0;
            if (result.window_ns) report(o, &result);
            rc = ok ? 0 : 1;
        }
    }
    load_close_all(sessions, o->sessions);
    free(sessions);
    close(epfd);
    return rc;
}

int main(int argc, char **argv)
{
    load_options o;
    char err[512];
    if (load_options_parse(&o, argc, argv, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    if (o.help) {
        load_options_print_help(stdout);
        return 0;
    }
    uint64_t buffers = 2ull * o.sessions * o.depth * (LOAD_HEADER_SIZE + o.payload);
    if (!o.idle && buffers > MAX_BUFFER_BYTES) {
        fprintf(stderr, "fp-echo-load: sessions x depth x frame needs %llu MiB of buffers, over %llu\n",
                (unsigned long long)(buffers >> 20), MAX_BUFFER_BYTES >> 20);
        return 2;
    }
    uint64_t cpu;
    if (o.server_pid && load_proc_cpu_us(o.server_pid, &cpu) < 0) {
        fprintf(stderr, "fp-echo-load: --server-pid=%ld: cannot read /proc/%ld/stat\n", o.server_pid,
                o.server_pid);
        return 2;
    }
    if (loopback_descriptors(o.program, o.sessions) < 0) return 2;

    signal(SIGPIPE, SIG_IGN);
    if (o.idle) {
        /* Taken through a signalfd by load_run_idle. */
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGUSR1);
        sigprocmask(SIG_BLOCK, &set, NULL);
    }
    return run(&o);
}
