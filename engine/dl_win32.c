/* dl.h on Windows. A module's own imports are looked up in its directory
 * and System32 only: never the current directory or PATH. */
#include "dl.h"
#include "platform.h"

#include <windows.h>

#include <stdlib.h>
#include <string.h>

fp_dl *fp_dl_open(const char *path, char *err, size_t err_len)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, NULL, 0);
    wchar_t *wide = n > 0 ? malloc((size_t)n * sizeof *wide) : NULL;
    HMODULE module = NULL;
    DWORD code = ERROR_INVALID_NAME;
    if (wide && MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, wide, n) == n) {
        module = LoadLibraryExW(wide, NULL, LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR | LOAD_LIBRARY_SEARCH_SYSTEM32);
        code = GetLastError();
    }
    free(wide);
    if (!module)
        fp_sys_error_text((int)code, err, err_len);
    return (fp_dl *)module;
}

void *fp_dl_sym(fp_dl *dl, const char *symbol)
{
    FARPROC proc = GetProcAddress((HMODULE)dl, symbol);
    void *address;
    memcpy(&address, &proc, sizeof address); /* as dlsym gives it */
    return address;
}

void fp_dl_close(fp_dl *dl)
{
    if (dl)
        FreeLibrary((HMODULE)dl);
}
