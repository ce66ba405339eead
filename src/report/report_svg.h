/* report/report_svg: the reports' SVG charts (lines against a load or time, and bars), drawn
 * to fill their container's width, legends above the plot, a <title> on every point. Any thread. */
#ifndef LLM_REPORT_SVG_H
#define LLM_REPORT_SVG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The layout in viewBox units: the picture scales to the page's width (width="100%"). From
 * the top: the title, the legend rows, a gap, the plot, the x ticks and label. */
#define SVG_W 960
#define SVG_PAD_L 72
#define SVG_PAD_R 24
#define SVG_TITLE_Y 22    /* baseline of the title */
#define SVG_LEGEND_TOP 34 /* top of the first legend row */
#define SVG_LEGEND_ROW 20 /* height of a legend row */
#define SVG_LEGEND_GAP 14 /* last legend row to the plot */
#define SVG_PLOT_H 230    /* height of the plot area */
#define SVG_X_INSET 14    /* the first and last x inside the plot's frame */
#define SVG_PAD_B 50      /* below the plot: x ticks and the x label */
#define SVG_FONT 13       /* font size of ticks and legend (SVG_FONT_NARROW on a narrow page) */
#define SVG_FONT_NARROW 16
#define SVG_CHAR_W 10.0     /* a glyph's width at SVG_FONT_NARROW, at most (legend widths) */
#define SVG_TICK_SPACE 60   /* between x tick labels, at least */
#define SVG_SWATCH 14       /* legend colour box */
#define SVG_LEGEND_SPACE 22 /* between legend entries */

/* One SVG line chart, shared by report and compare: lines y[l][i] against x[i], NaN = no
 * point (the line breaks there). Every point carries a <title> ("concurrency 8 · TPS 2101
 * tokens/s"). */
#define REPORT_CHART_LINES 8
typedef struct {
    const char *title, *x_label, *y_label;
    const double *x;
    const double *y[REPORT_CHART_LINES];
    const char *names[REPORT_CHART_LINES];
    size_t n_lines, n;
    bool log_x;                            /* a x2 ramp reads better on a log axis */
    const char *units[REPORT_CHART_LINES]; /* in the points' titles; NULL = y_label */
    bool dashed[REPORT_CHART_LINES];       /* e.g. the server's figures beside the client's */
    const char *note;                      /* a line under the chart; NULL = none */
    double y_top; /* the axis' top when the data stay under it (100 for a %); 0 = from the data */
    const char *x_unit; /* points' titles say "12 s"; NULL: "concurrency 8" (x_label, x) */
} report_chart;
void report_svg_chart(FILE *out, const report_chart *c);

/* Bars of equal width, one per label (a histogram's bins, or turns), each with a <title>
 * ("300-349 tokens: 12 requests (4.1 %)" when share, else "turn 2: 144 ms"). */
typedef struct {
    const char *title, *x_label, *y_label, *unit;
    const char *const *labels;
    const double *v;
    size_t n;
    bool share;       /* add each bar's share of the sum to its title */
    const char *note; /* a line under the chart; NULL = none */
} report_bars;
void report_svg_bars(FILE *out, const report_bars *b);

/* Where the legend entries and the plot go for these names: boxes in viewBox units. */
typedef struct {
    double x, y, w, h;
} svg_box;
typedef struct {
    svg_box plot;
    svg_box legend[REPORT_CHART_LINES];
    size_t n_legend;
    double height; /* of the whole picture */
} svg_layout;
void report_svg_layout(const char *const *names, size_t n, svg_layout *out);

/* s with < > & " ' escaped. */
void report_html_text(FILE *out, const char *s);

#endif
