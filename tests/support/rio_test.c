#include "rio_test.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "th_os.h"

#define PROVIDER_ENV "FP_RIO_TEST_PROVIDER"

static HMODULE provider;
static char provider_path[MAX_PATH];
static fp_rio_provider_get_counters_fn p_counters;
static fp_rio_provider_reset_counters_fn p_reset;
static fp_rio_provider_inject_fn p_inject;
static fp_rio_provider_last_violation_fn p_last_violation;

static void *provider_symbol(const char *name)
{
    void *sym = th_module_symbol(provider, name);
    if (!sym) {
        fprintf(stderr, "%s lacks %s\n", provider_path, name);
        exit(1);
    }
    return sym;
}

bool rt_provider_load(void)
{
    const char *path = getenv(PROVIDER_ENV);
    if (!path || !*path) return false;
    snprintf(provider_path, sizeof(provider_path), "%s", path);
    /* the very call rio.dll makes (rio_table.c): the same instance */
    provider = LoadLibraryA(provider_path);
    if (!provider) {
        fprintf(stderr, "cannot load %s (named by %s): error %lu\n", provider_path, PROVIDER_ENV,
                GetLastError());
        exit(1);
    }
    void *sym;
    sym = provider_symbol("fp_rio_provider_get_counters");
    memcpy(&p_counters, &sym, sizeof(sym));
    sym = provider_symbol("fp_rio_provider_reset_counters");
    memcpy(&p_reset, &sym, sizeof(sym));
    sym = provider_symbol("fp_rio_provider_inject");
    memcpy(&p_inject, &sym, sizeof(sym));
    sym = provider_symbol("fp_rio_provider_last_violation");
    memcpy(&p_last_violation, &sym, sizeof(sym));
    return true;
}

bool rt_have_provider(void) { return provider != NULL; }

bool rt_need_provider_for(const char *test)
{
    if (provider) return true;
    printf("%s: skipped: it injects faults, which needs the test provider (%s)\n", test, PROVIDER_ENV);
    return false;
}

fp_rio_provider_counters rt_pc(void)
{
    ck_assert_msg(provider != NULL, "the test provider is not loaded");
    fp_rio_provider_counters c;
    p_counters(&c);
    return c;
}

void rt_provider_reset(void)
{
    if (provider) p_reset();
}

void rt_inject(fp_rio_fault fault, unsigned after)
{
    ck_assert_msg(provider != NULL, "the test provider is not loaded");
    p_inject(fault, after);
}

void rt_assert_clean(void)
{
    if (!provider) return;
    p_inject(FP_RIO_FAULT_NONE, 0);
    fp_rio_provider_counters c = rt_pc();
    ck_assert_msg(c.violations == 0, "the provider saw %llu RIO rule violations, the last: %s",
                  (unsigned long long)c.violations, p_last_violation());
}

bool rt_under_wine(void)
{
    HMODULE ntdll = GetModuleHandleA("ntdll.dll");
    return ntdll && GetProcAddress(ntdll, "wine_get_version") != NULL;
}

void rt_env_provider_off(void)
{
    _putenv(PROVIDER_ENV "=");
    SetEnvironmentVariableA(PROVIDER_ENV, NULL);
    ck_assert_ptr_null(getenv(PROVIDER_ENV));
}

void rt_env_provider_restore(void)
{
    if (!provider_path[0]) return;
    char assign[MAX_PATH + 32];
    snprintf(assign, sizeof(assign), PROVIDER_ENV "=%s", provider_path);
    _putenv(assign);
    SetEnvironmentVariableA(PROVIDER_ENV, provider_path);
}

/* ---- traffic ---- */

void rt_peers_connect(th_env *e, rt_peer *p, int n)
{
    size_t first = e->n_conns;
    for (int i = 0; i < n; i++) {
        memset(&p[i], 0, sizeof(p[i]));
        p[i].fd = th_peer_connect(&e->listen_addr, 0);
        p[i].base = (uint64_t)(first + (size_t)i + 1) << 40; /* a stream of its own */
    }
    th_wait_accepted(e, first + (size_t)n, RT_WAIT_MS);
    for (int i = 0; i < n; i++) p[i].c = e->conns[first + (size_t)i];
}

/* One turn of peer i: send what the socket takes, check what came back.
 * True when anything moved. */
static bool pump_one(rt_peer *p, size_t total)
{
    static uint8_t buf[65536];
    bool moved = false;
    if (p->c->closed_count) {
        p->dead = true;
        return false;
    }
    if (p->sent < total) {
        size_t len = total - p->sent < sizeof(buf) ? total - p->sent : sizeof(buf);
        for (size_t k = 0; k < len; k++) buf[k] = th_pattern(p->base + p->sent + k);
        long w = th_sock_send(p->fd, buf, len);
        if (w > 0) {
            p->sent += (size_t)w;
            moved = true;
        } else if (!th_socket_retry(th_socket_errno())) {
            p->dead = true;
            return false;
        }
    }
    long r = th_peer_read(p->fd, buf, sizeof(buf));
    if (r < 0) {
        p->dead = true;
        return false;
    }
    for (long k = 0; k < r; k++)
        ck_assert_msg(buf[k] == th_pattern(p->base + p->got + (size_t)k),
                      "peer %llu: echoed byte %zu differs", (unsigned long long)(p->base >> 40),
                      p->got + (size_t)k);
    p->got += (size_t)r;
    ck_assert_msg(p->got <= p->sent, "more bytes came back than were sent");
    return moved || r > 0;
}

bool rt_pump(th_env *e, rt_peer *p, int n, size_t total, int max_ms)
{
    int64_t end = th_now_ms() + max_ms;
    for (;;) {
        bool moved = false, done = true;
        for (int i = 0; i < n; i++) {
            if (p[i].dead) continue;
            moved |= pump_one(&p[i], total);
            if (!p[i].dead && p[i].got < total) done = false;
        }
        if (done) return true;
        if (th_now_ms() > end) return false;
        th_step(e, moved ? 0 : 1);
    }
}

int rt_dead(const rt_peer *p, int n)
{
    int dead = 0;
    for (int i = 0; i < n; i++) dead += p[i].dead;
    return dead;
}

void rt_peers_close(rt_peer *p, int n)
{
    for (int i = 0; i < n; i++)
        if (p[i].fd >= 0) th_socket_close(p[i].fd);
    for (int i = 0; i < n; i++) p[i].fd = -1;
}

typedef struct {
    rt_peer *p;
    int n;
} all_ctx;

static bool all_closed(th_env *e, void *ctx)
{
    (void)e;
    all_ctx *a = ctx;
    for (int i = 0; i < a->n; i++)
        if (a->p[i].c->closed_count == 0) return false;
    return true;
}

bool rt_wait_all_closed(th_env *e, rt_peer *p, int n, int max_ms)
{
    all_ctx ctx = {p, n};
    return th_run_until(e, all_closed, &ctx, max_ms);
}

typedef struct {
    const char *name;
    uint64_t value;
} stat_ctx;

static bool stat_reached(th_env *e, void *ctx)
{
    stat_ctx *s = ctx;
    return th_stat(e, s->name) == s->value;
}

bool rt_wait_stat(th_env *e, const char *name, uint64_t value, int max_ms)
{
    stat_ctx ctx = {name, value};
    return th_run_until(e, stat_reached, &ctx, max_ms);
}

fp_status rt_send_pattern(th_env *e, th_conn *c, size_t len, uint64_t offset)
{
    fp_span span;
    fp_status st = e->vt->tx_reserve(c->conn, len, &span);
    if (st != FP_OK) return st;
    for (size_t i = 0; i < len; i++) span.data[i] = th_pattern(offset + i);
    e->vt->tx_commit(c->conn, &span, len);
    return FP_OK;
}
