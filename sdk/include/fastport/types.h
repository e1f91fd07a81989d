/*
 * fastport/types.h - small value types shared by every FastPort ABI.
 */
#ifndef FASTPORT_TYPES_H
#define FASTPORT_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "fastport/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the few symbols a FastPort library exports; everything else is
 * built with hidden visibility. */
#if defined(_WIN32)
#define FP_EXPORT __declspec(dllexport)
#else
#define FP_EXPORT __attribute__((visibility("default")))
#endif

/* printf-style format checking of argument `fmt` against the arguments
 * from `first` (0: a va_list). mingw-w64 names the C99 formats gnu_printf;
 * its plain printf means msvcrt's, which lacks %zu and %llu. */
#if defined(__MINGW32__)
#define FP_PRINTF_LIKE(fmt, first) __attribute__((format(gnu_printf, fmt, first)))
#elif defined(__GNUC__)
#define FP_PRINTF_LIKE(fmt, first) __attribute__((format(printf, fmt, first)))
#else
#define FP_PRINTF_LIKE(fmt, first)
#endif

/* An IPv4 or IPv6 endpoint, independent of the platform's sockaddr. */
typedef enum fp_addr_family { FP_AF_UNSPEC = 0, FP_AF_INET = 4, FP_AF_INET6 = 6 } fp_addr_family;

typedef struct fp_addr {
    uint8_t family;    /* fp_addr_family */
    uint8_t reserved;
    uint16_t port;     /* host byte order */
    uint32_t scope_id; /* IPv6 scope, 0 otherwise */
    uint8_t bytes[16]; /* network byte order; IPv4 uses the first 4 */
} fp_addr;

/* One key=value option. Both strings are owned by the caller and only
 * borrowed for the duration of the call they are passed to. */
typedef struct fp_kv {
    const char *key;
    const char *value;
} fp_kv;

/* A writable window of transport-owned memory. `token` is the transport's
 * own bookkeeping and must be passed back untouched. */
typedef struct fp_span {
    uint8_t *data;
    size_t len;
    void *token;
} fp_span;

typedef enum fp_log_level {
    FP_LOG_ERROR = 0,
    FP_LOG_WARN = 1,
    FP_LOG_INFO = 2,
    FP_LOG_DEBUG = 3,
    FP_LOG_TRACE = 4
} fp_log_level;

/* Receives one counter; `name` is valid only during the call. */
typedef void (*fp_stat_fn)(void *ctx, const char *name, uint64_t value);

#ifdef __cplusplus
}
#endif
#endif
