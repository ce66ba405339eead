/* Tests for engine: the closed loop against the built-in simulator — exact token counts,
 * TTFT against the injected value, capacity, fault classes, live concurrency changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
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
    /* what the run produced */
    long ok, failed, tokens_events, steps, steps_ended;
    long by_class[ERR_CLASSES];
    char last_msg[ERR_CLASSES][96];
    ev_done done[4096];
    uint32_t done_step[4096];
    size_t n_done;
    uint64_t first_t0, last_end;
    long cut, warmup_done;
    uint64_t last_warmup_end, first_step_t, first_resume_t;
    ev_step step_evs[64]; /* every EV_STEP, in order */
    size_t n_step_evs;
    stats *st; /* the same events folded as the session does */
    long reconnects, new_conns, server_ids;
    uint64_t reconnect_lost_us;
    ev_server_id server_id;
} run_ctx;

static void start_sim(run_ctx *r, sim_options *o)
{
    char err[256];
    o->quiet = true;
    o->port = 0; /* any free port: tests run in parallel */
    assert_int_equal(sim_start(o, &r->sim, err, sizeof err), 0);
    snprintf(r->url, sizeof r->url, "http://127.0.0.1:%d/v1", sim_port(r->sim));
}

static void base_config(run_ctx *r, long concurrency, long requests)
{
    memset(&r->cfg, 0, sizeof r->cfg);
    r->cfg.url = r->url;
    r->cfg.concurrency = concurrency;
    r->cfg.requests = requests;
    r->cfg.prompt_chars = 400;
    r->cfg.max_tokens = 16;
    r->cfg.ignore_eos = true;
    r->cfg.temperature = -1;
    r->cfg.connect_timeout_s = 5;
    r->cfg.request_timeout_s = 30;
}

static void consume(run_ctx *r, const llm_event *ev)
{
    if (r->st)
        stats_consume(r->st, ev);
    if (ev->warmup) {
        if (ev->kind == EV_REQUEST_DONE) {
            r->warmup_done++;
            if (ev->t_ns > r->last_warmup_end)
                r->last_warmup_end = ev->t_ns;
        }
        return;
    }
    switch (ev->kind) {
    case EV_REQUEST_CUT:
        r->cut++;
        break;
    case EV_REQUEST_DONE:
        r->ok++;
        r->reconnects += ev->u.done.reconnects;
        r->reconnect_lost_us += ev->u.done.reconnect_lost_us;
        r->new_conns += ev->u.done.new_conn;
        if (r->n_done < 4096) {
            r->done_step[r->n_done] = ev->step;
            r->done[r->n_done++] = ev->u.done;
        }
        if (!r->first_t0 || ev->u.done.t0_ns < r->first_t0)
            r->first_t0 = ev->u.done.t0_ns;
        if (ev->t_ns > r->last_end)
            r->last_end = ev->t_ns;
        break;
    case EV_REQUEST_FAILED:
        r->failed++;
        r->by_class[ev->u.failed.err_class]++;
        memcpy(r->last_msg[ev->u.failed.err_class], ev->u.failed.message, 96);
        break;
    case EV_TOKENS:
        r->tokens_events += ev->u.tokens.count;
        break;
    case EV_STEP:
        r->steps++;
        if (!r->first_step_t)
            r->first_step_t = ev->t_ns;
        if (r->n_step_evs < 64)
            r->step_evs[r->n_step_evs++] = ev->u.step_change;
        break;
    case EV_STEP_END:
        r->steps_ended++;
        break;
    case EV_RESUME:
        if (!r->first_resume_t)
            r->first_resume_t = ev->t_ns;
        break;
    case EV_SERVER_ID:
        r->server_ids++;
        r->server_id = ev->u.server_id;
        break;
    }
}

static engine *start_engine(run_ctx *r)
{
    char err[256];
    r->st = malloc(sizeof *r->st);
    assert_non_null(r->st);
    stats_init(r->st, llm_now_ns(), NULL);
    assert_int_equal(plan_build(&r->cfg, &r->plan, err, sizeof err), 0);
    engine *e = NULL;
    int rc = engine_start(&r->cfg, &r->plan, NULL, &e, err, sizeof err);
    if (rc != 0)
        fail_msg("engine_start: %s", err);
    return e;
}

static void drain(run_ctx *r, engine *e)
{
    llm_event evs[256];
    size_t n;
    while ((n = engine_poll(e, evs, 256)) > 0)
        for (size_t i = 0; i < n; i++)
            consume(r, &evs[i]);
}

/* Runs until the engine finishes or `limit_s` passes (then fails the test). */
static void run_to_end(run_ctx *r, engine *e, double limit_s)
{
    uint64_t deadline = llm_now_ns() + (uint64_t)(limit_s * 1e9);
    while (!engine_finished(e)) {
        drain(r, e);
        if (llm_now_ns() > deadline)
            fail_msg("run did not finish within %.0f s", limit_s);
        usleep(2000);
    }
    drain(r, e);
}

static void finish(run_ctx *r, engine *e)
{
    engine_destroy(e);
    if (r->st) {
        stats_free(r->st);
        free(r->st);
        r->st = NULL;
    }
    plan_free(&r->plan);
    sim_stop(r->sim);
}

/* Starts the engine on r's config, runs it to its end and tears it down: the wall seconds. */
static double run_whole(run_ctx *r, double limit_s)
{
    uint64_t t0 = llm_now_ns();
    engine *e = start_engine(r);
    run_to_end(r, e, limit_s);
    double wall_s = (double)(llm_now_ns() - t0) / 1e9;
    finish(r, e);
    return wall_s;
}

static void token_counts_equal_the_servers_usage(void **state)
{
    (void)state;
    run_ctx *r = calloc(1, sizeof *r);
    sim_options o;
    sim_options_default(&o);
    o.slots = 8;
    o.decode_rate = 2000;
    o.base_latency_s = 0.001;
    start_sim(r, &o);
    base_config(r, 4, 40);
    engine *e = start_engine(r);
    run_to_end(r, e, 30);
    assert_int_equal(r->ok, 40);
    assert_int_equal(r->failed, 0);
    assert_int_equal(r->steps, 1);
    for (size_t i = 0; i < r->n_done; i++) {
        assert_int_equal(r->done[i].output_tokens, 16);
        assert_int_equal(r->done[i].content_events, 16);
        assert_true(r->done[i].usage_reported);
        assert_false(r->done[i].prompt_estimated);
        /* the sim's word pieces count more than llmload's 400 chars / 4 */
        assert_true(r->done[i].prompt_tokens > 100);
        assert_true(r->done[i].ttft_ns > 0 && r->done[i].ttft_ns <= r->done[i].e2e_ns);
        assert_true(r->done[i].ttfb_ns > 0 && r->done[i].ttfb_ns <= r->done[i].ttft_ns);
    }
    assert_int_equal(r->tokens_events, 40 * 16);
    finish(r, e);
    free(r);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void ttft_is_at_least_the_injected_value_and_close_to_it(void **state)
{
    (void)state;
    run_ctx *r = calloc(1, sizeof *r);
    sim_options o;
    sim_options_default(&o);
    o.slots = 4;
    o.base_latency_s = 0.050;
    o.prefill_rate = 10000; /* 100 prompt tokens => 10 ms */
    o.decode_rate = 1000;
    start_sim(r, &o);
    base_config(r, 1, 15);
    engine *e = start_engine(r);
    run_to_end(r, e, 30);
    assert_int_equal(r->ok, 15);
    uint64_t ttft[15];
    for (size_t i = 0; i < 15; i++) {
        ttft[i] = r->done[i].ttft_ns;
        assert_true(ttft[i] >= 60 * LLM_NS_PER_MS); /* never below what the sim injected */
    }
    qsort(ttft, 15, sizeof ttft[0], cmp_u64);
    double median_ms = (double)ttft[7] / 1e6;
    print_message("TTFT median %.2f ms (injected 60 ms)\n", median_ms);
    assert_true(median_ms < 60 + 8); /* a few ms of client + loopback overhead at most */
    finish(r, e);
    free(r);
}

static void rps_and_tps_match_the_capacity_model(void **state)
{
    (void)state;
    run_ctx *r = calloc(1, sizeof *r);
    sim_options o;
    sim_options_default(&o);
    o.slots = 16;
    o.base_latency_s = 0.020;
    o.prefill_rate = 1e9;
    o.decode_rate = 400;
    o.batch_penalty = 0;
    start_sim(r, &o);
    base_config(r, 4, 80);
    r->cfg.max_tokens = 20;
    engine *e = start_engine(r);
    run_to_end(r, e, 60);
    assert_int_equal(r->ok, 80);
    /* Each request: 20 ms to the first token, then 19 more at 400/s = 47.5 ms. */
    double service_s = 0.020 + 19.0 / 400;
    double want_rps = 4 / service_s;
    double span_s = (double)(r->last_end - r->first_t0) / 1e9;
    double rps = r->ok / span_s, tps = r->ok * 20 / span_s;
    print_message("rps %.2f (model %.2f), tps %.1f (model %.1f)\n", rps, want_rps, tps,
                  want_rps * 20);
    assert_true(fabs(rps - want_rps) / want_rps < 0.05);
    assert_true(fabs(tps - want_rps * 20) / (want_rps * 20) < 0.05);
    finish(r, e);
    free(r);
}

static void fault_run(sim_options *o, run_ctx *r)
{
    start_sim(r, o);
    base_config(r, 4, 20);
    r->cfg.max_tokens = 30;
    engine *e = start_engine(r);
    run_to_end(r, e, 60);
    finish(r, e);
}

static void each_fault_lands_in_its_error_class(void **state)
{
    (void)state;
    sim_options o;
    run_ctx *r = calloc(1, sizeof *r);

    sim_options_default(&o);
    o.decode_rate = 3000;
    o.cut_rate_pct = 100;
    fault_run(&o, r);
    assert_int_equal(r->by_class[ERR_STREAM], 20);
    assert_int_equal(r->ok, 0);
    print_message("cut: %s\n", r->last_msg[ERR_STREAM]);

    memset(r, 0, sizeof *r);
    sim_options_default(&o);
    o.decode_rate = 3000;
    o.malformed_rate_pct = 100;
    fault_run(&o, r);
    assert_int_equal(r->by_class[ERR_STREAM], 20);
    assert_non_null(strstr(r->last_msg[ERR_STREAM], "malformed"));

    memset(r, 0, sizeof *r);
    sim_options_default(&o);
    o.decode_rate = 3000;
    o.error_rate_pct = 100;
    fault_run(&o, r);
    assert_int_equal(r->by_class[ERR_HTTP_429] + r->by_class[ERR_HTTP_5XX], 20);
    assert_true(r->by_class[ERR_HTTP_429] > 0 && r->by_class[ERR_HTTP_5XX] > 0);

    memset(r, 0, sizeof *r);
    sim_options_default(&o);
    o.decode_rate = 3000;
    snprintf(o.api_key, sizeof o.api_key, "sk-test-secret-key-123456");
    fault_run(&o, r);
    assert_int_equal(r->by_class[ERR_HTTP_4XX], 20);
    assert_null(strstr(r->last_msg[ERR_HTTP_4XX], "secret-key"));

    memset(r, 0, sizeof *r);
    sim_options_default(&o);
    o.decode_rate = 50;
    o.stall_rate_pct = 100;
    o.stall_s = 3;
    start_sim(r, &o);
    base_config(r, 2, 2);
    r->cfg.request_timeout_s = 0.8;
    engine *e = start_engine(r);
    run_to_end(r, e, 30);
    finish(r, e);
    assert_int_equal(r->by_class[ERR_TIMEOUT], 2);
    assert_string_equal(r->last_msg[ERR_TIMEOUT],
                        "the answer did not end within 0.8 s (--request-timeout)");

    /* Slow headers: TTFB waits for them; --ttft-timeout turns them into timeouts. */
    memset(r, 0, sizeof *r);
    sim_options_default(&o);
    o.decode_rate = 3000;
    o.slow_headers_s = 0.3;
    start_sim(r, &o);
    base_config(r, 2, 4);
    e = start_engine(r);
    run_to_end(r, e, 30);
    finish(r, e);
    assert_int_equal(r->ok, 4);
    for (size_t i = 0; i < r->n_done; i++)
        assert_true(r->done[i].ttfb_ns >= 300 * LLM_NS_PER_MS);

    memset(r, 0, sizeof *r);
    start_sim(r, &o);
    base_config(r, 2, 4);
    r->cfg.ttft_timeout_s = 0.1;
    e = start_engine(r);
    run_to_end(r, e, 30);
    finish(r, e);
    assert_int_equal(r->by_class[ERR_TIMEOUT], 4);
    assert_string_equal(r->last_msg[ERR_TIMEOUT], "no first token within 0.1 s (--ttft-timeout)");
    free(r);
}

/* A loopback listener with a backlog of one that nobody accepts from (*a: its address). */
static int listen_loopback(struct sockaddr_in *a)
{
    *a = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof *a;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(lfd >= 0);
    assert_int_equal(bind(lfd, (struct sockaddr *)a, sizeof *a), 0);
    assert_int_equal(listen(lfd, 0), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)a, &alen), 0);
    return lfd;
}

/* More connections than the backlog holds: the next SYN to a goes unanswered. */
static void fill_backlog(int fill[4], const struct sockaddr_in *a)
{
    for (int i = 0; i < 4; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fill[i] >= 0)
            (void)connect(fill[i], (const struct sockaddr *)a, sizeof *a);
    }
}

static void close_backlog(int lfd, int fill[4])
{
    for (int i = 0; i < 4; i++)
        if (fill[i] > 0)
            close(fill[i]);
    close(lfd);
}

/* A listener that never accepts, its backlog full: the engine's SYN goes unanswered, and the
 * request fails at --connect-timeout (the engine's own deadline), not at --request-timeout. */
static void an_unanswered_connect_fails_at_the_connect_timeout(void **state)
{
    (void)state;
    run_ctx *r = calloc(1, sizeof *r);
    struct sockaddr_in a;
    int fill[4], lfd = listen_loopback(&a);
    fill_backlog(fill, &a);
    snprintf(r->url, sizeof r->url, "http://127.0.0.1:%d/v1", ntohs(a.sin_port));
    base_config(r, 1, 2);
    r->cfg.connect_timeout_s = 0.4;
    r->cfg.request_timeout_s = 20;
    double wall_s = run_whole(r, 30);
    close_backlog(lfd, fill);
    print_message("timeouts %ld in %.2f s: %s\n", r->by_class[ERR_TIMEOUT], wall_s,
                  r->last_msg[ERR_TIMEOUT]);
    assert_int_equal(r->by_class[ERR_TIMEOUT], 2);
    assert_string_equal(r->last_msg[ERR_TIMEOUT], "not connected within 0.4 s (--connect-timeout)");
    assert_true(wall_s > 0.7 && wall_s < 5); /* two requests one after the other, 0.4 s each */
    free(r);
}

/* Answers one request on a kept-alive connection, then fills its own backlog and closes
 * that connection when the second request comes: curl re-sends on a fresh connection by
 * itself, and that connect gets no answer. */
typedef struct {
    int lfd, fill[4];
    struct sockaddr_in addr;
} dying_server;

static void read_request(int c)
{
    char buf[16384];
    size_t got = 0;
    long body = -1;
    char *end = NULL;
    while (got < sizeof buf - 1) {
        ssize_t n = read(c, buf + got, sizeof buf - 1 - got);
        if (n <= 0)
            return;
        got += (size_t)n;
        buf[got] = '\0';
        if (!end && (end = strstr(buf, "\r\n\r\n")) != NULL) {
            const char *cl = strcasestr(buf, "content-length:");
            body = cl ? strtol(cl + 15, NULL, 10) : 0;
        }
        if (end && (long)(got - (size_t)(end + 4 - buf)) >= body)
            return;
    }
}

static void *dying_server_thread(void *arg)
{
    dying_server *d = arg;
    int c = accept(d->lfd, NULL, NULL);
    if (c < 0)
        return NULL;
    read_request(c);
    static const char sse[] =
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
        "data: [DONE]\n\n";
    char head[160];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     sizeof sse - 1);
    fill_backlog(d->fill, &d->addr); /* from now on no connection is taken */
    if (write(c, head, (size_t)n) != n ||
        write(c, sse, sizeof sse - 1) != (ssize_t)(sizeof sse - 1))
        return NULL;
    read_request(c); /* the second request, on the kept-alive connection: no answer */
    close(c);
    return NULL;
}

/* curl's own re-send on a fresh connection runs --connect-timeout anew (the engine sees the
 * new socket open), as curl's own timer did: not the 20 s --request-timeout. */
static void a_fresh_connection_curl_opens_itself_gets_the_connect_timeout(void **state)
{
    (void)state;
    run_ctx *r = calloc(1, sizeof *r);
    dying_server d = {.fill = {-1, -1, -1, -1}};
    d.lfd = listen_loopback(&d.addr);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, dying_server_thread, &d), 0);
    snprintf(r->url, sizeof r->url, "http://127.0.0.1:%d/v1", ntohs(d.addr.sin_port));
    base_config(r, 1, 2);
    r->cfg.connect_timeout_s = 0.4;
    r->cfg.request_timeout_s = 20;
    r->cfg.no_usage = true;
    double wall_s = run_whole(r, 40);
    pthread_join(th, NULL);
    close_backlog(d.lfd, d.fill);
    print_message("ok %ld timeouts %ld in %.2f s: %s\n", r->ok, r->by_class[ERR_TIMEOUT], wall_s,
                  r->last_msg[ERR_TIMEOUT]);
    long ok = r->ok, timeouts = r->by_class[ERR_TIMEOUT];
    bool said_connect = strstr(r->last_msg[ERR_TIMEOUT], "connect-timeout") != NULL;
    free(r);
    assert_int_equal(ok, 1);
    assert_int_equal(timeouts, 1);
    assert_true(said_connect);
    assert_true(wall_s < 5);
}

static void dead_server_is_a_connect_error(void **state)
{
    (void)state;
    run_ctx *r = calloc(1, sizeof *r);
    int holder, port = tu_refusing_port(&holder);
    assert_true(port > 0);
    snprintf(r->url, sizeof r->url, "http://127.0.0.1:%d/v1", port);
    base_config(r, 2, 4);
    engine *e = start_engine(r);
    run_to_end(r, e, 30);
    finish(r, e); /* no simulator: sim_stop(NULL) is a no-op */
    close(holder);
    assert_int_equal(r->by_class[ERR_CONNECT], 4);
    free(r);
}

static void concurrency_change_shows_in_flight_within_100ms(void **state)
{
    (void)state;
    run_ctx *r = calloc(1, sizeof *r);
    sim_options o;
    sim_options_default(&o);
    o.slots = 64;
    o.decode_rate = 20; /* long requests: in-flight stays at target */
    start_sim(r, &o);
    base_config(r, 2, 0);
    r->cfg.duration_s = 20;
    r->cfg.max_tokens = 200;
    engine *e = start_engine(r);
    engine_gauges g;
    uint64_t deadline = llm_now_ns() + 5 * LLM_NS_PER_SEC;
    do {
        usleep(5000);
        drain(r, e);
        engine_read_gauges(e, &g);
    } while (g.inflight != 2 && llm_now_ns() < deadline);
    assert_int_equal(g.inflight, 2);

    uint64_t t = llm_now_ns();
    assert_true(engine_send(e, (engine_cmd){.kind = ENGINE_CMD_SET_TARGET, .value = 12}));
    do {
        usleep(1000);
        drain(r, e);
        engine_read_gauges(e, &g);
    } while (g.inflight != 12 && llm_now_ns() - t < 100 * LLM_NS_PER_MS);
    assert_int_equal(g.inflight, 12);
    assert_true(g.manual);

    assert_true(engine_send(e, (engine_cmd){.kind = ENGINE_CMD_STOP}));
    run_to_end(r, e, 10);
    engine_read_gauges(e, &g);
    assert_int_equal(g.cancelled, 12);
    finish(r, e);
    free(r);
}

/* A pause stops the step's clock: a 1 s step paused for 0.6 s ends after about 1.6 s, and
 * the time left the engine publishes stands still meanwhile. */
static void pause_stops_the_step_clock(void **state)
{
    (void)state;
    run_ctx *r = calloc(1, sizeof *r);
    sim_options o;
    sim_options_default(&o);
    o.decode_rate = 20;
    start_sim(r, &o);
    base_config(r, 1, 0);
    r->cfg.duration_s = 1;
    r->cfg.max_tokens = 200;
    uint64_t t0 = llm_now_ns();
    engine *e = start_engine(r);
    engine_gauges g;
    usleep(200 * 1000);
    drain(r, e);
    assert_true(engine_send(e, (engine_cmd){.kind = ENGINE_CMD_PAUSE}));
    uint64_t deadline = llm_now_ns() + 5 * LLM_NS_PER_SEC;
    do {
        usleep(2000);
        engine_read_gauges(e, &g);
    } while (g.state != ENGINE_PAUSED && llm_now_ns() < deadline);
    assert_int_equal(g.state, ENGINE_PAUSED);
    usleep(50 * 1000); /* a few engine ticks, so the gauges were published while paused */
    engine_read_gauges(e, &g);
    uint64_t left_at_pause = g.step_left_ms;
    assert_true(left_at_pause > 0 && left_at_pause < 1000);
    usleep(600 * 1000);
    drain(r, e);
    engine_read_gauges(e, &g);
    assert_int_equal(g.state, ENGINE_PAUSED); /* the step did not end during the pause */
    assert_int_equal(g.step_left_ms, left_at_pause);
    assert_true(engine_send(e, (engine_cmd){.kind = ENGINE_CMD_RESUME}));
    run_to_end(r, e, 10);
    double took_s = (double)(llm_now_ns() - t0) / 1e9;
    assert_true(took_s >= 1.6 - 0.05);
    assert_true(took_s < 5);
    finish(r, e);
    free(r);
}

/* Sorted intended send times of the run's requests. */
static size_t sched_times(run_ctx *r, uint64_t *out)
{
    for (size_t i = 0; i < r->n_done; i++)
        out[i] = r->done[i].t_sched_ns;
    qsort(out, r->n_done, sizeof out[0], cmp_u64);
    return r->n_done;
}

static void rate_run(run_ctx *r, llm_arrivals arrivals, double rate, long requests)
{
    sim_options o;
    sim_options_default(&o);
    o.slots = 256;
    o.decode_rate = 4000;
    o.base_latency_s = 0.002;
    start_sim(r, &o);
    base_config(r, 1, requests);
    r->cfg.rate = rate;
    r->cfg.arrivals = arrivals;
    r->cfg.max_tokens = 8;
    engine *e = start_engine(r);
    run_to_end(r, e, 60);
    finish(r, e);
}

static void constant_rate_is_achieved_within_3_percent(void **state)
{
    (void)state;
    run_ctx *r = calloc(1, sizeof *r);
    rate_run(r, LLM_ARRIVALS_CONSTANT, 200, 600);
    assert_int_equal(r->ok, 600);
    uint64_t first = UINT64_MAX, last = 0, lag_max = 0;
    for (size_t i = 0; i < r->n_done; i++) {
        first = r->done[i].t0_ns < first ? r->done[i].t0_ns : first;
        last = r->done[i].t0_ns > last ? r->done[i].t0_ns : last;
        lag_max = r->done[i].send_lag_ns > lag_max ? r->done[i].send_lag_ns : lag_max;
    }
    double achieved = 599 / ((double)(last - first) / 1e9);
    print_message("achieved %.2f req/s (asked 200), max send lag %.2f ms\n", achieved,
                  (double)lag_max / 1e6);
    assert_true(fabs(achieved - 200) / 200 < 0.03);
    uint64_t *t = calloc(600, sizeof *t);
    sched_times(r, t);
    for (size_t i = 1; i < 600; i++) /* intended times exactly 5 ms apart */
        assert_true(t[i] - t[i - 1] >= 4999000 && t[i] - t[i - 1] <= 5001000);
    free(t);
    free(r);
}

static void poisson_gaps_look_exponential(void **state)
{
    (void)state;
    run_ctx *r = calloc(1, sizeof *r);
    rate_run(r, LLM_ARRIVALS_POISSON, 500, 1500);
    assert_int_equal(r->ok, 1500);
    uint64_t *t = calloc(1500, sizeof *t);
    size_t n = sched_times(r, t);
    double sum = 0, sq = 0;
    size_t below_mean = 0;
    for (size_t i = 1; i < n; i++) {
        double g = (double)(t[i] - t[i - 1]) / 1e6;
        sum += g;
        sq += g * g;
    }
    double mean = sum / (double)(n - 1), cv = sqrt(sq / (double)(n - 1) - mean * mean) / mean;
    for (size_t i = 1; i < n; i++)
        below_mean += (double)(t[i] - t[i - 1]) / 1e6 < mean;
    double frac = (double)below_mean / (double)(n - 1);
    print_message("mean gap %.3f ms (2.000 asked), CV %.3f (1 for exponential), "
                  "P(gap < mean) %.3f (0.632)\n",
                  mean, cv, frac);
    assert_true(fabs(mean - 2.0) / 2.0 < 0.08);
    assert_true(cv > 0.9 && cv < 1.1);
    assert_true(frac > 0.59 && frac < 0.68); /* 1 - 1/e for an exponential */
    free(t);
    free(r);
}

static void ramp_steps_count_exactly_and_honour_the_cooldown(void **state)
{
    (void)state;
    run_ctx *r = calloc(1, sizeof *r);
    sim_options o;
    sim_options_default(&o);
    o.slots = 16;
    o.decode_rate = 1000;
    start_sim(r, &o);
    base_config(r, 1, 0);
    r->cfg.ramp_start = 1;
    r->cfg.ramp_end = 4;
    r->cfg.ramp_step = 2;
    r->cfg.ramp_multiply = true;
    r->cfg.step_requests = 12;
    r->cfg.cooldown_s = 0.3;
    r->cfg.max_tokens = 10;
    engine *e = start_engine(r);
    run_to_end(r, e, 60);
    finish(r, e);
    assert_int_equal(r->steps, 3);
    int count[3] = {0};
    uint64_t first_start[3] = {UINT64_MAX, UINT64_MAX, UINT64_MAX}, last_end[3] = {0};
    for (size_t i = 0; i < r->n_done; i++) {
        uint32_t k = r->done_step[i];
        assert_true(k < 3);
        uint64_t t0 = r->done[i].t0_ns, end = t0 + r->done[i].e2e_ns;
        count[k]++;
        first_start[k] = t0 < first_start[k] ? t0 : first_start[k];
        last_end[k] = end > last_end[k] ? end : last_end[k];
    }
    for (int k = 0; k < 3; k++)
        assert_int_equal(count[k], 12); /* exactly --step-requests started in each step */
    for (int k = 1; k < 3; k++)         /* the step before drained, then the cooldown passed */
        assert_true(first_start[k] >= last_end[k - 1] + 300 * LLM_NS_PER_MS);
    free(r);
}

/* Waits (bounded) until the run has announced `n` ended steps. */
static void wait_steps_ended(run_ctx *r, engine *e, long n)
{
    uint64_t deadline = llm_now_ns() + 30 * LLM_NS_PER_SEC;
    while (r->steps_ended < n && llm_now_ns() < deadline) {
        drain(r, e);
        usleep(2000);
    }
    assert_int_equal(r->steps_ended, n);
}

/* A search step ends when its requests have; the engine then starts nothing until it is
 * told the next step (after the cool-down), and a cut (`n`) ends a step early. */
static void search_steps_wait_for_the_next_load(void **state)
{
    (void)state;
    run_ctx *r = calloc(1, sizeof *r);
    sim_options o;
    sim_options_default(&o);
    o.decode_rate = 1000;
    start_sim(r, &o);
    base_config(r, 2, 0);
    r->cfg.search = true;
    r->cfg.search_max = 8;
    r->cfg.step_requests = 6;
    r->cfg.cooldown_s = 0.2;
    r->cfg.max_tokens = 8;
    engine *e = start_engine(r);
    wait_steps_ended(r, e, 1);
    assert_int_equal(r->ok, 6);
    usleep(300 * 1000); /* waiting: nothing is sent */
    drain(r, e);
    engine_gauges g;
    engine_read_gauges(e, &g);
    assert_int_equal(g.started, 6);
    assert_int_equal(g.inflight, 0);
    assert_int_equal(g.n_steps, 1);
    assert_int_equal(r->steps_ended, 1);

    long k = plan_add_probe(&r->plan, 3); /* the controlling thread writes, then tells */
    assert_int_equal(k, 1);
    uint64_t told = llm_now_ns();
    assert_true(engine_send(e, (engine_cmd){.kind = ENGINE_CMD_PROBE, .value = k}));
    wait_steps_ended(r, e, 2);
    assert_int_equal(r->steps, 2);
    assert_int_equal(r->ok, 12);
    for (size_t i = 6; i < r->n_done; i++) { /* after the 0.2 s cool-down */
        assert_int_equal(r->done_step[i], 1);
        assert_true(r->done[i].t0_ns >= told + 200 * LLM_NS_PER_MS);
    }

    /* a third step with no request bound but a long one, cut short at once */
    k = plan_add_probe(&r->plan, 4);
    r->plan.steps[k].requests = 100000;
    assert_true(engine_send(e, (engine_cmd){.kind = ENGINE_CMD_PROBE, .value = k}));
    usleep(250 * 1000);
    assert_true(engine_send(e, (engine_cmd){.kind = ENGINE_CMD_NEXT_STEP}));
    wait_steps_ended(r, e, 3);
    assert_true(r->ok < 12 + 1000);
    engine_read_gauges(e, &g);
    assert_int_equal(g.n_steps, 3);
    assert_int_equal(g.inflight, 0);
    assert_true(engine_send(e, (engine_cmd){.kind = ENGINE_CMD_STOP}));
    run_to_end(r, e, 10);
    assert_int_equal(r->failed, 0);
    finish(r, e);
    free(r);
}

/* Waits for the engine's state (failing after 5 s). */
static void wait_state(engine *e, run_ctx *r, engine_state want)
{
    engine_gauges g;
    uint64_t deadline = llm_now_ns() + 5 * LLM_NS_PER_SEC;
    do {
        usleep(2000);
        drain(r, e);
        engine_read_gauges(e, &g);
    } while (g.state != want && llm_now_ns() < deadline);
    assert_int_equal(g.state, want);
}

/* Issue 16: the engine publishes the time left in a cool-down (the dashboard's remaining
 * time counts it down); it stands still while paused and is 0 outside one. */
static void cooldown_time_left_counts_down_and_stands_still_while_paused(void **state)
{
    (void)state;
    run_ctx *r = calloc(1, sizeof *r);
    sim_options o;
    sim_options_default(&o);
    o.decode_rate = 1000;
    start_sim(r, &o);
    base_config(r, 1, 0);
    r->cfg.ramp_start = 1;
    r->cfg.ramp_end = 2;
    r->cfg.ramp_step = 1;
    r->cfg.step_duration_s = 0.3;
    r->cfg.cooldown_s = 1.5;
    r->cfg.max_tokens = 4;
    engine *e = start_engine(r);
    engine_gauges g;
    engine_read_gauges(e, &g);
    assert_int_equal(g.cooldown_left_ms, 0); /* no cool-down while the step runs */
    wait_state(e, r, ENGINE_COOLDOWN);
    engine_read_gauges(e, &g);
    uint64_t first = g.cooldown_left_ms;
    assert_true(first > 0 && first <= 1500);
    usleep(300 * 1000);
    drain(r, e);
    engine_read_gauges(e, &g);
    assert_int_equal(g.state, ENGINE_COOLDOWN);
    assert_true(g.cooldown_left_ms < first && g.cooldown_left_ms > 0);
    assert_true(engine_send(e, (engine_cmd){.kind = ENGINE_CMD_PAUSE}));
    wait_state(e, r, ENGINE_PAUSED);
    usleep(50 * 1000); /* a few ticks: the gauges were published while paused */
    engine_read_gauges(e, &g);
    uint64_t held = g.cooldown_left_ms;
    assert_true(held > 0);
    usleep(400 * 1000);
    drain(r, e);
    engine_read_gauges(e, &g);
    assert_int_equal(g.cooldown_left_ms, held);
    assert_true(engine_send(e, (engine_cmd){.kind = ENGINE_CMD_RESUME}));
    wait_state(e, r, ENGINE_RUNNING); /* the cool-down ran out: step 2 */
    engine_read_gauges(e, &g);
    assert_int_equal(g.step, 1);
    assert_int_equal(g.cooldown_left_ms, 0);
    run_to_end(r, e, 10);
    finish(r, e);
    free(r);
}

/* Issue 11, defect 2: a pause counted as working time, so RPS halved after a pause. The
 * window stands still while paused: a 1 s step paused for 1.5 s has a 1 s window and the
 * throughput of an unpaused second. */
static void a_pause_is_outside_the_step_window(void **state)
{
    (void)state;
    run_ctx *r = calloc(1, sizeof *r);
    sim_options o;
    sim_options_default(&o);
    o.decode_rate = 200;
    o.batch_penalty = 0;
    o.base_latency_s = 0.005;
    start_sim(r, &o);
    base_config(r, 2, 0);
    r->cfg.duration_s = 1.2;
    r->cfg.max_tokens = 10; /* 50 ms a request */
    r->cfg.drain_timeout_s = 5;
    uint64_t t0 = llm_now_ns();
    engine *e = start_engine(r);
    usleep(400 * 1000);
    assert_true(engine_send(e, (engine_cmd){.kind = ENGINE_CMD_PAUSE}));
    wait_state(e, r, ENGINE_PAUSED);
    usleep(1500 * 1000);
    assert_true(engine_send(e, (engine_cmd){.kind = ENGINE_CMD_RESUME}));
    run_to_end(r, e, 20);
    double wall = (double)(llm_now_ns() - t0) / 1e9;
    double window = stats_agg_window_s(&r->st->totals);
    double tps = stats_agg_tps(&r->st->totals);
    double in_window = stats_agg_window_tokens(&r->st->totals);
    print_message("wall %.2f s, window %.3f s, tps %.1f, tokens %.0f of %ld in the window\n", wall,
                  window, tps, in_window, r->tokens_events);
    assert_true(wall > 2.6);
    assert_true(fabs(window - 1.2) < 0.08);
    /* Outside the window are only the tokens of the two requests in flight when the pause
     * began and of the two drained at the end: 10 tokens each at most. */
    assert_true(in_window >= (double)r->tokens_events - 40);
    assert_true(in_window < (double)r->tokens_events);
    finish(r, e);
    free(r);
}

/* Issue 11, defect 3: step 1 began when the last warm-up request was sent, not done, so
 * warm-up requests ran inside its window. Then step 1 waited for every warm-up request to
 * end with its users idle, and began in one burst (10,000 streams: the load drained to
 * nothing for 40 s). Now step 1's users go on as soon as the warm-up's requests are all
 * sent, and its window (and clock) opens when the last of them ended. */
static void step_one_opens_when_the_warmup_requests_have_ended(void **state)
{
    (void)state;
    run_ctx *r = calloc(1, sizeof *r);
    sim_options o;
    sim_options_default(&o);
    o.decode_rate = 100;
    start_sim(r, &o);
    base_config(r, 4, 8);
    r->cfg.warmup = 6;
    r->cfg.max_tokens = 20; /* ~200 ms a request */
    engine *e = start_engine(r);
    run_to_end(r, e, 30);
    assert_int_equal(r->warmup_done, 6);
    assert_int_equal(r->ok, 8);
    assert_true(r->first_step_t < r->last_warmup_end); /* the users did not wait ... */
    assert_true(r->first_t0 < r->last_warmup_end);
    assert_true(r->first_resume_t >= r->last_warmup_end); /* ... the window did */
    assert_int_equal(r->st->totals.ok, 8);
    /* the window holds step 1's tokens and none of the warm-up's: 8 x 20 at most */
    assert_true(r->st->steps[0].win_events > 0 && r->st->steps[0].win_events <= 8 * 20);
    finish(r, e);
    free(r);
}

/* `n` during the warm-up ends the warm-up; it does not skip step 1. */
static void next_during_the_warmup_starts_step_one(void **state)
{
    (void)state;
    run_ctx *r = calloc(1, sizeof *r);
    sim_options o;
    sim_options_default(&o);
    o.decode_rate = 50;
    start_sim(r, &o);
    base_config(r, 2, 0);
    r->cfg.ramp_start = 2;
    r->cfg.ramp_end = 4;
    r->cfg.ramp_step = 2;
    r->cfg.step_requests = 4;
    r->cfg.warmup = 100;
    r->cfg.max_tokens = 10;
    engine *e = start_engine(r);
    wait_state(e, r, ENGINE_WARMUP);
    assert_true(engine_send(e, (engine_cmd){.kind = ENGINE_CMD_NEXT_STEP}));
    run_to_end(r, e, 30);
    assert_int_equal(r->n_step_evs, 2);
    assert_int_equal(r->step_evs[0].plan_index, 0);
    assert_int_equal(r->step_evs[0].concurrency, 2);
    assert_int_equal(r->step_evs[1].plan_index, 1);
    assert_int_equal(r->ok, 8);
    finish(r, e);
    free(r);
}

/* Issue 11, defect 4: a hand change of the target was recorded as the plan's load. It now
 * ends the plan step and starts a manual step at the applied target; presses within a
 * second are one change; the next plan step keeps the hand's target and says so. */
static void a_hand_change_starts_a_manual_step_at_the_applied_load(void **state)
{
    (void)state;
    run_ctx *r = calloc(1, sizeof *r);
    sim_options o;
    sim_options_default(&o);
    o.slots = 32;
    o.decode_rate = 200;
    start_sim(r, &o);
    base_config(r, 2, 0);
    r->cfg.ramp_start = 2;
    r->cfg.ramp_end = 4;
    r->cfg.ramp_step = 2;
    r->cfg.step_duration_s = 1;
    r->cfg.max_tokens = 10;
    r->cfg.drain_timeout_s = 5;
    engine *e = start_engine(r);
    usleep(300 * 1000);
    assert_true(engine_send(e, (engine_cmd){.kind = ENGINE_CMD_ADJUST_TARGET, .value = 10}));
    usleep(100 * 1000);
    assert_true(engine_send(e, (engine_cmd){.kind = ENGINE_CMD_ADJUST_TARGET, .value = 2}));
    run_to_end(r, e, 20);
    /* step 0: plan 0 at 2; step 1: manual at 12, then 14 (same index); step 2: plan 1 */
    assert_int_equal(r->n_step_evs, 4);
    assert_int_equal(r->step_evs[1].index, 1);
    assert_true(r->step_evs[1].manual);
    assert_int_equal(r->step_evs[1].concurrency, 12);
    assert_int_equal(r->step_evs[2].index, 1);
    assert_int_equal(r->step_evs[2].concurrency, 14);
    assert_int_equal(r->step_evs[3].index, 2);
    assert_int_equal(r->step_evs[3].plan_index, 1);
    assert_true(r->step_evs[3].manual);
    assert_int_equal(r->step_evs[3].concurrency, 14);
    const stats_agg *m = stats_step(r->st, 1);
    assert_non_null(m);
    assert_true(m->manual);
    assert_int_equal(m->concurrency, 14);
    /* the plan step's own window ended at the change: about 0.3 s, not its 1 s */
    assert_true(stats_agg_window_s(stats_step(r->st, 0)) < 0.5);
    assert_true(fabs(stats_agg_window_s(&r->st->totals) - 2.0) < 0.1);
    finish(r, e);
    free(r);
}

/* Issue 11, defect 1: the last step's deadline cancelled what was in flight (its tokens
 * lost, its time kept). Now the window ends at the deadline, the requests in flight
 * finish (their latencies count), and what --drain-timeout still cuts is counted. */
static void the_end_drains_then_counts_what_is_cut(void **state)
{
    (void)state;
    for (int cut = 0; cut < 2; cut++) {
        run_ctx *r = calloc(1, sizeof *r);
        sim_options o;
        sim_options_default(&o);
        o.decode_rate = 40;
        o.batch_penalty = 0;
        start_sim(r, &o);
        base_config(r, 4, 0);
        r->cfg.duration_s = 0.5;
        r->cfg.max_tokens = 30; /* ~0.75 s a request: all four are in flight at the end */
        r->cfg.drain_timeout_s = cut ? 0.2 : 10;
        engine *e = start_engine(r);
        run_to_end(r, e, 20);
        engine_gauges g;
        engine_read_gauges(e, &g);
        print_message("cut=%d: ok %ld, cut %ld, started %llu\n", cut, r->ok, r->cut,
                      (unsigned long long)g.started);
        assert_int_equal(r->ok + r->failed + r->cut, (long)g.started);
        if (cut) {
            assert_int_equal(r->cut, 4);
            assert_int_equal(r->st->totals.cut, 4);
        } else {
            assert_int_equal(r->cut, 0);
            assert_int_equal(r->ok, 4);
        }
        assert_true(fabs(stats_agg_window_s(&r->st->totals) - 0.5) < 0.05);
        finish(r, e);
        free(r);
    }
}

/* llama.cpp's server advertises keep-alive yet closes after each stream: a request sent on
 * the closing connection is re-sent once on a fresh one and counted, never failed. */
static void closed_keepalive_connections_are_reconnected_not_failed(void **state)
{
    (void)state;
    run_ctx *r = calloc(1, sizeof *r);
    sim_options o;
    sim_options_default(&o);
    o.slots = 16;
    o.base_latency_s = 0;
    o.prefill_rate = 1e9;
    o.decode_rate = 1e6;
    o.close_after_stream_ms = 2;
    start_sim(r, &o);
    base_config(r, 8, 5000);
    r->cfg.max_tokens = 2;
    r->cfg.prompt_chars = 40;
    engine *e = start_engine(r);
    run_to_end(r, e, 120);
    finish(r, e);
    print_message("ok %ld failed %ld reconnects %ld (%.1f ms lost) other: %s\n", r->ok, r->failed,
                  r->reconnects, (double)r->reconnect_lost_us / 1e3, r->last_msg[ERR_OTHER]);
    assert_int_equal(r->failed, 0);
    assert_int_equal(r->ok, 5000);
    assert_true(r->reconnects > 0);
    assert_true(r->reconnect_lost_us > 0);
    free(r);
}

/* 150 users are three curl groups (engine/curlgroups, 64 users each): every user keeps one
 * connection in its group, and when the server closes them after each answer, the new
 * sockets reuse numbers across groups and each readiness still reaches the right group. */
static void users_in_several_curl_groups_keep_and_remake_their_connections(void **state)
{
    (void)state;
    for (int closing = 0; closing <= 1; closing++) {
        run_ctx *r = calloc(1, sizeof *r);
        sim_options o;
        sim_options_default(&o);
        o.slots = 200;
        o.base_latency_s = 0.001;
        o.prefill_rate = 1e9;
        o.decode_rate = 2000;
        o.batch_penalty = 0;
        o.close_after_stream_ms = closing ? 1 : -1; /* -1: kept alive */
        start_sim(r, &o);
        base_config(r, 150, 3000);
        r->cfg.max_tokens = 4;
        r->cfg.prompt_chars = 40;
        double wall_s = run_whole(r, 120);
        print_message(
            "closing %d: ok %ld failed %ld new connections %ld reconnects %ld in %.2f s\n", closing,
            r->ok, r->failed, r->new_conns, r->reconnects, wall_s);
        long ok = r->ok, failed = r->failed, fresh = r->new_conns, reconnects = r->reconnects;
        /* A readiness sent to the wrong group is seen only when curl's next timeout fires
         * (the 5 s connect timeout's): such a request would take seconds, not milliseconds. */
        uint64_t slowest = 0;
        for (size_t i = 0; i < r->n_done; i++)
            slowest = r->done[i].e2e_ns > slowest ? r->done[i].e2e_ns : slowest;
        free(r);
        assert_true(slowest < 2 * LLM_NS_PER_SEC);
        assert_int_equal(failed, 0);
        assert_int_equal(ok, 3000);
        if (closing) {
            assert_true(fresh + reconnects > 1000);
        } else {
            assert_int_equal(fresh, 150);
            assert_int_equal(reconnects, 0);
        }
    }
}

/* The first response names the model: one EV_SERVER_ID for the whole run, with it. */
/* A stream that waits for its first token has its socket read before the others
 * (sockwatch_urgent, bench/RESULTS.md §5) and back in turn at that token, or at the end
 * without one: an error answer on a kept-alive connection must not leave the socket urgent
 * for the requests after it. Variable lengths, errors, a server that closes after each
 * stream; and a non-streaming run marks nothing. */
static void a_stream_is_read_first_only_until_its_first_token(void **state)
{
    (void)state;
    run_ctx *r = calloc(1, sizeof *r);
    sim_options o;
    sim_options_default(&o);
    o.slots = 8;
    o.decode_rate = 3000;
    o.base_latency_s = 0.001;
    o.mean_output = 6;
    o.error_rate_pct = 30;
    o.close_after_stream_ms = 3;
    start_sim(r, &o);
    base_config(r, 6, 300);
    r->cfg.max_tokens = 30;
    r->cfg.ignore_eos = false;
    engine *e = start_engine(r);
    run_to_end(r, e, 60);
    engine_gauges g;
    engine_read_gauges(e, &g);
    finish(r, e);
    print_message("ok %ld failed %ld marked %llu unmarked %llu\n", r->ok, r->failed,
                  (unsigned long long)g.urgent_marked, (unsigned long long)g.urgent_unmarked);
    assert_int_equal(r->ok + r->failed, 300);
    assert_true(r->ok > 0 && r->failed > 0);
    assert_true(g.urgent_marked >= (uint64_t)r->ok);
    assert_int_equal(g.urgent_marked, g.urgent_unmarked);

    memset(r, 0, sizeof *r);
    start_sim(r, &o);
    base_config(r, 6, 100);
    r->cfg.no_stream = true;
    e = start_engine(r);
    run_to_end(r, e, 60);
    engine_read_gauges(e, &g);
    finish(r, e);
    assert_int_equal(r->ok + r->failed, 100);
    assert_int_equal(g.urgent_marked, 0);
    free(r);
}

static void server_id_event_names_the_sims_model_once(void **state)
{
    (void)state;
    run_ctx *r = calloc(1, sizeof *r);
    sim_options o;
    sim_options_default(&o);
    o.decode_rate = 400; /* a token per read: these streams are not buffered */
    o.base_latency_s = 0.001;
    snprintf(o.model, sizeof o.model, "acme/served-model-7b");
    start_sim(r, &o);
    base_config(r, 4, 12);
    r->cfg.max_tokens = 6;
    engine *e = start_engine(r);
    run_to_end(r, e, 30);
    finish(r, e);
    assert_int_equal(r->ok, 12);
    assert_int_equal(r->server_ids, 1);
    assert_string_equal(r->server_id.model, "acme/served-model-7b");
    assert_string_equal(r->server_id.fingerprint, ""); /* the sim sends none */
    assert_int_equal(r->reconnects, 0);                /* kept-alive connections that stay up */
    for (size_t i = 0; i < r->n_done; i++)
        assert_false(r->done[i].one_read);
    free(r);
}

/* curl reports a few microseconds of "lookup" on a reused connection: only a request that
 * opened its connection carries DNS/connect/TLS phases. */
static void only_new_connections_carry_connection_phases(void **state)
{
    (void)state;
    run_ctx *r = calloc(1, sizeof *r);
    sim_options o;
    sim_options_default(&o);
    o.decode_rate = 5000;
    o.base_latency_s = 0.001;
    start_sim(r, &o);
    base_config(r, 1, 10);
    r->cfg.max_tokens = 2;
    engine *e = start_engine(r);
    run_to_end(r, e, 30);
    finish(r, e);
    assert_int_equal(r->ok, 10);
    assert_int_equal(r->new_conns, 1); /* one virtual user, one kept-alive connection */
    for (size_t i = 0; i < r->n_done; i++) {
        const ev_done *d = &r->done[i];
        if (d->new_conn)
            continue;
        assert_int_equal(d->dns_us, 0);
        assert_int_equal(d->connect_us, 0);
        assert_int_equal(d->tls_us, 0);
    }
    free(r);
}

/* finish_reason and usage, then neither [DONE] nor a close: ok after a short grace, long
 * before the request timeout, with E2E at the last data event. */
static void stream_without_done_or_close_ends_after_a_short_grace(void **state)
{
    (void)state;
    run_ctx *r = calloc(1, sizeof *r);
    sim_options o;
    sim_options_default(&o);
    o.decode_rate = 2000;
    o.base_latency_s = 0.001;
    o.no_done = true;
    start_sim(r, &o);
    base_config(r, 2, 4);
    r->cfg.max_tokens = 8;
    r->cfg.request_timeout_s = 8;
    engine *e = start_engine(r);
    uint64_t t0 = llm_now_ns();
    run_to_end(r, e, 30);
    double took = (double)(llm_now_ns() - t0) / 1e9;
    finish(r, e);
    print_message("4 requests in %.2f s, %ld ok, %ld failed (%s)\n", took, r->ok, r->failed,
                  r->last_msg[ERR_TIMEOUT]);
    assert_int_equal(r->ok, 4);
    assert_true(took < 5); /* two rounds of ~1 s grace, not two 8 s timeouts */
    for (size_t i = 0; i < r->n_done; i++) {
        assert_true(r->done[i].finish_grace);
        assert_true(r->done[i].usage_reported);
        assert_int_equal(r->done[i].output_tokens, 8);
        assert_true(r->done[i].e2e_ns < 500 * LLM_NS_PER_MS); /* the grace is not in E2E */
    }
    free(r);
}

static void no_stream_answers_over_64_kib_complete(void **state)
{
    (void)state;
    run_ctx *r = calloc(1, sizeof *r);
    sim_options o;
    sim_options_default(&o);
    o.decode_rate = 1e6;
    o.base_latency_s = 0.001;
    start_sim(r, &o);
    base_config(r, 2, 4);
    r->cfg.no_stream = true;
    r->cfg.max_tokens = 30000; /* ~180 KB of words */
    engine *e = start_engine(r);
    run_to_end(r, e, 60);
    finish(r, e);
    if (r->failed)
        print_message("failed: %s\n", r->last_msg[ERR_STREAM]);
    assert_int_equal(r->ok, 4);
    for (size_t i = 0; i < r->n_done; i++)
        assert_int_equal(r->done[i].output_tokens, 30000);
    free(r);
}

/* --http2 with PIPEWAIT: the first burst waits for one connection to multiplex on rather than
 * opening one per request. The server takes connections and never answers (it speaks no h2:
 * what is measured is only how many connections the client opens). */
static void http2_first_burst_shares_one_connection(void **state)
{
    (void)state;
    run_ctx *r = calloc(1, sizeof *r);
    tu_canned *srv = tu_canned_start(NULL, 0);
    assert_non_null(srv);
    snprintf(r->url, sizeof r->url, "http://127.0.0.1:%d/v1", tu_canned_port(srv));
    base_config(r, 4, 4);
    r->cfg.http2 = true;
    r->cfg.request_timeout_s = 0.6;
    engine *e = start_engine(r);
    run_to_end(r, e, 30);
    int accepts = tu_canned_accepts(srv);
    finish(r, e); /* no simulator here */
    tu_canned_stop(srv);
    print_message("4 HTTP/2 requests opened %d connection(s)\n", accepts);
    assert_int_equal(r->failed, 4);
    assert_int_equal(accepts, 1);
    free(r);
}

/* Issue 12: the engine made 2x the plan's users but raised the open-files limit for
 * max + 64 only, ignoring setrlimit's answer, so a keyboard raise failed as `connect`
 * errors blamed on the server. The users and the limit are sized together: under a hard
 * limit of 300 a plan of 200 users gets 236 (the gauges say so), one of 280 is refused
 * with the ulimit to set. In a child process: the hard limit cannot be raised again. */
static void the_open_files_limit_sizes_the_users_and_says_so(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = {.rlim_cur = 300, .rlim_max = 300};
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            _exit(10);
        run_ctx *r = calloc(1, sizeof *r);
        int holder, port = tu_refusing_port(&holder);
        snprintf(r->url, sizeof r->url, "http://127.0.0.1:%d/v1", port);
        base_config(r, 200, 1);
        char err[256];
        engine *e = NULL;
        if (plan_build(&r->cfg, &r->plan, err, sizeof err) != 0 ||
            engine_start(&r->cfg, &r->plan, NULL, &e, err, sizeof err) != 0)
            _exit(11);
        engine_gauges g;
        engine_read_gauges(e, &g);
        engine_destroy(e);
        plan_free(&r->plan);
        if (g.max_target != 300 - 64)
            _exit(12);
        base_config(r, 280, 1);
        if (plan_build(&r->cfg, &r->plan, err, sizeof err) != 0)
            _exit(13);
        if (engine_start(&r->cfg, &r->plan, NULL, &e, err, sizeof err) == 0)
            _exit(14);
        if (!strstr(err, "ulimit -n 344"))
            _exit(15);
        plan_free(&r->plan);
        close(holder);
        free(r);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_open_files_limit_sizes_the_users_and_says_so),
        cmocka_unit_test(closed_keepalive_connections_are_reconnected_not_failed),
        cmocka_unit_test(users_in_several_curl_groups_keep_and_remake_their_connections),
        cmocka_unit_test(a_stream_is_read_first_only_until_its_first_token),
        cmocka_unit_test(server_id_event_names_the_sims_model_once),
        cmocka_unit_test(only_new_connections_carry_connection_phases),
        cmocka_unit_test(stream_without_done_or_close_ends_after_a_short_grace),
        cmocka_unit_test(no_stream_answers_over_64_kib_complete),
        cmocka_unit_test(http2_first_burst_shares_one_connection),
        cmocka_unit_test(token_counts_equal_the_servers_usage),
        cmocka_unit_test(ttft_is_at_least_the_injected_value_and_close_to_it),
        cmocka_unit_test(rps_and_tps_match_the_capacity_model),
        cmocka_unit_test(each_fault_lands_in_its_error_class),
        cmocka_unit_test(dead_server_is_a_connect_error),
        cmocka_unit_test(an_unanswered_connect_fails_at_the_connect_timeout),
        cmocka_unit_test(a_fresh_connection_curl_opens_itself_gets_the_connect_timeout),
        cmocka_unit_test(concurrency_change_shows_in_flight_within_100ms),
        cmocka_unit_test(pause_stops_the_step_clock),
        cmocka_unit_test(constant_rate_is_achieved_within_3_percent),
        cmocka_unit_test(poisson_gaps_look_exponential),
        cmocka_unit_test(ramp_steps_count_exactly_and_honour_the_cooldown),
        cmocka_unit_test(cooldown_time_left_counts_down_and_stands_still_while_paused),
        cmocka_unit_test(search_steps_wait_for_the_next_load),
        cmocka_unit_test(a_pause_is_outside_the_step_window),
        cmocka_unit_test(step_one_opens_when_the_warmup_requests_have_ended),
        cmocka_unit_test(next_during_the_warmup_starts_step_one),
        cmocka_unit_test(a_hand_change_starts_a_manual_step_at_the_applied_load),
        cmocka_unit_test(the_end_drains_then_counts_what_is_cut),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
