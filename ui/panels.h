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

/* Draws p in r: the box and title, then the contents (or nothing when r is too small). */
void panel_draw(ui_app *app, const ui_panel *p, const ui_rect *r);

/* The last n values of one series field into out (max values); returns how many. NaN
 * stands for "not reported". */
typedef enum { SER_TARGET, SER_INFLIGHT, SER_RPS, SER_TPS, SER_P50, SER_P99, SER_CPU } ser_field;
size_t series_tail(const stats *st, ser_field f, double *out, size_t max);

/* Largest finite value of v[0..n) (0 when none). */
double series_max(const double *v, size_t n);

/* The state word of the header: "running", "paused", "cooling down", "manual", ... */
const char *panel_state_text(const engine_gauges *g, bool stopping);

#endif
