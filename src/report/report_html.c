/* report_html: one self-contained HTML page (no script, no external file) with SVG line
 * charts: TPS, RPS and TTFT percentiles against the load and over time. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

#define CHART_W 640
#define CHART_H 260
#define MARGIN_L 64
#define MARGIN_R 16
#define MARGIN_T 28
#define MARGIN_B 40
#define MAX_LINES REPORT_CHART_LINES

static const char *const k_colors[MAX_LINES] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e"};

static void html_text(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '&':
            fputs("&amp;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            fputc(*s, out);
        }
    }
}

typedef report_chart chart;

static double x_pos(const chart *c, double x, double lo, double hi)
{
    double f = c->log_x ? (log(x) - log(lo)) / (log(hi) - log(lo)) : (x - lo) / (hi - lo);
    if (!isfinite(f))
        f = 0.5;
    return MARGIN_L + f * (CHART_W - MARGIN_L - MARGIN_R);
}

/* A round axis top a little above the data: 4 grid steps of 1, 2, 2.5 or 5 × 10^k. */
static double nice_top(double max)
{
    if (!(max > 0))
        return 1;
    double raw = max * 1.05 / 4, mag = pow(10, floor(log10(raw))), f = raw / mag;
    double step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * mag;
    return 4 * step;
}

static double y_pos(double y, double top)
{
    return CHART_H - MARGIN_B - (y / top) * (CHART_H - MARGIN_T - MARGIN_B);
}

static void svg_chart(FILE *out, const chart *c)
{
    double lo = INFINITY, hi = -INFINITY, top = 0;
    for (size_t i = 0; i < c->n; i++) {
        bool any = false;
        for (size_t l = 0; l < c->n_lines; l++)
            if (isfinite(c->y[l][i])) {
                top = fmax(top, c->y[l][i]);
                any = true;
            }
        if (any && isfinite(c->x[i])) {
            lo = fmin(lo, c->x[i]);
            hi = fmax(hi, c->x[i]);
        }
    }
    if (!isfinite(lo))
        return; /* nothing to draw */
    top = nice_top(top);
    bool log_x = c->log_x && lo > 0 && hi / lo >= 8;
    chart cc = *c;
    cc.log_x = log_x;
    fprintf(out,
            "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">\n",
            CHART_W, CHART_H, CHART_W, CHART_H);
    fprintf(out, "<text x=\"%d\" y=\"16\" font-size=\"13\" font-weight=\"bold\">", MARGIN_L);
    html_text(out, c->title);
    fputs("</text>\n", out);
    /* axes, y grid with 5 ticks, x ticks at the data points (at most 12) */
    fprintf(out, "<g stroke=\"#ccc\">");
    for (int k = 0; k <= 4; k++) {
        double y = y_pos(top * k / 4, top);
        fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>", MARGIN_L, y,
                CHART_W - MARGIN_R, y);
    }
    fputs("</g>\n<g fill=\"#444\" text-anchor=\"end\">", out);
    for (int k = 0; k <= 4; k++)
        fprintf(out, "<text x=\"%d\" y=\"%.1f\">%.4g</text>", MARGIN_L - 4,
                y_pos(top * k / 4, top) + 4, top * k / 4);
    fputs("</g>\n<g fill=\"#444\" text-anchor=\"middle\">", out);
    size_t stride = c->n > 12 ? (c->n + 11) / 12 : 1;
    for (size_t i = 0; i < c->n; i += stride)
        if (isfinite(c->x[i]))
            fprintf(out, "<text x=\"%.1f\" y=\"%d\">%.4g</text>", x_pos(&cc, c->x[i], lo, hi),
                    CHART_H - MARGIN_B + 14, c->x[i]);
    fprintf(out, "<text x=\"%d\" y=\"%d\">", (CHART_W + MARGIN_L) / 2, CHART_H - 6);
    html_text(out, c->x_label);
    fprintf(out,
            "</text></g>\n<text x=\"12\" y=\"%d\" fill=\"#444\" "
            "transform=\"rotate(-90 12 %d)\" text-anchor=\"middle\">",
            CHART_H / 2, CHART_H / 2);
    html_text(out, c->y_label);
    fputs("</text>\n", out);
    for (size_t l = 0; l < c->n_lines; l++) {
        /* A missing point breaks the line. */
        fprintf(out, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\" d=\"", k_colors[l]);
        bool pen = false;
        for (size_t i = 0; i < c->n; i++) {
            if (!isfinite(c->y[l][i]) || !isfinite(c->x[i])) {
                pen = false;
                continue;
            }
            fprintf(out, "%c%.1f %.1f ", pen ? 'L' : 'M', x_pos(&cc, c->x[i], lo, hi),
                    y_pos(c->y[l][i], top));
            pen = true;
        }
        fputs("\"/>\n", out);
        if (c->n <= 64)
            for (size_t i = 0; i < c->n; i++)
                if (isfinite(c->y[l][i]) && isfinite(c->x[i]))
                    fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>",
                            x_pos(&cc, c->x[i], lo, hi), y_pos(c->y[l][i], top), k_colors[l]);
        fprintf(out, "\n<text x=\"%d\" y=\"%d\" fill=\"%s\">", CHART_W - MARGIN_R - 150,
                MARGIN_T + 4 + 14 * (int)l, k_colors[l]);
        html_text(out, c->names[l]);
        fputs("</text>\n", out);
    }
    fputs("</svg></figure>\n", out);
}

static void charts_vs_load(FILE *out, const snap_doc *d)
{
    size_t n = d->n_steps;
    double *x = calloc(n ? n : 1, sizeof *x), *rps = calloc(n ? n : 1, sizeof *rps),
           *tps = calloc(n ? n : 1, sizeof *tps), *t50 = calloc(n ? n : 1, sizeof *t50),
           *t99 = calloc(n ? n : 1, sizeof *t99);
    if (x && rps && tps && t50 && t99) {
        bool rate = false;
        for (size_t i = 0; i < n; i++) {
            const snap_step *s = &d->steps[i];
            rate = rate || s->rate > 0;
            bool has = s->ok + s->failed > 0;
            double load = s->rate > 0 ? s->rate : s->concurrency;
            /* In order of load (a search's steps go up and down); equal loads keep their
             * order: insertion sort of a few dozen points. */
            size_t at = i;
            for (; at > 0 && x[at - 1] > load; at--) {
                x[at] = x[at - 1];
                rps[at] = rps[at - 1];
                tps[at] = tps[at - 1];
                t50[at] = t50[at - 1];
                t99[at] = t99[at - 1];
            }
            x[at] = load;
            rps[at] = has ? s->rps : NAN;
            tps[at] = has ? s->tps : NAN;
            t50[at] = s->m[STATS_TTFT].p50;
            t99[at] = s->m[STATS_TTFT].p99;
        }
        const char *xl = rate ? "rate (requests/s)" : "concurrency";
        chart c = {.title = "Throughput: TPS vs load",
                   .x_label = xl,
                   .y_label = "tokens/s",
                   .x = x,
                   .y = {tps},
                   .names = {"TPS"},
                   .n_lines = 1,
                   .n = n,
                   .log_x = true};
        svg_chart(out, &c);
        c = (chart){.title = "Throughput: RPS vs load",
                    .x_label = xl,
                    .y_label = "requests/s",
                    .x = x,
                    .y = {rps},
                    .names = {"RPS"},
                    .n_lines = 1,
                    .n = n,
                    .log_x = true};
        svg_chart(out, &c);
        c = (chart){.title = "Time to first token vs load",
                    .x_label = xl,
                    .y_label = "ms",
                    .x = x,
                    .y = {t50, t99},
                    .names = {"TTFT p50", "TTFT p99"},
                    .n_lines = 2,
                    .n = n,
                    .log_x = true};
        svg_chart(out, &c);
    }
    free(x);
    free(rps);
    free(tps);
    free(t50);
    free(t99);
}

static void charts_over_time(FILE *out, const snap_doc *d)
{
    size_t n = d->n_series;
    if (n == 0)
        return;
    double *t = calloc(n, sizeof *t), *tps = calloc(n, sizeof *tps), *rps = calloc(n, sizeof *rps),
           *t50 = calloc(n, sizeof *t50), *t99 = calloc(n, sizeof *t99),
           *inflight = calloc(n, sizeof *inflight);
    if (t && tps && rps && t50 && t99 && inflight) {
        for (size_t i = 0; i < n; i++) {
            const snap_row *row = &d->series[i];
            t[i] = row->t;
            tps[i] = row->tps;
            rps[i] = row->rps;
            t50[i] = row->ttft_p50_ms;
            t99[i] = row->ttft_p99_ms;
            inflight[i] = row->inflight;
        }
        chart c = {.title = "TPS over time",
                   .x_label = "seconds",
                   .y_label = "tokens/s",
                   .x = t,
                   .y = {tps},
                   .names = {"TPS"},
                   .n_lines = 1,
                   .n = n};
        svg_chart(out, &c);
        c = (chart){.title = "RPS and requests in flight over time",
                    .x_label = "seconds",
                    .y_label = "per second / in flight",
                    .x = t,
                    .y = {rps, inflight},
                    .names = {"RPS", "in flight"},
                    .n_lines = 2,
                    .n = n};
        svg_chart(out, &c);
        c = (chart){.title = "TTFT over time",
                    .x_label = "seconds",
                    .y_label = "ms",
                    .x = t,
                    .y = {t50, t99},
                    .names = {"TTFT p50", "TTFT p99"},
                    .n_lines = 2,
                    .n = n};
        svg_chart(out, &c);
    }
    free(t);
    free(tps);
    free(rps);
    free(t50);
    free(t99);
    free(inflight);
}

void report_html_text(FILE *out, const char *s)
{
    html_text(out, s);
}

void report_svg_chart(FILE *out, const report_chart *c)
{
    svg_chart(out, c);
}

/* The Markdown report's figures, as HTML: the same writer into a <pre> would lose the
 * table, so the steps table is written again here. */
static void html_steps(FILE *out, const snap_doc *d)
{
    fputs("<table><tr><th>step</th><th>test</th><th>load</th><th>requests</th><th>failed</th>"
          "<th>RPS</th><th>TPS</th><th>TTFT p50 (ms)</th><th>TTFT p99 (ms)</th>"
          "<th>E2E p50 (s)</th><th>TPOT p50 (ms)</th><th>tok/s per stream</th></tr>\n",
          out);
    for (size_t i = 0; i < d->n_steps; i++) {
        const snap_step *s = &d->steps[i];
        fprintf(out, "<tr><td>%d</td><td>", s->index);
        html_text(out, s->test ? s->test : "output");
        if (s->rate > 0)
            fprintf(out, "</td><td>%.4g/s</td>", s->rate);
        else
            fprintf(out, "</td><td>%.0f</td>", s->concurrency);
        const double v[] = {s->ok + s->failed,
                            s->failed,
                            s->rps,
                            s->tps,
                            s->m[STATS_TTFT].p50,
                            s->m[STATS_TTFT].p99,
                            s->m[STATS_E2E].p50 / 1e3,
                            s->m[STATS_TPOT].p50,
                            s->m[STATS_PER_STREAM_TPS].p50};
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
            if (isnan(v[k]))
                fputs("<td>-</td>", out);
            else
                fprintf(out, "<td>%.4g</td>", v[k]);
        }
        fputs("</tr>\n", out);
    }
    fputs("</table>\n", out);
}

static void html_cell(FILE *out, double v)
{
    if (isnan(v))
        fputs("<td>-</td>", out);
    else
        fprintf(out, "<td>%.4g</td>", v);
}

static void html_server_row(FILE *out, const char *name, const snap_step *s)
{
    double v[REPORT_SERVER_COLS];
    bool timings = report_server_row(s, v);
    fprintf(out, "<tr><td>%s</td><td>%s</td>", name,
            timings ? "timings (per request)" : "/metrics (bucket resolution)");
    for (size_t k = 0; k < REPORT_SERVER_COLS; k++)
        html_cell(out, v[k]);
    fputs("</tr>\n", out);
}

/* Issue 13: the server's own figures beside the client's (as in the Markdown). */
static void html_server(FILE *out, const snap_doc *d)
{
    if (!d->totals.srv_source)
        return;
    fputs("<h3>Client vs server</h3>\n<table><tr><th>step</th><th>server source</th>"
          "<th>TTFT client</th><th>TTFT server</th><th>E2E client</th><th>E2E server</th>"
          "<th>queue server</th><th>TPOT client</th><th>decode server</th><th>overhead</th>"
          "<th>tokens server</th><th>tokens client</th></tr>\n",
          out);
    for (size_t i = 0; i < d->n_steps; i++) {
        if (!d->steps[i].srv_source)
            continue;
        char name[16];
        snprintf(name, sizeof name, "%d", d->steps[i].index);
        html_server_row(out, name, &d->steps[i]);
    }
    html_server_row(out, "run", &d->totals);
    fputs("</table>\n<p>ms (p50); with timings the server's TTFT is its prefill; overhead = "
          "client E2E - server E2E, per request with timings, else a difference of p50s.</p>\n",
          out);
}

/* The workload table of the Markdown report (report_workload_row). */
static void html_workload(FILE *out, const snap_doc *d)
{
    if (!report_has_workload(d))
        return;
    fputs("<h3>Workload</h3><table><tr><th>step</th>", out);
    for (int k = 0; k < REPORT_WORKLOAD_COLS; k++)
        fprintf(out, "<th>%s</th>", report_workload_cols[k]);
    fputs("</tr>\n", out);
    for (size_t i = 0; i <= d->n_steps; i++) {
        const snap_step *s = i < d->n_steps ? &d->steps[i] : &d->totals;
        double v[REPORT_WORKLOAD_COLS];
        report_workload_row(s, v);
        if (i < d->n_steps)
            fprintf(out, "<tr><td>%d</td>", s->index);
        else
            fputs("<tr><td>all</td>", out);
        for (int k = 0; k < REPORT_WORKLOAD_COLS; k++) {
            if (isnan(v[k]))
                fputs("<td>-</td>", out);
            else
                fprintf(out, "<td>%.4g</td>", v[k]);
        }
        fputs("</tr>\n", out);
    }
    fputs("</table>\n", out);
}

static void html_list(FILE *out, const char *title, char (*items)[REPORT_ADVICE_LEN], size_t n)
{
    if (n == 0)
        return;
    fprintf(out, "<h3>%s</h3><ul>\n", title);
    for (size_t i = 0; i < n; i++) {
        fputs("<li>", out);
        html_text(out, items[i]);
        fputs("</li>\n", out);
    }
    fputs("</ul>\n", out);
}

static void html_analysis(FILE *out, const snap_doc *d)
{
    const snap_analysis *an = &d->analysis;
    if (!an->has_knee && an->n_findings == 0)
        return;
    fputs("<h3>Analysis</h3><ul>\n", out);
    const snap_load_note *notes[] = {&an->throughput_knee, &an->latency_knee};
    const char *names[] = {"throughput knee", "latency knee"};
    bool two = false;
    for (int i = 0; i < 2; i++) {
        if (!notes[i]->found || !notes[i]->reason)
            continue;
        two = true;
        fprintf(out, "<li><b>%s</b>: ", names[i]);
        html_text(out, notes[i]->reason);
        fputs("</li>\n", out);
    }
    if (!two && an->has_knee && an->knee_reason) { /* a file from before the two knees */
        fputs("<li><b>knee</b>: ", out);
        html_text(out, an->knee_reason);
        fputs("</li>\n", out);
    }
    if (an->slo_verdict) {
        fputs("<li><b>SLO</b>: ", out);
        html_text(out, an->slo_verdict);
        fputs("</li>\n", out);
    }
    for (size_t i = 0; i < an->n_findings; i++) {
        fputs("<li>", out);
        html_text(out, an->findings[i]);
        fputs("</li>\n", out);
    }
    fputs("</ul>\n", out);
}

void report_html(FILE *out, const snap_doc *docs, size_t n)
{
    fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>llmload report</title>\n"
          "<style>body{font-family:sans-serif;margin:24px;color:#222}"
          "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;"
          "padding:3px 8px;text-align:right}th{background:#f4f4f4}"
          "figure{display:inline-block;margin:8px}</style></head><body>\n"
          "<h1>llmload report</h1>\n",
          out);
    for (size_t i = 0; i < n; i++) {
        const snap_doc *d = &docs[i];
        fputs("<h2>", out);
        html_text(out, d->path);
        fputs("</h2>\n<p>target <b>", out);
        html_text(out, d->config.url ? d->config.url : "-");
        fputs("</b>, model <b>", out);
        html_text(out, d->config.model ? d->config.model : "(server default)");
        fputs("</b>, plan <b>", out);
        html_text(out, d->config.plan ? d->config.plan : "-");
        fputs("</b>, ", out);
        html_text(out, d->started ? d->started : "-");
        fputs(" to ", out);
        html_text(out, d->ended ? d->ended : "-");
        fprintf(out, "; %.0f ok, %.0f failed", isnan(d->totals.ok) ? 0 : d->totals.ok,
                isnan(d->totals.failed) ? 0 : d->totals.failed);
        if (isfinite(d->totals.rps) && isfinite(d->totals.tps))
            fprintf(out, ", %.4g req/s, %.4g tok/s", d->totals.rps, d->totals.tps);
        fputs("</p>\n", out);
        html_steps(out, d);
        html_server(out, d);
        html_workload(out, d);
        report_advice adv;
        report_advise(d, &adv);
        html_list(out, "Best configuration", adv.best, adv.n_best);
        html_list(out, "Recommendations", adv.recommend, adv.n_recommend);
        html_analysis(out, d);
        if (d->n_steps > 1)
            charts_vs_load(out, d);
        charts_over_time(out, d);
    }
    fputs("</body></html>\n", out);
}
