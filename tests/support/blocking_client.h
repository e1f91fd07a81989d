/* A blocking loopback client speaking FastPort frames, for small tests. */
#ifndef FP_TEST_BLOCKING_CLIENT_H
#define FP_TEST_BLOCKING_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "fastport/types.h"

/* Connect to `addr` with a receive timeout of `timeout_ms`; -1 on error. */
int bc_connect(const fp_addr *addr, int timeout_ms);
/* Send one frame; 0 on success. */
int bc_send(int fd, uint16_t id, const void *payload, size_t len);
/* Receive one frame into `buf` (capacity 65535); returns payload length,
 * -1 on timeout or error, -2 on EOF. */
int bc_recv(int fd, uint16_t *id, uint8_t *buf);

#endif
