#include "run/session.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fileout.h"
#include "base/stop.h"
#include "config/cli_scale.h"
#include "base/util.h"
#include "engine/sharegpt.h"
#include "engine/workload.h"
#include "core/analysis.h"
#include "core/snapshot.h"
#include "run/target.h"

/* Finding out at the end of an 8-hour run that the results cannot be written loses them:
 * check the --json location first (config_load did too; nothing is created here). */
static int check_writable(const char *path, char *err, size_t errlen)
{
    char why[900];
    if (llm_output_check(path, why, sizeof why) == 0)
        return 0;
    snprintf(err, errlen, "--json %s", why);
    return -1;
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

/* The server's counters before the load (issue 13): the first reading is the base the
 * deltas start from, so it should come before any request; waits at most 1 s. */
static void wait_server_metrics(run_session *s)
{
    uint64_t until = llm_now_ns() + LLM_NS_PER_SEC;
    while (s->srv && llm_now_ns() < until) {
        srvmon_read(s->srv, &s->srvr);
        if (s->srvr.state != SRVMON_STARTING)
            return;
        usleep(10000);
    }
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
    if (ok && s->srvr.seq != s->srv_seq) { /* a new reading: its deltas (issue 13) */
        s->srv_seq = s->srvr.seq;
        stats_set_server_hists(s->st, f);
    }
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

/* ---- scale-out: --listen, --shard, --start-at ---- */

static int start_listener(run_session *s, char *err, size_t errlen)
{
    if (!s->cfg.listen)
        return 0;
    if (!(s->lfig = calloc(1, sizeof *s->lfig)) ||
        listen_start(s->cfg.listen, s->cfg.control_token, &s->lsn, &s->listen_port, err, errlen) !=
            0)
        return -1;
    char host[SCALE_HOST_MAX];
    int asked;
    if (scale_parse_listen(s->cfg.listen, host, sizeof host, &asked) != 0)
        llm_strlcpy(host, "?", sizeof host);
    fprintf(stderr, "llmload: live figures at http://%s%s%s:%d/metrics%s\n",
            strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", s->listen_port,
            s->cfg.control_token ? ", control at /control/..." : "");
    return 0;
}

/* --start-at: every worker sends its first request at the same wall-clock time. A time
 * already past starts at once and says by how much (the workers are then not aligned). */
static int wait_start_at(run_session *s, char *err, size_t errlen)
{
    if (s->cfg.start_at <= 0)
        return 0;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    double left = s->cfg.start_at - ((double)now.tv_sec + now.tv_nsec / 1e9);
    if (left <= 0) {
        fprintf(stderr,
                "llmload: --start-at passed %.1f s ago: starting now, not aligned with "
                "the other workers\n",
                -left);
        return 0;
    }
    fprintf(stderr, "llmload: waiting %.1f s for --start-at\n", left);
    while (left > 0) {
        if (llm_stop_signal()) {
            snprintf(err, errlen, "stopped by signal %d while waiting for --start-at",
                     llm_stop_signal());
            return 128 + llm_stop_signal();
        }
        double nap = left < 0.05 ? left : 0.05;
        struct timespec ts = {0, (long)(nap * 1e9)};
        nanosleep(&ts, NULL);
        clock_gettime(CLOCK_REALTIME, &now);
        left = s->cfg.start_at - ((double)now.tv_sec + now.tv_nsec / 1e9);
    }
    return 0;
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
    calibrate_prompt(&s->cfg, s->model, &s->calib);
    s->cfg.prompt_chars = s->calib.chars;
    poolcal_run(&s->cfg, s->model, &s->pool);
    s->cfg.input_map = s->pool.have_map ? &s->pool.map : NULL;
    /* with --turns only the first turn is cut exact: later ones carry the answers */
    s->cfg.input_exact = s->pool.exact && s->cfg.turns <= 1;
    s->cfg.input_calib = poolcal_method_name(&s->pool);
    s->cfg.input_calib_note = s->pool.note[0] ? s->pool.note : NULL;
    if (build_plan(s, err, errlen) != 0 ||
        plan_shard(&s->plan, s->cfg.shard_index, s->cfg.shard_count, err, errlen) != 0)
        return LLM_EXIT_USAGE;
    plan_describe(&s->plan, s->plan_text, sizeof s->plan_text);
    char sent[160];
    workload_describe(&s->cfg, sent, sizeof sent);
    if (sent[0]) {
        size_t n = strlen(s->plan_text);
        snprintf(s->plan_text + n, sizeof s->plan_text - n, "; %s", sent);
    }
    /* NVML's start can take a moment: before the agreed start, not after it */
    gpumon_init(&s->gpu, NULL, NULL);
    gpumon_sample(&s->gpu, &s->gpur);
    gpuhist_init(&s->gpuh, &s->gpu);
    long threads = engine_threads_for(&s->cfg, &s->plan); /* --threads, as the engine runs it */
    if (threads > 1) {
        size_t n = strlen(s->plan_text);
        snprintf(s->plan_text + n, sizeof s->plan_text - n, "; %ld engine threads", threads);
    }
    start_server_metrics(s);
    wait_server_metrics(s);
    if (start_listener(s, err, errlen) != 0)
        return LLM_EXIT_USAGE;
    /* the series' second 0 and started_at are the agreed start, the same on every worker */
    if ((rc = wait_start_at(s, err, errlen)) != 0)
        return rc;
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
    s->st->gpu = &s->gpuh;
    gpuhist_record(&s->gpuh, 0, &s->gpur); /* second 0 has a reading too */
    s->st->prompt_calib_method = calib_method_name(s->calib.method);
    s->st->prompt_calib_chars = s->calib.chars;
    s->st->prompt_calib_measured = s->calib.measured;
    llm_strlcpy(s->st->prompt_calib_note, s->calib.note, sizeof s->st->prompt_calib_note);
    s->st->engine_threads = (uint32_t)engine_threads_for(&s->cfg, &s->plan);
    read_server_metrics(s); /* the base of the server's deltas: before any step */
    if (s->plan.search) {
        s->st->search = true;
        const plan_step *first = &s->plan.steps[0];
        search_start(&s->search, s->plan.search_rate ? first->rate : (double)first->concurrency,
                     s->plan.search_max, s->plan.search_rate);
    }
    if (engine_start(&s->cfg, &s->plan, s->model, &s->eng, err, errlen) != 0)
        return LLM_EXIT_USAGE;
    engine_read_gauges(s->eng, &s->gauges);
    return 0;
}

void session_print_end_notes(const run_session *s, FILE *f)
{
    uint64_t n = s->st ? s->st->totals.history_overflow : 0;
    if (n == 0)
        return;
    fprintf(f,
            "llmload: %llu conversation%s ended before %s last turn: an answer outgrew the "
            "history's buffer (sized for answers of max_tokens; does the server ignore it, or "
            "does --body-json set a larger one?)\n",
            (unsigned long long)n, n == 1 ? "" : "s", n == 1 ? "its" : "their");
}

void session_server_final(run_session *s)
{
    if (!s->srv || s->srvr.state != SRVMON_OK)
        return;
    uint64_t until = llm_now_ns() + 1200 * LLM_NS_PER_MS;
    unsigned long seen = s->srvr.seq;
    while (llm_now_ns() < until) {
        srvmon_read(s->srv, &s->srvr);
        if (s->srvr.seq != seen)
            break;
        usleep(20000);
    }
    read_server_metrics(s);
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
    session_note_stop(s, 0, s->stop_msg);
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
    session_note_stop(s, 0, s->stop_msg);
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

/* Commands from --listen's control endpoint go to the engine from this thread, the one
 * producer of its command ring. */
static void forward_commands(run_session *s)
{
    engine_cmd c;
    while (listen_take(s->lsn, &c)) {
        if (c.kind == ENGINE_CMD_STOP)
            session_note_stop(s, 0, "stopped by a control request");
        if (!engine_send(s->eng, c))
            fprintf(stderr, "llmload: a control command was dropped: the engine's queue is "
                            "full\n");
    }
}

/* The figures --listen serves, from the totals and the engine's gauges. */
static void publish_figures(run_session *s)
{
    if (!s->lsn)
        return;
    const stats_agg *t = &s->st->totals;
    listen_figures *f = s->lfig;
    f->ok = t->ok;
    memcpy(f->errors, t->errors, sizeof f->errors);
    f->output_tokens = t->output_tokens;
    f->prompt_tokens = t->prompt_tokens;
    f->cut = t->cut;
    f->target = s->gauges.target;
    f->inflight = s->gauges.inflight;
    f->step = s->gauges.step;
    f->n_steps = s->gauges.n_steps;
    f->lost_events = s->gauges.lost_events;
    f->state = s->gauges.state;
    f->manual = s->gauges.manual;
    f->shard_index = s->cfg.shard_index;
    f->shard_count = s->cfg.shard_count;
    f->ttft = t->h[STATS_TTFT];
    f->e2e = t->h[STATS_E2E];
    f->itl = t->h[STATS_ITL];
    listen_publish(s->lsn, f);
}

void session_drain(run_session *s)
{
    size_t n;
    while ((n = engine_poll(s->eng, s->burst, SESSION_BURST)) > 0)
        for (size_t i = 0; i < n; i++)
            stats_consume(s->st, &s->burst[i]);
    forward_commands(s);
    note_unreachable(s);
    note_rejected(s);
    if (!s->stop_code)
        search_advance(s);
}

void session_note_stop(run_session *s, int sig, const char *reason)
{
    if (s->st->interrupted)
        return;
    s->st->interrupted = true;
    s->st->stop_signal = sig;
    llm_strlcpy(s->st->stop_reason, reason, sizeof s->st->stop_reason);
}

int session_signal_exit(const run_session *s)
{
    return s->st && s->st->stop_signal > 0 ? 128 + s->st->stop_signal : 0;
}

/* Why a run that was not stopped ended (once its engine finished). */
static void note_end(run_session *s)
{
    if (s->st->interrupted || s->st->stop_reason[0])
        return;
    llm_strlcpy(s->st->stop_reason, s->plan.search ? "the search reached its answer" : "completed",
                sizeof s->st->stop_reason);
}

int session_save(run_session *s, const char *path, bool partial, char *err, size_t errlen)
{
    s->st->partial = partial && !engine_finished(s->eng);
    if (!s->st->partial && engine_finished(s->eng))
        note_end(s);
    engine_read_gauges(s->eng, &s->gauges);
    return snapshot_write(path, s->st, &s->cfg, s->started, time(NULL), s->gauges.lost_events, err,
                          errlen);
}

int session_autosave_path(run_session *s, char *err, size_t errlen)
{
    if (s->autosave_path[0])
        return 0;
    /* A FIFO or device (--json /dev/stdout) takes the final results only. */
    if (s->cfg.json_path && !llm_output_is_stream(s->cfg.json_path)) {
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
    gpumon_sample(&s->gpu, &s->gpur);
    gpuhist_record(&s->gpuh, s->st->open.t, &s->gpur);
    read_server_metrics(s);
    publish_figures(s);
    if (s->plan.search)
        search_cut_short(s);
    if (s->cfg.autosave_s > 0 && now - s->last_save_ns >= (uint64_t)(s->cfg.autosave_s * 1e9)) {
        char err[256];
        if (session_autosave_path(s, err, sizeof err) != 0 ||
            session_save(s, s->autosave_path, true, err, sizeof err) != 0)
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
    char why[ANALYSIS_TEXT];
    /* A run that measured nothing (nothing completed, or no token in any success) passes no
     * gate: --max-error-rate, on by default, and --fail-on-slo (DESIGN.md §11). */
    if (!analysis_measured(t, why, sizeof why)) {
        fprintf(stderr, "llmload: %s: a run that measured nothing fails --max-error-rate%s\n", why,
                s->cfg.fail_on_slo ? " and --fail-on-slo" : "");
        return LLM_EXIT_FAILED;
    }
    uint64_t n = t->ok + t->failed;
    double err_pct = 100.0 * (double)t->failed / (double)n;
    /* A search drives the server past its limit on purpose: its SLO decides, below. */
    if (err_pct > s->cfg.max_error_rate_pct && !s->plan.search) {
        fprintf(stderr, "llmload: %.1f %% of requests failed, over --max-error-rate %.1f %%\n",
                err_pct, s->cfg.max_error_rate_pct);
        return LLM_EXIT_FAILED;
    }
    if (s->cfg.fail_on_slo && s->plan.search) {
        search_state found;
        analysis_search(s->st, &found);
        if (found.best == 0) {
            /* why the lowest load tried missed */
            why[0] = '\0';
            for (size_t i = 0; i < s->st->steps_ended && i < s->st->n_steps; i++) {
                const stats_agg *a = stats_step(s->st, i);
                if (!a || !a->opened || why[0])
                    continue;
                if ((a->rate > 0 ? a->rate : (double)a->concurrency) == found.first_miss)
                    analysis_slo_verdict(a, &s->st->slo, why, sizeof why);
            }
            fprintf(stderr, "llmload: no step of the search met the SLO given with --slo%s%s%s\n",
                    why[0] ? " (the lowest load tried: " : "", why, why[0] ? ")" : "");
            return LLM_EXIT_FAILED;
        }
    } else if (s->cfg.fail_on_slo && !analysis_slo_verdict(t, &s->cfg.slo, why, sizeof why)) {
        fprintf(stderr, "llmload: --fail-on-slo: the run missed the SLO given with --slo: %s\n",
                why);
        return LLM_EXIT_FAILED;
    }
    return LLM_EXIT_OK;
}

void session_close(run_session *s)
{
    listen_stop(s->lsn);
    free(s->lfig);
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
    poolcal_free(&s->pool);
    demo_stop(&s->demo);
    gpumon_close(&s->gpu);
    gpuhist_free(&s->gpuh);
    memset(s, 0, sizeof *s);
}
