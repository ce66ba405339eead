/* Concurrency (target vs in-flight gauge + history) and Throughput (RPS, TPS) panels. */
#include <math.h>
#include <stdio.h>

#include "draw.h"
#include "panels.h"

/* Plots up to two series fields into app->ch (w x h cells) with one shared scale. */
static double plot_pair(ui_app *app, int w, int h, ser_field f0, ser_field f1, double floor,
                        bool line1)
{
    if (h <= 0 || w <= 0)
        return 0;
    size_t cap = 2 * (size_t)(w < CHART_MAX_W ? w : CHART_MAX_W);
    size_t n0 = series_tail(app->s->st, f0, app->v0, cap);
    size_t n1 = (int)f1 >= 0 ? series_tail(app->s->st, f1, app->v1, cap) : 0;
    double m = series_max(app->v0, n0);
    double m1 = series_max(app->v1, n1);
    double vmax = chart_nice_max(m > m1 ? m : m1, floor);
    chart_init(&app->ch, w, h, vmax);
    chart_plot(&app->ch, app->v0, n0, 0, true);
    if (n1)
        chart_plot(&app->ch, app->v1, n1, 1, !line1);
    return vmax;
}

/* "server run 8 wait 12 kv 73%" from the server's /metrics (figures it does not export are
 * left out). */
static void server_line(ui_app *app, int y, const ui_rect *r)
{
    const prom_figures *f = &app->s->srvr.fig;
    char v[24];
    int x = r->x, end = r->x + r->w;
    x += draw_text(app, y, x, end - x, UI_LABEL, "server");
    if (!isnan(f->running)) {
        fmt_num(f->running, v, sizeof v);
        x += draw_pair(app, y, x + 1, end - x - 1, "run", v) + 1;
    }
    if (!isnan(f->waiting)) {
        fmt_num(f->waiting, v, sizeof v);
        x += draw_pair(app, y, x + 1, end - x - 1, "wait", v) + 1;
    }
    if (!isnan(f->kv_used) && x + 1 < end) {
        snprintf(v, sizeof v, "%.0f%%", f->kv_used * 100);
        draw_pair(app, y, x + 1, end - x - 1, "kv", v);
    }
}

static void draw_concurrency(ui_app *app, const ui_rect *r)
{
    const engine_gauges *g = &app->g;
    char t[24], f[24], m[24];
    snprintf(t, sizeof t, "%u", g->target);
    snprintf(f, sizeof f, "%u", g->inflight);
    int x = r->x;
    bool open_loop = g->step < app->s->plan.n_steps && app->s->plan.steps[g->step].rate > 0;
    x += draw_pair(app, r->y, x, r->w, open_loop ? "cap" : "target", t);
    draw_pair(app, r->y, x + 2, r->x + r->w - x - 2, "in-flight", f);
    /* The server's own view, when its /metrics answer: what it runs and what it queues. */
    int y = r->y + 1, h = r->h;
    if (app->s->srvr.state == SRVMON_OK && r->h > 3) {
        server_line(app, y++, r);
        h--;
    }
    double gmax = g->target > g->inflight ? g->target : g->inflight;
    draw_gauge(app, y, r->x, r->w, g->inflight, gmax > 0 ? gmax : 1,
               g->inflight > g->target ? UI_WARN : UI_GAUGE);
    double vmax =
        plot_pair(app, r->w, h - 2, SER_INFLIGHT, SER_TARGET, g->target > 0 ? g->target : 1, true);
    if (h <= 2)
        return;
    draw_chart(app, &app->ch, y + 1, r->x, UI_GRAPH_INFLIGHT, UI_GRAPH_TARGET);
    fmt_num(vmax, m, sizeof m);
    draw_text(app, r->y, r->x + r->w - (int)snprintf(NULL, 0, "max %s", m), r->w, UI_LABEL,
              "max %s", m);
}

/* "RPS now 12 run 11.4" on one row, then its chart below over rows. */
static void rate_block(ui_app *app, int y, int rows, const ui_rect *r, const char *name, double now,
                       double run, ser_field f, ui_element e)
{
    char a[24], b[24], m[24];
    fmt_num(now, a, sizeof a);
    fmt_num(run, b, sizeof b);
    int x = r->x;
    x += draw_text(app, y, x, r->w, e, "%s", name);
    x += draw_pair(app, y, x + 1, r->x + r->w - x - 1, "now", a) + 1;
    x += draw_pair(app, y, x + 2, r->x + r->w - x - 2, "run", b) + 2;
    double vmax = plot_pair(app, r->w, rows, f, (ser_field)-1, 1, false);
    if (rows <= 0)
        return;
    draw_chart(app, &app->ch, y + 1, r->x, e, e);
    fmt_num(vmax, m, sizeof m);
    int mw = (int)snprintf(NULL, 0, "max %s", m);
    if (r->x + r->w - mw > x + 2)
        draw_text(app, y, r->x + r->w - mw, mw, UI_LABEL, "max %s", m);
}

static void draw_throughput(ui_app *app, const ui_rect *r)
{
    const stats_row *live = stats_live(app->s->st);
    const stats_agg *t = &app->s->st->totals;
    int charts = r->h - 2;
    int a = charts / 2, b = charts - a;
    rate_block(app, r->y, a, r, "RPS", live ? live->rps : 0, stats_agg_rps(t), SER_RPS,
               UI_GRAPH_RPS);
    rate_block(app, r->y + 1 + a, b, r, "TPS", live ? live->tps : 0, stats_agg_tps(t), SER_TPS,
               UI_GRAPH_TPS);
}

const ui_panel panel_concurrency = {"Concurrency", 5, 24, draw_concurrency};
const ui_panel panel_throughput = {"Throughput", 5, 24, draw_throughput};
