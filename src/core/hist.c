/* core/hist: log-linear histogram (see hist.h for the bucket layout). */
#include "core/hist.h"

#include <math.h>
#include <string.h>

#define HIST_LIMIT (1ULL << HIST_MAX_EXP) /* first value counted as overflow */

void hist_init(hist *h)
{
    memset(h, 0, sizeof *h);
}

void hist_reset(hist *h)
{
    hist_init(h);
}

static unsigned floor_log2(uint64_t v)
{
    return 63u - (unsigned)__builtin_clzll(v);
}

size_t hist_bucket_of(uint64_t value)
{
    if (value >= HIST_LIMIT)
        value = HIST_LIMIT - 1;
    if (value < HIST_SUB)
        return (size_t)value;
    unsigned k = floor_log2(value); /* HIST_SUB_BITS .. HIST_MAX_EXP - 1 */
    unsigned shift = k - (HIST_SUB_BITS - 1);
    size_t sub = (size_t)(value >> shift) - HIST_HALF; /* 0 .. HIST_HALF - 1 */
    return HIST_SUB + (size_t)(k - HIST_SUB_BITS) * HIST_HALF + sub;
}

uint64_t hist_bucket_low(size_t index)
{
    if (index < HIST_SUB)
        return index;
    size_t octave = (index - HIST_SUB) / HIST_HALF;
    size_t sub = (index - HIST_SUB) % HIST_HALF + HIST_HALF;
    return (uint64_t)sub << (octave + 1);
}

uint64_t hist_bucket_high(size_t index)
{
    if (index < HIST_SUB)
        return index + 1;
    size_t octave = (index - HIST_SUB) / HIST_HALF;
    return hist_bucket_low(index) + (1ULL << (octave + 1));
}

void hist_record_n(hist *h, uint64_t value, uint64_t n)
{
    if (n == 0)
        return;
    h->counts[hist_bucket_of(value)] += n;
    if (value >= HIST_LIMIT)
        h->overflow += n;
    if (h->total == 0 || value < h->min)
        h->min = value;
    if (value > h->max)
        h->max = value;
    h->total += n;
    h->sum += (double)value * (double)n;
}

void hist_record(hist *h, uint64_t value)
{
    hist_record_n(h, value, 1);
}

static uint64_t clamp_u64(uint64_t v, uint64_t lo, uint64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Rank (1-based) of the nearest-rank percentile; the epsilon keeps 99.9 % of 1000 at 999
 * despite binary floating point. */
static uint64_t percentile_rank(uint64_t total, double p)
{
    double r = ceil(p / 100.0 * (double)total - 1e-9);
    if (r < 1)
        return 1;
    return r > (double)total ? total : (uint64_t)r;
}

uint64_t hist_percentile(const hist *h, double p)
{
    if (h->total == 0)
        return 0;
    if (p <= 0)
        return h->min;
    if (p >= 100)
        return h->max;
    uint64_t rank = percentile_rank(h->total, p), seen = 0;
    for (size_t i = 0; i < HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t lo = hist_bucket_low(i), hi = hist_bucket_high(i);
            return clamp_u64(lo + (hi - lo) / 2, h->min, h->max);
        }
    }
    return h->max; /* not reached: the counts add up to total */
}

double hist_mean(const hist *h)
{
    return h->total ? h->sum / (double)h->total : 0.0;
}

void hist_add(hist *dst, const hist *src)
{
    if (src->total == 0)
        return;
    for (size_t i = 0; i < HIST_BUCKETS; i++)
        dst->counts[i] += src->counts[i];
    if (dst->total == 0 || src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    dst->total += src->total;
    dst->overflow += src->overflow;
    dst->sum += src->sum;
}
