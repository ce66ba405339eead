#include "theme.h"

#include <ctype.h>
#include <curses.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"

typedef struct {
    const char *name;
    int rgb; /* built-in default */
} key_def;

/* Keep in step with themes/default.theme, which documents each key. */
static const key_def k_keys[TK_COUNT] = {
    [TK_MAIN_BG] = {"main_bg", THEME_DEFAULT_COLOR},
    [TK_MAIN_FG] = {"main_fg", 0xcccccc},
    [TK_TITLE] = {"title", 0xeeeeee},
    [TK_BORDER] = {"border", 0x5f6b78},
    [TK_LABEL] = {"label", 0x8a8a8a},
    [TK_VALUE] = {"value", 0xeeeeee},
    [TK_HI_FG] = {"hi_fg", 0xffaf5f},
    [TK_OK] = {"ok", 0x5fd75f},
    [TK_WARN] = {"warn", 0xffd75f},
    [TK_ERROR] = {"error", 0xff5f5f},
    [TK_GAUGE_FILL] = {"gauge_fill", 0x5fafff},
    [TK_GAUGE_EMPTY] = {"gauge_empty", 0x444444},
    [TK_GRAPH_RPS] = {"graph_rps", 0x5fd7ff},
    [TK_GRAPH_TPS] = {"graph_tps", 0x87d787},
    [TK_GRAPH_TTFT_P50] = {"graph_ttft_p50", 0x87afff},
    [TK_GRAPH_TTFT_P99] = {"graph_ttft_p99", 0xff8787},
    [TK_GRAPH_TARGET] = {"graph_target", 0xffd75f},
    [TK_GRAPH_INFLIGHT] = {"graph_inflight", 0x5fafd7},
    [TK_GRAPH_CPU] = {"graph_cpu", 0xd787d7},
    [TK_SELECTED_BG] = {"selected_bg", 0x30405a},
    [TK_SELECTED_FG] = {"selected_fg", 0xffffff},
    [TK_OVERLAY_BG] = {"overlay_bg", 0x1c2230},
    [TK_OVERLAY_FG] = {"overlay_fg", 0xe4e4e4},
};

typedef struct {
    theme_key fg, bg;
    int attr; /* with colours */
    int mono; /* without */
} elem_def;

static const elem_def k_elems[UI_ELEMENTS] = {
    [UI_MAIN] = {TK_MAIN_FG, TK_MAIN_BG, 0, 0},
    [UI_TITLE] = {TK_TITLE, TK_MAIN_BG, A_BOLD, A_BOLD},
    [UI_BORDER] = {TK_BORDER, TK_MAIN_BG, 0, 0},
    [UI_LABEL] = {TK_LABEL, TK_MAIN_BG, 0, 0},
    [UI_VALUE] = {TK_VALUE, TK_MAIN_BG, A_BOLD, A_BOLD},
    [UI_KEY] = {TK_HI_FG, TK_MAIN_BG, A_BOLD, A_BOLD},
    [UI_OK] = {TK_OK, TK_MAIN_BG, 0, 0},
    [UI_WARN] = {TK_WARN, TK_MAIN_BG, A_BOLD, A_BOLD},
    [UI_ERROR] = {TK_ERROR, TK_MAIN_BG, A_BOLD, A_BOLD | A_REVERSE},
    [UI_GAUGE] = {TK_GAUGE_FILL, TK_MAIN_BG, 0, 0},
    [UI_GAUGE_EMPTY] = {TK_GAUGE_EMPTY, TK_MAIN_BG, 0, 0},
    [UI_GRAPH_RPS] = {TK_GRAPH_RPS, TK_MAIN_BG, 0, 0},
    [UI_GRAPH_TPS] = {TK_GRAPH_TPS, TK_MAIN_BG, 0, 0},
    [UI_GRAPH_P50] = {TK_GRAPH_TTFT_P50, TK_MAIN_BG, 0, 0},
    [UI_GRAPH_P99] = {TK_GRAPH_TTFT_P99, TK_MAIN_BG, 0, A_BOLD},
    [UI_GRAPH_TARGET] = {TK_GRAPH_TARGET, TK_MAIN_BG, 0, A_BOLD},
    [UI_GRAPH_INFLIGHT] = {TK_GRAPH_INFLIGHT, TK_MAIN_BG, 0, 0},
    [UI_GRAPH_CPU] = {TK_GRAPH_CPU, TK_MAIN_BG, 0, 0},
    [UI_SELECTED] = {TK_SELECTED_FG, TK_SELECTED_BG, A_BOLD, A_REVERSE},
    [UI_OVERLAY] = {TK_OVERLAY_FG, TK_OVERLAY_BG, 0, 0},
    [UI_OVERLAY_KEY] = {TK_HI_FG, TK_OVERLAY_BG, A_BOLD, A_BOLD},
};

const char *theme_key_name(theme_key k)
{
    return (int)k >= 0 && k < TK_COUNT ? k_keys[k].name : NULL;
}

int theme_key_find(const char *name)
{
    for (int k = 0; k < TK_COUNT; k++)
        if (strcmp(k_keys[k].name, name) == 0)
            return k;
    return -1;
}

void theme_builtin(theme *t)
{
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "default");
    for (int k = 0; k < TK_COUNT; k++)
        t->rgb[k] = k_keys[k].rgb;
}

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : isxdigit(c) ? tolower(c) - 'a' + 10 : -1;
}

int theme_parse_color(const char *text, int *rgb)
{
    size_t n = strlen(text);
    if (n == 0) {
        *rgb = THEME_DEFAULT_COLOR;
        return 0;
    }
    if (text[0] != '#' || (n != 7 && n != 4))
        return -1;
    int v = 0;
    for (size_t i = 1; i < n; i++) {
        int h = hexval((unsigned char)text[i]);
        if (h < 0)
            return -1;
        v = n == 7 ? v * 16 + h : v * 256 + h * 17;
    }
    *rgb = v;
    return 0;
}

static void list_add(char *list, size_t cap, const char *name)
{
    size_t len = strlen(list);
    snprintf(list + len, cap > len ? cap - len : 0, "%s%s", len ? ", " : "", name);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = 0;
    return s;
}

/* `theme[key]="value"` (quotes optional). Returns 0 with key and value, or -1. */
static int split_line(char *line, char **key, char **value)
{
    line = trim(line);
    if (strncmp(line, "theme[", 6) != 0)
        return -1;
    char *close = strchr(line, ']');
    char *eq = close ? strchr(close, '=') : NULL;
    if (!eq)
        return -1;
    *close = 0;
    *key = trim(line + 6);
    char *v = trim(eq + 1);
    size_t n = strlen(v);
    if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
        v[n - 1] = 0;
        v = trim(v + 1);
    }
    *value = v;
    return 0;
}

static bool parse_one(theme *t, char *line, char *bad, size_t bcap)
{
    char *key, *value;
    if (split_line(line, &key, &value) != 0)
        return false;
    int k = theme_key_find(key);
    if (k < 0)
        return false; /* unknown keys are ignored */
    int rgb;
    if (theme_parse_color(value, &rgb) != 0) {
        list_add(bad, bcap, key);
        return false;
    }
    t->rgb[k] = rgb;
    t->given[k] = true;
    return true;
}

int theme_parse(theme *t, const char *text, char *missing, size_t mcap, char *bad, size_t bcap)
{
    char name[THEME_NAME_LEN];
    llm_strlcpy(name, t->name, sizeof name);
    theme_builtin(t);
    llm_strlcpy(t->name, name, sizeof t->name);
    missing[0] = bad[0] = 0;
    int set = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char line[512];
        llm_strlcpy(line, p, len + 1 < sizeof line ? len + 1 : sizeof line);
        char *hash = trim(line);
        if (*hash != '#' && parse_one(t, line, bad, bcap))
            set++;
        p += len + (nl ? 1 : 0);
    }
    bool all_default = true;
    for (int k = 0; k < TK_COUNT; k++) {
        if (!t->given[k])
            list_add(missing, mcap, k_keys[k].name);
        all_default = all_default && t->rgb[k] == THEME_DEFAULT_COLOR;
    }
    t->mono = all_default; /* a theme of terminal colours only: draw with attributes */
    return set;
}

static bool readable(const char *path)
{
    return access(path, R_OK) == 0;
}

#define THEME_DIRS_MAX 6

/* Theme directories in search order; returns how many were written: ./themes, then next
 * to the binary (an install under any prefix: <bin>/../share/llmload/themes; a build
 * directory inside the sources: <bin>/../themes), the source tree it was built from, the
 * prefix it was built for, and /usr/share/llmload/themes. So a theme is found wherever the
 * binary is run from. */
static int theme_dirs(char dirs[THEME_DIRS_MAX][PATH_MAX])
{
    int n = 0;
    snprintf(dirs[n++], PATH_MAX, "./themes");
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            snprintf(dirs[n++], PATH_MAX, "%.*s/../share/llmload/themes", PATH_MAX - 32, exe);
            snprintf(dirs[n++], PATH_MAX, "%.*s/../themes", PATH_MAX - 12, exe);
        }
    }
#ifdef LLM_THEMES_SOURCE_DIR
    snprintf(dirs[n++], PATH_MAX, "%s", LLM_THEMES_SOURCE_DIR);
#endif
#ifdef LLM_THEMES_INSTALL_DIR
    snprintf(dirs[n++], PATH_MAX, "%s", LLM_THEMES_INSTALL_DIR);
#endif
    snprintf(dirs[n++], PATH_MAX, "/usr/share/llmload/themes");
    return n;
}

static bool is_path(const char *s)
{
    size_t n = strlen(s);
    return strchr(s, '/') || (n > 6 && strcmp(s + n - 6, ".theme") == 0);
}

int theme_find(const char *name_or_path, char *path, size_t cap)
{
    if (!name_or_path || !*name_or_path)
        return -1;
    if (is_path(name_or_path)) {
        llm_strlcpy(path, name_or_path, cap);
        return readable(path) ? 0 : -1;
    }
    char dirs[THEME_DIRS_MAX][PATH_MAX];
    int n = theme_dirs(dirs);
    for (int i = 0; i < n; i++) {
        snprintf(path, cap, "%s/%s.theme", dirs[i], name_or_path);
        if (readable(path))
            return 0;
    }
    return -1;
}

static char *read_small_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 64 * 1024;
    char *buf = malloc(cap);
    size_t n = buf ? fread(buf, 1, cap - 1, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = 0;
    return buf;
}

static void theme_display_name(const char *name_or_path, char *out, size_t cap)
{
    const char *base = strrchr(name_or_path, '/');
    base = base ? base + 1 : name_or_path;
    llm_strlcpy(out, base, cap);
    size_t n = strlen(out);
    if (n > 6 && strcmp(out + n - 6, ".theme") == 0)
        out[n - 6] = 0;
}

int theme_load(theme *t, const char *name_or_path, char *note, size_t ncap)
{
    char path[PATH_MAX];
    char *text = theme_find(name_or_path, path, sizeof path) == 0 ? read_small_file(path) : NULL;
    theme_builtin(t);
    note[0] = 0;
    if (!text) {
        snprintf(note, ncap, "theme \"%s\" not found: using the built-in default", name_or_path);
        return -1;
    }
    theme_display_name(name_or_path, t->name, sizeof t->name);
    char missing[512], bad[512];
    theme_parse(t, text, missing, sizeof missing, bad, sizeof bad);
    free(text);
    if (missing[0] && bad[0])
        snprintf(note, ncap, "theme %s: bad colours for %s; missing %s (defaults used)", t->name,
                 bad, missing);
    else if (bad[0])
        snprintf(note, ncap, "theme %s: bad colours for %s (defaults used)", t->name, bad);
    else if (missing[0])
        snprintf(note, ncap, "theme %s: missing %s (defaults used)", t->name, missing);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static size_t scan_dir(const char *dir, char names[][THEME_NAME_LEN], size_t max)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < max) {
        size_t len = strlen(de->d_name);
        if (len > 6 && len - 6 < THEME_NAME_LEN && strcmp(de->d_name + len - 6, ".theme") == 0)
            snprintf(names[n++], THEME_NAME_LEN, "%.*s", (int)(len - 6), de->d_name);
    }
    closedir(d);
    qsort(names, n, THEME_NAME_LEN, cmp_names);
    return n;
}

size_t theme_list(char names[][THEME_NAME_LEN], size_t max)
{
    char dirs[THEME_DIRS_MAX][PATH_MAX];
    int nd = theme_dirs(dirs);
    size_t n = 0;
    for (int i = 0; i < nd && n == 0; i++)
        n = scan_dir(dirs[i], names, max);
    for (size_t i = 1; i < n; i++)
        if (strcmp(names[i], "default") == 0) {
            char tmp[THEME_NAME_LEN];
            memcpy(tmp, names[i], sizeof tmp);
            memmove(names[1], names[0], i * THEME_NAME_LEN);
            memcpy(names[0], tmp, sizeof tmp);
        }
    if (n == 0 && max > 0)
        snprintf(names[n++], THEME_NAME_LEN, "default");
    return n;
}

static long dist2(int a, int b)
{
    long dr = ((a >> 16) & 255) - ((b >> 16) & 255);
    long dg = ((a >> 8) & 255) - ((b >> 8) & 255);
    long db = (a & 255) - (b & 255);
    return 2 * dr * dr + 4 * dg * dg + 3 * db * db;
}

static int cube_index(int v)
{
    static const int level[6] = {0, 95, 135, 175, 215, 255};
    int best = 0;
    for (int i = 1; i < 6; i++)
        if (abs(level[i] - v) < abs(level[best] - v))
            best = i;
    return best;
}

int theme_to_256(int rgb)
{
    static const int level[6] = {0, 95, 135, 175, 215, 255};
    int r = cube_index((rgb >> 16) & 255), g = cube_index((rgb >> 8) & 255),
        b = cube_index(rgb & 255);
    int cube = 16 + 36 * r + 6 * g + b;
    int cube_rgb = (level[r] << 16) | (level[g] << 8) | level[b];
    int avg = (((rgb >> 16) & 255) + ((rgb >> 8) & 255) + (rgb & 255)) / 3;
    int gi = avg < 8 ? 0 : avg > 238 ? 23 : (avg - 8 + 5) / 10;
    int gv = 8 + 10 * gi;
    int gray_rgb = (gv << 16) | (gv << 8) | gv;
    return dist2(rgb, gray_rgb) < dist2(rgb, cube_rgb) ? 232 + gi : cube;
}

int theme_to_8(int rgb)
{
    static const int ansi[8] = {0x000000, 0xcd0000, 0x00cd00, 0xcdcd00,
                                0x0000ee, 0xcd00cd, 0x00cdcd, 0xe5e5e5};
    int r = (rgb >> 16) & 255, g = (rgb >> 8) & 255, b = rgb & 255;
    int mx = r > g ? (r > b ? r : b) : (g > b ? g : b),
        mn = r < g ? (r < b ? r : b) : (g < b ? g : b);
    if (mx - mn < 48) /* a grey: black or white, never a hue */
        return (r + g + b) / 3 >= 80 ? 7 : 0;
    int best = 0;
    for (int i = 1; i < 8; i++)
        if (dist2(rgb, ansi[i]) < dist2(rgb, ansi[best]))
            best = i;
    return best;
}

/* One theme key as a terminal colour number. */
static int key_color(const theme *t, const theme_term *tt, theme_key k, bool is_bg)
{
    int rgb = t->rgb[k];
    if (rgb == THEME_DEFAULT_COLOR)
        return tt->default_colors ? -1 : (is_bg ? COLOR_BLACK : COLOR_WHITE);
    if (tt->colors >= 256 && tt->can_change)
        return 16 + (int)k;
    if (tt->colors >= 256)
        return theme_to_256(rgb);
    return theme_to_8(rgb);
}

void theme_element_colors(const theme *t, const theme_term *tt, ui_element e, int *fg, int *bg)
{
    *fg = key_color(t, tt, k_elems[e].fg, false);
    *bg = key_color(t, tt, k_elems[e].bg, true);
}

static bool want_mono(const theme *t, const theme_term *tt)
{
    const char *nc = getenv("NO_COLOR");
    return t->mono || (nc && *nc) || tt->colors < 8 || tt->pairs <= UI_ELEMENTS;
}

static void set_mono(ui_palette *pal)
{
    pal->mono = true;
    pal->colors = 0;
    for (int e = 0; e < UI_ELEMENTS; e++)
        pal->attr[e] = k_elems[e].mono;
}

static void define_colors(const theme *t)
{
    for (int k = 0; k < TK_COUNT; k++) {
        int rgb = t->rgb[k];
        if (rgb == THEME_DEFAULT_COLOR)
            continue;
        init_color((short)(16 + k), (short)(((rgb >> 16) & 255) * 1000 / 255),
                   (short)(((rgb >> 8) & 255) * 1000 / 255), (short)((rgb & 255) * 1000 / 255));
    }
}

void theme_apply(const theme *t, ui_palette *pal)
{
    theme_term tt = {.colors = has_colors() ? COLORS : 0,
                     .pairs = has_colors() ? COLOR_PAIRS : 0,
                     .can_change = has_colors() && can_change_color(),
                     .default_colors = has_colors() && use_default_colors() == OK};
    if (want_mono(t, &tt)) {
        set_mono(pal);
        return;
    }
    pal->mono = false;
    pal->colors = tt.colors >= 256 ? (tt.can_change ? -256 : 256) : 8;
    if (tt.colors >= 256 && tt.can_change)
        define_colors(t);
    for (int e = 0; e < UI_ELEMENTS; e++) {
        int fg, bg;
        theme_element_colors(t, &tt, (ui_element)e, &fg, &bg);
        init_pair((short)(e + 1), (short)fg, (short)bg);
        pal->attr[e] = (int)COLOR_PAIR(e + 1) | k_elems[e].attr;
    }
}
