/* ui/theme: the named colour elements of the dashboard, btop-style .theme files (loading,
 * fallbacks, 256/8-colour reduction) and their ncurses colour pairs. UI thread only. */
#ifndef LLM_UI_THEME_H
#define LLM_UI_THEME_H

#include <stdbool.h>
#include <stddef.h>

/* Theme keys: each one a colour in a .theme file (`theme[key]="#RRGGBB"`). */
typedef enum {
    TK_MAIN_BG = 0,
    TK_MAIN_FG,
    TK_TITLE,
    TK_BORDER,
    TK_LABEL,
    TK_VALUE,
    TK_HI_FG,
    TK_OK,
    TK_WARN,
    TK_ERROR,
    TK_GAUGE_FILL,
    TK_GAUGE_EMPTY,
    TK_GRAPH_RPS,
    TK_GRAPH_TPS,
    TK_GRAPH_TTFT_P50,
    TK_GRAPH_TTFT_P99,
    TK_GRAPH_TARGET,
    TK_GRAPH_INFLIGHT,
    TK_GRAPH_CPU,
    TK_SELECTED_BG,
    TK_SELECTED_FG,
    TK_OVERLAY_BG,
    TK_OVERLAY_FG,
    TK_COUNT
} theme_key;

/* What drawing code uses: an element is a foreground key on a background key plus an
 * attribute. ui_attr(UI_TITLE) gives the curses attribute to draw it with. */
typedef enum {
    UI_MAIN = 0,
    UI_TITLE,
    UI_BORDER,
    UI_LABEL,
    UI_VALUE,
    UI_KEY,
    UI_OK,
    UI_WARN,
    UI_ERROR,
    UI_GAUGE,
    UI_GAUGE_EMPTY,
    UI_GRAPH_RPS,
    UI_GRAPH_TPS,
    UI_GRAPH_P50,
    UI_GRAPH_P99,
    UI_GRAPH_TARGET,
    UI_GRAPH_INFLIGHT,
    UI_GRAPH_CPU,
    UI_SELECTED,
    UI_OVERLAY,
    UI_OVERLAY_KEY,
    UI_ELEMENTS
} ui_element;

#define THEME_DEFAULT_COLOR (-1) /* empty value: the terminal's own colour */
#define THEME_NAME_LEN 64

typedef struct {
    char name[THEME_NAME_LEN];
    int rgb[TK_COUNT];    /* 0xRRGGBB, or THEME_DEFAULT_COLOR */
    bool given[TK_COUNT]; /* set by the file (else taken from the built-in default) */
    bool mono;            /* every colour is the terminal's: draw with attributes only */
} theme;

/* "main_bg", ...; NULL out of range. */
const char *theme_key_name(theme_key k);
/* Key by name; -1 when unknown. */
int theme_key_find(const char *name);

/* The built-in default (the same colours as themes/default.theme). */
void theme_builtin(theme *t);

/* Parses "#RRGGBB", "#RGB" or "" (terminal default). Returns 0 and sets *rgb, or -1. */
int theme_parse_color(const char *text, int *rgb);

/* Parses theme text over the built-in default. Unknown keys are ignored; a key whose
 * colour does not parse keeps the default. missing/bad receive comma-separated key names
 * ("" when none). Returns the number of keys set. */
int theme_parse(theme *t, const char *text, char *missing, size_t mcap, char *bad, size_t bcap);

/* Resolves NAME or PATH to a readable file: PATH when it contains '/' or ends in
 * ".theme"; else NAME.theme in ./themes, next to the binary (<exe dir>/../share/llmload/themes,
 * <exe dir>/../themes), the source tree it was built from, the install prefix, and
 * /usr/share/llmload/themes.
 * Returns 0 with the path, or -1. */
int theme_find(const char *name_or_path, char *path, size_t cap);

/* Loads a theme by name or path (theme_find + theme_parse). On failure t is the built-in
 * default and note says so; otherwise note names missing/bad keys ("" when none). */
int theme_load(theme *t, const char *name_or_path, char *note, size_t ncap);

/* The theme names (file names without .theme) in the first theme directory found,
 * sorted, at most max; "default" first when present. Returns the count. */
size_t theme_list(char names[][THEME_NAME_LEN], size_t max);

/* Nearest xterm-256 palette index of an RGB colour (16..255). */
int theme_to_256(int rgb);
/* Nearest of the eight ANSI colours (0..7). */
int theme_to_8(int rgb);

/* The curses attribute (colour pair | bold/reverse) of every element, as applied. */
typedef struct {
    int attr[UI_ELEMENTS];
    bool mono;
    int colors; /* colours used: 0 (mono), 8, 256, or 256 with init_color (-256) */
} ui_palette;

/* How many colours a terminal offers and whether it can redefine them. */
typedef struct {
    int colors, pairs;
    bool can_change, default_colors; /* default_colors: use_default_colors() worked */
} theme_term;

/* Element colours as terminal colour numbers: fg/bg of each element for a terminal with
 * tt (-1 = terminal default). Pure: the reduction to 256 or 8 colours happens here. */
void theme_element_colors(const theme *t, const theme_term *tt, ui_element e, int *fg, int *bg);

/* Installs t on the current screen (after start_color): colour pairs, init_color when the
 * terminal can change colours, mono attributes when it has none or NO_COLOR is set. */
void theme_apply(const theme *t, ui_palette *pal);

/* The curses attribute of an element (colour pair | bold/reverse). */
static inline int ui_attr(const ui_palette *pal, ui_element e)
{
    return pal->attr[e];
}

#endif
