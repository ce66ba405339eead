#include "run/run.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "core/snapshot.h"
#include "core/stats.h"
#include "core/summary.h"
#include "engine/engine.h"
#include "run/demo.h"
#include "run/target.h"

#define POLL_INTERVAL_US 10000
#define EVENT_BURST 1024

/* The only global mutable state: what the signal handler must reach. */
static volatile sig_atomic_t g_signal;

static void on_signal(int sig)
{
    g_signal = sig;
}

typedef struct {
    llm_config cfg; /* shallow copy: demo mode rewrites the URL and the plan */
    demo_server demo;
    char *model;
    plan plan;
    engine *eng;
    stats *st;
    time_t started;
    uint64_t start_ns, last_second_ns, last_save_ns;
    bool unreachable;
    char unreachable_msg[160];
} run_state;

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static void print_progress(run_state *r, const engine_gauges *g)
{
    const stats_agg *t = &r->st->totals;
    const stats_row *live = stats_live(r->st);
    double elapsed = (double)(llm_now_ns() - r->start_ns) / 1e9;
    char p50[24] = "-", p99[24] = "-";
    if (live && !isnan(live->ttft_p50_ms)) {
        llm_format_ms(live->ttft_p50_ms, p50, sizeof p50, true);
        llm_format_ms(live->ttft_p99_ms, p99, sizeof p99, true);
    }
    fprintf(stderr,
            "[%6.0fs] step %u/%u  target %u  in-flight %u  ok %llu  failed %llu  "
            "rps %u  tps %u  ttft p50 %s p99 %s%s\n",
            elapsed, g->step + 1, g->n_steps, g->target, g->inflight, (unsigned long long)t->ok,
            (unsigned long long)t->failed, live ? live->rps : 0, live ? live->tps : 0, p50, p99,
            g->lost_events ? "  EVENTS LOST" : "");
}

static void note_unreachable(run_state *r)
{
    const stats_agg *t = &r->st->totals;
    if (t->ok || !t->errors[ERR_CONNECT] || t->failed != t->errors[ERR_CONNECT])
        return;
    r->unreachable = true;
    snprintf(r->unreachable_msg, sizeof r->unreachable_msg,
             "cannot reach %s: %s; is the server running?", r->cfg.url, t->last_error[ERR_CONNECT]);
}

static void drain_events(run_state *r)
{
    static llm_event evs[EVENT_BURST];
    size_t n;
    while ((n = engine_poll(r->eng, evs, EVENT_BURST)) > 0)
        for (size_t i = 0; i < n; i++)
            stats_consume(r->st, &evs[i]);
}

static int save_snapshot(run_state *r, const char *path, uint64_t lost)
{
    char err[256];
    if (snapshot_write(path, r->st, &r->cfg, r->started, time(NULL), lost, err, sizeof err)) {
        fprintf(stderr, "llmload: %s\n", err);
        return -1;
    }
    return 0;
}

static void each_second(run_state *r, uint64_t now)
{
    engine_gauges g;
    engine_read_gauges(r->eng, &g);
    stats_tick(r->st, now);
    stats_set_gauges(r->st, (int)g.target, (int)g.inflight, NAN, NAN);
    print_progress(r, &g);
    if (r->cfg.json_path && r->cfg.autosave_s > 0 &&
        now - r->last_save_ns >= (uint64_t)(r->cfg.autosave_s * 1e9)) {
        save_snapshot(r, r->cfg.json_path, g.lost_events);
        r->last_save_ns = now;
    }
}

static void handle_signal(run_state *r, int *signals_seen)
{
    if (!g_signal)
        return;
    g_signal = 0;
    if (++*signals_seen == 1) {
        fprintf(stderr, "llmload: stopping; results so far are kept (signal again to quit "
                        "at once)\n");
        engine_send(r->eng, (engine_cmd){.kind = ENGINE_CMD_STOP});
    } else {
        fprintf(stderr, "llmload: quitting without waiting\n");
        _exit(130);
    }
}

static void run_loop(run_state *r)
{
    int signals_seen = 0;
    r->last_second_ns = r->last_save_ns = r->start_ns;
    while (!engine_finished(r->eng)) {
        usleep(POLL_INTERVAL_US);
        drain_events(r);
        handle_signal(r, &signals_seen);
        if (!r->unreachable) {
            note_unreachable(r);
            if (r->unreachable)
                engine_send(r->eng, (engine_cmd){.kind = ENGINE_CMD_STOP});
        }
        uint64_t now = llm_now_ns();
        if (now - r->last_second_ns >= LLM_NS_PER_SEC) {
            r->last_second_ns += LLM_NS_PER_SEC;
            each_second(r, now);
        }
    }
    drain_events(r);
    stats_tick(r->st, llm_now_ns());
}

static bool over_slo(const llm_config *cfg, const stats_agg *t)
{
    const llm_slo *s = &cfg->slo;
    uint64_t n = t->ok + t->failed;
    double err_pct = n ? 100.0 * (double)t->failed / (double)n : 0;
    if (s->ttft_s > 0 && stats_agg_value(t, STATS_TTFT, 99) > s->ttft_s * 1000)
        return true;
    if (s->tpot_s > 0 && stats_agg_value(t, STATS_TPOT, 99) > s->tpot_s * 1000)
        return true;
    if (s->e2e_s > 0 && stats_agg_value(t, STATS_E2E, 99) > s->e2e_s * 1000)
        return true;
    return s->errors_pct >= 0 && err_pct > s->errors_pct;
}

static int exit_code(run_state *r)
{
    const stats_agg *t = &r->st->totals;
    if (r->unreachable || (t->ok == 0 && t->failed > 0 && t->failed == t->errors[ERR_CONNECT])) {
        fprintf(stderr, "llmload: %s\n",
                r->unreachable_msg[0] ? r->unreachable_msg : "no request reached the server");
        return LLM_EXIT_UNREACHABLE;
    }
    uint64_t n = t->ok + t->failed;
    double err_pct = n ? 100.0 * (double)t->failed / (double)n : 0;
    if (n && err_pct > r->cfg.max_error_rate_pct) {
        fprintf(stderr, "llmload: %.1f %% of requests failed, over --max-error-rate %.1f %%\n",
                err_pct, r->cfg.max_error_rate_pct);
        return LLM_EXIT_FAILED;
    }
    if (r->cfg.fail_on_slo && over_slo(&r->cfg, t)) {
        fprintf(stderr, "llmload: the run missed an SLO given with --slo (p99 of TTFT, TPOT, "
                        "E2E, or the error rate)\n");
        return LLM_EXIT_FAILED;
    }
    return LLM_EXIT_OK;
}

static void print_results(run_state *r, uint64_t lost)
{
    stats_print_summary(stdout, r->st, lost);
    fflush(stdout);
    if (!r->cfg.log_file)
        return;
    FILE *log = fopen(r->cfg.log_file, "a");
    if (!log) {
        fprintf(stderr, "llmload: cannot append to --log-file %s\n", r->cfg.log_file);
        return;
    }
    stats_print_summary(log, r->st, lost);
    fclose(log);
}

static int prepare(run_state *r, char *err, size_t errlen)
{
    if (r->cfg.demo && demo_start(&r->cfg, &r->demo, err, errlen) != 0)
        return LLM_EXIT_USAGE;
    int rc = target_resolve_model(&r->cfg, &r->model, err, errlen);
    if (rc != 0)
        return rc;
    if (plan_build(&r->cfg, &r->plan, err, errlen) != 0)
        return LLM_EXIT_USAGE;
    char desc[160];
    plan_describe(&r->plan, desc, sizeof desc);
    fprintf(stderr, "llmload: %s  model %s  %s\n", r->cfg.url, r->model ? r->model : "(default)",
            desc);
    r->st = calloc(1, sizeof *r->st);
    if (!r->st) {
        snprintf(err, errlen, "out of memory");
        return LLM_EXIT_USAGE;
    }
    r->start_ns = llm_now_ns();
    r->started = time(NULL);
    stats_init(r->st, r->start_ns, &r->cfg.slo);
    if (engine_start(&r->cfg, &r->plan, r->model, &r->eng, err, errlen) != 0)
        return LLM_EXIT_USAGE;
    return 0;
}

static void cleanup(run_state *r)
{
    engine_destroy(r->eng);
    if (r->st) {
        stats_free(r->st);
        free(r->st);
    }
    plan_free(&r->plan);
    free(r->model);
    demo_stop(&r->demo);
}

int run_headless(const llm_config *cfg)
{
    run_state *r = calloc(1, sizeof *r);
    if (!r)
        return LLM_EXIT_USAGE;
    r->cfg = *cfg;
    char err[512] = "";
    install_signals();
    int rc = prepare(r, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "llmload: %s\n", err);
        cleanup(r);
        free(r);
        return rc;
    }
    run_loop(r);
    engine_gauges g;
    engine_read_gauges(r->eng, &g);
    print_results(r, g.lost_events);
    rc = exit_code(r);
    if (r->cfg.json_path && save_snapshot(r, r->cfg.json_path, g.lost_events) != 0 && rc == 0)
        rc = LLM_EXIT_FAILED;
    else if (r->cfg.json_path)
        fprintf(stderr, "llmload: results written to %s\n", r->cfg.json_path);
    cleanup(r);
    free(r);
    return rc;
}
