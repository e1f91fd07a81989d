/* IPv4 and IPv6 addresses as text, in plain C: the same results on every
 * platform and no socket library to start first. Parsing follows
 * inet_pton (dotted quads without leading zeros; RFC 4291 text for IPv6,
 * a dotted quad allowed in the last 32 bits); formatting follows RFC 5952
 * (lower case, the longest run of two or more zero groups as "::"). */
#ifndef FP_ENGINE_INET_TEXT_H
#define FP_ENGINE_INET_TEXT_H

#include <stdbool.h>
#include <stdint.h>

/* Longest output of fp_ipv6_format, its NUL included. */
#define FP_IPV6_TEXT_MAX 46
#define FP_IPV4_TEXT_MAX 16

bool fp_ipv4_parse(const char *text, uint8_t out[4]);
bool fp_ipv6_parse(const char *text, uint8_t out[16]);
void fp_ipv4_format(const uint8_t in[4], char out[FP_IPV4_TEXT_MAX]);
void fp_ipv6_format(const uint8_t in[16], char out[FP_IPV6_TEXT_MAX]);

#endif
