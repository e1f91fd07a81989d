#include <stdlib.h>
#include <unistd.h>

#include "abuse.h"

void abuse_conn_closed(abuse_run *r, uint32_t i)
{
    load_session *s = &r->sessions[i];
    r->conns[i].closed_ns = load_now_ns();
    r->closed++;
    close(s->fd);
    s->fd = -1;
    s->state = LOAD_CLOSED;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The reference each delay is measured from: slowloris, the first byte;
 * never-read, the beginning of its first stall. */
static uint64_t reference_ns(const abuse_run *r, const abuse_conn *c)
{
    return r->o->slowloris ? c->start_ns : c->stall_ns;
}

void abuse_report(const abuse_run *r, uint64_t end_ns)
{
    const char *mode = r->o->slowloris ? "slowloris" : "never-read";
    double *delays = malloc((r->n ? r->n : 1) * sizeof *delays);
    uint32_t n = 0, unexpected = 0, unstalled = 0;
    uint64_t sent = 0;
    for (uint32_t i = 0; i < r->n; i++) {
        const abuse_conn *c = &r->conns[i];
        sent += c->sent;
        unexpected += c->unexpected != 0;
        unstalled += r->o->never_read && c->closed_ns && !c->stall_ns;
        if (delays && c->closed_ns && reference_ns(r, c))
            delays[n++] = (double)(c->closed_ns - reference_ns(r, c)) / 1e9;
    }
    uint32_t open = r->n - r->closed;
    printf("%s: %u connections, %u closed by the server, %u open at the end, %llu bytes sent in %.2f s\n",
           mode, r->n, r->closed, open, (unsigned long long)sent,
           (double)(end_ns - r->start_ns) / 1e9);
    if (unexpected) printf("%s: %u connections received bytes from the server\n", mode, unexpected);
    if (unstalled) printf("%s: %u connections were closed before they stalled\n", mode, unstalled);
    if (r->o->never_read && r->stalled_ns)
        printf("%s: every connection had stalled %.2f s after the start\n", mode,
               (double)(r->stalled_ns - r->start_ns) / 1e9);
    double lo = 0, mid = 0, hi = 0;
    if (n) {
        qsort(delays, n, sizeof *delays, by_value);
        lo = delays[0];
        hi = delays[n - 1];
        mid = n % 2 ? delays[n / 2] : (delays[n / 2 - 1] + delays[n / 2]) / 2;
        printf("%s: close delay after the %s (s): min %.3f median %.3f max %.3f\n", mode,
               r->o->slowloris ? "first byte" : "first stall", lo, mid, hi);
    }
    if (r->o->csv) {
        printf("%s,%u,%u,%u,%llu,", mode, r->n, r->closed, open, (unsigned long long)sent);
        if (n)
            printf("%.3f,%.3f,%.3f\n", lo, mid, hi);
        else
            printf(",,\n");
    }
    fflush(stdout);
    free(delays);
}
