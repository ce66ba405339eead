/* run: `llmload run` without a terminal (or with --no-tui): drives the engine, prints one
 * progress line a second on stderr and a summary on stdout, writes --json. Main thread. */
#ifndef LLM_RUN_H
#define LLM_RUN_H

#include "config/config.h"

/* Returns an exit code of DESIGN.md §12. */
int run_headless(const llm_config *cfg);

#endif
