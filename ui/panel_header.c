/* The header (URL, model, plan, state, step, times) and the shared panel helpers. */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "draw.h"
#include "panels.h"

void panel_draw(ui_app *app, const ui_panel *p, const ui_rect *r)
{
    if (r->h < p->min_h || r->w < p->min_w)
        return;
    ui_rect in = *r;
    if (p->title)
        in = draw_box(app, r, p->title);
    p->draw(app, &in);
}

static double row_value(const stats_row *r, ser_field f)
{
    switch (f) {
    case SER_TARGET:
        return r->target < 0 ? NAN : r->target;
    case SER_INFLIGHT:
        return r->inflight < 0 ? NAN : r->inflight;
    case SER_RPS:
        return r->rps;
    case SER_TPS:
        return r->tps;
    case SER_P50:
        return r->ttft_p50_ms;
    case SER_P99:
        return r->ttft_p99_ms;
    case SER_CPU:
        return r->cpu_pct;
    }
    return NAN;
}

size_t series_tail(const stats *st, ser_field f, double *out, size_t max)
{
    size_t n = st->n_series < max ? st->n_series : max;
    const stats_row *rows = st->series + (st->n_series - n);
    for (size_t i = 0; i < n; i++)
        out[i] = row_value(&rows[i], f);
    return n;
}

double series_max(const double *v, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]) && v[i] > m)
            m = v[i];
    return m;
}

const char *panel_state_text(const engine_gauges *g, bool stopping)
{
    if (stopping && g->state != ENGINE_DONE)
        return "stopping";
    switch (g->state) {
    case ENGINE_STARTING:
        return "starting";
    case ENGINE_WARMUP:
        return "warm-up";
    case ENGINE_RUNNING:
        return g->manual ? "manual" : "running";
    case ENGINE_PAUSED:
        return "paused";
    case ENGINE_COOLDOWN:
        return "cooling down";
    case ENGINE_DRAINING:
        return "finishing";
    case ENGINE_DONE:
        return "done";
    }
    return "?";
}

static ui_element state_color(const engine_gauges *g)
{
    switch (g->state) {
    case ENGINE_RUNNING:
        return g->manual ? UI_KEY : UI_OK;
    case ENGINE_DONE:
        return UI_TITLE;
    default:
        return UI_WARN;
    }
}

double panel_remaining_s(const plan *p, const engine_gauges *g)
{
    size_t cur = g->step;
    if (g->state == ENGINE_DONE || cur >= p->n_steps || p->search ||
        g->step_left_ms == ENGINE_LEFT_UNKNOWN)
        return -1; /* done, or bounded by requests: nothing to show */
    double left = (double)g->step_left_ms / 1e3;
    /* the cool-down after the current step: what is left of it once it runs */
    if (cur + 1 < p->n_steps)
        left +=
            g->cooldown_left_ms > 0 ? (double)g->cooldown_left_ms / 1e3 : p->steps[cur].cooldown_s;
    for (size_t i = cur + 1; i < p->n_steps; i++) {
        if (p->steps[i].duration_s <= 0)
            return -1;
        left += p->steps[i].duration_s + (i + 1 < p->n_steps ? p->steps[i].cooldown_s : 0);
    }
    return left;
}

/* "req 40/100" of a step bounded by requests, "" otherwise. */
static void step_progress(const ui_app *app, char *out, size_t cap)
{
    const plan *p = &app->s->plan;
    const stats_agg *a = stats_step(app->s->st, app->g.seq);
    out[0] = 0;
    if (app->g.step < p->n_steps && p->steps[app->g.step].requests > 0 && a)
        snprintf(out, cap, "req %llu/%ld", (unsigned long long)(a->ok + a->failed),
                 p->steps[app->g.step].requests);
}

static void header_line2(ui_app *app, const ui_rect *r)
{
    int x = r->x, end = r->x + r->w;
    char buf[64], tmp[32];
    x += draw_text(app, r->y + 1, x, end - x, state_color(&app->g), " %s ",
                   panel_state_text(&app->g, app->stopping));
    plan_step_counter(&app->s->plan, app->g.step, app->g.n_steps, buf, sizeof buf);
    x += draw_pair(app, r->y + 1, x + 1, end - x - 1, "step", buf) + 1;
    /* An open-loop step is steered by its rate; the in-flight target is only a cap. */
    double rate = app->g.step < app->s->plan.n_steps ? app->s->plan.steps[app->g.step].rate : 0;
    if (rate > 0)
        snprintf(buf, sizeof buf, "%.4g/s", rate);
    else
        snprintf(buf, sizeof buf, "%u", app->g.target);
    x += draw_pair(app, r->y + 1, x + 2, end - x - 2, rate > 0 ? "rate" : "target", buf) + 2;
    uint64_t until = app->done_at_ns ? app->done_at_ns : app->now_ns;
    fmt_duration((double)(until - app->s->start_ns) / 1e9, buf, sizeof buf);
    x += draw_pair(app, r->y + 1, x + 2, end - x - 2, "elapsed", buf) + 2;
    double left = panel_remaining_s(&app->s->plan, &app->g);
    if (left >= 0) {
        fmt_duration(left, tmp, sizeof tmp);
        snprintf(buf, sizeof buf, "~%s", tmp);
        x += draw_pair(app, r->y + 1, x + 2, end - x - 2, "remaining", buf) + 2;
    }
    step_progress(app, buf, sizeof buf);
    if (buf[0])
        x += draw_text(app, r->y + 1, x + 2, end - x - 2, UI_VALUE, "%s", buf) + 2;
    draw_pair(app, r->y + 1, x + 2, end - x - 2, "theme", app->th.name);
}

static void draw_header(ui_app *app, const ui_rect *r)
{
    int x = r->x, end = r->x + r->w;
    x += draw_text(app, r->y, x, end - x, UI_SELECTED, " llmload ");
    x += draw_text(app, r->y, x + 1, end - x - 1, UI_VALUE, "%s", app->url) + 1;
    x += draw_pair(app, r->y, x + 2, end - x - 2, "model",
                   app->s->model ? app->s->model : "(server default)") +
         2;
    draw_text(app, r->y, x + 2, end - x - 2, UI_LABEL, "%s", app->s->plan_text);
    if (r->h > 1)
        header_line2(app, r);
}

const ui_panel panel_header = {NULL, 2, 40, draw_header};
