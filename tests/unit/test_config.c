/* Tests for config: flags > environment > .env > defaults, the seed tools' command lines,
 * every error sentence, .env syntax, help generated from the option table, key hygiene. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "config/envfile.h"
#include "testutil.h"

#define KEY "sk-test-0123456789abcdefSECRET"

static char saved_cwd[PATH_MAX];
static char test_dir[PATH_MAX];
static char err[512];
static bool help_shown;

/* Each test starts in a fresh empty directory (so no stray ./.env) with no target env. */
static int setup(void **state)
{
    (void)state;
    static const char *const keys[] = {"MODEL_URL", "MODEL_KEY", "MODEL_NAME", "OPENAI_BASE_URL",
                                       "OPENAI_API_KEY"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        unsetenv(keys[i]);
    if (!getcwd(saved_cwd, sizeof saved_cwd))
        return -1;
    const char *dir = tu_tmpdir();
    if (!dir)
        return -1;
    snprintf(test_dir, sizeof test_dir, "%s", dir);
    return chdir(dir);
}

/* Removes what the tests wrote, then the directory, and returns to the original cwd. */
static int teardown(void **state)
{
    (void)state;
    static const char *const files[] = {".env",          "other.env",  "a.json",     "b.json",
                                        "testphoto.jpg", "stderr.txt", "prompts.txt"};
    rmdir("adir");
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        unlink(files[i]);
    int rc = chdir(saved_cwd);
    rmdir(test_dir);
    return rc;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int load_argv(llm_config *cfg, char **argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    err[0] = '\0';
    return config_load(cfg, argc, argv, err, sizeof err, &help_shown);
}

#define LOAD(cfg, ...) load_argv(cfg, (char *[]){"llmload", __VA_ARGS__, NULL})

/* Loads, asserts a usage error whose message contains `want`, frees. */
#define EXPECT_ERROR(want, ...)                                                                    \
    do {                                                                                           \
        llm_config c_;                                                                             \
        int rc_ = LOAD(&c_, __VA_ARGS__);                                                          \
        if (rc_ != LLM_EXIT_USAGE || !strstr(err, want))                                           \
            fail_msg("wanted rc 2 and \"%s\"; got rc %d and \"%s\"", want, rc_, err);              \
        config_free(&c_);                                                                          \
    } while (0)

static void defaults_fill_every_unset_field(void **state)
{
    (void)state;
    llm_config c;
    assert_int_equal(LOAD(&c, "--url", "http://h:8000/v1"), 0);
    assert_int_equal(c.command, LLM_CMD_RUN);
    assert_false(c.demo);
    assert_null(c.model);
    assert_null(c.api_key);
    assert_int_equal(c.endpoint, LLM_ENDPOINT_CHAT);
    assert_int_equal(c.concurrency, 1);
    assert_int_equal(c.requests, 100);
    assert_false(c.requests_set);
    assert_int_equal(c.repeat, 1);
    assert_int_equal(c.prompt_chars, 256);
    assert_int_equal(c.max_tokens, 128);
    assert_true(c.temperature < 0);
    assert_true(c.connect_timeout_s == 10 && c.request_timeout_s == 600);
    assert_true(c.max_error_rate_pct == 5 && c.fps == 10 && c.autosave_s == 60);
    assert_string_equal(c.out_dir, "./llmload-out");
    assert_true(c.slo.errors_pct < 0 && c.slo.ttft_s == 0);
    assert_int_equal(c.ramp_end, 0);
    assert_null(c.env_file);
    assert_int_equal(c.model_source, LLM_SRC_DEFAULT);
    config_free(&c);
}

static void duration_without_requests_leaves_requests_unset(void **state)
{
    (void)state;
    llm_config c;
    assert_int_equal(LOAD(&c, "--url", "http://h", "--duration", "5m"), 0);
    assert_int_equal(c.requests, 0);
    assert_true(c.duration_s == 300);
    config_free(&c);
}

static void run_and_check_without_url_are_usage_errors(void **state)
{
    (void)state;
    llm_config c;
    char *none[] = {"llmload", NULL};
    assert_int_equal(load_argv(&c, none), LLM_EXIT_USAGE);
    assert_non_null(strstr(err, "no target URL: pass --url http://host:8000/v1 or set MODEL_URL "
                                "(in the environment or .env)"));
    config_free(&c);
    EXPECT_ERROR("no target URL", "check");
    assert_int_equal(LOAD(&c, "--demo"), 0);
    assert_true(c.demo);
    assert_int_equal(c.command, LLM_CMD_RUN);
    config_free(&c);
}

static void url_precedence_is_flag_then_env_then_envfile(void **state)
{
    (void)state;
    llm_config c;
    char *bare[] = {"llmload", NULL};
    write_file(".env", "MODEL_URL=http://envfile:1/v1\n");
    assert_int_equal(load_argv(&c, bare), 0);
    assert_string_equal(c.url, "http://envfile:1/v1");
    assert_int_equal(c.url_source, LLM_SRC_ENVFILE);
    assert_string_equal(c.env_file, ".env");
    config_free(&c);
    setenv("MODEL_URL", "http://env:2/v1", 1);
    assert_int_equal(load_argv(&c, bare), 0);
    assert_string_equal(c.url, "http://env:2/v1");
    assert_int_equal(c.url_source, LLM_SRC_ENV);
    config_free(&c);
    assert_int_equal(LOAD(&c, "--url", "http://flag:3/v1/"), 0);
    assert_string_equal(c.url, "http://flag:3/v1");
    assert_int_equal(c.url_source, LLM_SRC_FLAG);
    config_free(&c);
}

static void key_and_model_precedence_is_flag_then_env_then_envfile(void **state)
{
    (void)state;
    llm_config c;
    write_file(".env", "MODEL_URL=http://h/v1\nMODEL_KEY=from-envfile\nMODEL_NAME=m-envfile\n");
    assert_int_equal(LOAD(&c, "run"), 0);
    assert_string_equal(c.api_key, "from-envfile");
    assert_string_equal(c.model, "m-envfile");
    assert_int_equal(c.key_source, LLM_SRC_ENVFILE);
    assert_int_equal(c.model_source, LLM_SRC_ENVFILE);
    config_free(&c);
    setenv("MODEL_KEY", "from-env", 1);
    setenv("MODEL_NAME", "m-env", 1);
    assert_int_equal(LOAD(&c, "run"), 0);
    assert_string_equal(c.api_key, "from-env");
    assert_string_equal(c.model, "m-env");
    assert_int_equal(c.key_source, LLM_SRC_ENV);
    config_free(&c);
    assert_int_equal(LOAD(&c, "--api-key", "from-flag", "-m", "m-flag"), 0);
    assert_string_equal(c.api_key, "from-flag");
    assert_string_equal(c.model, "m-flag");
    assert_int_equal(c.key_source, LLM_SRC_FLAG);
    assert_int_equal(c.model_source, LLM_SRC_FLAG);
    config_free(&c);
    /* The seed's `--api_key ""`: deliberately no key, whatever the environment says. */
    assert_int_equal(LOAD(&c, "--api_key", ""), 0);
    assert_null(c.api_key);
    assert_int_equal(c.key_source, LLM_SRC_FLAG);
    config_free(&c);
}

static void openai_variables_are_fallbacks_behind_model_variables(void **state)
{
    (void)state;
    llm_config c;
    setenv("OPENAI_BASE_URL", "http://openai-env/v1", 1);
    setenv("OPENAI_API_KEY", "openai-env-key", 1);
    assert_int_equal(LOAD(&c, "run"), 0);
    assert_string_equal(c.url, "http://openai-env/v1");
    assert_string_equal(c.api_key, "openai-env-key");
    assert_int_equal(c.url_source, LLM_SRC_ENV);
    config_free(&c);
    /* MODEL_* in .env beats OPENAI_* in the environment: a globally exported OpenAI key must
     * not be sent to the server the .env names. */
    write_file(".env", "MODEL_URL=http://model-envfile/v1\nMODEL_KEY=model-envfile-key\n");
    assert_int_equal(LOAD(&c, "run"), 0);
    assert_string_equal(c.url, "http://model-envfile/v1");
    assert_string_equal(c.api_key, "model-envfile-key");
    config_free(&c);
    unsetenv("OPENAI_BASE_URL");
    unsetenv("OPENAI_API_KEY");
    write_file(".env", "OPENAI_BASE_URL=http://openai-envfile/v1\nOPENAI_API_KEY=k2\n");
    assert_int_equal(LOAD(&c, "run"), 0);
    assert_string_equal(c.url, "http://openai-envfile/v1");
    assert_string_equal(c.api_key, "k2");
    assert_int_equal(c.key_source, LLM_SRC_ENVFILE);
    config_free(&c);
}

static void env_file_flag_reads_that_file_instead_of_dot_env(void **state)
{
    (void)state;
    llm_config c;
    write_file(".env", "MODEL_URL=http://dot-env/v1\n");
    write_file("other.env", "MODEL_URL=http://other/v1\n");
    assert_int_equal(LOAD(&c, "--env-file", "other.env"), 0);
    assert_string_equal(c.url, "http://other/v1");
    assert_string_equal(c.env_file, "other.env");
    config_free(&c);
    EXPECT_ERROR("--env-file /nonexistent/x.env: cannot read it (No such file or directory)",
                 "--env-file", "/nonexistent/x.env");
}

static void envfile_handles_quotes_comments_export_and_crlf(void **state)
{
    (void)state;
    envfile e;
    const char *text = "# a comment\r\n"
                       "\r\n"
                       "export MODEL_URL=http://h:8000/v1\r\n"
                       "MODEL_KEY = \"quoted # not a comment\"  # trailing\r\n"
                       "MODEL_NAME='single $quoted'\r\n"
                       "BARE=value with spaces   # comment\n"
                       "ESC=\"a\\\"b\"\n"
                       "EMPTY=\n"
                       "DUP=1\nDUP=2";
    assert_int_equal(envfile_parse(text, ".env", &e, err, sizeof err), 0);
    assert_string_equal(envfile_get(&e, "MODEL_URL"), "http://h:8000/v1");
    assert_string_equal(envfile_get(&e, "MODEL_KEY"), "quoted # not a comment");
    assert_string_equal(envfile_get(&e, "MODEL_NAME"), "single $quoted");
    assert_string_equal(envfile_get(&e, "BARE"), "value with spaces");
    assert_string_equal(envfile_get(&e, "ESC"), "a\"b");
    assert_string_equal(envfile_get(&e, "EMPTY"), "");
    assert_string_equal(envfile_get(&e, "DUP"), "2");
    assert_null(envfile_get(&e, "MISSING"));
    envfile_free(&e);
}

static void envfile_errors_name_the_line_and_never_the_value(void **state)
{
    (void)state;
    envfile e;
    assert_int_equal(envfile_parse("A=1\n" KEY "\n", ".env", &e, err, sizeof err), -1);
    assert_non_null(strstr(err, ".env line 2: expected KEY=VALUE"));
    assert_null(strstr(err, KEY));
    assert_int_equal(envfile_parse("MODEL_KEY=\"" KEY "\n", ".env", &e, err, sizeof err), -1);
    assert_non_null(strstr(err, "line 1"));
    assert_null(strstr(err, KEY));
    llm_config c;
    write_file(".env", "MODEL_URL=http://h\nthis line is wrong\n");
    EXPECT_ERROR(".env line 2: expected KEY=VALUE", "run");
    (void)c;
}

static void crlf_dot_env_file_loads_through_config(void **state)
{
    (void)state;
    llm_config c;
    write_file(".env", "export MODEL_URL=\"http://h:8000/v1/\"\r\nMODEL_NAME=qwen\r\n");
    assert_int_equal(LOAD(&c, "check"), 0);
    assert_int_equal(c.command, LLM_CMD_CHECK);
    assert_string_equal(c.url, "http://h:8000/v1");
    assert_string_equal(c.model, "qwen");
    config_free(&c);
}

static void every_bad_value_gives_one_sentence_and_exit_2(void **state)
{
    (void)state;
    EXPECT_ERROR("--concurrency must be a whole number \xE2\x89\xA5 1 (got \"-3\")", "--url",
                 "http://h", "--concurrency", "-3");
    EXPECT_ERROR("unknown option --concurency (did you mean --concurrency?)", "--concurency", "3");
    EXPECT_ERROR("--endpoint must be chat or completions", "--endpoint", "chats");
    EXPECT_ERROR("--ramp must be START:END:STEP like 1:64:x2 or 1:32:+4", "--ramp", "1:64");
    EXPECT_ERROR("--ramp must be START:END:STEP", "--ramp", "1:64:y2");
    EXPECT_ERROR("--ramp must count up", "--ramp", "64:1:x2");
    EXPECT_ERROR("--ramp must be START:END:STEP", "--ramp", "1:8:x1");
    EXPECT_ERROR("--body-json must be a JSON object", "--body-json", "[1,2]");
    EXPECT_ERROR("--body-json must be a JSON object", "--body-json", "{oops");
    EXPECT_ERROR("--concurrency needs a value", "--concurrency");
    EXPECT_ERROR("--concurrency needs a value", "--concurrency", "--url", "http://h");
    EXPECT_ERROR("--url must start with http:// or https:// (got \"localhost:8000\")", "--url",
                 "localhost:8000");
    EXPECT_ERROR("--url must name a host", "--url", "http:///v1");
    EXPECT_ERROR("--duration must be a duration", "--duration", "5 minutes");
    EXPECT_ERROR("--arrivals must be poisson, gamma or constant", "--arrivals", "burst");
    EXPECT_ERROR("--max-error-rate must be a percentage from 0 to 100", "--max-error-rate", "150");
    EXPECT_ERROR("--slo must be a comma list", "--slo", "ttft=fast");
    EXPECT_ERROR("--header must be Name:Value", "--header", "no colon here");
    EXPECT_ERROR("--fps must be a number from 1 to 60", "--fps", "0");
    EXPECT_ERROR("--prompts /nonexistent/p.jsonl: cannot read it", "--prompts",
                 "/nonexistent/p.jsonl");
    EXPECT_ERROR("--insecure is a switch and takes no value", "--insecure=yes");
    EXPECT_ERROR("unexpected argument \"stray\"", "--url", "http://h", "stray");
    EXPECT_ERROR("unknown command \"rn\" (did you mean run?)", "rn");
    EXPECT_ERROR("--slots is a simulator option", "--url", "http://h", "--slots", "4");
    EXPECT_ERROR("--port is not an option of `llmload run`", "--port", "1");
    EXPECT_ERROR("--port must be a whole number from 0 to 65535", "sim", "--port", "70000");
    EXPECT_ERROR("both set the concurrency", "--url", "http://h", "-c", "4", "--ramp", "1:8:x2");
    EXPECT_ERROR("both set the prompt length", "--url", "http://h", "--prompt-chars", "10",
                 "--prompt-tokens", "5");
    EXPECT_ERROR("merge needs -o FILE", "merge", "a.json");
    EXPECT_ERROR("report needs at least one snapshot FILE", "report");
    EXPECT_ERROR("--format must be md, csv, html or vllm-json", "report", "x.json", "--format",
                 "pdf");
    EXPECT_ERROR("--search needs --slo to know which loads pass", "--url", "http://h", "--search");
    EXPECT_ERROR("--search and --ramp both make the plan; use --step-requests or "
                 "--step-duration to size each search step",
                 "--url", "http://h", "--search", "--slo", "ttft=1s", "--ramp", "1:8:x2");
    EXPECT_ERROR("--search and --duration both make the plan", "--url", "http://h", "--search",
                 "--slo", "e2e=9s", "--duration", "1m");
    EXPECT_ERROR("--search runs one kind of step: use it with one of -i, -o, -mm", "--url",
                 "http://h", "--search", "--slo", "errors=1%", "-i", "-o");
    EXPECT_ERROR("--search-max bounds --search", "--url", "http://h", "--search-max", "9");
    EXPECT_ERROR("--search-max 8 is below the start of the search (16)", "--url", "http://h",
                 "--search", "--slo", "ttft=1s", "-c", "16", "--search-max", "8");
}

static void search_bound_defaults_to_256_users_or_64_times_the_rate(void **state)
{
    (void)state;
    llm_config cfg;
    char *users[] = {"llmload", "--url", "http://h/v1", "--search", "--slo", "ttft=1s", NULL};
    assert_int_equal(load_argv(&cfg, users), 0);
    assert_true(cfg.search && cfg.search_max == 256);
    config_free(&cfg);
    char *rate[] = {"llmload", "--url",  "http://h/v1", "--search", "--slo",
                    "ttft=1s", "--rate", "2.5",         NULL};
    assert_int_equal(load_argv(&cfg, rate), 0);
    assert_true(cfg.search && cfg.search_max == 160);
    config_free(&cfg);
}

static void env_values_are_validated_under_their_own_names(void **state)
{
    (void)state;
    setenv("MODEL_URL", "localhost:8000", 1);
    EXPECT_ERROR("MODEL_URL must start with http:// or https:// (got \"localhost:8000\")", "run");
    unsetenv("MODEL_URL");
    setenv("OPENAI_BASE_URL", "ftp://x", 1);
    EXPECT_ERROR("OPENAI_BASE_URL must start with http:// or https://", "run");
    unsetenv("OPENAI_BASE_URL");
    write_file(".env", "MODEL_URL=h:1\n");
    EXPECT_ERROR("MODEL_URL (from .env) must start with http:// or https://", "run");
}

static void no_message_ever_contains_the_api_key(void **state)
{
    (void)state;
    char *lines[][8] = {
        {"llmload", "--api-key", KEY, "--url", KEY, NULL},
        {"llmload", "--url", "http://h", "--api-key", KEY, KEY, NULL},
        {"llmload", "--api-kye=" KEY, NULL},
        {"llmload", "--url", "http://h", "--api_key=" KEY " x", NULL},
        {"llmload", "sim", "--api-key", KEY " x", NULL},
        {"llmload", "sim", "--api-key", KEY, "--model", KEY KEY KEY KEY KEY, NULL},
    };
    llm_config c;
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        assert_int_equal(load_argv(&c, lines[i]), LLM_EXIT_USAGE);
        if (strstr(err, KEY))
            fail_msg("case %zu leaked the key: %s", i, err);
        config_free(&c);
    }
    setenv("MODEL_KEY", KEY, 1);
    /* Rejected before the environment is even read: still scrubbed. */
    EXPECT_ERROR("unexpected argument", "--url", "http://h", KEY);
    assert_null(strstr(err, KEY));
    setenv("MODEL_URL", KEY, 1);
    assert_int_equal(LOAD(&c, "run"), LLM_EXIT_USAGE);
    assert_null(strstr(err, KEY));
    config_free(&c);
    unsetenv("MODEL_URL");
    setenv("MODEL_KEY", KEY "\r\nX-Injected: 1", 1);
    EXPECT_ERROR("MODEL_KEY contains a space or control character", "--url", "http://h");
    assert_null(strstr(err, KEY));
    unsetenv("MODEL_KEY");
    write_file(".env", "MODEL_KEY=" KEY "\nMODEL_URL=" KEY "\n");
    EXPECT_ERROR("must start with http://", "run");
    assert_null(strstr(err, KEY));
}

static void binary_never_prints_the_key(void **state)
{
    (void)state;
    char *argv[] = {LLM_BINARY, "--api-key", KEY, "--url", KEY, NULL};
    tu_result r;
    assert_int_equal(tu_run(argv, NULL, NULL, 20, &r), 0);
    assert_int_equal(r.exit_code, LLM_EXIT_USAGE);
    assert_non_null(strstr(r.err, "--url must start with http://"));
    assert_null(strstr(r.err, KEY));
    assert_null(strstr(r.out, KEY));
    tu_result_free(&r);
}

static void llm_test_step_line_maps_to_a_ramp(void **state)
{
    (void)state;
    llm_config c;
    assert_int_equal(LOAD(&c, "-u", "http://h:8000/v1", "-i", "-o", "-st", "10", "-et", "300",
                          "-ts", "10", "-pp", "500", "-tg", "500", "-l", "custom_model_test2.log"),
                     0);
    assert_true(c.ramp_start == 10 && c.ramp_end == 300 && c.ramp_step == 10);
    assert_false(c.ramp_multiply);
    assert_int_equal(c.prompt_chars, 500);
    assert_int_equal(c.max_tokens, 500);
    assert_true(c.test_input && c.test_output && !c.test_multimodal);
    assert_true(c.seed_steps_used);
    assert_int_equal(c.seed_start_threads, 10);
    assert_string_equal(c.log_file, "custom_model_test2.log");
    assert_true(c.duration_s == 0);
    config_free(&c);
}

static void llm_test_stress_line_maps_to_hours_at_fixed_concurrency(void **state)
{
    (void)state;
    llm_config c;
    setenv("MODEL_URL", "http://h/v1", 1);
    assert_int_equal(LOAD(&c, "-d", "8", "-st", "300", "-pp", "500", "-tg", "500", "-l",
                          "custom_model_stress_test.log"),
                     0);
    assert_true(c.duration_s == 28800);
    assert_int_equal(c.concurrency, 300);
    assert_int_equal(c.ramp_end, 0);
    assert_int_equal(c.requests, 0);
    assert_true(c.seed_duration_hours == 8);
    config_free(&c);
    assert_int_equal(LOAD(&c, "-d", "0.5", "-st", "4"), 0);
    assert_true(c.duration_s == 1800);
    config_free(&c);
    /* -d 0 is llm-test.py's step mode. */
    assert_int_equal(LOAD(&c, "-d", "0", "-st", "1", "-et", "4", "-ts", "1"), 0);
    assert_true(c.duration_s == 0 && c.ramp_end == 4);
    config_free(&c);
    assert_int_equal(LOAD(&c, "-st", "16"), 0);
    assert_int_equal(c.concurrency, 16);
    assert_int_equal(c.ramp_end, 0);
    config_free(&c);
}

static void llm_test_multimodal_line_sets_image_and_prompt(void **state)
{
    (void)state;
    llm_config c;
    setenv("MODEL_URL", "http://h/v1", 1);
    write_file("testphoto.jpg", "\xFF\xD8\xFF");
    assert_int_equal(LOAD(&c, "-i", "-o", "-mm", "-st", "10", "-et", "300", "-ts", "10", "-pp",
                          "500", "-tg", "500", "-ip", "testphoto.jpg", "-mtp",
                          "Describe the contents of this image.", "-l",
                          "custom_model_full_test.log"),
                     0);
    assert_true(c.test_multimodal && c.test_input && c.test_output);
    assert_string_equal(c.image_file, "testphoto.jpg");
    assert_string_equal(c.image_prompt, "Describe the contents of this image.");
    assert_true(c.ramp_start == 10 && c.ramp_end == 300 && c.ramp_step == 10);
    config_free(&c);
    /* -mm without -ip uses the seed's default image. */
    assert_int_equal(LOAD(&c, "-mm"), 0);
    assert_string_equal(c.image_file, "testphoto.jpg");
    config_free(&c);
    unlink("testphoto.jpg");
    EXPECT_ERROR("-mm needs an image: testphoto.jpg: cannot read it", "-mm");
}

static void llm_benchmark_lines_parse_unchanged(void **state)
{
    (void)state;
    llm_config c;
    assert_int_equal(LOAD(&c, "--llm_url", "http://your-llm-server", "--api_key", "your-api-key",
                          "--model", "your-model-name", "--num_requests", "100", "--concurrency",
                          "10"),
                     0);
    assert_string_equal(c.url, "http://your-llm-server");
    assert_string_equal(c.api_key, "your-api-key");
    assert_string_equal(c.model, "your-model-name");
    assert_int_equal(c.requests, 100);
    assert_true(c.requests_set);
    assert_int_equal(c.concurrency, 10);
    config_free(&c);

    assert_int_equal(LOAD(&c, "--llm_url", "http://your-llm-server", "--api_key", "your-api-key",
                          "--model", "your-model-name", "--use_long_context"),
                     0);
    assert_true(c.long_context);
    assert_true(c.prompt_chars > 256);
    assert_true(c.suite); /* run_benchmarks.py's line is its full suite */
    assert_int_equal(c.max_tokens, 100);
    config_free(&c);

    assert_int_equal(LOAD(&c, "--llm_url", "http://your-llm-server", "--api_key", "", "--model",
                          "my-model", "--num_requests", "100", "--concurrency", "7",
                          "--output_tokens", "100", "--request_timeout", "120", "--output_format",
                          "json"),
                     0);
    assert_null(c.api_key);
    assert_int_equal(c.max_tokens, 100);
    assert_true(c.request_timeout_s == 120);
    assert_string_equal(c.output_format, "json");
    assert_int_equal(c.concurrency, 7);
    assert_false(c.suite);
    config_free(&c);
}

static void sim_options_fill_the_simulator_struct(void **state)
{
    (void)state;
    llm_config c;
    assert_int_equal(LOAD(&c, "sim", "--port", "0", "--slots", "4", "--error-rate", "10"), 0);
    assert_int_equal(c.command, LLM_CMD_SIM);
    assert_int_equal(c.sim.port, 0);
    assert_int_equal(c.sim.slots, 4);
    assert_true(c.sim.error_rate_pct == 10);
    config_free(&c);
    assert_int_equal(LOAD(&c, "sim", "--host", "0.0.0.0", "--port=8123", "--model", "m1",
                          "--api-key", "simkey", "--seed", "7", "--max-tokens", "64",
                          "--decode-rate", "30", "--prefill-rate", "900", "--base-latency", "50ms",
                          "--batch-penalty", "0.1", "--cut-rate", "1%", "--stall", "2s", "--quiet"),
                     0);
    assert_string_equal(c.sim.host, "0.0.0.0");
    assert_int_equal(c.sim.port, 8123);
    assert_string_equal(c.sim.model, "m1");
    assert_string_equal(c.sim.api_key, "simkey");
    assert_true(c.sim.seed == 7);
    assert_int_equal(c.sim.default_max_tokens, 64);
    assert_true(c.sim.decode_rate == 30 && c.sim.prefill_rate == 900);
    assert_true(c.sim.base_latency_s > 0.0499 && c.sim.base_latency_s < 0.0501);
    assert_true(c.sim.batch_penalty == 0.1 && c.sim.cut_rate_pct == 1 && c.sim.stall_s == 2);
    assert_true(c.sim.quiet);
    assert_null(c.model);
    assert_null(c.api_key);
    config_free(&c);
    /* The simulator needs no target, even with a broken MODEL_URL around. */
    setenv("MODEL_URL", "not a url", 1);
    assert_int_equal(LOAD(&c, "sim"), 0);
    config_free(&c);
}

static void demo_accepts_simulator_knobs(void **state)
{
    (void)state;
    llm_config c;
    assert_int_equal(LOAD(&c, "--demo", "--slots", "16", "--error-rate", "2"), 0);
    assert_true(c.demo);
    assert_int_equal(c.sim.slots, 16);
    assert_true(c.sim.error_rate_pct == 2);
    config_free(&c);
}

static void load_work_and_limit_values_parse(void **state)
{
    (void)state;
    llm_config c;
    assert_int_equal(LOAD(&c, "--url=https://api.example.com/v1///", "--endpoint", "completions",
                          "--ramp", "1:64:x2", "--step-duration", "30s", "--cooldown", "250ms",
                          "--repeat", "3", "--rate", "2.5", "--arrivals", "gamma", "--max-inflight",
                          "50", "--warmup", "5", "--prompt-tokens", "100", "--ignore-eos", "-H",
                          "X-A: 1", "--header", "X-B:two", "--body-json", "{\"top_p\":0.9}",
                          "--no-usage", "--seed", "42", "--temperature", "0.7", "--slo",
                          "ttft=2s,tpot=80ms,e2e=30s,errors=1%", "--fail-on-slo", "--ttft-timeout",
                          "5s", "--json", "out.json", "--no-tui", "--fps", "30", "--insecure",
                          "--http2", "--autosave", "0"),
                     0);
    assert_string_equal(c.url, "https://api.example.com/v1");
    assert_int_equal(c.endpoint, LLM_ENDPOINT_COMPLETIONS);
    assert_true(c.ramp_start == 1 && c.ramp_end == 64 && c.ramp_step == 2 && c.ramp_multiply);
    assert_true(c.step_duration_s == 30 && c.cooldown_s == 0.25 && c.repeat == 3);
    assert_true(c.rate == 2.5 && c.arrivals == LLM_ARRIVALS_GAMMA && c.max_inflight == 50);
    assert_int_equal(c.warmup, 5);
    assert_int_equal(c.prompt_tokens, 100);
    assert_int_equal(c.prompt_chars, 400);
    assert_true(c.ignore_eos && c.no_usage && c.fail_on_slo && c.no_tui && c.insecure && c.http2);
    assert_int_equal(c.n_headers, 2);
    assert_string_equal(c.headers[0].name, "X-A");
    assert_string_equal(c.headers[0].value, "1");
    assert_string_equal(c.headers[1].value, "two");
    assert_string_equal(c.body_json, "{\"top_p\":0.9}");
    assert_true(c.seed_set && c.seed == 42);
    assert_true(c.temperature == 0.7);
    assert_true(c.slo.ttft_s == 2 && c.slo.e2e_s == 30 && c.slo.errors_pct == 1);
    assert_true(c.slo.tpot_s > 0.0799 && c.slo.tpot_s < 0.0801);
    assert_true(c.ttft_timeout_s == 5 && c.fps == 30 && c.autosave_s == 0);
    assert_string_equal(c.json_path, "out.json");
    config_free(&c);
    assert_int_equal(LOAD(&c, "--url", "http://h", "--ramp", "2:32:+4"), 0);
    assert_true(c.ramp_step == 4 && !c.ramp_multiply);
    config_free(&c);
    assert_int_equal(LOAD(&c, "--url", "http://h", "--ramp", "1:10:3"), 0);
    assert_true(c.ramp_step == 3 && !c.ramp_multiply);
    config_free(&c);
}

static void report_and_merge_take_files_and_dash_o_is_a_path_there(void **state)
{
    (void)state;
    llm_config c;
    write_file("a.json", "{}");
    write_file("b.json", "{}");
    assert_int_equal(LOAD(&c, "report", "a.json", "b.json", "--format", "html", "-o", "r.html"), 0);
    assert_int_equal(c.command, LLM_CMD_REPORT);
    assert_int_equal(c.n_files, 2);
    assert_string_equal(c.files[1], "b.json");
    assert_string_equal(c.report_format, "html");
    assert_string_equal(c.output_path, "r.html");
    config_free(&c);
    assert_int_equal(LOAD(&c, "report", "a.json"), 0);
    assert_string_equal(c.report_format, "md");
    assert_null(c.output_path);
    config_free(&c);
    assert_int_equal(LOAD(&c, "merge", "a.json", "b.json", "-o", "m.json"), 0);
    assert_int_equal(c.command, LLM_CMD_MERGE);
    assert_string_equal(c.output_path, "m.json");
    config_free(&c);
    EXPECT_ERROR("missing.json: cannot read it", "report", "missing.json");
}

static void endpoint_url_joins_base_and_path(void **state)
{
    (void)state;
    llm_config c;
    assert_int_equal(LOAD(&c, "--url", "http://h:8000/v1/"), 0);
    char *u = config_endpoint_url(&c, "/chat/completions");
    assert_string_equal(u, "http://h:8000/v1/chat/completions");
    free(u);
    u = config_endpoint_url(&c, "models");
    assert_string_equal(u, "http://h:8000/v1/models");
    free(u);
    config_free(&c);
}

static void help_and_version_print_and_set_help_shown(void **state)
{
    (void)state;
    llm_config c;
    char *argv[] = {"llmload", "sim", "--help", NULL};
    assert_int_equal(load_argv(&c, argv), 0);
    assert_true(help_shown);
    config_free(&c);
    char *help_cmd[] = {"llmload", "help", "report", NULL};
    assert_int_equal(load_argv(&c, help_cmd), 0);
    assert_true(help_shown);
    config_free(&c);
    char *bad_then_help[] = {"llmload", "--concurrency", "0", "-h", NULL};
    assert_int_equal(load_argv(&c, bad_then_help), 0);
    assert_true(help_shown);
    config_free(&c);
}

static tu_result run_binary(char *const argv[])
{
    tu_result r;
    assert_int_equal(tu_run(argv, NULL, NULL, 20, &r), 0);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(r.out);
    return r;
}

static void help_lists_every_contract_option(void **state)
{
    (void)state;
    static const char *const run_opts[] = {"--url",
                                           "--api-key",
                                           "--model",
                                           "--endpoint",
                                           "--env-file",
                                           "--insecure",
                                           "--http2",
                                           "-c, --concurrency",
                                           "-n, --requests",
                                           "--duration",
                                           "--ramp",
                                           "--step-requests",
                                           "--step-duration",
                                           "--cooldown",
                                           "--repeat",
                                           "--rate",
                                           "--arrivals",
                                           "--max-inflight",
                                           "--warmup",
                                           "--demo",
                                           "--prompt-chars",
                                           "--prompt-tokens",
                                           "--max-tokens",
                                           "--ignore-eos",
                                           "--prompts",
                                           "--image",
                                           "--header",
                                           "--body-json",
                                           "--no-usage",
                                           "--seed",
                                           "--temperature",
                                           "--connect-timeout",
                                           "--ttft-timeout",
                                           "--request-timeout",
                                           "--max-error-rate",
                                           "--slo",
                                           "--fail-on-slo",
                                           "--json",
                                           "--out",
                                           "--autosave",
                                           "--no-tui",
                                           "--theme",
                                           "--fps",
                                           "-st",
                                           "-et",
                                           "-ts",
                                           "-pp",
                                           "-tg",
                                           "-mm",
                                           "-ip",
                                           "-mtp",
                                           "-l,",
                                           "-d,",
                                           "-i,",
                                           "-o,",
                                           "--llm_url",
                                           "--api_key",
                                           "--num_requests",
                                           "--output_tokens",
                                           "--request_timeout",
                                           "--use_long_context",
                                           "--output_format",
                                           "llmload report FILE",
                                           "llmload merge FILE"};
    static const char *const sim_opts[] = {
        "--host",
        "--port",
        "--slots",
        "--base-latency",
        "--prefill-rate",
        "--decode-rate",
        "--batch-penalty",
        "--max-tokens",
        "--mean-output",
        "--model",
        "--api-key",
        "--seed",
        "--error-rate",
        "--cut-rate",
        "--malformed-rate",
        "--stall-rate",
        "--stall",
        "--slow-headers",
        "--quiet",
        "Each of S slots decodes one sequence; a sequence alone decodes at --decode-rate "
        "tokens/s and, with b sequences in the batch, at decode-rate / (1 + batch-penalty x (b "
        "- 1)); requests beyond S wait in a FIFO queue; TTFT = queue wait + base-latency + "
        "prompt_tokens / prefill-rate."};
    tu_result r = run_binary((char *[]){LLM_BINARY, "--help", NULL});
    for (size_t i = 0; i < sizeof run_opts / sizeof run_opts[0]; i++)
        if (!strstr(r.out, run_opts[i]))
            fail_msg("llmload --help does not list %s", run_opts[i]);
    assert_null(strstr(r.out, "--quiet")); /* sim-only: not in run's help */
    tu_result_free(&r);
    r = run_binary((char *[]){LLM_BINARY, "sim", "--help", NULL});
    for (size_t i = 0; i < sizeof sim_opts / sizeof sim_opts[0]; i++)
        if (!strstr(r.out, sim_opts[i]))
            fail_msg("llmload sim --help does not list %s", sim_opts[i]);
    tu_result_free(&r);
    r = run_binary((char *[]){LLM_BINARY, "report", "-h", NULL});
    assert_non_null(strstr(r.out, "--format md|csv|html"));
    assert_non_null(strstr(r.out, "-o, --output FILE"));
    tu_result_free(&r);
    r = run_binary((char *[]){LLM_BINARY, "--version", NULL});
    assert_non_null(strstr(r.out, "llmload "));
    tu_result_free(&r);
}

/* ---- issue 12: files, secrets, ranges, small refusals ---- */

static void an_unrelated_dot_env_does_not_stop_a_run_given_by_flags(void **state)
{
    (void)state;
    write_file(".env", "THIS IS NOT A DOT ENV FILE\n");
    llm_config c;
    int rc = LOAD(&c, "--url", "http://h:8000/v1", "--api-key", "", "--model", "m");
    if (rc != 0)
        fail_msg("rc %d: %s", rc, err);
    assert_null(c.env_file);
    config_free(&c);
}

static void a_broken_dot_env_names_its_line_and_how_to_skip_it(void **state)
{
    (void)state;
    write_file(".env", "# ok\nMODEL_NAME=m\nbroken line\n");
    EXPECT_ERROR("./.env line 3: expected KEY=VALUE", "--url", "http://h:8000/v1");
    EXPECT_ERROR("--env-file /dev/null", "--url", "http://h:8000/v1");
    llm_config c;
    assert_int_equal(LOAD(&c, "--url", "http://h:8000/v1", "--env-file", "/dev/null"), 0);
    config_free(&c);
}

/* What config_load writes on stderr while loading argv. */
static char *stderr_of_load(char **argv, int *rc)
{
    fflush(stderr);
    int saved = dup(2), fd = open("stderr.txt", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    llm_config c;
    *rc = load_argv(&c, argv);
    config_free(&c);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    return tu_read_file("stderr.txt", NULL);
}

static void a_dot_env_with_a_key_readable_by_others_gets_one_warning(void **state)
{
    (void)state;
    write_file(".env", "MODEL_URL=http://h/v1\nMODEL_KEY=" KEY "\n");
    chmod(".env", 0644);
    int rc;
    char *text = stderr_of_load((char *[]){"llmload", NULL}, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(text, "warning: .env holds an API key and is readable by everyone"));
    assert_non_null(strstr(text, "chmod 600 .env"));
    assert_null(strstr(text, KEY));
    assert_null(strchr(strchr(text, '\n') + 1, '\n')); /* one line */
    free(text);
    chmod(".env", 0600);
    text = stderr_of_load((char *[]){"llmload", NULL}, &rc);
    assert_string_equal(text, "");
    free(text);
    write_file(".env", "MODEL_URL=http://h/v1\n"); /* no key: nothing to warn about */
    chmod(".env", 0644);
    text = stderr_of_load((char *[]){"llmload", NULL}, &rc);
    assert_string_equal(text, "");
    free(text);
}

static void out_of_range_loads_are_refused_with_one_sentence(void **state)
{
    (void)state;
    EXPECT_ERROR("--rate must be a rate from 0.001 to 1000000", "--url", "http://h", "--rate",
                 "1e9");
    EXPECT_ERROR("--rate must be a rate from 0.001 to 1000000", "--url", "http://h", "--rate",
                 "1e-20");
    EXPECT_ERROR("--duration must be at most 8760h", "--url", "http://h", "--duration", "5200000h");
    EXPECT_ERROR("--step-duration must be at most", "--url", "http://h", "--step-duration",
                 "9000h");
    EXPECT_ERROR("--request-timeout must be at most", "--url", "http://h", "--request-timeout",
                 "9000h");
    EXPECT_ERROR("--repeat must be at most 1000", "--url", "http://h", "--repeat",
                 "4611686018427387904");
    EXPECT_ERROR("--max-tokens must be at most 10000000", "--url", "http://h", "--max-tokens",
                 "99999999999");
    EXPECT_ERROR("-c must be at most 100000", "--url", "http://h", "-c", "1000000");
    EXPECT_ERROR("--max-inflight must be at most 100000", "--url", "http://h", "--max-inflight",
                 "99999999");
    EXPECT_ERROR("--ramp must stay at or below 100000", "--url", "http://h", "--ramp",
                 "1:9999999:x2");
    EXPECT_ERROR("--ramp makes more than 4096 steps; use a bigger STEP", "--url", "http://h",
                 "--ramp", "1:100000:+1");
    EXPECT_ERROR("200 steps x --repeat 1000 makes more than 100000 steps", "--url", "http://h",
                 "--ramp", "1:200:+1", "--repeat", "1000");
    llm_config c;
    assert_int_equal(LOAD(&c, "--url", "http://h", "--rate", "0.001", "--duration", "8760h",
                          "--repeat", "1000", "--max-tokens", "10000000"),
                     0);
    config_free(&c);
}

static void every_output_is_checked_before_any_load_and_nothing_is_created(void **state)
{
    (void)state;
    assert_int_equal(mkdir("adir", 0755), 0);
    EXPECT_ERROR("--json adir: is a directory", "--url", "http://h", "--json", "adir");
    EXPECT_ERROR("--json /nonexistent-dir/x.json: cannot write there", "--url", "http://h",
                 "--json", "/nonexistent-dir/x.json");
    EXPECT_ERROR("--log-file adir: is a directory", "--url", "http://h", "--log-file", "adir");
    write_file("a.json", "{}");
    EXPECT_ERROR("-o a.json is also an input", "report", "a.json", "-o", "a.json");
    EXPECT_ERROR("-o adir: is a directory", "merge", "a.json", "-o", "adir");
    write_file("prompts.txt", "hello\n");
    EXPECT_ERROR("--json prompts.txt is also an input", "--url", "http://h", "--prompts",
                 "prompts.txt", "--json", "prompts.txt");
    /* The check writes nothing: no b.json, no b.json.tmp. */
    llm_config c;
    assert_int_equal(LOAD(&c, "--url", "http://h", "--json", "b.json"), 0);
    config_free(&c);
    assert_int_not_equal(access("b.json", F_OK), 0);
    assert_int_not_equal(access("b.json.tmp", F_OK), 0);
    rmdir("adir");
}

static void url_credentials_are_never_kept_in_the_url(void **state)
{
    (void)state;
    llm_config c;
    assert_int_equal(LOAD(&c, "--url", "http://user:s3cr3t-pw@h:8000/v1/"), 0);
    assert_string_equal(c.url, "http://h:8000/v1");
    config_free(&c);
    EXPECT_ERROR("--url must start with http:// or https:// (got \"ftp://h\")", "--url",
                 "ftp://user:s3cr3t-pw@h");
    assert_null(strstr(err, "s3cr3t"));
}

static void url_credentials_become_basic_auth(void **state)
{
    (void)state;
    llm_config c;
    assert_int_equal(LOAD(&c, "--url", "https://me:p%40ss%3Aw@h/v1"), 0);
    assert_string_equal(c.url, "https://h/v1");
    assert_string_equal(c.url_user, "me");
    assert_string_equal(c.url_password, "p@ss:w");
    config_free(&c);
}

static void server_metrics_key_takes_a_key_api_or_none(void **state)
{
    (void)state;
    llm_config c;
    assert_int_equal(LOAD(&c, "--url", "http://h", "--server-metrics-key", "api"), 0);
    assert_string_equal(c.server_metrics_key, "api");
    config_free(&c);
    EXPECT_ERROR("--server-metrics-key must not contain spaces", "--url", "http://h",
                 "--server-metrics-key", "a b");
}

static void ambiguous_or_lossy_options_are_refused(void **state)
{
    (void)state;
    EXPECT_ERROR("--ramp (users) and --rate-ramp (requests/s) both set the steps", "--url",
                 "http://h", "--ramp", "1:8:x2", "--rate-ramp", "1:8:x2");
    EXPECT_ERROR("gives ttft twice", "--url", "http://h", "--slo", "ttft=2s,ttft=1s");
    EXPECT_ERROR("tpot=80 needs a unit, like 80ms or 2s", "--url", "http://h", "--slo",
                 "ttft=2s,tpot=80");
    EXPECT_ERROR("--body-json must be a JSON object", "--url", "http://h", "--body-json",
                 "{\"a\":1}{\"b\":2}");
    EXPECT_ERROR("--body-json must not set \"model\": use --model NAME", "--url", "http://h",
                 "--body-json", "{\"model\":\"x\"}");
    EXPECT_ERROR("--body-json must not set \"max_tokens\": use --max-tokens N", "--url", "http://h",
                 "--body-json", "{\"top_p\":1,\"max_tokens\":-5}");
    assert_int_equal(mkdir("adir", 0755), 0);
    EXPECT_ERROR("--prompts adir is a directory", "--url", "http://h", "--prompts", "adir");
    rmdir("adir");
    llm_config c;
    assert_int_equal(LOAD(&c, "--url", "http://h", "--slo", "ttft=2s,tpot=80ms,errors=1"), 0);
    config_free(&c);
}

static void help_states_the_real_defaults(void **state)
{
    (void)state;
    tu_result r = run_binary((char *[]){LLM_BINARY, "--help", NULL});
    assert_null(strstr(r.out, "unlimited"));
    assert_non_null(strstr(r.out, "(default 1024)"));
    assert_null(strstr(r.out, "only at the end)"));
    assert_non_null(strstr(r.out, "--server-metrics-key"));
    tu_result_free(&r);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(defaults_fill_every_unset_field),
        T(duration_without_requests_leaves_requests_unset),
        T(run_and_check_without_url_are_usage_errors),
        T(url_precedence_is_flag_then_env_then_envfile),
        T(key_and_model_precedence_is_flag_then_env_then_envfile),
        T(openai_variables_are_fallbacks_behind_model_variables),
        T(env_file_flag_reads_that_file_instead_of_dot_env),
        T(envfile_handles_quotes_comments_export_and_crlf),
        T(envfile_errors_name_the_line_and_never_the_value),
        T(crlf_dot_env_file_loads_through_config),
        T(every_bad_value_gives_one_sentence_and_exit_2),
        T(search_bound_defaults_to_256_users_or_64_times_the_rate),
        T(env_values_are_validated_under_their_own_names),
        T(no_message_ever_contains_the_api_key),
        T(binary_never_prints_the_key),
        T(llm_test_step_line_maps_to_a_ramp),
        T(llm_test_stress_line_maps_to_hours_at_fixed_concurrency),
        T(llm_test_multimodal_line_sets_image_and_prompt),
        T(llm_benchmark_lines_parse_unchanged),
        T(sim_options_fill_the_simulator_struct),
        T(demo_accepts_simulator_knobs),
        T(load_work_and_limit_values_parse),
        T(report_and_merge_take_files_and_dash_o_is_a_path_there),
        T(endpoint_url_joins_base_and_path),
        T(help_and_version_print_and_set_help_shown),
        T(help_lists_every_contract_option),
        T(an_unrelated_dot_env_does_not_stop_a_run_given_by_flags),
        T(a_broken_dot_env_names_its_line_and_how_to_skip_it),
        T(a_dot_env_with_a_key_readable_by_others_gets_one_warning),
        T(out_of_range_loads_are_refused_with_one_sentence),
        T(every_output_is_checked_before_any_load_and_nothing_is_created),
        T(url_credentials_are_never_kept_in_the_url),
        T(url_credentials_become_basic_auth),
        T(server_metrics_key_takes_a_key_api_or_none),
        T(ambiguous_or_lossy_options_are_refused),
        T(help_states_the_real_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
