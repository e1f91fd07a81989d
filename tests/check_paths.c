/* Default module directories, module listings and module file names. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fastport/engine.h"
#include "paths.h"

/* ---- default directories ---- */

/* What the directory must be, derived independently of the code under test
 * from the build-tree location ctest passes in:
 * <build>/lib/fastport/<kind>, canonical. */
static void expected_dir(const char *env_name, const char *kind, char *out, size_t len)
{
    const char *env = getenv(env_name);
    ck_assert_msg(env != NULL, "%s is not set; run this suite through ctest", env_name);
    char resolved[PATH_MAX];
    if (realpath(env, resolved)) {
        snprintf(out, len, "%s", resolved);
        return;
    }
    /* Not built yet: canonicalise the build directory instead. */
    char build[PATH_MAX];
    snprintf(build, sizeof build, "%s", env);
    for (int up = 0; up < 3; up++) {
        char *slash = strrchr(build, '/');
        ck_assert_ptr_nonnull(slash);
        *slash = '\0';
    }
    ck_assert_ptr_nonnull(realpath(build, resolved));
    int n = snprintf(out, len, "%s/lib/fastport/%s", resolved, kind);
    ck_assert(n > 0 && (size_t)n < len);
}

static void assert_canonical(const char *dir)
{
    ck_assert_ptr_nonnull(dir);
    ck_assert_int_eq(dir[0], '/');
    ck_assert_ptr_null(strstr(dir, "/../"));
    ck_assert_ptr_null(strstr(dir, "/./"));
    ck_assert_ptr_null(strstr(dir, "//"));
}

START_TEST(default_transport_dir_is_beside_bin)
{
    char expect[PATH_MAX];
    expected_dir("FP_TEST_TRANSPORT_DIR", "transports", expect, sizeof expect);
    const char *dir = fp_default_transport_dir();
    assert_canonical(dir);
    ck_assert_str_eq(dir, expect);
    ck_assert_ptr_eq(fp_default_transport_dir(), dir);
}
END_TEST

START_TEST(default_plugin_dir_is_beside_bin)
{
    char expect[PATH_MAX];
    expected_dir("FP_TEST_PLUGIN_DIR", "plugins", expect, sizeof expect);
    const char *dir = fp_default_plugin_dir();
    assert_canonical(dir);
    ck_assert_str_eq(dir, expect);
}
END_TEST

#define RACERS 4

static void *ask_dirs(void *arg)
{
    const char **answers = arg;
    answers[0] = fp_default_plugin_dir();
    answers[1] = fp_default_transport_dir();
    return NULL;
}

/* Each test runs in a fresh process, so these threads race the first,
 * computing call. */
START_TEST(default_dirs_are_computed_once_under_races)
{
    pthread_t threads[RACERS];
    const char *answers[RACERS][2];
    for (int i = 0; i < RACERS; i++)
        ck_assert_int_eq(pthread_create(&threads[i], NULL, ask_dirs, answers[i]), 0);
    for (int i = 0; i < RACERS; i++)
        ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
    for (int i = 0; i < RACERS; i++) {
        ck_assert_ptr_eq(answers[i][0], fp_default_plugin_dir());
        ck_assert_ptr_eq(answers[i][1], fp_default_transport_dir());
    }
    char expect[PATH_MAX];
    expected_dir("FP_TEST_PLUGIN_DIR", "plugins", expect, sizeof expect);
    ck_assert_str_eq(answers[0][0], expect);
}
END_TEST

/* ---- listing ---- */

static char g_dir[PATH_MAX];
static char g_empty_dir[PATH_MAX];

static void path_in(char *out, const char *dir, const char *name)
{
    int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);
    ck_assert(n > 0 && n < PATH_MAX);
}

static void touch(const char *name)
{
    char path[PATH_MAX];
    path_in(path, g_dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    close(fd);
}

static const char *const g_files[] = { "uring.so", "epoll.so", "notes.txt", "libz.so.1", ".so" };

static void make_module_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/check_paths.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(g_dir));
    for (size_t i = 0; i < sizeof g_files / sizeof g_files[0]; i++)
        touch(g_files[i]);
    char path[PATH_MAX], target[PATH_MAX];
    path_in(path, g_dir, "subdir.so"); /* a directory is not a module */
    ck_assert_int_eq(mkdir(path, 0755), 0);
    path_in(path, g_dir, "linked.so"); /* a link to a module is one */
    path_in(target, g_dir, "epoll.so");
    ck_assert_int_eq(symlink(target, path), 0);
    path_in(path, g_dir, "dangling.so");
    path_in(target, g_dir, "missing.so");
    ck_assert_int_eq(symlink(target, path), 0);
    path_in(g_empty_dir, g_dir, "subdir.so");
}

static void remove_module_dir(void)
{
    char path[PATH_MAX];
    for (size_t i = 0; i < sizeof g_files / sizeof g_files[0]; i++) {
        path_in(path, g_dir, g_files[i]);
        unlink(path);
    }
    path_in(path, g_dir, "linked.so");
    unlink(path);
    path_in(path, g_dir, "dangling.so");
    unlink(path);
    rmdir(g_empty_dir);
    rmdir(g_dir);
}

START_TEST(lists_modules_sorted)
{
    char out[256];
    ck_assert_uint_eq(fp_transports_available(g_dir, out, sizeof out), 3);
    ck_assert_str_eq(out, "epoll, linked, uring");
    ck_assert_uint_eq(fp_plugins_available(g_dir, out, sizeof out), 3);
    ck_assert_str_eq(out, "epoll, linked, uring");
}
END_TEST

START_TEST(empty_directory_says_none)
{
    char out[64];
    ck_assert_uint_eq(fp_transports_available(g_empty_dir, out, sizeof out), 0);
    ck_assert_str_eq(out, "(none)");
}
END_TEST

START_TEST(missing_directory_says_why)
{
    char out[256], expect[256];
    const char *dir = "/nonexistent/fastport-check-paths";
    ck_assert_uint_eq(fp_plugins_available(dir, out, sizeof out), 0);
    snprintf(expect, sizeof expect, "(none: cannot open %s: %s)", dir, strerror(ENOENT));
    ck_assert_str_eq(out, expect);
}
END_TEST

START_TEST(listing_truncates_but_counts_all)
{
    char out[9];
    memset(out, 'x', sizeof out);
    ck_assert_uint_eq(fp_transports_available(g_dir, out, sizeof out), 3);
    ck_assert_str_eq(out, "epoll, l");
    ck_assert_uint_eq(fp_transports_available(g_dir, NULL, 0), 3);
    char one[1] = { 'x' };
    ck_assert_uint_eq(fp_transports_available(g_dir, one, sizeof one), 3);
    ck_assert_int_eq(one[0], '\0');
}
END_TEST

/* ---- module file names ---- */

START_TEST(module_path_joins_dir_name_and_suffix)
{
    char out[64];
    ck_assert_str_eq(fp_module_suffix(), ".so");
    ck_assert_int_eq(fp_module_path(out, sizeof out, "/opt/fp/lib", "epoll"), 0);
    ck_assert_str_eq(out, "/opt/fp/lib/epoll.so");
    ck_assert_int_eq(fp_module_path(out, sizeof out, ".", "my-plugin_2"), 0);
    ck_assert_str_eq(out, "./my-plugin_2.so");
}
END_TEST

START_TEST(module_path_rejects_escaping_names)
{
    static const char *const bad[] = { "", "a/b", "/etc/passwd", "..", "../x", "a..b", "a\\b" };
    char out[64];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(fp_module_path(out, sizeof out, "/dir", bad[i]) == -1, "\"%s\" accepted", bad[i]);
    ck_assert_int_eq(fp_module_path(out, sizeof out, "/dir", NULL), -1);
    ck_assert_int_eq(fp_module_path(out, sizeof out, NULL, "epoll"), -1);
}
END_TEST

START_TEST(module_path_rejects_truncation)
{
    char out[12];
    out[0] = 'x';
    ck_assert_int_eq(fp_module_path(out, sizeof out, "/dir", "epoll"), -1); /* needs 14 bytes */
    ck_assert_int_eq(out[0], '\0');
    char exact[14];
    ck_assert_int_eq(fp_module_path(exact, sizeof exact, "/dir", "epoll"), 0);
    ck_assert_str_eq(exact, "/dir/epoll.so");
}
END_TEST

static Suite *paths_suite(void)
{
    Suite *s = suite_create("paths");
    TCase *defaults = tcase_create("defaults");
    tcase_add_test(defaults, default_transport_dir_is_beside_bin);
    tcase_add_test(defaults, default_plugin_dir_is_beside_bin);
    tcase_add_test(defaults, default_dirs_are_computed_once_under_races);
    suite_add_tcase(s, defaults);

    TCase *listing = tcase_create("listing");
    tcase_add_unchecked_fixture(listing, make_module_dir, remove_module_dir);
    tcase_add_test(listing, lists_modules_sorted);
    tcase_add_test(listing, empty_directory_says_none);
    tcase_add_test(listing, missing_directory_says_why);
    tcase_add_test(listing, listing_truncates_but_counts_all);
    suite_add_tcase(s, listing);

    TCase *names = tcase_create("names");
    tcase_add_test(names, module_path_joins_dir_name_and_suffix);
    tcase_add_test(names, module_path_rejects_escaping_names);
    tcase_add_test(names, module_path_rejects_truncation);
    suite_add_tcase(s, names);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(paths_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
