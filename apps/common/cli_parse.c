/*
 * cli_parse.c - walks argv against an option table: finds each option,
 * refuses what its shape forbids (no value, a value on a flag, a second
 * time), parses the value by its type and stores it in the program's
 * field; then applies the defaults and asks for the required options.
 */
#include <string.h>

#include "cli_internal.h"

void fp_cli_init(fp_cli *cli, const char *program, const fp_cli_option *options, size_t n_options,
                 void *target, char *err, size_t err_len)
{
    *cli = (fp_cli){.program = program, .options = options, .n_options = n_options, .target = target,
                    .err = err, .err_len = err_len};
    if (err_len) err[0] = '\0';
}

unsigned fp_cli_given(const fp_cli *cli, size_t index)
{
    return index < cli->n_options && index < FP_CLI_MAX_OPTIONS ? cli->given[index] : 0;
}

int fp_cli_action_given(const fp_cli *cli)
{
    for (size_t i = 0; i < cli->n_options; i++)
        if ((cli->options[i].flags & FP_CLI_ACTION) && fp_cli_given(cli, i)) return 1;
    return 0;
}

/* Stores `v` into an unsigned (or bool, enum, non-negative int) field of
 * o->size bytes at `offset`. */
static int store_number(fp_cli *cli, const fp_cli_option *o, size_t offset, uint64_t v)
{
    uint8_t u8 = (uint8_t)v;
    uint16_t u16 = (uint16_t)v;
    uint32_t u32 = (uint32_t)v;
    const void *bytes = o->size == 1   ? (const void *)&u8
                        : o->size == 2 ? (const void *)&u16
                        : o->size == 4 ? (const void *)&u32
                                       : (const void *)&v;
    int fits = o->size == 8 ||
               ((o->size == 1 || o->size == 2 || o->size == 4) && v < (UINT64_C(1) << (8 * o->size)));
    if (!fits)
        return cli_fail(cli, "internal error: --%s's field of %zu bytes cannot hold %llu", o->name, o->size,
                        (unsigned long long)v);
    memcpy((char *)cli->target + offset, bytes, o->size);
    return 0;
}

/* One STRING or ADDRESS value, or one item of a list of them. */
static int check_text(fp_cli *cli, const fp_cli_option *o, const char *value, const char *item)
{
    if (!*item) {
        if (item == value) return cli_refuse(cli, o, value, FP_CLI_MALFORMED);
        return cli_fail(cli, "--%s=%s: an empty item in the comma-separated list", o->name, value);
    }
    if (o->type == FP_CLI_ADDRESS) {
        char host[256];
        uint16_t port;
        int rc = fp_cli_parse_host_port(item, host, sizeof host, o->min, o->max, &port);
        if (rc != FP_CLI_OK) return cli_refuse(cli, o, item, rc);
    }
    const char *expected = o->check ? o->check(item, cli->target) : NULL;
    if (!expected) return 0;
    if (item == value) return cli_fail(cli, "--%s=%s: expected %s", o->name, value, expected);
    return cli_fail(cli, "--%s=%s: '%s': expected %s", o->name, value, item, expected);
}

static int apply_text(fp_cli *cli, const fp_cli_option *o, const char *value)
{
    if (o->flags & FP_CLI_LIST) return cli_list_add(cli, o, value, check_text);
    if (check_text(cli, o, value, value) < 0) return -1;
    memcpy((char *)cli->target + o->offset, &value, sizeof value);
    return 0;
}

static int apply_choice(fp_cli *cli, const fp_cli_option *o, const char *value)
{
    for (size_t i = 0; o->choices[i]; i++)
        if (strcmp(o->choices[i], value) == 0) return store_number(cli, o, o->offset, i);
    return cli_refuse(cli, o, value, FP_CLI_MALFORMED);
}

/* Parses `value` (NULL for a flag) by o's type into o's field. */
static int apply(fp_cli *cli, const fp_cli_option *o, const char *value)
{
    uint64_t lo = 0, hi = 0;
    int rc = FP_CLI_OK;
    switch (o->type) {
    case FP_CLI_FLAG: return store_number(cli, o, o->offset, 1);
    case FP_CLI_STRING:
    case FP_CLI_ADDRESS: return apply_text(cli, o, value);
    case FP_CLI_CHOICE: return apply_choice(cli, o, value);
    case FP_CLI_UNSIGNED:
        rc = fp_cli_parse_unsigned(value, o->flags & FP_CLI_HEX, o->min, o->max, &lo);
        break;
    case FP_CLI_SECONDS: rc = fp_cli_parse_seconds(value, o->min, o->max, &lo); break;
    case FP_CLI_RANGE: rc = fp_cli_parse_range(value, o->min, o->max, &lo, &hi); break;
    }
    if (rc != FP_CLI_OK) return cli_refuse(cli, o, value, rc);
    if (store_number(cli, o, o->offset, lo) < 0) return -1;
    return o->type == FP_CLI_RANGE ? store_number(cli, o, o->offset2, hi) : 0;
}

static const fp_cli_option *find(const fp_cli *cli, const char *name, size_t name_len, size_t *index)
{
    for (size_t i = 0; i < cli->n_options; i++) {
        const char *candidate = cli->options[i].name;
        if (strlen(candidate) == name_len && strncmp(candidate, name, name_len) == 0) {
            *index = i;
            return &cli->options[i];
        }
    }
    return NULL;
}

static int parse_arg(fp_cli *cli, const char *arg)
{
    if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0' || arg[2] == '=')
        return cli_fail(cli, "unexpected argument '%s': options are --NAME=VALUE", arg);
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
    size_t index;
    const fp_cli_option *o = find(cli, name, name_len, &index);
    if (!o) return cli_fail(cli, "unknown option '--%.*s'", (int)name_len, name);
    if (o->type == FP_CLI_FLAG && eq) return cli_fail(cli, "option '--%s' takes no value", o->name);
    if (o->type != FP_CLI_FLAG && !eq)
        return cli_fail(cli, "option '--%s' needs a value: --%s=%s", o->name, o->name, o->value);
    if (cli->given[index] && !(o->flags & FP_CLI_REPEATABLE))
        return cli_fail(cli, "option '--%s' given more than once", o->name);
    cli->given[index]++;
    return apply(cli, o, eq ? eq + 1 : NULL);
}

/* After argv, not before: a list's default (--listen's) is used only when
 * no value is given, and a given value is never one a default put there. */
static int apply_defaults(fp_cli *cli)
{
    for (size_t i = 0; i < cli->n_options; i++) {
        const fp_cli_option *o = &cli->options[i];
        if (cli->given[i] || !o->def) continue;
        if (apply(cli, o, o->type == FP_CLI_FLAG ? NULL : o->def) < 0)
            return cli_fail(cli, "internal error: the default of --%s, '%s', is refused", o->name, o->def);
    }
    return 0;
}

int fp_cli_parse(fp_cli *cli, int argc, char **argv)
{
    if (cli->n_options > FP_CLI_MAX_OPTIONS)
        return cli_fail(cli, "internal error: %zu options, more than the %d a table may have", cli->n_options,
                        FP_CLI_MAX_OPTIONS);
    for (int i = 1; i < argc; i++)
        if (parse_arg(cli, argv[i]) < 0) return -1;
    if (apply_defaults(cli) < 0) return -1;
    if (fp_cli_action_given(cli)) return 0;
    for (size_t i = 0; i < cli->n_options; i++) {
        const fp_cli_option *o = &cli->options[i];
        if ((o->flags & FP_CLI_REQUIRED) && !cli->given[i])
            return cli_fail(cli, "--%s=%s is required", o->name, o->value);
    }
    return 0;
}
