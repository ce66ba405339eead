/* Tests for core/gpumon: NVML through the stub library (exact figures for two GPUs, the
 * throttle reasons that count, shutdown on close), no library or a failing init = no GPU
 * and no message, amdgpu sysfs fixtures, and cards with garbage files skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/gpumon.h"
#include "testutil.h"

#define AMD_ROOT LLM_TEST_DATA "/gpu/amd"
#define NO_ROOT "/nonexistent-gpumon-root"

static gpumon g;
static gpumon_reading rd;

static void assert_near(double got, double want)
{
    if (!(fabs(got - want) < 1e-9))
        fail_msg("got %.12g, want %.12g", got, want);
}

/* The stub's count of NVML inits not yet shut down, through its own handle. */
static int stub_live(void)
{
    void *lib = dlopen(LLM_NVML_STUB, RTLD_NOW | RTLD_NOLOAD);
    if (!lib)
        return 0; /* not loaded at all: nothing is live */
    int (*live)(void) = NULL;
    void *p = dlsym(lib, "nvml_stub_live");
    memcpy(&live, &p, sizeof p);
    int n = live ? live() : -1;
    dlclose(lib);
    return n;
}

static void nvml_stub_gives_two_gpus_with_their_exact_figures(void **state)
{
    (void)state;
    assert_int_equal(gpumon_init(&g, LLM_NVML_STUB, NO_ROOT), 2);
    assert_int_equal(gpumon_count(&g), 2);
    assert_int_equal(stub_live(), 1);
    assert_string_equal(g.dev[0].name, "NVIDIA A100-SXM4-80GB");
    assert_string_equal(g.dev[1].name, "NVIDIA L4");
    assert_int_equal(g.dev[0].vendor, GPU_VENDOR_NVIDIA);
    assert_string_equal(gpu_vendor_name(g.dev[1].vendor), "nvidia");
    gpumon_sample(&g, &rd);
    assert_int_equal(rd.n, 2);
    assert_near(rd.dev[0].util_pct, 87);
    assert_near(rd.dev[0].mem_used_mb, 40960);
    assert_near(rd.dev[0].mem_total_mb, 81920);
    assert_near(rd.dev[0].temp_c, 64);
    assert_near(rd.dev[0].power_w, 312.5);
    assert_int_equal(rd.dev[0].throttling, 0);
    assert_near(rd.dev[1].util_pct, 12);
    assert_near(rd.dev[1].mem_used_mb, 2048);
    assert_near(rd.dev[1].mem_total_mb, 23034);
    assert_near(rd.dev[1].temp_c, 41);
    assert_near(rd.dev[1].power_w, 35);
    assert_int_equal(rd.dev[1].throttling, 1); /* software thermal slowdown */
    gpumon_close(&g);
    assert_int_equal(gpumon_count(&g), 0);
    assert_int_equal(stub_live(), 0); /* nvmlShutdown was called */
    gpumon_close(&g);                 /* twice is harmless */
}

static void the_environment_names_the_library(void **state)
{
    (void)state;
    setenv(GPUMON_LIB_ENV, LLM_NVML_STUB, 1);
    int n = gpumon_init(&g, NULL, NO_ROOT);
    unsetenv(GPUMON_LIB_ENV);
    assert_int_equal(n, 2);
    gpumon_close(&g);
}

/* Runs gpumon_init with stderr and stdout sent to a file; returns what was written. */
static size_t init_output(const char *lib, int *devices)
{
    char path[] = "/tmp/gpumon-out-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stdout);
    fflush(stderr);
    int saved_err = dup(2), saved_out = dup(1);
    dup2(fd, 2);
    dup2(fd, 1);
    *devices = gpumon_init(&g, lib, NO_ROOT);
    gpumon_sample(&g, &rd);
    gpumon_close(&g);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_err, 2);
    dup2(saved_out, 1);
    close(saved_err);
    close(saved_out);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    close(fd);
    unlink(path);
    return (size_t)st.st_size;
}

static void a_missing_library_means_no_gpu_and_no_message(void **state)
{
    (void)state;
    int n = -1;
    assert_int_equal(init_output("/nonexistent/libnvidia-ml.so.1", &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(rd.n, 0);
    assert_int_equal(init_output("libnvidia-ml-not-installed.so.1", &n), 0);
    assert_int_equal(n, 0);
    /* a library that is not NVML at all (libm has none of its entry points) */
    assert_int_equal(init_output("libm.so.6", &n), 0);
    assert_int_equal(n, 0);
}

static void an_nvml_that_fails_to_start_means_no_gpu_quietly(void **state)
{
    (void)state;
    setenv("LLMLOAD_NVML_STUB_FAIL", "1", 1);
    int n = -1;
    size_t out = init_output(LLM_NVML_STUB, &n);
    unsetenv("LLMLOAD_NVML_STUB_FAIL");
    assert_int_equal(out, 0);
    assert_int_equal(n, 0);
    assert_int_equal(stub_live(), 0);
}

static void amd_sysfs_gives_the_figures_of_its_cards(void **state)
{
    (void)state;
    /* card0 and card3; card1 (garbage), card2 (Intel) and card0-DP-1 (a connector) are not
     * GPUs here */
    assert_int_equal(gpumon_init(&g, "", AMD_ROOT), 2);
    assert_string_equal(g.dev[0].name, "AMD Radeon RX 7900 XTX");
    assert_string_equal(gpu_vendor_name(g.dev[0].vendor), "amd");
    assert_string_equal(g.dev[1].name, "AMD GPU card3"); /* product_name unprintable */
    gpumon_sample(&g, &rd);
    assert_int_equal(rd.n, 2);
    assert_near(rd.dev[0].util_pct, 37);
    assert_near(rd.dev[0].mem_used_mb, 4096);
    assert_near(rd.dev[0].mem_total_mb, 24560);
    assert_near(rd.dev[0].temp_c, 58);
    assert_near(rd.dev[0].power_w, 212);
    assert_int_equal(rd.dev[0].throttling, -1); /* sysfs does not say */
    assert_near(rd.dev[1].util_pct, 100);
    assert_true(isnan(rd.dev[1].mem_used_mb)); /* "12x" */
    assert_true(isnan(rd.dev[1].mem_total_mb));
    assert_true(isnan(rd.dev[1].temp_c)); /* no hwmon */
    assert_true(isnan(rd.dev[1].power_w));
    gpumon_close(&g);
}

static void nvidia_comes_first_then_amd(void **state)
{
    (void)state;
    assert_int_equal(gpumon_init(&g, LLM_NVML_STUB, AMD_ROOT), 4);
    assert_string_equal(g.dev[1].name, "NVIDIA L4");
    assert_string_equal(g.dev[2].name, "AMD Radeon RX 7900 XTX");
    gpumon_sample(&g, &rd);
    assert_near(rd.dev[2].util_pct, 37);
    assert_near(rd.dev[0].util_pct, 87);
    gpumon_close(&g);
}

static void put(const char *root, const char *rel, const char *text)
{
    char path[512];
    int n = snprintf(path, sizeof path, "%s/%s", root, rel);
    assert_true(n > 0 && (size_t)n < sizeof path);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void make_card(const char *root, int card, const char *busy)
{
    char path[512];
    snprintf(path, sizeof path, "%s/class/drm/card%d", root, card);
    assert_true(mkdir(path, 0700) == 0 || errno == EEXIST);
    snprintf(path, sizeof path, "%s/class/drm/card%d/device", root, card);
    assert_true(mkdir(path, 0700) == 0 || errno == EEXIST);
    if (busy) {
        snprintf(path, sizeof path, "class/drm/card%d/device/gpu_busy_percent", card);
        put(root, path, busy);
    }
}

/* Every way gpu_busy_percent can be wrong makes the card no GPU: nothing crashes, nothing
 * is read out of bounds (ASan), and the good card among them is still found. */
static void cards_with_garbage_files_are_skipped(void **state)
{
    (void)state;
    const char *root = tu_tmpdir();
    assert_non_null(root);
    char path[512];
    snprintf(path, sizeof path, "%s/class", root);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/class/drm", root);
    mkdir(path, 0700);
    static const char *const bad[] = {"",           "\n",     "101\n",  "-3\n",
                                      " 5\n",       "5 %\n",  "0x10\n", "99999999999999999999999\n",
                                      "\xff\xfe\n", "5x\n6\n"};
    int n_bad = (int)(sizeof bad / sizeof bad[0]);
    for (int i = 0; i < n_bad; i++)
        make_card(root, i, bad[i]);
    /* a busy file that is a directory, and one far longer than any buffer */
    make_card(root, n_bad, NULL);
    snprintf(path, sizeof path, "%s/class/drm/card%d/device/gpu_busy_percent", root, n_bad);
    mkdir(path, 0700);
    char longtext[8192];
    memset(longtext, '7', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = '\0';
    make_card(root, n_bad + 1, longtext);
    /* and one good card, whose other files are garbage */
    make_card(root, n_bad + 2, "42\n");
    snprintf(path, sizeof path, "class/drm/card%d/device/mem_info_vram_used", n_bad + 2);
    put(root, path, longtext);
    snprintf(path, sizeof path, "class/drm/card%d/device/mem_info_vram_total", n_bad + 2);
    put(root, path, "1024\n"); /* less than used: not believed */
    assert_int_equal(gpumon_init(&g, "", root), 1);
    gpumon_sample(&g, &rd);
    assert_near(rd.dev[0].util_pct, 42);
    assert_true(isnan(rd.dev[0].mem_used_mb));
    gpumon_close(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nvml_stub_gives_two_gpus_with_their_exact_figures),
        cmocka_unit_test(the_environment_names_the_library),
        cmocka_unit_test(a_missing_library_means_no_gpu_and_no_message),
        cmocka_unit_test(an_nvml_that_fails_to_start_means_no_gpu_quietly),
        cmocka_unit_test(amd_sysfs_gives_the_figures_of_its_cards),
        cmocka_unit_test(nvidia_comes_first_then_amd),
        cmocka_unit_test(cards_with_garbage_files_are_skipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
