/* run/watch_main: `llmload watch` without a dashboard (--no-tui, or no terminal): one
 * summary line a second on stdout (run/watch.h's watch_line), workers going down or coming
 * back on stderr; and the exit code both forms share. Main thread. */
#ifndef LLM_RUN_WATCH_MAIN_H
#define LLM_RUN_WATCH_MAIN_H

#include "config/config.h"
#include "run/watch_net.h"

/* Watches until --duration, or SIGINT/SIGTERM/SIGHUP. Returns an exit code (below). */
int watch_headless(const llm_config *cfg);

/* 0; 3 (LLM_EXIT_UNREACHABLE) when no worker ever answered, with the sentence on stderr;
 * 128+N after signal N. */
int watch_exit_code(const watch_net *n, int signal);

/* SIGINT/SIGTERM/SIGHUP set base/stop's flag (llm_stop_signal); SIGPIPE ignored. */
void watch_install_signals(void);

#endif
