/* ui: the live ncurses dashboard (DESIGN.md §2: the consumer thread of a session).
 * ui_main is called by main() on the main thread, which is then the UI thread. */
#ifndef LLM_UI_H
#define LLM_UI_H

#include "config/config.h"

/* Runs the session in the dashboard; returns an exit code of DESIGN.md §12. */
int ui_main(const llm_config *cfg);

struct ui_app;
/* The terminal in curses mode for a screen of llmload's (the dashboard, watch), and back;
 * a crash signal restores it too. UI thread. */
void ui_curses_start(struct ui_app *app);
void ui_curses_stop(void);

#endif
