/* Tests for report_vllm: `llmload report --format vllm-json` writes, per step and line, the
 * keys of vLLM's --save-result JSON with the snapshot's figures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/sim.h"
#include "testutil.h"

static cJSON *at(const cJSON *o, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
    return b ? cJSON_GetObjectItemCaseSensitive(x, b) : (cJSON *)x;
}

static double num(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = at(o, a, b);
    if (!cJSON_IsNumber(v))
        fail_msg("%s%s%s is not a number", a, b ? "." : "", b ? b : "");
    return v->valuedouble;
}

static void near(double want, double got, const char *what)
{
    if (!(fabs(want - got) <= 1e-6 * fmax(1, fabs(want))))
        fail_msg("%s: want %.9g, got %.9g", what, want, got);
}

/* A two-step ramp (c=1, c=2) against the simulator, saved to json. */
static void record(const char *json)
{
    sim_options o;
    sim_options_default(&o);
    o.quiet = true;
    o.decode_rate = 1000;
    char e[256], url[64];
    sim_server *s;
    if (sim_start(&o, &s, e, sizeof e) != 0)
        fail_msg("sim_start: %s", e);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", sim_port(s));
    char *argv[] = {LLM_BINARY, "run",    "--no-tui",        "--url", url,
                    "--ramp",   "1:2:x2", "--step-requests", "12",    "--max-tokens",
                    "16",       "--json", (char *)json,      NULL};
    tu_result res;
    assert_int_equal(tu_run(argv, NULL, NULL, 60, &res), 0);
    sim_stop(s);
    if (res.exit_code != 0)
        fail_msg("run exited %d: %s", res.exit_code, res.err);
    tu_result_free(&res);
}

static void each_step_is_a_vllm_result_line_with_our_figures(void **state)
{
    (void)state;
    char json[300];
    snprintf(json, sizeof json, "%s/run.json", tu_tmpdir());
    record(json);
    char *argv[] = {LLM_BINARY, "report", json, "--format", "vllm-json", NULL};
    tu_result res;
    assert_int_equal(tu_run(argv, NULL, NULL, 30, &res), 0);
    assert_int_equal(res.exit_code, 0);
    char *text = tu_read_file(json, NULL);
    cJSON *snap = cJSON_Parse(text);
    free(text);
    const cJSON *steps = at(snap, "steps", NULL);
    assert_int_equal(cJSON_GetArraySize(steps), 2);
    char *line = res.out;
    for (int i = 0; i < 2; i++) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = '\0';
        cJSON *v = cJSON_Parse(line);
        assert_non_null(v);
        const cJSON *s = cJSON_GetArrayItem(steps, i);
        near(num(s, "rps", NULL), num(v, "request_throughput", NULL), "request_throughput");
        near(num(s, "tps", NULL), num(v, "output_throughput", NULL), "output_throughput");
        near(num(s, "duration_s", NULL), num(v, "duration", NULL), "duration");
        near(num(s, "requests", "ok"), num(v, "completed", NULL), "completed");
        near(num(s, "tokens", "output"), num(v, "total_output_tokens", NULL), "output tokens");
        near(num(s, "tokens", "prompt"), num(v, "total_input_tokens", NULL), "input tokens");
        near(num(s, "concurrency", NULL), num(v, "max_concurrency", NULL), "max_concurrency");
        assert_string_equal(at(v, "request_rate", NULL)->valuestring, "inf");
        assert_string_equal(at(v, "backend", NULL)->valuestring, "openai-chat");
        assert_true(cJSON_IsNull(at(v, "request_goodput", NULL))); /* no --goodput/--slo */
        const char *ours[] = {"ttft_ms", "tpot_ms", "itl_ms", "e2e_ms"};
        const char *theirs[] = {"ttft", "tpot", "itl", "e2el"};
        for (int m = 0; m < 4; m++) {
            char key[32];
            snprintf(key, sizeof key, "mean_%s_ms", theirs[m]);
            near(num(s, ours[m], "mean"), num(v, key, NULL), key);
            snprintf(key, sizeof key, "median_%s_ms", theirs[m]);
            near(num(s, ours[m], "p50"), num(v, key, NULL), key);
            snprintf(key, sizeof key, "p99_%s_ms", theirs[m]);
            near(num(s, ours[m], "p99"), num(v, key, NULL), key);
            snprintf(key, sizeof key, "std_%s_ms", theirs[m]);
            double sd = num(v, key, NULL);
            assert_true(sd >= 0 && sd <= num(s, ours[m], "max") - num(s, ours[m], "min") + 1e-9);
        }
        assert_non_null(strstr(line, "\"date\":\""));
        cJSON_Delete(v);
        line = nl + 1;
    }
    assert_int_equal(*line, '\0');
    cJSON_Delete(snap);
    tu_result_free(&res);
    unlink(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_step_is_a_vllm_result_line_with_our_figures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
