/*
 * sockaddr.h - fp_addr <-> struct sockaddr conversion for every transport:
 * BSD sockets on POSIX, Winsock on Windows. Both spell the address
 * structures, AF_* and inet_ntop alike; only the headers and the type of
 * an address length differ (fpt_socklen), so backend code reads the same
 * on both platforms.
 *
 * Header-only (static inline) so each transport module keeps a private
 * copy and nothing is exported.
 */
#ifndef FP_TRANSPORT_COMMON_SOCKADDR_H
#define FP_TRANSPORT_COMMON_SOCKADDR_H

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
/* Winsock takes address lengths as int. */
typedef int fpt_socklen;
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
typedef socklen_t fpt_socklen;
#endif

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "fastport/types.h"

/* The platform family for an fp_addr, or -1 when it has none. */
static inline int fpt_addr_os_family(const fp_addr *a)
{
    switch (a->family) {
    case FP_AF_INET: return AF_INET;
    case FP_AF_INET6: return AF_INET6;
    default: return -1;
    }
}

/* Fills `ss`/`len` from `a`; false for an unknown family. */
static inline bool fpt_addr_to_sockaddr(const fp_addr *a, struct sockaddr_storage *ss, fpt_socklen *len)
{
    memset(ss, 0, sizeof(*ss));
    if (a->family == FP_AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(a->port);
        memcpy(&sin->sin_addr, a->bytes, 4);
        *len = (fpt_socklen)sizeof(*sin);
        return true;
    }
    if (a->family == FP_AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(a->port);
        sin6->sin6_scope_id = a->scope_id;
        memcpy(&sin6->sin6_addr, a->bytes, 16);
        *len = (fpt_socklen)sizeof(*sin6);
        return true;
    }
    return false;
}

/* The wildcard address (port 0) of `a`'s family: what a socket is bound
 * to before ConnectEx, which wants it bound. */
static inline bool fpt_addr_wildcard(const fp_addr *a, struct sockaddr_storage *ss, fpt_socklen *len)
{
    fp_addr any = {.family = a->family};
    return fpt_addr_to_sockaddr(&any, ss, len);
}

/* Fills `a` from a socket address; FP_AF_UNSPEC for other families. */
static inline void fpt_addr_from_sockaddr(const struct sockaddr *sa, fp_addr *a)
{
    memset(a, 0, sizeof(*a));
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        a->family = FP_AF_INET;
        a->port = ntohs(sin->sin_port);
        memcpy(a->bytes, &sin->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        a->family = FP_AF_INET6;
        a->port = ntohs(sin6->sin6_port);
        a->scope_id = sin6->sin6_scope_id;
        memcpy(a->bytes, &sin6->sin6_addr, 16);
    }
}

/* "1.2.3.4:80" or "[::1]:80", for messages. */
static inline void fpt_addr_format(const fp_addr *a, char *out, size_t out_len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (a->family == FP_AF_INET) {
        inet_ntop(AF_INET, a->bytes, host, sizeof(host));
        snprintf(out, out_len, "%s:%u", host, (unsigned)a->port);
    } else if (a->family == FP_AF_INET6) {
        inet_ntop(AF_INET6, a->bytes, host, sizeof(host));
        snprintf(out, out_len, "[%s]:%u", host, (unsigned)a->port);
    } else {
        snprintf(out, out_len, "(no address)");
    }
}

#endif
