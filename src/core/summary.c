/* core/summary: the headless summary table (see summary.h). */
#include "core/summary.h"

#include "core/analysis.h"
#include "core/gpuhist.h"

#include <math.h>

static void print_cell(FILE *out, double v)
{
    if (isnan(v))
        fprintf(out, " %10s", "-");
    else
        fprintf(out, " %10.2f", v);
}

static void print_metric_row(FILE *out, const stats_agg *a, stats_metric m)
{
    static const double cols[] = {-1, 50, 90, 99, 100};
    char label[32];
    snprintf(label, sizeof label, "%s (%s)", stats_metric_label(m), stats_metric_unit(m));
    fprintf(out, "  %-22s", label);
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        print_cell(out, stats_agg_value(a, m, cols[i]));
    fputc('\n', out);
}

/* TTFO is shown only when it differs from TTFT (a reasoning model). */
static bool ttfo_differs(const stats_agg *a)
{
    const hist *o = &a->h[STATS_TTFO], *t = &a->h[STATS_TTFT];
    return o->total && (o->total != t->total || o->sum != t->sum);
}

static void print_latencies(FILE *out, const stats_agg *a)
{
    static const stats_metric rows[] = {STATS_TTFT, STATS_TTFO, STATS_E2E,
                                        STATS_ITL,  STATS_TPOT, STATS_PER_STREAM_TPS};
    fprintf(out, "  %-22s %10s %10s %10s %10s %10s\n", "", "mean", "p50", "p90", "p99", "max");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        if (rows[i] == STATS_TTFO && !ttfo_differs(a))
            continue;
        print_metric_row(out, a, rows[i]);
    }
}

static void print_head(FILE *out, const stats_agg *a)
{
    uint64_t n = a->ok + a->failed;
    fprintf(out, "requests     %llu ok, %llu failed (%.1f %%) in a window of %.2f s",
            (unsigned long long)a->ok, (unsigned long long)a->failed,
            n ? 100.0 * (double)a->failed / (double)n : 0.0, stats_agg_window_s(a));
    if (a->cut)
        fprintf(out, "; %llu still in flight at the end (cut, not counted)",
                (unsigned long long)a->cut);
    fputc('\n', out);
    if (a->reconnects)
        fprintf(out,
                "reconnects   %llu requests re-sent on a fresh connection after a kept-alive "
                "one failed before any answer (%.1f ms lost)\n",
                (unsigned long long)a->reconnects, (double)a->reconnect_lost_us / 1000.0);
    if (a->finish_grace)
        fprintf(out,
                "stream ends  %llu streams sent finish_reason but neither [DONE] nor a close: "
                "ended after a grace\n",
                (unsigned long long)a->finish_grace);
    fprintf(out,
            "throughput   %.2f req/s, %.1f output tok/s (completed and arrived in the window)\n",
            stats_agg_rps(a), stats_agg_tps(a));
    fprintf(out, "tokens       %llu output, %llu prompt%s\n", (unsigned long long)a->output_tokens,
            (unsigned long long)a->prompt_tokens,
            a->estimated ? " (estimated: the server did not report usage for all)" : "");
}

/* One row per step. An input-test step (max_tokens 1, the seeds' -i) is read by its
 * prefill speed; an output step by its TPS and per-stream TPS. */
static void print_step_row(FILE *out, size_t i, const stats_agg *a)
{
    char load[16]; /* concurrency, or the asked rate of an open-loop step */
    if (a->rate > 0)
        snprintf(load, sizeof load, "%.4g/s", a->rate);
    else
        snprintf(load, sizeof load, "%u", a->concurrency);
    fprintf(out, "  %4zu %-10s %6s %7llu %6llu %9.2f %9.1f", i + 1,
            test_kind_name((llm_test_kind)a->test), load, (unsigned long long)a->ok,
            (unsigned long long)a->failed, stats_agg_rps(a), stats_agg_tps(a));
    print_cell(out, stats_agg_value(a, STATS_TTFT, 50));
    print_cell(out, stats_agg_value(a, STATS_TTFT, 99));
    print_cell(out, a->test == TEST_INPUT ? NAN : stats_agg_value(a, STATS_TPOT, 50));
    print_cell(out, a->test == TEST_INPUT ? NAN : stats_agg_per_stream_tps(a));
    print_cell(out, stats_agg_value(a, STATS_PREFILL_TPS, 50));
    fputc('\n', out);
}

static void print_steps(FILE *out, const stats *st)
{
    if (st->n_steps < 2)
        return;
    fprintf(out, "steps\n  %4s %-10s %6s %7s %6s %9s %9s %10s %10s %10s %10s %10s\n", "step",
            "test", "load", "ok", "failed", "req/s", "tok/s", "TTFT p50", "TTFT p99", "TPOT p50",
            "stream t/s", "prefill/s");
    for (size_t i = 0; i < st->n_steps; i++)
        print_step_row(out, i, &st->steps[i]);
}

/* --repeat K: mean ± sample standard deviation of each repeated setting. */
static void print_repeats(FILE *out, const stats *st)
{
    stats_repeat groups[256];
    size_t n = stats_repeats(st, groups, 256);
    bool any = false;
    for (size_t i = 0; i < n && i < 256; i++)
        any |= groups[i].n > 1;
    if (!any)
        return;
    fprintf(out, "repeats (mean \xC2\xB1 sd)\n  %-10s %6s %3s %20s %20s %22s\n", "test", "conc",
            "n", "req/s", "tok/s", "TTFT p50 (ms)");
    for (size_t i = 0; i < n && i < 256; i++) {
        const stats_repeat *g = &groups[i];
        if (g->n < 2)
            continue;
        fprintf(
            out,
            "  %-10s %6u %3zu %11.2f \xC2\xB1 %6.2f %11.1f \xC2\xB1 %6.1f %12.2f \xC2\xB1 %7.2f\n",
            test_kind_name((llm_test_kind)g->test), g->concurrency, g->n, g->mean[STATS_REPEAT_RPS],
            g->sd[STATS_REPEAT_RPS], g->mean[STATS_REPEAT_TPS], g->sd[STATS_REPEAT_TPS],
            g->mean[STATS_REPEAT_TTFT_P50], g->sd[STATS_REPEAT_TTFT_P50]);
    }
}

static void print_errors(FILE *out, const stats_agg *a)
{
    if (a->failed == 0)
        return;
    fprintf(out, "errors\n");
    for (int c = 0; c < ERR_CLASSES; c++) {
        if (!a->errors[c])
            continue;
        fprintf(out, "  %-9s %8llu   last: %s\n", err_class_name((err_class)c),
                (unsigned long long)a->errors[c], a->last_error[c][0] ? a->last_error[c] : "-");
    }
}

/* "c=8" or "10 req/s". */
static void print_load(FILE *out, double load, bool rate)
{
    if (rate)
        fprintf(out, "%.4g req/s", load);
    else
        fprintf(out, "c=%.0f", load);
}

/* One labelled line per knee and the best load: each is one answer, never two. */
static void print_load_line(FILE *out, const char *label, const char *what, const analysis_load *l,
                            bool rate)
{
    if (!l->found)
        return;
    fprintf(out, "%-12s %s", label, what);
    print_load(out, l->load, rate);
    fprintf(out, ": %s\n", l->reason);
}

/* The SLO given, judged on the whole run: which limit was missed and by how much; on a
 * ramp, also the steps that met it (in order, as the snapshot's slo.met_up_to). A search
 * judges each step instead (its answer is the first finding). */
static void print_slo(FILE *out, const stats *st)
{
    if (st->search || !llm_slo_given(&st->slo))
        return;
    char why[ANALYSIS_TEXT];
    bool met = analysis_slo_verdict(&st->totals, &st->slo, why, sizeof why);
    fprintf(out, "slo          %s: %s; goodput %.2f req/s", met ? "met" : "missed", why,
            stats_agg_goodput(&st->totals));
    if (st->n_steps > 1) {
        size_t i = 0;
        while (i < st->n_steps && analysis_step_meets_slo(&st->steps[i], &st->slo))
            i++;
        if (i == 0) {
            fprintf(out, "; no step met it from the first");
        } else if (i < st->n_steps) {
            fprintf(out, "; the steps met it up to ");
            print_load(out,
                       st->steps[i - 1].rate > 0 ? st->steps[i - 1].rate
                                                 : st->steps[i - 1].concurrency,
                       st->steps[i - 1].rate > 0);
        }
    }
    fputc('\n', out);
}

static void print_analysis(FILE *out, const stats *st)
{
    analysis an;
    analysis_run(st, &an);
    bool t = an.throughput_knee.found;
    print_load_line(out, "knee", "throughput knee ", &an.throughput_knee, an.knee_is_rate);
    print_load_line(out, t ? "" : "knee", "latency knee ", &an.latency_knee, an.knee_is_rate);
    print_load_line(out, "best load", "", &an.best_load, an.knee_is_rate);
    print_slo(out, st);
    for (size_t i = 0; i < an.n_findings; i++)
        fprintf(out, "%s %s\n", i == 0 ? "findings    " : "            ", an.findings[i]);
}

/* Issue 13: the server's own figures under the client's, with where they come from, the
 * client overhead and the tokens each side counted. */
static void print_server_view(FILE *out, const stats_agg *a)
{
    if (a->srv_source == STATS_SRV_NONE)
        return;
    bool timings = a->srv_source == STATS_SRV_TIMINGS;
    fprintf(out, "server       %s\n",
            timings ? "llama.cpp timings, per request"
                    : "/metrics histograms: percentiles at the server's bucket resolution");
    static const stats_metric rows[] = {STATS_SRV_TTFT, STATS_SRV_QUEUE,  STATS_SRV_PREFILL,
                                        STATS_SRV_E2E,  STATS_SRV_DECODE, STATS_SRV_ITL,
                                        STATS_OVH_E2E,  STATS_OVH_TTFT};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (a->h[rows[i]].total)
            print_metric_row(out, a, rows[i]);
    if (!timings) {
        double d = stats_agg_value(a, STATS_E2E, 50) - stats_agg_value(a, STATS_SRV_E2E, 50);
        double w = stats_agg_server_resolution(a, PROM_H_E2E, 50);
        if (!isnan(d) && !(fabs(d) < w))
            fprintf(out, "  client overhead E2E p50 %.2f ms (a difference of percentiles)\n", d);
        else if (!isnan(d)) /* the server's p50 is only known to within its bucket */
            fprintf(out,
                    "  client overhead E2E p50 within the server's bucket resolution (%.0f ms "
                    "wide; the difference of percentiles is %.2f ms)\n",
                    w, d);
    }
    uint64_t srv, cli;
    if (stats_agg_server_tokens(a, &srv, &cli) != STATS_SRV_NONE)
        fprintf(out, "  tokens: the server counted %llu, %llu arrived\n", (unsigned long long)srv,
                (unsigned long long)cli);
    if (timings)
        fprintf(out, "  overhead = client - server, per request (TTFT against the prefill)\n");
}

/* The GPUs of the machine (core/gpuhist): which, the highest temperature, power and
 * utilisation over the run, and whether their clocks were held down (a soak's question). */
static void print_gpu(FILE *out, const gpuhist *g)
{
    if (!g || g->n_dev == 0)
        return;
    fprintf(out, "gpu          %d device%s:", g->n_dev, g->n_dev == 1 ? "" : "s");
    for (int i = 0; i < g->n_dev; i++)
        fprintf(out, "%s %s", i ? "," : "", g->dev[i].name);
    fprintf(out, "\n             highest");
    if (!isnan(g->max_temp_c))
        fprintf(out,
                " %.0f \xC2\xB0"
                "C",
                g->max_temp_c);
    if (!isnan(g->max_power_w))
        fprintf(out, " %.0f W", g->max_power_w);
    if (!isnan(g->max_util_pct))
        fprintf(out, " %.0f %% busy", g->max_util_pct);
    bool known = false;
    for (int i = 0; i < g->n_dev; i++)
        known |= g->dev[i].vendor == GPU_VENDOR_NVIDIA;
    fprintf(out, "; throttling %s\n",
            g->throttling_seen ? "seen: clocks were held down for power or heat"
            : known            ? "not seen"
                               : "not known (AMD sysfs does not say)");
}

void stats_print_summary(FILE *out, const stats *st, uint64_t lost_events)
{
    const stats_agg *a = &st->totals;
    if (st->interrupted)
        fprintf(out, "interrupted  %s: the figures cover the run until then\n", st->stop_reason);
    print_head(out, a);
    print_latencies(out, a);
    print_server_view(out, a);
    print_steps(out, st);
    print_repeats(out, st);
    print_errors(out, a);
    print_analysis(out, st);
    print_gpu(out, st->gpu);
    if (lost_events)
        fprintf(out, "lost events  %llu: the event ring was full, the figures are incomplete\n",
                (unsigned long long)lost_events);
}
