/* Tests for config/cli_scale: --shard, --shards with JOB_COMPLETION_INDEX, --start-at,
 * --listen, --control-token[-file]: what they set and the one sentence each refusal says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/cli_scale.h"
#include "config/config.h"
#include "testutil.h"

#define TOKEN "tok-0123456789abcdefXYZ"

static char err[512];

/* `llmload run --url http://127.0.0.1:9/v1 --autosave 0 ARGS...`; returns config_load's code. */
static int load(llm_config *cfg, const char *a1, const char *a2, const char *a3, const char *a4)
{
    char *argv[12] = {"llmload", "run", "--url", "http://127.0.0.1:9/v1", "--autosave", "0"};
    int argc = 6;
    const char *extra[] = {a1, a2, a3, a4};
    for (int i = 0; i < 4 && extra[i]; i++)
        argv[argc++] = (char *)extra[i];
    bool help;
    memset(cfg, 0, sizeof *cfg);
    unsetenv("MODEL_KEY");
    return config_load(cfg, argc, argv, err, sizeof err, &help);
}

static void shard_sets_index_and_count(void **state)
{
    (void)state;
    llm_config c;
    assert_int_equal(load(&c, "--shard", "2/4", NULL, NULL), 0);
    assert_int_equal(c.shard_index, 2);
    assert_int_equal(c.shard_count, 4);
    config_free(&c);
}

static void shard_index_counts_from_zero_and_says_so(void **state)
{
    (void)state;
    llm_config c;
    assert_int_equal(load(&c, "--shard", "4/4", NULL, NULL), LLM_EXIT_USAGE);
    assert_non_null(strstr(err, "I counts from 0"));
    assert_non_null(strstr(err, "0 to 3"));
    config_free(&c);
    assert_int_equal(load(&c, "--shard", "two", NULL, NULL), LLM_EXIT_USAGE);
    assert_non_null(strstr(err, "must be I/N"));
    config_free(&c);
}

static void shards_takes_the_index_from_job_completion_index(void **state)
{
    (void)state;
    llm_config c;
    setenv("JOB_COMPLETION_INDEX", "3", 1);
    assert_int_equal(load(&c, "--shards", "5", NULL, NULL), 0);
    assert_int_equal(c.shard_index, 3);
    assert_int_equal(c.shard_count, 5);
    config_free(&c);
    setenv("JOB_COMPLETION_INDEX", "5", 1);
    assert_int_equal(load(&c, "--shards", "5", NULL, NULL), LLM_EXIT_USAGE);
    assert_non_null(strstr(err, "JOB_COMPLETION_INDEX=5 is not a worker of --shards 5"));
    config_free(&c);
    unsetenv("JOB_COMPLETION_INDEX");
    assert_int_equal(load(&c, "--shards", "5", NULL, NULL), LLM_EXIT_USAGE);
    assert_non_null(strstr(err, "JOB_COMPLETION_INDEX, which is not set"));
    config_free(&c);
}

static void shard_and_shards_together_are_refused(void **state)
{
    (void)state;
    llm_config c;
    setenv("JOB_COMPLETION_INDEX", "0", 1);
    assert_int_equal(load(&c, "--shard", "0/2", "--shards", "2"), LLM_EXIT_USAGE);
    assert_non_null(strstr(err, "give one"));
    unsetenv("JOB_COMPLETION_INDEX");
    config_free(&c);
}

static void a_search_cannot_be_sharded(void **state)
{
    (void)state;
    llm_config c;
    assert_int_equal(load(&c, "--shard", "0/2", "--search", "--slo=ttft=1s"), LLM_EXIT_USAGE);
    assert_non_null(strstr(err, "run a search in one process"));
    config_free(&c);
}

static void start_at_reads_rfc3339_and_unix_seconds(void **state)
{
    (void)state;
    double t;
    assert_int_equal(scale_parse_time("2026-12-02T07:00:00Z", &t), 0);
    assert_true(t == 1796194800.0);
    assert_int_equal(scale_parse_time("2026-12-02T08:30:00.5+01:30", &t), 0);
    assert_true(t == 1796194800.5);
    assert_int_equal(scale_parse_time("1796194800", &t), 0);
    assert_true(t == 1796194800.0);
    assert_int_equal(scale_parse_time("2026-13-02T07:00:00Z", &t), -1);
    assert_int_equal(scale_parse_time("2026-12-02T07:00:00", &t), -1); /* no zone */
    llm_config c;
    assert_int_equal(load(&c, "--start-at", "2026-12-02T07:00:00Z", NULL, NULL), 0);
    assert_true(c.start_at == 1796194800.0);
    config_free(&c);
    assert_int_equal(load(&c, "--start-at", "tomorrow", NULL, NULL), LLM_EXIT_USAGE);
    assert_non_null(strstr(err, "RFC 3339"));
    config_free(&c);
}

static void listen_defaults_to_loopback(void **state)
{
    (void)state;
    char host[64];
    int port;
    assert_int_equal(scale_parse_listen("9464", host, sizeof host, &port), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 9464);
    assert_int_equal(scale_parse_listen(":0", host, sizeof host, &port), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(scale_parse_listen("0.0.0.0:9464", host, sizeof host, &port), 0);
    assert_string_equal(host, "0.0.0.0");
    assert_int_equal(scale_parse_listen("[::1]:80", host, sizeof host, &port), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(scale_parse_listen("host:99999", host, sizeof host, &port), -1);
    llm_config c;
    assert_int_equal(load(&c, "--listen", "nowhere", NULL, NULL), LLM_EXIT_USAGE);
    assert_non_null(strstr(err, "ADDR:PORT"));
    config_free(&c);
}

static void control_token_needs_listen_length_and_never_shows(void **state)
{
    (void)state;
    llm_config c;
    assert_int_equal(load(&c, "--control-token", TOKEN, NULL, NULL), LLM_EXIT_USAGE);
    assert_non_null(strstr(err, "needs --listen"));
    assert_null(strstr(err, TOKEN));
    config_free(&c);
    assert_int_equal(load(&c, "--listen", ":0", "--control-token", "short"), LLM_EXIT_USAGE);
    assert_non_null(strstr(err, "at least 16"));
    config_free(&c);
    assert_int_equal(load(&c, "--listen", ":0", "--control-token", TOKEN), 0);
    assert_string_equal(c.control_token, TOKEN);
    config_free(&c);
}

static void control_token_file_takes_its_first_line(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/token", tu_tmpdir());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(TOKEN "\nsecond line\n", f);
    fclose(f);
    llm_config c;
    assert_int_equal(load(&c, "--listen", ":0", "--control-token-file", path), 0);
    assert_string_equal(c.control_token, TOKEN);
    config_free(&c);
    unlink(path);
    assert_int_equal(load(&c, "--listen", ":0", "--control-token-file", path), LLM_EXIT_USAGE);
    assert_non_null(strstr(err, "cannot read it"));
    config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shard_sets_index_and_count),
        cmocka_unit_test(shard_index_counts_from_zero_and_says_so),
        cmocka_unit_test(shards_takes_the_index_from_job_completion_index),
        cmocka_unit_test(shard_and_shards_together_are_refused),
        cmocka_unit_test(a_search_cannot_be_sharded),
        cmocka_unit_test(start_at_reads_rfc3339_and_unix_seconds),
        cmocka_unit_test(listen_defaults_to_loopback),
        cmocka_unit_test(control_token_needs_listen_length_and_never_shows),
        cmocka_unit_test(control_token_file_takes_its_first_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
