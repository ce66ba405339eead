/* Tests for core/sysmon: CPU % from /proc/stat deltas, the hottest sensor with its label,
 * n/a without sensors, own CPU and RSS, malformed and missing files, the real /proc. */
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

#define PROCFS LLM_TEST_DATA "/procfs/"
#define SYSFS LLM_TEST_DATA "/sysfs/"
#define NS 1000000000ULL

static const char *const proc_files[] = {"stat", "loadavg", "self/stat", "self/statm",
                                         "self/status"};

static sysmon mon; /* about 100 KB: kept off the test's stack */
static sysmon_reading rd;

static void write_file(const char *dir, const char *rel, const char *text, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
}

/* Makes the files of dir the same as the fixture tree's (absent there = absent here). */
static void stage(const char *dir, const char *fixture)
{
    char path[512];
    snprintf(path, sizeof path, "%s/self", dir);
    mkdir(path, 0700);
    for (size_t i = 0; i < sizeof proc_files / sizeof proc_files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", fixture, proc_files[i]);
        size_t len = 0;
        char *text = tu_read_file(path, &len);
        snprintf(path, sizeof path, "%s/%s", dir, proc_files[i]);
        if (text)
            write_file(dir, proc_files[i], text, len);
        else
            unlink(path);
        free(text);
    }
}

static const char *staged(const char *fixture)
{
    const char *dir = tu_tmpdir();
    assert_non_null(dir);
    stage(dir, fixture);
    return dir;
}

static void assert_near(double got, double want)
{
    if (!(fabs(got - want) < 1e-9))
        fail_msg("got %.12g, want %.12g", got, want);
}

static void cpu_percent_is_busy_share_of_jiffies_between_two_samples(void **state)
{
    (void)state;
    const char *proc = staged(PROCFS "t0");
    assert_int_equal(sysmon_init(&mon, proc, SYSFS "vm"), 0);
    sysmon_sample_at(&mon, 1 * NS, &rd);
    assert_true(isnan(rd.cpu_total_pct)); /* nothing to compare with yet */
    assert_int_equal(rd.n_cores, 4);
    assert_true(isnan(rd.core_pct[0]));
    stage(proc, PROCFS "t1");
    sysmon_sample_at(&mon, 2 * NS, &rd);
    /* busy 90 of 200 jiffies; counting guest (already inside user) again would give 50 */
    assert_near(rd.cpu_total_pct, 45.0);
    assert_int_equal(rd.n_cores, 4);
    assert_near(rd.core_pct[0], 50.0);
    assert_near(rd.core_pct[1], 30.0);
    assert_near(rd.core_pct[2], 0.0);
    assert_near(rd.core_pct[3], 100.0);
    assert_true(isnan(rd.core_pct[4]));
}

static void counters_running_backwards_give_nan_then_recover(void **state)
{
    (void)state;
    const char *proc = staged(PROCFS "t1");
    sysmon_init(&mon, proc, SYSFS "vm");
    sysmon_sample_at(&mon, 1 * NS, &rd);
    stage(proc, PROCFS "t0");
    sysmon_sample_at(&mon, 2 * NS, &rd);
    assert_true(isnan(rd.cpu_total_pct));
    assert_true(isnan(rd.core_pct[3]));
    assert_true(isnan(rd.self_cpu_pct));
    stage(proc, PROCFS "t1");
    sysmon_sample_at(&mon, 3 * NS, &rd);
    assert_near(rd.cpu_total_pct, 45.0);
}

static void per_core_count_stops_at_256_cores(void **state)
{
    (void)state;
    const char *proc = tu_tmpdir();
    static char text[300 * 64];
    size_t len = (size_t)snprintf(text, sizeof text, "cpu  300 0 0 300 0 0 0 0 0 0\n");
    for (int c = 0; c < 300; c++)
        len += (size_t)snprintf(text + len, sizeof text - len, "cpu%d 1 0 0 1 0 0 0 0 0 0\n", c);
    write_file(proc, "stat", text, len);
    sysmon_init(&mon, proc, SYSFS "vm");
    sysmon_sample_at(&mon, 1 * NS, &rd);
    assert_int_equal(rd.n_cores, SYSMON_MAX_CORES);
}

static void cores_are_indexed_by_cpu_number(void **state)
{
    (void)state;
    const char *proc = tu_tmpdir();
    const char *t0 = "cpu 0 0 0 0\ncpu0 0 0 0 0\ncpu5 0 0 0 0\n";
    const char *t1 = "cpu 1 0 0 3\ncpu0 0 0 0 2\ncpu5 1 0 0 1\n";
    sysmon_init(&mon, proc, SYSFS "vm");
    write_file(proc, "stat", t0, strlen(t0));
    sysmon_sample_at(&mon, 1 * NS, &rd);
    write_file(proc, "stat", t1, strlen(t1));
    sysmon_sample_at(&mon, 2 * NS, &rd);
    assert_int_equal(rd.n_cores, 6); /* cpu1..cpu4 offline: unknown, not zero */
    assert_near(rd.core_pct[0], 0.0);
    assert_true(isnan(rd.core_pct[1]));
    assert_near(rd.core_pct[5], 50.0);
    assert_near(rd.cpu_total_pct, 25.0);
}

static void own_cpu_is_tick_delta_over_monotonic_elapsed(void **state)
{
    (void)state;
    const char *proc = staged(PROCFS "t0");
    sysmon_init(&mon, proc, SYSFS "vm");
    sysmon_sample_at(&mon, 10 * NS, &rd);
    assert_true(isnan(rd.self_cpu_pct));
    stage(proc, PROCFS "t1");
    sysmon_sample_at(&mon, 10 * NS + NS / 2, &rd);
    /* utime+stime 150 -> 200 ticks in half a second */
    double want = 100.0 * (50.0 / (double)sysconf(_SC_CLK_TCK)) / 0.5;
    assert_near(rd.self_cpu_pct, want);
}

static void own_rss_is_resident_pages_times_page_size(void **state)
{
    (void)state;
    sysmon_init(&mon, staged(PROCFS "t0"), SYSFS "vm");
    sysmon_sample_at(&mon, 1 * NS, &rd);
    assert_int_equal(rd.self_rss_bytes, 2500 * (uint64_t)sysconf(_SC_PAGESIZE));
}

static void own_rss_falls_back_to_vmrss_when_statm_is_unreadable(void **state)
{
    (void)state;
    sysmon_init(&mon, PROCFS "vmrss-only", SYSFS "vm");
    sysmon_sample_at(&mon, 1 * NS, &rd);
    assert_int_equal(rd.self_rss_bytes, 4321 * 1024);
}

static void load_average_is_first_field_of_loadavg(void **state)
{
    (void)state;
    sysmon_init(&mon, PROCFS "t0", SYSFS "vm");
    sysmon_sample_at(&mon, 1 * NS, &rd);
    assert_near(rd.load1, 0.52);
}

static void hottest_of_zones_and_hwmon_wins_with_its_label(void **state)
{
    (void)state;
    sysmon_init(&mon, PROCFS "t0", SYSFS "desktop");
    assert_int_equal(mon.n_sensors, 5);
    sysmon_sample_at(&mon, 1 * NS, &rd);
    assert_true(rd.has_temp);
    assert_near(rd.temp_c, 63.5);
    assert_string_equal(rd.temp_label, "coretemp Package id 0");

    sysmon_init(&mon, PROCFS "t0", SYSFS "laptop");
    sysmon_sample_at(&mon, 1 * NS, &rd);
    assert_true(rd.has_temp);
    assert_near(rd.temp_c, 71.0);
    assert_string_equal(rd.temp_label, "x86_pkg_temp");
}

static void unlabelled_hwmon_input_in_device_dir_is_named_chip_and_index(void **state)
{
    (void)state;
    sysmon_init(&mon, PROCFS "t0", SYSFS "server");
    assert_int_equal(mon.n_sensors, 2);
    sysmon_sample_at(&mon, 1 * NS, &rd);
    assert_near(rd.temp_c, 66.0);
    assert_string_equal(rd.temp_label, "k10temp temp1");
}

static void no_thermal_files_mean_no_temperature(void **state)
{
    (void)state;
    const char *roots[] = {SYSFS "vm", SYSFS "does-not-exist"};
    for (int i = 0; i < 2; i++) {
        sysmon_init(&mon, PROCFS "t0", roots[i]);
        sysmon_sample_at(&mon, 1 * NS, &rd);
        assert_false(rd.has_temp);
        assert_true(isnan(rd.temp_c));
        assert_string_equal(rd.temp_label, "");
        char text[16];
        sysmon_format_temp(rd.temp_c, text, sizeof text);
        assert_string_equal(text, "n/a");
    }
}

static void broken_sensors_are_skipped_not_reported(void **state)
{
    (void)state;
    sysmon_init(&mon, PROCFS "t0", SYSFS "malformed");
    sysmon_sample_at(&mon, 1 * NS, &rd);
    assert_false(rd.has_temp);
    assert_true(isnan(rd.temp_c));
}

static void malformed_proc_files_give_nan_without_crashing(void **state)
{
    (void)state;
    sysmon_init(&mon, PROCFS "malformed", SYSFS "malformed");
    sysmon_sample_at(&mon, 1 * NS, &rd);
    sysmon_sample_at(&mon, 2 * NS, &rd);
    assert_true(isnan(rd.cpu_total_pct));
    assert_int_equal(rd.n_cores, 2); /* cpu0 (too short) and cpu1; not "cpux" */
    assert_true(isnan(rd.core_pct[0]));
    assert_true(isnan(rd.core_pct[1])); /* unchanged counters: no time passed */
    assert_true(isnan(rd.load1));
    assert_true(isnan(rd.self_cpu_pct));
    assert_int_equal(rd.self_rss_bytes, 0);
}

static void missing_proc_root_gives_every_figure_absent(void **state)
{
    (void)state;
    sysmon_init(&mon, "/nonexistent/proc", "/nonexistent/sys");
    sysmon_sample_at(&mon, 1 * NS, &rd);
    sysmon_sample_at(&mon, 2 * NS, &rd);
    assert_true(isnan(rd.cpu_total_pct));
    assert_int_equal(rd.n_cores, 0);
    assert_true(isnan(rd.load1));
    assert_true(isnan(rd.self_cpu_pct));
    assert_int_equal(rd.self_rss_bytes, 0);
    assert_false(rd.has_temp);
}

static void overlong_root_is_refused(void **state)
{
    (void)state;
    char root[SYSMON_ROOT_MAX + 10];
    memset(root, 'a', sizeof root - 1);
    root[sizeof root - 1] = '\0';
    assert_int_equal(sysmon_init(&mon, root, NULL), -1);
    sysmon_sample_at(&mon, 1 * NS, &rd);
    assert_int_equal(rd.n_cores, 0);
    assert_false(rd.has_temp);
}

static void temperature_formats_as_whole_degrees_or_na(void **state)
{
    (void)state;
    char text[16];
    sysmon_format_temp(63.4, text, sizeof text);
    assert_string_equal(text, "63 \xC2\xB0"
                              "C");
    sysmon_format_temp(63.6, text, sizeof text);
    assert_string_equal(text, "64 \xC2\xB0"
                              "C");
    sysmon_format_temp(INFINITY, text, sizeof text);
    assert_string_equal(text, "n/a");
}

static void real_proc_gives_sane_figures(void **state)
{
    (void)state;
    assert_int_equal(sysmon_init(&mon, NULL, NULL), 0);
    sysmon_sample(&mon, &rd);
    volatile double spin = 0;
    for (long i = 0; i < 30000000; i++)
        spin += 1;
    usleep(100000);
    sysmon_sample(&mon, &rd);
    assert_true(rd.cpu_total_pct >= 0 && rd.cpu_total_pct <= 100);
    assert_true(rd.n_cores >= 1);
    assert_true(rd.self_rss_bytes > 0);
    assert_true(rd.self_cpu_pct >= 0 && isfinite(rd.self_cpu_pct));
    assert_true(rd.load1 >= 0);
    assert_true(rd.has_temp == isfinite(rd.temp_c));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cpu_percent_is_busy_share_of_jiffies_between_two_samples),
        cmocka_unit_test(counters_running_backwards_give_nan_then_recover),
        cmocka_unit_test(per_core_count_stops_at_256_cores),
        cmocka_unit_test(cores_are_indexed_by_cpu_number),
        cmocka_unit_test(own_cpu_is_tick_delta_over_monotonic_elapsed),
        cmocka_unit_test(own_rss_is_resident_pages_times_page_size),
        cmocka_unit_test(own_rss_falls_back_to_vmrss_when_statm_is_unreadable),
        cmocka_unit_test(load_average_is_first_field_of_loadavg),
        cmocka_unit_test(hottest_of_zones_and_hwmon_wins_with_its_label),
        cmocka_unit_test(unlabelled_hwmon_input_in_device_dir_is_named_chip_and_index),
        cmocka_unit_test(no_thermal_files_mean_no_temperature),
        cmocka_unit_test(broken_sensors_are_skipped_not_reported),
        cmocka_unit_test(malformed_proc_files_give_nan_without_crashing),
        cmocka_unit_test(missing_proc_root_gives_every_figure_absent),
        cmocka_unit_test(overlong_root_is_refused),
        cmocka_unit_test(temperature_formats_as_whole_degrees_or_na),
        cmocka_unit_test(real_proc_gives_sane_figures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
