/* The loader's answer to a transport this platform does not have: asked
 * for another platform's transport, it names that platform and lists the
 * transports this build has; a name no platform has keeps the "not found"
 * wording. Portable: it runs on Linux and, cross-built, under Wine. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastport/engine.h"
#include "loader.h"

typedef struct elsewhere {
    const char *name;
    const char *says; /* the refusal, up to "; on this machine: " */
} elsewhere;

#ifdef _WIN32
static const elsewhere other_platforms[] = {
    {"epoll", "epoll: a Linux transport (epoll)"},
    {"uring", "uring: a Linux transport (io_uring)"},
};
#define OURS "iocp"
#else
static const elsewhere other_platforms[] = {
    {"rio", "rio: a Windows transport (Registered I/O)"},
    {"iocp", "iocp: a Windows transport (I/O completion ports)"},
};
#define OURS "epoll"
#endif
#define N_OTHER (int)(sizeof other_platforms / sizeof other_platforms[0])

static char err[1024];

static const char *transport_dir(void)
{
    const char *dir = getenv("FP_TEST_TRANSPORT_DIR");
    ck_assert_msg(dir != NULL, "FP_TEST_TRANSPORT_DIR is not set");
    return dir;
}

/* "<says>; on this machine: <what the build's transport dir holds>" */
static void expected_refusal(const elsewhere *t, char *out, size_t out_len)
{
    char here[512];
    fp_transports_available(transport_dir(), here, sizeof here);
    snprintf(out, out_len, "%s; on this machine: %s", t->says, here);
}

START_TEST(this_build_has_its_own_transports)
{
    char here[512];
    ck_assert_uint_gt(fp_transports_available(transport_dir(), here, sizeof here), 0);
    ck_assert_msg(strstr(here, OURS) != NULL, "'%s' lacks %s", here, OURS);
}
END_TEST

START_TEST(other_platforms_transport_is_named_with_its_platform_and_ours)
{
    const elsewhere *t = &other_platforms[_i];
    fp_loaded_transport lt;
    err[0] = '\0';
    ck_assert_int_eq(fp_transport_load(transport_dir(), t->name, &lt, err, sizeof err), FP_ENOTSUP);
    char expected[1024];
    expected_refusal(t, expected, sizeof expected);
    ck_assert_str_eq(err, expected);
}
END_TEST

static fp_status must_not_open(void *ctx, const fp_loaded_transport *t, char *why, size_t why_len)
{
    (void)ctx; (void)t; (void)why; (void)why_len;
    ck_abort_msg("a refused transport was opened");
    return FP_EINVAL;
}

START_TEST(selecting_another_platforms_transport_gives_the_same_line)
{
    const elsewhere *t = &other_platforms[_i];
    fp_loaded_transport lt;
    err[0] = '\0';
    ck_assert_int_eq(fp_transport_select(transport_dir(), t->name, must_not_open, NULL, &lt, err, sizeof err), FP_ENOTSUP);
    char expected[1024];
    expected_refusal(t, expected, sizeof expected);
    ck_assert_str_eq(err, expected);
}
END_TEST

START_TEST(name_no_platform_has_is_not_found_with_the_list)
{
    fp_loaded_transport lt;
    err[0] = '\0';
    ck_assert_int_eq(fp_transport_load(transport_dir(), "nosuch", &lt, err, sizeof err), FP_ENOTFOUND);
    ck_assert_msg(strstr(err, "transport 'nosuch' not found") != NULL, "message: %s", err);
    ck_assert_msg(strstr(err, "available in") != NULL && strstr(err, OURS) != NULL, "message: %s", err);
}
END_TEST

static Suite *catalog_suite(void)
{
    Suite *s = suite_create("transport_catalog");
    TCase *tc = tcase_create("refusals");
    tcase_add_test(tc, this_build_has_its_own_transports);
    tcase_add_loop_test(tc, other_platforms_transport_is_named_with_its_platform_and_ours, 0, N_OTHER);
    tcase_add_loop_test(tc, selecting_another_platforms_transport_gives_the_same_line, 0, N_OTHER);
    tcase_add_test(tc, name_no_platform_has_is_not_found_with_the_list);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(catalog_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
