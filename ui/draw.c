#include "draw.h"

#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void draw_clear(const ui_app *app, const ui_rect *r)
{
    attrset(ui_attr(&app->pal, UI_MAIN));
    for (int y = r->y; y < r->y + r->h; y++)
        mvhline(y, r->x, ' ', r->w);
}

ui_rect draw_box(const ui_app *app, const ui_rect *r, const char *title)
{
    attrset(ui_attr(&app->pal, UI_BORDER));
    int y1 = r->y + r->h - 1, x1 = r->x + r->w - 1;
    mvhline(r->y, r->x + 1, ACS_HLINE, r->w - 2);
    mvhline(y1, r->x + 1, ACS_HLINE, r->w - 2);
    mvvline(r->y + 1, r->x, ACS_VLINE, r->h - 2);
    mvvline(r->y + 1, x1, ACS_VLINE, r->h - 2);
    mvaddch(r->y, r->x, ACS_ULCORNER);
    mvaddch(r->y, x1, ACS_URCORNER);
    mvaddch(y1, r->x, ACS_LLCORNER);
    mvaddch(y1, x1, ACS_LRCORNER);
    if (title && r->w > 6)
        draw_text(app, r->y, r->x + 2, r->w - 4, UI_TITLE, " %s ", title);
    return (ui_rect){r->y + 1, r->x + 1, r->h - 2, r->w - 2};
}

static int put_clipped(const ui_app *app, int y, int x, int maxw, ui_element e, const char *s)
{
    if (maxw <= 0)
        return 0;
    char clip[512], folded[512];
    if (!app->utf8) {
        ascii_fold(s, folded, sizeof folded);
        s = folded;
    }
    int n = utf8_clip(s, maxw, clip, sizeof clip);
    attrset(ui_attr(&app->pal, e));
    mvaddstr(y, x, clip);
    return n;
}

int draw_text(const ui_app *app, int y, int x, int maxw, ui_element e, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return put_clipped(app, y, x, maxw, e, buf);
}

int draw_pair(const ui_app *app, int y, int x, int maxw, const char *label, const char *value)
{
    int n = put_clipped(app, y, x, maxw, UI_LABEL, label);
    n += put_clipped(app, y, x + n, maxw - n, UI_LABEL, " ");
    return n + put_clipped(app, y, x + n, maxw - n, UI_VALUE, value);
}

void draw_chart(const ui_app *app, const chart *c, int y, int x, ui_element e0, ui_element e1)
{
    int a0 = ui_attr(&app->pal, e0), a1 = ui_attr(&app->pal, e1);
    char cell[8];
    for (int row = 0; row < c->h; row++) {
        move(y + row, x);
        for (int col = 0; col < c->w; col++) {
            chart_cell_text(c, row, col, app->utf8, cell);
            attrset(c->layer[row][col] ? a1 : a0);
            addstr(cell);
        }
    }
}

void draw_gauge(const ui_app *app, int y, int x, int w, double value, double max, ui_element fill)
{
    if (w <= 0)
        return;
    char buf[3 * CHART_MAX_W + 1];
    if (w > CHART_MAX_W)
        w = CHART_MAX_W;
    gauge_text(value, max, w, app->utf8, buf, sizeof buf);
    int full = gauge_eighths(value, max, w);
    int cells = (full + 7) / 8;
    /* filled part (and the partial cell) in the fill colour, the rest as the empty track */
    char head[3 * CHART_MAX_W + 1];
    int n = utf8_clip(buf, cells, head, sizeof head);
    attrset(ui_attr(&app->pal, fill));
    mvaddstr(y, x, head);
    attrset(ui_attr(&app->pal, UI_GAUGE_EMPTY));
    for (int i = n; i < w; i++)
        mvaddstr(y, x + i, app->utf8 ? "\xE2\x94\x80" : ".");
}
