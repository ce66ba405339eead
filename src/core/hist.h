/* core/hist: log-linear histogram of non-negative values (≤ 1 % relative error), fixed
 * memory, mergeable; shape after HdrHistogram_c. Not thread-safe: one owner per instance. */
#ifndef LLM_HIST_H
#define LLM_HIST_H

#include <stdint.h>
#include <stddef.h>

/* Values are integers in the caller's unit (llmload records microseconds). Buckets: 64
 * sub-buckets per power of two up to 2^HIST_MAX_EXP; larger values land in the top
 * bucket and are counted in `overflow`. */
#define HIST_SUB_BITS 7
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_MAX_EXP 40
#define HIST_BUCKETS ((HIST_MAX_EXP - HIST_SUB_BITS + 2) * (HIST_SUB / 2) + HIST_SUB / 2)

typedef struct {
    uint64_t counts[HIST_BUCKETS];
    uint64_t total;
    uint64_t overflow;
    uint64_t min, max;
    double sum;
} hist;

void hist_init(hist *h);
void hist_reset(hist *h);
void hist_record(hist *h, uint64_t value);
/* p in [0, 100]; 0 when empty. The returned value is within 1 % of the true one. */
uint64_t hist_percentile(const hist *h, double p);
double hist_mean(const hist *h);
/* dst += src (same layout everywhere, so snapshots from several machines add up). */
void hist_add(hist *dst, const hist *src);
/* Bucket index <-> representative value, for exporting buckets as JSON. */
size_t hist_bucket_of(uint64_t value);
uint64_t hist_bucket_low(size_t index);
uint64_t hist_bucket_high(size_t index);

#endif
