#include "loader.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastport/engine.h"
#include "fs.h"
#include "log.h"
#include "paths.h"
#include "platform.h"
#include "transport_catalog.h"

/* The order tried when the user names no transport comes from the build
 * (transports/CMakeLists.txt, which knows the transports): the engine's
 * code names none. */
#ifndef FP_DEFAULT_TRANSPORT_ORDER
#error "FP_DEFAULT_TRANSPORT_ORDER (\"first, second\") must come from the build"
#endif

const char *fp_default_transport_order(void) { return FP_DEFAULT_TRANSPORT_ORDER; }

/* The next name of a ", "-separated list into `name`; NULL after the last. */
static const char *next_name(const char *list, char *name, size_t name_len)
{
    while (*list == ',' || *list == ' ')
        list++;
    if (!*list)
        return NULL;
    size_t n = strcspn(list, ", ");
    snprintf(name, name_len, "%.*s", (int)n, list);
    return list + n;
}

typedef size_t (*fp_list_fn)(const char *dir, char *out, size_t out_len);

/* Resolve dir/name.<so|dll> and insist the real file lies inside the real
 * directory, so a symlink cannot smuggle in a library from elsewhere. */
static fp_status resolve_module(const char *kind, const char *dir, const char *name,
                                fp_list_fn list, char *path, size_t path_len, char *err,
                                size_t err_len)
{
    char candidate[FP_PATH_MAX];
    char available[512];
    if (!name || !*name || fp_module_path(candidate, sizeof candidate, dir, name) != 0) {
        list(dir, available, sizeof available);
        snprintf(err, err_len, "invalid %s name '%s' (available in %s: %s)", kind, name ? name : "",
                 dir, available);
        return FP_EINVAL;
    }
    if (!fp_is_regular_file(candidate)) {
        list(dir, available, sizeof available);
        snprintf(err, err_len, "%s '%s' not found: no file %s (available in %s: %s)", kind, name,
                 candidate, dir, available);
        return FP_ENOTFOUND;
    }
    char real_dir[FP_PATH_MAX], real_file[FP_PATH_MAX];
    int rc = fp_real_path(dir, real_dir, sizeof real_dir);
    if (rc == 0)
        rc = fp_real_path(candidate, real_file, sizeof real_file);
    if (rc != 0) {
        char text[128];
        snprintf(err, err_len, "%s '%s': cannot resolve %s: %s", kind, name, candidate,
                 fp_sys_error_text(rc, text, sizeof text));
        return FP_ENOTFOUND;
    }
    if (!fp_path_inside(real_dir, real_file)) {
        snprintf(err, err_len, "%s '%s': %s resolves to %s, outside %s; refused", kind, name,
                 candidate, real_file, real_dir);
        return FP_EINVAL;
    }
    snprintf(path, path_len, "%s", real_file);
    return FP_OK;
}

/* Resolve, load and call the entry symbol of dir/name; *table is what the
 * entry returned. Every table starts with abi_major, abi_minor, struct_size. */
static fp_status open_module(const char *kind, const char *dir, const char *name, fp_list_fn list,
                             const char *symbol, char *path, size_t path_len, fp_dl **dl_out,
                             const void **table, char *err, size_t err_len)
{
    fp_status st = resolve_module(kind, dir, name, list, path, path_len, err, err_len);
    if (st != FP_OK)
        return st;
    char why[512];
    fp_dl *dl = fp_dl_open(path, why, sizeof why);
    if (!dl) {
        snprintf(err, err_len, "cannot load %s %s: %s", kind, path, why);
        return FP_ENOTFOUND;
    }
    const void *(*entry)(void);
    void *sym = fp_dl_sym(dl, symbol);
    memcpy(&entry, &sym, sizeof entry);
    *table = entry ? entry() : NULL;
    if (!*table) {
        snprintf(err, err_len, "%s is not a FastPort %s: %s%s", path, kind, entry ? "" : "no symbol ",
                 entry ? "its entry returned NULL" : symbol);
        fp_dl_close(dl);
        return FP_EABI;
    }
    *dl_out = dl;
    return FP_OK;
}

static fp_status check_major(const char *kind, const char *origin, unsigned major, unsigned minor,
                             unsigned host_major, unsigned host_minor, char *err, size_t err_len)
{
    if (major == host_major)
        return FP_OK;
    snprintf(err, err_len,
             "%s was built for %s ABI %u.%u, this engine speaks %u.%u: major versions must match; "
             "rebuild it against this SDK",
             origin, kind, major, minor, host_major, host_minor);
    return FP_EABI;
}

static fp_status check_name(const char *origin, const char *found, const char *expected, char *err,
                            size_t err_len)
{
    if (!found || (expected && strcmp(found, expected) != 0)) {
        snprintf(err, err_len, "%s calls itself '%s', expected '%s'; refused", origin,
                 found ? found : "(null)", expected ? expected : "a name");
        return FP_EABI;
    }
    return FP_OK;
}

static fp_status check_transport_table(const fp_transport_vtbl *vt, const char *origin,
                                       const char *name, char *err, size_t err_len)
{
    fp_status st = check_major("transport", origin, vt->abi_major, vt->abi_minor,
                               FP_TRANSPORT_ABI_MAJOR, FP_TRANSPORT_ABI_MINOR, err, err_len);
    if (st != FP_OK)
        return st;
    if (vt->struct_size < FP_TRANSPORT_VTBL_MIN_SIZE) {
        snprintf(err, err_len, "%s: transport table is %u bytes, ABI %u.0 needs at least %zu; refused",
                 origin, vt->struct_size, FP_TRANSPORT_ABI_MAJOR, (size_t)FP_TRANSPORT_VTBL_MIN_SIZE);
        return FP_EABI;
    }
    st = check_name(origin, vt->name, name, err, err_len);
    if (st != FP_OK)
        return st;
    if (!vt->probe || !vt->open || !vt->close || !vt->worker_open || !vt->worker_close ||
        !vt->listen || !vt->listener_addr || !vt->accept_start || !vt->accept_stop ||
        !vt->listener_close || !vt->connect || !vt->adopt || !vt->recv_pause ||
        !vt->recv_resume || !vt->tx_reserve || !vt->tx_commit || !vt->tx_cancel ||
        !vt->close_conn || !vt->conn_peer || !vt->flush || !vt->poll || !vt->wake || !vt->stats) {
        snprintf(err, err_len, "%s: transport table lacks a required ABI %u.0 method; refused",
                 origin, FP_TRANSPORT_ABI_MAJOR);
        return FP_EABI;
    }
    return FP_OK;
}

/* True, with the message in `err`, when `name` has no file in `dir` and the
 * build declares it as another platform's transport: the user hears what it
 * is and what this machine has. A file of that name is still loaded. */
static bool from_another_platform(const char *dir, const char *name, char *err, size_t err_len)
{
    char candidate[FP_PATH_MAX];
    if (fp_module_path(candidate, sizeof candidate, dir, name) != 0 || fp_is_regular_file(candidate))
        return false;
    return fp_transport_elsewhere(dir, name, err, err_len);
}

fp_status fp_transport_load(const char *dir, const char *name, fp_loaded_transport *out, char *err,
                            size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (from_another_platform(dir, name, err, err_len))
        return FP_ENOTSUP;
    fp_dl *dl = NULL;
    const void *table = NULL;
    fp_status st = open_module("transport", dir, name, fp_transports_available,
                               FP_TRANSPORT_ENTRY_SYMBOL, out->path, sizeof out->path, &dl, &table,
                               err, err_len);
    if (st != FP_OK)
        return st;
    st = check_transport_table(table, out->path, name, err, err_len);
    if (st != FP_OK) {
        fp_dl_close(dl);
        return st;
    }
    out->dl = dl;
    out->vt = table;
    const fp_transport_vtbl *vt = table;
    if (vt->struct_size >= offsetof(fp_transport_vtbl, tx_lend) + sizeof vt->tx_lend)
        out->tx_lend = vt->tx_lend;
    return FP_OK;
}

/* Load, probe, open: FP_OK with `out` loaded and open, else the stage's
 * status with the reason in `why` and nothing loaded. */
static fp_status load_probe_open(const char *dir, const char *name, fp_transport_open_fn open, void *open_ctx,
                                 fp_loaded_transport *out, char *why, size_t why_len)
{
    fp_status st = fp_transport_load(dir, name, out, why, why_len);
    if (st != FP_OK)
        return st;
    char reason[512] = "";
    st = out->vt->probe(reason, sizeof reason);
    if (st != FP_OK) {
        snprintf(why, why_len, "transport '%s' cannot run here: %s", name, reason);
        fp_transport_unload(out);
        return FP_ENOTSUP;
    }
    st = open(open_ctx, out, reason, sizeof reason);
    if (st != FP_OK) {
        snprintf(why, why_len, "transport %s (%s): %s", name, out->path, reason[0] ? reason : fp_strerror(st));
        fp_transport_unload(out);
        return st;
    }
    return FP_OK;
}

static fp_status try_default_order(const char *dir, fp_transport_open_fn open, void *open_ctx,
                                   fp_loaded_transport *out, char *err, size_t err_len)
{
    char passed_over[1024] = "";
    char name[64];
    for (const char *rest = FP_DEFAULT_TRANSPORT_ORDER; (rest = next_name(rest, name, sizeof name));) {
        char why[512];
        if (load_probe_open(dir, name, open, open_ctx, out, why, sizeof why) == FP_OK) {
            if (passed_over[0])
                fp_log(FP_LOG_INFO, "transport: %s chosen by default order (%s)", name, passed_over);
            else
                fp_log(FP_LOG_INFO, "transport: %s chosen by default order", name);
            return FP_OK;
        }
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

fp_status fp_transport_select(const char *dir, const char *name, fp_transport_open_fn open, void *open_ctx,
                              fp_loaded_transport *out, char *err, size_t err_len)
{
    const char *source = "--transport";
    if (!name || !*name) {
        name = getenv("FP_TRANSPORT");
        source = "FP_TRANSPORT";
    }
    if (!name || !*name)
        return try_default_order(dir, open, open_ctx, out, err, err_len);

    fp_status st = load_probe_open(dir, name, open, open_ctx, out, err, err_len);
    if (st != FP_OK)
        return st;
    fp_log(FP_LOG_INFO, "transport: %s chosen by %s", name, source);
    return FP_OK;
}

void fp_transport_unload(fp_loaded_transport *t)
{
    fp_dl_close(t->dl);
    t->dl = NULL;
    t->vt = NULL;
}

fp_status fp_plugin_desc_check(const fp_plugin_desc *d, const char *origin, const char *name,
                               char *err, size_t err_len)
{
    fp_status st = check_major("plugin", origin, d->abi_major, d->abi_minor, FP_PLUGIN_ABI_MAJOR,
                               FP_PLUGIN_ABI_MINOR, err, err_len);
    if (st != FP_OK)
        return st;
    if (d->abi_minor > FP_PLUGIN_ABI_MINOR) {
        snprintf(err, err_len, "%s needs plugin ABI %u.%u, this engine provides %u.%u; upgrade the engine",
                 origin, d->abi_major, d->abi_minor, FP_PLUGIN_ABI_MAJOR, FP_PLUGIN_ABI_MINOR);
        return FP_EABI;
    }
    if (d->struct_size < FP_PLUGIN_DESC_MIN_SIZE) {
        snprintf(err, err_len, "%s: plugin descriptor is %u bytes, ABI %u.0 needs at least %zu; refused",
                 origin, d->struct_size, FP_PLUGIN_ABI_MAJOR, (size_t)FP_PLUGIN_DESC_MIN_SIZE);
        return FP_EABI;
    }
    st = check_name(origin, d->name, name, err, err_len);
    if (st != FP_OK)
        return st;
    if (d->n_handlers && !d->handlers) {
        snprintf(err, err_len, "%s: %zu handlers declared but the table is NULL; refused", origin,
                 d->n_handlers);
        return FP_EABI;
    }
    for (size_t i = 0; i < d->n_handlers; i++) {
        if (!d->handlers[i].fn || (d->handlers[i].packet_id & FP_PACKET_COMPRESSED_BIT)) {
            snprintf(err, err_len, "%s: handler %zu for packet id 0x%04x is %s; refused", origin, i,
                     d->handlers[i].packet_id,
                     d->handlers[i].fn ? "invalid (bit 0x4000 marks compression)" : "NULL");
            return FP_EABI;
        }
    }
    return FP_OK;
}

fp_status fp_plugin_load(const char *dir, const char *name, fp_loaded_plugin *out, char *err,
                         size_t err_len)
{
    memset(out, 0, sizeof *out);
    fp_dl *dl = NULL;
    const void *table = NULL;
    fp_status st = open_module("plugin", dir, name, fp_plugins_available, FP_PLUGIN_ENTRY_SYMBOL,
                               out->path, sizeof out->path, &dl, &table, err, err_len);
    if (st != FP_OK)
        return st;
    st = fp_plugin_desc_check(table, out->path, name, err, err_len);
    if (st != FP_OK) {
        fp_dl_close(dl);
        return st;
    }
    out->dl = dl;
    out->desc = table;
    return FP_OK;
}

void fp_plugin_unload(fp_loaded_plugin *p)
{
    fp_dl_close(p->dl);
    p->dl = NULL;
    p->desc = NULL;
}
