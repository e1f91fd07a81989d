/* e2e_server.h with a fastport-server process: the case's configuration
 * becomes its command line, "listening on HOST:PORT" on its stdout gives the
 * address, SIGINT stops it (Wine turns it into CTRL_C_EVENT) and its exit
 * status says how the stop went.
 *
 * A reader thread drains both of its pipes all the time, so a chatty server
 * never blocks on a full pipe while a case drives its clients. Counters
 * come from its "stats: name=value ..." lines on stderr (server_stats.c):
 * it runs with --stats-interval, and a read mid-run uses the second line
 * begun after everything already in the pipe was read. The server flushes
 * each line, so that line was made after the first one was being written,
 * which was after the call: every value in it was taken after the call,
 * however the server buffers stderr. After the stop, the final line
 * (printed after "shutting down") is used.
 *
 * The server dies with the test process that started it (PR_SET_PDEATHSIG),
 * so a failed assertion or a Check timeout cannot leave it running. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "e2e_server_impl.h"

#define STATS_INTERVAL "0.1"        /* seconds between stats lines */
#define START_TIMEOUT_MS 60000      /* failure guard: a Wine start takes ~2 s */
#define STAT_TIMEOUT_MS 30000       /* failure guard: lines come every 0.1 s */
#define LINE_CAP (256u * 1024u)     /* longest line kept whole */
#define TAIL_KEEP 6000u             /* stderr bytes kept for messages */
#define MAX_ARGS 64

typedef struct text {
    char *data;
    size_t len, cap;
} text;

/* An output line being assembled. */
typedef struct line_in {
    text buf;
    int started;     /* a byte of it has arrived */
    int overflowed;  /* longer than LINE_CAP: dropped */
} line_in;

typedef struct process_server {
    e2e_server base;
    pid_t pid;
    int reaped;      /* waitpid collected it; `status` is valid */
    int status;
    int stop_sent;
    int out_fd, err_fd;
    int wake[2];     /* stat requests and the final drain wake the reader */
    pthread_t reader;
    int reader_running;
    char command[1024];

    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t changed;
    line_in out_line, err_line;
    int out_eof, err_eof;
    char transport[64];
    char listening[128];
    text err_tail;
    uint64_t err_lines;     /* stderr lines begun */
    uint64_t marked;        /* stat request the mark below is for */
    uint64_t fresh_after;   /* its lines must be ones begun after this many */
    int fresh_lines;        /* stats lines begun after the mark so far */
    uint64_t requested;     /* stat requests made ... */
    uint64_t served;        /* ... and answered (with `fresh`) */
    text fresh;
    int shutdown_seen;      /* the "shutting down" line went by */
    text final_stats;
    int finish;             /* the reader drains what is there and ends */
} process_server;

/* ---- text ---- */

static int text_append(text *t, const char *data, size_t len)
{
    if (t->len + len + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->len + len + 1) cap *= 2;
        char *grown = realloc(t->data, cap);
        if (!grown) return -1;
        t->data = grown;
        t->cap = cap;
    }
    memcpy(t->data + t->len, data, len);
    t->len += len;
    t->data[t->len] = '\0';
    return 0;
}

static void text_set(text *t, const char *data, size_t len)
{
    t->len = 0;
    text_append(t, data, len);
}

static void text_free(text *t)
{
    free(t->data);
    memset(t, 0, sizeof(*t));
}

static const char *text_str(const text *t) { return t->data ? t->data : ""; }

/* ---- what the reader makes of the server's lines (lock held) ---- */

static void on_stdout_line(process_server *s, const char *line)
{
    const char *v;
    if (strncmp(line, "transport: ", 11) == 0 && !s->transport[0]) {
        v = line + 11;
        snprintf(s->transport, sizeof(s->transport), "%s", v);
    } else if (strncmp(line, "listening on ", 13) == 0 && !s->listening[0]) {
        v = line + 13;
        snprintf(s->listening, sizeof(s->listening), "%s", v);
    }
}

static void keep_tail(text *tail, const char *data, size_t len)
{
    text_append(tail, data, len);
    if (tail->len > 2 * TAIL_KEEP) {
        memmove(tail->data, tail->data + tail->len - TAIL_KEEP, TAIL_KEEP + 1);
        tail->len = TAIL_KEEP;
    }
}

static void on_stderr_line(process_server *s, const char *line, size_t len, uint64_t index)
{
    if (strncmp(line, "stats:", 6) != 0) {
        keep_tail(&s->err_tail, line, len);
        keep_tail(&s->err_tail, "\n", 1);
    }
    if (strncmp(line, "stats:", 6) == 0) {
        if (s->shutdown_seen) text_set(&s->final_stats, line, len);
        if (s->marked > s->served && index > s->fresh_after && ++s->fresh_lines == 2) {
            text_set(&s->fresh, line, len);
            s->served = s->marked;
        }
    } else if (strstr(line, ": shutting down (")) {
        s->shutdown_seen = 1;
    }
}

/* Splits bytes into lines; CR before LF (Windows' stderr) is dropped. */
static void take_bytes(process_server *s, int is_err, const char *data, size_t len)
{
    line_in *l = is_err ? &s->err_line : &s->out_line;
    for (size_t i = 0; i < len; i++) {
        if (!l->started) {
            l->started = 1;
            if (is_err) s->err_lines++;
        }
        if (data[i] != '\n') {
            if (l->buf.len < LINE_CAP) text_append(&l->buf, &data[i], 1);
            else l->overflowed = 1;
            continue;
        }
        size_t n = l->buf.len;
        if (n > 0 && l->buf.data[n - 1] == '\r') l->buf.data[--n] = '\0';
        if (!l->overflowed) {
            if (is_err) on_stderr_line(s, text_str(&l->buf), n, s->err_lines);
            else on_stdout_line(s, text_str(&l->buf));
        }
        l->buf.len = 0;
        if (l->buf.data) l->buf.data[0] = '\0';
        l->started = l->overflowed = 0;
    }
    pthread_cond_broadcast(&s->changed);
}

/* ---- the reader thread ---- */

/* Reads `fd` until it would block; returns 1 at EOF. */
static int drain(process_server *s, int fd, int is_err)
{
    char buf[8192];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n > 0) {
            pthread_mutex_lock(&s->lock);
            take_bytes(s, is_err, buf, (size_t)n);
            pthread_mutex_unlock(&s->lock);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
        }
    }
}

static void drain_open(process_server *s, int *out_eof, int *err_eof)
{
    if (!*out_eof) *out_eof = drain(s, s->out_fd, 0);
    if (!*err_eof) *err_eof = drain(s, s->err_fd, 1);
    pthread_mutex_lock(&s->lock);
    s->out_eof = *out_eof;
    s->err_eof = *err_eof;
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
}

static void *reader_main(void *arg)
{
    process_server *s = arg;
    int out_eof = 0, err_eof = 0;
    for (;;) {
        struct pollfd p[3] = {{.fd = s->wake[0], .events = POLLIN},
                              {.fd = out_eof ? -1 : s->out_fd, .events = POLLIN},
                              {.fd = err_eof ? -1 : s->err_fd, .events = POLLIN}};
        if (poll(p, 3, -1) < 0 && errno != EINTR) break;
        if (p[0].revents) {
            char sink[64];
            while (read(s->wake[0], sink, sizeof(sink)) > 0)
                ;
        }
        /* A request seen before this drain: everything the server wrote
         * before it was made is read by then, so the line that answers it
         * must begin after the lines counted now. */
        pthread_mutex_lock(&s->lock);
        uint64_t requested = s->requested;
        int finish = s->finish;
        pthread_mutex_unlock(&s->lock);
        drain_open(s, &out_eof, &err_eof);
        pthread_mutex_lock(&s->lock);
        if (requested > s->marked) {
            s->marked = requested;
            s->fresh_after = s->err_lines;
            s->fresh_lines = 0;
        }
        pthread_mutex_unlock(&s->lock);
        if (finish) break;
    }
    return NULL;
}

static void wake_reader(process_server *s)
{
    ssize_t n;
    do {
        n = write(s->wake[1], "w", 1);
    } while (n < 0 && errno == EINTR);
}

/* The server has exited (or was killed): read what it left in the pipes,
 * without waiting for an EOF a process it started might hold back. */
static void reader_finish(process_server *s)
{
    if (!s->reader_running) return;
    pthread_mutex_lock(&s->lock);
    s->finish = 1;
    pthread_mutex_unlock(&s->lock);
    wake_reader(s);
    pthread_join(s->reader, NULL);
    s->reader_running = 0;
}

/* ---- the process ---- */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Nonzero once the process has exited (status collected). */
static int child_gone(process_server *s)
{
    if (s->reaped) return 1;
    pid_t r;
    do {
        r = waitpid(s->pid, &s->status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == s->pid || (r < 0 && errno == ECHILD)) s->reaped = 1;
    return s->reaped;
}

static void child_kill(process_server *s)
{
    if (s->reaped) return;
    kill(s->pid, SIGKILL); /* our child, not yet reaped: the PID is still its */
    while (waitpid(s->pid, &s->status, 0) < 0 && errno == EINTR)
        ;
    s->reaped = 1;
}

static void describe_status(int status, char *out, size_t len)
{
    if (WIFEXITED(status)) snprintf(out, len, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) snprintf(out, len, "was killed by signal %d", WTERMSIG(status));
    else snprintf(out, len, "ended with wait status %#x", (unsigned)status);
}

/* Waits on the reader's condition for at most `ms` (lock held). */
static void wait_changed(process_server *s, uint64_t ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)(ms / 1000u);
    until.tv_nsec += (long)(ms % 1000u) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&s->changed, &s->lock, &until);
}

/* "what", the command, and the end of its stderr without the stats lines:
 * the lines kept, then any line left unfinished. */
static void fail_with_output(process_server *s, char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail_with_output(process_server *s, char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= err_len) return;
    pthread_mutex_lock(&s->lock);
    const char *tail = text_str(&s->err_tail);
    size_t tail_len = strlen(tail);
    if (tail_len > 1500) {
        tail += tail_len - 1500;
        const char *nl = strchr(tail, '\n');
        if (nl && nl[1]) tail = nl + 1;
    }
    const char *partial = text_str(&s->err_line.buf);
    if (strncmp(partial, "stats:", 6) == 0) partial = "";
    snprintf(err + n, err_len - (size_t)n,
             "\n  command: %s\n  stderr (end, stats lines left out):\n%s%s", s->command,
             *tail || *partial ? tail : "(nothing)\n", partial);
    pthread_mutex_unlock(&s->lock);
}

/* Value of `name` in a "stats: a=1 b=2" line; -1 if absent. */
static int stats_lookup(const char *line, const char *name, uint64_t *value)
{
    size_t name_len = strlen(name);
    const char *p = line + 6;
    while (*p) {
        while (*p == ' ') p++;
        const char *end = p + strcspn(p, " ");
        if ((size_t)(end - p) > name_len && strncmp(p, name, name_len) == 0 && p[name_len] == '=') {
            char *stop;
            errno = 0;
            unsigned long long v = strtoull(p + name_len + 1, &stop, 10);
            if (errno || stop != end || stop == p + name_len + 1) return -1;
            *value = v;
            return 0;
        }
        p = end;
    }
    return -1;
}

static int lookup_or_fail(const char *line, const char *which, const char *name, uint64_t *value,
                          char *err, size_t err_len)
{
    if (stats_lookup(line, name, value) == 0) return 0;
    snprintf(err, err_len, "no counter '%s' in the server's %s stats line: %.1500s", name, which,
             line);
    return -1;
}

static int stat_after_stop(process_server *s, const char *name, uint64_t *value, char *err,
                           size_t err_len)
{
    if (!s->reaped) {
        snprintf(err, err_len, "counter '%s' asked for after SIGINT, before the server exited",
                 name);
        return -1;
    }
    pthread_mutex_lock(&s->lock);
    char *line = s->final_stats.len ? strdup(text_str(&s->final_stats)) : NULL;
    pthread_mutex_unlock(&s->lock);
    if (!line) {
        fail_with_output(s, err, err_len, "the server printed no stats line after shutting down");
        return -1;
    }
    int rc = lookup_or_fail(line, "final", name, value, err, err_len);
    free(line);
    return rc;
}

static int process_stat(e2e_server *base, const char *name, uint64_t *value, char *err,
                        size_t err_len)
{
    process_server *s = (process_server *)base;
    if (s->stop_sent) return stat_after_stop(s, name, value, err, err_len);
    pthread_mutex_lock(&s->lock);
    uint64_t want = ++s->requested;
    pthread_mutex_unlock(&s->lock);
    wake_reader(s);

    uint64_t deadline = now_ms() + STAT_TIMEOUT_MS;
    pthread_mutex_lock(&s->lock);
    while (s->served < want && now_ms() < deadline && !s->reaped) {
        wait_changed(s, 100);
        pthread_mutex_unlock(&s->lock);
        child_gone(s);
        pthread_mutex_lock(&s->lock);
    }
    char *line = s->served >= want ? strdup(text_str(&s->fresh)) : NULL;
    pthread_mutex_unlock(&s->lock);
    if (!line) {
        char how[64] = "is still running";
        if (s->reaped) describe_status(s->status, how, sizeof(how));
        fail_with_output(s, err, err_len,
                         "counter '%s': no stats line from the server within %d ms (it %s)",
                         name, STAT_TIMEOUT_MS, how);
        return -1;
    }
    int rc = lookup_or_fail(line, "latest", name, value, err, err_len);
    free(line);
    return rc;
}

static void process_stop_request(e2e_server *base)
{
    process_server *s = (process_server *)base;
    if (s->stop_sent) return;
    s->stop_sent = 1;
    if (!child_gone(s)) kill(s->pid, SIGINT);
}

static int process_stop_wait(e2e_server *base, int timeout_ms, char *why, size_t why_len)
{
    process_server *s = (process_server *)base;
    if (!s->stop_sent) {
        snprintf(why, why_len, "no shutdown was requested");
        return -1;
    }
    uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
    while (!child_gone(s) && now_ms() < deadline) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (!s->reaped) {
        child_kill(s);
        reader_finish(s);
        fail_with_output(s, why, why_len, "the server did not exit within %d ms of SIGINT "
                         "(killed)", timeout_ms);
        return -1;
    }
    reader_finish(s);
    if (WIFEXITED(s->status) && WEXITSTATUS(s->status) == 0) return 0;
    char how[64];
    describe_status(s->status, how, sizeof(how));
    fail_with_output(s, why, why_len, "after SIGINT the server %s, expected status 0", how);
    return -1;
}

static void process_destroy(e2e_server *base)
{
    process_server *s = (process_server *)base;
    if (s->pid > 0) child_kill(s);
    reader_finish(s);
    int fds[] = {s->out_fd, s->err_fd, s->wake[0], s->wake[1]};
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
        if (fds[i] >= 0) close(fds[i]);
    text_free(&s->out_line.buf);
    text_free(&s->err_line.buf);
    text_free(&s->err_tail);
    text_free(&s->fresh);
    text_free(&s->final_stats);
    pthread_cond_destroy(&s->changed);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static const e2e_server_ops process_ops = {
    .stat = process_stat,
    .stop_request = process_stop_request,
    .stop_wait = process_stop_wait,
    .destroy = process_destroy,
};

/* ---- start ---- */

typedef struct argv_builder {
    char *argv[MAX_ARGS + 1];
    char storage[4096];
    size_t used;
    int argc;
} argv_builder;

static int arg_add(argv_builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int arg_add(argv_builder *b, const char *fmt, ...)
{
    if (b->argc >= MAX_ARGS) return -1;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->storage + b->used, sizeof(b->storage) - b->used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(b->storage) - b->used) return -1;
    b->argv[b->argc++] = b->storage + b->used;
    b->argv[b->argc] = NULL;
    b->used += (size_t)n + 1;
    return 0;
}

/* The launcher's words, the server, then one option per setting. */
static int build_command(argv_builder *b, const char *launcher, const char *server,
                         const e2e_server_config *c)
{
    int rc = 0;
    if (launcher) {
        char words[1024];
        snprintf(words, sizeof(words), "%s", launcher);
        for (char *save = NULL, *w = strtok_r(words, " \t", &save); w;
             w = strtok_r(NULL, " \t", &save))
            rc |= arg_add(b, "%s", w);
    }
    rc |= arg_add(b, "%s", server);
    rc |= arg_add(b, "--transport=%s", c->transport);
    rc |= arg_add(b, "--plugin=echo");
    rc |= arg_add(b, "--listen=%s", c->listen);
    rc |= arg_add(b, "--workers=%u", c->workers);
    rc |= arg_add(b, "--idle-timeout=%u.%03u", c->idle_timeout_ms / 1000,
                  c->idle_timeout_ms % 1000);
    rc |= arg_add(b, "--max-sessions=%u", c->max_sessions);
    rc |= arg_add(b, "--max-packet=%u", c->max_packet);
    rc |= arg_add(b, "--compress-threshold=%u", c->compress_threshold);
    rc |= arg_add(b, "--send-queue-limit=%u", c->send_queue_limit);
    rc |= arg_add(b, "--drain-timeout=%u.%03u", c->drain_timeout_ms / 1000,
                  c->drain_timeout_ms % 1000);
    rc |= arg_add(b, "--stats-interval=" STATS_INTERVAL);
    /* debug: the stats lines carry transport.* counters too */
    rc |= arg_add(b, "--log-level=debug");
    return rc;
}

/* In the child between fork and exec: async-signal-safe calls only. */
static void exec_child(char *const argv[], pid_t parent, int out_fd, int err_fd)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127); /* the test died before the prctl */
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
        _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    execvp(argv[0], argv);
    /* "e2e: cannot execute PATH (errno N)", without stdio */
    char msg[600] = "e2e: cannot execute ";
    size_t n = strlen(msg), path_len = strlen(argv[0]);
    if (path_len > 500) path_len = 500;
    memcpy(msg + n, argv[0], path_len);
    n += path_len;
    memcpy(msg + n, " (errno ", 8);
    n += 8;
    char digits[12];
    size_t d = 0;
    for (int e = errno; d == 0 || e > 0; e /= 10) digits[d++] = (char)('0' + e % 10);
    while (d > 0) msg[n++] = digits[--d];
    msg[n++] = ')';
    msg[n++] = '\n';
    ssize_t ignored = write(2, msg, n);
    (void)ignored;
    _exit(127);
}

static process_server *process_new(void)
{
    process_server *s = calloc(1, sizeof(*s));
    if (!s) return NULL;
    s->base.ops = &process_ops;
    s->out_fd = s->err_fd = s->wake[0] = s->wake[1] = -1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->changed, &attr);
    pthread_condattr_destroy(&attr);
    return s;
}

static int spawn(process_server *s, char *const argv[], char *err, size_t err_len)
{
    int out[2], errp[2];
    if (pipe2(out, O_CLOEXEC) < 0) goto pipe_failed;
    if (pipe2(errp, O_CLOEXEC) < 0) {
        close(out[0]);
        close(out[1]);
        goto pipe_failed;
    }
    s->out_fd = out[0];
    s->err_fd = errp[0];
    if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
        close(out[1]);
        close(errp[1]);
        goto pipe_failed;
    }
    fcntl(s->out_fd, F_SETFL, O_NONBLOCK);
    fcntl(s->err_fd, F_SETFL, O_NONBLOCK);
    pid_t parent = getpid();
    s->pid = fork();
    if (s->pid == 0) exec_child(argv, parent, out[1], errp[1]);
    int fork_errno = errno;
    close(out[1]);
    close(errp[1]);
    if (s->pid < 0) {
        snprintf(err, err_len, "fork: %s", strerror(fork_errno));
        return -1;
    }
    if (pthread_create(&s->reader, NULL, reader_main, s) != 0) {
        snprintf(err, err_len, "cannot start the thread reading the server's output");
        return -1;
    }
    s->reader_running = 1;
    return 0;
pipe_failed:
    snprintf(err, err_len, "pipe: %s", strerror(errno));
    return -1;
}

/* Until "listening on" or the server's end; bounded. */
static int await_listening(process_server *s, const e2e_server_config *cfg, e2e_endpoint *ep,
                           char *err, size_t err_len)
{
    uint64_t deadline = now_ms() + START_TIMEOUT_MS;
    char listening[128] = "", transport[64] = "";
    for (;;) {
        pthread_mutex_lock(&s->lock);
        if (!s->listening[0] && !(s->out_eof && s->err_eof)) wait_changed(s, 50);
        snprintf(listening, sizeof(listening), "%s", s->listening);
        snprintf(transport, sizeof(transport), "%s", s->transport);
        pthread_mutex_unlock(&s->lock);
        if (listening[0]) break;
        if (child_gone(s)) {
            char how[64];
            describe_status(s->status, how, sizeof(how));
            reader_finish(s);
            fail_with_output(s, err, err_len,
                             "fastport-server %s before printing 'listening on HOST:PORT'", how);
            return -1;
        }
        if (now_ms() >= deadline) {
            child_kill(s);
            reader_finish(s);
            fail_with_output(s, err, err_len,
                             "fastport-server printed no 'listening on HOST:PORT' within %d ms "
                             "(killed)", START_TIMEOUT_MS);
            return -1;
        }
    }
    if (strcmp(transport, cfg->transport) != 0) {
        fail_with_output(s, err, err_len, "fastport-server says 'transport: %s', expected %s",
                         transport[0] ? transport : "(no such line)", cfg->transport);
        return -1;
    }
    if (e2e_endpoint_parse(listening, ep) < 0) {
        fail_with_output(s, err, err_len, "cannot read an address in 'listening on %s'",
                         listening);
        return -1;
    }
    return 0;
}

static e2e_server *start_once(const e2e_server_config *cfg, const char *server, const char *launcher,
                              e2e_endpoint *ep, char *err, size_t err_len)
{
    argv_builder b = {.argc = 0};
    if (build_command(&b, launcher, server, cfg) < 0) {
        snprintf(err, err_len, "the server command line is too long");
        return NULL;
    }
    process_server *s = process_new();
    if (!s) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    size_t used = 0;
    for (int i = 0; i < b.argc && used < sizeof(s->command); i++) {
        int n = snprintf(s->command + used, sizeof(s->command) - used, "%s%s", i ? " " : "",
                         b.argv[i]);
        if (n < 0) break;
        used += (size_t)n;
    }
    if (spawn(s, b.argv, err, err_len) < 0 || await_listening(s, cfg, ep, err, err_len) < 0) {
        process_destroy(&s->base);
        return NULL;
    }
    return &s->base;
}

/* Wine's own client losing its wineserver ("wine client error") ends a
 * Wine-hosted server before it ran any of our code: that start, and only
 * that, is tried once more, and said so. */
e2e_server *e2e_server_process_start(const e2e_server_config *cfg, const char *server,
                                     const char *launcher, e2e_endpoint *ep, char *err,
                                     size_t err_len)
{
    e2e_server *started = start_once(cfg, server, launcher, ep, err, err_len);
    if (!started && launcher && strstr(err, "wine client error")) {
        fprintf(stderr, "e2e: Wine lost its wineserver while starting the server; starting it again\n%s\n",
                err);
        started = start_once(cfg, server, launcher, ep, err, err_len);
    }
    return started;
}
