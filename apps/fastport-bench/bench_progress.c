#include "bench_progress.h"

#include <stdarg.h>
#include <unistd.h>

void bench_progress_init(bench_progress *p, FILE *out)
{
    p->out = out;
    p->enabled = isatty(fileno(out)) == 1;
    p->shown = false;
}

void bench_progress_show(bench_progress *p, const char *fmt, ...)
{
    if (!p->enabled) return;
    char line[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* \r then erase to end of line: a shorter line leaves no tail behind. */
    fprintf(p->out, "\r%s\033[K", line);
    fflush(p->out);
    p->shown = true;
}

void bench_progress_clear(bench_progress *p)
{
    if (!p->enabled || !p->shown) return;
    fputs("\r\033[K", p->out);
    fflush(p->out);
    p->shown = false;
}
