/*
 * check_uring_pool.c - the io_uring transport's own behaviour: its send
 * pool (uring_pool.c and the core's slice_pool.c compiled in, driven against
 * a real ring), and uring.so under starvation, a tiny completion queue and
 * a tiny provided-buffer ring (loaded through the transport harness).
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "transport_harness.h"
#include "uring_internal.h"

#define WAIT_MS 10000
#define KIB 1024u

/* ---- the pool, unit level ---- */

static struct io_uring ring;

static void ring_up(void) { ck_assert_int_eq(io_uring_queue_init(8, &ring, 0), 0); }
static void ring_down(void) { io_uring_queue_exit(&ring); }

/* Proves region `ri` is registered under its id: a fixed-buffer read from
 * a pipe lands in it (the kernel refuses unregistered indexes). */
static void assert_region_registered(ur_pool *p, uint32_t ri)
{
    ur_region *r = &p->regions[ri];
    ck_assert_int_eq((int)r->reg, (int)ri);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    ck_assert_int_eq(write(fds[1], "registered", 10), 10);
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    io_uring_prep_read_fixed(sqe, fds[0], r->base + 100, 10, 0, (int)r->reg);
    ck_assert_int_eq(io_uring_submit(&ring), 1);
    struct io_uring_cqe *cqe;
    ck_assert_int_eq(io_uring_wait_cqe(&ring, &cqe), 0);
    ck_assert_int_eq(cqe->res, 10);
    io_uring_cqe_seen(&ring, cqe);
    ck_assert_mem_eq(r->base + 100, "registered", 10);
    close(fds[0]);
    close(fds[1]);
}

START_TEST(test_pool_exhausts_at_its_cap_and_says_eagain)
{
    ring_up();
    ur_pool p;
    ur_pool_init(&p, &ring, 4 * KIB, 64 * KIB, 128 * KIB);
    ur_pool_attach(&p);
    ur_chunk *a, *b, *c;
    ck_assert_int_eq(fpt_slice_take(&p, 65535, &a), FP_OK);
    ck_assert_int_eq(fpt_slice_take(&p, 65536, &b), FP_OK);
    ck_assert_int_eq(fpt_slice_take(&p, 1, &c), FP_EAGAIN);
    ck_assert_uint_eq(p.n_regions, 2);
    ck_assert_uint_eq(p.allocated, 128 * KIB);
    ck_assert_uint_eq(p.high_water, 128 * KIB);
    ck_assert_uint_eq(p.exhaustions, 1);
    ck_assert_ptr_ne(a->data, b->data);
    fpt_slice_release(&p, a);
    fpt_slice_release(&p, b);
    ck_assert_uint_eq(p.allocated, 0);
    ck_assert_uint_eq(p.high_water, 128 * KIB);
    fpt_slice_pool_free(&p);
    ring_down();
}
END_TEST

START_TEST(test_pool_released_slices_are_reused)
{
    ring_up();
    ur_pool p;
    ur_pool_init(&p, &ring, 4 * KIB, 64 * KIB, 64 * KIB);
    ur_pool_attach(&p);
    ur_chunk *small[16];
    for (int i = 0; i < 16; i++) ck_assert_int_eq(fpt_slice_take(&p, 100, &small[i]), FP_OK);
    ur_chunk *extra;
    ck_assert_int_eq(fpt_slice_take(&p, 1, &extra), FP_EAGAIN);
    /* every slice is its own run: 16 distinct slices of one region */
    for (int i = 0; i < 16; i++) {
        ck_assert_uint_eq(small[i]->cap, 4 * KIB);
        for (int j = 0; j < i; j++) ck_assert_ptr_ne(small[i]->data, small[j]->data);
    }
    uint8_t *freed = small[5]->data;
    fpt_slice_release(&p, small[5]);
    ck_assert_int_eq(fpt_slice_take(&p, 4096, &extra), FP_OK);
    ck_assert_ptr_eq(extra->data, freed);
    ck_assert_uint_eq(p.n_regions, 1);
    /* a run needs contiguous slices: two freed neighbours make an 8K run */
    ur_chunk *run;
    ck_assert_int_eq(fpt_slice_take(&p, 5000, &run), FP_EAGAIN);
    fpt_slice_release(&p, small[9]);
    fpt_slice_release(&p, small[11]);
    ck_assert_int_eq(fpt_slice_take(&p, 5000, &run), FP_EAGAIN);
    fpt_slice_release(&p, small[10]);
    ck_assert_int_eq(fpt_slice_take(&p, 5000, &run), FP_OK);
    ck_assert_uint_eq(run->cap, 8 * KIB);
    fpt_slice_pool_free(&p);
    ring_down();
}
END_TEST

/* Random takes and releases on a 200-slot region (several bitmap words,
 * the last one partial) against a model: a take succeeds exactly when the
 * model has a run that long, returns the model's first such run, and no
 * two live chunks overlap. */
START_TEST(test_pool_run_search_matches_a_model)
{
    enum { SLOTS = 200 };
    ring_up();
    ur_pool p;
    ur_pool_init(&p, &ring, 512, SLOTS * 512, SLOTS * 512);
    ur_pool_attach(&p);
    bool used[SLOTS] = {0};
    ur_chunk *live[SLOTS] = {0};
    unsigned n_live = 0;
    unsigned seed = 12345;
    for (int step = 0; step < 20000; step++) {
        seed = seed * 1103515245u + 12345u;
        unsigned pick = (seed >> 16) % 100;
        if (pick < 55 || n_live == 0) {
            uint32_t want = 1 + (seed >> 8) % (pick < 5 ? 130 : 9);
            uint32_t expect = UINT32_MAX, run = 0;
            for (uint32_t i = 0; i < SLOTS && expect == UINT32_MAX; i++) {
                run = used[i] ? 0 : run + 1;
                if (run == want) expect = i + 1 - want;
            }
            ur_chunk *ch = NULL;
            fp_status st = fpt_slice_take(&p, (size_t)want * 512, &ch);
            if (expect == UINT32_MAX) {
                ck_assert_int_eq(st, FP_EAGAIN);
                continue;
            }
            ck_assert_int_eq(st, FP_OK);
            ck_assert_uint_eq(ch->first_slot, expect);
            ck_assert_uint_eq(ch->n_slots, want);
            for (uint32_t i = expect; i < expect + want; i++) {
                ck_assert(!used[i]);
                used[i] = true;
            }
            live[n_live++] = ch;
        } else {
            unsigned k = (seed >> 4) % n_live;
            ur_chunk *ch = live[k];
            for (uint32_t i = ch->first_slot; i < ch->first_slot + ch->n_slots; i++) used[i] = false;
            fpt_slice_release(&p, ch);
            live[k] = live[--n_live];
        }
    }
    while (n_live) fpt_slice_release(&p, live[--n_live]);
    ck_assert_uint_eq(p.allocated, 0);
    fpt_slice_pool_free(&p);
    ring_down();
}
END_TEST

START_TEST(test_pool_growth_registers_a_new_region_with_a_new_id)
{
    ring_up();
    ur_pool p;
    ur_pool_init(&p, &ring, 4 * KIB, 64 * KIB, 256 * KIB);
    ur_pool_attach(&p);
    ck_assert(p.registering);
    ck_assert_uint_eq(p.n_regions, 0); /* nothing mapped before the first use */
    ur_chunk *c[4];
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(fpt_slice_take(&p, 65536, &c[i]), FP_OK);
        ck_assert_uint_eq(p.n_regions, (unsigned)i + 1);
        ck_assert_uint_eq(c[i]->region, (unsigned)i);
        assert_region_registered(&p, (uint32_t)i);
    }
    ck_assert_uint_eq(p.registrations, 4);
    ur_chunk *more;
    ck_assert_int_eq(fpt_slice_take(&p, 1, &more), FP_EAGAIN);
    /* freed memory is reused before anything grows */
    fpt_slice_release(&p, c[2]);
    ck_assert_int_eq(fpt_slice_take(&p, 1, &more), FP_OK);
    ck_assert_uint_eq(more->region, 2);
    ck_assert_uint_eq(p.n_regions, 4);
    fpt_slice_pool_free(&p);
    ring_down();
}
END_TEST

/* Trimming gives the empty regions at the end of the table back, their
 * table slots first (the kernel pins registered pages), and the pool
 * grows into the same ids again; a region still in use stops it. */
START_TEST(test_pool_trim_unmaps_empty_tail_regions_and_unregisters_them)
{
    ring_up();
    ur_pool p;
    ur_pool_init(&p, &ring, 4 * KIB, 64 * KIB, 256 * KIB);
    ur_pool_attach(&p);
    ur_chunk *c[4];
    for (int i = 0; i < 4; i++) ck_assert_int_eq(fpt_slice_take(&p, 65536, &c[i]), FP_OK);
    fpt_slice_release(&p, c[1]);
    fpt_slice_release(&p, c[2]);
    ck_assert(fpt_slice_pool_trim(&p)); /* region 3 is in use: nothing goes */
    ck_assert_uint_eq(p.n_regions, 4);
    fpt_slice_release(&p, c[3]);
    ck_assert(!fpt_slice_pool_trim(&p)); /* 3, 2 and 1 go; the first stays */
    ck_assert_uint_eq(p.n_regions, 1);
    ck_assert_uint_eq(fpt_slice_pool_capacity(&p), 64 * KIB);
    /* the retired ids no longer name memory */
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    ck_assert_int_eq(write(fds[1], "x", 1), 1);
    static uint8_t scratch[16];
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    io_uring_prep_read_fixed(sqe, fds[0], scratch, 1, 0, 2);
    ck_assert_int_eq(io_uring_submit(&ring), 1);
    struct io_uring_cqe *cqe;
    ck_assert_int_eq(io_uring_wait_cqe(&ring, &cqe), 0);
    ck_assert_int_lt(cqe->res, 0);
    io_uring_cqe_seen(&ring, cqe);
    close(fds[0]);
    close(fds[1]);
    for (int i = 1; i < 4; i++) {
        ck_assert_int_eq(fpt_slice_take(&p, 65536, &c[i]), FP_OK);
        ck_assert_uint_eq(c[i]->region, (unsigned)i);
        assert_region_registered(&p, (uint32_t)i);
    }
    fpt_slice_pool_free(&p);
    ring_down();
}
END_TEST

/* ---- uring.so through the harness ---- */

static fp_status send_pattern(th_env *e, th_conn *c, size_t len, uint64_t offset)
{
    fp_span span;
    fp_status st = e->vt->tx_reserve(c->conn, len, &span);
    if (st != FP_OK) return st;
    for (size_t i = 0; i < len; i++) span.data[i] = th_pattern(offset + i);
    e->vt->tx_commit(c->conn, &span, len);
    return FP_OK;
}

START_TEST(test_connection_starved_by_exhaustion_resumes_when_slices_come_back)
{
    const fp_kv opts[] = {{"pool_max", "128K"}, {"pool_size", "64K"}, {"sndbuf", "8K"}};
    th_env e;
    th_start(&e, opts, 3);
    th_listen(&e, FP_AF_INET);
    int fa = th_peer_connect(&e.listen_addr, 4096);
    th_conn *a = th_wait_accepted(&e, 1, WAIT_MS);
    int fb = th_peer_connect(&e.listen_addr, 4096);
    th_conn *b = th_wait_accepted(&e, 2, WAIT_MS);

    uint64_t produced = 0;
    fp_status st = FP_OK;
    for (int i = 0; i < 10000 && st == FP_OK; i++) {
        st = send_pattern(&e, a, 16000, produced);
        if (st == FP_OK) produced += 16000;
        th_step(&e, 0);
    }
    ck_assert_int_eq(st, FP_EAGAIN);
    /* the other connection is starved too, and waits */
    ck_assert_int_eq(send_pattern(&e, b, 16000, 0), FP_EAGAIN);
    ck_assert_uint_ge(th_stat(&e, "pool_exhausted"), 1);
    ck_assert_msg(strstr(e.last_log, "exhausted") != NULL, "no warning logged: %s", e.last_log);

    uint8_t buf[65536];
    uint64_t consumed = 0;
    time_t deadline = time(NULL) + 30;
    while (b->writable_count == 0) {
        ck_assert_msg(time(NULL) < deadline, "the starved connection never got on_writable");
        long r = th_peer_read(fa, buf, sizeof(buf));
        ck_assert_int_ge(r, 0);
        for (long i = 0; i < r; i++) ck_assert_uint_eq(buf[i], th_pattern(consumed + (uint64_t)i));
        consumed += (uint64_t)r;
        th_step(&e, r > 0 ? 0 : 2);
    }
    ck_assert_int_eq(send_pattern(&e, b, 16000, 0), FP_OK);
    uint8_t got[16000];
    ck_assert(th_peer_read_exact(&e, fb, got, sizeof(got), WAIT_MS));
    for (size_t i = 0; i < sizeof(got); i++) ck_assert_uint_eq(got[i], th_pattern(i));
    close(fa);
    close(fb);
    th_stop(&e);
}
END_TEST

/* `n` echoing connections, each sent `bytes` of pattern; every byte must
 * come back in order on every connection. */
static void echo_many(th_env *e, int n, size_t bytes)
{
    enum { MAXC = 32 };
    ck_assert_int_le(n, MAXC);
    e->echo_accepted = true;
    th_listen(e, FP_AF_INET);
    int fds[MAXC];
    for (int i = 0; i < n; i++) fds[i] = th_peer_connect(&e->listen_addr, 0);
    th_wait_accepted(e, (size_t)n, WAIT_MS);
    uint8_t *out = malloc(bytes), *back = malloc(bytes);
    for (int i = 0; i < n; i++) {
        for (size_t k = 0; k < bytes; k++) out[k] = th_pattern((uint64_t)i * 977 + k);
        th_peer_write(e, fds[i], out, bytes);
    }
    for (int i = 0; i < n; i++) {
        for (size_t k = 0; k < bytes; k++) out[k] = th_pattern((uint64_t)i * 977 + k);
        ck_assert_msg(th_peer_read_exact(e, fds[i], back, bytes, WAIT_MS),
                      "connection %d: reply incomplete", i);
        ck_assert_msg(memcmp(out, back, bytes) == 0, "connection %d: reply differs", i);
    }
    for (int i = 0; i < n; i++) ck_assert_int_eq(e->conns[i]->closed_count, 0);
    free(out);
    free(back);
    for (int i = 0; i < n; i++) close(fds[i]);
}

START_TEST(test_tiny_completion_queue_loses_no_reply)
{
    const fp_kv opts[] = {{"sq_entries", "8"}, {"cq_entries", "8"}};
    th_env e;
    th_start(&e, opts, 2);
    echo_many(&e, 24, 48 * KIB);
    printf("tiny CQ: cq_overflow %llu, completions %llu, batch max %llu\n",
           (unsigned long long)th_stat(&e, "cq_overflow"),
           (unsigned long long)th_stat(&e, "completions"),
           (unsigned long long)th_stat(&e, "completion_batch_max"));
    ck_assert_uint_le(th_stat(&e, "completion_batch_max"), 256);
    /* the point of the test: the overflow path really ran */
    ck_assert_uint_gt(th_stat(&e, "cq_overflow"), 0);
    th_stop(&e);
}
END_TEST

START_TEST(test_tiny_buffer_ring_enobufs_loses_no_byte_and_stalls_nothing)
{
    const fp_kv opts[] = {{"recv_buf_count", "1"}, {"recv_buf_size", "512"}};
    th_env e;
    th_start(&e, opts, 2);
    echo_many(&e, 8, 64 * KIB);
    ck_assert_uint_ge(th_stat(&e, "enobufs"), 1);
    th_stop(&e);
}
END_TEST

/* Echo by lending on a 4-buffer ring: at most half the buffers are lent
 * at once, so with 16 connections receiving together some lends are
 * refused (and copied); no byte is lost and every lent buffer is back in
 * use for receiving once the sends complete. */
START_TEST(test_lending_is_capped_and_every_lent_buffer_comes_back)
{
    const fp_kv opts[] = {{"recv_buf_count", "4"}, {"recv_buf_size", "4K"}};
    th_env e;
    th_start(&e, opts, 2);
    e.lend_accepted = true;
    echo_many(&e, 16, 64 * KIB);
    for (int i = 0; i < WAIT_MS && th_stat(&e, "recv_bufs_lent") > 0; i++) th_step(&e, 1);
    printf("lending: %llu lends, %llu refused\n", (unsigned long long)th_stat(&e, "lends"),
           (unsigned long long)th_stat(&e, "lend_refused"));
    ck_assert_uint_gt(th_stat(&e, "lends"), 0);
    ck_assert_uint_gt(th_stat(&e, "lend_refused"), 0);
    ck_assert_uint_eq(th_stat(&e, "recv_bufs_lent"), 0);
    th_stop(&e);
}
END_TEST

START_TEST(test_lend_off_copies_every_byte)
{
    const fp_kv opts[] = {{"lend", "0"}};
    th_env e;
    th_start(&e, opts, 1);
    e.lend_accepted = true;
    echo_many(&e, 4, 64 * KIB);
    ck_assert_uint_eq(th_stat(&e, "lends"), 0);
    ck_assert_uint_gt(th_stat(&e, "lend_refused"), 0);
    th_stop(&e);
}
END_TEST

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *de; (de = readdir(d));) n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Peers that connect after the worker's last poll are accepted by the
 * kernel only when teardown enters the ring (DEFER_TASKRUN runs the accept
 * there): their sockets must be closed with the worker, not leaked. */
START_TEST(test_sockets_accepted_after_the_last_poll_are_closed_at_teardown)
{
    int before = open_fds();
    th_env e;
    th_start(&e, NULL, 0);
    th_listen(&e, FP_AF_INET);
    int peers[4];
    for (int i = 0; i < 4; i++) peers[i] = th_peer_connect(&e.listen_addr, 0);
    th_stop(&e);
    ck_assert_int_eq(open_fds(), before + 4); /* the peers' own sockets, nothing else */
    for (int i = 0; i < 4; i++) close(peers[i]);
    ck_assert_int_eq(open_fds(), before);
}
END_TEST

START_TEST(test_one_shot_recv_fallback_echoes_and_pauses_correctly)
{
    const fp_kv opts[] = {{"recv_multishot", "0"}, {"recv_buf_count", "2"}, {"recv_buf_size", "1K"}};
    th_env e;
    th_start(&e, opts, 3);
    echo_many(&e, 6, 40 * KIB);
    th_stop(&e);

    th_start(&e, opts, 3);
    th_listen(&e, FP_AF_INET);
    int fd = th_peer_connect(&e.listen_addr, 0);
    th_conn *c = th_wait_accepted(&e, 1, WAIT_MS);
    static uint8_t data[100000];
    for (size_t i = 0; i < sizeof(data); i++) data[i] = th_pattern(i);
    c->pause_on_recv = true;
    th_peer_write(&e, fd, data, sizeof(data));
    for (int i = 0; i < 30; i++) th_step(&e, 2);
    ck_assert_int_eq(c->recv_calls, 1);
    c->pause_on_recv = false;
    e.vt->recv_resume(c->conn);
    ck_assert(th_wait_rx(&e, c, sizeof(data), WAIT_MS));
    ck_assert_mem_eq(c->rx, data, sizeof(data));
    close(fd);
    th_stop(&e);
}
END_TEST

START_TEST(test_pool_options_are_validated_with_clear_errors)
{
    static const struct {
        fp_kv kv[2];
        size_t n;
        const char *needle;
    } cases[] = {
        {{{"slot_size", "3000"}}, 1, "slot_size"},
        {{{"slot_size", "1M"}}, 1, "slot_size"},
        {{{"pool_size", "100K"}, {"slot_size", "64K"}}, 2, "pool_size"},
        {{{"pool_size", "1M"}, {"pool_max", "512K"}}, 2, "pool_max"},
        {{{"recv_buf_count", "3"}}, 1, "recv_buf_count"},
        {{{"pool_max", "lots"}}, 1, "pool_max"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        th_env e;
        char err[512] = "";
        ck_assert_int_eq(th_try_open(&e, cases[i].kv, cases[i].n, err, sizeof(err)), FP_EINVAL);
        ck_assert_msg(strstr(err, cases[i].needle) != NULL, "case %zu: %s", i, err);
        th_stop(&e);
    }
    const fp_kv ok[] = {{"pool_size", "128K"}, {"slot_size", "2K"}, {"pool_max", "4M"}};
    th_env e;
    char err[512] = "";
    ck_assert_int_eq(th_try_open(&e, ok, 3, err, sizeof(err)), FP_OK);
    th_stop(&e);
}
END_TEST

int main(void)
{
    th_transport_name = "uring";
    Suite *s = suite_create("uring_pool");
    TCase *unit = tcase_create("pool");
    tcase_add_test(unit, test_pool_exhausts_at_its_cap_and_says_eagain);
    tcase_add_test(unit, test_pool_released_slices_are_reused);
    tcase_add_test(unit, test_pool_growth_registers_a_new_region_with_a_new_id);
    tcase_add_test(unit, test_pool_trim_unmaps_empty_tail_regions_and_unregisters_them);
    tcase_add_test(unit, test_pool_run_search_matches_a_model);
    suite_add_tcase(s, unit);
    TCase *so = tcase_create("transport");
    tcase_set_timeout(so, 120);
    tcase_add_test(so, test_connection_starved_by_exhaustion_resumes_when_slices_come_back);
    tcase_add_test(so, test_tiny_completion_queue_loses_no_reply);
    tcase_add_test(so, test_tiny_buffer_ring_enobufs_loses_no_byte_and_stalls_nothing);
    tcase_add_test(so, test_lending_is_capped_and_every_lent_buffer_comes_back);
    tcase_add_test(so, test_lend_off_copies_every_byte);
    tcase_add_test(so, test_sockets_accepted_after_the_last_poll_are_closed_at_teardown);
    tcase_add_test(so, test_one_shot_recv_fallback_echoes_and_pauses_correctly);
    tcase_add_test(so, test_pool_options_are_validated_with_clear_errors);
    suite_add_tcase(s, so);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
