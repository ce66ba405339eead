/* Steps (one row per step run, manual ones marked `*`, then the plan's steps to come;
 * scrollable) and Log (the newest lines at the bottom). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "core/analysis.h"
#include "draw.h"
#include "panels.h"

typedef enum { COL_NUM, COL_MS } col_kind;

typedef struct {
    const char *head;
    int w;
    col_kind kind;
} step_col;

static const step_col k_cols[] = {
    {"#", 4, COL_NUM},    {"conc", 5, COL_NUM},       {"req", 6, COL_NUM},   {"RPS", 6, COL_NUM},
    {"TPS", 6, COL_NUM},  {"tok/s/str", 10, COL_NUM}, {"TTFT50", 9, COL_MS}, {"TTFT99", 9, COL_MS},
    {"E2E50", 9, COL_MS}, {"err", 6, COL_NUM},
};
#define N_COLS (sizeof k_cols / sizeof k_cols[0])

/* The value of column c for a step (NaN = not yet). */
static double col_value(const stats_agg *a, size_t c, double conc)
{
    switch (c) {
    case 0:
        return NAN;
    case 1:
        return conc;
    case 2:
        return a ? (double)(a->ok + a->failed) : NAN;
    case 3:
        return a ? stats_agg_rps(a) : NAN;
    case 4:
        return a ? stats_agg_tps(a) : NAN;
    case 5:
        return a ? stats_agg_per_stream_tps(a) : NAN;
    case 6:
        return a ? stats_agg_value(a, STATS_TTFT, 50) : NAN;
    case 7:
        return a ? stats_agg_value(a, STATS_TTFT, 99) : NAN;
    case 8:
        return a ? stats_agg_value(a, STATS_E2E, 50) : NAN;
    default:
        return a ? (double)a->failed : NAN;
    }
}

static size_t cols_fitting(int w)
{
    size_t n = 0;
    int used = 0;
    while (n < N_COLS && used + k_cols[n].w <= w)
        used += k_cols[n++].w;
    return n;
}

/* The step number, with the test's initial (i, o, m) when the plan mixes kinds of test
 * (the seeds' -i next to the output test): the rows are told apart at a glance. */
/* Rows: the steps that ran (manual ones too, DESIGN §4), then the plan's steps still to
 * come. Row i is stats step i while i < ran, else plan step (current + 1 + i - ran). */
static size_t rows_ran(const ui_app *app)
{
    size_t ran = app->s->st->n_steps;
    return app->g.state == ENGINE_STARTING || app->g.state == ENGINE_WARMUP ? 0 : ran;
}

static size_t rows_total(const ui_app *app)
{
    size_t ran = rows_ran(app), n = app->s->plan.n_steps;
    size_t next = ran ? (size_t)app->g.step + 1 : 0; /* first plan step not yet run */
    return ran + (next < n ? n - next : 0);
}

/* The plan step behind row i (the one a ran step ran, or one to come). */
static size_t row_plan_step(const ui_app *app, size_t i, const stats_agg *a)
{
    size_t ran = rows_ran(app);
    if (i < ran && a)
        return a->plan_index;
    return (ran ? (size_t)app->g.step + 1 : 0) + (i - ran);
}

/* The step number, with the test's initial (i, o, m) when the plan mixes kinds of test
 * (the seeds' -i next to the output test): the rows are told apart at a glance; a hand
 * change's step is marked with a `*`. */
static void step_label(const ui_app *app, size_t i, const stats_agg *a, char *out, size_t cap)
{
    const plan *p = &app->s->plan;
    int kinds = 0;
    for (int k = 0; k < TEST_KINDS; k++)
        kinds += p->has_test[k];
    size_t ps = row_plan_step(app, i, a);
    if (kinds > 1 && ps < p->n_steps)
        snprintf(out, cap, "%zu%c", i + 1, test_kind_name(p->steps[ps].test)[0]);
    else
        snprintf(out, cap, "%zu", i + 1);
    if (a && a->manual) {
        size_t n = strlen(out);
        snprintf(out + n, cap - n, "*");
    }
    /* A search's ended steps: met the SLO or not, the answer read down the column. */
    const stats *st = app->s->st;
    if (p->search && i < st->steps_ended && a) {
        bool met = analysis_step_meets_slo(a, &st->slo);
        size_t n = strlen(out);
        snprintf(out + n, cap - n, "%s",
                 met ? (app->utf8 ? "\xE2\x9C\x93" : "+") : (app->utf8 ? "\xE2\x9C\x97" : "x"));
    }
}

static void step_row(ui_app *app, int y, const ui_rect *r, size_t i, size_t ncols)
{
    const stats_agg *a = i < rows_ran(app) ? stats_step(app->s->st, i) : NULL;
    if (a && !a->opened && a->ok + a->failed == 0)
        a = NULL;
    bool current = i + 1 == rows_ran(app) && app->g.state != ENGINE_DONE;
    /* The load column: the load applied (users, or requests/s for an open-loop step). */
    size_t psi = row_plan_step(app, i, a);
    const plan_step *ps = psi < app->s->plan.n_steps ? &app->s->plan.steps[psi] : NULL;
    double conc = a && a->opened ? (a->rate > 0 ? a->rate : a->concurrency)
                  : ps           ? (ps->rate > 0 ? ps->rate : (double)ps->concurrency)
                                 : NAN;
    ui_element e = current ? UI_SELECTED : a ? UI_VALUE : UI_LABEL;
    if (current)
        draw_text(app, y, r->x, r->w, e, "%*s", r->w, "");
    int x = r->x;
    for (size_t c = 0; c < ncols; c++) {
        char v[32];
        double val = c == 0 ? (double)(i + 1) : col_value(a, c, conc);
        if (c == 0)
            step_label(app, i, a, v, sizeof v);
        else if (k_cols[c].kind == COL_MS)
            llm_format_ms(val, v, sizeof v, !app->utf8);
        else
            fmt_num(val, v, sizeof v);
        ui_element ce = (c == 9 && val > 0 && !current) ? UI_ERROR : e;
        draw_text(app, y, x + k_cols[c].w - 1 - utf8_width(v), k_cols[c].w, ce, "%s", v);
        x += k_cols[c].w;
    }
}

static void clamp_scroll(ui_app *app, int n_steps, int page)
{
    if (app->steps_follow) {
        int cur = (int)rows_ran(app) - 1;
        if (cur < app->steps_scroll || cur >= app->steps_scroll + page)
            app->steps_scroll = cur - page + 1 > 0 ? cur - page + 1 : 0;
        if (cur < app->steps_scroll)
            app->steps_scroll = cur;
    }
    if (app->steps_scroll > n_steps - page)
        app->steps_scroll = n_steps - page;
    if (app->steps_scroll < 0)
        app->steps_scroll = 0;
}

static void draw_steps(ui_app *app, const ui_rect *r)
{
    size_t ncols = cols_fitting(r->w);
    int x = r->x;
    for (size_t c = 0; c < ncols; c++) {
        draw_text(app, r->y, x, k_cols[c].w, UI_LABEL, "%*s", k_cols[c].w - 1, k_cols[c].head);
        x += k_cols[c].w;
    }
    int n = (int)rows_total(app), page = r->h - 1;
    app->steps_page = page > 0 ? page : 1;
    clamp_scroll(app, n, page);
    for (int row = 0; row < page && app->steps_scroll + row < n; row++)
        step_row(app, r->y + 1 + row, r, (size_t)(app->steps_scroll + row), ncols);
    if (app->steps_scroll > 0 || app->steps_scroll + page < n)
        draw_text(app, r->y - 1, r->x + r->w - 14, 14, UI_LABEL, " %d-%d of %d ",
                  app->steps_scroll + 1,
                  app->steps_scroll + page < n ? app->steps_scroll + page : n, n);
}

/* The next wrapped piece of p (at most w columns, broken after a space when one is
 * near); returns the bytes it takes. */
static size_t wrap_piece(const char *p, int w, char *part, size_t cap)
{
    utf8_clip(p, w, part, cap);
    size_t n = strlen(part);
    if (p[n] == ' ')
        return n + 1; /* the space at the break is used up, not carried to the next row */
    if (p[n]) {
        char *sp = strrchr(part, ' ');
        if (sp && sp - part > w / 2)
            n = (size_t)(sp - part) + 1;
    }
    part[n] = 0;
    return n;
}

/* Rows a log line takes when wrapped to w - 7 columns (after the time column). */
static int log_rows(const ui_log_line *l, int w)
{
    char part[UI_LOG_LEN];
    int rows = 0;
    for (const char *p = l->text; *p && w > 7; rows++)
        p += wrap_piece(p, w - 7, part, sizeof part);
    return rows ? rows : 1;
}

static void log_line(ui_app *app, const ui_log_line *l, int y, int rows, const ui_rect *r)
{
    char t[16], part[UI_LOG_LEN];
    fmt_duration(l->t, t, sizeof t);
    draw_text(app, y, r->x, 7, UI_LABEL, "%6s", t);
    const char *p = l->text;
    for (int i = 0; i < rows && *p; i++) {
        p += wrap_piece(p, r->w - 7, part, sizeof part);
        draw_text(app, y + i, r->x + 7, r->w - 7, l->color, "%s", part);
    }
}

/* The newest lines, wrapped, filling from the top; the oldest scroll off. */
static void draw_log(ui_app *app, const ui_rect *r)
{
    int used = 0;
    size_t n = 0;
    while (n < app->log.n && used + log_rows(ui_log_get(&app->log, n), r->w) <= r->h)
        used += log_rows(ui_log_get(&app->log, n++), r->w);
    int y = r->y;
    for (size_t i = n; i-- > 0;) {
        const ui_log_line *l = ui_log_get(&app->log, i);
        int rows = log_rows(l, r->w);
        log_line(app, l, y, rows, r);
        y += rows;
    }
}

const ui_panel panel_steps = {"Steps", 4, 40, draw_steps};
const ui_panel panel_log = {"Log", 4, 24, draw_log};
