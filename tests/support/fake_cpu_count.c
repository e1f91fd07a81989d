/* Built without sanitizer instrumentation (tests/loader.cmake): sanitizer
 * runtimes call sysconf while they initialise, before instrumented code
 * may run. */
#include "fake_cpu_count.h"

#include <stdatomic.h>
#include <unistd.h>

static atomic_long fake_online_cpus;

void fake_cpu_count_set(long cpus) { atomic_store(&fake_online_cpus, cpus); }

/* glibc's own entry point: reaching it needs no dlsym. */
extern long __sysconf(int name);

/* Exported (the tests build with hidden visibility), so it interposes
 * libc's for libfastport too. */
__attribute__((visibility("default"))) long sysconf(int name)
{
    long fake = atomic_load(&fake_online_cpus);
    if (name == _SC_NPROCESSORS_ONLN && fake > 0)
        return fake;
    return __sysconf(name);
}
