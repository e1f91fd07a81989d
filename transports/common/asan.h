/*
 * asan.h - poisoning of memory a transport keeps but must not touch (a
 * free connection, a cached chunk), so AddressSanitizer reports a touch
 * after release. No-ops in other builds.
 */
#ifndef FP_TRANSPORT_COMMON_ASAN_H
#define FP_TRANSPORT_COMMON_ASAN_H

#if defined(__SANITIZE_ADDRESS__)
#define FPT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FPT_ASAN 1
#endif
#endif

#ifdef FPT_ASAN
#include <sanitizer/asan_interface.h>
#define FPT_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define FPT_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define FPT_POISON(p, n) ((void)(p), (void)(n))
#define FPT_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#endif
