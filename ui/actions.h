/* ui/actions: what the keys do (engine commands, snapshots, themes, scrolling) and the Log
 * notes that follow the run (steps, first error of each class, the end). UI thread only. */
#ifndef LLM_UI_ACTIONS_H
#define LLM_UI_ACTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"

/* One key press, with the help overlay and the quit prompt taking keys first. */
void ui_handle_key(ui_app *app, int ch);

/* Writes a snapshot JSON and a Markdown summary into the output directory (created when
 * missing) under a timestamped name; final adds "-final". Logs the path. Returns 0 or -1. */
int ui_save_snapshot(ui_app *app, bool final, char *path, size_t cap);

/* The `w` key: writes the snapshot so far and its HTML report (llmload report --format
 * html) next to it in the output directory, atomically; logs the path, or why not in one
 * sentence. Returns 0 or -1. */
int ui_write_report(ui_app *app, char *path, size_t cap);

/* Loads and applies a theme by name or path; a missing theme falls back to the built-in
 * default, and fallbacks are named once in the Log. */
void ui_theme_set(ui_app *app, const char *name_or_path);

/* Notes step changes, the first error of each class, lost events and the end of the run. */
void ui_watch_run(ui_app *app);

#endif
