/* The framer against its contract: same frames whatever the feed split,
 * in-place parsing, no receive memory at rest, and strict size checks. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fastport/plugin.h"
#include "framer.h"

#define STREAM_FRAMES 6
static const size_t stream_payload_sizes[STREAM_FRAMES] = {0, 1, 3, 4, 100, FP_PAYLOAD_MAX_SIZE};

typedef struct expected_frame {
    uint16_t id;
    const uint8_t *payload;
    size_t len;
} expected_frame;

/* A stream of frames and what the framer must dispatch from it. */
typedef struct test_stream {
    uint8_t *bytes;
    size_t len;
    expected_frame frames[STREAM_FRAMES];
    size_t count;
} test_stream;

/* Checks each dispatched frame against the expected sequence as it comes,
 * so a mismatch names the frame. */
typedef struct checker {
    const test_stream *stream;
    size_t next;
    fp_framer *framer;
    fp_status stop_at_status;
    size_t stop_at_index; /* return stop_at_status for this frame index */
    int reset_on_stop;
} checker;

static uint64_t prng_state;

static uint32_t prng_next(void)
{
    /* xorshift64: reproducible across libcs, unlike rand(). */
    prng_state ^= prng_state << 13;
    prng_state ^= prng_state >> 7;
    prng_state ^= prng_state << 17;
    return (uint32_t)(prng_state >> 32);
}

static size_t put_frame(uint8_t *out, uint16_t id, const uint8_t *payload, size_t len)
{
    fp_frame_header_write(out, (uint16_t)(len + FP_FRAME_HEADER_SIZE), id);
    if (len)
        memcpy(out + FP_FRAME_HEADER_SIZE, payload, len);
    return len + FP_FRAME_HEADER_SIZE;
}

static void stream_build(test_stream *s)
{
    size_t total = 0;
    for (size_t i = 0; i < STREAM_FRAMES; i++)
        total += stream_payload_sizes[i] + FP_FRAME_HEADER_SIZE;
    s->bytes = malloc(total);
    ck_assert_ptr_nonnull(s->bytes);
    s->len = 0;
    s->count = STREAM_FRAMES;
    for (size_t i = 0; i < STREAM_FRAMES; i++) {
        size_t len = stream_payload_sizes[i];
        uint8_t *frame = s->bytes + s->len;
        uint16_t id = (uint16_t)(0x0101u * (i + 1));
        fp_frame_header_write(frame, (uint16_t)(len + FP_FRAME_HEADER_SIZE), id);
        for (size_t b = 0; b < len; b++)
            frame[FP_FRAME_HEADER_SIZE + b] = (uint8_t)(b * 7 + i);
        s->frames[i] = (expected_frame){id, frame + FP_FRAME_HEADER_SIZE, len};
        s->len += len + FP_FRAME_HEADER_SIZE;
    }
}

static fp_status check_frame(void *ctx, uint16_t wire_id, const uint8_t *payload, size_t len)
{
    /* Plain ifs: a passing ck_assert costs a message to the parent process,
     * and this runs hundreds of thousands of times. */
    checker *c = ctx;
    if (c->next >= c->stream->count)
        ck_abort_msg("extra frame id 0x%04x len %zu", (unsigned)wire_id, len);
    const expected_frame *want = &c->stream->frames[c->next];
    int same = wire_id == want->id && len == want->len &&
               (len == 0 || memcmp(payload, want->payload, len) == 0);
    if (!same)
        ck_abort_msg("frame %zu: got id 0x%04x len %zu, want id 0x%04x len %zu", c->next,
                     (unsigned)wire_id, len, (unsigned)want->id, want->len);
    size_t index = c->next++;
    if (c->stop_at_status != FP_OK && index == c->stop_at_index) {
        if (c->reset_on_stop)
            fp_framer_reset(c->framer);
        return c->stop_at_status;
    }
    return FP_OK;
}

static void checker_init(checker *c, const test_stream *s, fp_framer *f)
{
    memset(c, 0, sizeof *c);
    c->stream = s;
    c->framer = f;
}

/* Feed with the wire's own limit as the configured maximum. */
static fp_status feed(fp_framer *f, const uint8_t *data, size_t len, fp_frame_fn fn, void *ctx)
{
    return fp_framer_feed(f, data, len, FP_FRAME_MAX_SIZE, fn, ctx);
}

static void feed_ok(fp_framer *f, const uint8_t *data, size_t len, checker *c)
{
    fp_status st = fp_framer_feed(f, data, len, FP_FRAME_MAX_SIZE, check_frame, c);
    if (st != FP_OK)
        ck_abort_msg("feed of %zu bytes: %s", len, fp_strerror(st));
}

static void assert_all_dispatched_and_idle(const fp_framer *f, const checker *c)
{
    if (c->next != c->stream->count || fp_framer_pending(f) || f->partial)
        ck_abort_msg("%zu of %zu frames dispatched, pending %d, partial %p", c->next,
                     c->stream->count, fp_framer_pending(f), (void *)f->partial);
}

START_TEST(test_every_split_point_dispatches_same_frames)
{
    test_stream s;
    stream_build(&s);
    for (size_t split = 0; split <= s.len; split++) {
        fp_framer f;
        checker c;
        fp_framer_init(&f);
        checker_init(&c, &s, &f);
        feed_ok(&f, s.bytes, split, &c);
        feed_ok(&f, s.bytes + split, s.len - split, &c);
        assert_all_dispatched_and_idle(&f, &c);
    }
    free(s.bytes);
}
END_TEST

START_TEST(test_random_chunks_dispatch_same_frames)
{
    test_stream s;
    stream_build(&s);
    prng_state = 0x9e3779b97f4a7c15u;
    for (int round = 0; round < 200; round++) {
        fp_framer f;
        checker c;
        fp_framer_init(&f);
        checker_init(&c, &s, &f);
        /* Mix tiny chunks (split headers) with large ones (whole frames). */
        size_t max_chunk = (round % 2) ? 9 : 20000;
        for (size_t pos = 0; pos < s.len;) {
            size_t chunk = 1 + prng_next() % max_chunk;
            if (chunk > s.len - pos)
                chunk = s.len - pos;
            feed_ok(&f, s.bytes + pos, chunk, &c);
            pos += chunk;
        }
        assert_all_dispatched_and_idle(&f, &c);
    }
    free(s.bytes);
}
END_TEST

START_TEST(test_one_byte_at_a_time_dispatches_same_frames)
{
    test_stream s;
    stream_build(&s);
    fp_framer f;
    checker c;
    fp_framer_init(&f);
    checker_init(&c, &s, &f);
    for (size_t pos = 0; pos < s.len; pos++)
        feed_ok(&f, s.bytes + pos, 1, &c);
    assert_all_dispatched_and_idle(&f, &c);
    free(s.bytes);
}
END_TEST

/* Records one dispatch: where the payload was and whether the framer still
 * held a partial buffer at that moment. */
typedef struct one_frame {
    int calls;
    uint16_t id;
    const uint8_t *payload;
    size_t len;
    const fp_framer *framer;
    int partial_during_call;
} one_frame;

static fp_status record_frame(void *ctx, uint16_t wire_id, const uint8_t *payload, size_t len)
{
    one_frame *r = ctx;
    r->calls++;
    r->id = wire_id;
    r->payload = payload;
    r->len = len;
    r->partial_during_call = r->framer && r->framer->partial != NULL;
    return FP_OK;
}

START_TEST(test_whole_frame_is_parsed_in_place)
{
    uint8_t buf[4 + 5];
    put_frame(buf, 0x0042, (const uint8_t *)"hello", 5);
    fp_framer f;
    fp_framer_init(&f);
    one_frame r = {.framer = &f};
    ck_assert_int_eq(feed(&f, buf, sizeof buf, record_frame, &r), FP_OK);
    ck_assert_int_eq(r.calls, 1);
    ck_assert_uint_eq(r.id, 0x0042);
    ck_assert_ptr_eq(r.payload, buf + 4);
    ck_assert_uint_eq(r.len, 5);
    ck_assert(!r.partial_during_call);
}
END_TEST

START_TEST(test_zero_length_payload_is_dispatched)
{
    uint8_t buf[4];
    put_frame(buf, 0x0007, NULL, 0);
    fp_framer f;
    fp_framer_init(&f);
    one_frame r = {.framer = &f};
    ck_assert_int_eq(feed(&f, buf, sizeof buf, record_frame, &r), FP_OK);
    ck_assert_int_eq(r.calls, 1);
    ck_assert_uint_eq(r.id, 0x0007);
    ck_assert_uint_eq(r.len, 0);
    ck_assert(!fp_framer_pending(&f));
}
END_TEST

START_TEST(test_compressed_bit_is_passed_through)
{
    uint8_t buf[4 + 1];
    put_frame(buf, 0x0001 | FP_PACKET_COMPRESSED_BIT, (const uint8_t *)"x", 1);
    fp_framer f;
    fp_framer_init(&f);
    one_frame r = {0};
    ck_assert_int_eq(feed(&f, buf, sizeof buf, record_frame, &r), FP_OK);
    ck_assert_uint_eq(r.id, 0x4001);
}
END_TEST

START_TEST(test_split_header_holds_no_allocation)
{
    uint8_t buf[4 + 3];
    put_frame(buf, 0x0009, (const uint8_t *)"abc", 3);
    fp_framer f;
    fp_framer_init(&f);
    one_frame r = {.framer = &f};
    ck_assert_int_eq(feed(&f, buf, 3, record_frame, &r), FP_OK);
    ck_assert(fp_framer_pending(&f));
    ck_assert_ptr_null(f.partial);
    ck_assert_int_eq(r.calls, 0);
}
END_TEST

START_TEST(test_split_header_with_whole_payload_after_is_not_copied)
{
    uint8_t buf[4 + 3];
    put_frame(buf, 0x0009, (const uint8_t *)"abc", 3);
    fp_framer f;
    fp_framer_init(&f);
    one_frame r = {.framer = &f};
    ck_assert_int_eq(feed(&f, buf, 2, record_frame, &r), FP_OK);
    ck_assert_int_eq(feed(&f, buf + 2, 5, record_frame, &r), FP_OK);
    ck_assert_int_eq(r.calls, 1);
    ck_assert_ptr_eq(r.payload, buf + 4);
    ck_assert(!r.partial_during_call);
    ck_assert(!fp_framer_pending(&f));
}
END_TEST

START_TEST(test_partial_buffer_freed_after_split_frame_completes)
{
    uint8_t buf[4 + 100];
    uint8_t payload[100];
    memset(payload, 0xab, sizeof payload);
    put_frame(buf, 0x0011, payload, sizeof payload);
    fp_framer f;
    fp_framer_init(&f);
    one_frame r = {.framer = &f};
    ck_assert_int_eq(feed(&f, buf, 50, record_frame, &r), FP_OK);
    ck_assert(fp_framer_pending(&f));
    ck_assert_ptr_nonnull(f.partial);
    ck_assert_uint_eq(f.frame_size, sizeof buf);
    ck_assert_int_eq(feed(&f, buf + 50, sizeof buf - 50, record_frame, &r),
                     FP_OK);
    ck_assert_int_eq(r.calls, 1);
    ck_assert_uint_eq(r.len, sizeof payload);
    ck_assert(!fp_framer_pending(&f));
    ck_assert_ptr_null(f.partial);
}
END_TEST

static fp_status fail_if_called(void *ctx, uint16_t wire_id, const uint8_t *payload, size_t len)
{
    ck_abort_msg("frame dispatched: id 0x%04x len %zu", (unsigned)wire_id, len);
    return FP_OK;
}

START_TEST(test_size_below_4_is_rejected)
{
    for (uint16_t size = 0; size < 4; size++) {
        uint8_t buf[8] = {0};
        fp_frame_header_write(buf, size, 0x0001);
        fp_framer f;
        fp_framer_init(&f);
        ck_assert_int_eq(feed(&f, buf, sizeof buf, fail_if_called, NULL),
                         FP_EPROTO);
        ck_assert_ptr_null(f.partial);
        fp_framer_reset(&f);
    }
}
END_TEST

START_TEST(test_size_below_4_in_split_header_is_rejected)
{
    for (uint16_t size = 0; size < 4; size++) {
        uint8_t buf[4];
        fp_frame_header_write(buf, size, 0x0001);
        fp_framer f;
        fp_framer_init(&f);
        ck_assert_int_eq(feed(&f, buf, 1, fail_if_called, NULL), FP_OK);
        ck_assert_int_eq(feed(&f, buf + 1, 3, fail_if_called, NULL),
                         FP_EPROTO);
        ck_assert_ptr_null(f.partial);
        fp_framer_reset(&f);
    }
}
END_TEST

START_TEST(test_size_above_max_is_rejected_from_header_alone)
{
    uint8_t header[4];
    fp_frame_header_write(header, 1001, 0x0001);
    fp_framer f;
    fp_framer_init(&f);
    ck_assert_int_eq(fp_framer_feed(&f, header, sizeof header, 1000, fail_if_called, NULL),
                     FP_EPROTO);
    ck_assert_ptr_null(f.partial);
    ck_assert(!fp_framer_pending(&f));
}
END_TEST

START_TEST(test_size_above_max_in_split_header_is_rejected)
{
    uint8_t header[4];
    fp_frame_header_write(header, 1001, 0x0001);
    fp_framer f;
    fp_framer_init(&f);
    ck_assert_int_eq(fp_framer_feed(&f, header, 2, 1000, fail_if_called, NULL), FP_OK);
    ck_assert_int_eq(fp_framer_feed(&f, header + 2, 2, 1000, fail_if_called, NULL), FP_EPROTO);
    ck_assert_ptr_null(f.partial);
}
END_TEST

START_TEST(test_size_exactly_max_is_accepted)
{
    enum { max = 1000 };
    static uint8_t buf[max];
    static uint8_t payload[max - 4];
    memset(payload, 0x5a, sizeof payload);
    put_frame(buf, 0x0002, payload, sizeof payload);
    for (size_t split = 0; split <= max; split += 333) {
        fp_framer f;
        fp_framer_init(&f);
        one_frame r = {0};
        ck_assert_int_eq(fp_framer_feed(&f, buf, split, max, record_frame, &r), FP_OK);
        ck_assert_int_eq(fp_framer_feed(&f, buf + split, max - split, max, record_frame, &r),
                         FP_OK);
        ck_assert_int_eq(r.calls, 1);
        ck_assert_uint_eq(r.len, sizeof payload);
        ck_assert(!fp_framer_pending(&f));
    }
}
END_TEST

START_TEST(test_nothing_dispatched_after_protocol_error_until_reset)
{
    uint8_t bad[4];
    fp_frame_header_write(bad, 2, 0x0001);
    uint8_t good[4 + 2];
    put_frame(good, 0x0003, (const uint8_t *)"ok", 2);
    fp_framer f;
    fp_framer_init(&f);
    ck_assert_int_eq(feed(&f, bad, sizeof bad, fail_if_called, NULL),
                     FP_EPROTO);
    ck_assert_int_eq(feed(&f, good, sizeof good, fail_if_called, NULL),
                     FP_EPROTO);

    fp_framer_reset(&f);
    one_frame r = {0};
    ck_assert_int_eq(feed(&f, good, sizeof good, record_frame, &r), FP_OK);
    ck_assert_int_eq(r.calls, 1);
    ck_assert_uint_eq(r.id, 0x0003);
}
END_TEST

START_TEST(test_frames_before_a_bad_size_are_dispatched)
{
    uint8_t buf[6 + 4];
    put_frame(buf, 0x0003, (const uint8_t *)"ok", 2);
    fp_frame_header_write(buf + 6, 3, 0x0001);
    fp_framer f;
    fp_framer_init(&f);
    one_frame r = {0};
    ck_assert_int_eq(feed(&f, buf, sizeof buf, record_frame, &r), FP_EPROTO);
    ck_assert_int_eq(r.calls, 1);
    ck_assert_uint_eq(r.id, 0x0003);
}
END_TEST

START_TEST(test_callback_stop_status_is_returned_and_rest_not_dispatched)
{
    test_stream s;
    stream_build(&s);
    fp_framer f;
    checker c;
    fp_framer_init(&f);
    checker_init(&c, &s, &f);
    c.stop_at_status = FP_ECLOSED;
    c.stop_at_index = 2;
    ck_assert_int_eq(feed(&f, s.bytes, s.len, check_frame, &c), FP_ECLOSED);
    ck_assert_uint_eq(c.next, 3);
    ck_assert(!fp_framer_pending(&f));
    free(s.bytes);
}
END_TEST

START_TEST(test_stop_on_split_frame_releases_its_buffer)
{
    test_stream s;
    stream_build(&s);
    size_t last = STREAM_FRAMES - 1;
    size_t split = s.len - 10; /* inside the largest frame, which is last */
    fp_framer f;
    checker c;
    fp_framer_init(&f);
    checker_init(&c, &s, &f);
    c.stop_at_status = FP_ECLOSED;
    c.stop_at_index = last;
    feed_ok(&f, s.bytes, split, &c);
    ck_assert_ptr_nonnull(f.partial);
    ck_assert_int_eq(feed(&f, s.bytes + split, s.len - split, check_frame, &c),
                     FP_ECLOSED);
    ck_assert_uint_eq(c.next, STREAM_FRAMES);
    ck_assert_ptr_null(f.partial);
    ck_assert(!fp_framer_pending(&f));
    free(s.bytes);
}
END_TEST

START_TEST(test_callback_may_reset_framer_while_dispatching_split_frame)
{
    test_stream s;
    stream_build(&s);
    size_t split = s.len - 10;
    fp_framer f;
    checker c;
    fp_framer_init(&f);
    checker_init(&c, &s, &f);
    c.stop_at_status = FP_ECLOSED;
    c.stop_at_index = STREAM_FRAMES - 1;
    c.reset_on_stop = 1;
    feed_ok(&f, s.bytes, split, &c);
    ck_assert_int_eq(feed(&f, s.bytes + split, s.len - split, check_frame, &c),
                     FP_ECLOSED);
    ck_assert_ptr_null(f.partial);
    free(s.bytes);
}
END_TEST

START_TEST(test_reset_frees_pending_memory)
{
    uint8_t buf[4 + 100] = {0};
    fp_frame_header_write(buf, sizeof buf, 0x0011);
    uint8_t good[4 + 2];
    put_frame(good, 0x0003, (const uint8_t *)"ok", 2);
    fp_framer f;
    fp_framer_init(&f);
    ck_assert_int_eq(feed(&f, buf, 60, fail_if_called, NULL), FP_OK);
    ck_assert_ptr_nonnull(f.partial);

    fp_framer_reset(&f);
    ck_assert(!fp_framer_pending(&f));
    ck_assert_ptr_null(f.partial);
    one_frame r = {0};
    ck_assert_int_eq(feed(&f, good, sizeof good, record_frame, &r), FP_OK);
    ck_assert_int_eq(r.calls, 1);
    ck_assert_uint_eq(r.id, 0x0003);
}
END_TEST

START_TEST(test_max_frame_above_wire_limit_is_clamped)
{
    uint8_t buf[4 + 1];
    put_frame(buf, 0x0001, (const uint8_t *)"z", 1);
    fp_framer f;
    fp_framer_init(&f);
    one_frame r = {0};
    ck_assert_int_eq(fp_framer_feed(&f, buf, sizeof buf, UINT32_MAX, record_frame, &r), FP_OK);
    ck_assert_int_eq(r.calls, 1);
}
END_TEST

static Suite *framer_suite(void)
{
    Suite *s = suite_create("framer");
    TCase *split = tcase_create("splits");
    tcase_set_timeout(split, 120);
    tcase_add_test(split, test_every_split_point_dispatches_same_frames);
    tcase_add_test(split, test_random_chunks_dispatch_same_frames);
    tcase_add_test(split, test_one_byte_at_a_time_dispatches_same_frames);
    suite_add_tcase(s, split);

    TCase *memory = tcase_create("memory");
    tcase_add_test(memory, test_whole_frame_is_parsed_in_place);
    tcase_add_test(memory, test_zero_length_payload_is_dispatched);
    tcase_add_test(memory, test_compressed_bit_is_passed_through);
    tcase_add_test(memory, test_split_header_holds_no_allocation);
    tcase_add_test(memory, test_split_header_with_whole_payload_after_is_not_copied);
    tcase_add_test(memory, test_partial_buffer_freed_after_split_frame_completes);
    tcase_add_test(memory, test_reset_frees_pending_memory);
    suite_add_tcase(s, memory);

    TCase *limits = tcase_create("limits");
    tcase_add_test(limits, test_size_below_4_is_rejected);
    tcase_add_test(limits, test_size_below_4_in_split_header_is_rejected);
    tcase_add_test(limits, test_size_above_max_is_rejected_from_header_alone);
    tcase_add_test(limits, test_size_above_max_in_split_header_is_rejected);
    tcase_add_test(limits, test_size_exactly_max_is_accepted);
    tcase_add_test(limits, test_max_frame_above_wire_limit_is_clamped);
    tcase_add_test(limits, test_nothing_dispatched_after_protocol_error_until_reset);
    tcase_add_test(limits, test_frames_before_a_bad_size_are_dispatched);
    suite_add_tcase(s, limits);

    TCase *stop = tcase_create("stop");
    tcase_add_test(stop, test_callback_stop_status_is_returned_and_rest_not_dispatched);
    tcase_add_test(stop, test_stop_on_split_frame_releases_its_buffer);
    tcase_add_test(stop, test_callback_may_reset_framer_while_dispatching_split_frame);
    suite_add_tcase(s, stop);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(framer_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
