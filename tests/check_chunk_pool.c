/*
 * check_chunk_pool.c - the malloc'd send pool (transports/common/
 * chunk_pool.c): its cap, and trimming, which frees what a burst left in
 * the cache and keeps what steady traffic cycles through.
 */
#include <check.h>

#include "chunk_pool.h"

#define KIB 1024u

static void take_n(fpt_chunk_pool *p, fpt_chunk **c, int n)
{
    for (int i = 0; i < n; i++) ck_assert_int_eq(fpt_chunk_pool_take(p, 64 * KIB, 64 * KIB, &c[i]), FP_OK);
}

static void give_n(fpt_chunk_pool *p, fpt_chunk **c, int n)
{
    for (int i = 0; i < n; i++) fpt_chunk_pool_give_back(p, c[i]);
}

START_TEST(a_burst_left_in_the_cache_is_freed_by_the_second_trim)
{
    fpt_chunk_pool p;
    fpt_chunk_pool_init(&p, 8u << 20);
    fpt_chunk *c[16];
    take_n(&p, c, 16);
    give_n(&p, c, 16);
    ck_assert_uint_eq(p.cached, 16 * 64 * KIB);
    /* the first trim only notes what is cached: it may be about to be used */
    ck_assert(fpt_chunk_pool_trim(&p));
    ck_assert_uint_eq(p.cached, 16 * 64 * KIB);
    /* nothing was taken since: all of it sat unused */
    ck_assert(!fpt_chunk_pool_trim(&p));
    ck_assert_uint_eq(p.cached, 0);
    fpt_chunk_pool_free_cache(&p);
}
END_TEST

START_TEST(what_steady_traffic_cycles_through_stays_cached)
{
    fpt_chunk_pool p;
    fpt_chunk_pool_init(&p, 8u << 20);
    fpt_chunk *c[16];
    take_n(&p, c, 16);
    give_n(&p, c, 16);
    fpt_chunk_pool_trim(&p);
    for (int round = 0; round < 3; round++) {
        take_n(&p, c, 4); /* four chunks in use between trims */
        give_n(&p, c, 4);
        fpt_chunk_pool_trim(&p);
    }
    ck_assert_uint_eq(p.cached, 4 * 64 * KIB);
    ck_assert_uint_eq(p.used, 0);
    fpt_chunk_pool_free_cache(&p);
}
END_TEST

START_TEST(the_cap_holds_and_chunks_in_use_are_never_trimmed)
{
    fpt_chunk_pool p;
    fpt_chunk_pool_init(&p, 4 * 64 * KIB);
    fpt_chunk *c[5];
    take_n(&p, c, 4);
    ck_assert_int_eq(fpt_chunk_pool_take(&p, 64 * KIB, 64 * KIB, &c[4]), FP_EAGAIN);
    fpt_chunk_pool_trim(&p);
    fpt_chunk_pool_trim(&p);
    ck_assert_uint_eq(p.used, 4 * 64 * KIB);
    for (int i = 0; i < 4; i++) c[i]->data[65535] = (uint8_t)i; /* still ours: ASan would object */
    give_n(&p, c, 4);
    fpt_chunk_pool_free_cache(&p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("chunk_pool");
    TCase *t = tcase_create("trim");
    tcase_add_test(t, a_burst_left_in_the_cache_is_freed_by_the_second_trim);
    tcase_add_test(t, what_steady_traffic_cycles_through_stays_cached);
    tcase_add_test(t, the_cap_holds_and_chunks_in_use_are_never_trimmed);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
