/* Files and paths, behind one seam: fs_posix.c and fs_win32.c (which
 * takes and gives UTF-8 and calls the wide-character API). Error returns
 * are the system's code, for fp_sys_error_text (platform.h). */
#ifndef FP_ENGINE_FS_H
#define FP_ENGINE_FS_H

#include <stddef.h>

/* Room for any path the engine builds or resolves. */
#define FP_PATH_MAX 4096

/* The shared-module file suffix: ".so", or ".dll" on Windows. */
const char *fp_module_suffix(void);

/* '/' everywhere; also '\\' on Windows. */
int fp_is_path_separator(char c);
/* The separator the engine writes: '/', or '\\' on Windows. */
char fp_path_separator(void);

/* The canonical, absolute form of an existing path, with every link
 * resolved. 0, or the system's error code. */
int fp_real_path(const char *path, char *out, size_t len);

/* The running program's own file, canonical. 0, or the system's code. */
int fp_exe_path(char *out, size_t len);

/* 1 when `real_file` lies inside `real_dir` (both from fp_real_path):
 * byte for byte on POSIX, case-insensitively on Windows. */
int fp_path_inside(const char *real_dir, const char *real_file);

/* 1 when `path` names a regular file (following links). */
int fp_is_regular_file(const char *path);

/* Calls offer(ctx, name) for each regular file in `dir` (links followed),
 * until offer returns 0. 0, or the system's code when `dir` cannot be
 * read. */
int fp_dir_each_file(const char *dir, int (*offer)(void *ctx, const char *name), void *ctx);

#endif
