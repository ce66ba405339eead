/* Tests for core/gpuhist: one row per second (a second read twice keeps the later
 * reading), a second without a reading shows the one before, the run's highest figures and
 * throttling, n/a figures kept as n/a, no history without a GPU. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "core/gpuhist.h"

static gpumon mon;
static gpuhist h;

static void assert_near(double got, double want)
{
    if (!(fabs(got - want) < 1e-9))
        fail_msg("got %.12g, want %.12g", got, want);
}

/* A gpumon with two devices, as gpumon_init would leave it (no library behind it). */
static void two_devices(void)
{
    memset(&mon, 0, sizeof mon);
    mon.n = 2;
    strcpy(mon.dev[0].name, "NVIDIA A100-SXM4-80GB");
    mon.dev[0].vendor = GPU_VENDOR_NVIDIA;
    strcpy(mon.dev[1].name, "AMD Radeon RX 7900 XTX");
    mon.dev[1].vendor = GPU_VENDOR_AMD;
}

static gpumon_reading reading(double util0, double temp0, double power0, int throttle0)
{
    gpumon_reading r = {.n = 2};
    r.dev[0] = (gpumon_figures){util0, 40960, 81920, temp0, power0, throttle0};
    r.dev[1] = (gpumon_figures){37, 4096, 24560, 58, 212, -1};
    return r;
}

static void one_row_per_second_and_the_later_reading_wins(void **state)
{
    (void)state;
    two_devices();
    gpuhist_init(&h, &mon);
    assert_int_equal(h.n_dev, 2);
    assert_string_equal(h.dev[1].name, "AMD Radeon RX 7900 XTX");
    gpumon_reading r = reading(10, 50, 100.25, 0);
    gpuhist_record(&h, 0, &r);
    r = reading(20, 51, 101, 0);
    gpuhist_record(&h, 0, &r); /* the same second again */
    r = reading(30, 52, 102, 0);
    gpuhist_record(&h, 3, &r);
    assert_int_equal(h.n_rows, 2);
    gpumon_figures f;
    gpuhist_get(&h, (size_t)gpuhist_row_at(&h, 0), 0, &f);
    assert_near(f.util_pct, 20);
    assert_near(f.temp_c, 51);
    assert_near(f.mem_used_mb, 40960);
    assert_near(f.mem_total_mb, 81920);
    assert_int_equal(f.throttling, 0);
    /* seconds 1 and 2 had no reading: they show second 0's */
    assert_int_equal(gpuhist_row_at(&h, 2), 0);
    assert_int_equal(gpuhist_row_at(&h, 3), 1);
    assert_int_equal(gpuhist_row_at(&h, 99), 1);
    gpuhist_get(&h, 1, 1, &f);
    assert_near(f.util_pct, 37);
    assert_near(f.power_w, 212);
    assert_int_equal(f.throttling, -1);
    assert_near(gpuhist_mean_util(&h, 1), (30 + 37) / 2.0);
    r = reading(90, 90, 90, 0);
    gpuhist_record(&h, 2, &r); /* earlier than the last row: not a row */
    assert_int_equal(h.n_rows, 2);
    gpuhist_free(&h);
}

static void a_second_before_the_first_reading_has_none(void **state)
{
    (void)state;
    two_devices();
    gpuhist_init(&h, &mon);
    assert_int_equal(gpuhist_row_at(&h, 0), -1);
    gpumon_reading r = reading(10, 50, 100, 0);
    gpuhist_record(&h, 5, &r);
    assert_int_equal(gpuhist_row_at(&h, 4), -1);
    assert_int_equal(gpuhist_row_at(&h, 5), 0);
    gpuhist_free(&h);
}

static void the_run_keeps_its_highest_figures_and_any_throttling(void **state)
{
    (void)state;
    two_devices();
    gpuhist_init(&h, &mon);
    assert_true(isnan(h.max_temp_c));
    assert_false(h.throttling_seen);
    for (uint32_t t = 0; t < 5; t++) {
        gpumon_reading r = reading(t == 2 ? 99 : 10, 60 + t, t == 1 ? 399.5 : 100, t == 3);
        gpuhist_record(&h, t, &r);
    }
    assert_near(h.max_util_pct, 99);
    assert_near(h.max_temp_c, 64);
    assert_near(h.max_power_w, 399.5);
    assert_true(h.throttling_seen);
    gpumon_figures f;
    gpuhist_get(&h, 1, 0, &f);
    assert_near(f.power_w, 399.5); /* tenths of a watt are kept */
    gpuhist_free(&h);
}

static void figures_not_read_stay_not_read(void **state)
{
    (void)state;
    two_devices();
    gpuhist_init(&h, &mon);
    gpumon_reading r = {.n = 2};
    r.dev[0] = r.dev[1] = (gpumon_figures){NAN, NAN, NAN, NAN, NAN, -1};
    gpuhist_record(&h, 0, &r);
    gpumon_figures f;
    gpuhist_get(&h, 0, 0, &f);
    assert_true(isnan(f.util_pct) && isnan(f.mem_used_mb) && isnan(f.mem_total_mb));
    assert_true(isnan(f.temp_c) && isnan(f.power_w));
    assert_true(isnan(gpuhist_mean_util(&h, 0)));
    assert_true(isnan(h.max_temp_c) && isnan(h.max_power_w) && isnan(h.max_util_pct));
    gpuhist_free(&h);
}

static void no_gpu_keeps_nothing(void **state)
{
    (void)state;
    memset(&mon, 0, sizeof mon);
    gpuhist_init(&h, &mon);
    gpumon_reading r = {.n = 0};
    gpuhist_record(&h, 0, &r);
    assert_int_equal(h.n_dev, 0);
    assert_int_equal(h.n_rows, 0);
    assert_int_equal(gpuhist_row_at(&h, 0), -1);
    gpuhist_free(&h);
}

static void a_long_run_stops_at_a_day(void **state)
{
    (void)state;
    two_devices();
    gpuhist_init(&h, &mon);
    gpumon_reading r = reading(10, 50, 100, 0);
    for (uint32_t t = 0; t < GPUHIST_MAX_ROWS + 10; t++)
        gpuhist_record(&h, t, &r);
    assert_int_equal(h.n_rows, GPUHIST_MAX_ROWS);
    assert_int_equal(h.rows_dropped, 10);
    gpuhist_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_row_per_second_and_the_later_reading_wins),
        cmocka_unit_test(a_second_before_the_first_reading_has_none),
        cmocka_unit_test(the_run_keeps_its_highest_figures_and_any_throttling),
        cmocka_unit_test(figures_not_read_stay_not_read),
        cmocka_unit_test(no_gpu_keeps_nothing),
        cmocka_unit_test(a_long_run_stops_at_a_day),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
