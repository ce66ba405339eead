#include "run/session.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "engine/sharegpt.h"
#include "engine/workload.h"
#include "core/analysis.h"
#include "core/snapshot.h"
#include "run/target.h"

/* Finding out at the end of an 8-hour run that the results cannot be written loses them:
 * try the --json location first. */
static int check_writable(const char *path, char *err, size_t errlen)
{
    char probe[4096];
    snprintf(probe, sizeof probe, "%s.tmp", path);
    FILE *f = fopen(probe, "w");
    if (!f) {
        snprintf(err, errlen, "--json %s: cannot write there (%s); choose another path", path,
                 strerror(errno));
        return -1;
    }
    fclose(f);
    unlink(probe);
    return 0;
}

/* --server-metrics: a URL given is polled whatever it answers; by default the base URL's
 * /metrics is tried and left alone when it does not answer. */
static void start_server_metrics(run_session *s)
{
    char url[512];
    bool given;
    if (srvmon_url_of(&s->cfg, url, sizeof url, &given))
        s->srv = srvmon_start(&s->cfg, url, given);
}

static void read_server_metrics(run_session *s)
{
    if (!s->srv)
        return;
    srvmon_read(s->srv, &s->srvr);
    const prom_figures *f = &s->srvr.fig;
    bool ok = s->srvr.state == SRVMON_OK;
    stats_set_server(s->st, ok ? f->running : NAN, ok ? f->waiting : NAN,
                     ok ? f->kv_used * 100 : NAN);
    s->st->server_engine = ok ? f->engine : s->st->server_engine;
    llm_strlcpy(s->st->server_note, s->srvr.note, sizeof s->st->server_note);
}

/* The plan; a trace is read first (its records make the plan), and what could not be read
 * of it is said on stderr and kept for the snapshot. */
/* ShareGPT: read (sampled to the requests asked, else SHAREGPT_KEEP) before the plan. */
#define SHAREGPT_KEEP 10000
static int load_sharegpt(run_session *s, char *err, size_t errlen)
{
    sharegpt_counts n;
    size_t keep = s->cfg.requests_set ? (size_t)s->cfg.requests : SHAREGPT_KEEP;
    int rc = s->cfg.turns > 1
                 ? sharegpt_load_scripts(&s->cfg, keep, &s->scripts, &s->n_scripts, &n, err, errlen)
                 : sharegpt_load(&s->cfg, s->model, keep, &s->dataset, &n, err, errlen);
    if (rc != 0)
        return -1;
    s->cfg.dataset_records = (long)n.kept;
    s->cfg.dataset_skipped = (long)n.skipped;
    s->cfg.dataset_filtered = (long)n.filtered;
    if (n.skipped)
        fprintf(stderr,
                "llmload: %s: %zu of %zu conversations skipped (unreadable, or no "
                "human turn with an answer)\n",
                s->cfg.dataset_file, n.skipped, n.records);
    return 0;
}

static int build_plan(run_session *s, char *err, size_t errlen)
{
    if (s->cfg.dataset == LLM_DATASET_SHAREGPT) {
        if (load_sharegpt(s, err, errlen) != 0 || plan_build(&s->cfg, &s->plan, err, errlen))
            return -1;
        if (s->n_scripts) {
            s->plan.scripts = s->scripts;
            s->plan.n_scripts = s->n_scripts;
        } else {
            s->plan.dataset = &s->dataset;
        }
        return 0;
    }
    if (s->cfg.dataset != LLM_DATASET_TRACE)
        return plan_build(&s->cfg, &s->plan, err, errlen);
    size_t max = s->cfg.requests_set ? (size_t)s->cfg.requests : 0;
    if (trace_load(s->cfg.dataset_file, max, &s->trace, err, errlen) != 0)
        return -1;
    s->cfg.dataset_records = (long)s->trace.n;
    s->cfg.dataset_skipped = (long)s->trace.skipped;
    if (s->trace.skipped)
        fprintf(stderr, "llmload: %s: %zu records skipped (the first at line %ld)\n",
                s->cfg.dataset_file, s->trace.skipped, s->trace.first_bad_line);
    return plan_build_trace(&s->cfg, &s->trace, &s->plan, err, errlen);
}

int session_open(run_session *s, const llm_config *cfg, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    if (s->cfg.demo && demo_start(&s->cfg, &s->demo, err, errlen) != 0)
        return LLM_EXIT_USAGE;
    if (s->cfg.json_path && check_writable(s->cfg.json_path, err, errlen) != 0)
        return LLM_EXIT_USAGE;
    int rc = target_resolve_model(&s->cfg, &s->model, err, errlen);
    if (rc != 0)
        return rc;
    if (!s->cfg.model) /* the snapshot records the model sent, even when the server chose */
        s->cfg.model = s->model;
    if (build_plan(s, err, errlen) != 0)
        return LLM_EXIT_USAGE;
    plan_describe(&s->plan, s->plan_text, sizeof s->plan_text);
    char sent[160];
    workload_describe(&s->cfg, sent, sizeof sent);
    if (sent[0]) {
        size_t n = strlen(s->plan_text);
        snprintf(s->plan_text + n, sizeof s->plan_text - n, "; %s", sent);
    }
    s->st = calloc(1, sizeof *s->st);
    if (!s->st) {
        snprintf(err, errlen, "out of memory");
        return LLM_EXIT_USAGE;
    }
    sysmon_init(&s->sys, NULL, NULL);
    sysmon_sample(&s->sys, &s->sysr);
    s->start_ns = s->last_save_ns = llm_now_ns();
    s->started = time(NULL);
    stats_init(s->st, s->start_ns, &s->cfg.slo);
    if (s->plan.search) {
        s->st->search = true;
        const plan_step *first = &s->plan.steps[0];
        search_start(&s->search, s->plan.search_rate ? first->rate : (double)first->concurrency,
                     s->plan.search_max, s->plan.search_rate);
    }
    if (engine_start(&s->cfg, &s->plan, s->model, &s->eng, err, errlen) != 0)
        return LLM_EXIT_USAGE;
    engine_read_gauges(s->eng, &s->gauges);
    start_server_metrics(s);
    return 0;
}

/* The first answers decide (issue 11, defect 9): while nothing has succeeded, a 404 says
 * every request will fail the same way (a model the server does not serve, or a URL without
 * its /v1): stop before more load, exit 2, with the sentence `llmload check` would give. */
static void note_rejected(run_session *s)
{
    const stats_agg *t = &s->st->totals;
    const char *msg = t->last_error[ERR_HTTP_4XX];
    if (s->stop_code || t->ok || !t->errors[ERR_HTTP_4XX] || strncmp(msg, "HTTP 404", 8) != 0)
        return;
    s->stop_code = LLM_EXIT_USAGE;
    target_rejection_advice(&s->cfg, msg, s->stop_msg, sizeof s->stop_msg);
    engine_send(s->eng, (engine_cmd){.kind = ENGINE_CMD_STOP});
}

static void note_unreachable(run_session *s)
{
    const stats_agg *t = &s->st->totals;
    if (s->stop_code || t->ok || !t->errors[ERR_CONNECT] || t->failed != t->errors[ERR_CONNECT])
        return;
    s->stop_code = LLM_EXIT_UNREACHABLE;
    snprintf(s->stop_msg, sizeof s->stop_msg, "cannot reach %s (%s): is the server running?",
             s->cfg.url, t->last_error[ERR_CONNECT]);
    engine_send(s->eng, (engine_cmd){.kind = ENGINE_CMD_STOP});
}

/* ---- --search ---- */

/* A step is clearly over once this many requests ended and half of them already miss a
 * latency limit (p50 above a p99 limit), or failures run at twice the error limit and at
 * least 10 %: waiting for the rest would only load an overloaded server longer. */
#define SEARCH_EARLY_MIN 20

static bool clearly_missed(const stats_agg *a, const llm_slo *slo)
{
    uint64_t n = a->ok + a->failed;
    if (n < SEARCH_EARLY_MIN)
        return false;
    double fail_pct = 100.0 * (double)a->failed / (double)n;
    if (slo->errors_pct >= 0 && fail_pct > fmax(2 * slo->errors_pct, 10))
        return true;
    return analysis_latency_over(a, slo, 50);
}

static void search_cut_short(run_session *s)
{
    uint32_t k = s->search_judged;
    if (s->search.done || k >= s->st->n_steps || k >= s->plan.n_steps)
        return;
    stats_agg *a = &s->st->steps[k];
    if (a->cut_short || !clearly_missed(a, &s->cfg.slo))
        return;
    a->cut_short = true;
    engine_send(s->eng, (engine_cmd){.kind = ENGINE_CMD_NEXT_STEP, .value = k});
}

static void search_finish(run_session *s)
{
    s->search.done = true;
    s->st->search_done = true;
    engine_send(s->eng, (engine_cmd){.kind = ENGINE_CMD_STOP});
}

static void search_advance(run_session *s)
{
    if (!s->plan.search || s->search.done || s->search_judged >= s->st->steps_ended)
        return;
    while (s->search_judged < s->st->steps_ended && !s->search.done) {
        const stats_agg *a = stats_step(s->st, s->search_judged++);
        search_report(&s->search, a && analysis_step_meets_slo(a, &s->cfg.slo));
    }
    if (s->search.done) {
        search_finish(s);
        return;
    }
    long k = plan_add_probe(&s->plan, s->search.next);
    if (k < 0 || !engine_send(s->eng, (engine_cmd){.kind = ENGINE_CMD_PROBE, .value = k}))
        search_finish(s);
}

void session_drain(run_session *s)
{
    size_t n;
    while ((n = engine_poll(s->eng, s->burst, SESSION_BURST)) > 0)
        for (size_t i = 0; i < n; i++)
            stats_consume(s->st, &s->burst[i]);
    note_unreachable(s);
    note_rejected(s);
    if (!s->stop_code)
        search_advance(s);
}

int session_save(run_session *s, const char *path, char *err, size_t errlen)
{
    engine_read_gauges(s->eng, &s->gauges);
    return snapshot_write(path, s->st, &s->cfg, s->started, time(NULL), s->gauges.lost_events, err,
                          errlen);
}

int session_autosave_path(run_session *s, char *err, size_t errlen)
{
    if (s->autosave_path[0])
        return 0;
    if (s->cfg.json_path) {
        llm_strlcpy(s->autosave_path, s->cfg.json_path, sizeof s->autosave_path);
        return 0;
    }
    const char *dir = s->cfg.out_dir ? s->cfg.out_dir : "llmload-out";
    if (snapshot_make_dirs(dir) != 0) {
        snprintf(err, errlen, "--out %s: cannot create it (%s)", dir, strerror(errno));
        return -1;
    }
    char base[900];
    snapshot_name(dir, false, base, sizeof base);
    snprintf(s->autosave_path, sizeof s->autosave_path, "%s.json", base);
    return 0;
}

void session_second(run_session *s, uint64_t now)
{
    engine_read_gauges(s->eng, &s->gauges);
    stats_tick(s->st, now);
    sysmon_sample(&s->sys, &s->sysr);
    stats_set_gauges(s->st, (int)s->gauges.target, (int)s->gauges.inflight, s->sysr.cpu_total_pct,
                     s->sysr.temp_c);
    stats_set_client_cpu(s->st, s->sysr.self_cpu_pct);
    read_server_metrics(s);
    if (s->plan.search)
        search_cut_short(s);
    if (s->cfg.autosave_s > 0 && now - s->last_save_ns >= (uint64_t)(s->cfg.autosave_s * 1e9)) {
        char err[256];
        if (session_autosave_path(s, err, sizeof err) != 0 ||
            session_save(s, s->autosave_path, err, sizeof err) != 0)
            fprintf(stderr, "llmload: autosave failed: %s\n", err);
        s->last_save_ns = now;
    }
}

int session_exit_code(run_session *s)
{
    const stats_agg *t = &s->st->totals;
    if (s->stop_code) {
        fprintf(stderr, "llmload: %s\n", s->stop_msg);
        return s->stop_code;
    }
    uint64_t n = t->ok + t->failed;
    double err_pct = n ? 100.0 * (double)t->failed / (double)n : 0;
    /* A search drives the server past its limit on purpose: its SLO decides, below. */
    if (n && err_pct > s->cfg.max_error_rate_pct && !s->plan.search) {
        fprintf(stderr, "llmload: %.1f %% of requests failed, over --max-error-rate %.1f %%\n",
                err_pct, s->cfg.max_error_rate_pct);
        return LLM_EXIT_FAILED;
    }
    if (s->cfg.fail_on_slo && s->plan.search) {
        search_state found;
        analysis_search(s->st, &found);
        if (found.best == 0) {
            fprintf(stderr, "llmload: no step of the search met the SLO given with --slo\n");
            return LLM_EXIT_FAILED;
        }
    } else if (s->cfg.fail_on_slo && n && !analysis_step_meets_slo(t, &s->cfg.slo)) {
        fprintf(stderr, "llmload: the run missed an SLO given with --slo (p99 of TTFT, TPOT, "
                        "E2E, or the error rate)\n");
        return LLM_EXIT_FAILED;
    }
    return LLM_EXIT_OK;
}

void session_close(run_session *s)
{
    srvmon_stop(s->srv);
    engine_destroy(s->eng);
    if (s->st) {
        stats_free(s->st);
        free(s->st);
    }
    plan_free(&s->plan);
    trace_free(&s->trace);
    prompts_free(&s->dataset);
    for (size_t i = 0; i < s->n_scripts; i++)
        sharegpt_script_free(&s->scripts[i]);
    free(s->scripts);
    free(s->model);
    demo_stop(&s->demo);
    memset(s, 0, sizeof *s);
}
