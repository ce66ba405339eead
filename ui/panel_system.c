/* System: CPU total with its history (and the GPUs' mean utilisation over it), per core,
 * one line per GPU, temperature, llmload's own CPU and RSS, lost events. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/gpuhist.h"
#include "core/sysmon.h"
#include "draw.h"
#include "panels.h"

#define LEGEND_W 9 /* "CPU 100% " left of the history chart */

static void pct_text(double v, char *out, size_t cap)
{
    if (isnan(v))
        snprintf(out, cap, "-");
    else
        snprintf(out, cap, "%3.0f%%", v);
}

/* The GPUs' mean utilisation in each second of the last n series rows (NaN = no reading). */
static void gpu_tail(const run_session *s, size_t n, double *out)
{
    const stats *st = s->st;
    const stats_row *rows = st->series + (st->n_series - n);
    for (size_t i = 0; i < n; i++) {
        long row = gpuhist_row_at(&s->gpuh, rows[i].t);
        out[i] = row < 0 ? NAN : gpuhist_mean_util(&s->gpuh, (size_t)row);
    }
}

static double gpu_mean_now(const gpumon_reading *g)
{
    double sum = 0;
    int n = 0;
    for (int i = 0; i < g->n; i++)
        if (!isnan(g->dev[i].util_pct)) {
            sum += g->dev[i].util_pct;
            n++;
        }
    return n ? sum / n : NAN;
}

/* "CPU  45%" (and "GPU  50%" below it) left of a 0-100 % chart of the seconds so far, rows
 * high: CPU as an area, the GPUs' mean utilisation as a line over it. */
static void history(ui_app *app, int y, const ui_rect *r, int rows, const sysmon_reading *m)
{
    char v[24];
    bool gpu = app->s->gpur.n > 0;
    pct_text(m->cpu_total_pct, v, sizeof v);
    draw_text(app, y, r->x, LEGEND_W, UI_GRAPH_CPU, "CPU");
    draw_text(app, y, r->x + 4, LEGEND_W - 4, UI_VALUE, "%s", v);
    if (gpu && rows > 1) {
        pct_text(gpu_mean_now(&app->s->gpur), v, sizeof v);
        draw_text(app, y + 1, r->x, LEGEND_W, UI_GRAPH_TPS, "GPU");
        draw_text(app, y + 1, r->x + 4, LEGEND_W - 4, UI_VALUE, "%s", v);
    }
    int w = r->w - LEGEND_W;
    if (w <= 0 || rows <= 0)
        return;
    size_t cap = 2 * (size_t)(w < CHART_MAX_W ? w : CHART_MAX_W);
    size_t n = series_tail(app->s->st, SER_CPU, app->v0, cap);
    chart_init(&app->ch, w, rows, 100);
    chart_plot(&app->ch, app->v0, n, 0, true);
    if (gpu) {
        gpu_tail(app->s, n, app->v1);
        chart_plot(&app->ch, app->v1, n, 1, false);
    }
    draw_chart(app, &app->ch, y, r->x + LEGEND_W, UI_GRAPH_CPU, UI_GRAPH_TPS);
}

/* One bar per core (eight heights), wrapped over the rows given. Returns rows used. */
static int core_bars(ui_app *app, int y, const ui_rect *r, int rows, const sysmon_reading *m)
{
    static const char *bar_utf8[9] = {" ",
                                      "\xE2\x96\x81",
                                      "\xE2\x96\x82",
                                      "\xE2\x96\x83",
                                      "\xE2\x96\x84",
                                      "\xE2\x96\x85",
                                      "\xE2\x96\x86",
                                      "\xE2\x96\x87",
                                      "\xE2\x96\x88"};
    static const char bar_ascii[] = " ..::||##";
    int per_row = r->w - 6;
    if (rows <= 0 || per_row <= 0 || m->n_cores <= 0)
        return 0;
    draw_text(app, y, r->x, 6, UI_LABEL, "cores");
    int used = 0;
    for (int i = 0; i < m->n_cores && used < rows; i++) {
        int col = i % per_row;
        if (i && col == 0 && ++used >= rows)
            break;
        /* an idle core still shows the lowest bar; NaN (not yet sampled) a blank */
        int lv = isnan(m->core_pct[i]) ? 0 : 1 + (int)lround(m->core_pct[i] / 100.0 * 7);
        lv = lv < 0 ? 0 : lv > 8 ? 8 : lv;
        if (app->utf8)
            draw_text(app, y + used, r->x + 6 + col, 1, UI_GRAPH_CPU, "%s", bar_utf8[lv]);
        else
            draw_text(app, y + used, r->x + 6 + col, 1, UI_GRAPH_CPU, "%c", bar_ascii[lv]);
    }
    return used + 1;
}

static void self_line(ui_app *app, int y, const ui_rect *r, const sysmon_reading *m)
{
    char cpu[24], rss[24];
    if (isnan(m->self_cpu_pct))
        snprintf(cpu, sizeof cpu, "-");
    else
        snprintf(cpu, sizeof cpu, "%.1f%%", m->self_cpu_pct);
    if (m->self_rss_bytes)
        fmt_bytes((double)m->self_rss_bytes, rss, sizeof rss);
    else
        snprintf(rss, sizeof rss, "-");
    int x = r->x + draw_pair(app, y, r->x, r->w, "llmload CPU", cpu);
    draw_pair(app, y, x + 2, r->x + r->w - x - 2, "RSS", rss);
}

static void temp_line(ui_app *app, int y, const ui_rect *r, const sysmon_reading *m)
{
    char t[32], l[24];
    sysmon_format_temp(m->has_temp ? m->temp_c : NAN, t, sizeof t);
    int x = r->x + draw_pair(app, y, r->x, r->w, "temp", t);
    if (!isnan(m->load1)) {
        snprintf(l, sizeof l, "%.2f", m->load1);
        draw_pair(app, y, x + 2, r->x + r->w - x - 2, "load", l);
    }
}

static void lost_line(ui_app *app, int y, const ui_rect *r)
{
    uint64_t lost = app->g.lost_events;
    char v[24];
    fmt_num((double)lost, v, sizeof v);
    int x = r->x + draw_text(app, y, r->x, r->w, UI_LABEL, "events lost ");
    if (lost)
        draw_text(app, y, x, r->x + r->w - x, UI_ERROR, "%s: incomplete", v);
    else
        draw_text(app, y, x, r->x + r->w - x, UI_OK, "0");
}

/* "40/80G": used and total memory in GiB. */
static void mem_text(const gpumon_figures *f, char *out, size_t cap)
{
    if (isnan(f->mem_used_mb) || isnan(f->mem_total_mb)) {
        snprintf(out, cap, "-");
        return;
    }
    char used[24];
    fmt_num(f->mem_used_mb / 1024.0, used, sizeof used);
    snprintf(out, cap, "%s/%.0fG", used, f->mem_total_mb / 1024.0);
}

/* One GPU: its name (without "NVIDIA "), clipped to what the figures leave, then
 * "87% 40/80G 64°C 313W" at the right; in the warning colour while it throttles. */
static void gpu_line(ui_app *app, int y, const ui_rect *r, int i)
{
    const gpumon_figures *f = &app->s->gpur.dev[i];
    const char *name = app->s->gpu.dev[i].name;
    if (strncmp(name, "NVIDIA ", 7) == 0 && name[7])
        name += 7;
    char util[16], mem[32], temp[16], power[16], figs[96];
    pct_text(f->util_pct, util, sizeof util);
    mem_text(f, mem, sizeof mem);
    if (isnan(f->temp_c))
        snprintf(temp, sizeof temp, "-");
    else
        snprintf(temp, sizeof temp,
                 "%.0f\xC2\xB0"
                 "C",
                 f->temp_c);
    if (isnan(f->power_w))
        snprintf(power, sizeof power, "-");
    else
        snprintf(power, sizeof power, "%.0fW", f->power_w);
    /* right-aligned columns, so that the GPUs' figures line up ("°" is one column) */
    snprintf(figs, sizeof figs, "%s %*s %*s %*s", util, 7, mem,
             4 + (int)strlen(temp) - utf8_width(temp), temp, 4, power);
    int fw = utf8_width(figs);
    if (fw > r->w)
        fw = r->w;
    ui_element e = f->throttling == 1 ? UI_WARN : UI_VALUE;
    draw_text(app, y, r->x, r->w - fw - 1, f->throttling == 1 ? UI_WARN : UI_LABEL, "%s", name);
    draw_text(app, y, r->x + r->w - fw, fw, e, "%s", figs);
}

/* Rows, top to bottom: the history chart (at least one), per-core bars, one line per GPU,
 * temperature, llmload's own CPU, lost events. When short of rows the chart keeps one, the
 * GPUs come next, then the lines below in order; spare rows go to a second chart row, the
 * cores, then the chart again. */
static void draw_system(ui_app *app, const ui_rect *r)
{
    const sysmon_reading *m = &app->s->sysr;
    int avail = r->h - 1;
    int gpus = app->s->gpur.n < avail ? app->s->gpur.n : avail;
    avail -= gpus;
    int info = avail < 3 ? avail : 3; /* temp, own, lost */
    avail -= info;
    int chart_h = 1 + (avail > 0);
    avail -= chart_h - 1;
    int per_row = r->w - 6;
    int core_need = m->n_cores > 0 && per_row > 0 ? (m->n_cores + per_row - 1) / per_row : 0;
    int cores = core_need < avail ? core_need : avail;
    chart_h += avail - cores;
    int y = r->y;
    history(app, y, r, chart_h, m);
    y += chart_h;
    y += core_bars(app, y, r, cores, m);
    for (int i = 0; i < gpus; i++)
        gpu_line(app, y++, r, i);
    if (info > 0)
        temp_line(app, y++, r, m);
    if (info > 1)
        self_line(app, y++, r, m);
    if (info > 2)
        lost_line(app, y++, r);
}

const ui_panel panel_system = {"System", 5, 24, draw_system};
