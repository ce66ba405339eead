/* The dashboard's app loop: session, frame loop, signals, terminal restore. */
#include "ui.h"

#include <curses.h>
#include <fcntl.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actions.h"
#include "app.h"
#include "base/stop.h"
#include "base/util.h"
#include "core/summary.h"
#include "layout.h"

#define STOP_WAIT_NS (5 * LLM_NS_PER_SEC) /* quitting: how long in-flight requests may end */

/* The only global mutable state: what the signal handlers need. */
static volatile sig_atomic_t g_quit_signal;
static volatile sig_atomic_t g_curses_on;
static int g_saved_stderr = -1;
static struct sigaction g_old_crash[NSIG];
static const int k_crash_signals[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE};

static void on_quit_signal(int sig)
{
    g_quit_signal = sig;
}

/* Restore the terminal, then let the previous handler (or the default) take the crash. */
static void on_crash_signal(int sig)
{
    if (g_curses_on) {
        g_curses_on = 0;
        endwin();
    }
    if (g_saved_stderr >= 0)
        dup2(g_saved_stderr, STDERR_FILENO);
    sigaction(sig, &g_old_crash[sig], NULL);
    raise(sig);
}

/* Installed once the session is open, so that ^C while the model is being resolved
 * still ends the program the ordinary way. Before initscr: curses then keeps them. */
static void install_quit_signals(void)
{
    if (llm_stop_install(on_quit_signal) != 0) /* before curses: the terminal still shows it */
        fprintf(stderr, "llmload: cannot catch signals: one would end the run without saving it\n");
}

static void install_crash_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_crash_signal;
    for (size_t i = 0; i < sizeof k_crash_signals / sizeof k_crash_signals[0]; i++)
        sigaction(k_crash_signals[i], &sa, &g_old_crash[k_crash_signals[i]]);
}

/* stderr goes to a temporary file while curses owns the screen (a stray message would
 * smear the panels); it is replayed on the real stderr afterwards. */
static FILE *capture_stderr(void)
{
    FILE *tmp = tmpfile();
    if (!tmp)
        return NULL;
    fflush(stderr);
    g_saved_stderr = dup(STDERR_FILENO);
    dup2(fileno(tmp), STDERR_FILENO);
    return tmp;
}

static void release_stderr(FILE *tmp)
{
    if (!tmp)
        return;
    fflush(stderr);
    dup2(g_saved_stderr, STDERR_FILENO);
    close(g_saved_stderr);
    g_saved_stderr = -1;
    rewind(tmp);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, tmp)) > 0)
        fwrite(buf, 1, n, stderr);
    fclose(tmp);
}

void ui_curses_start(ui_app *app)
{
    initscr();
    g_curses_on = 1;
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);
    if (has_colors())
        start_color();
    app->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
}

void ui_curses_stop(void)
{
    if (g_curses_on) {
        g_curses_on = 0;
        endwin();
    }
}

/* The URL as shown: any user:password@ removed and the key scrubbed. */
static void display_url(const run_session *s, char *out, size_t cap)
{
    llm_strlcpy(out, s->cfg.url ? s->cfg.url : "", cap);
    char *scheme = strstr(out, "://");
    char *host = scheme ? scheme + 3 : out;
    char *at = strchr(host, '@'), *slash = strchr(host, '/');
    if (at && (!slash || at < slash))
        memmove(host, at + 1, strlen(at + 1) + 1);
    llm_scrub_key(out, cap, s->cfg.api_key);
}

static void init_themes(ui_app *app)
{
    const char *want = app->s->cfg.theme && *app->s->cfg.theme ? app->s->cfg.theme : "default";
    app->n_themes = theme_list(app->themes, UI_MAX_THEMES);
    app->theme_idx = 0;
    for (size_t i = 0; i < app->n_themes; i++)
        if (strcmp(app->themes[i], want) == 0)
            app->theme_idx = i;
    ui_theme_set(app, want);
}

static void app_init(ui_app *app, run_session *s)
{
    memset(app, 0, sizeof *app);
    app->s = s;
    app->steps_follow = true;
    app->now_ns = llm_now_ns();
    display_url(s, app->url, sizeof app->url);
    engine_read_gauges(s->eng, &app->g);
}

/* Everything of one frame except drawing: events, the second, gauges, the Log. */
static void frame_update(ui_app *app, uint64_t *next_second)
{
    app->now_ns = llm_now_ns();
    session_drain(app->s);
    if (app->now_ns >= *next_second) {
        session_second(app->s, app->now_ns);
        *next_second += LLM_NS_PER_SEC;
        if (*next_second < app->now_ns) /* a stall: do not replay the missed seconds */
            *next_second = app->now_ns + LLM_NS_PER_SEC;
    }
    engine_read_gauges(app->s->eng, &app->g);
    ui_watch_run(app);
    if (g_quit_signal) {
        int sig = (int)g_quit_signal;
        ui_log_add(app, UI_WARN, "signal %d: quitting", sig);
        g_quit_signal = 0;
        char why[64];
        snprintf(why, sizeof why, "stopped by signal %d (%s)", sig, strsignal(sig));
        session_note_stop(app->s, sig, why);
        app->quit = true;
    }
}

/* Waits for keys until the frame's deadline; handles every key that arrives. */
static void frame_wait(ui_app *app, uint64_t deadline)
{
    uint64_t now = llm_now_ns();
    int ms = now < deadline ? (int)((deadline - now) / LLM_NS_PER_MS) : 0;
    timeout(ms);
    int ch = getch();
    while (ch != ERR) {
        ui_handle_key(app, ch);
        timeout(0);
        ch = getch();
    }
}

static void frame_loop(ui_app *app, double fps)
{
    uint64_t frame_ns = (uint64_t)(1e9 / (fps > 0 ? fps : 10));
    uint64_t next_second = app->s->start_ns + LLM_NS_PER_SEC;
    uint64_t deadline = llm_now_ns();
    while (!app->quit) {
        frame_update(app, &next_second);
        if (app->quit)
            break;
        layout_draw(app);
        deadline += frame_ns;
        if (deadline < llm_now_ns())
            deadline = llm_now_ns() + frame_ns;
        frame_wait(app, deadline);
    }
}

/* Stops the engine, lets in-flight requests end (bounded), takes the last events and
 * writes the final snapshot when the run's end has not written one already. */
static void finish_run(ui_app *app)
{
    app->stopping = true;
    if (!engine_finished(app->s->eng)) /* `q` before the plan's end (a signal said so first) */
        session_note_stop(app->s, 0, "quit from the dashboard before the plan's end");
    engine_send(app->s->eng, (engine_cmd){.kind = ENGINE_CMD_STOP});
    uint64_t until = llm_now_ns() + STOP_WAIT_NS;
    while (!engine_finished(app->s->eng) && llm_now_ns() < until && !g_quit_signal) {
        app->now_ns = llm_now_ns();
        session_drain(app->s);
        engine_read_gauges(app->s->eng, &app->g);
        layout_draw(app);
        napms(50);
    }
    session_drain(app->s);
    stats_tick(app->s->st, llm_now_ns());
    engine_read_gauges(app->s->eng, &app->s->gauges);
    app->g = app->s->gauges;
    if (!g_quit_signal)
        session_server_final(app->s); /* the server's last second (issue 13) */
    char path[PATH_MAX];
    if (!app->final_written && ui_save_snapshot(app, true, path, sizeof path) == 0)
        app->final_written = true;
}

/* After endwin: the summary on stdout, the files and the exit code. */
static int report_exit(ui_app *app)
{
    run_session *s = app->s;
    stats_print_summary(stdout, s->st, s->gauges.lost_events);
    fflush(stdout);
    for (size_t i = app->log.n; i-- > 0;) {
        const ui_log_line *l = ui_log_get(&app->log, i);
        if (l->color == UI_OK || l->color == UI_ERROR)
            fprintf(stderr, "llmload: %s\n", l->text);
    }
    int rc = session_exit_code(s);
    if (session_signal_exit(s))
        rc = session_signal_exit(s);
    char err[512];
    if (s->cfg.json_path) {
        if (session_save(s, s->cfg.json_path, false, err, sizeof err) != 0) {
            fprintf(stderr, "llmload: %s\n", err);
            rc = LLM_EXIT_FAILED;
        } else {
            fprintf(stderr, "llmload: results written to %s\n", s->cfg.json_path);
        }
    }
    return rc;
}

int ui_main(const llm_config *cfg)
{
    run_session *s = calloc(1, sizeof *s);
    ui_app *app = calloc(1, sizeof *app);
    if (!s || !app) {
        free(s);
        free(app);
        return LLM_EXIT_USAGE;
    }
    char err[512] = "";
    signal(SIGPIPE, SIG_IGN);
    int rc = session_open(s, cfg, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "llmload: %s\n", err);
    } else {
        install_quit_signals();
        install_crash_signals();
        setlocale(LC_CTYPE, "");
        app_init(app, s);
        if (s->calib.note[0]) /* --prompt-tokens by the server's count, or why not */
            ui_log_add(app, s->calib.method == CALIB_FAILED ? UI_WARN : UI_LABEL, "%s",
                       s->calib.note);
        if (s->pool.note[0]) /* --input-tokens & co by the server's count, or why not */
            ui_log_add(app, s->pool.exact ? UI_LABEL : UI_WARN, "%s", s->pool.note);
        FILE *cap = capture_stderr();
        ui_curses_start(app);
        init_themes(app);
        frame_loop(app, cfg->fps);
        finish_run(app);
        ui_curses_stop();
        release_stderr(cap);
        session_print_end_notes(s, stderr);
        rc = report_exit(app);
    }
    session_close(s);
    free(s);
    free(app);
    return rc;
}
