/* Steps (one row per step run, manual ones marked `*`, then the plan's steps to come;
 * scrollable; the columns that fit the panel, the key ones first) and Log (the newest
 * lines at the bottom). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "core/analysis.h"
#include "draw.h"
#include "panels.h"

typedef enum { COL_NUM, COL_MS, COL_TEXT } col_kind;

typedef struct {
    const char *head;
    int w; /* cells, one of them the gap on the left of the next column */
    col_kind kind;
} step_col;

static const step_col k_cols[STEPS_COLS] = {
    [STEPS_COL_STEP] = {"#", 5, COL_TEXT},      [STEPS_COL_TEST] = {"test", 7, COL_TEXT},
    [STEPS_COL_TARGET] = {"conc", 5, COL_NUM},  [STEPS_COL_APPLIED] = {"appl", 5, COL_NUM},
    [STEPS_COL_REQ] = {"req", 5, COL_NUM},      [STEPS_COL_RPS] = {"RPS", 5, COL_NUM},
    [STEPS_COL_TPS] = {"TPS", 5, COL_NUM},      [STEPS_COL_STREAM] = {"tok/s/str", 10, COL_NUM},
    [STEPS_COL_TTFT50] = {"TTFT50", 7, COL_MS}, [STEPS_COL_TTFT99] = {"TTFT99", 7, COL_MS},
    [STEPS_COL_E2E50] = {"E2E50", 7, COL_MS},   [STEPS_COL_ERR] = {"err", 5, COL_NUM},
};

/* The order in which columns claim room: the key ones (44 cells, what an 80x24 terminal
 * has) first, so a narrow panel drops the others, the last here first. */
static const steps_col k_rank[STEPS_COLS] = {
    STEPS_COL_STEP,   STEPS_COL_TARGET, STEPS_COL_RPS,     STEPS_COL_TPS,
    STEPS_COL_TTFT50, STEPS_COL_ERR,    STEPS_COL_APPLIED, STEPS_COL_TTFT99,
    STEPS_COL_TEST,   STEPS_COL_STREAM, STEPS_COL_E2E50,   STEPS_COL_REQ,
};

int steps_col_width(steps_col c)
{
    return (unsigned)c < STEPS_COLS ? k_cols[c].w : 0;
}

size_t steps_columns(int w, steps_col out[STEPS_COLS])
{
    bool on[STEPS_COLS] = {false};
    int used = 0;
    for (size_t i = 0; i < STEPS_COLS; i++) {
        steps_col c = k_rank[i];
        if (used + k_cols[c].w <= w) {
            on[c] = true;
            used += k_cols[c].w;
        }
    }
    size_t n = 0;
    for (int c = 0; c < STEPS_COLS; c++)
        if (on[c])
            out[n++] = (steps_col)c;
    return n;
}

void steps_format_ms(double ms, char *out, size_t cap, bool ascii)
{
    if (!isfinite(ms))
        snprintf(out, cap, "-");
    else if (ms < 1.0)
        snprintf(out, cap, "%.0f%s", ms * 1000.0, ascii ? "us" : "\xC2\xB5s");
    else if (ms < 1000.0)
        snprintf(out, cap, ms < 10 ? "%.2fms" : ms < 100 ? "%.1fms" : "%.0fms", ms);
    else
        snprintf(out, cap, ms < 1e4 ? "%.2fs" : ms < 1e5 ? "%.1fs" : "%.0fs", ms / 1000.0);
}

/* The test column: the kind of test the step runs, in at most 6 cells. */
static const char *test_short(llm_test_kind k)
{
    return k == TEST_MULTIMODAL ? "multi" : test_kind_name(k);
}

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
 * and the test column is not shown (the seeds' -i next to the output test): the rows are
 * told apart at a glance; a hand change's step is marked with a `*`. */
static void step_label(const ui_app *app, size_t i, const stats_agg *a, bool test_shown, char *out,
                       size_t cap)
{
    const plan *p = &app->s->plan;
    int kinds = 0;
    for (int k = 0; k < TEST_KINDS; k++)
        kinds += p->has_test[k];
    size_t ps = row_plan_step(app, i, a);
    if (kinds > 1 && !test_shown && ps < p->n_steps)
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

/* What one row shows: the step's figures (a = NULL before it ran) and its plan step. */
typedef struct {
    const stats_agg *a;
    const plan_step *ps;
    double target;  /* users, or requests/s for an open-loop step */
    double applied; /* mean in flight, or requests/s sent; NaN = not yet */
    bool missed;    /* the applied load fell > 5 % short of the target (snapshot's rule) */
} step_figures;

/* The requests/s an open-loop step sent: at the end the snapshot's figure (its requests
 * that ended or were cut, over its window); while the run goes, what the engine started in
 * it, as its requests (long ones for several steps) may still be in flight. */
static double applied_rate(const ui_app *app, size_t i, const stats_agg *a)
{
    if (app->g.state == ENGINE_DONE || !app->seen_any_step || i > app->seen_step ||
        i >= STATS_MAX_STEPS)
        return stats_agg_send_rate(a);
    uint64_t n = i == app->seen_step ? app->g.started - app->started_base : app->started_in[i];
    double w = stats_agg_window_s(a);
    return w > 0 ? (double)n / w : NAN;
}

static step_figures row_figures(const ui_app *app, size_t i)
{
    step_figures f = {.applied = NAN, .target = NAN};
    f.a = i < rows_ran(app) ? stats_step(app->s->st, i) : NULL;
    if (f.a && !f.a->opened && f.a->ok + f.a->failed == 0)
        f.a = NULL;
    size_t psi = row_plan_step(app, i, f.a);
    f.ps = psi < app->s->plan.n_steps ? &app->s->plan.steps[psi] : NULL;
    const stats_agg *a = f.a;
    if (a && a->opened) {
        f.target = a->rate > 0 ? a->rate : a->concurrency;
        f.applied = a->rate > 0 ? applied_rate(app, i, a) : stats_agg_mean_inflight(a);
        double want = a->rate > 0 ? a->rate : stats_agg_mean_target(a);
        f.missed = isfinite(f.applied) && want > 0 && f.applied < 0.95 * want;
    } else if (f.ps) {
        f.target = f.ps->rate > 0 ? f.ps->rate : (double)f.ps->concurrency;
    }
    return f;
}

/* The value of a numeric or time column (NaN = not yet). */
static double col_value(const step_figures *f, steps_col c)
{
    const stats_agg *a = f->a;
    switch (c) {
    case STEPS_COL_TARGET:
        return f->target;
    case STEPS_COL_APPLIED:
        return f->applied;
    case STEPS_COL_REQ:
        return a ? (double)(a->ok + a->failed) : NAN;
    case STEPS_COL_RPS:
        return a ? stats_agg_rps(a) : NAN;
    case STEPS_COL_TPS:
        return a ? stats_agg_tps(a) : NAN;
    case STEPS_COL_STREAM:
        return a ? stats_agg_per_stream_tps(a) : NAN;
    case STEPS_COL_TTFT50:
        return a ? stats_agg_value(a, STATS_TTFT, 50) : NAN;
    case STEPS_COL_TTFT99:
        return a ? stats_agg_value(a, STATS_TTFT, 99) : NAN;
    case STEPS_COL_E2E50:
        return a ? stats_agg_value(a, STATS_E2E, 50) : NAN;
    case STEPS_COL_ERR:
        return a ? (double)a->failed : NAN;
    default:
        return NAN;
    }
}

static void step_row(ui_app *app, int y, const ui_rect *r, size_t i, const steps_col *cols,
                     size_t ncols)
{
    step_figures f = row_figures(app, i);
    bool current = i + 1 == rows_ran(app) && app->g.state != ENGINE_DONE;
    bool test_shown = false;
    for (size_t c = 0; c < ncols; c++)
        test_shown |= cols[c] == STEPS_COL_TEST;
    ui_element e = current ? UI_SELECTED : f.a ? UI_VALUE : UI_LABEL;
    if (current)
        draw_text(app, y, r->x, r->w, e, "%*s", r->w, "");
    int x = r->x;
    for (size_t c = 0; c < ncols; c++) {
        steps_col col = cols[c];
        char v[32];
        double val = col_value(&f, col);
        ui_element ce = e;
        if (col == STEPS_COL_STEP)
            step_label(app, i, f.a, test_shown, v, sizeof v);
        else if (col == STEPS_COL_TEST)
            snprintf(v, sizeof v, "%s",
                     f.a    ? test_short((llm_test_kind)f.a->test)
                     : f.ps ? test_short(f.ps->test)
                            : "-");
        else if (k_cols[col].kind == COL_MS)
            steps_format_ms(val, v, sizeof v, !app->utf8);
        else
            fmt_num(val, v, sizeof v);
        if (!current &&
            ((col == STEPS_COL_ERR && val > 0) || (col == STEPS_COL_APPLIED && f.missed)))
            ce = col == STEPS_COL_ERR ? UI_ERROR : UI_WARN;
        /* right-aligned, never over the box's left edge (a long step label) */
        int vx = x + k_cols[col].w - 1 - utf8_width(v);
        draw_text(app, y, vx > r->x ? vx : r->x, k_cols[col].w, ce, "%s", v);
        x += k_cols[col].w;
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
    steps_col cols[STEPS_COLS];
    size_t ncols = steps_columns(r->w, cols);
    /* an open-loop plan's target is a rate */
    bool rate = app->s->plan.n_steps && app->s->plan.steps[0].rate > 0;
    int x = r->x;
    for (size_t c = 0; c < ncols; c++) {
        const step_col *k = &k_cols[cols[c]];
        const char *head = cols[c] == STEPS_COL_TARGET && rate ? "rate" : k->head;
        draw_text(app, r->y, x, k->w, UI_LABEL, "%*s", k->w - 1, head);
        x += k->w;
    }
    int n = (int)rows_total(app), page = r->h - 1;
    app->steps_page = page > 0 ? page : 1;
    clamp_scroll(app, n, page);
    for (int row = 0; row < page && app->steps_scroll + row < n; row++)
        step_row(app, r->y + 1 + row, r, (size_t)(app->steps_scroll + row), cols, ncols);
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
