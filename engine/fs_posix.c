/* fs.h on POSIX. */
#include "fs.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

_Static_assert(FP_PATH_MAX >= PATH_MAX, "realpath writes up to PATH_MAX bytes");

const char *fp_module_suffix(void) { return ".so"; }

char fp_path_separator(void) { return '/'; }

int fp_is_path_separator(char c) { return c == '/'; }

int fp_real_path(const char *path, char *out, size_t len)
{
    char resolved[PATH_MAX];
    if (!realpath(path, resolved))
        return errno;
    if (strlen(resolved) >= len)
        return ENAMETOOLONG;
    strcpy(out, resolved);
    return 0;
}

int fp_exe_path(char *out, size_t len) { return fp_real_path("/proc/self/exe", out, len); }

int fp_path_inside(const char *real_dir, const char *real_file)
{
    size_t dlen = strlen(real_dir);
    if (dlen > 0 && real_dir[dlen - 1] == '/')
        dlen--; /* the root */
    return strncmp(real_file, real_dir, dlen) == 0 && real_file[dlen] == '/';
}

int fp_is_regular_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int fp_dir_each_file(const char *dir, int (*offer)(void *ctx, const char *name), void *ctx)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno;
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL) {
        char path[FP_PATH_MAX];
        int n = snprintf(path, sizeof path, "%s/%s", dir, entry->d_name);
        if (n < 0 || (size_t)n >= sizeof path || !fp_is_regular_file(path))
            continue;
        if (!offer(ctx, entry->d_name))
            break;
    }
    closedir(d);
    return 0;
}
