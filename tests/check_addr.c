/* "HOST:PORT" parsing and formatting. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fastport/engine.h"

static fp_addr parse_ok(const char *text)
{
    fp_addr a;
    memset(&a, 0xAB, sizeof a);
    fp_status st = fp_addr_parse(text, &a);
    ck_assert_msg(st == FP_OK, "parse(\"%s\") = %d", text, (int)st);
    return a;
}

static void assert_ipv4(const fp_addr *a, uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3, uint16_t port)
{
    static const uint8_t zero[12] = { 0 };
    ck_assert_uint_eq(a->family, FP_AF_INET);
    ck_assert_uint_eq(a->port, port);
    ck_assert_uint_eq(a->bytes[0], b0);
    ck_assert_uint_eq(a->bytes[1], b1);
    ck_assert_uint_eq(a->bytes[2], b2);
    ck_assert_uint_eq(a->bytes[3], b3);
    ck_assert_mem_eq(a->bytes + 4, zero, sizeof zero);
    ck_assert_uint_eq(a->scope_id, 0);
}

START_TEST(ipv4_numeric)
{
    fp_addr a = parse_ok("127.0.0.1:7000");
    assert_ipv4(&a, 127, 0, 0, 1, 7000);
    a = parse_ok("10.20.30.40:65535");
    assert_ipv4(&a, 10, 20, 30, 40, 65535);
}
END_TEST

START_TEST(ipv6_bracketed)
{
    fp_addr a = parse_ok("[::1]:7000");
    ck_assert_uint_eq(a.family, FP_AF_INET6);
    ck_assert_uint_eq(a.port, 7000);
    ck_assert_uint_eq(a.scope_id, 0);
    for (int i = 0; i < 15; i++)
        ck_assert_uint_eq(a.bytes[i], 0);
    ck_assert_uint_eq(a.bytes[15], 1);

    a = parse_ok("[2001:db8::5]:80");
    ck_assert_uint_eq(a.bytes[0], 0x20);
    ck_assert_uint_eq(a.bytes[1], 0x01);
    ck_assert_uint_eq(a.bytes[2], 0x0d);
    ck_assert_uint_eq(a.bytes[3], 0xb8);
    ck_assert_uint_eq(a.bytes[15], 5);

    a = parse_ok("[fe80::1%3]:9");
    ck_assert_uint_eq(a.scope_id, 3);
}
END_TEST

START_TEST(localhost_is_ipv4_loopback)
{
    fp_addr a = parse_ok("localhost:7000");
    assert_ipv4(&a, 127, 0, 0, 1, 7000);
}
END_TEST

START_TEST(wildcards_are_ipv4_any)
{
    fp_addr a = parse_ok("0.0.0.0:0");
    assert_ipv4(&a, 0, 0, 0, 0, 0);
    a = parse_ok("*:7000");
    assert_ipv4(&a, 0, 0, 0, 0, 7000);
    a = parse_ok(":7000");
    assert_ipv4(&a, 0, 0, 0, 0, 7000);
}
END_TEST

START_TEST(errors_are_einval_and_leave_out_untouched)
{
    static const char *const bad[] = {
        "127.0.0.1",        /* missing port */
        "127.0.0.1:",       /* empty port */
        "[::1]",            /* missing port */
        "[::1]:",           /* empty port */
        "127.0.0.1:65536",  /* port too large */
        "127.0.0.1:99999999999", /* port overflow */
        "127.0.0.1:70a",    /* non-numeric port */
        "127.0.0.1:-1",
        "127.0.0.1:+1",
        "127.0.0.1: 80",
        "hello",            /* garbage */
        "example.com:80",   /* names other than localhost are not resolved */
        "256.0.0.1:80",
        "1.2.3:80",
        "::1:7000",         /* IPv6 needs brackets */
        "[::1:7000",
        "[]:7000",
        "[127.0.0.1]:7000", /* brackets are for IPv6 */
        "[::1]x:7000",
        "[::1%]:7000",
        "01.2.3.4:80",      /* a leading zero (octal to some parsers) */
        "1.2.3.04:80",
        "[:::]:1",
        "[1::2::3]:1",      /* two "::" */
        "[1:2:3:4:5:6:7:8:9]:1",
        "[1:2:3:4:5:6:7]:1", /* seven groups and no "::" */
        "[12345::]:1",
        "[1:]:1",
        "[:1]:1",
        "[g::1]:1",
        "[::1.2.3]:1",
        "[::1.2.3.4.5]:1",
        "[1:2:3:4:5:6:7:1.2.3.4]:1", /* nine groups' worth */
        "[1.2.3.4::]:1",    /* the dotted quad only at the end */
        "",
        ":",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fp_addr a;
        memset(&a, 0x5A, sizeof a);
        fp_addr before = a;
        ck_assert_msg(fp_addr_parse(bad[i], &a) == FP_EINVAL, "\"%s\" was accepted", bad[i]);
        ck_assert_mem_eq(&a, &before, sizeof a);
    }
    fp_addr a;
    ck_assert_int_eq(fp_addr_parse(NULL, &a), FP_EINVAL);
    ck_assert_int_eq(fp_addr_parse("127.0.0.1:1", NULL), FP_EINVAL);
}
END_TEST

START_TEST(format_round_trips)
{
    static const char *const texts[] = {
        "127.0.0.1:7000", "[::1]:7000", "0.0.0.0:0", "[2001:db8::5]:65535", "[fe80::1%3]:9",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        fp_addr a = parse_ok(texts[i]);
        char buf[64];
        ck_assert_ptr_eq(fp_addr_format(&a, buf, sizeof buf), buf);
        ck_assert_str_eq(buf, texts[i]);
    }
}
END_TEST

/* RFC 5952: lower case, no leading zeros, the longest run of two or more
 * zero groups (the first of equals) as "::", IPv4-mapped as a dotted quad. */
START_TEST(ipv6_canonical_text)
{
    static const char *const cases[][2] = {
        {"[2001:0DB8:0:0:1:0:0:1]:1", "[2001:db8::1:0:0:1]:1"},
        {"[2001:db8:0:0:0:0:2:1]:1", "[2001:db8::2:1]:1"},
        {"[2001:db8:0:1:1:1:1:1]:1", "[2001:db8:0:1:1:1:1:1]:1"},
        {"[1:0:0:2:0:0:0:3]:1", "[1:0:0:2::3]:1"},
        {"[1:0:0:2:0:0:3:4]:1", "[1::2:0:0:3:4]:1"},
        {"[0:0:0:0:0:0:0:0]:1", "[::]:1"},
        {"[1::]:1", "[1::]:1"},
        {"[1:2:3:4:5:6:7::]:1", "[1:2:3:4:5:6:7:0]:1"},
        {"[::ffff:192.0.2.1]:1", "[::ffff:192.0.2.1]:1"},
        {"[::FFFF:c000:201]:1", "[::ffff:192.0.2.1]:1"},
        {"[64:ff9b::192.0.2.33]:1", "[64:ff9b::c000:221]:1"},
        {"[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:1", "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:1"},
        {"LocalHost:1", "127.0.0.1:1"},
        {"255.255.255.255:1", "255.255.255.255:1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fp_addr a = parse_ok(cases[i][0]);
        char buf[64];
        ck_assert_str_eq(fp_addr_format(&a, buf, sizeof buf), cases[i][1]);
    }
    fp_addr mapped = parse_ok("[::ffff:1.2.3.4]:5");
    static const uint8_t bytes[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4};
    ck_assert_mem_eq(mapped.bytes, bytes, sizeof bytes);
}
END_TEST

START_TEST(format_edge_cases)
{
    char buf[64];
    fp_addr a = parse_ok("localhost:7000");
    ck_assert_str_eq(fp_addr_format(&a, buf, sizeof buf), "127.0.0.1:7000");

    char small[6];
    ck_assert_str_eq(fp_addr_format(&a, small, sizeof small), "127.0"); /* truncated, terminated */

    fp_addr none;
    memset(&none, 0, sizeof none);
    ck_assert_str_eq(fp_addr_format(&none, buf, sizeof buf), "(no address)");
    ck_assert_str_eq(fp_addr_format(NULL, buf, sizeof buf), "(no address)");

    buf[0] = 'x';
    ck_assert_ptr_eq(fp_addr_format(&a, buf, 0), buf);
    ck_assert_int_eq(buf[0], 'x');
}
END_TEST

static Suite *addr_suite(void)
{
    Suite *s = suite_create("addr");
    TCase *parse = tcase_create("parse");
    tcase_add_test(parse, ipv4_numeric);
    tcase_add_test(parse, ipv6_bracketed);
    tcase_add_test(parse, localhost_is_ipv4_loopback);
    tcase_add_test(parse, wildcards_are_ipv4_any);
    tcase_add_test(parse, errors_are_einval_and_leave_out_untouched);
    suite_add_tcase(s, parse);

    TCase *format = tcase_create("format");
    tcase_add_test(format, format_round_trips);
    tcase_add_test(format, ipv6_canonical_text);
    tcase_add_test(format, format_edge_cases);
    suite_add_tcase(s, format);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(addr_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
