/*
 * trim.c - giving memory back once a burst is over. Pools grow under
 * pressure (send chunks, registered regions, receive buffers) and keep
 * what they grew while it is in use; a second after memory was last
 * released the backend's trim hook frees what went unused, and is asked
 * again each second while it still holds more than its floor. An idle
 * worker with nothing to trim sets no deadline, so it sleeps as before.
 */
#include "core.h"

void fpt_trim_soon(fpt_worker *w)
{
    if (w->trim_at_ms || !w->be->trim) return;
    w->trim_at_ms = fpt_now_ms() + FPT_TRIM_DELAY_MS;
}

int fpt_trim_timeout(const fpt_worker *w, int timeout_ms)
{
    if (!w->trim_at_ms) return timeout_ms;
    int64_t left = w->trim_at_ms - fpt_now_ms();
    if (left < 0) left = 0;
    return timeout_ms < 0 || left < timeout_ms ? (int)left : timeout_ms;
}

void fpt_trim_run_due(fpt_worker *w)
{
    if (!w->trim_at_ms) return;
    int64_t now = fpt_now_ms();
    if (now < w->trim_at_ms) return;
    w->trim_at_ms = 0;
    w->counters.trims++;
    if (w->be->trim(w)) w->trim_at_ms = now + FPT_TRIM_DELAY_MS;
}
