/* The zlib codec against its contract: standard zlib streams both ways,
 * deflate only when it shrinks, and inflate bounded by a fixed cap whatever
 * the input claims. Reference streams are made with zlib itself. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "compress.h"
#include "fastport/plugin.h"

static uint64_t prng_state;

static uint32_t prng_next(void)
{
    prng_state ^= prng_state << 13;
    prng_state ^= prng_state >> 7;
    prng_state ^= prng_state << 17;
    return (uint32_t)(prng_state >> 32);
}

/* Random bytes drawn from `alphabet` symbols: 256 is incompressible, a
 * small alphabet compresses. */
static uint8_t *random_bytes(size_t len, unsigned alphabet)
{
    uint8_t *p = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)('a' + prng_next() % alphabet);
    return p;
}

static uint8_t *text_bytes(size_t len)
{
    static const char line[] = "FastPort frame payload, compressible and repetitive. ";
    uint8_t *p = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)line[i % (sizeof line - 1)];
    return p;
}

/* A zlib stream of `in` made by zlib with `window_bits` (15 zlib, 31 gzip,
 * -15 raw deflate). */
static uint8_t *zlib_stream(const uint8_t *in, size_t len, int window_bits, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    ck_assert_int_eq(deflateInit2(&z, 9, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, (uLong)len) + 32;
    uint8_t *out = malloc(cap);
    ck_assert_ptr_nonnull(out);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

/* `zeros` bytes of zeros deflated at the best ratio: a decompression bomb. */
static uint8_t *zeros_bomb(size_t zeros, size_t *out_len)
{
    static const uint8_t chunk[65536];
    z_stream z;
    memset(&z, 0, sizeof z);
    ck_assert_int_eq(deflateInit(&z, 9), Z_OK);
    size_t cap = zeros / 1000 + 4096;
    uint8_t *out = malloc(cap);
    ck_assert_ptr_nonnull(out);
    z.next_out = out;
    z.avail_out = (uInt)cap;
    for (size_t fed = 0; fed < zeros; fed += sizeof chunk) {
        z.next_in = (Bytef *)(uintptr_t)chunk;
        z.avail_in = sizeof chunk;
        int last = fed + sizeof chunk >= zeros;
        int zr = deflate(&z, last ? Z_FINISH : Z_NO_FLUSH);
        ck_assert_int_eq(zr, last ? Z_STREAM_END : Z_OK);
        ck_assert_uint_eq(z.avail_in, 0);
    }
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

static fp_codec *codec_new(size_t cap)
{
    fp_codec *c = fp_codec_create(cap, Z_DEFAULT_COMPRESSION);
    ck_assert_ptr_nonnull(c);
    return c;
}

static void assert_round_trip(fp_codec *c, const uint8_t *payload, size_t len)
{
    size_t cap = fp_codec_deflate_bound(len);
    uint8_t *packed = malloc(cap ? cap : 1);
    ck_assert_ptr_nonnull(packed);
    size_t packed_len = fp_codec_deflate(c, payload, len, packed, cap);
    ck_assert_uint_gt(packed_len, 0);
    ck_assert_uint_lt(packed_len, len);

    const uint8_t *out = NULL;
    size_t out_len = 0;
    ck_assert_int_eq(fp_codec_inflate(c, packed, packed_len, &out, &out_len), FP_OK);
    ck_assert_uint_eq(out_len, len);
    ck_assert(memcmp(out, payload, len) == 0);
    free(packed);
}

static void assert_inflate_rejected(fp_codec *c, const uint8_t *in, size_t len)
{
    const uint8_t *out = (const uint8_t *)"sentinel";
    size_t out_len = 12345;
    ck_assert_int_eq(fp_codec_inflate(c, in, len, &out, &out_len), FP_ECOMPRESS);
    ck_assert_ptr_null(out);
    ck_assert_uint_eq(out_len, 0);
}

START_TEST(test_round_trip_compressible_text)
{
    fp_codec *c = codec_new(FP_PAYLOAD_MAX_SIZE);
    static const size_t sizes[] = {200, 1000, 4096, FP_PAYLOAD_MAX_SIZE};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint8_t *p = text_bytes(sizes[i]);
        assert_round_trip(c, p, sizes[i]);
        free(p);
    }
    fp_codec_destroy(c);
}
END_TEST

START_TEST(test_round_trip_random_payloads)
{
    fp_codec *c = codec_new(FP_PAYLOAD_MAX_SIZE);
    prng_state = 0x2545f4914f6cdd1du;
    for (int round = 0; round < 50; round++) {
        size_t len = 200 + prng_next() % (FP_PAYLOAD_MAX_SIZE - 200 + 1);
        uint8_t *p = random_bytes(len, 4 + prng_next() % 12);
        assert_round_trip(c, p, len);
        free(p);
    }
    fp_codec_destroy(c);
}
END_TEST

START_TEST(test_empty_payload_is_not_deflated)
{
    fp_codec *c = codec_new(FP_PAYLOAD_MAX_SIZE);
    uint8_t out[64];
    ck_assert_uint_eq(fp_codec_deflate(c, out, 0, out, sizeof out), 0);
    fp_codec_destroy(c);
}
END_TEST

START_TEST(test_empty_zlib_stream_inflates_to_empty_payload)
{
    fp_codec *c = codec_new(FP_PAYLOAD_MAX_SIZE);
    size_t len;
    uint8_t *stream = zlib_stream((const uint8_t *)"", 0, 15, &len);
    const uint8_t *out = NULL;
    size_t out_len = 99;
    ck_assert_int_eq(fp_codec_inflate(c, stream, len, &out, &out_len), FP_OK);
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(out_len, 0);
    free(stream);
    fp_codec_destroy(c);
}
END_TEST

START_TEST(test_incompressible_payload_returns_0)
{
    fp_codec *c = codec_new(FP_PAYLOAD_MAX_SIZE);
    prng_state = 0x853c49e6748fea9bu;
    static const size_t sizes[] = {1, 2, 16, 1000, FP_PAYLOAD_MAX_SIZE};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint8_t *p = malloc(sizes[i]);
        ck_assert_ptr_nonnull(p);
        for (size_t b = 0; b < sizes[i]; b++)
            p[b] = (uint8_t)prng_next();
        size_t cap = fp_codec_deflate_bound(sizes[i]);
        uint8_t *packed = malloc(cap);
        ck_assert_ptr_nonnull(packed);
        ck_assert_uint_eq(fp_codec_deflate(c, p, sizes[i], packed, cap), 0);
        free(packed);
        free(p);
    }
    fp_codec_destroy(c);
}
END_TEST

START_TEST(test_deflate_to_the_same_size_returns_0)
{
    /* Find a run that zlib, with the codec's parameters, packs into exactly
     * as many bytes as it holds: no gain, so it must go plain. */
    fp_codec *c = codec_new(FP_PAYLOAD_MAX_SIZE);
    uint8_t run[64], packed[128];
    memset(run, 'a', sizeof run);
    size_t same = 0;
    for (size_t n = 2; n < sizeof run && !same; n++) {
        uLongf len = sizeof packed;
        ck_assert_int_eq(compress2(packed, &len, run, (uLong)n, Z_DEFAULT_COMPRESSION), Z_OK);
        if (len == n)
            same = n;
    }
    ck_assert_uint_gt(same, 0);
    ck_assert_uint_eq(fp_codec_deflate(c, run, same, packed, sizeof packed), 0);
    ck_assert_uint_gt(fp_codec_deflate(c, run, same + 1, packed, sizeof packed), 0);
    fp_codec_destroy(c);
}
END_TEST

START_TEST(test_deflate_that_does_not_fit_out_cap_returns_0)
{
    fp_codec *c = codec_new(FP_PAYLOAD_MAX_SIZE);
    uint8_t *p = text_bytes(4096);
    uint8_t packed[8];
    ck_assert_uint_eq(fp_codec_deflate(c, p, 4096, packed, sizeof packed), 0);
    assert_round_trip(c, p, 4096);
    free(p);
    fp_codec_destroy(c);
}
END_TEST

START_TEST(test_deflate_bound_holds_plain_payload)
{
    static const size_t sizes[] = {0, 1, 100, FP_PAYLOAD_MAX_SIZE};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        ck_assert_uint_ge(fp_codec_deflate_bound(sizes[i]), sizes[i]);
}
END_TEST

START_TEST(test_deflate_output_is_a_standard_zlib_stream)
{
    fp_codec *c = codec_new(FP_PAYLOAD_MAX_SIZE);
    uint8_t *p = text_bytes(5000);
    uint8_t packed[5000];
    size_t packed_len = fp_codec_deflate(c, p, 5000, packed, sizeof packed);
    ck_assert_uint_gt(packed_len, 0);
    /* CMF 0x78: deflate with a 32 KiB window, as RFC 1950 peers expect. */
    ck_assert_uint_eq(packed[0], 0x78);
    uint8_t plain[5000];
    uLongf plain_len = sizeof plain;
    ck_assert_int_eq(uncompress(plain, &plain_len, packed, (uLong)packed_len), Z_OK);
    ck_assert_uint_eq(plain_len, 5000);
    ck_assert(memcmp(plain, p, 5000) == 0);
    free(p);
    fp_codec_destroy(c);
}
END_TEST

START_TEST(test_deflate_is_repeatable_on_a_reused_stream)
{
    fp_codec *c = codec_new(FP_PAYLOAD_MAX_SIZE);
    uint8_t *p = text_bytes(3000);
    uint8_t first[3000], again[3000];
    size_t first_len = fp_codec_deflate(c, p, 3000, first, sizeof first);
    ck_assert_uint_gt(first_len, 0);
    for (int i = 0; i < 10; i++) {
        ck_assert_uint_eq(fp_codec_deflate(c, p, 3000, again, sizeof again), first_len);
        ck_assert(memcmp(first, again, first_len) == 0);
    }
    free(p);
    fp_codec_destroy(c);
}
END_TEST

START_TEST(test_inflate_exactly_the_cap_is_accepted)
{
    fp_codec *c = codec_new(1000);
    uint8_t *p = text_bytes(1000);
    size_t len;
    uint8_t *stream = zlib_stream(p, 1000, 15, &len);
    const uint8_t *out;
    size_t out_len;
    ck_assert_int_eq(fp_codec_inflate(c, stream, len, &out, &out_len), FP_OK);
    ck_assert_uint_eq(out_len, 1000);
    ck_assert(memcmp(out, p, 1000) == 0);
    free(stream);
    free(p);
    fp_codec_destroy(c);
}
END_TEST

START_TEST(test_inflate_one_byte_over_the_cap_is_rejected)
{
    fp_codec *c = codec_new(1000);
    uint8_t *p = text_bytes(1001);
    size_t len;
    uint8_t *stream = zlib_stream(p, 1001, 15, &len);
    assert_inflate_rejected(c, stream, len);
    free(stream);
    free(p);
    fp_codec_destroy(c);
}
END_TEST

START_TEST(test_bomb_is_rejected)
{
    fp_codec *c = codec_new(FP_PAYLOAD_MAX_SIZE);
    size_t len;
    uint8_t *bomb = zeros_bomb((size_t)56 << 20, &len);
    /* It fits in one frame, so a peer can really send it. */
    ck_assert_uint_le(len, FP_PAYLOAD_MAX_SIZE);
    assert_inflate_rejected(c, bomb, len);
    free(bomb);
    fp_codec_destroy(c);
}
END_TEST

START_TEST(test_codec_is_reusable_after_a_bomb)
{
    fp_codec *c = codec_new(FP_PAYLOAD_MAX_SIZE);
    size_t bomb_len;
    uint8_t *bomb = zeros_bomb((size_t)8 << 20, &bomb_len);
    assert_inflate_rejected(c, bomb, bomb_len);

    uint8_t *p = text_bytes(2000);
    size_t len;
    uint8_t *stream = zlib_stream(p, 2000, 15, &len);
    const uint8_t *out;
    size_t out_len;
    ck_assert_int_eq(fp_codec_inflate(c, stream, len, &out, &out_len), FP_OK);
    ck_assert_uint_eq(out_len, 2000);
    ck_assert(memcmp(out, p, 2000) == 0);
    free(stream);
    free(p);
    free(bomb);
    fp_codec_destroy(c);
}
END_TEST

START_TEST(test_codec_is_reusable_after_a_corrupt_stream)
{
    fp_codec *c = codec_new(FP_PAYLOAD_MAX_SIZE);
    uint8_t *p = text_bytes(2000);
    size_t len;
    uint8_t *stream = zlib_stream(p, 2000, 15, &len);
    stream[len / 2] ^= 0xff;
    assert_inflate_rejected(c, stream, len);
    stream[len / 2] ^= 0xff;
    const uint8_t *out;
    size_t out_len;
    ck_assert_int_eq(fp_codec_inflate(c, stream, len, &out, &out_len), FP_OK);
    ck_assert_uint_eq(out_len, 2000);
    ck_assert(memcmp(out, p, 2000) == 0);
    free(stream);
    free(p);
    fp_codec_destroy(c);
}
END_TEST

START_TEST(test_corrupt_header_is_rejected)
{
    fp_codec *c = codec_new(FP_PAYLOAD_MAX_SIZE);
    uint8_t *p = text_bytes(500);
    size_t len;
    uint8_t *stream = zlib_stream(p, 500, 15, &len);
    stream[1] ^= 0x01; /* breaks the FCHECK of the 2-byte header */
    assert_inflate_rejected(c, stream, len);
    free(stream);
    free(p);
    fp_codec_destroy(c);
}
END_TEST

START_TEST(test_corrupt_checksum_is_rejected)
{
    fp_codec *c = codec_new(FP_PAYLOAD_MAX_SIZE);
    uint8_t *p = text_bytes(500);
    size_t len;
    uint8_t *stream = zlib_stream(p, 500, 15, &len);
    stream[len - 1] ^= 0x01; /* last byte of the Adler-32 trailer */
    assert_inflate_rejected(c, stream, len);
    free(stream);
    free(p);
    fp_codec_destroy(c);
}
END_TEST

START_TEST(test_corrupt_body_is_rejected_at_every_byte)
{
    fp_codec *c = codec_new(FP_PAYLOAD_MAX_SIZE);
    prng_state = 0xda942042e4dd58b5u;
    uint8_t *p = random_bytes(3000, 8);
    size_t len;
    uint8_t *stream = zlib_stream(p, 3000, 15, &len);
    for (size_t i = 2; i < len; i++) {
        stream[i] ^= 0xff;
        assert_inflate_rejected(c, stream, len);
        stream[i] ^= 0xff;
    }
    free(stream);
    free(p);
    fp_codec_destroy(c);
}
END_TEST

START_TEST(test_truncated_stream_is_rejected)
{
    fp_codec *c = codec_new(FP_PAYLOAD_MAX_SIZE);
    uint8_t *p = text_bytes(3000);
    size_t len;
    uint8_t *stream = zlib_stream(p, 3000, 15, &len);
    for (size_t cut = 0; cut < len; cut++)
        assert_inflate_rejected(c, stream, cut);
    free(stream);
    free(p);
    fp_codec_destroy(c);
}
END_TEST

START_TEST(test_trailing_bytes_after_stream_end_are_rejected)
{
    fp_codec *c = codec_new(FP_PAYLOAD_MAX_SIZE);
    uint8_t *p = text_bytes(500);
    size_t len;
    uint8_t *stream = zlib_stream(p, 500, 15, &len);
    uint8_t *padded = malloc(len + 1);
    ck_assert_ptr_nonnull(padded);
    memcpy(padded, stream, len);
    padded[len] = 0x00;
    assert_inflate_rejected(c, padded, len + 1);
    free(padded);
    free(stream);
    free(p);
    fp_codec_destroy(c);
}
END_TEST

START_TEST(test_gzip_and_raw_deflate_streams_are_rejected)
{
    fp_codec *c = codec_new(FP_PAYLOAD_MAX_SIZE);
    uint8_t *p = text_bytes(500);
    size_t len;
    uint8_t *gzip = zlib_stream(p, 500, 31, &len);
    assert_inflate_rejected(c, gzip, len);
    free(gzip);
    uint8_t *raw = zlib_stream(p, 500, -15, &len);
    assert_inflate_rejected(c, raw, len);
    free(raw);
    free(p);
    fp_codec_destroy(c);
}
END_TEST

START_TEST(test_preset_dictionary_stream_is_rejected)
{
    static const uint8_t dict[] = "FastPort frame payload";
    uint8_t *p = text_bytes(500);
    z_stream z;
    memset(&z, 0, sizeof z);
    ck_assert_int_eq(deflateInit(&z, 9), Z_OK);
    ck_assert_int_eq(deflateSetDictionary(&z, dict, sizeof dict - 1), Z_OK);
    uint8_t stream[1024];
    z.next_in = p;
    z.avail_in = 500;
    z.next_out = stream;
    z.avail_out = sizeof stream;
    ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t len = sizeof stream - z.avail_out;
    deflateEnd(&z);

    fp_codec *c = codec_new(FP_PAYLOAD_MAX_SIZE);
    assert_inflate_rejected(c, stream, len);
    free(p);
    fp_codec_destroy(c);
}
END_TEST

START_TEST(test_empty_input_is_rejected)
{
    fp_codec *c = codec_new(FP_PAYLOAD_MAX_SIZE);
    uint8_t none[1] = {0};
    assert_inflate_rejected(c, none, 0);
    fp_codec_destroy(c);
}
END_TEST

START_TEST(test_create_rejects_an_invalid_level)
{
    ck_assert_ptr_null(fp_codec_create(FP_PAYLOAD_MAX_SIZE, 10));
    ck_assert_ptr_null(fp_codec_create(FP_PAYLOAD_MAX_SIZE, -2));
    fp_codec *c = fp_codec_create(FP_PAYLOAD_MAX_SIZE, 1);
    ck_assert_ptr_nonnull(c);
    fp_codec_destroy(c);
    fp_codec_destroy(NULL);
}
END_TEST

static Suite *compress_suite(void)
{
    Suite *s = suite_create("compress");
    TCase *deflate_tc = tcase_create("deflate");
    tcase_add_test(deflate_tc, test_round_trip_compressible_text);
    tcase_add_test(deflate_tc, test_round_trip_random_payloads);
    tcase_add_test(deflate_tc, test_empty_payload_is_not_deflated);
    tcase_add_test(deflate_tc, test_incompressible_payload_returns_0);
    tcase_add_test(deflate_tc, test_deflate_to_the_same_size_returns_0);
    tcase_add_test(deflate_tc, test_deflate_that_does_not_fit_out_cap_returns_0);
    tcase_add_test(deflate_tc, test_deflate_bound_holds_plain_payload);
    tcase_add_test(deflate_tc, test_deflate_output_is_a_standard_zlib_stream);
    tcase_add_test(deflate_tc, test_deflate_is_repeatable_on_a_reused_stream);
    tcase_add_test(deflate_tc, test_create_rejects_an_invalid_level);
    suite_add_tcase(s, deflate_tc);

    TCase *inflate_tc = tcase_create("inflate");
    tcase_set_timeout(inflate_tc, 120);
    tcase_add_test(inflate_tc, test_empty_zlib_stream_inflates_to_empty_payload);
    tcase_add_test(inflate_tc, test_inflate_exactly_the_cap_is_accepted);
    tcase_add_test(inflate_tc, test_inflate_one_byte_over_the_cap_is_rejected);
    tcase_add_test(inflate_tc, test_bomb_is_rejected);
    tcase_add_test(inflate_tc, test_codec_is_reusable_after_a_bomb);
    tcase_add_test(inflate_tc, test_codec_is_reusable_after_a_corrupt_stream);
    tcase_add_test(inflate_tc, test_corrupt_header_is_rejected);
    tcase_add_test(inflate_tc, test_corrupt_checksum_is_rejected);
    tcase_add_test(inflate_tc, test_corrupt_body_is_rejected_at_every_byte);
    tcase_add_test(inflate_tc, test_truncated_stream_is_rejected);
    tcase_add_test(inflate_tc, test_trailing_bytes_after_stream_end_are_rejected);
    tcase_add_test(inflate_tc, test_gzip_and_raw_deflate_streams_are_rejected);
    tcase_add_test(inflate_tc, test_preset_dictionary_stream_is_rejected);
    tcase_add_test(inflate_tc, test_empty_input_is_rejected);
    suite_add_tcase(s, inflate_tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(compress_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
