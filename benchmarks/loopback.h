/*
 * loopback.h - what the benchmark clients (fp-echo-load, fp-abuse) share
 * outside their workloads: the loopback-only target and the descriptor
 * limit their connections need.
 */
#ifndef FASTPORT_BENCH_LOOPBACK_H
#define FASTPORT_BENCH_LOOPBACK_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

/* What --connect accepts, for the parser's refusal. */
#define LOOPBACK_EXPECTED "a loopback address: 127.0.0.0/8, [::1] or localhost"

/* Fills `addr` from HOST:PORT when HOST is loopback (127.0.0.0/8, [::1],
 * localhost) and returns its length; 0 for anything else. These clients
 * overload a server on purpose: they never aim at another machine. */
socklen_t loopback_address(const char *host_port, struct sockaddr_storage *addr);

/* Raises the soft descriptor limit to the hard one; -1 (reason on stderr,
 * prefixed by `program`) when `sockets` connections still do not fit. */
int loopback_descriptors(const char *program, uint32_t sockets);

#endif
