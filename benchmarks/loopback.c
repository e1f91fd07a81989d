#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"
#include "loopback.h"

static socklen_t loopback_sockaddr(const char *host, uint16_t port, struct sockaddr_storage *addr)
{
    struct sockaddr_in *v4 = (struct sockaddr_in *)addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)addr;
    memset(addr, 0, sizeof *addr);
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1 && (ntohl(v4->sin_addr.s_addr) >> 24) == 127) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        return sizeof *v4;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1 && IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        return sizeof *v6;
    }
    return 0;
}

socklen_t loopback_address(const char *host_port, struct sockaddr_storage *addr)
{
    char host[64];
    uint16_t port;
    if (fp_cli_parse_host_port(host_port, host, sizeof host, 1, 65535, &port) != FP_CLI_OK) return 0;
    return loopback_sockaddr(strcmp(host, "localhost") == 0 ? "127.0.0.1" : host, port, addr);
}

int loopback_descriptors(const char *program, uint32_t sockets)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) < 0) return 0;
    if (lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
        getrlimit(RLIMIT_NOFILE, &lim);
    }
    if ((uint64_t)sockets + 16 > (uint64_t)lim.rlim_cur) {
        fprintf(stderr, "%s: %u connections need %u descriptors, the limit is %llu: raise ulimit -n\n",
                program, sockets, sockets + 16, (unsigned long long)lim.rlim_cur);
        return -1;
    }
    return 0;
}
