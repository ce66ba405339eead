/* ui/app: the dashboard's state shared by the UI modules — the session, the live gauges,
 * the palette, the log, scroll and overlay flags. UI thread only. */
#ifndef LLM_UI_APP_H
#define LLM_UI_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "run/session.h"
#include "theme.h"
#include "widgets.h"

typedef struct {
    int y, x, h, w;
} ui_rect;

#define UI_LOG_LINES 64
#define UI_LOG_LEN 320 /* room for an analysis finding (ANALYSIS_TEXT) and its prefix */
#define UI_MAX_THEMES 32

typedef struct {
    char text[UI_LOG_LEN];
    ui_element color;
    double t; /* seconds since the run started */
} ui_log_line;

typedef struct {
    ui_log_line lines[UI_LOG_LINES]; /* ring: the newest at (head + n - 1) */
    size_t head, n;
    uint64_t last_ns; /* when the newest line was added */
} ui_log;

typedef struct ui_app {
    run_session *s;
    engine_gauges g; /* read every frame: a changed target shows at once */
    uint64_t now_ns;
    bool utf8;
    theme th;
    ui_palette pal;
    char themes[UI_MAX_THEMES][THEME_NAME_LEN];
    size_t n_themes, theme_idx;
    char themes_noted[UI_MAX_THEMES][THEME_NAME_LEN]; /* fallbacks already logged */
    size_t n_noted;
    bool help, confirm_quit, quit, stopping;
    bool latency_step; /* latency table of the current step instead of the totals */
    int steps_scroll;  /* first step row shown */
    bool steps_follow; /* keep the current step in view */
    int steps_page;    /* step rows visible, as last drawn */
    ui_log log;
    uint32_t seen_step;
    /* requests the engine started in each step, from its count at each step change (the
     * rate an open-loop step applied, while its requests are still in flight) */
    uint64_t started_base; /* the count when step seen_step began */
    uint64_t started_in[STATS_MAX_STEPS];
    uint64_t done_at_ns; /* when the UI saw the run finish; 0 while it runs */
    bool seen_any_step, done_noted, final_written, lost_noted, unreachable_noted;
    int server_state_noted; /* srvmon_state last written to the Log */
    uint64_t err_seen[ERR_CLASSES];
    char url[256]; /* the key scrubbed, user:password removed */
    chart ch;      /* scratch for the charts */
    double v0[2 * CHART_MAX_W], v1[2 * CHART_MAX_W];
} ui_app;

/* Adds a line to the Log panel (printf-style). */
void ui_log_add(ui_app *app, ui_element color, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The i-th newest line (0 = newest) or NULL. */
const ui_log_line *ui_log_get(const ui_log *log, size_t i);

#endif
