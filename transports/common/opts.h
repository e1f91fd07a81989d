/*
 * opts.h - the key=value option parser shared by transports.
 *
 * opts.c is compiled into each transport DSO (hidden visibility), so these
 * names never leave the library.
 *
 * A transport describes its options in a table of fpt_opt_spec, each naming
 * a uint64_t field of the transport's settings struct; fpt_opts_parse fills
 * the fields and rejects unknown keys and bad values with a message that
 * names the key and what is accepted.
 */
#ifndef FP_TRANSPORT_COMMON_OPTS_H
#define FP_TRANSPORT_COMMON_OPTS_H

#include <stddef.h>
#include <stdint.h>

#include "fastport/transport.h"
#include "fastport/types.h"

typedef enum fpt_opt_kind {
    FPT_OPT_BOOL, /* 1/0, true/false, yes/no, on/off */
    FPT_OPT_INT,  /* a decimal integer */
    FPT_OPT_SIZE  /* bytes, with an optional K, M or G suffix (powers of 1024) */
} fpt_opt_kind;

typedef struct fpt_opt_spec {
    const char *key;
    fpt_opt_kind kind;
    uint64_t min, max; /* inclusive; ignored for FPT_OPT_BOOL */
    size_t offset;     /* offsetof the uint64_t field in the settings struct */
} fpt_opt_spec;

/* Parses "123", "64K", "16m", "1G" into bytes; FP_EINVAL on junk or overflow. */
fp_status fpt_parse_size(const char *text, uint64_t *out);

/* Parses a boolean word or 0/1. */
fp_status fpt_parse_bool(const char *text, uint64_t *out);

/* Applies `opts` to `settings` (whose fields already hold the defaults).
 * `who` prefixes error messages (the transport name). Later duplicates win. */
fp_status fpt_opts_parse(const char *who, const fpt_opt_spec *specs, size_t n_specs,
                         const fp_kv *opts, size_t n_opts, void *settings, char *err,
                         size_t err_len);

/* What every transport's open() starts with: the host must carry an events
 * table at least as large as the one the transport was built with (else
 * FP_EABI), then `opts` are applied to `settings` as fpt_opts_parse does. */
fp_status fpt_open_settings(const char *who, const fp_transport_host *host,
                            const fpt_opt_spec *specs, size_t n_specs, const fp_kv *opts,
                            size_t n_opts, void *settings, char *err, size_t err_len);

#endif
