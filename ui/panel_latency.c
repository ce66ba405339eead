/* Latency (percentile table of the run or the current step + TTFT chart) and Errors. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "draw.h"
#include "panels.h"

static const stats_metric k_lat_rows[] = {STATS_TTFT, STATS_E2E, STATS_ITL, STATS_TPOT};
static const struct {
    const char *name;
    double p;
    int priority; /* lower = kept longer when the panel is narrow */
} k_lat_cols[] = {{"p50", 50, 0}, {"p90", 90, 3}, {"p95", 95, 4}, {"p99", 99, 1}, {"max", 100, 2}};

#define LAT_LABEL_W 6
#define LAT_COL_W 9

static const stats_agg *latency_agg(const ui_app *app)
{
    const stats_agg *a = app->latency_step ? stats_step(app->s->st, app->g.seq) : NULL;
    return a ? a : &app->s->st->totals;
}

/* Columns shown: the highest-priority ones that fit in w. */
static int latency_cols(int w, bool show[5])
{
    int fit = (w - LAT_LABEL_W) / LAT_COL_W, n = 0;
    for (int i = 0; i < 5; i++) {
        show[i] = k_lat_cols[i].priority < fit;
        n += show[i];
    }
    return n;
}

/* The server's own E2E (timings or /metrics histograms), under the client's rows, when a
 * source exists (issue 13). Returns the rows drawn (0 or 1). */
static int server_row(ui_app *app, const ui_rect *r, const stats_agg *a, const bool show[5])
{
    if (a->srv_source == STATS_SRV_NONE || a->h[STATS_SRV_E2E].total == 0 || r->h < 6)
        return 0;
    int y = r->y + 5, x = r->x + LAT_LABEL_W;
    draw_text(app, y, r->x, LAT_LABEL_W, UI_LABEL, "server");
    for (int c = 0; c < 5; c++) {
        if (!show[c])
            continue;
        char v[24];
        llm_format_ms(stats_agg_value(a, STATS_SRV_E2E, k_lat_cols[c].p), v, sizeof v, !app->utf8);
        draw_text(app, y, x + LAT_COL_W - 1 - utf8_width(v), LAT_COL_W, UI_VALUE, "%s", v);
        x += LAT_COL_W;
    }
    return 1;
}

static void latency_table(ui_app *app, const ui_rect *r, const stats_agg *a)
{
    bool show[5];
    latency_cols(r->w, show);
    int x = r->x + LAT_LABEL_W;
    for (int c = 0; c < 5; c++)
        if (show[c]) {
            draw_text(app, r->y, x, LAT_COL_W, UI_LABEL, "%*s", LAT_COL_W - 1, k_lat_cols[c].name);
            x += LAT_COL_W;
        }
    for (size_t i = 0; i < 4 && (int)i + 1 < r->h; i++) {
        int y = r->y + 1 + (int)i;
        draw_text(app, y, r->x, LAT_LABEL_W, UI_LABEL, "%s", stats_metric_label(k_lat_rows[i]));
        x = r->x + LAT_LABEL_W;
        for (int c = 0; c < 5; c++) {
            if (!show[c])
                continue;
            char v[24];
            llm_format_ms(stats_agg_value(a, k_lat_rows[i], k_lat_cols[c].p), v, sizeof v,
                          !app->utf8);
            draw_text(app, y, x + LAT_COL_W - 1 - utf8_width(v), LAT_COL_W, UI_VALUE, "%s", v);
            x += LAT_COL_W;
        }
    }
}

static void ttft_chart(ui_app *app, const ui_rect *r, int y, int rows)
{
    size_t cap = 2 * (size_t)(r->w < CHART_MAX_W ? r->w : CHART_MAX_W);
    size_t n99 = series_tail(app->s->st, SER_P99, app->v0, cap);
    size_t n50 = series_tail(app->s->st, SER_P50, app->v1, cap);
    double vmax = chart_nice_max(series_max(app->v0, n99), 1);
    chart_init(&app->ch, r->w, rows, vmax);
    chart_plot(&app->ch, app->v0, n99, 0, false);
    chart_plot(&app->ch, app->v1, n50, 1, false);
    draw_chart(app, &app->ch, y, r->x, UI_GRAPH_P99, UI_GRAPH_P50);
    char m[24];
    llm_format_ms(vmax, m, sizeof m, !app->utf8);
    int x = r->x + r->w - 30;
    if (x < r->x)
        return;
    x += draw_text(app, y - 1, x, 30, UI_LABEL, "TTFT ");
    x += draw_text(app, y - 1, x, 30, UI_GRAPH_P50, "p50 ");
    x += draw_text(app, y - 1, x, 30, UI_GRAPH_P99, "p99");
    draw_text(app, y - 1, x, r->x + r->w - x, UI_LABEL, "  max %s", m);
}

static void draw_latency(ui_app *app, const ui_rect *r)
{
    const stats_agg *a = latency_agg(app);
    latency_table(app, r, a);
    bool show[5];
    latency_cols(r->w, show);
    int srv = server_row(app, r, a, show);
    char scope[200], split[150];
    stats_workload_line(a, split, sizeof split); /* TTFT by cache hit and by turn */
    const char *src = stats_srv_source_name(a->srv_source);
    if (a == &app->s->st->totals)
        snprintf(scope, sizeof scope, "whole run%s%s", split[0] ? "  " : "", split);
    else
        snprintf(scope, sizeof scope, "step %u%s%s", app->g.seq + 1, split[0] ? "  " : "", split);
    if (srv && src) /* where the server row comes from: timings or /metrics buckets */
        snprintf(scope + strlen(scope), sizeof scope - strlen(scope), "  server: %s",
                 a->srv_source == STATS_SRV_METRICS ? "buckets" : src);
    int rows = r->h - 6 - srv;
    if (rows > 0)
        ttft_chart(app, r, r->y + 6 + srv, rows);
    draw_text(app, r->y + (rows > 0 ? 5 + srv : 0), r->x, rows > 0 ? r->w - 31 : LAT_LABEL_W,
              UI_LABEL, "%s", scope);
}

static void error_summary(ui_app *app, const ui_rect *r, const stats_agg *t)
{
    uint64_t n = t->ok + t->failed;
    double pct = n ? 100.0 * (double)t->failed / (double)n : 0;
    ui_element e = t->failed == 0                         ? UI_OK
                   : pct > app->s->cfg.max_error_rate_pct ? UI_ERROR
                                                          : UI_WARN;
    char c[24], rate[24], all[24];
    fmt_num((double)t->failed, c, sizeof c);
    snprintf(rate, sizeof rate, "%.2f %%", pct);
    fmt_num((double)n, all, sizeof all);
    int x = r->x;
    x += draw_text(app, r->y, x, r->w, e, "%s failed", c);
    x += draw_text(app, r->y, x, r->x + r->w - x, UI_LABEL, " of %s  rate ", all);
    draw_text(app, r->y, x, r->x + r->w - x, e, "%s", rate);
}

static void draw_errors(ui_app *app, const ui_rect *r)
{
    const stats_agg *t = &app->s->st->totals;
    error_summary(app, r, t);
    int rows = r->h - 1, nonzero = 0;
    for (int c = 0; c < ERR_CLASSES; c++)
        nonzero += t->errors[c] != 0;
    bool all = rows >= ERR_CLASSES || nonzero == 0;
    int y = r->y + 1;
    for (int c = 0; c < ERR_CLASSES && y < r->y + r->h; c++) {
        if (!all && !t->errors[c])
            continue;
        char v[24];
        fmt_num((double)t->errors[c], v, sizeof v);
        ui_element e = t->errors[c] ? UI_ERROR : UI_LABEL;
        draw_text(app, y, r->x, 9, UI_LABEL, "%s", err_class_name((err_class)c));
        draw_text(app, y, r->x + 9, 6, e, "%5s", v);
        draw_text(app, y, r->x + 16, r->w - 16, UI_MAIN, "%s", t->last_error[c]);
        y++;
    }
    /* Re-sent on a fresh connection: not errors, but never hidden (DESIGN §4). */
    if (y < r->y + r->h && (t->reconnects || t->cut)) {
        char v[24], c[24];
        fmt_num((double)t->reconnects, v, sizeof v);
        fmt_num((double)t->cut, c, sizeof c);
        draw_text(app, y, r->x, r->w, UI_LABEL, "reconnects %s  cut at the end %s", v, c);
    }
}

const ui_panel panel_latency = {"Latency", 7, 40, draw_latency};
const ui_panel panel_errors = {"Errors", 4, 24, draw_errors};
