#include "report/report.h"

#include "base/fileout.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/util.h"

/* ---- Markdown: the seeds' report (basic figures, the table per concurrency, the best
 * configuration, recommendations) plus the analysis ---- */

static void md_num(FILE *out, double v, const char *fmt)
{
    if (isnan(v))
        fputs(" - |", out);
    else {
        fputc(' ', out);
        fprintf(out, fmt, v);
        fputs(" |", out);
    }
}

static void load_label(const snap_step *s, char *buf, size_t cap)
{
    if (s->rate > 0)
        snprintf(buf, cap, "%.4g/s", s->rate);
    else if (!isnan(s->concurrency))
        snprintf(buf, cap, "%.0f", s->concurrency);
    else
        snprintf(buf, cap, "-");
}

static double success_pct(const snap_step *s)
{
    double n = s->ok + s->failed;
    return n > 0 ? 100.0 * s->ok / n : NAN;
}

static bool has_requests(const snap_step *s)
{
    return s->ok + s->failed > 0;
}

static void md_steps(FILE *out, const snap_doc *d)
{
    fputs("| step | test | load | requests | success | RPS | TPS | avg latency (s) | "
          "P99 latency (s) | TTFT p50 (ms) | TTFT p99 (ms) | TPOT p50 (ms) | tok/s per stream |\n"
          "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
          out);
    for (size_t i = 0; i < d->n_steps; i++) {
        const snap_step *s = &d->steps[i];
        char load[32];
        load_label(s, load, sizeof load);
        fprintf(out, "| %d | %s | %s |", s->index, s->test ? s->test : "output", load);
        md_num(out, s->ok + s->failed, "%.0f");
        double ok = success_pct(s);
        if (isnan(ok))
            fputs(" - |", out);
        else
            fprintf(out, " %.1f %% |", ok);
        md_num(out, s->rps, "%.2f");
        md_num(out, s->tps, "%.1f");
        md_num(out, s->m[STATS_E2E].mean / 1e3, "%.3f");
        md_num(out, s->m[STATS_E2E].p99 / 1e3, "%.3f");
        md_num(out, s->m[STATS_TTFT].p50, "%.1f");
        md_num(out, s->m[STATS_TTFT].p99, "%.1f");
        md_num(out, s->m[STATS_TPOT].p50, "%.2f");
        md_num(out, s->m[STATS_PER_STREAM_TPS].p50, "%.1f");
        fputc('\n', out);
    }
}

const char *const report_workload_cols[REPORT_WORKLOAD_COLS] = {"in mean",
                                                                "in p50",
                                                                "in p90",
                                                                "in p99",
                                                                "in max",
                                                                "out mean",
                                                                "out p50",
                                                                "out p90",
                                                                "out p99",
                                                                "out max",
                                                                "ended early %",
                                                                "cache hit %",
                                                                "cached tokens",
                                                                "TTFT hit p50 (ms)",
                                                                "TTFT miss p50 (ms)"};

static double share_pct(double part, double whole)
{
    return whole > 0 ? 100.0 * part / whole : NAN;
}

void report_workload_row(const snap_step *s, double v[REPORT_WORKLOAD_COLS])
{
    const snap_summary *in = &s->m[STATS_INPUT_TOKENS], *out = &s->m[STATS_OUTPUT_TOKENS];
    const double row[REPORT_WORKLOAD_COLS] = {
        in->mean,
        in->p50,
        in->p90,
        in->p99,
        in->max,
        out->mean,
        out->p50,
        out->p90,
        out->p99,
        out->max,
        share_pct(s->ended_early, s->asked_output),
        isnan(s->cache_hit_share) ? NAN : 100.0 * s->cache_hit_share,
        s->cache_reported > 0 ? s->cached_tokens : NAN,
        s->m[STATS_TTFT_CACHE_HIT].p50,
        s->m[STATS_TTFT_CACHE_MISS].p50};
    memcpy(v, row, sizeof row);
}

bool report_has_workload(const snap_doc *d)
{
    return d->totals.m[STATS_INPUT_TOKENS].count > 0;
}

static void md_workload(FILE *out, const snap_doc *d)
{
    if (!report_has_workload(d))
        return;
    fputs("\n## Workload\n\nLengths in tokens as the server counted them (its usage; else "
          "characters / 4); the cache as the server reported it (cached_tokens).\n\n| step |",
          out);
    for (int k = 0; k < REPORT_WORKLOAD_COLS; k++)
        fprintf(out, " %s |", report_workload_cols[k]);
    fputs("\n|---|", out);
    for (int k = 0; k < REPORT_WORKLOAD_COLS; k++)
        fputs("---:|", out);
    fputc('\n', out);
    for (size_t i = 0; i <= d->n_steps; i++) {
        const snap_step *s = i < d->n_steps ? &d->steps[i] : &d->totals;
        double v[REPORT_WORKLOAD_COLS];
        report_workload_row(s, v);
        if (i < d->n_steps)
            fprintf(out, "| %d |", s->index);
        else
            fputs("| all |", out);
        for (int k = 0; k < REPORT_WORKLOAD_COLS; k++)
            md_num(out, v[k], "%.4g");
        fputc('\n', out);
    }
}

/* --turns: turn 1 against turn k, the whole run. */
static void md_turns(FILE *out, const snap_doc *d)
{
    const snap_step *t = &d->totals;
    if (t->n_turns == 0)
        return;
    fputs("\n## Turns\n\n| turn | requests | TTFT mean (ms) | prompt tokens | cached tokens |\n"
          "|---:|---:|---:|---:|---:|\n",
          out);
    for (size_t i = 0; i < t->n_turns; i++) {
        const snap_turn *k = &t->turns[i];
        fprintf(out, "| %.0f |", k->turn);
        md_num(out, k->requests, "%.0f");
        md_num(out, k->ttft_mean_ms, "%.1f");
        md_num(out, k->prompt_tokens_mean, "%.1f");
        md_num(out, k->cached_tokens_mean, "%.1f");
        fputc('\n', out);
    }
}

/* The seeds' "best configuration" and their recommendation rules. The recommendation is
 * the analysis' best load (from the knees: DESIGN §9); for older files without it, the
 * first step within 5 % of the highest RPS (a step that adds load for 0.1 % more
 * throughput is not better). */
void report_advise(const snap_doc *d, report_advice *adv)
{
    memset(adv, 0, sizeof *adv);
    const snap_step *top = NULL, *best_lat = NULL, *last = NULL, *prev = NULL;
    for (size_t i = 0; i < d->n_steps; i++) {
        const snap_step *s = &d->steps[i];
        if (!has_requests(s))
            continue;
        prev = last;
        last = s;
        if (!isnan(s->rps) && (!top || s->rps > top->rps))
            top = s;
        if (!isnan(s->m[STATS_E2E].mean) &&
            (!best_lat || s->m[STATS_E2E].mean < best_lat->m[STATS_E2E].mean))
            best_lat = s;
    }
    if (!top)
        return;
    const snap_step *best = top;
    for (size_t i = 0; i < d->n_steps; i++)
        if (has_requests(&d->steps[i]) && d->steps[i].rps >= 0.95 * top->rps) {
            best = &d->steps[i];
            break;
        }
    char load[32];
    load_label(top, load, sizeof load);
    snprintf(adv->best[adv->n_best++], REPORT_ADVICE_LEN,
             "highest RPS: step %d, load %s (%.2f req/s)", top->index, load, top->rps);
    if (best_lat) {
        load_label(best_lat, load, sizeof load);
        snprintf(adv->best[adv->n_best++], REPORT_ADVICE_LEN,
                 "lowest average latency: step %d, load %s (%.3f s)", best_lat->index, load,
                 best_lat->m[STATS_E2E].mean / 1e3);
    }
    /* A search's steps go up and down: its own answer is the recommendation. */
    const snap_analysis *an = &d->analysis;
    if (an->has_search && isfinite(an->search_best)) {
        bool rate = an->search_rate;
        snprintf(load, sizeof load, rate ? "%.4g/s" : "%.0f", an->search_best);
        /* first: it is the answer the run was for */
        memmove(adv->best[1], adv->best[0], adv->n_best * sizeof adv->best[0]);
        snprintf(adv->best[0], REPORT_ADVICE_LEN,
                 "highest load that meets the SLO: %s (found by --search)", load);
        adv->n_best++;
        snprintf(adv->recommend[adv->n_recommend++], REPORT_ADVICE_LEN,
                 "Keep the load at or below %s to meet the SLO.", load);
        return;
    }
    if (!prev)
        return;
    char *r = adv->recommend[adv->n_recommend++];
    if (an->best_load.found) {
        /* the analysis' answer, from the two knees, so the report cannot disagree with it */
        const char *unit = an->knee_is_rate ? " req/s" : "";
        if (an->best_load.reason)
            snprintf(r, REPORT_ADVICE_LEN, "Run at %s%.4g%s: %s",
                     an->knee_is_rate ? "" : "c=", an->best_load.load, unit, an->best_load.reason);
        else
            snprintf(r, REPORT_ADVICE_LEN, "Run at %s%.4g%s.",
                     an->knee_is_rate ? "" : "c=", an->best_load.load, unit);
    } else if (best == last && last->rps >= 1.10 * prev->rps) {
        snprintf(r, REPORT_ADVICE_LEN,
                 "Throughput was still growing at the highest load tried: try a higher load.");
    } else if (best->index == d->steps[0].index) {
        snprintf(r, REPORT_ADVICE_LEN,
                 "Throughput was best at the lowest load: the load may be too high; try lower.");
    } else {
        load_label(best, load, sizeof load);
        snprintf(r, REPORT_ADVICE_LEN,
                 "The best load is around %s (step %d): it reaches %.2f req/s, within 5 %% of "
                 "the highest.",
                 load, best->index, best->rps);
    }
    double ok = success_pct(last);
    if (ok < 95)
        snprintf(adv->recommend[adv->n_recommend++], REPORT_ADVICE_LEN,
                 "Only %.1f %% of requests succeeded at the highest load: check the server's "
                 "resources or lower the load.",
                 ok);
}

static void md_best(FILE *out, const snap_doc *d)
{
    report_advice adv;
    report_advise(d, &adv);
    if (adv.n_best)
        fputs("\n## Best configuration\n\n", out);
    for (size_t i = 0; i < adv.n_best; i++)
        fprintf(out, "- %s\n", adv.best[i]);
    if (adv.n_recommend)
        fputs("\n## Recommendations\n\n", out);
    for (size_t i = 0; i < adv.n_recommend; i++)
        fprintf(out, "- %s\n", adv.recommend[i]);
}

static void md_analysis(FILE *out, const snap_doc *d)
{
    const snap_analysis *an = &d->analysis;
    if (!an->has_knee && an->n_findings == 0)
        return;
    fputs("\n## Analysis\n\n", out);
    const snap_load_note *notes[] = {&an->throughput_knee, &an->latency_knee};
    const char *names[] = {"throughput knee", "latency knee"};
    bool two = notes[0]->found || notes[1]->found;
    for (int i = 0; i < 2; i++) {
        if (!notes[i]->found)
            continue;
        const char *why = notes[i]->reason ? notes[i]->reason : "-";
        if (an->knee_is_rate)
            fprintf(out, "- **%s** at %.4g req/s: %s\n", names[i], notes[i]->load, why);
        else
            fprintf(out, "- **%s** at c=%.0f: %s\n", names[i], notes[i]->load, why);
    }
    const char *reason = an->knee_reason ? an->knee_reason : "-";
    if (!two && an->has_knee && an->knee_is_rate) /* a file from before the two knees */
        fprintf(out, "- **knee** at %.4g req/s: %s\n", an->knee_load, reason);
    else if (!two && an->has_knee)
        fprintf(out, "- **knee** at c=%.0f: %s\n", an->knee_load, reason);
    if (an->slo_verdict)
        fprintf(out, "- **SLO**: %s\n", an->slo_verdict);
    for (size_t i = 0; i < an->n_findings; i++)
        fprintf(out, "- %s\n", an->findings[i]);
}

static bool per_request(const snap_step *s)
{
    return s->overhead_method && !strcmp(s->overhead_method, "per_request");
}

bool report_overhead_unresolved(const snap_step *s)
{
    double d = s->m[STATS_E2E].p50 - s->m[STATS_SRV_E2E].p50;
    return !per_request(s) && fabs(d) < s->overhead_res_ms;
}

double report_overhead_p50(const snap_step *s)
{
    if (per_request(s))
        return s->m[STATS_OVH_E2E].p50;
    if (report_overhead_unresolved(s))
        return NAN;
    return s->m[STATS_E2E].p50 - s->m[STATS_SRV_E2E].p50;
}

/* Issue 13: the server's own figures beside the client's, per step and for the run. */
bool report_server_row(const snap_step *s, double v[REPORT_SERVER_COLS])
{
    bool timings = s->srv_source && !strcmp(s->srv_source, "timings");
    const double row[REPORT_SERVER_COLS] = {s->m[STATS_TTFT].p50,
                                            timings ? s->m[STATS_SRV_PREFILL].p50
                                                    : s->m[STATS_SRV_TTFT].p50,
                                            s->m[STATS_E2E].p50,
                                            s->m[STATS_SRV_E2E].p50,
                                            s->m[STATS_SRV_QUEUE].p50,
                                            s->m[STATS_TPOT].p50,
                                            s->m[STATS_SRV_DECODE].p50,
                                            report_overhead_p50(s),
                                            s->srv_tokens,
                                            s->srv_client_tokens};
    memcpy(v, row, sizeof row);
    return timings;
}

static void md_server_row(FILE *out, const char *name, const snap_step *s)
{
    static const char *const fmt[REPORT_SERVER_COLS] = {"%.1f", "%.1f", "%.1f", "%.1f", "%.1f",
                                                        "%.2f", "%.2f", NULL,   "%.0f", "%.0f"};
    char load[32];
    load_label(s, load, sizeof load);
    double v[REPORT_SERVER_COLS];
    bool timings = report_server_row(s, v);
    fprintf(out, "| %s | %s | %s |", name, load,
            timings ? "timings (per request)" : "/metrics (bucket resolution)");
    for (int k = 0; k < REPORT_SERVER_COLS; k++) {
        if (fmt[k])
            md_num(out, v[k], fmt[k]);
        else if (report_overhead_unresolved(s)) /* the overhead: its resolution, or ... */
            fprintf(out, " within the %.0f ms bucket |", s->overhead_res_ms);
        else if (isnan(v[k])) /* ... says when it is a difference of p50s */
            fputs(" - |", out);
        else
            fprintf(out, " %.1f%s |", v[k], timings ? "" : " (diff. of p50s)");
    }
    md_num(out, s->srv_tokens_diff_pct, "%+.2f %%");
    fputc('\n', out);
}

static void md_server(FILE *out, const snap_doc *d)
{
    if (!d->totals.srv_source)
        return;
    fputs("\n## Client vs server\n\n"
          "TTFT, E2E, queue in ms (p50); server TTFT is the prefill with timings; TPOT and "
          "decode in ms per token; overhead = client E2E - server E2E.\n\n"
          "| step | load | server source | TTFT client | TTFT server | E2E client | E2E server | "
          "queue server | TPOT client | decode server | overhead | tokens server | tokens "
          "client | diff |\n"
          "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
          out);
    for (size_t i = 0; i < d->n_steps; i++) {
        if (!d->steps[i].srv_source)
            continue;
        char name[16];
        snprintf(name, sizeof name, "%d", d->steps[i].index);
        md_server_row(out, name, &d->steps[i]);
    }
    md_server_row(out, "run", &d->totals);
}

/* As the HTML page: what the server said it ran, else the model asked for. */
static void md_model(FILE *out, const snap_config *c)
{
    const char *srv = c->server_model && c->server_model[0] ? c->server_model : NULL;
    const char *asked = c->model && c->model[0] ? c->model : NULL;
    if (srv && asked && strcmp(srv, asked) != 0)
        fprintf(out, "| model | %s (asked for %s) |\n", srv, asked);
    else if (srv || asked)
        fprintf(out, "| model | %s%s |\n", srv ? srv : asked,
                srv ? "" : " (as asked; the server did not name it)");
    else
        fputs("| model | (server default) |\n", out);
}

/* Issue 16: the GPUs of the machine that ran llmload (a local server's), per device over
 * the run, then the highest figures and whether clocks were held down. */
static void md_gpu(FILE *out, const snap_doc *d)
{
    const snap_gpu *g = &d->gpu;
    if (!g->present || g->n_devices == 0)
        return;
    fputs("\n## GPU\n\nThe GPUs of the machine llmload ran on, sampled once a second.\n\n"
          "| # | name | vendor | util mean (%) | util max (%) | memory max (MiB) | memory total "
          "(MiB) | temp max (\xC2\xB0"
          "C) | power max (W) |\n"
          "|---:|---|---|---:|---:|---:|---:|---:|---:|\n",
          out);
    for (size_t i = 0; i < g->n_devices; i++) {
        const snap_gpu_device *v = &g->devices[i];
        fprintf(out, "|");
        md_num(out, v->index, "%.0f");
        fprintf(out, " %s | %s |", v->name ? v->name : "-", v->vendor ? v->vendor : "-");
        md_num(out, v->util_mean_pct, "%.1f");
        md_num(out, v->util_max_pct, "%.0f");
        md_num(out, v->mem_used_max_mb, "%.0f");
        md_num(out, v->mem_total_mb, "%.0f");
        md_num(out, v->temp_max_c, "%.0f");
        md_num(out, v->power_max_w, "%.1f");
        fputc('\n', out);
    }
    fprintf(out, "\nHighest over the run:");
    if (!isnan(g->max_temp_c))
        fprintf(out,
                " %.0f \xC2\xB0"
                "C,",
                g->max_temp_c);
    if (!isnan(g->max_power_w))
        fprintf(out, " %.1f W,", g->max_power_w);
    if (!isnan(g->max_util_pct))
        fprintf(out, " %.0f %% busy,", g->max_util_pct);
    fprintf(out, " throttling %s.\n",
            g->throttling_seen ? "seen (clocks held down for power or heat)" : "not seen");
}

void report_markdown(FILE *out, const snap_doc *d)
{
    const snap_step *t = &d->totals;
    fprintf(out, "# llmload report: %s\n\n", d->path);
    fprintf(out, "| | |\n|---|---|\n");
    fprintf(out, "| target | %s |\n", d->config.url ? d->config.url : "-");
    md_model(out, &d->config);
    fprintf(out, "| plan | %s |\n", d->config.plan ? d->config.plan : "-");
    fprintf(out, "| started / ended | %s / %s |\n", d->started ? d->started : "-",
            d->ended ? d->ended : "-");
    fprintf(out, "| requests | %.0f ok, %.0f failed |\n", isnan(t->ok) ? 0 : t->ok,
            isnan(t->failed) ? 0 : t->failed);
    fprintf(out, "| output tokens | %.0f |\n", isnan(t->output_tokens) ? 0 : t->output_tokens);
    if (!isnan(t->duration_s))
        fprintf(out, "| test time | %.2f s |\n", t->duration_s);
    if (!isnan(t->tps))
        fprintf(out, "| average token rate | %.2f tok/s |\n", t->tps);
    fprintf(out, "| llmload | %s |\n\n## Steps\n\n", d->version ? d->version : "-");
    md_steps(out, d);
    md_server(out, d);
    md_workload(out, d);
    md_turns(out, d);
    md_gpu(out, d);
    md_best(out, d);
    md_analysis(out, d);
}

/* ---- CSV: one row per step ---- */

static void csv_field(FILE *out, double v)
{
    fputc(',', out);
    if (!isnan(v))
        fprintf(out, "%.6g", v);
}

/* A path as one CSV field: quoted, quotes doubled. */
static void csv_text(FILE *out, const char *s)
{
    fputc('"', out);
    for (; s && *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

void report_csv(FILE *out, const snap_doc *d, bool with_header)
{
    if (with_header)
        fputs("file,step,test,concurrency,rate,duration_s,requests_ok,requests_failed,"
              "success_pct,rps,tps,output_tokens,ttft_mean_ms,ttft_p50_ms,ttft_p99_ms,"
              "e2e_mean_ms,e2e_p50_ms,e2e_p99_ms,itl_p50_ms,tpot_p50_ms,per_stream_tps_"
              "p50,server_source,server_ttft_p50_ms,server_e2e_p50_ms,server_queue_p50_ms,"
              "server_prefill_p50_ms,server_decode_ms_per_token_p50,client_overhead_e2e_p50_ms,"
              "server_tokens,client_tokens,input_tokens_mean,input_tokens_p50,input_tokens_p90,"
              "input_tokens_p99,input_tokens_max,output_tokens_mean,output_tokens_p50,"
              "output_tokens_p90,output_tokens_p99,output_tokens_max,ended_early_pct,"
              "cache_hit_pct,cached_tokens,ttft_cache_hit_p50_ms,ttft_cache_miss_p50_ms\n",
              out);
    for (size_t i = 0; i < d->n_steps; i++) {
        const snap_step *s = &d->steps[i];
        csv_text(out, d->path);
        fprintf(out, ",%d,%s", s->index, s->test ? s->test : "output");
        const double v[] = {s->rate > 0 ? NAN : s->concurrency,
                            s->rate > 0 ? s->rate : NAN,
                            s->duration_s,
                            s->ok,
                            s->failed,
                            success_pct(s),
                            s->rps,
                            s->tps,
                            s->output_tokens,
                            s->m[STATS_TTFT].mean,
                            s->m[STATS_TTFT].p50,
                            s->m[STATS_TTFT].p99,
                            s->m[STATS_E2E].mean,
                            s->m[STATS_E2E].p50,
                            s->m[STATS_E2E].p99,
                            s->m[STATS_ITL].p50,
                            s->m[STATS_TPOT].p50,
                            s->m[STATS_PER_STREAM_TPS].p50};
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++)
            csv_field(out, v[k]);
        fprintf(out, ",%s", s->srv_source ? s->srv_source : "");
        const double sv[] = {s->m[STATS_SRV_TTFT].p50,
                             s->m[STATS_SRV_E2E].p50,
                             s->m[STATS_SRV_QUEUE].p50,
                             s->m[STATS_SRV_PREFILL].p50,
                             s->m[STATS_SRV_DECODE].p50,
                             s->srv_source ? report_overhead_p50(s) : NAN,
                             s->srv_source ? s->srv_tokens : NAN,
                             s->srv_source ? s->srv_client_tokens : NAN};
        for (size_t k = 0; k < sizeof sv / sizeof sv[0]; k++)
            csv_field(out, sv[k]);
        double w[REPORT_WORKLOAD_COLS]; /* the Workload table's columns, in its order */
        report_workload_row(s, w);
        for (size_t k = 0; k < REPORT_WORKLOAD_COLS; k++)
            csv_field(out, w[k]);
        fputc('\n', out);
    }
}

/* ---- the subcommand ---- */

/* What one report run writes: the documents in the asked format. */
typedef struct {
    const snap_doc *docs;
    size_t n;
    const char *format;
} report_job;

static int write_report(FILE *out, void *arg)
{
    const report_job *j = arg;
    if (strcmp(j->format, "html") == 0) {
        report_html(out, j->docs, j->n);
    } else if (strcmp(j->format, "vllm-json") == 0) {
        for (size_t i = 0; i < j->n; i++)
            if (report_vllm_json(out, &j->docs[i]) != 0)
                return ENOMEM;
    } else {
        for (size_t i = 0; i < j->n; i++) {
            if (strcmp(j->format, "csv") == 0) {
                report_csv(out, &j->docs[i], i == 0);
            } else {
                if (i > 0)
                    fputc('\n', out);
                report_markdown(out, &j->docs[i]);
            }
        }
    }
    return fflush(out) != 0 || ferror(out) ? (errno ? errno : EIO) : 0;
}

int report_main(const llm_config *cfg)
{
    const char *format = cfg->report_format ? cfg->report_format : "md";
    if (cfg->n_files == 0) {
        fprintf(stderr, "llmload: report needs a snapshot file: llmload report FILE.json "
                        "[--format md|csv|html] [-o FILE]\n");
        return LLM_EXIT_USAGE;
    }
    snap_doc *docs = calloc(cfg->n_files, sizeof *docs);
    if (!docs) {
        fprintf(stderr, "llmload: out of memory\n");
        return LLM_EXIT_FAILED;
    }
    char err[512];
    int rc = LLM_EXIT_OK;
    size_t loaded = 0;
    for (; loaded < cfg->n_files; loaded++) {
        if (snap_load(cfg->files[loaded], &docs[loaded], err, sizeof err) != 0) {
            fprintf(stderr, "llmload: %s\n", err);
            rc = LLM_EXIT_USAGE;
            break;
        }
    }
    report_job job = {docs, cfg->n_files, format};
    if (rc == LLM_EXIT_OK && cfg->output_path) {
        /* -o was checked before anything was read (config): never an input, never a
         * directory; written through a temporary file and renamed (DESIGN §11) */
        if (llm_write_file_atomic(cfg->output_path, write_report, &job, err, sizeof err) != 0) {
            fprintf(stderr, "llmload: %s\n", err);
            rc = LLM_EXIT_FAILED;
        } else {
            fprintf(stderr, "llmload: report written to %s\n", cfg->output_path);
        }
    } else if (rc == LLM_EXIT_OK && write_report(stdout, &job) != 0) {
        fprintf(stderr, "llmload: cannot write the report to standard output: %s\n",
                strerror(errno));
        rc = LLM_EXIT_FAILED;
    }
    for (size_t i = 0; i < loaded; i++)
        snap_free(&docs[i]);
    free(docs);
    return rc;
}
