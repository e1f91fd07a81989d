/* "HOST:PORT" parsing and formatting. Hosts are numeric (or "localhost",
 * "*" and "" for the IPv4 wildcard); no name resolution happens here, so
 * parsing never blocks. */
#include "fastport/engine.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "inet_text.h"
#include "platform.h"

/* Largest host text we accept: an IPv6 address plus a scope. */
#define HOST_MAX 96

static bool parse_decimal(const char *s, size_t len, uint32_t max, uint32_t *out)
{
    if (len == 0 || len > 10)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > max)
        return false;
    *out = (uint32_t)v;
    return true;
}

static bool host_is_localhost(const char *host)
{
    const char *name = "localhost";
    while (*name && tolower((unsigned char)*host) == *name) {
        host++;
        name++;
    }
    return *name == '\0' && *host == '\0';
}

static bool parse_ipv4(const char *host, fp_addr *out)
{
    out->family = FP_AF_INET;
    if (host[0] == '\0' || strcmp(host, "*") == 0)
        return true; /* bytes already zero: INADDR_ANY */
    if (host_is_localhost(host))
        host = "127.0.0.1";
    return fp_ipv4_parse(host, out->bytes);
}

/* "fe80::1%eth0" or "fe80::1%2": the scope is a number or, where the
 * platform can map it, an interface name. */
static bool parse_scope(const char *scope, uint32_t *out)
{
    if (parse_decimal(scope, strlen(scope), UINT32_MAX, out))
        return true;
    *out = fp_interface_index(scope);
    return *out != 0;
}

static bool parse_ipv6(char *host, fp_addr *out)
{
    out->family = FP_AF_INET6;
    char *percent = strchr(host, '%');
    if (percent) {
        *percent = '\0';
        if (!parse_scope(percent + 1, &out->scope_id))
            return false;
    }
    return fp_ipv6_parse(host, out->bytes);
}

fp_status fp_addr_parse(const char *host_port, fp_addr *out)
{
    if (!host_port || !out)
        return FP_EINVAL;

    char host[HOST_MAX];
    const char *port_text;
    bool bracketed = host_port[0] == '[';
    if (bracketed) {
        const char *close = strchr(host_port, ']');
        if (!close || close[1] != ':')
            return FP_EINVAL;
        size_t host_len = (size_t)(close - host_port - 1);
        if (host_len == 0 || host_len >= sizeof host)
            return FP_EINVAL;
        memcpy(host, host_port + 1, host_len);
        host[host_len] = '\0';
        port_text = close + 2;
    } else {
        const char *colon = strrchr(host_port, ':');
        if (!colon)
            return FP_EINVAL;
        size_t host_len = (size_t)(colon - host_port);
        if (host_len >= sizeof host)
            return FP_EINVAL;
        memcpy(host, host_port, host_len);
        host[host_len] = '\0';
        /* An unbracketed IPv6 address is ambiguous: where does it end? */
        if (strchr(host, ':'))
            return FP_EINVAL;
        port_text = colon + 1;
    }

    uint32_t port;
    if (!parse_decimal(port_text, strlen(port_text), 65535, &port))
        return FP_EINVAL;

    fp_addr parsed;
    memset(&parsed, 0, sizeof parsed);
    bool ok = bracketed ? parse_ipv6(host, &parsed) : parse_ipv4(host, &parsed);
    if (!ok)
        return FP_EINVAL;
    parsed.port = (uint16_t)port;
    *out = parsed;
    return FP_OK;
}

const char *fp_addr_format(const fp_addr *a, char *buf, size_t len)
{
    if (!buf || len == 0)
        return buf;
    char host[FP_IPV6_TEXT_MAX];
    if (a && a->family == FP_AF_INET) {
        fp_ipv4_format(a->bytes, host);
        snprintf(buf, len, "%s:%u", host, (unsigned)a->port);
    } else if (a && a->family == FP_AF_INET6) {
        fp_ipv6_format(a->bytes, host);
        if (a->scope_id)
            snprintf(buf, len, "[%s%%%u]:%u", host, (unsigned)a->scope_id, (unsigned)a->port);
        else
            snprintf(buf, len, "[%s]:%u", host, (unsigned)a->port);
    } else {
        snprintf(buf, len, "(no address)");
    }
    return buf;
}
