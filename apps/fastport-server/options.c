#include "options.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Seconds are accepted with up to three decimals and kept in ms; the
 * upper bound keeps every ms value inside the engine's uint32_t fields. */
#define MAX_SECONDS_MS (UINT32_MAX / 1000u * 1000u)
#define MAX_WORKERS 256u

typedef enum option_id {
    OPT_TRANSPORT,
    OPT_PLUGIN,
    OPT_LISTEN,
    OPT_WORKERS,
    OPT_TRANSPORT_DIR,
    OPT_PLUGIN_DIR,
    OPT_TRANSPORT_OPT,
    OPT_PLUGIN_OPT,
    OPT_IDLE_TIMEOUT,
    OPT_MAX_SESSIONS,
    OPT_MAX_PACKET,
    OPT_COMPRESS_THRESHOLD,
    OPT_SEND_QUEUE_LIMIT,
    OPT_DRAIN_TIMEOUT,
    OPT_STATS_INTERVAL,
    OPT_LOG_LEVEL,
    OPT_HELP,
    OPT_VERSION,
    OPT_COUNT
} option_id;

typedef struct option_def {
    option_id id;
    const char *name;  /* without the leading "--" */
    const char *value; /* placeholder shown in help; NULL: takes no value */
    int repeatable;
    const char *help;
} option_def;

static const option_def option_defs[] = {
    /* Its help is printed with the engine's default order. */
    {OPT_TRANSPORT, "transport", "NAME", 0, "transport to use"},
    {OPT_PLUGIN, "plugin", "NAME[,NAME]", 1, "protocol plugins to load, in order (required; repeatable)"},
    {OPT_LISTEN, "listen", "HOST:PORT", 1,
     "address to accept on, [V6]:PORT for IPv6, port 0 picks one (repeatable; default " SERVER_DEFAULT_LISTEN ")"},
    {OPT_WORKERS, "workers", "N", 0, "worker threads, 0..256 (default 0: one per online core)"},
    {OPT_TRANSPORT_DIR, "transport-dir", "DIR", 0, "where transports are found (default <exe>/../lib/fastport/transports)"},
    {OPT_PLUGIN_DIR, "plugin-dir", "DIR", 0, "where plugins are found (default <exe>/../lib/fastport/plugins)"},
    {OPT_TRANSPORT_OPT, "transport-opt", "KEY=VALUE", 1, "option for the transport (repeatable)"},
    {OPT_PLUGIN_OPT, "plugin-opt", "PLUGIN.KEY=VALUE", 1, "option for one loaded plugin (repeatable)"},
    {OPT_IDLE_TIMEOUT, "idle-timeout", "SEC", 0, "close a session that sent nothing for SEC seconds (default 0: never)"},
    {OPT_MAX_SESSIONS, "max-sessions", "N", 0, "refuse connections beyond N open sessions (default 0: unlimited)"},
    {OPT_MAX_PACKET, "max-packet", "BYTES", 0, "largest frame accepted, header included, 4..65535 (default 65535)"},
    {OPT_COMPRESS_THRESHOLD, "compress-threshold", "BYTES", 0,
     "deflate payloads of at least BYTES, 0..65531 (default 0: only when a plugin asks)"},
    {OPT_SEND_QUEUE_LIMIT, "send-queue-limit", "BYTES", 0,
     "per-session cap on queued send bytes, at least --max-packet (default 1048576)"},
    {OPT_DRAIN_TIMEOUT, "drain-timeout", "SEC", 0, "on a stop request, abort sessions still open after SEC seconds (default 5)"},
    {OPT_STATS_INTERVAL, "stats-interval", "SEC", 0, "print counters to stderr every SEC seconds (default 0: never)"},
    {OPT_LOG_LEVEL, "log-level", "LEVEL", 0, "error, warn, info, debug or trace (default info)"},
    {OPT_HELP, "help", NULL, 0, "print this help and exit"},
    {OPT_VERSION, "version", NULL, 0, "print the version and exit"},
};

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

static int push(void *array_ptr, size_t *count, size_t elem_size, const void *elem)
{
    void **array = array_ptr;
    void *grown = realloc(*array, (*count + 1) * elem_size);
    if (!grown) return -1;
    memcpy((char *)grown + *count * elem_size, elem, elem_size);
    *array = grown;
    (*count)++;
    return 0;
}

/* Decimal digits only: no sign, no spaces, no base prefixes. */
static int parse_uint(const char *text, uint64_t max, uint64_t *out)
{
    if (!*text) return -1;
    uint64_t v = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        unsigned digit = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - digit) / 10) return -2;
        v = v * 10 + digit;
    }
    if (v > max) return -2;
    *out = v;
    return 0;
}

/* "SEC" or "SEC.FFF" (up to ms) into ms. */
static int parse_seconds_ms(const char *text, uint32_t *out_ms)
{
    char whole[32];
    const char *dot = strchr(text, '.');
    size_t whole_len = dot ? (size_t)(dot - text) : strlen(text);
    if (whole_len == 0 || whole_len >= sizeof whole) return whole_len == 0 ? -1 : -2;
    memcpy(whole, text, whole_len);
    whole[whole_len] = '\0';
    uint64_t secs;
    int rc = parse_uint(whole, UINT64_MAX, &secs);
    if (rc < 0) return rc;
    uint64_t ms = 0;
    if (dot) {
        const char *frac = dot + 1;
        size_t n = strlen(frac);
        if (n == 0 || n > 3) return -1;
        uint64_t f;
        if (parse_uint(frac, 999, &f) < 0) return -1;
        for (size_t i = n; i < 3; i++) f *= 10;
        ms = f;
    }
    if (secs > MAX_SECONDS_MS / 1000u) return -2;
    ms += secs * 1000u;
    if (ms > MAX_SECONDS_MS) return -2;
    *out_ms = (uint32_t)ms;
    return 0;
}

static int number_option(const option_def *def, const char *value, uint64_t min, uint64_t max,
                         uint32_t *out, char *err, size_t err_len)
{
    uint64_t v = 0;
    int rc = parse_uint(value, max, &v);
    if (rc == -1)
        return fail(err, err_len, "--%s=%s: not a non-negative decimal number", def->name, value);
    if (rc == -2 || v < min)
        return fail(err, err_len, "--%s=%s: out of range (%llu..%llu)", def->name, value,
                    (unsigned long long)min, (unsigned long long)max);
    *out = (uint32_t)v;
    return 0;
}

static int seconds_option(const option_def *def, const char *value, uint32_t *out_ms, char *err,
                          size_t err_len)
{
    int rc = parse_seconds_ms(value, out_ms);
    if (rc == -1)
        return fail(err, err_len, "--%s=%s: expected seconds, e.g. 30 or 0.5", def->name, value);
    if (rc == -2)
        return fail(err, err_len, "--%s=%s: out of range (0..%u seconds)", def->name, value,
                    MAX_SECONDS_MS / 1000u);
    return 0;
}

static int log_level_option(const char *value, fp_log_level *out, char *err, size_t err_len)
{
    static const char *const names[] = {"error", "warn", "info", "debug", "trace"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(value, names[i]) == 0) {
            *out = (fp_log_level)i;
            return 0;
        }
    }
    return fail(err, err_len, "--log-level=%s: expected error, warn, info, debug or trace", value);
}

static int name_list_option(server_options *o, const char *value, char *err, size_t err_len)
{
    char *copy = strdup(value);
    if (!copy || push(&o->plugin_lists, &o->n_plugin_lists, sizeof copy, &copy) < 0) {
        free(copy);
        return fail(err, err_len, "out of memory");
    }
    char *cursor = copy;
    for (;;) {
        char *comma = strchr(cursor, ',');
        if (comma) *comma = '\0';
        if (!*cursor) return fail(err, err_len, "--plugin=%s: empty plugin name", value);
        for (size_t i = 0; i < o->n_plugins; i++)
            if (strcmp(o->plugins[i], cursor) == 0)
                return fail(err, err_len, "--plugin: '%s' named twice", cursor);
        const char *name = cursor;
        if (push(&o->plugins, &o->n_plugins, sizeof name, &name) < 0)
            return fail(err, err_len, "out of memory");
        if (!comma) return 0;
        cursor = comma + 1;
    }
}

/* Splits a copy of "KEY=VALUE" at the first '='. */
static int key_value_option(server_options *o, const option_def *def, const char *value,
                            fp_kv **list, size_t *count, char *err, size_t err_len)
{
    const char *eq = strchr(value, '=');
    if (!eq || eq == value)
        return fail(err, err_len, "--%s=%s: expected %s", def->name, value, def->value);
    char *copy = strdup(value);
    if (!copy || push(&o->kv_storage, &o->n_kv_storage, sizeof copy, &copy) < 0) {
        free(copy);
        return fail(err, err_len, "out of memory");
    }
    copy[eq - value] = '\0';
    fp_kv kv = {copy, copy + (eq - value) + 1};
    if (push(list, count, sizeof kv, &kv) < 0) return fail(err, err_len, "out of memory");
    return 0;
}

static int plugin_opt_checks(const server_options *o, char *err, size_t err_len)
{
    for (size_t i = 0; i < o->n_plugin_opts; i++) {
        const char *key = o->plugin_opts[i].key;
        const char *dot = strchr(key, '.');
        if (!dot || dot == key || dot[1] == '\0')
            return fail(err, err_len, "--plugin-opt=%s=%s: expected PLUGIN.KEY=VALUE", key,
                        o->plugin_opts[i].value);
        size_t plugin_len = (size_t)(dot - key);
        int loaded = 0;
        for (size_t p = 0; p < o->n_plugins && !loaded; p++)
            loaded = strlen(o->plugins[p]) == plugin_len &&
                     strncmp(o->plugins[p], key, plugin_len) == 0;
        if (!loaded)
            return fail(err, err_len, "--plugin-opt=%s=%s: plugin '%.*s' is not loaded by --plugin",
                        key, o->plugin_opts[i].value, (int)plugin_len, key);
    }
    return 0;
}

static int apply_option(server_options *o, const option_def *def, const char *value, char *err,
                        size_t err_len)
{
    fp_engine_config *c = &o->engine;
    switch (def->id) {
    case OPT_TRANSPORT:
    case OPT_TRANSPORT_DIR:
    case OPT_PLUGIN_DIR:
        if (!*value) return fail(err, err_len, "--%s=: empty value", def->name);
        if (def->id == OPT_TRANSPORT) c->transport = value;
        else if (def->id == OPT_TRANSPORT_DIR) c->transport_dir = value;
        else c->plugin_dir = value;
        return 0;
    case OPT_PLUGIN:
        return name_list_option(o, value, err, err_len);
    case OPT_LISTEN: {
        fp_addr addr;
        if (fp_addr_parse(value, &addr) != FP_OK)
            return fail(err, err_len,
                        "--listen=%s: expected HOST:PORT with a numeric host or localhost, "
                        "e.g. 127.0.0.1:6628 or [::1]:6628",
                        value);
        if (push(&o->listen, &o->n_listen, sizeof value, &value) < 0)
            return fail(err, err_len, "out of memory");
        return 0;
    }
    case OPT_WORKERS: {
        uint32_t workers;
        if (number_option(def, value, 0, MAX_WORKERS, &workers, err, err_len) < 0) return -1;
        c->workers = workers;
        return 0;
    }
    case OPT_TRANSPORT_OPT:
        return key_value_option(o, def, value, &o->transport_opts, &o->n_transport_opts, err, err_len);
    case OPT_PLUGIN_OPT:
        return key_value_option(o, def, value, &o->plugin_opts, &o->n_plugin_opts, err, err_len);
    case OPT_IDLE_TIMEOUT:
        return seconds_option(def, value, &c->idle_timeout_ms, err, err_len);
    case OPT_MAX_SESSIONS:
        return number_option(def, value, 0, UINT32_MAX, &c->max_sessions, err, err_len);
    case OPT_MAX_PACKET:
        return number_option(def, value, FP_FRAME_HEADER_SIZE, FP_FRAME_MAX_SIZE, &c->max_packet,
                             err, err_len);
    case OPT_COMPRESS_THRESHOLD:
        return number_option(def, value, 0, FP_PAYLOAD_MAX_SIZE, &c->compress_threshold, err,
                             err_len);
    case OPT_SEND_QUEUE_LIMIT:
        return number_option(def, value, FP_FRAME_HEADER_SIZE, UINT32_MAX, &c->send_queue_limit,
                             err, err_len);
    case OPT_DRAIN_TIMEOUT:
        return seconds_option(def, value, &c->drain_timeout_ms, err, err_len);
    case OPT_STATS_INTERVAL:
        return seconds_option(def, value, &o->stats_interval_ms, err, err_len);
    case OPT_LOG_LEVEL:
        return log_level_option(value, &c->log_level, err, err_len);
    case OPT_HELP:
        o->action = SERVER_HELP;
        return 0;
    case OPT_VERSION:
        if (o->action != SERVER_HELP) o->action = SERVER_VERSION;
        return 0;
    case OPT_COUNT:
        break;
    }
    return fail(err, err_len, "internal error: unhandled option --%s", def->name);
}

static const option_def *find_option(const char *name, size_t name_len)
{
    for (size_t i = 0; i < sizeof option_defs / sizeof option_defs[0]; i++) {
        if (strlen(option_defs[i].name) == name_len &&
            strncmp(option_defs[i].name, name, name_len) == 0)
            return &option_defs[i];
    }
    return NULL;
}

static int parse_one(server_options *o, const char *arg, unsigned char *seen, char *err,
                     size_t err_len)
{
    if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
        return fail(err, err_len, "unexpected argument '%s' (options are --NAME=VALUE)", arg);
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
    const option_def *def = find_option(name, name_len);
    if (!def) return fail(err, err_len, "unknown option '--%.*s'", (int)name_len, name);
    if (def->value && !eq)
        return fail(err, err_len, "option '--%s' needs a value: --%s=%s", def->name, def->name,
                    def->value);
    if (!def->value && eq) return fail(err, err_len, "option '--%s' takes no value", def->name);
    if (seen[def->id] && !def->repeatable)
        return fail(err, err_len, "option '--%s' given more than once", def->name);
    seen[def->id] = 1;
    return apply_option(o, def, eq ? eq + 1 : "", err, err_len);
}

int server_options_parse(server_options *o, int argc, char **argv, char *err, size_t err_len)
{
    memset(o, 0, sizeof *o);
    fp_engine_config_init(&o->engine);
    unsigned char seen[OPT_COUNT] = {0};

    for (int i = 1; i < argc; i++)
        if (parse_one(o, argv[i], seen, err, err_len) < 0) return -1;
    if (o->action != SERVER_RUN) return 0;

    if (o->n_plugins == 0)
        return fail(err, err_len, "no --plugin given: name at least one, e.g. --plugin=echo "
                                  "(--help lists the available plugins)");
    if (plugin_opt_checks(o, err, err_len) < 0) return -1;
    /* 0 in either field means the engine's default, which fits. */
    if (o->engine.send_queue_limit && o->engine.max_packet &&
        o->engine.send_queue_limit < o->engine.max_packet)
        return fail(err, err_len,
                    "--send-queue-limit=%u is smaller than the largest frame (--max-packet=%u)",
                    (unsigned)o->engine.send_queue_limit, (unsigned)o->engine.max_packet);
    if (o->n_listen == 0) {
        const char *fallback = SERVER_DEFAULT_LISTEN;
        if (push(&o->listen, &o->n_listen, sizeof fallback, &fallback) < 0)
            return fail(err, err_len, "out of memory");
    }

    o->engine.plugins = o->plugins;
    o->engine.n_plugins = o->n_plugins;
    o->engine.transport_opts = o->transport_opts;
    o->engine.n_transport_opts = o->n_transport_opts;
    o->engine.plugin_opts = o->plugin_opts;
    o->engine.n_plugin_opts = o->n_plugin_opts;
    return 0;
}

void server_options_free(server_options *o)
{
    for (size_t i = 0; i < o->n_plugin_lists; i++) free(o->plugin_lists[i]);
    for (size_t i = 0; i < o->n_kv_storage; i++) free(o->kv_storage[i]);
    free(o->plugin_lists);
    free(o->kv_storage);
    free(o->plugins);
    free(o->listen);
    free(o->transport_opts);
    free(o->plugin_opts);
    memset(o, 0, sizeof *o);
}

static void print_available(FILE *out, const char *what, const char *dir,
                            size_t (*list)(const char *, char *, size_t))
{
    char names[1024];
    size_t n = list(dir, names, sizeof names);
    fprintf(out, "%s in %s: %s\n", what, dir ? dir : "(unknown directory)", n ? names : "(none)");
}

void server_options_print_help(FILE *out, const char *transport_dir, const char *plugin_dir)
{
    fputs("Usage: fastport-server --plugin=NAME[,NAME] [OPTION]...\n"
          "Serves FastPort's wire protocol with the given protocol plugins until asked to\n"
          "stop (Ctrl-C, SIGINT or SIGTERM; on Windows also a console close), then shuts\n"
          "down gracefully. Every option is --NAME=VALUE.\n\n",
          out);
    for (size_t i = 0; i < sizeof option_defs / sizeof option_defs[0]; i++) {
        const option_def *d = &option_defs[i];
        char left[64];
        if (d->value) snprintf(left, sizeof left, "--%s=%s", d->name, d->value);
        else snprintf(left, sizeof left, "--%s", d->name);
        fprintf(out, "  %-30s ", left);
        if (d->id == OPT_TRANSPORT)
            fprintf(out, "%s (default: the first that works of %s; FP_TRANSPORT overrides)", d->help,
                    fp_default_transport_order());
        else
            fputs(d->help, out);
        fputc('\n', out);
    }
    fputs("\n", out);
    print_available(out, "Transports", transport_dir ? transport_dir : fp_default_transport_dir(),
                    fp_transports_available);
    print_available(out, "Plugins", plugin_dir ? plugin_dir : fp_default_plugin_dir(),
                    fp_plugins_available);
    fputs("\nExit status: 0 after a clean stop, 1 on a runtime failure, 2 on a usage or\n"
          "configuration error.\n",
          out);
}
