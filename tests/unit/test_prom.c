/* Tests for proto/prom: the serving engines' /metrics names, read from a recorded llama.cpp
 * page and from vLLM-, SGLang- and TGI-shaped text; mutated pages never crash it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "proto/prom.h"
#include "testutil.h"

static bool parse(const char *text, prom_figures *f)
{
    return prom_parse(text, strlen(text), f);
}

static void recorded_llama_cpp_page(void **state)
{
    (void)state;
    size_t len = 0;
    char *text = tu_read_file(LLM_FIXTURES "/llama.cpp/metrics.prom", &len);
    assert_non_null(text);
    prom_figures f;
    assert_true(prom_parse(text, len, &f));
    assert_string_equal(f.engine, "llama.cpp");
    assert_true(f.running == 0 && f.waiting == 0);
    assert_true(f.prompt_tokens == 82 && f.generation_tokens == 36);
    assert_true(isnan(f.kv_used)); /* this build exports no cache figure */
    free(text);
}

/* vLLM: labels on every series, one per model (added up), histograms with quoted le
 * labels, the cache as a fraction despite "perc", a "_created" twin that is not the
 * counter, CRLF line ends. */
static void vllm_page_with_labels_and_two_models(void **state)
{
    (void)state;
    const char *text =
        "# HELP vllm:num_requests_running Number of requests in model execution batches.\r\n"
        "# TYPE vllm:num_requests_running gauge\r\n"
        "vllm:num_requests_running{engine=\"0\",model_name=\"a\"} 7.0\r\n"
        "vllm:num_requests_running{engine=\"0\",model_name=\"b\"} 1.0\r\n"
        "vllm:num_requests_waiting{engine=\"0\",model_name=\"a\"} 12.0\r\n"
        "vllm:gpu_cache_usage_perc{engine=\"0\",model_name=\"a\"} 0.734\r\n"
        "vllm:gpu_cache_usage_perc{engine=\"1\",model_name=\"a\"} 0.5\r\n"
        "vllm:prompt_tokens_total{model_name=\"a\"} 1.5e+06\r\n"
        "vllm:prompt_tokens_created{model_name=\"a\"} 1.7e+09\r\n"
        "vllm:generation_tokens_total{model_name=\"a\",note=\"a } in \\\"quotes\\\"\"} 4096 "
        "1700000000000\r\n"
        "vllm:time_to_first_token_seconds_bucket{le=\"+Inf\",model_name=\"a\"} 90.0\r\n";
    prom_figures f;
    assert_true(parse(text, &f));
    assert_string_equal(f.engine, "vLLM");
    assert_true(f.running == 8 && f.waiting == 12);
    assert_true(f.kv_used == 0.734);
    assert_true(f.prompt_tokens == 1.5e6 && f.generation_tokens == 4096);
}

static void sglang_and_tgi_names(void **state)
{
    (void)state;
    prom_figures f;
    assert_true(parse("sglang:num_running_reqs{model_name=\"m\"} 3\n"
                      "sglang:num_queue_reqs{model_name=\"m\"} 5\n"
                      "sglang:token_usage{model_name=\"m\"} 0.25\n",
                      &f));
    assert_string_equal(f.engine, "SGLang");
    assert_true(f.running == 3 && f.waiting == 5 && f.kv_used == 0.25);
    assert_true(parse("tgi_batch_current_size 16\ntgi_queue_size 2\n", &f));
    assert_string_equal(f.engine, "TGI");
    assert_true(f.running == 16 && f.waiting == 2 && isnan(f.kv_used));
}

/* The server view's histograms (issue 13): buckets of several label sets added bucket by
 * bucket, in le order whatever order they come in, +Inf as the total, _sum; SGLang's and
 * TGI's names land in the same kinds. */
static void latency_histograms_add_up_across_labels(void **state)
{
    (void)state;
    const char *text = "vllm:e2e_request_latency_seconds_bucket{le=\"0.5\",model_name=\"a\"} 3\n"
                       "vllm:e2e_request_latency_seconds_bucket{model_name=\"a\",le=\"0.1\"} 1\n"
                       "vllm:e2e_request_latency_seconds_bucket{le=\"+Inf\",model_name=\"a\"} 4\n"
                       "vllm:e2e_request_latency_seconds_bucket{le=\"0.1\",model_name=\"b\"} 2\n"
                       "vllm:e2e_request_latency_seconds_bucket{le=\"0.5\",model_name=\"b\"} 2\n"
                       "vllm:e2e_request_latency_seconds_bucket{le=\"+Inf\",model_name=\"b\"} 2\n"
                       "vllm:e2e_request_latency_seconds_sum{model_name=\"a\"} 1.25\n"
                       "vllm:e2e_request_latency_seconds_count{model_name=\"a\"} 4\n"
                       "vllm:request_queue_time_seconds_bucket{le=\"1e-3\"} 7\n"
                       "vllm:num_requests_running 1\n";
    prom_figures f;
    assert_true(parse(text, &f));
    const prom_hist *h = &f.hist[PROM_H_E2E];
    assert_int_equal(h->n, 2);
    assert_true(h->le[0] == 0.1 && h->le[1] == 0.5);
    assert_true(h->cum[0] == 3 && h->cum[1] == 5);
    assert_true(h->total == 6 && h->sum == 1.25);
    assert_int_equal(f.hist[PROM_H_QUEUE].n, 1);
    assert_true(f.hist[PROM_H_QUEUE].le[0] == 0.001);
    assert_int_equal(f.hist[PROM_H_TTFT].n, 0);
    assert_string_equal(prom_hist_name(PROM_H_QUEUE), "queue");

    const char *others = "sglang:time_to_first_token_seconds_bucket{le=\"0.2\"} 5\n"
                         "sglang:queue_time_seconds_bucket{le=\"0.2\"} 1\n"
                         "tgi_request_duration_bucket{le=\"1\"} 9\n"
                         "tgi_request_generated_tokens_sum 420\n";
    parse(others, &f);
    assert_true(f.hist[PROM_H_TTFT].cum[0] == 5 && f.hist[PROM_H_QUEUE].cum[0] == 1);
    assert_true(f.hist[PROM_H_E2E].cum[0] == 9);
    assert_true(f.generation_tokens == 420);
}

/* The simulator exports its own names and vLLM's: the counters are read once, for the
 * engine whose names come first, not added up twice. */
static void two_families_are_not_counted_twice(void **state)
{
    (void)state;
    const char *text = "llmload_sim:generation_tokens_total 100\n"
                       "llmload_sim:requests_waiting 2\n"
                       "vllm:generation_tokens_total{model_name=\"m\"} 100\n"
                       "vllm:num_requests_waiting 2\n";
    prom_figures f;
    assert_true(parse(text, &f));
    assert_string_equal(f.engine, "llmload sim");
    assert_true(f.generation_tokens == 100 && f.waiting == 2);
}

static void pages_without_known_names_say_so(void **state)
{
    (void)state;
    prom_figures f;
    assert_false(parse("", &f));
    assert_false(parse("<html><body>Not Found</body></html>", &f));
    assert_false(parse("# only comments\nprocess_cpu_seconds_total 12.5\n", &f));
    assert_null(f.engine);
    assert_true(isnan(f.running) && isnan(f.waiting));
    /* a known name whose value does not parse, or is NaN, counts for nothing */
    assert_false(parse("vllm:num_requests_running{model_name=\"a\"} fast\n"
                       "vllm:num_requests_waiting NaN\n"
                       "vllm:num_requests_running{model_name=\"unterminated} 3\n",
                       &f));
    /* no newline at the end, and not NUL-terminated */
    const char page[] = "tgi_queue_size 4XXXX";
    assert_true(prom_parse(page, strlen("tgi_queue_size 4"), &f));
    assert_true(f.waiting == 4);
}

/* The sample reader under prom_parse (and `llmload watch`): comments, blank and broken
 * lines skipped, labels with escapes and a '}' inside quotes, CRLF, a last line without
 * a newline. */
static void samples_one_by_one_with_their_labels(void **state)
{
    (void)state;
    const char *text = "# HELP x y\n\n"
                       "a_total{class=\"ok\",note=\"a } \\\"q\\\" \\\\ \\n\"} 12\r\n"
                       "broken{le=\"1\" 3\n"
                       "no_value\n"
                       "b 1.5e3 1700000000000\n"
                       "c{} +Inf";
    const char *p = text, *end = text + strlen(text);
    prom_sample s;
    char v[32];
    assert_true(prom_next_sample(&p, end, &s));
    assert_true(s.name_len == 7 && memcmp(s.name, "a_total", 7) == 0 && s.value == 12);
    assert_true(prom_label(&s, "class", v, sizeof v));
    assert_string_equal(v, "ok");
    assert_true(prom_label(&s, "note", v, sizeof v));
    assert_string_equal(v, "a } \"q\" \\ \n");
    assert_false(prom_label(&s, "cla", v, sizeof v));
    assert_false(prom_label(&s, "note", v, 4)); /* too long for the room */
    assert_true(prom_next_sample(&p, end, &s));
    assert_true(s.name_len == 1 && s.name[0] == 'b' && s.value == 1500 && s.labels_len == 0);
    assert_false(prom_label(&s, "le", v, sizeof v));
    assert_true(prom_next_sample(&p, end, &s));
    assert_true(s.name[0] == 'c' && isinf(s.value));
    assert_false(prom_next_sample(&p, end, &s));
    assert_true(p == end);
}

static void mutated_pages_never_crash(void **state)
{
    (void)state;
    size_t len = 0;
    char *text = tu_read_file(LLM_FIXTURES "/llama.cpp/metrics.prom", &len);
    assert_non_null(text);
    uint64_t rng = tu_fuzz_seed(0x9e3779b97f4a7c15ULL);
    for (int i = 0; i < 20000; i++) {
        size_t n = 0;
        char *m = tu_mutate(&rng, text, len, &n);
        prom_figures f;
        if (prom_parse(m, n, &f))
            assert_non_null(f.engine);
        free(m);
    }
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(recorded_llama_cpp_page),
        cmocka_unit_test(vllm_page_with_labels_and_two_models),
        cmocka_unit_test(sglang_and_tgi_names),
        cmocka_unit_test(latency_histograms_add_up_across_labels),
        cmocka_unit_test(two_families_are_not_counted_twice),
        cmocka_unit_test(pages_without_known_names_say_so),
        cmocka_unit_test(samples_one_by_one_with_their_labels),
        cmocka_unit_test(mutated_pages_never_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
