/* Tests for cli_peers: vLLM bench serve's and GuideLLM's options give the llmload
 * configuration their documented meaning. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "testutil.h"

static char err[512];
static char saved_cwd[PATH_MAX];

/* In an empty directory (no stray ./.env) with no target in the environment. */
static int setup(void **state)
{
    (void)state;
    static const char *const keys[] = {"MODEL_URL", "MODEL_KEY", "MODEL_NAME", "OPENAI_BASE_URL",
                                       "OPENAI_API_KEY"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        unsetenv(keys[i]);
    if (!getcwd(saved_cwd, sizeof saved_cwd))
        return -1;
    return chdir(tu_tmpdir());
}

static int teardown(void **state)
{
    (void)state;
    unlink("prompts.jsonl");
    char dir[PATH_MAX];
    if (!getcwd(dir, sizeof dir))
        return -1;
    int rc = chdir(saved_cwd);
    rmdir(dir);
    return rc;
}

static int load_argv(llm_config *cfg, char **argv)
{
    int argc = 0;
    bool help;
    while (argv[argc])
        argc++;
    err[0] = '\0';
    return config_load(cfg, argc, argv, err, sizeof err, &help);
}

#define LOAD(cfg, ...) load_argv(cfg, (char *[]){"llmload", "run", __VA_ARGS__, NULL})

#define EXPECT_ERROR(want, ...)                                                                    \
    do {                                                                                           \
        llm_config c_;                                                                             \
        assert_int_equal(LOAD(&c_, __VA_ARGS__), LLM_EXIT_USAGE);                                  \
        if (!strstr(err, want))                                                                    \
            fail_msg("error \"%s\" does not say \"%s\"", err, want);                               \
        config_free(&c_);                                                                          \
    } while (0)

static void vllm_command_line_maps_onto_llmload(void **state)
{
    (void)state;
    llm_config c;
    assert_int_equal(LOAD(&c, "--url", "http://h:8000/v1", "--num-prompts", "200", "--request-rate",
                          "4.5", "--max-concurrency", "16", "--random-input-len", "512",
                          "--random-output-len", "64", "--ignore-eos", "--percentile-metrics",
                          "ttft,tpot,itl,e2el", "--goodput", "ttft:200 tpot:50 e2el:1000",
                          "--dataset-name", "random"),
                     0);
    assert_int_equal(c.requests, 200);
    assert_true(c.requests_set);
    assert_true(fabs(c.rate - 4.5) < 1e-9);
    assert_int_equal(c.arrivals, LLM_ARRIVALS_POISSON);
    assert_int_equal(c.max_inflight, 16);
    assert_int_equal(c.prompt_tokens, 512);
    assert_int_equal(c.prompt_chars, 4 * 512);
    assert_int_equal(c.max_tokens, 64);
    assert_true(c.ignore_eos);
    assert_true(fabs(c.slo.ttft_s - 0.2) < 1e-9);
    assert_true(fabs(c.slo.tpot_s - 0.05) < 1e-9);
    assert_true(fabs(c.slo.e2e_s - 1.0) < 1e-9);
    config_free(&c);
}

/* vLLM's default rate sends every prompt at once: a closed loop of -n users, or of the cap. */
static void vllm_infinite_rate_is_a_closed_loop(void **state)
{
    (void)state;
    llm_config c;
    assert_int_equal(
        LOAD(&c, "--url", "http://h/v1", "--request-rate", "inf", "--num-prompts", "64"), 0);
    assert_true(c.rate == 0);
    assert_int_equal(c.concurrency, 64);
    config_free(&c);
    assert_int_equal(LOAD(&c, "--url", "http://h/v1", "--request-rate", "inf", "--num-prompts",
                          "64", "--max-concurrency", "8"),
                     0);
    assert_int_equal(c.concurrency, 8);
    assert_int_equal(c.requests, 64);
    config_free(&c);
}

static void vllm_custom_dataset_is_a_prompts_file(void **state)
{
    (void)state;
    FILE *f = fopen("prompts.jsonl", "w");
    fputs("{\"prompt\": \"hello\"}\n", f);
    fclose(f);
    llm_config c;
    assert_int_equal(LOAD(&c, "--url", "http://h/v1", "--dataset-name", "custom", "--dataset-path",
                          "prompts.jsonl"),
                     0);
    assert_string_equal(c.prompts_file, "prompts.jsonl");
    config_free(&c);
    EXPECT_ERROR("--dataset-name custom needs --dataset-path", "--url", "http://h/v1",
                 "--dataset-name", "custom");
    EXPECT_ERROR("sharegpt is not read by llmload yet", "--url", "http://h/v1", "--dataset-name",
                 "sharegpt");
    EXPECT_ERROR("--goodput knows ttft, tpot and e2el", "--url", "http://h/v1", "--goodput",
                 "itl:5");
    EXPECT_ERROR("--percentile-metrics knows", "--url", "http://h/v1", "--percentile-metrics",
                 "ttft,p99");
}

static void guidellm_target_gets_the_api_base(void **state)
{
    (void)state;
    llm_config c;
    assert_int_equal(LOAD(&c, "--target", "http://localhost:8000", "--max-seconds", "30",
                          "--max-requests", "500"),
                     0);
    assert_string_equal(c.url, "http://localhost:8000/v1");
    assert_true(fabs(c.duration_s - 30) < 1e-9);
    assert_int_equal(c.requests, 500);
    config_free(&c);
    assert_int_equal(LOAD(&c, "--target", "http://localhost:8000/"), 0);
    assert_string_equal(c.url, "http://localhost:8000/v1");
    config_free(&c);
    assert_int_equal(LOAD(&c, "--target", "https://api.example.com/openai/v1"), 0);
    assert_string_equal(c.url, "https://api.example.com/openai/v1");
    config_free(&c);
}

/* GuideLLM's --rate means users under concurrent and requests/s under constant/poisson. */
static void guidellm_rate_type_decides_what_rate_means(void **state)
{
    (void)state;
    llm_config c;
    assert_int_equal(
        LOAD(&c, "--target", "http://h:8000", "--rate-type", "concurrent", "--rate", "8"), 0);
    assert_int_equal(c.concurrency, 8);
    assert_true(c.rate == 0);
    config_free(&c);
    assert_int_equal(
        LOAD(&c, "--target", "http://h:8000", "--rate", "3", "--rate-type", "constant"), 0);
    assert_true(fabs(c.rate - 3) < 1e-9);
    assert_int_equal(c.arrivals, LLM_ARRIVALS_CONSTANT);
    config_free(&c);
    assert_int_equal(LOAD(&c, "--target", "http://h:8000", "--rate-type", "synchronous"), 0);
    assert_int_equal(c.concurrency, 1);
    assert_true(c.rate == 0);
    config_free(&c);
    assert_int_equal(LOAD(&c, "--target", "http://h:8000", "--rate-type", "throughput"), 0);
    assert_int_equal(c.concurrency, 512);
    config_free(&c);
    EXPECT_ERROR("--rate-type synchronous takes no --rate", "--target", "http://h:8000",
                 "--rate-type", "synchronous", "--rate", "2");
    EXPECT_ERROR("--rate-type concurrent needs --rate N", "--target", "http://h:8000",
                 "--rate-type", "concurrent");
    EXPECT_ERROR("use --ramp", "--target", "http://h:8000", "--rate-type", "sweep");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(vllm_command_line_maps_onto_llmload, setup, teardown),
        cmocka_unit_test_setup_teardown(vllm_infinite_rate_is_a_closed_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(vllm_custom_dataset_is_a_prompts_file, setup, teardown),
        cmocka_unit_test_setup_teardown(guidellm_target_gets_the_api_base, setup, teardown),
        cmocka_unit_test_setup_teardown(guidellm_rate_type_decides_what_rate_means, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
