/* What fastport-server needs from the operating system: the process set-up
 * before any engine thread exists, and the stop request that ends serve().
 * server_os_posix.c: signals (SIGINT, SIGTERM) taken by a sigwait thread,
 * descriptor limit raised. server_os_win32.c: SetConsoleCtrlHandler,
 * stdout in binary mode. Both feed fp_engine_request_stop. */
#ifndef FP_SERVER_OS_H
#define FP_SERVER_OS_H

#include <fastport/engine.h>

/* Called first in main(), before any thread. Warnings go to `warn`. */
void server_os_prepare(void (*warn)(const char *what));

/* From now on a stop request (Ctrl-C, SIGTERM, console close) calls
 * fp_engine_request_stop(e). 0, or -1 with the reason in `err`. */
int server_os_stop_source_start(fp_engine *e, char *err, size_t err_len);

/* What asked for the stop ("SIGINT", "Ctrl-C", ...), or "stop". */
const char *server_os_stop_reason(void);

/* After fp_engine_wait said "stop" and before fp_engine_destroy: no stop
 * request reaches `e` after this returns. */
void server_os_stop_source_end(void);

/* Called once the engine is gone, as the last step of main(). */
void server_os_finish(void);

#endif
