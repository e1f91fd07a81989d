#include "dl.h"

#include <dlfcn.h>
#include <stdio.h>

fp_dl *fp_dl_open(const char *path, char *err, size_t err_len)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        snprintf(err, err_len, "%s", why ? why : "unknown dlopen error");
    }
    return (fp_dl *)h;
}

void *fp_dl_sym(fp_dl *dl, const char *symbol) { return dlsym((void *)dl, symbol); }

void fp_dl_close(fp_dl *dl)
{
    if (dl)
        dlclose((void *)dl);
}
