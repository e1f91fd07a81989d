#include "log.h"
#include "platform.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static _Atomic int log_level = FP_LOG_INFO;
static fp_mutex log_lock = FP_MUTEX_INIT;
static fp_log_sink log_sink;
static void *log_ctx;

const char *fp_log_level_name(fp_log_level level)
{
    static const char *const names[] = {"error", "warn", "info", "debug", "trace"};
    return (unsigned)level < sizeof names / sizeof names[0] ? names[level] : "?";
}

void fp_log_configure(fp_log_level level, fp_log_sink sink, void *ctx)
{
    fp_mutex_lock(&log_lock);
    log_sink = sink;
    log_ctx = ctx;
    fp_mutex_unlock(&log_lock);
    atomic_store(&log_level, (int)level);
}

int fp_log_enabled(fp_log_level level) { return (int)level <= atomic_load_explicit(&log_level, memory_order_relaxed); }

static void write_default(fp_log_level level, const char *msg)
{
    struct tm tm;
    unsigned millis;
    fp_utc_now(&tm, &millis);
    fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ fastport[%s] %s\n", tm.tm_year + 1900,
            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis,
            fp_log_level_name(level), msg);
}

static void log_message(fp_log_level level, const char *msg)
{
    fp_mutex_lock(&log_lock);
    if (log_sink)
        log_sink(log_ctx, level, msg);
    else
        write_default(level, msg);
    fp_mutex_unlock(&log_lock);
}

void fp_logv(fp_log_level level, const char *fmt, va_list ap)
{
    if (!fp_log_enabled(level))
        return;
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    log_message(level, msg);
}

void fp_log(fp_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fp_logv(level, fmt, ap);
    va_end(ap);
}

void fp_log_sink_for_transport(void *ctx, fp_log_level level, const char *msg)
{
    (void)ctx;
    if (fp_log_enabled(level))
        log_message(level, msg);
}
