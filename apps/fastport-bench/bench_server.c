#include "bench_server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_TIMEOUT_MS 10000
#define EXEC_FAILED 127

static int fail(char *err, size_t err_len, const char *fmt, ...)
    FP_PRINTF_LIKE(3, 4);

static int fail(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return -1;
}

static uint64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

const char *bench_server_default_binary(char *buf, size_t len)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        snprintf(buf, len, "fastport-server");
        return buf;
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash) *slash = '\0';
    snprintf(buf, len, "%s/fastport-server", slash ? self : ".");
    return buf;
}

static const char *level_name(fp_log_level level)
{
    static const char *const names[] = {"error", "warn", "info", "debug", "trace"};
    return (unsigned)level < sizeof names / sizeof names[0] ? names[level] : "warn";
}

/* Runs in the child between fork and exec: async-signal-safe calls only. */
static void exec_server(const bench_server_config *cfg, char *const argv[], int out_fd, int err_fd,
                        pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(EXEC_FAILED); /* the parent died before prctl */
    if (dup2(out_fd, STDOUT_FILENO) < 0 || dup2(err_fd, STDERR_FILENO) < 0) _exit(EXEC_FAILED);
    if (cfg->cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cfg->cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0) {
            static const char msg[] = "fastport-bench: cannot pin the server to the CPU asked\n";
            ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
            (void)w;
            _exit(EXEC_FAILED);
        }
    }
    execv(cfg->binary, argv);
    static const char msg[] = "fastport-bench: cannot execute the server binary\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
    _exit(EXEC_FAILED);
}

/* Reads the child's start-up lines until "listening on ADDR". */
static int read_startup(bench_server *srv, int fd, char *err, size_t err_len)
{
    char buf[1024];
    size_t used = 0;
    uint64_t deadline = monotonic_ms() + START_TIMEOUT_MS;
    for (;;) {
        char *nl;
        while ((nl = memchr(buf, '\n', used)) != NULL) {
            *nl = '\0';
            if (strncmp(buf, "transport: ", 11) == 0)
                snprintf(srv->transport, sizeof srv->transport, "%.63s", buf + 11);
            else if (strncmp(buf, "listening on ", 13) == 0) {
                snprintf(srv->address, sizeof srv->address, "%.79s", buf + 13);
                return 0;
            }
            size_t line = (size_t)(nl - buf) + 1;
            memmove(buf, buf + line, used - line);
            used -= line;
        }
        if (used == sizeof buf) used = 0; /* an absurdly long line: drop it */
        uint64_t now = monotonic_ms();
        if (now >= deadline)
            return fail(err, err_len, "the server printed no 'listening on' line within %d s",
                        START_TIMEOUT_MS / 1000);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = poll(&p, 1, (int)(deadline - now));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(err, err_len, "poll: %s", strerror(errno));
        if (n == 0) continue;
        ssize_t got = read(fd, buf + used, sizeof buf - used);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return fail(err, err_len, "the server exited before listening");
        used += (size_t)got;
    }
}

int bench_server_start(bench_server *srv, const bench_server_config *cfg, char *err,
                       size_t err_len)
{
    memset(srv, 0, sizeof *srv);
    char transport_arg[256], workers_arg[32], dir_arg[4200], level_arg[32];
    snprintf(transport_arg, sizeof transport_arg, "--transport=%s", cfg->transport);
    snprintf(workers_arg, sizeof workers_arg, "--workers=%u", cfg->workers);
    snprintf(level_arg, sizeof level_arg, "--log-level=%s", level_name(cfg->log_level));
    char *argv[] = {(char *)cfg->binary, transport_arg, "--plugin=fastport",
                    "--listen=127.0.0.1:0", workers_arg, level_arg, NULL, NULL};
    if (cfg->transport_dir) {
        snprintf(dir_arg, sizeof dir_arg, "--transport-dir=%s", cfg->transport_dir);
        argv[6] = dir_arg;
    }
    if (access(cfg->binary, X_OK) != 0)
        return fail(err, err_len, "server binary %s: %s (--server-bin names another)", cfg->binary,
                    strerror(errno));

    srv->log = tmpfile();
    int out[2];
    if (!srv->log || pipe2(out, O_CLOEXEC) != 0) {
        int e = errno;
        if (srv->log) fclose(srv->log);
        srv->log = NULL;
        return fail(err, err_len, "cannot set up the server's output: %s", strerror(e));
    }
    fflush(NULL); /* no buffered output duplicated into the child */
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(out[0]);
        close(out[1]);
        return fail(err, err_len, "fork: %s", strerror(e));
    }
    if (pid == 0) exec_server(cfg, argv, out[1], fileno(srv->log), parent);
    close(out[1]);
    srv->pid = pid;
    int rc = read_startup(srv, out[0], err, err_len);
    /* Later stdout writes get EPIPE, which the server ignores. */
    close(out[0]);
    if (rc < 0) {
        char stop_err[128];
        bench_server_stop(srv, 2000, stop_err, sizeof stop_err);
    }
    return rc;
}

int bench_server_cpu_ns(const bench_server *srv, uint64_t *out_ns)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)srv->pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = '\0';
    /* The command name may hold spaces and parentheses: count fields from
     * the last ')'. utime and stime are fields 14 and 15. */
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    p++;
    unsigned long long utime = 0, stime = 0;
    for (int field = 3; field <= 15; field++) {
        while (*p == ' ') p++;
        if (!*p) return -1;
        char *end;
        unsigned long long v = strtoull(p, &end, 10);
        if (field == 14) utime = v;
        if (field == 15) stime = v;
        p = end;
        while (*p && *p != ' ') p++; /* the state letter is no number */
    }
    long ticks = sysconf(_SC_CLK_TCK);
    if (ticks <= 0) return -1;
    *out_ns = (uint64_t)((utime + stime) * (1000000000ull / (unsigned long long)ticks));
    return 0;
}

int bench_server_stop(bench_server *srv, unsigned timeout_ms, char *err, size_t err_len)
{
    if (srv->pid <= 0) return 0;
    pid_t pid = srv->pid;
    kill(pid, SIGTERM);
    uint64_t deadline = monotonic_ms() + timeout_ms;
    int status = 0;
    pid_t got;
    while ((got = waitpid(pid, &status, WNOHANG)) == 0 && monotonic_ms() < deadline) sleep_ms(10);
    int rc;
    if (got == 0) {
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        rc = fail(err, err_len, "server %ld did not stop within %u ms of SIGTERM; killed",
                  (long)pid, timeout_ms);
    } else if (got < 0) {
        rc = fail(err, err_len, "waitpid %ld: %s", (long)pid, strerror(errno));
    } else if (WIFSIGNALED(status)) {
        rc = fail(err, err_len, "server %ld died of signal %d", (long)pid, WTERMSIG(status));
    } else {
        rc = WEXITSTATUS(status);
        if (rc != 0) snprintf(err, err_len, "server %ld exited with status %d", (long)pid, rc);
    }
    srv->pid = 0;
    return rc;
}

void bench_server_show_log(const bench_server *srv, FILE *out, size_t max_lines)
{
    if (!srv->log || fseek(srv->log, 0, SEEK_END) != 0) return;
    long size = ftell(srv->log);
    if (size <= 0) return;
    char *text = malloc((size_t)size + 1);
    if (!text) return;
    rewind(srv->log);
    size_t n = fread(text, 1, (size_t)size, srv->log);
    text[n] = '\0';
    size_t lines = 0;
    char *start = text + n;
    while (start > text) {
        if (start[-1] == '\n' && start != text + n && ++lines > max_lines) break;
        start--;
    }
    for (char *line = start; *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        fprintf(out, "  server: %s\n", line);
        if (!nl) break;
        line = nl + 1;
    }
    free(text);
}

void bench_server_release(bench_server *srv)
{
    if (srv->log) fclose(srv->log);
    srv->log = NULL;
}
