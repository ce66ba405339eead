/* The `s` key and the final save: snapshot JSON + Markdown summary into the output dir. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "actions.h"
#include "base/util.h"
#include "core/snapshot.h"
#include "core/summary.h"

/* mkdir -p; returns 0 or -1 with errno set. */
static int make_dirs(const char *dir)
{
    char tmp[PATH_MAX];
    llm_strlcpy(tmp, dir, sizeof tmp);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* out_dir/llmload-YYYYmmdd-HHMMSS[-final][-N] without the extension, not yet taken. */
static void snapshot_base(const char *dir, bool final, char *out, size_t cap)
{
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y%m%d-%H%M%S", &tm);
    for (int i = 1; i < 100; i++) {
        char suffix[8] = "";
        if (i > 1)
            snprintf(suffix, sizeof suffix, "-%d", i);
        snprintf(out, cap, "%s/llmload-%s%s%s", dir, ts, final ? "-final" : "", suffix);
        char json[PATH_MAX];
        snprintf(json, sizeof json, "%s.json", out);
        if (access(json, F_OK) != 0)
            return;
    }
}

static int write_markdown(ui_app *app, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    char when[40];
    snapshot_iso8601(time(NULL), when, sizeof when);
    fprintf(f, "# llmload summary\n\n- target: %s\n- model: %s\n- plan: %s\n- saved: %s\n\n```\n",
            app->url, app->s->model ? app->s->model : "(server default)", app->s->plan_text, when);
    stats_print_summary(f, app->s->st, app->g.lost_events);
    fprintf(f, "```\n");
    return fclose(f) == 0 ? 0 : -1;
}

int ui_save_snapshot(ui_app *app, bool final, char *path, size_t cap)
{
    const char *dir = app->s->cfg.out_dir ? app->s->cfg.out_dir : "./llmload-out";
    if (make_dirs(dir) != 0) {
        ui_log_add(app, UI_ERROR, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    char base[PATH_MAX - 8], err[256];
    snapshot_base(dir, final, base, sizeof base);
    snprintf(path, cap, "%s.json", base);
    if (session_save(app->s, path, err, sizeof err) != 0) {
        ui_log_add(app, UI_ERROR, "%s", err);
        return -1;
    }
    char md[PATH_MAX];
    snprintf(md, sizeof md, "%s.md", base);
    if (write_markdown(app, md) != 0)
        ui_log_add(app, UI_WARN, "cannot write %s: %s", md, strerror(errno));
    ui_log_add(app, UI_OK, "snapshot written: %s (+ .md)", path);
    return 0;
}
