/* report_html: one self-contained HTML page (no script, no external file): the run's
 * figures as tables and charts (report_svg) that fill the page's width, each point with its
 * values on hover: load, time, the server's view, the workload, reconnects, GPU. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

static void html_text(FILE *out, const char *s)
{
    report_html_text(out, s);
}

static void html_num(FILE *out, const char *fmt, double v)
{
    if (isnan(v))
        fputs("-", out);
    else
        fprintf(out, fmt, v);
}

/* Whole numbers whole (token counts), others with 4 significant digits. */
static void html_cell(FILE *out, double v)
{
    fputs("<td>", out);
    html_num(out, v == floor(v) && fabs(v) < 1e12 ? "%.0f" : "%.4g", v);
    fputs("</td>", out);
}

static void table_open(FILE *out, const char *const *heads, size_t n)
{
    fputs("<div class=\"scroll\"><table><tr>", out);
    for (size_t i = 0; i < n; i++) {
        fputs("<th>", out);
        html_text(out, heads[i]);
        fputs("</th>", out);
    }
    fputs("</tr>\n", out);
}

static void table_close(FILE *out)
{
    fputs("</table></div>\n", out);
}

/* ---- the steps in order of load, as columns for the charts ---- */

enum {
    F_TPS,
    F_RPS,
    F_TTFT50,
    F_TTFT99,
    F_E2E50,
    F_E2E99,
    F_SRV, /* the REPORT_SERVER_COLS of report_server_row */
    F_CACHE_HIT = F_SRV + REPORT_SERVER_COLS,
    F_TTFT_HIT,
    F_TTFT_MISS,
    F_COUNT
};

typedef struct {
    size_t n;
    double *x, *v; /* v: F_COUNT columns of n */
    bool rate;
    const char *x_label;
} step_cols;

static const double *scol(const step_cols *s, int f)
{
    return s->v + (size_t)f * s->n;
}

static void step_figs(const snap_step *s, double f[F_COUNT])
{
    bool has = s->ok + s->failed > 0;
    f[F_TPS] = has ? s->tps : NAN;
    f[F_RPS] = has ? s->rps : NAN;
    f[F_TTFT50] = s->m[STATS_TTFT].p50;
    f[F_TTFT99] = s->m[STATS_TTFT].p99;
    f[F_E2E50] = s->m[STATS_E2E].p50;
    f[F_E2E99] = s->m[STATS_E2E].p99;
    report_server_row(s, f + F_SRV);
    if (!s->srv_source)
        for (int k = 0; k < REPORT_SERVER_COLS; k++)
            f[F_SRV + k] = NAN;
    f[F_CACHE_HIT] = isnan(s->cache_hit_share) ? NAN : 100.0 * s->cache_hit_share;
    f[F_TTFT_HIT] = s->m[STATS_TTFT_CACHE_HIT].p50;
    f[F_TTFT_MISS] = s->m[STATS_TTFT_CACHE_MISS].p50;
}

/* In order of load (a search's steps go up and down); equal loads keep their order. */
static int step_cols_make(const snap_doc *d, step_cols *c)
{
    size_t n = d->n_steps;
    memset(c, 0, sizeof *c);
    c->n = n;
    size_t *order = calloc(n ? n : 1, sizeof *order);
    c->x = calloc(n ? n : 1, sizeof *c->x);
    c->v = calloc((n ? n : 1) * F_COUNT, sizeof *c->v);
    if (!order || !c->x || !c->v) {
        free(order);
        free(c->x);
        free(c->v);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const snap_step *s = &d->steps[i];
        c->rate = c->rate || s->rate > 0;
        double load = s->rate > 0 ? s->rate : s->concurrency;
        size_t at = i;
        for (; at > 0 && c->x[at - 1] > load; at--) {
            c->x[at] = c->x[at - 1];
            order[at] = order[at - 1];
        }
        c->x[at] = load;
        order[at] = i;
    }
    for (size_t i = 0; i < n; i++) {
        double f[F_COUNT];
        step_figs(&d->steps[order[i]], f);
        for (int k = 0; k < F_COUNT; k++)
            c->v[(size_t)k * n + i] = f[k];
    }
    free(order);
    c->x_label = c->rate ? "rate (requests/s)" : "concurrency";
    return 0;
}

static void step_cols_free(step_cols *c)
{
    free(c->x);
    free(c->v);
}

static bool any_finite(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]))
            return true;
    return false;
}

/* A chart of some step columns against the load; y_top as in report_chart. */
static void load_chart_top(FILE *out, const step_cols *c, const char *title, const char *y_label,
                           const int *f, const char *const *names, size_t n, const bool *dashed,
                           double y_top)
{
    report_chart ch = {.title = title,
                       .x_label = c->x_label,
                       .y_label = y_label,
                       .x = c->x,
                       .n_lines = n,
                       .n = c->n,
                       .log_x = true,
                       .y_top = y_top,
                       .x_unit = c->rate ? "req/s" : NULL};
    ch.n_lines = 0;
    for (size_t l = 0; l < n; l++) /* lines with no figure are left out (and their legend) */
        if (any_finite(scol(c, f[l]), c->n)) {
            ch.y[ch.n_lines] = scol(c, f[l]);
            ch.names[ch.n_lines] = names[l];
            ch.dashed[ch.n_lines++] = dashed && dashed[l];
        }
    if (ch.n_lines)
        report_svg_chart(out, &ch);
}

static void load_chart(FILE *out, const step_cols *c, const char *title, const char *y_label,
                       const int *f, const char *const *names, size_t n, const bool *dashed)
{
    load_chart_top(out, c, title, y_label, f, names, n, dashed, 0);
}

/* ---- the series, at most SERIES_POINTS points (a soak has 86,400 rows) ---- */

#define SERIES_POINTS 480
enum {
    S_TPS,
    S_RPS,
    S_INFLIGHT,
    S_TTFT50,
    S_TTFT99, /* peak */
    S_SRV_RUNNING,
    S_SRV_WAITING,
    S_GPU_UTIL,                           /* SNAP_GPUS columns each */
    S_GPU_MEM = S_GPU_UTIL + SNAP_GPUS,   /* MB */
    S_GPU_TEMP = S_GPU_MEM + SNAP_GPUS,   /* peak */
    S_GPU_POWER = S_GPU_TEMP + SNAP_GPUS, /* W */
    S_COUNT = S_GPU_POWER + SNAP_GPUS
};

typedef struct {
    size_t n, per;                /* points; rows per point */
    double *t, *v;                /* v: S_COUNT columns of n */
    const char *t_label, *t_unit; /* t in seconds, or minutes or hours for a long run */
} series_cols;

static const double *tcol(const series_cols *s, int f)
{
    return s->v + (size_t)f * s->n;
}

static void row_figs(const snap_doc *d, size_t i, double f[S_COUNT])
{
    const snap_row *r = &d->series[i];
    for (int k = 0; k < S_COUNT; k++)
        f[k] = NAN;
    f[S_TPS] = r->tps;
    f[S_RPS] = r->rps;
    f[S_INFLIGHT] = r->inflight;
    f[S_TTFT50] = r->ttft_p50_ms;
    f[S_TTFT99] = r->ttft_p99_ms;
    f[S_SRV_RUNNING] = r->server_running;
    f[S_SRV_WAITING] = r->server_waiting;
    const snap_gpu *g = &d->gpu;
    for (size_t k = 0; g->samples && k < g->per_row; k++) {
        const snap_gpu_sample *s = &g->samples[i * g->per_row + k];
        f[S_GPU_UTIL + k] = s->util_pct;
        f[S_GPU_MEM + k] = s->mem_used_mb;
        f[S_GPU_TEMP + k] = s->temp_c;
        f[S_GPU_POWER + k] = s->power_w;
    }
}

static bool peak_col(int f)
{
    return f == S_TTFT99 || (f >= S_GPU_TEMP && f < S_GPU_TEMP + SNAP_GPUS);
}

/* Rows merged per point: the mean of what is known (the peak for p99 and temperatures). */
static int series_cols_make(const snap_doc *d, series_cols *c)
{
    memset(c, 0, sizeof *c);
    c->per = (d->n_series + SERIES_POINTS - 1) / SERIES_POINTS;
    if (c->per == 0)
        return 0;
    c->n = (d->n_series + c->per - 1) / c->per;
    c->t = calloc(c->n, sizeof *c->t);
    c->v = calloc(c->n * S_COUNT, sizeof *c->v);
    if (!c->t || !c->v) {
        free(c->t);
        free(c->v);
        return -1;
    }
    for (size_t p = 0; p < c->n; p++) {
        double sum[S_COUNT] = {0}, peak[S_COUNT], cnt[S_COUNT] = {0};
        for (int k = 0; k < S_COUNT; k++)
            peak[k] = -INFINITY;
        size_t from = p * c->per, to = from + c->per < d->n_series ? from + c->per : d->n_series;
        c->t[p] = d->series[from].t;
        for (size_t i = from; i < to; i++) {
            double f[S_COUNT];
            row_figs(d, i, f);
            for (int k = 0; k < S_COUNT; k++)
                if (isfinite(f[k])) {
                    sum[k] += f[k];
                    peak[k] = fmax(peak[k], f[k]);
                    cnt[k]++;
                }
        }
        for (int k = 0; k < S_COUNT; k++)
            c->v[(size_t)k * c->n + p] = cnt[k] == 0   ? NAN
                                         : peak_col(k) ? peak[k]
                                                       : sum[k] / cnt[k];
    }
    double span = d->series[d->n_series - 1].t - d->series[0].t, unit = 1;
    c->t_label = "seconds";
    c->t_unit = "s";
    if (span > 3 * 3600) {
        unit = 3600;
        c->t_label = "hours";
        c->t_unit = "h";
    } else if (span > 1200) {
        unit = 60;
        c->t_label = "minutes";
        c->t_unit = "min";
    }
    for (size_t p = 0; p < c->n; p++)
        c->t[p] /= unit;
    return 0;
}

/* units: of each line in the points' titles; NULL = y_label */
static void time_chart_units(FILE *out, const series_cols *c, const char *title,
                             const char *y_label, const int *f, const char *const *names,
                             const char *const *units, size_t n, const char *note)
{
    report_chart ch = {.title = title,
                       .x_label = c->t_label,
                       .x_unit = c->t_unit,
                       .y_label = y_label,
                       .x = c->t,
                       .n = c->n,
                       .note = note,
                       .y_top = strcmp(y_label, "%") == 0 ? 100 : 0};
    for (size_t l = 0; l < n; l++)
        if (any_finite(tcol(c, f[l]), c->n)) {
            ch.y[ch.n_lines] = tcol(c, f[l]);
            ch.units[ch.n_lines] = units ? units[l] : NULL;
            ch.names[ch.n_lines++] = names[l];
        }
    if (ch.n_lines)
        report_svg_chart(out, &ch);
}

static void time_chart(FILE *out, const series_cols *c, const char *title, const char *y_label,
                       const int *f, const char *const *names, size_t n, const char *note)
{
    time_chart_units(out, c, title, y_label, f, names, NULL, n, note);
}

/* ---- the sections ---- */

/* What the server said it ran; else the model asked for; "(server default)" when neither
 * is known. */
static void html_model(FILE *out, const snap_config *c)
{
    const char *srv = c->server_model && c->server_model[0] ? c->server_model : NULL;
    const char *asked = c->model && c->model[0] ? c->model : NULL;
    if (!srv && !asked) {
        fputs("(server default)", out);
        return;
    }
    html_text(out, srv ? srv : asked);
    if (srv && asked && strcmp(srv, asked) != 0) {
        fputs(" <span class=\"dim\">(asked for ", out);
        html_text(out, asked);
        fputs(")</span>", out);
    } else if (!srv) {
        fputs(" <span class=\"dim\">(as asked; the server did not name it)</span>", out);
    }
}

static void summary_item(FILE *out, const char *key)
{
    fprintf(out, "<div><dt>%s</dt><dd>", key);
}

static void html_summary(FILE *out, const snap_doc *d)
{
    const snap_step *t = &d->totals;
    fputs("<dl class=\"summary\">", out);
    fputs("<div class=\"wide\"><dt>target</dt><dd>", out); /* a URL: two columns */
    html_text(out, d->config.url ? d->config.url : "-");
    fputs("</dd></div>", out);
    summary_item(out, "model");
    html_model(out, &d->config);
    fputs("</dd></div>", out);
    summary_item(out, "plan");
    html_text(out, d->config.plan ? d->config.plan : "-");
    fputs("</dd></div>", out);
    fputs("<div class=\"wide\"><dt>started / ended</dt><dd>", out);
    html_text(out, d->started ? d->started : "-");
    fputs(" / ", out);
    html_text(out, d->ended ? d->ended : "-");
    fputs("</dd></div>", out);
    summary_item(out, "requests");
    fprintf(out, "%.0f ok, %.0f failed</dd></div>", isnan(t->ok) ? 0 : t->ok,
            isnan(t->failed) ? 0 : t->failed);
    if (isfinite(t->rps) && isfinite(t->tps)) {
        summary_item(out, "throughput");
        fprintf(out, "%.4g req/s, %.4g tok/s</dd></div>", t->rps, t->tps);
    }
    if (d->interrupted || d->stop_reason) {
        summary_item(out, "stop reason");
        html_text(out, d->stop_reason ? d->stop_reason : "interrupted");
        fputs("</dd></div>", out);
    }
    summary_item(out, "llmload");
    html_text(out, d->version ? d->version : "-");
    fputs("</dd></div></dl>\n", out);
}

static void html_steps(FILE *out, const snap_doc *d)
{
    static const char *const heads[] = {"step",        "test",          "load",
                                        "requests",    "failed",        "RPS",
                                        "TPS",         "TTFT p50 (ms)", "TTFT p99 (ms)",
                                        "E2E p50 (s)", "TPOT p50 (ms)", "tok/s per stream"};
    fputs("<h3>Steps</h3>\n", out);
    table_open(out, heads, sizeof heads / sizeof heads[0]);
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
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++)
            html_cell(out, v[k]);
        fputs("</tr>\n", out);
    }
    table_close(out);
}

static void charts_vs_load(FILE *out, const step_cols *c)
{
    static const int tps[] = {F_TPS}, rps[] = {F_RPS}, ttft[] = {F_TTFT50, F_TTFT99},
                     e2e[] = {F_E2E50, F_E2E99};
    load_chart(out, c, "Throughput: TPS vs load", "tokens/s", tps, (const char *[]){"TPS"}, 1,
               NULL);
    load_chart(out, c, "Throughput: RPS vs load", "requests/s", rps, (const char *[]){"RPS"}, 1,
               NULL);
    load_chart(out, c, "Time to first token vs load", "ms", ttft,
               (const char *[]){"TTFT p50", "TTFT p99"}, 2, NULL);
    load_chart(out, c, "End-to-end latency vs load", "ms", e2e,
               (const char *[]){"E2E p50", "E2E p99"}, 2, NULL);
}

static void charts_over_time(FILE *out, const series_cols *c)
{
    if (c->n == 0)
        return;
    char note[160];
    snprintf(note, sizeof note,
             "Each point is the mean of %zu seconds (TTFT p99: the highest of them).", c->per);
    const char *n = c->per > 1 ? note : NULL;
    fputs("<h3>Over time</h3>\n", out);
    time_chart(out, c, "TPS over time", "tokens/s", (const int[]){S_TPS}, (const char *[]){"TPS"},
               1, n);
    time_chart_units(out, c, "RPS and requests in flight over time", "per second / in flight",
                     (const int[]){S_RPS, S_INFLIGHT}, (const char *[]){"RPS", "in flight"},
                     (const char *[]){"requests/s", "requests"}, 2, n);
    time_chart(out, c, "TTFT over time", "ms", (const int[]){S_TTFT50, S_TTFT99},
               (const char *[]){"TTFT p50", "TTFT p99"}, 2, n);
    time_chart(out, c, "The server's requests over time (its /metrics)", "requests",
               (const int[]){S_SRV_RUNNING, S_SRV_WAITING}, (const char *[]){"running", "waiting"},
               2, n);
}

static void html_server_row(FILE *out, const char *name, const snap_step *s)
{
    double v[REPORT_SERVER_COLS];
    bool timings = report_server_row(s, v);
    fprintf(out, "<tr><td>%s</td><td>%s</td>", name,
            timings ? "timings (per request)" : "/metrics (bucket resolution)");
    for (size_t k = 0; k < REPORT_SERVER_COLS; k++)
        html_cell(out, v[k]);
    fputs("<td>", out);
    html_num(out, "%+.2f %%", s->srv_tokens_diff_pct);
    fputs("</td></tr>\n", out);
}

/* Issue 13: the server's own figures beside the client's (as in the Markdown), and as
 * charts against the load. */
static void html_server(FILE *out, const snap_doc *d, const step_cols *c)
{
    if (!d->totals.srv_source)
        return;
    static const char *const heads[] = {
        "step",          "server source", "TTFT client", "TTFT server",   "E2E client",
        "E2E server",    "queue server",  "TPOT client", "decode server", "overhead",
        "tokens server", "tokens client", "tokens diff"};
    fputs("<h3>Client vs server</h3>\n", out);
    table_open(out, heads, sizeof heads / sizeof heads[0]);
    for (size_t i = 0; i < d->n_steps; i++) {
        if (!d->steps[i].srv_source)
            continue;
        char name[16];
        snprintf(name, sizeof name, "%d", d->steps[i].index);
        html_server_row(out, name, &d->steps[i]);
    }
    html_server_row(out, "run", &d->totals);
    table_close(out);
    fputs("<p class=\"dim\">ms (p50); with timings the server's TTFT is its prefill; TPOT and "
          "decode per token; overhead = client E2E - server E2E, per request with timings, "
          "else a difference of p50s.</p>\n",
          out);
    if (d->n_steps < 2)
        return;
    static const bool dash[] = {false, true, false, true};
    load_chart(out, c, "Client vs server: TTFT and E2E (p50)", "ms",
               (const int[]){F_SRV + 0, F_SRV + 1, F_SRV + 2, F_SRV + 3},
               (const char *[]){"TTFT client", "TTFT server", "E2E client", "E2E server"}, 4, dash);
    load_chart(out, c, "Server queue, prefill and client overhead (p50)", "ms",
               (const int[]){F_SRV + 4, F_SRV + 1, F_SRV + 7},
               (const char *[]){"queue (server)", "TTFT / prefill (server)", "client overhead"}, 3,
               NULL);
    load_chart(out, c, "Decode: client TPOT vs server per token (p50)", "ms per token",
               (const int[]){F_SRV + 5, F_SRV + 6},
               (const char *[]){"TPOT client", "decode server"}, 2, (const bool[]){false, true});
    load_chart(out, c, "Output tokens: server vs client count", "tokens",
               (const int[]){F_SRV + 8, F_SRV + 9},
               (const char *[]){"tokens server", "tokens client"}, 2, (const bool[]){false, true});
}

/* A histogram of token lengths (input or output), rebinned into at most 24 equal bins. */
#define TOKEN_BINS 24
static void token_bars(FILE *out, const snap_step *t, stats_metric m, const char *title)
{
    const snap_hist *h = &t->h[m];
    if (h->n_buckets == 0)
        return;
    uint64_t lo = h->buckets[0].low, hi = h->buckets[0].high;
    for (size_t i = 0; i < h->n_buckets; i++) {
        lo = h->buckets[i].low < lo ? h->buckets[i].low : lo;
        hi = h->buckets[i].high > hi ? h->buckets[i].high : hi;
    }
    /* bins of 1, 2 or 5 x 10^k tokens from a multiple of that */
    uint64_t width = 1;
    for (uint64_t m = 1; width * TOKEN_BINS < hi - lo; m *= 10)
        for (int k = 0; k < 3 && width * TOKEN_BINS < hi - lo; k++)
            width = m * (uint64_t)(k == 0 ? 2 : k == 1 ? 5 : 10);
    lo -= lo % width;
    double v[TOKEN_BINS + 1] = {0}; /* + 1: lo moved down to a multiple of width */
    char text[TOKEN_BINS + 1][48];
    const char *labels[TOKEN_BINS + 1];
    size_t n = (size_t)((hi - lo + width - 1) / width);
    if (n == 0) /* one bucket [x, x) */
        n = 1;
    if (n > TOKEN_BINS + 1)
        n = TOKEN_BINS + 1;
    for (size_t i = 0; i < h->n_buckets; i++) {
        uint64_t mid = h->buckets[i].low + (h->buckets[i].high - h->buckets[i].low) / 2;
        size_t b = (size_t)((mid - lo) / width);
        v[b < n ? b : n - 1] += (double)h->buckets[i].count;
    }
    for (size_t b = 0; b < n; b++) {
        uint64_t from = lo + b * width;
        if (width == 1)
            snprintf(text[b], sizeof text[b], "%llu", (unsigned long long)from);
        else
            snprintf(text[b], sizeof text[b], "%llu-%llu", (unsigned long long)from,
                     (unsigned long long)(from + width - 1));
        labels[b] = text[b];
    }
    report_bars bars = {.title = title,
                        .x_label = "tokens",
                        .y_label = "requests",
                        .unit = "requests",
                        .labels = labels,
                        .v = v,
                        .n = n,
                        .share = true};
    report_svg_bars(out, &bars);
}

/* The workload table of the Markdown report (report_workload_row), the length
 * distributions and the prefix cache. */
static void html_workload(FILE *out, const snap_doc *d, const step_cols *c)
{
    if (!report_has_workload(d))
        return;
    fputs("<h3>Workload</h3>\n<p class=\"dim\">Lengths in tokens as the server counted them "
          "(its usage; else characters / 4); the cache as the server reported it "
          "(cached_tokens).</p>\n<div class=\"scroll\"><table><tr><th>step</th>",
          out);
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
        for (int k = 0; k < REPORT_WORKLOAD_COLS; k++)
            html_cell(out, v[k]);
        fputs("</tr>\n", out);
    }
    table_close(out);
    token_bars(out, &d->totals, STATS_INPUT_TOKENS, "Input tokens per request (the whole run)");
    token_bars(out, &d->totals, STATS_OUTPUT_TOKENS, "Output tokens per request (the whole run)");
    if (!(d->totals.cache_hits > 0) || d->n_steps < 2)
        return;
    load_chart_top(out, c, "Prefix cache: share of requests served from it", "%",
                   (const int[]){F_CACHE_HIT}, (const char *[]){"cache hit share"}, 1, NULL, 100);
    load_chart(out, c, "TTFT by cache hit and miss (p50)", "ms",
               (const int[]){F_TTFT_HIT, F_TTFT_MISS},
               (const char *[]){"TTFT cache hit", "TTFT cache miss"}, 2, NULL);
}

/* --turns: turn 1 against turn k, the whole run. */
static void html_turns(FILE *out, const snap_doc *d)
{
    const snap_step *t = &d->totals;
    if (t->n_turns == 0)
        return;
    static const char *const heads[] = {"turn", "requests", "TTFT mean (ms)", "prompt tokens",
                                        "cached tokens"};
    fputs("<h3>Turns</h3>\n", out);
    table_open(out, heads, sizeof heads / sizeof heads[0]);
    double x[SNAP_TURNS], ttft[SNAP_TURNS], prompt[SNAP_TURNS], cached[SNAP_TURNS];
    for (size_t i = 0; i < t->n_turns; i++) {
        const snap_turn *k = &t->turns[i];
        fputs("<tr>", out);
        html_cell(out, k->turn);
        html_cell(out, k->requests);
        html_cell(out, k->ttft_mean_ms);
        html_cell(out, k->prompt_tokens_mean);
        html_cell(out, k->cached_tokens_mean);
        fputs("</tr>\n", out);
        x[i] = k->turn;
        ttft[i] = k->ttft_mean_ms;
        prompt[i] = k->prompt_tokens_mean;
        cached[i] = k->cached_tokens_mean;
    }
    table_close(out);
    report_chart c = {.title = "TTFT by turn (mean)",
                      .x_label = "turn",
                      .y_label = "ms",
                      .x = x,
                      .y = {ttft},
                      .names = {"TTFT mean"},
                      .n_lines = 1,
                      .n = t->n_turns};
    report_svg_chart(out, &c);
    c = (report_chart){.title = "Prompt and cached tokens by turn (mean)",
                       .x_label = "turn",
                       .y_label = "tokens",
                       .x = x,
                       .y = {prompt, cached},
                       .names = {"prompt tokens", "cached tokens"},
                       .n_lines = 2,
                       .n = t->n_turns};
    report_svg_chart(out, &c);
}

/* Requests re-sent on a fresh connection after a kept-alive one failed (DESIGN §4). */
static void html_reconnects(FILE *out, const snap_doc *d)
{
    if (!(d->totals.reconnects > 0))
        return;
    static const char *const heads[] = {"step",       "load",  "requests",
                                        "reconnects", "share", "time lost (ms)"};
    fputs("<h3>Reconnects</h3>\n<p>", out);
    fprintf(out,
            "%.0f requests were re-sent once on a fresh connection because a kept-alive one "
            "failed before any answer (a server that closes idle connections); they are not "
            "errors. ",
            d->totals.reconnects);
    if (isfinite(d->totals.reconnect_lost_ms))
        fprintf(out, "Time lost on the failed connections: %.1f ms.", d->totals.reconnect_lost_ms);
    fputs("</p>\n", out);
    table_open(out, heads, sizeof heads / sizeof heads[0]);
    for (size_t i = 0; i <= d->n_steps; i++) {
        const snap_step *s = i < d->n_steps ? &d->steps[i] : &d->totals;
        if (i < d->n_steps)
            fprintf(out, "<tr><td>%d</td>", s->index);
        else
            fputs("<tr><td>all</td>", out);
        if (i == d->n_steps)
            fputs("<td>-</td>", out); /* the run: every load */
        else if (s->rate > 0)
            fprintf(out, "<td>%.4g/s</td>", s->rate);
        else
            html_cell(out, s->concurrency);
        double n = s->ok + s->failed;
        html_cell(out, n);
        html_cell(out, s->reconnects);
        fputs("<td>", out);
        html_num(out, "%.1f %%",
                 n > 0 && isfinite(s->reconnects) ? 100.0 * s->reconnects / n : NAN);
        fputs("</td>", out);
        html_cell(out, s->reconnect_lost_ms);
        fputs("</tr>\n", out);
    }
    table_close(out);
}

/* GPU telemetry (issue 16): the devices, the run's peaks, and each device over time. */
static void html_gpu(FILE *out, const snap_doc *d, const series_cols *c)
{
    const snap_gpu *g = &d->gpu;
    if (!g->present)
        return;
    fputs("<h3>GPU</h3>\n", out);
    if (g->n_devices) {
        fputs("<div class=\"scroll\"><table><tr><th>GPU</th><th class=\"l\">name</th>"
              "<th class=\"l\">vendor</th></tr>\n",
              out);
        for (size_t i = 0; i < g->n_devices; i++) {
            fputs("<tr>", out);
            html_cell(out, g->devices[i].index);
            fputs("<td class=\"l\">", out);
            html_text(out, g->devices[i].name ? g->devices[i].name : "-");
            fputs("</td><td class=\"l\">", out);
            html_text(out, g->devices[i].vendor ? g->devices[i].vendor : "-");
            fputs("</td></tr>\n", out);
        }
        table_close(out);
    }
    fputs("<p>Peaks over the run: utilisation ", out);
    html_num(out, "%.0f %%", g->max_util_pct);
    fputs(", temperature ", out);
    html_num(out, "%.0f &deg;C", g->max_temp_c);
    fputs(", power ", out);
    html_num(out, "%.0f W", g->max_power_w);
    fprintf(out, "; throttling %s.</p>\n", g->throttling_seen ? "<b>seen</b>" : "not seen");
    if (!g->samples || c->n == 0)
        return;
    /* one line per device, named from the first row that names it */
    char text[SNAP_GPUS][96];
    const char *names[SNAP_GPUS];
    int util[SNAP_GPUS], mem[SNAP_GPUS], temp[SNAP_GPUS], power[SNAP_GPUS];
    double total_mb = NAN;
    for (size_t k = 0; k < g->per_row; k++) {
        const char *name = NULL;
        double index = (double)k;
        for (size_t i = 0; i < d->n_series; i++) {
            const snap_gpu_sample *s = &g->samples[i * g->per_row + k];
            if (isfinite(s->mem_total_mb))
                total_mb = isnan(total_mb) ? s->mem_total_mb : fmax(total_mb, s->mem_total_mb);
            if (!isnan(s->index) && !name) {
                name = s->name;
                index = s->index;
            }
        }
        snprintf(text[k], sizeof text[k], "GPU %.0f%s%.80s", index, name ? ": " : "",
                 name ? name : "");
        names[k] = text[k];
        util[k] = S_GPU_UTIL + (int)k;
        mem[k] = S_GPU_MEM + (int)k;
        temp[k] = S_GPU_TEMP + (int)k;
        power[k] = S_GPU_POWER + (int)k;
    }
    char note[160];
    snprintf(note, sizeof note, "Each point is the mean of %zu seconds (temperature: the highest).",
             c->per);
    const char *n = c->per > 1 ? note : NULL;
    time_chart(out, c, "GPU utilisation", "%", util, names, g->per_row, n);
    char mem_title[96];
    if (isfinite(total_mb))
        snprintf(mem_title, sizeof mem_title, "GPU memory used (of %.0f MB)", total_mb);
    else
        snprintf(mem_title, sizeof mem_title, "GPU memory used");
    time_chart(out, c, mem_title, "MB", mem, names, g->per_row, n);
    time_chart(out, c, "GPU temperature",
               "\xc2\xb0"
               "C",
               temp, names, g->per_row, n);
    time_chart(out, c, "GPU power", "W", power, names, g->per_row, n);
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

static void html_doc(FILE *out, const snap_doc *d)
{
    fputs("<section class=\"run\"><h2>", out);
    html_text(out, d->path);
    fputs("</h2>\n", out);
    html_summary(out, d);
    step_cols sc;
    series_cols tc;
    bool have_steps = step_cols_make(d, &sc) == 0;
    bool have_series = series_cols_make(d, &tc) == 0;
    html_steps(out, d);
    if (have_steps && d->n_steps > 1)
        charts_vs_load(out, &sc);
    report_advice adv;
    report_advise(d, &adv);
    html_list(out, "Best configuration", adv.best, adv.n_best);
    html_list(out, "Recommendations", adv.recommend, adv.n_recommend);
    html_analysis(out, d);
    if (have_series)
        charts_over_time(out, &tc);
    if (have_steps) {
        html_server(out, d, &sc);
        html_workload(out, d, &sc);
    }
    html_turns(out, d);
    html_reconnects(out, d);
    if (have_series)
        html_gpu(out, d, &tc);
    if (have_steps)
        step_cols_free(&sc);
    if (have_series) {
        free(tc.t);
        free(tc.v);
    }
    fputs("</section>\n", out);
}

void report_html(FILE *out, const snap_doc *docs, size_t n)
{
    fputs(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>llmload report</title>\n<style>"
        "body{font-family:system-ui,sans-serif;margin:0;padding:16px 24px;color:#222;"
        "line-height:1.4}"
        "main{max-width:1280px;margin:0 auto}"
        "h1{margin:8px 0 4px}h2{margin:28px 0 8px;border-bottom:2px solid #1f77b4;"
        "padding-bottom:4px;overflow-wrap:anywhere}"
        "h3{margin:28px 0 8px;color:#1f4e79}"
        ".summary{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));grid-"
        "auto-flow:dense;"
        "gap:8px;margin:12px 0}.summary .wide{grid-column:span 2}"
        ".summary div{background:#f4f7fb;border:1px solid #dde5ef;border-radius:6px;"
        "padding:6px 10px}"
        ".summary dt{font-size:12px;color:#567;text-transform:uppercase}"
        ".summary dd{margin:2px 0 0;font-weight:600;overflow-wrap:anywhere}"
        ".scroll{overflow-x:auto;max-width:100%}"
        "table{border-collapse:collapse;margin:8px 0;font-size:13px}"
        "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td{white-space:nowrap}"
        "th{background:#f4f4f4}td.l,th.l{text-align:left}tr:nth-child(even) td{background:#fafafa}"
        "figure{margin:16px 0;width:100%}figure svg{display:block;width:100%;height:auto}"
        "figcaption{color:#666;font-size:13px;margin-top:2px}"
        ".pts circle:hover{r:7;stroke:#222;stroke-width:1;fill-opacity:1}"
        ".bars rect:hover{fill:#ff7f0e}"
        ".dim{color:#666}"
        "@media (max-width:1000px){svg.chart .ax,svg.chart .legend{font-size:16px}"
        "svg.chart .ttl{font-size:19px}}"
        "</style></head><body><main>\n"
        "<h1>llmload report</h1>\n"
        "<p class=\"dim\">Point at a chart's point or bar to see its values.</p>\n",
        out);
    for (size_t i = 0; i < n; i++)
        html_doc(out, &docs[i]);
    fputs("</main></body></html>\n", out);
}
