#include "widgets.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Braille dot bits, [column][row from the top] (U+2800 + bits). */
static const uint8_t k_braille_bit[2][4] = {{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}};

double chart_nice_max(double v, double min)
{
    if (!(v > min))
        v = min;
    if (!(v > 0))
        return 1;
    double mag = pow(10, floor(log10(v)));
    static const double steps[] = {1, 2, 5, 10};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (steps[i] * mag >= v * (1 - 1e-9))
            return steps[i] * mag;
    return 10 * mag;
}

void chart_init(chart *c, int w, int h, double vmax)
{
    c->w = w < 0 ? 0 : w > CHART_MAX_W ? CHART_MAX_W : w;
    c->h = h < 0 ? 0 : h > CHART_MAX_H ? CHART_MAX_H : h;
    c->vmax = vmax > 0 ? vmax : 1;
    memset(c->dots, 0, sizeof c->dots);
    memset(c->layer, 0, sizeof c->layer);
}

int chart_dot_height(const chart *c, double v)
{
    int rows = 4 * c->h;
    if (!(v > 0) || rows == 0)
        return 0;
    double d = v / c->vmax * rows;
    int n = (int)lround(d);
    if (n < 1)
        n = 1;
    return n > rows ? rows : n;
}

/* Sets the dot of column x (0 .. 2w) at dot row y (0 = bottom). */
static void set_dot(chart *c, int x, int y, int layer)
{
    if (x < 0 || x >= 2 * c->w || y < 0 || y >= 4 * c->h)
        return;
    int top = 4 * c->h - 1 - y; /* dot row from the top */
    int row = top / 4, col = x / 2;
    c->dots[row][col] |= k_braille_bit[x % 2][top % 4];
    if (layer > c->layer[row][col])
        c->layer[row][col] = (uint8_t)layer;
}

/* One column: from `from` to `to` dot rows (inclusive, 1-based heights). */
static void fill_column(chart *c, int x, int from, int to, int layer)
{
    for (int y = from; y <= to; y++)
        set_dot(c, x, y - 1, layer);
}

void chart_plot(chart *c, const double *v, size_t n, int layer, bool area)
{
    int cols = 2 * c->w;
    size_t first = n > (size_t)cols ? n - (size_t)cols : 0;
    int x0 = cols - (int)(n - first); /* newest value at the right edge */
    int prev = -1;
    for (size_t i = first; i < n; i++) {
        int x = x0 + (int)(i - first);
        if (isnan(v[i]) || v[i] < 0) {
            prev = -1;
            continue;
        }
        int hgt = chart_dot_height(c, v[i]);
        if (area)
            fill_column(c, x, 1, hgt, layer);
        else if (hgt > 0 && prev > 0 && prev != hgt)
            fill_column(c, x, prev < hgt ? prev + 1 : hgt, prev < hgt ? hgt : prev - 1, layer);
        else if (hgt > 0)
            fill_column(c, x, hgt, hgt, layer);
        prev = hgt;
    }
}

/* ASCII stand-in: how high the cell's dots reach, as one of " .:|#"-like marks. */
static char ascii_cell(uint8_t dots)
{
    if (!dots)
        return ' ';
    if (dots & (k_braille_bit[0][0] | k_braille_bit[1][0]))
        return '#';
    if (dots & (k_braille_bit[0][1] | k_braille_bit[1][1]))
        return '|';
    if (dots & (k_braille_bit[0][2] | k_braille_bit[1][2]))
        return ':';
    return '.';
}

void chart_cell_text(const chart *c, int row, int col, bool utf8, char *out)
{
    uint8_t d = c->dots[row][col];
    if (!utf8) {
        out[0] = ascii_cell(d);
        out[1] = 0;
        return;
    }
    if (!d) {
        out[0] = ' ';
        out[1] = 0;
        return;
    }
    unsigned cp = 0x2800u + d; /* three UTF-8 bytes: 1110xxxx 10xxxxxx 10xxxxxx */
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    out[3] = 0;
}

int gauge_eighths(double value, double max, int width)
{
    if (!(max > 0) || width <= 0 || !(value > 0))
        return 0;
    long e = lround(value / max * 8.0 * width);
    if (e < 0)
        return 0;
    return e > 8L * width ? 8 * width : (int)e;
}

void gauge_text(double value, double max, int width, bool utf8, char *out, size_t cap)
{
    static const char *partial[8] = {"",
                                     "\xE2\x96\x8F",
                                     "\xE2\x96\x8E",
                                     "\xE2\x96\x8D",
                                     "\xE2\x96\x8C",
                                     "\xE2\x96\x8B",
                                     "\xE2\x96\x8A",
                                     "\xE2\x96\x89"};
    int e = gauge_eighths(value, max, width);
    size_t len = 0;
    out[0] = 0;
    for (int i = 0; i < width; i++) {
        int cell = e - 8 * i;
        const char *s = cell >= 8  ? (utf8 ? "\xE2\x96\x88" : "#")
                        : cell > 0 ? (utf8 ? partial[cell] : (cell >= 4 ? "#" : "."))
                                   : (utf8 ? " " : ".");
        size_t n = strlen(s);
        if (len + n + 1 > cap)
            break;
        memcpy(out + len, s, n + 1);
        len += n;
    }
}

void fmt_num(double v, char *out, size_t cap)
{
    static const char suffix[] = {'k', 'M', 'G', 'T'};
    if (isnan(v)) {
        snprintf(out, cap, "-");
        return;
    }
    double a = fabs(v);
    if (a < 9.95)
        snprintf(out, cap, a == floor(a) ? "%.0f" : "%.1f", v);
    else if (a < 999.5)
        snprintf(out, cap, "%.0f", v);
    else {
        int i = 0;
        v /= 1000, a /= 1000;
        while (a >= 999.5 && i < 3)
            v /= 1000, a /= 1000, i++;
        snprintf(out, cap, a < 9.95 ? "%.1f%c" : "%.0f%c", v, suffix[i]);
    }
}

void fmt_duration(double s, char *out, size_t cap)
{
    if (!(s >= 0)) {
        snprintf(out, cap, "-");
        return;
    }
    long t = (long)s;
    if (t < 60)
        snprintf(out, cap, "%lds", t);
    else if (t < 3600)
        snprintf(out, cap, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(out, cap, "%ldh%02ldm", t / 3600, (t / 60) % 60);
}

void fmt_bytes(double b, char *out, size_t cap)
{
    static const char unit[] = {'B', 'K', 'M', 'G', 'T'};
    int i = 0;
    while (b >= 1024 && i < 4)
        b /= 1024, i++;
    snprintf(out, cap, i == 0 || b >= 9.95 ? "%.0f%c" : "%.1f%c", b, unit[i]);
}

int utf8_width(const char *s)
{
    int n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

int utf8_clip(const char *s, int cols, char *out, size_t cap)
{
    size_t i = 0;
    int n = 0;
    while (s[i] && n < cols) {
        size_t len = 1;
        while (s[i + len] && ((unsigned char)s[i + len] & 0xC0) == 0x80)
            len++;
        if (i + len + 1 > cap)
            break;
        i += len;
        n++;
    }
    memcpy(out, s, i);
    out[i] = 0;
    return n;
}

void ascii_fold(const char *s, char *out, size_t cap)
{
    static const struct {
        const char *from, *to;
    } k_map[] = {{"\xE2\x86\x92", "->"}, {"\xC2\xB1", "+-"},      {"\xC2\xB5", "u"},
                 {"\xC2\xB0", ""},       {"\xE2\x80\xA6", "..."}, {"\xC3\x97", "x"}};
    size_t o = 0;
    while (*s && o + 1 < cap) {
        if (!((unsigned char)*s & 0x80)) {
            out[o++] = *s++;
            continue;
        }
        size_t len = 1;
        while (s[len] && ((unsigned char)s[len] & 0xC0) == 0x80)
            len++;
        const char *to = "?";
        for (size_t i = 0; i < sizeof k_map / sizeof k_map[0]; i++)
            if (strlen(k_map[i].from) == len && memcmp(s, k_map[i].from, len) == 0)
                to = k_map[i].to;
        size_t n = strlen(to);
        if (o + n + 1 > cap)
            break;
        memcpy(out + o, to, n);
        o += n;
        s += len;
    }
    out[o] = 0;
}
