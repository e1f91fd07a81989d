/*
 * rio_test.h - what check_rio's tests share: the test provider that
 * rio.dll loaded (its counters, faults and violations, through
 * GetProcAddress on the same module instance), and echo traffic from
 * many peers at once, checked byte by byte.
 *
 * The provider is the DLL that FP_RIO_TEST_PROVIDER names; this suite
 * loads it with LoadLibraryA on the same path before rio.dll does, so
 * both hold a reference to one instance and its counters survive every
 * open/close of the transport in between.
 */
#ifndef FP_TESTS_RIO_TEST_H
#define FP_TESTS_RIO_TEST_H

#include <winsock2.h>
#include <mswsock.h>
#include <windows.h>

#include "rio_compat.h"
#include "rio_provider.h"
#include "transport_harness.h"

#define RT_WAIT_MS 15000

/* ---- the provider ---- */

/* Loads the provider FP_RIO_TEST_PROVIDER names; false when it is unset.
 * A path that does not load, or lacks an export, fails the whole run. */
bool rt_provider_load(void);

/* rio.dll runs on the provider (not on Winsock's RIO). */
bool rt_have_provider(void);

/* For a test that only the provider can run (fault injection): true with
 * the provider, else it says the test is skipped and returns false. */
#define rt_need_provider() rt_need_provider_for(__func__)
bool rt_need_provider_for(const char *test);

/* The provider's counters now (the provider must be loaded). */
fp_rio_provider_counters rt_pc(void);

void rt_provider_reset(void);
void rt_inject(fp_rio_fault fault, unsigned after);

/* End of every test: no rule of RIO was broken (strict mode would have
 * aborted already; this also catches a non-strict provider), and no
 * fault is left pending for the next test. No-op without the provider. */
void rt_assert_clean(void);

/* Running under Wine (ntdll exports wine_get_version). */
bool rt_under_wine(void);

/* Unsets FP_RIO_TEST_PROVIDER for this process (CRT and Win32 both, as
 * rio.dll reads it with getenv), or sets it back. */
void rt_env_provider_off(void);
void rt_env_provider_restore(void);

/* ---- traffic ---- */

/* One peer socket and the server-side connection it reached. Each peer
 * sends its own pattern stream (th_pattern from `base`) and expects the
 * same bytes back. */
typedef struct rt_peer {
    int fd;
    th_conn *c;
    uint64_t base;
    size_t sent, got;
    bool dead; /* the peer saw the end of the stream, or the server closed it */
} rt_peer;

/* Connects n peers to e's listener and waits until all were accepted;
 * peer i's connection is e->conns[first + i]. */
void rt_peers_connect(th_env *e, rt_peer *p, int n);

/* Sends until every live peer has sent `total` bytes of its stream and
 * got all of it back, checking every byte as it arrives (a wrong byte
 * fails the test). A peer whose connection ends meanwhile is marked dead
 * and left out. Returns false when the bound passed first. */
bool rt_pump(th_env *e, rt_peer *p, int n, size_t total, int max_ms);

/* How many of the n peers are dead. */
int rt_dead(const rt_peer *p, int n);

void rt_peers_close(rt_peer *p, int n);

/* Steps until each of the n connections got on_closed. */
bool rt_wait_all_closed(th_env *e, rt_peer *p, int n, int max_ms);

/* Steps until stat `name` reads `value`. */
bool rt_wait_stat(th_env *e, const char *name, uint64_t value, int max_ms);

/* Reserves `len` bytes on c, fills them with pattern from `offset`,
 * commits; tx_reserve's status. */
fp_status rt_send_pattern(th_env *e, th_conn *c, size_t len, uint64_t offset);

#endif
