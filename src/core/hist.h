/* core/hist: log-linear histogram of non-negative integers (≤ 1 % relative error), fixed
 * memory, mergeable; shape after HdrHistogram_c. Not thread-safe: one owner per instance. */
#ifndef LLM_HIST_H
#define LLM_HIST_H

#include <stddef.h>
#include <stdint.h>

/* Values are integers in the caller's unit (llmload records microseconds, so the range
 * 1 µs .. 2^40 µs ≈ 12.7 days). Layout:
 *   - values below HIST_SUB (128) have a bucket each: exact;
 *   - above, every power of two [2^k, 2^(k+1)) is split into HIST_SUB / 2 = 64 equal
 *     buckets, so a bucket is at most 1/64 (1.6 %) of its low edge wide and its midpoint
 *     is within 0.8 % of any value in it;
 *   - values ≥ 2^HIST_MAX_EXP are counted in `overflow` and in the top bucket (min, max,
 *     mean stay exact). */
#define HIST_SUB_BITS 7
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_HALF (HIST_SUB / 2)
#define HIST_MAX_EXP 40
#define HIST_BUCKETS (HIST_SUB + (HIST_MAX_EXP - HIST_SUB_BITS) * HIST_HALF)

typedef struct {
    uint64_t counts[HIST_BUCKETS];
    uint64_t total;
    uint64_t overflow; /* values ≥ 2^HIST_MAX_EXP */
    uint64_t min, max; /* exact; 0 when empty */
    double sum;        /* exact sum of the recorded values, for the mean */
} hist;

/* Empties h (same as hist_reset). */
void hist_init(hist *h);
void hist_reset(hist *h);
void hist_record(hist *h, uint64_t value);
/* Records value n times (events that share one value, such as tokens of one read). */
void hist_record_n(hist *h, uint64_t value, uint64_t n);
/* Nearest-rank percentile: the value of rank ceil(p/100 * total), p in [0, 100]; 0 when
 * empty. Returns the midpoint of that value's bucket clamped to [min, max], so it is
 * within 1 % of the exact one; p = 0 gives min and p = 100 gives max exactly. */
uint64_t hist_percentile(const hist *h, double p);
/* Exact mean; 0 when empty. */
double hist_mean(const hist *h);
/* dst += src (same layout everywhere, so snapshots from several machines add up). */
void hist_add(hist *dst, const hist *src);
/* Bucket index <-> values, for exporting buckets as JSON: bucket i holds the values in
 * [hist_bucket_low(i), hist_bucket_high(i)) (high is exclusive). */
size_t hist_bucket_of(uint64_t value);
uint64_t hist_bucket_low(size_t index);
uint64_t hist_bucket_high(size_t index);

#endif
