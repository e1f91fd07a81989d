#include "echo_modes.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PREFIX "fastport-client: "

static const char *closed_reason(client_link *link)
{
    pthread_mutex_lock(&link->lock);
    fp_status why = link->why;
    link_state state = link->state;
    pthread_mutex_unlock(&link->lock);
    if (state == LINK_OPEN) return NULL;
    return why == FP_OK ? "closed by the server" : fp_strerror(why);
}

/* Why `reply` is not the echo of (request_id, data, text); NULL if it is. */
static const char *echo_mismatch(const link_reply *reply, uint64_t request_id, const uint8_t *data,
                                 size_t data_len, const char *text)
{
    const fpm_echo_response *echo = reply->echo;
    if (!echo) return "reply body does not decode as EchoResponse";
    if (echo->result != FPM_RESULT_OK) return "result is not OK";
    if (!echo->header) return "reply has no header";
    if (echo->header->request_id != request_id + 1) return "request_id is not the request's + 1";
    if (echo->data.len != data_len || (data_len && memcmp(echo->data.data, data, data_len) != 0))
        return "data differs";
    if (strcmp(echo->data_str ? echo->data_str : "", text) != 0) return "data_str differs";
    return NULL;
}

/* One line of `in` into *line (grown as needed), its newline kept: the
 * length, or -1 at the end of input. getline is POSIX, not C11. */
static long read_line(FILE *in, char **line, size_t *cap)
{
    size_t len = 0;
    for (;;) {
        if (*cap - len < 2) {
            size_t grown = *cap ? *cap * 2 : 256;
            char *bigger = realloc(*line, grown);
            if (!bigger) return -1;
            *line = bigger;
            *cap = grown;
        }
        if (!fgets(*line + len, (int)(*cap - len), in)) return len ? (long)len : -1;
        len += strlen(*line + len);
        if ((*line)[len - 1] == '\n') return (long)len;
    }
}

int echo_interactive(client_link *link, FILE *in, FILE *out, uint32_t timeout_ms)
{
    char *line = NULL;
    size_t cap = 0;
    long n;
    uint64_t request_id = 0;
    int failed = 0;
    while ((n = read_line(in, &line, &cap)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
        request_id++;
        fpm_header header = FPM_HEADER_INIT;
        header.request_id = request_id;
        header.timestamp_ms = (uint64_t)time(NULL);
        fpm_echo_request req = FPM_ECHO_REQUEST_INIT;
        req.header = &header;
        req.data_str = line;
        uint64_t sent_ns = 0;
        fp_status st = client_link_send_echo(link, &req, &sent_ns);
        if (st == FP_EINVAL) {
            fprintf(stderr, PREFIX "line %llu: too long for one frame (%ld bytes), not sent\n",
                    (unsigned long long)request_id, n);
            failed = 1;
            continue;
        }
        if (st != FP_OK) {
            const char *why = closed_reason(link);
            fprintf(stderr, PREFIX "cannot send line %llu: %s\n", (unsigned long long)request_id,
                    why ? why : fp_strerror(st));
            failed = 1;
            break;
        }
        link_reply *reply = client_link_next_reply(link, timeout_ms);
        if (!reply) {
            const char *why = closed_reason(link);
            fprintf(stderr, PREFIX "no reply to line %llu: %s\n", (unsigned long long)request_id,
                    why ? why : "timed out");
            failed = 1;
            break;
        }
        const char *bad = echo_mismatch(reply, request_id, NULL, 0, line);
        if (bad) {
            fprintf(stderr, PREFIX "reply #%llu: %s\n", (unsigned long long)request_id, bad);
            failed = 1;
        } else {
            fprintf(out, "reply #%llu: %s (rtt %.1f us)\n", (unsigned long long)request_id,
                    reply->echo->data_str, (double)(reply->received_ns - sent_ns) / 1000.0);
            fflush(out);
        }
        client_link_reply_free(reply);
    }
    free(line);
    return failed;
}

/* xorshift64*: a different, reproducible pattern for every echo. */
static void fill_pseudo_random(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        p[i] = (uint8_t)((x * 0x2545F4914F6CDD1Du) >> 56);
    }
}

int echo_scripted(client_link *link, uint32_t count, uint32_t size, uint32_t timeout_ms, FILE *out)
{
    uint8_t *data = malloc(size ? size : 1);
    if (!data) {
        fprintf(stderr, PREFIX "out of memory\n");
        return 1;
    }
    uint32_t sent = 0, intact = 0, damaged = 0;
    uint64_t rtt_min = UINT64_MAX, rtt_max = 0, rtt_sum = 0;
    const char *stopped = NULL;
    for (uint32_t i = 1; i <= count; i++) {
        char text[48];
        snprintf(text, sizeof text, "fastport-client echo %u", i);
        fill_pseudo_random(data, size, i);
        fpm_header header = FPM_HEADER_INIT;
        header.request_id = i;
        header.timestamp_ms = (uint64_t)time(NULL);
        fpm_echo_request req = FPM_ECHO_REQUEST_INIT;
        req.header = &header;
        req.data.data = data;
        req.data.len = size;
        req.data_str = text;
        uint64_t sent_ns = 0;
        fp_status st = client_link_send_echo(link, &req, &sent_ns);
        if (st != FP_OK) {
            stopped = closed_reason(link);
            if (!stopped) stopped = fp_strerror(st);
            fprintf(stderr, PREFIX "cannot send echo %u: %s\n", i, stopped);
            break;
        }
        sent++;
        link_reply *reply = client_link_next_reply(link, timeout_ms);
        if (!reply) {
            stopped = closed_reason(link);
            if (!stopped) stopped = "timed out";
            fprintf(stderr, PREFIX "no reply to echo %u within %u ms: %s\n", i, timeout_ms, stopped);
            break;
        }
        const char *bad = echo_mismatch(reply, i, data, size, text);
        if (bad) {
            damaged++;
            fprintf(stderr, PREFIX "echo %u: %s\n", i, bad);
        } else {
            intact++;
            uint64_t rtt = reply->received_ns - sent_ns;
            rtt_sum += rtt;
            if (rtt < rtt_min) rtt_min = rtt;
            if (rtt > rtt_max) rtt_max = rtt;
        }
        client_link_reply_free(reply);
    }
    free(data);
    fprintf(out, "echoes: %u requested, %u sent, %u intact, %u damaged, %u lost\n", count, sent,
            intact, damaged, sent - intact - damaged);
    if (intact)
        fprintf(out, "rtt us: min %.1f avg %.1f max %.1f\n", (double)rtt_min / 1000.0,
                (double)rtt_sum / intact / 1000.0, (double)rtt_max / 1000.0);
    return intact == count ? 0 : 1;
}
