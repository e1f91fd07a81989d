/* The loader refuses every malformed library with one line naming the
 * file and the reason, and accepts a good one. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fastport/engine.h"
#include "loader.h"

#define PLUGINS FP_FIXTURE_DIR "/plugins"
#define TRANSPORTS FP_FIXTURE_DIR "/transports"

static char err[1024];

static fp_status load_plugin(const char *name)
{
    fp_loaded_plugin p;
    err[0] = '\0';
    fp_status st = fp_plugin_load(PLUGINS, name, &p, err, sizeof err);
    if (st == FP_OK)
        fp_plugin_unload(&p);
    return st;
}

static fp_status load_transport(const char *name)
{
    fp_loaded_transport t;
    err[0] = '\0';
    fp_status st = fp_transport_load(TRANSPORTS, name, &t, err, sizeof err);
    if (st == FP_OK)
        fp_transport_unload(&t);
    return st;
}

#define ck_assert_err_has(needle) \
    ck_assert_msg(strstr(err, needle) != NULL, "message '%s' lacks '%s'", err, needle)

START_TEST(good_plugin_loads)
{
    ck_assert_int_eq(load_plugin("good"), FP_OK);
}
END_TEST

START_TEST(plugin_with_other_major_is_refused_naming_both_versions)
{
    ck_assert_int_eq(load_plugin("major"), FP_EABI);
    ck_assert_err_has("major.so");
    char found[64], ours[64];
    snprintf(found, sizeof found, "plugin ABI %d.0", FP_PLUGIN_ABI_MAJOR + 1);
    snprintf(ours, sizeof ours, "speaks %d.%d", FP_PLUGIN_ABI_MAJOR, FP_PLUGIN_ABI_MINOR);
    ck_assert_err_has(found);
    ck_assert_err_has(ours);
}
END_TEST

START_TEST(plugin_needing_newer_minor_is_refused)
{
    ck_assert_int_eq(load_plugin("minor"), FP_EABI);
    ck_assert_err_has("minor.so");
    char needs[64];
    snprintf(needs, sizeof needs, "needs plugin ABI %d.%d", FP_PLUGIN_ABI_MAJOR, FP_PLUGIN_ABI_MINOR + 1);
    ck_assert_err_has(needs);
}
END_TEST

START_TEST(plugin_descriptor_too_small_is_refused)
{
    ck_assert_int_eq(load_plugin("small"), FP_EABI);
    ck_assert_err_has("small.so");
    ck_assert_err_has("16 bytes");
}
END_TEST

START_TEST(plugin_without_entry_symbol_is_refused)
{
    ck_assert_int_eq(load_plugin("noentry"), FP_EABI);
    ck_assert_err_has("noentry.so");
    ck_assert_err_has("no symbol fp_plugin_entry");
}
END_TEST

START_TEST(missing_plugin_lists_available_ones)
{
    ck_assert_int_eq(load_plugin("nosuch"), FP_ENOTFOUND);
    ck_assert_err_has("nosuch");
    ck_assert_err_has("good");
}
END_TEST

START_TEST(plugin_name_escaping_the_directory_is_refused)
{
    ck_assert_int_ne(load_plugin("../plugins/good"), FP_OK);
    ck_assert_err_has("invalid plugin name");
}
END_TEST

START_TEST(symlink_leaving_the_directory_is_refused)
{
    char dir[] = "/tmp/fp-loader-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char link[256];
    snprintf(link, sizeof link, "%s/good.so", dir);
    ck_assert_int_eq(symlink(PLUGINS "/good.so", link), 0);
    fp_loaded_plugin p;
    fp_status st = fp_plugin_load(dir, "good", &p, err, sizeof err);
    unlink(link);
    rmdir(dir);
    ck_assert_int_eq(st, FP_EINVAL);
    ck_assert_err_has("outside");
}
END_TEST

START_TEST(transport_with_other_major_is_refused_naming_both_versions)
{
    ck_assert_int_eq(load_transport("major"), FP_EABI);
    ck_assert_err_has("major.so");
    char found[64], ours[64];
    snprintf(found, sizeof found, "transport ABI %d.0", FP_TRANSPORT_ABI_MAJOR + 1);
    snprintf(ours, sizeof ours, "speaks %d.%d", FP_TRANSPORT_ABI_MAJOR, FP_TRANSPORT_ABI_MINOR);
    ck_assert_err_has(found);
    ck_assert_err_has(ours);
}
END_TEST

START_TEST(transport_table_too_small_is_refused)
{
    ck_assert_int_eq(load_transport("small"), FP_EABI);
    ck_assert_err_has("small.so");
    ck_assert_err_has("24 bytes");
}
END_TEST

START_TEST(transport_calling_itself_another_name_is_refused)
{
    ck_assert_int_eq(load_transport("misnamed"), FP_EABI);
    ck_assert_err_has("calls itself 'somethingelse'");
}
END_TEST

START_TEST(transport_without_methods_is_refused)
{
    /* the "good" plugin fixture is no transport: no fp_transport_entry */
    fp_loaded_transport t;
    fp_status st = fp_transport_load(PLUGINS, "good", &t, err, sizeof err);
    ck_assert_int_eq(st, FP_EABI);
    ck_assert_err_has("no symbol fp_transport_entry");
}
END_TEST

START_TEST(missing_transport_lists_available_ones)
{
    ck_assert_int_eq(load_transport("nosuch"), FP_ENOTFOUND);
    ck_assert_err_has("transport 'nosuch' not found");
    ck_assert_err_has("major");
}
END_TEST

START_TEST(other_platforms_transport_names_its_platform_and_lists_the_directory)
{
    ck_assert_int_eq(load_transport("iocp"), FP_ENOTSUP);
    char here[512], expected[1024];
    fp_transports_available(TRANSPORTS, here, sizeof here);
    ck_assert_msg(strstr(here, "major") != NULL, "'%s' lacks the fixtures", here);
    snprintf(expected, sizeof expected,
             "iocp: a Windows transport (I/O completion ports); on this machine: %s", here);
    ck_assert_str_eq(err, expected);
}
END_TEST

START_TEST(file_named_like_another_platforms_transport_is_loaded_as_usual)
{
    ck_assert_int_eq(load_transport("rio"), FP_EABI);
    ck_assert_err_has("rio.so: transport table lacks a required ABI");
}
END_TEST

static fp_engine *create_with_plugins(const char *const *names, size_t n)
{
    fp_engine_config cfg;
    fp_engine_config_init(&cfg);
    cfg.transport = "epoll";
    cfg.transport_dir = getenv("FP_TEST_TRANSPORT_DIR");
    cfg.plugin_dir = PLUGINS;
    cfg.plugins = names;
    cfg.n_plugins = n;
    cfg.workers = 1;
    cfg.log_level = FP_LOG_ERROR;
    err[0] = '\0';
    return fp_engine_create(&cfg, err, sizeof err);
}

START_TEST(duplicate_packet_id_is_refused_naming_both_plugins)
{
    const char *names[] = {"good", "good_twin"};
    fp_engine *e = create_with_plugins(names, 2);
    ck_assert_ptr_null(e);
    ck_assert_err_has("good_twin");
    ck_assert_err_has("0x0001");
    ck_assert_err_has("already handled by plugin good");
}
END_TEST

START_TEST(failing_plugin_init_is_reported_with_its_reason)
{
    const char *names[] = {"initfails"};
    fp_engine *e = create_with_plugins(names, 1);
    ck_assert_ptr_null(e);
    ck_assert_err_has("initfails");
    ck_assert_err_has("fixture refuses to start");
}
END_TEST

START_TEST(engine_with_good_plugin_and_real_transport_is_created)
{
    const char *names[] = {"good"};
    fp_engine *e = create_with_plugins(names, 1);
    ck_assert_msg(e != NULL, "create failed: %s", err);
    ck_assert_str_eq(fp_engine_transport_name(e), "epoll");
    fp_engine_destroy(e);
}
END_TEST

#ifdef FP_FALLBACK_DIR
static char logged[4096];

static void keep_log(void *ctx, fp_log_level level, const char *msg)
{
    (void)ctx; (void)level;
    size_t used = strlen(logged);
    snprintf(logged + used, sizeof logged - used, "%s\n", msg);
}

/* FP_FALLBACK_DIR holds FP_FALLBACK_FIRST, which loads and probes but never
 * opens, and a copy of the real FP_FALLBACK_SECOND. */
static fp_engine *create_in_fallback_dir(const char *transport)
{
    static const char *const names[] = {"good"};
    fp_engine_config cfg;
    fp_engine_config_init(&cfg);
    cfg.transport = transport;
    cfg.transport_dir = FP_FALLBACK_DIR;
    cfg.plugin_dir = PLUGINS;
    cfg.plugins = names;
    cfg.n_plugins = 1;
    cfg.workers = 1;
    cfg.log_level = FP_LOG_INFO;
    cfg.log_sink = keep_log;
    err[0] = logged[0] = '\0';
    return fp_engine_create(&cfg, err, sizeof err);
}

START_TEST(default_order_passes_over_a_transport_that_cannot_open)
{
    unsetenv("FP_TRANSPORT");
    fp_engine *e = create_in_fallback_dir(NULL);
    ck_assert_msg(e != NULL, "the next transport in the order was not tried: %s", err);
    ck_assert_str_eq(fp_engine_transport_name(e), FP_FALLBACK_SECOND);
    ck_assert_msg(strstr(logged, "transport: " FP_FALLBACK_SECOND " chosen by default order") != NULL, "%s",
                  logged);
    ck_assert_msg(strstr(logged, FP_FALLBACK_FIRST " unavailable: transport " FP_FALLBACK_FIRST) != NULL, "%s",
                  logged);
    ck_assert_msg(strstr(logged, "this fixture's open always fails") != NULL, "%s", logged);
    fp_engine_destroy(e);
}
END_TEST

START_TEST(a_named_transport_that_cannot_open_fails_hard)
{
    unsetenv("FP_TRANSPORT");
    ck_assert_ptr_null(create_in_fallback_dir(FP_FALLBACK_FIRST));
    ck_assert_err_has("this fixture's open always fails");
    setenv("FP_TRANSPORT", FP_FALLBACK_FIRST, 1);
    ck_assert_ptr_null(create_in_fallback_dir(NULL));
    ck_assert_err_has("this fixture's open always fails");
    unsetenv("FP_TRANSPORT");
}
END_TEST
#endif

static Suite *loader_suite(void)
{
    Suite *s = suite_create("loader");
    TCase *p = tcase_create("plugins");
    tcase_add_test(p, good_plugin_loads);
    tcase_add_test(p, plugin_with_other_major_is_refused_naming_both_versions);
    tcase_add_test(p, plugin_needing_newer_minor_is_refused);
    tcase_add_test(p, plugin_descriptor_too_small_is_refused);
    tcase_add_test(p, plugin_without_entry_symbol_is_refused);
    tcase_add_test(p, missing_plugin_lists_available_ones);
    tcase_add_test(p, plugin_name_escaping_the_directory_is_refused);
    tcase_add_test(p, symlink_leaving_the_directory_is_refused);
    suite_add_tcase(s, p);
    TCase *t = tcase_create("transports");
    tcase_add_test(t, transport_with_other_major_is_refused_naming_both_versions);
    tcase_add_test(t, transport_table_too_small_is_refused);
    tcase_add_test(t, transport_calling_itself_another_name_is_refused);
    tcase_add_test(t, transport_without_methods_is_refused);
    tcase_add_test(t, missing_transport_lists_available_ones);
    tcase_add_test(t, other_platforms_transport_names_its_platform_and_lists_the_directory);
    tcase_add_test(t, file_named_like_another_platforms_transport_is_loaded_as_usual);
    suite_add_tcase(s, t);
    TCase *e = tcase_create("engine");
    tcase_add_test(e, duplicate_packet_id_is_refused_naming_both_plugins);
    tcase_add_test(e, failing_plugin_init_is_reported_with_its_reason);
    tcase_add_test(e, engine_with_good_plugin_and_real_transport_is_created);
#ifdef FP_FALLBACK_DIR
    tcase_add_test(e, default_order_passes_over_a_transport_that_cannot_open);
    tcase_add_test(e, a_named_transport_that_cannot_open_fails_hard);
#endif
    suite_add_tcase(s, e);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(loader_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
