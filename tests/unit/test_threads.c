/* Tests for --threads: N engine shards in one process against the built-in simulator —
 * totals equal the server's own counters, budgets exact across shards, users divided, the
 * leader's commands (target, pause, next step, stop) reaching every shard, one step mark
 * per step, and the option's bad values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "core/stats.h"
#include "engine/engine.h"
#include "sim/sim.h"
#include "testutil.h"

typedef struct {
    sim_server *sim;
    llm_config cfg;
    plan plan;
    char url[64];
    stats *st;
    long ok, failed, cut, warmup_ok, tokens, steps, window_ends, pauses, resumes;
    ev_step step_evs[32];
    long ok_in_seq[32];
} run_ctx;

static void start_sim(run_ctx *r, double decode_rate, double base_latency_s)
{
    char err[256];
    sim_options o;
    sim_options_default(&o);
    o.quiet = true;
    o.port = 0;
    o.slots = 64;
    o.decode_rate = decode_rate;
    o.base_latency_s = base_latency_s;
    assert_int_equal(sim_start(&o, &r->sim, err, sizeof err), 0);
    snprintf(r->url, sizeof r->url, "http://127.0.0.1:%d/v1", sim_port(r->sim));
    memset(&r->cfg, 0, sizeof r->cfg);
    r->cfg.url = r->url;
    r->cfg.prompt_chars = 200;
    r->cfg.max_tokens = 16;
    r->cfg.ignore_eos = true;
    r->cfg.temperature = -1;
    r->cfg.connect_timeout_s = 5;
    r->cfg.request_timeout_s = 30;
    r->cfg.drain_timeout_s = 10;
}

static void consume(run_ctx *r, const llm_event *ev)
{
    stats_consume(r->st, ev);
    if (ev->warmup) {
        r->warmup_ok += ev->kind == EV_REQUEST_DONE;
        return;
    }
    switch (ev->kind) {
    case EV_REQUEST_DONE:
        r->ok++;
        if (ev->step < 32)
            r->ok_in_seq[ev->step]++;
        break;
    case EV_REQUEST_FAILED:
        r->failed++;
        break;
    case EV_REQUEST_CUT:
        r->cut++;
        break;
    case EV_TOKENS:
        r->tokens += ev->u.tokens.count;
        break;
    case EV_STEP:
        if (r->steps < 32)
            r->step_evs[r->steps] = ev->u.step_change;
        r->steps++;
        break;
    case EV_WINDOW_END:
        r->window_ends++;
        break;
    case EV_PAUSE:
        r->pauses++;
        break;
    case EV_RESUME:
        r->resumes++;
        break;
    default:
        break;
    }
}

static engine *start_engine(run_ctx *r, long threads)
{
    char err[256];
    r->cfg.threads = threads;
    r->st = malloc(sizeof *r->st);
    assert_non_null(r->st);
    stats_init(r->st, llm_now_ns(), NULL);
    assert_int_equal(plan_build(&r->cfg, &r->plan, err, sizeof err), 0);
    engine *e = NULL;
    if (engine_start(&r->cfg, &r->plan, NULL, &e, err, sizeof err) != 0)
        fail_msg("engine_start: %s", err);
    return e;
}

static void drain(run_ctx *r, engine *e)
{
    llm_event evs[64]; /* smaller than the shards' batches: the merge runs in parts */
    size_t n;
    while ((n = engine_poll(e, evs, 64)) > 0)
        for (size_t i = 0; i < n; i++)
            consume(r, &evs[i]);
}

/* Drains for s seconds (or until the engine finishes). */
static void run_for(run_ctx *r, engine *e, double s)
{
    uint64_t until = llm_now_ns() + (uint64_t)(s * 1e9);
    while (llm_now_ns() < until && !engine_finished(e)) {
        drain(r, e);
        usleep(2000);
    }
    drain(r, e);
}

static void run_to_end(run_ctx *r, engine *e, double limit_s)
{
    run_for(r, e, limit_s);
    if (!engine_finished(e))
        fail_msg("run did not finish within %.0f s", limit_s);
    drain(r, e);
}

static void finish(run_ctx *r, engine *e)
{
    engine_destroy(e);
    stats_free(r->st);
    free(r->st);
    plan_free(&r->plan);
    sim_stop(r->sim);
}

static size_t collect(char *p, size_t size, size_t n, void *user)
{
    char *buf = user;
    size_t have = strlen(buf), add = size * n;
    if (have + add >= 32768)
        add = 32767 - have;
    memcpy(buf + have, p, add);
    buf[have + add] = '\0';
    return size * n;
}

/* One counter of the simulator's /metrics page. */
static long long sim_counter(run_ctx *r, const char *name)
{
    static char page[32768];
    char url[96];
    page[0] = '\0';
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", sim_port(r->sim));
    CURL *c = curl_easy_init();
    assert_non_null(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, page);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_cleanup(c);
    char key[128];
    snprintf(key, sizeof key, "\n%s ", name);
    const char *at = strstr(page, key);
    assert_non_null(at);
    return atoll(at + strlen(key));
}

static void totals_equal_the_servers_counters_with_2_and_3_threads(void **state)
{
    (void)state;
    for (long threads = 2; threads <= 3; threads++) {
        run_ctx *r = calloc(1, sizeof *r);
        start_sim(r, 3000, 0.001);
        r->cfg.concurrency = 6;
        r->cfg.requests = 60;
        engine *e = start_engine(r, threads);
        run_to_end(r, e, 60);
        engine_gauges g;
        engine_read_gauges(e, &g);
        assert_int_equal(r->ok, 60);
        assert_int_equal(r->failed, 0);
        assert_int_equal(r->tokens, 60 * 16);
        assert_int_equal(g.started, 60);
        assert_int_equal(g.lost_events, 0);
        assert_int_equal(r->steps, 1);
        assert_int_equal(r->window_ends, 1);
        assert_int_equal(sim_counter(r, "llmload_sim:requests_success_total"), 60);
        assert_int_equal(sim_counter(r, "llmload_sim:generation_tokens_total"), 60 * 16);
        const stats_agg *t = &r->st->totals;
        assert_int_equal(t->ok, 60);
        finish(r, e);
        free(r);
    }
}

/* One budget every shard draws from: 101 over 2 threads is 101, the warm-up's 3 too. */
static void n_101_over_2_threads_sends_exactly_101(void **state)
{
    (void)state;
    run_ctx *r = calloc(1, sizeof *r);
    start_sim(r, 4000, 0.001);
    r->cfg.concurrency = 4;
    r->cfg.requests = 101;
    r->cfg.warmup = 3;
    engine *e = start_engine(r, 2);
    run_to_end(r, e, 60);
    assert_int_equal(r->ok, 101);
    assert_int_equal(r->warmup_ok, 3);
    assert_int_equal(sim_counter(r, "llmload_sim:requests_total"), 104);
    finish(r, e);
    free(r);
}

/* -c 5 over 2 threads: 3 + 2 users, 5 in flight together (the server sees 5 too). */
static void five_users_over_2_threads_hold_5_in_flight(void **state)
{
    (void)state;
    run_ctx *r = calloc(1, sizeof *r);
    start_sim(r, 100, 0.001); /* 16 tokens at 100/s: 160 ms a request */
    r->cfg.concurrency = 5;
    r->cfg.duration_s = 1.5;
    engine *e = start_engine(r, 2);
    uint32_t most = 0;
    long at5 = 0, samples = 0;
    uint64_t until = llm_now_ns() + 1200 * LLM_NS_PER_MS;
    usleep(200 * 1000);
    while (llm_now_ns() < until) {
        drain(r, e);
        engine_gauges g;
        engine_read_gauges(e, &g);
        assert_int_equal(g.target, 5);
        if (g.inflight > most)
            most = g.inflight;
        at5 += g.inflight == 5;
        samples++;
        long running = sim_counter(r, "llmload_sim:requests_running");
        assert_true(running <= 5);
        usleep(20 * 1000);
    }
    run_to_end(r, e, 30);
    assert_int_equal(most, 5);
    assert_true(at5 * 10 >= samples * 7); /* 5 in flight most of the time */
    assert_int_equal(r->steps, 1);
    assert_int_equal(r->step_evs[0].concurrency, 5);
    assert_int_equal(r->failed, 0);
    finish(r, e);
    free(r);
}

/* Rate 60/s over 2 threads (30/s each, constant spacing) for 2 s: 120 arrivals. */
static void a_rate_over_2_threads_keeps_its_total(void **state)
{
    (void)state;
    run_ctx *r = calloc(1, sizeof *r);
    start_sim(r, 4000, 0.001);
    r->cfg.rate = 60;
    r->cfg.arrivals = LLM_ARRIVALS_CONSTANT;
    r->cfg.duration_s = 2;
    r->cfg.max_inflight = 32;
    engine *e = start_engine(r, 2);
    run_to_end(r, e, 30);
    print_message("rate: %ld requests in 2 s at 60/s over 2 threads\n", r->ok);
    assert_true(r->ok >= 116 && r->ok <= 122);
    assert_int_equal(r->failed, 0);
    assert_int_equal(r->step_evs[0].concurrency, 32);
    assert_true(r->step_evs[0].rate == 60);
    finish(r, e);
    free(r);

    /* Poisson: the union of two streams at 30/s is 60/s (±4 sd of 120 arrivals) */
    r = calloc(1, sizeof *r);
    start_sim(r, 4000, 0.001);
    r->cfg.rate = 60;
    r->cfg.duration_s = 2;
    r->cfg.max_inflight = 32;
    e = start_engine(r, 2);
    run_to_end(r, e, 30);
    print_message("poisson: %ld requests in 2 s at 60/s over 2 threads\n", r->ok);
    assert_true(r->ok >= 120 - 44 && r->ok <= 120 + 44);
    finish(r, e);
    free(r);
}

/* `+` reaches every shard: 2 users become 6 (3 + 3), one manual step; a pause stops every
 * shard (one EV_PAUSE), a resume starts them again; stop ends them all. */
static void target_pause_and_stop_reach_every_shard(void **state)
{
    (void)state;
    run_ctx *r = calloc(1, sizeof *r);
    start_sim(r, 100, 0.001);
    r->cfg.concurrency = 2;
    r->cfg.duration_s = 30;
    engine *e = start_engine(r, 2);
    run_for(r, e, 0.3);
    assert_true(engine_send(e, (engine_cmd){.kind = ENGINE_CMD_ADJUST_TARGET, .value = 4}));
    run_for(r, e, 0.5);
    engine_gauges g;
    engine_read_gauges(e, &g);
    assert_int_equal(g.target, 6);
    assert_int_equal(g.inflight, 6); /* only the leader's 3 + the follower's 1 = 4 otherwise */
    assert_true(g.manual);
    assert_int_equal(r->steps, 2);
    assert_int_equal(r->step_evs[1].concurrency, 6);
    assert_true(r->step_evs[1].manual);

    assert_true(engine_send(e, (engine_cmd){.kind = ENGINE_CMD_PAUSE}));
    run_for(r, e, 0.5); /* 160 ms requests: those in flight end */
    engine_read_gauges(e, &g);
    assert_int_equal(g.state, ENGINE_PAUSED);
    assert_int_equal(g.inflight, 0);
    long long seen = sim_counter(r, "llmload_sim:requests_total");
    run_for(r, e, 0.4);
    assert_int_equal(sim_counter(r, "llmload_sim:requests_total"), seen); /* no shard sends */
    assert_int_equal(r->pauses, 1);
    assert_true(engine_send(e, (engine_cmd){.kind = ENGINE_CMD_RESUME}));
    run_for(r, e, 0.4);
    engine_read_gauges(e, &g);
    assert_int_equal(g.inflight, 6);
    assert_int_equal(r->resumes, 1);

    uint64_t t0 = llm_now_ns();
    assert_true(engine_send(e, (engine_cmd){.kind = ENGINE_CMD_STOP}));
    run_to_end(r, e, 5);
    assert_true(llm_now_ns() - t0 < LLM_NS_PER_SEC);
    engine_read_gauges(e, &g);
    assert_int_equal(g.inflight, 0);
    assert_int_equal(r->cut, 6); /* both shards' requests were cut */
    assert_int_equal(g.cancelled, 6);
    assert_int_equal(r->window_ends, 1);
    finish(r, e);
    free(r);
}

/* A ramp of count-bounded steps over 3 threads: one EV_STEP and one window end per step, each
 * step's budget exact; then `n` on duration steps moves every shard on, and the last step
 * drains. */
static void steps_next_and_drain_over_3_threads(void **state)
{
    (void)state;
    run_ctx *r = calloc(1, sizeof *r);
    start_sim(r, 3000, 0.001);
    r->cfg.ramp_start = 3;
    r->cfg.ramp_end = 9;
    r->cfg.ramp_step = 3;
    r->cfg.step_requests = 30;
    engine *e = start_engine(r, 3);
    run_to_end(r, e, 60);
    assert_int_equal(r->steps, 3);
    assert_int_equal(r->window_ends, 1); /* each EV_STEP closes the last window; the run's end */
    for (int k = 0; k < 3; k++) {
        assert_int_equal(r->step_evs[k].index, k);
        assert_int_equal(r->step_evs[k].concurrency, 3 * (k + 1));
        assert_int_equal(r->ok_in_seq[k], 30);
        assert_int_equal(stats_step(r->st, (uint32_t)k)->ok, 30);
    }
    finish(r, e);
    free(r);

    r = calloc(1, sizeof *r);
    start_sim(r, 50, 0.001); /* 16 tokens at 50/s: 320 ms a request */
    r->cfg.ramp_start = 3;
    r->cfg.ramp_end = 6;
    r->cfg.ramp_step = 3;
    r->cfg.step_duration_s = 30;
    engine *e2 = start_engine(r, 3);
    run_for(r, e2, 0.5);
    assert_int_equal(r->steps, 1);
    assert_true(engine_send(e2, (engine_cmd){.kind = ENGINE_CMD_NEXT_STEP}));
    run_for(r, e2, 0.6);
    engine_gauges g;
    engine_read_gauges(e2, &g);
    assert_int_equal(r->steps, 2);
    assert_int_equal(g.step, 1);
    assert_int_equal(g.target, 6);
    assert_int_equal(g.inflight, 6);
    /* `n` on the last step: the load ends, what is in flight on every shard finishes */
    assert_true(engine_send(e2, (engine_cmd){.kind = ENGINE_CMD_NEXT_STEP}));
    run_to_end(r, e2, 5);
    assert_int_equal(r->window_ends, 1);
    assert_int_equal(r->cut, 0);
    assert_int_equal(r->failed, 0);
    engine_read_gauges(e2, &g);
    assert_int_equal(g.started, (uint64_t)r->ok);
    finish(r, e2);
    free(r);
}

static void threads_are_bounded_by_the_users(void **state)
{
    (void)state;
    llm_config cfg;
    memset(&cfg, 0, sizeof cfg);
    plan p;
    char err[256];
    cfg.concurrency = 2;
    cfg.requests = 10;
    assert_int_equal(plan_build(&cfg, &p, err, sizeof err), 0);
    cfg.threads = 8;
    assert_int_equal(engine_threads_for(&cfg, &p), 2);
    cfg.threads = 0;
    assert_int_equal(engine_threads_for(&cfg, &p), 1);
    cfg.threads = -1; /* auto: the cores but one, at least 1 */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long want = cores > 1 ? cores - 1 : 1;
    assert_int_equal(engine_threads_for(&cfg, &p), want < 2 ? want : 2);
    plan_free(&p);
}

static void bad_thread_counts_are_refused_in_one_sentence(void **state)
{
    (void)state;
    const char *bad[] = {"0", "abc", "-2", "257", "1.5"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *argv[] = {LLM_BINARY,  "--no-tui",     "--url", "http://127.0.0.1:9/v1",
                        "--threads", (char *)bad[i], NULL};
        tu_result res;
        tu_run(argv, NULL, NULL, 20, &res);
        assert_int_equal(res.exit_code, 2);
        assert_non_null(strstr(res.err, "--threads"));
        assert_non_null(strstr(res.err, "1 to 256, or auto"));
        assert_null(strchr(res.err, '\n') == res.err + res.err_len - 1 ? NULL : "two lines");
        tu_result_free(&res);
    }
    char *search[] = {LLM_BINARY,  "--no-tui", "--url",    "http://127.0.0.1:9/v1",
                      "--threads", "2",        "--search", NULL};
    tu_result res;
    tu_run(search, NULL, NULL, 20, &res);
    assert_int_equal(res.exit_code, 2);
    assert_non_null(strstr(res.err, "--search"));
    tu_result_free(&res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(totals_equal_the_servers_counters_with_2_and_3_threads),
        cmocka_unit_test(n_101_over_2_threads_sends_exactly_101),
        cmocka_unit_test(five_users_over_2_threads_hold_5_in_flight),
        cmocka_unit_test(a_rate_over_2_threads_keeps_its_total),
        cmocka_unit_test(target_pause_and_stop_reach_every_shard),
        cmocka_unit_test(steps_next_and_drain_over_3_threads),
        cmocka_unit_test(threads_are_bounded_by_the_users),
        cmocka_unit_test(bad_thread_counts_are_refused_in_one_sentence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
