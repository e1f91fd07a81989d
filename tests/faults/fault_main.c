/* fp-fault-client MODE --connect=127.0.0.1:PORT [options]: see usage(). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault_client.h"

static int usage(void)
{
    fprintf(stderr,
            "usage: fp-fault-client MODE --connect=IPV4:PORT [options]\n"
            "  emfile     --server-pid=PID --server-log=FILE [--conns=N --close=N --fresh=N --window-ms=N]\n"
            "  halfclose  [--conns=N --frames=N]\n"
            "  sigpipe    [--rounds=N --frames=N]\n"
            "  storm      [--cycles=N --parallel=N --seed=N]\n");
    return 2;
}

static int parse_address(const char *text, struct sockaddr_in *out)
{
    char host[64];
    const char *colon = strrchr(text, ':');
    if (!colon || (size_t)(colon - text) >= sizeof host) return -1;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    char *end;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (*end || port == 0 || port > 65535) return -1;
    memset(out, 0, sizeof *out);
    out->sin_family = AF_INET;
    out->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host, &out->sin_addr) == 1 ? 0 : -1;
}

/* "--NAME=NUMBER" into *value: 1 when `arg` is that option, -1 when its
 * number is malformed, 0 when it is another option. */
static int number_option(const char *arg, const char *name, unsigned long long *value)
{
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0 || arg[n] != '=') return 0;
    char *end;
    *value = strtoull(arg + n + 1, &end, 10);
    return *end || end == arg + n + 1 ? -1 : 1;
}

static int parse(int argc, char **argv, fc_opts *o)
{
    bool have_server = false;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        unsigned long long v = 0;
        int r;
        if (strncmp(a, "--connect=", 10) == 0) {
            if (parse_address(a + 10, &o->server) != 0) return -1;
            have_server = true;
        } else if (strncmp(a, "--server-log=", 13) == 0) {
            o->server_log = a + 13;
        } else if ((r = number_option(a, "--server-pid", &v)) != 0) {
            if (r < 0) return -1;
            o->server_pid = (pid_t)v;
        } else if ((r = number_option(a, "--conns", &v)) != 0) {
            if (r < 0) return -1;
            o->conns = (unsigned long)v;
        } else if ((r = number_option(a, "--close", &v)) != 0) {
            if (r < 0) return -1;
            o->close = (unsigned long)v;
        } else if ((r = number_option(a, "--fresh", &v)) != 0) {
            if (r < 0) return -1;
            o->fresh = (unsigned long)v;
        } else if ((r = number_option(a, "--frames", &v)) != 0) {
            if (r < 0) return -1;
            o->frames = (unsigned long)v;
        } else if ((r = number_option(a, "--rounds", &v)) != 0) {
            if (r < 0) return -1;
            o->rounds = (unsigned long)v;
        } else if ((r = number_option(a, "--cycles", &v)) != 0) {
            if (r < 0) return -1;
            o->cycles = (unsigned long)v;
        } else if ((r = number_option(a, "--parallel", &v)) != 0) {
            if (r < 0 || v == 0) return -1;
            o->parallel = (unsigned long)v;
        } else if ((r = number_option(a, "--window-ms", &v)) != 0) {
            if (r < 0 || v < 1000) return -1;
            o->window_ms = (unsigned long)v;
        } else if ((r = number_option(a, "--seed", &v)) != 0) {
            if (r < 0) return -1;
            o->seed = v;
        } else {
            return -1;
        }
    }
    return have_server ? 0 : -1;
}

int main(int argc, char **argv)
{
    fc_opts o = {.conns = 200,
                 .close = 100,
                 .fresh = 10,
                 .frames = 20,
                 .rounds = 200,
                 .cycles = 100000,
                 .parallel = 16,
                 .window_ms = 3000,
                 .seed = 1};
    if (argc < 2 || parse(argc, argv, &o) != 0) return usage();
    const char *mode = argv[1];
    if (strcmp(mode, "emfile") == 0) {
        if (o.server_pid <= 0 || !o.server_log || o.close > o.conns) return usage();
        return fc_emfile(&o);
    }
    if (strcmp(mode, "halfclose") == 0) return fc_halfclose(&o);
    if (strcmp(mode, "sigpipe") == 0) return fc_sigpipe(&o);
    if (strcmp(mode, "storm") == 0) return fc_storm(&o);
    return usage();
}
