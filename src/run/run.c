#include "run/run.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/stop.h"
#include "base/util.h"
#include "core/snapshot.h"
#include "core/summary.h"
#include "run/session.h"

#define POLL_INTERVAL_US 10000

/* The only global mutable state: what the signal handler must reach. */
static volatile sig_atomic_t g_signal;

static void on_signal(int sig)
{
    g_signal = sig;
    llm_stop_set(sig); /* the preflight polls this one */
}

static void install_signals(void)
{
    if (llm_stop_install(on_signal) != 0)
        fprintf(stderr, "llmload: cannot catch signals: one would end the run without saving it\n");
}

static void print_progress(run_session *s, FILE *log)
{
    const engine_gauges *g = &s->gauges;
    const stats_agg *t = &s->st->totals;
    const stats_row *live = stats_live(s->st);
    double elapsed = (double)(llm_now_ns() - s->start_ns) / 1e9;
    char p50[24] = "-", p99[24] = "-";
    if (live && !isnan(live->ttft_p50_ms)) {
        llm_format_ms(live->ttft_p50_ms, p50, sizeof p50, true);
        llm_format_ms(live->ttft_p99_ms, p99, sizeof p99, true);
    }
    char temp[16];
    sysmon_format_temp(s->sysr.temp_c, temp, sizeof temp);
    char line[400], step[24];
    plan_step_counter(&s->plan, g->step, g->n_steps, step, sizeof step);
    snprintf(line, sizeof line,
             "[%6.0fs] step %s  target %u  in-flight %u  ok %llu  failed %llu  "
             "rps %u  tps %u  ttft p50 %s p99 %s  cpu %.0f%% (llmload %.0f%%)  temp %s%s\n",
             elapsed, step, g->target, g->inflight, (unsigned long long)t->ok,
             (unsigned long long)t->failed, live ? live->rps : 0, live ? live->tps : 0, p50, p99,
             s->sysr.cpu_total_pct, s->sysr.self_cpu_pct, temp,
             g->lost_events ? "  EVENTS LOST" : "");
    fputs(line, stderr);
    if (log) /* -l: every printed result line goes to the log file too */
        fputs(line, log);
}

static void handle_signal(run_session *s, int *signals_seen)
{
    if (!g_signal)
        return;
    int sig = g_signal;
    g_signal = 0;
    if (++*signals_seen == 1) {
        fprintf(stderr, "llmload: stopping; results so far are kept (signal again to quit "
                        "at once)\n");
        char why[64];
        snprintf(why, sizeof why, "stopped by signal %d (%s)", sig, strsignal(sig));
        session_note_stop(s, sig, why);
        engine_send(s->eng, (engine_cmd){.kind = ENGINE_CMD_STOP});
    } else {
        fprintf(stderr, "llmload: quitting without waiting\n");
        _exit(130);
    }
}

/* Once: which engine's /metrics are read, or why none are. */
static void note_server_metrics(const run_session *s, srvmon_state *noted)
{
    if (!s->srv || s->srvr.state == *noted)
        return;
    *noted = s->srvr.state;
    if (*noted == SRVMON_OK)
        fprintf(stderr, "llmload: server metrics: %s at %s\n", s->srvr.fig.engine, s->srvr.url);
    else if (*noted == SRVMON_UNAVAILABLE)
        fprintf(stderr, "llmload: no server metrics: %s\n", s->srvr.note);
}

/* Returns the signals seen (0: the run ended by itself). */
static int run_loop(run_session *s, FILE *log)
{
    int signals_seen = 0;
    srvmon_state noted = SRVMON_STARTING;
    uint64_t last_second = s->start_ns;
    while (!engine_finished(s->eng)) {
        usleep(POLL_INTERVAL_US);
        session_drain(s);
        handle_signal(s, &signals_seen);
        uint64_t now = llm_now_ns();
        if (now - last_second >= LLM_NS_PER_SEC) {
            last_second += LLM_NS_PER_SEC;
            session_second(s, now);
            note_server_metrics(s, &noted);
            print_progress(s, log);
        }
    }
    session_drain(s);
    stats_tick(s->st, llm_now_ns());
    engine_read_gauges(s->eng, &s->gauges);
    return signals_seen;
}

/* --output_format json (llm_benchmark.py's): the snapshot on one line, so a loop that
 * appends runs to one file gets JSON Lines. */
static void print_json_line(run_session *s)
{
    int e = snapshot_print(stdout, s->st, &s->cfg, s->started, time(NULL), s->gauges.lost_events);
    if (e == 0)
        putchar('\n');
    else
        fprintf(stderr, "llmload: cannot print the JSON results: %s\n", strerror(e));
}

static void print_results(run_session *s, FILE *log)
{
    if (s->cfg.output_format && strcmp(s->cfg.output_format, "json") == 0)
        print_json_line(s);
    else
        stats_print_summary(stdout, s->st, s->gauges.lost_events);
    fflush(stdout);
    if (log)
        stats_print_summary(log, s->st, s->gauges.lost_events);
}

static FILE *open_log(const char *path, char *err, size_t errlen)
{
    FILE *log = fopen(path, "a");
    if (!log)
        snprintf(err, errlen, "--log-file %s: cannot append to it (%s)", path, strerror(errno));
    else
        setvbuf(log, NULL, _IOLBF, 0);
    return log;
}

int run_headless(const llm_config *cfg)
{
    run_session *s = calloc(1, sizeof *s);
    if (!s)
        return LLM_EXIT_USAGE;
    char err[512] = "";
    install_signals();
    FILE *log = cfg->log_file ? open_log(cfg->log_file, err, sizeof err) : NULL;
    int rc = cfg->log_file && !log ? LLM_EXIT_USAGE : session_open(s, cfg, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "llmload: %s\n", err);
        session_close(s);
        free(s);
        if (log)
            fclose(log);
        return rc;
    }
    fprintf(stderr, "llmload: %s  model %s  %s\n", s->cfg.url, s->model ? s->model : "(default)",
            s->plan_text);
    if (s->calib.note[0])
        fprintf(stderr, "llmload: %s\n", s->calib.note);
    if (s->pool.note[0])
        fprintf(stderr, "llmload: %s\n", s->pool.note);
    if (run_loop(s, log) == 0)
        session_server_final(s);
    print_results(s, log);
    session_print_end_notes(s, stderr);
    if (log)
        fclose(log);
    rc = session_exit_code(s);
    if (session_signal_exit(s)) /* written below; a stopped run never exits as finished */
        rc = session_signal_exit(s);
    /* The final results go to --json, or to the file the autosaves went to. */
    const char *final_path = s->cfg.json_path      ? s->cfg.json_path
                             : s->autosave_path[0] ? s->autosave_path
                                                   : NULL;
    if (final_path) {
        if (session_save(s, final_path, false, err, sizeof err) != 0) {
            fprintf(stderr, "llmload: %s\n", err);
            rc = LLM_EXIT_FAILED; /* results lost: that is the news, whatever else happened */
        } else {
            fprintf(stderr, "llmload: results written to %s\n", final_path);
        }
    }
    session_close(s);
    free(s);
    return rc;
}
