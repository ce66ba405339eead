#include "layout.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "draw.h"
#include "keys.h"

#define FOOTER_LOG_S 8 /* compact layout: a new log line shows in the footer this long */

static void put(ui_slot *out, size_t *n, size_t max, const ui_panel *p, int y, int x, int h, int w)
{
    if (*n < max)
        out[(*n)++] = (ui_slot){p, {y, x, h, w}};
}

/* Wide: three rows — Concurrency|Throughput|System, Latency|Errors, Steps|Log. */
static size_t layout_wide(int lines, int cols, ui_slot *out, size_t max)
{
    size_t n = 0;
    int body = lines - 3, extra = body - 37 > 0 ? body - 37 : 0;
    int ha = 9 + extra / 4, hb = 12 + extra / 4, hc = body - ha - hb;
    int y = 2, w3 = cols / 3, w2 = cols / 2, ws = cols * 5 / 8;
    put(out, &n, max, &panel_header, 0, 0, 2, cols);
    put(out, &n, max, &panel_concurrency, y, 0, ha, w3);
    put(out, &n, max, &panel_throughput, y, w3, ha, w3);
    put(out, &n, max, &panel_system, y, 2 * w3, ha, cols - 2 * w3);
    y += ha;
    put(out, &n, max, &panel_latency, y, 0, hb, w2);
    put(out, &n, max, &panel_errors, y, w2, hb, cols - w2);
    y += hb;
    put(out, &n, max, &panel_steps, y, 0, hc, ws);
    put(out, &n, max, &panel_log, y, ws, hc, cols - ws);
    return n;
}

/* Compact (80x24 up): Concurrency|Throughput, Latency|Errors, Steps|System; the Log's
 * newest line shows in the footer. */
static size_t layout_compact(int lines, int cols, ui_slot *out, size_t max)
{
    size_t n = 0;
    int body = lines - 3, extra = body - 21;
    int ha = 6 + extra / 3, hb = 9 + extra / 3, hc = body - ha - hb;
    int y = 2, w2 = cols / 2, wl = cols * 47 / 80;
    put(out, &n, max, &panel_header, 0, 0, 2, cols);
    put(out, &n, max, &panel_concurrency, y, 0, ha, w2);
    put(out, &n, max, &panel_throughput, y, w2, ha, cols - w2);
    y += ha;
    put(out, &n, max, &panel_latency, y, 0, hb, wl);
    put(out, &n, max, &panel_errors, y, wl, hb, cols - wl);
    y += hb;
    put(out, &n, max, &panel_steps, y, 0, hc, wl);
    put(out, &n, max, &panel_system, y, wl, hc, cols - wl);
    return n;
}

size_t layout_compute(int lines, int cols, ui_slot *out, size_t max)
{
    if (lines < UI_MIN_LINES || cols < UI_MIN_COLS)
        return 0;
    if (cols >= 100 && lines >= 32)
        return layout_wide(lines, cols, out, max);
    return layout_compact(lines, cols, out, max);
}

static bool has_log_panel(const ui_slot *slots, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (slots[i].panel == &panel_log)
            return true;
    return false;
}

static void footer_keys(const ui_app *app, int y, int cols)
{
    size_t n;
    const key_binding *t = keys_table(&n);
    int x = 1;
    for (size_t i = 0; i < n && x < cols - 2; i++) {
        if (!t[i].footer)
            continue;
        const char *sp = strchr(t[i].footer, ' ');
        int klen = sp ? (int)(sp - t[i].footer) : (int)strlen(t[i].footer);
        x += draw_text(app, y, x, cols - x, UI_KEY, "%.*s", klen, t[i].footer);
        x += draw_text(app, y, x, cols - x, UI_LABEL, "%s  ", sp ? sp : "");
    }
}

static void draw_footer(ui_app *app, int y, int cols, bool log_shown)
{
    attrset(ui_attr(&app->pal, UI_MAIN));
    mvhline(y, 0, ' ', cols);
    if (app->confirm_quit) {
        draw_text(app, y, 1, cols - 2, UI_WARN, "requests in flight: quit? (y/n)");
        return;
    }
    const ui_log_line *l = ui_log_get(&app->log, 0);
    if (!log_shown && l && app->now_ns - app->log.last_ns < FOOTER_LOG_S * 1000000000ULL) {
        draw_text(app, y, 1, cols - 2, l->color, "%s", l->text);
        return;
    }
    footer_keys(app, y, cols);
}

static void draw_help(ui_app *app, int lines, int cols)
{
    size_t n;
    const key_binding *t = keys_table(&n);
    int h = (int)n + 2, w = cols - 8 < 72 ? cols - 8 : 72;
    if (h > lines) /* at 80x24 the overlay may cover the header: every key shows */
        h = lines;
    ui_rect r = {(lines - h) / 2, (cols - w) / 2, h, w};
    attrset(ui_attr(&app->pal, UI_OVERLAY));
    for (int y = r.y; y < r.y + r.h; y++)
        mvhline(y, r.x, ' ', r.w);
    ui_rect in = draw_box(app, &r, "Keys (any key closes)");
    for (size_t i = 0; i < n && (int)i < in.h; i++) {
        draw_text(app, in.y + (int)i, in.x + 1, 6, UI_OVERLAY_KEY, "%s", t[i].name);
        draw_text(app, in.y + (int)i, in.x + 8, in.w - 9, UI_OVERLAY, "%s", t[i].help);
    }
}

static void draw_too_small(ui_app *app)
{
    char msg[96];
    snprintf(msg, sizeof msg, "terminal too small: need %dx%d, have %dx%d", UI_MIN_COLS,
             UI_MIN_LINES, COLS, LINES);
    int len = (int)strlen(msg);
    draw_text(app, LINES / 2, COLS > len ? (COLS - len) / 2 : 0, COLS, UI_WARN, "%s", msg);
}

void layout_draw(ui_app *app)
{
    ui_slot slots[LAYOUT_MAX_SLOTS];
    size_t n = layout_compute(LINES, COLS, slots, LAYOUT_MAX_SLOTS);
    attrset(ui_attr(&app->pal, UI_MAIN));
    erase();
    if (n == 0) {
        draw_too_small(app);
    } else {
        for (size_t i = 0; i < n; i++)
            panel_draw(app, slots[i].panel, &slots[i].r);
        draw_footer(app, LINES - 1, COLS, has_log_panel(slots, n));
        if (app->help)
            draw_help(app, LINES, COLS);
    }
    refresh();
}
