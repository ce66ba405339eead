/* System: CPU total and per core, temperature, llmload's own CPU and RSS, lost events. */
#include <math.h>
#include <stdio.h>

#include "core/sysmon.h"
#include "draw.h"
#include "panels.h"

static void cpu_line(ui_app *app, const ui_rect *r, const sysmon_reading *m)
{
    char v[24];
    if (isnan(m->cpu_total_pct))
        snprintf(v, sizeof v, "-");
    else
        snprintf(v, sizeof v, "%3.0f%%", m->cpu_total_pct);
    int x = r->x + draw_pair(app, r->y, r->x, r->w, "CPU", v) + 1;
    draw_gauge(app, r->y, x, r->x + r->w - x, isnan(m->cpu_total_pct) ? 0 : m->cpu_total_pct, 100,
               UI_GRAPH_CPU);
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

static void draw_system(ui_app *app, const ui_rect *r)
{
    const sysmon_reading *m = &app->s->sysr;
    cpu_line(app, r, m);
    int fixed = 3; /* temp, own, lost */
    int y = r->y + 1;
    y += core_bars(app, y, r, r->h - 1 - fixed, m);
    if (y < r->y + r->h)
        temp_line(app, y++, r, m);
    if (y < r->y + r->h)
        self_line(app, y++, r, m);
    if (y < r->y + r->h)
        lost_line(app, y++, r);
}

const ui_panel panel_system = {"System", 5, 24, draw_system};
