/* fs.h on Windows: UTF-8 at the seam, the wide-character API inside. */
#include "fs.h"

#include <windows.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#define WIDE_MAX 32768 /* the longest path the wide API takes */

const char *fp_module_suffix(void) { return ".dll"; }

char fp_path_separator(void) { return '\\'; }

int fp_is_path_separator(char c) { return c == '/' || c == '\\'; }

/* UTF-8 -> a malloc'd wide string; NULL with the error in *err. */
static wchar_t *widen(const char *text, DWORD *err)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, text, -1, NULL, 0);
    wchar_t *wide = n > 0 ? malloc((size_t)n * sizeof *wide) : NULL;
    if (!wide || MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, text, -1, wide, n) != n) {
        *err = n > 0 && !wide ? ERROR_NOT_ENOUGH_MEMORY : GetLastError();
        free(wide);
        return NULL;
    }
    return wide;
}

static int narrow(const wchar_t *wide, char *out, size_t len)
{
    int cap = len > INT_MAX ? INT_MAX : (int)len;
    if (WideCharToMultiByte(CP_UTF8, 0, wide, -1, out, cap, NULL, NULL) == 0)
        return (int)GetLastError();
    return 0;
}

/* "\\?\C:\x" -> "C:\x", "\\?\UNC\host\share" -> "\\host\share". */
static const wchar_t *without_verbatim_prefix(wchar_t *path)
{
    if (wcsncmp(path, L"\\\\?\\UNC\\", 8) == 0) {
        path[6] = L'\\';
        return path + 6;
    }
    if (wcsncmp(path, L"\\\\?\\", 4) == 0)
        return path + 4;
    return path;
}

static int final_path_of(HANDLE h, char *out, size_t len)
{
    wchar_t *final = malloc(WIDE_MAX * sizeof *final);
    if (!final)
        return ERROR_NOT_ENOUGH_MEMORY;
    DWORD n = GetFinalPathNameByHandleW(h, final, WIDE_MAX, FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
    int rc = n == 0 || n >= WIDE_MAX ? (int)GetLastError() : narrow(without_verbatim_prefix(final), out, len);
    free(final);
    return rc;
}

int fp_real_path(const char *path, char *out, size_t len)
{
    DWORD err = 0;
    wchar_t *wide = widen(path, &err);
    if (!wide)
        return (int)err;
    /* FILE_FLAG_BACKUP_SEMANTICS opens directories too. */
    HANDLE h = CreateFileW(wide, 0, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
    free(wide);
    if (h == INVALID_HANDLE_VALUE)
        return (int)GetLastError();
    int rc = final_path_of(h, out, len);
    CloseHandle(h);
    return rc;
}

int fp_exe_path(char *out, size_t len)
{
    wchar_t *wide = malloc(WIDE_MAX * sizeof *wide);
    if (!wide)
        return ERROR_NOT_ENOUGH_MEMORY;
    DWORD n = GetModuleFileNameW(NULL, wide, WIDE_MAX);
    int rc = n == 0 || n >= WIDE_MAX ? (int)GetLastError() : 0;
    char utf8[FP_PATH_MAX];
    if (rc == 0)
        rc = narrow(wide, utf8, sizeof utf8);
    free(wide);
    return rc == 0 ? fp_real_path(utf8, out, len) : rc;
}

int fp_path_inside(const char *real_dir, const char *real_file)
{
    DWORD err = 0;
    wchar_t *dir = widen(real_dir, &err);
    wchar_t *file = widen(real_file, &err);
    int inside = 0;
    if (dir && file) {
        size_t dlen = wcslen(dir);
        if (dlen > 0 && dir[dlen - 1] == L'\\')
            dlen--; /* a drive root, "C:\" */
        inside = dlen < wcslen(file) && file[dlen] == L'\\' &&
                 CompareStringOrdinal(dir, (int)dlen, file, (int)dlen, TRUE) == CSTR_EQUAL;
    }
    free(dir);
    free(file);
    return inside;
}

int fp_is_regular_file(const char *path)
{
    DWORD err = 0;
    wchar_t *wide = widen(path, &err);
    if (!wide)
        return 0;
    DWORD attributes = GetFileAttributesW(wide);
    free(wide);
    return attributes != INVALID_FILE_ATTRIBUTES && !(attributes & FILE_ATTRIBUTE_DIRECTORY);
}

int fp_dir_each_file(const char *dir, int (*offer)(void *ctx, const char *name), void *ctx)
{
    char pattern[FP_PATH_MAX];
    int n = snprintf(pattern, sizeof pattern, "%s\\*", dir);
    if (n < 0 || (size_t)n >= sizeof pattern)
        return ERROR_FILENAME_EXCED_RANGE;
    DWORD err = 0;
    wchar_t *wide = widen(pattern, &err);
    if (!wide)
        return (int)err;
    WIN32_FIND_DATAW found;
    HANDLE find = FindFirstFileW(wide, &found);
    free(wide);
    if (find == INVALID_HANDLE_VALUE) {
        err = GetLastError();
        return err == ERROR_FILE_NOT_FOUND ? 0 : (int)err; /* an empty directory */
    }
    do {
        char name[FP_PATH_MAX];
        if (found.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY || narrow(found.cFileName, name, sizeof name) != 0)
            continue;
        if (!offer(ctx, name))
            break;
    } while (FindNextFileW(find, &found));
    FindClose(find);
    return 0;
}
