/*
 * fastport-server: hosts the engine with the transport and plugins named on
 * the command line until SIGINT or SIGTERM (Ctrl-C or a console close on
 * Windows), then shuts down gracefully.
 *
 * stdout carries only the machine-readable start-up lines ("transport: NAME",
 * "listening on HOST:PORT"); everything else goes to stderr.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fastport/engine.h>

#include "options.h"
#include "server_os.h"
#include "server_stats.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

static fp_log_level log_level = FP_LOG_INFO;

static void say(fp_log_level level, const char *fmt, ...) FP_PRINTF_LIKE(2, 3);

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

static void warn(const char *what) { say(FP_LOG_WARN, "%s", what); }

/* Waits for the stop request, printing stats every `interval_ms` meanwhile. */
static void wait_for_stop(fp_engine *e, uint32_t interval_ms)
{
    while (!fp_engine_wait(e, interval_ms ? (int)interval_ms : -1))
        server_stats_print(stderr, e, log_level >= FP_LOG_DEBUG);
}

static int listen_all(fp_engine *e, const server_options *opts)
{
    char err[512];
    for (size_t i = 0; i < opts->listen.n; i++) {
        if (fp_engine_listen(e, opts->listen.items[i], err, sizeof err) != FP_OK) {
            say(FP_LOG_ERROR, "cannot listen on %s: %s", opts->listen.items[i], err);
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

static int serve(const server_options *opts)
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
    if (server_os_stop_source_start(e, err, sizeof err) < 0) {
        say(FP_LOG_ERROR, "%s", err);
        fp_engine_destroy(e);
        return EXIT_RUNTIME;
    }
    if (announce(e, opts->listen.n) < 0) {
        fp_engine_request_stop(e);
        server_os_stop_source_end();
        fp_engine_destroy(e);
        return EXIT_RUNTIME;
    }

    wait_for_stop(e, opts->stats_interval_ms);
    server_os_stop_source_end();
    say(FP_LOG_INFO, "%s: shutting down (drain timeout %u ms)", server_os_stop_reason(),
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
    server_os_prepare(warn);

    server_options opts;
    char err[512] = "";
    if (server_options_parse(&opts, argc, argv, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        server_options_free(&opts);
        return EXIT_USAGE;
    }

    int rc = 0;
    if (opts.help) {
        server_options_print_help(stdout, opts.engine.transport_dir, opts.engine.plugin_dir);
    } else if (opts.version) {
        printf("fastport-server %s\n", fp_version());
    } else {
        log_level = opts.engine.log_level;
        rc = serve(&opts);
    }
    server_options_free(&opts);
    server_os_finish();
    return rc;
}
