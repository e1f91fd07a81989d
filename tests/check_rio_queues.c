/*
 * check_rio_queues.c - rio.dll's request and completion queues: deferred
 * sends committed once per dirty request queue per flush, recovery from a
 * corrupt completion queue and from a full request queue (faults injected
 * by the test provider), and the completion queue growing as connections
 * come. Part of check_rio (see check_rio.c).
 */
#include "rio_test.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "th_os.h"

TCase *rio_queues_tcase(void);

/* rio.dll's counter `name` minus what it read before (`was`). */
#define DELTA(e, name, was) (th_stat((e), (name)) - (was))

/* ---- batching ---- */

/* Five frames on each of three connections, one flush: fifteen deferred
 * RIOSends and three commits (one per dirty request queue), never one per
 * frame; the provider saw exactly those calls; every byte arrives. */
START_TEST(test_one_commit_per_dirty_queue_per_flush)
{
    enum { N = 3, FRAMES = 5, FRAME = 40000 };
    th_env e;
    th_start(&e, NULL, 0);
    th_listen(&e, FP_AF_INET);
    rt_peer p[N];
    rt_peers_connect(&e, p, N);
    th_step(&e, 0);
    uint64_t sends = th_stat(&e, "rio_sends"), deferred = th_stat(&e, "rio_sends_deferred");
    uint64_t commits = th_stat(&e, "rio_commits"), flushes = th_stat(&e, "commit_flushes");
    fp_rio_provider_counters pc = {0};
    if (rt_have_provider()) pc = rt_pc();

    /* each 40000-byte frame takes a chunk of its own (the previous one
     * has no room left), so each is one RIOSend */
    for (int i = 0; i < N; i++)
        for (int f = 0; f < FRAMES; f++)
            ck_assert_int_eq(rt_send_pattern(&e, p[i].c, FRAME, p[i].base + (uint64_t)f * FRAME), FP_OK);
    e.vt->flush(e.w);

    ck_assert_uint_eq(DELTA(&e, "rio_sends", sends), N * FRAMES);
    ck_assert_uint_eq(DELTA(&e, "rio_sends_deferred", deferred), N * FRAMES);
    ck_assert_uint_eq(DELTA(&e, "rio_commits", commits), N);
    ck_assert_uint_eq(DELTA(&e, "commit_flushes", flushes), 1);
    ck_assert_uint_ge(th_stat(&e, "rio_commits_max_per_flush"), N);
    if (rt_have_provider()) {
        fp_rio_provider_counters now = rt_pc();
        ck_assert_uint_eq(now.sends - pc.sends, N * FRAMES);
        ck_assert_uint_eq(now.sends_deferred - pc.sends_deferred, N * FRAMES);
        ck_assert_uint_eq(now.commits - pc.commits, N);
        ck_assert_uint_eq(now.commit_calls - pc.commit_calls, N);
    }
    static uint8_t got[FRAMES * FRAME];
    for (int i = 0; i < N; i++) {
        ck_assert(th_peer_read_exact(&e, p[i].fd, got, sizeof(got), RT_WAIT_MS));
        for (size_t k = 0; k < sizeof(got); k++)
            ck_assert_msg(got[k] == th_pattern(p[i].base + k), "connection %d: byte %zu differs", i, k);
    }
    rt_peers_close(p, N);
    th_stop(&e);
    rt_assert_clean();
}
END_TEST

/* A request queue takes rq_sends sends at a time: the rest of the chain
 * waits for the batch to come back and goes in the next ones, in order. */
START_TEST(test_sends_beyond_rq_sends_wait_for_the_next_batch)
{
    enum { FRAMES = 5, FRAME = 40000 };
    const fp_kv opts[] = {{"rq_sends", "2"}};
    th_env e;
    th_start(&e, opts, 1);
    th_listen(&e, FP_AF_INET);
    rt_peer p[1];
    rt_peers_connect(&e, p, 1);
    th_step(&e, 0);
    uint64_t sends = th_stat(&e, "rio_sends"), commits = th_stat(&e, "rio_commits");
    for (int f = 0; f < FRAMES; f++)
        ck_assert_int_eq(rt_send_pattern(&e, p[0].c, FRAME, p[0].base + (uint64_t)f * FRAME), FP_OK);
    e.vt->flush(e.w);
    ck_assert_uint_eq(DELTA(&e, "rio_sends", sends), 2);
    ck_assert_uint_eq(DELTA(&e, "rio_commits", commits), 1);
    static uint8_t got[FRAMES * FRAME];
    ck_assert(th_peer_read_exact(&e, p[0].fd, got, sizeof(got), RT_WAIT_MS));
    for (size_t k = 0; k < sizeof(got); k++)
        ck_assert_msg(got[k] == th_pattern(p[0].base + k), "byte %zu differs", k);
    ck_assert_uint_eq(DELTA(&e, "rio_sends", sends), FRAMES);
    ck_assert_uint_eq(DELTA(&e, "rio_commits", commits), 3); /* 2 + 2 + 1 */
    ck_assert_uint_eq(th_stat(&e, "rq_full"), 0);
    ck_assert_int_eq(p[0].c->closed_count, 0);
    rt_peers_close(p, 1);
    th_stop(&e);
    rt_assert_clean();
}
END_TEST

/* Eight connections echo under load: every send is deferred, commits stay
 * below the frames echoed (several frames ride one commit), and the
 * provider counted the same sends and commits as rio.dll. */
START_TEST(test_echo_under_load_batches_and_matches_the_provider)
{
    enum { N = 8, LOAD = 384 * 1024 };
    th_env e;
    th_start(&e, NULL, 0);
    rt_provider_reset(); /* from here on both count the same calls */
    e.echo_accepted = true;
    th_listen(&e, FP_AF_INET);
    rt_peer p[N];
    rt_peers_connect(&e, p, N);
    ck_assert(rt_pump(&e, p, N, LOAD, 4 * RT_WAIT_MS));
    ck_assert_int_eq(rt_dead(p, N), 0);
    ck_assert(rt_wait_stat(&e, "pool_allocated", 0, RT_WAIT_MS)); /* every send is back */

    uint64_t frames = 0;
    for (int i = 0; i < N; i++) frames += (uint64_t)p[i].c->recv_calls;
    uint64_t sends = th_stat(&e, "rio_sends"), commits = th_stat(&e, "rio_commits");
    printf("load: %llu frames echoed, %llu RIOSends, %llu commits in %llu flushes (max %llu per flush)\n",
           (unsigned long long)frames, (unsigned long long)sends, (unsigned long long)commits,
           (unsigned long long)th_stat(&e, "commit_flushes"),
           (unsigned long long)th_stat(&e, "rio_commits_max_per_flush"));
    ck_assert_uint_eq(th_stat(&e, "rio_sends_deferred"), sends);
    ck_assert_uint_gt(commits, 0);
    ck_assert_uint_le(commits, sends);
    ck_assert_msg(commits < frames, "%llu commits for %llu frames: one commit per frame",
                  (unsigned long long)commits, (unsigned long long)frames);
    ck_assert_uint_le(th_stat(&e, "commit_flushes"), commits);
    ck_assert_uint_le(th_stat(&e, "rio_commits_max_per_flush"), N);
    if (rt_have_provider()) {
        fp_rio_provider_counters pc = rt_pc();
        ck_assert_uint_eq(pc.commits, commits);
        ck_assert_uint_eq(pc.commit_calls, commits);
        ck_assert_uint_eq(pc.sends, sends);
        ck_assert_uint_eq(pc.sends_deferred, th_stat(&e, "rio_sends_deferred"));
        ck_assert_uint_eq(pc.receives, th_stat(&e, "rio_receives"));
        ck_assert_uint_eq(pc.bytes_sent, (uint64_t)N * LOAD);
    }
    rt_peers_close(p, N);
    th_stop(&e);
    rt_assert_clean();
}
END_TEST

/* ---- faults ---- */

/* A corrupt completion queue (RIO_CORRUPT_CQ) loses its results: every
 * connection with a request queue on it is closed with an error, once;
 * the queue is made anew, and connections accepted afterwards echo. */
START_TEST(test_corrupt_cq_closes_its_connections_and_is_rebuilt)
{
    enum { N = 4, M = 3 };
    if (!rt_need_provider()) return;
    th_env e;
    th_start(&e, NULL, 0);
    e.echo_accepted = true;
    th_listen(&e, FP_AF_INET);
    rt_peer p[N + M];
    rt_peers_connect(&e, p, N);
    ck_assert(rt_pump(&e, p, N, 32 * 1024, RT_WAIT_MS));
    fp_rio_provider_counters pc = rt_pc();

    rt_inject(FP_RIO_FAULT_CORRUPT_CQ, 2);
    rt_pump(&e, p, N, 256 * 1024, RT_WAIT_MS);
    ck_assert(rt_wait_all_closed(&e, p, N, RT_WAIT_MS));
    for (int i = 0; i < 20; i++) th_step(&e, 1); /* room for a second on_closed */
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(p[i].c->closed_count, 1);
        ck_assert_int_ne(p[i].c->closed_why, FP_OK);
        ck_assert_int_eq(p[i].c->calls_after_close, 0);
    }
    ck_assert_uint_eq(rt_pc().faults_injected - pc.faults_injected, 1);
    ck_assert_uint_eq(th_stat(&e, "cq_corrupt"), 1);
    ck_assert_uint_eq(th_stat(&e, "cq_rebuilds"), 1);
    ck_assert_uint_eq(rt_pc().cq_creates - pc.cq_creates, 1);
    ck_assert_uint_eq(th_stat(&e, "cq_reserved"), 0); /* the lost queues gave their room back */

    rt_peers_connect(&e, p + N, M);
    ck_assert(rt_pump(&e, p + N, M, 128 * 1024, RT_WAIT_MS));
    ck_assert_int_eq(rt_dead(p + N, M), 0);
    /* one receive each is all that is in flight: the count survived */
    ck_assert(rt_wait_stat(&e, "requests_in_flight", M, RT_WAIT_MS));
    ck_assert_uint_eq(th_stat(&e, "cq_corrupt"), 1);
    rt_peers_close(p, N + M);
    th_stop(&e);
    rt_assert_clean();
}
END_TEST

/* One RIOReceive refused with WSAENOBUFS closes that session only
 * (rq_full counts it); the others keep echoing byte-exact. The fault is
 * armed while nothing is in flight but the receives, so the first call it
 * meets is a receive posted again after on_recv (a poll comes before the
 * flush that would post sends); the send case is the next test. */
START_TEST(test_rq_full_closes_one_session_only)
{
    enum { N = 4 };
    if (!rt_need_provider()) return;
    th_env e;
    th_start(&e, NULL, 0);
    e.echo_accepted = true;
    th_listen(&e, FP_AF_INET);
    rt_peer p[N];
    rt_peers_connect(&e, p, N);
    ck_assert(rt_pump(&e, p, N, 32 * 1024, RT_WAIT_MS));
    ck_assert(rt_wait_stat(&e, "requests_in_flight", N, RT_WAIT_MS)); /* the receives only */
    fp_rio_provider_counters pc = rt_pc();

    rt_inject(FP_RIO_FAULT_RQ_FULL, 0);
    rt_pump(&e, p, N, 128 * 1024, RT_WAIT_MS);
    ck_assert_uint_eq(rt_pc().faults_injected - pc.faults_injected, 1);
    int closed = -1;
    for (int i = 0; i < N; i++)
        if (p[i].c->closed_count) closed = i;
    ck_assert_msg(closed >= 0, "no session closed");
    ck_assert_int_eq(rt_dead(p, N), 1);
    ck_assert_int_eq(p[closed].c->closed_count, 1);
    ck_assert_int_ne(p[closed].c->closed_why, FP_OK);
    ck_assert_uint_eq(th_stat(&e, "rq_full"), 1);
    /* the others go on */
    ck_assert(rt_pump(&e, p, N, 256 * 1024, 2 * RT_WAIT_MS));
    ck_assert_int_eq(rt_dead(p, N), 1);
    for (int i = 0; i < N; i++) ck_assert_int_eq(p[i].c->closed_count, i == closed);
    ck_assert_uint_eq(th_stat(&e, "cq_reserved"), (N - 1) * 9);
    rt_peers_close(p, N);
    th_stop(&e);
    rt_assert_clean();
}
END_TEST

/* The third RIOSend of a five-send batch is refused. The failure closes
 * the socket at once, and with it (in real RIO) the request queue: the two
 * sends already posted (deferred) end aborted, and nothing may be called
 * on that queue any more - not the end-of-flush commit either. The
 * session closes once with an error, the bystander is unaffected. When
 * the provider has already seen the socket die (its receive failed on
 * another thread) strict mode aborts the run at the commit
 * ("RIOSend(...): its socket was closed"); otherwise the commit counters
 * show it. */
START_TEST(test_rq_full_in_the_middle_of_a_batch)
{
    enum { FRAMES = 5, FRAME = 40000 };
    if (!rt_need_provider()) return;
    th_env e;
    th_start(&e, NULL, 0);
    e.echo_accepted = true;
    th_listen(&e, FP_AF_INET);
    rt_peer p[2];
    rt_peers_connect(&e, p, 2);
    th_conn *a = p[0].c;
    a->echo = false;
    th_step(&e, 0);
    uint64_t commits = th_stat(&e, "rio_commits");
    uint64_t commit_calls = rt_pc().commit_calls;

    for (int f = 0; f < FRAMES; f++)
        ck_assert_int_eq(rt_send_pattern(&e, a, FRAME, p[0].base + (uint64_t)f * FRAME), FP_OK);
    rt_inject(FP_RIO_FAULT_RQ_FULL, 2);
    e.vt->flush(e.w);
    ck_assert_uint_eq(th_stat(&e, "rq_full"), 1);
    ck_assert(th_wait_closed(&e, a, RT_WAIT_MS));
    ck_assert_int_eq(a->closed_count, 1);
    ck_assert_int_ne(a->closed_why, FP_OK);
    /* The failure closed the socket at once (fpt_conn_fail -> cancel), and
     * a request queue goes with its socket in real RIO: committing the two
     * held sends on it afterwards uses a freed handle. The provider cannot
     * see it (it learns of closed sockets lazily), so count the commits. */
    ck_assert_msg(DELTA(&e, "rio_commits", commits) == 0 && rt_pc().commit_calls == commit_calls,
                  "RIOSend(RIO_MSG_COMMIT_ONLY) was issued on the failed connection's request queue "
                  "after its socket was closed");
    ck_assert(rt_pump(&e, p + 1, 1, 128 * 1024, RT_WAIT_MS));
    ck_assert_int_eq(p[1].dead, 0);
    ck_assert(rt_wait_stat(&e, "cq_reserved", 9, RT_WAIT_MS));
    rt_peers_close(p, 2);
    th_stop(&e);
    rt_assert_clean();
}
END_TEST

/* ---- completion queue growth ---- */

/* 20 request queues of rq_sends + 1 = 9 entries need 180: a CQ of 64
 * grows (RIOResizeCompletionQueue) before a queue would not fit, so no
 * connection is refused and the provider sees no reservation broken. */
START_TEST(test_cq_grows_as_connections_come)
{
    enum { N = 20 };
    const fp_kv opts[] = {{"cq_size", "64"}, {"rq_sends", "8"}};
    th_env e;
    th_start(&e, opts, 2);
    fp_rio_provider_counters pc = {0};
    if (rt_have_provider()) pc = rt_pc();
    e.echo_accepted = true;
    th_listen(&e, FP_AF_INET);
    rt_peer p[N];
    rt_peers_connect(&e, p, N);
    ck_assert(rt_pump(&e, p, N, 64 * 1024, 2 * RT_WAIT_MS));
    ck_assert_int_eq(rt_dead(p, N), 0);
    printf("cq growth: size %llu after %llu resizes\n", (unsigned long long)th_stat(&e, "cq_size"),
           (unsigned long long)th_stat(&e, "cq_resizes"));
    ck_assert_uint_ge(th_stat(&e, "cq_resizes"), 1);
    ck_assert_uint_ge(th_stat(&e, "cq_size"), N * 9);
    ck_assert_uint_eq(th_stat(&e, "cq_reserved"), N * 9);
    ck_assert_uint_eq(th_stat(&e, "cq_full_refusals"), 0);
    ck_assert_uint_eq(th_stat(&e, "rq_create_failures"), 0);
    if (rt_have_provider())
        ck_assert_uint_eq(rt_pc().cq_resizes - pc.cq_resizes, th_stat(&e, "cq_resizes"));
    rt_peers_close(p, N);
    th_stop(&e);
    rt_assert_clean();
}
END_TEST

TCase *rio_queues_tcase(void)
{
    TCase *tc = tcase_create("queues");
    tcase_add_test(tc, test_one_commit_per_dirty_queue_per_flush);
    tcase_add_test(tc, test_sends_beyond_rq_sends_wait_for_the_next_batch);
    tcase_add_test(tc, test_echo_under_load_batches_and_matches_the_provider);
    tcase_add_test(tc, test_corrupt_cq_closes_its_connections_and_is_rebuilt);
    tcase_add_test(tc, test_rq_full_closes_one_session_only);
    tcase_add_test(tc, test_cq_grows_as_connections_come);
    /* last: while rio.dll commits on a closed socket's queue, the strict
     * provider may abort the whole run here (see the test) */
    tcase_add_test(tc, test_rq_full_in_the_middle_of_a_batch);
    return tc;
}
