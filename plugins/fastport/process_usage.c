#include "process_usage.h"

#include "process_clock.h"

int process_cpu_sampler_init(process_cpu_sampler *sampler)
{
    if (pthread_mutex_init(&sampler->lock, NULL) != 0) return -1;
    sampler->last_cpu_ns = process_cpu_ns();
    sampler->last_wall_ns = process_mono_ns();
    return 0;
}

void process_cpu_sampler_destroy(process_cpu_sampler *sampler)
{
    pthread_mutex_destroy(&sampler->lock);
}

double process_cpu_percent(process_cpu_sampler *sampler)
{
    pthread_mutex_lock(&sampler->lock);
    uint64_t cpu = process_cpu_ns();
    uint64_t wall = process_mono_ns();
    uint64_t cpu_delta = cpu > sampler->last_cpu_ns ? cpu - sampler->last_cpu_ns : 0;
    uint64_t wall_delta = wall > sampler->last_wall_ns ? wall - sampler->last_wall_ns : 0;
    sampler->last_cpu_ns = cpu;
    sampler->last_wall_ns = wall;
    pthread_mutex_unlock(&sampler->lock);
    return wall_delta ? 100.0 * (double)cpu_delta / (double)wall_delta : 0.0;
}
