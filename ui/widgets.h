/* ui/widgets: pure drawing helpers — braille/ASCII charts, gauges, number formatting —
 * computed into plain buffers so they test without a terminal. UI thread only. */
#ifndef LLM_UI_WIDGETS_H
#define LLM_UI_WIDGETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHART_MAX_W 256
#define CHART_MAX_H 64
#define CHART_LAYERS 2

/* A chart of w x h cells; each cell holds 2 x 4 dots (a braille character). Layer 1 is
 * drawn over layer 0: a cell with any layer-1 dot takes layer 1's colour. */
typedef struct {
    int w, h;
    double vmax; /* the value of the top dot row */
    uint8_t dots[CHART_MAX_H][CHART_MAX_W];
    uint8_t layer[CHART_MAX_H][CHART_MAX_W]; /* highest layer with a dot in the cell */
} chart;

/* A "nice" upper bound for an axis: 1, 2 or 5 x 10^k at or above v (>= min). */
double chart_nice_max(double v, double min);

/* Clears the chart and sets its size (clamped to the maxima) and scale. */
void chart_init(chart *c, int w, int h, double vmax);

/* Dot rows (0 .. 4h) a value reaches: 0 for v <= 0 or NaN, at least 1 for any v > 0,
 * 4h at or above vmax. */
int chart_dot_height(const chart *c, double v);

/* Plots the last 2w values of v[0..n) (two per cell, newest at the right edge) on layer.
 * area: fill from the bottom; else a line (each point's top dot, joined vertically to
 * its neighbour). NaN and negative values leave a gap. */
void chart_plot(chart *c, const double *v, size_t n, int layer, bool area);

/* The character of a cell: a braille pattern (utf8) or an ASCII stand-in; out >= 4 bytes. */
void chart_cell_text(const chart *c, int row, int col, bool utf8, char *out);

/* Filled cells (in eighths of a cell) of a gauge of width cells: value/max rounded to the
 * nearest eighth, clamped to [0, 8 width]; 0 when max <= 0. */
int gauge_eighths(double value, double max, int width);

/* The gauge as text: full blocks, one partial block, then spaces (utf8), or '#' and '.'
 * (ASCII). out needs 3 width + 1 bytes. */
void gauge_text(double value, double max, int width, bool utf8, char *out, size_t cap);

/* Compact numbers: "0", "7.5", "12", "999", "1.2k", "12k", "3.4M", "1.0G"; "-" for NaN. */
void fmt_num(double v, char *out, size_t cap);

/* Durations: "42s", "3m05s", "2h07m"; "-" when negative or NaN. */
void fmt_duration(double seconds, char *out, size_t cap);

/* Bytes: "512B", "4.0K", "45M", "1.2G". */
void fmt_bytes(double bytes, char *out, size_t cap);

/* Display columns of a UTF-8 string (each code point counts one). */
int utf8_width(const char *s);

/* Copies at most cols display columns of s into out (cap bytes), never splitting a code
 * point. Returns the columns copied. */
int utf8_clip(const char *s, int cols, char *out, size_t cap);

/* ASCII stand-in of a UTF-8 string for terminals without UTF-8: "→" -> "->", "±" -> "+-",
 * "µ" -> "u", "°" -> "", "…" -> "..."; any other non-ASCII character -> "?". */
void ascii_fold(const char *s, char *out, size_t cap);

#endif
