/* Loads transports and plugins and refuses any whose ABI does not match,
 * with one line naming the file, the expected and found versions or the
 * missing symbol. */
#ifndef FP_ENGINE_LOADER_H
#define FP_ENGINE_LOADER_H

#include <stddef.h>

#include "fs.h"

#include "dl.h"
#include "fastport/plugin.h"
#include "fastport/transport.h"

typedef struct fp_loaded_transport {
    fp_dl *dl;
    const fp_transport_vtbl *vt;
    /* vt->tx_lend when the table is new enough to have it, else NULL */
    fp_status (*tx_lend)(fp_tconn *c, const void *data, size_t len);
    char path[FP_PATH_MAX];
} fp_loaded_transport;

typedef struct fp_loaded_plugin {
    fp_dl *dl;
    const fp_plugin_desc *desc;
    void *ctx;
    int initialised;
    char path[FP_PATH_MAX];
} fp_loaded_plugin;

/* Load `dir`/`name` and check its table. Does not probe. A name with no
 * file in `dir` that the build declares as another platform's transport is
 * refused with FP_ENOTSUP: "rio: a Windows transport (Registered I/O); on
 * this machine: epoll, uring" (fp_transport_elsewhere). */
fp_status fp_transport_load(const char *dir, const char *name, fp_loaded_transport *out, char *err,
                            size_t err_len);

/* Opens a loaded, probed transport for its caller; FP_OK or a status with
 * the reason in `why`. */
typedef fp_status (*fp_transport_open_fn)(void *ctx, const fp_loaded_transport *t, char *why,
                                          size_t why_len);

/* Pick a transport and open it with `open`: `name` if given, else
 * $FP_TRANSPORT (either fails hard when it cannot load, probe or open),
 * else the first of the platform's default order that loads, probes and
 * opens. Logs the choice and why any earlier candidate was passed over. */
fp_status fp_transport_select(const char *dir, const char *name, fp_transport_open_fn open, void *open_ctx,
                              fp_loaded_transport *out, char *err, size_t err_len);

void fp_transport_unload(fp_loaded_transport *t);

/* Load `dir`/`name` and check its descriptor (no init). */
fp_status fp_plugin_load(const char *dir, const char *name, fp_loaded_plugin *out, char *err,
                         size_t err_len);

void fp_plugin_unload(fp_loaded_plugin *p);

/* The descriptor checks every plugin passes, loaded or built in: ABI
 * major, minor, size, name (`name` NULL: any), handler table. `origin`
 * names it in the message (its path, or "built-in plugin NAME"). */
fp_status fp_plugin_desc_check(const fp_plugin_desc *d, const char *origin, const char *name,
                               char *err, size_t err_len);

#endif
