/* End-to-end suite: the echo plugin served over loopback, driven by the
 * test's own epoll client. Run once per transport:
 *   check_e2e TRANSPORT
 * The server is an engine inside this process, or with FP_E2E_SERVER set a
 * fastport-server process (optionally under FP_E2E_SERVER_LAUNCHER, e.g.
 * the Windows build under Wine): see e2e_server.h. The cases are the same
 * in both modes. Each test starts and stops its own server; every wait is
 * bounded. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "e2e_client.h"
#include "e2e_server.h"
#include "fastport/plugin.h"
#include "transport_check.h"

#define SECONDS(n) ((n) * 1000)
/* Failure guard on a stop: the drain timeout (5 s) plus a Wine process's exit. */
#define STOP_TIMEOUT_MS SECONDS(60)

static const char *transport_name;

static void config_defaults(e2e_server_config *cfg)
{
    e2e_server_config_init(cfg, transport_name);
}

/* Starts the server; its address goes to `ep`. */
static e2e_server *server_up(const e2e_server_config *cfg, e2e_endpoint *ep)
{
    char err[4096] = "";
    e2e_server *e = e2e_server_start(cfg, ep, err, sizeof(err));
    ck_assert_msg(e != NULL, "starting the server (transport=%s, listen=%s): %s", cfg->transport,
                  cfg->listen, err);
    return e;
}

/* Graceful shutdown, which must end cleanly; then frees the server. */
static void server_down(e2e_server *e)
{
    char why[4096] = "";
    e2e_server_stop_request(e);
    int rc = e2e_server_stop_wait(e, STOP_TIMEOUT_MS, why, sizeof(why));
    ck_assert_msg(rc == 0, "graceful shutdown: %s", why);
    e2e_server_destroy(e);
}

/* Counter `name`: read after this call while running, final after a stop. */
static uint64_t server_stat(e2e_server *e, const char *name)
{
    char err[4096] = "";
    uint64_t v = 0;
    ck_assert_msg(e2e_server_stat(e, name, &v, err, sizeof(err)) == 0, "counter %s: %s", name, err);
    return v;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Wait until counter `name` equals `want`; returns its last value. */
static uint64_t stat_settles_at(e2e_server *e, const char *name, uint64_t want, int timeout_ms)
{
    uint64_t deadline = e2e_now_ns() + (uint64_t)timeout_ms * 1000000ull;
    uint64_t v = server_stat(e, name);
    while (v != want && e2e_now_ns() < deadline) {
        sleep_ms(5);
        v = server_stat(e, name);
    }
    return v;
}

static e2e_client *client_new(void)
{
    e2e_client *c = e2e_client_create();
    ck_assert_msg(c != NULL, "cannot create the test client");
    return c;
}

static e2e_session *connect_session(e2e_client *c, const e2e_endpoint *ep,
                                    const e2e_session_opts *o)
{
    e2e_session *s = e2e_client_connect(c, (const struct sockaddr *)&ep->ss, ep->len, o);
    ck_assert_msg(s != NULL, "cannot open client socket %zu", e2e_client_size(c));
    return s;
}

/* Sessions [first, first+n) are done with `frames` replies each. */
static void assert_sessions_done(e2e_client *c, size_t first, size_t n, uint64_t frames)
{
    for (size_t i = first; i < first + n; i++) {
        e2e_session *s = e2e_client_session(c, i);
        ck_assert_msg(s->state == E2E_DONE && s->rx_frames == frames,
                      "session %zu is %s with %llu of %llu replies (%s); client: %s", i,
                      e2e_state_name(s->state), (unsigned long long)s->rx_frames,
                      (unsigned long long)frames, s->error[0] ? s->error : "no error",
                      e2e_client_summary(c));
    }
}

static void run_until_settled(e2e_client *c, int timeout_ms, const char *what)
{
    int rc = e2e_client_run(c, NULL, NULL, timeout_ms);
    ck_assert_msg(rc == 0, "%s did not finish within %d s: %s", what, timeout_ms / 1000,
                  e2e_client_summary(c));
}

/* ---- raw blocking sockets, for frames the load client never sends ---- */

static int raw_connect(const e2e_endpoint *ep)
{
    int fd = socket(ep->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_msg(fd >= 0, "socket: %s", strerror(errno));
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    ck_assert_msg(connect(fd, (const struct sockaddr *)&ep->ss, ep->len) == 0, "connect: %s",
                  strerror(errno));
    return fd;
}

static void raw_write(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        ck_assert_msg(n > 0, "raw send: %s", n < 0 ? strerror(errno) : "wrote nothing");
        p += n;
        len -= (size_t)n;
    }
}

static void raw_send_frame(int fd, uint16_t wire_id, const void *payload, size_t len)
{
    uint8_t header[FP_FRAME_HEADER_SIZE];
    ck_assert(len <= FP_PAYLOAD_MAX_SIZE);
    e2e_header_write(header, (uint16_t)(len + FP_FRAME_HEADER_SIZE), wire_id);
    raw_write(fd, header, sizeof(header));
    raw_write(fd, payload, len);
}

static void raw_read_exact(int fd, void *buf, size_t len, const char *what)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = recv(fd, p, len, 0);
        ck_assert_msg(n > 0, "reading %s: %s", what,
                      n == 0 ? "EOF" : errno == EAGAIN ? "no reply within 10 s" : strerror(errno));
        p += n;
        len -= (size_t)n;
    }
}

/* Read one frame; returns its payload length. */
static size_t raw_recv_frame(int fd, uint16_t *wire_id, uint8_t *payload, size_t cap)
{
    uint8_t header[FP_FRAME_HEADER_SIZE];
    raw_read_exact(fd, header, sizeof(header), "a reply header");
    size_t size = (size_t)header[0] << 8 | header[1];
    *wire_id = (uint16_t)(header[2] << 8 | header[3]);
    ck_assert_msg(size >= FP_FRAME_HEADER_SIZE && size - FP_FRAME_HEADER_SIZE <= cap,
                  "reply frame size %zu", size);
    raw_read_exact(fd, payload, size - FP_FRAME_HEADER_SIZE, "a reply payload");
    return size - FP_FRAME_HEADER_SIZE;
}

/* True when the server closes `fd` (FIN or RST) within `timeout_ms`;
 * anything it sends first is read and ignored. */
static int raw_closed_by_server(int fd, int timeout_ms)
{
    uint64_t deadline = e2e_now_ns() + (uint64_t)timeout_ms * 1000000ull;
    uint8_t sink[4096];
    while (e2e_now_ns() < deadline) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 100) <= 0) continue;
        ssize_t n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
        if (n == 0) return 1;
        if (n < 0 && (errno == ECONNRESET || errno == EPIPE)) return 1;
    }
    return 0;
}

/* ---- tests ---- */

/* Frames per session of the load case: 1000, fewer (FP_E2E_LOAD_FRAMES) under
 * valgrind, which cannot move their 16 GB of payload within the 480-s bound. */
static uint64_t load_frames(void)
{
    const char *text = getenv("FP_E2E_LOAD_FRAMES");
    if (!text || !*text) return 1000;
    char *end;
    unsigned long n = strtoul(text, &end, 10);
    ck_assert_msg(*end == '\0' && n >= 1 && n <= 1000, "FP_E2E_LOAD_FRAMES=%s: want 1..1000", text);
    return n;
}

START_TEST(echo_1000_sessions_x_1000_frames)
{
    enum { SESSIONS = 1000 };
    const uint64_t frames = load_frames();
    e2e_server_config cfg;
    config_defaults(&cfg);
    e2e_endpoint ep;
    e2e_server *e = server_up(&cfg, &ep);

    e2e_client *c = client_new();
    for (size_t i = 0; i < SESSIONS; i++) {
        e2e_session_opts o = {.seed = 0xe2e0000 + i, .frames = frames, .max_payload = 16384,
                              .depth = 8, .finish = E2E_FINISH_KEEP_OPEN};
        connect_session(c, &ep, &o);
    }
    run_until_settled(c, SECONDS(480), "the 1000 sessions' frames");
    assert_sessions_done(c, 0, SESSIONS, frames);

    uint64_t total = (uint64_t)SESSIONS * frames;
    ck_assert_uint_eq(server_stat(e, "rx_packets"), total);
    ck_assert_uint_eq(stat_settles_at(e, "tx_packets", total, SECONDS(10)), total);
    ck_assert_uint_eq(server_stat(e, "protocol_errors"), 0);
    ck_assert_uint_eq(server_stat(e, "handler_errors"), 0);
    /* echo replies are lent where the transport can (tx_lend), copied
     * otherwise: every engine lend is one transport lend */
    uint64_t lent = server_stat(e, "tx_lent");
    printf("1000 x %llu: %llu of %llu replies sent from receive memory\n", (unsigned long long)frames,
           (unsigned long long)lent, (unsigned long long)total);
    ck_assert_uint_le(lent, total);
    ck_assert_uint_eq(lent, server_stat(e, "transport.lends"));
    e2e_client_destroy(c);
    server_down(e);
}
END_TEST

START_TEST(client_closing_mid_frame_is_dropped_cleanly)
{
    enum { HEALTHY = 20, HEALTHY_FRAMES = 200, PARTIAL = 10, PARTIAL_FRAMES = 3 };
    e2e_server_config cfg;
    config_defaults(&cfg);
    e2e_endpoint ep;
    e2e_server *e = server_up(&cfg, &ep);

    e2e_client *c = client_new();
    for (size_t i = 0; i < HEALTHY; i++) {
        e2e_session_opts o = {.seed = 0xb0000 + i, .frames = HEALTHY_FRAMES, .max_payload = 16384,
                              .depth = 4, .finish = E2E_FINISH_KEEP_OPEN};
        connect_session(c, &ep, &o);
    }
    /* Each answers a few whole frames, then sends a header and half a
     * payload and closes. */
    for (size_t i = 0; i < PARTIAL; i++) {
        e2e_session_opts o = {.seed = 0xb1000 + i, .frames = PARTIAL_FRAMES, .max_payload = 4096,
                              .depth = PARTIAL_FRAMES, .finish = E2E_FINISH_PARTIAL};
        connect_session(c, &ep, &o);
    }
    run_until_settled(c, SECONDS(60), "healthy and half-frame sessions");
    assert_sessions_done(c, 0, HEALTHY, HEALTHY_FRAMES);
    assert_sessions_done(c, HEALTHY, PARTIAL, PARTIAL_FRAMES);

    uint64_t open = stat_settles_at(e, "sessions_open", HEALTHY, SECONDS(10));
    ck_assert_msg(open == HEALTHY, "sessions_open is %llu, expected the %d healthy ones only",
                  (unsigned long long)open, HEALTHY);
    uint64_t whole = (uint64_t)HEALTHY * HEALTHY_FRAMES + (uint64_t)PARTIAL * PARTIAL_FRAMES;
    ck_assert_msg(server_stat(e, "rx_packets") == whole,
                  "rx_packets %llu, expected %llu: a partial frame was dispatched",
                  (unsigned long long)server_stat(e, "rx_packets"), (unsigned long long)whole);
    ck_assert_uint_eq(server_stat(e, "protocol_errors"), 0);

    /* The survivors go on echoing. */
    for (size_t i = 0; i < HEALTHY; i++) e2e_session_add_frames(c, e2e_client_session(c, i), 50);
    run_until_settled(c, SECONDS(60), "healthy sessions after the half-frame closes");
    assert_sessions_done(c, 0, HEALTHY, HEALTHY_FRAMES + 50);
    e2e_client_destroy(c);
    server_down(e);
}
END_TEST

static int healthy_warmed_up(e2e_client *c, void *ctx)
{
    uint64_t min_replies = *(const uint64_t *)ctx;
    for (size_t i = 0; i < e2e_client_size(c); i++) {
        e2e_session *s = e2e_client_session(c, i);
        if (s->state != E2E_DONE && s->state != E2E_RUNNING && s->state != E2E_CONNECTING)
            return 1; /* a failure: stop and report */
        if (s->rx_frames < min_replies && s->state != E2E_DONE) return 0;
    }
    return 1;
}

START_TEST(malformed_client_closed_others_unaffected)
{
    enum { HEALTHY = 50, FRAMES = 200 };
    e2e_server_config cfg;
    config_defaults(&cfg);
    cfg.max_packet = 16384 + FP_FRAME_HEADER_SIZE;
    e2e_endpoint ep;
    e2e_server *e = server_up(&cfg, &ep);

    e2e_client *c = client_new();
    for (size_t i = 0; i < HEALTHY; i++) {
        e2e_session_opts o = {.seed = 0xc0000 + i, .frames = FRAMES, .max_payload = 16384,
                              .depth = 4, .finish = E2E_FINISH_KEEP_OPEN};
        connect_session(c, &ep, &o);
    }
    uint64_t warm = 20;
    ck_assert_msg(e2e_client_run(c, healthy_warmed_up, &warm, SECONDS(60)) == 0,
                  "healthy sessions did not get going: %s", e2e_client_summary(c));

    int too_small = raw_connect(&ep);
    const uint8_t size_two[] = {0x00, 0x02, 0x00, 0x01};
    raw_write(too_small, size_two, sizeof(size_two));

    int too_big = raw_connect(&ep);
    uint8_t oversized[FP_FRAME_HEADER_SIZE + 64] = {0};
    e2e_header_write(oversized, (uint16_t)(cfg.max_packet + 1), 0x0001);
    raw_write(too_big, oversized, sizeof(oversized));

    run_until_settled(c, SECONDS(60), "healthy sessions beside malformed ones");
    ck_assert_msg(raw_closed_by_server(too_small, SECONDS(10)),
                  "a frame of size 2 did not get its connection closed");
    ck_assert_msg(raw_closed_by_server(too_big, SECONDS(10)),
                  "a frame of size max_packet+1 did not get its connection closed");
    close(too_small);
    close(too_big);
    assert_sessions_done(c, 0, HEALTHY, FRAMES);
    ck_assert_uint_eq(stat_settles_at(e, "protocol_errors", 2, SECONDS(5)), 2);
    ck_assert_uint_eq(server_stat(e, "rx_packets"), (uint64_t)HEALTHY * FRAMES);
    e2e_client_destroy(c);
    server_down(e);
}
END_TEST

typedef struct slow_watch {
    e2e_session *slow, *healthy;
} slow_watch;

/* The healthy session is done and the slow one's writes have stalled. */
static int slow_reader_stalled(e2e_client *c, void *ctx)
{
    (void)c;
    const slow_watch *w = ctx;
    if (w->slow->state == E2E_CONNECTING) return 0;
    if (w->slow->state != E2E_RUNNING) return 1;
    if (w->slow->tx_frame >= w->slow->opts.frames) return 1;
    if (w->healthy->state == E2E_RUNNING || w->healthy->state == E2E_CONNECTING) return 0;
    return w->slow->tx_blocked && e2e_now_ns() - w->slow->last_tx_ns > 500000000ull;
}

START_TEST(slow_reader_hits_send_cap_without_loss)
{
    enum { LIMIT = 256 * 1024, SLOW_FRAMES_BOUND = 20000, HEALTHY_FRAMES = 300 };
    e2e_server_config cfg;
    config_defaults(&cfg);
    cfg.send_queue_limit = LIMIT;
    e2e_endpoint ep;
    e2e_server *e = server_up(&cfg, &ep);

    e2e_client *c = client_new();
    e2e_session_opts slow_opts = {.seed = 0xd0000, .frames = SLOW_FRAMES_BOUND,
                                  .max_payload = 16384, .depth = 0, .paused_reading = 1,
                                  .finish = E2E_FINISH_KEEP_OPEN};
    e2e_session_opts healthy_opts = {.seed = 0xd1000, .frames = HEALTHY_FRAMES,
                                     .max_payload = 16384, .depth = 4,
                                     .finish = E2E_FINISH_KEEP_OPEN};
    slow_watch w;
    w.slow = connect_session(c, &ep, &slow_opts);
    w.healthy = connect_session(c, &ep, &healthy_opts);
    ck_assert_msg(e2e_client_run(c, slow_reader_stalled, &w, SECONDS(60)) == 0,
                  "the slow reader's writes did not stall within 60 s: %s", e2e_client_summary(c));
    ck_assert_msg(w.slow->state == E2E_RUNNING && w.slow->tx_frame < SLOW_FRAMES_BOUND,
                  "slow reader: %s after writing %llu frames (%llu bytes) without blocking; %s",
                  e2e_state_name(w.slow->state), (unsigned long long)w.slow->tx_frames,
                  (unsigned long long)w.slow->tx_bytes, e2e_client_summary(c));
    assert_sessions_done(c, 1, 1, HEALTHY_FRAMES);

    uint64_t high_water = server_stat(e, "queued_bytes_max");
    ck_assert_msg(high_water <= LIMIT, "queued_bytes_max %llu is over send_queue_limit %d",
                  (unsigned long long)high_water, LIMIT);
    printf("slow reader: stalled after %llu bytes; queued_bytes_max %llu, recv_paused %llu\n",
           (unsigned long long)w.slow->tx_bytes, (unsigned long long)high_water,
           (unsigned long long)server_stat(e, "recv_paused"));
    ck_assert_msg(server_stat(e, "recv_paused") > 0,
                  "the slow reader never had its reading paused (wrote %llu bytes)",
                  (unsigned long long)w.slow->tx_bytes);

    /* Now it reads: every frame it got through must come back. */
    e2e_session_stop_sending(c, w.slow);
    e2e_session_set_reading(c, w.slow, 1);
    run_until_settled(c, SECONDS(120), "the slow reader's catch-up");
    assert_sessions_done(c, 0, 1, w.slow->opts.frames);
    ck_assert_uint_eq(server_stat(e, "send_queue_full"), 0);
    ck_assert_uint_eq(server_stat(e, "handler_errors"), 0);
    high_water = server_stat(e, "queued_bytes_max");
    ck_assert_msg(high_water <= LIMIT, "queued_bytes_max %llu is over send_queue_limit %d",
                  (unsigned long long)high_water, LIMIT);
    e2e_client_destroy(c);
    server_down(e);
}
END_TEST

static int replies_at_least(e2e_client *c, void *ctx)
{
    if (e2e_client_count(c, E2E_FAILED) > 0) return 1;
    return e2e_client_rx_frames(c) >= *(const uint64_t *)ctx;
}

START_TEST(graceful_shutdown_delivers_frames_in_flight)
{
    enum { SESSIONS = 20 };
    e2e_server_config cfg;
    config_defaults(&cfg);
    e2e_endpoint ep;
    e2e_server *e = server_up(&cfg, &ep);

    e2e_client *c = client_new();
    for (size_t i = 0; i < SESSIONS; i++) {
        e2e_session_opts o = {.seed = 0xe0000 + i, .frames = UINT64_C(1) << 40,
                              .max_payload = 16384, .depth = 8, .finish = E2E_FINISH_KEEP_OPEN};
        connect_session(c, &ep, &o);
    }
    uint64_t warm = SESSIONS * 50;
    ck_assert_msg(e2e_client_run(c, replies_at_least, &warm, SECONDS(60)) == 0 &&
                      e2e_client_count(c, E2E_FAILED) == 0,
                  "sessions did not get going: %s", e2e_client_summary(c));

    e2e_server_stop_request(e);
    /* The clients keep sending until they see the server's FIN. */
    int rc = e2e_client_run(c, NULL, NULL, SECONDS(60));
    char why[4096] = "";
    int stopped = e2e_server_stop_wait(e, STOP_TIMEOUT_MS, why, sizeof(why));
    ck_assert_msg(stopped == 0, "graceful shutdown with the clients still sending: %s", why);
    ck_assert_msg(rc == 0, "sessions were not closed by the shutdown within 60 s: %s",
                  e2e_client_summary(c));
    for (size_t i = 0; i < SESSIONS; i++) {
        e2e_session *s = e2e_client_session(c, i);
        ck_assert_msg(s->state == E2E_EOF,
                      "session %zu ended %s after %llu replies (%s), expected a clean EOF", i,
                      e2e_state_name(s->state), (unsigned long long)s->rx_frames,
                      s->error[0] ? s->error : "no error");
    }
    uint64_t replies = e2e_client_rx_frames(c);
    uint64_t dispatched = server_stat(e, "tx_packets");
    uint64_t received = server_stat(e, "rx_packets");
    printf("graceful shutdown: %llu replies delivered, %llu frames received by the engine\n",
           (unsigned long long)replies, (unsigned long long)received);
    ck_assert_msg(replies == dispatched,
                  "clients got %llu replies, the engine sent %llu (rx_packets %llu)",
                  (unsigned long long)replies, (unsigned long long)dispatched,
                  (unsigned long long)received);
    e2e_client_destroy(c);
    e2e_server_destroy(e);
}
END_TEST

typedef struct idle_watch {
    e2e_session *idle, *busy;
    uint64_t last_send_ns;
    uint64_t stop_ns; /* 0 until the idle session closed */
    uint64_t linger_ns;
} idle_watch;

static int closed_state(e2e_state s) { return s == E2E_EOF || s == E2E_RESET || s == E2E_FAILED; }

/* Keeps the busy session sending every 50 ms; stops a while after the idle
 * one was closed (or at once if the busy one was). */
static int idle_closed_while_busy_kept(e2e_client *c, void *ctx)
{
    idle_watch *w = ctx;
    uint64_t now = e2e_now_ns();
    if (closed_state(w->busy->state)) return 1;
    if (w->busy->state == E2E_DONE && now - w->last_send_ns >= 50000000ull) {
        e2e_session_add_frames(c, w->busy, 1);
        w->last_send_ns = now;
    }
    if (!w->stop_ns && closed_state(w->idle->state)) w->stop_ns = now + w->linger_ns;
    return w->stop_ns && now >= w->stop_ns;
}

START_TEST(idle_session_is_closed_after_timeout)
{
    enum { IDLE_MS = 500 };
    e2e_server_config cfg;
    config_defaults(&cfg);
    cfg.idle_timeout_ms = IDLE_MS;
    e2e_endpoint ep;
    e2e_server *e = server_up(&cfg, &ep);

    e2e_client *c = client_new();
    e2e_session_opts o = {.seed = 0xf0000, .frames = 1, .max_payload = 512, .depth = 1,
                          .finish = E2E_FINISH_KEEP_OPEN};
    idle_watch w = {.linger_ns = 3ull * IDLE_MS * 1000000ull};
    w.idle = connect_session(c, &ep, &o);
    o.seed = 0xf1000;
    w.busy = connect_session(c, &ep, &o);
    w.last_send_ns = e2e_now_ns();
    ck_assert_msg(e2e_client_run(c, idle_closed_while_busy_kept, &w, SECONDS(30)) == 0,
                  "the idle session was not closed within 30 s: %s", e2e_client_summary(c));
    ck_assert_msg(w.idle->state == E2E_EOF || w.idle->state == E2E_RESET,
                  "idle session is %s (%s), expected closed by the server",
                  e2e_state_name(w.idle->state), w.idle->error);
    ck_assert_msg(w.idle->rx_frames == 1, "idle session lost its one reply");
    ck_assert_msg(!closed_state(w.busy->state),
                  "the busy session (a frame every 50 ms) was closed too after %llu replies: %s",
                  (unsigned long long)w.busy->rx_frames, e2e_state_name(w.busy->state));
    ck_assert_uint_ge(server_stat(e, "idle_timeouts"), 1);
    e2e_client_destroy(c);
    server_down(e);
}
END_TEST

static int session_closed(e2e_client *c, void *ctx)
{
    (void)c;
    return closed_state(((e2e_session *)ctx)->state);
}

START_TEST(idle_session_that_never_sent_is_closed)
{
    e2e_server_config cfg;
    config_defaults(&cfg);
    cfg.idle_timeout_ms = 300;
    e2e_endpoint ep;
    e2e_server *e = server_up(&cfg, &ep);

    e2e_client *c = client_new();
    e2e_session_opts o = {.seed = 0xf2000, .frames = 0, .finish = E2E_FINISH_KEEP_OPEN};
    e2e_session *silent = connect_session(c, &ep, &o);
    ck_assert_msg(e2e_client_run(c, session_closed, silent, SECONDS(30)) == 0,
                  "a session that never sent was not closed within 30 s (idle timeout 300 ms)");
    ck_assert_msg(silent->state == E2E_EOF || silent->state == E2E_RESET, "silent session: %s",
                  silent->error);
    ck_assert_uint_ge(server_stat(e, "idle_timeouts"), 1);
    e2e_client_destroy(c);
    server_down(e);
}
END_TEST

static int extra_sessions_closed(e2e_client *c, void *ctx)
{
    size_t first = *(const size_t *)ctx;
    for (size_t i = first; i < e2e_client_size(c); i++)
        if (!closed_state(e2e_client_session(c, i)->state)) return 0;
    return 1;
}

START_TEST(max_sessions_refuses_excess)
{
    enum { MAX = 10, EXTRA = 5, FRAMES = 20 };
    e2e_server_config cfg;
    config_defaults(&cfg);
    cfg.max_sessions = MAX;
    e2e_endpoint ep;
    e2e_server *e = server_up(&cfg, &ep);

    e2e_client *c = client_new();
    for (size_t i = 0; i < MAX; i++) {
        e2e_session_opts o = {.seed = 0x90000 + i, .frames = FRAMES, .max_payload = 4096,
                              .depth = 4, .finish = E2E_FINISH_KEEP_OPEN};
        connect_session(c, &ep, &o);
    }
    run_until_settled(c, SECONDS(60), "the first 10 sessions");
    assert_sessions_done(c, 0, MAX, FRAMES);
    ck_assert_uint_eq(stat_settles_at(e, "sessions_open", MAX, SECONDS(10)), MAX);

    size_t first_extra = MAX;
    for (size_t i = 0; i < EXTRA; i++) {
        e2e_session_opts o = {.seed = 0x91000 + i, .frames = 0, .finish = E2E_FINISH_KEEP_OPEN};
        connect_session(c, &ep, &o);
    }
    ck_assert_msg(e2e_client_run(c, extra_sessions_closed, &first_extra, SECONDS(10)) == 0,
                  "sessions over max_sessions were not closed within 10 s: %s",
                  e2e_client_summary(c));
    for (size_t i = first_extra; i < first_extra + EXTRA; i++) {
        e2e_session *s = e2e_client_session(c, i);
        ck_assert_msg(s->state == E2E_EOF || s->state == E2E_RESET, "extra session %zu: %s (%s)",
                      i, e2e_state_name(s->state), s->error);
    }
    ck_assert_uint_eq(stat_settles_at(e, "sessions_refused", EXTRA, SECONDS(5)), EXTRA);

    for (size_t i = 0; i < MAX; i++) e2e_session_add_frames(c, e2e_client_session(c, i), FRAMES);
    run_until_settled(c, SECONDS(60), "the first 10 sessions after the refusals");
    assert_sessions_done(c, 0, MAX, 2 * FRAMES);
    e2e_client_destroy(c);
    server_down(e);
}
END_TEST

static size_t deflate_payload(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    uLongf out_len = (uLongf)cap;
    int rc = compress2(out, &out_len, in, (uLong)len, Z_BEST_COMPRESSION);
    ck_assert_msg(rc == Z_OK, "compress2: %d", rc);
    return (size_t)out_len;
}

static void expect_echo(int fd, uint16_t id, const uint8_t *payload, size_t len, const char *what)
{
    static uint8_t reply[FP_PAYLOAD_MAX_SIZE];
    uint16_t got_id;
    size_t got = raw_recv_frame(fd, &got_id, reply, sizeof(reply));
    ck_assert_msg(got_id == id, "%s: reply id %#x, expected %#x", what, got_id, id);
    ck_assert_msg(got == len, "%s: reply payload %zu bytes, expected %zu", what, got, len);
    ck_assert_msg(memcmp(reply, payload, len) == 0, "%s: reply payload differs", what);
}

START_TEST(compressed_frame_is_inflated_before_dispatch)
{
    e2e_server_config cfg;
    config_defaults(&cfg);
    e2e_endpoint ep;
    e2e_server *e = server_up(&cfg, &ep);

    static uint8_t plain[FP_PAYLOAD_MAX_SIZE + 1];
    static uint8_t packed[FP_PAYLOAD_MAX_SIZE];
    const uint16_t logical = 0x0123;
    const uint16_t wire = logical | FP_PACKET_COMPRESSED_BIT;

    int fd = raw_connect(&ep);
    const char text[] = "FastPort FastPort FastPort compresses FastPort payloads";
    size_t n = deflate_payload((const uint8_t *)text, sizeof(text), packed, sizeof(packed));
    raw_send_frame(fd, wire, packed, n);
    expect_echo(fd, logical, (const uint8_t *)text, sizeof(text), "small compressed frame");

    /* Inflating to exactly the largest payload is allowed. */
    for (size_t i = 0; i <= FP_PAYLOAD_MAX_SIZE; i++) plain[i] = (uint8_t)("fastport"[i % 8]);
    n = deflate_payload(plain, FP_PAYLOAD_MAX_SIZE, packed, sizeof(packed));
    raw_send_frame(fd, wire, packed, n);
    expect_echo(fd, logical, plain, FP_PAYLOAD_MAX_SIZE, "compressed frame of the largest payload");

    /* One byte more is a bomb: only its own session goes. */
    int bomb = raw_connect(&ep);
    n = deflate_payload(plain, FP_PAYLOAD_MAX_SIZE + 1, packed, sizeof(packed));
    raw_send_frame(bomb, wire, packed, n);
    ck_assert_msg(raw_closed_by_server(bomb, SECONDS(10)),
                  "a payload inflating to %u bytes did not close its session",
                  FP_PAYLOAD_MAX_SIZE + 1);
    close(bomb);
    ck_assert_uint_eq(stat_settles_at(e, "compress_errors", 1, SECONDS(5)), 1);

    raw_send_frame(fd, 0x0042, text, sizeof(text));
    expect_echo(fd, 0x0042, (const uint8_t *)text, sizeof(text), "plain frame after the bomb");
    close(fd);
    ck_assert_uint_eq(server_stat(e, "protocol_errors"), 0);
    server_down(e);
}
END_TEST

static int ipv6_loopback_available(void)
{
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    int ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

START_TEST(ipv6_loopback_echo)
{
    if (!ipv6_loopback_available()) {
        printf("ipv6_loopback_echo: skipped, ::1 cannot be bound here\n");
        return;
    }
    e2e_server_config cfg;
    config_defaults(&cfg);
    cfg.listen = "[::1]:0";
    e2e_endpoint ep;
    e2e_server *e = server_up(&cfg, &ep);
    ck_assert_int_eq(ep.ss.ss_family, AF_INET6);

    e2e_client *c = client_new();
    for (size_t i = 0; i < 4; i++) {
        e2e_session_opts o = {.seed = 0x60000 + i, .frames = 50, .max_payload = 16384,
                              .depth = 4, .finish = E2E_FINISH_KEEP_OPEN};
        connect_session(c, &ep, &o);
    }
    run_until_settled(c, SECONDS(60), "IPv6 sessions");
    assert_sessions_done(c, 0, 4, 50);
    e2e_client_destroy(c);
    server_down(e);
}
END_TEST

static Suite *e2e_suite(void)
{
    Suite *s = suite_create("e2e");
    /* Generous bounds: under ASan the load test takes minutes. */
    TCase *load = tcase_create("load");
    tcase_set_timeout(load, 900);
    tcase_add_test(load, echo_1000_sessions_x_1000_frames);
    suite_add_tcase(s, load);

    TCase *behaviour = tcase_create("behaviour");
    tcase_set_timeout(behaviour, 180);
    tcase_add_test(behaviour, client_closing_mid_frame_is_dropped_cleanly);
    tcase_add_test(behaviour, malformed_client_closed_others_unaffected);
    tcase_add_test(behaviour, slow_reader_hits_send_cap_without_loss);
    tcase_add_test(behaviour, graceful_shutdown_delivers_frames_in_flight);
    tcase_add_test(behaviour, idle_session_is_closed_after_timeout);
    tcase_add_test(behaviour, idle_session_that_never_sent_is_closed);
    tcase_add_test(behaviour, max_sessions_refuses_excess);
    tcase_add_test(behaviour, compressed_frame_is_inflated_before_dispatch);
    tcase_add_test(behaviour, ipv6_loopback_echo);
    suite_add_tcase(s, behaviour);
    return s;
}

/* 1000 sessions hold 2000 descriptors (client and server side). */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s TRANSPORT\n", argv[0]);
        return 2;
    }
    transport_name = argv[1];
    const char *dir = getenv("FP_TEST_TRANSPORT_DIR");
    if (e2e_server_external()) {
        /* The server finds its own transports; the case fails if it
         * cannot load this one. */
        printf("e2e: transport %s in an external server: %s\n", transport_name,
               e2e_server_mode());
    } else if (dir) {
        char why[512] = "";
        int usable = e2e_transport_probe(dir, transport_name, why, sizeof(why));
        if (usable == 0) {
            printf("e2e: skipping transport %s: %s\n", transport_name, why);
            return 77; /* ctest SKIP_RETURN_CODE */
        }
        if (usable < 0) {
            fprintf(stderr, "e2e: %s\n", why);
            return 1;
        }
    }
    fflush(stdout);
    raise_fd_limit();

    SRunner *sr = srunner_create(e2e_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
