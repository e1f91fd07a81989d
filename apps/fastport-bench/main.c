/*
 * fastport-bench: FastPort's benchmark (BenchmarkRequest 0x1001 ->
 * BenchmarkResponse 0x1002) on libfastport, against one server or, with
 * --compare, against a server per transport started here.
 *
 * stdout carries the reports and the table; errors, server notes and the
 * live progress line (terminals only) go to stderr.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include <fastport/engine.h>

#include "bench_options.h"
#include "bench_run.h"

#define EXIT_USAGE 2

/* Every session is a descriptor; use what the hard limit allows. */
static void raise_fd_limit(void)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &lim) != 0)
            fprintf(stderr, "fastport-bench: cannot raise the descriptor limit: %s\n",
                    strerror(errno));
    }
}

int main(int argc, char **argv)
{
    bench_options opts;
    char err[512] = "";
    if (bench_options_parse(&opts, argc, argv, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        bench_options_free(&opts);
        return EXIT_USAGE;
    }
    int rc = 0;
    if (opts.help) {
        bench_options_print_help(stdout);
    } else if (opts.version) {
        printf("fastport-bench %s\n", fp_version());
    } else {
        /* A server closing mid-send must be an error return, not a kill. */
        signal(SIGPIPE, SIG_IGN);
        raise_fd_limit();
        rc = bench_run(&opts);
    }
    bench_options_free(&opts);
    return rc;
}
