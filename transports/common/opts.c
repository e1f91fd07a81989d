#include "opts.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static fp_status parse_u64(const char *text, const char **end, uint64_t *out)
{
    uint64_t v = 0;
    const char *p = text;
    if (*p < '0' || *p > '9') return FP_EINVAL;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned digit = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - digit) / 10) return FP_EINVAL;
        v = v * 10 + digit;
    }
    *end = p;
    *out = v;
    return FP_OK;
}

fp_status fpt_parse_size(const char *text, uint64_t *out)
{
    const char *p;
    uint64_t v;
    if (!text || parse_u64(text, &p, &v) != FP_OK) return FP_EINVAL;
    unsigned shift = 0;
    switch (*p) {
    case '\0': break;
    case 'k': case 'K': shift = 10; p++; break;
    case 'm': case 'M': shift = 20; p++; break;
    case 'g': case 'G': shift = 30; p++; break;
    default: return FP_EINVAL;
    }
    if (*p != '\0') return FP_EINVAL;
    if (shift && v > (UINT64_MAX >> shift)) return FP_EINVAL;
    *out = v << shift;
    return FP_OK;
}

fp_status fpt_parse_bool(const char *text, uint64_t *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    if (!text) return FP_EINVAL;
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *out = 1;
            return FP_OK;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *out = 0;
            return FP_OK;
        }
    }
    return FP_EINVAL;
}

static fp_status parse_int(const char *text, uint64_t *out)
{
    const char *end;
    if (!text || parse_u64(text, &end, out) != FP_OK || *end != '\0') return FP_EINVAL;
    return FP_OK;
}

/* 65536 -> "64K": the largest suffix that divides exactly. */
static void format_size(uint64_t v, char *out, size_t out_len)
{
    static const char suffix[] = {'G', 'M', 'K'};
    static const unsigned shift[] = {30, 20, 10};
    for (size_t i = 0; i < sizeof(suffix); i++) {
        uint64_t unit = (uint64_t)1 << shift[i];
        if (v >= unit && v % unit == 0) {
            snprintf(out, out_len, "%llu%c", (unsigned long long)(v / unit), suffix[i]);
            return;
        }
    }
    snprintf(out, out_len, "%llu", (unsigned long long)v);
}

static void describe_expected(const fpt_opt_spec *s, char *out, size_t out_len)
{
    char lo[32], hi[32];
    switch (s->kind) {
    case FPT_OPT_BOOL:
        snprintf(out, out_len, "1 or 0 (true/false, yes/no, on/off)");
        return;
    case FPT_OPT_INT:
        snprintf(out, out_len, "an integer from %llu to %llu", (unsigned long long)s->min,
                 (unsigned long long)s->max);
        return;
    case FPT_OPT_SIZE:
        format_size(s->min, lo, sizeof(lo));
        format_size(s->max, hi, sizeof(hi));
        snprintf(out, out_len, "a byte size (suffix K, M or G) from %s to %s", lo, hi);
        return;
    }
}

static void list_keys(const fpt_opt_spec *specs, size_t n_specs, char *out, size_t out_len)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n_specs && used < out_len; i++) {
        int n = snprintf(out + used, out_len - used, "%s%s", i ? ", " : "", specs[i].key);
        if (n < 0) break;
        used += (size_t)n;
    }
}

static fp_status parse_value(const fpt_opt_spec *s, const char *text, uint64_t *out)
{
    fp_status st;
    switch (s->kind) {
    case FPT_OPT_BOOL: return fpt_parse_bool(text, out);
    case FPT_OPT_INT: st = parse_int(text, out); break;
    case FPT_OPT_SIZE: st = fpt_parse_size(text, out); break;
    default: return FP_EINVAL;
    }
    if (st == FP_OK && (*out < s->min || *out > s->max)) st = FP_EINVAL;
    return st;
}

fp_status fpt_opts_parse(const char *who, const fpt_opt_spec *specs, size_t n_specs,
                         const fp_kv *opts, size_t n_opts, void *settings, char *err,
                         size_t err_len)
{
    char text[512];
    for (size_t i = 0; i < n_opts; i++) {
        const char *key = opts[i].key ? opts[i].key : "";
        const fpt_opt_spec *spec = NULL;
        for (size_t j = 0; j < n_specs && !spec; j++)
            if (strcmp(specs[j].key, key) == 0) spec = &specs[j];
        if (!spec) {
            list_keys(specs, n_specs, text, sizeof(text));
            if (err_len)
                snprintf(err, err_len, "%s: unknown option '%s'; known options: %s", who, key,
                         text);
            return FP_EINVAL;
        }
        uint64_t value;
        if (parse_value(spec, opts[i].value, &value) != FP_OK) {
            describe_expected(spec, text, sizeof(text));
            if (err_len)
                snprintf(err, err_len, "%s: option '%s' has bad value '%s'; expected %s", who,
                         key, opts[i].value ? opts[i].value : "", text);
            return FP_EINVAL;
        }
        memcpy((char *)settings + spec->offset, &value, sizeof(value));
    }
    return FP_OK;
}

fp_status fpt_open_settings(const char *who, const fp_transport_host *host,
                            const fpt_opt_spec *specs, size_t n_specs, const fp_kv *opts,
                            size_t n_opts, void *settings, char *err, size_t err_len)
{
    if (!host || !host->events) {
        if (err_len) snprintf(err, err_len, "%s: open needs a host with an events table", who);
        return FP_EINVAL;
    }
    if (host->events->struct_size < sizeof(fp_transport_events)) {
        if (err_len)
            snprintf(err, err_len, "%s: the engine's events table has %u bytes, %zu needed", who,
                     (unsigned)host->events->struct_size, sizeof(fp_transport_events));
        return FP_EABI;
    }
    return fpt_opts_parse(who, specs, n_specs, opts, n_opts, settings, err, err_len);
}
