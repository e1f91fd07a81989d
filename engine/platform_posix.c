/* platform.h on POSIX: pthreads, clock_gettime and a self-pipe. */
#include "platform.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fp_mutex_init(fp_mutex *m) { return pthread_mutex_init(&m->impl, NULL) == 0 ? 0 : -1; }
void fp_mutex_destroy(fp_mutex *m) { pthread_mutex_destroy(&m->impl); }
void fp_mutex_lock(fp_mutex *m) { pthread_mutex_lock(&m->impl); }
void fp_mutex_unlock(fp_mutex *m) { pthread_mutex_unlock(&m->impl); }

int fp_cond_init(fp_cond *c)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return -1;
    /* Timed waits must not stretch or shrink when the wall clock is set. */
    int rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(&c->impl, &attr);
    pthread_condattr_destroy(&attr);
    return rc == 0 ? 0 : -1;
}

void fp_cond_destroy(fp_cond *c) { pthread_cond_destroy(&c->impl); }
void fp_cond_wait(fp_cond *c, fp_mutex *m) { pthread_cond_wait(&c->impl, &m->impl); }
void fp_cond_broadcast(fp_cond *c) { pthread_cond_broadcast(&c->impl); }

int fp_cond_timed_wait(fp_cond *c, fp_mutex *m, unsigned timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)(timeout_ms / 1000u);
    deadline.tv_nsec += (long)(timeout_ms % 1000u) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    return pthread_cond_timedwait(&c->impl, &m->impl, &deadline) == ETIMEDOUT;
}

void fp_once_run(fp_once *once, void (*fn)(void)) { pthread_once(&once->impl, fn); }

typedef struct thread_start {
    void (*fn)(void *);
    void *arg;
} thread_start;

static void *thread_trampoline(void *p)
{
    thread_start start = *(thread_start *)p;
    free(p);
    start.fn(start.arg);
    return NULL;
}

int fp_thread_start(fp_thread *t, void (*fn)(void *), void *arg)
{
    thread_start *start = malloc(sizeof *start);
    if (!start)
        return ENOMEM;
    start->fn = fn;
    start->arg = arg;
    int rc = pthread_create(&t->impl, NULL, thread_trampoline, start);
    if (rc != 0)
        free(start);
    return rc;
}

void fp_thread_join(fp_thread t) { pthread_join(t.impl, NULL); }

uint64_t fp_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void fp_utc_now(struct tm *out, unsigned *millis)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, out);
    *millis = (unsigned)(ts.tv_nsec / 1000000L);
}

unsigned fp_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1u;
}

int fp_event_open(fp_event *ev)
{
    if (pipe2(ev->pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        ev->pipe[0] = ev->pipe[1] = -1;
        return errno;
    }
    return 0;
}

void fp_event_close(fp_event *ev)
{
    for (int i = 0; i < 2; i++) {
        if (ev->pipe[i] >= 0)
            close(ev->pipe[i]);
        ev->pipe[i] = -1;
    }
}

void fp_event_set(fp_event *ev)
{
    char b = 1;
    ssize_t r = write(ev->pipe[1], &b, 1);
    (void)r; /* a full pipe already says "set" */
}

int fp_event_wait(fp_event *ev, int timeout_ms)
{
    struct pollfd p = {.fd = ev->pipe[0], .events = POLLIN};
    for (;;) {
        int n = poll(&p, 1, timeout_ms < 0 ? -1 : timeout_ms);
        if (n < 0 && errno == EINTR)
            continue;
        return n > 0;
    }
}

unsigned fp_interface_index(const char *name) { return if_nametoindex(name); }

/* glibc's strerror_r with _GNU_SOURCE is the GNU variant that returns the
 * text, perhaps not in `buf`; everyone else has the XSI one. */
const char *fp_sys_error_text(int code, char *buf, size_t len)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
    const char *text = strerror_r(code, buf, len);
    if (text != buf)
        snprintf(buf, len, "%s", text);
    return buf;
#else
    if (strerror_r(code, buf, len) != 0)
        snprintf(buf, len, "error %d", code);
    return buf;
#endif
}
