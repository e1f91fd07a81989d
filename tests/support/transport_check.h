/* Asks a transport library whether it can run on this machine, through its
 * own probe(), so tests skip a transport the kernel does not offer instead
 * of failing. */
#ifndef FP_TEST_TRANSPORT_CHECK_H
#define FP_TEST_TRANSPORT_CHECK_H

#include <stddef.h>

/* Loads <dir>/<name>.so (.dll on Windows) and calls its probe. Returns 1 if it can run, 0 if
 * its probe says it cannot, -1 if it could not be loaded at all; `why`
 * gets the reason for 0 and -1. */
int e2e_transport_probe(const char *dir, const char *name, char *why, size_t why_len);

#endif
