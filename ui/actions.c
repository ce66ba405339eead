#include "actions.h"

#include <curses.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "core/analysis.h"
#include "keys.h"

static void send(ui_app *app, int kind, long value)
{
    if (!engine_send(app->s->eng, (engine_cmd){.kind = kind, .value = value}))
        ui_log_add(app, UI_WARN, "command queue full: key ignored");
}

/* A search steers the load itself (each step is judged at its own load): the engine ignores
 * hand changes, and the log says so rather than showing a change that does not happen. */
static bool search_steers(ui_app *app)
{
    if (app->s->plan.search)
        ui_log_add(app, UI_WARN, "a search sets the load itself: n ends the step, q stops");
    return app->s->plan.search;
}

static void adjust_target(ui_app *app, long delta)
{
    if (search_steers(app))
        return;
    long next = (long)app->g.target + delta;
    if (next < 1)
        delta = 1 - (long)app->g.target;
    if (app->g.max_target && next > (long)app->g.max_target) {
        /* the engine's users are made at the start: twice the plan's highest, fewer under
         * the open-files limit */
        ui_log_add(app, UI_WARN,
                   "at most %u users in this run (twice the plan's highest, within the "
                   "open-files limit): restart with a higher -c or `ulimit -n`",
                   app->g.max_target);
        delta = (long)app->g.max_target - (long)app->g.target;
    }
    if (delta == 0)
        return;
    send(app, ENGINE_CMD_ADJUST_TARGET, delta);
    app->g.target = (uint32_t)((long)app->g.target + delta); /* shown at once */
    app->g.manual = true;
    /* The delta, not a total: keys pressed faster than the engine answers would each
     * log the same stale total. The gauge shows the engine's own figure next frame. */
    ui_log_add(app, UI_KEY, "target %+ld (manual control; m hands it back to the plan)", delta);
}

static void toggle_pause(ui_app *app)
{
    bool paused = app->g.state == ENGINE_PAUSED;
    send(app, paused ? ENGINE_CMD_RESUME : ENGINE_CMD_PAUSE, 0);
    ui_log_add(app, UI_KEY, paused ? "resumed" : "paused: no new requests are sent");
}

static void toggle_manual(ui_app *app)
{
    if (search_steers(app))
        return;
    if (app->g.manual) {
        send(app, ENGINE_CMD_PLAN_CONTROL, 0);
        ui_log_add(app, UI_KEY, "the plan controls the target again");
    } else {
        send(app, ENGINE_CMD_SET_TARGET, (long)app->g.target);
        ui_log_add(app, UI_KEY, "manual control at target %u", app->g.target);
    }
}

static void next_theme(ui_app *app)
{
    if (app->n_themes == 0)
        return;
    app->theme_idx = (app->theme_idx + 1) % app->n_themes;
    ui_theme_set(app, app->themes[app->theme_idx]);
    ui_log_add(app, UI_LABEL, "theme %s", app->th.name);
}

static void scroll_steps(ui_app *app, int delta, bool follow)
{
    app->steps_follow = follow;
    app->steps_scroll += delta; /* clamped when drawn */
}

static void do_action(ui_app *app, ui_action a)
{
    char path[PATH_MAX];
    switch (a) {
    case ACT_TARGET_UP:
        return adjust_target(app, 1);
    case ACT_TARGET_DOWN:
        return adjust_target(app, -1);
    case ACT_TARGET_UP10:
        return adjust_target(app, 10);
    case ACT_TARGET_DOWN10:
        return adjust_target(app, -10);
    case ACT_PAUSE:
        return toggle_pause(app);
    case ACT_NEXT_STEP:
        send(app, ENGINE_CMD_NEXT_STEP, 0);
        return;
    case ACT_MANUAL:
        return toggle_manual(app);
    case ACT_SAVE:
        ui_save_snapshot(app, false, path, sizeof path);
        return;
    case ACT_THEME:
        return next_theme(app);
    case ACT_LATENCY_SCOPE:
        app->latency_step = !app->latency_step;
        return;
    case ACT_HELP:
        app->help = !app->help;
        return;
    case ACT_QUIT:
        if (app->g.inflight > 0 && app->g.state != ENGINE_DONE)
            app->confirm_quit = true;
        else
            app->quit = true;
        return;
    case ACT_SCROLL_UP:
        return scroll_steps(app, -1, false);
    case ACT_SCROLL_DOWN:
        return scroll_steps(app, 1, false);
    case ACT_PAGE_UP:
        return scroll_steps(app, -app->steps_page, false);
    case ACT_PAGE_DOWN:
        return scroll_steps(app, app->steps_page, false);
    case ACT_SCROLL_TOP:
        app->steps_scroll = 0;
        app->steps_follow = false;
        return;
    case ACT_SCROLL_END:
        app->steps_follow = true;
        return;
    case ACT_REDRAW:
        clearok(curscr, TRUE);
        return;
    case ACT_REPORT:
        ui_write_report(app, path, sizeof path);
        return;
    case ACT_NONE:
        return;
    }
}

void ui_handle_key(ui_app *app, int ch)
{
    if (ch == ERR || ch == KEY_RESIZE)
        return;
    if (app->confirm_quit) {
        app->confirm_quit = false;
        if (ch == 'y' || ch == 'Y' || ch == 'q')
            app->quit = true;
        return;
    }
    if (app->help) {
        app->help = false;
        return;
    }
    do_action(app, keys_action(ch));
}

static bool theme_noted(ui_app *app, const char *name)
{
    for (size_t i = 0; i < app->n_noted; i++)
        if (strcmp(app->themes_noted[i], name) == 0)
            return true;
    if (app->n_noted < UI_MAX_THEMES)
        llm_strlcpy(app->themes_noted[app->n_noted++], name, THEME_NAME_LEN);
    return false;
}

void ui_theme_set(ui_app *app, const char *name_or_path)
{
    char note[1024];
    theme_load(&app->th, name_or_path, note, sizeof note);
    if (note[0] && !theme_noted(app, name_or_path))
        ui_log_add(app, UI_WARN, "%s", note);
    theme_apply(&app->th, &app->pal);
    if (app->pal.mono && !theme_noted(app, "(mono)")) {
        const char *nc = getenv("NO_COLOR");
        ui_log_add(app, UI_LABEL,
                   nc && *nc ? "NO_COLOR is set: monochrome"
                             : "the terminal has no colours: monochrome");
    }
    bkgdset((chtype)ui_attr(&app->pal, UI_MAIN) | ' ');
    clearok(curscr, TRUE);
}

static void watch_step(ui_app *app)
{
    const engine_gauges *g = &app->g;
    if (g->state == ENGINE_STARTING || g->state == ENGINE_WARMUP ||
        (app->seen_any_step && g->seq == app->seen_step))
        return;
    if (app->seen_any_step && app->seen_step < STATS_MAX_STEPS) /* the step that ended */
        app->started_in[app->seen_step] = g->started - app->started_base;
    app->started_base = g->started;
    app->seen_any_step = true;
    app->seen_step = g->seq;
    if (g->step >= app->s->plan.n_steps)
        return;
    if (g->manual) {
        ui_log_add(app, UI_KEY, "step %u (manual): concurrency %u", g->seq + 1, g->target);
        return;
    }
    const plan_step *ps = &app->s->plan.steps[g->step];
    /* The test kind only when it is not the usual output test: log lines stay short. */
    char kind[24] = "";
    if (ps->test != TEST_OUTPUT)
        snprintf(kind, sizeof kind, ", %s test", test_kind_name(ps->test));
    char step[24];
    plan_step_counter(&app->s->plan, g->step, g->n_steps, step, sizeof step);
    if (ps->rate > 0)
        ui_log_add(app, UI_TITLE, "step %s: rate %.4g/s%s", step, ps->rate, kind);
    else
        ui_log_add(app, UI_TITLE, "step %s: concurrency %ld%s", step, ps->concurrency, kind);
}

/* The server's /metrics: once found (which engine), or why there are none. */
static void watch_server(ui_app *app)
{
    const srvmon_reading *r = &app->s->srvr;
    if (!app->s->srv || (int)r->state == app->server_state_noted)
        return;
    app->server_state_noted = (int)r->state;
    if (r->state == SRVMON_OK)
        ui_log_add(app, UI_LABEL, "server metrics: %s at %s", r->fig.engine, r->url);
    else if (r->state == SRVMON_UNAVAILABLE)
        ui_log_add(app, UI_WARN, "no server metrics: %s", r->note);
}

static void watch_errors(ui_app *app)
{
    const stats_agg *t = &app->s->st->totals;
    for (int c = 0; c < ERR_CLASSES; c++) {
        if (t->errors[c] && !app->err_seen[c])
            ui_log_add(app, UI_ERROR, "first %s error: %s", err_class_name((err_class)c),
                       t->last_error[c][0] ? t->last_error[c] : "(no message)");
        app->err_seen[c] = t->errors[c];
    }
}

static void watch_end(ui_app *app)
{
    if (app->g.lost_events && !app->lost_noted) {
        app->lost_noted = true;
        ui_log_add(app, UI_ERROR, "the event ring overflowed: the measurement is incomplete");
    }
    if (app->s->stop_code && !app->unreachable_noted) {
        app->unreachable_noted = true;
        ui_log_add(app, UI_ERROR, "%s", app->s->stop_msg);
    }
    if (app->done_noted || !engine_finished(app->s->eng))
        return;
    app->done_noted = true;
    app->done_at_ns = app->now_ns; /* the header's elapsed time stops here */
    session_drain(app->s);         /* the engine's last events */
    stats_tick(app->s->st, llm_now_ns());
    const stats_agg *t = &app->s->st->totals;
    ui_log_add(app, UI_OK, "run finished: %llu ok, %llu failed", (unsigned long long)t->ok,
               (unsigned long long)t->failed);
    analysis an;
    analysis_run(app->s->st, &an);
    const char *unit = an.knee_is_rate ? "rate" : "c";
    if (an.throughput_knee.found)
        ui_log_add(app, UI_WARN, "throughput knee at %s %.4g: %s", unit, an.throughput_knee.load,
                   an.throughput_knee.reason);
    if (an.latency_knee.found)
        ui_log_add(app, UI_WARN, "latency knee at %s %.4g: %s", unit, an.latency_knee.load,
                   an.latency_knee.reason);
    if (an.best_load.found)
        ui_log_add(app, UI_OK, "best load %s %.4g: %s", unit, an.best_load.load,
                   an.best_load.reason);
    for (size_t i = 0; i < an.n_findings; i++)
        ui_log_add(app, UI_VALUE, "%s", an.findings[i]);
    char path[PATH_MAX];
    if (ui_save_snapshot(app, true, path, sizeof path) == 0)
        app->final_written = true;
}

void ui_watch_run(ui_app *app)
{
    watch_step(app);
    watch_errors(app);
    watch_server(app);
    watch_end(app);
}
