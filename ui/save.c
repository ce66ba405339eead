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
    if (snapshot_make_dirs(dir) != 0) {
        ui_log_add(app, UI_ERROR, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    char base[PATH_MAX - 8], err[256];
    snapshot_name(dir, final, base, sizeof base);
    snprintf(path, cap, "%s.json", base);
    if (session_save(app->s, path, !final, err, sizeof err) != 0) {
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
