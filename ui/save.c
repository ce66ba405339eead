/* The `s` key and the final save (snapshot JSON + Markdown summary into the output dir), and
 * the `w` key (the snapshot so far and its HTML report next to it). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "actions.h"
#include "base/fileout.h"
#include "base/util.h"
#include "core/snapshot.h"
#include "core/summary.h"
#include "report/report.h"

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

/* Writes the snapshot under a new timestamped name in the output directory (created when
 * missing): base gets the name without ".json", path the JSON's. Logs why not. */
static int save_json(ui_app *app, bool final, char *base, size_t base_cap, char *path, size_t cap)
{
    const char *dir = app->s->cfg.out_dir ? app->s->cfg.out_dir : "./llmload-out";
    if (snapshot_make_dirs(dir) != 0) {
        ui_log_add(app, UI_ERROR, "cannot create %s: %s (start with --out on a writable directory)",
                   dir, strerror(errno));
        return -1;
    }
    char err[PATH_MAX + 128];
    snapshot_name(dir, final, base, base_cap);
    snprintf(path, cap, "%s.json", base);
    if (session_save(app->s, path, !final, err, sizeof err) != 0) {
        ui_log_add(app, UI_ERROR, "%s (start with --out on a writable directory)", err);
        return -1;
    }
    return 0;
}

int ui_save_snapshot(ui_app *app, bool final, char *path, size_t cap)
{
    char base[PATH_MAX - 8];
    if (save_json(app, final, base, sizeof base, path, cap) != 0)
        return -1;
    char md[PATH_MAX];
    snprintf(md, sizeof md, "%s.md", base);
    if (write_markdown(app, md) != 0)
        ui_log_add(app, UI_WARN, "cannot write %s: %s", md, strerror(errno));
    ui_log_add(app, UI_OK, "snapshot written: %s (+ .md)", path);
    return 0;
}

static int write_html(FILE *out, void *arg)
{
    report_html(out, arg, 1);
    return fflush(out) != 0 || ferror(out) ? (errno ? errno : EIO) : 0;
}

int ui_write_report(ui_app *app, char *path, size_t cap)
{
    char base[PATH_MAX - 8], json[PATH_MAX], err[PATH_MAX + 128];
    if (save_json(app, false, base, sizeof base, json, sizeof json) != 0)
        return -1;
    /* the report is made from the file just written: what `llmload report` would make */
    snap_doc doc;
    if (snap_load(json, &doc, err, sizeof err) != 0) {
        ui_log_add(app, UI_ERROR, "cannot read back %s for the report: %s", json, err);
        return -1;
    }
    snprintf(path, cap, "%s.html", base);
    int rc = llm_write_file_atomic(path, write_html, &doc, err, sizeof err);
    snap_free(&doc);
    if (rc != 0) {
        ui_log_add(app, UI_ERROR, "%s (start with --out on a writable directory)", err);
        return -1;
    }
    ui_log_add(app, UI_OK, "report written: %s (+ .json)", path);
    return 0;
}
