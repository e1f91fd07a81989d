/*
 * sigpipe: round after round, a client with a small receive buffer sends
 * frames whose echoes are large, reads none of them and goes away: a
 * reset (SO_LINGER 0) or a close with unread data, which the kernel also
 * answers with a reset. The server is still writing those echoes, so its
 * next writes fail with ECONNRESET or EPIPE; a send without MSG_NOSIGNAL
 * would raise SIGPIPE. Afterwards a new connection must still echo.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fault_client.h"

#define PAYLOAD 60000
#define RCVBUF 4096

/* Sends frames until `frames` went out or the socket is full; the count. */
static unsigned long send_burst(const fc_opts *o, int fd, unsigned long round)
{
    static uint8_t frame[PAYLOAD + 4];
    unsigned long sent = 0;
    for (; sent < o->frames; sent++) {
        size_t size = fc_frame_build(frame, (uint16_t)sent, o->seed << 40 | round << 16 | sent, PAYLOAD);
        size_t off = 0;
        while (off < size) {
            ssize_t n = send(fd, frame + off, size - off, MSG_NOSIGNAL);
            if (n > 0) {
                off += (size_t)n;
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EAGAIN) {
                struct pollfd p = {.fd = fd, .events = POLLOUT};
                if (poll(&p, 1, 20) == 1) continue;
            }
            return sent; /* full (the server stopped reading) or already reset */
        }
    }
    return sent;
}

static int one_round(const fc_opts *o, unsigned long round, unsigned long *frames)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int rcvbuf = RCVBUF;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (connect(fd, (const struct sockaddr *)&o->server, sizeof o->server) != 0) {
        fprintf(stderr, "fp-fault-client: sigpipe: round %lu: connect: %s\n", round, strerror(errno));
        close(fd);
        return -1;
    }
    *frames += send_burst(o, fd, round);
    /* let the server start writing the echoes that will not be read */
    usleep(1000);
    if (round % 2)
        close(fd); /* unread bytes: the kernel resets */
    else
        fc_reset(fd);
    return 0;
}

int fc_sigpipe(const fc_opts *o)
{
    unsigned long frames = 0;
    for (unsigned long r = 0; r < o->rounds; r++)
        if (one_round(o, r, &frames) != 0) return 1;
    int fd = fc_connect(&o->server, 5000);
    if (fd < 0) return 1;
    for (uint64_t i = 0; i < 10; i++) {
        if (fc_echo_once(fd, o->seed << 40 | 0xffffff0000ull | i, 4096, "echo after the resets") != 0) {
            close(fd);
            return 1;
        }
    }
    close(fd);
    printf("sigpipe: %lu connections reset with %lu echoes of %d bytes unread; the server still echoes\n",
           o->rounds, frames, PAYLOAD);
    return 0;
}
