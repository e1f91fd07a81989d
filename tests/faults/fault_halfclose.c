/*
 * halfclose: every connection sends its frames, then shuts its sending
 * side (FIN) before reading anything. Every reply must still arrive, in
 * order, and then the server's FIN: recv returns 0, never a reset. The
 * connections are all open at once so the server handles the FINs while
 * it still has replies queued for others.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fault_client.h"

#define IO_TIMEOUT_MS 5000
#define MAX_PAYLOAD 2048

static size_t payload_len(unsigned long conn, unsigned long frame)
{
    return 8 + (conn * 131 + frame * 977) % (MAX_PAYLOAD - 8);
}

static uint64_t tag_of(const fc_opts *o, unsigned long conn, unsigned long frame)
{
    return o->seed << 48 | (uint64_t)conn << 24 | frame;
}

static int send_then_shut(const fc_opts *o, int fd, unsigned long conn)
{
    static uint8_t frame[MAX_PAYLOAD + 4];
    for (unsigned long f = 0; f < o->frames; f++) {
        size_t size = fc_frame_build(frame, (uint16_t)f, tag_of(o, conn, f), payload_len(conn, f));
        if (fc_write_all(fd, frame, size) != 0) {
            fprintf(stderr, "fp-fault-client: halfclose: connection %lu frame %lu: send: %s\n", conn, f,
                    strerror(errno));
            return -1;
        }
    }
    if (shutdown(fd, SHUT_WR) != 0) {
        fprintf(stderr, "fp-fault-client: halfclose: connection %lu: shutdown: %s\n", conn, strerror(errno));
        return -1;
    }
    return 0;
}

static int read_replies_then_eof(const fc_opts *o, int fd, unsigned long conn)
{
    static uint8_t frame[MAX_PAYLOAD + 4], reply[MAX_PAYLOAD + 4];
    for (unsigned long f = 0; f < o->frames; f++) {
        size_t size = fc_frame_build(frame, (uint16_t)f, tag_of(o, conn, f), payload_len(conn, f));
        int rc = fc_read_all(fd, reply, size);
        if (rc != 0) {
            fprintf(stderr, "fp-fault-client: halfclose: connection %lu: reply %lu of %lu missing: %s\n",
                    conn, f, o->frames,
                    rc == -2          ? "EOF first"
                    : errno == EAGAIN ? "timed out"
                                      : strerror(errno));
            return -1;
        }
        if (!fc_frame_is_echo(frame, reply, size)) {
            fprintf(stderr, "fp-fault-client: halfclose: connection %lu: reply %lu is not frame %lu's echo\n",
                    conn, f, f);
            return -1;
        }
    }
    uint8_t extra;
    ssize_t n = recv(fd, &extra, 1, 0);
    if (n != 0) {
        fprintf(stderr, "fp-fault-client: halfclose: connection %lu: after every reply, %s instead of EOF\n",
                conn,
                n > 0             ? "more bytes"
                : errno == EAGAIN ? "nothing (timed out)"
                                  : strerror(errno));
        return -1;
    }
    return 0;
}

int fc_halfclose(const fc_opts *o)
{
    int *fds = malloc(o->conns * sizeof *fds);
    if (!fds) return 1;
    unsigned long opened = 0;
    int rc = 1;
    for (; opened < o->conns; opened++)
        if ((fds[opened] = fc_connect(&o->server, IO_TIMEOUT_MS)) < 0) goto out;
    for (unsigned long i = 0; i < o->conns; i++)
        if (send_then_shut(o, fds[i], i) != 0) goto out;
    for (unsigned long i = 0; i < o->conns; i++)
        if (read_replies_then_eof(o, fds[i], i) != 0) goto out;
    printf("halfclose: %lu connections x %lu frames: every reply, then EOF (no reset)\n", o->conns,
           o->frames);
    rc = 0;
out:
    for (unsigned long i = 0; i < opened; i++) close(fds[i]);
    free(fds);
    return rc;
}
