#include "keys.h"

#include <curses.h>

static const key_binding k_bindings[] = {
    {'+', ACT_TARGET_UP, "+", "raise the target concurrency by 1 (takes manual control)",
     "+/- target"},
    {'=', ACT_TARGET_UP, "=", "same as + (no shift needed)", NULL},
    {'-', ACT_TARGET_DOWN, "-", "lower the target concurrency by 1 (takes manual control)", NULL},
    {']', ACT_TARGET_UP10, "]", "raise the target by 10",
     "]/[ \xC2\xB1"
     "10"},
    {'[', ACT_TARGET_DOWN10, "[", "lower the target by 10", NULL},
    {'p', ACT_PAUSE, "p", "pause sending new requests / resume", "p pause"},
    {'n', ACT_NEXT_STEP, "n", "jump to the next step of the plan", "n next"},
    {'m', ACT_MANUAL, "m", "toggle manual control / hand the target back to the plan", "m manual"},
    {'s', ACT_SAVE, "s", "save a snapshot (JSON + Markdown) into the output directory", "s save"},
    {'w', ACT_REPORT, "w", "write the HTML report so far (+ its JSON) to the output dir",
     "w report"},
    {'t', ACT_THEME, "t", "switch to the next colour theme", "t theme"},
    {'l', ACT_LATENCY_SCOPE, "l", "latency table: whole run / current step", "l latency"},
    {'?', ACT_HELP, "?", "show or hide this help", "? help"},
    {'q', ACT_QUIT, "q", "quit (asks while requests are in flight; q or y confirms)", "q quit"},
    {KEY_UP, ACT_SCROLL_UP, "Up", "scroll the steps table up", NULL},
    {KEY_DOWN, ACT_SCROLL_DOWN, "Down", "scroll the steps table down", NULL},
    {KEY_PPAGE, ACT_PAGE_UP, "PgUp", "steps table: one page up", NULL},
    {KEY_NPAGE, ACT_PAGE_DOWN, "PgDn", "steps table: one page down", NULL},
    {KEY_HOME, ACT_SCROLL_TOP, "Home", "steps table: first step", NULL},
    {KEY_END, ACT_SCROLL_END, "End", "steps table: follow the current step", NULL},
    {12, ACT_REDRAW, "^L", "redraw the screen", NULL},
};

const key_binding *keys_table(size_t *n)
{
    *n = sizeof k_bindings / sizeof k_bindings[0];
    return k_bindings;
}

ui_action keys_action(int key)
{
    size_t n;
    const key_binding *t = keys_table(&n);
    for (size_t i = 0; i < n; i++)
        if (t[i].key == key)
            return t[i].action;
    return ACT_NONE;
}
