/* Shared-library loading behind one small interface: dlopen on POSIX,
 * LoadLibraryExW on Windows (dl_win32.c). */
#ifndef FP_ENGINE_DL_H
#define FP_ENGINE_DL_H

#include <stddef.h>

typedef struct fp_dl fp_dl;

/* Load with every symbol resolved now and kept local. NULL on failure with
 * the system's reason in `err`. */
fp_dl *fp_dl_open(const char *path, char *err, size_t err_len);
void *fp_dl_sym(fp_dl *dl, const char *symbol);
void fp_dl_close(fp_dl *dl);

#endif
