#include "counters.h"

typedef enum { SUM, MAX } fp_combine;

static const struct {
    const char *name;
    fp_combine how;
} counter_info[FP_C__COUNT] = {
#define FP_COUNTER_INFO(name, how) {#name, how},
    FP_ENGINE_COUNTERS(FP_COUNTER_INFO)
#undef FP_COUNTER_INFO
};

void fp_counters_emit(fp_counters *const *sets, unsigned n, fp_stat_fn emit, void *ctx)
{
    for (int id = 0; id < FP_C__COUNT; id++) {
        uint64_t total = 0;
        for (unsigned w = 0; w < n; w++) {
            uint64_t v = fp_count_get(sets[w], (fp_counter_id)id);
            if (counter_info[id].how == SUM)
                total += v;
            else if (v > total)
                total = v;
        }
        emit(ctx, counter_info[id].name, total);
    }
}
