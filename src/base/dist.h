/* base/dist: the length distributions of --input-tokens / --output-tokens (N, uniform,
 * normal, lognormal; truncated to [MIN, MAX]): parse, draw, CDF, describe. Plain data and
 * pure functions: any thread (a draw advances only the caller's RNG state). */
#ifndef LLM_DIST_H
#define LLM_DIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { DIST_NONE = 0, DIST_FIXED, DIST_UNIFORM, DIST_NORMAL, DIST_LOGNORMAL } dist_kind;

/* The largest length a SPEC may allow (tokens). */
#define DIST_LIMIT 1000000L

typedef struct {
    dist_kind kind;
    double a, b;   /* fixed: N; uniform: A, B; normal: MEAN, SD; lognormal: MEDIAN, SIGMA */
    long min, max; /* every draw lies in [min, max] (the truncation) */
} llm_dist;

/* SPEC = N | uniform:A:B | normal:MEAN:SD[:MIN:MAX] | lognormal:MEDIAN:SIGMA[:MIN:MAX].
 * Without MIN:MAX a normal or lognormal is cut at 1 and at its 1 - 1e-6 quantile (so a
 * body pool can be sized). Returns 0, or -1 with a sentence saying what is allowed. */
int dist_parse(const char *spec, llm_dist *out, char *err, size_t errlen);

/* One whole length in [min, max]: the continuous draw rounded to the nearest integer,
 * drawn again while it falls outside (a truncated distribution, not a clamped one). */
long dist_draw(const llm_dist *d, uint64_t *rng);

/* P(draw <= k) exactly as dist_draw draws: for goodness-of-fit tests. */
double dist_cdf(const llm_dist *d, long k);

/* The mean of the truncated, rounded distribution (summed over its support when small,
 * else integrated numerically). */
double dist_mean(const llm_dist *d);

/* "512", "uniform:100:300", "lognormal:1000:0.8:1:8000": the SPEC with its bounds. */
void dist_describe(const llm_dist *d, char *out, size_t cap);

#endif
