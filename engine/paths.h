/* Where modules live and how their file names are built.
 *
 * Layout, identical in the build tree and the install tree:
 *   <prefix>/bin/<program>
 *   <prefix>/lib/fastport/transports/<name><suffix>
 *   <prefix>/lib/fastport/plugins/<name><suffix>
 * The public half (default directories, listing what is available) is in
 * fastport/engine.h. */
#ifndef FP_ENGINE_PATHS_H
#define FP_ENGINE_PATHS_H

#include <stddef.h>

#include "fs.h" /* fp_module_suffix */

/* Write "<dir>/<name><suffix>" into `out`. Returns 0, or -1 when `name` is
 * empty or could escape `dir` (contains a path separator or ".."), or when
 * the result does not fit. */
int fp_module_path(char *out, size_t len, const char *dir, const char *name);

#endif
