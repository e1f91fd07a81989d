/*
 * cli_help.c - the option lines of --help, written from the same table the
 * parser reads, so what help says is what the parser accepts: each line is
 * the option and its placeholder, the help text, then the accepted range or
 * words, and whether it is required, repeatable and what its default is.
 */
#include <string.h>

#include "cli_internal.h"

static void left_column(const fp_cli_option *o, char *out, size_t out_len)
{
    if (o->value)
        snprintf(out, out_len, "--%s=%s", o->name, o->value);
    else
        snprintf(out, out_len, "--%s", o->name);
}

/* ", 0..256" or ", one of: error, warn" after the help text. */
static void print_accepted(FILE *out, const fp_cli_option *o)
{
    char bounds[64];
    switch (o->type) {
    case FP_CLI_UNSIGNED:
    case FP_CLI_SECONDS:
    case FP_CLI_RANGE:
        if (cli_bounds_are_the_field(o)) return;
        cli_format_bounds(o, bounds, sizeof bounds);
        fprintf(out, ", %s", bounds);
        return;
    case FP_CLI_CHOICE:
        fputs(", one of:", out);
        for (size_t i = 0; o->choices[i]; i++) fprintf(out, "%s %s", i ? "," : "", o->choices[i]);
        return;
    case FP_CLI_FLAG:
    case FP_CLI_STRING:
    case FP_CLI_ADDRESS: return;
    }
}

/* " (required; repeatable; default 5: note)", or nothing. */
static void print_notes(FILE *out, const fp_cli_option *o)
{
    const char *sep = " (";
    if (o->flags & FP_CLI_REQUIRED) {
        fprintf(out, "%srequired", sep);
        sep = "; ";
    }
    if (o->flags & FP_CLI_REPEATABLE) {
        fprintf(out, "%srepeatable", sep);
        sep = "; ";
    }
    if (o->def || o->def_note || o->def_fn) {
        fprintf(out, "%sdefault", sep);
        if (o->def) fprintf(out, " %s", o->def);
        if (o->def_note) fprintf(out, "%s %s", o->def ? ":" : "", o->def_note);
        if (o->def_fn) fprintf(out, " %s", o->def_fn());
        sep = "; ";
    }
    if (strcmp(sep, "; ") == 0) fputc(')', out);
}

void fp_cli_print_options(FILE *out, const fp_cli_option *options, size_t n_options)
{
    char left[128];
    int width = 0;
    for (size_t i = 0; i < n_options; i++) {
        left_column(&options[i], left, sizeof left);
        int len = (int)strlen(left);
        if (len > width) width = len;
    }
    for (size_t i = 0; i < n_options; i++) {
        const fp_cli_option *o = &options[i];
        left_column(o, left, sizeof left);
        fprintf(out, "  %-*s  %s", width, left, o->help);
        print_accepted(out, o);
        print_notes(out, o);
        fputc('\n', out);
    }
}
