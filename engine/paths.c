/* Default module directories and module listings. */
#include "paths.h"

#include "fastport/engine.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#define FP_PATH_MAX MAX_PATH
#define FP_SEPARATORS "\\/"
#define FP_MODULE_SUFFIX ".dll"
#else
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <sys/stat.h>
#define FP_PATH_MAX PATH_MAX
#define FP_SEPARATORS "/"
#define FP_MODULE_SUFFIX ".so"
#endif

#define TRANSPORT_SUBDIR "lib/fastport/transports"
#define PLUGIN_SUBDIR "lib/fastport/plugins"

const char *fp_module_suffix(void)
{
    return FP_MODULE_SUFFIX;
}

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
    int n = snprintf(out, len, "%s/%s%s", dir, name, FP_MODULE_SUFFIX);
    if (n < 0 || (size_t)n >= len) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

/* ---- default directories ---- */

static char g_transport_dir[FP_PATH_MAX];
static char g_plugin_dir[FP_PATH_MAX];

static bool is_separator(char c)
{
    return strchr(FP_SEPARATORS, c) != NULL && c != '\0';
}

/* "/a/b/c" -> "/a/b"; "/c" -> "/" (the root is kept). */
static void strip_last_component(char *path)
{
    size_t len = strlen(path);
    while (len > 0 && !is_separator(path[len - 1]))
        len--;
    while (len > 1 && is_separator(path[len - 1]))
        len--;
    path[len] = '\0';
}

/* <prefix> of the running program: the parent of the directory holding
 * the executable, with symlinks resolved. */
static bool exe_prefix(char *out, size_t len)
{
#ifdef _WIN32
    DWORD n = GetModuleFileNameA(NULL, out, (DWORD)len);
    if (n == 0 || n >= len)
        return false;
#else
    if (len < PATH_MAX || !realpath("/proc/self/exe", out))
        return false;
#endif
    strip_last_component(out); /* the program */
    strip_last_component(out); /* bin */
    return out[0] != '\0';
}

static void module_dir(char *out, size_t len, const char *prefix, const char *subdir)
{
    size_t plen = strlen(prefix);
    const char *sep = plen > 0 && is_separator(prefix[plen - 1]) ? "" : "/";
    char joined[FP_PATH_MAX];
    int n = snprintf(joined, sizeof joined, "%s%s%s", prefix, sep, subdir);
    if (n < 0 || (size_t)n >= sizeof joined) {
        snprintf(out, len, "%s", subdir);
        return;
    }
#ifdef _WIN32
    if (_fullpath(out, joined, len))
        return;
#else
    /* The prefix is already canonical; realpath only resolves symlinks
     * inside lib/ when the directory exists. */
    if (len >= PATH_MAX && realpath(joined, out))
        return;
#endif
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

#ifdef _WIN32
static INIT_ONCE g_dirs_once = INIT_ONCE_STATIC_INIT;

static BOOL CALLBACK compute_default_dirs_once(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
    (void)once;
    (void)param;
    (void)ctx;
    compute_default_dirs();
    return TRUE;
}

static void default_dirs_init(void)
{
    InitOnceExecuteOnce(&g_dirs_once, compute_default_dirs_once, NULL, NULL);
}
#else
static pthread_once_t g_dirs_once = PTHREAD_ONCE_INIT;

static void default_dirs_init(void)
{
    pthread_once(&g_dirs_once, compute_default_dirs);
}
#endif

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
    size_t suffix_len = strlen(FP_MODULE_SUFFIX);
    size_t len = strlen(file);
    if (len <= suffix_len || strcmp(file + len - suffix_len, FP_MODULE_SUFFIX) != 0)
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

#ifndef _WIN32
/* strerror is not thread-safe; glibc's strerror_r with _GNU_SOURCE is the
 * GNU variant that returns the text, everyone else has the XSI one. */
static const char *errno_text(int err, char *buf, size_t len)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
    return strerror_r(err, buf, len);
#else
    if (strerror_r(err, buf, len) != 0)
        snprintf(buf, len, "error %d", err);
    return buf;
#endif
}
#endif

/* Fills `l`; on failure writes the reason into `why`. */
static bool list_modules(const char *dir, name_list *l, char *why, size_t why_len)
{
#ifdef _WIN32
    char pattern[FP_PATH_MAX];
    int n = snprintf(pattern, sizeof pattern, "%s\\*%s", dir, FP_MODULE_SUFFIX);
    if (n < 0 || (size_t)n >= sizeof pattern) {
        snprintf(why, why_len, "path too long");
        return false;
    }
    WIN32_FIND_DATAA found;
    HANDLE find = FindFirstFileA(pattern, &found);
    if (find == INVALID_HANDLE_VALUE) {
        DWORD err = GetLastError();
        if (err == ERROR_FILE_NOT_FOUND)
            return true; /* the directory exists but holds no modules */
        snprintf(why, why_len, "Windows error %lu", (unsigned long)err);
        return false;
    }
    bool ok = true;
    do {
        if (!(found.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY))
            ok = name_list_offer(l, found.cFileName);
    } while (ok && FindNextFileA(find, &found));
    FindClose(find);
#else
    DIR *d = opendir(dir);
    if (!d) {
        char text[128];
        snprintf(why, why_len, "%s", errno_text(errno, text, sizeof text));
        return false;
    }
    bool ok = true;
    struct dirent *entry;
    while (ok && (entry = readdir(d)) != NULL) {
        char path[PATH_MAX];
        struct stat st;
        int n = snprintf(path, sizeof path, "%s/%s", dir, entry->d_name);
        /* stat follows symlinks: a link to a module counts as a module. */
        if (n < 0 || (size_t)n >= sizeof path || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        ok = name_list_offer(l, entry->d_name);
    }
    closedir(d);
#endif
    if (!ok)
        snprintf(why, why_len, "out of memory");
    return ok;
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
