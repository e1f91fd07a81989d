/*
 * fastport-server: hosts the engine with the transport and plugins named on
 * the command line until SIGINT or SIGTERM, then shuts down gracefully.
 *
 * stdout carries only the machine-readable start-up lines ("transport: NAME",
 * "listening on HOST:PORT"); everything else goes to stderr.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <fastport/engine.h>

#include "options.h"
#include "server_stats.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

static fp_log_level log_level = FP_LOG_INFO;

static void say(fp_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(fp_log_level level, const char *fmt, ...)
{
    if (level > log_level) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("fastport-server: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Every session is a descriptor; the soft limit (often 1024) would cap a
 * server long before memory does, so use what the hard limit allows. */
static void raise_fd_limit(void)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &lim) != 0)
            say(FP_LOG_WARN, "cannot raise the descriptor limit: %s", strerror(errno));
    }
}

/* Blocked before any engine thread exists, so every worker inherits the
 * mask and the signals are only ever taken by sigtimedwait below. */
static void block_stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    /* A shell starts background jobs with SIGINT ignored; undo that so an
     * inherited SIG_IGN cannot make a stop request vanish. */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    /* A peer closing mid-send must be an error return, not a kill. */
    signal(SIGPIPE, SIG_IGN);
}

static uint64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Returns the stop signal, printing stats every `interval_ms` meanwhile. */
static int wait_for_stop_signal(const sigset_t *set, fp_engine *e, uint32_t interval_ms)
{
    uint64_t next_stats = monotonic_ms() + interval_ms;
    for (;;) {
        int sig;
        if (interval_ms == 0) {
            sig = sigwaitinfo(set, NULL);
        } else {
            uint64_t now = monotonic_ms();
            uint64_t left = next_stats > now ? next_stats - now : 0;
            struct timespec timeout = {(time_t)(left / 1000u), (long)(left % 1000u) * 1000000L};
            sig = sigtimedwait(set, NULL, &timeout);
            if (sig < 0 && errno == EAGAIN) {
                server_stats_print(stderr, e, log_level >= FP_LOG_DEBUG);
                next_stats += interval_ms;
                if (next_stats < monotonic_ms()) next_stats = monotonic_ms() + interval_ms;
                continue;
            }
        }
        if (sig >= 0) return sig;
        if (errno != EINTR) {
            say(FP_LOG_ERROR, "waiting for signals failed: %s; stopping", strerror(errno));
            return 0;
        }
    }
}

static int listen_all(fp_engine *e, const server_options *opts)
{
    char err[512];
    for (size_t i = 0; i < opts->n_listen; i++) {
        if (fp_engine_listen(e, opts->listen[i], err, sizeof err) != FP_OK) {
            say(FP_LOG_ERROR, "cannot listen on %s: %s", opts->listen[i], err);
            return -1;
        }
    }
    return 0;
}

static int announce(fp_engine *e, size_t n_listen)
{
    printf("transport: %s\n", fp_engine_transport_name(e));
    for (size_t i = 0; i < n_listen; i++) {
        fp_addr addr;
        char text[80];
        if (fp_engine_listen_addr(e, i, &addr) != FP_OK) {
            say(FP_LOG_ERROR, "cannot read the address of listener %zu", i);
            return -1;
        }
        printf("listening on %s\n", fp_addr_format(&addr, text, sizeof text));
    }
    fflush(stdout);
    return 0;
}

static int serve(const server_options *opts, const sigset_t *stop_signals)
{
    char err[1024] = "";
    fp_engine *e = fp_engine_create(&opts->engine, err, sizeof err);
    if (!e) {
        fprintf(stderr, "fastport-server: %s\n", err[0] ? err : "cannot create the engine");
        return EXIT_USAGE;
    }
    if (listen_all(e, opts) < 0) {
        fp_engine_destroy(e);
        return EXIT_RUNTIME;
    }
    if (fp_engine_start(e, err, sizeof err) != FP_OK) {
        say(FP_LOG_ERROR, "cannot start: %s", err);
        fp_engine_destroy(e);
        return EXIT_RUNTIME;
    }
    if (announce(e, opts->n_listen) < 0) {
        fp_engine_destroy(e);
        return EXIT_RUNTIME;
    }

    int sig = wait_for_stop_signal(stop_signals, e, opts->stats_interval_ms);
    say(FP_LOG_INFO, "%s: shutting down (drain timeout %u ms)", sig ? strsignal(sig) : "stop",
        (unsigned)opts->engine.drain_timeout_ms);
    fp_status st = fp_engine_shutdown(e);
    if (st == FP_ETIMEDOUT)
        say(FP_LOG_WARN, "%llu sessions were aborted after the drain timeout",
            (unsigned long long)fp_engine_stat(e, "drain_aborts"));
    else if (st != FP_OK)
        say(FP_LOG_WARN, "shutdown: %s", fp_strerror(st));
    if (log_level >= FP_LOG_INFO) server_stats_print(stderr, e, log_level >= FP_LOG_DEBUG);
    fp_engine_destroy(e);
    return 0;
}

int main(int argc, char **argv)
{
    sigset_t stop_signals;
    block_stop_signals(&stop_signals);

    server_options opts;
    char err[512] = "";
    if (server_options_parse(&opts, argc, argv, err, sizeof err) < 0) {
        fprintf(stderr, "fastport-server: %s\ntry --help for the list of options\n", err);
        server_options_free(&opts);
        return EXIT_USAGE;
    }

    int rc = 0;
    if (opts.action == SERVER_HELP) {
        server_options_print_help(stdout, opts.engine.transport_dir, opts.engine.plugin_dir);
    } else if (opts.action == SERVER_VERSION) {
        printf("fastport-server %s\n", fp_version());
    } else {
        log_level = opts.engine.log_level;
        raise_fd_limit();
        rc = serve(&opts, &stop_signals);
    }
    server_options_free(&opts);
    return rc;
}
