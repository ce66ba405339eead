/* Tests for core/sysmon: CPU % from /proc/stat deltas, hottest sensor with its label,
 * n/a without sensors, own CPU and RSS, malformed files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sysmon.h"
#include "testutil.h"

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const char *fake_proc(void)
{
    const char *dir = tu_tmpdir();
    char self[512];
    snprintf(self, sizeof self, "%s/self", dir);
    mkdir(self, 0700);
    write_file(dir, "self/statm", "1000 256 100 5 0 200 0\n");
    write_file(dir, "self/stat",
               "42 (llm load) S 1 42 42 0 -1 4194304 100 0 0 0 150 50 0 0 20 0 3 0 100\n");
    write_file(dir, "loadavg", "0.50 0.40 0.30 1/100 42\n");
    return dir;
}

static void cpu_percent_comes_from_the_delta_between_samples(void **state)
{
    (void)state;
    const char *proc = fake_proc();
    write_file(proc, "stat",
               "cpu  100 0 100 800 0 0 0 0 0 0\n"
               "cpu0 50 0 50 400 0 0 0 0 0 0\n"
               "cpu1 50 0 50 400 0 0 0 0 0 0\n");
    sysmon m;
    sysmon_reading r;
    sysmon_init(&m, proc, LLM_TEST_DATA "/none");
    sysmon_sample(&m, &r);
    assert_true(isnan(r.cpu_total_pct)); /* no delta yet */
    /* +100 busy of +200 total overall; core0 all busy, core1 all idle. */
    write_file(proc, "stat",
               "cpu  150 0 150 900 0 0 0 0 0 0\n"
               "cpu0 100 0 100 400 0 0 0 0 0 0\n"
               "cpu1 50 0 50 500 0 0 0 0 0 0\n");
    sysmon_sample(&m, &r);
    assert_int_equal(r.n_cores, 2);
    assert_true(fabs(r.cpu_total_pct - 50.0) < 1e-9);
    assert_true(fabs(r.core_pct[0] - 100.0) < 1e-9);
    assert_true(fabs(r.core_pct[1] - 0.0) < 1e-9);
}

static void hottest_sensor_wins_with_its_label(void **state)
{
    (void)state;
    sysmon m;
    sysmon_reading r;
    sysmon_init(&m, fake_proc(), LLM_TEST_DATA "/sysfs");
    sysmon_sample(&m, &r);
    assert_true(r.has_temp);
    assert_true(fabs(r.temp_c - 63.5) < 1e-9);
    assert_string_equal(r.temp_label, "coretemp Package id 0");
}

static void no_sensors_means_not_available(void **state)
{
    (void)state;
    sysmon m;
    sysmon_reading r;
    sysmon_init(&m, fake_proc(), LLM_TEST_DATA "/none");
    sysmon_sample(&m, &r);
    assert_false(r.has_temp);
    assert_true(isnan(r.temp_c));
    char text[16];
    sysmon_format_temp(r.temp_c, text, sizeof text);
    assert_string_equal(text, "n/a");
    sysmon_format_temp(63.4, text, sizeof text);
    assert_string_equal(text, "63 \xC2\xB0"
                              "C");
}

static void own_rss_and_load_come_from_proc_self(void **state)
{
    (void)state;
    sysmon m;
    sysmon_reading r;
    sysmon_init(&m, fake_proc(), LLM_TEST_DATA "/none");
    sysmon_sample(&m, &r);
    assert_int_equal(r.self_rss_bytes, 256 * (uint64_t)sysconf(_SC_PAGESIZE));
    assert_true(fabs(r.load1 - 0.5) < 1e-9);
    assert_true(isnan(r.self_cpu_pct));
}

static void malformed_and_missing_files_give_nan_not_a_crash(void **state)
{
    (void)state;
    const char *proc = tu_tmpdir();
    write_file(proc, "stat", "cpu garbage\nintr 1 2 3\n\n");
    write_file(proc, "loadavg", "x\n");
    sysmon m;
    sysmon_reading r;
    sysmon_init(&m, proc, LLM_TEST_DATA "/none");
    sysmon_sample(&m, &r);
    sysmon_sample(&m, &r);
    assert_true(isnan(r.cpu_total_pct));
    assert_int_equal(r.n_cores, 0);
    assert_true(isnan(r.load1));
    assert_true(isnan(r.self_cpu_pct));
    assert_int_equal(r.self_rss_bytes, 0);
}

static void real_proc_gives_sane_figures(void **state)
{
    (void)state;
    sysmon m;
    sysmon_reading r;
    sysmon_init(&m, NULL, NULL);
    sysmon_sample(&m, &r);
    volatile double spin = 0;
    for (long i = 0; i < 20000000; i++)
        spin += 1;
    usleep(100000);
    sysmon_sample(&m, &r);
    assert_true(r.cpu_total_pct >= 0 && r.cpu_total_pct <= 100);
    assert_true(r.n_cores >= 1);
    assert_true(r.self_rss_bytes > 0);
    assert_true(r.self_cpu_pct >= 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cpu_percent_comes_from_the_delta_between_samples),
        cmocka_unit_test(hottest_sensor_wins_with_its_label),
        cmocka_unit_test(no_sensors_means_not_available),
        cmocka_unit_test(own_rss_and_load_come_from_proc_self),
        cmocka_unit_test(malformed_and_missing_files_give_nan_not_a_crash),
        cmocka_unit_test(real_proc_gives_sane_figures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
