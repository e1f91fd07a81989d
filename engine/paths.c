/* Default module directories and module listings. */
#include "paths.h"

#include "fastport/engine.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "platform.h"

#define TRANSPORT_SUBDIR "lib/fastport/transports"
#define PLUGIN_SUBDIR "lib/fastport/plugins"

/* A module name must stay inside its directory. Backslash is refused on
 * every platform so a name means the same file everywhere. */
static bool module_name_ok(const char *name)
{
    return name && name[0] != '\0' && !strpbrk(name, "/\\:") && !strstr(name, "..");
}

int fp_module_path(char *out, size_t len, const char *dir, const char *name)
{
    if (!out || len == 0 || !dir || !module_name_ok(name))
        return -1;
    int n = snprintf(out, len, "%s%c%s%s", dir, fp_path_separator(), name, fp_module_suffix());
    if (n < 0 || (size_t)n >= len) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

/* ---- default directories ---- */

static char g_transport_dir[FP_PATH_MAX];
static char g_plugin_dir[FP_PATH_MAX];

/* "/a/b/c" -> "/a/b"; "/c" -> "/" (the root is kept). */
static void strip_last_component(char *path)
{
    size_t len = strlen(path);
    while (len > 0 && !fp_is_path_separator(path[len - 1]))
        len--;
    while (len > 1 && fp_is_path_separator(path[len - 1]))
        len--;
    path[len] = '\0';
}

/* <prefix> of the running program: the parent of the directory holding
 * the executable, with symlinks resolved. */
static bool exe_prefix(char *out, size_t len)
{
    if (fp_exe_path(out, len) != 0)
        return false;
    strip_last_component(out); /* the program */
    strip_last_component(out); /* bin */
    return out[0] != '\0';
}

static void module_dir(char *out, size_t len, const char *prefix, const char *subdir)
{
    size_t plen = strlen(prefix);
    const char *sep = plen > 0 && fp_is_path_separator(prefix[plen - 1]) ? "" : "/";
    char joined[FP_PATH_MAX];
    int n = snprintf(joined, sizeof joined, "%s%s%s", prefix, sep, subdir);
    if (n < 0 || (size_t)n >= sizeof joined) {
        snprintf(out, len, "%s", subdir);
        return;
    }
    for (char *c = joined; *c; c++)
        if (fp_is_path_separator(*c))
            *c = fp_path_separator();
    /* The prefix is already canonical; this only resolves links inside
     * lib/ when the directory exists. */
    if (fp_real_path(joined, out, len) == 0)
        return;
    snprintf(out, len, "%s", joined);
}

static void compute_default_dirs(void)
{
    char prefix[FP_PATH_MAX];
    /* Without a known executable, assume the program runs from its bin/. */
    if (!exe_prefix(prefix, sizeof prefix))
        snprintf(prefix, sizeof prefix, "..");
    module_dir(g_transport_dir, sizeof g_transport_dir, prefix, TRANSPORT_SUBDIR);
    module_dir(g_plugin_dir, sizeof g_plugin_dir, prefix, PLUGIN_SUBDIR);
}

static fp_once g_dirs_once = FP_ONCE_INIT;

static void default_dirs_init(void) { fp_once_run(&g_dirs_once, compute_default_dirs); }

const char *fp_default_transport_dir(void)
{
    default_dirs_init();
    return g_transport_dir;
}

const char *fp_default_plugin_dir(void)
{
    default_dirs_init();
    return g_plugin_dir;
}

/* ---- listing modules ---- */

typedef struct name_list {
    char **names;
    size_t count;
    size_t cap;
    bool failed;
} name_list;

static void name_list_free(name_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->names[i]);
    free(l->names);
}

/* Keeps `file` if it is "<name><suffix>" with a valid module name. */
static bool name_list_offer(name_list *l, const char *file)
{
    size_t suffix_len = strlen(fp_module_suffix());
    size_t len = strlen(file);
    if (len <= suffix_len || strcmp(file + len - suffix_len, fp_module_suffix()) != 0)
        return true;
    size_t name_len = len - suffix_len;
    char *name = malloc(name_len + 1);
    if (!name)
        return false;
    memcpy(name, file, name_len);
    name[name_len] = '\0';
    if (!module_name_ok(name)) {
        free(name);
        return true;
    }
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        char **grown = realloc(l->names, cap * sizeof *grown);
        if (!grown) {
            free(name);
            return false;
        }
        l->names = grown;
        l->cap = cap;
    }
    l->names[l->count++] = name;
    return true;
}

static int offer_name(void *ctx, const char *file)
{
    name_list *l = ctx;
    l->failed = !name_list_offer(l, file);
    return !l->failed;
}

/* Fills `l`; on failure writes the reason into `why`. */
static bool list_modules(const char *dir, name_list *l, char *why, size_t why_len)
{
    int rc = fp_dir_each_file(dir, offer_name, l);
    if (rc != 0) {
        fp_sys_error_text(rc, why, why_len);
        return false;
    }
    if (l->failed)
        snprintf(why, why_len, "out of memory");
    return !l->failed;
}

static int compare_names(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Appends to `out` as far as it fits; `out` stays NUL-terminated. */
static void append(char *out, size_t out_len, size_t *used, const char *text)
{
    if (*used + 1 >= out_len)
        return;
    size_t room = out_len - *used - 1;
    size_t len = strlen(text);
    if (len > room)
        len = room;
    memcpy(out + *used, text, len);
    *used += len;
    out[*used] = '\0';
}

static size_t modules_available(const char *dir, char *out, size_t out_len)
{
    bool have_out = out && out_len > 0;
    if (have_out)
        out[0] = '\0';
    name_list l = { 0 };
    char why[256];
    if (!dir || !list_modules(dir, &l, why, sizeof why)) {
        if (have_out)
            snprintf(out, out_len, "(none: cannot open %s: %s)", dir ? dir : "(null)",
                     dir ? why : "no directory");
        name_list_free(&l);
        return 0;
    }
    if (l.count > 1)
        qsort(l.names, l.count, sizeof *l.names, compare_names);
    if (have_out) {
        size_t used = 0;
        if (l.count == 0)
            append(out, out_len, &used, "(none)");
        for (size_t i = 0; i < l.count; i++) {
            if (i > 0)
                append(out, out_len, &used, ", ");
            append(out, out_len, &used, l.names[i]);
        }
    }
    size_t count = l.count;
    name_list_free(&l);
    return count;
}

size_t fp_transports_available(const char *dir, char *out, size_t out_len)
{
    return modules_available(dir ? dir : fp_default_transport_dir(), out, out_len);
}

size_t fp_plugins_available(const char *dir, char *out, size_t out_len)
{
    return modules_available(dir ? dir : fp_default_plugin_dir(), out, out_len);
}
