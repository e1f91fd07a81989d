/*
 * fastport-client: one outbound session through the transport named by
 * --transport, speaking FastPort's echo (0x0001) to a server running the
 * fastport plugin; interactive (stdin lines) or scripted (--count).
 *
 * Exit status: 0 success, 1 runtime failure (no connection, a lost or
 * damaged echo), 2 bad options.
 */
#include <stdio.h>
#include <string.h>

#include <fastport/engine.h>

#include "client_link.h"
#include "client_options.h"
#include "echo_modes.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

static int run(const client_options *opts)
{
    client_link link;
    if (client_link_init(&link) != 0) {
        fprintf(stderr, "fastport-client: cannot set up threads\n");
        return EXIT_RUNTIME;
    }
    const fp_plugin_desc *const builtins[] = {&client_link_plugin};
    fp_engine_config cfg;
    fp_engine_config_init(&cfg);
    cfg.transport = opts->transport;
    cfg.transport_dir = opts->transport_dir;
    cfg.workers = 1;
    cfg.log_level = opts->log_level;
    cfg.builtin_plugins = builtins;
    cfg.n_builtin_plugins = 1;

    char err[1024];
    fp_engine *e = fp_engine_create(&cfg, err, sizeof err);
    if (!e) {
        /* names the transport and lists the available ones */
        fprintf(stderr, "fastport-client: %s\n", err);
        client_link_destroy(&link);
        return EXIT_USAGE;
    }
    int rc = EXIT_RUNTIME;
    if (fp_engine_start(e, err, sizeof err) != FP_OK) {
        fprintf(stderr, "fastport-client: cannot start: %s\n", err);
    } else if (fp_engine_connect(e, opts->connect, &link, err, sizeof err) != FP_OK) {
        fprintf(stderr, "fastport-client: cannot connect to %s: %s\n", opts->connect, err);
    } else {
        link_state state = client_link_wait_open(&link, opts->timeout_ms);
        if (state == LINK_OPEN) {
            rc = opts->count ? echo_scripted(&link, opts->count, opts->size, opts->timeout_ms, stdout)
                             : echo_interactive(&link, stdin, stdout, opts->timeout_ms);
        } else {
            const char *why = state == LINK_CONNECTING ? "timed out" : fp_strerror(link.why);
            fprintf(stderr, "fastport-client: cannot connect to %s: %s\n", opts->connect, why);
        }
    }
    fp_engine_shutdown(e);
    fp_engine_destroy(e);
    client_link_destroy(&link);
    return rc;
}

int main(int argc, char **argv)
{
    client_options opts;
    char err[512];
    if (client_options_parse(&opts, argc, argv, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return EXIT_USAGE;
    }
    if (opts.help) {
        client_options_print_help(stdout);
        return 0;
    }
    if (opts.version) {
        printf("fastport-client %s\n", fp_version());
        return 0;
    }
    return run(&opts);
}
