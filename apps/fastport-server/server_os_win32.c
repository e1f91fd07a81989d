/* server_os.h on Windows: console control events instead of signals. */
#include "server_os.h"

#include <windows.h>

#include <fcntl.h>
#include <io.h>
#include <stdio.h>

static SRWLOCK engine_lock = SRWLOCK_INIT;
static fp_engine *stop_target;
static volatile LONG stop_event_seen = -1;
/* Set when the engine is gone: a console close waits for it, because the
 * process ends as soon as the handler returns. */
static HANDLE finished;

void server_os_prepare(void (*warn)(const char *what))
{
    /* "listening on HOST:PORT\n" and the stats lines scripts read must be
     * the same bytes as on Linux. */
    if (_setmode(_fileno(stdout), _O_BINARY) == -1 || _setmode(_fileno(stderr), _O_BINARY) == -1)
        warn("cannot put stdout and stderr in binary mode; lines will end in CRLF");
    finished = CreateEventW(NULL, TRUE, FALSE, NULL);
}

static BOOL WINAPI on_console_event(DWORD event)
{
    switch (event) {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT:
    case CTRL_CLOSE_EVENT:
    case CTRL_LOGOFF_EVENT:
    case CTRL_SHUTDOWN_EVENT:
        break;
    default:
        return FALSE;
    }
    AcquireSRWLockShared(&engine_lock);
    if (stop_target) {
        InterlockedCompareExchange(&stop_event_seen, (LONG)event, -1);
        fp_engine_request_stop(stop_target);
    }
    ReleaseSRWLockShared(&engine_lock);
    if (event != CTRL_C_EVENT && event != CTRL_BREAK_EVENT && finished)
        WaitForSingleObject(finished, INFINITE); /* Windows bounds this wait itself */
    return TRUE;
}

int server_os_stop_source_start(fp_engine *e, char *err, size_t err_len)
{
    AcquireSRWLockExclusive(&engine_lock);
    stop_target = e;
    ReleaseSRWLockExclusive(&engine_lock);
    if (!SetConsoleCtrlHandler(on_console_event, TRUE)) {
        snprintf(err, err_len, "cannot install the console control handler: Windows error %lu",
                 (unsigned long)GetLastError());
        return -1;
    }
    return 0;
}

const char *server_os_stop_reason(void)
{
    switch (stop_event_seen) {
    case CTRL_C_EVENT: return "Ctrl-C";
    case CTRL_BREAK_EVENT: return "Ctrl-Break";
    case CTRL_CLOSE_EVENT: return "console closed";
    case CTRL_LOGOFF_EVENT: return "log-off";
    case CTRL_SHUTDOWN_EVENT: return "system shutdown";
    default: return "stop";
    }
}

void server_os_stop_source_end(void)
{
    AcquireSRWLockExclusive(&engine_lock);
    stop_target = NULL;
    ReleaseSRWLockExclusive(&engine_lock);
}

void server_os_finish(void)
{
    if (finished)
        SetEvent(finished);
}
