/* fault_net.c - sockets and frames for fp-fault-client. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "fastport/plugin.h"
#include "fault_client.h"

int64_t fc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int fc_connect(const struct sockaddr_in *to, int timeout_ms)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(stderr, "fp-fault-client: socket: %s\n", strerror(errno));
        return -1;
    }
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (const struct sockaddr *)to, sizeof *to) != 0) {
        fprintf(stderr, "fp-fault-client: connect: %s\n", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int fc_connect_start(const struct sockaddr_in *to, const struct sockaddr_in *from)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (from) {
        /* the port is chosen at connect, per destination, not at bind */
        int one = 1;
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (bind(fd, (const struct sockaddr *)from, sizeof *from) != 0) {
            close(fd);
            return -1;
        }
    }
    if (connect(fd, (const struct sockaddr *)to, sizeof *to) != 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

void fc_reset(int fd)
{
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

uint64_t fc_mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

size_t fc_frame_build(uint8_t *frame, uint16_t id, uint64_t tag, size_t len)
{
    id &= (uint16_t)~FP_PACKET_COMPRESSED_BIT; /* plain payloads: the echo is byte for byte */
    size_t size = len + 4;
    frame[0] = (uint8_t)(size >> 8);
    frame[1] = (uint8_t)size;
    frame[2] = (uint8_t)(id >> 8);
    frame[3] = (uint8_t)id;
    for (size_t i = 0; i < len; i++) {
        uint64_t word = i < 8 ? tag : fc_mix(tag ^ (i / 8) << 48);
        frame[4 + i] = (uint8_t)(word >> (8 * (i % 8)));
    }
    return size;
}

bool fc_frame_is_echo(const uint8_t *frame, const uint8_t *reply, size_t size)
{
    return memcmp(frame, reply, size) == 0;
}

int fc_write_all(int fd, const void *p, size_t len)
{
    const uint8_t *b = p;
    while (len > 0) {
        ssize_t n = send(fd, b, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        b += n;
        len -= (size_t)n;
    }
    return 0;
}

int fc_read_all(int fd, void *p, size_t len)
{
    uint8_t *b = p;
    while (len > 0) {
        ssize_t n = recv(fd, b, len, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) return -2;
        if (n < 0) return -1;
        b += n;
        len -= (size_t)n;
    }
    return 0;
}

int fc_echo_once(int fd, uint64_t tag, size_t len, const char *what)
{
    static uint8_t frame[65536], reply[65536];
    size_t size = fc_frame_build(frame, (uint16_t)tag, tag, len);
    if (fc_write_all(fd, frame, size) != 0) {
        fprintf(stderr, "fp-fault-client: %s: send: %s\n", what, strerror(errno));
        return -1;
    }
    int rc = fc_read_all(fd, reply, size);
    if (rc != 0) {
        fprintf(stderr, "fp-fault-client: %s: no echo: %s\n", what,
                rc == -2          ? "the server closed the connection"
                : errno == EAGAIN ? "timed out"
                                  : strerror(errno));
        return -1;
    }
    if (!fc_frame_is_echo(frame, reply, size)) {
        fprintf(stderr, "fp-fault-client: %s: the reply is not this connection's frame\n", what);
        return -1;
    }
    return 0;
}
