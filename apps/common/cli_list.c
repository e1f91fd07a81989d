/*
 * cli_list.c - options that collect values (FP_CLI_LIST): each value, or
 * each comma-separated item of it, appended in order; an item given twice
 * refused where the option wants them unique, or KEY=VALUE pairs as two
 * items each. The items point into argv, or into a copy of a value split at
 * its commas or its '=', which the list owns.
 */
#include <stdlib.h>
#include <string.h>

#include "cli_internal.h"

static fp_cli_list *field_of(void *target, const fp_cli_option *o)
{
    return (fp_cli_list *)((char *)target + o->offset);
}

static int add_item(fp_cli *cli, const fp_cli_option *o, fp_cli_list *list, const char *value,
                    const char *item)
{
    if (o->flags & FP_CLI_UNIQUE)
        for (size_t i = 0; i < list->n; i++)
            if (strcmp(list->items[i], item) == 0)
                return cli_fail(cli, "--%s=%s: '%s' named twice", o->name, value, item);
    const char **items = realloc(list->items, (list->n + 1) * sizeof *items);
    if (!items) return cli_fail(cli, "out of memory");
    list->items = items;
    list->items[list->n++] = item;
    return 0;
}

/* A copy of `value` the list owns, to be cut at its commas. */
static char *own_copy(fp_cli_list *list, const char *value)
{
    size_t len = strlen(value);
    char **copies = realloc(list->copies, (list->n_copies + 1) * sizeof *copies);
    if (!copies) return NULL;
    list->copies = copies;
    char *copy = malloc(len + 1);
    if (!copy) return NULL;
    memcpy(copy, value, len + 1);
    list->copies[list->n_copies++] = copy;
    return copy;
}

/* "KEY=VALUE" as the items KEY and VALUE; the key may not be empty. */
static int add_pair(fp_cli *cli, const fp_cli_option *o, fp_cli_list *list, const char *value,
                    int (*check_item)(fp_cli *cli, const fp_cli_option *o, const char *value,
                                      const char *item))
{
    const char *eq = strchr(value, '=');
    if (!eq || eq == value) return cli_refuse(cli, o, value, FP_CLI_MALFORMED);
    if (check_item(cli, o, value, value) < 0) return -1;
    char *key = own_copy(list, value);
    if (!key) return cli_fail(cli, "out of memory");
    key[eq - value] = '\0';
    if (add_item(cli, o, list, value, key) < 0) return -1;
    return add_item(cli, o, list, value, key + (eq - value) + 1);
}

int cli_list_add(fp_cli *cli, const fp_cli_option *o, const char *value,
                 int (*check_item)(fp_cli *cli, const fp_cli_option *o, const char *value, const char *item))
{
    fp_cli_list *list = field_of(cli->target, o);
    if (o->flags & FP_CLI_PAIRS) return add_pair(cli, o, list, value, check_item);
    if (!(o->flags & FP_CLI_COMMAS)) {
        if (check_item(cli, o, value, value) < 0) return -1;
        return add_item(cli, o, list, value, value);
    }
    char *cursor = own_copy(list, value);
    if (!cursor) return cli_fail(cli, "out of memory");
    for (;;) {
        char *comma = strchr(cursor, ',');
        if (comma) *comma = '\0';
        if (check_item(cli, o, value, cursor) < 0 || add_item(cli, o, list, value, cursor) < 0) return -1;
        if (!comma) return 0;
        cursor = comma + 1;
    }
}

void fp_cli_free(const fp_cli_option *options, size_t n_options, void *target)
{
    for (size_t i = 0; i < n_options; i++) {
        if (!(options[i].flags & FP_CLI_LIST)) continue;
        fp_cli_list *list = field_of(target, &options[i]);
        for (size_t k = 0; k < list->n_copies; k++) free(list->copies[k]);
        free(list->copies);
        free(list->items);
        memset(list, 0, sizeof *list);
    }
}
