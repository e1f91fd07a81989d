/*
 * echo_modes.h - what fastport-client does over an open link.
 */
#ifndef FASTPORT_CLIENT_ECHO_MODES_H
#define FASTPORT_CLIENT_ECHO_MODES_H

#include <stdint.h>
#include <stdio.h>

#include "client_link.h"

/* Each line of `in` (newline stripped) as one EchoRequest; each reply
 * printed to `out` as "reply #N: TEXT (rtt X us)". Ends at end of input.
 * Returns 0 when every reply came back OK and intact, else 1. */
int echo_interactive(client_link *link, FILE *in, FILE *out, uint32_t timeout_ms);

/* `count` echoes of `size` pseudo-random bytes, one in flight at a time,
 * each verified; a summary goes to `out`. Stops at the first reply that
 * does not come within `timeout_ms`. Returns 0 only if all came back intact. */
int echo_scripted(client_link *link, uint32_t count, uint32_t size, uint32_t timeout_ms, FILE *out);

#endif
