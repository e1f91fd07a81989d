/* Transports FastPort has on other platforms, so that asking for one is
 * answered with what it is and what this machine has, not a bare "not
 * found". The names, platforms and summaries come from the build (each
 * transport's transport.cmake, gathered by transports/catalog.cmake): the
 * engine's code names no transport. */
#ifndef FP_ENGINE_TRANSPORT_CATALOG_H
#define FP_ENGINE_TRANSPORT_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

/* When the build declares `name` as a transport of another platform, write
 * "NAME: a PLATFORM transport (SUMMARY); on this machine: A, B" into `err`,
 * where A, B are the transports found in `dir`, and return true. Else
 * return false and leave `err` alone. */
bool fp_transport_elsewhere(const char *dir, const char *name, char *err, size_t err_len);

#endif
