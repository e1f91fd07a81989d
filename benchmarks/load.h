/*
 * load.h - fp-echo-load, an echo load client independent of libfastport:
 * its own sockets, epoll loop and framing, so it measures the engine
 * without sharing its bugs. One thread; loopback targets only.
 */
#ifndef FASTPORT_BENCH_LOAD_H
#define FASTPORT_BENCH_LOAD_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

#define LOAD_HEADER_SIZE 4u
#define LOAD_FRAME_MAX 65535u
#define LOAD_PAYLOAD_MAX (LOAD_FRAME_MAX - LOAD_HEADER_SIZE)

typedef struct load_options {
    const char *program;         /* prefixes the messages of load_connect_all */
    const char *connect_text;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    uint32_t sessions;
    uint32_t depth;
    uint32_t payload;
    uint64_t duration_ms;
    uint64_t warmup_ms;
    uint64_t hold_ms;            /* idle mode; 0: until a signal */
    uint64_t connect_timeout_ms;
    uint32_t connect_batch;      /* connects in progress at once */
    uint32_t rcvbuf;             /* SO_RCVBUF of each session; 0: the kernel's default */
    long server_pid;             /* 0: none */
    int csv;
    int idle;
    int help;
} load_options;

enum { LOAD_CONNECTING, LOAD_OPEN, LOAD_CLOSED };

typedef struct load_session {
    int fd;
    uint32_t index;
    uint8_t state;
    uint8_t out_armed;      /* EPOLLOUT is in the interest set */
    uint32_t in_flight;
    uint64_t next_send_seq;
    uint64_t next_recv_seq;
    uint8_t *tx;            /* frames written but not yet sent: [tx_off, tx_len) */
    size_t tx_off, tx_len, tx_cap;
    uint8_t *rx;            /* bytes of replies not yet parsed: [0, rx_len) */
    size_t rx_len, rx_cap;
} load_session;

typedef struct load_result {
    uint64_t replies;          /* in the measured window */
    uint64_t window_ns;
    uint64_t errors;
    uint64_t server_cpu_us;    /* in the measured window; valid if has_server_cpu */
    uint64_t client_cpu_us;    /* this process, in the measured window */
    int has_server_cpu;
} load_result;

/* load_options.c */
int load_options_parse(load_options *o, int argc, char **argv, char *err, size_t err_len);
void load_options_print_help(FILE *out);

/* load_connect.c: opens every session, at most connect_batch at a time.
 * Returns 0 when all are open, -1 (reason on stderr) otherwise. */
int load_connect_all(const load_options *o, int epfd, load_session *sessions);
void load_close_all(load_session *sessions, uint32_t n);
uint64_t load_now_ns(void);

/* load_echo.c: the closed-loop echo workload. */
int load_run_echo(const load_options *o, int epfd, load_session *sessions, load_result *out);

/* load_idle.c: hold every session open without traffic. */
int load_run_idle(const load_options *o, int epfd, load_session *sessions);

/* proc_cpu.c: utime + stime of `pid` in µs, from /proc/PID/stat. */
int load_proc_cpu_us(long pid, uint64_t *out_us);
/* user + system time of this process in µs. */
uint64_t load_self_cpu_us(void);

#endif
