/* Tests for core/analysis: the knee and the diagnosis sentences from synthetic ramps. */
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

#include "core/analysis.h"
#include "core/snapshot.h"

#define MS 1000000ULL
#define SEC 1000000000ULL
#define START (1000 * SEC)

static stats *new_stats(void)
{
    stats *st = malloc(sizeof *st);
    assert_non_null(st);
    assert_int_equal(stats_init(st, START, NULL), 0);
    return st;
}

static void free_stats(stats *st)
{
    stats_free(st);
    free(st);
}

/* One step of a ramp: `n` requests started evenly over 1 s, each with the given TTFT and
 * E2E and 100 output tokens (one a read); `failed` of them fail instead (as HTTP 429).
 * Steps are 20 s apart on the made-up clock: each step's window is 20 s. */
static void add_step_at(stats *st, uint32_t index, uint32_t conc, double rate, uint8_t test, int n,
                        int failed, uint64_t ttft, uint64_t e2e);

static void add_step(stats *st, uint32_t index, uint32_t conc, uint8_t test, int n, int failed,
                     uint64_t ttft, uint64_t e2e)
{
    add_step_at(st, index, conc, 0, test, n, failed, ttft, e2e);
}

/* The same with an open-loop rate (conc is then the in-flight cap). */
static void add_step_at(stats *st, uint32_t index, uint32_t conc, double rate, uint8_t test, int n,
                        int failed, uint64_t ttft, uint64_t e2e)
{
    uint64_t t = START + index * 20 * SEC;
    llm_event step = {.kind = EV_STEP, .step = index, .t_ns = t};
    step.u.step_change.index = index;
    step.u.step_change.total = 8;
    step.u.step_change.concurrency = conc;
    step.u.step_change.test = test;
    step.u.step_change.rate = rate;
    stats_consume(st, &step);
    for (int i = 0; i < n; i++) {
        uint64_t t0 = t + (uint64_t)i * SEC / (uint64_t)n;
        llm_event ev = {.step = index, .t_ns = t0 + e2e};
        if (i < failed) {
            ev.kind = EV_REQUEST_FAILED;
            ev.u.failed.t0_ns = t0;
            ev.u.failed.elapsed_ns = e2e;
            ev.u.failed.http_status = 429;
            ev.u.failed.err_class = ERR_HTTP_429;
            snprintf(ev.u.failed.message, sizeof ev.u.failed.message, "HTTP 429: slow down");
        } else {
            /* its 100 tokens, one a read, from TTFT to the end: the window's throughput */
            for (uint64_t k = 0; k < 100; k++) {
                uint64_t gap = k ? (e2e - ttft) / 99 : 0;
                llm_event tok = {.kind = EV_TOKENS, .step = index, .t_ns = t0 + ttft + k * gap};
                tok.u.tokens.count = 1;
                tok.u.tokens.gap_ns = gap;
                stats_consume(st, &tok);
            }
            ev.kind = EV_REQUEST_DONE;
            ev.u.done.t_sched_ns = ev.u.done.t0_ns = t0;
            ev.u.done.ttfb_ns = ev.u.done.ttft_ns = ev.u.done.ttfo_ns = ttft;
            ev.u.done.e2e_ns = e2e;
            ev.u.done.output_tokens = ev.u.done.content_events = 100;
            ev.u.done.prompt_tokens = 50;
            ev.u.done.usage_reported = 1;
        }
        stats_consume(st, &ev);
    }
    llm_event end = {.kind = EV_WINDOW_END, .step = index, .t_ns = t + 20 * SEC};
    stats_consume(st, &end);
}

static bool has_finding(const analysis *an, const char *needle)
{
    for (size_t i = 0; i < an->n_findings; i++)
        if (strstr(an->findings[i], needle))
            return true;
    return false;
}

/* Throughput doubles up to c=8, then stays while TTFT jumps: the demo's shape. */
static void saturating_ramp_has_its_knee_where_ttft_jumps(void **state)
{
    (void)state;
    stats *st = new_stats();
    add_step(st, 0, 1, TEST_OUTPUT, 10, 0, 50 * MS, 1 * SEC);
    add_step(st, 1, 2, TEST_OUTPUT, 20, 0, 50 * MS, 1 * SEC);
    add_step(st, 2, 4, TEST_OUTPUT, 40, 0, 50 * MS, 1 * SEC);
    add_step(st, 3, 8, TEST_OUTPUT, 80, 0, 55 * MS, 1 * SEC);
    add_step(st, 4, 16, TEST_OUTPUT, 80, 0, 1 * SEC, 2 * SEC);
    analysis an;
    analysis_run(st, &an);
    assert_true(an.has_knee);
    assert_false(an.knee_is_rate);
    assert_true(an.knee_load == 16);
    assert_non_null(strstr(an.knee_reason, "from c=8 to c=16"));
    assert_non_null(strstr(an.knee_reason, "1.00 s"));
    assert_true(has_finding(&an, "RPS stops growing after c=8"));
    assert_true(has_finding(&an, "TTFT p50 rises from 50.0 ms at c=1 to 1.00 s at c=16"));
    assert_false(has_finding(&an, "/metrics"));
    assert_false(has_finding(&an, "failed"));
    /* With the server's /metrics read, its queue is cited too. */
    stats_set_server(st, 8, 8, NAN);
    analysis_run(st, &an);
    assert_true(has_finding(&an, "before their first token (the server's /metrics showed up to "
                                 "8 waiting at c=16)"));

    /* The snapshot carries the same knee. */
    llm_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cJSON *a = snapshot_analysis_json(st, &cfg);
    cJSON *knee = cJSON_GetObjectItem(a, "knee");
    assert_true(cJSON_IsObject(knee));
    assert_true(cJSON_GetObjectItem(knee, "concurrency")->valuedouble == 16);
    assert_string_equal(cJSON_GetObjectItem(knee, "reason")->valuestring, an.knee_reason);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(a, "findings")), (int)an.n_findings);
    cJSON_Delete(a);
    free_stats(st);
}

static void healthy_ramp_has_no_knee_and_says_so(void **state)
{
    (void)state;
    stats *st = new_stats();
    add_step(st, 0, 1, TEST_OUTPUT, 10, 0, 50 * MS, 1 * SEC);
    add_step(st, 1, 2, TEST_OUTPUT, 20, 0, 52 * MS, 1 * SEC);
    add_step(st, 2, 4, TEST_OUTPUT, 40, 0, 54 * MS, 1 * SEC);
    analysis an;
    analysis_run(st, &an);
    assert_false(an.has_knee);
    assert_true(has_finding(&an, "RPS grows at every step"));
    assert_false(has_finding(&an, "TTFT p50 rises"));
    llm_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cJSON *a = snapshot_analysis_json(st, &cfg);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(a, "knee")));
    cJSON_Delete(a);
    free_stats(st);
}

static void the_knee_is_where_errors_start(void **state)
{
    (void)state;
    stats *st = new_stats();
    add_step(st, 0, 1, TEST_OUTPUT, 10, 0, 50 * MS, 1 * SEC);
    add_step(st, 1, 2, TEST_OUTPUT, 20, 0, 50 * MS, 1 * SEC);
    add_step(st, 2, 4, TEST_OUTPUT, 40, 4, 50 * MS, 1 * SEC);
    analysis an;
    analysis_run(st, &an);
    assert_true(an.has_knee);
    assert_true(an.knee_load == 4);
    assert_non_null(strstr(an.knee_reason, "errors start at c=4: 4 of 40 requests failed (10.0 %"));
    assert_non_null(strstr(an.knee_reason, "http_429"));
    assert_true(has_finding(&an, "4 of 70 requests failed (5.7 %), most as http_429"));
    assert_true(has_finding(&an, "HTTP 429: slow down"));
    free_stats(st);
}

/* The seeds' -i next to the output test: the knee comes from the output steps alone. */
static void mixed_tests_are_judged_on_the_output_steps(void **state)
{
    (void)state;
    stats *st = new_stats();
    add_step(st, 0, 1, TEST_INPUT, 10, 0, 30 * MS, 30 * MS);
    add_step(st, 1, 1, TEST_OUTPUT, 10, 0, 50 * MS, 1 * SEC);
    add_step(st, 2, 2, TEST_INPUT, 10, 0, 900 * MS, 900 * MS); /* would look like a knee */
    add_step(st, 3, 2, TEST_OUTPUT, 20, 0, 50 * MS, 1 * SEC);
    analysis an;
    analysis_run(st, &an);
    assert_false(an.has_knee);
    assert_true(has_finding(&an, "RPS grows at every step"));
    free_stats(st);
}

static void long_waits_before_short_answers_are_scheduling_delay(void **state)
{
    (void)state;
    stats *st = new_stats();
    add_step(st, 0, 32, TEST_OUTPUT, 32, 0, 3 * SEC, 4 * SEC);
    analysis an;
    analysis_run(st, &an);
    assert_false(an.has_knee); /* one step: no ramp */
    assert_true(has_finding(&an, "at c=32, TTFT p50 (3.00 s) is 3 times the generation time"));
    assert_false(has_finding(&an, "generation takes the time"));
    free_stats(st);
}

static void long_answers_are_generation_time(void **state)
{
    (void)state;
    stats *st = new_stats();
    add_step(st, 0, 1, TEST_OUTPUT, 10, 0, 40 * MS, 2 * SEC);
    analysis an;
    analysis_run(st, &an);
    assert_true(has_finding(&an, "at c=1, E2E p50 (2.00 s) is 50 times TTFT p50 (40.0 ms)"));
    assert_true(has_finding(&an, "for 100 output tokens on average"));
    free_stats(st);
}

/* llmload near a full core: said first, from the first step where it happened. */
static void a_busy_client_is_said_first(void **state)
{
    (void)state;
    stats *st = new_stats();
    add_step(st, 0, 1, TEST_OUTPUT, 10, 0, 50 * MS, 1 * SEC);
    stats_set_client_cpu(st, 40);
    add_step(st, 1, 2, TEST_OUTPUT, 20, 0, 50 * MS, 1 * SEC);
    stats_set_client_cpu(st, 95.4);
    stats_set_client_cpu(st, 60); /* the step keeps its highest second */
    analysis an;
    analysis_run(st, &an);
    assert_true(an.n_findings >= 1);
    assert_non_null(strstr(an.findings[0], "from c=2, llmload itself used 95 % of a core"));
    assert_true(stats_step(st, 0)->client_cpu_max == 40);
    assert_true(stats_step(st, 1)->client_cpu_max == 95.4);
    assert_true(st->totals.client_cpu_max == 95.4);
    free_stats(st);

    st = new_stats(); /* below 90 %: nothing said */
    add_step(st, 0, 1, TEST_OUTPUT, 10, 0, 50 * MS, 1 * SEC);
    stats_set_client_cpu(st, 89);
    analysis_run(st, &an);
    assert_false(has_finding(&an, "llmload itself"));
    free_stats(st);
}

/* A rate ramp: the knee is a rate, and the sentences speak of requests/s. */
static void rate_ramp_has_its_knee_as_a_rate(void **state)
{
    (void)state;
    stats *st = new_stats();
    add_step_at(st, 0, 1024, 5, TEST_OUTPUT, 10, 0, 50 * MS, 1 * SEC);
    add_step_at(st, 1, 1024, 10, TEST_OUTPUT, 20, 0, 50 * MS, 1 * SEC);
    add_step_at(st, 2, 1024, 20, TEST_OUTPUT, 20, 0, 2 * SEC, 3 * SEC);
    analysis an;
    analysis_run(st, &an);
    assert_true(an.has_knee);
    assert_true(an.knee_is_rate);
    assert_true(an.knee_load == 20);
    assert_non_null(strstr(an.knee_reason, "from 10 req/s to 20 req/s"));
    llm_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cJSON *a = snapshot_analysis_json(st, &cfg);
    assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(a, "knee"), "rate")->valuedouble == 20);
    cJSON_Delete(a);
    free_stats(st);
}

/* A search's steps arrive as 1, 2, 4, 8, 6, 5: the answer is replayed from the steps that
 * ended, a step cut short misses whatever its figures, and the knee is found on the steps
 * in order of load. */
static void search_steps_are_replayed_and_sorted(void **state)
{
    (void)state;
    stats *st = new_stats();
    st->search = true;
    st->slo.ttft_s = 0.1;
    st->slo.errors_pct = -1;
    static const uint32_t loads[] = {1, 2, 4, 8, 6, 5};
    for (uint32_t i = 0; i < 6; i++) {
        uint64_t ttft = loads[i] <= 4 ? 30 * MS : 400 * MS;
        add_step(st, i, loads[i], TEST_OUTPUT, 40, 0, ttft, ttft + 200 * MS);
    }
    search_state s;
    st->steps_ended = 3; /* the 4th step still runs: not judged yet */
    analysis_search(st, &s);
    assert_true(s.best == 4 && s.first_miss == 0 && s.steps == 3 && !s.done);

    st->steps_ended = 6;
    st->search_done = true;
    analysis_search(st, &s);
    assert_true(s.best == 4 && s.first_miss == 5 && s.steps == 6 && s.done);
    analysis an;
    analysis_run(st, &an);
    assert_string_equal(an.findings[0], "search: the highest concurrency that meets the SLO is "
                                        "4; concurrency 5 misses it (6 steps)");
    assert_true(an.has_knee && an.knee_load == 5); /* 4 → 5, not 4 → 8 as steps came */

    st->steps[2].cut_short = true; /* c=4 ended early: it counts as a miss */
    assert_false(analysis_step_meets_slo(&st->steps[2], &st->slo));
    analysis_search(st, &s);
    assert_true(s.best == 2 && s.first_miss == 4);
    free_stats(st);
}

/* 100 requests of 100 tokens with llama.cpp timings (server E2E 200 ms); `lost` of them
 * lost their last token on the way, and the client's E2E is the server's + overhead_ms. */
static stats *timed_run(int lost, uint64_t overhead_ms)
{
    stats *st = new_stats();
    llm_event step = {.kind = EV_STEP, .t_ns = START};
    step.u.step_change.total = 1;
    step.u.step_change.concurrency = 1;
    stats_consume(st, &step);
    for (int i = 0; i < 100; i++) {
        llm_event ev = {.kind = EV_REQUEST_DONE, .t_ns = START + (uint64_t)(i + 1) * SEC};
        ev.u.done.t0_ns = START + (uint64_t)i * SEC;
        ev.u.done.ttft_ns = 20 * MS + overhead_ms * MS;
        ev.u.done.e2e_ns = 200 * MS + overhead_ms * MS;
        ev.u.done.output_tokens = 100;
        ev.u.done.content_events = i < lost ? 99 : 100;
        ev.u.done.usage_reported = 1;
        ev.u.done.prompt_tokens = 10;
        ev.u.done.srv_timings = 1;
        ev.u.done.srv_prefill_us = 20000;
        ev.u.done.srv_decode_us = 180000;
        ev.u.done.srv_predicted_n = 100;
        stats_consume(st, &ev);
    }
    return st;
}

static const char *finding_with(const analysis *an, const char *needle)
{
    for (size_t i = 0; i < an->n_findings; i++)
        if (strstr(an->findings[i], needle))
            return an->findings[i];
    return NULL;
}

/* Tokens the server counted vs the ones that arrived: over 1 % apart is a finding. */
static void server_tokens_beyond_one_percent_are_a_finding(void **state)
{
    (void)state;
    analysis an;
    stats *st = timed_run(0, 2);
    analysis_run(st, &an);
    assert_null(finding_with(&an, "more tokens"));
    assert_null(finding_with(&an, "client overhead"));
    free_stats(st);

    st = timed_run(50, 2); /* 0.5 %: within the resolution */
    analysis_run(st, &an);
    assert_null(finding_with(&an, "more tokens"));
    free_stats(st);

    st = timed_run(100, 2); /* 1 % of 9900 received: 1.01 % */
    analysis_run(st, &an);
    const char *f = finding_with(&an, "more tokens than arrived");
    assert_non_null(f);
    assert_non_null(strstr(f, "1.0 %"));
    assert_non_null(strstr(f, "10000 by its timings, 9900 received"));
    assert_non_null(strstr(f, "proxy"));
    free_stats(st);
}

/* The client's overhead beyond the server's own latency is said, with both medians. */
static void client_overhead_above_the_server_latency_is_a_finding(void **state)
{
    (void)state;
    analysis an;
    stats *st = timed_run(0, 150);
    analysis_run(st, &an);
    assert_null(finding_with(&an, "client overhead"));
    free_stats(st);
    st = timed_run(0, 300);
    analysis_run(st, &an);
    const char *f = finding_with(&an, "client overhead p50 300");
    assert_non_null(f);
    assert_non_null(strstr(f, "server's own E2E p50 200"));
    free_stats(st);
}

/* The server's queue beyond the client's TTFT by more than its bucket: a finding; within
 * the bucket: none. */
static void a_server_queue_the_client_does_not_see_is_a_finding(void **state)
{
    (void)state;
    for (int beyond = 0; beyond < 2; beyond++) {
        stats *st = timed_run(0, 2); /* client TTFT 22 ms */
        prom_figures f;
        prom_parse("", 0, &f);
        static const double le[3] = {0.01, 0.05, 0.5};
        prom_hist *h = &f.hist[PROM_H_QUEUE];
        h->n = 3;
        for (int i = 0; i < 3; i++)
            h->le[i] = le[i];
        stats_set_server_hists(st, &f); /* the base */
        /* 50 queued in (50, 500] ms, beyond the client's TTFT of 22 ms; or in (10, 50] ms,
         * a bucket that holds it */
        h->cum[0] = 0;
        h->cum[1] = beyond ? 0 : 50;
        h->cum[2] = h->total = 50;
        stats_set_server_hists(st, &f);
        analysis an;
        analysis_run(st, &an);
        const char *found = finding_with(&an, "does not show");
        if (beyond) {
            assert_non_null(found);
            assert_non_null(strstr(found, "bucket 50-500 ms"));
        } else {
            assert_null(found);
        }
        free_stats(st);
    }
}

static void nothing_measured_says_nothing(void **state)
{
    (void)state;
    stats *st = new_stats();
    analysis an;
    analysis_run(st, &an);
    assert_false(an.has_knee);
    assert_int_equal(an.n_findings, 0);
    free_stats(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(saturating_ramp_has_its_knee_where_ttft_jumps),
        cmocka_unit_test(server_tokens_beyond_one_percent_are_a_finding),
        cmocka_unit_test(client_overhead_above_the_server_latency_is_a_finding),
        cmocka_unit_test(a_server_queue_the_client_does_not_see_is_a_finding),
        cmocka_unit_test(healthy_ramp_has_no_knee_and_says_so),
        cmocka_unit_test(the_knee_is_where_errors_start),
        cmocka_unit_test(mixed_tests_are_judged_on_the_output_steps),
        cmocka_unit_test(long_waits_before_short_answers_are_scheduling_delay),
        cmocka_unit_test(long_answers_are_generation_time),
        cmocka_unit_test(a_busy_client_is_said_first),
        cmocka_unit_test(rate_ramp_has_its_knee_as_a_rate),
        cmocka_unit_test(search_steps_are_replayed_and_sorted),
        cmocka_unit_test(nothing_measured_says_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
