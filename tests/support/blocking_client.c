#include "blocking_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int bc_connect(const fp_addr *addr, int timeout_ms)
{
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof ss);
    if (addr->family == FP_AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(addr->port);
        memcpy(&s6->sin6_addr, addr->bytes, 16);
        len = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(addr->port);
        memcpy(&s4->sin_addr, addr->bytes, 4);
        len = sizeof *s4;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&ss, len) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, uint8_t *p, size_t n)
{
    while (n) {
        ssize_t r = recv(fd, p, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            return -2;
        if (r < 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

int bc_send(int fd, uint16_t id, const void *payload, size_t len)
{
    uint8_t frame[65535];
    if (len > sizeof frame - 4)
        return -1;
    size_t size = len + 4;
    frame[0] = (uint8_t)(size >> 8);
    frame[1] = (uint8_t)size;
    frame[2] = (uint8_t)(id >> 8);
    frame[3] = (uint8_t)id;
    if (len)
        memcpy(frame + 4, payload, len);
    return write_all(fd, frame, size);
}

int bc_recv(int fd, uint16_t *id, uint8_t *buf)
{
    uint8_t h[4];
    int r = read_all(fd, h, 4);
    if (r)
        return r;
    size_t size = (size_t)h[0] << 8 | h[1];
    *id = (uint16_t)(h[2] << 8 | h[3]);
    if (size < 4)
        return -1;
    r = read_all(fd, buf, size - 4);
    return r ? r : (int)(size - 4);
}
