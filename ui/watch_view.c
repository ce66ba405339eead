/* ui/watch_view: the watch screen (see watch_view.h). It borrows the dashboard's drawing
 * (draw.h), palette and Log ring through a ui_app without a session (app.s is NULL). */
#include "watch_view.h"

#include <curses.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actions.h"
#include "app.h"
#include "base/stop.h"
#include "base/util.h"
#include "draw.h"
#include "ui.h"
#include "run/watch_main.h"
#include "run/watch_net.h"

#define NOTE_FOOTER_NS (8 * LLM_NS_PER_SEC) /* without a Log box: a note shows this long */
#define FRAME_MS 100

typedef enum { WK_NONE = 0, WK_UP, WK_DOWN, WK_PAUSE, WK_NEXT, WK_HELP, WK_QUIT, WK_REDRAW } wk;

/* The one table of watch keys: the footer and the `?` overlay come from it. */
static const struct {
    int key;
    wk action;
    const char *name, *help, *footer;
} k_watch_keys[] = {
    {'+', WK_UP, "+", "every worker's target +1 (the fleet's: +1 per worker)", "+/- target"},
    {'=', WK_UP, "=", "same as + (no shift needed)", NULL},
    {'-', WK_DOWN, "-", "every worker's target -1 (a worker at 1 is left alone)", NULL},
    {'p', WK_PAUSE, "p", "pause every worker; resume them when all are paused", "p pause"},
    {'n', WK_NEXT, "n", "every worker's next plan step", "n next"},
    {'?', WK_HELP, "?", "show or hide this help", "? help"},
    {'q', WK_QUIT, "q", "quit watch (the workers keep running)", "q quit"},
    {12, WK_REDRAW, "^L", "redraw the screen", NULL},
};
#define N_KEYS (sizeof k_watch_keys / sizeof k_watch_keys[0])

typedef struct {
    ui_app *app; /* palette, utf8, Log; no session */
    watch_net *net;
    watch_fleet fleet;
    uint64_t start_ns;
    bool control; /* a token was given */
} watch_view;

/* ---- text helpers ---- */

static void fmt_latency(double seconds, char *out, size_t cap, bool utf8)
{
    if (isnan(seconds))
        llm_strlcpy(out, "-", cap);
    else
        llm_format_ms(seconds * 1000, out, cap, !utf8);
}

static void fmt_rate(double v, char *out, size_t cap)
{
    if (isnan(v))
        llm_strlcpy(out, "-", cap);
    else if (v < 100)
        snprintf(out, cap, "%.1f", v);
    else
        fmt_num(v, out, cap);
}

static const char *state_word(int state)
{
    static const char *const words[] = {"starting", "warm-up",  "running", "paused",
                                        "cooldown", "draining", "done"};
    if (state == -2)
        return "mixed";
    return state >= 0 && state < (int)(sizeof words / sizeof words[0]) ? words[state] : "-";
}

/* ---- panels ---- */

static void draw_header(watch_view *v, int cols)
{
    ui_app *app = v->app;
    const watch_fleet *f = &v->fleet;
    char t[32], step[48] = "-";
    fmt_duration((double)(llm_now_ns() - v->start_ns) / 1e9, t, sizeof t);
    if (f->n_up && f->step_min == f->step_max)
        snprintf(step, sizeof step, "%.0f", f->step_min);
    else if (f->n_up)
        snprintf(step, sizeof step, "%.0f-%.0f", f->step_min, f->step_max);
    int x = 1;
    x += draw_text(app, 0, x, cols - x, UI_TITLE, "llmload watch");
    x += draw_text(app, 0, x, cols - x, f->n_up == f->n ? UI_OK : UI_WARN, "  %zu/%zu up", f->n_up,
                   f->n);
    x += draw_text(app, 0, x, cols - x, UI_VALUE, "  %s", state_word(f->state));
    if (f->manual)
        x += draw_text(app, 0, x, cols - x, UI_KEY, " (manual)");
    x += draw_pair(app, 0, x + 2, cols - x - 2, "step", step) + 2;
    x += draw_pair(app, 0, x + 2, cols - x - 2, "watching", t) + 2;
    draw_text(app, 0, x + 2, cols - x - 2, v->control ? UI_LABEL : UI_WARN, "%s",
              v->control ? "control on" : "no control token: keys off");
}

static int pair_at(ui_app *app, int y, int x, int end, const char *label, const char *value)
{
    return x + draw_pair(app, y, x, end - x, label, value) + 2;
}

static void draw_fleet(watch_view *v, const ui_rect *r)
{
    ui_app *app = v->app;
    const watch_fleet *f = &v->fleet;
    char a[24], b[24], c[24], d[24];
    int end = r->x + r->w, x = r->x;
    snprintf(a, sizeof a, "%.0f", f->target);
    snprintf(b, sizeof b, "%.0f", f->inflight);
    fmt_rate(f->rps, c, sizeof c);
    fmt_rate(f->tps, d, sizeof d);
    x = pair_at(app, r->y, x, end, "target", a);
    x = pair_at(app, r->y, x, end, "in-flight", b);
    x = pair_at(app, r->y, x, end, "RPS", c);
    pair_at(app, r->y, x, end, "tok/s", d);
    if (r->h < 2)
        return;
    double gmax = f->target > f->inflight ? f->target : f->inflight;
    draw_gauge(app, r->y + 1, r->x, r->w, f->inflight, gmax > 0 ? gmax : 1,
               f->inflight > f->target ? UI_WARN : UI_GAUGE);
}

static void draw_requests(watch_view *v, const ui_rect *r)
{
    ui_app *app = v->app;
    const watch_fleet *f = &v->fleet;
    char s[24];
    int end = r->x + r->w, x = r->x, y = r->y;
    fmt_num(f->ok, s, sizeof s);
    x = pair_at(app, y, x, end, "ok", s);
    fmt_num(f->failed, s, sizeof s);
    x = pair_at(app, y, x, end, "failed", s);
    fmt_num(f->output_tokens, s, sizeof s);
    x = pair_at(app, y, x, end, "tokens", s);
    snprintf(s, sizeof s, "%.0f", f->lost);
    x = r->x + draw_pair(app, y + 1, r->x, r->w, "lost events", s) + 2;
    /* the error classes that happened, on as many rows as the box has */
    y = r->y + 1;
    for (int k = 0; k < ERR_CLASSES; k++) {
        if (f->errors[k] <= 0)
            continue;
        fmt_num(f->errors[k], s, sizeof s);
        int need = (int)strlen(err_class_name((err_class)k)) + (int)strlen(s) + 3;
        if (x + need > end && ++y < r->y + r->h)
            x = r->x;
        if (y >= r->y + r->h)
            break;
        x += draw_text(app, y, x, end - x, UI_ERROR, "%s", err_class_name((err_class)k));
        x += draw_text(app, y, x, end - x, UI_VALUE, " %s  ", s);
    }
}

static void draw_latency(watch_view *v, const ui_rect *r)
{
    ui_app *app = v->app;
    static const char *const names[WATCH_HISTS] = {"TTFT", "E2E", "ITL"};
    static const double qs[] = {0.5, 0.9, 0.99};
    int col = (r->w - 6) / 4 < 10 ? (r->w - 6) / 4 : 10;
    draw_text(app, r->y, r->x + 6, r->w - 6, UI_LABEL, "%*s%*s%*s%*s", col, "p50", col, "p90", col,
              "p99", col, "count");
    for (int k = 0; k < WATCH_HISTS && k + 1 < r->h; k++) {
        const watch_hist *h = &v->fleet.h[k];
        int y = r->y + 1 + k;
        draw_text(app, y, r->x, 6, UI_LABEL, "%s", names[k]);
        for (int j = 0; j < 3; j++) {
            char s[24];
            fmt_latency(watch_quantile(h, qs[j]), s, sizeof s, app->utf8);
            draw_text(app, y, r->x + 6 + j * col, col, UI_VALUE, "%*s", col, s);
        }
        char n[24];
        fmt_num(h->total, n, sizeof n);
        draw_text(app, y, r->x + 6 + 3 * col, col, UI_VALUE, "%*s", col, n);
    }
}

/* The worker table's columns; the error column takes what is left. */
typedef enum { C_URL, C_STATE, C_STEP, C_TARGET, C_INFL, C_RPS, C_TPS, C_TTFT, C_LOST, C_N } wcol;
static const struct {
    const char *title;
    int w;
} k_cols[C_N] = {{"worker", 14}, {"state", 9}, {"step", 5},   {"target", 7}, {"in-fl", 6},
                 {"RPS", 7},     {"tok/s", 7}, {"TTFT99", 9}, {"lost", 5}};

/* As wide as the longest URL (14 to 36 columns): the error column takes the rest. */
static int url_width(const watch_worker *ws, size_t n)
{
    int w = 14;
    for (size_t i = 0; i < n; i++)
        if ((int)strlen(ws[i].shown) - 5 > w) /* shown without "http://" */
            w = (int)strlen(ws[i].shown) - 5;
    return w > 36 ? 36 : w;
}

static void worker_cells(const watch_worker *w, bool utf8, char cells[C_N][WATCH_URL_MAX])
{
    const watch_figures *f = &w->fig;
    bool up = w->link == WATCH_LINK_UP;
    const char *url = strncmp(w->shown, "http://", 7) == 0 ? w->shown + 7 : w->shown;
    snprintf(cells[C_URL], WATCH_URL_MAX, "%s", url);
    snprintf(cells[C_STATE], WATCH_URL_MAX, "%s",
             w->link == WATCH_LINK_WAITING ? "waiting"
             : !up                         ? "down"
                                           : state_word(f->state));
    for (int c = C_STEP; c < C_N; c++)
        llm_strlcpy(cells[c], "-", WATCH_URL_MAX);
    if (!up)
        return;
    snprintf(cells[C_STEP], WATCH_URL_MAX, "%.0f", f->step);
    snprintf(cells[C_TARGET], WATCH_URL_MAX, "%.0f", f->target);
    snprintf(cells[C_INFL], WATCH_URL_MAX, "%.0f", f->inflight);
    fmt_rate(w->rps, cells[C_RPS], WATCH_URL_MAX);
    fmt_rate(w->tps, cells[C_TPS], WATCH_URL_MAX);
    fmt_latency(watch_quantile(&f->h[WATCH_H_TTFT], 0.99), cells[C_TTFT], WATCH_URL_MAX, utf8);
    snprintf(cells[C_LOST], WATCH_URL_MAX, "%.0f", f->lost);
}

static void draw_workers(watch_view *v, const ui_rect *r)
{
    ui_app *app = v->app;
    size_t n;
    const watch_worker *ws = watch_net_workers(v->net, &n);
    int uw = url_width(ws, n), x = r->x, end = r->x + r->w;
    bool narrow = r->w < 100; /* step and lost are in the header and Requests then */
    for (int c = 0; c < C_N; c++) {
        if (narrow && (c == C_STEP || c == C_LOST))
            continue;
        int w = c == C_URL ? uw : k_cols[c].w;
        draw_text(app, r->y, x, end - x, UI_LABEL, c == C_URL ? "%-*s" : "%*s", w - 1,
                  k_cols[c].title);
        x += w;
    }
    draw_text(app, r->y, x + 1, end - x - 1, UI_LABEL, "last error");
    static char cells[C_N][WATCH_URL_MAX];
    bool overflow = (int)n + 1 > r->h; /* the last row then says so */
    for (size_t i = 0; i < n && (int)i + 1 < r->h - overflow; i++) {
        int y = r->y + 1 + (int)i;
        const watch_worker *w = &ws[i];
        worker_cells(w, app->utf8, cells);
        x = r->x;
        for (int c = 0; c < C_N; c++) {
            if (narrow && (c == C_STEP || c == C_LOST))
                continue;
            int cw = c == C_URL ? uw : k_cols[c].w;
            ui_element e = c == C_STATE && w->link != WATCH_LINK_UP ? UI_ERROR
                           : c == C_URL                             ? UI_LABEL
                                                                    : UI_VALUE;
            if (c == C_URL)
                draw_text(app, y, x, cw - 1, e, "%s", cells[c]);
            else
                draw_text(app, y, x, cw - 1, e, "%*s", cw - 1, cells[c]);
            x += cw;
        }
        if (w->error[0])
            draw_text(app, y, x + 1, end - x - 1, UI_ERROR, "%s", w->error);
    }
    if (overflow && r->h >= 2)
        draw_text(app, r->y + r->h - 1, r->x, r->w, UI_WARN,
                  "... %d more of %zu workers: enlarge the terminal", (int)n - (r->h - 2), n);
}

static void draw_log(watch_view *v, const ui_rect *r)
{
    for (int i = 0; i < r->h; i++) {
        const ui_log_line *l = ui_log_get(&v->app->log, (size_t)(r->h - 1 - i));
        if (l)
            draw_text(v->app, r->y + i, r->x, r->w, l->color, "%s", l->text);
    }
}

static void draw_footer(watch_view *v, int y, int cols, bool log_shown)
{
    ui_app *app = v->app;
    attrset(ui_attr(&app->pal, UI_MAIN));
    mvhline(y, 0, ' ', cols);
    const ui_log_line *l = ui_log_get(&app->log, 0);
    if (!log_shown && l && llm_now_ns() - app->log.last_ns < NOTE_FOOTER_NS) {
        draw_text(app, y, 1, cols - 2, l->color, "%s", l->text);
        return;
    }
    int x = 1;
    for (size_t i = 0; i < N_KEYS && x < cols - 2; i++) {
        const char *f = k_watch_keys[i].footer;
        if (!f)
            continue;
        const char *sp = strchr(f, ' ');
        x += draw_text(app, y, x, cols - x, UI_KEY, "%.*s", (int)(sp - f), f);
        x += draw_text(app, y, x, cols - x, UI_LABEL, "%s  ", sp);
    }
}

static void draw_help(watch_view *v)
{
    ui_app *app = v->app;
    int h = (int)N_KEYS + 2, w = COLS - 8 < 72 ? COLS - 8 : 72;
    ui_rect r = {(LINES - h) / 2, (COLS - w) / 2, h, w};
    attrset(ui_attr(&app->pal, UI_OVERLAY));
    for (int y = r.y; y < r.y + r.h; y++)
        mvhline(y, r.x, ' ', r.w);
    ui_rect in = draw_box(app, &r, "Keys (any key closes)");
    for (size_t i = 0; i < N_KEYS && (int)i < in.h; i++) {
        draw_text(app, in.y + (int)i, in.x + 1, 6, UI_OVERLAY_KEY, "%s", k_watch_keys[i].name);
        draw_text(app, in.y + (int)i, in.x + 8, in.w - 9, UI_OVERLAY, "%s", k_watch_keys[i].help);
    }
}

/* Header; Fleet; Latency | Requests; Workers; Log (when there is room); footer. */
static void draw_screen(watch_view *v)
{
    ui_app *app = v->app;
    attrset(ui_attr(&app->pal, UI_MAIN));
    erase();
    if (LINES < 24 || COLS < 80) {
        draw_text(app, LINES / 2, 0, COLS, UI_WARN, "terminal too small: need 80x24, have %dx%d",
                  COLS, LINES);
        refresh();
        return;
    }
    watch_net_fleet(v->net, &v->fleet);
    draw_header(v, COLS);
    int y = 1, wl = COLS / 2 + 6;
    ui_rect r = {y, 0, 4, COLS}, in = draw_box(app, &r, "Fleet (workers up; rates over 4 s)");
    draw_fleet(v, &in);
    y += 4;
    r = (ui_rect){y, 0, 6, wl};
    in = draw_box(app, &r, "Latency (histograms merged)");
    draw_latency(v, &in);
    r = (ui_rect){y, wl, 6, COLS - wl};
    in = draw_box(app, &r, "Requests");
    draw_requests(v, &in);
    y += 6;
    size_t n_workers;
    watch_net_workers(v->net, &n_workers);
    /* the Workers box as tall as its rows, the Log the rest (a third at least when tall) */
    int body = LINES - 1 - y, log_h = body - ((int)n_workers + 3);
    if (LINES >= 32 && log_h < body / 3)
        log_h = body / 3;
    if (log_h < 3)
        log_h = 0;
    r = (ui_rect){y, 0, body - log_h, COLS};
    in = draw_box(app, &r, "Workers");
    draw_workers(v, &in);
    if (log_h >= 3) {
        r = (ui_rect){y + body - log_h, 0, log_h, COLS};
        in = draw_box(app, &r, "Log");
        draw_log(v, &in);
    }
    draw_footer(v, LINES - 1, COLS, log_h >= 3);
    if (app->help)
        draw_help(v);
    refresh();
}

/* ---- keys ---- */

static void send_cmd(watch_view *v, watch_cmd cmd)
{
    char note[WATCH_NOTE_LEN];
    bool sent = watch_net_send(v->net, cmd, note, sizeof note);
    ui_log_add(v->app, sent ? UI_KEY : UI_WARN, "%s", note);
}

static bool handle_key(watch_view *v, int ch)
{
    if (ch == ERR || ch == KEY_RESIZE)
        return false;
    if (v->app->help) {
        v->app->help = false;
        return false;
    }
    wk a = WK_NONE;
    for (size_t i = 0; i < N_KEYS; i++)
        if (k_watch_keys[i].key == ch)
            a = k_watch_keys[i].action;
    switch (a) {
    case WK_UP:
        send_cmd(v, WATCH_CMD_UP);
        break;
    case WK_DOWN:
        send_cmd(v, WATCH_CMD_DOWN);
        break;
    case WK_PAUSE:
        send_cmd(v, WATCH_CMD_PAUSE);
        break;
    case WK_NEXT:
        send_cmd(v, WATCH_CMD_NEXT);
        break;
    case WK_HELP:
        v->app->help = true;
        break;
    case WK_QUIT:
        return true;
    case WK_REDRAW:
        clearok(curscr, TRUE);
        break;
    case WK_NONE:
        break;
    }
    return false;
}

/* ---- the loop ---- */

static void start_screen(watch_view *v, const char *theme)
{
    setlocale(LC_CTYPE, "");
    ui_curses_start(v->app);
    bool asked = theme && *theme;
    ui_theme_set(v->app, asked ? theme : "default");
    if (!asked) /* the default's notes are the dashboard's business; an asked theme's stay */
        v->app->log.n = 0;
}

static void run_view(watch_view *v, double duration_s)
{
    uint64_t end = duration_s > 0 ? v->start_ns + (uint64_t)(duration_s * 1e9) : 0;
    uint64_t next_draw = 0;
    bool quit = false;
    if (!v->control)
        ui_log_add(v->app, UI_WARN,
                   "no --control-token: + - p n are refused (the workers' own token steers "
                   "them)");
    while (!quit && !llm_stop_signal() && (!end || llm_now_ns() < end)) {
        bool key;
        watch_net_step(v->net, FRAME_MS, STDIN_FILENO, &key);
        watch_note note;
        while (watch_net_note(v->net, &note))
            ui_log_add(v->app, note.bad ? UI_ERROR : UI_OK, "%s", note.text);
        /* every pass, not only when the terminal is readable: a resize arrives as KEY_RESIZE */
        timeout(0);
        for (int ch = getch(); ch != ERR && !quit; ch = getch())
            quit = handle_key(v, ch);
        if (key || llm_now_ns() >= next_draw) {
            draw_screen(v);
            next_draw = llm_now_ns() + FRAME_MS * LLM_NS_PER_MS;
        }
    }
}

int watch_view_main(const llm_config *cfg)
{
    watch_view v = {.app = calloc(1, sizeof(ui_app)), .control = cfg->control_token != NULL};
    char err[512];
    if (!v.app) {
        fprintf(stderr, "llmload: out of memory\n");
        return LLM_EXIT_USAGE;
    }
    if (watch_net_open(cfg, &v.net, err, sizeof err) != 0) {
        fprintf(stderr, "llmload: %s\n", err);
        free(v.app);
        return LLM_EXIT_USAGE;
    }
    watch_install_signals();
    v.start_ns = llm_now_ns();
    start_screen(&v, cfg->theme);
    run_view(&v, cfg->duration_s);
    ui_curses_stop();
    int rc = watch_exit_code(v.net, llm_stop_signal());
    watch_net_close(v.net);
    free(v.app);
    return rc;
}
