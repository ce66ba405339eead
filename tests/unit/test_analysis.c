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
#include "core/summary.h"

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

/* ---- steps as the engine reports them ---- */

#define WINDOW (10 * SEC)

/* One step of a ramp whose figures hold however stats counts them: the step opens at
 * index x 10 s and its `n` requests start evenly so that the first starts with the window
 * and the last ends with it (span = window = 10 s: TPS = n x tokens / 10 s). Each request
 * streams `tokens` content events between its TTFT and its E2E, or, with `one_piece`, all
 * in one read (a buffering proxy); `failed` of them, spread evenly, time out instead. The
 * last step closes its window with EV_WINDOW_END. */
typedef struct {
    uint32_t conc;
    double rate; /* an open-loop step (conc is then the in-flight cap) */
    int n, failed;
    uint64_t ttft, e2e;
    uint32_t tokens;
    bool one_piece, last;
    bool not_streamed; /* --no-stream: one content event, the whole answer, at TTFT = E2E */
} step_spec;

static void add_tokens(stats *st, uint32_t index, uint64_t t0, const step_spec *s)
{
    llm_event ev = {.kind = EV_TOKENS, .step = index};
    if (s->one_piece || s->tokens < 2) {
        ev.t_ns = t0 + s->e2e;
        ev.u.tokens.count = s->tokens;
        stats_consume(st, &ev);
        return;
    }
    uint64_t gap = (s->e2e - s->ttft) / (s->tokens - 1);
    for (uint32_t k = 0; k < s->tokens; k++) {
        ev.t_ns = t0 + s->ttft + k * gap;
        ev.u.tokens.count = 1;
        ev.u.tokens.gap_ns = k ? gap : 0;
        stats_consume(st, &ev);
    }
}

static bool nth_fails(int i, const step_spec *s)
{
    uint64_t f = (uint64_t)s->failed, n = (uint64_t)s->n;
    return (uint64_t)(i + 1) * f / n != (uint64_t)i * f / n;
}

static void add_window_step(stats *st, uint32_t index, const step_spec *s)
{
    uint64_t t = START + index * WINDOW;
    llm_event step = {.kind = EV_STEP, .step = index, .t_ns = t};
    step.u.step_change.index = step.u.step_change.plan_index = index;
    step.u.step_change.total = 8;
    step.u.step_change.concurrency = s->conc;
    step.u.step_change.test = TEST_OUTPUT;
    step.u.step_change.rate = s->rate;
    stats_consume(st, &step);
    uint64_t stride = s->n > 1 ? (WINDOW - s->e2e) / (uint64_t)(s->n - 1) : 0;
    for (int i = 0; i < s->n; i++) {
        uint64_t t0 = t + (uint64_t)i * stride;
        llm_event ev = {.step = index, .t_ns = t0 + s->e2e};
        if (nth_fails(i, s)) {
            ev.kind = EV_REQUEST_FAILED;
            ev.u.failed.t0_ns = t0;
            ev.u.failed.elapsed_ns = s->e2e;
            ev.u.failed.err_class = ERR_TIMEOUT;
            snprintf(ev.u.failed.message, sizeof ev.u.failed.message, "no first token in 300 ms");
        } else {
            if (s->tokens && !s->not_streamed)
                add_tokens(st, index, t0, s);
            ev.kind = EV_REQUEST_DONE;
            ev.u.done.t_sched_ns = ev.u.done.t0_ns = t0;
            ev.u.done.ttfb_ns = s->ttft ? s->ttft : s->e2e;
            ev.u.done.ttft_ns = ev.u.done.ttfo_ns = s->tokens ? s->ttft : 0;
            ev.u.done.e2e_ns = s->e2e;
            ev.u.done.output_tokens = ev.u.done.content_events = s->tokens;
            if (s->not_streamed)
                ev.u.done.content_events = 1;
            ev.u.done.prompt_tokens = 50;
            ev.u.done.usage_reported = 1;
            ev.u.done.one_read = s->one_piece;
        }
        stats_consume(st, &ev);
    }
    if (s->last) {
        llm_event end = {.kind = EV_WINDOW_END, .step = index, .t_ns = t + WINDOW};
        stats_consume(st, &end);
    }
}

static bool has_finding(const analysis *an, const char *needle)
{
    for (size_t i = 0; i < an->n_findings; i++)
        if (strstr(an->findings[i], needle))
            return true;
    return false;
}

/* Throughput doubles up to c=8, then stays while TTFT jumps: the demo's shape. The
 * throughput knee is c=8, the latency knee c=16, and the knee the earlier of the two. */
static void saturating_ramp_has_its_throughput_knee_before_its_latency_knee(void **state)
{
    (void)state;
    stats *st = new_stats();
    static const uint32_t conc[] = {1, 2, 4, 8, 16};
    static const int n[] = {10, 20, 40, 80, 80};
    static const uint64_t ttft_ms[] = {50, 50, 50, 55, 1000};
    for (uint32_t i = 0; i < 5; i++)
        add_window_step(st, i,
                        &(step_spec){.conc = conc[i],
                                     .n = n[i],
                                     .ttft = ttft_ms[i] * MS,
                                     .e2e = i < 4 ? 1 * SEC : 2 * SEC,
                                     .tokens = 100,
                                     .last = i == 4});
    analysis an;
    analysis_run(st, &an);
    assert_true(an.has_knee);
    assert_false(an.knee_is_rate);
    assert_true(an.knee_load == 8);
    assert_string_equal(an.knee_kind, "throughput");
    assert_true(an.throughput_knee.found && an.throughput_knee.load == 8);
    assert_non_null(strstr(an.throughput_knee.reason, "at c=8 and no higher load adds 10 %"));
    assert_string_equal(an.knee_reason, an.throughput_knee.reason);
    assert_true(an.latency_knee.found && an.latency_knee.load == 16);
    assert_non_null(
        strstr(an.latency_knee.reason, "TTFT p50 grows from 55.0 ms at c=8 to 1.00 s at c=16"));
    assert_true(an.best_load.found && an.best_load.load == 8);
    assert_true(has_finding(&an, "throughput stops growing after c=8"));
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
    assert_true(cJSON_GetObjectItem(knee, "concurrency")->valuedouble == 8);
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
    assert_false(an.throughput_knee.found || an.latency_knee.found);
    assert_true(an.best_load.found && an.best_load.load == 4); /* the highest tried */
    assert_non_null(strstr(an.best_load.reason, "a higher load may do better"));
    assert_true(has_finding(&an, "throughput grows at every step"));
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
    assert_string_equal(an.knee_kind, "latency");
    assert_false(an.throughput_knee.found); /* TPS still grew at c=4 */
    assert_true(an.latency_knee.found && an.latency_knee.load == 4);
    assert_non_null(strstr(an.knee_reason, "errors start at c=4: 4 of 40 requests failed (10.0 %"));
    assert_true(an.best_load.found && an.best_load.load == 2);
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
    assert_true(has_finding(&an, "throughput grows at every step"));
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

/* A rate ramp: the knees are rates, and the sentences speak of requests/s. */
static void rate_ramp_has_its_knee_as_a_rate(void **state)
{
    (void)state;
    stats *st = new_stats();
    add_window_step(
        st, 0,
        &(step_spec){
            .conc = 1024, .rate = 5, .n = 10, .ttft = 50 * MS, .e2e = 1 * SEC, .tokens = 100});
    add_window_step(
        st, 1,
        &(step_spec){
            .conc = 1024, .rate = 10, .n = 20, .ttft = 50 * MS, .e2e = 1 * SEC, .tokens = 100});
    add_window_step(st, 2,
                    &(step_spec){.conc = 1024,
                                 .rate = 20,
                                 .n = 20,
                                 .ttft = 2 * SEC,
                                 .e2e = 3 * SEC,
                                 .tokens = 100,
                                 .last = true});
    analysis an;
    analysis_run(st, &an);
    assert_true(an.has_knee);
    assert_true(an.knee_is_rate);
    assert_true(an.knee_load == 10);
    assert_true(an.throughput_knee.load == 10 && an.latency_knee.load == 20);
    assert_non_null(strstr(an.latency_knee.reason, "at 10 req/s to 2.00 s at 20 req/s"));
    assert_true(has_finding(&an, "throughput stops growing after 10 req/s"));
    llm_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cJSON *a = snapshot_analysis_json(st, &cfg);
    assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(a, "knee"), "rate")->valuedouble == 10);
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
    /* 4 → 5, not 4 → 8 as the steps came */
    assert_true(an.latency_knee.found && an.latency_knee.load == 5);
    assert_true(an.best_load.found && an.best_load.load == 4); /* the search's answer */

    st->steps[2].cut_short = true; /* c=4 ended early: it counts as a miss */
    assert_false(analysis_step_meets_slo(&st->steps[2], &st->slo));
    analysis_search(st, &s);
    assert_true(s.best == 2 && s.first_miss == 4);
    free_stats(st);
}

/* Issue 11 #15, llama-server: throughput is flat at 1,200 tok/s from c=1 while TTFT rises
 * from c=4. The throughput knee is c=1, the latency knee c=4, and no sentence says
 * otherwise. */
static void flat_throughput_ramp_has_its_throughput_knee_at_the_lowest_load(void **state)
{
    (void)state;
    stats *st = new_stats();
    static const uint32_t conc[] = {1, 2, 4, 8, 16};
    static const uint64_t ttft_ms[] = {100, 100, 200, 400, 800};
    for (uint32_t i = 0; i < 5; i++)
        add_window_step(st, i,
                        &(step_spec){.conc = conc[i],
                                     .n = 120,
                                     .ttft = ttft_ms[i] * MS,
                                     .e2e = ttft_ms[i] * MS + 2 * SEC,
                                     .tokens = 100,
                                     .last = i == 4});
    analysis an;
    analysis_run(st, &an);
    assert_true(an.has_knee);
    assert_true(an.knee_load == 1); /* the earlier limit: more load adds no throughput */
    assert_string_equal(an.knee_kind, "throughput");
    assert_true(an.throughput_knee.found && an.throughput_knee.load == 1);
    assert_non_null(strstr(an.throughput_knee.reason,
                           "TPS reaches 1200 tok/s at c=1 and no higher load adds 10 % to it"));
    assert_true(an.latency_knee.found && an.latency_knee.load == 4);
    assert_non_null(
        strstr(an.latency_knee.reason, "TTFT p50 grows from 100 ms at c=2 to 200 ms at c=4"));
    assert_true(an.best_load.found && an.best_load.load == 1);
    assert_true(has_finding(&an, "throughput stops growing after c=1"));
    assert_false(has_finding(&an, "after c=2"));
    assert_false(has_finding(&an, "after c=4"));
    assert_false(has_finding(&an, "grows at every step"));
    free_stats(st);
}

/* The simulator's shape: TPS grows to c=8 and stays, TTFT jumps at c=16. */
static void growing_then_flat_ramp_has_its_throughput_knee_where_growth_stops(void **state)
{
    (void)state;
    stats *st = new_stats();
    static const uint32_t conc[] = {1, 2, 4, 8, 16};
    static const int n[] = {12, 24, 48, 96, 96};
    static const uint64_t ttft_ms[] = {50, 50, 50, 55, 1000};
    for (uint32_t i = 0; i < 5; i++)
        add_window_step(st, i,
                        &(step_spec){.conc = conc[i],
                                     .n = n[i],
                                     .ttft = ttft_ms[i] * MS,
                                     .e2e = ttft_ms[i] * MS + 1 * SEC,
                                     .tokens = 100,
                                     .last = i == 4});
    analysis an;
    analysis_run(st, &an);
    assert_true(an.has_knee);
    assert_true(an.knee_load == 8);
    assert_true(an.throughput_knee.found && an.throughput_knee.load == 8);
    assert_true(an.latency_knee.found && an.latency_knee.load == 16);
    assert_true(an.best_load.found && an.best_load.load == 8);
    assert_true(has_finding(&an, "throughput stops growing after c=8"));
    assert_false(has_finding(&an, "after c=16"));
    free_stats(st);
}

/* A batching server: TPS keeps growing to c=16, but TTFT doubles at c=4. The latency knee
 * comes first, so it is the knee; the best load is the step before it, and the sentence says
 * what more load would still buy. */
static void a_latency_knee_before_any_throughput_knee_is_the_knee(void **state)
{
    (void)state;
    stats *st = new_stats();
    static const uint32_t conc[] = {1, 2, 4, 8, 16};
    static const int n[] = {10, 20, 36, 60, 100};
    static const uint64_t ttft_ms[] = {40, 45, 100, 180, 300};
    for (uint32_t i = 0; i < 5; i++)
        add_window_step(st, i,
                        &(step_spec){.conc = conc[i],
                                     .n = n[i],
                                     .ttft = ttft_ms[i] * MS,
                                     .e2e = ttft_ms[i] * MS + 1 * SEC,
                                     .tokens = 100,
                                     .last = i == 4});
    analysis an;
    analysis_run(st, &an);
    assert_false(an.throughput_knee.found);
    assert_true(an.latency_knee.found && an.latency_knee.load == 4);
    assert_true(an.has_knee && an.knee_load == 4);
    assert_string_equal(an.knee_kind, "latency");
    assert_true(an.best_load.found && an.best_load.load == 2);
    assert_non_null(strstr(an.best_load.reason, "at the next load, c=4, TTFT p50 grows to 100 ms "
                                                "(the latency knee), though TPS still grows to "
                                                "1000 tok/s at c=16"));
    assert_true(has_finding(&an, "throughput grows at every step"));
    free_stats(st);
}

/* A ramp of +1 user that scales linearly: c=10 → 11 adds exactly 10 %, 11 → 12 only 9 %, yet
 * nothing levels off. The throughput knee compares each load with every later one, so a
 * fine ramp shows no plateau that is not there. */
static void a_fine_linear_ramp_has_no_throughput_knee(void **state)
{
    (void)state;
    stats *st = new_stats();
    for (uint32_t i = 0; i < 8; i++)
        add_window_step(st, i,
                        &(step_spec){.conc = 9 + i,
                                     .n = 4 * (9 + (int)i),
                                     .ttft = 50 * MS,
                                     .e2e = 1 * SEC,
                                     .tokens = 100,
                                     .last = i == 7});
    analysis an;
    analysis_run(st, &an);
    assert_false(an.throughput_knee.found);
    assert_false(an.has_knee);
    assert_true(has_finding(&an, "throughput grows at every step"));
    free_stats(st);
}

/* Issue 11 #14: a proxy that buffers the whole stream. TTFT is then the whole answer, and
 * "TTFT is 3.01e+11 times the generation time" would be nonsense. */
static void a_stream_that_arrives_in_one_piece_is_said_so(void **state)
{
    (void)state;
    stats *st = new_stats();
    add_window_step(st, 0,
                    &(step_spec){.conc = 4,
                                 .n = 20,
                                 .ttft = 3010 * MS,
                                 .e2e = 3010 * MS + 10000,
                                 .tokens = 100,
                                 .one_piece = true,
                                 .last = true});
    analysis an;
    analysis_run(st, &an);
    assert_true(has_finding(&an, "the stream arrived in one piece (a buffering proxy?)"));
    assert_false(has_finding(&an, "times the generation time"));
    assert_false(has_finding(&an, "e+"));
    free_stats(st);

    /* Every inter-token gap 0: the same, though E2E - TTFT is not tiny here. */
    st = new_stats();
    add_window_step(st, 0,
                    &(step_spec){.conc = 4,
                                 .n = 20,
                                 .ttft = 100 * MS,
                                 .e2e = 150 * MS,
                                 .tokens = 100,
                                 .one_piece = true,
                                 .last = true});
    analysis_run(st, &an);
    assert_true(has_finding(&an, "the stream arrived in one piece (a buffering proxy?)"));
    assert_true(has_finding(&an, "ITL p99 0"));
    free_stats(st);

    /* --no-stream: one event per answer is no proxy's doing, and says so */
    st = new_stats();
    add_window_step(st, 0,
                    &(step_spec){.conc = 4,
                                 .n = 20,
                                 .ttft = 900 * MS,
                                 .e2e = 900 * MS,
                                 .tokens = 100,
                                 .not_streamed = true,
                                 .last = true});
    analysis_run(st, &an);
    assert_true(has_finding(&an, "at c=4, each answer of 100 tokens arrived as one event "
                                 "(--no-stream, or a server that does not stream): TTFT p50 "));
    assert_false(has_finding(&an, "buffering proxy"));
    assert_false(has_finding(&an, "generation time"));
    free_stats(st);
}

/* Issue 11 #6: 40 of 48 requests timed out before a first token; the 8 that came back were
 * fast. A failed request is over every latency limit, so TTFT p50 is over 300 ms. */
static void failed_requests_count_as_over_every_latency_limit(void **state)
{
    (void)state;
    stats *st = new_stats();
    add_window_step(st, 0,
                    &(step_spec){.conc = 8,
                                 .n = 48,
                                 .failed = 40,
                                 .ttft = 100 * MS,
                                 .e2e = 300 * MS,
                                 .tokens = 10,
                                 .last = true});
    llm_slo slo = {.ttft_s = 0.3, .errors_pct = -1};
    const stats_agg *a = stats_step(st, 0);
    assert_int_equal(a->failed, 40);
    assert_false(analysis_step_meets_slo(a, &slo));
    assert_true(analysis_latency_over(a, &slo, 50));
    llm_slo e2e_only = {.e2e_s = 10, .errors_pct = -1};
    assert_true(analysis_latency_over(a, &e2e_only, 50));
    free_stats(st);

    /* 2 of 100 failed: the p99 of the 100 is a failure, the p90 is not. */
    st = new_stats();
    add_window_step(st, 0,
                    &(step_spec){.conc = 8,
                                 .n = 100,
                                 .failed = 2,
                                 .ttft = 100 * MS,
                                 .e2e = 300 * MS,
                                 .tokens = 10,
                                 .last = true});
    a = stats_step(st, 0);
    assert_true(analysis_latency_over(a, &slo, 99));
    assert_false(analysis_latency_over(a, &slo, 90));
    assert_false(analysis_step_meets_slo(a, &slo));
    free_stats(st);

    /* 1 of 100 failed: the p99 is the slowest success. */
    st = new_stats();
    add_window_step(st, 0,
                    &(step_spec){.conc = 8,
                                 .n = 100,
                                 .failed = 1,
                                 .ttft = 100 * MS,
                                 .e2e = 300 * MS,
                                 .tokens = 10,
                                 .last = true});
    assert_false(analysis_latency_over(stats_step(st, 0), &slo, 99));
    assert_true(analysis_step_meets_slo(stats_step(st, 0), &slo));
    free_stats(st);

    /* One-token answers have no TPOT: a TPOT limit does not apply to them, failures or not. */
    st = new_stats();
    add_window_step(st, 0,
                    &(step_spec){.conc = 8,
                                 .n = 100,
                                 .failed = 1,
                                 .ttft = 100 * MS,
                                 .e2e = 101 * MS,
                                 .tokens = 1,
                                 .last = true});
    llm_slo tpot = {.tpot_s = 0.05, .errors_pct = -1};
    assert_false(analysis_latency_over(stats_step(st, 0), &tpot, 99));
    assert_true(analysis_step_meets_slo(stats_step(st, 0), &tpot));
    free_stats(st);
}

/* Issue 12: a server that streams only `data: [DONE]` (8 ok, no token) meets no SLO. */
static void successes_without_a_token_meet_no_slo(void **state)
{
    (void)state;
    stats *st = new_stats();
    add_window_step(
        st, 0,
        &(step_spec){.conc = 8, .n = 8, .ttft = 0, .e2e = 3 * MS, .tokens = 0, .last = true});
    llm_slo slo = {.e2e_s = 1, .errors_pct = 1};
    const stats_agg *a = stats_step(st, 0);
    assert_int_equal(a->ok, 8);
    assert_false(analysis_step_meets_slo(a, &slo));
    assert_false(analysis_step_meets_slo(&st->totals, &slo));
    free_stats(st);
}

/* Issue 12: the verdict in one sentence — which limit, by how much; or why nothing can pass. */
static void the_slo_verdict_names_the_limit_missed_and_by_how_much(void **state)
{
    (void)state;
    char why[ANALYSIS_TEXT];
    stats *st = new_stats();
    llm_slo slo = {.ttft_s = 2, .e2e_s = 60, .errors_pct = -1};
    assert_false(analysis_measured(&st->totals, why, sizeof why));
    assert_string_equal(why, "no request completed");
    assert_false(analysis_slo_verdict(&st->totals, &slo, why, sizeof why));
    assert_string_equal(why, "no request completed");

    /* TTFT p99 2.41 s against 2 s; E2E within its limit */
    add_window_step(
        st, 0,
        &(step_spec){
            .conc = 8, .n = 100, .ttft = 2410 * MS, .e2e = 3 * SEC, .tokens = 10, .last = true});
    assert_false(analysis_slo_verdict(&st->totals, &slo, why, sizeof why));
    assert_non_null(strstr(why, "TTFT p99 2.4"));
    assert_non_null(strstr(why, " s is over the 2.00 s limit by 2")); /* 20 or 21 % */
    slo.ttft_s = 3;
    assert_true(analysis_slo_verdict(&st->totals, &slo, why, sizeof why));
    assert_non_null(strstr(why, "TTFT p99 2.4"));
    assert_non_null(strstr(why, "(limit 3.00 s), E2E p99 3.0"));
    slo.errors_pct = 0;
    assert_true(analysis_slo_verdict(&st->totals, &slo, why, sizeof why));
    assert_non_null(strstr(why, "error rate 0.0 % (limit 0 %)"));
    free_stats(st);

    /* the failures make the p99 a failure: said so, with no made-up number */
    st = new_stats();
    add_window_step(st, 0,
                    &(step_spec){.conc = 8,
                                 .n = 48,
                                 .failed = 40,
                                 .ttft = 100 * MS,
                                 .e2e = 300 * MS,
                                 .tokens = 10,
                                 .last = true});
    slo = (llm_slo){.ttft_s = 0.3, .errors_pct = -1};
    assert_false(analysis_slo_verdict(&st->totals, &slo, why, sizeof why));
    assert_string_equal(why, "TTFT p99 is over the 300 ms limit: 40 of 48 requests failed (most "
                             "as timeout), and a failed request counts as over every latency "
                             "limit");
    slo.errors_pct = 5;
    assert_false(analysis_slo_verdict(&st->totals, &slo, why, sizeof why));
    assert_string_equal(why, "error rate 83.3 % (40 of 48 failed) is over the 5 % limit");
    free_stats(st);

    st = new_stats();
    add_window_step(st, 0, &(step_spec){.conc = 8, .n = 8, .e2e = 3 * MS, .last = true});
    assert_false(analysis_slo_verdict(&st->totals, &slo, why, sizeof why));
    assert_string_equal(why, "8 requests completed but no token arrived");
    free_stats(st);
}

/* The headless summary prints each knee once, the best load, and the SLO verdict. */
static void summary_names_both_knees_the_best_load_and_the_slo_verdict(void **state)
{
    (void)state;
    stats *st = new_stats();
    st->slo = (llm_slo){.ttft_s = 0.3, .errors_pct = -1};
    static const uint32_t conc[] = {1, 2, 4, 8};
    static const uint64_t ttft_ms[] = {100, 100, 200, 400};
    for (uint32_t i = 0; i < 4; i++)
        add_window_step(st, i,
                        &(step_spec){.conc = conc[i],
                                     .n = 120,
                                     .ttft = ttft_ms[i] * MS,
                                     .e2e = ttft_ms[i] * MS + 2 * SEC,
                                     .tokens = 100,
                                     .last = i == 3});
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    stats_print_summary(out, st, 0);
    fclose(out);
    assert_non_null(strstr(text, "knee         throughput knee c=1: TPS reaches 1200 tok/s"));
    assert_non_null(strstr(text, "\n             latency knee c=4: TTFT p50 grows from 100 ms"));
    assert_non_null(strstr(text, "best load    c=1: 1200 tok/s at TTFT p50 100 ms; no higher "
                                 "load adds 10 % to its TPS (the throughput knee)\n"));
    assert_non_null(strstr(text, "slo          missed: TTFT p99 "));
    assert_non_null(strstr(text, "ms is over the 300 ms limit by 33 %; goodput "));
    assert_non_null(strstr(text, " req/s; the steps met it up to c=4\n"));
    assert_non_null(strstr(text, "throughput stops growing after c=1"));
    free(text);
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
    /* llama.cpp's timings leave out the wait for a slot: the finding names it */
    assert_non_null(strstr(f, "free slot"));
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
        cmocka_unit_test(saturating_ramp_has_its_throughput_knee_before_its_latency_knee),
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
        cmocka_unit_test(flat_throughput_ramp_has_its_throughput_knee_at_the_lowest_load),
        cmocka_unit_test(growing_then_flat_ramp_has_its_throughput_knee_where_growth_stops),
        cmocka_unit_test(a_latency_knee_before_any_throughput_knee_is_the_knee),
        cmocka_unit_test(a_fine_linear_ramp_has_no_throughput_knee),
        cmocka_unit_test(a_stream_that_arrives_in_one_piece_is_said_so),
        cmocka_unit_test(failed_requests_count_as_over_every_latency_limit),
        cmocka_unit_test(successes_without_a_token_meet_no_slo),
        cmocka_unit_test(the_slo_verdict_names_the_limit_missed_and_by_how_much),
        cmocka_unit_test(summary_names_both_knees_the_best_load_and_the_slo_verdict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
