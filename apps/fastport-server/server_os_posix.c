/* server_os.h on POSIX. */
#include "server_os.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

static sigset_t stop_signals;
static pthread_t stop_thread;
static int stop_thread_running;
static _Atomic int stop_signal;

/* Every session is a descriptor; the soft limit (often 1024) would cap a
 * server long before memory does, so use what the hard limit allows. */
static void raise_fd_limit(void (*warn)(const char *what))
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &lim) != 0) {
            char text[160];
            snprintf(text, sizeof text, "cannot raise the descriptor limit: %s", strerror(errno));
            warn(text);
        }
    }
}

void server_os_prepare(void (*warn)(const char *what))
{
    /* Blocked before any engine thread exists, so every thread inherits
     * the mask and the signals are only ever taken by the stop thread. */
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    /* A shell starts background jobs with SIGINT ignored; undo that so an
     * inherited SIG_IGN cannot make a stop request vanish. */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    /* Transports never raise SIGPIPE (transport.h); a plugin writing to a
     * descriptor of its own gets an error return too, not a kill. */
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit(warn);
}

/* Takes one stop signal, asks the engine to stop and ends: a second signal
 * stays pending and blocked, so it cannot touch a destroyed engine. */
static void *take_stop_signal(void *engine)
{
    int sig = 0;
    while (sigwait(&stop_signals, &sig) != 0)
        ;
    stop_signal = sig;
    fp_engine_request_stop(engine);
    return NULL;
}

int server_os_stop_source_start(fp_engine *e, char *err, size_t err_len)
{
    int rc = pthread_create(&stop_thread, NULL, take_stop_signal, e);
    if (rc != 0) {
        snprintf(err, err_len, "cannot start the signal thread: %s", strerror(rc));
        return -1;
    }
    stop_thread_running = 1;
    return 0;
}

const char *server_os_stop_reason(void)
{
    switch (atomic_load(&stop_signal)) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "stop";
    }
}

void server_os_stop_source_end(void)
{
    if (!stop_thread_running)
        return;
    /* Without a signal (serve() gave up) the thread still waits in
     * sigwait, a cancellation point. */
    if (atomic_load(&stop_signal) == 0)
        pthread_cancel(stop_thread);
    pthread_join(stop_thread, NULL);
    stop_thread_running = 0;
}

void server_os_finish(void) {}
