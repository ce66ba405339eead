/* Tests for core/hist: percentile accuracy against exact sorted data, merge, edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/hist.h"

#define N_SAMPLES 200000

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rng_next(void)
{
    /* xorshift64*: deterministic, good enough for test data */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static double rng_unit(void)
{
    return ((double)(rng_next() >> 11) + 0.5) / 9007199254740992.0;
}

static double rng_normal(void)
{
    return sqrt(-2.0 * log(rng_unit())) * cos(2.0 * M_PI * rng_unit());
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest rank, the definition hist.h documents. */
static uint64_t exact_percentile(const uint64_t *sorted, size_t n, double p)
{
    double r = ceil(p / 100.0 * (double)n - 1e-9);
    size_t rank = r < 1 ? 1 : (size_t)r;
    return sorted[(rank > n ? n : rank) - 1];
}

static void assert_within_1pct(const hist *h, uint64_t *data, size_t n)
{
    static const double ps[] = {50, 90, 95, 99, 99.9, 100};
    qsort(data, n, sizeof *data, cmp_u64);
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        double exact = (double)exact_percentile(data, n, ps[i]);
        double got = (double)hist_percentile(h, ps[i]);
        if (fabs(got - exact) > 0.01 * exact)
            fail_msg("p%g: histogram %.0f vs exact %.0f", ps[i], got, exact);
    }
}

typedef uint64_t (*gen_fn)(void);

static uint64_t gen_uniform(void)
{
    return 1 + rng_next() % 10000000; /* 1 µs .. 10 s */
}

static uint64_t gen_lognormal(void)
{
    return (uint64_t)llround(exp(log(200000.0) + 1.2 * rng_normal())) + 1;
}

static uint64_t gen_bimodal(void)
{
    double v = (rng_next() & 3) ? 500.0 + 50.0 * rng_normal() : 2e6 + 2e5 * rng_normal();
    return v < 1 ? 1 : (uint64_t)llround(v);
}

static void check_distribution(gen_fn gen)
{
    uint64_t *data = malloc(N_SAMPLES * sizeof *data);
    hist *h = malloc(sizeof *h);
    assert_non_null(data);
    assert_non_null(h);
    hist_init(h);
    for (size_t i = 0; i < N_SAMPLES; i++) {
        data[i] = gen();
        hist_record(h, data[i]);
    }
    assert_int_equal(h->total, N_SAMPLES);
    assert_within_1pct(h, data, N_SAMPLES);
    free(data);
    free(h);
}

static void percentiles_of_uniform_data_within_1pct(void **state)
{
    (void)state;
    check_distribution(gen_uniform);
}

static void percentiles_of_lognormal_data_within_1pct(void **state)
{
    (void)state;
    check_distribution(gen_lognormal);
}

static void percentiles_of_bimodal_data_within_1pct(void **state)
{
    (void)state;
    check_distribution(gen_bimodal);
}

static void buckets_are_contiguous_and_at_most_2pct_wide(void **state)
{
    (void)state;
    for (size_t i = 0; i < HIST_BUCKETS; i++) {
        uint64_t lo = hist_bucket_low(i), hi = hist_bucket_high(i);
        assert_true(hi > lo);
        if (i + 1 < HIST_BUCKETS)
            assert_int_equal(hi, hist_bucket_low(i + 1));
        assert_int_equal(hist_bucket_of(lo), i);
        assert_int_equal(hist_bucket_of(hi - 1), i);
        if (lo >= HIST_SUB)
            assert_true((double)(hi - lo) <= 0.02 * (double)lo);
    }
    assert_int_equal(hist_bucket_high(HIST_BUCKETS - 1), 1ULL << HIST_MAX_EXP);
}

static void small_values_are_exact(void **state)
{
    (void)state;
    hist h;
    hist_init(&h);
    for (uint64_t v = 0; v < HIST_SUB; v++)
        hist_record(&h, v);
    for (uint64_t v = 0; v < HIST_SUB; v++)
        assert_int_equal(hist_bucket_low(hist_bucket_of(v)), v);
    /* 128 values 0..127: the median (rank 64) is 63 exactly */
    assert_int_equal(hist_percentile(&h, 50), 63);
    assert_int_equal(hist_percentile(&h, 1), 1);
}

static void merge_of_two_equals_one_recording_both(void **state)
{
    (void)state;
    hist *a = malloc(sizeof *a), *b = malloc(sizeof *b), *both = malloc(sizeof *both);
    hist_init(a);
    hist_init(b);
    hist_init(both);
    for (int i = 0; i < 50000; i++) {
        uint64_t x = gen_lognormal(), y = gen_uniform();
        hist_record(a, x);
        hist_record(b, y);
        hist_record(both, x);
        hist_record(both, y);
    }
    hist_add(a, b);
    assert_memory_equal(a->counts, both->counts, sizeof a->counts);
    assert_int_equal(a->total, both->total);
    assert_int_equal(a->min, both->min);
    assert_int_equal(a->max, both->max);
    assert_true(fabs(hist_mean(a) - hist_mean(both)) < 1e-6 * hist_mean(both));
    assert_int_equal(hist_percentile(a, 99), hist_percentile(both, 99));
    free(a);
    free(b);
    free(both);
}

static void merge_into_empty_keeps_min(void **state)
{
    (void)state;
    hist a, b;
    hist_init(&a);
    hist_init(&b);
    hist_record(&b, 700);
    hist_record(&b, 900);
    hist_add(&a, &b);
    assert_int_equal(a.min, 700);
    assert_int_equal(a.max, 900);
    hist_init(&b);
    hist_add(&a, &b); /* empty source changes nothing */
    assert_int_equal(a.min, 700);
    assert_int_equal(a.total, 2);
}

static void empty_histogram_reports_zero(void **state)
{
    (void)state;
    hist h;
    hist_init(&h);
    assert_int_equal(hist_percentile(&h, 50), 0);
    assert_int_equal(hist_percentile(&h, 100), 0);
    assert_true(hist_mean(&h) == 0.0);
    assert_int_equal(h.total, 0);
}

static void min_max_and_mean_are_exact(void **state)
{
    (void)state;
    hist h;
    hist_init(&h);
    hist_record(&h, 123457);
    hist_record(&h, 999999);
    hist_record(&h, 5001);
    assert_int_equal(hist_percentile(&h, 0), 5001);
    assert_int_equal(hist_percentile(&h, 100), 999999);
    assert_int_equal(h.min, 5001);
    assert_int_equal(h.max, 999999);
    assert_true(hist_mean(&h) == (123457.0 + 999999.0 + 5001.0) / 3.0);
}

static void recording_n_times_equals_n_recordings(void **state)
{
    (void)state;
    hist once, many;
    hist_init(&once);
    hist_init(&many);
    hist_record_n(&once, 4321, 7);
    hist_record_n(&once, 17, 0); /* nothing */
    for (int i = 0; i < 7; i++)
        hist_record(&many, 4321);
    assert_memory_equal(&once, &many, sizeof once);
    hist_record_n(&once, UINT64_MAX, 3);
    assert_int_equal(once.overflow, 3);
    assert_int_equal(once.total, 10);
}

static void huge_values_are_counted_in_overflow(void **state)
{
    (void)state;
    hist h;
    hist_init(&h);
    uint64_t huge = (1ULL << HIST_MAX_EXP) + 12345, huger = UINT64_MAX;
    hist_record(&h, 10);
    hist_record(&h, huge);
    hist_record(&h, huger);
    assert_int_equal(h.overflow, 2);
    assert_int_equal(h.total, 3);
    assert_int_equal(h.counts[HIST_BUCKETS - 1], 2);
    assert_int_equal(h.max, huger);
    assert_int_equal(hist_percentile(&h, 100), huger);
    assert_int_equal(hist_percentile(&h, 10), 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(percentiles_of_uniform_data_within_1pct),
        cmocka_unit_test(percentiles_of_lognormal_data_within_1pct),
        cmocka_unit_test(percentiles_of_bimodal_data_within_1pct),
        cmocka_unit_test(buckets_are_contiguous_and_at_most_2pct_wide),
        cmocka_unit_test(small_values_are_exact),
        cmocka_unit_test(merge_of_two_equals_one_recording_both),
        cmocka_unit_test(merge_into_empty_keeps_min),
        cmocka_unit_test(empty_histogram_reports_zero),
        cmocka_unit_test(min_max_and_mean_are_exact),
        cmocka_unit_test(huge_values_are_counted_in_overflow),
        cmocka_unit_test(recording_n_times_equals_n_recordings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
