/* What the engine needs from the operating system, behind one seam:
 * threads, locks, condition variables, once, clocks, the CPU count and the
 * stop event. platform_posix.c implements it with pthreads, clock_gettime
 * and a pipe; platform_win32.c with Win32 threads, SRW locks, condition
 * variables and an event object. The build picks one (engine/CMakeLists).
 *
 * Thread-local storage is C11 `_Thread_local` on both. */
#ifndef FP_ENGINE_PLATFORM_H
#define FP_ENGINE_PLATFORM_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef _WIN32
/* The Win32 objects behind these are pointer-sized and zero-initialised
 * (SRWLOCK, CONDITION_VARIABLE, INIT_ONCE), so no Windows header leaks
 * into the engine; platform_win32.c checks the sizes. */
typedef struct fp_mutex { void *impl; } fp_mutex;
typedef struct fp_cond { void *impl; } fp_cond;
typedef struct fp_once { void *impl; } fp_once;
typedef struct fp_thread { void *handle; } fp_thread;
typedef struct fp_event { void *handle; } fp_event;
#define FP_MUTEX_INIT {0}
#define FP_ONCE_INIT {0}
#else
#include <pthread.h>
typedef struct fp_mutex { pthread_mutex_t impl; } fp_mutex;
typedef struct fp_cond { pthread_cond_t impl; } fp_cond;
typedef struct fp_once { pthread_once_t impl; } fp_once;
typedef struct fp_thread { pthread_t impl; } fp_thread;
typedef struct fp_event { int pipe[2]; } fp_event;
#define FP_MUTEX_INIT {PTHREAD_MUTEX_INITIALIZER}
#define FP_ONCE_INIT {PTHREAD_ONCE_INIT}
#endif

/* Locks. init returns 0, or -1 when the system refuses. */
int fp_mutex_init(fp_mutex *m);
void fp_mutex_destroy(fp_mutex *m);
void fp_mutex_lock(fp_mutex *m);
void fp_mutex_unlock(fp_mutex *m);

/* Condition variables measured on the monotonic clock. timed_wait returns
 * 0 when woken (perhaps spuriously) and 1 when `timeout_ms` passed. */
int fp_cond_init(fp_cond *c);
void fp_cond_destroy(fp_cond *c);
void fp_cond_wait(fp_cond *c, fp_mutex *m);
int fp_cond_timed_wait(fp_cond *c, fp_mutex *m, unsigned timeout_ms);
void fp_cond_broadcast(fp_cond *c);

/* Runs `fn` exactly once however many threads call it. */
void fp_once_run(fp_once *once, void (*fn)(void));

/* Threads. start returns 0, or the system's error code (an errno value or
 * a Windows error) when no thread could be made. */
int fp_thread_start(fp_thread *t, void (*fn)(void *), void *arg);
void fp_thread_join(fp_thread t);

/* Monotonic time since an arbitrary start, in nanoseconds. */
uint64_t fp_mono_ns(void);
/* Wall-clock time now, broken down in UTC, with its milliseconds. */
void fp_utc_now(struct tm *out, unsigned *millis);

/* Logical processors this process may run on (at least 1). */
unsigned fp_cpu_count(void);

/* A one-shot, level-triggered stop flag that one thread sets and another
 * waits on. set is safe from a signal handler or a console control handler.
 * open returns 0 or the system's error code. */
int fp_event_open(fp_event *ev);
void fp_event_close(fp_event *ev);
void fp_event_set(fp_event *ev);
/* 1 once set, 0 when `timeout_ms` passed first; a negative timeout waits
 * for ever. */
int fp_event_wait(fp_event *ev, int timeout_ms);

/* The index of the network interface called `name`, 0 when none is. */
unsigned fp_interface_index(const char *name);

/* The system's text for an error code from this seam (errno or Windows),
 * written into `buf`, which is returned. Thread-safe. */
const char *fp_sys_error_text(int code, char *buf, size_t len);

#endif
