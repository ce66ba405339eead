/* Tests for base/dist: SPEC parsing, and draws that follow the asked distribution (a
 * chi-square goodness-of-fit test with a fixed seed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/dist.h"

/* Chi-square statistic of n draws of `drawn` against dist_cdf over `bins` bins of (nearly) equal
 * expected mass; *df gets the degrees of freedom. */
static double chi_square_of(const llm_dist *d, const llm_dist *drawn, int n, uint64_t seed,
                            int bins, int *df)
{
    long edge[64];
    int nb = 0;
    for (int b = 1; b < bins && nb < 63; b++) { /* upper edges at the b/bins quantiles */
        long lo = d->min, hi = d->max;
        while (lo < hi) {
            long mid = lo + (hi - lo) / 2;
            if (dist_cdf(d, mid) >= (double)b / bins)
                hi = mid;
            else
                lo = mid + 1;
        }
        if (nb == 0 || lo > edge[nb - 1])
            edge[nb++] = lo;
    }
    if (nb == 0 || edge[nb - 1] < d->max)
        edge[nb++] = d->max;
    long count[64] = {0};
    uint64_t rng = seed;
    for (int i = 0; i < n; i++) {
        long k = dist_draw(drawn, &rng);
        assert_true(k >= drawn->min && k <= drawn->max);
        int b = 0;
        while (b < nb - 1 && k > edge[b])
            b++;
        count[b]++;
    }
    double chi = 0, prev = 0;
    for (int b = 0; b < nb; b++) {
        double p = dist_cdf(d, edge[b]) - prev, expect = p * n;
        prev += p;
        chi += (count[b] - expect) * (count[b] - expect) / expect;
    }
    *df = nb - 1;
    return chi;
}

static double chi_square(const llm_dist *d, int n, uint64_t seed, int bins, int *df)
{
    return chi_square_of(d, d, n, seed, bins, df);
}

/* The 0.999 quantile of chi-square with df degrees of freedom (Wilson-Hilferty). */
static double chi_critical(int df)
{
    double z = 3.0902, h = 2.0 / (9.0 * df);
    return df * pow(1 - h + z * sqrt(h), 3);
}

static void assert_fits(const char *spec)
{
    llm_dist d;
    char err[256];
    assert_int_equal(dist_parse(spec, &d, err, sizeof err), 0);
    int df;
    double chi = chi_square(&d, 20000, 42, 20, &df);
    if (chi > chi_critical(df))
        fail_msg("%s: chi-square %.1f > %.1f (df %d)", spec, chi, chi_critical(df), df);
}

static void uniform_draws_fit_their_distribution(void **state)
{
    (void)state;
    assert_fits("uniform:100:300");
}

static void normal_draws_fit_their_truncated_distribution(void **state)
{
    (void)state;
    assert_fits("normal:500:100");
    assert_fits("normal:200:150:50:400"); /* heavily truncated on both sides */
}

static void lognormal_draws_fit_their_truncated_distribution(void **state)
{
    (void)state;
    assert_fits("lognormal:1000:0.8");
    assert_fits("lognormal:300:1.2:10:4000");
}

/* The test itself must reject a wrong distribution, or it proves nothing. */
static void goodness_of_fit_rejects_a_shifted_distribution(void **state)
{
    (void)state;
    llm_dist asked, drawn;
    char err[256];
    assert_int_equal(dist_parse("normal:500:100", &asked, err, sizeof err), 0);
    assert_int_equal(dist_parse("normal:510:100", &drawn, err, sizeof err), 0);
    drawn.min = asked.min;
    drawn.max = asked.max;
    int df;
    double chi = chi_square_of(&asked, &drawn, 20000, 42, 20, &df);
    assert_true(chi > chi_critical(df));
}

static void fixed_length_is_always_that_length(void **state)
{
    (void)state;
    llm_dist d;
    char err[256];
    assert_int_equal(dist_parse("512", &d, err, sizeof err), 0);
    uint64_t rng = 1;
    for (int i = 0; i < 100; i++)
        assert_int_equal(dist_draw(&d, &rng), 512);
    assert_float_equal(dist_mean(&d), 512, 1e-9);
}

static void draws_repeat_with_the_seed(void **state)
{
    (void)state;
    llm_dist d;
    char err[256];
    assert_int_equal(dist_parse("lognormal:800:1", &d, err, sizeof err), 0);
    uint64_t a = 7, b = 7;
    for (int i = 0; i < 1000; i++)
        assert_int_equal(dist_draw(&d, &a), dist_draw(&d, &b));
}

static void unbounded_specs_get_a_finite_pool_bound(void **state)
{
    (void)state;
    llm_dist d;
    char err[256], text[64];
    assert_int_equal(dist_parse("lognormal:1000:0.5", &d, err, sizeof err), 0);
    assert_int_equal(d.min, 1);
    assert_true(d.max > 10000 && d.max < 12000); /* 1000 * e^(0.5 * 4.75) */
    dist_describe(&d, text, sizeof text);
    assert_non_null(strstr(text, "lognormal:1000:0.5:1:"));
    assert_float_equal(dist_mean(&d), 1000 * exp(0.125), 20);
}

static void bad_specs_are_refused_with_the_forms_allowed(void **state)
{
    (void)state;
    const char *bad[] = {"",
                         "0",
                         "-5",
                         "1.5",
                         "uniform:5",
                         "uniform:9:3",
                         "normal:1:2:3",
                         "normal:-1:2",
                         "gauss:1:2",
                         "normal:10:1:500:600",
                         "lognormal:0:1",
                         "2000000",
                         "uniform:1:x",
                         "normal:10:1:"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        llm_dist d;
        char err[256] = "";
        if (dist_parse(bad[i], &d, err, sizeof err) == 0)
            fail_msg("\"%s\" was accepted", bad[i]);
        assert_non_null(strstr(err, "uniform:A:B"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(uniform_draws_fit_their_distribution),
        cmocka_unit_test(normal_draws_fit_their_truncated_distribution),
        cmocka_unit_test(lognormal_draws_fit_their_truncated_distribution),
        cmocka_unit_test(goodness_of_fit_rejects_a_shifted_distribution),
        cmocka_unit_test(fixed_length_is_always_that_length),
        cmocka_unit_test(draws_repeat_with_the_seed),
        cmocka_unit_test(unbounded_specs_get_a_finite_pool_bound),
        cmocka_unit_test(bad_specs_are_refused_with_the_forms_allowed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
