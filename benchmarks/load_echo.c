#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "load.h"

#define STALL_NS (5000000000ull)   /* no reply for this long while frames are in flight */
#define DRAIN_NS (10000000000ull)  /* after the window, to collect the replies still owed */
#define MAX_ERROR_LINES 10

typedef struct echo_run {
    const load_options *o;
    int epfd;
    uint32_t frame_size;
    int sending;             /* 0 once the window has closed: collect, do not refill */
    uint64_t replies;        /* every verified reply since the start */
    uint64_t in_flight;      /* over all sessions */
    uint32_t open_sessions;
    uint64_t errors;
    uint64_t last_progress_ns;
    uint64_t *expected; /* scratch: one payload, built by expected_payload() */
} echo_run;

static void report_error(echo_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void report_error(echo_run *r, const char *fmt, ...)
{
    if (r->errors++ >= MAX_ERROR_LINES) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("fp-echo-load: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Ids vary, so an echo with the wrong id is caught too. They stay in
 * 0x2000-0x3FFF: clear of the compressed bit (0x4000) and of the ids the
 * fastport plugin claims (0x0001, 0x1001, 0x8001, 0x8003), so the load
 * also runs against --plugin=fastport,echo, where echo answers them. */
enum { LOAD_FIRST_ID = 0x2000, LOAD_ID_COUNT = 0x2000 };
static uint16_t packet_id(uint64_t seq) { return (uint16_t)(LOAD_FIRST_ID + seq % LOAD_ID_COUNT); }

/* Every 8-byte word of a payload is key(session, sequence) XOR a
 * function of its offset, so a reply from another session or frame, a
 * shifted stream or a splice of two frames cannot match; building one is a
 * loop the compiler vectorises and checking it is a memcmp, so the client
 * costs little per byte and the server, not the client, sets the pace. */
static int alloc_expected(echo_run *r)
{
    size_t words = ((size_t)r->o->payload + 7) / 8 + 1;
    r->expected = calloc(words, sizeof(uint64_t));
    if (r->expected) return 0;
    fprintf(stderr, "fp-echo-load: out of memory\n");
    return -1;
}

/* Builds the payload of (session, seq) in r->expected. */
static const uint8_t *expected_payload(echo_run *r, uint32_t session, uint64_t seq)
{
    uint64_t key = (seq + 1) * 0x9E3779B97F4A7C15ull ^ ((uint64_t)session + 1) * 0xC2B2AE3D27D4EB4Full;
    size_t words = ((size_t)r->o->payload + 7) / 8;
    uint64_t *w = r->expected;
    for (size_t k = 0; k < words; k++) w[k] = key ^ ((k + 1) * 0xFF51AFD7ED558CCDull);
    return (const uint8_t *)w;
}

static void session_drop(echo_run *r, load_session *s)
{
    if (s->state != LOAD_OPEN) return;
    close(s->fd);
    s->fd = -1;
    s->state = LOAD_CLOSED;
    r->in_flight -= s->in_flight;
    s->in_flight = 0;
    r->open_sessions--;
}

static void set_out_interest(echo_run *r, load_session *s, int want)
{
    if (s->out_armed == want) return;
    struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0u), .data.ptr = s};
    epoll_ctl(r->epfd, EPOLL_CTL_MOD, s->fd, &ev);
    s->out_armed = (uint8_t)want;
}

static void queue_frame(echo_run *r, load_session *s)
{
    if (s->tx_len + r->frame_size > s->tx_cap) {
        memmove(s->tx, s->tx + s->tx_off, s->tx_len - s->tx_off);
        s->tx_len -= s->tx_off;
        s->tx_off = 0;
    }
    uint8_t *f = s->tx + s->tx_len;
    uint64_t seq = s->next_send_seq++;
    uint16_t id = packet_id(seq);
    f[0] = (uint8_t)(r->frame_size >> 8);
    f[1] = (uint8_t)r->frame_size;
    f[2] = (uint8_t)(id >> 8);
    f[3] = (uint8_t)id;
    memcpy(f + LOAD_HEADER_SIZE, expected_payload(r, s->index, seq), r->o->payload);
    s->tx_len += r->frame_size;
    s->in_flight++;
    r->in_flight++;
}

static void flush(echo_run *r, load_session *s)
{
    while (s->tx_off < s->tx_len) {
        ssize_t n = send(s->fd, s->tx + s->tx_off, s->tx_len - s->tx_off, MSG_NOSIGNAL);
        if (n > 0) {
            s->tx_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            set_out_interest(r, s, 1);
            return;
        }
        report_error(r, "session %u: send: %s", s->index, strerror(errno));
        session_drop(r, s);
        return;
    }
    s->tx_off = s->tx_len = 0;
    set_out_interest(r, s, 0);
}

/* Returns 0 when the frame is the reply owed next, else -1 (reported). */
static int verify_reply(echo_run *r, load_session *s, const uint8_t *f, uint32_t size)
{
    uint64_t seq = s->next_recv_seq;
    if (size != r->frame_size) {
        report_error(r, "session %u: reply %llu is %u bytes, sent %u", s->index,
                     (unsigned long long)seq, size, r->frame_size);
        return -1;
    }
    uint16_t id = (uint16_t)(f[2] << 8 | f[3]);
    if (id != packet_id(seq)) {
        report_error(r, "session %u: reply %llu has packet id 0x%04x, sent 0x%04x", s->index,
                     (unsigned long long)seq, id, packet_id(seq));
        return -1;
    }
    const uint8_t *got = f + LOAD_HEADER_SIZE;
    const uint8_t *want = expected_payload(r, s->index, seq);
    if (memcmp(got, want, r->o->payload) == 0) return 0;
    uint32_t i = 0;
    while (got[i] == want[i]) i++;
    report_error(r, "session %u: reply %llu differs at payload byte %u: 0x%02x, sent 0x%02x",
                 s->index, (unsigned long long)seq, i, got[i], want[i]);
    return -1;
}

static void on_readable(echo_run *r, load_session *s)
{
    ssize_t n = recv(s->fd, s->rx + s->rx_len, s->rx_cap - s->rx_len, 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        report_error(r, "session %u: recv: %s", s->index, strerror(errno));
        session_drop(r, s);
        return;
    }
    if (n == 0) {
        report_error(r, "session %u: closed by the server with %u replies owed", s->index,
                     s->in_flight);
        session_drop(r, s);
        return;
    }
    s->rx_len += (size_t)n;
    size_t pos = 0;
    while (s->rx_len - pos >= LOAD_HEADER_SIZE) {
        const uint8_t *f = s->rx + pos;
        uint32_t size = (uint32_t)(f[0] << 8 | f[1]);
        if (size != r->frame_size || s->in_flight == 0) {
            if (s->in_flight == 0)
                report_error(r, "session %u: a reply nobody asked for (%u bytes)", s->index, size);
            else
                verify_reply(r, s, f, size);
            session_drop(r, s);
            return;
        }
        if (s->rx_len - pos < size) break;
        if (verify_reply(r, s, f, size) < 0) {
            session_drop(r, s);
            return;
        }
        pos += size;
        s->next_recv_seq++;
        s->in_flight--;
        r->in_flight--;
        r->replies++;
        if (r->sending) queue_frame(r, s);
    }
    memmove(s->rx, s->rx + pos, s->rx_len - pos);
    s->rx_len -= pos;
    r->last_progress_ns = load_now_ns();
    flush(r, s);
}

static int allocate_buffers(echo_run *r, load_session *sessions)
{
    size_t bytes = (size_t)r->o->depth * r->frame_size;
    for (uint32_t i = 0; i < r->o->sessions; i++) {
        sessions[i].tx = malloc(bytes);
        sessions[i].rx = malloc(bytes);
        if (!sessions[i].tx || !sessions[i].rx) {
            fprintf(stderr, "fp-echo-load: out of memory for session buffers\n");
            return -1;
        }
        sessions[i].tx_cap = sessions[i].rx_cap = bytes;
    }
    return 0;
}

static int server_cpu(const load_options *o, uint64_t *us)
{
    if (!o->server_pid) return 0;
    if (load_proc_cpu_us(o->server_pid, us) == 0) return 0;
    fprintf(stderr, "fp-echo-load: cannot read /proc/%ld/stat: is the server still running?\n",
            o->server_pid);
    return -1;
}

static void pump_events(echo_run *r, int timeout_ms)
{
    struct epoll_event events[512];
    int n = epoll_wait(r->epfd, events, 512, timeout_ms);
    for (int k = 0; k < n; k++) {
        load_session *s = events[k].data.ptr;
        if (s->state != LOAD_OPEN) continue;
        if (events[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(r, s);
        if (s->state == LOAD_OPEN && (events[k].events & EPOLLOUT)) flush(r, s);
    }
}

static int stalled(echo_run *r, uint64_t now)
{
    if (r->in_flight == 0 || now - r->last_progress_ns < STALL_NS) return 0;
    report_error(r, "no reply for %.0f s with %llu frames in flight", STALL_NS / 1e9,
                 (unsigned long long)r->in_flight);
    return 1;
}

static int run_echo(echo_run *r, load_session *sessions, load_result *out)
{
    const load_options *o = r->o;

    r->open_sessions = o->sessions;
    for (uint32_t i = 0; i < o->sessions; i++) {
        for (uint32_t d = 0; d < o->depth; d++) queue_frame(r, &sessions[i]);
        flush(r, &sessions[i]);
    }

    uint64_t start = load_now_ns();
    uint64_t window_start = start + o->warmup_ms * 1000000u;
    uint64_t window_end = window_start + o->duration_ms * 1000000u;
    uint64_t replies_at_start = 0, cpu_at_start = 0, cpu_at_end = 0, self_at_start = 0;
    int in_window = 0;
    r->last_progress_ns = start;

    for (;;) {
        uint64_t now = load_now_ns();
        if (!in_window && now >= window_start) {
            in_window = 1;
            replies_at_start = r->replies;
            window_start = now;
            self_at_start = load_self_cpu_us();
            if (server_cpu(o, &cpu_at_start) < 0) return -1;
        }
        if (in_window && now >= window_end) break;
        if (r->open_sessions == 0 || stalled(r, now)) {
            report_error(r, "load stopped early: %u sessions open", r->open_sessions);
            out->errors = r->errors;
            return -1;
        }
        uint64_t next = in_window ? window_end : window_start;
        uint64_t wait_ms = (next - now) / 1000000u + 1;
        pump_events(r, wait_ms > 100 ? 100 : (int)wait_ms);
    }
    uint64_t window_stop = load_now_ns();
    out->client_cpu_us = load_self_cpu_us() - self_at_start;
    out->replies = r->replies - replies_at_start;
    out->window_ns = window_stop - window_start;
    if (server_cpu(o, &cpu_at_end) < 0) return -1;
    out->has_server_cpu = o->server_pid != 0;
    out->server_cpu_us = cpu_at_end - cpu_at_start;

    /* Every frame sent must come back, also the ones after the window. */
    r->sending = 0;
    uint64_t drain_deadline = load_now_ns() + DRAIN_NS;
    while (r->in_flight > 0 && r->open_sessions > 0) {
        uint64_t now = load_now_ns();
        if (now >= drain_deadline || stalled(r, now)) {
            report_error(r, "%llu replies still missing after the window",
                         (unsigned long long)r->in_flight);
            break;
        }
        pump_events(r, 100);
    }
    out->errors = r->errors;
    return r->errors ? -1 : 0;
}

int load_run_echo(const load_options *o, int epfd, load_session *sessions, load_result *out)
{
    echo_run r = {.o = o, .epfd = epfd, .frame_size = LOAD_HEADER_SIZE + o->payload, .sending = 1};
    memset(out, 0, sizeof *out);
    int rc = -1;
    if (alloc_expected(&r) == 0 && allocate_buffers(&r, sessions) == 0) rc = run_echo(&r, sessions, out);
    free(r.expected);
    return rc;
}
