#include "base/dist.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* xorshift64* as the engine's prompt_rng_next, so one seed drives both. */
static uint64_t dist_rng_next(uint64_t *state)
{
    uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ULL;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static double unit_open(uint64_t *rng)
{
    return ((double)(dist_rng_next(rng) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double std_normal(uint64_t *rng)
{
    return sqrt(-2.0 * log(unit_open(rng))) * cos(6.283185307179586 * unit_open(rng));
}

/* The continuous CDF before rounding and truncation. */
static double raw_cdf(const llm_dist *d, double x)
{
    switch (d->kind) {
    case DIST_NORMAL:
        if (d->b <= 0)
            return x >= d->a ? 1 : 0;
        return 0.5 * erfc(-(x - d->a) / (d->b * sqrt(2.0)));
    case DIST_LOGNORMAL:
        if (x <= 0)
            return 0;
        if (d->b <= 0)
            return x >= d->a ? 1 : 0;
        return 0.5 * erfc(-(log(x) - log(d->a)) / (d->b * sqrt(2.0)));
    default:
        return 0;
    }
}

double dist_cdf(const llm_dist *d, long k)
{
    if (k < d->min)
        return 0;
    if (k >= d->max)
        return 1;
    switch (d->kind) {
    case DIST_FIXED:
        return k >= (long)d->a ? 1 : 0;
    case DIST_UNIFORM:
        return (double)(k - d->min + 1) / (double)(d->max - d->min + 1);
    default: {
        double lo = raw_cdf(d, (double)d->min - 0.5), hi = raw_cdf(d, (double)d->max + 0.5);
        return (raw_cdf(d, (double)k + 0.5) - lo) / (hi - lo);
    }
    }
}

static double raw_draw(const llm_dist *d, uint64_t *rng)
{
    if (d->kind == DIST_NORMAL)
        return d->a + d->b * std_normal(rng);
    return d->a * exp(d->b * std_normal(rng));
}

long dist_draw(const llm_dist *d, uint64_t *rng)
{
    switch (d->kind) {
    case DIST_NONE:
        return 0;
    case DIST_FIXED:
        return (long)d->a;
    case DIST_UNIFORM:
        return d->min + (long)(dist_rng_next(rng) % (uint64_t)(d->max - d->min + 1));
    default:
        break;
    }
    /* dist_parse guaranteed the interval holds at least 1e-9 of the mass; past 10,000
     * tries (never, in practice) the draw is clamped rather than looping on. */
    double x = raw_draw(d, rng);
    for (int i = 0; i < 10000 && !(x >= d->min - 0.5 && x < d->max + 0.5); i++)
        x = raw_draw(d, rng);
    long k = isfinite(x) ? lround(x) : d->max;
    return k < d->min ? d->min : k > d->max ? d->max : k;
}

double dist_mean(const llm_dist *d)
{
    if (d->kind == DIST_FIXED)
        return d->a;
    if (d->kind == DIST_UNIFORM)
        return (d->min + d->max) / 2.0;
    double sum = 0, prev = 0;
    long step = (d->max - d->min) / 20000 + 1;
    for (long k = d->min; k <= d->max; k += step) {
        long top = k + step - 1 < d->max ? k + step - 1 : d->max;
        double c = dist_cdf(d, top);
        sum += (c - prev) * (k + top) / 2.0;
        prev = c;
    }
    return sum;
}

/* Splits "a:b:c" into up to 5 numbers; returns how many, -1 on a non-number. */
static int split_numbers(const char *s, double *v, int cap)
{
    int n = 0;
    while (*s) {
        if (n == cap)
            return -1;
        char *end;
        v[n++] = strtod(s, &end);
        if (end == s || (*end && *end != ':') || !isfinite(v[n - 1]))
            return -1;
        s = *end ? end + 1 : end;
        if (*end == ':' && !*s)
            return -1;
    }
    return n;
}

static int bad(char *err, size_t errlen, const char *spec, const char *why)
{
    snprintf(err, errlen,
             "\"%s\" %s: use N, uniform:A:B, normal:MEAN:SD[:MIN:MAX] or "
             "lognormal:MEDIAN:SIGMA[:MIN:MAX] (tokens, 1 to %ld)",
             spec, why, DIST_LIMIT);
    return -1;
}

static bool whole(double v)
{
    return v >= 1 && v <= DIST_LIMIT && v == floor(v);
}

/* Bounds of a normal / lognormal: given, or 1 and the 1 - 1e-6 quantile. */
static int set_bounds(llm_dist *d, const double *v, int n, const char *spec, char *err,
                      size_t errlen)
{
    if (n == 4) {
        if (!whole(v[2]) || !whole(v[3]) || v[3] < v[2])
            return bad(err, errlen, spec, "needs whole MIN <= MAX");
        d->min = (long)v[2];
        d->max = (long)v[3];
    } else if (n == 2) {
        double z = 4.7534; /* the standard normal's 1 - 1e-6 quantile */
        double q = d->kind == DIST_NORMAL ? d->a + z * d->b : d->a * exp(z * d->b);
        d->min = 1;
        d->max = q < 1 ? 1 : q > DIST_LIMIT ? DIST_LIMIT : (long)ceil(q);
    } else {
        return bad(err, errlen, spec, "takes 2 numbers, or 4 with MIN:MAX");
    }
    double lo = raw_cdf(d, (double)d->min - 0.5), hi = raw_cdf(d, (double)d->max + 0.5);
    if (!(hi - lo > 1e-9))
        return bad(err, errlen, spec, "puts (almost) no length between MIN and MAX");
    return 0;
}

int dist_parse(const char *spec, llm_dist *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    double v[5];
    const char *colon = strchr(spec, ':');
    if (!colon) {
        if (split_numbers(spec, v, 1) != 1 || !whole(v[0]))
            return bad(err, errlen, spec, "is not a length");
        *out = (llm_dist){DIST_FIXED, v[0], 0, (long)v[0], (long)v[0]};
        return 0;
    }
    size_t name_len = (size_t)(colon - spec);
    int n = split_numbers(colon + 1, v, 5);
    if (n < 0)
        return bad(err, errlen, spec, "has a part that is not a number");
    if (name_len == 7 && !strncmp(spec, "uniform", 7)) {
        if (n != 2 || !whole(v[0]) || !whole(v[1]) || v[1] < v[0])
            return bad(err, errlen, spec, "needs whole A <= B");
        *out = (llm_dist){DIST_UNIFORM, v[0], v[1], (long)v[0], (long)v[1]};
        return 0;
    }
    if (name_len == 6 && !strncmp(spec, "normal", 6)) {
        if (n < 2 || v[0] <= 0 || v[1] < 0)
            return bad(err, errlen, spec, "needs MEAN > 0 and SD >= 0");
        out->kind = DIST_NORMAL;
    } else if (name_len == 9 && !strncmp(spec, "lognormal", 9)) {
        if (n < 2 || v[0] <= 0 || v[1] < 0)
            return bad(err, errlen, spec, "needs MEDIAN > 0 and SIGMA >= 0");
        out->kind = DIST_LOGNORMAL;
    } else {
        return bad(err, errlen, spec, "names no distribution");
    }
    out->a = v[0];
    out->b = v[1];
    return set_bounds(out, v, n, spec, err, errlen);
}

void dist_describe(const llm_dist *d, char *out, size_t cap)
{
    switch (d->kind) {
    case DIST_NONE:
        snprintf(out, cap, "-");
        break;
    case DIST_FIXED:
        snprintf(out, cap, "%ld", d->min);
        break;
    case DIST_UNIFORM:
        snprintf(out, cap, "uniform:%ld:%ld", d->min, d->max);
        break;
    default:
        snprintf(out, cap, "%s:%g:%g:%ld:%ld", d->kind == DIST_NORMAL ? "normal" : "lognormal",
                 d->a, d->b, d->min, d->max);
        break;
    }
}
