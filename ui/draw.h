/* ui/draw: the ncurses primitives the panels share — boxes with titles, clipped text,
 * charts and gauges in named colours. UI thread only. */
#ifndef LLM_UI_DRAW_H
#define LLM_UI_DRAW_H

#include "app.h"

/* A border around r with the title in its top edge; returns the inside rectangle. */
ui_rect draw_box(const ui_app *app, const ui_rect *r, const char *title);

/* printf-style text at (y, x), clipped to maxw display columns; returns columns used. */
int draw_text(const ui_app *app, int y, int x, int maxw, ui_element e, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* A label in UI_LABEL then a value in UI_VALUE; returns columns used. */
int draw_pair(const ui_app *app, int y, int x, int maxw, const char *label, const char *value);

/* The chart's cells at (y, x); layer 0 in e0, layer 1 in e1. */
void draw_chart(const ui_app *app, const chart *c, int y, int x, ui_element e0, ui_element e1);

/* A gauge of w cells: value of max in fill, the rest in UI_GAUGE_EMPTY. */
void draw_gauge(const ui_app *app, int y, int x, int w, double value, double max, ui_element fill);

/* Clears r to the main colour. */
void draw_clear(const ui_app *app, const ui_rect *r);

#endif
