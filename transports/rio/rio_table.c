/*
 * rio_table.c - the Registered I/O function table: from Winsock through
 * WSAIoctl(SIO_GET_MULTIPLE_EXTENSION_FUNCTION_POINTER, WSAID_MULTIPLE_RIO)
 * on a socket created with WSA_FLAG_REGISTERED_IO, every pointer checked.
 *
 * Tests only: when FP_RIO_TEST_PROVIDER names a DLL (tests/rio_provider,
 * never installed), the table comes from its fp_rio_provider_table, which
 * has the WSAIoctl's contract, instead of from Winsock. It is the one line
 * of this transport that differs from what runs on Windows with real RIO;
 * open() logs a warning whenever it is used. It is never a fallback: when
 * the variable is unset and Winsock has no RIO, rio is refused.
 */
#include <stdio.h>
#include <stdlib.h>

#include "rio_internal.h"

typedef int (*rio_provider_fn)(RIO_EXTENSION_FUNCTION_TABLE *table, DWORD table_size);

static bool every_pointer_set(const RIO_EXTENSION_FUNCTION_TABLE *t)
{
    return t->RIOReceive && t->RIOReceiveEx && t->RIOSend && t->RIOSendEx && t->RIOCloseCompletionQueue &&
           t->RIOCreateCompletionQueue && t->RIOCreateRequestQueue && t->RIODequeueCompletion &&
           t->RIODeregisterBuffer && t->RIONotify && t->RIORegisterBuffer && t->RIOResizeCompletionQueue &&
           t->RIOResizeRequestQueue;
}

static fp_status unavailable(char *why, size_t why_len, const char *what, int err)
{
    char text[160];
    fpt_wsa_describe(err, text, sizeof(text));
    if (why_len)
        snprintf(why, why_len, "rio: Registered I/O is not available here (%s: %s); use --transport=iocp",
                 what, text);
    return FP_ENOTSUP;
}

static fp_status from_provider(const char *path, RIO_EXTENSION_FUNCTION_TABLE *table, HMODULE *provider,
                               char *why, size_t why_len)
{
    HMODULE dll = LoadLibraryA(path);
    if (!dll)
        return unavailable(why, why_len, "loading the test provider named by " RIO_TEST_PROVIDER_ENV,
                           (int)GetLastError());
    rio_provider_fn fill = (rio_provider_fn)(void (*)(void))GetProcAddress(dll, "fp_rio_provider_table");
    int err = fill ? fill(table, sizeof(*table)) : ERROR_PROC_NOT_FOUND;
    if (err) {
        FreeLibrary(dll);
        return unavailable(why, why_len, "the test provider's fp_rio_provider_table", err);
    }
    *provider = dll;
    return FP_OK;
}

static fp_status from_winsock(RIO_EXTENSION_FUNCTION_TABLE *table, char *why, size_t why_len)
{
    SOCKET s = fpt_win_socket_flags(AF_INET, WSA_FLAG_REGISTERED_IO);
    if (s == INVALID_SOCKET)
        return unavailable(why, why_len, "a socket with WSA_FLAG_REGISTERED_IO", WSAGetLastError());
    GUID id = WSAID_MULTIPLE_RIO;
    DWORD bytes = 0;
    int rc = WSAIoctl(s, SIO_GET_MULTIPLE_EXTENSION_FUNCTION_POINTER, &id, sizeof(id), table, sizeof(*table),
                      &bytes, NULL, NULL);
    int err = rc == 0 ? 0 : WSAGetLastError();
    closesocket(s);
    if (err) return unavailable(why, why_len, "WSAIoctl for the RIO function table", err);
    return FP_OK;
}

fp_status rio_table_load(RIO_EXTENSION_FUNCTION_TABLE *table, HMODULE *provider, char *why, size_t why_len)
{
    memset(table, 0, sizeof(*table));
    table->cbSize = sizeof(*table);
    *provider = NULL;
    const char *path = getenv(RIO_TEST_PROVIDER_ENV);
    fp_status st = path && *path ? from_provider(path, table, provider, why, why_len)
                                 : from_winsock(table, why, why_len);
    if (st != FP_OK) return st;
    if (!every_pointer_set(table)) {
        if (*provider) FreeLibrary(*provider);
        *provider = NULL;
        if (why_len)
            snprintf(why, why_len,
                     "rio: Registered I/O is not available here (the RIO function table is "
                     "incomplete); use --transport=iocp");
        return FP_ENOTSUP;
    }
    return FP_OK;
}
