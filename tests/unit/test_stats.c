/* Tests for core/stats: figures from synthetic event sequences (DESIGN.md §4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/stats.h"

#define MS 1000000ULL
#define S (1000 * MS)
#define SEC 1000000000ULL
#define START (1000 * SEC) /* run start on a made-up monotonic clock */

/* ---- event builders ---- */

static llm_event step_ev(uint32_t index, uint32_t conc, uint64_t t)
{
    llm_event ev = {.kind = EV_STEP, .step = index, .t_ns = t};
    ev.u.step_change.index = index;
    ev.u.step_change.total = 3;
    ev.u.step_change.concurrency = conc;
    return ev;
}

/* A successful request that started at t0 with usage reported. */
static llm_event done_ev(uint32_t step, uint64_t t0, uint64_t ttft, uint64_t e2e, uint32_t tokens)
{
    llm_event ev = {.kind = EV_REQUEST_DONE, .step = step, .t_ns = t0 + e2e};
    ev.u.done.t_sched_ns = t0;
    ev.u.done.t0_ns = t0;
    ev.u.done.ttfb_ns = ttft ? ttft / 2 : 0;
    ev.u.done.ttft_ns = ttft;
    ev.u.done.ttfo_ns = ttft;
    ev.u.done.e2e_ns = e2e;
    ev.u.done.output_tokens = tokens;
    ev.u.done.content_events = tokens;
    ev.u.done.prompt_tokens = 50;
    ev.u.done.usage_reported = 1;
    return ev;
}

static llm_event fail_ev(uint32_t step, uint64_t t0, uint64_t end, int cls, const char *msg)
{
    llm_event ev = {.kind = EV_REQUEST_FAILED, .step = step, .t_ns = end};
    ev.u.failed.t0_ns = t0;
    ev.u.failed.elapsed_ns = end - t0;
    ev.u.failed.err_class = (uint8_t)cls;
    snprintf(ev.u.failed.message, sizeof ev.u.failed.message, "%s", msg);
    return ev;
}

static llm_event tokens_ev(uint32_t step, uint64_t t, uint64_t gap)
{
    llm_event ev = {.kind = EV_TOKENS, .step = step, .t_ns = t};
    ev.u.tokens.count = 1;
    ev.u.tokens.gap_ns = gap;
    return ev;
}

static llm_event mark_ev(ev_kind kind, uint64_t t)
{
    llm_event ev = {.kind = (uint8_t)kind, .t_ns = t};
    return ev;
}

/* count content events of one read at t */
static llm_event read_ev(uint32_t step, uint64_t t, uint32_t count)
{
    llm_event ev = tokens_ev(step, t, 0);
    ev.u.tokens.count = count;
    return ev;
}

static stats *new_stats(const llm_slo *slo)
{
    stats *st = malloc(sizeof *st);
    assert_non_null(st);
    assert_int_equal(stats_init(st, START, slo), 0);
    return st;
}

static void free_stats(stats *st)
{
    stats_free(st);
    free(st);
}

static void feed(stats *st, llm_event ev)
{
    stats_consume(st, &ev);
}

static void assert_close(double got, double want, double rel)
{
    if (!(fabs(got - want) <= rel * fabs(want)))
        fail_msg("got %.6f, want %.6f (±%g)", got, want, rel);
}

/* Ten requests: t0 = 100 ms × i, TTFT = 10 ms × i, E2E = TTFT + 1 s, 101 tokens. */
static void feed_ten(stats *st)
{
    feed(st, step_ev(0, 4, START));
    for (uint64_t i = 1; i <= 10; i++)
        feed(st, done_ev(0, START + i * 100 * MS, i * 10 * MS, i * 10 * MS + SEC, 101));
}

/* ---- tests ---- */

/* llama.cpp timings: the server's prefill, decode per token (over n - 1 tokens, like
 * TPOT) and E2E per request, the client overhead per request, and the tokens the server
 * generated against the content events that arrived. */
static void server_timings_give_the_server_view_and_the_client_overhead(void **state)
{
    (void)state;
    stats *st = new_stats(NULL);
    feed(st, step_ev(0, 1, 1000));
    for (int i = 0; i < 4; i++) {
        /* client: TTFT 30 ms, E2E 230 ms, 21 tokens; server: 25 ms prefill, 200 ms decode */
        llm_event ev = done_ev(0, 2000 + (uint64_t)i, 30000000, 230000000, 21);
        ev.u.done.srv_timings = 1;
        ev.u.done.srv_prefill_us = 25000;
        ev.u.done.srv_decode_us = 200000;
        ev.u.done.srv_predicted_n = 21;
        ev.u.done.content_events = i == 3 ? 20 : 21; /* one stream lost its last token */
        feed(st, ev);
    }
    feed(st, done_ev(0, 3000, 30000000, 230000000, 21)); /* no timings: not counted */
    const stats_agg *a = stats_step(st, 0);
    assert_int_equal(a->srv_source, STATS_SRV_TIMINGS);
    assert_int_equal(a->srv_timed, 4);
    assert_int_equal(a->srv_tokens, 84);
    assert_int_equal(a->srv_client_events, 83);
    assert_close(stats_agg_value(a, STATS_SRV_PREFILL, 50), 25.0, 0.01);
    assert_close(stats_agg_value(a, STATS_SRV_DECODE, 50), 10.0, 0.01);
    assert_close(stats_agg_value(a, STATS_SRV_E2E, 50), 225.0, 0.01);
    assert_close(stats_agg_value(a, STATS_OVH_E2E, 50), 5.0, 0.01);
    assert_close(stats_agg_value(a, STATS_OVH_TTFT, 50), 5.0, 0.01);
    assert_int_equal(st->totals.srv_tokens, 84);
    assert_string_equal(stats_srv_source_name(a->srv_source), "timings");
    free_stats(st);
}

static void set_hist(prom_figures *f, prom_hist_kind k, const double *le, const double *cum, int n,
                     double total)
{
    prom_hist *h = &f->hist[k];
    h->n = n;
    for (int i = 0; i < n; i++) {
        h->le[i] = le[i];
        h->cum[i] = cum[i];
    }
    h->total = total;
}

/* /metrics histograms: each reading's delta goes to the current step, spread inside its
 * buckets (so percentiles have the bucket's resolution); the first reading is only the
 * base; a counter that went down (a restart) is not counted; the generation counter's
 * delta stands beside the content events that arrived meanwhile. */
static void server_histogram_deltas_go_to_the_current_step(void **state)
{
    (void)state;
    stats *st = new_stats(NULL);
    static const double le[3] = {0.1, 0.2, 0.4};
    prom_figures f;
    prom_parse("", 0, &f);
    f.generation_tokens = 1000;
    set_hist(&f, PROM_H_TTFT, le, (double[]){50, 60, 70}, 3, 70); /* before the run */
    stats_set_server_hists(st, &f);
    feed(st, step_ev(0, 4, 1000));
    stats_set_server_hists(st, &f); /* nothing new */
    assert_int_equal(stats_step(st, 0)->h[STATS_SRV_TTFT].total, 0);
    /* 10 requests in (0.1, 0.2], 10 in (0.2, 0.4], 2 beyond the last bound */
    set_hist(&f, PROM_H_TTFT, le, (double[]){50, 70, 90}, 3, 92);
    f.generation_tokens = 1500;
    for (int i = 0; i < 490; i++)
        feed(st, tokens_ev(0, 2000 + (uint64_t)i, 0));
    stats_set_server_hists(st, &f);
    const stats_agg *a = stats_step(st, 0);
    assert_int_equal(a->srv_source, STATS_SRV_METRICS);
    assert_int_equal(a->h[STATS_SRV_TTFT].total, 22);
    double p25 = stats_agg_value(a, STATS_SRV_TTFT, 25),
           p75 = stats_agg_value(a, STATS_SRV_TTFT, 75);
    assert_true(p25 > 100 && p25 <= 200);
    assert_true(p75 > 200 && p75 <= 400);
    assert_close(stats_agg_value(a, STATS_SRV_TTFT, 100), 400, 0.01);
    uint64_t srv, cli;
    assert_int_equal(stats_agg_server_tokens(a, &srv, &cli), STATS_SRV_METRICS);
    assert_int_equal(srv, 500);
    assert_int_equal(cli, 490);
    assert_int_equal(st->totals.h[STATS_SRV_TTFT].total, 22);
    double lo, hi;
    assert_true(stats_server_bucket(st, PROM_H_TTFT, 150, &lo, &hi));
    assert_true(lo == 100 && hi == 200);
    /* the p25 fell in (100, 200], the p75 in (200, 400]: a client-minus-server difference
     * is known to within those widths; nothing for histograms without a reading */
    assert_close(stats_agg_server_resolution(a, PROM_H_TTFT, 25), 100, 1e-9);
    assert_close(stats_agg_server_resolution(a, PROM_H_TTFT, 75), 200, 1e-9);
    assert_true(isnan(stats_agg_server_resolution(a, PROM_H_E2E, 50)));
    /* a restart: counts went down; nothing counted, the new reading is the base */
    set_hist(&f, PROM_H_TTFT, le, (double[]){1, 1, 1}, 3, 1);
    f.generation_tokens = 10;
    stats_set_server_hists(st, &f);
    assert_int_equal(a->h[STATS_SRV_TTFT].total, 22);
    assert_int_equal(a->srv_metric_tokens, 500);
    free_stats(st);
}

static void ten_requests_give_known_latencies_tpot_and_speeds(void **state)
{
    (void)state;
    stats *st = new_stats(NULL);
    feed_ten(st);
    const stats_agg *a = stats_step(st, 0);
    assert_non_null(a);
    assert_int_equal(a->ok, 10);
    assert_int_equal(a->concurrency, 4);
    /* TTFT 10..100 ms: mean and max are exact, p50 (rank 5) within the 1 % bound */
    assert_close(stats_agg_value(a, STATS_TTFT, -1), 55.0, 1e-9);
    assert_close(stats_agg_value(a, STATS_TTFT, 100), 100.0, 1e-9);
    assert_close(stats_agg_value(a, STATS_TTFT, 0), 10.0, 1e-9);
    assert_close(stats_agg_value(a, STATS_TTFT, 50), 50.0, 0.01);
    assert_close(stats_agg_value(a, STATS_TTFT, 90), 90.0, 0.01);
    assert_close(stats_agg_value(a, STATS_E2E, -1), 1055.0, 1e-9);
    /* TPOT = (E2E - TTFT) / (tokens - 1) = 1000 ms / 100 */
    assert_close(stats_agg_value(a, STATS_TPOT, 50), 10.0, 1e-9);
    assert_int_equal(a->h[STATS_TPOT].total, 10);
    /* per-stream TPS = the 100 tokens after the first / 1 s of decode = 1 / TPOT */
    assert_close(stats_agg_value(a, STATS_PER_STREAM_TPS, 50), 100.0, 1e-9);
    assert_close(stats_agg_per_stream_tps(a), 100.0, 1e-9);
    /* prefill = 50 prompt tokens / TTFT: best at TTFT 10 ms */
    assert_close(stats_agg_value(a, STATS_PREFILL_TPS, 100), 5000.0, 1e-9);
    assert_close(stats_agg_value(a, STATS_TTFB, 100), 50.0, 1e-9);
    /* no ITL recorded without EV_TOKENS gaps */
    assert_true(isnan(stats_agg_value(a, STATS_ITL, 50)));
    free_stats(st);
}

/* feed_ten with each request's 101 tokens arriving at its end, and the window closed at
 * the last completion (2.1 s after the step opened). */
static void feed_ten_window(stats *st)
{
    feed(st, step_ev(0, 4, START));
    for (uint64_t i = 1; i <= 10; i++) {
        uint64_t t0 = START + i * 100 * MS, e2e = i * 10 * MS + SEC;
        feed(st, read_ev(0, t0 + e2e, 101));
        feed(st, done_ev(0, t0, i * 10 * MS, e2e, 101));
    }
    feed(st, mark_ev(EV_WINDOW_END, START + 2100 * MS));
}

static void rps_and_tps_count_what_ended_or_arrived_in_the_window(void **state)
{
    (void)state;
    stats *st = new_stats(NULL);
    feed_ten_window(st);
    const stats_agg *a = stats_step(st, 0);
    /* the window: from the step's EV_STEP to EV_WINDOW_END */
    assert_close(stats_agg_window_s(a), 2.1, 1e-12);
    assert_close(stats_agg_rps(a), 10 / 2.1, 1e-12);
    assert_close(stats_agg_tps(a), 1010.0 / 2.1, 1e-12);
    assert_int_equal(a->output_tokens, 1010);
    assert_int_equal(a->prompt_tokens, 500);
    assert_false(a->estimated);
    assert_close(stats_agg_rps(&st->totals), 10 / 2.1, 1e-12);
    assert_close(stats_agg_window_s(&st->totals), 2.1, 1e-12);
    free_stats(st);
}

/* Defect 1 of issue 11: a step's throughput was what its own requests produced over the
 * span from their first start to their last end; with unequal lengths a step's last
 * requests run into the next step (or are cut at the end) and the figure read low. Now the
 * tokens that arrive while step 1 runs are step 1's throughput, whoever sent them, and the
 * latencies stay with the step the request started in. */
static void tokens_count_in_the_window_they_arrive_in(void **state)
{
    (void)state;
    stats *st = new_stats(NULL);
    feed(st, step_ev(0, 2, START));
    feed(st, read_ev(0, START + 500 * MS, 30)); /* request A (step 0) */
    feed(st, read_ev(0, START + 1500 * MS, 30));
    feed(st, step_ev(1, 4, START + 2 * SEC));
    feed(st, read_ev(0, START + 2500 * MS, 40)); /* A again: after step 1 opened */
    feed(st, done_ev(0, START + 100 * MS, 400 * MS, 2500 * MS, 100));
    feed(st, read_ev(1, START + 3 * SEC, 50)); /* request B (step 1) */
    feed(st, done_ev(1, START + 2100 * MS, 100 * MS, 900 * MS, 50));
    feed(st, mark_ev(EV_WINDOW_END, START + 4 * SEC));
    feed(st, read_ev(1, START + 4500 * MS, 7)); /* after the load ended: drained, no window */
    const stats_agg *s0 = stats_step(st, 0), *s1 = stats_step(st, 1);
    assert_close(stats_agg_window_s(s0), 2.0, 1e-12);
    assert_close(stats_agg_window_s(s1), 2.0, 1e-12);
    assert_close(stats_agg_tps(s0), 60 / 2.0, 1e-12);
    assert_close(stats_agg_tps(s1), 90 / 2.0, 1e-12);
    assert_close(stats_agg_rps(s0), 0, 1e-12); /* A completed in step 1's window */
    assert_close(stats_agg_rps(s1), 2 / 2.0, 1e-12);
    assert_int_equal(s0->ok, 1); /* ... but its latencies are step 0's */
    assert_close(stats_agg_value(s0, STATS_E2E, 100), 2500, 1e-9);
    assert_close(stats_agg_tps(&st->totals), 150 / 4.0, 1e-12);
    free_stats(st);
}

/* Defect 2 of issue 11: a pause counted as working time. */
static void a_pause_and_a_cooldown_are_not_window_time(void **state)
{
    (void)state;
    stats *st = new_stats(NULL);
    feed(st, step_ev(0, 1, START));
    feed(st, read_ev(0, START + 500 * MS, 10));
    feed(st, mark_ev(EV_PAUSE, START + SEC));
    feed(st, read_ev(0, START + 1200 * MS, 5)); /* in flight during the pause: not counted */
    stats_tick(st, START + 5 * SEC);            /* ticks while paused add nothing */
    feed(st, mark_ev(EV_RESUME, START + 7 * SEC));
    feed(st, read_ev(0, START + 7500 * MS, 10));
    stats_tick(st, START + 8500 * MS); /* a tick past the end the engine will publish ... */
    feed(st, mark_ev(EV_WINDOW_END, START + 8 * SEC)); /* ... is taken back */
    const stats_agg *a = stats_step(st, 0);
    assert_close(stats_agg_window_s(a), 2.0, 1e-12);
    assert_close(stats_agg_tps(a), 20 / 2.0, 1e-12);
    assert_close(stats_agg_window_s(&st->totals), 2.0, 1e-12);
    free_stats(st);
}

/* Defect 4 of issue 11: a hand change of the target starts a manual step at the applied
 * load (the engine sends EV_STEP with a new index); changes within a second reuse the
 * index and only change the load. */
static void a_manual_step_records_the_applied_load(void **state)
{
    (void)state;
    stats *st = new_stats(NULL);
    feed(st, step_ev(0, 4, START));
    feed(st, read_ev(0, START + 500 * MS, 10));
    llm_event m = step_ev(1, 13, START + SEC);
    m.u.step_change.manual = 1;
    m.u.step_change.plan_index = 0;
    feed(st, m);
    m.u.step_change.concurrency = 14;
    m.t_ns = START + 1300 * MS;
    feed(st, m);
    feed(st, read_ev(0, START + 1500 * MS, 20));
    feed(st, mark_ev(EV_WINDOW_END, START + 3 * SEC));
    assert_int_equal(st->n_steps, 2);
    const stats_agg *a = stats_step(st, 1);
    assert_true(a->manual);
    assert_int_equal(a->concurrency, 14);
    assert_int_equal(a->plan_index, 0);
    assert_close(stats_agg_window_s(a), 2.0, 1e-12);
    assert_close(stats_agg_window_s(stats_step(st, 0)), 1.0, 1e-12);
    assert_false(stats_step(st, 0)->manual);
    assert_close(stats_agg_tps(a), 20 / 2.0, 1e-12);
    free_stats(st);
}

/* Defect 11 of issue 11: per-stream TPS per step is a ratio of sums, so a short answer
 * whose tokens came in one read (E2E - TTFT of microseconds) cannot dominate. */
static void per_stream_tps_of_a_step_is_a_ratio_of_sums(void **state)
{
    (void)state;
    stats *st = new_stats(NULL);
    feed(st, step_ev(0, 2, START));
    feed(st, done_ev(0, START, 100 * MS, 100 * MS + 1000, 2));  /* 1 token in 1 µs */
    feed(st, done_ev(0, START, 100 * MS, 100 * MS + SEC, 101)); /* 100 tokens in 1 s */
    const stats_agg *a = stats_step(st, 0);
    assert_close(stats_agg_per_stream_tps(a), 101 / 1.000001, 1e-9);
    /* the per-request figures are (N - 1) / decode = 1 / TPOT: 1e6 and 100 tok/s */
    assert_close(stats_agg_value(a, STATS_PER_STREAM_TPS, 100), 1e6, 0.01);
    assert_close(stats_agg_value(a, STATS_PER_STREAM_TPS, 0), 100, 1e-9);
    free_stats(st);
}

static void requests_cut_at_the_end_are_counted_apart(void **state)
{
    (void)state;
    stats *st = new_stats(NULL);
    feed(st, step_ev(0, 2, START));
    feed(st, done_ev(0, START, 100 * MS, SEC, 10));
    llm_event cut = {.kind = EV_REQUEST_CUT, .step = 0, .t_ns = START + 40 * SEC};
    cut.u.failed.t0_ns = START + SEC;
    feed(st, cut);
    assert_int_equal(stats_step(st, 0)->cut, 1);
    assert_int_equal(st->totals.cut, 1);
    assert_int_equal(st->totals.failed, 0);
    assert_int_equal(st->totals.ok, 1);
    free_stats(st);
}

static void goodput_counts_requests_within_the_slo(void **state)
{
    (void)state;
    llm_slo slo = {.ttft_s = 0.05, .errors_pct = -1};
    stats *st = new_stats(&slo);
    feed_ten_window(st);
    assert_int_equal(st->totals.slo_met, 5); /* TTFT 10..50 ms */
    assert_close(stats_agg_goodput(&st->totals), 5 / 2.1, 1e-12);
    free_stats(st);

    llm_slo tight = {.tpot_s = 0.009, .errors_pct = -1};
    st = new_stats(&tight);
    feed_ten(st);
    assert_int_equal(st->totals.slo_met, 0); /* every TPOT is 10 ms */
    free_stats(st);
}

static void warmup_events_are_not_counted(void **state)
{
    (void)state;
    stats *st = new_stats(NULL);
    llm_event d = done_ev(0, START, 5 * MS, SEC, 10);
    d.warmup = 1;
    llm_event f = fail_ev(0, START, START + SEC, ERR_TIMEOUT, "timed out");
    f.warmup = 1;
    llm_event t = tokens_ev(0, START + 10 * MS, 3 * MS);
    t.warmup = 1;
    feed(st, d);
    feed(st, f);
    feed(st, t);
    stats_tick(st, START + 2 * SEC);
    assert_int_equal(st->totals.ok, 0);
    assert_int_equal(st->totals.failed, 0);
    assert_int_equal(st->totals.h[STATS_ITL].total, 0);
    assert_int_equal(st->n_steps, 0);
    assert_int_equal(st->warmup_ok, 1);
    assert_int_equal(st->n_series, 2);
    assert_int_equal(st->series[0].rps + st->series[0].tps + st->series[0].errors, 0);
    free_stats(st);
}

static void request_counts_in_the_step_it_started_in(void **state)
{
    (void)state;
    stats *st = new_stats(NULL);
    feed(st, step_ev(0, 1, START));
    feed(st, step_ev(1, 2, START + 2 * SEC));
    /* started in step 0, ends after step 1 opened */
    feed(st, done_ev(0, START + SEC, 10 * MS, 3 * SEC, 5));
    feed(st, done_ev(1, START + 2 * SEC, 10 * MS, 1 * SEC, 5));
    feed(st, fail_ev(0, START + SEC, START + 5 * SEC, ERR_STREAM, "cut"));
    assert_int_equal(st->n_steps, 2);
    assert_int_equal(stats_step(st, 0)->ok, 1);
    assert_int_equal(stats_step(st, 0)->failed, 1);
    assert_int_equal(stats_step(st, 1)->ok, 1);
    assert_int_equal(stats_step(st, 1)->failed, 0);
    assert_int_equal(stats_step(st, 1)->concurrency, 2);
    assert_int_equal(st->totals.ok, 2);
    assert_int_equal(st->totals.concurrency, 2);
    assert_close(stats_agg_window_s(stats_step(st, 0)), 2.0, 1e-12);
    free_stats(st);
}

static void errors_are_counted_by_class_with_last_message(void **state)
{
    (void)state;
    stats *st = new_stats(NULL);
    feed(st, fail_ev(0, START, START + MS, ERR_HTTP_5XX, "500 from the server: first"));
    feed(st, fail_ev(0, START, START + 2 * MS, ERR_HTTP_5XX, "503 from the server: second"));
    feed(st, fail_ev(0, START, START + 3 * MS, ERR_TIMEOUT, "no first token within 10 s"));
    feed(st, fail_ev(0, START, START + 4 * MS, 200, "unknown class"));
    const stats_agg *a = &st->totals;
    assert_int_equal(a->failed, 4);
    assert_int_equal(a->errors[ERR_HTTP_5XX], 2);
    assert_int_equal(a->errors[ERR_TIMEOUT], 1);
    assert_int_equal(a->errors[ERR_OTHER], 1);
    assert_int_equal(a->errors[ERR_CONNECT], 0);
    assert_string_equal(a->last_error[ERR_HTTP_5XX], "503 from the server: second");
    assert_string_equal(a->last_error[ERR_TIMEOUT], "no first token within 10 s");
    assert_string_equal(a->last_error[ERR_OTHER], "unknown class");
    assert_string_equal(a->last_error[ERR_TLS], "");
    assert_int_equal(a->ok, 0);
    free_stats(st);
}

static void itl_goes_to_the_records_step(void **state)
{
    (void)state;
    stats *st = new_stats(NULL);
    feed(st, step_ev(0, 1, START));
    feed(st, step_ev(1, 2, START + SEC));
    feed(st, tokens_ev(0, START + SEC + 1 * MS, 0)); /* first token: no gap */
    feed(st, tokens_ev(0, START + SEC + 21 * MS, 20 * MS));
    feed(st, tokens_ev(1, START + SEC + 30 * MS, 40 * MS));
    assert_int_equal(stats_step(st, 0)->h[STATS_ITL].total, 1);
    assert_close(stats_agg_value(stats_step(st, 0), STATS_ITL, 50), 20.0, 1e-9);
    assert_close(stats_agg_value(stats_step(st, 1), STATS_ITL, 50), 40.0, 1e-9);
    assert_int_equal(st->totals.h[STATS_ITL].total, 2);
    free_stats(st);
}

static void short_outputs_skip_tpot_and_speed(void **state)
{
    (void)state;
    stats *st = new_stats(NULL);
    feed(st, done_ev(0, START, 100 * MS, 300 * MS, 1)); /* 1 token: no TPOT */
    feed(st, done_ev(0, START, 0, 300 * MS, 0));        /* no content at all */
    const stats_agg *a = &st->totals;
    assert_int_equal(a->ok, 2);
    assert_int_equal(a->h[STATS_TPOT].total, 0);
    assert_int_equal(a->h[STATS_PER_STREAM_TPS].total, 0); /* 1 token: no decode phase */
    assert_true(isnan(stats_agg_value(a, STATS_PER_STREAM_TPS, 50)));
    assert_int_equal(a->h[STATS_TTFT].total, 1);
    assert_int_equal(a->h[STATS_E2E].total, 2);
    free_stats(st);
}

static void missing_usage_marks_tokens_estimated(void **state)
{
    (void)state;
    stats *st = new_stats(NULL);
    feed(st, done_ev(0, START, 10 * MS, SEC, 40)); /* usage: 40 tokens, 40 events */
    llm_event e = done_ev(0, START, 10 * MS, SEC, 30);
    e.u.done.usage_reported = 0;
    feed(st, e);
    llm_event agree = done_ev(0, START, 10 * MS, SEC, 60);
    agree.u.done.content_events = 20; /* server counts 3 tokens per event */
    feed(st, agree);
    const stats_agg *a = &st->totals;
    assert_true(a->estimated);
    assert_int_equal(a->output_tokens, 130);
    assert_int_equal(a->content_events, 90);
    assert_int_equal(a->usage_tokens, 100);
    assert_int_equal(a->usage_events, 60);
    free_stats(st);

    st = new_stats(NULL);
    llm_event p = done_ev(0, START, 10 * MS, SEC, 40);
    p.u.done.prompt_estimated = 1;
    feed(st, p);
    assert_true(st->totals.estimated);
    free_stats(st);
}

static void series_has_a_row_per_second(void **state)
{
    (void)state;
    stats *st = new_stats(NULL);
    stats_set_gauges(st, 4, 3, 12.5, NAN);
    feed(st, done_ev(0, START + 100 * MS, 100 * MS, 100 * MS, 1)); /* ends at 0.2 s */
    for (int i = 0; i < 3; i++)
        feed(st, tokens_ev(0, START + 500 * MS, i ? 10 * MS : 0));
    feed(st, fail_ev(0, START + SEC, START + 1300 * MS, ERR_CONNECT, "refused"));
    stats_set_gauges(st, 8, 7, 50.0, 61.0);                      /* during second 1 */
    feed(st, done_ev(0, START + 3 * SEC, 50 * MS, 100 * MS, 1)); /* ends at 3.1 s */
    assert_int_equal(st->n_series, 3);
    stats_tick(st, START + 4 * SEC);
    assert_int_equal(st->n_series, 4);

    const stats_row *r = st->series;
    assert_int_equal(r[0].t, 0);
    assert_int_equal(r[0].rps, 1);
    assert_int_equal(r[0].tps, 3);
    assert_int_equal(r[0].errors, 0);
    assert_close(r[0].ttft_p50_ms, 100.0, 1e-9);
    assert_close(r[0].ttft_p99_ms, 100.0, 1e-9);
    assert_int_equal(r[0].target, 4);
    assert_int_equal(r[0].inflight, 3);
    assert_close(r[0].cpu_pct, 12.5, 1e-12);
    assert_true(isnan(r[0].temp_c));
    assert_int_equal(r[1].errors, 1);
    assert_int_equal(r[1].rps, 0);
    assert_true(isnan(r[1].ttft_p50_ms));
    assert_int_equal(r[1].target, 8);
    assert_int_equal(r[2].target, 8); /* gauges carry over */
    assert_int_equal(r[2].rps + r[2].tps + r[2].errors, 0);
    assert_int_equal(r[3].t, 3);
    assert_int_equal(r[3].rps, 1);
    assert_close(r[3].ttft_p50_ms, 50.0, 1e-9);

    const stats_row *live = stats_live(st);
    assert_non_null(live);
    assert_int_equal(live->t, 3);
    assert_int_equal(live->rps, 1);
    free_stats(st);
}

static void late_record_counts_in_the_open_second(void **state)
{
    (void)state;
    stats *st = new_stats(NULL);
    assert_null(stats_live(st));
    stats_tick(st, START + 2 * SEC + 1);
    feed(st, done_ev(0, START + 100 * MS, 10 * MS, 200 * MS, 1)); /* happened in second 0 */
    stats_tick(st, START + 3 * SEC);
    assert_int_equal(st->n_series, 3);
    assert_int_equal(st->series[0].rps, 0);
    assert_int_equal(st->series[2].rps, 1);
    free_stats(st);
}

static void series_memory_is_bounded(void **state)
{
    (void)state;
    stats *st = new_stats(NULL);
    stats_tick(st, START + 100000 * SEC);
    assert_int_equal(st->n_series, STATS_SERIES_MAX);
    assert_int_equal(st->series_dropped, 100000 - STATS_SERIES_MAX);
    assert_true(st->cap_series <= STATS_SERIES_MAX);
    feed(st, done_ev(0, START + 100000 * SEC, MS, 2 * MS, 1));
    stats_tick(st, START + 100001 * SEC);
    assert_int_equal(st->n_series, STATS_SERIES_MAX);
    assert_int_equal(stats_live(st)->rps, 1); /* the live figures keep going */
    free_stats(st);
}

static void steps_beyond_the_cap_count_in_totals_only(void **state)
{
    (void)state;
    stats *st = new_stats(NULL);
    feed(st, done_ev(STATS_MAX_STEPS + 5, START, MS, 2 * MS, 1));
    assert_int_equal(st->n_steps, 0);
    assert_int_equal(st->totals.ok, 1);
    free_stats(st);
}

static void achieved_load_is_the_mean_of_gauge_samples_per_step(void **state)
{
    (void)state;
    stats *st = new_stats(NULL);
    feed(st, step_ev(0, 4, S));
    stats_set_gauges(st, 4, 4, NAN, NAN);
    stats_set_gauges(st, 4, 2, NAN, NAN);
    feed(st, step_ev(1, 8, 2 * S));
    stats_set_gauges(st, 8, 8, NAN, NAN);
    assert_close(stats_agg_mean_inflight(stats_step(st, 0)), 3.0, 1e-9);
    assert_close(stats_agg_mean_target(stats_step(st, 0)), 4.0, 1e-9);
    assert_close(stats_agg_mean_inflight(stats_step(st, 1)), 8.0, 1e-9);
    assert_close(stats_agg_mean_inflight(&st->totals), 14.0 / 3, 1e-9);
    free_stats(st);
}

/* Issue 16: a pause or a cool-down sends nothing while the target stands; its seconds are
 * outside the window and do not count as load that fell short. */
static void achieved_load_leaves_out_pauses_and_cooldowns(void **state)
{
    (void)state;
    stats *st = new_stats(NULL);
    feed(st, step_ev(0, 4, S));
    stats_set_gauges(st, 4, 4, NAN, NAN);
    feed(st, mark_ev(EV_PAUSE, 2 * S));
    stats_set_gauges(st, 4, 0, NAN, NAN);
    stats_set_gauges(st, 4, 0, NAN, NAN);
    feed(st, mark_ev(EV_RESUME, 4 * S));
    stats_set_gauges(st, 4, 3, NAN, NAN);
    feed(st, mark_ev(EV_WINDOW_END, 5 * S));
    stats_set_gauges(st, 4, 1, NAN, NAN); /* the drain after the load ended */
    assert_close(stats_agg_mean_inflight(stats_step(st, 0)), 3.5, 1e-9);
    assert_close(stats_agg_mean_target(stats_step(st, 0)), 4.0, 1e-9);
    assert_close(stats_agg_mean_inflight(&st->totals), 3.5, 1e-9);
    free_stats(st);
}

static void efficiency_compares_with_the_concurrency_1_step(void **state)
{
    (void)state;
    stats *st = new_stats(NULL);
    /* c = 1: one request, 100 tokens decoded in 1 s after a 0.1 s TTFT: 100 tok/s. */
    feed(st, step_ev(0, 1, S));
    feed(st, read_ev(0, 2 * S + S / 10, 100));
    feed(st, done_ev(0, S, S / 10, S + S / 10, 101));
    /* c = 4: four such requests side by side over the next 1.1 s: 400 tokens / 1.1 s. */
    uint64_t t1 = 2 * S + S / 10;
    feed(st, step_ev(1, 4, t1));
    feed(st, read_ev(1, t1 + S + S / 10, 400));
    for (int i = 0; i < 4; i++)
        feed(st, done_ev(1, t1, S / 10, S + S / 10, 101));
    feed(st, mark_ev(EV_WINDOW_END, t1 + S + S / 10));
    double want = (400 / 1.1) / (4 * 100.0);
    assert_close(stats_efficiency(st, stats_step(st, 1)), want, 0.01);
    assert_close(stats_efficiency(st, stats_step(st, 0)), 1 / 1.1, 0.01);
    free_stats(st);
}

static void events_of_one_read_add_itl_zeros(void **state)
{
    (void)state;
    stats *st = new_stats(NULL);
    feed(st, step_ev(0, 1, START));
    /* A request's first read brings 3 events (first token + 2 with ITL 0), then a read of
     * 2 events 30 ms later (one ITL of 30 ms, one of 0). */
    llm_event first = tokens_ev(0, START + 10 * MS, 0);
    first.u.tokens.count = 3;
    llm_event later = tokens_ev(0, START + 40 * MS, 30 * MS);
    later.u.tokens.count = 2;
    feed(st, first);
    feed(st, later);
    const hist *itl = &stats_step(st, 0)->h[STATS_ITL];
    assert_int_equal(itl->total, 4);
    assert_int_equal(itl->min, 0);
    assert_int_equal(itl->max, 30000);
    assert_close(hist_mean(itl), 7500.0, 1e-12);
    assert_int_equal(st->totals.h[STATS_ITL].total, 4);
    stats_tick(st, START + SEC);
    assert_int_equal(st->series[0].tps, 5);
    free_stats(st);
}

static void series_tps_counts_tokens_when_events_carry_several(void **state)
{
    (void)state;
    stats *st = new_stats(NULL);
    /* The server reported 30 tokens for 10 content events: 3 tokens per event. */
    llm_event done = done_ev(0, START + 100 * MS, 100 * MS, 200 * MS, 30);
    done.u.done.content_events = 10;
    feed(st, done);
    for (int i = 0; i < 10; i++)
        feed(st, tokens_ev(0, START + SEC + 100 * MS, 0));
    stats_tick(st, START + 2 * SEC);
    assert_int_equal(st->n_series, 2);
    assert_int_equal(st->series[1].tps, 30);
    free_stats(st);
}

static void repeated_steps_give_mean_and_sample_sd(void **state)
{
    (void)state;
    stats *st = new_stats(NULL);
    /* two requests per step in windows of 1 s, 1 s, 2 s: 2, 2, 1 rps */
    uint64_t e2e[3] = {S, S, 2 * S}, t = START;
    for (uint32_t k = 0; k < 3; k++) {
        feed(st, step_ev(k, 2, t));
        for (int i = 0; i < 2; i++)
            feed(st, done_ev(k, t, 100 * MS, e2e[k], 10));
        t += e2e[k];
    }
    feed(st, step_ev(3, 4, t)); /* a different setting: a group of its own */
    feed(st, done_ev(3, t, 100 * MS, S, 10));
    stats_repeat g[8];
    assert_int_equal(stats_repeats(st, g, 8), 2);
    assert_int_equal(g[0].n, 3);
    assert_int_equal(g[0].concurrency, 2);
    assert_close(g[0].mean[STATS_REPEAT_RPS], 5.0 / 3, 1e-9);
    assert_close(g[0].sd[STATS_REPEAT_RPS], 0.5773502691896258, 1e-9);
    assert_close(g[0].mean[STATS_REPEAT_TTFT_P50], 100.0, 0.01);
    assert_int_equal(g[1].n, 1);
    assert_true(isnan(g[1].sd[STATS_REPEAT_RPS]));
    free_stats(st);
}

static void efficiency_is_unknown_without_a_concurrency_1_step(void **state)
{
    (void)state;
    stats *st = new_stats(NULL);
    feed(st, step_ev(0, 2, S));
    feed(st, done_ev(0, S, S / 10, S, 10));
    assert_true(isnan(stats_efficiency(st, stats_step(st, 0))));
    free_stats(st);
}

/* Issue 14: realised lengths (tokens, not scaled), answers that ended before max_tokens, the
 * prefix cache's hit share with TTFT split by hit and miss, and per-turn figures. */
static void workload_figures_fold_lengths_cache_and_turns(void **state)
{
    (void)state;
    stats *st = new_stats(NULL);
    llm_event s0 = step_ev(0, 4, START);
    stats_consume(st, &s0);
    for (int i = 0; i < 10; i++) {
        bool hit = i >= 2;
        llm_event d = done_ev(0, START + 1000, hit ? 10000000 : 80000000, 200000000, 20 + i);
        d.u.done.prompt_tokens = 100 + (uint32_t)i;
        d.u.done.asked_output_tokens = 25;
        d.u.done.cached_reported = 1;
        d.u.done.cached_tokens = hit ? 64 : 0;
        d.u.done.turn = (uint8_t)(1 + i % 2);
        stats_consume(st, &d);
    }
    const stats_agg *t = &st->totals;
    assert_float_equal(stats_agg_value(t, STATS_INPUT_TOKENS, 100), 109, 1e-9);
    assert_float_equal(stats_agg_value(t, STATS_OUTPUT_TOKENS, -1), 24.5, 1e-9);
    assert_int_equal(t->asked_output, 10);
    assert_int_equal(t->ended_early, 5); /* 20..24 < 25 */
    assert_int_equal(t->cache_reported, 10);
    assert_int_equal(t->cache_hits, 8);
    assert_int_equal(t->cached_tokens, 8 * 64);
    assert_float_equal(stats_agg_value(t, STATS_TTFT_CACHE_HIT, 50), 10, 0.2);
    assert_float_equal(stats_agg_value(t, STATS_TTFT_CACHE_MISS, 50), 80, 1);
    assert_int_equal(t->turn_n[0], 5);
    assert_int_equal(t->turn_n[1], 5);
    char line[160];
    stats_workload_line(t, line, sizeof line);
    assert_non_null(strstr(line, "cache hit 80% TTFT 10.0/80."));
    assert_non_null(strstr(line, "turn 1 "));
    assert_non_null(strstr(line, ", 2 "));
    stats_free(st);
    free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ten_requests_give_known_latencies_tpot_and_speeds),
        cmocka_unit_test(server_timings_give_the_server_view_and_the_client_overhead),
        cmocka_unit_test(server_histogram_deltas_go_to_the_current_step),
        cmocka_unit_test(rps_and_tps_count_what_ended_or_arrived_in_the_window),
        cmocka_unit_test(tokens_count_in_the_window_they_arrive_in),
        cmocka_unit_test(a_pause_and_a_cooldown_are_not_window_time),
        cmocka_unit_test(a_manual_step_records_the_applied_load),
        cmocka_unit_test(per_stream_tps_of_a_step_is_a_ratio_of_sums),
        cmocka_unit_test(requests_cut_at_the_end_are_counted_apart),
        cmocka_unit_test(goodput_counts_requests_within_the_slo),
        cmocka_unit_test(warmup_events_are_not_counted),
        cmocka_unit_test(request_counts_in_the_step_it_started_in),
        cmocka_unit_test(errors_are_counted_by_class_with_last_message),
        cmocka_unit_test(itl_goes_to_the_records_step),
        cmocka_unit_test(short_outputs_skip_tpot_and_speed),
        cmocka_unit_test(missing_usage_marks_tokens_estimated),
        cmocka_unit_test(series_has_a_row_per_second),
        cmocka_unit_test(late_record_counts_in_the_open_second),
        cmocka_unit_test(series_memory_is_bounded),
        cmocka_unit_test(steps_beyond_the_cap_count_in_totals_only),
        cmocka_unit_test(achieved_load_is_the_mean_of_gauge_samples_per_step),
        cmocka_unit_test(achieved_load_leaves_out_pauses_and_cooldowns),
        cmocka_unit_test(efficiency_compares_with_the_concurrency_1_step),
        cmocka_unit_test(efficiency_is_unknown_without_a_concurrency_1_step),
        cmocka_unit_test(repeated_steps_give_mean_and_sample_sd),
        cmocka_unit_test(series_tps_counts_tokens_when_events_carry_several),
        cmocka_unit_test(events_of_one_read_add_itl_zeros),
        cmocka_unit_test(workload_figures_fold_lengths_cache_and_turns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
