/* A sysconf that reports a chosen number of online cores, interposed on
 * libc's for the whole process (libfastport included): how a test puts
 * the engine on a machine it is not running on. */
#ifndef FP_TEST_FAKE_CPU_COUNT_H
#define FP_TEST_FAKE_CPU_COUNT_H

/* 0 goes back to the real count. */
void fake_cpu_count_set(long cpus);

#endif
