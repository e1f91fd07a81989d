#include "loader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fastport/engine.h"
#include "log.h"
#include "paths.h"

/* The one place transport names appear in the engine: the order tried when
 * the user names none (fastest first). */
#if defined(_WIN32)
static const char *const default_transport_order[] = {"rio", "iocp"};
#else
static const char *const default_transport_order[] = {"uring", "epoll"};
#endif

const char *fp_default_transport_order(void)
{
#if defined(_WIN32)
    return "rio, iocp";
#else
    return "uring, epoll";
#endif
}

typedef size_t (*fp_list_fn)(const char *dir, char *out, size_t out_len);

/* Resolve dir/name.<so|dll> and insist the real file lies inside the real
 * directory, so a symlink cannot smuggle in a library from elsewhere. */
static fp_status resolve_module(const char *kind, const char *dir, const char *name,
                                fp_list_fn list, char *path, size_t path_len, char *err,
                                size_t err_len)
{
    char candidate[PATH_MAX];
    char available[512];
    if (!name || !*name || fp_module_path(candidate, sizeof candidate, dir, name) != 0) {
        list(dir, available, sizeof available);
        snprintf(err, err_len, "invalid %s name '%s' (available in %s: %s)", kind, name ? name : "",
                 dir, available);
        return FP_EINVAL;
    }
    struct stat st;
    if (stat(candidate, &st) != 0) {
        list(dir, available, sizeof available);
        snprintf(err, err_len, "%s '%s' not found: no file %s (available in %s: %s)", kind, name,
                 candidate, dir, available);
        return FP_ENOTFOUND;
    }
    char real_dir[PATH_MAX], real_file[PATH_MAX];
    if (!realpath(dir, real_dir) || !realpath(candidate, real_file)) {
        snprintf(err, err_len, "%s '%s': cannot resolve %s: %s", kind, name, candidate,
                 strerror(errno));
        return FP_ENOTFOUND;
    }
    size_t dlen = strlen(real_dir);
    if (strncmp(real_file, real_dir, dlen) != 0 || real_file[dlen] != '/') {
        snprintf(err, err_len, "%s '%s': %s resolves to %s, outside %s; refused", kind, name,
                 candidate, real_file, real_dir);
        return FP_EINVAL;
    }
    snprintf(path, path_len, "%s", real_file);
    return FP_OK;
}

fp_status fp_transport_load(const char *dir, const char *name, fp_loaded_transport *out, char *err,
                            size_t err_len)
{
    memset(out, 0, sizeof *out);
    fp_status st = resolve_module("transport", dir, name, fp_transports_available, out->path,
                                  sizeof out->path, err, err_len);
    if (st != FP_OK)
        return st;
    char why[512];
    fp_dl *dl = fp_dl_open(out->path, why, sizeof why);
    if (!dl) {
        snprintf(err, err_len, "cannot load transport %s: %s", out->path, why);
        return FP_ENOTFOUND;
    }
    fp_transport_entry_fn entry;
    void *sym = fp_dl_sym(dl, FP_TRANSPORT_ENTRY_SYMBOL);
    memcpy(&entry, &sym, sizeof entry);
    const fp_transport_vtbl *vt = entry ? entry() : NULL;
    if (!entry || !vt) {
        snprintf(err, err_len, "%s is not a FastPort transport: %s", out->path,
                 entry ? "fp_transport_entry returned NULL" : "no symbol fp_transport_entry");
        goto refuse;
    }
    if (vt->abi_major != FP_TRANSPORT_ABI_MAJOR) {
        snprintf(err, err_len,
                 "%s was built for transport ABI %u.%u, this engine speaks %u.%u: major versions "
                 "must match; rebuild it against this SDK",
                 out->path, vt->abi_major, vt->abi_minor, FP_TRANSPORT_ABI_MAJOR,
                 FP_TRANSPORT_ABI_MINOR);
        goto refuse;
    }
    if (vt->struct_size < FP_TRANSPORT_VTBL_MIN_SIZE) {
        snprintf(err, err_len,
                 "%s: transport table is %u bytes, ABI %u.0 needs at least %zu; refused", out->path,
                 vt->struct_size, FP_TRANSPORT_ABI_MAJOR, (size_t)FP_TRANSPORT_VTBL_MIN_SIZE);
        goto refuse;
    }
    if (!vt->name || strcmp(vt->name, name) != 0) {
        snprintf(err, err_len, "%s calls itself '%s', expected '%s'; refused", out->path,
                 vt->name ? vt->name : "(null)", name);
        goto refuse;
    }
    if (!vt->probe || !vt->open || !vt->close || !vt->worker_open || !vt->worker_close ||
        !vt->listen || !vt->listener_addr || !vt->accept_start || !vt->accept_stop ||
        !vt->listener_close || !vt->connect || !vt->adopt || !vt->recv_pause ||
        !vt->recv_resume || !vt->tx_reserve || !vt->tx_commit || !vt->tx_cancel ||
        !vt->close_conn || !vt->conn_peer || !vt->flush || !vt->poll || !vt->wake || !vt->stats) {
        snprintf(err, err_len, "%s: transport table lacks a required ABI %u.0 method; refused",
                 out->path, FP_TRANSPORT_ABI_MAJOR);
        goto refuse;
    }
    out->dl = dl;
    out->vt = vt;
    return FP_OK;
refuse:
    fp_dl_close(dl);
    return FP_EABI;
}

static fp_status try_default_order(const char *dir, fp_loaded_transport *out, char *err,
                                   size_t err_len)
{
    char passed_over[1024] = "";
    size_t n = sizeof default_transport_order / sizeof default_transport_order[0];
    for (size_t i = 0; i < n; i++) {
        const char *name = default_transport_order[i];
        char why[512];
        fp_status st = fp_transport_load(dir, name, out, why, sizeof why);
        if (st == FP_OK && out->vt->probe(why, sizeof why) == FP_OK) {
            if (passed_over[0])
                fp_log(FP_LOG_INFO, "transport: %s chosen by default order (%s)", name, passed_over);
            else
                fp_log(FP_LOG_INFO, "transport: %s chosen by default order", name);
            return FP_OK;
        }
        if (st == FP_OK)
            fp_transport_unload(out);
        size_t used = strlen(passed_over);
        snprintf(passed_over + used, sizeof passed_over - used, "%s%s unavailable: %s",
                 used ? "; " : "", name, why);
    }
    char available[512];
    fp_transports_available(dir, available, sizeof available);
    snprintf(err, err_len, "no usable transport (%s; available in %s: %s)", passed_over, dir,
             available);
    return FP_ENOTFOUND;
}

fp_status fp_transport_select(const char *dir, const char *name, fp_loaded_transport *out, char *err,
                              size_t err_len)
{
    const char *source = "--transport";
    if (!name || !*name) {
        name = getenv("FP_TRANSPORT");
        source = "FP_TRANSPORT";
    }
    if (!name || !*name)
        return try_default_order(dir, out, err, err_len);

    fp_status st = fp_transport_load(dir, name, out, err, err_len);
    if (st != FP_OK)
        return st;
    char why[512];
    if (out->vt->probe(why, sizeof why) != FP_OK) {
        snprintf(err, err_len, "transport '%s' cannot run here: %s", name, why);
        fp_transport_unload(out);
        return FP_ENOTSUP;
    }
    fp_log(FP_LOG_INFO, "transport: %s chosen by %s", name, source);
    return FP_OK;
}

void fp_transport_unload(fp_loaded_transport *t)
{
    fp_dl_close(t->dl);
    t->dl = NULL;
    t->vt = NULL;
}

fp_status fp_plugin_load(const char *dir, const char *name, fp_loaded_plugin *out, char *err,
                         size_t err_len)
{
    memset(out, 0, sizeof *out);
    fp_status st = resolve_module("plugin", dir, name, fp_plugins_available, out->path,
                                  sizeof out->path, err, err_len);
    if (st != FP_OK)
        return st;
    char why[512];
    fp_dl *dl = fp_dl_open(out->path, why, sizeof why);
    if (!dl) {
        snprintf(err, err_len, "cannot load plugin %s: %s", out->path, why);
        return FP_ENOTFOUND;
    }
    fp_plugin_entry_fn entry;
    void *sym = fp_dl_sym(dl, FP_PLUGIN_ENTRY_SYMBOL);
    memcpy(&entry, &sym, sizeof entry);
    const fp_plugin_desc *d = entry ? entry() : NULL;
    if (!entry || !d) {
        snprintf(err, err_len, "%s is not a FastPort plugin: %s", out->path,
                 entry ? "fp_plugin_entry returned NULL" : "no symbol fp_plugin_entry");
        goto refuse;
    }
    if (d->abi_major != FP_PLUGIN_ABI_MAJOR) {
        snprintf(err, err_len,
                 "%s was built for plugin ABI %u.%u, this engine speaks %u.%u: major versions must "
                 "match; rebuild it against this SDK",
                 out->path, d->abi_major, d->abi_minor, FP_PLUGIN_ABI_MAJOR, FP_PLUGIN_ABI_MINOR);
        goto refuse;
    }
    if (d->abi_minor > FP_PLUGIN_ABI_MINOR) {
        snprintf(err, err_len,
                 "%s needs plugin ABI %u.%u, this engine provides %u.%u; upgrade the engine",
                 out->path, d->abi_major, d->abi_minor, FP_PLUGIN_ABI_MAJOR, FP_PLUGIN_ABI_MINOR);
        goto refuse;
    }
    if (d->struct_size < FP_PLUGIN_DESC_MIN_SIZE) {
        snprintf(err, err_len, "%s: plugin descriptor is %u bytes, ABI %u.0 needs at least %zu; refused",
                 out->path, d->struct_size, FP_PLUGIN_ABI_MAJOR, (size_t)FP_PLUGIN_DESC_MIN_SIZE);
        goto refuse;
    }
    if (!d->name || strcmp(d->name, name) != 0) {
        snprintf(err, err_len, "%s calls itself '%s', expected '%s'; refused", out->path,
                 d->name ? d->name : "(null)", name);
        goto refuse;
    }
    if (d->n_handlers && !d->handlers) {
        snprintf(err, err_len, "%s: %zu handlers declared but the table is NULL; refused", out->path,
                 d->n_handlers);
        goto refuse;
    }
    for (size_t i = 0; i < d->n_handlers; i++) {
        if (!d->handlers[i].fn || (d->handlers[i].packet_id & FP_PACKET_COMPRESSED_BIT)) {
            snprintf(err, err_len,
                     "%s: handler %zu for packet id 0x%04x is %s; refused", out->path, i,
                     d->handlers[i].packet_id,
                     d->handlers[i].fn ? "invalid (bit 0x4000 marks compression)" : "NULL");
            goto refuse;
        }
    }
    out->dl = dl;
    out->desc = d;
    return FP_OK;
refuse:
    fp_dl_close(dl);
    return FP_EABI;
}

void fp_plugin_unload(fp_loaded_plugin *p)
{
    fp_dl_close(p->dl);
    p->dl = NULL;
    p->desc = NULL;
}
