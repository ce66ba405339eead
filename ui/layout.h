/* ui/layout: the screen manager — places the panels from LINES x COLS (again after every
 * KEY_RESIZE), draws them, the footer, the help overlay and the quit prompt. UI thread. */
#ifndef LLM_UI_LAYOUT_H
#define LLM_UI_LAYOUT_H

#include <stddef.h>

#include "app.h"
#include "panels.h"

#define UI_MIN_COLS 80
#define UI_MIN_LINES 24
#define LAYOUT_MAX_SLOTS 12

typedef struct {
    const ui_panel *panel;
    ui_rect r;
} ui_slot;

/* The panels and their rectangles for a lines x cols screen (the footer is the last
 * line). Returns the number of slots; 0 when the screen is below 80x24. */
size_t layout_compute(int lines, int cols, ui_slot *out, size_t max);

/* Draws the whole frame (or the "terminal too small" notice) and refreshes. */
void layout_draw(ui_app *app);

#endif
