/* ui/watch_view: the screen of `llmload watch` — the fleet's sums, its merged latency, a
 * row per worker, the notes — and its keys (+ - p n to every worker, q quits). Called by
 * main() on the main thread, which is then the UI thread. */
#ifndef LLM_UI_WATCH_VIEW_H
#define LLM_UI_WATCH_VIEW_H

#include "config/config.h"

/* Watches cfg->files in the dashboard until q, --duration or a signal; returns an exit
 * code (run/watch_main.h: watch_exit_code). */
int watch_view_main(const llm_config *cfg);

#endif
