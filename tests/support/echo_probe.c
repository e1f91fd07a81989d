/* fp-echo-probe: a tiny blocking client for the script tests. Connects,
 * sends N deterministic frames one at a time and checks each reply: the
 * same payload (or, with --expect-reversed, the payload reversed) under the
 * same id. Exit 0 when every reply was right, 1 otherwise, 2 on bad usage.
 * Every socket call is bounded by --timeout-ms. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "e2e_payload.h"
#include "fastport/plugin.h"

typedef struct probe_opts {
    char host[256];
    char port[16];
    unsigned long frames;
    unsigned long max_payload;
    unsigned long long seed;
    int reversed;
    long timeout_ms;
} probe_opts;

static int usage(void)
{
    fprintf(stderr,
            "usage: fp-echo-probe --connect=HOST:PORT [--frames=N] [--max-payload=N]\n"
            "                     [--seed=N] [--expect-reversed] [--timeout-ms=N]\n"
            "  HOST may be [V6]; replies must echo each payload (or reverse it).\n");
    return 2;
}

static int parse_host_port(const char *s, probe_opts *o)
{
    const char *colon;
    size_t host_len;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':') return -1;
        host_len = (size_t)(end - s - 1);
        s++;
        colon = end + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon) return -1;
        host_len = (size_t)(colon - s);
    }
    if (host_len == 0 || host_len >= sizeof(o->host) || strlen(colon + 1) == 0 ||
        strlen(colon + 1) >= sizeof(o->port))
        return -1;
    memcpy(o->host, s, host_len);
    o->host[host_len] = '\0';
    strcpy(o->port, colon + 1);
    return 0;
}

static int parse_args(int argc, char **argv, probe_opts *o)
{
    int have_target = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--connect=", 10) == 0) {
            if (parse_host_port(a + 10, o) < 0) return -1;
            have_target = 1;
        } else if (strncmp(a, "--frames=", 9) == 0) {
            o->frames = strtoul(a + 9, NULL, 10);
        } else if (strncmp(a, "--max-payload=", 14) == 0) {
            o->max_payload = strtoul(a + 14, NULL, 10);
            if (o->max_payload > FP_PAYLOAD_MAX_SIZE) return -1;
        } else if (strncmp(a, "--seed=", 7) == 0) {
            o->seed = strtoull(a + 7, NULL, 10);
        } else if (strcmp(a, "--expect-reversed") == 0) {
            o->reversed = 1;
        } else if (strncmp(a, "--timeout-ms=", 13) == 0) {
            o->timeout_ms = strtol(a + 13, NULL, 10);
            if (o->timeout_ms <= 0) return -1;
        } else {
            return -1;
        }
    }
    return have_target ? 0 : -1;
}

static int connect_to(const probe_opts *o)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res;
    int rc = getaddrinfo(o->host, o->port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "fp-echo-probe: %s:%s: %s\n", o->host, o->port, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        struct timeval tv = {o->timeout_ms / 1000, (o->timeout_ms % 1000) * 1000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            fprintf(stderr, "fp-echo-probe: connect %s:%s: %s\n", o->host, o->port,
                    strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0) {
            fprintf(stderr, "fp-echo-probe: send: %s\n", n < 0 ? strerror(errno) : "no progress");
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int read_all(int fd, uint8_t *p, size_t len, unsigned long frame)
{
    while (len > 0) {
        ssize_t n = recv(fd, p, len, 0);
        if (n <= 0) {
            fprintf(stderr, "fp-echo-probe: reply %lu: %s\n", frame,
                    n == 0 ? "server closed the connection"
                    : errno == EAGAIN ? "no reply in time" : strerror(errno));
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int main(int argc, char **argv)
{
    probe_opts o = {.frames = 10, .max_payload = 4096, .seed = 1, .timeout_ms = 5000};
    if (parse_args(argc, argv, &o) < 0) return usage();
    int fd = connect_to(&o);
    if (fd < 0) return 1;

    static uint8_t frame[FP_FRAME_MAX_SIZE], reply[FP_FRAME_MAX_SIZE];
    for (unsigned long i = 0; i < o.frames; i++) {
        e2e_frame f;
        e2e_frame_describe(o.seed, i, (uint32_t)o.max_payload, &f);
        size_t size = f.len + FP_FRAME_HEADER_SIZE;
        e2e_frame_fill(&f, 0, frame, size);
        if (write_all(fd, frame, size) < 0 || read_all(fd, reply, FP_FRAME_HEADER_SIZE, i) < 0)
            goto fail;
        size_t got_size = (size_t)reply[0] << 8 | reply[1];
        unsigned got_id = (unsigned)reply[2] << 8 | reply[3];
        if (got_size != size || got_id != f.id) {
            fprintf(stderr, "fp-echo-probe: reply %lu: size %zu id %#x, expected size %zu id %#x\n",
                    i, got_size, got_id, size, f.id);
            goto fail;
        }
        if (read_all(fd, reply + FP_FRAME_HEADER_SIZE, f.len, i) < 0) goto fail;
        const uint8_t *payload = frame + FP_FRAME_HEADER_SIZE;
        const uint8_t *answer = reply + FP_FRAME_HEADER_SIZE;
        for (size_t j = 0; j < f.len; j++) {
            uint8_t want = o.reversed ? payload[f.len - 1 - j] : payload[j];
            if (answer[j] != want) {
                fprintf(stderr, "fp-echo-probe: reply %lu: byte %zu is %#x, expected %#x%s\n", i,
                        j, answer[j], want, o.reversed ? " (reversed payload)" : "");
                goto fail;
            }
        }
    }
    close(fd);
    printf("fp-echo-probe: %lu frames %s\n", o.frames, o.reversed ? "reversed" : "echoed");
    return 0;
fail:
    close(fd);
    return 1;
}
