/* ui/panels: the dashboard's panels, each a small table of function pointers (draw, size)
 * that the screen manager (layout.c) places. UI thread only. */
#ifndef LLM_UI_PANELS_H
#define LLM_UI_PANELS_H

#include <stddef.h>

#include "app.h"

typedef struct {
    const char *title; /* NULL = drawn without a box (the header) */
    int min_h, min_w;  /* outer size below which the panel is not drawn */
    void (*draw)(ui_app *app, const ui_rect *inside);
} ui_panel;

extern const ui_panel panel_header;
extern const ui_panel panel_concurrency;
extern const ui_panel panel_throughput;
extern const ui_panel panel_latency;
extern const ui_panel panel_errors;
extern const ui_panel panel_system;
extern const ui_panel panel_steps;
extern const ui_panel panel_log;

/* The Steps table's columns, in the order drawn. */
typedef enum {
    STEPS_COL_STEP,    /* the step's number (`*` manual, ✓/✗ a search's verdict) */
    STEPS_COL_TEST,    /* the kind of test: output, input, multi(modal) */
    STEPS_COL_TARGET,  /* the load asked: users, or requests/s */
    STEPS_COL_APPLIED, /* the load applied: mean requests in flight, or requests/s sent */
    STEPS_COL_REQ,
    STEPS_COL_RPS,
    STEPS_COL_TPS,
    STEPS_COL_STREAM, /* per-stream tokens/s */
    STEPS_COL_TTFT50,
    STEPS_COL_TTFT99,
    STEPS_COL_E2E50,
    STEPS_COL_ERR,
    STEPS_COLS
} steps_col;

/* The columns that fit w cells, in the order drawn (into out; returns how many): the key
 * ones first (step, target and applied load, RPS, TPS, TTFT p50 and p99, errors: 44
 * cells, which an 80x24 terminal has), then the others while they fit. */
size_t steps_columns(int w, steps_col out[STEPS_COLS]);
/* Cells a column takes (its gap included). */
int steps_col_width(steps_col c);
/* A time in ms in at most 6 cells: "850us", "9.87ms", "123ms", "1.23s", "12.3s"; "-" for
 * NaN. */
void steps_format_ms(double ms, char *out, size_t cap, bool ascii);

/* Draws p in r: the box and title, then the contents (or nothing when r is too small). */
void panel_draw(ui_app *app, const ui_panel *p, const ui_rect *r);

/* The last n values of one series field into out (max values); returns how many. NaN
 * stands for "not reported". */
typedef enum { SER_TARGET, SER_INFLIGHT, SER_RPS, SER_TPS, SER_P50, SER_P99, SER_CPU } ser_field;
size_t series_tail(const stats *st, ser_field f, double *out, size_t max);

/* Largest finite value of v[0..n) (0 when none). */
double series_max(const double *v, size_t n);

/* Seconds left in the plan when every step to come is bounded by time (the current step's,
 * its cool-down's, the later steps' and cool-downs'), counted on the engine's clocks, which
 * stand still while paused (a manual step runs on the plan step's budget); < 0 when unknown
 * (done, a search, a step bounded by requests). */
double panel_remaining_s(const plan *p, const engine_gauges *g);

/* The state word of the header: "running", "paused", "cooling down", "manual", ... */
const char *panel_state_text(const engine_gauges *g, bool stopping);

#endif
