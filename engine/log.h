/* Process-wide logging. The sink and level are set by the engine that is
 * created (one engine per process is the normal case); any thread may log. */
#ifndef FP_ENGINE_LOG_H
#define FP_ENGINE_LOG_H

#include <stdarg.h>

#include "fastport/engine.h"

void fp_log_configure(fp_log_level level, fp_log_sink sink, void *ctx);
int fp_log_enabled(fp_log_level level);
void fp_log(fp_log_level level, const char *fmt, ...) FP_PRINTF_LIKE(2, 3);
void fp_logv(fp_log_level level, const char *fmt, va_list ap) FP_PRINTF_LIKE(2, 0);
/* Sink for transports (fp_transport_host.log). */
void fp_log_sink_for_transport(void *ctx, fp_log_level level, const char *msg);
const char *fp_log_level_name(fp_log_level level);

#endif
