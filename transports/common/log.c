/*
 * log.c - the transports' log helper and counter emitter.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core.h"

void fpt_log(const fp_transport_host *host, fp_log_level level, const char *fmt, ...)
{
    if (!host->log) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    host->log(host->log_ctx, level, msg);
}

void fpt_counters_emit(const fpt_counter_desc *desc, size_t n, const void *values, fp_stat_fn emit,
                       void *ctx)
{
    const unsigned char *base = values;
    for (size_t i = 0; i < n; i++) {
        uint64_t v;
        memcpy(&v, base + desc[i].offset, sizeof(v));
        emit(ctx, desc[i].name, v);
    }
}
