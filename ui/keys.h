/* ui/keys: the one table of dashboard keys — key, action, help text — from which the `?`
 * overlay and the footer hints are generated. UI thread only. */
#ifndef LLM_UI_KEYS_H
#define LLM_UI_KEYS_H

#include <stddef.h>

typedef enum {
    ACT_NONE = 0,
    ACT_TARGET_UP,
    ACT_TARGET_DOWN,
    ACT_TARGET_UP10,
    ACT_TARGET_DOWN10,
    ACT_PAUSE,
    ACT_NEXT_STEP,
    ACT_MANUAL,
    ACT_SAVE,
    ACT_THEME,
    ACT_LATENCY_SCOPE,
    ACT_HELP,
    ACT_QUIT,
    ACT_SCROLL_UP,
    ACT_SCROLL_DOWN,
    ACT_PAGE_UP,
    ACT_PAGE_DOWN,
    ACT_SCROLL_TOP,
    ACT_SCROLL_END,
    ACT_REDRAW,
    ACT_REPORT,
} ui_action;

typedef struct {
    int key; /* curses key code */
    ui_action action;
    const char *name;   /* as shown: "+", "PgUp" */
    const char *help;   /* one line for the `?` overlay */
    const char *footer; /* short hint for the bottom line; NULL = not shown there */
} key_binding;

/* The table and its length. */
const key_binding *keys_table(size_t *n);

/* Action of a key; ACT_NONE when unbound. */
ui_action keys_action(int key);

#endif
