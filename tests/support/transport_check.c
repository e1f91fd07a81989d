#include "transport_check.h"

#include <stdio.h>
#include <string.h>

#include "fastport/transport.h"
#include "th_os.h"

int e2e_transport_probe(const char *dir, const char *name, char *why, size_t why_len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s" TH_MODULE_SUFFIX, dir, name);
    void *lib = th_module_open(path);
    if (!lib) {
        snprintf(why, why_len, "cannot load %s: %s", path, th_module_error());
        return -1;
    }
    int result = -1;
    fp_transport_entry_fn entry;
    void *sym = th_module_symbol(lib, FP_TRANSPORT_ENTRY_SYMBOL);
    memcpy(&entry, &sym, sizeof(entry)); /* ISO C has no object-to-function cast */
    const fp_transport_vtbl *vt = entry ? entry() : NULL;
    if (!vt) {
        snprintf(why, why_len, "%s has no %s", path, FP_TRANSPORT_ENTRY_SYMBOL);
    } else if (vt->abi_major != FP_TRANSPORT_ABI_MAJOR) {
        snprintf(why, why_len, "%s has transport ABI %u, this test was built for %u", path,
                 vt->abi_major, FP_TRANSPORT_ABI_MAJOR);
    } else if (vt->probe(why, why_len) == FP_OK) {
        result = 1;
    } else {
        result = 0;
    }
    th_module_close(lib);
    return result;
}
